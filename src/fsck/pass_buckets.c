/*
 * pass_buckets.c - pass 4: space.  What the btrees reference is
 * recomputed and compared with the alloc btree:
 *
 *  - every node pointer (all btrees, roots included) and every extent's
 *    data must lie in one data bucket: not past the device's buckets,
 *    not in the reserved area [0, first_bucket), not in a journal bucket;
 *  - no sector is used twice (sorted list of every node and extent
 *    range, one sweep);
 *  - each bucket's alloc key (a missing key means gen 0, free, 0 sectors)
 *    must say what mkfs and the write path would: reserved buckets are
 *    "sb" and journal buckets "journal", both full (mkfs.c); a bucket
 *    holding nodes is "btree" with node_size/512 sectors per node, one
 *    holding extents "user" with the sum of their sizes, and anything
 *    else is free with 0 sectors (buckets.c frees a bucket whose sectors
 *    reach 0); extents carry their bucket's gen.
 *
 * The recomputed per-(device, data type) totals go to pass 5: accounting
 * is checked against what the btrees say, not against the alloc keys, so
 * a bad alloc key is one problem and not two.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "fsck_int.h"
#include "jrx/errors.h"
#include "../format/bkey.h"
#include "../util/diag.h"
#include "../util/vec.h"

enum { U_HAVE_ALLOC = 1, U_HAVE_GEN = 2, U_GEN_CONFLICT = 4 };

struct use {
	uint64_t btree_sectors, user_sectors;
	uint32_t alloc_gen, alloc_sectors;
	uint32_t gen, gen2;		/* from extent pointers */
	uint8_t	 alloc_type;
	uint8_t	 flags;
};

#define EXTENT_DATA 0xff		/* range.level of extent data */

struct range {
	uint64_t	start;		/* sector */
	uint32_t	len;
	uint16_t	dev;
	uint8_t		btree, level;
	struct jrx_bpos	owner;
};

struct bk {
	struct jrx_fsck	*f;
	struct use	*u[JRX_MAX_DEVICES];
	struct range	*r;
	size_t		 nr, cap;
};

static int add_range(struct bk *s, uint32_t dev, uint64_t start, uint32_t len,
		     unsigned btree, unsigned level, struct jrx_bpos owner)
{
	int ret = JRX_VEC_RESERVE(s->r, s->nr, s->cap, 1,
				  "fsck list of used sector ranges");

	if (ret)
		return ret;
	s->r[s->nr++] = (struct range){ start, len, (uint16_t)dev,
					(uint8_t)btree, (uint8_t)level, owner };
	return 0;
}

/*
 * Whether [sector, sector + len) of dev lies in a data bucket (reported
 * otherwise); *b gets the bucket of its first sector.
 */
static bool locate(struct bk *s, uint32_t dev, uint64_t sector, uint64_t len,
		   struct jrx_pr_ctx *c, uint64_t *b)
{
	const struct jrx_member *m = &s->f->a->sb.members[dev];
	uint64_t bs = s->f->bucket_sectors;

	uint64_t end, dev_sectors;

	*b = sector / bs;
	c->dev = (int)dev;
	c->offset = fsck_sector_offset(sector, 0);
	c->bucket = *b;
	if (*b >= m->nbuckets || !jrx_add_u64(sector, len, &end) ||
	    !jrx_mul_u64(m->nbuckets, bs, &dev_sectors) || end > dev_sectors)
		jrx_pr_found(c, "no bucket (the device has %" PRIu64 ")",
			     m->nbuckets);
	else if (*b < m->first_bucket)
		jrx_pr_found(c, "the reserved area (bucket %" PRIu64 " of %" PRIu64
			     ")", *b, m->first_bucket);
	else if (*b >= m->journal_bucket && *b < m->journal_bucket + m->journal_nr)
		jrx_pr_found(c, "journal bucket %" PRIu64, *b);
	else {
		if ((sector + len - 1) / bs != *b)
			fsck_report(s->f, JRX_PR_PTR_CROSSES_BUCKET, c);
		return true;
	}
	fsck_report(s->f, JRX_PR_PTR_OUTSIDE_DATA, c);
	return false;
}

