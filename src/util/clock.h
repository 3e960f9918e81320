/*
 * clock.h - the one clock every timed phase reads (monotonic seconds), the
 * process's peak resident set, for reports and benchmarks, and the number
 * of online cores every "one worker per core" default starts from.
 */
#ifndef JRX_CLOCK_H
#define JRX_CLOCK_H

#include <stdint.h>

/* Monotonic seconds. */
double   jrx_now(void);
/* Peak resident set of this process (getrusage), bytes. */
uint64_t jrx_peak_rss(void);

/* Online cores (at least 1). */
unsigned jrx_online_cpus(void);

#endif
