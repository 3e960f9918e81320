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
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include "reader.h"
#include "jrx/errors.h"
#include "../util/diag.h"
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

/* ------------------------------------------------------------ the walk */

/* A level of the tree being walked: its nodes left to right. */
struct level {
	struct fsck_wnode *v;
	size_t		  nr, cap;
};

/* How many leaf windows the reader may load ahead of the visit. */
#define AHEAD 1

/*
 * One walk.  The reader's thread (id 0) loads the interior levels, then
 * the leaf windows in order; the visit (id 1, when pair) goes pre-order
 * and waits for the window of each leaf it reaches; without pair the
 * reader's thread visits too, loading each window when it gets there.
 *
 * Owners: lv and the interior wnodes are the reader's until
 * interior_ready, then the visit's (read-only); leaf window k is the
 * reader's until win_loaded > k, then the visit's.  mu guards the fields
 * below it; everything the visit touches of f (problems, damage,
 * progress, callbacks) is the visit's alone during the walk.
 */
struct walk {
	struct jrx_fsck	*f;
	struct fsck_walk *w;
	struct level	*lv;		/* by level, 0..top */
	unsigned	 top;
	unsigned	 pass;		/* for the bytes read */
	size_t		 window;
	bool		 pair;
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	bool		 interior_ready;
	bool		 stop;		/* the visit is over */
	size_t		 win_loaded;	/* windows [0, win_loaded) loaded */
	size_t		 win_visit;	/* the window the visit is in */
	int		 load_err;
	int		 ret;
	char		 msg[512];	/* the failing thread's jrx_diag() */
};

/* The children of level L's sound interior nodes, in order, as L - 1. */
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

/* Leaf window k of the walk: [from, to). */
static void window_of(const struct walk *s, size_t k, size_t *from, size_t *to)
{
	*from = k * s->window;
	*to = *from + s->window < s->lv[0].nr ? *from + s->window : s->lv[0].nr;
}

/* Keep this thread's error context for the walk's caller. */
static void keep_msg(struct walk *s)
{
	snprintf(s->msg, sizeof(s->msg), "%s", jrx_diag());
}

/* Leaf i, loaded: by this thread (no pair) or by the reader's. */
static int need_leaf(struct walk *s, size_t i)
{
	size_t k = i / s->window, from, to;
	int ret;

	if (!s->pair) {
		if (s->lv[0].v[i].loaded)
			return 0;
		window_of(s, k, &from, &to);
		return fsck_reader_load(s->f, s->w->report, s->pass, s->lv[0].v,
					from, to);
	}
	pthread_mutex_lock(&s->mu);
	if (k > s->win_visit) {
		s->win_visit = k;
		pthread_cond_broadcast(&s->cv);
	}
	while (s->win_loaded <= k && !s->load_err)
		pthread_cond_wait(&s->cv, &s->mu);
	ret = s->win_loaded > k ? 0 : s->load_err;
	pthread_mutex_unlock(&s->mu);
	return ret;
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
	if (!L && (ret = need_leaf(s, i)))
		return ret;
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
	if (!w->key)
		w->keys += n->nr;
	for (size_t k = 0; w->key && k < n->nr; k++) {
		/* the keys were decoded on another thread: ask for those a
		 * few callbacks ahead now, not when their callback reads them */
		if (k + FSCK_KEY_AHEAD < n->nr)
			__builtin_prefetch(n->keys[k + FSCK_KEY_AHEAD]);
		w->keys++;
		if ((ret = w->key(w->ctx, &wn->p, n->keys[k])))
			goto out;
	}
	ret = 0;
out:
	if (!L)
		fsck_reader_release(f->rd, wn);	/* a leaf is done with */
	return ret;
}

/* The interior levels, top down, each loaded whole (a window at a time). */
static int load_interior(struct walk *s)
{
	int ret = 0;

	for (unsigned L = s->top; !ret && L > 0; L--) {
		struct level *lv = &s->lv[L];

		for (size_t i = 0; !ret && i < lv->nr; i += s->window)
			ret = fsck_reader_load(s->f, s->w->report, s->pass, lv->v,
					       i, i + s->window < lv->nr ?
					       i + s->window : lv->nr);
		if (!ret)
			ret = add_children(s, L);
	}
	return ret;
}

