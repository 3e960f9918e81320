/* bulk.c - bottom-up btree construction (see bulk.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include "bulk.h"
#include "jrx/errors.h"
#include "../util/diag.h"
#include "../util/prng.h"
#include "../util/vec.h"
#include "../format/node.h"

#define HDR (sizeof(struct jrx_btree_node) + sizeof(struct jrx_bset))
#define PTR_BYTES (sizeof(struct jrx_bkey) + sizeof(struct jrx_btree_ptr_val))

int jrx_bulk_init(struct jrx_bulk *b, struct jrx_array *a,
		  struct jrx_buckets *bt, unsigned btree_id, size_t node_size,
		  unsigned fill_pct, uint64_t journal_seq)
{
	memset(b, 0, sizeof(*b));
	b->a = a;
	b->bt = bt;
	b->btree_id = btree_id;
	b->node_size = node_size;
	b->fill = (node_size - HDR) * fill_pct / 100;
	b->journal_seq = journal_seq;
	if (getrandom(&b->rng, sizeof(b->rng), 0) != sizeof(b->rng))
		b->rng = 0x12345678;
	for (unsigned i = 0; i < JRX_BTREE_MAX_DEPTH; i++) {
		b->lv[i].buf = jrx_alloc_aligned(node_size);
		if (!b->lv[i].buf) {
			jrx_bulk_exit(b);
			return jrx_fail(-ENOMEM, "allocating a bulk build's"
					" node buffers (%zu bytes each)", node_size);
		}
	}
	return 0;
}

void jrx_bulk_exit(struct jrx_bulk *b)
{
	for (unsigned i = 0; i < JRX_BTREE_MAX_DEPTH; i++)
		free(b->lv[i].buf);
	memset(b->lv, 0, sizeof(b->lv));
}

static void open_level(struct jrx_bulk *b, unsigned level, struct jrx_bpos min)
{
	struct jrx_bulk_level *l = &b->lv[level];

	l->used = 0;
	l->nkeys = 0;
	l->min = min;
	l->nonce = jrx_splitmix64(&b->rng);
	l->open = true;
}

static char *keys_at(struct jrx_bulk_level *l)
{
	return (char *)l->buf + HDR;
}

static int add_at(struct jrx_bulk *b, unsigned level, const struct jrx_bkey *k);

/* Write level's node with max as its max key; its pointer goes up. */
static int close_level(struct jrx_bulk *b, unsigned level, struct jrx_bpos max,
		       struct jrx_btree_root *root)
{
	struct jrx_bulk_level *l = &b->lv[level];
	struct jrx_btree_node *h = l->buf;
	struct jrx_bset *bs = (void *)(h + 1);
	uint64_t pbuf[PTR_BYTES / 8];
	struct jrx_bkey *pk = (struct jrx_bkey *)pbuf;
	struct jrx_btree_ptr_val *pv;
	uint32_t dev = 0, got, gen;
	uint64_t sector = 0;
	size_t bytes = jrx_bset_next_offset(HDR + l->used);
	int ret;

	if (b->a) {
		if (b->slots) {
			if (b->next_slot == b->nr_slots)
				return jrx_fail(-JRX_ERR_NO_SPACE, "bulk build of %s"
						" ran out of reserved node slots",
						jrx_btree_name(b->btree_id));
			dev = b->slots[b->next_slot].dev;
			sector = b->slots[b->next_slot].sector;
			b->next_slot++;
		} else {
			ret = jrx_alloc_sectors(b->bt, JRX_DATA_BTREE,
						(uint32_t)(b->node_size / JRX_SECTOR_SIZE),
						UINT64_MAX, 0, &dev, &sector, &got,
						&gen);
			if (ret)
				return ret;
		}
		memset(h, 0, HDR);
		memset((char *)l->buf + HDR + l->used, 0, bytes - HDR - l->used);
		h->version = JRX_FORMAT_VERSION;
		h->magic = b->a->node_magic;
		h->nonce = l->nonce;
		h->btree_id = (uint8_t)b->btree_id;
		h->level = (uint8_t)level;
		h->min_key = l->min;
		h->max_key = max;
		jrx_node_set_csum(h);
		bs->nonce = l->nonce;
		bs->journal_seq = b->journal_seq;
		bs->u64s = (uint32_t)(l->used / 8);
		jrx_bset_set_csum(bs);
		ret = jrx_dev_pwrite(&b->a->devs[dev], l->buf, bytes,
				     sector * JRX_SECTOR_SIZE);
		if (ret)
			return ret;
	}
	b->nodes++;
	l->open = false;
	jrx_bkey_init(pk, JRX_KEY_BTREE_PTR, max, sizeof(*pv));
	pv = jrx_bkey_val(pk);
	memset(pv, 0, sizeof(*pv));
	pv->sector = sector;
	pv->dev = dev;
	pv->blocks = (uint32_t)(bytes / JRX_BLOCK_SIZE);
	pv->nonce = l->nonce;
	pv->min_key = l->min;
	if (root) {
		memset(root, 0, sizeof(*root));
		root->btree_id = (uint8_t)b->btree_id;
		root->level = (uint8_t)level;
		root->present = 1;
		memcpy(&root->k, pk, PTR_BYTES);
		return 0;
	}
	return add_at(b, level + 1, pk);
}

