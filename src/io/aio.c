/*
 * aio.c - the Linux native AIO backend of the read engine (engine.h), for
 * hosts that refuse io_uring: one AIO context per worker (libaio), set up
 * by that worker, up to `depth` O_DIRECT reads in flight, the requests
 * taken off the batch's shared cursor.  As in the io_uring backend, a
 * worker submits new reads before it runs the callbacks of the ones that
 * landed, so the device never waits for the CPU work.  Without O_DIRECT
 * (a file system that refuses it) the kernel serves AIO reads
 * synchronously: correct, only slower.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "aio_ctx.h"
#include "engine_int.h"
#include "jrx/errors.h"
#include "../util/diag.h"

int jrx_aio_setup(struct jrx_io_worker *w)
{
	int ret;

	w->aio_nr = w->e->depth;
	ret = jrx_aio_ctx_get(&w->aio, &w->aio_nr);
	if (ret)
		return jrx_fail(ret, "aio set-up failed: %s", strerror(-ret));
	w->aio_ok = true;
	return 0;
}

void jrx_aio_teardown(struct jrx_io_worker *w)
{
	if (w->aio_ok && w->aio_stuck)
		io_destroy(w->aio);	/* waits for what is still in flight */
	else if (w->aio_ok)
		jrx_aio_ctx_put(w->aio, w->aio_nr);	/* for reuse */
	w->aio_ok = false;
}

struct aslot {
	struct iocb	   cb;
	struct jrx_io_req *req;
	uint32_t	   done;	/* bytes read so far */
};

struct aloop {
	struct jrx_io_worker *w;
	struct aslot	 *slots;
	unsigned	 *free_slots, nr_free;
	struct iocb	**ready;	/* prepared, not yet submitted */
	unsigned	  nr_ready;
	unsigned	  inflight;	/* submitted, not yet reaped */
	struct io_event	 *events;
	struct jrx_io_req **landed;	/* read whole, callback pending */
	unsigned	  nr_landed;
};

static void prep(struct aloop *l, unsigned si)
{
	struct aslot *s = &l->slots[si];
	struct jrx_io_req *r = s->req;

	io_prep_pread(&s->cb, l->w->e->fds[r->dev], (char *)r->buf + s->done,
		      r->len - s->done, (long long)(r->off + s->done));
	s->cb.data = s;
	l->ready[l->nr_ready++] = &s->cb;
}

/* Take requests off the shared cursor while there are free slots. */
static void refill(struct aloop *l)
{
	struct jrx_io_engine *e = l->w->e;

	while (l->nr_free && !atomic_load(&e->failed)) {
		size_t i = atomic_fetch_add(&e->next, 1);
		struct jrx_io_req *r;
		unsigned si;

		if (i >= e->nr)
			return;
		r = &e->reqs[i];
		if (!jrx_io_admit(e, r))
			return;
		si = l->free_slots[--l->nr_free];
		l->slots[si] = (struct aslot){ .req = r };
		prep(l, si);
	}
}

/*
 * Submit what is prepared.  When the kernel is out of room (EAGAIN) with
 * reads in flight, the rest waits for the next round; a read it will not
 * take otherwise fails the batch (its slot is not in flight, so nothing
 * is left to wait for).
 */
static void submit(struct aloop *l)
{
	struct jrx_io_engine *e = l->w->e;
	unsigned at = 0;

	while (at < l->nr_ready) {
		int ret = io_submit(l->w->aio, (long)(l->nr_ready - at),
				    l->ready + at);

		if (ret == -EINTR)
			continue;
		if (ret == -EAGAIN && l->inflight)
			break;
		if (ret <= 0) {
			struct aslot *s = l->ready[at]->data;

			jrx_io_fail(e, jrx_io_read_error(e, s->req,
					s->req->off + s->done,
					ret ? ret : -EAGAIN));
			at = l->nr_ready;
			break;
		}
		at += (unsigned)ret;
		l->inflight += (unsigned)ret;
	}
	memmove(l->ready, l->ready + at, (l->nr_ready - at) * sizeof(*l->ready));
	l->nr_ready -= at;
}

/*
 * Wait for at least one completion: finished reads to landed[], short
 * ones prepared again for the rest.  False if waiting failed: the kernel
 * may still own the slots, so the caller must not free them.
 */
static bool reap(struct aloop *l)
{
	struct jrx_io_worker *w = l->w;
	int n;

	do
		n = io_getevents(w->aio, 1, (long)l->inflight, l->events, NULL);
	while (n == -EINTR);
	if (n < 0) {
		jrx_io_fail(w->e, jrx_fail(n, "waiting for aio reads: %s",
					   strerror(-n)));
		return false;
	}
	for (int i = 0; i < n; i++) {
		struct aslot *s = l->events[i].data;
		long res = (long)l->events[i].res;
		unsigned si = (unsigned)(s - l->slots);
		int got;

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
	return true;
}

void jrx_aio_batch(struct jrx_io_worker *w)
{
	struct jrx_io_engine *e = w->e;
	unsigned depth = e->depth;
	struct aloop l = { .w = w };
	int ret;

	l.slots = calloc(depth, sizeof(*l.slots));
	l.free_slots = calloc(depth, sizeof(*l.free_slots));
	l.ready = calloc(depth, sizeof(*l.ready));
	l.events = calloc(depth, sizeof(*l.events));
	l.landed = calloc(depth, sizeof(*l.landed));
	if (!l.slots || !l.free_slots || !l.ready || !l.events || !l.landed) {
		jrx_io_fail(e, jrx_fail(-ENOMEM, "read worker %u: allocating"
					" its request slots", w->id));
		goto out;
	}
	for (unsigned i = 0; i < depth; i++)
		l.free_slots[l.nr_free++] = depth - 1 - i;

	for (;;) {
		refill(&l);
		submit(&l);
		if (l.nr_landed) {
			/* new reads went out before the CPU work starts */
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
		if (!l.inflight && !l.nr_ready)
			break;
		if (l.inflight && !reap(&l)) {
			/* io_destroy (at tear-down) waits for what is in
			 * flight; until then the slots stay the kernel's */
			w->aio_stuck = true;
			return;
		}
	}
out:
	free(l.slots);
	free(l.free_slots);
	free(l.ready);
	free(l.events);
	free(l.landed);
}
