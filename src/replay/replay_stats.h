/*
 * replay_stats.h - what a parallel replay reports (replay.h): its
 * placement, plan and every worker's share.  Plain data, filled by the
 * replay and carried whole in the recovery report (recovery/report.h).
 */
#ifndef JRX_REPLAY_STATS_H
#define JRX_REPLAY_STATS_H

#include <stdint.h>
#include "placement.h"

#define JRX_REPLAY_MAX_WORKERS 256

struct jrx_replay_worker_stats {
	unsigned group;			/* placement group (NUMA node) */
	int	 pu;			/* PU it was pinned to, -1: none */
	uint64_t units, keys, leaves_read, pieces;
	uint64_t appended;		/* leaves it appended a bset to */
	uint64_t read_ahead;		/* of its leaves_read, read through its
					   queue ahead of their units */
	bool	 queued_writes;		/* its appends went through a write
					   queue (io/wq.h), not one by one */
	uint64_t weight;		/* the plan's estimate of its work */
	uint64_t unit_lo, unit_hi;	/* lowest and highest unit index it
					   took (units are in key order);
					   unit_lo > unit_hi: none */
	double	 busy_seconds;
	char	 helper_pus[64];	/* PUs its write queue's helpers were
					   given (placement.h), "": left where
					   they were */
};

struct jrx_replay_stats {
	unsigned workers, groups;
	unsigned threads;		/* worker threads that started (util/
					   pool.h: the caller ran the rest) */
	int	 bind_errno;		/* a pinning that failed (not fatal) */
	char	 placement[256];	/* jrx_placement_describe() */
	uint64_t interior_keys, alloc_keys, leaf_keys;
	uint64_t leaves, units, sliced_leaves;
	uint64_t leaves_read, pieces;
	uint64_t leaves_read_ahead;	/* of those, read through a worker's
					   queue while it worked on the units
					   before (replay_par.c) */
	uint64_t appended_leaves;	/* leaves that got one bset appended */
	uint64_t streamed_leaves;	/* too many keys for a window: replayed
					   from a spilled source, one by one */
	uint64_t streamed_parts;	/* their walks that wrote pieces, each
					   on a thread of its own */
	unsigned write_depth;		/* the option; 0: synchronous writes */
	unsigned images;		/* node images a worker holds for its
					   I/O (jrx_replay_opts.images, as
					   used) */
	unsigned queued_workers;	/* workers whose write queue opened */
	uint64_t group_first[JRX_PLACE_MAX_GROUPS + 1];	/* units of group g:
					   [group_first[g], group_first[g+1]) */
	double	 open_seconds;		/* the store opened for replay (roots
					   and the alloc btree loaded): set by
					   the recovery, not the replay */
	double	 plan_seconds, leaves_seconds, install_seconds,
		 settle_seconds;
	struct jrx_replay_worker_stats w[JRX_REPLAY_MAX_WORKERS];
};

#endif
