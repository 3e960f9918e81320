/*
 * merge.c - the k-way merge of one key range of the sorted runs, with
 * dedup on the fly and the packed keys turned back into journal keys
 * (sort_int.h).
 *
 * One run: a straight pass.  Two runs: a two-way merge that picks the
 * smaller head with masks, not a branch (runs cut by jset interleave at
 * random, so a branch mispredicts every other key; this halved the merge
 * time).  More: a loser tree (tournament tree of losers) whose nodes hold
 * run numbers and whose leaves cache each run's head key; an exhausted
 * run's head is all-ones, above every key, so the tree needs no end
 * tests.  Keys are distinct, so no tie-break is needed.
 *
 * Dedup: the last key output is held back; the next one replaces it when
 * it is in the same slot (equal above the tie bits: the newer key, since
 * the tie bits are (jset, offset)), except for accounting deltas, which
 * are all kept.  The boundaries of a range are slot boundaries
 * (partition.c), so this is the whole dedup.  It is branch-free too: the
 * held key is always decoded into the next output slot, and the slot
 * kept or not.
 */
#include <stddef.h>
#include <string.h>
#include "sort_int.h"

/* How to read a packed key back; fixed for one layout, kept in registers. */
struct dec {
	const uintptr_t *jptr;
	const uint64_t *meta;		/* rank -> btree_id << 32 | level << 40 */
	const uint64_t *slot_mask;
	uint64_t gmask, jmask, wmask, wmin, jmin, delta;
	unsigned gpos, jpos, wshift;
	bool simple;	/* the group in one word, the tie bits in word 0 */
	bool nodedup;
};

/* Where the output goes and the key held back. */
struct em {
	struct jrx_jkey *out;
	size_t n;
	uint64_t held[SORT_MAX_WORDS];
	uint64_t held_rank;
	bool have;
};

/* A field of at most 64 bits at pos (general case). */
SORT_INLINE uint64_t field(const uint64_t *k, unsigned pos, uint64_t mask,
			   const unsigned W)
{
	if (W == 1)
		return (k[0] >> pos) & mask;
	if (W == 2)
		return (uint64_t)(((unsigned __int128)k[1] << 64 | k[0]) >> pos) & mask;
	return key_get(k, pos, 64, W) & mask;
}

static uint64_t mask_of(unsigned bits)
{
	return bits >= 64 ? UINT64_MAX : ((uint64_t)1 << bits) - 1;
}

static void dec_init(struct dec *d, const struct sort_decoder *sd,
		     uint64_t *meta, bool nodedup)
{
	const struct sort_layout *L = sd->L;

	for (unsigned r = 0; r < L->nr_groups; r++) {
		const struct sort_group *g = &L->g[L->by_rank[r]];

		meta[r] = (uint64_t)g->btree_id << 32 | (uint64_t)g->level << 40;
	}
	*d = (struct dec){
		.jptr = sd->jptr, .meta = meta, .slot_mask = L->slot_mask,
		.gmask = mask_of(L->group_bits), .jmask = mask_of(L->jset.bits),
		.wmask = mask_of(L->woff.bits), .wmin = L->woff.min,
		.jmin = L->jset.min,
		.delta = L->delta_rank >= 0 ? (uint64_t)L->delta_rank : UINT64_MAX,
		.gpos = L->group_pos, .jpos = L->jset.pos,
		.wshift = L->woff.shift, .nodedup = nodedup,
		.simple = L->tie_bits <= 64 && (!L->group_bits ||
			  L->group_pos / 64 == (L->group_pos + L->group_bits - 1) / 64),
	};
}

SORT_INLINE uint64_t group_of(const struct dec *d, const uint64_t *k,
			      const unsigned W)
{
	if (d->simple) {
		unsigned w = d->gpos / 64;
		uint64_t v = W == 1 ? k[0] : W == 2 ? (w ? k[1] : k[0]) : k[w];

		return (v >> (d->gpos % 64)) & d->gmask;
	}
	return field(k, d->gpos, d->gmask, W);
}

/* The journal key a packed key names (two stores: pointer, then the rest). */
SORT_INLINE void decode(const struct dec *d, const uint64_t *k, uint64_t rank,
			struct jrx_jkey *o, const unsigned W)
{
	uint64_t j = d->simple ? (k[0] >> d->jpos) & d->jmask :
		field(k, d->jpos, d->jmask, W);
	uint64_t woff = ((k[0] & d->wmask) << d->wshift) + d->wmin;
	uint64_t w1 = (d->jmin + j) | d->meta[rank];

	_Static_assert(offsetof(struct jrx_jkey, jset) == 8 &&
		       offsetof(struct jrx_jkey, btree_id) == 12 &&
		       offsetof(struct jrx_jkey, level) == 13, "jkey layout");
	o->k = (const struct jrx_bkey *)(d->jptr[j] + woff * 8);
	memcpy((char *)o + 8, &w1, 8);
}

/*
 * Without branches on the data: the held key is decoded into the next
 * output slot every time and the slot is kept only when the new key does
 * not replace it.  Before the first key, the held key is all zeros, which
 * decodes harmlessly (jset 0 of the range, group rank 0) and is not kept.
 */
