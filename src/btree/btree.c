/*
 * btree.c - finding the nodes of an open store's btrees: the node cache,
 * reading and checking a node a pointer names, descent, lookup, walks and
 * the roots.
 *
 * Interior keys are btree pointers keyed by the child's max key; a node at
 * level L covering pos is found by taking, at every level above, the first
 * pointer whose key is >= pos.  Changing a pointer (split, rewrite) writes
 * the new child(ren) first, then journals the pointer as a level L+1 key
 * and applies it to the parent (insert.c); a new root is carried by every
 * later jset's btree_root entries.
 */
#include <errno.h>
#include <string.h>
#include <inttypes.h>
#include "btree_int.h"
#include "blob.h"
#include "btree_replay.h"
#include "jrx/errors.h"
#include "../util/diag.h"
#include "../format/sb.h"

/* ---------------------------------------------------------------- cache */

static size_t hash_loc(uint32_t dev, uint64_t sector)
{
	uint64_t h = (sector * 0x9e3779b97f4a7c15ull) ^ ((uint64_t)dev << 56);

	return (size_t)(h >> 40) % JRX_CACHE_BUCKETS;
}

static struct jrx_bnode *cache_find(struct jrx_fs *fs, uint32_t dev,
				    uint64_t sector)
{
	struct jrx_bnode *n = fs->cache[hash_loc(dev, sector)];

	while (n && (n->dev != dev || n->sector != sector))
		n = n->hnext;
	return n;
}

void jrx_fs_cache_add(struct jrx_fs *fs, struct jrx_bnode *n)
{
	size_t h = hash_loc(n->dev, n->sector);

	n->hnext = fs->cache[h];
	fs->cache[h] = n;
	fs->cached++;
}

void jrx_fs_cache_del(struct jrx_fs *fs, struct jrx_bnode *n)
{
	struct jrx_bnode **p = &fs->cache[hash_loc(n->dev, n->sector)];

	while (*p && *p != n)
		p = &(*p)->hnext;
	if (*p) {
		*p = n->hnext;
		fs->cached--;
	}
}

void jrx_fs_cache_free(struct jrx_fs *fs)
{
	for (size_t h = 0; h < JRX_CACHE_BUCKETS; h++) {
		struct jrx_bnode *n = fs->cache[h], *next;

		for (; n; n = next) {
			next = n->hnext;
			jrx_bnode_free(n);
		}
		fs->cache[h] = NULL;
	}
	fs->cached = 0;
	memset(fs->root, 0, sizeof(fs->root));
}

int jrx_fs_node_read_begin(struct jrx_fs *fs, unsigned btree_id,
			   unsigned level, const struct jrx_bkey *ptr,
			   struct jrx_node_read *rd)
{
	const struct jrx_btree_ptr_val *v = jrx_bkey_val(ptr);
	const char *why;
	uint64_t off;

	*rd = (struct jrx_node_read){ 0 };
	if (v->dev >= fs->a->nr_devs)
		return jrx_fail(-JRX_ERR_NODE_INVALID, "btree %s level %u: pointer"
				" to device %u, array has %u", jrx_btree_name(btree_id),
				level, v->dev, fs->a->nr_devs);
	why = jrx_sb_node_range(&fs->a->sb, v->dev, v->sector, &off);
	if (why)
		return jrx_fail(-JRX_ERR_NODE_INVALID, "%s: btree %s level %u"
				" node at sector %" PRIu64 " (%u bytes): %s",
				fs->a->devs[v->dev].path, jrx_btree_name(btree_id),
				level, v->sector, fs->node_size, why);
	if (!v->blocks || v->blocks > fs->node_size / JRX_BLOCK_SIZE)
		return jrx_fail(-JRX_ERR_NODE_INVALID, "%s: btree %s level %u"
				" node at offset %" PRIu64 ": its pointer's"
				" blocks is %" PRIu32 ", outside [1, %u] (a"
				" node is %u bytes)", fs->a->devs[v->dev].path,
				jrx_btree_name(btree_id), level, off, v->blocks,
				fs->node_size / JRX_BLOCK_SIZE, fs->node_size);
	rd->dev = fs->direct ? &fs->direct[v->dev] : &fs->a->devs[v->dev];
	rd->off = off;
	/* only the written part: the pointer says how long it is */
	rd->len = (size_t)v->blocks * JRX_BLOCK_SIZE;
	rd->img = jrx_blob_alloc(fs->node_size);
	if (!rd->img)
		return jrx_fail(-ENOMEM, "allocating to read a btree %s"
				" level %u node (%u bytes)",
				jrx_btree_name(btree_id), level, fs->node_size);
	return 0;
}

