/*
 * repair_space.c - JRX_FIX_SPACE: the repairs of what pass 4 finds about
 * where nodes and extents lie (problems.h), in rounds of check -> fix:
 *
 *  - the check is pass 4 itself (pass_buckets.c), run from the
 *    superblock's roots with a hook that keeps every instance and the
 *    ranges it names (jrx_pr_ctx.fix: struct fsck_space_fix);
 *  - a btree with a node outside data, crossing its bucket or sharing
 *    sectors with another node is rebuilt whole into free buckets by the
 *    topology repair (fsck_repair_topology with force): nodes have no
 *    other place to go, and that repair already commits a btree anew
 *    in one superblock write.  It runs alone: the round ends there;
 *  - extents go through the store's own transaction path (btree/fs.h),
 *    each fix one transaction, as the namespace repair does:
 *      PTR_OUTSIDE_DATA, PTR_BAD_DEVICE   the extent removed
 *      PTR_CROSSES_BUCKET   cut to its front (up to its bucket's end)
 *      BUCKET_USED_TWICE    node and extent: the node wins (metadata;
 *                           its checksum says its bytes are there), the
 *                           extent's shared sectors are cut; extent and
 *                           extent: the one found second is moved (its
 *                           data copied to free sectors, e2fsck pass1b's
 *                           clone), cut when no free space is left
 *      BUCKET_MIXED_DATA    every extent with sectors in the bucket moved
 *                           out (after the cuts above)
 *    A cut keeps the rest of the extent: the part after the cut where
 *    the extent was (its key position), the part before it as a new key.
 *
 * What it does not do: keep alloc and accounting right.  The alloc keys
 * of a damaged array are wrong anyway; the buckets that the btrees
 * reference but the alloc btree calls free are held from the allocator
 * (JRX_BUCKET_HELD), so neither a copy nor a node the store writes back
 * lands on live sectors, and run.c's next round rebuilds alloc and
 * accounting from the references this repair left.
 *
 * Crash safety: a moved extent's data is written and synced before the
 * transaction that points the extent at it; killed before that commit,
 * the copy is in free space and the extent unchanged.  Every transaction
 * is journaled (final keys) and the array is unclean from the first
 * write to the clean shutdown: the next fsck recovers it, its check finds
 * what is left, and this repair finishes it.  A second fsck finds nothing
 * and writes nothing.
 *
 * Memory: the instances (about 100 bytes each), a bit per bucket and,
 * when data moves, a 1 MiB copy buffer.  Owner: the thread running
 * fsck.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fsck_int.h"
#include "jrx/errors.h"
#include "../btree/fs.h"
#include "../format/bkey.h"
#include "../util/cmp.h"
#include "../util/diag.h"
#include "../util/vec.h"

#define SP_ROUNDS	4		/* a repair that needs more says so */
#define SP_COPY_BYTES	(1u << 20)	/* the move's copy buffer */

/* One instance pass 4 reported. */
struct sp_item {
	enum jrx_pr_code	code;
	struct fsck_space_fix	fix;
};

/* What the repair did, for its line. */
struct sp_stats {
	uint64_t removed, cut, cut_sectors, moved, moved_sectors;
	uint64_t unmoved;		/* left in a mixed bucket: no room */
	uint64_t cut_not_moved;		/* shared, cut: no room to move */
};

struct sp_round {
	enum jrx_repair_mode mode;
	struct sp_item	*v;
	size_t		 nr, cap;
	bool		 nomem;
	bool		 moves;		/* some fix copies data */
	unsigned	 force;		/* btrees with a misplaced node */
	uint64_t	*mixed;		/* dev << 32 | bucket, sorted */
	size_t		 nr_mixed, cap_mixed;
	/* a bit per bucket the btrees reference (held from the allocator) */
	uint64_t	*refd[JRX_MAX_DEVICES];
	struct jrx_array *a;
	uint32_t	 bucket_sectors;
	struct jrx_fs	*fs;
	void		*buf;		/* SP_COPY_BYTES, aligned */
	struct sp_stats	*st;
	uint64_t	 changes;	/* transactions committed */
	/* the extents of mixed buckets found by the walk */
	struct fsck_space_ref *out;
	size_t		 nr_out, cap_out;
};

