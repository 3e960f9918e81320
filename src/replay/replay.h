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
 * reference's key for key; and because nodes are cut by a rule of their
 * final keys (layout.h), it writes as many nodes as the reference and
 * leaves the same alloc and accounting btrees.
 *
 * Threads: jrx_replay_parallel() runs on the thread that owns fs and
 * starts its workers as one pool (util/pool.h: the merge and the cut of
 * sliced leaves are two phases; a worker whose thread did not start runs
 * on this thread, unpinned); replay_par.c says who owns what while they
 * run.
 */
#ifndef JRX_REPLAY_H
#define JRX_REPLAY_H

#include <stddef.h>
#include <stdint.h>
#include "placement.h"
#include "replay_stats.h"
#include "../btree/fs.h"
#include "../journal/jkey.h"

struct jrx_replay_opts {
	unsigned threads;		/* workers; 0: one per online core */
	enum jrx_numa_mode numa;
	unsigned units_per_worker;	/* balance: units aimed at per worker
					   (0: 8) */
	unsigned unit_keys;		/* units of at most this many journal
					   keys (0: from the balance) */
	unsigned write_depth;		/* appended bsets in flight per worker
					   on an io_uring of its own (io/wq.h);
					   0: one synchronous write at a time */
	/* units done of all units, from worker 0's thread only; may be NULL */
	void	(*progress)(void *ctx, uint64_t done, uint64_t total);
	void	 *progress_ctx;
};

/*
 * v[i].jset numbers a jset of the journal index; jset_seq[v[i].jset] is its
 * seq (jrx_jindex_seqs()).  *skipped counts accounting deltas already in
 * the btree.
 */
int jrx_replay_parallel(struct jrx_fs *fs, const uint64_t *jset_seq,
			const struct jrx_jkey *v, size_t n,
			const struct jrx_replay_opts *o,
			struct jrx_replay_stats *st, uint64_t *skipped);

#endif
