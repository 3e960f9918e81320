/*
 * replay.h - replaying the sort stage's output (journal/jkey.h arrays in
 * journal order, deduplicated) into a store opened for replay
 * (jrx_fs_open_replay()).  It knows nothing of how the keys were read or
 * sorted.
 *
 * The parallel replay (DESIGN.md section 2 points 5-8, section 4):
 *  1. on the calling thread: the journal's alloc keys into the allocator,
 *     the interior keys (level > 0), then the alloc and accounting keys,
 *     one insert each, in list order;
 *  2. plan: the leaf keys of every other btree are routed to the leaves
 *     of the committed tree (as a descent would route them) and cut into
 *     work units: a leaf, or a slice of a leaf that receives many keys;
 *  3. workers pinned one group per NUMA node (placement.h), each group
 *     taking a contiguous run of units: read the leaf, merge the sorted
 *     keys into it, write it out as the layout rule's pieces
 *     (btree/layout.h); slices of one leaf are merged first and cut
 *     together after a barrier;
 *  4. on the calling thread, in key order: the new leaves' pointers into
 *     their parents, then write-back level by level and alloc and
 *     accounting brought up to date (jrx_fs_replay_settle()).
 * Keys at different positions commute, so the end state is the
 * reference's, node for node.
 */
#ifndef JRX_REPLAY_H
#define JRX_REPLAY_H

#include <stddef.h>
#include <stdint.h>
#include "placement.h"
#include "../btree/fs.h"
#include "../journal/jkey.h"
#include "../recovery/jindex.h"

#define JRX_REPLAY_MAX_WORKERS 256

struct jrx_replay_opts {
	unsigned threads;		/* workers; 0: one per online core */
	enum jrx_numa_mode numa;
	unsigned units_per_worker;	/* balance: units aimed at per worker
					   (0: 8) */
	unsigned unit_keys;		/* units of at most this many journal
					   keys (0: from the balance) */
};

struct jrx_replay_worker_stats {
	unsigned group;			/* placement group (NUMA node) */
	int	 pu;			/* PU it was pinned to, -1: none */
	uint64_t units, keys, leaves_read, pieces;
	uint64_t weight;		/* the plan's estimate of its work */
	uint64_t unit_lo, unit_hi;	/* lowest and highest unit index it
					   took (units are in key order);
					   unit_lo > unit_hi: none */
	double	 busy_seconds;
};

struct jrx_replay_stats {
	unsigned workers, groups;
	int	 bind_errno;		/* a pinning that failed (not fatal) */
	char	 placement[256];	/* jrx_placement_describe() */
	uint64_t interior_keys, alloc_keys, leaf_keys;
	uint64_t leaves, units, sliced_leaves;
	uint64_t leaves_read, pieces;
	uint64_t group_first[JRX_PLACE_MAX_GROUPS + 1];	/* units of group g:
					   [group_first[g], group_first[g+1]) */
	double	 plan_seconds, leaves_seconds, install_seconds,
		 settle_seconds;
	struct jrx_replay_worker_stats w[JRX_REPLAY_MAX_WORKERS];
};

/* *skipped counts accounting deltas already in the btree. */
int jrx_replay_parallel(struct jrx_fs *fs, const struct jrx_jindex *ix,
			const struct jrx_jkey *v, size_t n,
			const struct jrx_replay_opts *o,
			struct jrx_replay_stats *st, uint64_t *skipped);

#endif
