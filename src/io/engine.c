/*
 * engine.c - the read engine (engine.h): opening the devices with
 * O_DIRECT, its workers (util/pool.h: one ring each, set up on the
 * thread that uses it), handing batches to them as pool phases and
 * collecting the first error, the io_uring-to-aio-to-pread fallback,
 * read arenas and read fault injection.  The backends' read loops are in
 * uring.c, aio.c and pread_pool.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "engine_int.h"
#include "jrx/errors.h"
#include "../util/clock.h"
#include "../util/diag.h"
#include "../util/pool.h"

/* ---------------------------------------------------------------- names */

int jrx_io_backend_parse(const char *s)
{
	if (!strcmp(s, "auto"))
		return JRX_IO_AUTO;
	if (!strcmp(s, "uring") || !strcmp(s, "io_uring"))
		return JRX_IO_URING;
	if (!strcmp(s, "pread"))
		return JRX_IO_PREAD;
	if (!strcmp(s, "aio"))
		return JRX_IO_AIO;
	return -1;
}

const char *jrx_io_backend_name(enum jrx_io_backend b)
{
	switch (b) {
	case JRX_IO_URING:	return "io_uring";
	case JRX_IO_PREAD:	return "pread";
	case JRX_IO_AIO:	return "aio";
	default:		return "auto";
	}
}

/* ---------------------------------------------------------------- faults */

static struct {
	_Atomic uint64_t len;	/* 0: off */
	_Atomic uint64_t off;
	_Atomic uint32_t dev;
	_Atomic int	 err;
} inject;

void jrx_io_inject_read_error(uint32_t dev, uint64_t off, uint64_t len, int err)
{
	atomic_store(&inject.len, 0);
	atomic_store(&inject.dev, dev);
	atomic_store(&inject.off, off);
	atomic_store(&inject.err, err);
	atomic_store(&inject.len, len);
}

int jrx_io_injected(uint32_t dev, uint64_t off, uint64_t len)
{
	uint64_t ilen = atomic_load(&inject.len), ioff;

	if (!ilen || atomic_load(&inject.dev) != dev)
		return 0;
	ioff = atomic_load(&inject.off);
	if (off + len <= ioff || off >= ioff + ilen)
		return 0;
	return atomic_load(&inject.err);
}

/* ---------------------------------------------------------------- errors */

void jrx_io_fail(struct jrx_io_engine *e, int err)
{
	pthread_mutex_lock(&e->lock);
	if (!e->err) {
		e->err = err;
		snprintf(e->msg, sizeof(e->msg), "%s", jrx_diag());
	}
	pthread_mutex_unlock(&e->lock);
	atomic_store(&e->failed, true);
}

int jrx_io_read_error(struct jrx_io_engine *e, const struct jrx_io_req *r,
		      uint64_t at, int err)
{
	const char *what = err == -JRX_ERR_DEV_TRUNCATED ? "device ends early" :
		jrx_strerror(err);

	return jrx_fail(err, "%s: read error at offset %" PRIu64
			" (reading %u bytes at %" PRIu64 ", %s): %s",
			e->devs[r->dev].path, at, r->len, r->off,
			jrx_io_backend_name(e->backend), what);
}

/* ---------------------------------------------------------------- arenas */

/*
 * Sanitizer builds (JRX_SANITIZED) allocate arenas with posix_memalign, so
 * that ASan sees where each one ends (an mmap'd arena is invisible to it).
 */
void *jrx_io_arena(size_t len)
{
	void *p;

	if (!len)
		len = 4096;
#ifdef JRX_SANITIZED
	if (posix_memalign(&p, 4096, len))
		return NULL;
	return memset(p, 0, len);	/* zeroed, as an anonymous mapping */
#endif
	p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	/* fewer page faults and faster pinning for big read buffers */
	(void)madvise(p, len, MADV_HUGEPAGE);
	return p;
}

void jrx_io_arena_free(void *p, size_t len)
{
#ifdef JRX_SANITIZED
	(void)len;
	free(p);
#else
	if (p)
		munmap(p, len ? len : 4096);
#endif
}

/* ---------------------------------------------------------------- workers */

static bool uring(const struct jrx_io_engine *e)
{
	return e->backend == JRX_IO_URING;
}

bool jrx_io_admit(struct jrx_io_engine *e, const struct jrx_io_req *r)
{
	int err = jrx_io_injected(r->dev, r->off, r->len);

	if (err)
		jrx_io_fail(e, jrx_io_read_error(e, r, r->off, err));
	return !err;
}

