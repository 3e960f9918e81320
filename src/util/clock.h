/*
 * clock.h - the one clock every timed phase reads (monotonic seconds), the
 * process's peak resident set, for reports and benchmarks, and the number
 * of online cores every "one worker per core" default starts from, and
 * what the process has used of the CPU so far.
 */
#ifndef JRX_CLOCK_H
#define JRX_CLOCK_H

#include <stdint.h>

/* Monotonic seconds. */
double   jrx_now(void);
/* Peak resident set of this process (getrusage), bytes. */
uint64_t jrx_peak_rss(void);

/*
 * CPU the process has used so far (getrusage RUSAGE_SELF: every thread,
 * io_uring's kernel workers included, as they are threads of the
 * process; not the kernel's own workers that finish writes): seconds in
 * user and in kernel mode, and page faults served without I/O (the
 * first touch of fresh memory, mostly).  Zero where getrusage fails.
 */
struct jrx_cpu {
	double	 user, sys;
	uint64_t minflt;
};
struct jrx_cpu jrx_cpu_now(void);

/* Online cores (at least 1). */
unsigned jrx_online_cpus(void);

#endif