/* ------------------------------------------------------------ the check */

static void collect(void *ctx, enum jrx_pr_code code,
		    const struct jrx_pr_ctx *c)
{
	const struct jrx_problem_desc *d = &jrx_problem_table[code];
	const struct fsck_space_fix *fix = c->fix;
	struct sp_round *r = ctx;

	if (r->mode == JRX_REPAIR_PREEN && !(d->flags & JRX_PRF_PREEN_OK))
		return;
	if (code == JRX_PR_BUCKET_MIXED_DATA) {
		if (c->dev < 0 || c->bucket == JRX_PR_NONE)
			return;
		if (JRX_VEC_RESERVE(r->mixed, r->nr_mixed, r->cap_mixed, 1,
				    "space repair's mixed buckets")) {
			r->nomem = true;
			return;
		}
		r->mixed[r->nr_mixed++] = (uint64_t)c->dev << 32 | c->bucket;
		r->moves = true;
		return;
	}
	/* pass 4's PTR_BAD_DEVICE is an extent's (pass 3 has the nodes') */
	if (!fix || (d->fix != JRX_FIX_SPACE && code != JRX_PR_PTR_BAD_DEVICE))
		return;
	for (unsigned i = 0; i < fix->nr; i++)
		if (!fix->r[i].extent && (fix->nr == 1 || !fix->r[!i].extent))
			r->force |= 1u << fix->r[i].btree;
	if (fix->nr == 2 && fix->r[0].extent && fix->r[1].extent)
		r->moves = true;
	if (JRX_VEC_RESERVE(r->v, r->nr, r->cap, 1, "space repair list")) {
		r->nomem = true;
		return;
	}
	r->v[r->nr++] = (struct sp_item){ .code = code, .fix = *fix };
}

/* A bit per bucket of each device, for pass 4 to set (f->refd). */
static int alloc_refd(struct sp_round *r)
{
	for (unsigned d = 0; d < r->a->nr_devs; d++) {
		uint64_t nb = r->a->sb.members[d].nbuckets;

		r->refd[d] = calloc((nb + 63) / 64 ? (nb + 63) / 64 : 1, 8);
		if (!r->refd[d])
			return jrx_fail(-ENOMEM, "allocating the space repair's"
					" bucket map of %s: %" PRIu64 " buckets",
					r->a->devs[d].path, nb);
	}
	return 0;
}

/* Pass 4, its instances into r and, as it walks, every bucket the
 * btrees reference (held from the store's allocator, which the alloc
 * keys may call free: it places moved data and, at write-back, nodes). */
static int sp_run(struct jrx_fsck *f, void *ctx)
{
	struct sp_round *r = ctx;
	int ret = alloc_refd(r);

	f->refd = r->refd;
	if (!ret)
		ret = fsck_pass_buckets(f);
	if (!ret && r->nomem)
		ret = -ENOMEM;	/* jrx_diag() says what */
	if (!ret && r->nr_mixed > 1)
		qsort(r->mixed, r->nr_mixed, sizeof(*r->mixed), jrx_cmp_u64);
	return ret;
}

/* Pass 4 from the superblock's roots, its instances into r. */
static int sp_check(struct jrx_array *a, const struct jrx_fsck_opts *o,
		    struct sp_round *r)
{
	return fsck_own_check(a, o, JRX_PASS_BUCKETS, collect, r, sp_run, r);
}

/* ------------------------------------------------------------ the fixes */

/* The extent ref names, as it is now, into buf: false when it is gone
 * or no longer on ref's device (an earlier fix moved it). */
