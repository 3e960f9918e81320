/*
 * clock.h - the one clock every timed phase reads (monotonic seconds) and
 * the process's peak resident set, for reports and benchmarks.
 */
#ifndef JRX_CLOCK_H
#define JRX_CLOCK_H

#include <stdint.h>

/* Monotonic seconds. */
double   jrx_now(void);
/* Peak resident set of this process (getrusage), bytes. */
uint64_t jrx_peak_rss(void);

#endif