static int add_at(struct jrx_bulk *b, unsigned level, const struct jrx_bkey *k)
{
	struct jrx_bulk_level *l;
	size_t kb = jrx_bkey_bytes(k);
	size_t fill = level ? b->node_size - HDR - PTR_BYTES : b->fill;
	int ret;

	if (level >= JRX_BTREE_MAX_DEPTH)
		return jrx_fail(-JRX_ERR_NO_SPACE, "bulk build: btree too deep");
	l = &b->lv[level];
	if (!l->open)
		open_level(b, level, JRX_POS_MIN);
	if (l->nkeys && l->used + kb > fill) {
		struct jrx_bpos max = l->last;

		ret = close_level(b, level, max, NULL);
		if (ret)
			return ret;
		open_level(b, level, jrx_bpos_successor(max));
	}
	memcpy(keys_at(l) + l->used, k, kb);
	l->used += kb;
	l->nkeys++;
	l->last = k->p;
	return 0;
}

int jrx_bulk_add(struct jrx_bulk *b, const struct jrx_bkey *k)
{
	if (b->keys && jrx_bpos_cmp(k->p, b->lv[0].last) <= 0)
		return jrx_fail(-JRX_ERR_KEY_INVALID, "bulk build of %s: keys out"
				" of order", jrx_btree_name(b->btree_id));
	b->keys++;
	return add_at(b, 0, k);
}

int jrx_bulk_finish(struct jrx_bulk *b, struct jrx_btree_root *root)
{
	unsigned level = 0;
	int ret;

	if (!b->lv[0].open)
		open_level(b, 0, JRX_POS_MIN);
	for (;;) {
		bool top = true;

		for (unsigned i = level + 1; i < JRX_BTREE_MAX_DEPTH; i++)
			if (b->lv[i].open)
				top = false;
		/* the last node of a level covers up to POS_MAX; the level's
		 * only node, with nothing above it, is the root */
		ret = close_level(b, level, JRX_POS_MAX, top ? root : NULL);
		if (ret || top)
			return ret;
		level++;
	}
}

/* ---------------------------------------------------------------- alloc trees */

static int feed_accounting(struct jrx_bulk *b, struct jrx_buckets *bt,
			   int64_t nr_inodes, uint64_t version)
{
	uint64_t buf[JRX_BKEY_U64S + 2];
	struct jrx_bkey *k = (struct jrx_bkey *)buf;
	struct jrx_accounting_val *v = (void *)(buf + JRX_BKEY_U64S);
	int ret = 0;

	for (unsigned d = 0; d < bt->nr_devs && !ret; d++) {
		for (unsigned t = 1; t < JRX_DATA_TYPE_NR && !ret; t++) {
			jrx_bkey_init(k, JRX_KEY_ACCOUNTING, jrx_acct_dev_pos(d, t),
				      sizeof(*v));
			k->version = version;
			v->d[0] = v->d[1] = 0;
			for (uint64_t i = 0; i < bt->nbuckets[d]; i++) {
				const struct jrx_bucket *s = &bt->b[d][i];

				if (s->data_type == t) {
					v->d[0]++;
					v->d[1] += s->dirty_sectors;
				}
			}
			ret = jrx_bulk_add(b, k);
		}
	}
	if (ret)
		return ret;
	jrx_bkey_init(k, JRX_KEY_ACCOUNTING, jrx_acct_inodes_pos(), sizeof(*v));
	k->version = version;
	v->d[0] = nr_inodes;
	v->d[1] = 0;
	return jrx_bulk_add(b, k);
}

