/*
 * replay_int.h - the plan of a parallel replay (replay.h): the committed
 * leaves the sorted leaf keys fall in, and the work units they are cut
 * into.  Plain data: the planner (replay_plan.c) fills it on the calling
 * thread, the workers (replay_par.c) each write the results of the units
 * they take and nothing else.
 */
#ifndef JRX_REPLAY_INT_H
#define JRX_REPLAY_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "../btree/btree_replay.h"
#include "../journal/jkey.h"

/* A committed leaf that receives journal keys. */
struct jrx_rleaf {
	uint64_t	  ptr[JRX_PTR_U64S];	/* its pointer (key + value) */
	struct jrx_bnode *cached;	/* the cached node (a root), or NULL */
	bool		  was_root;
	uint8_t		  btree_id;
	size_t		  lo, hi;	/* its journal keys: v[lo, hi) */
	/*
	 * Its keys might fit past its written tail: even keys of the
	 * smallest size (a bare struct jrx_bkey) would.  Whether they do is
	 * the worker's to find (jrx_rplan_append_fits), a cache miss a key
	 * that the planner does not pay alone.  Such a leaf is one unit.
	 */
	bool		  may_append;
	size_t		  first_unit, nr_units;	/* 1, or its slices */
};

/* A work unit: a whole leaf, or one slice of a leaf's journal keys (a
 * leaf that may get an append is never sliced). */
struct jrx_runit {
	size_t		  leaf;		/* index in plan->leaf */
	size_t		  lo, hi;	/* journal keys v[lo, hi) */
	uint64_t	  weight;	/* balance estimate */
	/* results, written by the one worker that takes the unit */
	bool		  append;	/* its keys fit past the leaf's written
					   tail: one bset appended, the leaf
					   not read (set when claimed) */
	struct jrx_bnode *node;		/* slice: its copy of the leaf */
	const struct jrx_bkey **keys;	/* slice: merged keys (phase 1) */
	size_t		  nr;
	uint64_t	  bytes;
	struct jrx_bnode **pieces;	/* nodes written, in key order */
	size_t		  nr_pieces, cap_pieces;
};

struct jrx_rplan {
	struct jrx_rleaf *leaf;
	size_t		  nr_leaves, cap_leaves;
	struct jrx_runit *unit;
	size_t		  nr_units;
	uint64_t	  leaf_keys, sliced;
	size_t		  held;		/* hold_last: where the keys of the
					   leaf held back start (else hi) */
};

/*
 * Whether the journal keys v[l->lo, l->hi) of a leaf marked may_append
 * fit past its written tail (FORMAT.md 7.5, the rule write-back applies
 * to a committed node): their sizes summed, until they are past the node.
 */
bool jrx_rplan_append_fits(const struct jrx_fs *fs, const struct jrx_rleaf *l,
			   const struct jrx_jkey *v);

/*
 * Ranges of a key list in journal order (level descending, then btree id),
 * found by binary search: the first level-0 key, and one past the last
 * key of v[lo]'s btree in the level-0 keys v[lo, hi).
 */
size_t jrx_replay_leaf_start(const struct jrx_jkey *v, size_t n);
size_t jrx_replay_btree_end(const struct jrx_jkey *v, size_t lo, size_t hi);

/*
 * Route the level-0 keys in v[lo, hi) (sorted, one key per position),
 * but those of alloc and accounting, to the leaves a descent would
 * give them, reading interior nodes into the cache; then cut the leaves
 * into units of about total weight / (workers * per_worker), or of at
 * most unit_keys journal keys if that is not 0.  hold_last: the last
 * leaf is left out of the plan (more of its keys may follow in the next
 * window of a streaming replay); its keys start at p->held.
 */
int  jrx_replay_plan(struct jrx_fs *fs, const struct jrx_jkey *v, size_t lo,
		     size_t hi, unsigned workers, unsigned per_worker,
		     unsigned unit_keys, bool hold_last, struct jrx_rplan *p);
/* Frees the plan and whatever results its units still hold. */
void jrx_replay_plan_free(struct jrx_rplan *p);

/*
 * The sources of a streamed leaf (replay.h, jrx_replay_stream_end) that
 * start the parts of its second walk, into pick[] (room for min(nsrc,
 * nw)); returns how many.  The first is src[0]; up to nw in all, one
 * when the leaf has fewer than 4 pieces a part; each next the first
 * source at or past an equal share of the total key bytes, none that
 * starts past the bytes where the leaf's last piece (of kp) begins: a
 * part walks on to the first piece that starts at or past the next
 * part, and past that point there is none.
 */
struct jrx_replay_source;
size_t jrx_replay_stream_parts(const struct jrx_replay_source *src,
			       size_t nsrc, uint64_t total, size_t kp,
			       size_t nw, size_t *pick);

#endif
