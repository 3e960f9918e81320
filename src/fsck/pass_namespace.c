/*
 * pass_namespace.c - pass 6: the file-system view of the leaf keys.
 *
 *  - the root directory inode (JRX_ROOT_INO) exists and is a directory;
 *  - a dirent is stored at the hash of its name, sits in an existing
 *    directory, names an existing inode, and its d_type matches that
 *    inode's mode (DT_x = S_IFx >> 12);
 *  - an extent belongs to an existing regular file, does not overlap the
 *    file's previous extent, and ends at or below i_size: extents are
 *    keyed by their end sector, and the write path keeps every end at or
 *    below ceil(i_size / 512) (fsops.c: writes raise i_size to the end,
 *    truncates drop what lies past it);
 *  - an xattr belongs to an existing inode and sits at its name's hash;
 *  - when the store has dirents at all (a synth key mix may have none),
 *    every inode but the root is named by a dirent, a directory by exactly
 *    one, and nlink is the number of names of a file, or 2 + the number
 *    of subdirectories of a directory.
 *
 * A dirent's directory comes in key order (dirents are keyed by it):
 * looked up forward from a cursor.  Its target is anywhere: looking each
 * one up at random cost two cache misses a dirent, so the walk keeps a
 * record of each target instead (add_ref: its inum, its type, its
 * directory), sorted by inum a batch at a time and merged with the inode
 * table, which is sorted by inum too (flush_refs): names and
 * subdirectories are counted there.  A target missing or of the wrong
 * type is rare; then the dirents are walked again (join_targets),
 * checked one by one as the first walk would have (their problems
 * dropped and found again, so they come in the same order), the targets
 * looked up only when the merge found them bad.
 *
 * Memory: 40 bytes per inode (32 in the table, 8 for its inum), two
 * batches of 16 MiB for the targets; without the memory for those, the
 * targets are looked up by a hash index of the inodes (4 to 8 bytes per
 * inode).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include "bigmem.h"
#include "fsck_int.h"
#include "../format/checksum.h"
#include "../format/format.h"
#include "../sort/sort.h"
#include "../util/cmp.h"
#include "../util/diag.h"
#include "../util/vec.h"

#define S_IFMT_	0170000u
#define S_IFDIR_ 0040000u
#define S_IFREG_ 0100000u

/*
 * An inode of the table; its inum is in the table's num[] (the searches
 * read those alone, 8 bytes an inode), its key's position is (inum, 0,
 * snapshot), or the offset in offs[] when OFFSET is set (a key the
 * checks let by, never written so).
 */
struct ino {
	uint64_t size;		/* bytes */
	uint32_t mode, nlink;
	uint32_t names;		/* dirents naming it */
	uint32_t subdirs;	/* dirents in it naming directories */
	uint32_t snapshot;
	uint32_t flags;
};
enum { INO_OFFSET = 1 };

/* An inode key's offset that is not 0: the inode's index, the offset. */
struct ino_off {
	size_t	 idx;
	uint64_t offset;
};

/*
 * Owner: the walk's thread (every callback runs there, walk.c).
 */
struct fsck_names {
	struct jrx_fsck *f;
	/* the inodes in walk order (inum order), nr of each */
	uint64_t	*num;
	struct ino	*v;
	size_t		 nr, cap, cap_num;
	struct ino_off	*offs;
	size_t		 nr_offs, cap_offs;
	/* v's index by inum once the inodes are read: open addressing,
	 * slot = index in v + 1, 0 empty; mask + 1 slots (a power of 2) */
	uint32_t	*hash;
	uint64_t	 mask;
	bool		 no_index;
	/* lookups of a sorted stream (the keys' own inodes: dirents'
	 * directories, extents, xattrs come by inode) go on from where
	 * the previous one ended: the next entry, or the same */
	size_t		 cursor;
	uint64_t	 dirents;
	uint64_t	 prev_inum, prev_end;	/* the last extent seen */
	bool		 have_prev;
	uint64_t	 hidden;	/* inodes looked for in damaged nodes */
	bool		 unsorted;	/* v is not in inum order (damage) */
	/*
	 * A batch of the dirents' targets (flush_refs): two words each,
	 * the target's inum (high) and (its directory's index in v + 1)
	 * << 8 | d_type (low; 0 << 8: no directory); tmp, for the sort.
	 * Without the memory for them, targets are looked up at once.
	 */
	uint64_t	*refs, *tmp;
	size_t		 nr_refs, ref_batch;	/* of REF_BATCH, unless a test
						   says (fsck_inject_ref_batch) */
	bool		 at_once;
	/* targets found missing or of the wrong type (sorted, unique once
	 * join_targets is done); the dirents walk again (recheck) to
	 * report the dirents naming them */
	uint64_t	*bad;
	size_t		 nr_bad, cap_bad;
	bool		 recheck;
};

