/*
 * replay_layout.c - how a replay writes nodes back (FORMAT.md 7.5): the
 * keys a committed node gains appended as one bset past its written tail
 * when they fit, else the node's final keys cut into pieces by the layout
 * rule (layout.h), each written to a new place, and the results installed
 * in place of the node (cache, root, parent pointers).  Both choices
 * depend on the keys and the pointer alone, so the reference and the
 * parallel replay write and allocate alike.  The appender and the piece
 * writers run on a parallel replay's workers too (btree_replay.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include "btree_int.h"
#include "blob.h"
#include "btree_replay.h"
#include "layout.h"
#include "jrx/errors.h"
#include "../format/node.h"
#include "../util/diag.h"
#include "../format/sb.h"

/* The descriptor nodes are written by: the parallel section's, if open. */
static struct jrx_dev *node_dev(struct jrx_fs *fs, uint32_t dev)
{
	return fs->direct ? &fs->direct[dev] : &fs->a->devs[dev];
}

/* One write done: its count (a node or a bset) and its bytes. */
static void note_write(struct jrx_fs *fs, uint64_t *count, size_t bytes)
{
	jrx_fs_lock(fs);
	(*count)++;
	fs->node_bytes_written += bytes;
	jrx_fs_unlock(fs);
}

/* A write failed: drop what was made; the store may not commit. */
static int fail_write(struct jrx_fs *fs, void *img, struct jrx_bnode *p,
		      int ret)
{
	jrx_blob_free(img);
	jrx_bnode_free(p);
	jrx_fs_lock(fs);
	fs->dead = true;	/* a place may be allocated and not used */
	jrx_fs_unlock(fs);
	return ret;
}

/* A queued piece landed (or failed: the queue's drain says so); its
 * image is the node's and stays until the node is freed. */
static void piece_done(void *ctx, int res)
{
	(void)ctx;
	(void)res;
}

static int write_piece(struct jrx_fs *fs, const struct jrx_node_meta *m,
		       const struct jrx_bkey *const *keys, size_t nr,
		       struct jrx_wq *q, struct jrx_bnode **out)
{
	struct jrx_bnode *p = jrx_bnode_alloc();
	struct jrx_node_meta pm = *m;
	uint32_t dev;
	uint64_t sector;
	size_t bytes = 0;
	void *img;
	int ret;

	/* the image rounded up to a block, not a whole node (a fresh
	 * node_size allocation is page faults for bytes never written) */
	for (size_t i = 0; i < nr; i++)
		bytes += jrx_bkey_bytes(keys[i]);
	bytes = jrx_bset_next_offset(sizeof(struct jrx_btree_node) +
				     sizeof(struct jrx_bset) + bytes);
	if (bytes > fs->node_size) {
		img = NULL;
		ret = jrx_fail(-JRX_ERR_NODE_INVALID, "a btree %s level %u"
			       " piece of %zu bytes does not fit a %u-byte node",
			       jrx_btree_name(m->btree_id), m->level, bytes,
			       fs->node_size);
		goto err;
	}
	img = jrx_blob_alloc(bytes);
	if (!p || !img) {
		ret = jrx_fail(-ENOMEM, "allocating a btree %s level %u"
			       " node (%zu bytes)", jrx_btree_name(m->btree_id),
			       m->level, bytes);
		goto err;
	}
	ret = jrx_fs_node_alloc_loc(fs, p);
	if (ret)
		goto err;
	dev = p->dev;
	sector = p->sector;
	pm.nonce = p->nonce;
	bytes = jrx_node_encode_keys(&pm, keys, nr, img, bytes,
				     fs->a->node_magic, fs->j.seq);
	/* adopted first: with q, the write reads the image the node keeps */
	ret = jrx_bnode_adopt_image(p, img, bytes);
	if (ret)
		goto err;
	img = NULL;		/* p's from here */
	if (!fs->nowrite && q)
		ret = jrx_wq_write(q, node_dev(fs, dev), p->blob, bytes,
				   sector * JRX_SECTOR_SIZE, piece_done, NULL);
	else if (!fs->nowrite)
		ret = jrx_dev_pwrite(node_dev(fs, dev), p->blob, bytes,
				     sector * JRX_SECTOR_SIZE);
	if (ret)
		goto err;
	p->dev = dev;
	p->sector = sector;
	p->fresh = true;
	note_write(fs, &fs->nodes_written, bytes);
	*out = p;
	return 0;
err:
	return fail_write(fs, img, p, ret);
}

int jrx_fs_write_piece(struct jrx_fs *fs, const struct jrx_node_meta *m,
		       const struct jrx_bkey *const *keys, size_t nr,
		       struct jrx_wq *q, struct jrx_bnode **out)
{
	return write_piece(fs, m, keys, nr, q, out);
}

/*
 * The keys are walked in key order, which for journal keys is a cache
 * miss a key (they lie in their jsets in journal order): the walk that
 * finds each piece's end prefetches this many keys ahead.
 */
