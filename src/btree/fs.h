/*
 * fs.h - an open store: the write path that the workload generator and any
 * modifying tool go through.
 *
 * A struct jrx_fs ties together the array, the journal writer, the bucket
 * table, the accounting accumulator and the node cache.  Every update is
 * journaled (final key values only) and applied to the cached btree at
 * once; dirty nodes are written back later (journal reclaim, clean
 * shutdown) by appending a bset, or by writing a new node and journaling
 * the new pointer as a level > 0 key; full nodes split at insert time, the
 * new children written before their pointers are journaled.
 *
 * Owner: one thread.  Nothing here is thread-safe, except what
 * btree_replay.h lists for a parallel replay: while `lock` is set, the
 * allocator, the accounting accumulator and the write statistics are
 * taken under it.
 */
#ifndef JRX_FS_H
#define JRX_FS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include "../io/array.h"
#include "../journal/journal.h"
#include "accounting.h"
#include "bnode.h"
#include "buckets.h"

#define JRX_CACHE_BUCKETS 4096

struct jrx_fs {
	struct jrx_array   *a;
	struct jrx_journal  j;
	struct jrx_buckets  bt;
	struct jrx_acct	    acct;
	struct jrx_blacklist bl;
	struct jrx_bnode   *cache[JRX_CACHE_BUCKETS];
	size_t		    cached;
	struct jrx_bnode   *root[JRX_BTREE_NR];
	uint32_t	    node_size;
	void		   *iobuf;	/* node_size, aligned */
	bool		    rdonly;
	bool		    dead;	/* crashed or failed: writes nothing more */
	/* recovery (jrx_fs_open_replay): nothing is journaled, a dirty
	 * node gets a bset appended or moves to free space at write-back
	 * (FORMAT.md 7.5), nothing freed is reused */
	bool		    replaying;
	bool		    nowrite;	/* dry run: node writes are skipped and
					   the cache holds the result */
	struct jrx_blacklist_entry bl_store[JRX_SB_MAX_BLACKLIST + 1];
	uint64_t	    ops;	/* workload operations committed */
	/* policy */
	size_t		    jset_target;	/* close a jset past this many bytes */
	double		    reclaim_below;	/* reclaim when free journal < this */
	/* the parallel section (btree_replay.h, fs_parallel.c): set between
	 * jrx_fs_parallel_begin and _end, NULL otherwise */
	pthread_mutex_t	   *lock;
	struct jrx_dev	   *direct;	/* O_DIRECT fds of the devices its
					   workers read and write nodes by */
	/* node writes in flight during a settle (writeback.c), NULL: each
	 * written before the next; owner: the settling thread */
	struct jrx_fs_wbq  *wbq;
	/* hook: a jset reached the devices */
	void		  (*on_durable)(void *ctx, uint64_t seq);
	void		   *hook_ctx;
	/* stats */
	uint64_t	    nodes_written, bsets_appended, splits, rewrites;
	uint64_t	    nodes_read, leaves_read;	/* read from a device */
	uint64_t	    node_bytes_read, node_bytes_written;
	uint64_t	    reclaims;
	/* journal totals, kept past jrx_fs_shutdown / jrx_fs_abandon */
	uint64_t	    jsets_written, journal_bytes, journal_keys;
	uint64_t	    durable_seq;
};

enum {
	JRX_FS_RDONLY	= 1 << 0,	/* read-only view; an unclean array is
					   opened at its newest jset's roots,
					   without replay */
};

/* Opens a clean array for writing, or any array read-only. */
int  jrx_fs_open(struct jrx_fs *fs, struct jrx_array *a, unsigned flags);
/* Clean shutdown: write back everything, last jset, clean superblock. */
int  jrx_fs_shutdown(struct jrx_fs *fs);
/* Power cut: drop everything in memory, write nothing more. */
void jrx_fs_abandon(struct jrx_fs *fs);

/*
 * Open an unclean array for replay at max_seq: roots from the jset
 * `newest` (NULL: the superblock's), bsets past max_seq ignored, the
 * allocator loaded from the alloc btree.  Unless nowrite, the array must
 * be writable.  Apply keys with jrx_fs_replay_key(), then end with
 * jrx_fs_replay_settle() and jrx_fs_replay_commit() (or just settle for a
 * dry run, keeping the fs as an in-memory view).
 */