/* An inode not found may only be hidden by damage: then say nothing. */
static bool lost(struct fsck_names *s, uint64_t inum)
{
	if (!fsck_inum_damaged(s->f, JRX_BTREE_INODES, inum))
		return false;
	s->hidden++;
	return true;
}

static uint64_t hash_inum(uint64_t inum)
{
	inum ^= inum >> 33;
	inum *= 0xff51afd7ed558ccdull;
	inum ^= inum >> 33;
	return inum;
}

/* v (sorted by inum, unique) indexed by hash; 0, or an error (then
 * lookups use the binary search). */
static int index_inodes(struct fsck_names *s)
{
	uint64_t slots = 16;
	size_t bytes;

	if (s->nr >= UINT32_MAX)
		return -E2BIG;	/* the binary search alone then */
	while (slots < (uint64_t)s->nr * 2)
		slots <<= 1;
	if (!jrx_mul_size(slots, sizeof(*s->hash), &bytes) ||
	    !(s->hash = fsck_big_alloc(bytes)))
		return -ENOMEM;
	s->mask = slots - 1;
	for (size_t i = 0; i < s->nr; i++) {
		uint64_t h = hash_inum(s->num[i]) & s->mask;

		while (s->hash[h])
			h = (h + 1) & s->mask;
		s->hash[h] = (uint32_t)i + 1;
	}
	return 0;
}

static struct ino *find_sorted(struct fsck_names *s, uint64_t inum)
{
	size_t lo = 0, hi = s->nr;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->num[mid] == inum)
			return &s->v[mid];
		if (s->num[mid] < inum)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Any inode (a dirent's target): the hash index. */
static struct ino *find(struct fsck_names *s, uint64_t inum)
{
	/* the first lookup comes after the last inode (the inodes btree
	 * is walked first): index the table once */
	if (!s->hash && !s->no_index && index_inodes(s))
		s->no_index = true;	/* no memory: the binary search */
	if (!s->hash)
		return find_sorted(s, inum);
	for (uint64_t h = hash_inum(inum) & s->mask; s->hash[h];
	     h = (h + 1) & s->mask)
		if (s->num[s->hash[h] - 1] == inum)
			return &s->v[s->hash[h] - 1];
	return NULL;
}

/* One inode, or a few: the binary search (no index built for them). */
static struct ino *find_one(struct fsck_names *s, uint64_t inum)
{
	return s->unsorted ? find(s, inum) : find_sorted(s, inum);
}

/*
 * The inode of a key of a stream sorted by inode: searched forward from
 * the cursor, in steps that double (memory read in order, no miss), and
 * the cursor moves there; a stream that goes back is looked up.
 */
static struct ino *find_next_far(struct fsck_names *s, uint64_t inum)
{
	size_t lo = s->cursor, hi, step = 1;
	struct ino *i;

	if (lo >= s->nr || s->num[lo] > inum)
		goto lookup;
	/* num[lo] <= inum: find hi with num[hi] >= inum */
	for (hi = lo; hi < s->nr && s->num[hi] < inum; step *= 2) {
		lo = hi;
		hi = step < s->nr - hi ? hi + step : s->nr;
		if (step > 4096)
			goto lookup;	/* far: search it all */
	}
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->num[mid] < inum)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < s->nr) {
		s->cursor = lo;
		return s->num[lo] == inum ? &s->v[lo] : NULL;
	}