static int get_extent(struct sp_round *r, const struct fsck_space_ref *ref,
		      uint64_t *buf, bool *found)
{
	const struct jrx_bkey *k;
	int ret = jrx_btree_lookup(r->fs, JRX_BTREE_EXTENTS, ref->pos, &k);

	*found = !ret && k && k->type == JRX_KEY_EXTENT &&
		jrx_bkey_val_bytes(k) >= sizeof(struct jrx_extent_val) &&
		((const struct jrx_extent_val *)jrx_bkey_val(k))->dev == ref->dev;
	if (*found)
		memcpy(buf, k, jrx_bkey_bytes(k));
	return ret;
}

static int commit(struct sp_round *r)
{
	r->changes++;
	return jrx_fs_commit(r->fs);
}

/*
 * The device sectors [lo, hi) cut from the extent ref names (clipped to
 * it): what follows the cut stays at the key's position, what comes
 * before it becomes a key of its own; nothing left, the key is removed.
 * One transaction.  *done: something was cut.
 */
static int cut(struct sp_round *r, const struct fsck_space_ref *ref,
	       uint64_t lo, uint64_t hi, bool *done)
{
	uint64_t buf[JRX_KEY_MAX_U64S], front[JRX_KEY_MAX_U64S];
	struct jrx_bkey *k = (struct jrx_bkey *)buf;
	struct jrx_extent_val *e;
	uint64_t es, ee, fstart;
	bool found;
	int ret = get_extent(r, ref, buf, &found);

	*done = false;
	if (ret || !found)
		return ret;
	e = jrx_bkey_val(k);
	es = e->sector;
	ee = es + k->size;
	if (ee < es)		/* wrapped (from disk): the whole key goes */
		ee = UINT64_MAX;
	lo = lo < es ? es : lo;
	hi = hi > ee ? ee : hi;
	if (lo >= hi)
		return 0;	/* nothing of it there any more */
	fstart = k->p.offset - k->size;
	memcpy(front, buf, jrx_bkey_bytes(k));
	if (hi < ee) {
		e->sector = hi;
		k->size = (uint32_t)(ee - hi);
		ret = jrx_fs_update(r->fs, JRX_BTREE_EXTENTS, k);
	} else {
		struct jrx_bkey w;

		jrx_bkey_init(&w, JRX_KEY_WHITEOUT, ref->pos, 0);
		ret = jrx_fs_update(r->fs, JRX_BTREE_EXTENTS, &w);
	}
	if (!ret && lo > es) {
		struct jrx_bkey *fk = (struct jrx_bkey *)front;

		fk->size = (uint32_t)(lo - es);
		fk->p.offset = fstart + fk->size;
		ret = jrx_fs_update(r->fs, JRX_BTREE_EXTENTS, fk);
	}
	if (ret)
		return ret;
	if (lo == es && hi == ee)
		r->st->removed++;
	else
		r->st->cut++;
	r->st->cut_sectors += hi - lo;
	*done = true;
	return commit(r);
}

/* A piece of free sectors a move copies into. */
struct piece {
	uint32_t dev, got, gen;
	uint64_t sector;
};

/* The data of [from, from + n) of dev copied to piece p, through buf. */
static int copy_data(struct sp_round *r, uint32_t dev, uint64_t from,
		     const struct piece *p)
{
	uint64_t done = 0, bytes = (uint64_t)p->got * JRX_SECTOR_SIZE;
	int ret = 0;

	while (!ret && done < bytes) {
		size_t n = bytes - done < SP_COPY_BYTES ?
			(size_t)(bytes - done) : SP_COPY_BYTES;

		ret = jrx_dev_pread(&r->a->devs[dev], r->buf, n,
				    from * JRX_SECTOR_SIZE + done);
		if (!ret)
			ret = jrx_dev_pwrite(&r->a->devs[p->dev], r->buf, n,
					     p->sector * JRX_SECTOR_SIZE + done);
		done += n;
	}
	return ret;
}

/*
 * The extent ref names, exactly as reported, moved: free sectors
 * allocated (as many pieces as the allocator hands out), the data copied
 * and synced, then one transaction points the extent at the copy, a key
 * per piece (the last at the extent's position).  *moved; with no room,
 * -JRX_ERR_NO_SPACE and nothing changed (the sectors taken are given
 * back).
 */
