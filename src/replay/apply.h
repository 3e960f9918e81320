/*
 * apply.h - applying one journal key during replay, shared by every
 * replay (the reference's and the accelerated one) so the two cannot
 * drift apart: which pass a key belongs to (DESIGN.md section 2 point 5),
 * loading a journal alloc key into the allocator before any insert, an
 * accounting delta applied only if newer than the btree's total, and the
 * end of a replay (empty open buckets freed, write-back settled).
 *
 * Owner: the thread replaying into fs.
 */
#ifndef JRX_REPLAY_APPLY_H
#define JRX_REPLAY_APPLY_H

#include <stdint.h>
#include "../btree/fs.h"

enum jrx_replay_pass {
	JRX_PASS_INTERIOR,	/* level > 0 keys */
	JRX_PASS_ALLOC,		/* alloc and accounting leaves */
	JRX_PASS_LEAVES,	/* every other leaf */
	JRX_PASS_NR,
};

static inline enum jrx_replay_pass jrx_replay_pass_of(unsigned btree_id,
						       unsigned level)
{
	if (level)
		return JRX_PASS_INTERIOR;
	if (btree_id == JRX_BTREE_ALLOC || btree_id == JRX_BTREE_ACCOUNTING)
		return JRX_PASS_ALLOC;
	return JRX_PASS_LEAVES;
}

/*
 * The journal's alloc key for its bucket, into the allocator, so nothing
 * replay writes lands in a bucket the journal says is in use.  Ignores
 * keys that are not level-0 alloc keys.  seq: for the error message.
 */
int jrx_replay_load_alloc(struct jrx_fs *fs, unsigned btree_id, unsigned level,
			  const struct jrx_bkey *k, uint64_t seq);

/*
 * Apply one journal key: an accounting delta is added to the btree's
 * total if its version is newer (else counted in *skipped), every other
 * key is a put or delete at its position.  Errors name the seq, btree and
 * level.
 */
int jrx_replay_apply(struct jrx_fs *fs, unsigned btree_id, unsigned level,
		     const struct jrx_bkey *k, uint64_t seq, uint64_t *skipped);

/* After the last key: free emptied open buckets, settle write-back. */
int jrx_replay_finish(struct jrx_fs *fs);

#endif
