/* jread.c - the sequential journal reader (see jread.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "jread.h"
#include "../io/engine.h"
#include "jrx/errors.h"
#include "../format/jset.h"
#include "../format/sb.h"
#include "../util/diag.h"
#include "../util/vec.h"

static int push(struct jrx_jset_info **v, size_t *nr, size_t *cap,
		const struct jrx_jset_info *info)
{
	int ret = JRX_VEC_RESERVE(*v, *nr, *cap, 1, "list of jsets read");

	if (!ret)
		(*v)[(*nr)++] = *info;
	return ret;
}

int jrx_jread_bucket(const struct jrx_array *a, unsigned dev, uint64_t bucket,
		     const char *buf, struct jrx_jset_info **v, size_t *nr,
		     size_t *cap, bool *kept)
{
	uint64_t bsize = a->sb.bucket_size, pos = 0;
	uint64_t base = jrx_bucket_offset(&a->sb, bucket);
	int ret;

	*kept = false;
	while (pos + sizeof(struct jrx_jset) <= bsize) {
		const struct jrx_jset *j = (const void *)(buf + pos);
		struct jrx_jset_info info = {
			.dev = dev, .bucket = bucket, .offset = base + pos,
		};
		struct jrx_jset_counts n;
		const char *why;
		int bad;

		if (j->magic != a->jset_magic)
			break;		/* empty, or data of another kind */
		bad = jrx_jset_validate_count(j, bsize - pos, a->jset_magic,
					      &why, &n);
		info.seq = j->seq;
		info.last_seq = j->last_seq;
		if (bad) {
			info.state = bad == -JRX_ERR_JSET_CSUM ?
				JRX_JSET_BAD_CSUM : JRX_JSET_BAD;
			info.why = why;
			return push(v, nr, cap, &info);
		}
		info.bytes = (uint32_t)jrx_jset_disk_bytes(j->u64s);
		info.j = j;
		info.entries = n.entries;
		info.keys = n.keys;
		info.counted = true;
		info.blacklists = n.blacklists;
		ret = push(v, nr, cap, &info);
		if (ret)
			return ret;
		*kept = true;
		pos += info.bytes;
	}
	return 0;
}

int jrx_journal_read_seq(struct jrx_array *a, struct jrx_journal_scan *s,
			 unsigned flags)
{
	uint64_t bsize = a->sb.bucket_size;
	char *buf = NULL;
	int ret = 0;

	memset(s, 0, sizeof(*s));
	s->mode = JRX_SCAN_SEQUENTIAL;
	jrx_journal_scan_names(s, a);
	for (unsigned d = 0; d < a->nr_devs && !ret; d++) {
		const struct jrx_member *m = &a->sb.members[d];

		if (a->devs[d].absent)
			continue;	/* degraded: its copies are elsewhere */
		s->buckets_total += m->journal_nr;
		for (uint32_t i = 0; i < m->journal_nr; i++) {
			uint64_t bucket = m->journal_bucket + i;
			bool kept;

			if (!buf && !(buf = jrx_io_arena(bsize))) {
				ret = jrx_fail(-ENOMEM, "allocating a journal"
					       " bucket to read: %" PRIu64
					       " bytes", bsize);
				break;
			}
			ret = jrx_dev_pread(&a->devs[d], buf, bsize,
					    jrx_bucket_offset(&a->sb, bucket));
			if (ret)
				break;
			s->bytes_read += bsize;
			s->buckets_read++;
			ret = jrx_jread_bucket(a, d, bucket, buf, &s->v, &s->nr,
					       &s->cap, &kept);
			if (ret)
				break;
			if (kept && (flags & JRX_SCAN_KEEP)) {
				ret = jrx_journal_scan_keep(s, buf, bsize);
				buf = NULL;
				if (ret)
					break;
			}
		}
	}
	jrx_io_arena_free(buf, bsize);
	if (!(flags & JRX_SCAN_KEEP))
		for (size_t i = 0; i < s->nr; i++)
			s->v[i].j = NULL;
	if (ret)
		jrx_journal_scan_free(s);
	return ret;
}

void jrx_journal_scan_names(struct jrx_journal_scan *s,
			    const struct jrx_array *a)
{
	s->nr_devs = a->nr_devs < JRX_MAX_DEVICES ? a->nr_devs : JRX_MAX_DEVICES;
	for (unsigned d = 0; d < s->nr_devs; d++)
		s->dev_name[d] = a->devs[d].path;
}
