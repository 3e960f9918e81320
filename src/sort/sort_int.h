/*
 * sort_int.h - internals of the sort stage (sort.h), shared by its files
 * and by the micro-benchmarks (bench/micro), nobody else.
 *
 * A journal key becomes one packed sort key of 1 to 4 u64 words (word 0
 * least significant), which is also its reference: from the most
 * significant bit down
 *
 *   group   rank of (level, btree id) in journal order (level descending)
 *   inode   \  range-packed against the group's own minimum, trailing
 *   offset   > bits constant in the whole group dropped; the three are
 *   snapshot/  left-aligned to the widest group so every group starts
 *              right below the group bits
 *   jset    index into ix->v, minus the first jset holding keys
 *   woff    u64 word offset of the key inside its jset, range-packed
 *
 * Comparing packed keys as unsigned integers is journal order, the keys
 * are all distinct ((jset, woff) names one key), and the low "tie" bits
 * (jset, woff) give back the key's address, so a run entry is the packed
 * key alone: 8 bytes when it fits 63 bits, 16 up to 127 bits.  Wider
 * journals (e.g. inodes over the whole u64 range with wide offsets and
 * snapshots) take 3 or 4 words through the same code.  The top bit of
 * the top word is never used, so all-ones is a sentinel above every key.
 */
#ifndef JRX_SORT_INT_H
#define JRX_SORT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "sort.h"

#define SORT_INLINE		static inline __attribute__((always_inline))
#define SORT_MAX_WORDS		4u
#define SORT_MAX_THREADS	256u
/* (level, btree id) pairs a key can name: level < 8, btree id < 8 */
#define SORT_GROUPS		64u

static inline unsigned sort_gidx(unsigned level, unsigned btree_id)
{
	return level << 3 | btree_id;
}

/* ------------------------------------------------------------ field ranges */

struct sort_fstat {
	uint64_t min, max;
	uint64_t ref;		/* the first value seen */
	uint64_t vary;		/* OR of every value ^ ref: the bits that vary */
};

/* What the first pass learns: ranges of every field, per group. */
struct sort_acc {
	struct {
		uint64_t keys;
		struct sort_fstat f[3];		/* inode, offset, snapshot */
	} g[SORT_GROUPS];
	struct sort_fstat woff;			/* word offset in the jset */
	uint64_t jmin, jmax;			/* jsets holding keys */
	uint64_t keys;
	/* the first malformed entry met, if any (pass 1 stops there) */
	int	 err;
	uint64_t err_jset;
	unsigned err_btree, err_level;
};

void sort_acc_init(struct sort_acc *a);
void sort_acc_merge(struct sort_acc *into, const struct sort_acc *from);

/* ------------------------------------------------------------ layout */

/* A field's packed value is (v - min) >> shift, bits wide, at bit pos. */
struct sort_field {
	uint64_t min;
	uint8_t	 shift;
	uint8_t	 bits;
	uint16_t pos;		/* 0 when bits is 0 */
};

struct sort_group {
	uint64_t keys;
	uint32_t rank;
	uint8_t	 level, btree_id;
	struct sort_field f[3];			/* inode, offset, snapshot */
	uint64_t tmpl[SORT_MAX_WORDS];		/* the rank bits, in place */
};

struct sort_layout {
	unsigned words;		/* u64 words per key, 1..4 */
	unsigned bits;		/* bits used, < 64 * words */
	unsigned tie_bits;	/* jset + woff */
	unsigned group_bits, group_pos;
	unsigned pos_bits;	/* widest group's inode + offset + snapshot */
	struct sort_field jset, woff;
	struct sort_group g[SORT_GROUPS];	/* by sort_gidx() */
	uint8_t	 by_rank[SORT_GROUPS];		/* rank -> gidx */
	unsigned nr_groups;
	int	 delta_rank;	/* level-0 accounting (deltas), or -1 */
	uint64_t slot_mask[SORT_MAX_WORDS];	/* the bits above the tie */
	uint64_t keys;
	size_t	 nr_jsets;	/* jset.min .. jset.min + nr_jsets - 1 */
};

/* The layout for the ranges found by the first pass. */
void sort_layout_build(struct sort_layout *L, const struct sort_acc *a);

/*
 * The smallest packed value K such that a key is >= K exactly when its
 * (level, btree id, position) is at or after s in journal order; all-ones
 * (above every key) when no key can be.  Writes L->words words.
 */
void sort_pack_split(const struct sort_layout *L, const struct jrx_sort_split *s,
		     uint64_t *key);

/* Journal order of two split points: <0, 0, >0. */
int sort_split_cmp(const struct jrx_sort_split *a, const struct jrx_sort_split *b);

/* ------------------------------------------------------------ key words */

SORT_INLINE void key_put(uint64_t *k, uint64_t v, unsigned pos, unsigned W)
{
	unsigned w = pos >> 6, b = pos & 63;

	k[w] |= v << b;
	if (b && w + 1 < W)
		k[w + 1] |= v >> (64 - b);
}

