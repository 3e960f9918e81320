/* array.c - open the member devices of an array and pick its superblock. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <inttypes.h>
#include <time.h>
#include <sys/stat.h>
#include "array.h"
#include "lock.h"
#include "members.h"
#include "jrx/errors.h"
#include "../util/diag.h"
#include "../format/sb.h"

/* one line of a->notes */
#define note(a, ...) jrx_note_line(a->notes, sizeof(a->notes), __VA_ARGS__)

int jrx_sb_read(struct jrx_dev *d, uint64_t off, struct jrx_sb *sb,
		char *why, size_t len)
{
	int ret;

	snprintf(why, len, "%s", "");
	if (d->size < off + JRX_SB_SIZE) {
		snprintf(why, len, "device too small to hold it (%" PRIu64
			 " bytes)", d->size);
		return -JRX_ERR_NOT_JRX;
	}
	ret = jrx_dev_pread(d, sb, JRX_SB_SIZE, off);
	if (ret) {
		snprintf(why, len, "read error (%s)", jrx_strerror(ret));
		return ret;
	}
	return jrx_sb_validate(sb, why, len);
}

/* Best superblock copy of one device; notes a bad copy next to a good one. */
static int read_dev_sb(struct jrx_array *a, struct jrx_dev *d, struct jrx_sb *out)
{
	struct jrx_sb *b = jrx_alloc_aligned(JRX_SB_SIZE);
	char why_p[JRX_SB_WHY], why_b[JRX_SB_WHY];
	int rp, rb;

	if (!b)
		return -ENOMEM;
	rp = jrx_sb_read(d, JRX_SB_PRIMARY_OFFSET, out, why_p, sizeof(why_p));
	rb = jrx_sb_read(d, JRX_SB_BACKUP_OFFSET, b, why_b, sizeof(why_b));
	if (rp && rb) {
		int ret = rp == -JRX_ERR_NOT_JRX && rb == -JRX_ERR_NOT_JRX ?
			-JRX_ERR_NOT_JRX : -JRX_ERR_SB_NO_VALID;

		free(b);
		if (ret == -JRX_ERR_NOT_JRX)
			return jrx_fail(ret, "%s: not a jrx device: no superblock"
					" magic at offset %u or %u", d->path,
					JRX_SB_PRIMARY_OFFSET, JRX_SB_BACKUP_OFFSET);
		if (!strcmp(why_p, why_b))	/* one reason, said once */
			return jrx_fail(ret, "%s: no valid superblock: primary"
					" at offset %u and backup at offset %u:"
					" %s", d->path, JRX_SB_PRIMARY_OFFSET,
					JRX_SB_BACKUP_OFFSET, why_p);
		return jrx_fail(ret, "%s: no valid superblock: primary at offset"
				" %u: %s; backup at offset %u: %s", d->path,
				JRX_SB_PRIMARY_OFFSET, why_p, JRX_SB_BACKUP_OFFSET,
				why_b);
	}
	if (rp || rb || b->seq != out->seq)
		a->sb_stale = true;
	if (rp) {
		note(a, "%s: primary superblock at offset %u is bad (%s); "
		     "using the backup at offset %u", d->path,
		     JRX_SB_PRIMARY_OFFSET, why_p, JRX_SB_BACKUP_OFFSET);
		memcpy(out, b, JRX_SB_SIZE);
	} else if (rb) {
		note(a, "%s: backup superblock at offset %u is bad (%s)",
		     d->path, JRX_SB_BACKUP_OFFSET, why_b);
	} else if (b->seq > out->seq) {
		note(a, "%s: backup superblock (seq %" PRIu64 ") is newer than"
		     " the primary (seq %" PRIu64 "); using it", d->path,
		     b->seq, out->seq);
		memcpy(out, b, JRX_SB_SIZE);
	}
	free(b);
	return 0;
}

/* Order of taking the members' locks: by file identity, so two waiting
 * processes given the members in different orders cannot deadlock. */
struct lock_order {
	dev_t	 dev;
	ino_t	 ino;
	unsigned idx;
};

static int lock_order_cmp(const void *x, const void *y)
{
	const struct lock_order *a = x, *b = y;

	if (a->dev != b->dev)
		return a->dev < b->dev ? -1 : 1;
	if (a->ino != b->ino)
		return a->ino < b->ino ? -1 : 1;
	return a->idx < b->idx ? -1 : a->idx > b->idx;
}

