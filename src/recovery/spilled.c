/*
 * spilled.c - the accelerated recovery of a journal bigger than its
 * memory limit (spilled.h): the sink that turns each batch of jsets into
 * a sorted run, and the merge of the runs into the replay's windows.
 */
#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "spilled.h"
#include "jrx/errors.h"
#include "../replay/replay.h"
#include "../util/clock.h"
#include "../util/diag.h"
#include "../util/memory.h"
#include "../util/vec.h"

/* A writer's buffer: big enough to stream, small beside a batch. */
#define WRITE_BUF_MAX	(4u << 20)

/* ---------------------------------------------------------------- sink */

static int cmp_seq(const void *x, const void *y)
{
	const struct jrx_jindex_ent *a = x, *b = y;

	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/*
 * The sink is a pipeline of two stages (jscan.h): sink_take sorts batch k
 * while sink_write spills batch k - 1 as a run, so the sort of one batch
 * and the disk's writing of the one before overlap.
 *
 * sink_take: a batch of jsets, one per seq (replicas in one batch
 * collapse; a seq an earlier batch spilled is left out when the run is
 * written), the seqs an earlier session already committed left out,
 * sorted with every key kept into x->pend[slot].  Which seqs are replayed
 * is decided at the merge, when the index is whole.
 */
static int sink_take(void *ctx, unsigned slot,
		     const struct jrx_jset_info *const *v, size_t n)
{
	struct jrx_spilled *x = ctx;
	struct jrx_spilled_batch *p = &x->pend[slot];
	struct jrx_sort_opts so = { .threads = x->threads, .keep_all = true };
	size_t m = 0;
	double t;
	int ret;

	if (!x->tuned) {
		/*
		 * From here on memory is tight: glibc's mmap threshold would
		 * rise with every big block freed, until the batches, windows
		 * and node images come from a heap that is never given back;
		 * a fixed threshold returns each big block when it is freed.
		 * The replay workers' node images (mimalloc heaps, blob.h)
		 * go back 1 ms after they are freed, not 25: at 25 ms 4-5 MB
		 * of freed images were still resident in a 28 MiB recovery.
		 * Nor are they in huge pages any more, which mimalloc never
		 * decommits (jrx_mem_tight).
		 */
		(void)mallopt(M_MMAP_THRESHOLD, 256 << 10);
		(void)mallopt(M_TRIM_THRESHOLD, 1 << 20);
		if (x->pages)
			jrx_mem_tight(x->pages);
		x->tuned = true;
	}
	p->ix = (struct jrx_jindex){ 0 };
	p->ix.v = malloc(n * sizeof(*p->ix.v));
	if (!p->ix.v)
		return jrx_fail(-ENOMEM, "allocating the index of a batch of %zu"
				" jsets", n);
	for (size_t i = 0; i < n; i++)
		if (v[i]->seq > x->a->sb.journal_seq)
			p->ix.v[m++] = (struct jrx_jindex_ent){
				.seq = v[i]->seq, .j = v[i]->j, .dev = v[i]->dev,
				.offset = v[i]->offset, .copies = 1,
			};
	qsort(p->ix.v, m, sizeof(*p->ix.v), cmp_seq);
	for (size_t i = 0; i < m; i++)
		if (!p->ix.nr || p->ix.v[p->ix.nr - 1].seq != p->ix.v[i].seq)
			p->ix.v[p->ix.nr++] = p->ix.v[i];
	t = jrx_now();
	ret = p->ix.nr ? jrx_sort_journal(&p->ix, &so, &p->res, NULL) : 0;
	x->sort_seconds += jrx_now() - t;
	return ret;
}

static void batch_free(struct jrx_spilled_batch *p)
{
	jrx_sort_result_free(&p->res);
	free(p->ix.v);
	*p = (struct jrx_spilled_batch){ 0 };
}

/* sink_write: the batch sink_take sorted into x->pend[slot], one run. */
static int sink_write(void *ctx, unsigned slot)
{
	struct jrx_spilled *x = ctx;
	struct jrx_spilled_batch *p = &x->pend[slot];
	size_t wbuf;
	int ret = 0;

	if (!x->open) {
		/* the writer's buffers: a 24th of the arena in all */
		wbuf = x->b->batch_bytes / (24 * JRX_SPILL_WBUFS);
		if (wbuf > WRITE_BUF_MAX)
			wbuf = WRITE_BUF_MAX;
		ret = jrx_spill_open(&x->sp, x->scratch, wbuf);
		x->open = !ret;
	}
	if (!ret && p->res.nr) {
		ret = jrx_spill_write_run(&x->sp, &p->ix, &p->res);
		x->keys = x->sp.st.keys;
	}
	batch_free(p);
	return ret;
}

/* A bisect gave up: the full scan that follows sinks everything again. */
static void sink_reset(void *ctx)
{
	struct jrx_spilled *x = ctx;

	if (x->open)
		jrx_spill_close(&x->sp);
	x->open = false;
	x->keys = 0;
	x->sort_seconds = 0;
	batch_free(&x->pend[0]);
	batch_free(&x->pend[1]);
}

/* The journal read's progress: buckets read and sunk of those to read. */
static void sink_progress(void *ctx, uint64_t done, uint64_t total)
{
	struct jrx_spilled *x = ctx;

	if (x->r)
		jrx_progress(x->r, JRX_PHASE_JOURNAL_READ, done, total);
}

void jrx_spilled_sink(struct jrx_spilled *x, struct jrx_jscan_sink *sink)
{
	*sink = (struct jrx_jscan_sink){
		.threshold = x->b->journal_in_memory,
		.batch_bytes = x->b->batch_bytes,
		.fn = sink_take, .fn2 = sink_write, .reset = sink_reset,
		.progress = sink_progress,
		.ctx = x,
	};
}

void jrx_spilled_free(struct jrx_spilled *x)
{
	if (x->open)
		jrx_spill_close(&x->sp);
	x->open = false;
	batch_free(&x->pend[0]);
	batch_free(&x->pend[1]);
}

/* ---------------------------------------------------------------- keys */

/* Records in a byte buffer and the journal keys that point into it. */
struct window {
	char	*buf;
	size_t	 used, cap;
	struct jrx_jkey *k;
	size_t	 nr, cap_k;
};

static int win_push(struct window *w, const struct jrx_spill_rec *r, bool grow)
{
	size_t len = jrx_spill_rec_bytes(r);
	int ret;

	if (w->used + len > w->cap) {
		if (!grow)
			return 1;
		ret = jrx_vec_reserve((void **)&w->buf, &w->cap, w->used, len, 1,
				      1 << 16, "spilled interior, alloc and"
				      " accounting keys");
		if (ret)
			return ret;
	}
	ret = JRX_VEC_RESERVE(w->k, w->nr, w->cap_k, 1, "replay window keys");
	if (ret)
		return ret;
	memcpy(w->buf + w->used, r, len);
	w->k[w->nr++] = (struct jrx_jkey){ .level = r->level,
					   .btree_id = r->btree_id };
	w->used += len;
	return 0;
}

/* Point the keys at their records (after the buffer moved or shifted). */
static void win_link(struct window *w)
{
	const char *p = w->buf;

	for (size_t i = 0; i < w->nr; i++) {
		const struct jrx_spill_rec *r = (const void *)p;

		w->k[i].k = jrx_spill_key(r);
		p += jrx_spill_rec_bytes(r);
	}
}

static void win_free(struct window *w)
{
	free(w->buf);
	free(w->k);
	memset(w, 0, sizeof(*w));
}

/* Every record of section s into w (which grows), counted in r. */
static int take_section(struct jrx_spill *sp, enum jrx_spill_section s,
			const struct jrx_spill_filter *f, struct window *w,
			struct jrx_report *r)
{
	struct jrx_spill_merge *m;
	const struct jrx_spill_rec *rec;
	int ret;

	ret = jrx_spill_merge_open(&m, sp, s, f);
	while (!ret && (ret = jrx_spill_merge_next(m, &rec)) > 0) {
		if (rec->level)
			r->keys_interior++;
		else if (rec->btree_id == JRX_BTREE_ALLOC)
			r->keys_alloc++;
		else if (rec->btree_id == JRX_BTREE_ACCOUNTING)
			r->keys_accounting++;
		ret = win_push(w, rec, true);
	}
	jrx_spill_merge_close(m);
	return ret;
}

/* ---------------------------------------------------------------- replay */

/* Where the merge stands between windows. */
struct stream {
	struct jrx_spill_merge *m;
	uint64_t *pend;			/* a record taken but not yet placed */
	bool	 have, end;
};

/* The next merged record into s->pend (s->have), or s->end. */
static int stream_pull(struct stream *s)
{
	const struct jrx_spill_rec *rec;
	int ret;

	if (s->have || s->end)
		return 0;
	ret = jrx_spill_merge_next(s->m, &rec);
	if (ret < 0)
		return ret;
	if (!ret) {
		s->end = true;
		return 0;
	}
	memcpy(s->pend, rec, jrx_spill_rec_bytes(rec));
	s->have = true;
	return 0;
}

/* Is r one of the leaf's keys (level 0, its btree, up to its end)? */
static bool in_leaf(const struct jrx_spill_rec *r, unsigned btree_id,
		    struct jrx_bpos max)
{
	return !r->level && r->btree_id == btree_id &&
		jrx_bpos_cmp(jrx_spill_key(r)->p, max) <= 0;
}

/*
 * A part of a leaf's keys walked a second time (replay.h's source): for
 * the first part the window's keys, then the record taken after them;
 * for a later one the record at hand when its mark was taken; then a
 * merge opened at the mark (on the thread that walks the part), up to
 * the leaf's end.
 */
struct leaf_source {
	const struct window *w;		/* the first part's, else NULL */
	size_t	 i;
	uint64_t *pend;			/* the record at the mark, or NULL */
	bool	 pend_used, started;
	struct jrx_spill *sp;
	struct jrx_spill_mark mark;	/* where the merge stood after pend */
	size_t	 read_bytes;
	struct jrx_spill_merge *m;	/* opened at the mark by rewind */
	unsigned btree_id;
	struct jrx_bpos max;
	struct jrx_replay_at at;	/* where the part starts in the walk */
	uint64_t bytes_read;		/* m's, once closed */
	double	 seconds;
};

static int leaf_rewind(void *ctx)
{
	struct leaf_source *ls = ctx;

	/* walked once: the records in the window may move afterwards */
	if (ls->started)
		return jrx_fail(-EINVAL, "streamed leaf: its keys walked twice");
	ls->started = true;
	return jrx_spill_merge_open_mark(&ls->m, ls->sp, &ls->mark,
					 ls->read_bytes);
}

static int leaf_next(void *ctx, const struct jrx_bkey **k)
{
	struct leaf_source *ls = ctx;
	const struct jrx_spill_rec *r;
	int ret;

	*k = NULL;
	if (ls->w && ls->i < ls->w->nr) {
		*k = ls->w->k[ls->i++].k;
		return 1;
	}
	if (!ls->pend_used) {
		ls->pend_used = true;
		r = (const void *)ls->pend;
		if (!ls->pend || !in_leaf(r, ls->btree_id, ls->max))
			return 0;
		*k = jrx_spill_key(r);
		return 1;
	}
	ret = jrx_spill_merge_next(ls->m, &r);
	if (ret <= 0 || !in_leaf(r, ls->btree_id, ls->max))
		return ret < 0 ? ret : 0;
	*k = jrx_spill_key(r);
	return 1;
}

static void leaf_close(void *ctx)
{
	struct leaf_source *ls = ctx;

	jrx_spill_merge_end(ls->m, &ls->bytes_read, &ls->seconds);
	ls->m = NULL;
}

/* A streamed leaf is marked every quarter of a window's record bytes,
 * so a leaf (more than a window) has at least four parts to share. */
#define MARK_PER_WINDOW	4u
/* A part's readers: a merge reader's area (jrx_budget_reader() shares
 * the readers' memory with the parts), at most this. */
#define PART_READ_MAX	(256u << 10)

/* The parts of a streamed leaf's second walk. */
struct leaf_parts {
	struct leaf_source *ls;
	struct jrx_replay_source *src;
	size_t	 n, cap;
};

/* A part from where the merge stands now (the record at hand: pend). */
static int add_part(struct leaf_parts *lp, struct jrx_spill *sp,
		    struct stream *st, const struct window *w,
		    const struct jrx_replay_at *at, unsigned btree_id,
		    struct jrx_bpos max)
{
	struct leaf_source *ls;
	size_t area = sp->read_bytes;	/* the budget counts the parts' */
	int ret;

	if (lp->n == lp->cap) {
		size_t nc = lp->cap ? 2 * lp->cap : 8;
		void *a = realloc(lp->ls, nc * sizeof(*lp->ls));

		if (a)
			lp->ls = a;
		a = a ? realloc(lp->src, nc * sizeof(*lp->src)) : NULL;
		if (!a)
			return jrx_fail(-ENOMEM, "allocating the parts of a"
					" streamed leaf");
		lp->src = a;
		lp->cap = nc;
	}
	if (area > PART_READ_MAX)
		area = PART_READ_MAX;
	ls = &lp->ls[lp->n];
	*ls = (struct leaf_source){
		.w = w, .sp = sp, .read_bytes = area, .btree_id = btree_id,
		.max = max, .at = *at,
	};
	if (st->have) {
		size_t len = jrx_spill_rec_bytes((const void *)st->pend);

		ls->pend = malloc(len);
		if (!ls->pend)
			return jrx_fail(-ENOMEM, "allocating a streamed leaf's"
					" record");
		memcpy(ls->pend, st->pend, len);
	}
	ret = jrx_spill_merge_mark(st->m, &ls->mark);
	if (ret) {
		free(ls->pend);
		return ret;
	}
	lp->n++;
	return 0;
}

static void parts_free(struct leaf_parts *lp, struct jrx_spill *sp)
{
	for (size_t i = 0; i < lp->n; i++) {
		struct leaf_source *ls = &lp->ls[i];

		sp->st.bytes_read += ls->bytes_read;
		sp->st.merge_seconds += ls->seconds;
		jrx_spill_mark_free(&ls->mark);
		free(ls->pend);
	}
	free(lp->ls);
	free(lp->src);
}

/*
 * The window holds keys of one leaf only and is full: the merge goes on
 * to the leaf's end while the replay counts its keys, marking where it
 * stood every quarter window of records; then the leaf is written by parts, each
 * walked again from its mark by a thread of its own.  Nothing is spilled
 * twice.
 */
static int stream_leaf(struct jrx_replay_session *rs, struct stream *st,
		       struct window *w, uint64_t *replayed,
		       struct jrx_spill *sp)
{
	struct leaf_parts lp = { 0 };
	struct jrx_replay_stream *h;
	struct jrx_replay_at at = { 0 };
	struct jrx_bpos max;
	unsigned btree_id = w->k[0].btree_id;
	uint64_t keys = w->nr, since = 0, every = w->cap / MARK_PER_WINDOW;
	int ret;

	ret = jrx_replay_stream_begin(rs, &w->k[0], &h, &max);
	if (ret)
		return ret;
	for (size_t i = 0; i < w->nr; i++)
		jrx_replay_stream_count(h, w->k[i].k);
	/* the first part: the window, then the merge as the window left it */
	ret = add_part(&lp, sp, st, w, &at, btree_id, max);
	/* count the rest of the leaf, the merge going on past it */
	while (!ret) {
		const struct jrx_spill_rec *r = (const void *)st->pend;

		ret = stream_pull(st);
		if (ret || !st->have || !in_leaf(r, btree_id, max))
			break;
		since += jrx_spill_rec_bytes(r);
		if (since >= every) {
			jrx_replay_stream_at(h, &at);
			/* parts start past each other */
			if (at.before > lp.ls[lp.n - 1].at.before) {
				since = 0;
				ret = add_part(&lp, sp, st, NULL, &at, btree_id,
					       max);
				if (ret)
					break;
			}
		}
		jrx_replay_stream_count(h, jrx_spill_key(r));
		st->have = false;
		keys++;
	}
	for (size_t i = 0; !ret && i < lp.n; i++)
		lp.src[i] = (struct jrx_replay_source){
			.rewind = leaf_rewind, .next = leaf_next,
			.close = leaf_close, .ctx = &lp.ls[i],
			.at = lp.ls[i].at,
		};
	if (ret)
		jrx_replay_stream_abort(h);
	else
		ret = jrx_replay_stream_end(h, lp.src, lp.n);
	parts_free(&lp, sp);
	w->used = w->nr = 0;
	*replayed += keys;
	return ret;
}

/*
 * The leaf keys of the ordinary btrees, merged into windows of at most
 * the budget's bytes, each replayed up to its last leaf (whose keys may
 * go on in the next window).  A leaf whose keys alone fill a window is
 * streamed (stream_leaf).
 */
static int replay_leaves(struct jrx_replay_session *rs, struct jrx_spilled *x,
			 const struct jrx_spill_filter *f, uint64_t held,
			 struct jrx_report *r)
{
	struct stream st = { 0 };
	struct window w = { 0 };
	uint64_t replayed = 0;
	size_t done;
	bool last;
	int ret = 0;

	st.pend = malloc(JRX_SPILL_MAX_REC_BYTES);
	w.cap = jrx_budget_window(x->b, held);
	w.buf = malloc(w.cap);
	if (!w.buf || !st.pend) {
		ret = jrx_fail(-ENOMEM, "allocating the replay window: %zu bytes",
			       w.cap);
		goto out;
	}
	ret = jrx_spill_merge_open(&st.m, &x->sp, JRX_SPILL_LEAVES, f);
	while (!ret) {
		/* fill the window */
		while (!(ret = stream_pull(&st)) && st.have) {
			ret = win_push(&w, (const void *)st.pend, false);
			if (ret)
				break;		/* full, or an error */
			st.have = false;
		}
		if (ret < 0)
			break;
		ret = 0;
		last = st.end && !st.have;
		if (last && !w.nr)
			break;
		win_link(&w);
		ret = jrx_replay_window(rs, w.k, w.nr, last, &done);
		r->spill_windows++;
		if (ret || last)
			break;
		if (!done) {
			/* one leaf fills the window */
			ret = stream_leaf(rs, &st, &w, &replayed, &x->sp);
		} else {
			/* the held leaf's keys start the next window */
			size_t off = (size_t)((const char *)w.k[done].k -
					      sizeof(struct jrx_spill_rec) - w.buf);

			memmove(w.buf, w.buf + off, w.used - off);
			memmove(w.k, w.k + done, (w.nr - done) * sizeof(*w.k));
			w.used -= off;
			w.nr -= done;
			replayed += done;
		}
		jrx_progress(r, JRX_PHASE_REPLAY, replayed, x->keys);
	}
out:
	r->keys_after_dedup += replayed + w.nr;
	jrx_spill_merge_close(st.m);
	win_free(&w);
	free(st.pend);
	return ret;
}

int jrx_recover_spilled(struct jrx_array *a, const struct jrx_recover_opts *o,
			struct jrx_report *r, struct jrx_fs *fs, bool *fs_open,
			struct jrx_fs *view, struct jrx_spilled *x,
			const struct jrx_jindex *ix, uint64_t max_seq)
{
	struct jrx_spill_filter f = {
		.first = ix->max_seq ? ix->last_seq : 1, .last = ix->max_seq,
		.bl = ix->bl, .nr_bl = ix->nr_bl,
	};
	struct jrx_replay_opts ro = { 0 };
	struct jrx_replay_session *rs = NULL;
	struct window sp = { 0 };
	uint64_t *seqs = NULL;
	size_t max_runs;
	bool dry = o->dry_run;
	double t, open_seconds;
	int ret = 0;

	r->spilled = true;
	r->keys_read = x->keys;
	r->sort_sort = x->sort_seconds;
	if (!x->open)		/* every batch was empty */
		ret = jrx_spill_open(&x->sp, x->scratch, 0);
	if (ret)
		return ret;
	x->open = true;

	/* sort: the passes that leave few enough runs for one merge */
	t = jrx_phase_begin(r, JRX_PHASE_SORT);
	/* the reduce passes merge alone; the replay's windows beside a
	 * streamed leaf's parts, one a worker */
	x->sp.read_bytes = jrx_budget_reader(x->b, x->sp.nr_runs, 1 + x->threads,
					     &max_runs);
	ret = jrx_spill_reduce(&x->sp, &f, max_runs);
	x->sp.read_bytes = jrx_budget_reader(x->b, x->sp.nr_runs, 1 + x->threads,
					     &max_runs);
	x->sp.st.merge_passes++;	/* the one into replay */
	/* the interior keys, then alloc and accounting: held whole */
	if (!ret)
		ret = take_section(&x->sp, JRX_SPILL_INTERIOR, &f, &sp, r);
	if (!ret)
		ret = take_section(&x->sp, JRX_SPILL_ALLOC, &f, &sp, r);
	if (!ret) {
		win_link(&sp);
		seqs = malloc((sp.nr ? sp.nr : 1) * sizeof(*seqs));
		if (!seqs)
			ret = -ENOMEM;
	}
	for (size_t i = 0; !ret && i < sp.nr; i++) {
		seqs[i] = ((const struct jrx_spill_rec *)sp.k[i].k - 1)->seq;
		sp.k[i].jset = (uint32_t)i;
	}
	jrx_phase_end(r, JRX_PHASE_SORT, t);
	if (ret)
		goto out;
	r->keys_after_dedup = sp.nr;
	if (jrx_recover_stop(o, r, JRX_STOP_SORT))
		goto out;

	/* replay, window by window */
	t = jrx_phase_begin(r, JRX_PHASE_REPLAY);
	r->replay_mode = "parallel";
	ret = jrx_fs_open_replay(fs, a, ix->newest, max_seq, dry);
	if (!ret) {
		*fs_open = true;
		open_seconds = jrx_now() - t;
		ro.threads = x->threads;
		ro.numa = o->numa;
		ro.unit_keys = o->replay_unit;
		jrx_recover_write_opts(r, &ro);
		ro.images = jrx_budget_images(x->b, a->sb.btree_node_size,
					      x->threads);
		ret = jrx_replay_begin(&rs, fs, seqs, sp.k, sp.nr, &ro, &r->replay,
				       &r->accounting_skipped);
		r->replay.open_seconds = open_seconds;
	}
	if (!ret)
		ret = replay_leaves(rs, x, &f, sp.cap + sp.cap_k *
				    sizeof(*sp.k) + sp.nr * sizeof(*seqs), r);
	if (!ret) {
		ret = jrx_replay_end(rs);
		rs = NULL;
	}
	jrx_recover_note_replay(r, fs);
	jrx_phase_end(r, JRX_PHASE_REPLAY, t);
	if (ret)
		goto out;

	/* commit */
	t = jrx_phase_begin(r, JRX_PHASE_COMMIT);
	ret = jrx_recover_end(a, fs, fs_open, max_seq, dry, view, r);
	jrx_phase_end(r, JRX_PHASE_COMMIT, t);
out:
	jrx_replay_abort(rs);
	r->spill = x->sp.st;
	r->spill_runs_left = x->sp.nr_runs;
	win_free(&sp);
	free(seqs);
	return ret;
}
