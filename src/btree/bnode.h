/*
 * bnode.h - a btree node in memory: the merged, sorted view of its keys,
 * the keys changed since it was last written (whiteouts included), and
 * where it lives.  Decoding merges the bsets of an on-disk node; encoding
 * writes either a whole new node (header + one bset) or one bset appended
 * past the written tail.
 *
 * Keys live in the node's blob (blob.h: the image the node was decoded
 * from or encoded into) or, once changed in memory, in a malloc'd copy of
 * their own; a key is freed with the node only if it is not inside the
 * blob.
 *
 * Invariants (asserted in debug builds):
 *  - keys[] is strictly increasing by position and holds no whiteout;
 *  - pend[] is strictly increasing by position;
 *  - every key lies in [min, max];
 *  - node_hdr + bset + live_u64s * 8 <= node_size after every insert
 *    (the caller splits otherwise).
 */
#ifndef JRX_BNODE_H
#define JRX_BNODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "../format/bkey.h"

struct jrx_bnode {
	struct jrx_bnode *hnext;	/* node cache hash chain */
	uint32_t	  dev;
	uint64_t	  sector;
	uint64_t	  nonce;
	uint8_t		  btree_id;
	uint8_t		  level;
	struct jrx_bpos	  min, max;
	struct jrx_bkey	**keys;		/* live view */
	size_t		  nr, cap;
	size_t		  live_u64s;
	struct jrx_bkey	**pend;		/* unwritten changes */
	size_t		  pnr, pcap;
	size_t		  pend_u64s;
	uint32_t	  written;	/* bytes written: end of the last bset */
	uint32_t	  bsets;	/* bsets read or written */
	uint64_t	  dirty_seq;	/* oldest seq among pend (0: clean) */
	bool		  fresh;	/* placed by the running recovery: no
					   committed state points at it */
	bool		  mem_only;	/* a dry run appended to it: the device
					   lacks its last bsets */
	char		 *blob;		/* image the keys point into (owned) */
	size_t		  blob_len;
	struct jrx_bkey	**in;		/* deferred updates, arrival order */
	size_t		  nin, incap;
};

/* Blacklisted journal seqs: sorted, inclusive ranges. */
struct jrx_blacklist {
	const struct jrx_blacklist_entry *v;
	size_t nr;
};

bool jrx_blacklisted(const struct jrx_blacklist *bl, uint64_t seq);

struct jrx_bnode *jrx_bnode_alloc(void);
void jrx_bnode_free(struct jrx_bnode *n);
/*
 * Free n but not its blob, which is returned (NULL: it had none) for
 * the caller to free with jrx_blob_free() or to read another node into
 * (a reader that recycles its images); the keys in it go with n.
 */
void *jrx_bnode_free_keep_blob(struct jrx_bnode *n);

/*
 * Decode a node read from disk, whose written part is its first limit
 * bytes (the pointer's blocks * 4096; only those need to have been read).
 * The header must verify against magic; every bset in [0, limit) must
 * validate and the last one ends in limit's block (FORMAT.md 7.4); bsets
 * whose journal_seq is blacklisted are skipped.  Keys are validated for
 * the node's btree and level and must lie inside [min, max] and be
 * sorted within their bset.  *why says what failed.
 */
int jrx_bnode_decode(struct jrx_bnode *n, const void *buf, size_t node_size,
		     size_t limit, uint64_t magic,
		     const struct jrx_blacklist *bl, const char **why);
/*
 * The same, but n takes img (a blob of node_size bytes, blob.h) as its
 * own, whether decoding succeeds or not: no copy is made.
 */
int jrx_bnode_decode_adopt(struct jrx_bnode *n, void *img, size_t node_size,
			   size_t limit, uint64_t magic,
			   const struct jrx_blacklist *bl, const char **why);
/*
 * n (reset) takes img, a node image jrx_bnode_encode() just made (bytes
 * long), as its blob and its keys as its view: the node as written, clean.
 * On failure (no memory) n does not own img.
 */
int jrx_bnode_adopt_image(struct jrx_bnode *n, void *img, size_t bytes);