int  jrx_fs_open_replay(struct jrx_fs *fs, struct jrx_array *a,
			const struct jrx_jset *newest, uint64_t max_seq,
			bool nowrite);
/* One btree insert of a journal key at its level, not journaled. */
int  jrx_fs_replay_key(struct jrx_fs *fs, unsigned btree_id, unsigned level,
		       const struct jrx_bkey *k);
/*
 * Write back every dirty node to free space and bring alloc and
 * accounting up to date (alloc keys of changed buckets, accounting deltas
 * with version = max_seq), repeating until nothing moves.  With depth,
 * up to depth node writes are in flight on a write queue of this
 * thread's (writeback.c; io/wq.h's JRX_IO_AUTO: io_uring, aio or its
 * helpers); 0: one at a time, as the reference recovery writes.
 */
int  jrx_fs_replay_settle(struct jrx_fs *fs, unsigned depth);
/*
 * The atomic commit: sync, then the clean superblock with the new roots,
 * journal_seq = max_seq + pad - 1 and (max_seq, max_seq + pad) added to
 * the blacklist.  Ends the fs.
 */
int  jrx_fs_replay_commit(struct jrx_fs *fs, uint64_t max_seq, unsigned pad);

/* The seq updates are journaled under now. */
static inline uint64_t jrx_fs_seq(const struct jrx_fs *fs)
{
	return fs->j.seq;
}

/*
 * Transactions: updates are journaled and applied at once; commit ends
 * the transaction (alloc keys for every bucket it touched go into the same
 * jset) and may close the jset when it is past its target size.  A jset
 * is never closed inside a transaction.
 */
int  jrx_fs_update(struct jrx_fs *fs, unsigned btree_id,
		   const struct jrx_bkey *k);
int  jrx_fs_commit(struct jrx_fs *fs);

/*
 * Close the open jset and write it (torn: half written, not durable, and
 * the store is dead afterwards).
 */
int  jrx_fs_journal_flush(struct jrx_fs *fs, bool torn);

/* Write back every dirty node. */
int  jrx_fs_writeback_all(struct jrx_fs *fs);

/*
 * First key at or after pos in a btree (whiteouts are never returned), or
 * NULL at the end.  The pointer is valid until the next update.
 */
int  jrx_btree_peek(struct jrx_fs *fs, unsigned btree_id, struct jrx_bpos pos,
		    const struct jrx_bkey **k);
/* The key exactly at pos, or NULL. */
int  jrx_btree_lookup(struct jrx_fs *fs, unsigned btree_id,
		      struct jrx_bpos pos, const struct jrx_bkey **k);

/* Visit every key of a btree in order; cb returns non-zero to stop. */
typedef int (*jrx_key_cb)(void *ctx, unsigned btree_id,
			  const struct jrx_bkey *k);
int  jrx_btree_walk(struct jrx_fs *fs, unsigned btree_id, jrx_key_cb cb,
		    void *ctx);

/* Visit every node (pre-order) with its depth; for fsck and stats. */
typedef int (*jrx_node_cb)(void *ctx, const struct jrx_bnode *n);
int  jrx_btree_walk_nodes(struct jrx_fs *fs, unsigned btree_id,
			  jrx_node_cb cb, void *ctx);
/* Both: each node (pre-order) before its keys; either callback NULL. */
int  jrx_btree_walk_all(struct jrx_fs *fs, unsigned btree_id, jrx_key_cb kcb,
			jrx_node_cb ncb, void *ctx);

/* Whether any cached node has changes not yet written. */
bool jrx_fs_any_dirty_node(const struct jrx_fs *fs);

/* Lowest seq a dirty node still needs, or the open seq. */
uint64_t jrx_fs_last_seq(const struct jrx_fs *fs);

/* Allocate user-data sectors (write path of extents). */
int  jrx_fs_alloc_data(struct jrx_fs *fs, uint32_t want, uint32_t *dev,
		       uint64_t *sector, uint32_t *got, uint32_t *gen);
/* Release user-data sectors (overwritten or deleted extents). */
int  jrx_fs_free_data(struct jrx_fs *fs, uint32_t dev, uint64_t sector,
		      uint32_t sectors);
/* Count an inode created (+1) or deleted (-1) in accounting. */
int  jrx_fs_acct_inodes(struct jrx_fs *fs, int64_t delta);

#endif