#define CUT_AHEAD 16

int jrx_fs_cut_pieces(struct jrx_fs *fs, const struct jrx_node_meta *m,
		      const struct jrx_bkey *const *keys, size_t nr,
		      uint64_t bytes, struct jrx_wq *q, jrx_piece_fn take,
		      void *ctx)
{
	uint64_t before = 0;
	size_t want = jrx_layout_pieces(bytes, nr, fs->node_size);
	size_t start = 0, cur = 0;
	struct jrx_node_meta pm = *m;
	int ret = 0;

	for (size_t i = 0; i <= nr && !ret; i++) {
		size_t j = i < nr ? jrx_layout_piece_of(before, bytes, want) : want;
		struct jrx_bnode *p;

		if (i + CUT_AHEAD < nr)
			__builtin_prefetch(keys[i + CUT_AHEAD]);
		if (i < nr)
			before += keys[i]->u64s * 8u;
		if (j == cur)
			continue;
		/* keys[start, i) are piece cur */
		pm.max = i < nr ? keys[i - 1]->p : m->max;
		ret = write_piece(fs, &pm, keys + start, i - start, q, &p);
		if (!ret)
			ret = take(ctx, p);
		if (ret)
			break;
		if (i < nr)
			pm.min = jrx_bpos_successor(keys[i - 1]->p);
		start = i;
		cur = j;
	}
	return ret;
}

/* jrx_fs_write_pieces()'s taker: the pieces into an array of as many as
 * the layout rule cuts. */
struct piece_vec {
	struct jrx_bnode **v;
	size_t n;
};

static int push_piece(void *ctx, struct jrx_bnode *p)
{
	struct piece_vec *pv = ctx;

	pv->v[pv->n++] = p;
	return 0;
}

int jrx_fs_write_pieces(struct jrx_fs *fs, const struct jrx_node_meta *m,
			const struct jrx_bkey *const *keys, size_t nr,
			struct jrx_wq *q, struct jrx_bnode ***pieces, size_t *k)
{
	struct piece_vec pv = { 0 };
	uint64_t bytes = 0;
	size_t want;
	int ret;

	for (size_t i = 0; i < nr; i++)
		bytes += keys[i]->u64s * 8u;
	want = jrx_layout_pieces(bytes, nr, fs->node_size);
	pv.v = calloc(want, sizeof(*pv.v));
	if (!pv.v)
		return jrx_fail(-ENOMEM, "allocating the list of %zu pieces of"
				" a btree %s node", want,
				jrx_btree_name(m->btree_id));
	ret = jrx_fs_cut_pieces(fs, m, keys, nr, bytes, q, push_piece, &pv);
	if (ret) {
		if (q)		/* the kernel may still read their images */
			jrx_wq_drain(q);
		while (pv.n--)
			jrx_bnode_free(pv.v[pv.n]);
		free(pv.v);
		return ret;
	}
	*pieces = pv.v;
	*k = pv.n;
	return 0;
}

/* A queued append landed (or failed: the queue's drain says so). */
static void append_done(void *img, int res)
{
	(void)res;
	jrx_blob_free(img);
}

int jrx_fs_append_bset(struct jrx_fs *fs, const struct jrx_bkey *ptr,
		       unsigned btree_id, unsigned level,
		       const struct jrx_bkey *const *keys, size_t nr,
		       const struct jrx_bkey *const *view, size_t nview,
		       struct jrx_wq *q, struct jrx_bnode **out)
{
	const struct jrx_btree_ptr_val *v = jrx_bkey_val(ptr);
	size_t off = (size_t)v->blocks * JRX_BLOCK_SIZE, bytes = 0;
	struct jrx_bnode *p = jrx_bnode_alloc();
	const char *why;
	uint64_t node_off;
	void *img;
	int ret = 0;

