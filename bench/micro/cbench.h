/*
 * cbench.h - Google Benchmark from C.  A benchmark is a plain C function
 * taking an opaque state; it loops on cb_keep_running() (the C++
 * `for (auto _ : state)` loop), reads its arguments with cb_arg() and sets
 * counters from C.  shim.cc implements this on top of Google Benchmark and
 * owns main(), so the command line, --benchmark_filter, JSON output
 * (--benchmark_format=json, --benchmark_out=FILE) and repetitions are
 * Google Benchmark's own.
 *
 *	static void bm_thing(struct cb_state *s)
 *	{
 *		size_t n = (size_t)cb_arg(s, 0);
 *
 *		while (cb_keep_running(s))
 *			thing(n);
 *		cb_items(s, n * cb_iterations(s));
 *	}
 *	...
 *	struct cb_bench *b = cb_register("thing", bm_thing);
 *	cb_args(b, (int64_t[]){ 1000000 }, 1);
 */
#ifndef JRX_CBENCH_H
#define JRX_CBENCH_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct cb_state;
struct cb_bench;
typedef void (*cb_fn)(struct cb_state *s);

/* ------------------------------------------------------------ in a benchmark */

bool	cb_keep_running(struct cb_state *s);
int64_t	cb_arg(const struct cb_state *s, unsigned i);
int64_t	cb_iterations(const struct cb_state *s);	/* after the loop */
void	cb_pause(struct cb_state *s);			/* PauseTiming */
void	cb_resume(struct cb_state *s);			/* ResumeTiming */
/* items and bytes processed in all: items_per_second, bytes_per_second */
void	cb_items(struct cb_state *s, int64_t items);
void	cb_bytes(struct cb_state *s, int64_t bytes);

enum cb_counter_flags {
	CB_PLAIN	= 0,
	CB_RATE		= 1 << 0,	/* divided by the elapsed time */
	CB_AVG		= 1 << 1,	/* divided by the iterations */
};
void	cb_counter(struct cb_state *s, const char *name, double v,
		   unsigned flags);
void	cb_label(struct cb_state *s, const char *label);
/* Skip with an error (call before or instead of the loop, then return). */
void	cb_error(struct cb_state *s, const char *msg);

/* ------------------------------------------------------------ registering */

struct cb_bench *cb_register(const char *name, cb_fn fn);
/* One argument set (a run of the benchmark per call). */
void	cb_args(struct cb_bench *b, const int64_t *args, unsigned n);
void	cb_arg_names(struct cb_bench *b, const char *const *names, unsigned n);
void	cb_real_time(struct cb_bench *b);	/* wall clock, for threads */
void	cb_unit_ms(struct cb_bench *b);

/* Defined by the benchmarks: registers them all (called by main()). */
void	cb_register_all(void);

#ifdef __cplusplus
}
#endif

#endif
