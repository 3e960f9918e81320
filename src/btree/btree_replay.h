/*
 * btree_replay.h - what a replay may do to a store opened for replay
 * (jrx_fs_open_replay) besides inserting keys one by one: read a node
 * without the cache, append a bset to a committed node without reading
 * it, write a node's keys as the pieces the layout rule gives (layout.h),
 * free a node's old place, and install the results in place of the old
 * node (cache, root, parent pointers).
 *
 * Threads: jrx_fs_read_node (and its halves), jrx_fs_append_bset,
 * jrx_fs_write_piece(s) and jrx_fs_free_node_loc may run on several
 * threads at once inside a parallel section (jrx_fs_parallel_begin/end): the store's lock then
 * guards the allocator, the accounting accumulator and the write
 * statistics, and nodes are read and written through the store's own
 * O_DIRECT descriptors (no page-cache copy, no inode lock between
 * writers); they do not touch the node cache.  Everything else here runs
 * on the thread that owns the fs, outside a parallel section.
 */
#ifndef JRX_BTREE_REPLAY_H
#define JRX_BTREE_REPLAY_H

#include "fs.h"
#include "../io/wq.h"

/*
 * Open the parallel section: the lock, and a second, O_DIRECT descriptor
 * of every member (jrx_dev_reopen: never the path again).  End closes
 * both; the commit's fsync covers what the workers wrote.
 */
int  jrx_fs_parallel_begin(struct jrx_fs *fs);
void jrx_fs_parallel_end(struct jrx_fs *fs);

/* Read and check the node ptr names (not cached: the caller owns it). */
int  jrx_fs_read_node(struct jrx_fs *fs, unsigned btree_id, unsigned level,
		      const struct jrx_bkey *ptr, struct jrx_bnode **out);
/*
 * jrx_fs_read_node in two halves, for a caller that reads the image
 * itself, asynchronously (a write queue's read, io/wq.h): begin checks
 * the pointer and allocates the image; the caller reads rd->len bytes at
 * rd->off of rd->dev into rd->img, whole; end checks and decodes them
 * into *out, taking the image whatever the outcome.  cancel frees the
 * image of a read that failed or never ran.
 */
struct jrx_node_read {
	struct jrx_dev	*dev;
	uint64_t	 off;
	size_t		 len;
	void		*img;
};
int  jrx_fs_node_read_begin(struct jrx_fs *fs, unsigned btree_id,
			    unsigned level, const struct jrx_bkey *ptr,
			    struct jrx_node_read *rd);
int  jrx_fs_node_read_end(struct jrx_fs *fs, unsigned btree_id,
			  unsigned level, const struct jrx_bkey *ptr,
			  struct jrx_node_read *rd, struct jrx_bnode **out);
void jrx_fs_node_read_cancel(struct jrx_node_read *rd);
/*
 * Read the children of parent (an interior node; those with want[i], or
 * all with want NULL) that are not cached, several at once, and cache
 * them (prefetch.c).  Best effort: one that fails stays uncached for the
 * visit to read and report.  Only on the store's own thread, outside a
 * parallel section (it is a no-op inside one).
 */
void jrx_fs_prefetch(struct jrx_fs *fs, const struct jrx_bnode *parent,
		     const bool *want);
/* The cached node ptr names, or NULL. */
struct jrx_bnode *jrx_fs_cached_node(struct jrx_fs *fs,
				     const struct jrx_bkey *ptr);
/* The node ptr names, from the cache or read into it. */
int  jrx_fs_get_node(struct jrx_fs *fs, unsigned btree_id, unsigned level,
		     const struct jrx_bkey *ptr, struct jrx_bnode **out);
/* The pointer key (JRX_PTR_U64S words) to node n. */
void jrx_fs_node_ptr(const struct jrx_bnode *n, struct jrx_bkey *k);

