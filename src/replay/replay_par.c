/*
 * replay_par.c - the parallel replay (replay.h): the sequential passes,
 * the workers that append the sorted keys to leaves (or merge them into
 * leaves and write them out whole), and the install of the results into
 * their parents.
 *
 * Shared state and its owners:
 *  - the plan (replay_int.h): read-only while workers run, except that a
 *    unit's results belong to the one worker that took it (a group's
 *    atomic cursor hands each unit out once); after the barrier a worker
 *    may read the phase-1 results of any unit of a sliced leaf;
 *  - the store: only what btree_replay.h allows, inside its parallel
 *    section (jrx_fs_parallel_begin: the store's lock and descriptors);
 *  - struct par: the cursors and the stop flag are atomics; the workers
 *    and the barrier between the two phases are the worker pool's
 *    (util/pool.h: a phase returns when every worker has finished it);
 *  - struct worker: the thread that runs its id's, until the pool stops;
 *    its write queue (io/wq.h, the writes it has in flight) is opened by
 *    that thread in a phase when it first writes, and drained and closed
 *    by it before the phase's barrier, so every append and piece is on
 *    the device before the next phase reads it and before install.
 */
#include <errno.h>
#include <inttypes.h>
#include <mimalloc.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "replay.h"
#include "replay_int.h"
#include "replay_sess.h"
#include "apply.h"
#include "piece_drops.h"
#include "jrx/errors.h"
#include "../btree/blob.h"
#include "../btree/layout.h"
#include "../util/clock.h"
#include "../util/pool.h"
#include "../util/diag.h"
#include "../util/memory.h"

struct par;

/*
 * Phase 1's read-ahead: a worker with a write queue claims up to
 * READ_AHEAD units before it works on the first, and queues the read of
 * every claimed leaf it will have to read, so a leaf is on its way while
 * the units before it are worked on (a 200 KiB O_DIRECT read waits about
 * half a millisecond on this VM; 10 M journal keys read 525 leaves, which
 * the workers spent 0.15-0.2 s waiting for).  Without a queue (a dry
 * run) a worker claims one unit at a time and reads as it goes.  A
 * memory limit's share of node images (jrx_replay_opts.images) can make
 * it fewer: an eighth of the images, at least one.
 */
#define READ_AHEAD	8

struct ahead {
	size_t		 u;		/* a claimed unit */
	bool		 reading;	/* its leaf's read in flight */
	int		 res;		/* the read's bytes, or -errno */
	struct jrx_node_read rd;	/* rd.img: a read was started */
};

struct worker {
	struct par	 *c;
	unsigned	  id;
	mi_heap_t	 *heap;		/* its thread's node images */
	int		  ret;
	char		  msg[512];
	const struct jrx_bkey **scratch;	/* merged keys of a leaf */
	size_t		  cap;
	struct jrx_wq	 *wq;		/* its writes in flight (this phase) */
	bool		  wq_tried;
	cpu_set_t	  helper_cpus;	/* pinned: where its queue's helpers
					   go (placement.h); empty: nowhere */
	char		  helper_desc[64];	/* the same as a list */
	struct jrx_drops  drops;	/* pieces whose keys go once their
					   queued writes landed */
	struct ahead	  ahead[READ_AHEAD];	/* claimed units, a ring */
	unsigned	  ah_first, ah_nr;
	bool		  ah_end;	/* the group has no unit left */
	struct jrx_replay_worker_stats st;
};

struct par {
	struct jrx_fs		*fs;
	const struct jrx_jkey	*v;
	struct jrx_rplan	*plan;
	const struct jrx_placement *pl;
	bool			 keep;		/* dry run: leaves stay cached */
	size_t			 group_first[JRX_PLACE_MAX_GROUPS + 1];
	atomic_size_t		 next1[JRX_PLACE_MAX_GROUPS];
	atomic_size_t		 next2[JRX_PLACE_MAX_GROUPS];
	atomic_bool		 stop;
	atomic_size_t		 units_done;	/* phase 1, for o->progress */
	const struct jrx_replay_opts *o;
	atomic_int		 bind_errno;
	unsigned		 threads;	/* the pool's started threads */
	unsigned		 write_depth;	/* jrx_replay_opts */
	enum jrx_io_backend	 write_io;	/* jrx_replay_opts */
	unsigned		 read_ahead;	/* units claimed ahead, at most
						   READ_AHEAD (images) */
	int			 phase;		/* 1 or 2: set between pool phases */
	struct worker		*w;
};

/* ---------------------------------------------------------------- helpers */

static int grow_keys(const struct jrx_bkey ***v, size_t *cap, size_t need)
{
	void *p;
	size_t nc;

	if (need <= *cap)
		return 0;
	nc = *cap ? *cap : 1024;
	while (nc < need)
		nc *= 2;
	p = realloc((void *)*v, nc * sizeof(**v));
	if (!p)
		return -ENOMEM;
	jrx_mem_advise_huge(p, nc * sizeof(**v));	/* a hot leaf's millions */
	*v = p;
	*cap = nc;
	return 0;
}