lookup:
	/* a new stream, or a jump: the binary search (no index built) */
	i = find_one(s, inum);
	if (i)
		s->cursor = (size_t)(i - s->v);
	return i;
}

/* The same inode as the last key's (most keys): no call, no search. */
static inline struct ino *find_next(struct fsck_names *s, uint64_t inum)
{
	if (s->cursor < s->nr && s->num[s->cursor] == inum)
		return &s->v[s->cursor];
	return find_next_far(s, inum);
}

static bool is_dir(const struct ino *i)
{
	return (i->mode & S_IFMT_) == S_IFDIR_;
}

/* A name for messages: quoted, non-printing bytes as '?', truncated. */
static void name_text(char *buf, size_t len, const char *name, size_t nl)
{
	size_t o = 0;

	buf[o++] = '\'';
	for (size_t i = 0; i < nl && o + 5 < len; i++)
		buf[o++] = name[i] >= 0x20 && name[i] < 0x7f ? name[i] : '?';
	if (o + 5 >= len && nl > 0)
		buf[o++] = '.', buf[o++] = '.';
	buf[o++] = '\'';
	buf[o] = 0;
}

static void ctx_key(struct jrx_pr_ctx *c, unsigned btree,
		    const struct jrx_bkey *k)
{
	jrx_pr_ctx_init(c);
	c->btree = (int)btree;
	c->has_pos = true;
	c->pos = k->p;
	c->num = k->p.inode;
}

static int on_inode(void *ctx, const struct fsck_ptr *leaf,
		    const struct jrx_bkey *k)
{
	const struct jrx_inode_val *v = jrx_bkey_val(k);
	struct fsck_names *s = ctx;
	int ret;

	(void)leaf;
	if (s->nr && s->num[s->nr - 1] == k->p.inode)
		return 0;	/* another snapshot of it: the first one counts */
	if (s->nr && s->num[s->nr - 1] > k->p.inode)
		s->unsorted = true;	/* the merge cannot be used */
	if ((ret = fsck_big_reserve((void **)&s->v, &s->cap, s->nr,
				    sizeof(*s->v), (size_t)1 << 15,
				    "fsck inode table")) ||
	    (ret = fsck_big_reserve((void **)&s->num, &s->cap_num, s->nr,
				    sizeof(*s->num), (size_t)1 << 15,
				    "fsck inode numbers")))
		return ret;
	if (k->p.offset) {
		if ((ret = JRX_VEC_RESERVE(s->offs, s->nr_offs, s->cap_offs, 1,
					   "fsck inode key offsets")))
			return ret;
		s->offs[s->nr_offs++] = (struct ino_off){ s->nr, k->p.offset };
	}
	s->num[s->nr] = k->p.inode;
	s->v[s->nr++] = (struct ino){
		.size = v->size, .mode = v->mode, .nlink = v->nlink,
		.snapshot = k->p.snapshot, .flags = k->p.offset ? INO_OFFSET : 0,
	};
	return 0;
}

/* The position of inode i's key. */
static struct jrx_bpos ino_pos(const struct fsck_names *s, const struct ino *i)
{
	size_t idx = (size_t)(i - s->v), lo = 0, hi = s->nr_offs;
	uint64_t offset = 0;

	while ((i->flags & INO_OFFSET) && lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->offs[mid].idx == idx) {
			offset = s->offs[mid].offset;
			break;
		}
		if (s->offs[mid].idx < idx)
			lo = mid + 1;
		else
			hi = mid;
	}
	return jrx_bpos(s->num[idx], offset, i->snapshot);
}

/*
 * A problem's context, built at the first problem of a key only (z.init
 * false; the rest, some 350 bytes, is not cleared for every key).
 */
struct lazy {
	struct jrx_pr_ctx c;
	bool	 init;
	char	 why[80];
};