/*
 * Write keys[0, nr) as one new node covering [m->min, m->max] in a new
 * place (m->nonce is ignored: a new node gets a new nonce).  *out is the
 * node as written: clean, fresh, its keys pointing into its image.  With
 * q the write is queued, under jrx_fs_write_pieces()'s rule: the caller
 * drains q before it frees, installs or changes the piece.
 */
int  jrx_fs_write_piece(struct jrx_fs *fs, const struct jrx_node_meta *m,
			const struct jrx_bkey *const *keys, size_t nr,
			struct jrx_wq *q, struct jrx_bnode **out);
/*
 * A piece's taker: each piece of a cut, in key order, handed over as
 * soon as its write is queued (under jrx_fs_write_pieces()'s rule).  It
 * owns the piece from then, also when it returns an error, which stops
 * the cut.
 */
typedef int (*jrx_piece_fn)(void *ctx, struct jrx_bnode *piece);
/*
 * Write keys[0, nr), the final keys of a node covering [m->min, m->max],
 * bytes of them in all (the sum of their u64s * 8, which the caller has
 * from its merge), as the pieces of the layout rule, each handed to
 * take(ctx, piece) as it is written: a node with many pieces never holds
 * all their images at once unless its taker keeps them.  On an error the
 * pieces taken so far are the taker's.
 */
int  jrx_fs_cut_pieces(struct jrx_fs *fs, const struct jrx_node_meta *m,
		       const struct jrx_bkey *const *keys, size_t nr,
		       uint64_t bytes, struct jrx_wq *q, jrx_piece_fn take,
		       void *ctx);
/*
 * jrx_fs_cut_pieces() into an array: *pieces gets a malloc'd array of
 * the *k written nodes in key order.  With q (the calling thread's write
 * queue) the writes are queued, as jrx_fs_append_bset's: the pieces'
 * images must outlive them, so the caller drains q before it frees,
 * installs or changes a piece, or the commit syncs.
 */
int  jrx_fs_write_pieces(struct jrx_fs *fs, const struct jrx_node_meta *m,
			 const struct jrx_bkey *const *keys, size_t nr,
			 struct jrx_wq *q, struct jrx_bnode ***pieces,
			 size_t *k);
/*
 * Append keys[0, nr) (sorted, whiteouts included: what the node gains) as
 * one bset at the written tail of the committed node ptr names, with
 * journal_seq = the replay's seq, without reading the node; the caller
 * checked that it fits (jrx_bset_append_fits at blocks * 4096).  *out is the node as it
 * now is, for jrx_fs_install_pieces(): same place, longer written part,
 * not fresh, holding copies of view[0, nview) as its keys (its merged
 * keys, when the caller keeps it; else pass none).  With q (the calling
 * thread's write queue, io/wq.h) the write is queued and this returns
 * once it is; the caller drains q before anything reads the node or the
 * commit syncs, and a failed write fails the drain.
 */
int  jrx_fs_append_bset(struct jrx_fs *fs, const struct jrx_bkey *ptr,
			unsigned btree_id, unsigned level,
			const struct jrx_bkey *const *keys, size_t nr,
			const struct jrx_bkey *const *view, size_t nview,
			struct jrx_wq *q, struct jrx_bnode **out);
/* Free the place of a node the new pieces replace. */
int  jrx_fs_free_node_loc(struct jrx_fs *fs, uint32_t dev, uint64_t sector);

/*
 * Put pieces[0, k) in place of a node of btree_id at level: the old node
 * leaves the cache (old: the cached node, or NULL), then the pieces become
 * the root (was_root) or their pointers go into the parent, which becomes
 * dirty.  keep: the pieces are cached (they must be when was_root), else
 * they are freed once their pointers are in place.  Takes the pieces and
 * the array.
 */
int  jrx_fs_install_pieces(struct jrx_fs *fs, unsigned btree_id,
			   unsigned level, struct jrx_bnode *old, bool was_root,
			   struct jrx_bnode **pieces, size_t k, bool keep);

#endif
