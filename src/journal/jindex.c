/*
 * jindex.c - building the journal index of the replay range (jindex.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "jindex.h"
#include "jrx/errors.h"
#include "../util/diag.h"
#include "../util/vec.h"
#include "../format/jset.h"

static int cmp_info_seq(const void *x, const void *y)
{
	const struct jrx_jset_info *a = *(const struct jrx_jset_info *const *)x;
	const struct jrx_jset_info *b = *(const struct jrx_jset_info *const *)y;

	if (a->seq != b->seq)
		return a->seq < b->seq ? -1 : 1;
	if (a->dev != b->dev)
		return a->dev < b->dev ? -1 : 1;
	return a->offset < b->offset ? -1 : a->offset > b->offset;
}

static bool in_bl(const struct jrx_blacklist_entry *v, size_t nr, uint64_t seq)
{
	for (size_t i = 0; i < nr; i++)
		if (seq >= v[i].start && seq <= v[i].end)
			return true;
	return false;
}

/*
 * Where the run of seqs that starts at seq and lies wholly inside the
 * blacklist (*black) or wholly outside it (!*black) ends: the first seq
 * after it, at most upto.  Runs are taken whole, so a range of 2^60 seqs
 * costs as much as one seq.
 */
static uint64_t bl_run_end(const struct jrx_blacklist_entry *v, size_t nr,
			   uint64_t seq, uint64_t upto, bool *black)
{
	uint64_t end = upto;
	size_t i;

	*black = in_bl(v, nr, seq);
	if (!*black) {
		for (i = 0; i < nr; i++)
			if (v[i].start > seq && v[i].start < end)
				end = v[i].start;
		return end;
	}
	/* follow overlapping ranges; each step passes one range's end */
	for (end = seq; end < upto;) {
		for (i = 0; i < nr; i++)
			if (end >= v[i].start && end <= v[i].end)
				break;
		if (i == nr)
			break;
		end = v[i].end >= upto - 1 ? upto : v[i].end + 1;
	}
	return end;
}

static int add_bl(struct jrx_jindex *ix, size_t *cap,
		  const struct jrx_blacklist_entry *e)
{
	int ret = JRX_VEC_RESERVE(ix->bl, ix->nr_bl, *cap, 1,
				  "journal blacklist");

	if (!ret)
		ix->bl[ix->nr_bl++] = *e;
	return ret;
}

static void report_missing(jrx_jindex_report_fn report, void *ctx,
			   uint64_t from, uint64_t to)
{
	struct jrx_jindex_problem pr = {
		.kind = JRX_JIX_SEQ_MISSING, .seq = from, .seq_end = to,
	};

	report(ctx, &pr);
}

