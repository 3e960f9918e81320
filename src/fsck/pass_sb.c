/*
 * pass_sb.c - pass 1: the superblock copies.
 *
 * Both copies (primary at 4096, backup at 512 KiB) of every member are
 * read and validated (FORMAT.md 4.2), and each valid copy must agree with
 * the array's superblock, the newest valid copy (FORMAT.md 3.2), in every
 * array-wide field: seq, uuid, flags, geometry, time, blacklist, member
 * table, and the clean section (journal_seq, roots) when clean.  Copies
 * written together differ only in dev_idx, dev_uuid and csum (FORMAT.md
 * 3.3), and a copy must carry the index of the member it sits on.  A copy
 * left older by a crash between the two halves of a superblock write is
 * a problem too: the next superblock write repairs it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "fsck_int.h"
#include "jrx/errors.h"
#include "../util/diag.h"
#include "../format/sb.h"

#define CMP_U64(field)							\
	do {								\
		if (r->field != s->field) {				\
			jrx_pr_expected(c, "%" PRIu64, (uint64_t)r->field); \
			jrx_pr_found(c, "%" PRIu64, (uint64_t)s->field); \
			return #field;					\
		}							\
	} while (0)

/* The first array-wide field in which s differs from r, or NULL. */
static const char *sb_differs(const struct jrx_sb *r, const struct jrx_sb *s,
			      unsigned dev, struct jrx_pr_ctx *c)
{
	static char field[48];
	char t1[40], t2[40];

	CMP_U64(seq);
	if (memcmp(r->uuid, s->uuid, 16)) {
		jrx_uuid_text(t1, r->uuid);
		jrx_uuid_text(t2, s->uuid);
		jrx_pr_expected(c, "%s", t1);
		jrx_pr_found(c, "%s", t2);
		return "uuid";
	}
	if (s->dev_idx != dev) {
		jrx_pr_expected(c, "%u (the member it is on)", dev);
		jrx_pr_found(c, "%u", s->dev_idx);
		return "dev_idx";
	}
	CMP_U64(flags);
	CMP_U64(version);
	CMP_U64(nr_devices);
	CMP_U64(block_size);
	CMP_U64(bucket_size);
	CMP_U64(btree_node_size);
	CMP_U64(metadata_replicas);
	CMP_U64(time);
	CMP_U64(nr_blacklist);
	for (unsigned i = 0; i < r->nr_blacklist && i < JRX_SB_MAX_BLACKLIST; i++)
		if (memcmp(&r->blacklist[i], &s->blacklist[i],
			   sizeof(r->blacklist[i]))) {
			jrx_pr_expected(c, "%" PRIu64 "..%" PRIu64,
					r->blacklist[i].start, r->blacklist[i].end);
			jrx_pr_found(c, "%" PRIu64 "..%" PRIu64,
				     s->blacklist[i].start, s->blacklist[i].end);
			snprintf(field, sizeof(field), "blacklist[%u]", i);
			return field;
		}
	for (unsigned i = 0; i < r->nr_devices && i < JRX_MAX_DEVICES; i++) {
		const struct jrx_member *x = &r->members[i], *y = &s->members[i];

		if (!memcmp(x, y, sizeof(*x)))
			continue;
		jrx_pr_expected(c, "%" PRIu64 " buckets from %" PRIu64 ", journal %"
				PRIu64 "+%u, state %u", x->nbuckets,
				x->first_bucket, x->journal_bucket, x->journal_nr,
				x->state);
		jrx_pr_found(c, "%" PRIu64 " buckets from %" PRIu64 ", journal %"
			     PRIu64 "+%u, state %u", y->nbuckets, y->first_bucket,
			     y->journal_bucket, y->journal_nr, y->state);
		if (!strcmp(c->expected, c->found)) {
			jrx_uuid_text(t1, x->uuid);
			jrx_uuid_text(t2, y->uuid);
			jrx_pr_expected(c, "uuid %s", t1);
			jrx_pr_found(c, "uuid %s", t2);
		}
		snprintf(field, sizeof(field), "members[%u]", i);
		return field;
	}
	if (!(r->flags & JRX_SB_CLEAN))
		return NULL;
	CMP_U64(journal_seq);
	for (unsigned i = 0; i < JRX_BTREE_ID_SLOTS; i++) {
		const struct jrx_btree_root *x = &r->roots[i], *y = &s->roots[i];

		if (!memcmp(x, y, sizeof(*x)))
			continue;
		jrx_pr_expected(c, "level %u at dev %u sector %" PRIu64 " nonce %#"
				PRIx64, x->level, x->v.dev, x->v.sector, x->v.nonce);
		jrx_pr_found(c, "level %u at dev %u sector %" PRIu64 " nonce %#"
			     PRIx64, y->level, y->v.dev, y->v.sector, y->v.nonce);
		snprintf(field, sizeof(field), "the root of %s", jrx_btree_name(i));
		return field;
	}
	return NULL;
}

int fsck_pass_sb(struct jrx_fsck *f)
{
	static const uint64_t offs[2] = { JRX_SB_PRIMARY_OFFSET,
					  JRX_SB_BACKUP_OFFSET };
	struct jrx_sb *sb = jrx_alloc_aligned(JRX_SB_SIZE);
	struct jrx_array *a = f->a;

	if (!sb)
		return jrx_fail(-ENOMEM, "allocating a superblock buffer to"
				" check: %u bytes", JRX_SB_SIZE);
	for (unsigned d = 0; d < a->nr_devs; d++) {
		if (a->devs[d].absent) {	/* --degraded: said once */
			struct jrx_pr_ctx c;

			jrx_pr_ctx_init(&c);
			c.dev = (int)d;
			c.num = d;
			fsck_report(f, JRX_PR_MEMBER_MISSING, &c);
			continue;
		}
		for (unsigned i = 0; i < 2; i++) {
			struct jrx_pr_ctx c;
			char why[JRX_SB_WHY];
			const char *field;
			int ret;

			jrx_pr_ctx_init(&c);
			c.dev = (int)d;
			c.offset = offs[i];
			f->res->pass[JRX_PASS_SB].checked++;
			ret = jrx_sb_read(&a->devs[d], offs[i], sb, why,
					  sizeof(why));
			if (ret) {
				c.why = *why ? why : jrx_strerror(ret);
				fsck_report(f, JRX_PR_SB_COPY_BAD, &c);
				continue;
			}
			field = sb_differs(&a->sb, sb, d, &c);
			if (field) {
				c.why = field;
				fsck_report(f, JRX_PR_SB_COPIES_DIFFER, &c);
			}
		}
	}
	free(sb);
	return 0;
}