static struct jrx_pr_ctx *named(struct lazy *z, unsigned btree,
				const struct jrx_bkey *k, const char *name,
				size_t nl)
{
	if (!z->init) {
		name_text(z->why, sizeof(z->why), name, nl);
		ctx_key(&z->c, btree, k);
		z->c.why = z->why;
		z->init = true;
	}
	return &z->c;
}

/* Note a bad target for the recheck (unsorted until join_targets). */
static int add_bad(struct fsck_names *s, uint64_t target)
{
	if (s->nr_bad && s->bad[s->nr_bad - 1] == target)
		return 0;
	if (JRX_VEC_RESERVE(s->bad, s->nr_bad, s->cap_bad, 1,
			    "fsck list of bad dirent targets"))
		return -ENOMEM;
	s->bad[s->nr_bad++] = target;
	return 0;
}

/*
 * What a dirent's target t (NULL: missing) says: the counts (unless
 * count is false: the recheck), and whether it is bad (missing and not
 * hidden by damage, or of another type than d_type).
 */
static bool target_seen(struct fsck_names *s, struct ino *t, uint64_t target,
			struct ino *dir, uint8_t d_type, bool count)
{
	if (!t) {
		if (!lost(s, target))
			return true;
		if (count && dir && d_type == (S_IFDIR_ >> 12))
			dir->subdirs++;	/* its parent's nlink counts it */
		return false;
	}
	if (count) {
		t->names++;
		if (is_dir(t) && dir)
			dir->subdirs++;
	}
	return d_type != ((t->mode & S_IFMT_) >> 12);
}

/* Whether target is one join_targets found bad (s->bad, sorted). */
static bool is_bad(const struct fsck_names *s, uint64_t target)
{
	size_t lo = 0, hi = s->nr_bad;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->bad[mid] == target)
			return true;
		if (s->bad[mid] < target)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/* Targets sorted and merged a batch at a time (16 MiB, twice). */
#define REF_BATCH	((size_t)1 << 20)
/* Inodes of the batch's targets asked for ahead of their counting. */
#define REF_AHEAD	8

/*
 * The inode inum of the sorted table, searched forward from *i, in
 * steps that double, then halving; *i moves there (a sorted batch of
 * targets goes through the table once, reading only near its targets).
 */
static struct ino *seek(struct fsck_names *s, size_t *i, uint64_t inum)
{
	size_t lo = *i, hi, step = 1;

	if (lo < s->nr && s->num[lo] < inum) {
		/* num[lo] < inum: the first entry >= inum is in (lo, hi] */
		for (hi = lo + 1; hi < s->nr && s->num[hi] < inum; step *= 2) {
			lo = hi;
			hi = step < s->nr - hi ? hi + step : s->nr;
		}
		while (hi - lo > 1) {
			size_t mid = lo + (hi - lo) / 2;

			if (s->num[mid] < inum)
				lo = mid;
			else
				hi = mid;
		}
		lo = hi;
	}
	*i = lo;
	return lo < s->nr && s->num[lo] == inum ? &s->v[lo] : NULL;
}

/*
 * The batch of targets, sorted by inum and merged with the inode table
 * (sorted by inum: no lookup at random, the table read in order); each
 * counted, the bad ones noted for the recheck.  A table out of order
 * (damage) is looked up instead.
 */
