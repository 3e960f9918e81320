/*
 * engine_int.h - what engine.c (the worker pool and batch dispatch) shares
 * with its three backends, uring.c, aio.c and pread_pool.c.  Not part of
 * the API.
 *
 * Locking: the worker pool (util/pool.h) hands each batch to the workers
 * and its phase's return orders their results for the opener; e->lock
 * guards the first error and fixed_ok during a batch; the request cursor
 * e->next and e->failed are atomics the workers share during a batch;
 * everything in a struct jrx_io_worker belongs to the thread that runs
 * its id (read by the opener only between batches).
 */
#ifndef JRX_IO_ENGINE_INT_H
#define JRX_IO_ENGINE_INT_H

#include <libaio.h>
#include <liburing.h>
#include <pthread.h>
#include <stdatomic.h>
#include "engine.h"

#define JRX_IO_MSG 320

struct jrx_io_worker {
	struct jrx_io_engine *e;
	unsigned  id;
	/* io_uring backend */
	struct io_uring ring;
	bool	  ring_ok;
	bool	  files_fixed;
	void	 *reg_base;		/* arena with a sparse buffer table */
	size_t	  reg_len;
	unsigned  reg_nr;		/* table slots: one per arena chunk */
	uint8_t	 *reg_state;		/* per chunk: 0 not yet, 1 in, 2 refused */
	size_t	  cursor;		/* partitioned batches: next request */
	uint64_t  fixed_reads;
	/* aio backend */
	io_context_t aio;
	unsigned  aio_nr;		/* its size (aio_ctx.h) */
	bool	  aio_ok;
	bool	  aio_stuck;		/* reads left in flight: not reusable */
	/* stats */
	uint64_t  reads, bytes;
};

enum jrx_io_cmd { JRX_IO_CMD_NONE, JRX_IO_CMD_READ, JRX_IO_CMD_ARENA };

struct jrx_io_engine {
	enum jrx_io_backend backend;
	const char *fallback;
	char	 fallback_buf[160];
	unsigned threads, depth;
	unsigned nr_devs;
	struct jrx_dev devs[JRX_MAX_DEVICES];	/* our own O_DIRECT opens */
	int	 fds[JRX_MAX_DEVICES];
	bool	 direct;
	struct jrx_io_worker *w;
	struct jrx_pool *pool;		/* e->threads workers */

	pthread_mutex_t lock;
	enum jrx_io_cmd cmd;		/* the batch's command */

	/* the batch */
	struct jrx_io_req *reqs;
	size_t	 nr;
	_Atomic size_t next;
	_Atomic bool failed;
	jrx_io_done_fn done;
	void	*ctx;
	int	 err;			/* first error, under lock */
	char	 msg[JRX_IO_MSG];
	void	*arena;
	size_t	 arena_len;
	bool	 fixed_ok;		/* every worker set up its buffer table */
};

/*
 * Arena chunks: the unit of buffer registration, and of the split of an
 * arena batch between workers (chunk c belongs to worker c % threads), so
 * each chunk is registered (pinned, faulted in) by one ring only, lazily,
 * while that worker's other reads are in flight.
 */
#define JRX_IO_CHUNK_SHIFT 25		/* 32 MiB */

static inline bool jrx_io_in_arena(const struct jrx_io_engine *e,
				   const void *buf, size_t len)
{
	const char *b = buf, *base = e->arena;

	return base && b >= base && (size_t)(b - base) + len <= e->arena_len;
}

/* The worker that reads request i of the batch. */
static inline unsigned jrx_io_owner(const struct jrx_io_engine *e, size_t i)
{
	const struct jrx_io_req *r = &e->reqs[i];

	if (jrx_io_in_arena(e, r->buf, r->len))
		return (unsigned)(((size_t)((char *)r->buf - (char *)e->arena) >>
				   JRX_IO_CHUNK_SHIFT) % e->threads);
	return (unsigned)(i % e->threads);
}

/* Record the batch's first error (jrx_diag() of this thread). */
void jrx_io_fail(struct jrx_io_engine *e, int err);
/* The injected error for this read, or 0. */
int  jrx_io_injected(uint32_t dev, uint64_t off, uint64_t len);
/* Report a read error naming the device and offset; returns err. */
int  jrx_io_read_error(struct jrx_io_engine *e, const struct jrx_io_req *r,
		       uint64_t at, int err);

/* The batch failed (by injection) if r is not to be read; else true. */
bool jrx_io_admit(struct jrx_io_engine *e, const struct jrx_io_req *r);
/*
 * A read of r came back with res (bytes, or -errno) after *done bytes:
 * 1 once r is read whole, 0 if the rest is still to read, -1 if it
 * failed (the batch failed, the error naming the device and offset).
 */
int  jrx_io_completed(struct jrx_io_worker *w, struct jrx_io_req *r,
		      uint32_t *done, long res);

/* io_uring backend (uring.c) */
int  jrx_uring_setup(struct jrx_io_worker *w);
void jrx_uring_teardown(struct jrx_io_worker *w);
int  jrx_uring_set_arena(struct jrx_io_worker *w, void *base, size_t len);
void jrx_uring_batch(struct jrx_io_worker *w);

/* aio backend (aio.c) */
int  jrx_aio_setup(struct jrx_io_worker *w);
void jrx_aio_teardown(struct jrx_io_worker *w);
void jrx_aio_batch(struct jrx_io_worker *w);

/* pread backend (pread_pool.c) */
void jrx_pread_batch(struct jrx_io_worker *w);

#endif
