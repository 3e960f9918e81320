/*
 * sort.h - the sort stage of the accelerated recovery (DESIGN.md section
 * 4): journal keys of the replay range in, sorted and deduplicated key
 * ranges out.
 *
 *   extract  the keys of every non-blacklisted jset of the index into
 *            per-thread arrays of (range-packed sort key, reference);
 *   sort     each thread radix-sorts its own run;
 *   merge    the runs are split into disjoint key ranges, one loser-tree
 *            k-way merge per range, in parallel, deduplicating on the fly:
 *            of the keys with equal (level, btree id, position) the newest
 *            (highest seq, then highest offset in its jset) survives,
 *            except accounting keys at level 0, which are deltas: all are
 *            kept, in seq order.
 *
 * The result is exactly the list the reference recovery builds with qsort
 * and dedup (jrx_reference_sort() in recovery/reference.h), in journal
 * order: (level descending, btree id, position, seq, offset in the jset).
 *
 * It knows nothing of how the jsets were read nor of how the keys will be
 * replayed.  Owner: the calling thread; the stage starts and stops its own
 * worker pool (util/pool.h) and shares nothing with it after it returns.
 */
#ifndef JRX_SORT_H
#define JRX_SORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "../journal/jkey.h"
#include "../journal/jindex.h"
#include "../journal/jlist.h"

/* A range boundary the caller wants: a range may start at this key. */
struct jrx_sort_split {
	uint8_t level;
	uint8_t btree_id;
	struct jrx_bpos pos;
};

/*
 * The sort's first pass done ahead, where the journal is read (jscan.h's
 * parsed hook): the range of every field of the keys, gathered jset by
 * jset while each jset's bytes are still in the cache, so the sort stage
 * walks the jsets once, not twice.
 *
 * Any superset of the index's jsets may be given: replicas, jsets
 * outside the replay range or blacklisted, a bisect's reads and then a
 * full scan's.  The ranges then cover more keys than are sorted, which
 * may widen the packed key (sort_int.h), never change the order.  The
 * sort uses it only when every jset it sorts was counted by the parse
 * (jindex.h: counted; the key counts come from there) and no jset given
 * had an entry a sort key cannot hold; otherwise it makes its own pass,
 * as without one (jrx_sort_stats.prescanned says which).
 *
 * Owner: whoever made it.  jrx_sort_prescan_add may be called from many
 * threads at once (each call takes a free slot of its own); the sort
 * reads it when no call is running.
 */
struct jrx_sort_prescan;

/* A prescan with about one slot per thread that will add to it. */
int  jrx_sort_prescan_new(struct jrx_sort_prescan **out, unsigned slots);
/* The valid jsets of v[0, n) (state JRX_JSET_OK, bytes whole). */
void jrx_sort_prescan_add(struct jrx_sort_prescan *ps,
			  const struct jrx_jset_info *v, size_t n);
void jrx_sort_prescan_free(struct jrx_sort_prescan *ps);

struct jrx_sort_opts {
	/*
	 * Workers; 0 means 1.  At most 256, and no more than the jsets to
	 * sort (a jset is never split between threads).
	 */
	unsigned threads;
	unsigned nr_ranges;		/* output ranges; 0 means threads */
	/*
	 * Optional, in journal order: every range boundary is moved to the
	 * nearest of these split points (replay's leaf boundaries), so no
	 * range starts inside a leaf.  Ranges may then be empty.
	 */
	const struct jrx_sort_split *splits;
	size_t nr_splits;
	/*
	 * Keep every key, in journal order, with no dedup: a spilled run
	 * (spill.h), whose keys are deduplicated only when all runs are
	 * merged, once the journal index is whole.
	 */
	bool keep_all;
	/*
	 * A thread's run is radix-sorted in chunks of at most this many
	 * bytes (0: 256 MiB), each a run of the merge, whose sub-ranges read
	 * about an eighth of it each and give the pages back: a big journal
	 * then peaks near the runs' bytes plus a chunk's, not twice the runs
	 * (sort.c).  SIZE_MAX: never cut, for a caller with the memory for
	 * the runs twice over (a 2-way merge whose output is the scratch,
	 * faster than a K-way one into fresh pages).  Tests set it small.
	 */
	size_t chunk_bytes;
	/* Optional: the first pass, done ahead (above). */
	const struct jrx_sort_prescan *prescan;
};

struct jrx_sort_result {
	struct jrx_jkey *v;		/* journal order, deduplicated; NULL
					 * when nr is 0 */
	size_t nr;
	/* range r is v[range[r] .. range[r + 1]); range[nr_ranges] == nr */
	size_t *range;
	unsigned nr_ranges;
};

struct jrx_sort_stats {
	double	 extract_seconds;
	double	 sort_seconds;		/* per-thread radix sorts */
	double	 merge_seconds;		/* partition + merge + dedup */
	uint64_t keys_in;		/* keys extracted */
	uint64_t keys_out;		/* after dedup */
	unsigned key_bits;		/* bits of the packed sort key */
	bool	 prescanned;		/* the layout came from opts.prescan */
	unsigned runs;			/* runs merged: threads x chunks */
	/*
	 * u64 words per packed key: 1 or 2 for common journals; 3 or 4 for
	 * very wide ones (e.g. inodes over the whole u64 range with wide
	 * offsets and snapshots), sorted by the same code, more slowly.
	 */
	unsigned key_words;
	/*
	 * Most bytes the stage held at once (its own buffers, not the
	 * jsets): about 8 per key for the runs plus 16 for scratch and
	 * output with 1-word keys, 16 + 16 with 2-word keys; a journal
	 * sorted in chunks, the runs plus a chunk per thread, or at the
	 * merge's end what is left of the runs and the output.
	 */
	uint64_t peak_bytes;
};

/*
 * Sort the keys of ix.  Returns 0 or a negative errno / -JRX_ERR_* with a
 * message in jrx_diag().  st may be NULL.
 */
int  jrx_sort_journal(const struct jrx_jindex *ix,
		      const struct jrx_sort_opts *o,
		      struct jrx_sort_result *res, struct jrx_sort_stats *st);
void jrx_sort_result_free(struct jrx_sort_result *res);

/*
 * Sort n (< 2^32) keys of two u64 words each, as the 128-bit numbers
 * k[2i + 1] << 64 | k[2i] (the high word second), ascending, on the
 * calling thread: the MSD radix sort of the journal's runs (radix.c),
 * for other stages' records.  tmp: room for n keys.
 */
void jrx_sort_u128(uint64_t *keys, uint64_t *tmp, size_t n);

#endif