int jrx_io_completed(struct jrx_io_worker *w, struct jrx_io_req *r,
		     uint32_t *done, long res)
{
	if (res <= 0) {
		int err = res ? (int)res : -JRX_ERR_DEV_TRUNCATED;

		jrx_io_fail(w->e, jrx_io_read_error(w->e, r, r->off + *done,
						    err));
		return -1;
	}
	*done += (uint32_t)res;
	w->bytes += (uint64_t)res;
	if (*done < r->len)
		return 0;
	w->reads++;
	return 1;
}

static void run_cmd(struct jrx_io_worker *w, enum jrx_io_cmd cmd)
{
	struct jrx_io_engine *e = w->e;

	if (cmd == JRX_IO_CMD_ARENA) {
		if (uring(e) && jrx_uring_set_arena(w, e->arena, e->arena_len)) {
			pthread_mutex_lock(&e->lock);
			e->fixed_ok = false;
			pthread_mutex_unlock(&e->lock);
		}
	} else if (cmd == JRX_IO_CMD_READ) {
		if (uring(e))
			jrx_uring_batch(w);
		else if (e->backend == JRX_IO_AIO)
			jrx_aio_batch(w);
		else
			jrx_pread_batch(w);
	}
}

/* A worker's set-up and tear-down, on the thread that runs its batches. */
static int worker_start(void *arg, unsigned id, bool own_thread)
{
	struct jrx_io_engine *e = arg;
	struct jrx_io_worker *w = &e->w[id];

	(void)own_thread;
	w->e = e;
	w->id = id;
	if (e->backend == JRX_IO_AIO)
		return jrx_aio_setup(w);
	return uring(e) ? jrx_uring_setup(w) : 0;
}

static void worker_stop(void *arg, unsigned id, bool own_thread)
{
	struct jrx_io_engine *e = arg;

	(void)own_thread;
	if (uring(e))
		jrx_uring_teardown(&e->w[id]);
	else if (e->backend == JRX_IO_AIO)
		jrx_aio_teardown(&e->w[id]);
}

static void worker_batch(void *arg, unsigned id)
{
	struct jrx_io_engine *e = arg;

	run_cmd(&e->w[id], e->cmd);
}

static void stop_workers(struct jrx_io_engine *e)
{
	jrx_pool_stop(e->pool);
	e->pool = NULL;
	free(e->w);
	e->w = NULL;
}

/* Start the workers of e->backend; 0 or the first set-up error. */
static int start_workers(struct jrx_io_engine *e)
{
	int ret;

	e->w = calloc(e->threads, sizeof(*e->w));
	if (!e->w)
		return jrx_fail(-ENOMEM, "allocating %u read workers",
				e->threads);
	ret = jrx_pool_start(&e->pool, &(struct jrx_pool_opts){
		.workers = e->threads, .name = "read engine", .ctx = e,
		.on_start = worker_start, .on_stop = worker_stop });
	if (ret) {
		free(e->w);
		e->w = NULL;
	}
	return ret;
}

static unsigned default_threads(unsigned asked)
{
	unsigned n = asked ? asked : jrx_online_cpus();

	/* pread workers wait on helper threads of their own (pread_pool.c),
	 * as the others wait on the kernel: one a core here too */
	return n > 64 ? 64 : n;
}

/* The devices, locks and memory of an engine whose workers are gone. */
static void engine_free(struct jrx_io_engine *e)
{
	for (unsigned d = 0; d < e->nr_devs; d++)
		jrx_dev_close(&e->devs[d]);
	pthread_mutex_destroy(&e->lock);
	free(e);
}

bool jrx_io_refused(enum jrx_io_backend b, int err)
{
	return err == -EPERM || err == -ENOSYS || err == -EACCES ||
		(b == JRX_IO_AIO && err == -EAGAIN);
}

/*
 * AUTO: the backend to try once b's set-up failed with err, and why, in
 * the engine's fallback text ("io_uring unavailable (E); "); JRX_IO_AUTO
 * if there is none to try.
 */
static enum jrx_io_backend fall_back(struct jrx_io_engine *e,
				     enum jrx_io_backend b, int err)
{
	size_t n = strlen(e->fallback_buf);

	if (b == JRX_IO_PREAD || !jrx_io_refused(b, err))
		return JRX_IO_AUTO;
	snprintf(e->fallback_buf + n, sizeof(e->fallback_buf) - n,
		 "%s unavailable (%s); ", jrx_io_backend_name(b),
		 strerror(-err));
	return b == JRX_IO_URING ? JRX_IO_AIO : JRX_IO_PREAD;
}

