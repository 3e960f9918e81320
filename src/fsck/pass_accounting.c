/*
 * pass_accounting.c - pass 5: the accounting btree's totals (FORMAT.md
 * 6.4.6) against what pass 4 recomputed from the btrees: for every
 * device and data type sb/journal/btree/user, DEV_DATA (dev << 8 | type)
 * holds the number of buckets of that type and their dirty sectors; INODES
 * holds the number of inode keys (counted in pass 3).  A missing key
 * counts as zeros; a key naming no counter is a warning.  On a clean
 * array no key may carry a version past the superblock's journal_seq: a
 * later replay would skip deltas at or below it (FORMAT.md 6.6).
 */
#include <inttypes.h>
#include <string.h>
#include "fsck_int.h"
#include "../btree/accounting.h"

struct ac {
	struct jrx_fsck *f;
	bool seen[JRX_MAX_DEVICES][JRX_DATA_TYPE_NR];
	bool seen_inodes;
};

static void mismatch(struct jrx_fsck *f, struct jrx_bpos p, const char *what,
		     int64_t e0, int64_t e1, const int64_t *found)
{
	struct jrx_pr_ctx c;

	jrx_pr_ctx_init(&c);
	c.btree = JRX_BTREE_ACCOUNTING;
	c.has_pos = true;
	c.pos = p;
	c.why = what;
	jrx_pr_expected(&c, "(%" PRId64 ", %" PRId64 ")", e0, e1);
	if (found)
		jrx_pr_found(&c, "(%" PRId64 ", %" PRId64 ")", found[0], found[1]);
	else
		jrx_pr_found(&c, "no key");
	fsck_report(f, JRX_PR_ACCOUNTING_MISMATCH, &c);
}

static int on_key(void *ctx, const struct fsck_ptr *leaf,
		  const struct jrx_bkey *k)
{
	const struct jrx_accounting_val *v = jrx_bkey_val(k);
	struct ac *s = ctx;
	struct jrx_fsck *f = s->f;
	struct jrx_pr_ctx c;
	char what[96];

	(void)leaf;
	f->res->pass[JRX_PASS_ACCOUNTING].checked++;
	jrx_pr_ctx_init(&c);
	c.btree = JRX_BTREE_ACCOUNTING;
	c.has_pos = true;
	c.pos = k->p;
	if ((f->a->sb.flags & JRX_SB_CLEAN) && !f->view &&
	    k->version > f->a->sb.journal_seq) {
		jrx_pr_expected(&c, "journal_seq %" PRIu64, f->a->sb.journal_seq);
		jrx_pr_found(&c, "%" PRIu64, k->version);
		fsck_report(f, JRX_PR_ACCOUNTING_VERSION, &c);
	}
	if (k->p.inode == JRX_ACCT_DEV_DATA && !k->p.snapshot) {
		uint64_t dev = k->p.offset >> 8;
		unsigned type = (unsigned)(k->p.offset & 0xff);

		if (dev < f->a->nr_devs && type > JRX_DATA_FREE &&
		    type < JRX_DATA_TYPE_NR) {
			const struct fsck_acct_exp *e = &f->acct[dev][type];

			s->seen[dev][type] = true;
			if (v->d[0] != e->buckets || v->d[1] != e->sectors) {
				snprintf(what, sizeof(what), "dev %" PRIu64 " %s"
					 " (buckets, sectors)", dev,
					 jrx_data_type_name(type));
				mismatch(f, k->p, what, e->buckets, e->sectors, v->d);
			}
			return 0;
		}
		c.why = dev < f->a->nr_devs ? "DEV_DATA of no data type" :
			"DEV_DATA of no device";
	} else if (k->p.inode == JRX_ACCT_INODES && !k->p.offset &&
		   !k->p.snapshot) {
		int64_t n = (int64_t)f->res->keys[JRX_BTREE_INODES];

		s->seen_inodes = true;
		if (fsck_btree_damaged(f, JRX_BTREE_INODES, false))
			fsck_incomplete(f, "the inode count", JRX_BTREE_INODES);
		else if (v->d[0] != n || v->d[1])
			mismatch(f, k->p, "inodes (count, 0)", n, 0, v->d);
		return 0;
	} else {
		c.why = "unknown kind or position";
	}
	fsck_report(f, JRX_PR_ACCOUNTING_UNKNOWN, &c);
	return 0;
}

int fsck_pass_accounting(struct jrx_fsck *f)
{
	struct ac s;
	struct fsck_walk w = {
		.btree_id = JRX_BTREE_ACCOUNTING, .leaves = true, .key = on_key,
		.ctx = &s,
	};
	int ret;

	memset(&s, 0, sizeof(s));
	s.f = f;
	if (!f->acct_valid)
		return 0;	/* pass 4 said why */
	ret = fsck_walk(f, &w);
	if (ret)
		return ret;
	if (fsck_btree_damaged(f, JRX_BTREE_ACCOUNTING, false)) {
		fsck_incomplete(f, "counters without a key", JRX_BTREE_ACCOUNTING);
		return 0;
	}
	for (unsigned d = 0; d < f->a->nr_devs; d++)
		for (unsigned t = JRX_DATA_FREE + 1; t < JRX_DATA_TYPE_NR; t++) {
			const struct fsck_acct_exp *e = &f->acct[d][t];
			char what[64];

			if (s.seen[d][t] || (!e->buckets && !e->sectors))
				continue;
			snprintf(what, sizeof(what), "dev %u %s (buckets, sectors)",
				 d, jrx_data_type_name(t));
			mismatch(f, jrx_acct_dev_pos(d, t), what, e->buckets,
				 e->sectors, NULL);
		}
	if (!s.seen_inodes && f->res->keys[JRX_BTREE_INODES] &&
	    !fsck_btree_damaged(f, JRX_BTREE_INODES, false))
		mismatch(f, jrx_acct_inodes_pos(), "inodes (count, 0)",
			 (int64_t)f->res->keys[JRX_BTREE_INODES], 0, NULL);
	return 0;
}
