/*
 * pread_pool.c - the pread backend of the read engine (engine.h), for
 * hosts that refuse io_uring and AIO.  Each worker keeps up to
 * PREAD_AHEAD reads in flight on a write queue of its own on helper
 * threads (io/wq.h, JRX_IO_PREAD: blocking preads on the engine's
 * O_DIRECT descriptors), the requests taken off the batch's shared
 * cursor, and, as the other backends do, queues new reads before it runs
 * the callbacks of those that landed: the waits are the helpers', the
 * CPU work stays on the engine's workers.  Where the helpers cannot
 * start, the worker reads one request at a time itself.
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>
#include "engine_int.h"
#include "wq.h"
#include "jrx/errors.h"
#include "../util/diag.h"

#define PREAD_AHEAD	8u	/* reads queued per worker (4 helpers) */

struct pslot {
	struct ploop	  *l;
	struct jrx_io_req *req;
	uint32_t	   done;	/* bytes read so far */
	int		   res;		/* the last read's bytes, or -errno */
	struct pslot	  *next;	/* on the landed list */
};

struct ploop {
	struct jrx_io_worker *w;
	struct jrx_wq	*q;
	struct pslot	 slots[PREAD_AHEAD];
	struct pslot	*free_slots[PREAD_AHEAD];
	unsigned	 nr_free, inflight;
	struct pslot	*landed;	/* callbacks of the queue: this thread */
};

static void landed(void *ctx, int res)
{
	struct pslot *s = ctx;

	s->res = res;
	s->next = s->l->landed;
	s->l->landed = s;
}

/* Queue the rest of s's request (a refused one lands at once). */
static void issue(struct ploop *l, struct pslot *s)
{
	struct jrx_io_engine *e = l->w->e;
	struct jrx_io_req *r = s->req;

	l->inflight++;
	jrx_wq_read_file(l->q, e->fds[r->dev], e->devs[r->dev].path,
			 (char *)r->buf + s->done, r->len - s->done,
			 r->off + s->done, landed, s);
}

/* Take requests off the shared cursor while there are free slots. */
static void refill(struct ploop *l)
{
	struct jrx_io_engine *e = l->w->e;

	while (l->nr_free && !atomic_load(&e->failed)) {
		size_t i = atomic_fetch_add(&e->next, 1);
		struct pslot *s;

		if (i >= e->nr || !jrx_io_admit(e, &e->reqs[i]))
			return;
		s = l->free_slots[--l->nr_free];
		*s = (struct pslot){ .l = l, .req = &e->reqs[i] };
		issue(l, s);
	}
}

static void queued_batch(struct ploop *l)
{
	struct jrx_io_worker *w = l->w;
	struct jrx_io_engine *e = w->e;

	for (unsigned i = 0; i < PREAD_AHEAD; i++)
		l->free_slots[l->nr_free++] = &l->slots[PREAD_AHEAD - 1 - i];
	for (;;) {
		struct pslot *s;

		refill(l);
		jrx_wq_submit(l->q);
		if (l->landed) {
			/* new reads went out before the CPU work starts */
			while ((s = l->landed)) {
				int got, ret;

				l->landed = s->next;
				l->inflight--;
				got = jrx_io_completed(w, s->req, &s->done,
						       s->res);
				if (!got && !atomic_load(&e->failed)) {
					issue(l, s);	/* short: the rest */
					continue;
				}
				l->free_slots[l->nr_free++] = s;
				if (got <= 0 || atomic_load(&e->failed))
					continue;
				ret = e->done(e->ctx, s->req);
				if (ret)
					jrx_io_fail(e, ret);
			}
			continue;
		}
		if (!l->inflight)
			break;
		if (jrx_wq_reap(l->q) && !l->landed)
			jrx_wq_drain(l->q);	/* failed: every callback */
		if (!l->landed && l->inflight) {
			/* cannot happen: a drained queue ran every callback */
			jrx_io_fail(e, jrx_fail(-EIO, "read worker %u: %u reads"
						" never completed", w->id,
						l->inflight));
			break;
		}
	}
}

static int read_whole(struct jrx_io_engine *e, struct jrx_io_req *r,
		      uint64_t *bytes)
{
	uint32_t done = 0;
	int err = jrx_io_injected(r->dev, r->off, r->len);

	if (err)
		return jrx_io_read_error(e, r, r->off, err);
	while (done < r->len) {
		ssize_t n = pread(e->fds[r->dev], (char *)r->buf + done,
				  r->len - done, (off_t)(r->off + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return jrx_io_read_error(e, r, r->off + done,
						 n ? -errno : -JRX_ERR_DEV_TRUNCATED);
		done += (uint32_t)n;
		*bytes += (uint64_t)n;
	}
	return 0;
}

static void sync_batch(struct jrx_io_worker *w)
{
	struct jrx_io_engine *e = w->e;

	while (!atomic_load(&e->failed)) {
		size_t i = atomic_fetch_add(&e->next, 1);
		int ret;

		if (i >= e->nr)
			return;
		ret = read_whole(e, &e->reqs[i], &w->bytes);
		if (!ret) {
			w->reads++;
			ret = e->done(e->ctx, &e->reqs[i]);
		}
		if (ret)
			jrx_io_fail(e, ret);
	}
}

void jrx_pread_batch(struct jrx_io_worker *w)
{
	struct ploop *l = calloc(1, sizeof(*l));

	if (l && !jrx_wq_open(&l->q, PREAD_AHEAD, JRX_IO_PREAD)) {
		l->w = w;
		queued_batch(l);
		jrx_wq_close(l->q);
	} else {
		jrx_diag_clear();	/* helpers refused: one at a time */
		sync_batch(w);
	}
	free(l);
}
