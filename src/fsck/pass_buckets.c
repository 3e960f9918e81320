/*
 * pass_buckets.c - pass 4: space.  What the btrees reference is
 * recomputed and compared with the alloc btree:
 *
 *  - every node pointer (all btrees, roots included) and every extent's
 *    data must lie in one data bucket: not past the device's buckets,
 *    not in the reserved area [0, first_bucket), not in a journal bucket;
 *  - no sector is used twice: every node and extent range sets its
 *    sectors in a bitmap of its device (a bit per sector: an eighth of
 *    a byte per sector used, where a list of ranges would cost 40 bytes
 *    per extent), and a bit found set already marks its bucket "hot";
 *    only when some bucket is hot does a second walk list the ranges
 *    that touch hot buckets, sorted and swept as the one-walk check
 *    would have (same problems, same order: see collect_hot());
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
#include <stdatomic.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "bigmem.h"
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

/*
 * A range's place in the used-twice sort: by device and bucket (the
 * counting sort's group), then start, len, and the order the walk found
 * it in (idx), so the order is total and the report the same for any
 * number of threads.
 */
struct skey {
	uint64_t start;
	uint64_t idx;			/* in bk.r */
	uint32_t len;
};

/*
 * Owner: the walk's thread (the callbacks), except the sort's groups,
 * each sorted by one pool worker (sort_groups).
 */
struct fsck_space {
	struct jrx_fsck	*f;
	struct use	*u[JRX_MAX_DEVICES];
	uint64_t	 base[JRX_MAX_DEVICES];	/* first group of each device */
	uint64_t	 groups;		/* buckets of every device */
	/* bucket_sectors is 1 << shift (a power of two, FORMAT.md 9);
	 * each device's sectors (nbuckets << shift, at most 2^49) */
	unsigned	 shift;
	uint64_t	 dev_sectors[JRX_MAX_DEVICES];
	/* a bit per sector of each device (mapped, touched where ranges
	 * lie); a bit per group (bucket) with a sector set twice */
	uint64_t	*bits[JRX_MAX_DEVICES];
	size_t		 bits_bytes[JRX_MAX_DEVICES];
	uint64_t	*hot;
	bool		 any_hot;
	/* every bucket counts as hot: no bitmap (no memory), or too many
	 * words found set again (collisions over budget): the second walk
	 * then lists every range, as one list would have */
	bool		 all_hot;
	uint64_t	 collisions, budget;
	/* the ranges of the hot buckets (collect_hot) */
	struct range	*r;
	size_t		 nr, cap;
};

static int add_range(struct fsck_space *s, uint32_t dev, uint64_t start, uint32_t len,
		     unsigned btree, unsigned level, struct jrx_bpos owner)
{
	int ret = fsck_big_reserve((void **)&s->r, &s->cap, s->nr,
				   sizeof(*s->r), (size_t)1 << 16,
				   "fsck list of used sector ranges");

	if (ret)
		return ret;
	s->r[s->nr++] = (struct range){ start, len, (uint16_t)dev,
					(uint8_t)btree, (uint8_t)level, owner };
	return 0;
}

/* Group g (bucket b of dev) has a sector used twice. */
static void hot_set(struct fsck_space *s, uint32_t dev, uint64_t b)
{
	uint64_t g = s->base[dev] + b;

	s->hot[g / 64] |= 1ull << (g % 64);
	s->any_hot = true;
}

/* The bits of word i that lie in [lo, hi]. */
static inline uint64_t word_mask(uint64_t i, uint64_t lo, uint64_t hi)
{
	uint64_t m = ~0ull;

	if (i == lo / 64)
		m &= ~0ull << (lo % 64);
	if (i == hi / 64)
		m &= ~0ull >> (63 - hi % 64);
	return m;
}

