/*
 * replay_stream.c - a leaf whose journal keys do not fit in a replay
 * window (replay.h, jrx_replay_stream_*): replayed from sources the
 * caller can walk again, holding one node's keys a thread at a time.
 *
 * The layout rule (btree/layout.h) needs the leaf's final key bytes and
 * count before the first cut, so the first walk (the caller's) merges
 * the source with the leaf's own keys and only counts, saying where it
 * stood when asked (jrx_replay_stream_at); the second walks the same
 * keys again in parts, one a thread (a pool of up to the session's
 * workers), each from such a point, and writes the pieces that start in
 * its part as soon as their keys are gathered.  The pieces are those the
 * parallel replay's slices would cut (replay_par.c, unit_phase2), so the
 * result is the reference's.  Threads: the parts share only the leaf's
 * keys (read) and the store's allocator (under its lock); each has its
 * own write queue and pieces.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "replay.h"
#include "replay_int.h"
#include "replay_sess.h"
#include "piece_drops.h"
#include "jrx/errors.h"
#include "../btree/layout.h"
#include "../io/wq.h"
#include "../util/clock.h"
#include "../util/pool.h"
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

static int walk_start(struct walk *w, const struct jrx_bnode *n, size_t i,
		      const struct jrx_replay_source *src)
{
	int ret;

	w->n = n;
	w->i = i;
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
	uint32_t last_bytes;		/* the last final key counted: bytes */
	struct jrx_bpos last;		/* and position */
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
		h->last_bytes = h->n->keys[h->i]->u64s * 8u;
		h->last = h->n->keys[h->i]->p;
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
		h->last_bytes = k->u64s * 8u;
		h->last = k->p;
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
 * a write queue on the walking thread, as a window's workers write theirs
 * (no page-cache copy, and the commit's sync has nothing left to flush).
 * A written piece the replay keeps only as a pointer drops its keys and
 * image once its write has landed (piece_drops.h).
 */

/* One walk over a part of the leaf's keys (one source), on one thread:
 * the pieces whose first key lies in its part. */
struct part {
	struct jrx_replay_stream *h;
	const struct jrx_replay_source *src;
	uint64_t until;			/* pieces starting at or past these
					   bytes are the next part's */
	size_t	 kp;			/* pieces in all */
	bool	 last;			/* the leaf's end is this part's */
	struct jrx_wq *q;		/* NULL: synchronous writes */
	struct jrx_bnode **pieces;
	size_t	 np, cap;
	bool	 drop;			/* pieces keep only their pointer */
	struct jrx_drops drops;		/* those waiting for their writes */
	uint64_t end_before;		/* final key bytes when it stopped */
	int	 ret;
	char	 msg[256];		/* jrx_diag() of its error */
};

/* Every write landed, the pieces waiting for that dropped; the queue's
 * error. */
static int part_drain(struct part *pt)
{
	int ret = jrx_drops_drain(&pt->drops, pt->q);

	jrx_drops_free(&pt->drops);
	return ret;
}

/* Write the gathered piece pc (its keys linked) as m says. */
static int part_write(struct part *pt, struct piece *pc,
		      const struct jrx_node_meta *m)
{
	struct jrx_fs *fs = pt->h->s->fs;
	struct jrx_bnode *out;
	int ret;

	ret = JRX_VEC_RESERVE(pt->pieces, pt->np, pt->cap, 1,
			      "streamed leaf pieces");
	if (!ret)
		ret = jrx_fs_write_piece(fs, m, pc->keys, pc->nr, pt->q, &out);
	if (ret)
		return ret;
	pt->pieces[pt->np++] = out;
	if (pt->drop)
		ret = jrx_drops_add(&pt->drops, pt->q, out);
	pc->used = pc->nr = 0;
	return ret;
}

/*
 * Walk the part: from where its source starts (at), skip to the first
 * key that starts a piece, then gather and write each piece; stop at the
 * first piece that starts at or past `until` (the next part writes it),
 * or at the leaf's end.
 */
static int part_walk(struct part *pt)
{
	struct jrx_replay_stream *h = pt->h;
	const struct jrx_replay_at *at = &pt->src->at;
	const struct jrx_bkey *ptr = (const struct jrx_bkey *)h->l->ptr, *k;
	const struct jrx_btree_ptr_val *pv = jrx_bkey_val(ptr);
	struct jrx_node_meta m = { .btree_id = h->l->btree_id, .level = 0,
				   .min = pv->min_key, .max = ptr->p };
	uint64_t before = at->before;
	struct jrx_bpos prev = at->prev;
	/* the first part owns piece 0 from its first key; a later one the
	 * pieces that start in it */
	bool have_prev = at->prev_bytes != 0, own = !have_prev;
	size_t j = 0;
	struct piece pc = { 0 };
	struct walk w;
	bool end = false;
	int ret;

	/* the piece of the key before the part: a key in another starts one */
	if (have_prev)
		j = jrx_layout_piece_of(before - at->prev_bytes, h->total, pt->kp);
	ret = walk_start(&w, h->n, at->leaf_i, pt->src);
	for (;;) {
		bool starts;
		size_t kj = 0;

		if (!ret)
			ret = walk_next(&w, &k);
		if (ret < 0)
			goto out;
		end = !ret;
		ret = 0;
		if (!end)
			kj = jrx_layout_piece_of(before, h->total, pt->kp);
		starts = end || kj != j;
		if (starts) {
			/* k starts piece kj (or there is none): the piece
			 * gathered so far is whole */
			if (own && (pc.nr || (end && !pt->np))) {
				piece_link(&pc);
				m.max = end ? ptr->p : pc.keys[pc.nr - 1]->p;
				if ((ret = part_write(pt, &pc, &m)))
					goto out;
			}
			if (end || before >= pt->until)
				break;
			own = true;
			j = kj;
			m.min = have_prev ? jrx_bpos_successor(prev) : pv->min_key;
		}
		if (own && (ret = piece_add(&pc, k)))
			goto out;
		before += k->u64s * 8u;
		prev = k->p;
		have_prev = true;
	}
	if (end && !pt->last)
		ret = jrx_fail(-JRX_ERR_KEY_INVALID, "streamed replay: a part of"
			       " the leaf's keys ended early, at %llu bytes",
			       (unsigned long long)before);
out:
	pt->end_before = before;
	if (pt->src->close)
		pt->src->close(pt->src->ctx);
	free(pc.buf);
	free(pc.keys);
	return ret;
}

/* A part on the thread that runs it: its own write queue. */
static void part_run(struct part *pt)
{
	struct jrx_replay_session *s = pt->h->s;
	int ret;

	pt->drops.batch = s->o.images;
	if (s->o.write_depth && !s->fs->nowrite &&
	    jrx_wq_open(&pt->q, s->o.write_depth, s->o.write_io)) {
		pt->q = NULL;	/* refused: one write at a time */
		jrx_diag_clear();
	}
	ret = part_walk(pt);
	/* every piece on the device (the kernel done with the images)
	 * before anything frees or installs them */
	ret = ret ? (part_drain(pt), ret) : part_drain(pt);
	jrx_wq_close(pt->q);
	pt->q = NULL;
	pt->ret = ret;
	if (ret)
		snprintf(pt->msg, sizeof(pt->msg), "%s", jrx_diag());
}

struct parts {
	struct part *pt;
	size_t n;
};

static void part_phase(void *arg, unsigned id)
{
	struct parts *ps = arg;

	if (id < ps->n)
		part_run(&ps->pt[id]);
}

size_t jrx_replay_stream_parts(const struct jrx_replay_source *src,
			       size_t nsrc, uint64_t total, size_t kp,
			       size_t nw, size_t *pick)
{
	/* piece kp - 1 starts at the first key past this many bytes */
	uint64_t last_start = kp > 1 ? jrx_layout_end(total, kp, kp - 2) : 0;
	size_t n = nsrc < nw ? nsrc : nw, got = 0;

	if (!nsrc)
		return 0;
	if (kp < 4 * n)
		n = 1;
	pick[got++] = 0;
	for (size_t t = 1, i = 1; t < n; t++, i++) {
		uint64_t share = total / n * t;

		while (i < nsrc && src[i].at.before < share)
			i++;
		if (i == nsrc || src[i].at.before > last_start)
			break;
		pick[got++] = i;
	}
	return got;
}

void jrx_replay_stream_at(const struct jrx_replay_stream *h,
			  struct jrx_replay_at *at)
{
	*at = (struct jrx_replay_at){
		.leaf_i = h->i, .before = h->total,
		.prev_bytes = h->last_bytes, .prev = h->last,
	};
}

int jrx_replay_stream_end(struct jrx_replay_stream *h,
			  const struct jrx_replay_source *src, size_t nsrc)
{
	struct jrx_replay_session *s = h->s;
	struct jrx_fs *fs = s->fs;
	bool keep = fs->nowrite, parallel = false;
	struct jrx_rleaf *l = h->l;
	const struct jrx_bkey *ptr = (const struct jrx_bkey *)l->ptr;
	const struct jrx_btree_ptr_val *pv = jrx_bkey_val(ptr);
	struct parts ps = { 0 };
	struct jrx_bnode **pieces = NULL;
	size_t np = 0, kp, nsrc_used, *pick = NULL;
	double t = jrx_now();
	int ret = 0;

	count_leaf_below(h, NULL);	/* the leaf's keys past the last */
	kp = jrx_layout_pieces(h->total, h->nr, fs->node_size);
	/* parts: in order, each starting past the one before; one is enough
	 * for a leaf of few pieces */
	if (!nsrc || src[0].at.before || src[0].at.leaf_i)
		ret = jrx_fail(-EINVAL, "streamed replay: the first part does"
			       " not start at the leaf's first key");
	for (size_t i = 1; !ret && i < nsrc; i++)
		if (src[i].at.before <= src[i - 1].at.before)
			ret = jrx_fail(-EINVAL, "streamed replay: part %zu does"
				       " not start past part %zu", i, i - 1);
	if (ret)
		goto out;
	nsrc_used = nsrc < s->nw ? nsrc : s->nw;
	ps.pt = calloc(nsrc_used, sizeof(*ps.pt));
	pick = calloc(nsrc_used, sizeof(*pick));
	if (!ps.pt || !pick) {
		ret = jrx_fail(-ENOMEM, "allocating %zu parts of a streamed leaf",
			       nsrc_used);
		goto out;
	}
	nsrc_used = jrx_replay_stream_parts(src, nsrc, h->total, kp, s->nw,
					    pick);
	for (size_t t = 0; t < nsrc_used; t++)
		ps.pt[ps.n++] = (struct part){
			.h = h, .src = &src[pick[t]], .kp = kp,
			.drop = !keep && !l->was_root,
		};
	for (size_t t = 0; t < ps.n; t++) {
		ps.pt[t].last = t + 1 == ps.n;
		ps.pt[t].until = t + 1 < ps.n ? ps.pt[t + 1].src->at.before :
			UINT64_MAX;
	}
	nsrc = ps.n;
	/* the direct descriptors, unless a caller's section is open */
	if (!fs->direct) {
		ret = jrx_fs_parallel_begin(fs);
		if (ret)
			goto out;
		parallel = true;
	}
	if (nsrc == 1) {
		part_run(&ps.pt[0]);
	} else {
		struct jrx_pool *pool;

		ret = jrx_pool_start(&pool, &(struct jrx_pool_opts){
			.workers = (unsigned)nsrc, .name = "streamed leaf" });
		if (!ret) {
			jrx_pool_run(pool, part_phase, &ps);
			jrx_pool_stop(pool);
		}
	}
	if (parallel)
		jrx_fs_parallel_end(fs);
	for (size_t i = 0; !ret && i < nsrc; i++)
		if (ps.pt[i].ret)
			ret = jrx_fail(ps.pt[i].ret, "%s", ps.pt[i].msg);
	if (!ret && ps.pt[nsrc - 1].end_before != h->total)
		ret = jrx_fail(-JRX_ERR_KEY_INVALID, "streamed replay: the leaf's"
			       " keys came to %llu bytes, counted %llu",
			       (unsigned long long)ps.pt[nsrc - 1].end_before,
			       (unsigned long long)h->total);
	for (size_t i = 0; !ret && i < nsrc; i++)
		np += ps.pt[i].np;
	if (!ret && !(pieces = malloc(np * sizeof(*pieces))))
		ret = jrx_fail(-ENOMEM, "allocating the list of %zu pieces", np);
	if (ret)
		goto out;
	np = 0;
	for (size_t i = 0; i < nsrc; i++) {
		memcpy(pieces + np, ps.pt[i].pieces,
		       ps.pt[i].np * sizeof(*pieces));
		np += ps.pt[i].np;
		ps.pt[i].np = 0;
	}
	ret = jrx_fs_free_node_loc(fs, pv->dev, pv->sector);
	if (ret)
		goto out;
	s->st->pieces += np;
	s->st->leaf_keys += h->nr;
	s->st->leaves++;
	s->st->streamed_leaves++;
	s->st->streamed_parts += nsrc;
	ret = jrx_fs_install_pieces(fs, l->btree_id, 0, l->cached, l->was_root,
				    pieces, np, keep);
	pieces = NULL;		/* the install took them */
	np = 0;
out:
	for (size_t i = 0; i < np; i++)
		jrx_bnode_free(pieces[i]);
	free(pieces);
	for (size_t i = 0; ps.pt && i < ps.n; i++) {
		for (size_t j = 0; j < ps.pt[i].np; j++)
			jrx_bnode_free(ps.pt[i].pieces[j]);
		free(ps.pt[i].pieces);
	}
	free(ps.pt);
	free(pick);
	s->st->leaves_seconds += h->seconds + jrx_now() - t;
	jrx_replay_stream_abort(h);
	if (ret)
		fs->dead = true;
	return ret;
}