/* Every node pointer: where the node lies. */
static int on_ptr(void *ctx, const struct fsck_ptr *p)
{
	struct bk *s = ctx;
	uint32_t sectors = s->f->node_size / JRX_SECTOR_SIZE;
	struct jrx_pr_ctx c;
	uint64_t b;

	if (p->dev >= s->f->a->nr_devs)
		return 0;		/* pass 3 reported it */
	fsck_ctx_node(&c, p);
	c.why = "btree node";
	if (!locate(s, p->dev, p->sector, sectors, &c, &b))
		return 0;
	s->u[p->dev][b].btree_sectors += sectors;
	return add_range(s, p->dev, p->sector, sectors, p->btree_id, p->level,
			 p->max);
}

static int on_extent(struct bk *s, const struct jrx_bkey *k)
{
	const struct jrx_extent_val *e = jrx_bkey_val(k);
	struct jrx_pr_ctx c;
	struct use *u;
	uint64_t b;

	jrx_pr_ctx_init(&c);
	c.btree = JRX_BTREE_EXTENTS;
	c.level = 0;
	c.has_pos = true;
	c.pos = k->p;
	c.why = "extent data";
	if (e->dev >= s->f->a->nr_devs) {
		c.num = e->dev;
		jrx_pr_expected(&c, "%u members", s->f->a->nr_devs);
		fsck_report(s->f, JRX_PR_PTR_BAD_DEVICE, &c);
		return 0;
	}
	if (!locate(s, e->dev, e->sector, k->size, &c, &b))
		return 0;
	u = &s->u[e->dev][b];
	u->user_sectors += k->size;
	if (!(u->flags & U_HAVE_GEN)) {
		u->gen = e->gen;
		u->flags |= U_HAVE_GEN;
	} else if (u->gen != e->gen) {
		u->gen2 = e->gen;
		u->flags |= U_GEN_CONFLICT;
	}
	return add_range(s, e->dev, e->sector, k->size, JRX_BTREE_EXTENTS,
			 EXTENT_DATA, k->p);
}

static int on_alloc(struct bk *s, const struct jrx_bkey *k)
{
	const struct jrx_alloc_val *v = jrx_bkey_val(k);
	const struct jrx_array *a = s->f->a;
	struct jrx_pr_ctx c;
	struct use *u;

	if (k->p.inode >= a->nr_devs ||
	    k->p.offset >= a->sb.members[k->p.inode].nbuckets) {
		jrx_pr_ctx_init(&c);
		c.btree = JRX_BTREE_ALLOC;
		c.has_pos = true;
		c.pos = k->p;
		c.why = k->p.inode >= a->nr_devs ? "no such device" :
			"past the device's last bucket";
		fsck_report(s->f, JRX_PR_ALLOC_KEY_OUTSIDE, &c);
		return 0;
	}
	u = &s->u[k->p.inode][k->p.offset];
	u->alloc_gen = v->gen;
	u->alloc_sectors = v->dirty_sectors;
	u->alloc_type = v->data_type;
	u->flags |= U_HAVE_ALLOC;
	return 0;
}

static int on_key(void *ctx, const struct fsck_ptr *leaf,
		  const struct jrx_bkey *k)
{
	struct bk *s = ctx;

	if (leaf->btree_id == JRX_BTREE_EXTENTS)
		return on_extent(s, k);
	if (leaf->btree_id == JRX_BTREE_ALLOC)
		return on_alloc(s, k);
	return 0;
}

static int cmp_range(const void *x, const void *y)
{
	const struct range *a = x, *b = y;

	if (a->dev != b->dev)
		return a->dev < b->dev ? -1 : 1;
	if (a->start != b->start)
		return a->start < b->start ? -1 : 1;
	return a->len < b->len ? -1 : a->len > b->len;
}

static void owner_text(char *buf, size_t len, const struct range *r)
{
	char pos[56];	/* 20 + 20 + 10 digits and two colons */

	jrx_bpos_to_text(pos, sizeof(pos), r->owner);
	if (r->level == EXTENT_DATA)
		snprintf(buf, len, "extent %s", pos);
	else
		snprintf(buf, len, "%s level %u node %s", jrx_btree_name(r->btree),
			 r->level, pos);
}