static int flush_refs(struct fsck_names *s)
{
	uint64_t *at = s->tmp;	/* index in v + 1 of each target, 0: none */
	size_t i = 0;
	int ret = 0;

	if (!s->unsorted)
		jrx_sort_u128(s->refs, s->tmp, s->nr_refs);
	/* the inums first (read in order), then the entries, asked for a
	 * few targets ahead: they lie apart, each a cache miss otherwise */
	for (size_t r = 0; r < s->nr_refs; r++) {
		uint64_t target = s->refs[2 * r + 1];
		struct ino *t = s->unsorted ? find(s, target) :
			seek(s, &i, target);

		at[r] = t ? (uint64_t)(t - s->v) + 1 : 0;
	}
	for (size_t r = 0; !ret && r < s->nr_refs; r++) {
		uint64_t lo = s->refs[2 * r], target = s->refs[2 * r + 1];
		struct ino *dir = lo >> 8 ? &s->v[(lo >> 8) - 1] : NULL;
		struct ino *t = at[r] ? &s->v[at[r] - 1] : NULL;

		if (r + REF_AHEAD < s->nr_refs) {
			uint64_t ahead = s->refs[2 * (r + REF_AHEAD)];

			if (at[r + REF_AHEAD])
				__builtin_prefetch(&s->v[at[r + REF_AHEAD] - 1]);
			if (ahead >> 8)
				__builtin_prefetch(&s->v[(ahead >> 8) - 1]);
		}
		if (target_seen(s, t, target, dir, (uint8_t)lo, true))
			ret = add_bad(s, target);
	}
	s->nr_refs = 0;
	return ret;
}

/*
 * Keep the dirent's target for flush_refs: 0, 1 when there is no memory
 * for the batch (look it up at once), or an error.
 */
static int add_ref(struct fsck_names *s, uint64_t target,
		   const struct ino *dir, uint8_t d_type)
{
	uint64_t lo = (dir ? (uint64_t)(dir - s->v) + 1 : 0) << 8 | d_type;
	int ret;

	if (s->at_once)
		return 1;
	if (!s->refs) {
		s->refs = fsck_big_alloc(s->ref_batch * 2 * sizeof(*s->refs));
		s->tmp = fsck_big_alloc(s->ref_batch * 2 * sizeof(*s->tmp));
		if (!s->refs || !s->tmp) {	/* slower, the same result */
			s->at_once = true;
			return 1;
		}
	}
	if (s->nr_refs == s->ref_batch && (ret = flush_refs(s)))
		return ret;
	s->refs[2 * s->nr_refs] = lo;
	s->refs[2 * s->nr_refs + 1] = target;
	s->nr_refs++;
	return 0;
}

static int on_dirent(void *ctx, const struct fsck_ptr *leaf,
		     const struct jrx_bkey *k)
{
	const struct jrx_dirent_val *d = jrx_bkey_val(k);
	const char *name = (const char *)(d + 1);
	struct fsck_names *s = ctx;
	struct ino *dir, *t;
	struct lazy z;
	struct jrx_pr_ctx *c;
	uint64_t h = jrx_name_hash(name, d->name_len);
	int ret;

	(void)leaf;
	z.init = false;
	if (!s->recheck) {
		s->dirents++;
		s->f->res->pass[JRX_PASS_NAMESPACE].checked++;
	}
	if (h != k->p.offset) {
		c = named(&z, JRX_BTREE_DIRENTS, k, name, d->name_len);
		jrx_pr_expected(c, "%#" PRIx64, h);
		jrx_pr_found(c, "%#" PRIx64, k->p.offset);
		fsck_report(s->f, JRX_PR_DIRENT_BAD_HASH, c);
	}
	dir = find_next(s, k->p.inode);
	if (!dir) {
		if (!lost(s, k->p.inode))
			fsck_report(s->f, JRX_PR_DIRENT_NO_DIR,
				    named(&z, JRX_BTREE_DIRENTS, k, name,
					  d->name_len));
	} else if (!is_dir(dir)) {
		c = named(&z, JRX_BTREE_DIRENTS, k, name, d->name_len);
		jrx_pr_found(c, "%#o", dir->mode);
		fsck_report(s->f, JRX_PR_DIRENT_NOT_IN_DIR, c);
	}
	/* the first walk: the target is checked with its batch */
	if (!s->recheck && (ret = add_ref(s, d->target, dir, d->d_type)) <= 0)
		return ret;
	if (s->recheck && !is_bad(s, d->target))
		return 0;
	t = s->recheck ? find_one(s, d->target) : find(s, d->target);
	if (!target_seen(s, t, d->target, dir, d->d_type, !s->recheck))
		return 0;
	if (!s->recheck && add_bad(s, d->target))
		return -ENOMEM;	/* jrx_diag() says what */
	if (!t) {
		c = named(&z, JRX_BTREE_DIRENTS, k, name, d->name_len);
		jrx_pr_found(c, "%" PRIu64, d->target);
		fsck_report(s->f, JRX_PR_DIRENT_DANGLING, c);
		return 0;
	}
	c = named(&z, JRX_BTREE_DIRENTS, k, name, d->name_len);
	c->num = s->num[t - s->v];
	jrx_pr_expected(c, "%u", (t->mode & S_IFMT_) >> 12);
	jrx_pr_found(c, "%u", d->d_type);
	fsck_report(s->f, JRX_PR_DIRENT_WRONG_TYPE, c);
	return 0;
}