static int move(struct sp_round *r, const struct fsck_space_ref *ref,
		bool *moved)
{
	uint64_t buf[JRX_KEY_MAX_U64S];
	struct jrx_bkey *k = (struct jrx_bkey *)buf;
	const struct jrx_extent_val *e;
	struct piece *p = NULL;
	size_t np = 0, cap = 0;
	uint64_t off = 0, fstart;
	bool found;
	int ret = get_extent(r, ref, buf, &found);

	*moved = false;
	if (ret || !found)
		return ret;
	e = jrx_bkey_val(k);
	if (e->sector != ref->sector || k->size != ref->len)
		return 0;	/* changed since the check: next round */
	while (!ret && off < k->size) {
		struct piece q;

		ret = JRX_VEC_RESERVE(p, np, cap, 1, "space repair's pieces");
		if (!ret)
			ret = jrx_fs_alloc_data(r->fs, (uint32_t)(k->size - off),
						&q.dev, &q.sector, &q.got, &q.gen);
		if (!ret) {
			p[np++] = q;
			off += q.got;
		}
	}
	off = 0;
	for (size_t i = 0; !ret && i < np; off += p[i].got, i++)
		ret = copy_data(r, e->dev, e->sector + off, &p[i]);
	if (!ret)
		ret = jrx_array_sync(r->a);	/* data before the keys */
	if (ret) {
		/* nothing points at the pieces: give them back */
		for (size_t i = 0; i < np; i++)
			jrx_fs_free_data(r->fs, p[i].dev, p[i].sector, p[i].got);
		free(p);
		return ret;
	}
	fstart = k->p.offset - k->size;
	off = 0;
	for (size_t i = 0; !ret && i < np; i++) {
		uint64_t nbuf[JRX_KEY_MAX_U64S];
		struct jrx_bkey *nk = (struct jrx_bkey *)nbuf;
		struct jrx_extent_val *ne;

		memcpy(nbuf, buf, jrx_bkey_bytes(k));
		ne = jrx_bkey_val(nk);
		off += p[i].got;
		nk->p.offset = fstart + off;
		nk->size = p[i].got;
		ne->dev = p[i].dev;
		ne->sector = p[i].sector;
		ne->gen = p[i].gen;
		ret = jrx_fs_update(r->fs, JRX_BTREE_EXTENTS, nk);
	}
	free(p);
	if (ret)
		return ret;
	r->st->moved++;
	r->st->moved_sectors += k->size;
	*moved = true;
	return commit(r);
}

/* The first sector of the bucket after the one sector lies in. */
static uint64_t bucket_end(const struct sp_round *r, uint64_t sector)
{
	return (sector / r->bucket_sectors + 1) * r->bucket_sectors;
}

/* One instance's fix (extents only: nodes went to the topology rebuild). */
static int fix_one(struct sp_round *r, const struct sp_item *it)
{
	const struct fsck_space_fix *x = &it->fix;
	const struct fsck_space_ref *e0 = &x->r[0];
	bool done;
	int ret;

	switch (it->code) {
	case JRX_PR_PTR_OUTSIDE_DATA:
	case JRX_PR_PTR_BAD_DEVICE:
		if (!e0->extent)
			return 0;
		return cut(r, e0, 0, UINT64_MAX, &done);
	case JRX_PR_PTR_CROSSES_BUCKET:
		if (!e0->extent)
			return 0;
		return cut(r, e0, bucket_end(r, e0->sector), UINT64_MAX, &done);
	case JRX_PR_BUCKET_USED_TWICE:
		if (x->nr != 2)
			return 0;
		if (e0->extent && x->r[1].extent) {
			ret = move(r, e0, &done);
			if (ret != -JRX_ERR_NO_SPACE)
				return ret;
			jrx_diag_clear();
			r->st->cut_not_moved++;
		} else if (!e0->extent) {
			e0 = &x->r[1];	/* the node wins */
			if (!e0->extent)
				return 0;
		}
		return cut(r, e0, x->start, x->start + x->len, &done);
	default:
		return 0;
	}
}