/* Claims every opened device (lock.h) before anything is read. */
static int lock_all(struct jrx_dev *devs, unsigned n, bool rdonly, bool wait)
{
	struct lock_order ord[JRX_MAX_DEVICES];
	struct stat st;

	for (unsigned i = 0; i < n; i++) {
		if (fstat(devs[i].fd, &st))
			return jrx_fail(-errno, "%s: cannot stat: %s",
					devs[i].path, strerror(errno));
		ord[i] = (struct lock_order){ st.st_dev, st.st_ino, i };
	}
	qsort(ord, n, sizeof(ord[0]), lock_order_cmp);
	for (unsigned i = 0; i < n; i++) {
		int ret;

		if (i && ord[i].dev == ord[i - 1].dev &&
		    ord[i].ino == ord[i - 1].ino)
			continue;	/* the same file twice: refused below */
		ret = jrx_dev_lock(&devs[ord[i].idx], rdonly ? JRX_LOCK_SHARED :
				   JRX_LOCK_EXCLUSIVE, wait);
		if (ret)
			return ret;
	}
	return 0;
}

static int open_members(struct jrx_array *a, const char *const *paths,
			unsigned n, unsigned flags);

int jrx_array_open(struct jrx_array *a, const char *const *names, unsigned n,
		   unsigned flags)
{
	struct jrx_members m;
	int ret;

	memset(a, 0, sizeof(*a));
	for (unsigned i = 0; i < JRX_MAX_DEVICES; i++)
		a->devs[i].fd = -1;
	if (!n)
		return jrx_fail(-JRX_ERR_BAD_OPTION, "no device given");
	ret = jrx_members_resolve(&m, names, n, !(flags & JRX_OPEN_NO_SCAN));
	if (ret)
		return ret;
	ret = open_members(a, (const char *const *)m.paths, m.n, flags);
	if (!ret && m.notes[0])
		note(a, "%.*s", (int)strlen(m.notes) - 1, m.notes);
	jrx_members_free(&m);
	return ret;
}

