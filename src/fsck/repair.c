/*
 * repair.c - the repairs fsck applies (problems.h's fix kinds), each
 * crash-safe and idempotent:
 *
 *  - REWRITE_SB: every superblock copy rewritten from the array's newest
 *    valid one (jrx_array_write_sb: backup copies first, then primaries,
 *    each pass synced), so a crash leaves one good copy per device;
 *  - REBUILD_ALLOC: the alloc and accounting btrees rebuilt from what the
 *    other btrees reference, as pass 4 recomputes it: reserved and journal
 *    buckets full, a bucket holding nodes "btree" and one holding extents
 *    "user" with their sectors, everything else free; each bucket keeps
 *    its generation (its extents', else its old alloc key's).  The new
 *    nodes go to buckets that nothing references and that the old alloc
 *    and accounting nodes do not occupy, are synced, and only then does
 *    the superblock switch the two roots.  Killed before that write, the
 *    array is as it was and the next fsck repairs it again; after it, it
 *    is repaired.  Refused while pass 3 found damage or pass 4 anything
 *    but alloc problems: the references would not all be known;
 *  - TOPOLOGY (repair_topology.c): btrees with damaged or mislinked
 *    nodes rebuilt whole from their sound leaves (reachable, or found by
 *    scanning the data buckets), one superblock commit.  It runs alone:
 *    the alloc rebuild and the namespace repair need the btrees whole, so
 *    run.c checks again after it and they follow in the next round;
 *  - SPACE (repair_space.c): pass 4's misplaced and shared ranges;
 *    extents cut, moved or removed through the store's transactions, a
 *    btree with a misplaced node rebuilt by the topology repair.  It
 *    runs alone (after TOPOLOGY, before the others): alloc and
 *    accounting are rebuilt from what it leaves, next round.  Also run
 *    for PTR_BAD_DEVICE when the topology repair finds no damaged btree
 *    (pass 4 reports it for an extent on no member);
 *  - JOURNAL (run.c, recover_past_gap): an unclean array the recovery
 *    refuses for missing journal seqs recovered again past them; it runs
 *    before any check of the btrees can (they need the recovery);
 *  - NAMESPACE (repair_namespace.c): pass 6's problems, through the
 *    store's own transaction path, after the two above (its allocator is
 *    loaded from the alloc btree, which must be right by then).  Refused
 *    on the same grounds as the rebuild: a key hidden by damage would be
 *    taken for missing (an inode for unreachable, a directory for gone).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fsck_int.h"
#include "../btree/buckets.h"
#include "../btree/bulk.h"
#include "../btree/fs.h"
#include "../format/bkey.h"
#include "../util/diag.h"

struct rebuild {
	struct jrx_fsck		*f;
	struct jrx_buckets	 bt;
	uint64_t		 held;	/* buckets of old alloc/accounting nodes */
};

static bool in_data(const struct jrx_member *m, uint64_t b)
{
	return b >= m->first_bucket && b < m->nbuckets &&
		!(b >= m->journal_bucket && b < m->journal_bucket + m->journal_nr);
}

/* Old alloc keys: the generation of each bucket. */
static int on_alloc_key(void *ctx, const struct fsck_ptr *leaf,
			const struct jrx_bkey *k)
{
	struct rebuild *s = ctx;
	const struct jrx_alloc_val *v = jrx_bkey_val(k);

	(void)leaf;
	if (k->type == JRX_KEY_ALLOC && k->p.inode < s->bt.nr_devs &&
	    k->p.offset < s->bt.nbuckets[k->p.inode])
		jrx_bucket(&s->bt, (uint32_t)k->p.inode, k->p.offset)->gen = v->gen;
	return 0;
}

/* Nodes of the other btrees: btree sectors in their bucket. */
static int on_ptr(void *ctx, const struct fsck_ptr *p)
{
	struct rebuild *s = ctx;
	uint32_t sectors = s->f->node_size / JRX_SECTOR_SIZE;
	uint64_t b = p->sector / s->f->bucket_sectors;

	if (p->dev >= s->bt.nr_devs || !in_data(&s->f->a->sb.members[p->dev], b))
		return 0;	/* reported; the guard refused such arrays */
	return jrx_bucket_add_sectors(&s->bt, p->dev, b, JRX_DATA_BTREE,
				      sectors, 0);
}

/* Nodes of the old alloc and accounting btrees: their buckets are not
 * counted (they are free once the new trees are committed) but held back
 * from the new trees' allocation until then. */
static int on_old_ptr(void *ctx, const struct fsck_ptr *p)
{
	struct rebuild *s = ctx;
	uint64_t b = p->sector / s->f->bucket_sectors;

	if (p->dev < s->bt.nr_devs && b < s->bt.nbuckets[p->dev]) {
		jrx_bucket(&s->bt, p->dev, b)->reusable_after = JRX_BUCKET_HELD;
		s->held++;
	}
	return 0;
}