/*
 * The last batch of targets; then, if any target is bad, the dirents
 * walked again (recheck): their problems, dropped, come again in walk
 * order, those of the bad targets with them.
 */
static int join_targets(struct fsck_names *s)
{
	struct jrx_fsck *f = s->f;
	int ret = s->nr_refs ? flush_refs(s) : 0;

	if (ret || !s->nr_bad)
		return ret;
	qsort(s->bad, s->nr_bad, sizeof(*s->bad), jrx_cmp_u64);
	fsck_drop_later(f, JRX_PASS_NAMESPACE, JRX_BTREE_DIRENTS);
	s->recheck = true;
	s->cursor = 0;
	f->defer = true;
	f->defer_btree = JRX_BTREE_DIRENTS;
	ret = fsck_walk(f, &(struct fsck_walk){
		.btree_id = JRX_BTREE_DIRENTS, .leaves = true,
		.key = fsck_names_key, .ctx = s,
	});
	f->defer = false;
	s->recheck = false;
	return ret;
}

static struct jrx_pr_ctx *ranged(struct lazy *z, const struct jrx_bkey *k,
				 uint64_t start, uint64_t end)
{
	if (!z->init) {
		snprintf(z->why, sizeof(z->why), "%" PRIu64 "..%" PRIu64, start,
			 end);
		ctx_key(&z->c, JRX_BTREE_EXTENTS, k);
		z->c.why = z->why;
		z->init = true;
	}
	return &z->c;
}

static int on_extent(void *ctx, const struct fsck_ptr *leaf,
		     const struct jrx_bkey *k)
{
	struct fsck_names *s = ctx;
	uint64_t end = k->p.offset, start = end - k->size;
	struct lazy z;
	struct jrx_pr_ctx *c;
	struct ino *i;

	(void)leaf;
	z.init = false;
	s->f->res->pass[JRX_PASS_NAMESPACE].checked++;
	if (s->have_prev && s->prev_inum == k->p.inode && start < s->prev_end) {
		c = ranged(&z, k, start, end);
		jrx_pr_expected(c, "%" PRIu64, s->prev_end);
		c->want = s->prev_end;
		fsck_report(s->f, JRX_PR_EXTENT_OVERLAP, c);
	}
	if (!s->have_prev || s->prev_inum != k->p.inode || end > s->prev_end)
		s->prev_end = end;
	s->prev_inum = k->p.inode;
	s->have_prev = true;
	i = find_next(s, k->p.inode);
	if (!i) {
		if (!lost(s, k->p.inode))
			fsck_report(s->f, JRX_PR_EXTENT_NO_INODE,
				    ranged(&z, k, start, end));
		return 0;
	}
	if ((i->mode & S_IFMT_) != S_IFREG_) {
		c = ranged(&z, k, start, end);
		jrx_pr_found(c, "%#o", i->mode);
		fsck_report(s->f, JRX_PR_EXTENT_NOT_FILE, c);
	}
	if (end > (i->size + JRX_SECTOR_SIZE - 1) / JRX_SECTOR_SIZE) {
		c = ranged(&z, k, start, end);
		jrx_pr_expected(c, "%" PRIu64 " bytes, %" PRIu64 " sectors",
				i->size, (i->size + JRX_SECTOR_SIZE - 1) /
				JRX_SECTOR_SIZE);
		jrx_pr_found(c, "%" PRIu64, end);
		fsck_report(s->f, JRX_PR_EXTENT_PAST_ISIZE, c);
	}
	return 0;
}