static int feed_alloc(struct jrx_bulk *b, struct jrx_buckets *bt)
{
	uint64_t buf[JRX_ALLOC_KEY_U64S];
	struct jrx_bkey *k = (struct jrx_bkey *)buf;
	int ret = 0;

	for (unsigned d = 0; d < bt->nr_devs && !ret; d++)
		for (uint64_t i = 0; i < bt->nbuckets[d] && !ret; i++) {
			const struct jrx_bucket *s = &bt->b[d][i];

			if (!s->gen && !s->data_type && !s->dirty_sectors)
				continue;
			jrx_bucket_to_key(bt, d, i, k);
			ret = jrx_bulk_add(b, k);
		}
	return ret;
}

static int count_nodes(struct jrx_array *a, struct jrx_buckets *bt,
		       int64_t nr_inodes, uint64_t *nodes)
{
	struct jrx_bulk b;
	struct jrx_btree_root r;
	int ret;

	*nodes = 0;
	for (unsigned t = 0; t < 2; t++) {
		ret = jrx_bulk_init(&b, NULL, bt, t ? JRX_BTREE_ALLOC :
				    JRX_BTREE_ACCOUNTING, a->sb.btree_node_size,
				    75, 0);
		if (ret)
			return ret;
		ret = t ? feed_alloc(&b, bt) : feed_accounting(&b, bt, nr_inodes, 0);
		if (!ret)
			ret = jrx_bulk_finish(&b, &r);
		*nodes += b.nodes;
		jrx_bulk_exit(&b);
		if (ret)
			return ret;
	}
	return 0;
}

int jrx_bulk_alloc_trees(struct jrx_array *a, struct jrx_buckets *bt,
			 int64_t nr_inodes, uint64_t journal_seq,
			 struct jrx_btree_root *acct_root,
			 struct jrx_btree_root *alloc_root)
{
	uint32_t node_sectors = a->sb.btree_node_size / JRX_SECTOR_SIZE;
	struct jrx_bkey_slot *slots = NULL;
	size_t nr = 0, cap = 0;
	uint64_t need;
	size_t acct_used = 0;
	struct jrx_bulk b;
	int ret;

	for (;;) {
		ret = count_nodes(a, bt, nr_inodes, &need);
		if (ret)
			goto out;
		if (need <= nr)
			break;
		ret = JRX_VEC_RESERVE(slots, nr, cap, need - nr,
				      "bulk build's reserved node places");
		if (ret)
			goto out;
		while (nr < need) {
			uint32_t got, gen;

			ret = jrx_alloc_sectors(bt, JRX_DATA_BTREE, node_sectors,
						UINT64_MAX, 0, &slots[nr].dev,
						&slots[nr].sector, &got, &gen);
			if (ret)
				goto out;
			nr++;
		}
	}
	while (nr > need) {	/* the last round over-reserved */
		nr--;
		ret = jrx_bucket_add_sectors(bt, slots[nr].dev,
					     slots[nr].sector / bt->bucket_sectors,
					     JRX_DATA_BTREE, -(int64_t)node_sectors, 0);
		if (ret)
			goto out;
	}
	ret = jrx_close_open_bucket(bt, JRX_DATA_BTREE, 0);
	if (!ret)
		ret = jrx_close_open_bucket(bt, JRX_DATA_USER, 0);
	if (ret)
		goto out;

	for (unsigned t = 0; t < 2 && !ret; t++) {
		ret = jrx_bulk_init(&b, a, bt, t ? JRX_BTREE_ALLOC :
				    JRX_BTREE_ACCOUNTING, a->sb.btree_node_size,
				    75, journal_seq);
		if (ret)
			break;
		b.slots = slots;
		b.nr_slots = nr;
		b.next_slot = t ? acct_used : 0;	/* accounting takes the first */
		ret = t ? feed_alloc(&b, bt) :
			feed_accounting(&b, bt, nr_inodes, journal_seq);
		if (!ret)
			ret = jrx_bulk_finish(&b, t ? alloc_root : acct_root);
		if (!ret && !t)
			acct_used = b.next_slot;
		if (!ret && t && b.next_slot != nr)
			ret = jrx_fail(-JRX_ERR_NO_SPACE, "bulk build used %zu of %zu"
				       " reserved nodes", b.next_slot, nr);
		jrx_bulk_exit(&b);
	}
out:
	free(slots);
	return ret;
}
