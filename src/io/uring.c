/*
 * uring.c - the io_uring backend of the read engine (engine.h): one ring
 * per worker thread, set up by that thread (single issuer, deferred task
 * work), the devices as fixed files, the caller's arena as fixed buffers
 * (a sparse table, each 32 MiB chunk registered by the worker that owns it
 * when it first reads into it), up to `depth` reads in flight.  A worker keeps its ring full while it
 * runs the completion callbacks of the reads that landed, so the device
 * never waits for the CPU work.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include "engine_int.h"
#include "ring.h"
#include "jrx/errors.h"
#include "../util/diag.h"


int jrx_uring_setup(struct jrx_io_worker *w)
{
	struct jrx_io_engine *e = w->e;
	int ret = jrx_ring_init(&w->ring, e->depth);

	if (ret)
		return ret;
	w->ring_ok = true;
	w->files_fixed = !io_uring_register_files(&w->ring, e->fds, e->nr_devs);
	return 0;
}

void jrx_uring_teardown(struct jrx_io_worker *w)
{
	free(w->reg_state);
	w->reg_state = NULL;
	if (!w->ring_ok)
		return;
	io_uring_queue_exit(&w->ring);	/* drops files and buffers too */
	w->ring_ok = false;
}

int jrx_uring_set_arena(struct jrx_io_worker *w, void *base, size_t len)
{
	size_t n;
	int ret;

	if (w->reg_nr)
		io_uring_unregister_buffers(&w->ring);
	free(w->reg_state);
	w->reg_state = NULL;
	w->reg_nr = 0;
	w->reg_base = NULL;
	w->reg_len = 0;
	if (!base || !len)
		return 0;
	n = (len + ((size_t)1 << JRX_IO_CHUNK_SHIFT) - 1) >> JRX_IO_CHUNK_SHIFT;
	w->reg_state = calloc(n, 1);
	if (!w->reg_state)
		return -ENOMEM;
	/* an empty table now; each chunk goes in when first read into */
	ret = io_uring_register_buffers_sparse(&w->ring, (unsigned)n);
	if (ret) {
		free(w->reg_state);
		w->reg_state = NULL;
		return ret;		/* reads go on with plain buffers */
	}
	w->reg_nr = (unsigned)n;
	w->reg_base = base;
	w->reg_len = len;
	return 0;
}

/* The table slot holding buf's chunk, registered now if need be; or -1. */
static int fixed_index(struct jrx_io_worker *w, const char *buf, size_t len)
{
	size_t rel = (size_t)(buf - (char *)w->reg_base), c;
	size_t chunk = (size_t)1 << JRX_IO_CHUNK_SHIFT;
	struct iovec iov;
	__u64 tag = 0;

	if (!w->reg_nr || buf < (char *)w->reg_base || rel + len > w->reg_len ||
	    rel >> JRX_IO_CHUNK_SHIFT != (rel + len - 1) >> JRX_IO_CHUNK_SHIFT)
		return -1;
	c = rel >> JRX_IO_CHUNK_SHIFT;
	if (!w->reg_state[c]) {
		iov.iov_base = (char *)w->reg_base + (c << JRX_IO_CHUNK_SHIFT);
		iov.iov_len = w->reg_len - (c << JRX_IO_CHUNK_SHIFT) < chunk ?
			w->reg_len - (c << JRX_IO_CHUNK_SHIFT) : chunk;
		w->reg_state[c] = io_uring_register_buffers_update_tag(
			&w->ring, (unsigned)c, &iov, &tag, 1) == 1 ? 1 : 2;
	}
	return w->reg_state[c] == 1 ? (int)c : -1;
}

struct slot {
	struct jrx_io_req *req;
	uint32_t done;		/* bytes read so far */
};

struct loop {
	struct jrx_io_worker *w;
	struct slot *slots;
	unsigned *free_slots, nr_free;
	unsigned inflight;
	struct jrx_io_req **landed;	/* read whole, callback pending */
	unsigned nr_landed;
};

