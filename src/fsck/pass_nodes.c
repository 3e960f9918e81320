/*
 * pass_nodes.c - pass 3: every node reachable from the six roots, read
 * and checked by the walker with reporting on (walk.c): header magic and
 * checksum, bsets, keys valid, sorted and inside their node, each node
 * matching the pointer that led to it (btree, level, nonce, key range),
 * the root covering the whole key space, and the children of an interior
 * node tiling its range without gap or overlap.  It counts nodes, depth
 * and leaf keys per btree; pass 5 takes the inode count from here.
 */
#include "fsck_int.h"

int fsck_pass_nodes(struct jrx_fsck *f)
{
	struct jrx_fsck_result *r = f->res;

	for (unsigned id = 0; id < JRX_BTREE_NR; id++) {
		struct fsck_walk w = {
			.btree_id = id, .report = true, .leaves = true,
		};
		int ret = fsck_walk(f, &w);

		if (ret)
			return ret;
		r->nodes[id] = w.nodes;
		r->keys[id] = w.keys;
		r->bad_nodes += w.bad_nodes;
		r->depth[id] = f->have_root[id] ? f->root[id].level + 1u : 0;
		r->pass[JRX_PASS_NODES].checked += w.nodes + w.bad_nodes;
	}
	return 0;
}
