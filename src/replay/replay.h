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

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "placement.h"
#include "replay_stats.h"
#include "../btree/fs.h"
#include "../io/engine.h"
#include "../journal/jkey.h"

/* The most node images a worker holds for its I/O: 8 leaves read ahead
 * and JRX_DROPS_BATCH (piece_drops.h) pieces waiting for their writes. */
#define JRX_REPLAY_IMAGES_MAX	72u

struct jrx_replay_opts {
	unsigned threads;		/* workers; 0: one per online core */
	enum jrx_numa_mode numa;
	unsigned units_per_worker;	/* balance: units aimed at per worker
					   (0: 8) */
	unsigned unit_keys;		/* units of at most this many journal
					   keys (0: from the balance) */
	unsigned write_depth;		/* appended bsets in flight per worker
					   on a write queue of its own
					   (io/wq.h); 0: one synchronous write
					   at a time */
	enum jrx_io_backend write_io;	/* the queues' interface
					   (jrx_wq_open; AUTO if 0) */
	unsigned images;		/* node images a worker (or a streamed
					   leaf's part) holds for its I/O:
					   leaves read ahead, and written
					   pieces whose writes have not landed;
					   0 or more than
					   JRX_REPLAY_IMAGES_MAX: that many.
					   A memory limit sets fewer
					   (recovery/budget.h) */
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

/*
 * The same replay in windows, for keys that do not fit in memory at once
 * (a spilled sort, sort/spill.h), in three steps:
 *  begin   the sequential passes over v[0, n): the interior keys and the
 *          alloc and accounting keys (any leaf keys of other btrees in v
 *          are left alone), and the workers' placement;
 *  window  the level-0 keys of the other btrees, v[0, n) in journal
 *          order, each window after the previous one: their leaves are
 *          planned, merged or appended and installed as above.  Unless
 *          last, the keys of the window's last leaf are held back (more
 *          of them may follow): *done says how many keys were replayed,
 *          and the caller starts the next window with v[*done, n).
 *          *done == 0 means every key fell in one leaf: give more;
 *  end     write-back level by level, alloc and accounting (settle), and
 *          the session freed; abort frees it without that.
 * Leaves are cut by their final keys (btree/layout.h), so a leaf whose
 * keys all reach it in one window is laid out as by jrx_replay_parallel();
 * that is why windows end at leaf boundaries.  Every key the stats count
 * adds up over the windows.
 */
struct jrx_replay_session;

int  jrx_replay_begin(struct jrx_replay_session **s, struct jrx_fs *fs,
		      const uint64_t *jset_seq, const struct jrx_jkey *v,
		      size_t n, const struct jrx_replay_opts *o,
		      struct jrx_replay_stats *st, uint64_t *skipped);
int  jrx_replay_window(struct jrx_replay_session *s, const struct jrx_jkey *v,
		       size_t n, bool last, size_t *done);
/*
 * A leaf whose keys do not fit in a window even alone (*done == 0 at the
 * window's most), replayed streaming, holding one node a thread at a time:
 *  begin   routes the leaf's first key, reads the leaf, and says where
 *          the leaf ends (*max: its last position);
 *  count   each of the leaf's journal keys, in order, as the caller
 *          gathers them somewhere it can read them again: the final
 *          keys' bytes and count, which the layout rule needs first;
 *  at      where the count stands, before the next key: a part of the
 *          second walk may start there (its source then starts with that
 *          key);
 *  end     the second walk over the sources, parts of the same keys in
 *          order (src[0] from the leaf's first key, each src[i] where
 *          jrx_replay_stream_at() stood), writes the pieces the rule
 *          gives (the same as in one window) and installs them; frees
 *          the stream (abort frees it without that).  The parts run on
 *          threads of their own (up to the session's workers; one when
 *          the leaf has few pieces), each writing the pieces that start
 *          in it: a source's rewind, next and close all run on the
 *          thread that walks it, and sources that are not walked are
 *          neither rewound nor closed.
 */
/* Where a source starts in the leaf's second walk. */
struct jrx_replay_at {
	size_t	 leaf_i;		/* the leaf's own keys before it */
	uint64_t before;		/* final key bytes before it */
	uint32_t prev_bytes;		/* the last of those keys' bytes (0: none) */
	struct jrx_bpos prev;		/* and its position */
};

struct jrx_replay_source {
	int  (*rewind)(void *ctx);	/* to its first key: 0 or error */
	/* the next key in journal order: 1 and *k (valid until the next
	 * call), 0 and *k NULL at the end, or an error */
	int  (*next)(void *ctx, const struct jrx_bkey **k);
	void (*close)(void *ctx);	/* after the walk (NULL: nothing) */
	void  *ctx;
	struct jrx_replay_at at;	/* zero for src[0] */
};
struct jrx_replay_stream;

int  jrx_replay_stream_begin(struct jrx_replay_session *s,
			     const struct jrx_jkey *first,
			     struct jrx_replay_stream **h, struct jrx_bpos *max);
void jrx_replay_stream_count(struct jrx_replay_stream *h,
			     const struct jrx_bkey *k);
void jrx_replay_stream_at(const struct jrx_replay_stream *h,
			  struct jrx_replay_at *at);
int  jrx_replay_stream_end(struct jrx_replay_stream *h,
			   const struct jrx_replay_source *src, size_t nsrc);
void jrx_replay_stream_abort(struct jrx_replay_stream *h);
int  jrx_replay_end(struct jrx_replay_session *s);
void jrx_replay_abort(struct jrx_replay_session *s);

#endif