/* Extents: user sectors, and the generation their pointers carry. */
static int on_extent(void *ctx, const struct fsck_ptr *leaf,
		     const struct jrx_bkey *k)
{
	struct rebuild *s = ctx;
	const struct jrx_extent_val *e = jrx_bkey_val(k);
	uint64_t b;

	(void)leaf;
	if (k->type != JRX_KEY_EXTENT || e->dev >= s->bt.nr_devs)
		return 0;
	b = e->sector / s->f->bucket_sectors;
	if (!in_data(&s->f->a->sb.members[e->dev], b))
		return 0;
	jrx_bucket(&s->bt, e->dev, b)->gen = e->gen;
	return jrx_bucket_add_sectors(&s->bt, e->dev, b, JRX_DATA_USER, k->size, 0);
}

/* The references must all be known: no damage, no space problem but the
 * alloc keys' own (unless space: the space repair's own).  false, said on
 * out (what: what is not done), if not. */
static bool refs_known(const struct jrx_fsck_result *first, FILE *out,
		       const char *what, bool space)
{
	const struct jrx_pr_counts *c = &first->counts;
	uint64_t other = space ? 0 : c->pass[JRX_PASS_BUCKETS] -
		c->code[JRX_PR_ALLOC_MISMATCH] - c->code[JRX_PR_ALLOC_KEY_OUTSIDE];

	if (first->bad_nodes || c->pass[JRX_PASS_NODES] ||
	    c->code[JRX_PR_CHECK_INCOMPLETE] || other) {
		if (out)
			fprintf(out, "not repaired: %s while the btrees'"
				" references are not all known (%" PRIu64
				" damaged nodes, %" PRIu64
				" node problems, %" PRIu64 " other space"
				" problems)\n", what, first->bad_nodes,
				c->pass[JRX_PASS_NODES], other);
		return false;
	}
	return true;
}

int fsck_own_check(struct jrx_array *a, const struct jrx_fsck_opts *o,
		   enum jrx_fsck_pass pass,
		   void (*hook)(void *ctx, enum jrx_pr_code code,
				const struct jrx_pr_ctx *c), void *hook_ctx,
		   int (*run)(struct jrx_fsck *f, void *ctx), void *ctx)
{
	struct jrx_fsck_opts qo = *o;
	struct jrx_fsck *f = calloc(1, sizeof(*f));
	int ret;

	if (!f)
		return jrx_fail(-ENOMEM, "allocating a repair's check");
	qo.progress = NULL;	/* a repair's walks are not a pass */
	qo.out = NULL;
	f->a = a;
	f->o = &qo;
	f->res = calloc(1, sizeof(*f->res));
	f->out = (struct jrx_pr_out){
		.a = a, .pass = pass,
		.counts = f->res ? &f->res->counts : NULL,
		.hook = hook, .hook_ctx = hook_ctx,
	};
	ret = f->res ? fsck_setup(f) : jrx_fail(-ENOMEM, "allocating a"
						 " repair's check");
	if (!ret)
		ret = run(f, ctx);
	free(f->res);
	fsck_free(f);
	return ret;
}

int fsck_in_store(struct jrx_array *a, int (*fn)(struct jrx_fs *fs, void *ctx),
		  void *ctx)
{
	struct jrx_fs *fs = calloc(1, sizeof(*fs));
	int ret;

	if (!fs)
		return jrx_fail(-ENOMEM, "allocating the store for a repair");
	ret = jrx_fs_open(fs, a, 0);
	if (ret) {
		free(fs);
		return ret;
	}
	ret = fn(fs, ctx);
	if (ret)
		jrx_fs_abandon(fs);	/* the journal has what was committed */
	else
		ret = jrx_fs_shutdown(fs);
	free(fs);
	return ret;
}