static void prep(struct loop *l, unsigned si)
{
	struct jrx_io_worker *w = l->w;
	struct slot *s = &l->slots[si];
	struct jrx_io_req *r = s->req;
	struct io_uring_sqe *sqe = io_uring_get_sqe(&w->ring);
	char *buf = (char *)r->buf + s->done;
	unsigned len = r->len - s->done;
	uint64_t off = r->off + s->done;
	int fd = w->files_fixed ? (int)r->dev : w->e->fds[r->dev];
	int idx = fixed_index(w, buf, len);

	/* the ring has depth entries and at most depth reads are in flight */
	if (idx >= 0) {
		io_uring_prep_read_fixed(sqe, fd, buf, len, off, idx);
		w->fixed_reads++;
	} else {
		io_uring_prep_read(sqe, fd, buf, len, off);
	}
	if (w->files_fixed)
		sqe->flags |= IOSQE_FIXED_FILE;
	io_uring_sqe_set_data64(sqe, si);
	l->inflight++;
}

/*
 * The next request of this worker: its own chunks' requests in order when
 * the batch reads into an arena, else the next off the shared cursor.
 */
static struct jrx_io_req *next_request(struct jrx_io_worker *w)
{
	struct jrx_io_engine *e = w->e;
	size_t i;

	if (!e->arena) {
		i = atomic_fetch_add(&e->next, 1);
		return i < e->nr ? &e->reqs[i] : NULL;
	}
	while (w->cursor < e->nr) {
		i = w->cursor++;
		if (jrx_io_owner(e, i) == w->id)
			return &e->reqs[i];
	}
	return NULL;
}

/* Take requests while there are free slots. */
static void refill(struct loop *l)
{
	struct jrx_io_engine *e = l->w->e;

	while (l->nr_free && !atomic_load(&e->failed)) {
		struct jrx_io_req *r = next_request(l->w);
		unsigned si;

		if (!r || !jrx_io_admit(e, r))
			return;
		si = l->free_slots[--l->nr_free];
		l->slots[si] = (struct slot){ .req = r };
		prep(l, si);
	}
}

/* Every completion there is: finished reads to landed[], short ones again. */
static void reap(struct loop *l)
{
	struct jrx_io_worker *w = l->w;
	struct io_uring_cqe *cqe;
	unsigned head, seen = 0;

	io_uring_for_each_cqe(&w->ring, head, cqe) {
		unsigned si = (unsigned)io_uring_cqe_get_data64(cqe);
		struct slot *s = &l->slots[si];
		int res = cqe->res;
		int got;

		seen++;
		l->inflight--;
		got = jrx_io_completed(w, s->req, &s->done, res);
		if (!got) {
			prep(l, si);	/* short read: the rest */
			continue;
		}
		if (got > 0)
			l->landed[l->nr_landed++] = s->req;
		l->free_slots[l->nr_free++] = si;
	}
	io_uring_cq_advance(&w->ring, seen);
}

void jrx_uring_batch(struct jrx_io_worker *w)
{
	struct jrx_io_engine *e = w->e;
	unsigned depth = e->depth;
	struct loop l = { .w = w };
	struct io_uring_cqe *cqe;
	int ret;

	l.slots = calloc(depth, sizeof(*l.slots));
	l.free_slots = calloc(depth, sizeof(*l.free_slots));
	l.landed = calloc(depth, sizeof(*l.landed));
	if (!l.slots || !l.free_slots || !l.landed) {
		jrx_io_fail(e, jrx_fail(-ENOMEM, "read worker %u: allocating"
					" its request slots", w->id));
		goto out;
	}
	for (unsigned i = 0; i < depth; i++)
		l.free_slots[l.nr_free++] = depth - 1 - i;
	w->cursor = 0;

	for (;;) {
		refill(&l);
		if (l.nr_landed) {
			/* new reads go out before the CPU work starts */
			io_uring_submit(&w->ring);
			for (unsigned i = 0; i < l.nr_landed; i++) {
				if (atomic_load(&e->failed))
					break;
				ret = e->done(e->ctx, l.landed[i]);
				if (ret)
					jrx_io_fail(e, ret);
			}
			l.nr_landed = 0;
			continue;
		}
		if (!l.inflight)
			break;
		ret = io_uring_submit_and_wait(&w->ring, 1);
		if (ret < 0 && ret != -EINTR && ret != -EAGAIN && ret != -EBUSY) {
			jrx_io_fail(e, jrx_fail(ret, "io_uring_enter failed: %s",
						strerror(-ret)));
			/* the kernel still owns the buffers: wait them out */
			while (l.inflight && io_uring_wait_cqe(&w->ring, &cqe) == 0)
				reap(&l);
			break;
		}
		reap(&l);
	}
out:
	free(l.slots);
	free(l.free_slots);
	free(l.landed);
}
