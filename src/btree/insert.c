/*
 * insert.c - changing a btree of an open store: inserting a key at its
 * level, splitting a node that overflows, a new root above a root that
 * was cut, and the pointer to a moved node in its parent.
 *
 * The write path applies a key at once and splits a full node there and
 * then, writing both halves before their pointers are journaled; a
 * replay defers keys to the node's write-back (replay_layout.c), which
 * alone decides how the node is cut.
 */
#include <assert.h>
#include <errno.h>
#include "btree_int.h"
#include "btree_replay.h"
#include "jrx/errors.h"
#include "../util/diag.h"

int jrx_btree_update_parent(struct jrx_fs *fs, struct jrx_bnode *n)
{
	uint64_t buf[JRX_PTR_U64S];
	struct jrx_bkey *k = (struct jrx_bkey *)buf;
	int ret;

	jrx_fs_node_ptr(n, k);
	ret = fs->replaying ? 0 :
		jrx_journal_add_key(&fs->j, n->btree_id, n->level + 1u, k);
	if (ret)
		return ret;
	return jrx_btree_insert(fs, n->btree_id, n->level + 1u, k, fs->j.seq);
}

/*
 * A new root above the k nodes a root was cut into.  The write path
 * writes it at once; a replay leaves it dirty, with no place yet (sector
 * 0), for write-back to place and cut with the next level.
 */
int jrx_btree_new_root(struct jrx_fs *fs, unsigned btree_id, unsigned level,
		       struct jrx_bnode *const *kids, size_t k)
{
	struct jrx_bnode *root;
	uint64_t buf[JRX_PTR_U64S];
	struct jrx_bkey *ptr = (struct jrx_bkey *)buf;
	uint64_t seq = fs->replaying ? fs->j.seq : 0;	/* replay: dirty */
	int ret = 0;

	if (level >= JRX_BTREE_MAX_DEPTH)
		return jrx_fail(-JRX_ERR_NO_SPACE, "btree %s too deep",
				jrx_btree_name(btree_id));
	root = jrx_bnode_alloc();
	if (!root)
		return jrx_fail(-ENOMEM, "allocating a new root of"
				" btree %s", jrx_btree_name(btree_id));
	root->btree_id = (uint8_t)btree_id;
	root->level = (uint8_t)level;
	root->min = JRX_POS_MIN;
	root->max = JRX_POS_MAX;
	for (size_t j = 0; j < k && !ret; j++) {
		jrx_fs_node_ptr(kids[j], ptr);
		ret = jrx_bnode_apply(root, ptr, seq);
	}
	if (!ret && !fs->replaying)
		ret = jrx_fs_node_alloc_loc(fs, root);
	if (!ret && !fs->replaying)
		ret = jrx_fs_node_write_full(fs, root);
	if (ret) {
		jrx_bnode_free(root);
		return ret;
	}
	jrx_fs_cache_add(fs, root);
	fs->root[btree_id] = root;
	return 0;
}

/*
 * Split n into two new nodes written at once; n's location is freed.
 * The parent gets the right half's pointer at n's old max first (so the
 * range stays covered), then the left half's.
 */
int jrx_btree_split(struct jrx_fs *fs, struct jrx_bnode *n)
{
	struct jrx_bnode *l = NULL, *r = NULL;
	size_t half = n->live_u64s / 2, acc = 0, i;
	bool was_root = fs->root[n->btree_id] == n;
	int ret;

	assert(n->nr >= 2);
	for (i = 0; i < n->nr - 1; i++) {
		acc += n->keys[i]->u64s;
		if (acc >= half)
			break;
	}
	i++;		/* left keeps [0, i), right [i, nr) */
	l = jrx_bnode_alloc();
	r = jrx_bnode_alloc();
	if (!l || !r) {
		ret = jrx_fail(-ENOMEM, "allocating to split a btree %s"
			       " level %u node", jrx_btree_name(n->btree_id),
			       n->level);
		goto err;
	}
	l->btree_id = r->btree_id = n->btree_id;
	l->level = r->level = n->level;
	l->min = n->min;
	r->max = n->max;
	ret = jrx_bnode_move_tail(n, r, i);
	if (ret)
		goto err;
	/* l takes over n's remaining keys */
	l->keys = n->keys;
	l->nr = n->nr;
	l->cap = n->cap;
	l->live_u64s = n->live_u64s;
	l->blob = n->blob;		/* and the image they point into */
	l->blob_len = n->blob_len;
	n->keys = NULL;
	n->nr = n->cap = 0;
	n->live_u64s = 0;
	n->blob = NULL;
	n->blob_len = 0;
	l->max = l->keys[l->nr - 1]->p;
	r->min = jrx_bpos_successor(l->max);

	ret = jrx_fs_node_alloc_loc(fs, l);
	if (!ret)
		ret = jrx_fs_node_alloc_loc(fs, r);
	if (!ret)
		ret = jrx_fs_node_write_full(fs, l);
	if (!ret)
		ret = jrx_fs_node_write_full(fs, r);
	if (ret)
		goto err;
	ret = jrx_fs_free_node_loc(fs, n->dev, n->sector);
	if (ret)
		goto err;
	jrx_fs_cache_del(fs, n);
	jrx_fs_cache_add(fs, l);
	jrx_fs_cache_add(fs, r);
	fs->splits++;
	if (was_root) {
		struct jrx_bnode *kids[2] = { l, r };

		ret = jrx_btree_new_root(fs, n->btree_id, n->level + 1u, kids, 2);
		jrx_bnode_free(n);
		return ret;
	}
	jrx_bnode_free(n);
	ret = jrx_btree_update_parent(fs, r);
	if (!ret)
		ret = jrx_btree_update_parent(fs, l);
	return ret;
err:
	jrx_bnode_free(l);
	jrx_bnode_free(r);
	fs->dead = true;
	return ret;
}

int jrx_btree_insert(struct jrx_fs *fs, unsigned btree_id, unsigned level,
		     const struct jrx_bkey *k, uint64_t seq)
{
	struct jrx_bnode *n;
	int ret;

	ret = jrx_btree_descend(fs, btree_id, level, k->p, &n);
	if (ret)
		return ret;
	/* a replay cuts nodes at write-back only (layout.h), and a node
	 * takes its keys in O(1) until something reads it */
	if (fs->replaying)
		return jrx_bnode_defer(n, k, seq);
	ret = jrx_bnode_apply(n, k, seq);
	if (ret)
		return ret;
	if (jrx_bnode_compact_bytes(n) > fs->node_size)
		return jrx_btree_split(fs, n);
	return 0;
}

int jrx_btree_insert_journaled(struct jrx_fs *fs, unsigned btree_id,
			       const struct jrx_bkey *k)
{
	return jrx_btree_insert(fs, btree_id, 0, k, fs->j.seq);
}