/* Whether any bit of [lo, hi] is set in v. */
static bool any_set(const uint64_t *v, uint64_t lo, uint64_t hi)
{
	for (uint64_t i = lo / 64; i <= hi / 64; i++)
		if (v[i] & word_mask(i, lo, hi))
			return true;
	return false;
}

/* Collisions allowed: per range, and to begin with. */
#define HOT_PER_RANGE	4u
#define HOT_BASE	((uint64_t)1 << 20)

/*
 * The sectors [start, start + len) of dev (inside the device: where()
 * said so) set in its bitmap; a word with one of them set already makes
 * its bucket hot (a word lies in one bucket: buckets are at least 128
 * sectors, a power of two).  The words walked are those of the range:
 * bounded by the collisions' budget, past which every bucket is hot (a
 * damaged array of many long ranges on the same sectors would otherwise
 * cost ranges x length).
 */
static void mark(struct fsck_space *s, uint32_t dev, uint64_t start,
		 uint32_t len)
{
	uint64_t *w = s->bits[dev], last;

	if (s->all_hot)
		return;
	s->budget += HOT_PER_RANGE;
	if (!len) {	/* cannot pass the key checks; the list has it */
		hot_set(s, dev, start / s->f->bucket_sectors);
		return;
	}
	last = start + len - 1;
	for (uint64_t i = start / 64; i <= last / 64; i++) {
		uint64_t m = word_mask(i, start, last);

		if (w[i] & m) {
			if (++s->collisions > s->budget) {
				s->all_hot = s->any_hot = true;
				return;
			}
			hot_set(s, dev, i * 64 / s->f->bucket_sectors);
		}
		w[i] |= m;
	}
}

/* Whether [start, start + len) of dev touches a hot bucket. */
static bool touches_hot(const struct fsck_space *s, uint32_t dev,
			uint64_t start, uint32_t len)
{
	uint64_t bs = s->f->bucket_sectors;
	uint64_t b1 = (start + (len ? len - 1 : 0)) / bs;

	return s->all_hot ||
		any_set(s->hot, s->base[dev] + start / bs, s->base[dev] + b1);
}

enum { AT_DATA, AT_CROSSES, AT_OUTSIDE };

/*
 * Where [sector, sector + len) of dev lies: in a data bucket (AT_DATA),
 * starting in one but running past its end (AT_CROSSES), or not in a
 * data bucket (AT_OUTSIDE); *b gets the bucket of its first sector.  No
 * context is built: the sound range, the common case, costs nothing.
 */
static int where(const struct fsck_space *s, uint32_t dev, uint64_t sector,
		 uint64_t len, uint64_t *b)
{
	const struct jrx_member *m = &s->f->a->sb.members[dev];
	uint64_t end;

	*b = sector >> s->shift;
	if (*b >= m->nbuckets || !jrx_add_u64(sector, len, &end) ||
	    end > s->dev_sectors[dev] || *b < m->first_bucket ||
	    (*b >= m->journal_bucket && *b < m->journal_bucket + m->journal_nr))
		return AT_OUTSIDE;
	return (sector + len - 1) >> s->shift != *b ? AT_CROSSES : AT_DATA;
}

/* f->refd: the buckets [sector, sector + len) of dev touches (where()
 * said it starts in a data bucket and ends on the device). */
static void note_refd(const struct fsck_space *s, uint32_t dev,
		      uint64_t sector, uint64_t len)
{
	uint64_t *v = s->f->refd[dev];
	uint64_t last = (sector + (len ? len - 1 : 0)) >> s->shift;

	for (uint64_t b = sector >> s->shift; b <= last; b++)
		v[b / 64] |= 1ull << (b % 64);
}

/* The problem where() found, reported with c (what the range is) and,
 * for the space repair, ref (the range itself). */