static int add_piece(struct jrx_runit *u, struct jrx_bnode *n)
{
	if (u->nr_pieces == u->cap_pieces) {
		size_t nc = u->cap_pieces ? u->cap_pieces * 2 : 4;
		void *p = realloc(u->pieces, nc * sizeof(*u->pieces));

		if (!p)
			return -ENOMEM;
		u->pieces = p;
		u->cap_pieces = nc;
	}
	u->pieces[u->nr_pieces++] = n;
	return 0;
}

/* First index in keys[lo, hi) whose position is > p. */
static size_t key_upper(struct jrx_bkey *const *keys, size_t lo, size_t hi,
			struct jrx_bpos p)
{
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (jrx_bpos_cmp(keys[mid]->p, p) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static const struct jrx_bkey *leaf_ptr(const struct jrx_rleaf *l)
{
	return (const struct jrx_bkey *)l->ptr;
}

/*
 * The sorted journal keys point into jsets in journal order, so walking
 * them in key order is a cache miss a key: the walks below prefetch the
 * key MERGE_AHEAD places ahead (at 10 M keys on one thread this took the
 * merge from 12 % to 6-7 % of the recovery's samples).
 */
#define MERGE_AHEAD 16

/*
 * Merge the leaf's keys lk[0, ln) with the sorted journal keys jk[0, jn)
 * (one per position) into out: a journal key replaces the leaf's key at
 * its position, a whiteout deletes it.  Returns the count; *bytes gets
 * the key bytes.
 */
static size_t merge(struct jrx_bkey *const *lk, size_t ln,
		    const struct jrx_jkey *jk, size_t jn,
		    const struct jrx_bkey **out, uint64_t *bytes)
{
	size_t i = 0, j = 0, o = 0;
	uint64_t b = 0;

	while (i < ln || j < jn) {
		const struct jrx_bkey *k;
		int c = i == ln ? 1 : j == jn ? -1 :
			jrx_bpos_cmp(lk[i]->p, jk[j].k->p);

		if (c < 0) {
			k = lk[i++];
		} else {
			if (!c)
				i++;
			/* once per journal key, not per leaf key */
			if (j + MERGE_AHEAD < jn)
				__builtin_prefetch(jk[j + MERGE_AHEAD].k);
			k = jk[j++].k;
			if (k->type == JRX_KEY_WHITEOUT)
				continue;
		}
		out[o++] = k;
		b += k->u64s * 8u;
	}
	*bytes = b;
	return o;
}

/* ---------------------------------------------------------------- phase 1 */

/* The leaf's keys that fall in unit u: those past the previous slice's
 * last journal position, up to this slice's (the whole leaf if unsliced). */
static void unit_leaf_range(const struct par *c, const struct jrx_rleaf *l,
			    const struct jrx_runit *u, const struct jrx_bnode *n,
			    size_t *a, size_t *b)
{
	size_t s = (size_t)(u - c->plan->unit) - l->first_unit;

	*a = s ? key_upper(n->keys, 0, n->nr, c->v[u->lo - 1].k->p) : 0;
	*b = s + 1 < l->nr_units ?
		key_upper(n->keys, *a, n->nr, c->v[u->hi - 1].k->p) : n->nr;
}

/* The worker's write queue, opened on first use by the thread that runs
 * its id (the ring, aio context or helpers are that thread's); NULL in a
 * dry run, without a depth, or where it cannot be opened. */
static struct jrx_wq *worker_wq(struct worker *w)
{
	struct par *c = w->c;

	if (!w->wq_tried && c->write_depth && !c->keep) {
		w->wq_tried = true;
		if (jrx_wq_open(&w->wq, c->write_depth, c->write_io))
			w->wq = NULL;	/* refused: one write at a time */
		w->st.queued_writes = w->wq != NULL;
		/* its helpers off its own PU (best effort, like the
		 * pinning); the report names them only once they are there */
		if (w->wq && CPU_COUNT(&w->helper_cpus)) {
			if (!jrx_wq_helper_cpus(w->wq, &w->helper_cpus))
				snprintf(w->st.helper_pus, sizeof(w->st.helper_pus),
					 "%s", w->helper_desc);
			else
				jrx_diag_clear();
		}
	}
	return w->wq;
}

/* Every queued write landed; then the pieces waiting for that drop their
 * keys and images.  The queue's first error, or 0. */
static int drain_drops(struct worker *w)
{
	return jrx_drops_drain(&w->drops, w->wq);
}

/* A written piece that replay keeps only as a pointer (piece_drops.h). */
static int drop_piece(struct worker *w, struct jrx_bnode *n)
{
	return jrx_drops_add(&w->drops, w->wq, n);
}

/* A sliced leaf's written piece into its unit; one the unit has no room
 * for is freed once its queued write has landed. */
static int keep_piece(struct worker *w, struct jrx_runit *u,
		      struct jrx_bnode *n)
{
	int ret = add_piece(u, n);

	if (ret) {
		(void)drain_drops(w);
		jrx_bnode_free(n);
		ret = jrx_fail(ret, "keeping a written piece of a sliced leaf");
	}
	return ret;
}

/*
 * A leaf whose journal keys fit past its written tail: they are appended
 * as one bset, and the leaf is read only when the result must stay in
 * memory (a root, or a dry run).
 */
static int unit_append(struct worker *w, struct jrx_runit *u,
		       struct jrx_bnode *pre)
{
	struct par *c = w->c;
	struct jrx_rleaf *l = &c->plan->leaf[u->leaf];
	const struct jrx_bkey *ptr = leaf_ptr(l);
	struct jrx_bnode *n = l->cached ? l->cached : pre, *out = NULL;
	const struct jrx_bkey **view = NULL;
	size_t jn = u->hi - u->lo, nview = 0;
	uint64_t bytes;
	int ret;

	ret = grow_keys(&w->scratch, &w->cap, jn);
	if (ret)
		goto out;
	for (size_t i = 0; i < jn; i++)
		w->scratch[i] = c->v[u->lo + i].k;
	if (c->keep || l->was_root) {
		if (!n) {
			ret = jrx_fs_read_node(c->fs, l->btree_id, 0, ptr, &n);
			if (ret)
				return ret;
			w->st.leaves_read++;
		}
		view = malloc((n->nr + jn + 1) * sizeof(*view));
		if (!view) {
			ret = -ENOMEM;
			goto out;
		}
		nview = merge(n->keys, n->nr, c->v + u->lo, jn, view, &bytes);
	}
	worker_wq(w);
	ret = jrx_fs_append_bset(c->fs, ptr, l->btree_id, 0, w->scratch, jn,
				 view, nview, w->wq, &out);
	if (!ret) {
		ret = add_piece(u, out);
		if (ret)
			jrx_bnode_free(out);
	}
	w->st.keys += jn;
	w->st.appended++;
out:
	free((void *)view);
	if (n != l->cached)
		jrx_bnode_free(n);
	return ret;
}

/*
 * A written piece of unit u's leaf (a jrx_piece_fn): kept in the unit,
 * and its keys and image dropped once its write has landed, unless the
 * replay keeps the nodes or the leaf was a root.
 */
struct taker {
	struct worker	*w;
	struct jrx_runit *u;
};

static int take_piece(void *ctx, struct jrx_bnode *n)
{
	struct taker *t = ctx;
	struct par *c = t->w->c;
	int ret = keep_piece(t->w, t->u, n);

	if (!ret && !c->keep && !c->plan->leaf[t->u->leaf].was_root)
		ret = drop_piece(t->w, n);
	t->w->st.pieces++;
	return ret;
}

/* pre: the leaf, read ahead (the unit's from here), or NULL. */
static int unit_phase1(struct worker *w, struct jrx_runit *u,
		       struct jrx_bnode *pre)
{
	struct par *c = w->c;
	struct jrx_rleaf *l = &c->plan->leaf[u->leaf];
	const struct jrx_bkey *ptr = leaf_ptr(l);
	const struct jrx_btree_ptr_val *pv = jrx_bkey_val(ptr);
	struct jrx_bnode *n = l->cached ? l->cached : pre;
	struct jrx_node_meta m = {
		.btree_id = l->btree_id, .level = 0,
		.min = pv->min_key, .max = ptr->p,
	};
	size_t a, b, nr;
	uint64_t bytes;
	int ret;

	if (u->append)
		return unit_append(w, u, pre);
	if (!n) {
		ret = jrx_fs_read_node(c->fs, l->btree_id, 0, ptr, &n);
		if (ret)
			return ret;
		w->st.leaves_read++;
	}
	unit_leaf_range(c, l, u, n, &a, &b);
	ret = grow_keys(&w->scratch, &w->cap, (b - a) + (u->hi - u->lo));
	if (ret)
		goto out;
	nr = merge(n->keys + a, b - a, c->v + u->lo, u->hi - u->lo,
		   w->scratch, &bytes);
	w->st.keys += u->hi - u->lo;
	if (l->nr_units > 1) {
		/* a slice: cut with the other slices after the barrier.  The
		 * merged keys stay where they are, the unit's from here (a
		 * hot leaf's slice holds millions: a copy was fresh pages);
		 * the worker's next merge grows a scratch of its own */
		u->keys = w->scratch;
		u->nr = nr;
		w->scratch = NULL;
		w->cap = 0;
		u->bytes = bytes;
		if (n != l->cached)
			u->node = n;
		return 0;
	}
	ret = jrx_fs_cut_pieces(c->fs, &m, w->scratch, nr, bytes, worker_wq(w),
				take_piece, &(struct taker){ w, u });
	if (!ret)
		ret = jrx_fs_free_node_loc(c->fs, pv->dev, pv->sector);
out:
	if (n != l->cached)
		jrx_bnode_free(n);
	return ret;
}

/* ---------------------------------------------------------------- phase 2 */

/* The keys of a sliced leaf, walked across its units. */
struct cursor {
	const struct jrx_rplan *p;
	size_t u, end, i;		/* unit, one past its last, index */
};

static const struct jrx_bkey *cursor_next(struct cursor *cu)
{
	while (cu->u < cu->end && cu->i == cu->p->unit[cu->u].nr) {
		cu->u++;
		cu->i = 0;
	}
	if (cu->u == cu->end)
		return NULL;
	if (cu->i + MERGE_AHEAD < cu->p->unit[cu->u].nr)
		__builtin_prefetch(cu->p->unit[cu->u].keys[cu->i + MERGE_AHEAD]);
	return cu->p->unit[cu->u].keys[cu->i++];
}

/*
 * Unit u of a sliced leaf writes the pieces that start among its keys:
 * the layout rule applied to the leaf's keys as one sequence, exactly as
 * jrx_fs_write_pieces() would apply it.
 */
static int unit_phase2(struct worker *w, struct jrx_runit *u)
{
	struct par *c = w->c;
	const struct jrx_rplan *p = c->plan;
	struct jrx_rleaf *l = &p->leaf[u->leaf];
	const struct jrx_bkey *ptr = leaf_ptr(l);
	const struct jrx_btree_ptr_val *pv = jrx_bkey_val(ptr);
	size_t me = (size_t)(u - p->unit), end = l->first_unit + l->nr_units;
	uint64_t total = 0, before = 0, prev_bytes = 0, pend;
	size_t nr = 0, k, j, pj;
	const struct jrx_bkey *prev = NULL;
	struct jrx_node_meta m = { .btree_id = l->btree_id, .level = 0 };
	int ret = 0;

	for (size_t x = l->first_unit; x < end; x++) {
		total += p->unit[x].bytes;
		nr += p->unit[x].nr;
		if (x < me) {
			before += p->unit[x].bytes;
			if (p->unit[x].nr) {
				prev = p->unit[x].keys[p->unit[x].nr - 1];
				prev_bytes = prev->u64s * 8u;
			}
		}
	}
	k = jrx_layout_pieces(total, nr, c->fs->node_size);
	if (!nr) {
		/* every key deleted: the first unit writes the empty leaf */
		struct jrx_bnode *n;

		if (me != l->first_unit)
			return 0;
		m.min = pv->min_key;
		m.max = ptr->p;
		ret = jrx_fs_write_piece(c->fs, &m, NULL, 0, worker_wq(w), &n);
		if (!ret)
			ret = keep_piece(w, u, n);
		goto freed;
	}
	/*
	 * The pieces, walked along with the keys: j is the piece of key i
	 * (the key bytes before it are before), piece j ends where the
	 * running total reaches pend, and pj is the previous key's piece.
	 * Divisions only here, not per key.
	 */
	j = jrx_layout_piece_of(before, total, k);
	pj = prev ? jrx_layout_piece_of(before - prev_bytes, total, k) : SIZE_MAX;
	pend = jrx_layout_end(total, k, j);
	for (size_t i = 0; i < u->nr && !ret; i++) {
		const struct jrx_bkey *key = u->keys[i];
		struct cursor cu = { p, me, end, i };
		const struct jrx_bkey *x, *last = NULL;
		uint64_t b = before;
		size_t cnt = 0;
		struct jrx_bnode *n;

		while (j + 1 < k && pend <= before)
			pend = jrx_layout_end(total, k, ++j);
		if (prev && pj == j) {
			prev = key;
			before += key->u64s * 8u;
			continue;	/* not the first key of its piece */
		}
		/* gather piece j: from this key while the keys stay in it */
		while ((x = cursor_next(&cu)) && (j + 1 == k || b < pend)) {
			ret = grow_keys(&w->scratch, &w->cap, cnt + 1);
			if (ret)
				break;
			w->scratch[cnt++] = x;
			b += x->u64s * 8u;
			last = x;
		}
		if (ret)
			break;
		m.min = prev ? jrx_bpos_successor(prev->p) : pv->min_key;
		m.max = x ? last->p : ptr->p;
		ret = jrx_fs_write_piece(c->fs, &m, w->scratch, cnt,
					 worker_wq(w), &n);
		if (!ret)
			ret = take_piece(&(struct taker){ w, u }, n);
		pj = j;
		prev = key;
		before += key->u64s * 8u;
	}
freed:
	if (!ret && me == l->first_unit)
		ret = jrx_fs_free_node_loc(c->fs, pv->dev, pv->sector);
	return ret;
}

/* ------------------------------------------------------- read-ahead */

static bool needs_read(const struct par *c, const struct jrx_runit *x)
{
	const struct jrx_rleaf *l = &c->plan->leaf[x->leaf];

	return !l->cached && (!x->append || l->was_root || c->keep);
}

static void read_landed(void *ctx, int res)
{
	struct ahead *a = ctx;

	a->res = res;
	a->reading = false;
}

/*
 * Claim units of the worker's group until READ_AHEAD are claimed (one
 * without a queue) or none is left, and queue the read of each claimed
 * leaf that must be read.  A read that cannot be started is left to the
 * unit, which reads the leaf itself and reports what is wrong.
 */
static void fill_window(struct worker *w, atomic_size_t *next)
{
	struct par *c = w->c;
	unsigned g = w->st.group;
	struct jrx_wq *q = worker_wq(w);
	unsigned want;
	bool queued = false;

	/* a queue that failed (a write) fails every read queued after: the
	 * units then read their leaves themselves, and their writes report
	 * the queue's error */
	if (q && jrx_wq_error(q))
		q = NULL;
	want = q ? c->read_ahead : 1;

	while (w->ah_nr < want && !w->ah_end) {
		size_t u = c->group_first[g] + atomic_fetch_add(next, 1);
		struct ahead *a;
		struct jrx_runit *x;
		const struct jrx_rleaf *l;

		if (u >= c->group_first[g + 1]) {
			w->ah_end = true;
			break;
		}
		a = &w->ahead[(w->ah_first + w->ah_nr++) % READ_AHEAD];
		*a = (struct ahead){ .u = u };
		x = &c->plan->unit[u];
		l = &c->plan->leaf[x->leaf];
		/* the first touch of its keys, here: the units claimed before
		 * it are worked on while its read (if it needs one) is on
		 * its way, and the append copies keys still in the cache */
		x->append = jrx_rplan_append_fits(c->fs, l, c->v);
		if (!q || !needs_read(c, x))
			continue;
		if (jrx_fs_node_read_begin(c->fs, l->btree_id, 0, leaf_ptr(l),
					   &a->rd) ||
		    jrx_dev_read_permit(a->rd.dev, a->rd.off)) {
			jrx_fs_node_read_cancel(&a->rd);
			jrx_diag_clear();
			continue;
		}
		a->reading = true;
		/* a refusal runs read_landed at once, with the error */
		jrx_wq_read(q, a->rd.dev, a->rd.img, a->rd.len, a->rd.off,
			    read_landed, a);
		queued = true;
	}
	if (queued)
		jrx_wq_submit(q);
}

/*
 * The leaf of a claimed unit, once its read landed: *pre the node (NULL
 * when no read was started: the unit reads it itself), or the read's
 * error naming the device and offset.
 */
static int take_read(struct worker *w, struct ahead *a, struct jrx_bnode **pre)
{
	struct par *c = w->c;
	const struct jrx_rleaf *l = &c->plan->leaf[c->plan->unit[a->u].leaf];
	int ret;

	*pre = NULL;
	if (!a->rd.img)
		return 0;
	while (a->reading && !jrx_wq_reap(w->wq))
		;
	if (a->reading)
		jrx_wq_drain(w->wq);	/* the queue failed: every callback */
	if (a->reading)
		return jrx_fail(-EIO, "%s: the read of a btree %s leaf at offset"
				" %" PRIu64 " never completed",
				a->rd.dev->path, jrx_btree_name(l->btree_id),
				a->rd.off);
	if (a->res < 0 || (size_t)a->res != a->rd.len) {
		ret = jrx_dev_read_failed(a->rd.dev, a->rd.off, a->rd.len,
					  a->res < 0 ? 0 : (size_t)a->res,
					  a->res < 0 ? a->res : 0);
		jrx_fs_node_read_cancel(&a->rd);
		return ret;
	}
	w->st.leaves_read++;
	w->st.read_ahead++;
	return jrx_fs_node_read_end(c->fs, l->btree_id, 0, leaf_ptr(l), &a->rd,
				    pre);
}

/* After the queue closed: the images of claimed units never worked on.
 * One whose read is still in flight (the queue broke) is left. */
static void clear_window(struct worker *w)
{
	for (unsigned i = 0; i < w->ah_nr; i++) {
		struct ahead *a = &w->ahead[(w->ah_first + i) % READ_AHEAD];

		if (!a->reading)
			jrx_fs_node_read_cancel(&a->rd);
	}
	w->ah_first = w->ah_nr = 0;
	w->ah_end = false;
}

/* ---------------------------------------------------------------- workers */

static void fail_worker(struct worker *w, int ret)
{
	w->ret = ret;
	snprintf(w->msg, sizeof(w->msg), "%s", jrx_diag());
	atomic_store(&w->c->stop, true);
}

static void run_phase1(struct worker *w)
{
	struct par *c = w->c;

	while (!atomic_load(&c->stop)) {
		struct ahead *a;
		struct jrx_runit *x;
		struct jrx_bnode *pre;
		size_t done;
		int ret;

		fill_window(w, &c->next1[w->st.group]);
		if (!w->ah_nr)
			break;
		a = &w->ahead[w->ah_first];
		w->ah_first = (w->ah_first + 1) % READ_AHEAD;
		w->ah_nr--;
		x = &c->plan->unit[a->u];
		ret = take_read(w, a, &pre);
		if (!ret)
			ret = unit_phase1(w, x, pre);
		done = atomic_fetch_add(&c->units_done, 1) + 1;
		if (!w->id && c->o->progress)
			c->o->progress(c->o->progress_ctx, done,
				       c->plan->nr_units);
		w->st.units++;
		w->st.weight += x->weight;
		if (a->u < w->st.unit_lo)
			w->st.unit_lo = a->u;
		if (a->u > w->st.unit_hi)
			w->st.unit_hi = a->u;
		if (ret) {
			fail_worker(w, ret);
			break;
		}
	}
}

static void run_phase2(struct worker *w)
{
	struct par *c = w->c;
	unsigned g = w->st.group;

	while (!atomic_load(&c->stop)) {
		size_t u = c->group_first[g] + atomic_fetch_add(&c->next2[g], 1);
		struct jrx_runit *x;
		int ret;

		if (u >= c->group_first[g + 1])
			break;
		x = &c->plan->unit[u];
		if (c->plan->leaf[x->leaf].nr_units == 1)
			continue;
		ret = unit_phase2(w, x);
		if (ret) {
			fail_worker(w, ret);
			break;
		}
	}
}

/* One pool phase: worker id works phase c->phase, timed. */
static void pool_phase(void *arg, unsigned id)
{
	struct par *c = arg;
	struct worker *w = &c->w[id];
	double t = jrx_now();

	if (c->phase == 1)
		run_phase1(w);
	else
		run_phase2(w);
	if (w->wq) {
		/* every write on the device before the barrier */
		int ret = drain_drops(w);

		jrx_wq_close(w->wq);
		w->wq = NULL;
		w->wq_tried = false;	/* the next phase opens its own */
		if (ret && !w->ret)
			fail_worker(w, ret);
	}
	clear_window(w);	/* after the close: no read in flight */
	w->st.busy_seconds += jrx_now() - t;
}

/*
 * A worker's thread: pinned first, so its heap's pages are touched on its
 * node.  An id the pool runs on the calling thread (a thread that could
 * not be started) is neither pinned nor given a heap of its own.
 */
static int worker_start(void *arg, unsigned id, bool own_thread)
{
	struct par *c = arg;
	struct worker *w = &c->w[id];
	int ret;

	if (!own_thread) {
		w->st.pu = -1;		/* the recovering thread, not pinned */
		return 0;
	}
	ret = jrx_placement_enter(c->pl, id);
	if (ret)
		atomic_store(&c->bind_errno, -ret);
	else if (c->pl->bind)	/* empty when there are none */
		jrx_placement_helper_cpus(c->pl, id, &w->helper_cpus,
					  w->helper_desc, sizeof(w->helper_desc));
	w->heap = mi_heap_new();
	jrx_blob_use_heap(w->heap);
	return 0;
}

static void worker_stop(void *arg, unsigned id, bool own_thread)
{
	struct worker *w = &((struct par *)arg)->w[id];

	if (!own_thread)
		return;
	jrx_blob_use_heap(NULL);
	if (w->heap)
		mi_heap_delete(w->heap);	/* live blocks move to the default heap */
	w->heap = NULL;
}

/* Both phases on the pool's workers; the first worker error, or 0. */
static int run_workers(struct par *c, unsigned nw)
{
	struct jrx_pool *pool;
	int ret;

	for (unsigned i = 0; i < nw; i++) {
		c->w[i].c = c;
		c->w[i].id = i;
		c->w[i].st.group = c->pl->w[i].group;
		c->w[i].st.pu = c->pl->w[i].pu;
		c->w[i].st.unit_lo = UINT64_MAX;
		c->w[i].st.unit_hi = 0;
	}
	ret = jrx_pool_start(&pool, &(struct jrx_pool_opts){
		.workers = nw, .name = "replay", .ctx = c,
		.on_start = worker_start, .on_stop = worker_stop });
	if (ret)
		return ret;
	c->threads = jrx_pool_threads(pool);
	c->phase = 1;
	jrx_pool_run(pool, pool_phase, c);	/* its return is the barrier */
	c->phase = 2;
	if (!atomic_load(&c->stop))
		jrx_pool_run(pool, pool_phase, c);
	jrx_pool_stop(pool);
	for (unsigned i = 0; i < nw; i++)
		if (c->w[i].ret)
			return jrx_fail(c->w[i].ret, "%s", c->w[i].msg);
	return 0;
}

/* ---------------------------------------------------------------- passes */

/* The new leaves into the tree, in key order. */
static int install(struct jrx_fs *fs, struct jrx_rplan *p, bool keep,
		   struct jrx_replay_stats *st)
{
	int ret = 0;

	for (size_t i = 0; i < p->nr_leaves && !ret; i++) {
		struct jrx_rleaf *l = &p->leaf[i];
		struct jrx_bnode **pieces;
		size_t k = 0, o = 0;

		for (size_t u = l->first_unit; u < l->first_unit + l->nr_units; u++)
			k += p->unit[u].nr_pieces;
		pieces = malloc((k ? k : 1) * sizeof(*pieces));
		if (!pieces)
			return -ENOMEM;
		for (size_t u = l->first_unit; u < l->first_unit + l->nr_units; u++) {
			struct jrx_runit *x = &p->unit[u];

			if (x->nr_pieces)
				memcpy(&pieces[o], x->pieces,
				       x->nr_pieces * sizeof(*pieces));
			o += x->nr_pieces;
			x->nr_pieces = 0;	/* the install owns them now */
		}
		if (k != 1 || pieces[0]->fresh)
			st->pieces += k;	/* not an append */
		ret = jrx_fs_install_pieces(fs, l->btree_id, 0, l->cached,
					    l->was_root, pieces, k, keep);
	}
	return ret;
}

static int apply_range(struct jrx_fs *fs, const uint64_t *jset_seq,
		       const struct jrx_jkey *v, size_t lo, size_t hi,
		       uint64_t *skipped)
{
	int ret = 0;

	for (size_t i = lo; i < hi && !ret; i++)
		ret = jrx_replay_apply(fs, v[i].btree_id, v[i].level, v[i].k,
				       jset_seq[v[i].jset], skipped);
	return ret;
}

/*
 * Alloc keys into the allocator, then the interior keys, then alloc and
 * accounting, in list order.  The list is in journal order, so these are
 * the prefix v[0, leaf) and one range per btree among the leaf keys: the
 * passes touch only them.
 */
static int sequential_passes(struct jrx_fs *fs, const uint64_t *jset_seq,
			     const struct jrx_jkey *v, size_t n, size_t leaf,
			     struct jrx_replay_stats *st, uint64_t *skipped)
{
	size_t alloc[2] = { n, n }, acct[2] = { n, n };
	int ret = 0;

	for (size_t lo = leaf, end; lo < n; lo = end) {
		end = jrx_replay_btree_end(v, lo, n);
		if (v[lo].btree_id == JRX_BTREE_ALLOC) {
			alloc[0] = lo;
			alloc[1] = end;
		} else if (v[lo].btree_id == JRX_BTREE_ACCOUNTING) {
			acct[0] = lo;
			acct[1] = end;
		}
	}
	for (size_t i = alloc[0]; i < alloc[1] && !ret; i++)
		ret = jrx_replay_load_alloc(fs, v[i].btree_id, v[i].level,
					    v[i].k, jset_seq[v[i].jset]);
	st->interior_keys = leaf;
	st->alloc_keys = (alloc[1] - alloc[0]) + (acct[1] - acct[0]);
	if (!ret)
		ret = apply_range(fs, jset_seq, v, 0, leaf, skipped);
	/* alloc's id is below accounting's: list order is this order */
	if (!ret)
		ret = apply_range(fs, jset_seq, v, alloc[0], alloc[1], skipped);
	if (!ret)
		ret = apply_range(fs, jset_seq, v, acct[0], acct[1], skipped);
	return ret;
}

static void note_workers(struct jrx_replay_stats *st, const struct par *c,
			 unsigned nw)
{
	st->leaves_read = st->leaves_read_ahead = st->appended_leaves = 0;
	st->queued_workers = 0;
	for (unsigned i = 0; i < nw && i < JRX_REPLAY_MAX_WORKERS; i++) {
		st->w[i] = c->w[i].st;
		st->leaves_read += c->w[i].st.leaves_read;
		st->appended_leaves += c->w[i].st.appended;
		st->leaves_read_ahead += c->w[i].st.read_ahead;
		st->queued_workers += c->w[i].st.queued_writes;
	}
}


int jrx_replay_begin(struct jrx_replay_session **sp, struct jrx_fs *fs,
		     const uint64_t *jset_seq, const struct jrx_jkey *v,
		     size_t n, const struct jrx_replay_opts *o,
		     struct jrx_replay_stats *st, uint64_t *skipped)
{
	static const struct jrx_replay_opts defaults;
	struct jrx_replay_session *s;
	uint64_t freed;
	size_t lo;
	int ret;

	*sp = NULL;
	memset(st, 0, sizeof(*st));
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->fs = fs;
	s->o = o ? *o : defaults;
	if (!s->o.images || s->o.images > JRX_REPLAY_IMAGES_MAX)
		s->o.images = JRX_REPLAY_IMAGES_MAX;
	s->st = st;
	lo = jrx_replay_leaf_start(v, n);
	ret = sequential_passes(fs, jset_seq, v, n, lo, st, skipped);
	/* buckets open at the crash and emptied since hold nothing */
	if (!ret)
		ret = jrx_buckets_free_empty(&fs->bt, fs->j.seq, &freed);
	if (!ret)
		ret = jrx_placement_init(&s->pl, s->o.threads, s->o.numa);
	if (ret) {
		free(s);
		fs->dead = true;
		return ret;
	}
	s->nw = s->pl.nr_workers;
	if (s->nw > JRX_REPLAY_MAX_WORKERS) {
		ret = jrx_fail(-JRX_ERR_BAD_OPTION, "replay: %u workers, at most"
			       " %u", s->nw, JRX_REPLAY_MAX_WORKERS);
		goto fail;
	}
	st->workers = s->nw;
	st->groups = s->pl.nr_groups;
	jrx_placement_describe(&s->pl, st->placement, sizeof(st->placement));
	s->c = calloc(1, sizeof(*s->c));
	if (s->c)
		s->c->w = calloc(s->nw, sizeof(*s->c->w));
	if (!s->c || !s->c->w) {
		ret = -ENOMEM;
		goto fail;
	}
	/* the images: an eighth read ahead (1 to READ_AHEAD), the rest
	 * (at least one) pieces waiting for their writes */
	s->c->read_ahead = s->o.images / 8;
	if (s->c->read_ahead < 1)
		s->c->read_ahead = 1;
	if (s->c->read_ahead > READ_AHEAD)
		s->c->read_ahead = READ_AHEAD;
	for (unsigned i = 0; i < s->nw; i++)
		s->c->w[i].drops.batch = s->o.images > s->c->read_ahead ?
			s->o.images - s->c->read_ahead : 1;
	*sp = s;
	return 0;
fail:
	fs->dead = true;
	jrx_replay_abort(s);
	return ret;
}

int jrx_replay_window(struct jrx_replay_session *s, const struct jrx_jkey *v,
		      size_t n, bool last, size_t *done)
{
	struct jrx_fs *fs = s->fs;
	struct jrx_replay_stats *st = s->st;
	struct jrx_rplan plan = { 0 };
	struct par *c = s->c;
	uint64_t *weight = NULL;
	double t = jrx_now();
	int ret;

	*done = 0;
	ret = jrx_replay_plan(fs, v, jrx_replay_leaf_start(v, n), n, s->nw,
			      s->o.units_per_worker, s->o.unit_keys, !last,
			      &plan);
	if (ret)
		goto out;
	if (!last && !plan.nr_leaves)
		goto out;	/* one leaf so far: the caller brings more */
	st->leaf_keys += plan.leaf_keys;
	st->leaves += plan.nr_leaves;
	st->units += plan.nr_units;
	st->sliced_leaves += plan.sliced;
	weight = malloc((plan.nr_units ? plan.nr_units : 1) * sizeof(*weight));
	if (!weight) {
		ret = -ENOMEM;
		goto out;
	}
	for (size_t u = 0; u < plan.nr_units; u++)
		weight[u] = plan.unit[u].weight;
	jrx_placement_split(&s->pl, weight, plan.nr_units, c->group_first);
	for (unsigned g = 0; g <= s->pl.nr_groups; g++)
		st->group_first[g] = c->group_first[g];
	st->plan_seconds += jrx_now() - t;

	t = jrx_now();
	c->fs = fs;
	c->o = &s->o;
	c->v = v;
	c->plan = &plan;
	c->pl = &s->pl;
	c->keep = fs->nowrite;
	c->write_io = s->o.write_io;
	c->write_depth = s->o.write_depth;
	atomic_store(&c->units_done, 0);
	for (unsigned g = 0; g < JRX_PLACE_MAX_GROUPS; g++) {
		atomic_store(&c->next1[g], 0);	/* the cursors of a new plan */
		atomic_store(&c->next2[g], 0);
	}
	st->write_depth = s->o.write_depth;
	st->images = s->o.images;
	ret = jrx_fs_parallel_begin(fs);
	if (ret)
		goto out;
	ret = run_workers(c, s->nw);
	jrx_fs_parallel_end(fs);
	note_workers(st, c, s->nw);
	st->threads = c->threads;
	st->bind_errno = atomic_load(&c->bind_errno);
	st->leaves_seconds += jrx_now() - t;
	if (ret)
		goto out;

	t = jrx_now();
	ret = install(fs, &plan, c->keep, st);
	st->install_seconds += jrx_now() - t;
	if (!ret)
		*done = last ? n : plan.held;
out:
	if (ret)
		fs->dead = true;
	free(weight);
	jrx_replay_plan_free(&plan);
	return ret;
}

void jrx_replay_abort(struct jrx_replay_session *s)
{
	if (!s)
		return;
	for (unsigned i = 0; s->c && s->c->w && i < s->nw; i++) {
		free((void *)s->c->w[i].scratch);
		jrx_drops_free(&s->c->w[i].drops);
	}
	if (s->c)
		free(s->c->w);
	free(s->c);
	jrx_placement_free(&s->pl);
	free(s);
}

int jrx_replay_end(struct jrx_replay_session *s)
{
	double t = jrx_now();
	int ret;

	ret = jrx_fs_replay_settle(s->fs, s->o.write_depth);
	s->st->settle_seconds = jrx_now() - t;
	if (ret)
		s->fs->dead = true;
	jrx_replay_abort(s);
	return ret;
}

int jrx_replay_parallel(struct jrx_fs *fs, const uint64_t *jset_seq,
			const struct jrx_jkey *v, size_t n,
			const struct jrx_replay_opts *o,
			struct jrx_replay_stats *st, uint64_t *skipped)
{
	struct jrx_replay_session *s;
	size_t done;
	int ret;

	ret = jrx_replay_begin(&s, fs, jset_seq, v, n, o, st, skipped);
	if (ret)
		return ret;
	ret = jrx_replay_window(s, v, n, true, &done);
	if (ret) {
		jrx_replay_abort(s);
		return ret;
	}
	return jrx_replay_end(s);
}