/* One sweep over the sorted ranges: every overlap is a sector used twice. */
static void check_overlaps(struct bk *s)
{
	const struct range *far = NULL;	/* the range reaching furthest */

	qsort(s->r, s->nr, sizeof(*s->r), cmp_range);
	for (size_t i = 0; i < s->nr; i++) {
		const struct range *r = &s->r[i];

		if (far && far->dev == r->dev && r->start < far->start + far->len) {
			uint64_t end = far->start + far->len < r->start + r->len ?
				far->start + far->len : r->start + r->len;
			struct jrx_pr_ctx c;

			jrx_pr_ctx_init(&c);
			c.dev = r->dev;
			c.offset = fsck_sector_offset(r->start, 0);
			c.bucket = r->start / s->f->bucket_sectors;
			c.num = end - r->start;
			owner_text(c.expected, sizeof(c.expected), far);
			owner_text(c.found, sizeof(c.found), r);
			fsck_report(s->f, JRX_PR_BUCKET_USED_TWICE, &c);
		}
		if (!far || far->dev != r->dev ||
		    r->start + r->len > far->start + far->len)
			far = r;
	}
}

static void mismatch(struct bk *s, unsigned dev, uint64_t b, const char *what,
		     const char *expected, const char *found)
{
	struct jrx_pr_ctx c;

	jrx_pr_ctx_init(&c);
	c.dev = (int)dev;
	c.bucket = b;
	c.offset = b * s->f->a->sb.bucket_size;
	c.why = what;
	snprintf(c.expected, sizeof(c.expected), "%s", expected);
	snprintf(c.found, sizeof(c.found), "%s", found);
	fsck_report(s->f, JRX_PR_ALLOC_MISMATCH, &c);
}

/* Each bucket: what its alloc key says against what references it. */
static void check_buckets(struct bk *s)
{
	const struct jrx_sb *sb = &s->f->a->sb;
	uint64_t bs = s->f->bucket_sectors, hidden = 0;

	memset(s->f->acct, 0, sizeof(s->f->acct));
	for (unsigned d = 0; d < s->f->a->nr_devs; d++) {
		const struct jrx_member *m = &sb->members[d];

		for (uint64_t b = 0; b < m->nbuckets; b++) {
			const struct use *u = &s->u[d][b];
			unsigned type = JRX_DATA_FREE;
			uint64_t sectors = 0;
			bool mixed = false;
			char e[96], g[96];

			if (b < m->first_bucket) {
				type = JRX_DATA_SB;
				sectors = bs;
			} else if (b >= m->journal_bucket &&
				   b < m->journal_bucket + m->journal_nr) {
				type = JRX_DATA_JOURNAL;
				sectors = bs;
			} else if (u->btree_sectors && u->user_sectors) {
				struct jrx_pr_ctx c;
				char why[96];

				jrx_pr_ctx_init(&c);
				c.dev = (int)d;
				c.bucket = b;
				c.offset = b * sb->bucket_size;
				snprintf(why, sizeof(why), "%" PRIu64 " node sectors"
					 " and %" PRIu64 " data sectors",
					 u->btree_sectors, u->user_sectors);
				c.why = why;
				fsck_report(s->f, JRX_PR_BUCKET_MIXED_DATA, &c);
				mixed = true;
				type = JRX_DATA_BTREE;
				sectors = u->btree_sectors + u->user_sectors;
			} else if (u->btree_sectors) {
				type = JRX_DATA_BTREE;
				sectors = u->btree_sectors;
			} else if (u->user_sectors) {
				type = JRX_DATA_USER;
				sectors = u->user_sectors;
			}
			if (type != JRX_DATA_FREE) {
				s->f->acct[d][type].buckets++;
				s->f->acct[d][type].sectors += (int64_t)sectors;
			}
			/* its alloc key was in a damaged alloc node */
			if (fsck_damaged(s->f, JRX_BTREE_ALLOC, jrx_bpos(d, b, 0),
					 jrx_bpos(d, b, 0))) {
				hidden++;
				continue;
			}
			if (!mixed && type != u->alloc_type)
				mismatch(s, d, b, "data type", jrx_data_type_name(type),
					 jrx_data_type_name(u->alloc_type));
			if (sectors != u->alloc_sectors) {
				snprintf(e, sizeof(e), "%" PRIu64, sectors);
				snprintf(g, sizeof(g), "%" PRIu32, u->alloc_sectors);
				mismatch(s, d, b, "dirty sectors", e, g);
			}
			if (u->flags & U_GEN_CONFLICT) {
				snprintf(e, sizeof(e), "one gen (extents carry %" PRIu32
					 " and %" PRIu32 ")", u->gen, u->gen2);
				snprintf(g, sizeof(g), "%" PRIu32, u->alloc_gen);
				mismatch(s, d, b, "gen", e, g);
			} else if ((u->flags & U_HAVE_GEN) && u->gen != u->alloc_gen) {
				snprintf(e, sizeof(e), "%" PRIu32 " (the extents' gen)",
					 u->gen);
				snprintf(g, sizeof(g), "%" PRIu32, u->alloc_gen);
				mismatch(s, d, b, "gen", e, g);
			}
		}
		s->f->res->pass[JRX_PASS_BUCKETS].checked += m->nbuckets;
	}
	s->f->acct_valid = true;
	if (hidden)
		fsck_incomplete(s->f, "the alloc keys of some buckets",
				JRX_BTREE_ALLOC);
}