static void misplaced(struct fsck_space *s, int at, const struct fsck_space_ref *ref,
		      uint64_t b, struct jrx_pr_ctx *c)
{
	uint32_t dev = ref->dev;
	uint64_t sector = ref->sector, len = ref->len;
	const struct jrx_member *m = &s->f->a->sb.members[dev];
	struct fsck_space_fix fix = { .nr = 1, .r = { *ref } };
	uint64_t end, dev_sectors;

	c->fix = &fix;
	c->dev = (int)dev;
	c->offset = fsck_sector_offset(sector, 0);
	c->bucket = b;
	if (at == AT_CROSSES) {
		fsck_report(s->f, JRX_PR_PTR_CROSSES_BUCKET, c);
		return;
	}
	if (b >= m->nbuckets || !jrx_add_u64(sector, len, &end) ||
	    !jrx_mul_u64(m->nbuckets, s->f->bucket_sectors, &dev_sectors) ||
	    end > dev_sectors)
		jrx_pr_found(c, "no bucket (the device has %" PRIu64 ")",
			     m->nbuckets);
	else if (b < m->first_bucket)
		jrx_pr_found(c, "the reserved area (bucket %" PRIu64 " of %" PRIu64
			     ")", b, m->first_bucket);
	else
		jrx_pr_found(c, "journal bucket %" PRIu64, b);
	fsck_report(s->f, JRX_PR_PTR_OUTSIDE_DATA, c);
}

/* Every node pointer: where the node lies. */
int fsck_space_ptr(void *ctx, const struct fsck_ptr *p)
{
	struct fsck_space *s = ctx;
	uint32_t sectors = s->f->node_size / JRX_SECTOR_SIZE;
	uint64_t b;
	int at;

	if (p->dev >= s->f->a->nr_devs)
		return 0;		/* pass 3 reported it */
	at = where(s, p->dev, p->sector, sectors, &b);
	if (at != AT_DATA) {
		struct jrx_pr_ctx c;

		struct fsck_space_ref ref = {
			.btree = p->btree_id, .dev = p->dev, .sector = p->sector,
			.len = sectors, .pos = p->max,
		};

		fsck_ctx_node(&c, p);
		c.why = "btree node";
		misplaced(s, at, &ref, b, &c);
		if (at == AT_OUTSIDE)
			return 0;
	}
	if (s->f->refd)
		note_refd(s, p->dev, p->sector, sectors);
	s->u[p->dev][b].btree_sectors += sectors;
	mark(s, p->dev, p->sector, sectors);
	return 0;
}

static void ctx_extent(struct jrx_pr_ctx *c, const struct jrx_bkey *k)
{
	jrx_pr_ctx_init(c);
	c->btree = JRX_BTREE_EXTENTS;
	c->level = 0;
	c->has_pos = true;
	c->pos = k->p;
	c->why = "extent data";
}

static int on_extent(struct fsck_space *s, const struct jrx_bkey *k)
{
	const struct jrx_extent_val *e = jrx_bkey_val(k);
	struct fsck_space_ref ref = {
		.extent = true, .btree = JRX_BTREE_EXTENTS, .dev = e->dev,
		.sector = e->sector, .len = k->size, .pos = k->p,
	};
	struct fsck_space_fix fix = { .nr = 1, .r = { ref } };
	struct jrx_pr_ctx c;
	struct use *u;
	uint64_t b;
	int at;

	if (e->dev >= s->f->a->nr_devs) {
		ctx_extent(&c, k);
		c.fix = &fix;
		c.num = e->dev;
		jrx_pr_expected(&c, "%u members", s->f->a->nr_devs);
		fsck_report(s->f, JRX_PR_PTR_BAD_DEVICE, &c);
		return 0;
	}
	at = where(s, e->dev, e->sector, k->size, &b);
	if (at != AT_DATA) {
		ctx_extent(&c, k);
		misplaced(s, at, &ref, b, &c);
		if (at == AT_OUTSIDE)
			return 0;
	}
	if (s->f->refd)
		note_refd(s, e->dev, e->sector, k->size);
	u = &s->u[e->dev][b];
	u->user_sectors += k->size;
	if (!(u->flags & U_HAVE_GEN)) {
		u->gen = e->gen;
		u->flags |= U_HAVE_GEN;
	} else if (u->gen != e->gen) {
		u->gen2 = e->gen;
		u->flags |= U_GEN_CONFLICT;
	}
	mark(s, e->dev, e->sector, k->size);
	return 0;
}

