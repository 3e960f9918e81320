/*
 * walk.c - the node walker of every fsck pass (fsck_int.h), on all
 * threads.
 *
 * It follows btree pointers from a root.  A node comes from the view when
 * the dry-run recovery made or changed it (it exists only in memory),
 * otherwise it is read from its device; either way nodecheck.c checks it
 * (FORMAT.md 7.4) on the thread that has it.  The interior levels are
 * read a level at a time, then the visit goes pre-order, reading the
 * leaves a window ahead (a batch of FSCK_WINDOW_BYTES of nodes): the
 * read engine (io/engine.h) has many reads in flight and checks each
 * node on the worker it lands on; the pool's workers (util/pool.h) take
 * the view's nodes and whatever the engine cannot read.  The callbacks,
 * the problems (kept per node until then, wnode.h) and the damage list
 * come in pre-order on the walk's thread, so the report is the same,
 * in the same order, for any number of threads.  Nothing it finds stops
 * the walk: a damaged node is reported (pass 3) or skipped (later
 * passes) with its subtree.
 *
 * Owners: the walk's thread owns the levels, the damage list, the
 * progress counters and every callback; during a batch each wnode is
 * written by the one worker its request went to (wnode.h), and the
 * batch's return (jrx_io_read, jrx_pool_run) hands them back.
 *
 * Memory: every interior node of the btree (decoded, with its problems)
 * for the walk's length, a window of leaves (each read straight into the
 * image its decoded node keeps: no copy), and one node per pool worker.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include "wnode.h"
#include "jrx/errors.h"
#include "../btree/blob.h"
#include "../io/device.h"
#include "../io/engine.h"
#include "../util/clock.h"
#include "../util/diag.h"
#include "../util/pool.h"
#include "../util/vec.h"

void fsck_ctx_node(struct jrx_pr_ctx *c, const struct fsck_ptr *p)
{
	jrx_pr_ctx_init(c);
	c->dev = (int)p->dev;
	c->offset = fsck_sector_offset(p->sector, 0);
	c->btree = p->btree_id;
	c->level = p->level;
	c->has_pos = true;
	c->pos = p->max;
}

void fsck_damage_add(struct jrx_fsck *f, const struct fsck_ptr *p)
{
	if (JRX_VEC_RESERVE(f->damage, f->nr_damage, f->cap_damage, 1,
			    "fsck damage list")) {
		f->nomem = true;	/* jrx_diag() says what */
		return;
	}
	f->damage[f->nr_damage++] = (struct fsck_damage){
		.btree_id = p->btree_id, .level = p->level, .min = p->min,
		.max = p->max,
	};
}

bool fsck_damaged(const struct jrx_fsck *f, unsigned btree, struct jrx_bpos lo,
		  struct jrx_bpos hi)
{
	for (size_t i = 0; i < f->nr_damage; i++) {
		const struct fsck_damage *d = &f->damage[i];

		if (d->btree_id == btree && jrx_bpos_cmp(d->min, hi) <= 0 &&
		    jrx_bpos_cmp(lo, d->max) <= 0)
			return true;
	}
	return false;
}

bool fsck_btree_damaged(const struct jrx_fsck *f, unsigned btree, bool interior)
{
	for (size_t i = 0; i < f->nr_damage; i++)
		if (f->damage[i].btree_id == btree &&
		    (!interior || f->damage[i].level > 0))
			return true;
	return false;
}

static void pos_text(char *buf, size_t len, struct jrx_bpos p)
{
	jrx_bpos_to_text(buf, len, p);
}

static void report(struct jrx_fsck *f, struct fsck_walk *w,
		   enum jrx_pr_code code, const struct jrx_pr_ctx *c)
{
	if (w->report)
		fsck_report(f, code, c);
}

/* Keys of p's range are lost (pass 3 notes it for the later passes). */
static void damaged(struct jrx_fsck *f, struct fsck_walk *w,
		    const struct fsck_ptr *p)
{
	if (w->report)
		fsck_damage_add(f, p);
}

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

/* ------------------------------------------------------------ the reader */

/*
 * The reader of every walk of one check, opened at the first walk and
 * closed by fsck_free(): the read engine (its own workers, many reads in
 * flight) reads a batch of nodes, each into a blob of its own, and
 * checks each one on the worker it landed on; the pool's workers check the view's nodes and
 * read, one pread each, what the engine cannot (a node not 4 KiB-aligned,
 * or every node of a batch the engine failed, so that a read error
 * becomes a NODE_READ problem of its own node).
 *
 * Owner: the thread that runs the walks (f's); inside a batch a
 * request's blob is written by its engine worker only, bufs[id] by pool
 * worker id only.
 */
