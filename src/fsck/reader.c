/*
 * reader.c - fsck's node reader (reader.h), opened at the first walk of
 * a check and closed by fsck_free().
 *
 * A batch of nodes is read by the read engine, each node into a blob of
 * its own that its decoded node keeps (no copy), and checked
 * (nodecheck.c) on the engine worker it landed on.  The check's pool
 * takes the view's nodes (in memory: nothing to read) and what the engine
 * cannot read: a node not 4 KiB-aligned, and every node of a batch the
 * engine failed (it does not say which read failed), each with one pread,
 * so that a bad read is its own node's NODE_READ problem; and a node
 * whose bytes landed but did not decode (their blob went with the failed
 * decode), to be checked rule by rule from the pool worker's buffer.  Without the
 * engine (it would not open) the pool reads every node: slower, the same
 * result.
 *
 * Owners and threads: the reader's thread is worker 0 of rd->walk (a
 * two-worker pool; the caller, if that thread could not start): it opens
 * the engine and the pool in its on_start and closes them in its
 * on_stop (an io_uring ring is single-issuer: the thread that set it up
 * submits), and runs every batch.  Inside a batch a request's blob and
 * its wnode are written by the engine worker it went to only, a pool
 * worker's buf and the wnodes it takes (an atomic cursor) by that worker
 * only; the batch's return hands them back to the reader's thread.
 * res->threads and res->io are written by the reader's on_start, before
 * jrx_pool_start returns to the check's thread.
 *
 * Node images are recycled: a node done with (fsck_reader_release, on
 * the visit's thread or the walk's) gives its image to imgs, from which
 * the reader's thread takes the next reads' (guarded by img_mu).  Taking
 * them from the allocator each time cost more than the checks: it hands
 * freed images back to the system within milliseconds, and each new one
 * is faulted in again, page by page, as the read pins it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include "reader.h"
#include "jrx/errors.h"
#include "../btree/blob.h"
#include "../io/device.h"
#include "../io/engine.h"
#include "../util/clock.h"
#include "../util/diag.h"

struct fsck_reader {
	struct jrx_fsck	*f;
	struct jrx_pool	*walk;		/* 2 workers: the reader, a visitor */
	struct jrx_io_engine *io;	/* NULL: the engine would not open */
	struct jrx_pool	*pool;		/* threads workers */
	unsigned	 threads;
	size_t		 window;	/* nodes per batch */
	void		**bufs;		/* one node per pool worker */
	struct jrx_io_req *reqs;	/* a batch's */
	struct fsck_wnode **pending;	/* a batch's, for the pool */
	pthread_mutex_t	 img_mu;	/* guards imgs, nr_imgs */
	void		**imgs;		/* node images to read into again */
	size_t		 nr_imgs, cap_imgs;
};