static int on_alloc(struct fsck_space *s, const struct jrx_bkey *k)
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

int fsck_space_key(void *ctx, const struct fsck_ptr *leaf,
		   const struct jrx_bkey *k)
{
	struct fsck_space *s = ctx;

	if (leaf->btree_id == JRX_BTREE_EXTENTS)
		return on_extent(s, k);
	if (leaf->btree_id == JRX_BTREE_ALLOC)
		return on_alloc(s, k);
	return 0;
}

/* Ask for the bucket entry and the bitmap word extent k will update. */
static inline void prefetch_extent(const struct fsck_space *s,
				   const struct jrx_bkey *k)
{
	const struct jrx_extent_val *e = jrx_bkey_val(k);
	uint64_t b;

	if (e->dev >= s->f->a->nr_devs)
		return;
	b = e->sector >> s->shift;
	if (b >= s->f->a->sb.members[e->dev].nbuckets)
		return;
	__builtin_prefetch(&s->u[e->dev][b], 1);
	if (s->bits[e->dev])
		__builtin_prefetch(&s->bits[e->dev][e->sector / 64], 1);
}

int fsck_space_leaf(void *ctx, const struct jrx_bnode *n,
		    const struct fsck_ptr *leaf)
{
	struct fsck_space *s = ctx;
	int ret = 0;

	if (leaf->btree_id == JRX_BTREE_EXTENTS)
		for (size_t i = 0; !ret && i < n->nr; i++) {
			/* the keys two steps ahead, then what the key one
			 * step ahead updates: its bucket and its bitmap word */
			if (i + 2 * FSCK_KEY_AHEAD < n->nr)
				__builtin_prefetch(n->keys[i + 2 * FSCK_KEY_AHEAD]);
			if (i + FSCK_KEY_AHEAD < n->nr)
				prefetch_extent(s, n->keys[i + FSCK_KEY_AHEAD]);
			ret = on_extent(s, n->keys[i]);
		}
	else if (leaf->btree_id == JRX_BTREE_ALLOC)
		for (size_t i = 0; !ret && i < n->nr; i++)
			ret = on_alloc(s, n->keys[i]);
	return ret;
}

/* ------------------------------------------------------------ hot ranges */

/* The second walk: a node's range, when it touches a hot bucket. */
static int hot_ptr(void *ctx, const struct fsck_ptr *p)
{
	struct fsck_space *s = ctx;
	uint32_t sectors = s->f->node_size / JRX_SECTOR_SIZE;
	uint64_t b;

	if (p->dev >= s->f->a->nr_devs ||
	    where(s, p->dev, p->sector, sectors, &b) == AT_OUTSIDE ||
	    !touches_hot(s, p->dev, p->sector, sectors))
		return 0;
	return add_range(s, p->dev, p->sector, sectors, p->btree_id, p->level,
			 p->max);
}

/* The second walk: an extent's range, when it touches a hot bucket. */
static int hot_key(void *ctx, const struct fsck_ptr *leaf,
		   const struct jrx_bkey *k)
{
	const struct jrx_extent_val *e = jrx_bkey_val(k);
	struct fsck_space *s = ctx;
	uint64_t b;

	if (leaf->btree_id != JRX_BTREE_EXTENTS || e->dev >= s->f->a->nr_devs ||
	    where(s, e->dev, e->sector, k->size, &b) == AT_OUTSIDE ||
	    !touches_hot(s, e->dev, e->sector, k->size))
		return 0;
	return add_range(s, e->dev, e->sector, k->size, JRX_BTREE_EXTENTS,
			 EXTENT_DATA, k->p);
}