	/* the bset rounded up to a block, not a whole node */
	for (size_t i = 0; i < nr; i++)
		bytes += jrx_bkey_bytes(keys[i]);
	bytes = jrx_bset_next_offset(sizeof(struct jrx_bset) + bytes);
	img = jrx_blob_alloc(bytes);
	if (!p || !img) {
		ret = jrx_fail(-ENOMEM, "allocating to append to a btree %s"
			       " level %u node (%zu bytes)",
			       jrx_btree_name(btree_id), level, bytes);
		goto err;
	}
	if (v->dev >= fs->a->nr_devs || !v->blocks || off >= fs->node_size) {
		ret = jrx_fail(-JRX_ERR_NODE_INVALID, "btree %s level %u:"
			       " pointer to device %u with %u blocks written",
			       jrx_btree_name(btree_id), level, v->dev,
			       v->blocks);
		goto err;
	}
	why = jrx_sb_node_range(&fs->a->sb, v->dev, v->sector, &node_off);
	if (why) {
		ret = jrx_fail(-JRX_ERR_NODE_INVALID, "%s: btree %s level %u"
			       " node at sector %" PRIu64 " (%u bytes): %s",
			       fs->a->devs[v->dev].path,
			       jrx_btree_name(btree_id), level, v->sector,
			       fs->node_size, why);
		goto err;
	}
	if (off + bytes > fs->node_size) {
		ret = jrx_fail(-JRX_ERR_NO_SPACE, "btree %s level %u: %zu"
			       " bytes appended at %zu run past the node",
			       jrx_btree_name(btree_id), level, bytes, off);
		goto err;
	}
	jrx_bset_encode_keys(img, v->nonce, off, keys, nr, fs->j.seq);
	p->dev = v->dev;
	p->sector = v->sector;
	p->nonce = v->nonce;
	p->btree_id = (uint8_t)btree_id;
	p->level = (uint8_t)level;
	p->min = v->min_key;
	p->max = ptr->p;
	for (size_t i = 0; i < nview && !ret; i++)
		ret = jrx_bnode_apply(p, view[i], 0);
	if (ret)
		goto err;
	p->written = (uint32_t)(off + jrx_bset_bytes(img));
	p->bsets = 1;
	p->mem_only = fs->nowrite;
	if (!fs->nowrite && q) {
		/* the queue owns img from here, failing or not */
		ret = jrx_wq_write(q, node_dev(fs, v->dev), img, bytes,
				   node_off + off,
				   append_done, img);
		img = NULL;
	} else if (!fs->nowrite) {
		ret = jrx_dev_pwrite(node_dev(fs, v->dev), img, bytes,
				     node_off + off);
	}
	if (ret)
		goto err;
	jrx_blob_free(img);
	note_write(fs, &fs->bsets_appended, bytes);
	*out = p;
	return 0;
err:
	return fail_write(fs, img, p, ret);
}

int jrx_fs_install_pieces(struct jrx_fs *fs, unsigned btree_id,
			  unsigned level, struct jrx_bnode *old, bool was_root,
			  struct jrx_bnode **pieces, size_t k, bool keep)
{
	int ret = 0;

	if (old) {
		jrx_fs_cache_del(fs, old);
		jrx_bnode_free(old);
	}
	if (k > 1)
		fs->splits++;
	else if (pieces[0]->fresh)
		fs->rewrites++;		/* else a bset was appended in place */
	if (keep || was_root)
		for (size_t j = 0; j < k; j++)
			jrx_fs_cache_add(fs, pieces[j]);
	if (was_root)
		ret = k == 1 ? (fs->root[btree_id] = pieces[0], 0) :
			jrx_btree_new_root(fs, btree_id, level + 1u, pieces, k);
	else
		for (size_t j = 0; j < k && !ret; j++)
			ret = jrx_btree_update_parent(fs, pieces[j]);
	if (!keep && !was_root)
		for (size_t j = 0; j < k; j++)
			jrx_bnode_free(pieces[j]);
	free(pieces);
	if (ret)
		fs->dead = true;
	return ret;
}

/*
 * Write-back during a replay (FORMAT.md 7.5): a committed node whose
 * unwritten keys fit past its written tail gets them appended as one
 * bset, and its pointer the new length; a node recovery itself placed is
 * rewritten where it is while it fits; any other node goes to new places,
 * cut by the layout rule, and the old place is freed.
 */
int jrx_fs_replay_writeback(struct jrx_fs *fs, struct jrx_bnode *n)
{
	struct jrx_node_meta m = {
		.btree_id = n->btree_id, .level = n->level,
		.min = n->min, .max = n->max,
	};
	struct jrx_bnode **pieces;
	bool was_root = fs->root[n->btree_id] == n;
	uint32_t blocks = jrx_bnode_blocks(n);
	size_t k;
	int ret = jrx_bnode_settle(n);

	if (ret)
		return ret;
	if (!n->fresh && n->sector && jrx_bnode_append_fits(n, fs->node_size))
		return jrx_fs_node_append(fs, n);
	if (n->fresh && n->sector &&
	    jrx_bnode_compact_bytes(n) <= fs->node_size) {
		ret = jrx_fs_node_write_full(fs, n);
		/* the pointer carries the written length */
		if (!ret && !was_root && jrx_bnode_blocks(n) != blocks)
			ret = jrx_btree_update_parent(fs, n);
		return ret;
	}
	/* a settle's queue: the pieces keep their images, and the batch is
	 * drained before any of them is written again */
	ret = jrx_fs_write_pieces(fs, &m, (const struct jrx_bkey *const *)n->keys,
				  n->nr, jrx_fs_wb_queue(fs), &pieces, &k);
	if (!ret && n->sector)
		ret = jrx_fs_free_node_loc(fs, n->dev, n->sector);
	if (ret) {
		fs->dead = true;
		return ret;
	}
	return jrx_fs_install_pieces(fs, n->btree_id, n->level, n, was_root,
				     pieces, k, true);
}
