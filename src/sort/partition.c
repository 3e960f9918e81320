/*
 * partition.c - splitting the sorted runs into disjoint key ranges, one
 * merge each (sort_int.h).
 *
 * A boundary is a packed value with the tie bits clear, so it falls
 * between slots: all keys of one (level, btree id, position) land in the
 * same range and dedup stays local to a range.  Without caller splits the
 * boundaries come from sampled splitters: evenly spaced keys of every run,
 * sorted, cut at even shares.  With splits, each boundary is the split
 * point whose rank (keys before it, over all runs) is nearest an even
 * share, found by binary search over the splits, so a range always starts
 * at the first key at or after a split point.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "sort_int.h"

#define SAMPLES_PER_RANGE 64u

size_t sort_lower_bound(const uint64_t *keys, size_t n, const uint64_t *v,
			unsigned W)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (key_lt(keys + mid * W, v, W))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static size_t rank_of(const struct sort_runs *runs, const uint64_t *v,
		      unsigned W)
{
	size_t r = 0;

	for (unsigned t = 0; t < runs->nr; t++)
		r += sort_lower_bound(runs->key[t], runs->len[t], v, W);
	return r;
}

static int cmp_keys(const void *x, const void *y, void *arg)
{
	unsigned W = *(const unsigned *)arg;
	const uint64_t *a = x, *b = y;

	for (unsigned w = W; w-- > 0;)
		if (a[w] != b[w])
			return a[w] < b[w] ? -1 : 1;
	return 0;
}

/* Boundary values from sampled splitters: bound[(r - 1) * W], r = 1 .. R-1. */
static int sampled(const struct sort_layout *L, const struct sort_runs *runs,
		   unsigned R, size_t n, uint64_t *bound)
{
	unsigned W = L->words;
	size_t want = (size_t)R * SAMPLES_PER_RANGE, m = 0;
	uint64_t *s = malloc((want + runs->nr) * W * sizeof(*s));

	if (!s)
		return -ENOMEM;
	for (unsigned t = 0; t < runs->nr; t++) {
		size_t len = runs->len[t];
		size_t k = (size_t)((unsigned __int128)len * want / n) + 1;

		if (k > len)
			k = len;
		for (size_t i = 0; i < k; i++)
			key_cp(s + m++ * W,
			       runs->key[t] + (len * (2 * i + 1) / (2 * k)) * W, W);
	}
	qsort_r(s, m, W * sizeof(*s), cmp_keys, &W);
	for (unsigned r = 1; r < R; r++) {
		uint64_t *b = bound + (r - 1) * W;

		key_cp(b, s + (m * r / R) * W, W);
		for (unsigned w = 0; w < W; w++)
			b[w] &= L->slot_mask[w];	/* the slot's start */
	}
	free(s);
	return 0;
}

/* Boundary values at the caller's split points nearest even shares. */
static void at_splits(const struct sort_layout *L, const struct sort_runs *runs,
		      unsigned R, size_t n, const struct jrx_sort_split *sp,
		      size_t nr, uint64_t *bound)
{
	unsigned W = L->words;
	size_t prev = 0;

	for (unsigned r = 1; r < R; r++) {
		size_t target = (size_t)((unsigned __int128)n * r / R);
		size_t lo = prev, hi = nr, pick;
		uint64_t v[SORT_MAX_WORDS];

		/* first split at or after prev whose rank reaches target */
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;

			sort_pack_split(L, &sp[mid], v);
			if (rank_of(runs, v, W) < target)
				lo = mid + 1;
			else
				hi = mid;
		}
		pick = lo < nr ? lo : nr - 1;
		if (lo > prev) {
			size_t rl, rp;

			sort_pack_split(L, &sp[lo - 1], v);
			rp = rank_of(runs, v, W);
			if (lo < nr) {
				sort_pack_split(L, &sp[lo], v);
				rl = rank_of(runs, v, W);
				pick = target - rp <= rl - target ? lo - 1 : lo;
			}
		}
		sort_pack_split(L, &sp[pick], bound + (r - 1) * W);
		prev = pick;
	}
}

int sort_partition(const struct sort_layout *L, const struct sort_runs *runs,
		   unsigned R, const struct jrx_sort_split *splits,
		   size_t nr_splits, size_t *bnd)
{
	unsigned T = runs->nr, W = L->words;
	uint64_t *bound;
	size_t n = 0;
	int ret = 0;

	for (unsigned t = 0; t < T; t++) {
		bnd[t] = 0;
		bnd[(size_t)R * T + t] = runs->len[t];
		n += runs->len[t];
	}
	if (R == 1)
		return 0;
	bound = malloc((size_t)(R - 1) * W * sizeof(*bound));
	if (!bound)
		return -ENOMEM;
	if (nr_splits)
		at_splits(L, runs, R, n, splits, nr_splits, bound);
	else if (n)
		ret = sampled(L, runs, R, n, bound);
	else
		memset(bound, 0, (size_t)(R - 1) * W * sizeof(*bound));
	for (unsigned r = 1; r < R && !ret; r++)
		for (unsigned t = 0; t < T; t++)
			bnd[(size_t)r * T + t] = sort_lower_bound(runs->key[t],
				runs->len[t], bound + (r - 1) * W, W);
	free(bound);
	return ret;
}
