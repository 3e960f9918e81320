/*
 * replay_stream.c - a leaf whose journal keys do not fit in a replay
 * window (replay.h, jrx_replay_stream_leaf): replayed on the calling
 * thread from a source the caller can walk twice, holding one node's
 * keys at a time.
 *
 * The layout rule (btree/layout.h) needs the leaf's final key bytes and
 * count before the first cut, so the first walk merges the source with
 * the leaf's own keys and only counts; the second walks the same merge
 * again and writes each piece as soon as its keys are gathered.  The
 * pieces are those the parallel replay's slices would cut
 * (replay_par.c, unit_phase2), so the result is the reference's.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "replay.h"
#include "replay_int.h"
#include "replay_sess.h"
#include "jrx/errors.h"
#include "../btree/layout.h"
#include "../io/wq.h"
#include "../util/clock.h"
#include "../util/diag.h"
#include "../util/vec.h"

/* The merge of a leaf's keys with a source: journal keys replace the
 * leaf's at their position, whiteouts delete. */
struct walk {
	const struct jrx_bnode *n;
	size_t i;			/* next leaf key */
	const struct jrx_replay_source *src;
	const struct jrx_bkey *jk;	/* next source key, NULL: none left */
	uint64_t cur[JRX_KEY_MAX_U64S];	/* the source key handed out (the
					   source's is gone once it moves on) */
};

static int walk_start(struct walk *w, const struct jrx_bnode *n,
		      const struct jrx_replay_source *src)
{
	int ret;

	w->n = n;
	w->i = 0;
	w->src = src;
	ret = src->rewind(src->ctx);
	if (!ret)
		ret = src->next(src->ctx, &w->jk);
	return ret < 0 ? ret : 0;
}

/* The next final key: 1 and *k, 0 at the end, or an error. */
static int walk_next(struct walk *w, const struct jrx_bkey **k)
{
	for (;;) {
		const struct jrx_bkey *lk = w->i < w->n->nr ? w->n->keys[w->i] : NULL;
		int c, ret;

		if (!lk && !w->jk)
			return 0;
		c = !lk ? 1 : !w->jk ? -1 : jrx_bpos_cmp(lk->p, w->jk->p);
		if (c < 0) {
			w->i++;
			*k = lk;
			return 1;
		}
		if (!c)
			w->i++;
		memcpy(w->cur, w->jk, w->jk->u64s * 8u);
		*k = (const struct jrx_bkey *)w->cur;
		ret = w->src->next(w->src->ctx, &w->jk);
		if (ret < 0)
			return ret;
		if ((*k)->type == JRX_KEY_WHITEOUT)
			continue;
		return 1;
	}
}

/* One piece: its keys copied (the source may move them), then written. */
struct piece {
	uint64_t *buf;			/* key copies */
	size_t	  used, cap;		/* u64 words */
	const struct jrx_bkey **keys;
	size_t	  nr, cap_k;
};

static int piece_add(struct piece *p, const struct jrx_bkey *k)
{
	int ret = JRX_VEC_RESERVE(p->buf, p->used, p->cap, k->u64s,
				  "streamed leaf piece");

	if (!ret)
		ret = JRX_VEC_RESERVE(p->keys, p->nr, p->cap_k, 1,
				      "streamed leaf piece keys");
	if (ret)
		return ret;
	memcpy(p->buf + p->used, k, k->u64s * 8u);
	p->used += k->u64s;
	p->nr++;
	return 0;
}

/* Point the keys at their copies (the buffer may have moved). */
static void piece_link(struct piece *p)
{
	const uint64_t *q = p->buf;

	for (size_t i = 0; i < p->nr; i++) {
		p->keys[i] = (const struct jrx_bkey *)q;
		q += p->keys[i]->u64s;
	}
}

/* A leaf being streamed: routed and read at begin, counted as the
 * caller gathers its keys, written at end. */
struct jrx_replay_stream {
	struct jrx_replay_session *s;
	struct jrx_rplan plan;		/* one leaf */
	struct jrx_rleaf *l;
	struct jrx_bnode *n;		/* its keys (cached or read) */
	size_t	 i;			/* count: next leaf key */
	uint64_t total;			/* final key bytes */
	size_t	 nr;			/* final keys */
	double	 seconds;
};