/*
 * Whether the btrees' references are all known: no extents were lost, and
 * no interior node (whose subtree's node pointers are then unknown).
 */
static bool refs_complete(struct jrx_fsck *f, unsigned *hid)
{
	if (fsck_btree_damaged(f, JRX_BTREE_EXTENTS, false)) {
		*hid = JRX_BTREE_EXTENTS;
		return false;
	}
	for (unsigned id = 0; id < JRX_BTREE_NR; id++)
		if (fsck_btree_damaged(f, id, true)) {
			*hid = id;
			return false;
		}
	return true;
}

int fsck_pass_buckets(struct jrx_fsck *f)
{
	struct bk s = { .f = f };
	int ret = 0;

	for (unsigned d = 0; !ret && d < f->a->nr_devs; d++) {
		uint64_t nb = f->a->sb.members[d].nbuckets;
		size_t bytes;

		/* sized from disk: bounded first (FORMAT.md 9) */
		if (nb > JRX_MAX_NBUCKETS ||
		    !jrx_mul_size(nb ? nb : 1, sizeof(struct use), &bytes))
			ret = jrx_fail(-JRX_ERR_SB_INVALID, "%s: superblock member"
				       " %u: nbuckets %" PRIu64 " is above the"
				       " limit %" PRIu64, f->a->devs[d].path, d,
				       nb, (uint64_t)JRX_MAX_NBUCKETS);
		else if (!(s.u[d] = calloc(nb ? nb : 1, sizeof(struct use))))
			ret = jrx_fail(-ENOMEM, "allocating the fsck bucket table"
				       " of %s: %" PRIu64 " buckets of %zu bytes",
				       f->a->devs[d].path, nb, sizeof(struct use));
	}
	for (unsigned id = 0; !ret && id < JRX_BTREE_NR; id++) {
		struct fsck_walk w = {
			.btree_id = id,
			.leaves = id == JRX_BTREE_EXTENTS || id == JRX_BTREE_ALLOC,
			.ptr = on_ptr, .key = on_key, .ctx = &s,
		};

		ret = fsck_walk(f, &w);
	}
	if (!ret) {
		unsigned hid;

		check_overlaps(&s);
		if (refs_complete(f, &hid))
			check_buckets(&s);
		else
			fsck_incomplete(f, "alloc keys and accounting against the"
					" btrees", hid);
	}
	for (unsigned d = 0; d < JRX_MAX_DEVICES; d++)
		free(s.u[d]);
	free(s.r);
	return ret;
}