static int open_members(struct jrx_array *a, const char *const *paths,
			unsigned n, unsigned flags)
{
	struct jrx_dev opened[JRX_MAX_DEVICES];
	struct jrx_sb *sbs = NULL;
	struct jrx_dev dev;
	unsigned i, best = 0, missing = 0;
	uint64_t need;
	int ret = 0;

	memset(a, 0, sizeof(*a));
	for (i = 0; i < JRX_MAX_DEVICES; i++)
		a->devs[i].fd = opened[i].fd = -1;
	a->rdonly = flags & JRX_OPEN_RDONLY;
	if (!n)
		return jrx_fail(-JRX_ERR_BAD_OPTION, "no device given");
	if (n > JRX_MAX_DEVICES)
		return jrx_fail(-JRX_ERR_BAD_OPTION, "more than %u devices given",
				JRX_MAX_DEVICES);
	sbs = jrx_alloc_aligned((size_t)n * JRX_SB_SIZE);
	if (!sbs)
		return -ENOMEM;

	/* open and claim every device before reading any of them */
	for (i = 0; i < n; i++) {
		ret = jrx_dev_open(&opened[i], paths[i],
				   (a->rdonly ? JRX_DEV_RDONLY : JRX_DEV_EXCL) |
				   ((flags & JRX_OPEN_DIRECT) ? JRX_DEV_DIRECT : 0));
		if (ret)
			goto err;
	}
	ret = lock_all(opened, n, a->rdonly, flags & JRX_OPEN_WAIT);
	if (ret)
		goto err;

	for (i = 0; i < n; i++) {
		struct jrx_sb *sb = &sbs[i];

		dev = opened[i];
		opened[i].fd = -1;
		opened[i].path = NULL;
		ret = read_dev_sb(a, &dev, sb);
		if (ret) {
			jrx_dev_close(&dev);
			goto err;
		}
		if (i && memcmp(sb->uuid, sbs[0].uuid, 16)) {
			char u0[33], u1[33];

			jrx_uuid_text(u0, sbs[0].uuid);
			jrx_uuid_text(u1, sb->uuid);
			ret = jrx_fail(-JRX_ERR_DEV_OTHER_ARRAY, "%s: belongs to array"
				       " %s, but %s belongs to array %s", paths[i],
				       u1, paths[0], u0);
			jrx_dev_close(&dev);
			goto err;
		}
		if (a->devs[sb->dev_idx].fd >= 0) {
			ret = jrx_fail(-JRX_ERR_DEV_DUPLICATE, "%s and %s are both"
				       " member %u of the array",
				       a->devs[sb->dev_idx].path, paths[i],
				       sb->dev_idx);
			jrx_dev_close(&dev);
			goto err;
		}
		if (!jrx_sb_member_bytes(sb, sb->dev_idx, &need) ||
		    dev.size < need) {
			const struct jrx_member *m = &sb->members[sb->dev_idx];

			ret = jrx_fail(-JRX_ERR_DEV_TRUNCATED, "dev %u (%s):"
				       " superblock member %u: nbuckets %" PRIu64
				       " of %" PRIu32 " bytes does not fit the"
				       " device (%" PRIu64 " bytes; truncated?)",
				       sb->dev_idx, paths[i], sb->dev_idx,
				       m->nbuckets, sb->bucket_size, dev.size);
			jrx_dev_close(&dev);
			goto err;
		}
		a->devs[sb->dev_idx] = dev;
		if (sb->seq > sbs[best].seq)
			best = i;
	}
	a->sb = sbs[best];
	a->nr_devs = a->sb.nr_devices;
	for (i = 0; i < a->nr_devs; i++) {
		if (a->devs[i].fd < 0) {
			char u[33];

			jrx_uuid_text(u, a->sb.members[i].uuid);
			if ((flags & JRX_OPEN_DEGRADED) && a->rdonly) {
				missing++;
				note(a, "member %u of %u (device uuid %s) is missing:"
				     " degraded, read-only", i, a->nr_devs, u);
				ret = jrx_dev_make_absent(&a->devs[i], i);
				if (ret)
					goto err;
				continue;
			}
			if ((flags & JRX_OPEN_PARTIAL) && a->rdonly) {
				note(a, "member %u of %u (device uuid %s) is missing",
				     i, a->nr_devs, u);
				continue;
			}
			ret = jrx_fail(-JRX_ERR_DEV_MISSING, "member %u of %u (device"
				       " uuid %s) was not given", i, a->nr_devs, u);
			goto err;
		}
	}
	for (i = 0; i < n; i++) {
		if (sbs[i].dev_idx >= a->nr_devs) {
			ret = jrx_fail(-JRX_ERR_DEV_OTHER_ARRAY, "%s: member %u is"
				       " beyond the array's %u members", paths[i],
				       sbs[i].dev_idx, a->nr_devs);
			goto err;
		}
		if (sbs[i].seq != a->sb.seq)
			a->sb_stale = true;
		if (sbs[i].seq != a->sb.seq)
			note(a, "%s: superblock seq %" PRIu64 " is older than the"
			     " array's %" PRIu64 "; it will be rewritten", paths[i],
			     sbs[i].seq, a->sb.seq);
	}
	if (missing && missing >= a->sb.metadata_replicas) {
		ret = jrx_fail(-JRX_ERR_DEV_MISSING, "%u of %u members are"
			       " missing and the journal has %u cop%s"
			       " (metadata_replicas): jsets on the missing"
			       " members may have no other copy, so no"
			       " journal read can be trusted; give every"
			       " member, or at least all but %u", missing,
			       a->nr_devs, a->sb.metadata_replicas,
			       a->sb.metadata_replicas == 1 ? "y" : "ies",
			       a->sb.metadata_replicas - 1);
		goto err;
	}
	a->jset_magic = jrx_jset_magic(a->sb.uuid);
	a->node_magic = jrx_node_magic(a->sb.uuid);
	free(sbs);
	return 0;
err:
	for (i = 0; i < n; i++)
		if (opened[i].fd >= 0)
			jrx_dev_close(&opened[i]);
	free(sbs);
	jrx_array_close(a);
	return ret;
}

void jrx_array_close(struct jrx_array *a)
{
	for (unsigned i = 0; i < JRX_MAX_DEVICES; i++)
		if (a->devs[i].fd >= 0 || a->devs[i].absent)
			jrx_dev_close(&a->devs[i]);
}

int jrx_array_write_sb(struct jrx_array *a)
{
	struct jrx_sb *sb = jrx_alloc_aligned(JRX_SB_SIZE);
	int ret = 0;

	if (!sb)
		return -ENOMEM;
	a->sb.seq++;
	a->sb.time = (uint64_t)time(NULL);
	for (unsigned pass = 0; pass < 2 && !ret; pass++) {
		uint64_t off = pass ? JRX_SB_PRIMARY_OFFSET : JRX_SB_BACKUP_OFFSET;

		for (unsigned i = 0; i < a->nr_devs && !ret; i++) {
			memcpy(sb, &a->sb, JRX_SB_SIZE);
			sb->dev_idx = i;
			memcpy(sb->dev_uuid, sb->members[i].uuid, 16);
			jrx_sb_set_csum(sb);
			ret = jrx_dev_pwrite(&a->devs[i], sb, JRX_SB_SIZE, off);
		}
		if (!ret)
			ret = jrx_array_sync(a);
	}
	free(sb);
	return ret;
}
