/* jread.c - the sequential journal reader (see jread.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "jread.h"
#include "jrx/errors.h"
#include "../format/jset.h"
#include "../format/sb.h"

static int push(struct jrx_journal_scan *s, const struct jrx_jset_info *info)
{
	if (s->nr == s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 256;
		void *p = realloc(s->v, ncap * sizeof(*s->v));

		if (!p)
			return -ENOMEM;
		s->v = p;
		s->cap = ncap;
	}
	s->v[s->nr++] = *info;
	return 0;
}

static void count(const struct jrx_jset *j, struct jrx_jset_info *info)
{
	const struct jrx_jset_entry *e;
	const struct jrx_bkey *k;

	jrx_for_each_jset_entry(e, j) {
		info->entries++;
		if (e->type == JRX_JE_BTREE_KEYS)
			jrx_for_each_entry_key(k, e)
				info->keys++;
	}
}

/* Scan one bucket buffer; returns 1 if any OK jset points into it. */
static int scan_bucket(struct jrx_array *a, struct jrx_journal_scan *s,
		       unsigned dev, uint64_t bucket, const char *buf,
		       int *kept)
{
	uint64_t bsize = a->sb.bucket_size, pos = 0;
	uint64_t base = jrx_bucket_offset(&a->sb, bucket);
	int ret;

	*kept = 0;
	while (pos + sizeof(struct jrx_jset) <= bsize) {
		const struct jrx_jset *j = (const void *)(buf + pos);
		struct jrx_jset_info info = {
			.dev = dev, .bucket = bucket, .offset = base + pos,
		};
		const char *why;
		int v;

		if (j->magic != a->jset_magic)
			break;		/* empty, or data of another kind */
		v = jrx_jset_validate(j, bsize - pos, a->jset_magic, &why);
		info.seq = j->seq;
		info.last_seq = j->last_seq;
		if (v) {
			info.state = v == -JRX_ERR_JSET_CSUM ?
				JRX_JSET_BAD_CSUM : JRX_JSET_BAD;
			info.why = why;
			info.bytes = 0;
			ret = push(s, &info);
			return ret;
		}
		info.bytes = (uint32_t)jrx_jset_disk_bytes(j->u64s);
		info.j = j;
		count(j, &info);
		ret = push(s, &info);
		if (ret)
			return ret;
		*kept = 1;
		pos += info.bytes;
	}
	return 0;
}

int jrx_journal_scan(struct jrx_array *a, struct jrx_journal_scan *s,
		     unsigned flags)
{
	uint64_t bsize = a->sb.bucket_size;
	char *buf = NULL;
	int ret = 0;

	memset(s, 0, sizeof(*s));
	for (unsigned d = 0; d < a->nr_devs && !ret; d++) {
		const struct jrx_member *m = &a->sb.members[d];

		for (uint32_t i = 0; i < m->journal_nr; i++) {
			uint64_t bucket = m->journal_bucket + i;
			int kept;

			if (!buf && !(buf = jrx_alloc_aligned(bsize))) {
				ret = -ENOMEM;
				break;
			}
			ret = jrx_dev_pread(&a->devs[d], buf, bsize,
					    jrx_bucket_offset(&a->sb, bucket));
			if (ret)
				break;
			s->bytes_read += bsize;
			s->buckets_read++;
			ret = scan_bucket(a, s, d, bucket, buf, &kept);
			if (ret)
				break;
			if (kept && (flags & JRX_SCAN_KEEP)) {
				void **nb = realloc(s->bufs, (s->nr_bufs + 1) *
						    sizeof(*nb));
				if (!nb) {
					ret = -ENOMEM;
					break;
				}
				s->bufs = nb;
				s->bufs[s->nr_bufs++] = buf;
				buf = NULL;
			}
		}
	}
	free(buf);
	if (!(flags & JRX_SCAN_KEEP))
		for (size_t i = 0; i < s->nr; i++)
			s->v[i].j = NULL;
	if (ret)
		jrx_journal_scan_free(s);
	return ret;
}

void jrx_journal_scan_free(struct jrx_journal_scan *s)
{
	for (size_t i = 0; i < s->nr_bufs; i++)
		free(s->bufs[i]);
	free(s->bufs);
	free(s->v);
	memset(s, 0, sizeof(*s));
}