struct fsck_reader {
	struct jrx_io_engine *io;	/* NULL: the engine would not open */
	struct jrx_pool	*pool;
	unsigned	 threads;
	size_t		 window;	/* nodes per batch */
	size_t		 stride;	/* bytes a node takes */
	void		**bufs;		/* one node per pool worker */
	struct jrx_io_req *reqs;	/* window entries */
	struct fsck_wnode **pending;	/* window entries */
};

void fsck_reader_close(struct fsck_reader *rd)
{
	if (!rd)
		return;
	jrx_pool_stop(rd->pool);
	jrx_io_close(rd->io);
	for (unsigned i = 0; rd->bufs && i < rd->threads; i++)
		free(rd->bufs[i]);
	free(rd->bufs);
	free(rd->reqs);
	free(rd->pending);
	free(rd);
}

static int reader_open(struct jrx_fsck *f)
{
	const struct jrx_fsck_opts *o = f->o;
	unsigned threads = o && o->threads ? o->threads : jrx_online_cpus();
	struct fsck_reader *rd;
	int ret;

	if (threads > JRX_POOL_MAX)
		threads = JRX_POOL_MAX;
	if (!threads)
		threads = 1;
	rd = calloc(1, sizeof(*rd));
	if (!rd)
		return jrx_fail(-ENOMEM, "allocating the fsck node reader");
	rd->threads = threads;
	rd->stride = ((size_t)f->node_size + 4095) & ~(size_t)4095;
	rd->window = o && o->window ? o->window :
		(FSCK_WINDOW_BYTES / rd->stride ? FSCK_WINDOW_BYTES / rd->stride : 1);
	rd->bufs = calloc(threads, sizeof(*rd->bufs));
	rd->reqs = calloc(rd->window, sizeof(*rd->reqs));
	rd->pending = calloc(rd->window, sizeof(*rd->pending));
	if (!rd->bufs || !rd->reqs || !rd->pending) {
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
	ret = jrx_pool_start(&rd->pool, &(struct jrx_pool_opts){
		.workers = threads, .name = "fsck" });
	if (ret) {
		fsck_reader_close(rd);
		return ret;
	}
	/*
	 * Without the engine (it would not open: no O_DIRECT descriptor,
	 * no memory) every node is read by the pool's workers: slower, the
	 * same result.
	 */
	if (jrx_io_open(&rd->io, f->a, &(struct jrx_io_opts){
		.backend = JRX_IO_AUTO, .threads = threads }))
		rd->io = NULL;
	f->res->threads = threads;
	if (rd->io) {
		struct jrx_io_info info;

		jrx_io_get_info(rd->io, &info);
		f->res->io = jrx_io_backend_name(info.backend);
	} else {
		f->res->io = "pread";
	}
	jrx_diag_clear();
	f->rd = rd;
	return 0;
}

int fsck_pool(struct jrx_fsck *f, struct jrx_pool **pool)
{
	int ret = f->rd ? 0 : reader_open(f);

	*pool = ret ? NULL : f->rd->pool;
	return ret;
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

/*
 * Load v[from, to) of one level: each node read (the engine, many at
 * once) and checked on the worker it landed on, its problems kept in it.
 */
static int load_range(struct jrx_fsck *f, struct fsck_walk *w,
		      struct fsck_wnode *v, size_t from, size_t to)
{
	struct fsck_reader *rd = f->rd;
	struct load ld = { .x = { .f = f, .report = w->report }, .rd = rd,
			   .v = rd->pending };
	size_t nreq = 0;
	uint64_t bytes = 0;
	int ret;

	for (size_t j = from; j < to; j++) {
		struct fsck_wnode *wn = &v[j];
		uint64_t off;
		void *buf;

		if (wn->skip || wn->loaded || !fsck_wnode_readable(&ld.x, wn))
			continue;
		off = fsck_wnode_off(f, wn);
		if (rd->io && !(off & 4095) &&
		    !mem_find(f, wn->p.dev, wn->p.sector) &&
		    (buf = jrx_blob_alloc(f->node_size))) {
			/* read into the blob the decoded node keeps */
			rd->reqs[nreq++] = (struct jrx_io_req){
				.dev = wn->p.dev, .len = fsck_wnode_len(wn),
				.off = off, .buf = buf, .priv = wn,
			};
		} else {
			ld.v[ld.nr++] = wn;
		}
	}
	for (size_t i = 0; i < nreq; i++)
		bytes += rd->reqs[i].len;
	for (size_t i = 0; i < ld.nr; i++)
		if (!mem_find(f, ld.v[i]->p.dev, ld.v[i]->p.sector))
			bytes += fsck_wnode_len(ld.v[i]);
	f->res->pass[f->out.pass].bytes_read += bytes;
	if (nreq && jrx_io_read(rd->io, rd->reqs, nreq, node_landed, &ld.x)) {
		/* a read failed (which one, the engine does not say) or a
		 * check ran out of memory: what did not land is read again,
		 * one pread each, and a bad read is its node's problem */
		jrx_diag_clear();
		for (size_t i = 0; i < nreq; i++) {
			struct fsck_wnode *wn = rd->reqs[i].priv;

			if (wn->loaded)
				continue;
			jrx_blob_free(rd->reqs[i].buf);	/* never landed */
			if (!wn->err)
				ld.v[ld.nr++] = wn;
		}
	}
	if (ld.nr) {
		atomic_store(&ld.next, 0);
		jrx_pool_run(rd->pool, load_pending, &ld);
	}
	for (size_t j = from; j < to; j++)
		if (v[j].err) {
			ret = v[j].err;
			return jrx_fail(ret, "checking the btree %s level %u node"
					" at dev %u sector %" PRIu64 ": %s",
					jrx_btree_name(v[j].p.btree_id),
					v[j].p.level, v[j].p.dev, v[j].p.sector,
					jrx_strerror(ret));
		}
	return 0;
}

/* ------------------------------------------------------------ the walk */

/* A level of the tree being walked: its nodes left to right. */
struct level {
	struct fsck_wnode *v;
	size_t		  nr, cap;
};

struct walk {
	struct jrx_fsck	*f;
	struct fsck_walk *w;
	struct level	*lv;		/* by level, 0..top */
	unsigned	 top;
	size_t		 loaded_to;	/* leaves [0, loaded_to) loaded */
};

/* The children of v's sound interior nodes, in order, as level L - 1. */
static int add_children(struct walk *s, unsigned L)
{
	struct level *up = &s->lv[L], *down = &s->lv[L - 1];

	for (size_t i = 0; i < up->nr; i++) {
		struct fsck_wnode *wn = &up->v[i];
		const struct jrx_bnode *n = wn->n;
		int ret;

		if (wn->skip || wn->bad || !n)
			continue;
		ret = JRX_VEC_RESERVE(down->v, down->nr, down->cap, n->nr,
				      "fsck walk level");
		if (ret)
			return ret;
		wn->first_child = down->nr;
		for (size_t k = 0; k < n->nr; k++) {
			const struct jrx_bkey *key = n->keys[k];
			const struct jrx_btree_ptr_val *pv = jrx_bkey_val(key);

			down->v[down->nr++] = (struct fsck_wnode){
				.p = {
					.btree_id = n->btree_id,
					.level = (uint8_t)(n->level - 1),
					.dev = pv->dev, .sector = pv->sector,
					.nonce = pv->nonce, .blocks = pv->blocks,
					.min = pv->min_key, .max = key->p,
				},
				.skip = jrx_bpos_cmp(pv->min_key, key->p) > 0,
			};
		}
	}
	return 0;
}

/* Report wn's kept problems of slot, in the order they were found. */
static void emit(struct jrx_fsck *f, const struct fsck_wnode *wn, uint32_t slot)
{
	for (size_t i = 0; i < wn->nr_probs; i++) {
		const struct fsck_wprob *p = &wn->probs[i];
		struct jrx_pr_ctx c;

		if (p->slot != slot)
			continue;
		c = p->c;
		c.why = p->has_why ? p->why : NULL;
		fsck_report(f, p->code, &c);
	}
}

static int visit(struct walk *s, unsigned L, size_t i)
{
	struct jrx_fsck *f = s->f;
	struct fsck_walk *w = s->w;
	struct fsck_wnode *wn = &s->lv[L].v[i];
	const struct jrx_bnode *n;
	int ret;

	/* the damage list is short of a range: stop, its jrx_diag() kept */
	if (f->nomem)
		return -ENOMEM;
	if (w->ptr && (ret = w->ptr(w->ctx, &wn->p)))
		return ret;
	if (!L && !w->leaves)
		return 0;
	if (!wn->loaded) {
		/* leaves: the next window of them, read ahead together */
		size_t to = i + f->rd->window;

		if (to > s->lv[0].nr)
			to = s->lv[0].nr;
		ret = load_range(f, w, s->lv[0].v, i, to);
		if (ret)
			return ret;
	}
	emit(f, wn, 0);
	n = wn->n;
	if (wn->bad || !n) {
		w->bad_nodes++;
		damaged(f, w, &wn->p);
		ret = 0;
		goto out;
	}
	w->nodes++;
	if (n->level)
		f->walk_known += n->nr;
	fsck_progress(f, ++f->walk_done, f->walk_known);
	if (w->node && (ret = w->node(w->ctx, n, &wn->p)))
		goto out;
	if (n->level) {
		for (size_t k = 0; k < n->nr; k++) {
			size_t child = wn->first_child + k;

			emit(f, wn, (uint32_t)k + 1);
			if (s->lv[L - 1].v[child].skip)
				continue;
			if ((ret = visit(s, L - 1, child)))
				goto out;
		}
		emit(f, wn, (uint32_t)n->nr + 1);
		ret = 0;
		goto out;
	}
	for (size_t k = 0; k < n->nr; k++) {
		w->keys++;
		if (w->key && (ret = w->key(w->ctx, &wn->p, n->keys[k])))
			goto out;
	}
	ret = 0;
out:
	if (!L)
		fsck_wnode_release(wn);	/* a leaf is done with */
	return ret;
}

/*
 * The walk from root p: the interior levels read and checked a level at
 * a time (each a few batches), then the pre-order visit, which reads the
 * leaves a window ahead; the callbacks and the problems come in
 * pre-order on this thread, as one node at a time would give them.
 */
static int walk_tree(struct jrx_fsck *f, struct fsck_walk *w,
		     const struct fsck_ptr *p)
{
	struct walk s = { .f = f, .w = w, .top = p->level };
	int ret;

	if (!f->rd && (ret = reader_open(f)))
		return ret;
	s.lv = calloc((size_t)s.top + 1, sizeof(*s.lv));
	if (!s.lv)
		return jrx_fail(-ENOMEM, "allocating the fsck walk's levels");
	ret = JRX_VEC_RESERVE(s.lv[s.top].v, s.lv[s.top].nr, s.lv[s.top].cap, 1,
			      "fsck walk level");
	if (!ret)
		s.lv[s.top].v[s.lv[s.top].nr++] = (struct fsck_wnode){ .p = *p };
	for (unsigned L = s.top; !ret && L > 0; L--) {
		struct level *lv = &s.lv[L];

		for (size_t i = 0; !ret && i < lv->nr; i += f->rd->window)
			ret = load_range(f, w, lv->v, i, i + f->rd->window < lv->nr ?
					 i + f->rd->window : lv->nr);
		if (!ret)
			ret = add_children(&s, L);
	}
	if (!ret)
		ret = visit(&s, s.top, 0);
	for (unsigned L = 0; L <= s.top; L++) {
		for (size_t i = 0; i < s.lv[L].nr; i++)
			fsck_wnode_release(&s.lv[L].v[i]);
		free(s.lv[L].v);
	}
	free(s.lv);
	return ret;
}

int fsck_walk(struct jrx_fsck *f, struct fsck_walk *w)
{
	const struct fsck_ptr *p = &f->root[w->btree_id];
	struct jrx_pr_ctx c;
	char t1[96], t2[96];
	int ret;

	w->nodes = w->bad_nodes = w->keys = 0;
	if (f->have_root[w->btree_id])
		f->walk_known++;	/* progress: the root, then children */
	jrx_pr_ctx_init(&c);
	c.btree = (int)w->btree_id;
	if (!f->have_root[w->btree_id]) {
		struct fsck_ptr all = {
			.btree_id = (uint8_t)w->btree_id, .level = JRX_BTREE_MAX_DEPTH,
			.min = JRX_POS_MIN, .max = JRX_POS_MAX,
		};

		report(f, w, JRX_PR_ROOT_MISSING, &c);
		damaged(f, w, &all);
		return f->nomem ? -ENOMEM : 0;
	}
	if (!jrx_bpos_eq(p->min, JRX_POS_MIN) || !jrx_bpos_eq(p->max, JRX_POS_MAX)) {
		pos_text(t1, sizeof(t1), p->min);
		pos_text(t2, sizeof(t2), p->max);
		jrx_pr_found(&c, "%s..%s", t1, t2);
		pos_text(t1, sizeof(t1), JRX_POS_MIN);
		pos_text(t2, sizeof(t2), JRX_POS_MAX);
		jrx_pr_expected(&c, "%s..%s", t1, t2);
		report(f, w, JRX_PR_ROOT_BAD_RANGE, &c);
	}
	ret = walk_tree(f, w, p);
	return !ret && f->nomem ? -ENOMEM : ret;
}