/* Whether an extent at [sector, sector + len) of dev touches a mixed bucket. */
static bool in_mixed(const struct sp_round *r, uint32_t dev, uint64_t sector,
		     uint64_t len)
{
	uint64_t b0 = sector / r->bucket_sectors;
	uint64_t b1 = (sector + (len ? len - 1 : 0)) / r->bucket_sectors;

	for (uint64_t b = b0; b >= b0 && b <= b1; b++) {
		uint64_t key = (uint64_t)dev << 32 | b;

		if (bsearch(&key, r->mixed, r->nr_mixed, sizeof(key), jrx_cmp_u64))
			return true;
	}
	return false;
}

static int note_mixed(void *ctx, unsigned btree_id, const struct jrx_bkey *k)
{
	struct sp_round *r = ctx;
	const struct jrx_extent_val *e = jrx_bkey_val(k);

	(void)btree_id;
	if (k->type != JRX_KEY_EXTENT || !in_mixed(r, e->dev, e->sector, k->size))
		return 0;
	if (JRX_VEC_RESERVE(r->out, r->nr_out, r->cap_out, 1,
			    "extents of mixed buckets"))
		return -ENOMEM;
	r->out[r->nr_out++] = (struct fsck_space_ref){
		.extent = true, .btree = JRX_BTREE_EXTENTS, .dev = e->dev,
		.sector = e->sector, .len = k->size, .pos = k->p,
	};
	return 0;
}

/* BUCKET_MIXED_DATA: the extents left in buckets of nodes moved out. */
static int fix_mixed(struct sp_round *r)
{
	int ret;

	if (!r->nr_mixed)
		return 0;
	ret = jrx_btree_walk(r->fs, JRX_BTREE_EXTENTS, note_mixed, r);
	for (size_t i = 0; !ret && i < r->nr_out; i++) {
		bool moved;

		ret = move(r, &r->out[i], &moved);
		if (ret == -JRX_ERR_NO_SPACE) {
			jrx_diag_clear();
			r->st->unmoved += r->nr_out - i;
			return 0;	/* stays found: said, exit 4 */
		}
	}
	return ret;
}

/* Buckets referenced but free by the alloc keys: never handed out. */
static void hold_referenced(struct sp_round *r)
{
	struct jrx_buckets *bt = &r->fs->bt;

	for (unsigned d = 0; d < bt->nr_devs; d++)
		for (uint64_t b = 0; r->refd[d] && b < bt->nbuckets[d]; b++) {
			struct jrx_bucket *k = jrx_bucket(bt, d, b);

			if ((r->refd[d][b / 64] >> (b % 64) & 1) &&
			    k->data_type == JRX_DATA_FREE)
				k->reusable_after = JRX_BUCKET_HELD;
		}
}

static int sp_fixes(struct jrx_fs *fs, void *ctx)
{
	struct sp_round *r = ctx;
	int ret = 0;

	r->fs = fs;
	hold_referenced(r);
	for (size_t i = 0; !ret && i < r->nr; i++)
		ret = fix_one(r, &r->v[i]);
	if (!ret)
		ret = fix_mixed(r);
	r->fs = NULL;
	return ret;
}

/* One round's fixes, through the store's transaction path. */
static int sp_apply(struct jrx_array *a, struct sp_round *r)
{
	if (r->moves && !(r->buf = jrx_alloc_aligned(SP_COPY_BYTES)))
		return jrx_fail(-ENOMEM, "allocating the space repair's copy"
				" buffer: %u bytes", SP_COPY_BYTES);
	return fsck_in_store(a, sp_fixes, r);
}

