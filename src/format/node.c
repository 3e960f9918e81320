/* node.c - node header and bset checksums and validation (see node.h). */
#include "node.h"
#include "bkey.h"
#include "checksum.h"
#include "jrx/errors.h"

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
	if (n->version != JRX_FORMAT_VERSION || n->btree_id >= JRX_BTREE_NR ||
	    n->level >= JRX_BTREE_MAX_DEPTH ||
	    jrx_bpos_cmp(n->min_key, n->max_key) > 0) {
		*why = "node header fields out of range";
		return -JRX_ERR_NODE_INVALID;
	}
	return 0;
}

int jrx_bset_validate(const struct jrx_bset *b, size_t off, size_t end,
		      uint64_t nonce, const char **why)
{
	*why = NULL;
	if (off + sizeof(*b) > end) {
		*why = "bset header runs past the node";
		return -JRX_ERR_NODE_INVALID;
	}
	if (b->nonce != nonce || b->block != off / JRX_BLOCK_SIZE) {
		*why = "bset nonce or block does not match the node";
		return -JRX_ERR_NODE_INVALID;
	}
	if (off + jrx_bset_bytes(b) > end) {
		*why = "bset runs past the node's written part";
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