/* 1 when done (the superblock was written), 0 when refused, or an error. */
static int rebuild_alloc(struct jrx_fsck *f, const struct jrx_fsck_result *first,
			 FILE *out)
{
	struct jrx_array *a = f->a;
	struct rebuild s = { .f = f };
	struct jrx_btree_root acct, alloc;
	int ret;

	if (!refs_known(first, out, "alloc and accounting are not rebuilt",
			false))
		return 0;
	ret = jrx_buckets_init(&s.bt, &a->sb, NULL);
	if (ret)
		return ret;
	for (unsigned d = 0; !ret && d < a->nr_devs; d++) {
		const struct jrx_member *m = &a->sb.members[d];

		for (uint64_t b = 0; !ret && b < m->first_bucket; b++)
			ret = jrx_bucket_add_sectors(&s.bt, d, b, JRX_DATA_SB,
						     s.bt.bucket_sectors, 0);
		for (uint64_t b = 0; !ret && b < m->journal_nr; b++)
			ret = jrx_bucket_add_sectors(&s.bt, d, m->journal_bucket + b,
						     JRX_DATA_JOURNAL,
						     s.bt.bucket_sectors, 0);
	}
	/* generations first (old alloc keys), then what references buckets */
	for (unsigned id = 0; !ret && id < JRX_BTREE_NR; id++) {
		bool old = id == JRX_BTREE_ALLOC || id == JRX_BTREE_ACCOUNTING;
		struct fsck_walk w = {
			.btree_id = id,
			.leaves = id == JRX_BTREE_EXTENTS || id == JRX_BTREE_ALLOC,
			.ptr = old ? on_old_ptr : on_ptr,
			.key = id == JRX_BTREE_EXTENTS ? on_extent :
				id == JRX_BTREE_ALLOC ? on_alloc_key : NULL,
			.ctx = &s,
		};

		ret = fsck_walk(f, &w);
	}
	if (!ret)
		ret = jrx_bulk_alloc_trees(a, &s.bt,
					   (int64_t)first->keys[JRX_BTREE_INODES],
					   0, &acct, &alloc);
	if (!ret)
		ret = jrx_array_sync(a);	/* nodes before the roots */
	if (!ret) {
		a->sb.roots[JRX_BTREE_ACCOUNTING] = acct;
		a->sb.roots[JRX_BTREE_ALLOC] = alloc;
		ret = jrx_array_write_sb(a);
	}
	if (!ret && out)
		fprintf(out, "repaired: alloc and accounting btrees rebuilt from"
			" the other btrees (%" PRIu64 " buckets of the old trees"
			" freed)\n", s.held);
	jrx_buckets_exit(&s.bt);
	return ret ? ret : 1;
}

int fsck_repair(struct jrx_array *a, const struct jrx_fsck_opts *o,
		unsigned fixes, const struct jrx_fsck_result *first,
		unsigned *done)
{
	struct jrx_fsck *f = calloc(1, sizeof(*f));
	FILE *out = o->json ? NULL : o->out;
	int ret;

	if (!f)
		return jrx_fail(-ENOMEM, "allocating the repair state");
	f->a = a;
	f->o = o;
	f->res = calloc(1, sizeof(*f->res));	/* the walks' own counts */
	f->out = (struct jrx_pr_out){ .a = a, .counts = f->res ?
				      &f->res->counts : NULL };
	ret = f->res ? fsck_setup(f) : jrx_fail(-ENOMEM, "allocating the"
						 " repair state");
	/* the rebuild's commit also rewrites every superblock copy */
	*done = 0;
	if (!ret && (fixes & (1u << JRX_FIX_TOPOLOGY))) {
		/* alone: the other repairs need whole btrees (next round) */
		ret = fsck_repair_topology(f, 0, out);
		if (ret == 1) {
			*done = fixes & ((1u << JRX_FIX_TOPOLOGY) |
					 (1u << JRX_FIX_REWRITE_SB));
			free(f->res);
			fsck_free(f);
			return 0;
		}
		/* no damaged btree: a pass-4 PTR_BAD_DEVICE, of an extent,
		 * which is the space repair's */
		if (!ret && first->counts.code[JRX_PR_PTR_BAD_DEVICE])
			fixes |= 1u << JRX_FIX_SPACE;
	}
	if (!ret && (fixes & (1u << JRX_FIX_SPACE)) &&
	    refs_known(first, out, "the space problems are not repaired", true)) {
		/* alone: it leaves alloc and accounting to rebuild (next
		 * round, from the references it left) */
		ret = fsck_repair_space(a, o, out);
		if (ret == 1) {
			*done = 1u << JRX_FIX_SPACE;
			free(f->res);
			fsck_free(f);
			return 0;
		}
		/* nothing applied: the others as without it (and refused
		 * while space problems are left, said) */
	}
	if (!ret && (fixes & (1u << JRX_FIX_REBUILD_ALLOC)))
		ret = rebuild_alloc(f, first, out);
	if (ret == 1) {
		ret = 0;
		*done = fixes & ((1u << JRX_FIX_REBUILD_ALLOC) |
				 (1u << JRX_FIX_REWRITE_SB));
	} else if (!ret && (fixes & (1u << JRX_FIX_REWRITE_SB))) {
		ret = jrx_array_write_sb(a);
		if (!ret)
			*done = 1u << JRX_FIX_REWRITE_SB;
		if (!ret && out)
			fprintf(out, "repaired: every superblock copy rewritten"
				" (seq %" PRIu64 ")\n", a->sb.seq);
	}
	free(f->res);
	fsck_free(f);
	if (!ret && (fixes & (1u << JRX_FIX_NAMESPACE)) &&
	    refs_known(first, out, "the namespace is not repaired", false)) {
		ret = fsck_repair_namespace(a, o, out);
		if (ret == 1)
			*done |= 1u << JRX_FIX_NAMESPACE;
		ret = ret == 1 ? 0 : ret;
	}
	return ret;
}
