/* node.c - node header and bset checksums and validation (see node.h). */
#include "node.h"
#include "bkey.h"
#include "checksum.h"
#include "jrx/errors.h"
#include "../util/checked.h"

void jrx_node_set_csum(struct jrx_btree_node *n)
{
	n->csum = jrx_crc32c((const char *)n + 8, sizeof(*n) - 8);
}

void jrx_bset_set_csum(struct jrx_bset *b)
{
	b->csum = jrx_crc32c((const char *)b + 8, jrx_bset_bytes(b) - 8);
}

int jrx_node_hdr_validate(const struct jrx_btree_node *n, uint64_t magic,
			  const char **why)
{
	*why = NULL;
	if (n->magic != magic) {
		*why = "bad node magic";
		return -JRX_ERR_NODE_INVALID;
	}
	if (n->csum != jrx_crc32c((const char *)n + 8, sizeof(*n) - 8)) {
		*why = "node header checksum mismatch";
		return -JRX_ERR_NODE_CSUM;
	}
	if (n->version != JRX_FORMAT_VERSION)
		*why = "node header version is not 2";
	else if (n->btree_id >= JRX_BTREE_NR)
		*why = "node header btree_id out of range";
	else if (n->level >= JRX_BTREE_MAX_DEPTH)
		*why = "node header level out of range";
	else if (jrx_bpos_cmp(n->min_key, n->max_key) > 0)
		*why = "node header min_key above max_key";
	if (*why)
		return -JRX_ERR_NODE_INVALID;
	return 0;
}

int jrx_bset_validate(const struct jrx_bset *b, size_t off, size_t end,
		      uint64_t nonce, const char **why)
{
	size_t hdr_end, bset_end;

	*why = NULL;
	if (!jrx_add_size(off, sizeof(*b), &hdr_end) || hdr_end > end) {
		*why = "bset header runs past the node's written part";
		return -JRX_ERR_NODE_INVALID;
	}
	if (b->nonce != nonce) {
		*why = "bset nonce does not match the node";
		return -JRX_ERR_NODE_INVALID;
	}
	if (b->block != off / JRX_BLOCK_SIZE) {
		*why = "bset block does not match its offset in the node";
		return -JRX_ERR_NODE_INVALID;
	}
	/* off + 32 + u64s * 8 */
	if (!jrx_muladd_size(b->u64s, 8, hdr_end, &bset_end) ||
	    bset_end > end) {
		*why = "bset u64s runs past the node's written part";
		return -JRX_ERR_NODE_INVALID;
	}
	if (b->flags) {
		*why = "bset flags are not zero";
		return -JRX_ERR_NODE_INVALID;
	}
	if (b->csum != jrx_crc32c((const char *)b + 8, jrx_bset_bytes(b) - 8)) {
		*why = "bset checksum mismatch";
		return -JRX_ERR_NODE_CSUM;
	}
	return 0;
}
