/*
 * btree_int.h - what the files of an open store (fs.h) share and nobody
 * else uses.  Not part of the API; fs.h and btree_replay.h are.
 *
 *   btree.c		node cache, descent, lookup, walks, roots
 *   alloc.c		places for nodes and user data (the allocator)
 *   insert.c		inserts, splits, new roots, parent pointers
 *   writeback.c	writing dirty nodes back (append, rewrite, split)
 *   replay_layout.c	a replay's write-back: pieces by the layout rule
 *   fs.c		opening and closing a store
 *   commit.c		transactions and closing a jset
 *   fs_replay.c	a store opened for replay: keys, settle, commit
 *   fs_parallel.c	the parallel section: lock and O_DIRECT descriptors
 */
#ifndef JRX_BTREE_INT_H
#define JRX_BTREE_INT_H

#include "fs.h"

/* fs->lock, inside a parallel section (fs_parallel.c, btree_replay.h). */
static inline void jrx_fs_lock(struct jrx_fs *fs)
{
	if (fs->lock)
		pthread_mutex_lock(fs->lock);
}

static inline void jrx_fs_unlock(struct jrx_fs *fs)
{
	if (fs->lock)
		pthread_mutex_unlock(fs->lock);
}

/* --- btree.c */

/* Put n in, take n out of, empty (freeing every node) the node cache. */
void jrx_fs_cache_add(struct jrx_fs *fs, struct jrx_bnode *n);
void jrx_fs_cache_del(struct jrx_fs *fs, struct jrx_bnode *n);
void jrx_fs_cache_free(struct jrx_fs *fs);
/* The node at `level` whose range holds pos, read into the cache. */
int  jrx_btree_descend(struct jrx_fs *fs, unsigned btree_id, unsigned level,
		       struct jrx_bpos pos, struct jrx_bnode **out);
/* Make the node ptr names the root of btree_id. */
int  jrx_fs_set_root(struct jrx_fs *fs, unsigned btree_id, unsigned level,
		     const struct jrx_bkey *ptr);
/* The pointer key to a btree's root (JRX_PTR_U64S words). */
void jrx_fs_root_ptr(const struct jrx_fs *fs, unsigned btree_id,
		     struct jrx_bkey *k);

/* --- alloc.c */

/* A new place (dev, sector) and nonce for n; fresh while replaying. */
int  jrx_fs_node_alloc_loc(struct jrx_fs *fs, struct jrx_bnode *n);

/* --- insert.c */

/* Insert k at level under seq: apply (split if full), or defer (replay). */
int  jrx_btree_insert(struct jrx_fs *fs, unsigned btree_id, unsigned level,
		      const struct jrx_bkey *k, uint64_t seq);
/* A leaf key already journaled (or, in a replay, not to be). */
int  jrx_btree_insert_journaled(struct jrx_fs *fs, unsigned btree_id,
				const struct jrx_bkey *k);
/* Journal (unless replaying) and apply the pointer to n in its parent. */
int  jrx_btree_update_parent(struct jrx_fs *fs, struct jrx_bnode *n);
/* A new root at level above kids[0, k) (see insert.c). */
int  jrx_btree_new_root(struct jrx_fs *fs, unsigned btree_id, unsigned level,
			struct jrx_bnode *const *kids, size_t k);
/* Split n into two new nodes written at once; n is freed. */
int  jrx_btree_split(struct jrx_fs *fs, struct jrx_bnode *n);

/* --- writeback.c */

/* Write all of n's keys as the whole node at n's place. */
int  jrx_fs_node_write_full(struct jrx_fs *fs, struct jrx_bnode *n);
/* Append n's unwritten keys past its tail and update its pointer. */
int  jrx_fs_node_append(struct jrx_fs *fs, struct jrx_bnode *n);

/* --- replay_layout.c */

/* Write back a dirty node during a replay (layout.h). */
int  jrx_fs_replay_writeback(struct jrx_fs *fs, struct jrx_bnode *n);

/*
 * Node writes in flight (writeback.c): from jrx_fs_wb_begin until
 * jrx_fs_wb_end, jrx_fs_node_append and jrx_fs_node_write_full queue
 * their writes, up to depth, each image in a buffer of its own, and
 * jrx_fs_writeback_all waits for them after each batch of a level (a
 * node is written at most once in a batch, so two writes of one place
 * are never in flight together).  Where io_uring is refused, begin
 * leaves writes synchronous.  end waits for every write and frees the
 * queue: ret, or the queue's first error.
 */
int  jrx_fs_wb_begin(struct jrx_fs *fs, unsigned depth);
/* The queue in flight, for writes whose image a node keeps (cut
 * pieces), or NULL: write synchronously. */
struct jrx_wq *jrx_fs_wb_queue(struct jrx_fs *fs);
int  jrx_fs_wb_end(struct jrx_fs *fs, int ret);

/* --- fs.c */

/*
 * The node I/O buffer, the bucket table (empty) and the journal writer at
 * seq, for a store whose a and node_size are set; jrx_fs_abandon() frees
 * what was made.
 */
int  jrx_fs_init_io(struct jrx_fs *fs, uint64_t seq);

/* Roots from the btree_root entries of jset j; *found if any. */
int  jrx_fs_roots_from_jset(struct jrx_fs *fs, const struct jrx_jset *j,
			    bool *found);
/* The superblock's roots (unless have_roots), then the allocator. */
int  jrx_fs_load_roots_and_alloc(struct jrx_fs *fs, bool have_roots);
/* The current roots into the superblock's clean section. */
void jrx_fs_roots_to_sb(struct jrx_fs *fs);

/* --- commit.c */

/*
 * Alloc keys for every bucket changed, journaled (unless replaying) and
 * applied; repeats while applying them changes more buckets.
 */
int  jrx_fs_drain_alloc(struct jrx_fs *fs);
/* Accounting deltas become keys (version = seq) and btree totals. */
int  jrx_fs_drain_accounting(struct jrx_fs *fs);
/*
 * Close and write the open jset (alloc and accounting drained, roots and
 * clock added), without journal reclaim: jrx_fs_journal_flush() less its
 * write-back, which calls this when what it journals fills a jset.
 */
int  jrx_fs_journal_write_open(struct jrx_fs *fs, bool torn);

#endif