static const struct jrx_bnode *mem_find(const struct jrx_fsck *f, uint32_t dev,
					uint64_t sector)
{
	size_t lo = 0, hi = f->nr_mem;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct jrx_bnode *n = f->mem[mid];

		if (n->dev == dev && n->sector == sector)
			return n;
		if (n->dev < dev || (n->dev == dev && n->sector < sector))
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* ------------------------------------------------------------ open, close */

/* On the reader's thread: the engine and the pool it owns. */
static int reader_start(void *ctx, unsigned id, bool own_thread)
{
	struct fsck_reader *rd = ctx;
	struct jrx_fsck *f = rd->f;
	int ret;

	(void)own_thread;
	if (id)
		return 0;
	ret = jrx_pool_start(&rd->pool, &(struct jrx_pool_opts){
		.workers = rd->threads, .name = "fsck" });
	if (ret)
		return ret;
	if (jrx_io_open(&rd->io, f->a, &(struct jrx_io_opts){
		.backend = JRX_IO_AUTO, .threads = rd->threads })) {
		rd->io = NULL;
		jrx_diag_clear();
	}
	f->res->threads = rd->threads;
	if (rd->io) {
		struct jrx_io_info info;

		jrx_io_get_info(rd->io, &info);
		f->res->io = jrx_io_backend_name(info.backend);
	} else {
		f->res->io = "pread";
	}
	return 0;
}

static void reader_stop(void *ctx, unsigned id, bool own_thread)
{
	struct fsck_reader *rd = ctx;

	(void)own_thread;
	if (id)
		return;
	jrx_io_close(rd->io);
	rd->io = NULL;
	jrx_pool_stop(rd->pool);
	rd->pool = NULL;
}

void fsck_reader_close(struct fsck_reader *rd)
{
	if (!rd)
		return;
	jrx_pool_stop(rd->walk);	/* reader_stop on the reader's thread */
	for (unsigned i = 0; rd->bufs && i < rd->threads; i++)
		free(rd->bufs[i]);
	free(rd->bufs);
	for (size_t i = 0; i < rd->nr_imgs; i++)
		jrx_blob_free(rd->imgs[i]);
	free(rd->imgs);
	pthread_mutex_destroy(&rd->img_mu);
	free(rd->reqs);
	free(rd->pending);
	free(rd);
}

int fsck_reader_open(struct jrx_fsck *f)
{
	const struct jrx_fsck_opts *o = f->o;
	unsigned threads = o && o->threads ? o->threads : jrx_online_cpus();
	size_t stride = ((size_t)f->node_size + 4095) & ~(size_t)4095;
	struct fsck_reader *rd;
	int ret;

	if (threads > JRX_POOL_MAX)
		threads = JRX_POOL_MAX;
	if (!threads)
		threads = 1;
	rd = calloc(1, sizeof(*rd));
	if (!rd)
		return jrx_fail(-ENOMEM, "allocating the fsck node reader");
	rd->f = f;
	rd->threads = threads;
	rd->window = o && o->window ? o->window :
		(FSCK_WINDOW_BYTES / stride ? FSCK_WINDOW_BYTES / stride : 1);
	pthread_mutex_init(&rd->img_mu, NULL);
	/* two batches: the one read while the visit has the last one */
	rd->cap_imgs = 2 * rd->window;
	rd->imgs = calloc(rd->cap_imgs, sizeof(*rd->imgs));
	rd->bufs = calloc(threads, sizeof(*rd->bufs));
	rd->reqs = calloc(rd->window, sizeof(*rd->reqs));
	rd->pending = calloc(rd->window, sizeof(*rd->pending));
	if (!rd->bufs || !rd->reqs || !rd->pending || !rd->imgs) {
		fsck_reader_close(rd);
		return jrx_fail(-ENOMEM, "allocating the fsck node reader's"
				" tables: %zu nodes a batch", rd->window);
	}
	for (unsigned i = 0; i < threads; i++)
		if (!(rd->bufs[i] = jrx_alloc_aligned(f->node_size))) {
			fsck_reader_close(rd);
			return jrx_fail(-ENOMEM, "allocating the fsck node"
					" buffers: %u bytes", f->node_size);
		}
	ret = jrx_pool_start(&rd->walk, &(struct jrx_pool_opts){
		.workers = 2, .name = "fsck walk", .ctx = rd,
		.on_start = reader_start, .on_stop = reader_stop });
	if (ret) {
		fsck_reader_close(rd);
		return ret;
	}
	f->rd = rd;
	return 0;
}

size_t fsck_reader_window(const struct fsck_reader *rd)
{
	return rd->window;
}

void fsck_reader_run(struct fsck_reader *rd, jrx_pool_fn fn, void *arg,
		     bool *pair)
{
	/* one thread asked for: the reads and the visit take turns */
	*pair = rd->threads > 1 && jrx_pool_threads(rd->walk) > 0;
	jrx_pool_run(rd->walk, fn, arg);
}

/* fsck_parallel: fn on the pool, from the reader's thread. */
struct par {
	struct fsck_reader *rd;
	jrx_pool_fn	 fn;
	void		*arg;
};

static void par_phase(void *arg, unsigned id)
{
	struct par *p = arg;

	if (!id)
		jrx_pool_run(p->rd->pool, p->fn, p->arg);
}

int fsck_parallel(struct jrx_fsck *f, jrx_pool_fn fn, void *arg)
{
	struct par p = { .fn = fn, .arg = arg };
	int ret = f->rd ? 0 : fsck_reader_open(f);

	if (ret)
		return ret;
	p.rd = f->rd;
	jrx_pool_run(f->rd->walk, par_phase, &p);
	return 0;
}

/* ------------------------------------------------------------ node images */

/* A node image to read into: one a released node gave back, or new. */
static void *img_get(struct fsck_reader *rd)
{
	void *img = NULL;

	pthread_mutex_lock(&rd->img_mu);
	if (rd->nr_imgs)
		img = rd->imgs[--rd->nr_imgs];
	pthread_mutex_unlock(&rd->img_mu);
	return img ? img : jrx_blob_alloc(rd->f->node_size);
}

void fsck_reader_release(struct fsck_reader *rd, struct fsck_wnode *wn)
{
	void *img = NULL;

	if (wn->own && wn->n && wn->n->blob_len == rd->f->node_size) {
		img = jrx_bnode_free_keep_blob(wn->n);
		wn->n = NULL;
		wn->own = false;
	}
	fsck_wnode_release(wn);
	if (!img)
		return;
	pthread_mutex_lock(&rd->img_mu);
	if (rd->nr_imgs < rd->cap_imgs) {
		rd->imgs[rd->nr_imgs++] = img;
		img = NULL;
	}
	pthread_mutex_unlock(&rd->img_mu);
	jrx_blob_free(img);	/* more than the reads need */
}

/* ------------------------------------------------------------ loading */

struct load {
	struct fsck_wcheck x;
	struct fsck_reader *rd;
	struct fsck_wnode **v;		/* pending entries */
	size_t		 nr;
	_Atomic size_t	 next;
};

/* Engine worker: one node has landed. */
static int node_landed(void *ctx, struct jrx_io_req *req)
{
	const struct fsck_wcheck *x = ctx;

	/* the node keeps the blob it was read into */
	return fsck_wnode_check(x, req->priv, NULL, req->buf, true, 0);
}

/* Pool worker: the view's nodes, and nodes read one pread at a time. */
static void load_pending(void *arg, unsigned id)
{
	struct load *ld = arg;
	const struct jrx_fsck *f = ld->x.f;

	for (;;) {
		size_t k = atomic_fetch_add(&ld->next, 1);
		struct fsck_wnode *wn;
		const struct jrx_bnode *mem;
		int err = 0;

		if (k >= ld->nr)
			return;
		wn = ld->v[k];
		mem = mem_find(f, wn->p.dev, wn->p.sector);
		if (!mem)
			err = jrx_dev_pread(&f->a->devs[wn->p.dev], ld->rd->bufs[id],
					    fsck_wnode_len(wn),
					    fsck_wnode_off(f, wn));
		fsck_wnode_check(&ld->x, wn, mem, ld->rd->bufs[id], false, err);
	}
}

int fsck_reader_load(struct jrx_fsck *f, bool report, unsigned pass,
		     struct fsck_wnode *v, size_t from, size_t to)
{
	struct fsck_reader *rd = f->rd;
	struct load ld = { .x = { .f = f, .report = report }, .rd = rd,
			   .v = rd->pending };
	size_t nreq = 0;
	uint64_t bytes = 0;

	for (size_t j = from; j < to; j++) {
		struct fsck_wnode *wn = &v[j];
		uint64_t off;
		void *buf;

		if (wn->skip || wn->loaded || !fsck_wnode_readable(&ld.x, wn))
			continue;
		off = fsck_wnode_off(f, wn);
		if (mem_find(f, wn->p.dev, wn->p.sector)) {
			ld.v[ld.nr++] = wn;
			continue;
		}
		bytes += fsck_wnode_len(wn);
		if (rd->io && !(off & 4095) && (buf = img_get(rd))) {
			/* read into the blob the decoded node keeps */
			rd->reqs[nreq++] = (struct jrx_io_req){
				.dev = wn->p.dev, .len = fsck_wnode_len(wn),
				.off = off, .buf = buf, .priv = wn,
			};
		} else {
			ld.v[ld.nr++] = wn;
		}
	}
	f->res->pass[pass].bytes_read += bytes;
	if (nreq && jrx_io_read(rd->io, rd->reqs, nreq, node_landed, &ld.x))
		/* a read failed (which one, the engine does not say) or a
		 * check ran out of memory: what did not land is read again,
		 * one pread each, and a bad read is its node's problem */
		jrx_diag_clear();
	for (size_t i = 0; i < nreq; i++) {
		struct fsck_wnode *wn = rd->reqs[i].priv;

		if (wn->loaded)
			continue;
		/* never landed, or landed and did not decode (its blob
		 * freed): read again, and checked rule by rule */
		if (!wn->retry)
			jrx_blob_free(rd->reqs[i].buf);
		wn->retry = false;
		ld.v[ld.nr++] = wn;
	}
	if (ld.nr) {
		atomic_store(&ld.next, 0);
		jrx_pool_run(rd->pool, load_pending, &ld);
	}
	for (size_t j = from; j < to; j++)
		if (v[j].err)
			return jrx_fail(v[j].err, "checking the btree %s level %u"
					" node at dev %u sector %" PRIu64 ": %s",
					jrx_btree_name(v[j].p.btree_id),
					v[j].p.level, v[j].p.dev, v[j].p.sector,
					jrx_strerror(v[j].err));
	return 0;
}
