/*
 * btree.c - the btrees of an open store: node cache, descent, lookup,
 * insert with splits, node rewrite, write-back and walks.
 *
 * Interior keys are btree pointers keyed by the child's max key; a node at
 * level L covering pos is found by taking, at every level above, the first
 * pointer whose key is >= pos.  Changing a pointer (split, rewrite) writes
 * the new child(ren) first, then journals the pointer as a level L+1 key
 * and applies it to the parent; a new root is carried by every later
 * jset's btree_root entries.
 */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <inttypes.h>
#include <sys/random.h>
#include "fs.h"
#include "blob.h"
#include "btree_replay.h"
#include "layout.h"
#include "jrx/errors.h"
#include "../util/diag.h"
#include "../format/node.h"

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

static void cache_add(struct jrx_fs *fs, struct jrx_bnode *n)
{
	size_t h = hash_loc(n->dev, n->sector);

	n->hnext = fs->cache[h];
	fs->cache[h] = n;
	fs->cached++;
}

static void cache_del(struct jrx_fs *fs, struct jrx_bnode *n)
{
	struct jrx_bnode **p = &fs->cache[hash_loc(n->dev, n->sector)];

	while (*p && *p != n)
		p = &(*p)->hnext;
	if (*p) {
		*p = n->hnext;
		fs->cached--;
	}
}

static uint64_t node_offset(const struct jrx_bnode *n)
{
	return n->sector * JRX_SECTOR_SIZE;
}

int jrx_fs_read_node(struct jrx_fs *fs, unsigned btree_id, unsigned level,
		     const struct jrx_bkey *ptr, struct jrx_bnode **out)
{
	const struct jrx_btree_ptr_val *v = jrx_bkey_val(ptr);
	struct jrx_bnode *n;
	const char *why = NULL;
	struct jrx_dev *d;
	void *img;
	int ret;

	if (v->dev >= fs->a->nr_devs)
		return jrx_fail(-JRX_ERR_NODE_INVALID, "btree %s level %u: pointer"
				" to device %u, array has %u", jrx_btree_name(btree_id),
				level, v->dev, fs->a->nr_devs);
	d = fs->direct ? &fs->direct[v->dev] : &fs->a->devs[v->dev];
	n = jrx_bnode_alloc();
	img = jrx_blob_alloc(fs->node_size);
	if (!n || !img) {
		jrx_bnode_free(n);
		jrx_blob_free(img);
		return -ENOMEM;
	}
	ret = jrx_dev_pread(d, img, fs->node_size, v->sector * JRX_SECTOR_SIZE);
	if (ret) {
		jrx_blob_free(img);
		jrx_bnode_free(n);
		return ret;
	}
	ret = jrx_bnode_decode_adopt(n, img, fs->node_size, fs->a->node_magic,
				     &fs->bl, &why);
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
				": %s", d->path, jrx_btree_name(btree_id), level,
				v->sector * JRX_SECTOR_SIZE, why ? why : "");
	}
	n->dev = v->dev;
	n->sector = v->sector;
	*out = n;
	return 0;
}

