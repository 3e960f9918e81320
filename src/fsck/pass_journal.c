/*
 * pass_journal.c - pass 2: the journal of an unclean array, read as
 * recovery reads it (FORMAT.md 5.5, 5.6, jread.h): every jset that ends
 * a bucket's scan (torn or corrupt) is noted, copies of one seq must be
 * byte-identical, and every seq of the replay range [last_seq of the
 * newest jset, max_seq] must be there or blacklisted (by the superblock
 * or by a blacklist entry of a jset of the range).  The range checks are
 * those of the journal index recovery uses (journal/jindex.c), run in
 * its reporting mode.  A clean array needs
 * no journal: the pass is skipped.
 */
#include <inttypes.h>
#include <stdio.h>
#include "fsck_int.h"
#include "../format/jset.h"
#include "../journal/jread.h"
#include "../journal/jindex.h"

struct range_ctx {
	struct jrx_fsck *f;
	uint64_t last, max;
};

/* A problem of the journal index (jindex.c) as an fsck problem. */
static void on_index_problem(void *ctx, const struct jrx_jindex_problem *p)
{
	struct range_ctx *rc = ctx;
	struct jrx_fsck *f = rc->f;
	struct jrx_pr_ctx c;
	char where[160];

	jrx_pr_ctx_init(&c);
	if (p->kind == JRX_JIX_SEQ_MISSING) {
		c.num = p->seq_end - p->seq + 1;
		jrx_pr_found(&c, "%" PRIu64 "..%" PRIu64, p->seq, p->seq_end);
		jrx_pr_expected(&c, "%" PRIu64 "..%" PRIu64, rc->last, rc->max);
		fsck_report(f, JRX_PR_JOURNAL_SEQ_MISSING, &c);
		return;
	}
	c.num = p->seq;
	c.dev = (int)p->dev[1];
	c.offset = p->offset[1];
	snprintf(where, sizeof(where), "dev %u (%s) offset %" PRIu64, p->dev[0],
		 p->dev[0] < f->a->nr_devs ? f->a->devs[p->dev[0]].path : "?",
		 p->offset[0]);
	c.why = where;
	fsck_report(f, JRX_PR_JOURNAL_REPLICAS_DIFFER, &c);
}

/* The replay range through the same index recovery builds, going on. */
static int check_range(struct jrx_fsck *f, const struct jrx_journal_scan *s,
		       const struct jrx_jset_info *newest)
{
	struct range_ctx rc = { f, newest->last_seq, newest->seq };
	struct jrx_jindex ix;
	int ret = jrx_jindex_build(&ix, &f->a->sb, s, on_index_problem, &rc);

	if (!ret)
		jrx_jindex_free(&ix);
	return ret;
}

int fsck_pass_journal(struct jrx_fsck *f)
{
	const struct jrx_jset_info *newest = NULL;
	struct jrx_journal_scan s;
	int ret;

	if (f->a->sb.flags & JRX_SB_CLEAN) {
		f->res->pass[JRX_PASS_JOURNAL].ran = false;
		return 0;
	}
	ret = jrx_journal_read_seq(f->a, &s, JRX_SCAN_KEEP);
	if (ret)
		return ret;
	f->res->pass[JRX_PASS_JOURNAL].checked = s.nr;
	for (size_t i = 0; i < s.nr; i++) {
		const struct jrx_jset_info *j = &s.v[i];
		struct jrx_pr_ctx c;

		if (j->state != JRX_JSET_OK) {
			jrx_pr_ctx_init(&c);
			c.dev = (int)j->dev;
			c.offset = j->offset;
			c.bucket = j->bucket;
			c.num = j->seq;
			c.why = j->why ? j->why : "bad jset";
			fsck_report(f, JRX_PR_JSET_BAD, &c);
		} else if (j->seq > f->a->sb.journal_seq &&
			   (!newest || j->seq > newest->seq)) {
			newest = j;
		}
	}
	if (newest && newest->j)
		ret = check_range(f, &s, newest);
	jrx_journal_scan_free(&s);
	return ret;
}
