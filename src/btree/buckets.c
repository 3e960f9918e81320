/* buckets.c - in-memory bucket table and allocator (see buckets.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <inttypes.h>
#include "buckets.h"
#include "jrx/errors.h"
#include "../util/diag.h"
#include "../util/vec.h"
#include "../util/checked.h"

int jrx_buckets_init(struct jrx_buckets *bt, const struct jrx_sb *sb,
		     struct jrx_acct *acct)
{
	memset(bt, 0, sizeof(*bt));
	bt->nr_devs = sb->nr_devices;
	bt->bucket_sectors = sb->bucket_size / JRX_SECTOR_SIZE;
	bt->acct = acct;
	if (bt->nr_devs > JRX_MAX_DEVICES)
		return jrx_fail(-JRX_ERR_SB_INVALID, "bucket tables: nr_devices"
				" %u is above %u", bt->nr_devs, JRX_MAX_DEVICES);
	for (unsigned d = 0; d < bt->nr_devs; d++) {
		const struct jrx_member *m = &sb->members[d];
		size_t bytes;

		/* sized from disk: bounded before it is allocated (FORMAT.md 9) */
		if (m->nbuckets > JRX_MAX_NBUCKETS ||
		    m->first_bucket >= m->nbuckets ||
		    !jrx_mul_size(m->nbuckets, sizeof(struct jrx_bucket), &bytes)) {
			jrx_buckets_exit(bt);
			return jrx_fail(-JRX_ERR_SB_INVALID, "device %u's bucket"
					" table: member %u: nbuckets %" PRIu64
					" is not in [first_bucket %" PRIu64 " + 1,"
					" %" PRIu64 "]", d, d, m->nbuckets,
					m->first_bucket,
					(uint64_t)JRX_MAX_NBUCKETS);
		}
		bt->nbuckets[d] = m->nbuckets;
		bt->first[d] = m->first_bucket;
		bt->cursor[d] = bt->first[d];
		bt->b[d] = calloc(bt->nbuckets[d], sizeof(struct jrx_bucket));
		bt->typed[d] = calloc((bt->nbuckets[d] + 63) / 64, 8);
		if (!bt->b[d] || !bt->typed[d]) {
			jrx_buckets_exit(bt);
			return jrx_fail(-ENOMEM, "allocating device %u's"
					" bucket table (%" PRIu64 " buckets of"
					" %zu bytes)", d, m->nbuckets,
					sizeof(struct jrx_bucket));
		}
	}
	return 0;
}

void jrx_buckets_exit(struct jrx_buckets *bt)
{
	for (unsigned d = 0; d < JRX_MAX_DEVICES; d++) {
		free(bt->b[d]);
		free(bt->typed[d]);
	}
	free(bt->changed);
	memset(bt, 0, sizeof(*bt));
}

void jrx_bucket_load(struct jrx_buckets *bt, uint32_t dev, uint64_t b,
		     const struct jrx_alloc_val *v)
{
	struct jrx_bucket *k = &bt->b[dev][b];

	k->gen = v->gen;
	k->dirty_sectors = v->dirty_sectors;
	k->data_type = v->data_type;
	if (k->data_type != JRX_DATA_FREE)
		bt->typed[dev][b / 64] |= 1ull << (b % 64);
}

static int mark_changed(struct jrx_buckets *bt, uint32_t dev, uint64_t b)
{
	struct jrx_bucket *k = &bt->b[dev][b];
	int ret;

	if (k->changed)
		return 0;
	ret = JRX_VEC_RESERVE(bt->changed, bt->nr_changed, bt->cap_changed, 1,
			      "list of changed buckets");
	if (ret)
		return ret;
	bt->changed[bt->nr_changed++] = (struct jrx_bucket_ref){ dev, b };
	k->changed = 1;
	return 0;
}

static int acct(struct jrx_buckets *bt, uint32_t dev, unsigned type,
		int64_t buckets, int64_t sectors)
{
	if (!bt->acct || type == JRX_DATA_FREE)
		return 0;
	return jrx_acct_add(bt->acct, jrx_acct_dev_pos(dev, type), buckets,
			    sectors);
}

static int bucket_free(struct jrx_buckets *bt, uint32_t dev, uint64_t b,
		       uint64_t seq)
{
	struct jrx_bucket *k = &bt->b[dev][b];
	int ret = acct(bt, dev, k->data_type, -1, 0);

	k->data_type = JRX_DATA_FREE;
	k->gen++;
	k->reusable_after = seq;
	return ret ? ret : mark_changed(bt, dev, b);
}

int jrx_bucket_add_sectors(struct jrx_buckets *bt, uint32_t dev, uint64_t b,
			   uint8_t data_type, int64_t sectors, uint64_t seq)
{
	struct jrx_bucket *k;
	int ret;

	if (dev >= bt->nr_devs || b >= bt->nbuckets[dev])
		return jrx_fail(-JRX_ERR_BUCKET_RANGE, "bucket %u:%" PRIu64
				" out of range", dev, b);
	k = &bt->b[dev][b];
	if (k->data_type == JRX_DATA_FREE && sectors > 0) {
		k->data_type = data_type;
		bt->typed[dev][b / 64] |= 1ull << (b % 64);
		ret = acct(bt, dev, data_type, 1, 0);
		if (ret)
			return ret;
	}
	if (sectors < 0 && (uint64_t)-sectors > k->dirty_sectors)
		return jrx_fail(-JRX_ERR_ACCOUNTING_UNDERFLOW, "bucket %u:%"
				PRIu64 " would go below zero sectors", dev, b);
	k->dirty_sectors = (uint32_t)((int64_t)k->dirty_sectors + sectors);
	ret = acct(bt, dev, k->data_type, 0, sectors);
	if (!ret)
		ret = mark_changed(bt, dev, b);
	if (!ret && !k->dirty_sectors && !k->open &&
	    k->data_type != JRX_DATA_FREE)
		ret = bucket_free(bt, dev, b, seq);
	return ret;
}

