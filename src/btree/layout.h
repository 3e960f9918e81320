/*
 * layout.h - how a replay cuts a node's keys into on-disk nodes.
 *
 * During replay nothing splits at insert time: a node takes every key its
 * range receives, and only its write-back cuts it into pieces.  How many
 * pieces, and where the cuts fall, is a function of the node's final keys
 * alone (their sizes), never of the order they arrived in.  So the
 * reference replay (one key at a time, in seq order) and the parallel
 * replay (sorted runs merged into leaves by many threads) lay out the same
 * nodes, allocate the same number of buckets and leave identical alloc
 * and accounting btrees.  (Write-back also takes a level's nodes in key
 * order, so the nodes later rounds cut again get the same places: see
 * jrx_fs_writeback_all().)
 *
 * Rule: a node whose compacted size is at most 2/3 of node_size stays one
 * node; a bigger one becomes k = ceil(key bytes / half a node's key room)
 * pieces (at least 2), and piece j ends at the first key at which the
 * running total of key bytes reaches key_bytes * (j + 1) / k.
 */
#ifndef JRX_LAYOUT_H
#define JRX_LAYOUT_H

#include <stddef.h>
#include <stdint.h>
#include "../format/format.h"

/* Node bytes that are not keys: header and one bset header. */
#define JRX_NODE_OVERHEAD \
	(sizeof(struct jrx_btree_node) + sizeof(struct jrx_bset))

/* Pieces for nr keys of key_bytes in all. */
static inline size_t jrx_layout_pieces(uint64_t key_bytes, size_t nr,
				       size_t node_size)
{
	uint64_t half = (node_size - JRX_NODE_OVERHEAD) / 2;
	uint64_t k;

	if (JRX_NODE_OVERHEAD + key_bytes <= node_size / 3 * 2 || nr < 2)
		return 1;
	k = (key_bytes + half - 1) / half;
	if (k < 2)
		k = 2;
	return k < nr ? (size_t)k : nr;
}

/* Running key bytes at which piece j (of k) ends. */
static inline uint64_t jrx_layout_end(uint64_t key_bytes, size_t k, size_t j)
{
	return key_bytes * (j + 1) / k;
}

/*
 * The piece a key falls in, given the key bytes before it: the number of
 * pieces that end at or before that running total.  Keys are walked in
 * order; a key starts piece j + 1 when the bytes before it reach piece
 * j's end.
 */
static inline size_t jrx_layout_piece_of(uint64_t bytes_before,
					 uint64_t key_bytes, size_t k)
{
	size_t j = k > 1 ? (size_t)(bytes_before * k / (key_bytes ? key_bytes : 1)) : 0;

	/* the division estimates; settle it against the exact ends */
	while (j > 0 && jrx_layout_end(key_bytes, k, j - 1) > bytes_before)
		j--;
	while (j + 1 < k && jrx_layout_end(key_bytes, k, j) <= bytes_before)
		j++;
	return j;
}

#endif
