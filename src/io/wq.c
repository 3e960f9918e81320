/*
 * wq.c - a thread's write queue (wq.h) on its own io_uring, on its own
 * Linux AIO context where io_uring is refused, or, where both are, on
 * helper threads of its own that issue each request with pread or
 * pwrite: the slots, batches, errors and callbacks are common;
 * submit_batch() and get_completion() are the two places the interfaces
 * differ.
 *
 * The helper threads (JRX_IO_PREAD) share the queue's two lists under
 * its lock: submitted requests (FIFO), taken by the first idle helper,
 * and completed ones, taken by the owner.  A slot in flight belongs to
 * the helper that took it, until it is on the completed list.  They are
 * not the worker pool's (util/pool.h runs phases, not a queue): like
 * btree/prefetch.c's readers they only wait in the kernel.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <libaio.h>
#include "wq.h"
#include "aio_ctx.h"
#include "ring.h"
#include "jrx/errors.h"
#include "../util/diag.h"

/* Helper threads of a pread queue: requests in flight at once. */
#define WQ_HELPERS	4u

struct wq_slot {
	struct iocb	 cb;		/* aio and helpers: the read or write */
	int		 res;		/* helpers: its result */
	struct wq_slot	*link;		/* helpers: on the lists below */
	bool		 read;
	const char	*name;		/* the device's or file's, for messages */
	uint64_t	 off;
	size_t		 len;
	jrx_wq_done_fn	 done;
	void		*ctx;
	struct wq_slot	*next_free;
};

struct jrx_wq {
	enum jrx_io_backend backend;	/* JRX_IO_URING or JRX_IO_AIO */
	struct io_uring	 ring;
	io_context_t	 aio;
	unsigned	 aio_nr;	/* its size (aio_ctx.h) */
	struct iocb	**cbs;		/* aio: the pending ones' writes */
	unsigned	 depth, inflight;
	unsigned	 batch, pending;	/* queued, not yet submitted */
	struct wq_slot	*slot, *free;
	struct wq_slot	**pend;		/* the pending ones, in ring order */
	int		 err;		/* first error; the queue stops */
	/* JRX_IO_PREAD: the helpers and their lists, under lock */
	pthread_mutex_t	 lock;
	pthread_cond_t	 more, landed;
	struct wq_slot	*todo, **todo_end;	/* submitted, oldest first */
	struct wq_slot	*fin;			/* completed */
	bool		 stop;
	unsigned	 helpers;
	pthread_t	 helper[WQ_HELPERS];
};

static void wq_free(struct jrx_wq *q)
{
	free(q->slot);
	free(q->pend);
	free(q->cbs);
	free(q);
}

/* One request, whole: the bytes moved (a read stops at the end of the
 * file), or -errno. */