static int find_free(struct jrx_buckets *bt, uint64_t durable_seq,
		     uint32_t *dev, uint64_t *bucket)
{
	for (unsigned i = 0; i < bt->nr_devs; i++) {
		unsigned d = (bt->dev_rr + i) % bt->nr_devs;
		uint64_t n = bt->nbuckets[d] - bt->first[d];

		for (uint64_t j = 0; j < n; j++) {
			uint64_t b = bt->cursor[d] + j;
			struct jrx_bucket *k;

			if (b >= bt->nbuckets[d])
				b -= n;
			k = &bt->b[d][b];
			if (k->data_type == JRX_DATA_FREE && !k->dirty_sectors &&
			    !k->open && k->reusable_after <= durable_seq &&
			    k->reusable_after != JRX_BUCKET_HELD) {
				bt->cursor[d] = b + 1 < bt->nbuckets[d] ?
					b + 1 : bt->first[d];
				bt->dev_rr = (d + 1) % bt->nr_devs;
				*dev = d;
				*bucket = b;
				return 0;
			}
		}
	}
	return jrx_fail(-JRX_ERR_NO_SPACE, "no free bucket on any of %u devices",
			bt->nr_devs);
}

int jrx_close_open_bucket(struct jrx_buckets *bt, uint8_t data_type,
			  uint64_t seq)
{
	struct jrx_open_bucket *ob = &bt->open[data_type];
	struct jrx_bucket *k;

	if (!ob->valid)
		return 0;
	k = &bt->b[ob->dev][ob->bucket];
	k->open = 0;
	ob->valid = false;
	if (!k->dirty_sectors && k->data_type != JRX_DATA_FREE)
		return bucket_free(bt, ob->dev, ob->bucket, seq);
	return 0;
}

int jrx_close_open_buckets(struct jrx_buckets *bt, uint64_t seq)
{
	int ret = 0;

	for (unsigned t = 0; !ret && t < JRX_DATA_TYPE_NR; t++)
		ret = jrx_close_open_bucket(bt, (uint8_t)t, seq);
	return ret;
}

int jrx_alloc_sectors(struct jrx_buckets *bt, uint8_t data_type,
		      uint32_t want, uint64_t durable_seq, uint64_t seq,
		      uint32_t *dev, uint64_t *sector, uint32_t *got,
		      uint32_t *gen)
{
	struct jrx_open_bucket *ob = &bt->open[data_type];
	uint32_t n;
	int ret;

	if (want > bt->bucket_sectors)
		want = bt->bucket_sectors;
	if (ob->valid && ob->used + want > bt->bucket_sectors &&
	    (data_type == JRX_DATA_BTREE || ob->used == bt->bucket_sectors)) {
		ret = jrx_close_open_bucket(bt, data_type, seq);
		if (ret)
			return ret;
	}
	if (!ob->valid) {
		ret = find_free(bt, durable_seq, &ob->dev, &ob->bucket);
		if (ret)
			return ret;
		ob->valid = true;
		ob->used = 0;
		bt->b[ob->dev][ob->bucket].open = 1;
	}
	n = (uint32_t)(bt->bucket_sectors - ob->used);
	if (n > want)
		n = want;
	*dev = ob->dev;
	*sector = ob->bucket * bt->bucket_sectors + ob->used;
	*got = n;
	*gen = bt->b[ob->dev][ob->bucket].gen;
	ob->used += n;
	ret = jrx_bucket_add_sectors(bt, ob->dev, ob->bucket, data_type, n, seq);
	if (!ret && ob->used == bt->bucket_sectors)
		ret = jrx_close_open_bucket(bt, data_type, seq);
	return ret;
}

void jrx_bucket_to_key(struct jrx_buckets *bt, uint32_t dev, uint64_t b,
		       struct jrx_bkey *k)
{
	struct jrx_bucket *s = &bt->b[dev][b];
	struct jrx_alloc_val *v;

	jrx_bkey_init(k, JRX_KEY_ALLOC, jrx_bpos(dev, b, 0), sizeof(*v));
	v = jrx_bkey_val(k);
	memset(v, 0, sizeof(*v));
	v->gen = s->gen;
	v->dirty_sectors = s->dirty_sectors;
	v->data_type = s->data_type;
}

size_t jrx_buckets_take_changed(struct jrx_buckets *bt,
				struct jrx_bucket_ref **out)
{
	size_t n = bt->nr_changed;

	for (size_t i = 0; i < n; i++)
		bt->b[bt->changed[i].dev][bt->changed[i].bucket].changed = 0;
	*out = bt->changed;
	bt->changed = NULL;
	bt->nr_changed = bt->cap_changed = 0;
	return n;
}

int jrx_buckets_free_empty(struct jrx_buckets *bt, uint64_t seq, uint64_t *freed)
{
	int ret = 0;

	*freed = 0;
	for (unsigned d = 0; d < bt->nr_devs; d++)
		for (uint64_t w = 0; !ret && w < (bt->nbuckets[d] + 63) / 64; w++)
			for (uint64_t m = bt->typed[d][w]; !ret && m; m &= m - 1) {
				uint64_t b = w * 64 + (uint64_t)__builtin_ctzll(m);
				struct jrx_bucket *k = &bt->b[d][b];

				if (b < bt->first[d] || k->open ||
				    k->dirty_sectors ||
				    (k->data_type != JRX_DATA_BTREE &&
				     k->data_type != JRX_DATA_USER))
					continue;
				ret = bucket_free(bt, d, b, seq);
				(*freed)++;
			}
	return ret;
}