/* Lower bound: index of the first key with position >= p. */
size_t jrx_bnode_lower_bound(const struct jrx_bnode *n, struct jrx_bpos p);

/*
 * Apply one update (a whiteout deletes) to the view and record it in
 * pend; seq is the journal seq it came from (0: not journaled, e.g. bulk
 * load, which leaves pend alone).
 */
int jrx_bnode_apply(struct jrx_bnode *n, const struct jrx_bkey *k, uint64_t seq);

/*
 * Record one update without touching the view (replay): O(1) whatever
 * the node's size.  The view is brought up to date by
 * jrx_bnode_settle(), which every reader of keys[] must call first; the
 * result is what jrx_bnode_apply() in arrival order would give.  The
 * node becomes dirty; settling also records the newest update of every
 * position in pend (whiteouts once the node has been written), as apply
 * does, so a replay can append exactly what changed.
 */
int jrx_bnode_defer(struct jrx_bnode *n, const struct jrx_bkey *k,
		    uint64_t seq);
int jrx_bnode_settle_deferred(struct jrx_bnode *n);
static inline int jrx_bnode_settle(struct jrx_bnode *n)
{
	return n->nin ? jrx_bnode_settle_deferred(n) : 0;
}

/* Bytes the node's live keys take when written as one new node. */
static inline size_t jrx_bnode_compact_bytes(const struct jrx_bnode *n)
{
	return sizeof(struct jrx_btree_node) + sizeof(struct jrx_bset) +
		n->live_u64s * 8;
}

/* The written part in blocks: what a pointer to n says (FORMAT.md 6.4.7). */
static inline uint32_t jrx_bnode_blocks(const struct jrx_bnode *n)
{
	return (n->written + JRX_BLOCK_SIZE - 1) / JRX_BLOCK_SIZE;
}

/* Whether pend fits as a bset appended past the written tail. */
bool jrx_bnode_append_fits(const struct jrx_bnode *n, size_t node_size);

/*
 * Encode the whole node (header + one bset of keys[lo, hi)) into buf of
 * node_size bytes (zeroed past the end).  Returns the bytes to write
 * (block aligned).
 */
size_t jrx_bnode_encode(const struct jrx_bnode *n, size_t lo, size_t hi,
			void *buf, size_t node_size, uint64_t magic,
			uint64_t journal_seq);

/* What a node header carries, for encoding keys held outside a node. */
struct jrx_node_meta {
	uint64_t	nonce;
	uint8_t		btree_id, level;
	struct jrx_bpos	min, max;
};

/* jrx_bnode_encode() of keys[0, nr) under meta. */
size_t jrx_node_encode_keys(const struct jrx_node_meta *m,
			    const struct jrx_bkey *const *keys, size_t nr,
			    void *buf, size_t node_size, uint64_t magic,
			    uint64_t journal_seq);

/*
 * Encode keys[0, nr) as one bset that starts at byte off (block aligned)
 * of a node with this nonce, into buf (block aligned, room for the bset
 * rounded up to a block).  Returns the bytes to write at off.
 */
size_t jrx_bset_encode_keys(void *buf, uint64_t nonce, size_t off,
			    const struct jrx_bkey *const *keys, size_t nr,
			    uint64_t journal_seq);

/*
 * Encode pend as one bset at the next block boundary past `written` into
 * buf (block aligned, room for node_size).  *off gets the byte offset in
 * the node and the return value the bytes to write there.
 */
size_t jrx_bnode_encode_append(const struct jrx_bnode *n, void *buf,
			       uint64_t journal_seq, size_t *off);

/* After a successful write: pend is cleared, the node is clean. */
void jrx_bnode_written(struct jrx_bnode *n, uint32_t written);

/* Make n a fresh empty node (keeps nothing). */
void jrx_bnode_reset(struct jrx_bnode *n);

/* Take keys[from, nr) out of a into b (b empty); fixes live_u64s. */
int jrx_bnode_move_tail(struct jrx_bnode *a, struct jrx_bnode *b, size_t from);

#endif