static int helper_io(const struct iocb *cb)
{
	bool rd = cb->aio_lio_opcode == IO_CMD_PREAD;
	char *buf = cb->u.c.buf;
	size_t len = cb->u.c.nbytes, done = 0;

	while (done < len) {
		ssize_t n = rd ?
			pread(cb->aio_fildes, buf + done, len - done,
			      (off_t)(cb->u.c.offset + (long long)done)) :
			pwrite(cb->aio_fildes, buf + done, len - done,
			       (off_t)(cb->u.c.offset + (long long)done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (!n)
			break;
		done += (size_t)n;
	}
	return (int)done;
}

static void *helper_main(void *arg)
{
	struct jrx_wq *q = arg;
	struct wq_slot *s;

	pthread_mutex_lock(&q->lock);
	for (;;) {
		while (!q->todo && !q->stop)
			pthread_cond_wait(&q->more, &q->lock);
		if (!q->todo)
			break;		/* stopped, nothing left */
		s = q->todo;
		q->todo = s->link;
		if (!q->todo)
			q->todo_end = &q->todo;
		pthread_mutex_unlock(&q->lock);
		s->res = helper_io(&s->cb);
		pthread_mutex_lock(&q->lock);
		s->link = q->fin;
		q->fin = s;
		pthread_cond_signal(&q->landed);
	}
	pthread_mutex_unlock(&q->lock);
	return NULL;
}

/* Stop and join the helpers (their lists are empty: the queue drained). */
static void helpers_stop(struct jrx_wq *q)
{
	pthread_mutex_lock(&q->lock);
	q->stop = true;
	pthread_cond_broadcast(&q->more);
	pthread_mutex_unlock(&q->lock);
	for (unsigned i = 0; i < q->helpers; i++)
		pthread_join(q->helper[i], NULL);
	pthread_cond_destroy(&q->landed);
	pthread_cond_destroy(&q->more);
	pthread_mutex_destroy(&q->lock);
	q->helpers = 0;
}

static int helpers_start(struct jrx_wq *q)
{
	unsigned n = q->depth < WQ_HELPERS ? q->depth : WQ_HELPERS;
	int ret;

	q->todo = NULL;
	q->todo_end = &q->todo;
	q->fin = NULL;
	q->stop = false;
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->more, NULL);
	pthread_cond_init(&q->landed, NULL);
	for (q->helpers = 0; q->helpers < n; q->helpers++) {
		ret = pthread_create(&q->helper[q->helpers], NULL, helper_main, q);
		if (ret) {
			helpers_stop(q);
			return jrx_fail(-ret, "starting a write queue's pread"
					" threads: %s", strerror(ret));
		}
	}
	return 0;
}

/* q's interface b: 0, or -errno as its set-up failed. */
static int wq_setup(struct jrx_wq *q, enum jrx_io_backend b)
{
	int ret;

	q->backend = b;
	if (b == JRX_IO_URING)
		return jrx_ring_init(&q->ring, q->depth);
	if (b == JRX_IO_PREAD)
		return helpers_start(q);
	q->aio_nr = q->depth;
	ret = jrx_aio_ctx_get(&q->aio, &q->aio_nr);
	if (ret)
		return jrx_fail(ret, "aio set-up failed: %s", strerror(-ret));
	return 0;
}

int jrx_wq_helper_cpus(struct jrx_wq *q, const cpu_set_t *cpus)
{
	int ret = 0;

	if (q->backend == JRX_IO_AIO)
		return -ENOENT;		/* no helpers */
	if (q->backend == JRX_IO_URING)
		ret = io_uring_register_iowq_aff(&q->ring, sizeof(*cpus), cpus);
	else
		for (unsigned i = 0; i < q->helpers && !ret; i++)
			ret = -pthread_setaffinity_np(q->helper[i],
						      sizeof(*cpus), cpus);
	if (ret)
		return jrx_fail(ret, "setting the CPUs of a write queue's"
				" helpers: %s", strerror(-ret));
	return 0;
}

int jrx_wq_open(struct jrx_wq **out, unsigned depth, enum jrx_io_backend b)
{
	struct jrx_wq *q;
	int ret;

	q = calloc(1, sizeof(*q));
	if (!q)
		return jrx_fail(-ENOMEM, "allocating a write queue");
	q->depth = depth ? depth : 32;
	q->batch = q->depth >= 32 ? q->depth / 4 : 1;
	q->slot = calloc(q->depth, sizeof(*q->slot));
	q->pend = calloc(q->depth, sizeof(*q->pend));
	q->cbs = calloc(q->depth, sizeof(*q->cbs));
	if (!q->slot || !q->pend || !q->cbs) {
		wq_free(q);
		return jrx_fail(-ENOMEM, "allocating a write queue of %u",
				depth);
	}
	for (unsigned i = 0; i < q->depth; i++) {
		q->slot[i].next_free = q->free;
		q->free = &q->slot[i];
	}
	ret = wq_setup(q, b == JRX_IO_AIO || b == JRX_IO_PREAD ? b :
		       JRX_IO_URING);
	if (ret && b == JRX_IO_AUTO && jrx_io_refused(JRX_IO_URING, ret)) {
		jrx_diag_clear();
		ret = wq_setup(q, JRX_IO_AIO);
		if (ret && jrx_io_refused(JRX_IO_AIO, ret)) {
			jrx_diag_clear();
			ret = wq_setup(q, JRX_IO_PREAD);
		}
	}
	if (ret) {
		wq_free(q);
		return ret;
	}
	*out = q;
	return 0;
}

enum jrx_io_backend jrx_wq_backend(const struct jrx_wq *q)
{
	return q->backend;
}

/* One submission of the first n pending writes: how many the kernel took
 * (they are in order), or -errno. */
static int submit_batch(struct jrx_wq *q, unsigned n)
{
	if (q->backend == JRX_IO_URING)
		return io_uring_submit(&q->ring);
	if (q->backend == JRX_IO_PREAD) {
		pthread_mutex_lock(&q->lock);
		for (unsigned i = 0; i < n; i++) {
			q->pend[i]->link = NULL;
			*q->todo_end = q->pend[i];
			q->todo_end = &q->pend[i]->link;
		}
		if (n > 1)
			pthread_cond_broadcast(&q->more);
		else
			pthread_cond_signal(&q->more);
		pthread_mutex_unlock(&q->lock);
		return (int)n;
	}
	for (unsigned i = 0; i < n; i++)
		q->cbs[i] = &q->pend[i]->cb;
	return io_submit(q->aio, (long)n, q->cbs);
}

/*
 * One completion, waiting for it if wait: 1 with its slot and result, 0
 * if there is none (not waiting), or -errno.
 */
static int get_completion(struct jrx_wq *q, bool wait, struct wq_slot **s,
			  int *res)
{
	struct io_uring_cqe *cqe;
	struct io_event ev;
	int ret;

	if (q->backend == JRX_IO_PREAD) {
		pthread_mutex_lock(&q->lock);
		while (wait && !q->fin)
			pthread_cond_wait(&q->landed, &q->lock);
		*s = q->fin;
		if (*s) {
			q->fin = (*s)->link;
			*res = (*s)->res;
		}
		pthread_mutex_unlock(&q->lock);
		return *s != NULL;
	}
	if (q->backend == JRX_IO_AIO) {
		struct timespec zero = { 0, 0 };

		do
			ret = io_getevents(q->aio, wait ? 1 : 0, 1, &ev,
					   wait ? NULL : &zero);
		while (ret == -EINTR);
		if (ret <= 0)
			return ret;
		*s = ev.data;
		*res = (int)(long)ev.res;
		return 1;
	}
	do
		ret = wait ? io_uring_wait_cqe(&q->ring, &cqe) :
			io_uring_peek_cqe(&q->ring, &cqe);
	while (ret == -EINTR);
	if (ret == -EAGAIN && !wait)
		return 0;
	if (ret)
		return ret;
	*s = io_uring_cqe_get_data(cqe);
	*res = cqe->res;
	io_uring_cqe_seen(&q->ring, cqe);
	return 1;
}

/*
 * Submit the pending writes: one io_uring_enter (or io_submit) for a
 * batch of them, so the block layer plugs them together and the device is
 * notified once (a notification is a VM exit on a virtio disk: 10-20 us
 * each, the biggest cost of an appended bset in the replay's profile).
 * A batch that cannot be submitted fails whole, and the queue with it;
 * its slots are never reused, in case the kernel takes the entries later
 * (a completion then finds no callback).  Writes queued before the queue
 * failed (a write error, a refused permit) are still submitted: each was
 * accepted, as if it had been submitted at once.
 */
static int flush(struct jrx_wq *q)
{
	while (q->pending) {
		int ret = submit_batch(q, q->pending);
		unsigned n;

		if (ret == -EINTR)
			continue;
		if (ret <= 0) {
			struct wq_slot *s = q->pend[0];

			if (!ret)
				ret = -EAGAIN;
			ret = jrx_fail(ret, "%s: submitting %u writes from"
					  " offset %" PRIu64 ": %s", s->name,
					  q->pending, s->off, strerror(-ret));
			if (!q->err)
				q->err = ret;
			for (unsigned i = 0; i < q->pending; i++) {
				jrx_wq_done_fn done = q->pend[i]->done;

				q->pend[i]->done = NULL;
				q->inflight--;
				done(q->pend[i]->ctx, ret);
			}
			q->pending = 0;
			break;
		}
		n = (unsigned)ret < q->pending ? (unsigned)ret : q->pending;
		memmove(q->pend, q->pend + n, (q->pending - n) * sizeof(*q->pend));
		q->pending -= n;
	}
	return q->err;
}

/* Reap one completion (waiting for it if wait), run its callback. */
static int reap(struct jrx_wq *q, bool wait)
{
	struct wq_slot *s = NULL;
	int ret, res = 0;

	if (wait)
		flush(q);	/* a failed batch is no longer in flight */
	if (wait && !q->inflight)
		return q->err;
	ret = get_completion(q, wait, &s, &res);
	if (!ret && !wait)
		return 0;
	if (ret <= 0) {
		if (!ret)
			ret = -EIO;
		if (!q->err)
			q->err = jrx_fail(ret, "waiting for a write: %s",
					  strerror(-ret));
		return ret;
	}
	if (!s->done)
		return 1;	/* a write whose submit failed (below): counted */
	q->inflight--;
	if (s->read && res < 0)
		res = jrx_fail(res, "%s: read error at offset %" PRIu64 ": %s",
			       s->name, s->off, strerror(-res));
	else if (s->read)
		;		/* the bytes read, a short count included */
	else if (res >= 0 && (size_t)res == s->len)
		res = 0;
	else if (res >= 0)
		res = jrx_fail(-EIO, "%s: short write at offset %" PRIu64
			       ": %d of %zu bytes", s->name, s->off, res,
			       s->len);
	else
		res = jrx_fail(res, "%s: write error at offset %" PRIu64 ": %s",
			       s->name, s->off, strerror(-res));
	if (res < 0 && !q->err)
		q->err = res;
	s->done(s->ctx, res);
	s->next_free = q->free;
	q->free = s;
	return 1;
}

/* Queue the write (or with read, the read) once the caller allowed it
 * (err 0). */
static int queue(struct jrx_wq *q, bool read, int fd, const char *name,
		 const void *buf, size_t len, uint64_t off,
		 jrx_wq_done_fn done, void *ctx, int err)
{
	struct io_uring_sqe *sqe;
	struct wq_slot *s;
	int ret = q->err ? q->err : err;

	if (ret) {
		flush(q);	/* the ones accepted before it */
		q->err = ret;
		done(ctx, ret);
		return ret;
	}
	s = q->free;
	q->free = s->next_free;
	*s = (struct wq_slot){ .read = read, .name = name, .off = off,
			       .len = len, .done = done, .ctx = ctx };
	if (q->backend == JRX_IO_URING) {
		/* depth slots: never NULL */
		sqe = io_uring_get_sqe(&q->ring);
		if (read)
			io_uring_prep_read(sqe, fd, (void *)buf, (unsigned)len,
					   off);
		else
			io_uring_prep_write(sqe, fd, buf, (unsigned)len, off);
		io_uring_sqe_set_data(sqe, s);
	} else {
		/* aio, and the helpers' description of the request */
		if (read)
			io_prep_pread(&s->cb, fd, (void *)buf, len,
				      (long long)off);
		else
			io_prep_pwrite(&s->cb, fd, (void *)buf, len,
				       (long long)off);
		s->cb.data = s;
	}
	q->inflight++;
	q->pend[q->pending++] = s;
	return q->pending >= q->batch ? flush(q) : 0;
}

/* Room for one more write: completions reaped, waiting if none is free. */
static void make_room(struct jrx_wq *q)
{
	while (!q->err && reap(q, false) > 0)
		;
	while (!q->err && !q->free)
		reap(q, true);
}

int jrx_wq_write(struct jrx_wq *q, struct jrx_dev *d, const void *buf,
		 size_t len, uint64_t off, jrx_wq_done_fn done, void *ctx)
{
	make_room(q);
	return queue(q, false, d->fd, d->path, buf, len, off, done, ctx,
		     q->err ? 0 : jrx_dev_write_permit(d, off));
}

int jrx_wq_write_file(struct jrx_wq *q, int fd, const char *name,
		      const void *buf, size_t len, uint64_t off,
		      jrx_wq_done_fn done, void *ctx)
{
	make_room(q);
	return queue(q, false, fd, name, buf, len, off, done, ctx, 0);
}

int jrx_wq_read(struct jrx_wq *q, struct jrx_dev *d, void *buf, size_t len,
		uint64_t off, jrx_wq_done_fn done, void *ctx)
{
	make_room(q);
	return queue(q, true, d->fd, d->path, buf, len, off, done, ctx,
		     q->err ? 0 : jrx_dev_read_permit(d, off));
}

int jrx_wq_read_file(struct jrx_wq *q, int fd, const char *name, void *buf,
		     size_t len, uint64_t off, jrx_wq_done_fn done, void *ctx)
{
	make_room(q);
	return queue(q, true, fd, name, buf, len, off, done, ctx, 0);
}

int jrx_wq_submit(struct jrx_wq *q)
{
	return flush(q);
}

int jrx_wq_error(const struct jrx_wq *q)
{
	return q->err;
}

unsigned jrx_wq_inflight(const struct jrx_wq *q)
{
	return q->inflight;
}

int jrx_wq_reap(struct jrx_wq *q)
{
	if (q->inflight && !q->err)
		reap(q, true);
	return q->err;
}

int jrx_wq_drain(struct jrx_wq *q)
{
	flush(q);
	while (q->inflight && reap(q, true) >= 0)
		;
	return q->err;
}

void jrx_wq_close(struct jrx_wq *q)
{
	if (!q)
		return;
	jrx_wq_drain(q);
	if (q->backend == JRX_IO_URING)
		io_uring_queue_exit(&q->ring);
	else if (q->backend == JRX_IO_PREAD)
		helpers_stop(q);	/* drained: nothing in flight */
	else if (q->inflight)
		io_destroy(q->aio);	/* waits for what is still in flight */
	else
		jrx_aio_ctx_put(q->aio, q->aio_nr);	/* for reuse */
	wq_free(q);
}