/* The node a btree pointer names: from the cache, or read and checked. */
static int node_get(struct jrx_fs *fs, unsigned btree_id, unsigned level,
		    const struct jrx_bkey *ptr, struct jrx_bnode **out)
{
	const struct jrx_btree_ptr_val *v = jrx_bkey_val(ptr);
	struct jrx_bnode *n = cache_find(fs, v->dev, v->sector);
	int ret;

	if (!n) {
		ret = jrx_fs_read_node(fs, btree_id, level, ptr, &n);
		if (ret)
			return ret;
		cache_add(fs, n);
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

int jrx_fs_get_node(struct jrx_fs *fs, unsigned btree_id, unsigned level,
		    const struct jrx_bkey *ptr, struct jrx_bnode **out)
{
	return node_get(fs, btree_id, level, ptr, out);
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
	v->nonce = n->nonce;
	v->min_key = n->min;
}


/* ---------------------------------------------------------------- descent */

/* The node at `level` whose range holds pos. */
static int descend(struct jrx_fs *fs, unsigned btree_id, unsigned level,
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
		ret = node_get(fs, btree_id, n->level - 1u, n->keys[i], &n);
		if (ret)
			return ret;
	}
	*out = n;
	return 0;
}

/* ---------------------------------------------------------------- allocation */

static void fs_lock(struct jrx_fs *fs)
{
	if (fs->lock)
		pthread_mutex_lock(fs->lock);
}

static void fs_unlock(struct jrx_fs *fs)
{
	if (fs->lock)
		pthread_mutex_unlock(fs->lock);
}

static int node_alloc_loc(struct jrx_fs *fs, struct jrx_bnode *n)
{
	uint32_t sectors = fs->node_size / JRX_SECTOR_SIZE, got, gen;
	int ret;

	fs_lock(fs);
	ret = jrx_alloc_sectors(&fs->bt, JRX_DATA_BTREE, sectors,
				fs->j.durable_seq, fs->j.seq, &n->dev,
				&n->sector, &got, &gen);
	fs_unlock(fs);
	if (ret)
		return ret;
	assert(got == sectors);
	n->fresh = fs->replaying;
	if (getrandom(&n->nonce, sizeof(n->nonce), 0) != sizeof(n->nonce))
		n->nonce = (n->sector << 20) ^ (uint64_t)rand();
	return 0;
}

int jrx_fs_free_node_loc(struct jrx_fs *fs, uint32_t dev, uint64_t sector)
{
	uint64_t bsec = fs->bt.bucket_sectors;
	int ret;

	fs_lock(fs);
	ret = jrx_bucket_add_sectors(&fs->bt, dev, sector / bsec, JRX_DATA_BTREE,
				     -(int64_t)(fs->node_size / JRX_SECTOR_SIZE),
				     fs->j.seq);
	fs_unlock(fs);
	return ret;
}

static int node_free_loc(struct jrx_fs *fs, struct jrx_bnode *n)
{
	return jrx_fs_free_node_loc(fs, n->dev, n->sector);
}

/* Write keys[lo, hi) of n as the whole node at n's location. */
static int node_write_full(struct jrx_fs *fs, struct jrx_bnode *n)
{
	size_t bytes = jrx_bnode_encode(n, 0, n->nr, fs->iobuf, fs->node_size,
					fs->a->node_magic, fs->j.seq);
	int ret = fs->nowrite ? 0 :
		jrx_dev_pwrite(&fs->a->devs[n->dev], fs->iobuf, bytes,
			       node_offset(n));
	if (ret)
		return ret;
	fs->nodes_written++;
	/* the whole view is on disk now */
	jrx_bnode_written(n, (uint32_t)bytes);
	n->bsets = 1;
	return 0;
}

static int btree_insert(struct jrx_fs *fs, unsigned btree_id, unsigned level,
			const struct jrx_bkey *k, uint64_t seq);

/* Journal and apply a pointer to n in its parent (level n->level + 1). */
static int update_parent(struct jrx_fs *fs, struct jrx_bnode *n)
{
	uint64_t buf[JRX_PTR_U64S];
	struct jrx_bkey *k = (struct jrx_bkey *)buf;
	int ret;

	jrx_fs_node_ptr(n, k);
	ret = fs->replaying ? 0 :
		jrx_journal_add_key(&fs->j, n->btree_id, n->level + 1u, k);
	if (ret)
		return ret;
	return btree_insert(fs, n->btree_id, n->level + 1u, k, fs->j.seq);
}

/*
 * A new root above the k nodes a root was cut into.  The write path
 * writes it at once; a replay leaves it dirty, with no place yet (sector
 * 0), for write-back to place and cut with the next level.
 */
static int new_root(struct jrx_fs *fs, unsigned btree_id, unsigned level,
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
		return -ENOMEM;
	root->btree_id = (uint8_t)btree_id;
	root->level = (uint8_t)level;
	root->min = JRX_POS_MIN;
	root->max = JRX_POS_MAX;
	for (size_t j = 0; j < k && !ret; j++) {
		jrx_fs_node_ptr(kids[j], ptr);
		ret = jrx_bnode_apply(root, ptr, seq);
	}
	if (!ret && !fs->replaying)
		ret = node_alloc_loc(fs, root);
	if (!ret && !fs->replaying)
		ret = node_write_full(fs, root);
	if (ret) {
		jrx_bnode_free(root);
		return ret;
	}
	cache_add(fs, root);
	fs->root[btree_id] = root;
	return 0;
}

/*
 * Split n into two new nodes written at once; n's location is freed.
 * The parent gets the right half's pointer at n's old max first (so the
 * range stays covered), then the left half's.
 */
static int node_split(struct jrx_fs *fs, struct jrx_bnode *n)
{
	struct jrx_bnode *l = NULL, *r = NULL;
	size_t half = n->live_u64s / 2, acc = 0, i;
	bool was_root = fs->root[n->btree_id] == n;
	int ret = -ENOMEM;

	assert(n->nr >= 2);
	for (i = 0; i < n->nr - 1; i++) {
		acc += n->keys[i]->u64s;
		if (acc >= half)
			break;
	}
	i++;		/* left keeps [0, i), right [i, nr) */
	l = jrx_bnode_alloc();
	r = jrx_bnode_alloc();
	if (!l || !r)
		goto err;
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

	ret = node_alloc_loc(fs, l);
	if (!ret)
		ret = node_alloc_loc(fs, r);
	if (!ret)
		ret = node_write_full(fs, l);
	if (!ret)
		ret = node_write_full(fs, r);
	if (ret)
		goto err;
	ret = node_free_loc(fs, n);
	if (ret)
		goto err;
	cache_del(fs, n);
	cache_add(fs, l);
	cache_add(fs, r);
	fs->splits++;
	if (was_root) {
		struct jrx_bnode *kids[2] = { l, r };

		ret = new_root(fs, n->btree_id, n->level + 1u, kids, 2);
		jrx_bnode_free(n);
		return ret;
	}
	jrx_bnode_free(n);
	ret = update_parent(fs, r);
	if (!ret)
		ret = update_parent(fs, l);
	return ret;
err:
	jrx_bnode_free(l);
	jrx_bnode_free(r);
	fs->dead = true;
	return ret;
}

static int btree_insert(struct jrx_fs *fs, unsigned btree_id, unsigned level,
			const struct jrx_bkey *k, uint64_t seq)
{
	struct jrx_bnode *n;
	int ret;

	ret = descend(fs, btree_id, level, k->p, &n);
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
		return node_split(fs, n);
	return 0;
}

int jrx_btree_insert_journaled(struct jrx_fs *fs, unsigned btree_id,
			       const struct jrx_bkey *k);

int jrx_btree_insert_journaled(struct jrx_fs *fs, unsigned btree_id,
			       const struct jrx_bkey *k)
{
	return btree_insert(fs, btree_id, 0, k, fs->j.seq);
}

int jrx_fs_replay_key(struct jrx_fs *fs, unsigned btree_id, unsigned level,
		      const struct jrx_bkey *k)
{
	if (!fs->replaying || fs->dead)
		return jrx_fail(-JRX_ERR_CRASHED, "store is not replaying");
	if (btree_id >= JRX_BTREE_NR)
		return jrx_fail(-JRX_ERR_KEY_INVALID, "journal key for btree %u",
				btree_id);
	return btree_insert(fs, btree_id, level, k, fs->j.seq);
}

/* ---------------------------------------------------------------- write-back */

/* Move n to a new location with all its keys (its appends ran out). */
static int node_rewrite(struct jrx_fs *fs, struct jrx_bnode *n)
{
	uint32_t odev = n->dev;
	uint64_t osector = n->sector;
	bool was_root = fs->root[n->btree_id] == n;
	int ret;

	cache_del(fs, n);
	ret = node_alloc_loc(fs, n);
	if (!ret)
		ret = node_write_full(fs, n);
	cache_add(fs, n);	/* even on failure: the cache owns n */
	if (ret) {
		fs->dead = true;
		return ret;
	}
	fs->rewrites++;
	ret = jrx_fs_free_node_loc(fs, odev, osector);
	if (ret || was_root)
		return ret;	/* a root's new place goes out in btree_root */
	return update_parent(fs, n);
}

/* ---------------------------------------------------------------- replay layout */

int jrx_fs_write_piece(struct jrx_fs *fs, const struct jrx_node_meta *m,
		       const struct jrx_bkey *const *keys, size_t nr,
		       struct jrx_bnode **out)
{
	struct jrx_bnode *p = jrx_bnode_alloc();
	void *img = jrx_blob_alloc(fs->node_size);
	struct jrx_node_meta pm = *m;
	uint32_t dev;
	uint64_t sector;
	size_t bytes;
	int ret = -ENOMEM;

	if (!p || !img)
		goto err;
	ret = node_alloc_loc(fs, p);
	if (ret)
		goto err;
	dev = p->dev;
	sector = p->sector;
	pm.nonce = p->nonce;
	bytes = jrx_node_encode_keys(&pm, keys, nr, img, fs->node_size,
				     fs->a->node_magic, fs->j.seq);
	ret = fs->nowrite ? 0 :
		jrx_dev_pwrite(fs->direct ? &fs->direct[dev] : &fs->a->devs[dev],
			       img, bytes, sector * JRX_SECTOR_SIZE);
	if (!ret)
		ret = jrx_bnode_adopt_image(p, img, bytes);
	if (ret)
		goto err;
	p->dev = dev;
	p->sector = sector;
	p->fresh = true;
	fs_lock(fs);
	fs->nodes_written++;
	fs_unlock(fs);
	*out = p;
	return 0;
err:
	jrx_blob_free(img);
	jrx_bnode_free(p);
	fs_lock(fs);
	fs->dead = true;	/* a place may be allocated and not used */
	fs_unlock(fs);
	return ret;
}

int jrx_fs_write_pieces(struct jrx_fs *fs, const struct jrx_node_meta *m,
			const struct jrx_bkey *const *keys, size_t nr,
			struct jrx_bnode ***pieces, size_t *k)
{
	uint64_t bytes = 0, before = 0;
	size_t want, start = 0, got = 0, cur = 0;
	struct jrx_bnode **v;
	struct jrx_node_meta pm = *m;
	int ret = 0;

	for (size_t i = 0; i < nr; i++)
		bytes += keys[i]->u64s * 8u;
	want = jrx_layout_pieces(bytes, nr, fs->node_size);
	v = calloc(want, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i <= nr && !ret; i++) {
		size_t j = i < nr ? jrx_layout_piece_of(before, bytes, want) : want;

		if (i < nr)
			before += keys[i]->u64s * 8u;
		if (j == cur)
			continue;
		/* keys[start, i) are piece cur */
		pm.max = i < nr ? keys[i - 1]->p : m->max;
		ret = jrx_fs_write_piece(fs, &pm, keys + start, i - start,
					 &v[got]);
		if (ret)
			break;
		got++;
		if (i < nr)
			pm.min = jrx_bpos_successor(keys[i - 1]->p);
		start = i;
		cur = j;
	}
	if (ret) {
		while (got--)
			jrx_bnode_free(v[got]);
		free(v);
		return ret;
	}
	*pieces = v;
	*k = got;
	return 0;
}

int jrx_fs_install_pieces(struct jrx_fs *fs, unsigned btree_id,
			  unsigned level, struct jrx_bnode *old, bool was_root,
			  struct jrx_bnode **pieces, size_t k, bool keep)
{
	int ret = 0;

	if (old) {
		cache_del(fs, old);
		jrx_bnode_free(old);
	}
	if (k > 1)
		fs->splits++;
	else
		fs->rewrites++;
	if (keep || was_root)
		for (size_t j = 0; j < k; j++)
			cache_add(fs, pieces[j]);
	if (was_root)
		ret = k == 1 ? (fs->root[btree_id] = pieces[0], 0) :
			new_root(fs, btree_id, level + 1u, pieces, k);
	else
		for (size_t j = 0; j < k && !ret; j++)
			ret = update_parent(fs, pieces[j]);
	if (!keep && !was_root)
		for (size_t j = 0; j < k; j++)
			jrx_bnode_free(pieces[j]);
	free(pieces);
	if (ret)
		fs->dead = true;
	return ret;
}

/*
 * Write-back during a replay: a node recovery placed is rewritten where
 * it is while it fits; any other node goes to new places, cut by the
 * layout rule, and the old place is freed.
 */
static int replay_writeback(struct jrx_fs *fs, struct jrx_bnode *n)
{
	struct jrx_node_meta m = {
		.btree_id = n->btree_id, .level = n->level,
		.min = n->min, .max = n->max,
	};
	struct jrx_bnode **pieces;
	bool was_root = fs->root[n->btree_id] == n;
	size_t k;
	int ret = jrx_bnode_settle(n);

	if (ret)
		return ret;
	if (n->fresh && n->sector &&
	    jrx_bnode_compact_bytes(n) <= fs->node_size)
		return node_write_full(fs, n);
	ret = jrx_fs_write_pieces(fs, &m, (const struct jrx_bkey *const *)n->keys,
				  n->nr, &pieces, &k);
	if (!ret && n->sector)
		ret = node_free_loc(fs, n);
	if (ret) {
		fs->dead = true;
		return ret;
	}
	return jrx_fs_install_pieces(fs, n->btree_id, n->level, n, was_root,
				     pieces, k, true);
}

static int node_writeback(struct jrx_fs *fs, struct jrx_bnode *n)
{
	size_t off, bytes;
	int ret;

	if (!n->dirty_seq)
		return 0;
	/*
	 * Recovery never writes into a node the committed state uses: such
	 * a node moves (or splits).  A node recovery itself placed is
	 * rewritten where it is, which is what lets write-back settle.
	 */
	if (fs->replaying)
		return replay_writeback(fs, n);
	/*
	 * No room to append: move the node, or split it when it is more
	 * than 2/3 full after compaction, so the new node(s) keep room for
	 * later appends (else every write-back would move it again).
	 */
	if (!jrx_bnode_append_fits(n, fs->node_size))
		return jrx_bnode_compact_bytes(n) > fs->node_size / 3 * 2 ?
			node_split(fs, n) : node_rewrite(fs, n);
	bytes = jrx_bnode_encode_append(n, fs->iobuf, fs->j.seq, &off);
	ret = jrx_dev_pwrite(&fs->a->devs[n->dev], fs->iobuf, bytes,
			     node_offset(n) + off);
	if (ret) {
		fs->dead = true;
		return ret;
	}
	jrx_bnode_written(n, (uint32_t)(off + bytes));
	fs->bsets_appended++;
	return 0;
}

int jrx_fs_writeback_all(struct jrx_fs *fs)
{
	struct jrx_bnode **v = NULL;
	size_t cap = 0;
	int ret = 0;

	/* leaves first: a node written elsewhere dirties the level above */
	for (unsigned level = 0; !ret && level < JRX_BTREE_MAX_DEPTH; level++) {
		for (;;) {
			size_t nr = 0;

			for (size_t h = 0; h < JRX_CACHE_BUCKETS; h++)
				for (struct jrx_bnode *n = fs->cache[h]; n; n = n->hnext) {
					if (n->level != level || !n->dirty_seq)
						continue;
					if (nr == cap) {
						size_t nc = cap ? cap * 2 : 256;
						void *p = realloc(v, nc * sizeof(*v));

						if (!p) {
							free(v);
							return -ENOMEM;
						}
						v = p;
						cap = nc;
					}
					v[nr++] = n;
				}
			if (!nr)
				break;
			/* writing one node never frees another of its level */
			for (size_t i = 0; i < nr && !ret; i++)
				ret = node_writeback(fs, v[i]);
			if (ret)
				break;
		}
	}
	free(v);
	return ret;
}

bool jrx_fs_any_dirty_node(const struct jrx_fs *fs)
{
	for (size_t h = 0; h < JRX_CACHE_BUCKETS; h++)
		for (struct jrx_bnode *n = fs->cache[h]; n; n = n->hnext)
			if (n->dirty_seq)
				return true;
	return false;
}

uint64_t jrx_fs_last_seq(const struct jrx_fs *fs)
{
	uint64_t last = fs->j.seq;

	for (size_t h = 0; h < JRX_CACHE_BUCKETS; h++)
		for (struct jrx_bnode *n = fs->cache[h]; n; n = n->hnext)
			if (n->dirty_seq && n->dirty_seq < last)
				last = n->dirty_seq;
	return last;
}

/* ---------------------------------------------------------------- lookup */

int jrx_btree_peek(struct jrx_fs *fs, unsigned btree_id, struct jrx_bpos pos,
		   const struct jrx_bkey **k)
{
	for (;;) {
		struct jrx_bnode *n;
		size_t i;
		int ret = descend(fs, btree_id, 0, pos, &n);

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
	for (size_t i = 0; i < n->nr; i++) {
		struct jrx_bnode *c;

		if (!n->level) {
			if (kcb && (ret = kcb(ctx, n->btree_id, n->keys[i])))
				return ret;
			continue;
		}
		ret = node_get(fs, n->btree_id, n->level - 1u, n->keys[i], &c);
		if (!ret)
			ret = walk(fs, c, kcb, ncb, ctx);
		if (ret)
			return ret;
	}
	return 0;
}

int jrx_btree_walk(struct jrx_fs *fs, unsigned btree_id, jrx_key_cb cb,
		   void *ctx)
{
	return fs->root[btree_id] ? walk(fs, fs->root[btree_id], cb, NULL, ctx) : 0;
}

int jrx_btree_walk_nodes(struct jrx_fs *fs, unsigned btree_id, jrx_node_cb cb,
			 void *ctx)
{
	return fs->root[btree_id] ? walk(fs, fs->root[btree_id], NULL, cb, ctx) : 0;
}

/* ---------------------------------------------------------------- roots */

int jrx_fs_set_root(struct jrx_fs *fs, unsigned btree_id, unsigned level,
		    const struct jrx_bkey *ptr);

int jrx_fs_set_root(struct jrx_fs *fs, unsigned btree_id, unsigned level,
		    const struct jrx_bkey *ptr)
{
	return node_get(fs, btree_id, level, ptr, &fs->root[btree_id]);
}

void jrx_fs_root_ptr(const struct jrx_fs *fs, unsigned btree_id,
		     struct jrx_bkey *k);

void jrx_fs_root_ptr(const struct jrx_fs *fs, unsigned btree_id,
		     struct jrx_bkey *k)
{
	jrx_fs_node_ptr(fs->root[btree_id], k);
}

void jrx_fs_cache_free(struct jrx_fs *fs);

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