/*
 * The ranges that touch a hot bucket, by a second walk in the order of
 * pass 3's (the order they were marked in).  Swept in sorted order they
 * give the problems a list of every range would give, in the same order:
 * a range r reported there starts on a sector that the range reaching
 * furthest before it (far) also covers, so both touch that sector's hot
 * bucket, and so does every range covering that sector, among which far
 * is the first to reach furthest: r and its far are the same in the
 * shorter list; a range not reported there is not reported here either
 * (its far here reaches no further).
 */
static int collect_hot(struct fsck_space *s)
{
	static const unsigned order[JRX_BTREE_NR] = {
		JRX_BTREE_INODES, JRX_BTREE_DIRENTS, JRX_BTREE_EXTENTS,
		JRX_BTREE_XATTRS, JRX_BTREE_ALLOC, JRX_BTREE_ACCOUNTING,
	};
	int ret = 0;

	_Static_assert(JRX_BTREE_NR == 6, "btree ids");
	for (unsigned i = 0; !ret && i < JRX_BTREE_NR; i++) {
		struct fsck_walk w = {
			.btree_id = order[i],
			.leaves = order[i] == JRX_BTREE_EXTENTS,
			.ptr = hot_ptr, .key = hot_key, .ctx = s,
		};

		ret = fsck_walk(s->f, &w);
	}
	return ret;
}

static int cmp_skey(const void *x, const void *y)
{
	const struct skey *a = x, *b = y;

	if (a->start != b->start)
		return a->start < b->start ? -1 : 1;
	if (a->len != b->len)
		return a->len < b->len ? -1 : 1;
	return a->idx < b->idx ? -1 : a->idx > b->idx;
}

struct sortjob {
	struct skey	*k;
	const size_t	*end;		/* of each group, after the scatter */
	uint64_t	 groups;
	_Atomic uint64_t next;		/* groups handed out */
};

#define SORT_CHUNK 4096u		/* groups a worker takes at a time */

/* Pool worker: sort the groups it takes (each group is one bucket). */
static void sort_groups(void *arg, unsigned id)
{
	struct sortjob *j = arg;

	(void)id;
	for (;;) {
		uint64_t g0 = atomic_fetch_add(&j->next, SORT_CHUNK), g1;

		if (g0 >= j->groups)
			return;
		g1 = g0 + SORT_CHUNK < j->groups ? g0 + SORT_CHUNK : j->groups;
		for (uint64_t g = g0; g < g1; g++) {
			size_t lo = g ? j->end[g - 1] : 0, n = j->end[g] - lo;
			struct skey *k = j->k + lo;

			if (n <= 16) {	/* insertion sort */
				for (size_t i = 1; i < n; i++) {
					struct skey t = k[i];
					size_t m = i;

					for (; m && cmp_skey(&k[m - 1], &t) > 0; m--)
						k[m] = k[m - 1];
					k[m] = t;
				}
			} else {
				qsort(k, n, sizeof(*k), cmp_skey);
			}
		}
	}
}

/*
 * The ranges in (device, start, len, idx) order: a counting sort by
 * bucket (every range starts in a data bucket: where() said so before
 * it was added), then each bucket's few ranges sorted, the buckets
 * shared among the pool's workers.  *out: the sorted keys.
 */