int jrx_replay_stream_begin(struct jrx_replay_session *s,
			    const struct jrx_jkey *first,
			    struct jrx_replay_stream **hp, struct jrx_bpos *max)
{
	struct jrx_replay_stream *h = calloc(1, sizeof(*h));
	double t = jrx_now();
	int ret;

	*hp = NULL;
	if (!h)
		return jrx_fail(-ENOMEM, "allocating a streamed leaf");
	h->s = s;
	/* the leaf: routed like any key */
	ret = jrx_replay_plan(s->fs, first, 0, 1, 1, 1, 0, false, &h->plan);
	if (!ret && h->plan.nr_leaves != 1)
		ret = jrx_fail(-JRX_ERR_KEY_INVALID, "streamed replay: key of"
			       " btree %u level %u routes to no leaf",
			       first->btree_id, first->level);
	if (!ret) {
		h->l = &h->plan.leaf[0];
		h->n = h->l->cached;
		*max = ((const struct jrx_bkey *)h->l->ptr)->p;
	}
	if (!ret && !h->n) {
		ret = jrx_fs_read_node(s->fs, h->l->btree_id, 0,
				       (const struct jrx_bkey *)h->l->ptr, &h->n);
		s->st->leaves_read += !ret;
	}
	h->seconds = jrx_now() - t;
	if (ret) {
		jrx_replay_stream_abort(h);
		return ret;
	}
	*hp = h;
	return 0;
}

/* The leaf's keys up to (not at) p, counted as final keys. */
static void count_leaf_below(struct jrx_replay_stream *h, const struct jrx_bpos *p)
{
	while (h->i < h->n->nr &&
	       (!p || jrx_bpos_cmp(h->n->keys[h->i]->p, *p) < 0)) {
		h->total += h->n->keys[h->i]->u64s * 8u;
		h->nr++;
		h->i++;
	}
}

void jrx_replay_stream_count(struct jrx_replay_stream *h,
			     const struct jrx_bkey *k)
{
	count_leaf_below(h, &k->p);
	if (h->i < h->n->nr && jrx_bpos_eq(h->n->keys[h->i]->p, k->p))
		h->i++;			/* replaced or deleted */
	if (k->type != JRX_KEY_WHITEOUT) {
		h->total += k->u64s * 8u;
		h->nr++;
	}
}

void jrx_replay_stream_abort(struct jrx_replay_stream *h)
{
	if (!h)
		return;
	if (h->n && (!h->l || h->n != h->l->cached))
		jrx_bnode_free(h->n);
	jrx_replay_plan_free(&h->plan);
	free(h);
}

/*
 * Where the pieces go: the direct descriptors of a parallel section, and
 * a write queue on this thread, as a window's workers write theirs (no
 * page-cache copy, and the commit's sync has nothing left to flush).  A
 * written piece the replay keeps only as a pointer drops its keys and
 * image once its write has landed: after every DROP_BATCH pieces, the
 * queue is drained and those pieces dropped.
 */
#define DROP_BATCH 64

struct sink {
	struct jrx_fs *fs;
	struct jrx_wq *q;		/* NULL: synchronous writes */
	bool	 parallel;		/* jrx_fs_parallel_begin() done */
	bool	 drop;			/* pieces keep only their pointer */
	size_t	 dropped;		/* pieces[0, dropped) dropped */
};

static int sink_open(struct sink *k, struct jrx_replay_session *s)
{
	int ret;

	*k = (struct sink){ .fs = s->fs };
	if (!s->fs->direct) {	/* else a caller's section is open: its */
		ret = jrx_fs_parallel_begin(s->fs);
		if (ret)
			return ret;
		k->parallel = true;
	}
	if (s->o.write_depth && !s->fs->nowrite &&
	    jrx_wq_open(&k->q, s->o.write_depth)) {
		k->q = NULL;	/* io_uring refused: one write at a time */
		jrx_diag_clear();
	}
	return 0;
}

/* Every write landed, pieces[dropped, np) dropped; the queue's error. */
static int sink_drain(struct sink *k, struct jrx_bnode **pieces, size_t np)
{
	int ret = k->q ? jrx_wq_drain(k->q) : 0;

	for (; k->drop && k->dropped < np; k->dropped++)
		jrx_replay_piece_drop_keys(pieces[k->dropped]);
	k->dropped = np;
	return ret;
}