int jrx_jindex_build(struct jrx_jindex *ix, const struct jrx_sb *sb,
		     const struct jrx_journal_scan *s,
		     jrx_jindex_report_fn report, void *ctx)
{
	const struct jrx_jset_info *v = s->v;
	size_t nr = s->nr;
	uint64_t run = 0;	/* first seq of the missing run being reported */
	const struct jrx_jset_info **p = NULL;
	const struct jrx_jset_info *newest = NULL;
	size_t np = 0, cap_bl = 0, i;
	uint64_t expect;
	int ret = 0;

	memset(ix, 0, sizeof(*ix));
	for (uint32_t b = 0; b < sb->nr_blacklist && b < JRX_SB_MAX_BLACKLIST; b++)
		if ((ret = add_bl(ix, &cap_bl, &sb->blacklist[b])))
			goto out;
	/* the newest valid jset written after the last clean state */
	for (i = 0; i < nr; i++) {
		if (v[i].state != JRX_JSET_OK)
			ix->bad++;
		else if (v[i].seq > sb->journal_seq &&
			 (!newest || v[i].seq > newest->seq))
			newest = &v[i];
	}
	if (!newest)
		goto out;		/* nothing written since: no replay */
	if (!newest->j) {
		ret = jrx_fail(-EINVAL, "journal index needs the jset bytes");
		goto out;
	}
	ix->max_seq = newest->seq;
	ix->last_seq = newest->last_seq;
	ix->newest = newest->j;

	p = malloc((nr ? nr : 1) * sizeof(*p));
	if (!p) {
		ret = jrx_fail(-ENOMEM, "allocating the journal index's sort"
			       " of %zu jsets: %zu bytes", nr, nr * sizeof(*p));
		goto out;
	}
	for (i = 0; i < nr; i++)
		if (v[i].state == JRX_JSET_OK && v[i].seq >= ix->last_seq &&
		    v[i].seq <= ix->max_seq)
			p[np++] = &v[i];
	qsort(p, np, sizeof(*p), cmp_info_seq);

	ix->v = calloc(np ? np : 1, sizeof(*ix->v));
	if (!ix->v) {
		ret = jrx_fail(-ENOMEM, "allocating the journal index of %zu"
			       " jsets: %zu bytes", np, np * sizeof(*ix->v));
		goto out;
	}
	/* one entry per seq; replicas must be byte-identical */
	for (i = 0; i < np; i++) {
		const struct jrx_jset_info *c = p[i];
		struct jrx_jindex_ent *last = ix->nr ? &ix->v[ix->nr - 1] : NULL;

		ix->copies++;
		if (last && last->seq == c->seq) {
			bool differ;

			/* hashed at parse (replicas, compact copies): by hash;
			 * a compact copy beside whole bytes cannot be compared */
			if (c->hashed && last->hashed)
				differ = c->hash != last->hash ||
					c->bytes != last->bytes;
			else if (c->compact || last->compact)
				differ = true;
			else
				differ = c->j->u64s != last->j->u64s ||
					memcmp(c->j, last->j, sizeof(*c->j) +
					       (size_t)c->j->u64s * 8);

			if (differ && report) {
				struct jrx_jindex_problem pr = {
					.kind = JRX_JIX_REPLICAS_DIFFER,
					.seq = c->seq, .seq_end = c->seq,
					.dev = { last->dev, c->dev },
					.offset = { last->offset, c->offset },
				};

				report(ctx, &pr);
				continue;
			}
			if (differ) {
				ret = jrx_fail(-JRX_ERR_JOURNAL_REPLICAS_DIFFER,
					"jset seq %" PRIu64 ": replicas differ:"
					" %s offset %" PRIu64 " and %s offset %"
					PRIu64, c->seq,
					jrx_journal_scan_dev(s, last->dev),
					last->offset,
					jrx_journal_scan_dev(s, c->dev), c->offset);
				goto out;
			}
			last->copies++;
			continue;
		}
		ix->v[ix->nr++] = (struct jrx_jindex_ent){
			.seq = c->seq, .j = c->j, .dev = c->dev,
			.offset = c->offset, .copies = 1,
			.counted = c->counted, .blacklists = c->blacklists,
			.keys = c->keys,
			.compact = c->compact, .hashed = c->hashed,
			.hash = c->hash,
			.bytes = c->bytes,
		};
	}
	/* blacklist entries carried by the jsets of the range (walking a
	 * whole jset's entries touches every key: only where there are) */
	for (i = 0; i < ix->nr; i++) {
		const struct jrx_jset_entry *e;

		if (ix->v[i].counted && !ix->v[i].blacklists)
			continue;
		jrx_for_each_jset_entry(e, ix->v[i].j) {
			const struct jrx_blacklist_entry *b = (const void *)(e + 1);
			size_t n = e->u64s * 8 / sizeof(*b);

			if (e->type != JRX_JE_BLACKLIST)
				continue;
			for (size_t k = 0; k < n; k++)
				if ((ret = add_bl(ix, &cap_bl, &b[k])))
					goto out;
		}
	}
	/* every seq of the range is there or blacklisted */
	expect = ix->last_seq;
	for (i = 0; i <= ix->nr; i++) {
		uint64_t upto = i < ix->nr ? ix->v[i].seq : ix->max_seq + 1;

		while (expect < upto) {
			bool black;
			uint64_t next = bl_run_end(ix->bl, ix->nr_bl, expect,
						   upto, &black);

			if (black) {
				if (run)
					report_missing(report, ctx, run, expect - 1);
				run = 0;
				ix->blacklisted += next - expect;
				expect = next;
				continue;
			}
			if (!report) {
				ret = jrx_fail(-JRX_ERR_JOURNAL_SEQ_MISSING,
					"journal seq %" PRIu64 " is missing: the"
					" replay range is %" PRIu64 "..%" PRIu64
					" (newest jset on %s offset %" PRIu64 ")"
					" and no valid copy of seq %" PRIu64
					" was found (fsck.jrx -y replays past"
					" it, losing its transactions)", expect,
					ix->last_seq,
					ix->max_seq,
					jrx_journal_scan_dev(s, newest->dev),
					newest->offset, expect);
				goto out;
			}
			ix->missing += next - expect;
			if (!run)
				run = expect;
			expect = next;
		}
		if (run)
			report_missing(report, ctx, run, expect - 1);
		run = 0;
		if (i < ix->nr) {
			ix->v[i].blacklisted = in_bl(ix->bl, ix->nr_bl, ix->v[i].seq);
			ix->blacklisted += ix->v[i].blacklisted;
			expect = ix->v[i].seq + 1;
		}
	}
out:
	free(p);
	if (ret)
		jrx_jindex_free(ix);
	return ret;
}

void jrx_jindex_free(struct jrx_jindex *ix)
{
	free(ix->v);
	free(ix->bl);
	memset(ix, 0, sizeof(*ix));
}

int jrx_jindex_seqs(const struct jrx_jindex *ix, uint64_t **out)
{
	uint64_t *v = malloc((ix->nr ? ix->nr : 1) * sizeof(*v));

	if (!v)
		return jrx_fail(-ENOMEM, "allocating the seqs of %zu jsets",
				ix->nr);
	for (size_t i = 0; i < ix->nr; i++)
		v[i] = ix->v[i].seq;
	*out = v;
	return 0;
}
