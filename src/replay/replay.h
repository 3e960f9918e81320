/*
 * replay.h - replaying the sort stage's output (journal/jkey.h arrays in
 * journal order, deduplicated) into a store opened for replay
 * (jrx_fs_open_replay()).  It knows nothing of how the keys were read or
 * sorted.
 *
 * jrx_replay_sorted() runs on the calling thread; the parallel replay by
 * btree and key range is the next stage of the pipeline (DESIGN.md
 * section 4).
 */
#ifndef JRX_REPLAY_H
#define JRX_REPLAY_H

#include <stddef.h>
#include <stdint.h>
#include "../btree/fs.h"
#include "../journal/jkey.h"
#include "../recovery/jindex.h"

/* *skipped counts accounting deltas already in the btree. */
int jrx_replay_sorted(struct jrx_fs *fs, const struct jrx_jindex *ix,
		      const struct jrx_jkey *v, size_t n, uint64_t *skipped);

#endif
