/*
 * node.h - btree node header and bset checksums and validation.  Pure
 * functions over a node buffer; caching and merging are src/btree.
 */
#ifndef JRX_NODE_H
#define JRX_NODE_H

#include <stdbool.h>
#include "format.h"

void jrx_node_set_csum(struct jrx_btree_node *n);
void jrx_bset_set_csum(struct jrx_bset *b);

/* 0 or -JRX_ERR_NODE_INVALID / -JRX_ERR_NODE_CSUM with *why. */
int jrx_node_hdr_validate(const struct jrx_btree_node *n, uint64_t magic,
			  const char **why);

/*
 * One bset at byte offset off of a node whose written part ends at byte
 * end (the pointer's blocks * 4096): nonce, block, size and checksum.
 * Keys themselves are checked by the caller, which knows the btree and
 * level.
 */
int jrx_bset_validate(const struct jrx_bset *b, size_t off, size_t end,
		      uint64_t nonce, const char **why);

/* Where the bset after one ending at byte end starts. */
static inline size_t jrx_bset_next_offset(size_t end)
{
	return (end + JRX_BLOCK_SIZE - 1) & ~(size_t)(JRX_BLOCK_SIZE - 1);
}

static inline size_t jrx_bset_bytes(const struct jrx_bset *b)
{
	return sizeof(*b) + (size_t)b->u64s * 8;
}

/*
 * The append rule (FORMAT.md 7.5): whether a bset of key_bytes of keys
 * fits when it starts at byte tail (block aligned: the end of the node's
 * written part) of a node of node_size bytes.
 */
static inline bool jrx_bset_append_fits(uint64_t tail, uint64_t key_bytes,
					size_t node_size)
{
	return tail + sizeof(struct jrx_bset) + key_bytes <= node_size;
}

#endif
