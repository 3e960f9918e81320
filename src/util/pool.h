/*
 * pool.h - the one worker pool: N persistent workers that run phases.
 *
 *	struct jrx_pool *p;
 *	ret = jrx_pool_start(&p, &(struct jrx_pool_opts){ .workers = n });
 *	jrx_pool_run(p, phase1, arg);	// phase1(arg, id) for id 0..n-1
 *	jrx_pool_run(p, phase2, arg);	// starts after every phase1 returned
 *	jrx_pool_stop(p);
 *
 * A phase calls fn(arg, id) once for every worker id and returns when all
 * have returned: that return is the barrier between phases, and it orders
 * memory (whatever a worker wrote in one phase, every worker and the
 * caller see in the next).  Workers persist between phases, so per-thread
 * state set up by on_start (a pinned CPU, a heap, an io_uring ring) lasts
 * for the pool's life; on_stop undoes it.
 *
 * The policy for a thread that cannot be started (the same for every
 * user): no work is lost and no stage runs short.  The id of a worker
 * whose thread could not be created is run by the calling thread: its
 * on_start at jrx_pool_start (with own_thread false), its share of every
 * phase while the started workers run theirs, its on_stop at
 * jrx_pool_stop.  A hook that binds the thread it runs on (pinning) skips
 * that when own_thread is false.  jrx_pool_threads() says how many
 * threads did start, for reports.  An on_start that fails fails
 * jrx_pool_start (the first error, with its jrx_diag() context), after
 * every started worker has been stopped.
 *
 * Owner: the thread that started the pool runs every jrx_pool_* call;
 * fn and the hooks must be safe to run concurrently for different ids.
 */
#ifndef JRX_POOL_H
#define JRX_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JRX_POOL_MAX	1024u
/* Default stack: the sort's MSD radix recursion needs up to ~1 MiB. */
#define JRX_POOL_STACK	(8u << 20)

typedef void (*jrx_pool_fn)(void *arg, unsigned id);

struct jrx_pool_opts {
	unsigned workers;		/* 1..JRX_POOL_MAX */
	size_t	 stack_size;		/* 0: JRX_POOL_STACK */
	/* per worker, on the thread that runs its phases */
	int	(*on_start)(void *ctx, unsigned id, bool own_thread);
	void	(*on_stop)(void *ctx, unsigned id, bool own_thread);
	void	*ctx;
	const char *name;		/* for messages: "sort", "replay" */
};

struct jrx_pool;

int  jrx_pool_start(struct jrx_pool **out, const struct jrx_pool_opts *o);
/* fn(arg, id) for every id; returns when all have returned. */
void jrx_pool_run(struct jrx_pool *p, jrx_pool_fn fn, void *arg);
/*
 * The same phase without waiting for it, so that the caller works beside
 * it: started only when every id has a thread of its own (false, nothing
 * started, otherwise: the caller then does the work itself).  After a
 * true the next call on p must be jrx_pool_wait(), which returns when the
 * phase is over and orders memory as jrx_pool_run()'s return does.
 */
bool jrx_pool_begin(struct jrx_pool *p, jrx_pool_fn fn, void *arg);
void jrx_pool_wait(struct jrx_pool *p);
unsigned jrx_pool_workers(const struct jrx_pool *p);
/* Threads that started (the rest of the ids run on the caller). */
unsigned jrx_pool_threads(const struct jrx_pool *p);
/* on_stop for every id, then join; NULL is a no-op. */
void jrx_pool_stop(struct jrx_pool *p);

/*
 * Test seam, process-wide like the other fault injections: every pool
 * started from now on does not create the threads of the ids whose bit
 * is set (ids from 63 up share bit 63), as if pthread_create had failed.
 * 0 turns it off.
 */
void jrx_pool_inject_start_failure(uint64_t mask);

#endif
