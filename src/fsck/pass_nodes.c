/*
 * pass_nodes.c - pass 3: every node reachable from the six roots, read
 * and checked by the walker with reporting on (walk.c, nodecheck.c):
 * header magic and checksum, bsets, keys valid, sorted and inside their
 * node, each node matching the pointer that led to it (btree, level,
 * nonce, key range), the root covering the whole key space, and the
 * children of an interior node tiling its range.  It counts nodes, depth
 * and leaf keys per btree; pass 5 takes the inode count from here.
 *
 * One read of every node: the same walk feeds pass 4's collector (every
 * node pointer, the extents' and alloc keys) and pass 6's (the inodes,
 * dirents, extents and xattrs), so passes 4 and 6 read nothing again.
 * Their problems are held back (fsck_defer) and reported when their pass
 * runs, each btree's in walk order, btrees in the order of their own
 * walks; pass 3's own problems are reported at its end, btree by btree
 * in id order.  The btrees are walked inodes first (pass 6 looks inodes
 * up from the dirents and extents on), then dirents, extents, xattrs,
 * alloc, accounting.
 *
 * Owner: the walk's thread runs every callback below (walk.c).
 */
#include "fsck_int.h"

/* Pass 4's and pass 6's collectors, riding on pass 3's walk. */
static int rider_ptr(void *ctx, const struct fsck_ptr *p)
{
	struct jrx_fsck *f = ctx;
	int ret;

	f->out.pass = JRX_PASS_BUCKETS;
	ret = fsck_space_ptr(f->space, p);
	f->out.pass = JRX_PASS_NODES;
	return ret;
}

/*
 * A leaf's keys, a collector at a time (each pass's problems are held
 * back on their own, so pass 4's of a leaf before pass 6's is the order
 * of each): one call per leaf, not two per key.
 */
static int rider_leaf(void *ctx, const struct jrx_bnode *n,
		      const struct fsck_ptr *leaf)
{
	struct jrx_fsck *f = ctx;
	int ret = 0;

	if (n->level)
		return 0;
	switch (leaf->btree_id) {
	case JRX_BTREE_EXTENTS:
		f->out.pass = JRX_PASS_BUCKETS;
		ret = fsck_space_leaf(f->space, n, leaf);
		f->out.pass = JRX_PASS_NAMESPACE;
		if (!ret)
			ret = fsck_names_leaf(f->names, n, leaf);
		break;
	case JRX_BTREE_ALLOC:
		f->out.pass = JRX_PASS_BUCKETS;
		ret = fsck_space_leaf(f->space, n, leaf);
		break;
	case JRX_BTREE_INODES:
	case JRX_BTREE_DIRENTS:
	case JRX_BTREE_XATTRS:
		f->out.pass = JRX_PASS_NAMESPACE;
		ret = fsck_names_leaf(f->names, n, leaf);
		break;
	default:
		break;
	}
	f->out.pass = JRX_PASS_NODES;
	return ret;
}

int fsck_pass_nodes(struct jrx_fsck *f)
{
	static const unsigned order[JRX_BTREE_NR] = {
		JRX_BTREE_INODES, JRX_BTREE_DIRENTS, JRX_BTREE_EXTENTS,
		JRX_BTREE_XATTRS, JRX_BTREE_ALLOC, JRX_BTREE_ACCOUNTING,
	};
	static const unsigned ids[JRX_BTREE_NR] = { 0, 1, 2, 3, 4, 5 };
	struct jrx_fsck_result *r = f->res;
	int ret;

	_Static_assert(JRX_BTREE_NR == 6, "btree ids");
	ret = fsck_space_begin(f, &f->space);
	if (!ret)
		ret = fsck_names_begin(f, &f->names);
	f->defer = true;
	for (unsigned i = 0; !ret && i < JRX_BTREE_NR; i++) {
		unsigned id = order[i];
		struct fsck_walk w = {
			.btree_id = id, .report = true, .leaves = true,
			.ptr = rider_ptr, .node = rider_leaf, .ctx = f,
		};

		f->defer_btree = (uint8_t)id;
		ret = fsck_walk(f, &w);
		if (ret)
			break;
		r->nodes[id] = w.nodes;
		r->keys[id] = w.keys;
		r->bad_nodes += w.bad_nodes;
		r->depth[id] = f->have_root[id] ? f->root[id].level + 1u : 0;
		r->pass[JRX_PASS_NODES].checked += w.nodes + w.bad_nodes;
	}
	f->defer = false;
	fsck_report_later(f, JRX_PASS_NODES, ids, JRX_BTREE_NR);
	return ret;
}