/* The reader's side of a pair: the leaf windows, AHEAD of the visit. */
static void load_leaves(struct walk *s)
{
	size_t nwin = s->w->leaves ? (s->lv[0].nr + s->window - 1) / s->window : 0;

	for (size_t k = 0; k < nwin; k++) {
		size_t from, to;
		int ret;

		pthread_mutex_lock(&s->mu);
		while (!s->stop && k > s->win_visit + AHEAD)
			pthread_cond_wait(&s->cv, &s->mu);
		pthread_mutex_unlock(&s->mu);
		if (s->stop)
			return;
		window_of(s, k, &from, &to);
		ret = fsck_reader_load(s->f, s->w->report, s->pass, s->lv[0].v,
				       from, to);
		pthread_mutex_lock(&s->mu);
		if (ret) {
			s->load_err = ret;
			keep_msg(s);
		} else {
			s->win_loaded = k + 1;
		}
		pthread_cond_broadcast(&s->cv);
		pthread_mutex_unlock(&s->mu);
		if (ret)
			return;
	}
}

static void walk_phase(void *arg, unsigned id)
{
	struct walk *s = arg;
	int ret;

	if (id == 0) {
		ret = load_interior(s);
		if (!s->pair) {		/* this thread does it all */
			if (!ret)
				ret = visit(s, s->top, 0);
			if (ret || s->f->nomem)
				keep_msg(s);
			s->ret = ret;
			return;
		}
		pthread_mutex_lock(&s->mu);
		s->interior_ready = true;
		if (ret) {
			s->load_err = ret;
			keep_msg(s);
		}
		pthread_cond_broadcast(&s->cv);
		pthread_mutex_unlock(&s->mu);
		if (!ret)
			load_leaves(s);
		return;
	}
	if (!s->pair)
		return;
	pthread_mutex_lock(&s->mu);
	while (!s->interior_ready)
		pthread_cond_wait(&s->cv, &s->mu);
	ret = s->load_err;
	pthread_mutex_unlock(&s->mu);
	if (!ret) {
		ret = visit(s, s->top, 0);
		pthread_mutex_lock(&s->mu);
		if ((ret && ret != s->load_err) || s->f->nomem)
			keep_msg(s);	/* else the reader's is kept */
		pthread_mutex_unlock(&s->mu);
	}
	pthread_mutex_lock(&s->mu);
	s->stop = true;
	s->ret = ret;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

/*
 * The walk from root p: the interior levels read and checked a level at
 * a time, then the pre-order visit with the leaves read a window ahead
 * on the reader's thread; the callbacks and the problems come in
 * pre-order on one thread, as one node at a time would give them.
 */
static int walk_tree(struct jrx_fsck *f, struct fsck_walk *w,
		     const struct fsck_ptr *p)
{
	struct walk s = { .f = f, .w = w, .top = p->level,
			  .pass = (unsigned)f->out.pass };
	int ret;

	if (!f->rd && (ret = fsck_reader_open(f)))
		return ret;
	s.window = fsck_reader_window(f->rd);
	s.lv = calloc((size_t)s.top + 1, sizeof(*s.lv));
	if (!s.lv)
		return jrx_fail(-ENOMEM, "allocating the fsck walk's levels");
	ret = JRX_VEC_RESERVE(s.lv[s.top].v, s.lv[s.top].nr, s.lv[s.top].cap, 1,
			      "fsck walk level");
	if (!ret) {
		s.lv[s.top].v[s.lv[s.top].nr++] = (struct fsck_wnode){ .p = *p };
		pthread_mutex_init(&s.mu, NULL);
		pthread_cond_init(&s.cv, NULL);
		fsck_reader_run(f->rd, walk_phase, &s, &s.pair);
		pthread_cond_destroy(&s.cv);
		pthread_mutex_destroy(&s.mu);
		ret = s.ret;
		if (ret || f->nomem)	/* the context, on this thread */
			jrx_fail(ret ? ret : -ENOMEM, "%s", s.msg);
	}
	for (unsigned L = 0; L <= s.top; L++) {
		for (size_t i = 0; i < s.lv[L].nr; i++)
			fsck_reader_release(f->rd, &s.lv[L].v[i]);
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