static void sp_round_reset(struct sp_round *r)
{
	free(r->v);
	free(r->mixed);
	free(r->out);
	free(r->buf);
	for (unsigned d = 0; d < JRX_MAX_DEVICES; d++)
		free(r->refd[d]);
	*r = (struct sp_round){ .mode = r->mode, .st = r->st, .a = r->a,
				.bucket_sectors = r->bucket_sectors };
}

static void say(FILE *out, const char *what, uint64_t n, uint64_t sectors,
		bool *first)
{
	if (!n)
		return;
	fprintf(out, "%s%" PRIu64 " %s", *first ? "" : ", ", n, what);
	if (sectors != UINT64_MAX)
		fprintf(out, " (%" PRIu64 " sectors)", sectors);
	*first = false;
}

static void summary(FILE *out, const struct sp_stats *st)
{
	bool first = true;

	fprintf(out, "repaired: space: ");
	say(out, "extents removed", st->removed, UINT64_MAX, &first);
	say(out, "extents cut", st->cut, UINT64_MAX, &first);
	if (st->cut_sectors)
		fprintf(out, " (%" PRIu64 " sectors of data lost)",
			st->cut_sectors);
	say(out, "extents moved to free sectors", st->moved, st->moved_sectors,
	    &first);
	if (first)
		fprintf(out, "nothing to change");
	fputc('\n', out);
}

struct rebuild_ctx {
	unsigned force;
	FILE	*out;
};

static int rebuild_run(struct jrx_fsck *f, void *ctx)
{
	struct rebuild_ctx *c = ctx;

	for (unsigned id = 0; c->out && id < JRX_BTREE_NR; id++)
		if (c->force & (1u << id))
			fprintf(c->out, "repaired: space: btree %s has nodes"
				" outside data buckets or on shared sectors:"
				" rebuilt into free buckets\n",
				jrx_btree_name(id));
	return fsck_repair_topology(f, c->force, c->out);
}

/* The btrees of force rebuilt whole (their nodes to free buckets). */
static int rebuild_btrees(struct jrx_array *a, const struct jrx_fsck_opts *o,
			  unsigned force, FILE *out)
{
	struct rebuild_ctx c = { force, out };

	return fsck_own_check(a, o, JRX_PASS_NODES, NULL, NULL, rebuild_run, &c);
}

int fsck_repair_space(struct jrx_array *a, const struct jrx_fsck_opts *o,
		      FILE *out)
{
	struct sp_stats st = { 0 };
	struct sp_round r = {
		.mode = o->repair, .st = &st, .a = a,
		.bucket_sectors = a->sb.bucket_size / JRX_SECTOR_SIZE,
	};
	uint64_t changes = 0;
	int ret = 0, round;

	for (round = 0; !ret && round < SP_ROUNDS; round++) {
		ret = sp_check(a, o, &r);
		if (ret || (!r.nr && !r.nr_mixed))
			break;
		if (r.force) {
			/* alone: the extents' fixes follow in run.c's next
			 * round, after the alloc keys are rebuilt */
			ret = rebuild_btrees(a, o, r.force, out);
			sp_round_reset(&r);
			if (ret == 1)
				changes++;
			ret = ret == 1 ? 0 : ret;
			break;
		}
		ret = sp_apply(a, &r);
		changes += r.changes;
		if (!ret && !r.changes)
			break;	/* found, but nothing applies: the re-check says */
		sp_round_reset(&r);
	}
	sp_round_reset(&r);
	if (!ret && round == SP_ROUNDS && out)
		fprintf(out, "space repair: still finding problems after %d"
			" rounds; run fsck again\n", SP_ROUNDS);
	if (!ret && out && st.unmoved)
		fprintf(out, "not repaired: space: %" PRIu64 " extents could not"
			" be moved out of buckets of nodes: no free space\n",
			st.unmoved);
	if (!ret && out && st.cut_not_moved)
		fprintf(out, "lost: space: %" PRIu64 " extents sharing sectors were cut,"
			" not moved: no free space\n", st.cut_not_moved);
	if (!ret && out && (st.removed || st.cut || st.moved))
		summary(out, &st);
	return ret ? ret : changes ? 1 : 0;
}
