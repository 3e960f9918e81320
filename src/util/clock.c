/*
 * clock.c - monotonic time, peak RSS, CPU used and online cores (clock.h).
 */
#include <unistd.h>
#include <sys/resource.h>
#include <time.h>
#include "clock.h"

double jrx_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

uint64_t jrx_peak_rss(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru))
		return 0;
	return (uint64_t)ru.ru_maxrss * 1024;	/* Linux: KiB */
}

static double tv_seconds(struct timeval tv)
{
	return (double)tv.tv_sec + (double)tv.tv_usec * 1e-6;
}

struct jrx_cpu jrx_cpu_now(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru))
		return (struct jrx_cpu){ 0 };
	return (struct jrx_cpu){ tv_seconds(ru.ru_utime), tv_seconds(ru.ru_stime),
				 (uint64_t)ru.ru_minflt };
}

unsigned jrx_online_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n > 0 ? (unsigned)n : 1;
}
