/*
 * pass_journal.c - pass 2: the journal of an unclean array, read as
 * recovery reads it (FORMAT.md 5.5, 5.6, jread.h): every jset that ends
 * a bucket's scan (torn or corrupt) is noted, copies of one seq must be
 * byte-identical, and every seq of the replay range [last_seq of the
 * newest jset, max_seq] must be there or blacklisted (by the superblock
 * or by a blacklist entry of a jset of the range).  A clean array needs
 * no journal: the pass is skipped.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "fsck_int.h"
#include "../format/jset.h"
#include "../journal/jread.h"

struct jbl {
	struct jrx_blacklist_entry *v;
	size_t nr, cap;
};

static int jbl_add(struct jbl *b, uint64_t start, uint64_t end)
{
	if (b->nr == b->cap) {
		size_t ncap = b->cap ? b->cap * 2 : 64;
		void *n = realloc(b->v, ncap * sizeof(*b->v));

		if (!n)
			return -ENOMEM;
		b->v = n;
		b->cap = ncap;
	}
	b->v[b->nr++] = (struct jrx_blacklist_entry){ start, end };
	return 0;
}

static int cmp_seq(const void *x, const void *y)
{
	const struct jrx_jset_info *a = *(const struct jrx_jset_info *const *)x;
	const struct jrx_jset_info *b = *(const struct jrx_jset_info *const *)y;

	if (a->seq != b->seq)
		return a->seq < b->seq ? -1 : 1;
	if (a->dev != b->dev)
		return a->dev < b->dev ? -1 : 1;
	return a->offset < b->offset ? -1 : a->offset > b->offset;
}

static void report_missing(struct jrx_fsck *f, uint64_t from, uint64_t to,
			   uint64_t last, uint64_t max)
{
	struct jrx_pr_ctx c;

	jrx_pr_ctx_init(&c);
	c.num = to - from + 1;
	jrx_pr_found(&c, "%" PRIu64 "..%" PRIu64, from, to);
	jrx_pr_expected(&c, "%" PRIu64 "..%" PRIu64, last, max);
	fsck_report(f, JRX_PR_JOURNAL_SEQ_MISSING, &c);
}

/* Report the seqs of [from, to] that no blacklist range covers, as runs. */
static void report_gap(struct jrx_fsck *f, const struct jbl *bl, uint64_t from,
		       uint64_t to, uint64_t last, uint64_t max)
{
	uint64_t cur = from;

	while (cur <= to) {
		uint64_t next = to + 1;	/* first blacklisted seq past cur */
		bool covered = false;

		for (size_t i = 0; i < bl->nr; i++) {
			const struct jrx_blacklist_entry *e = &bl->v[i];

			if (cur >= e->start && cur <= e->end) {
				covered = true;
				next = e->end;
				break;
			}
			if (e->start > cur && e->start < next)
				next = e->start;
		}
		if (covered) {
			if (next >= to)
				return;
			cur = next + 1;
			continue;
		}
		report_missing(f, cur, next - 1, last, max);
		cur = next;
	}
}

static int check_range(struct jrx_fsck *f, const struct jrx_journal_scan *s,
		       const struct jrx_jset_info *newest)
{
	const struct jrx_jset_info **p;
	const struct jrx_sb *sb = &f->a->sb;
	uint64_t last = newest->last_seq, max = newest->seq, expect;
	struct jbl bl = { 0 };
	size_t np = 0;
	int ret = 0;

	p = malloc((s->nr ? s->nr : 1) * sizeof(*p));
	if (!p)
		return -ENOMEM;
	for (size_t i = 0; i < s->nr; i++)
		if (s->v[i].state == JRX_JSET_OK && s->v[i].seq >= last &&
		    s->v[i].seq <= max)
			p[np++] = &s->v[i];
	qsort(p, np, sizeof(*p), cmp_seq);
	for (uint32_t i = 0; !ret && i < sb->nr_blacklist &&
	     i < JRX_SB_MAX_BLACKLIST; i++)
		ret = jbl_add(&bl, sb->blacklist[i].start, sb->blacklist[i].end);
	for (size_t i = 0; !ret && i < np; i++) {
		const struct jrx_jset_entry *e;

		/* replicas: each later copy of a seq against the first */
		if (i && p[i]->seq == p[i - 1]->seq) {
			const struct jrx_jset_info *a = p[i - 1], *b = p[i];
			size_t bytes = sizeof(*b->j) + (size_t)b->j->u64s * 8;
			char where[160];
			struct jrx_pr_ctx c;

			while (a != p[0] && (a - 1)->seq == b->seq)
				a--;
			if (a->j->u64s == b->j->u64s && !memcmp(a->j, b->j, bytes))
				continue;
			jrx_pr_ctx_init(&c);
			c.num = b->seq;
			c.dev = (int)b->dev;
			c.offset = b->offset;
			snprintf(where, sizeof(where), "dev %u (%s) offset %" PRIu64,
				 a->dev, a->dev < f->a->nr_devs ?
				 f->a->devs[a->dev].path : "?", a->offset);
			c.why = where;
			fsck_report(f, JRX_PR_JOURNAL_REPLICAS_DIFFER, &c);
			continue;
		}
		jrx_for_each_jset_entry(e, p[i]->j) {
			const struct jrx_blacklist_entry *b = (const void *)(e + 1);

			if (e->type != JRX_JE_BLACKLIST)
				continue;
			for (size_t k = 0; !ret && k < e->u64s * 8u / sizeof(*b); k++)
				ret = jbl_add(&bl, b[k].start, b[k].end);
		}
	}
	/* missing seqs: each gap between present seqs, less the blacklist */
	expect = last;
	for (size_t i = 0; !ret && i <= np && expect <= max; i++) {
		uint64_t upto = i < np ? p[i]->seq : max + 1;

		if (upto > expect)
			report_gap(f, &bl, expect, upto - 1, last, max);
		if (i < np && p[i]->seq >= expect)
			expect = p[i]->seq + 1;
	}
	free(bl.v);
	free(p);
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
	ret = jrx_journal_scan(f->a, &s, JRX_SCAN_KEEP);
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