void jrx_fs_node_read_cancel(struct jrx_node_read *rd)
{
	jrx_blob_free(rd->img);
	rd->img = NULL;
}

int jrx_fs_node_read_end(struct jrx_fs *fs, unsigned btree_id,
			 unsigned level, const struct jrx_bkey *ptr,
			 struct jrx_node_read *rd, struct jrx_bnode **out)
{
	const struct jrx_btree_ptr_val *v = jrx_bkey_val(ptr);
	struct jrx_bnode *n = jrx_bnode_alloc();
	const char *why = NULL;
	int ret;

	if (!n) {
		jrx_fs_node_read_cancel(rd);
		return jrx_fail(-ENOMEM, "allocating to read a btree %s"
				" level %u node", jrx_btree_name(btree_id),
				level);
	}
	jrx_fs_lock(fs);
	fs->nodes_read++;
	fs->leaves_read += !level;
	fs->node_bytes_read += rd->len;
	jrx_fs_unlock(fs);
	/* the image is the node's from here, whatever the outcome */
	ret = jrx_bnode_decode_adopt(n, rd->img, fs->node_size, rd->len,
				     fs->a->node_magic, &fs->bl, &why);
	rd->img = NULL;
	if (!ret && (n->nonce != v->nonce || n->btree_id != btree_id ||
		     n->level != level || !jrx_bpos_eq(n->min, v->min_key) ||
		     !jrx_bpos_eq(n->max, ptr->p))) {
		why = "node does not match the pointer to it (nonce, btree,"
			" level or key range)";
		ret = -JRX_ERR_NODE_INVALID;
	}
	if (ret) {
		jrx_bnode_free(n);
		return jrx_fail(ret, "%s: btree %s level %u node at offset %" PRIu64
				": %s", rd->dev->path, jrx_btree_name(btree_id),
				level, rd->off, why ? why : "");
	}
	n->dev = v->dev;
	n->sector = v->sector;
	*out = n;
	return 0;
}

int jrx_fs_read_node(struct jrx_fs *fs, unsigned btree_id, unsigned level,
		     const struct jrx_bkey *ptr, struct jrx_bnode **out)
{
	struct jrx_node_read rd;
	int ret = jrx_fs_node_read_begin(fs, btree_id, level, ptr, &rd);

	if (ret)
		return ret;
	ret = jrx_dev_pread(rd.dev, rd.img, rd.len, rd.off);
	if (ret) {
		jrx_fs_node_read_cancel(&rd);
		return ret;
	}
	return jrx_fs_node_read_end(fs, btree_id, level, ptr, &rd, out);
}

int jrx_fs_get_node(struct jrx_fs *fs, unsigned btree_id, unsigned level,
		    const struct jrx_bkey *ptr, struct jrx_bnode **out)
{
	const struct jrx_btree_ptr_val *v = jrx_bkey_val(ptr);
	struct jrx_bnode *n = cache_find(fs, v->dev, v->sector);
	int ret;

	if (!n) {
		ret = jrx_fs_read_node(fs, btree_id, level, ptr, &n);
		if (ret)
			return ret;
		jrx_fs_cache_add(fs, n);
	}
	*out = n;
	return 0;
}

struct jrx_bnode *jrx_fs_cached_node(struct jrx_fs *fs,
				     const struct jrx_bkey *ptr)
{
	const struct jrx_btree_ptr_val *v = jrx_bkey_val(ptr);

	return cache_find(fs, v->dev, v->sector);
}

/* A pointer key to node n, in buf (room for 88 bytes). */
void jrx_fs_node_ptr(const struct jrx_bnode *n, struct jrx_bkey *k)
{
	struct jrx_btree_ptr_val *v;

	jrx_bkey_init(k, JRX_KEY_BTREE_PTR, n->max, sizeof(*v));
	v = jrx_bkey_val(k);
	memset(v, 0, sizeof(*v));
	v->sector = n->sector;
	v->dev = n->dev;
	v->blocks = jrx_bnode_blocks(n);
	v->nonce = n->nonce;
	v->min_key = n->min;
}

/* ---------------------------------------------------------------- descent */

