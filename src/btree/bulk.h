/*
 * bulk.h - bottom-up construction of a btree from keys given in order:
 * leaves filled to a target, then each interior level, written straight to
 * disk.  Used by `jrx format` (empty btrees) and `jrx synth` (the base
 * btree of a big array).  It writes no journal.
 *
 * Owner: the calling thread.  Node locations come from a bucket table.
 */
#ifndef JRX_BULK_H
#define JRX_BULK_H

#include <stdbool.h>
#include "../io/array.h"
#include "buckets.h"

struct jrx_bulk_level {
	void	 *buf;		/* node being filled (node_size) */
	size_t	  used;		/* bytes of keys in it */
	size_t	  nkeys;
	struct jrx_bpos min;	/* first position it covers */
	struct jrx_bpos last;	/* position of its last key */
	uint64_t  nonce;
	bool	  open;
};

struct jrx_bulk {
	struct jrx_array   *a;		/* NULL: dry run, count nodes only */
	struct jrx_buckets *bt;
	unsigned	    btree_id;
	size_t		    node_size;
	size_t		    fill;	/* close a node past this many key bytes */
	uint64_t	    journal_seq;/* written into every bset */
	struct jrx_bulk_level lv[JRX_BTREE_MAX_DEPTH];
	uint64_t	    nodes;	/* nodes written (or counted) */
	uint64_t	    keys;
	uint64_t	    rng;
	/* node slots handed out in advance (alloc/accounting trees) */
	struct jrx_bkey_slot { uint32_t dev; uint64_t sector; } *slots;
	size_t		    nr_slots, next_slot;
};

/* fill_pct: how full leaves are made (e.g. 75). a NULL: dry run. */
int  jrx_bulk_init(struct jrx_bulk *b, struct jrx_array *a,
		   struct jrx_buckets *bt, unsigned btree_id, size_t node_size,
		   unsigned fill_pct, uint64_t journal_seq);
/* Keys must come in strictly increasing order. */
int  jrx_bulk_add(struct jrx_bulk *b, const struct jrx_bkey *k);
/* Writes the open nodes; root gets the root pointer and its level. */
int  jrx_bulk_finish(struct jrx_bulk *b, struct jrx_btree_root *root);
void jrx_bulk_exit(struct jrx_bulk *b);

#endif

/*
 * Build the accounting and alloc btrees from the bucket table, once every
 * other btree is built.  Their own nodes are allocated first (the count is
 * found by dry runs) so the alloc keys they hold describe them too.
 * nr_inodes feeds the inode counter.
 */
int jrx_bulk_alloc_trees(struct jrx_array *a, struct jrx_buckets *bt,
			 int64_t nr_inodes, uint64_t journal_seq,
			 struct jrx_btree_root *acct_root,
			 struct jrx_btree_root *alloc_root);