int jrx_io_open(struct jrx_io_engine **out, const struct jrx_array *a,
		const struct jrx_io_opts *o)
{
	struct jrx_io_opts def = { 0 };
	struct jrx_io_engine *e;
	int ret = 0;

	if (!o)
		o = &def;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	pthread_mutex_init(&e->lock, NULL);
	e->nr_devs = a->nr_devs;
	e->direct = true;
	for (unsigned d = 0; d < a->nr_devs && !ret; d++) {
		/* a second descriptor of the claimed member, never its path */
		ret = jrx_dev_reopen(&e->devs[d], &a->devs[d],
				     JRX_DEV_RDONLY | JRX_DEV_DIRECT);
		if (ret) {
			e->nr_devs = d;
			break;
		}
		e->fds[d] = e->devs[d].fd;
		e->direct &= e->devs[d].direct;
	}
	if (ret)
		goto err;

	e->backend = o->backend == JRX_IO_AUTO ? JRX_IO_URING : o->backend;
	e->depth = o->depth ? o->depth : 32;
	e->threads = default_threads(o->threads);
	ret = start_workers(e);
	while (ret && o->backend == JRX_IO_AUTO) {
		enum jrx_io_backend next = fall_back(e, e->backend, ret);

		if (next == JRX_IO_AUTO)
			break;
		e->backend = next;
		e->threads = default_threads(o->threads);
		jrx_diag_clear();
		ret = start_workers(e);
	}
	if (!ret && e->fallback_buf[0]) {
		size_t n = strlen(e->fallback_buf);

		/* "io_uring unavailable (E); using aio" */
		snprintf(e->fallback_buf + n, sizeof(e->fallback_buf) - n,
			 "using %s", jrx_io_backend_name(e->backend));
		e->fallback = e->fallback_buf;
	}
	if (ret)
		goto err;
	*out = e;
	return 0;
err:
	engine_free(e);
	return ret;
}

void jrx_io_close(struct jrx_io_engine *e)
{
	if (!e)
		return;
	stop_workers(e);
	engine_free(e);
}

void jrx_io_get_info(const struct jrx_io_engine *e, struct jrx_io_info *info)
{
	memset(info, 0, sizeof(*info));
	info->backend = e->backend;
	info->fallback = e->fallback;
	info->threads = e->threads;
	info->depth = e->backend == JRX_IO_PREAD ? 1 : e->depth;
	info->direct = e->direct;
	for (unsigned i = 0; i < e->threads; i++) {
		info->reads += e->w[i].reads;
		info->bytes += e->w[i].bytes;
		info->fixed_buffers |= e->w[i].fixed_reads > 0;
	}
}

/* Hand cmd to every worker and wait until all are done with it (one
 * phase of the pool: its return orders the batch's results for us). */
static void dispatch(struct jrx_io_engine *e, enum jrx_io_cmd cmd)
{
	e->cmd = cmd;
	jrx_pool_run(e->pool, worker_batch, e);
	e->cmd = JRX_IO_CMD_NONE;
}

int jrx_io_set_arena(struct jrx_io_engine *e, void *base, size_t len)
{
	if (!uring(e))
		base = NULL;	/* nothing to register: share the cursor */
	e->arena = base;
	e->arena_len = base ? len : 0;
	e->fixed_ok = true;
	if (uring(e))
		dispatch(e, JRX_IO_CMD_ARENA);
	return 0;
}

int jrx_io_read(struct jrx_io_engine *e, struct jrx_io_req *reqs, size_t nr,
		jrx_io_done_fn done, void *ctx)
{
	for (size_t i = 0; i < nr; i++)
		if (reqs[i].dev >= e->nr_devs || !reqs[i].len ||
		    (reqs[i].len | reqs[i].off | (uintptr_t)reqs[i].buf) & 4095)
			return jrx_fail(-EINVAL, "read request %zu: device %u,"
					" %u bytes at %" PRIu64 ": not a whole,"
					" aligned block range", i, reqs[i].dev,
					reqs[i].len, reqs[i].off);
	for (size_t i = 0; i < nr; i++)
		if (e->devs[reqs[i].dev].absent)	/* degraded (array.h) */
			return jrx_dev_pread(&e->devs[reqs[i].dev], reqs[i].buf,
					     reqs[i].len, reqs[i].off);
	if (!nr)
		return 0;
	e->reqs = reqs;
	e->nr = nr;
	e->done = done;
	e->ctx = ctx;
	e->err = 0;
	e->msg[0] = 0;
	atomic_store(&e->next, 0);
	atomic_store(&e->failed, false);
	dispatch(e, JRX_IO_CMD_READ);
	e->reqs = NULL;
	e->nr = 0;
	if (e->err)
		return jrx_fail(e->err, "%s", e->msg);
	return 0;
}