static int on_xattr(void *ctx, const struct fsck_ptr *leaf,
		    const struct jrx_bkey *k)
{
	const struct jrx_xattr_val *x = jrx_bkey_val(k);
	const char *name = (const char *)(x + 1);
	uint64_t h = jrx_name_hash(name, x->name_len);
	struct fsck_names *s = ctx;
	struct lazy z;
	struct jrx_pr_ctx *c;

	(void)leaf;
	z.init = false;
	s->f->res->pass[JRX_PASS_NAMESPACE].checked++;
	if (h != k->p.offset) {
		c = named(&z, JRX_BTREE_XATTRS, k, name, x->name_len);
		jrx_pr_expected(c, "%#" PRIx64, h);
		jrx_pr_found(c, "%#" PRIx64, k->p.offset);
		fsck_report(s->f, JRX_PR_XATTR_BAD_HASH, c);
	}
	if (!find_next(s, k->p.inode) && !lost(s, k->p.inode))
		fsck_report(s->f, JRX_PR_XATTR_NO_INODE,
			    named(&z, JRX_BTREE_XATTRS, k, name, x->name_len));
	return 0;
}

/* Names and link counts, once every dirent has been seen. */
static void check_links(struct fsck_names *s)
{
	struct ino *root = find_one(s, JRX_ROOT_INO);
	struct jrx_pr_ctx c;

	jrx_pr_ctx_init(&c);
	c.num = JRX_ROOT_INO;
	if ((!root && !lost(s, JRX_ROOT_INO)) || (root && !is_dir(root))) {
		c.why = root ? "not a directory" : "missing";
		fsck_report(s->f, JRX_PR_ROOT_INODE_MISSING, &c);
	}
	if (s->hidden)
		fsck_incomplete(s->f, "references to inodes in damaged nodes",
				JRX_BTREE_INODES);
	if (fsck_btree_damaged(s->f, JRX_BTREE_DIRENTS, false)) {
		fsck_incomplete(s->f, "names and link counts", JRX_BTREE_DIRENTS);
		return;
	}
	if (!s->dirents)
		return;		/* a store without a namespace */
	for (size_t n = 0; n < s->nr; n++) {
		struct ino *i = &s->v[n];
		bool dir = is_dir(i);
		uint64_t want = dir ? 2u + i->subdirs : i->names;

		if (i->nlink == want && i->names &&
		    (!dir || i->names <= (i == root ? 0u : 1u)))
			continue;	/* sound: no context to build */
		jrx_pr_ctx_init(&c);
		c.btree = JRX_BTREE_INODES;
		c.has_pos = true;
		c.pos = ino_pos(s, i);
		c.num = s->num[n];
		if (i != root && !i->names) {
			fsck_report(s->f, JRX_PR_INODE_UNREACHABLE, &c);
			continue;
		}
		if (dir && i->names > (i == root ? 0u : 1u)) {
			jrx_pr_expected(&c, "%u", i == root ? 0u : 1u);
			jrx_pr_found(&c, "%" PRIu32, i->names);
			fsck_report(s->f, JRX_PR_DIR_MULTIPLE_LINKS, &c);
		}
		if (i->nlink != want) {
			c.why = dir ? "2 + subdirectories" : "directory entries";
			jrx_pr_expected(&c, "%" PRIu64, want);
			jrx_pr_found(&c, "%" PRIu32, i->nlink);
			c.want = want;
			fsck_report(s->f, JRX_PR_INODE_NLINK, &c);
		}
	}
}

int fsck_names_key(void *ctx, const struct fsck_ptr *leaf,
		   const struct jrx_bkey *k)
{
	switch (leaf->btree_id) {
	case JRX_BTREE_INODES:	return on_inode(ctx, leaf, k);
	case JRX_BTREE_DIRENTS:	return on_dirent(ctx, leaf, k);
	case JRX_BTREE_EXTENTS:	return on_extent(ctx, leaf, k);
	case JRX_BTREE_XATTRS:	return on_xattr(ctx, leaf, k);
	default:		return 0;
	}
}