SORT_INLINE void push(const struct dec *d, struct em *e, const uint64_t *k,
		      const unsigned W)
{
	uint64_t rank = group_of(d, k, W);
	bool keep = e->have & (d->nodedup | (rank == d->delta) |
			       !key_same_slot(e->held, k, d->slot_mask, W));

	decode(d, e->held, e->held_rank, &e->out[e->n], W);
	e->n += keep;
	key_cp(e->held, k, W);
	e->held_rank = rank;
	e->have = true;
}

SORT_INLINE void flush(const struct dec *d, struct em *e, const unsigned W)
{
	if (e->have)
		decode(d, e->held, e->held_rank, &e->out[e->n++], W);
	e->have = false;
}

SORT_INLINE void merge1(const struct dec *d, struct em *e, const uint64_t *a,
			size_t n, const unsigned W)
{
	for (size_t i = 0; i < n; i++)
		push(d, e, a + i * W, W);
}

/* Two runs, the smaller head chosen with masks rather than a branch. */
SORT_INLINE void merge2(const struct dec *d, struct em *e, const uint64_t *a,
			size_t na, const uint64_t *b, size_t nb, const unsigned W)
{
	const uint64_t *ae = a + na * W, *be = b + nb * W;

	for (;;) {
		size_t ra = (size_t)(ae - a) / W, rb = (size_t)(be - b) / W;
		size_t m = ra < rb ? ra : rb;

		if (!m)
			break;
		/* m steps cannot run past either end */
		while (m--) {
			uintptr_t sel = -(uintptr_t)key_lt(b, a, W);
			const uint64_t *k = (const uint64_t *)
				(((uintptr_t)a & ~sel) | ((uintptr_t)b & sel));

			push(d, e, k, W);
			a = (const uint64_t *)((uintptr_t)a + (W * 8 & ~sel));
			b = (const uint64_t *)((uintptr_t)b + (W * 8 & sel));
		}
	}
	merge1(d, e, a, (size_t)(ae - a) / W, W);
	merge1(d, e, b, (size_t)(be - b) / W, W);
}

/*
 * Loser tree over k runs: leaves k .. 2k-1 are the runs, node i's parent
 * is i / 2, tree[i] the loser of the match at node i, tree[0] the winner.
 */
SORT_INLINE void mergek(const struct dec *d, struct em *e, const uint64_t **cur,
			const uint64_t **end, unsigned k, size_t total,
			const unsigned W)
{
	unsigned tree[SORT_MAX_THREADS];
	unsigned win[2 * SORT_MAX_THREADS];
	uint64_t head[SORT_MAX_THREADS][SORT_MAX_WORDS];

	for (unsigned r = 0; r < k; r++) {
		if (cur[r] < end[r])
			key_cp(head[r], cur[r], W);
		else
			memset(head[r], 0xff, sizeof(head[r]));
		win[k + r] = r;
	}
	/* build: winners up, losers stay */
	for (unsigned i = k - 1; i >= 1; i--) {
		unsigned l = win[2 * i], r = win[2 * i + 1];

		if (key_lt(head[r], head[l], W)) {
			win[i] = r;
			tree[i] = l;
		} else {
			win[i] = l;
			tree[i] = r;
		}
	}
	tree[0] = win[1];
	for (size_t i = 0; i < total; i++) {
		unsigned w = tree[0];

		push(d, e, head[w], W);
		cur[w] += W;
		if (cur[w] < end[w])
			key_cp(head[w], cur[w], W);
		else
			memset(head[w], 0xff, sizeof(head[w]));
		for (unsigned node = (k + w) / 2; node >= 1; node /= 2) {
			unsigned l = tree[node];
			bool up = key_lt(head[l], head[w], W);	/* l wins */

			tree[node] = up ? w : l;
			w = up ? l : w;
		}
		tree[0] = w;
	}
}

SORT_INLINE size_t merge_w(const struct sort_decoder *d,
			   const struct sort_runs *runs, const size_t *lo,
			   const size_t *hi, struct jrx_jkey *out, bool nodedup,
			   const unsigned W)
{
	struct em e = { .out = out };
	struct dec dc;
	uint64_t meta[SORT_GROUPS];
	const uint64_t *cur[SORT_MAX_THREADS], *end[SORT_MAX_THREADS];
	unsigned k = 0;
	size_t total = 0;

	dec_init(&dc, d, meta, nodedup);
	for (unsigned r = 0; r < runs->nr; r++) {
		if (lo[r] >= hi[r])
			continue;
		cur[k] = runs->key[r] + lo[r] * W;
		end[k] = runs->key[r] + hi[r] * W;
		total += hi[r] - lo[r];
		k++;
	}
	if (k == 1)
		merge1(&dc, &e, cur[0], total, W);
	else if (k == 2)
		merge2(&dc, &e, cur[0], (size_t)(end[0] - cur[0]) / W,
		       cur[1], (size_t)(end[1] - cur[1]) / W, W);
	else if (k > 2)
		mergek(&dc, &e, cur, end, k, total, W);
	flush(&dc, &e, W);
	return e.n;
}

size_t sort_merge(const struct sort_decoder *d, const struct sort_runs *runs,
		  const size_t *lo, const size_t *hi, struct jrx_jkey *out,
		  bool nodedup)
{
	switch (d->L->words) {
	case 1:	 return merge_w(d, runs, lo, hi, out, nodedup, 1);
	case 2:	 return merge_w(d, runs, lo, hi, out, nodedup, 2);
	case 3:	 return merge_w(d, runs, lo, hi, out, nodedup, 3);
	default: return merge_w(d, runs, lo, hi, out, nodedup, 4);
	}
}