/* n <= 64 bits at pos */
SORT_INLINE uint64_t key_get(const uint64_t *k, unsigned pos, unsigned n,
			     unsigned W)
{
	unsigned w = pos >> 6, b = pos & 63;
	uint64_t v = k[w] >> b;

	if (b && w + 1 < W)
		v |= k[w + 1] << (64 - b);
	return n >= 64 ? v : v & ((1ull << n) - 1);
}

/* a < b as W-word unsigned integers, without branches */
SORT_INLINE bool key_lt(const uint64_t *a, const uint64_t *b, unsigned W)
{
	if (W == 1)
		return a[0] < b[0];
	if (W == 2) {
		unsigned __int128 x = (unsigned __int128)a[1] << 64 | a[0];
		unsigned __int128 y = (unsigned __int128)b[1] << 64 | b[0];

		return x < y;
	}
	bool lt = false, eq = true;

	for (unsigned w = W; w-- > 0;) {
		lt |= eq & (a[w] < b[w]);
		eq &= a[w] == b[w];
	}
	return lt;
}

SORT_INLINE void key_cp(uint64_t *d, const uint64_t *s, unsigned W)
{
	for (unsigned w = 0; w < W; w++)
		d[w] = s[w];
}

/* Same (level, btree id, position): equal above the tie bits. */
SORT_INLINE bool key_same_slot(const uint64_t *a, const uint64_t *b,
			       const uint64_t *mask, unsigned W)
{
	uint64_t d = 0;

	for (unsigned w = 0; w < W; w++)
		d |= (a[w] ^ b[w]) & mask[w];
	return !d;
}

/* Index of the first key >= v in a sorted array of n keys. */
size_t sort_lower_bound(const uint64_t *keys, size_t n, const uint64_t *v,
			unsigned W);

/* ------------------------------------------------------------ extraction */

/*
 * Pass 1 over one jset: the ranges of its keys into *a (not jmin, jmax);
 * returns its key count, or UINT64_MAX with a->err set at an entry
 * naming a btree or level a sort key cannot hold.
 */
uint64_t sort_scan_jset(const struct jrx_jset *js, struct sort_acc *a);

/* Pass 1 over ix->v[j0, j1): ranges into *a, key count per jset into kc. */
void sort_scan_jsets(const struct jrx_jindex *ix, size_t j0, size_t j1,
		     struct sort_acc *a, uint32_t *kc);

/* Pass 1 from a prescan (prescan.c), or false to make it. */
bool sort_prescan_layout(const struct jrx_sort_prescan *ps,
			 const struct jrx_jindex *ix, uint32_t *kc,
			 struct sort_acc *all);

/*
 * Pass 2 over ix->v[j0, j1): the packed keys into out (in journal-read
 * order); returns the count and, in vary[W], the bits that vary in the
 * run.
 */
size_t sort_extract_jsets(const struct jrx_jindex *ix, size_t j0, size_t j1,
			  const struct sort_layout *L, uint64_t *out,
			  uint64_t *vary);

/* ------------------------------------------------------------ radix sort */

enum sort_algo {
	SORT_MSD = 0,		/* adaptive MSD (default) */
	SORT_LSD,		/* LSD over the varying bytes */
};

/*
 * Sort n (< 2^32) keys of W words at keys; tmp has room for n keys.  varying:
 * the bits that may differ (and ^ or from extraction), NULL to compute.
 * The result is in keys.
 */
void sort_radix(uint64_t *keys, uint64_t *tmp, size_t n, unsigned W,
		const uint64_t *varying, enum sort_algo algo);

/* ------------------------------------------------------------ merge */

/* Where a range's keys are in each run. */
struct sort_runs {
	unsigned nr;			/* runs */
	const uint64_t *const *key;	/* run r: key[r][0 .. len[r]) (W words each) */
	const size_t *len;
};

/* Decoding packed keys back into journal keys. */
struct sort_decoder {
	const struct sort_layout *L;
	const uintptr_t *jptr;		/* jset address by jset - L->jset.min */
};

/*
 * Merge the slices [lo[r], hi[r]) of the runs into out, deduplicating:
 * returns the keys written.  nodedup: keep every key (benchmarks).
 */
size_t sort_merge(const struct sort_decoder *d, const struct sort_runs *runs,
		  const size_t *lo, const size_t *hi, struct jrx_jkey *out,
		  bool nodedup);

/* ------------------------------------------------------------ partition */

/*
 * Boundaries of nr_ranges disjoint key ranges over the runs: bnd[r * nr
 * + t] is where range r starts in run t (r = 0 .. nr_ranges; the last row
 * is the run lengths).  Every boundary is a slot boundary; with splits,
 * each one is the first key >= the split point nearest in key count to
 * an even share.  Returns 0 or -ENOMEM.
 */
int sort_partition(const struct sort_layout *L, const struct sort_runs *runs,
		   unsigned nr_ranges, const struct jrx_sort_split *splits,
		   size_t nr_splits, size_t *bnd);

/* jrx_sort_journal() with a chosen radix sort (benchmarks, tests). */
int sort_journal_algo(const struct jrx_jindex *ix, const struct jrx_sort_opts *o,
		      struct jrx_sort_result *res, struct jrx_sort_stats *st,
		      enum sort_algo algo);

#endif