/* on(s, leaf, key) for every key of leaf n, prefetched a few ahead. */
static inline int names_keys(struct fsck_names *s, const struct jrx_bnode *n,
			     const struct fsck_ptr *leaf,
			     int (*on)(void *, const struct fsck_ptr *,
				       const struct jrx_bkey *))
{
	int ret = 0;

	for (size_t i = 0; !ret && i < n->nr; i++) {
		if (i + FSCK_KEY_AHEAD < n->nr)
			__builtin_prefetch(n->keys[i + FSCK_KEY_AHEAD]);
		ret = on(s, leaf, n->keys[i]);
	}
	return ret;
}

int fsck_names_leaf(void *ctx, const struct jrx_bnode *n,
		    const struct fsck_ptr *leaf)
{
	switch (leaf->btree_id) {
	case JRX_BTREE_INODES:	return names_keys(ctx, n, leaf, on_inode);
	case JRX_BTREE_DIRENTS:	return names_keys(ctx, n, leaf, on_dirent);
	case JRX_BTREE_EXTENTS:	return names_keys(ctx, n, leaf, on_extent);
	case JRX_BTREE_XATTRS:	return names_keys(ctx, n, leaf, on_xattr);
	default:		return 0;
	}
}

int fsck_names_begin(struct jrx_fsck *f, struct fsck_names **out)
{
	struct fsck_names *s = calloc(1, sizeof(*s));

	*out = s;
	if (!s)
		return jrx_fail(-ENOMEM, "allocating the fsck namespace check:"
				" %zu bytes", sizeof(*s));
	s->f = f;
	s->ref_batch = atomic_load(&fsck_inject_ref_batch);
	if (!s->ref_batch)
		s->ref_batch = REF_BATCH;
	return 0;
}

void fsck_names_free(struct fsck_names *s)
{
	if (!s)
		return;
	fsck_big_free(s->refs, s->ref_batch * 2 * sizeof(*s->refs));
	fsck_big_free(s->tmp, s->ref_batch * 2 * sizeof(*s->tmp));
	free(s->bad);
	fsck_big_free(s->hash, (s->mask + 1) * sizeof(*s->hash));
	fsck_big_free(s->v, s->cap * sizeof(*s->v));
	fsck_big_free(s->num, s->cap_num * sizeof(*s->num));
	free(s->offs);
	free(s);
}

/* The btrees of the namespace, in the order they must be read. */
const unsigned fsck_names_order[FSCK_NAMES_NR] = {
	JRX_BTREE_INODES, JRX_BTREE_DIRENTS, JRX_BTREE_EXTENTS, JRX_BTREE_XATTRS,
};

int fsck_pass_namespace(struct jrx_fsck *f)
{
	struct fsck_names *s = f->names;
	int ret = 0;

	f->names = NULL;	/* this pass's from now on */
	if (!s) {
		/* pass 3's walk did not collect it: the walks, their
		 * problems held back as pass 3's are */
		ret = fsck_names_begin(f, &s);
		f->defer = true;
		for (size_t i = 0; !ret && i < FSCK_NAMES_NR; i++) {
			struct fsck_walk w = {
				.btree_id = fsck_names_order[i], .leaves = true,
				.key = fsck_names_key, .ctx = s,
			};

			f->defer_btree = (uint8_t)fsck_names_order[i];
			ret = fsck_walk(f, &w);
		}
		f->defer = false;
	}
	if (!ret)
		ret = join_targets(s);
	/* what the walk found (in the order above) */
	fsck_report_later(f, JRX_PASS_NAMESPACE, fsck_names_order,
			  FSCK_NAMES_NR);
	if (!ret) {
		f->res->pass[JRX_PASS_NAMESPACE].checked += s->nr;
		check_links(s);
	}
	fsck_names_free(s);
	return ret;
}