static int sort_ranges(struct fsck_space *s, struct skey **out)
{
	struct sortjob j = { .groups = s->groups };
	size_t *end, bytes, ebytes;
	struct skey *k;
	int ret;

	*out = NULL;
	if (!jrx_mul_size(s->groups ? s->groups : 1, sizeof(*end), &ebytes) ||
	    !(end = fsck_big_alloc(ebytes)))
		return jrx_fail(-ENOMEM, "allocating the fsck range sort's %"
				PRIu64 " bucket counts", s->groups);
	if (!jrx_mul_size(s->nr ? s->nr : 1, sizeof(*k), &bytes) ||
	    !(k = fsck_big_alloc(bytes))) {
		fsck_big_free(end, ebytes);
		return jrx_fail(-ENOMEM, "allocating the fsck range sort: %zu"
				" ranges", s->nr);
	}
	for (size_t i = 0; i < s->nr; i++)
		end[s->base[s->r[i].dev] + s->r[i].start / s->f->bucket_sectors]++;
	for (uint64_t g = 0, sum = 0; g < s->groups; g++) {
		size_t c = end[g];

		end[g] = sum;		/* the group's start, for now */
		sum += c;
	}
	for (size_t i = 0; i < s->nr; i++) {
		const struct range *r = &s->r[i];
		uint64_t g = s->base[r->dev] + r->start / s->f->bucket_sectors;

		k[end[g]++] = (struct skey){ .start = r->start, .idx = i,
					     .len = r->len };
	}
	/* end[g] is now where group g ends */
	j.k = k;
	j.end = end;
	ret = fsck_parallel(s->f, sort_groups, &j);
	fsck_big_free(end, ebytes);
	if (ret) {
		fsck_big_free(k, bytes);
		return ret;
	}
	*out = k;
	return 0;
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

/* A listed range as the space repair takes it. */
static struct fsck_space_ref space_ref(const struct range *r)
{
	return (struct fsck_space_ref){
		.extent = r->level == EXTENT_DATA, .btree = r->btree,
		.dev = r->dev, .sector = r->start, .len = r->len,
		.pos = r->owner,
	};
}

/* One sweep over the sorted ranges: every overlap is a sector used twice. */
static int check_overlaps(struct fsck_space *s)
{
	const struct range *far = NULL;	/* the range reaching furthest */
	struct skey *k;
	int ret = sort_ranges(s, &k);

	if (ret)
		return ret;
	for (size_t i = 0; i < s->nr; i++) {
		const struct range *r = &s->r[k[i].idx];

		if (far && far->dev == r->dev && r->start < far->start + far->len) {
			uint64_t end = far->start + far->len < r->start + r->len ?
				far->start + far->len : r->start + r->len;
			struct jrx_pr_ctx c;

			struct fsck_space_fix fix = {
				.nr = 2, .r = { space_ref(r), space_ref(far) },
				.start = r->start, .len = end - r->start,
			};

			jrx_pr_ctx_init(&c);
			c.fix = &fix;
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
	fsck_big_free(k, s->nr * sizeof(*k));
	return 0;
}

static void mismatch(struct fsck_space *s, unsigned dev, uint64_t b, const char *what,
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
static void check_buckets(struct fsck_space *s)
{
	const struct jrx_sb *sb = &s->f->a->sb;
	uint64_t bs = s->f->bucket_sectors, hidden = 0;
	/* the per-bucket damage lookup only when alloc nodes were lost */
	bool alloc_damaged = fsck_btree_damaged(s->f, JRX_BTREE_ALLOC, false);

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
			if (alloc_damaged &&
			    fsck_damaged(s->f, JRX_BTREE_ALLOC, jrx_bpos(d, b, 0),
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

int fsck_space_begin(struct jrx_fsck *f, struct fsck_space **out)
{
	struct fsck_space *s = calloc(1, sizeof(*s));
	int ret = 0;

	*out = NULL;
	if (!s)
		return jrx_fail(-ENOMEM, "allocating the fsck space check: %zu"
				" bytes", sizeof(*s));
	s->f = f;
	s->budget = HOT_BASE;
	s->all_hot = s->any_hot = atomic_load(&fsck_inject_all_ranges);
	/* the superblock's check made it so (bucket_size: 64 KiB to 64 MiB) */
	if (f->bucket_sectors < 128 || f->bucket_sectors & (f->bucket_sectors - 1))
		ret = jrx_fail(-JRX_ERR_SB_INVALID, "%s: bucket_size %" PRIu32
			       " is not a power of two of at least 64 KiB",
			       f->a->devs[0].path, f->a->sb.bucket_size);
	else
		s->shift = (unsigned)__builtin_ctz(f->bucket_sectors);
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
		else if (!(s->u[d] = fsck_big_alloc(bytes)))
			ret = jrx_fail(-ENOMEM, "allocating the fsck bucket table"
				       " of %s: %" PRIu64 " buckets of %zu bytes",
				       f->a->devs[d].path, nb, sizeof(struct use));
		/* a bit per sector (buckets: 2^7 to 2^17 sectors, so whole
		 * words); mapped, not touched: without it every bucket is
		 * hot, slower and the same */
		else if (!jrx_mul_size(nb ? nb : 1, f->bucket_sectors / 8, &bytes) ||
			 !(s->bits[d] = fsck_big_alloc(bytes)))
			s->all_hot = s->any_hot = true;
		else
			s->bits_bytes[d] = bytes;
		s->base[d] = s->groups;
		s->groups += nb;	/* at most 64 x 2^32 */
		s->dev_sectors[d] = nb << s->shift;
	}
	if (!ret && !(s->hot = fsck_big_alloc((s->groups + 63) / 64 * 8)))
		ret = jrx_fail(-ENOMEM, "allocating the fsck hot bucket bitmap:"
			       " %" PRIu64 " buckets", s->groups);
	if (ret) {
		fsck_space_free(s);
		return ret;
	}
	*out = s;
	return 0;
}

void fsck_space_free(struct fsck_space *s)
{
	if (!s)
		return;
	for (unsigned d = 0; d < JRX_MAX_DEVICES; d++)
		if (s->u[d])
			fsck_big_free(s->u[d], s->f->a->sb.members[d].nbuckets ?
				 s->f->a->sb.members[d].nbuckets *
				 sizeof(struct use) : sizeof(struct use));
	for (unsigned d = 0; d < JRX_MAX_DEVICES; d++)
		fsck_big_free(s->bits[d], s->bits_bytes[d]);
	fsck_big_free(s->hot, (s->groups + 63) / 64 * 8);
	fsck_big_free(s->r, s->cap * sizeof(*s->r));
	free(s);
}

int fsck_pass_buckets(struct jrx_fsck *f)
{
	static const unsigned ids[] = { 0, 1, 2, 3, 4, 5 };
	struct fsck_space *s = f->space;
	int ret = 0;

	_Static_assert(JRX_BTREE_NR == 6, "btree ids");
	f->space = NULL;	/* this pass's from now on */
	if (s) {
		/* pass 3's walk collected it: what it found, in the order of
		 * a walk of each btree in turn */
		fsck_report_later(f, JRX_PASS_BUCKETS, ids, JRX_BTREE_NR);
	} else {
		ret = fsck_space_begin(f, &s);
		for (unsigned id = 0; !ret && id < JRX_BTREE_NR; id++) {
			struct fsck_walk w = {
				.btree_id = id,
				.leaves = id == JRX_BTREE_EXTENTS ||
					id == JRX_BTREE_ALLOC,
				.ptr = fsck_space_ptr, .key = fsck_space_key,
				.ctx = s,
			};

			ret = fsck_walk(f, &w);
		}
	}
	/* the ranges of the buckets with a sector used twice, if any */
	if (!ret && s->any_hot)
		ret = collect_hot(s);
	if (!ret && s->nr)
		ret = check_overlaps(s);
	if (!ret) {
		unsigned hid;

		if (refs_complete(f, &hid))
			check_buckets(s);
		else
			fsck_incomplete(f, "alloc keys and accounting against the"
					" btrees", hid);
	}
	fsck_space_free(s);
	return ret;
}