static int sink_close(struct sink *k, struct jrx_bnode **pieces, size_t np,
		      int ret)
{
	int err = sink_drain(k, pieces, np);

	jrx_wq_close(k->q);
	if (k->parallel)
		jrx_fs_parallel_end(k->fs);
	k->q = NULL;
	k->parallel = false;
	return ret ? ret : err;
}

int jrx_replay_stream_end(struct jrx_replay_stream *h,
			  const struct jrx_replay_source *src)
{
	struct jrx_replay_session *s = h->s;
	struct jrx_fs *fs = s->fs;
	bool keep = fs->nowrite;
	struct jrx_rleaf *l = h->l;
	const struct jrx_bkey *ptr = (const struct jrx_bkey *)l->ptr, *k;
	const struct jrx_btree_ptr_val *pv = jrx_bkey_val(ptr);
	struct jrx_bnode **pieces = NULL;
	size_t np = 0, cap_p = 0, kp, j = 0;
	uint64_t before = 0;
	struct piece pc = { 0 };
	struct jrx_node_meta m = { .btree_id = l->btree_id, .level = 0,
				   .min = pv->min_key, .max = ptr->p };
	struct walk w;
	struct sink snk;
	double t = jrx_now();
	int ret;

	count_leaf_below(h, NULL);	/* the leaf's keys past the last */
	kp = jrx_layout_pieces(h->total, h->nr, fs->node_size);

	/* one walk: each piece written once its keys are gathered */
	ret = sink_open(&snk, s);
	if (ret)
		goto out_free;
	snk.drop = !keep && !l->was_root;
	ret = walk_start(&w, h->n, src);
	for (;;) {
		bool end;
		struct jrx_bnode *out;

		if (!ret)
			ret = walk_next(&w, &k);
		if (ret < 0)
			goto out;
		end = !ret;
		ret = 0;
		if (!end && jrx_layout_piece_of(before, h->total, kp) == j) {
			ret = piece_add(&pc, k);
			before += k->u64s * 8u;
			if (!ret)
				continue;
			goto out;
		}
		/* k starts piece j + 1 (or there is none): write piece j */
		if (pc.nr || (end && !np)) {
			piece_link(&pc);
			m.max = end ? ptr->p : pc.keys[pc.nr - 1]->p;
			ret = JRX_VEC_RESERVE(pieces, np, cap_p, 1,
					      "streamed leaf pieces");
			if (!ret)
				ret = jrx_fs_write_piece(fs, &m, pc.keys, pc.nr,
							 snk.q, &out);
			if (ret)
				goto out;
			pieces[np++] = out;
			if (np - snk.dropped >= DROP_BATCH &&
			    (ret = sink_drain(&snk, pieces, np)))
				goto out;
			if (pc.nr)
				m.min = jrx_bpos_successor(pc.keys[pc.nr - 1]->p);
			pc.used = pc.nr = 0;
		}
		if (end)
			break;
		j = jrx_layout_piece_of(before, h->total, kp);
		ret = piece_add(&pc, k);
		before += k->u64s * 8u;
		if (ret)
			goto out;
	}
	if (before != h->total)
		ret = jrx_fail(-JRX_ERR_KEY_INVALID, "streamed replay: the leaf's"
			       " keys came to %llu bytes, counted %llu",
			       (unsigned long long)before,
			       (unsigned long long)h->total);
	/* every piece on the device before the tree points at it */
	ret = sink_close(&snk, pieces, np, ret);
	if (!ret)
		ret = jrx_fs_free_node_loc(fs, pv->dev, pv->sector);
	if (ret)
		goto out_free;
	s->st->pieces += np;
	s->st->leaf_keys += h->nr;
	s->st->leaves++;
	s->st->streamed_leaves++;
	ret = jrx_fs_install_pieces(fs, l->btree_id, 0, l->cached, l->was_root,
				    pieces, np, keep);
	pieces = NULL;		/* the install took them */
	np = 0;
out:
	/* the kernel may still read the images of queued pieces */
	ret = sink_close(&snk, pieces, np, ret);
out_free:
	for (size_t i = 0; i < np; i++)
		jrx_bnode_free(pieces[i]);
	free(pieces);
	free(pc.buf);
	free(pc.keys);
	s->st->leaves_seconds += h->seconds + jrx_now() - t;
	jrx_replay_stream_abort(h);
	if (ret)
		fs->dead = true;
	return ret;
}