int jrx_btree_descend(struct jrx_fs *fs, unsigned btree_id, unsigned level,
		      struct jrx_bpos pos, struct jrx_bnode **out)
{
	struct jrx_bnode *n = fs->root[btree_id];
	int ret;

	if (!n)
		return jrx_fail(-JRX_ERR_NOT_FOUND, "btree %s has no root",
				jrx_btree_name(btree_id));
	if (n->level < level)
		return jrx_fail(-JRX_ERR_KEY_INVALID, "btree %s: level %u key above"
				" the root (level %u)", jrx_btree_name(btree_id),
				level, n->level);
	while (n->level > level) {
		size_t i;

		ret = jrx_bnode_settle(n);
		if (ret)
			return ret;
		i = jrx_bnode_lower_bound(n, pos);
		if (i == n->nr)
			return jrx_fail(-JRX_ERR_NODE_INVALID, "btree %s level %u:"
					" no child covers the position",
					jrx_btree_name(btree_id), n->level);
		ret = jrx_fs_get_node(fs, btree_id, n->level - 1u,
				      n->keys[i], &n);
		if (ret)
			return ret;
	}
	*out = n;
	return 0;
}

/* ---------------------------------------------------------------- lookup */

int jrx_btree_peek(struct jrx_fs *fs, unsigned btree_id, struct jrx_bpos pos,
		   const struct jrx_bkey **k)
{
	for (;;) {
		struct jrx_bnode *n;
		size_t i;
		int ret = jrx_btree_descend(fs, btree_id, 0, pos, &n);

		if (!ret)
			ret = jrx_bnode_settle(n);
		if (ret)
			return ret;
		i = jrx_bnode_lower_bound(n, pos);
		if (i < n->nr) {
			*k = n->keys[i];
			return 0;
		}
		if (jrx_bpos_eq(n->max, JRX_POS_MAX)) {
			*k = NULL;
			return 0;
		}
		pos = jrx_bpos_successor(n->max);
	}
}

int jrx_btree_lookup(struct jrx_fs *fs, unsigned btree_id, struct jrx_bpos pos,
		     const struct jrx_bkey **k)
{
	int ret = jrx_btree_peek(fs, btree_id, pos, k);

	if (!ret && *k && !jrx_bpos_eq((*k)->p, pos))
		*k = NULL;
	return ret;
}

static int walk(struct jrx_fs *fs, struct jrx_bnode *n, jrx_key_cb kcb,
		jrx_node_cb ncb, void *ctx)
{
	int ret = jrx_bnode_settle(n);

	if (!ret && ncb)
		ret = ncb(ctx, n);
	if (ret)
		return ret;
	jrx_fs_prefetch(fs, n, NULL);
	for (size_t i = 0; i < n->nr; i++) {
		struct jrx_bnode *c;

		if (!n->level) {
			if (kcb && (ret = kcb(ctx, n->btree_id, n->keys[i])))
				return ret;
			continue;
		}
		ret = jrx_fs_get_node(fs, n->btree_id, n->level - 1u,
				      n->keys[i], &c);
		if (!ret)
			ret = walk(fs, c, kcb, ncb, ctx);
		if (ret)
			return ret;
	}
	return 0;
}

int jrx_btree_walk_all(struct jrx_fs *fs, unsigned btree_id, jrx_key_cb kcb,
		       jrx_node_cb ncb, void *ctx)
{
	return fs->root[btree_id] ? walk(fs, fs->root[btree_id], kcb, ncb, ctx) :
		0;
}

int jrx_btree_walk(struct jrx_fs *fs, unsigned btree_id, jrx_key_cb cb,
		   void *ctx)
{
	return jrx_btree_walk_all(fs, btree_id, cb, NULL, ctx);
}

int jrx_btree_walk_nodes(struct jrx_fs *fs, unsigned btree_id, jrx_node_cb cb,
			 void *ctx)
{
	return jrx_btree_walk_all(fs, btree_id, NULL, cb, ctx);
}

/* ---------------------------------------------------------------- roots */

int jrx_fs_set_root(struct jrx_fs *fs, unsigned btree_id, unsigned level,
		    const struct jrx_bkey *ptr)
{
	return jrx_fs_get_node(fs, btree_id, level, ptr, &fs->root[btree_id]);
}

void jrx_fs_root_ptr(const struct jrx_fs *fs, unsigned btree_id,
		     struct jrx_bkey *k)
{
	jrx_fs_node_ptr(fs->root[btree_id], k);
}
