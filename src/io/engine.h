/*
 * engine.h - the parallel read engine of the accelerated pipeline: a pool
 * of worker threads that read many buffers from the member devices at
 * once and hand each one to a callback the moment it lands, so reading and
 * CPU work (parsing, verifying) overlap.
 *
 * Three backends behind one interface:
 *   io_uring  one ring per worker, O_DIRECT, the devices registered as
 *             fixed files, the caller's arena registered as fixed buffers
 *             (READ_FIXED), up to `depth` reads in flight per ring;
 *   aio       Linux native AIO (libaio): one context per worker, O_DIRECT,
 *             up to `depth` reads in flight per context; for hosts that
 *             refuse io_uring but not AIO (io_uring_disabled, container
 *             seccomp profiles that block io_uring only);
 *   pread     each worker up to 8 reads queued on 4 helper threads of
 *             its own that issue blocking preads (io/wq.h), for hosts
 *             that refuse both; one pread at a time where the helpers
 *             cannot start.
 * JRX_IO_AUTO picks io_uring, then aio, then pread, moving on when set-up
 * fails with EPERM, ENOSYS or EACCES (the interface disabled by the host,
 * seccomp, old kernel; for aio also EAGAIN, the host's aio-max-nr used
 * up); the reasons are kept for the report.
 *
 * Ownership: the engine and its workers belong to the thread that opened
 * it; one batch runs at a time (jrx_io_read() returns when every request
 * of the batch completed).  The callback runs on worker threads,
 * concurrently: it may touch only its own request and data it locks or
 * owns per request.
 */
#ifndef JRX_IO_ENGINE_H
#define JRX_IO_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "array.h"

enum jrx_io_backend {
	JRX_IO_AUTO,
	JRX_IO_URING,
	JRX_IO_PREAD,
	JRX_IO_AIO,
};

/* "auto" | "uring" | "aio" | "pread" -> backend; -1 if unknown. */
int jrx_io_backend_parse(const char *s);
const char *jrx_io_backend_name(enum jrx_io_backend b);	/* "io_uring"... */
/*
 * Whether err from setting up b means "not allowed here" (EPERM, ENOSYS,
 * EACCES; for aio also EAGAIN, the host's aio-max-nr used up) rather than
 * "broken": AUTO then moves on to the next interface.
 */
bool jrx_io_refused(enum jrx_io_backend b, int err);

struct jrx_io_opts {
	enum jrx_io_backend backend;
	unsigned threads;	/* workers; 0: one per online core */
	unsigned depth;		/* reads in flight per ring or aio context;
				   0: 32 */
};

struct jrx_io_req {
	uint32_t dev;		/* member index */
	uint32_t len;		/* bytes; offset, len and buf 4096-aligned */
	uint64_t off;
	void	*buf;
	void	*priv;		/* the caller's */
};

/*
 * Called on a worker thread when req has been read whole.  A non-zero
 * return (negative error, context in jrx_diag()) fails the batch.
 */
typedef int (*jrx_io_done_fn)(void *ctx, struct jrx_io_req *req);

struct jrx_io_engine;

/*
 * Start the workers on the devices of a (opened again with O_DIRECT where
 * the file system allows).  On success *out is the engine; the backend
 * actually used and any fallback reason are in jrx_io_info().
 */
int  jrx_io_open(struct jrx_io_engine **out, const struct jrx_array *a,
		 const struct jrx_io_opts *o);
void jrx_io_close(struct jrx_io_engine *e);

struct jrx_io_info {
	enum jrx_io_backend backend;	/* URING, AIO or PREAD */
	const char *fallback;		/* why AUTO fell back, or NULL */
	unsigned threads, depth;
	bool	 direct;		/* every device read with O_DIRECT */
	bool	 fixed_buffers;		/* an arena was registered (READ_FIXED) */
	uint64_t reads, bytes;		/* totals so far */
};
void jrx_io_get_info(const struct jrx_io_engine *e, struct jrx_io_info *info);

/*
 * Register [base, base + len) (page-aligned, e.g. from jrx_io_arena())
 * as the fixed buffers that requests inside it are read into; NULL
 * unregisters.  Best effort: if the kernel refuses (locked-memory limit)
 * reads go on with plain buffers, and info.fixed_buffers says so.
 */
int  jrx_io_set_arena(struct jrx_io_engine *e, void *base, size_t len);

/* Read every request; done(ctx, req) for each as it completes. */
int  jrx_io_read(struct jrx_io_engine *e, struct jrx_io_req *reqs, size_t nr,
		 jrx_io_done_fn done, void *ctx);

/* Page-aligned anonymous memory for reads (munmap with jrx_io_arena_free). */
void *jrx_io_arena(size_t len);
void  jrx_io_arena_free(void *p, size_t len);

/*
 * Fault injection for tests: every read of member dev overlapping
 * [off, off + len) fails with err (e.g. -EIO), in every backend.  len 0
 * disables.  Process-wide.
 */
void jrx_io_inject_read_error(uint32_t dev, uint64_t off, uint64_t len,
			      int err);

#endif
