/*
 * signature.c - finding what a device already holds (signature.h): jrx's
 * own superblock magic at both copies' offsets first, then libblkid's
 * superblock and partition-table probes on the descriptor already open
 * (never a second open by path).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <blkid.h>
#include "signature.h"
#include "array.h"
#include "jrx/errors.h"
#include "../util/diag.h"
#include "../format/sb.h"

/* A jrx superblock copy at off: 1 with a description, 0, or an error. */
static int jrx_copy(struct jrx_dev *d, uint64_t off, char *what, size_t len)
{
	struct jrx_sb *sb;
	char why[JRX_SB_WHY];
	char u[33];
	int ret;

	if (d->size < off + JRX_SB_SIZE)
		return 0;
	sb = jrx_alloc_aligned(JRX_SB_SIZE);
	if (!sb)
		return jrx_fail(-ENOMEM, "allocating a superblock buffer");
	ret = jrx_sb_read(d, off, sb, why, sizeof(why));
	if (ret == -JRX_ERR_NOT_JRX && memcmp(sb->magic, JRX_SB_MAGIC,
					      sizeof(sb->magic))) {
		ret = 0;	/* no magic there */
	} else if (ret == 0) {
		jrx_uuid_text(u, sb->uuid);
		snprintf(what, len, "a jrx array (uuid %s, member %u of %u, %s,"
			 " superblock at offset %" PRIu64 ")", u, sb->dev_idx,
			 sb->nr_devices, sb->flags & JRX_SB_CLEAN ? "clean" :
			 "unclean: it needs recovery", off);
		ret = 1;
	} else if (ret > -JRX_ERR_START) {
		/* a read error (-errno): already named with its offset */
	} else {
		snprintf(what, len, "a damaged jrx superblock at offset %" PRIu64
			 " (%s)", off, why[0] ? why : jrx_strerror(ret));
		ret = 1;
	}
	free(sb);
	return ret;
}

/* libblkid's verdict on the open descriptor: 1, 0, or an error. */
static int blkid_find(struct jrx_dev *d, char *what, size_t len)
{
	blkid_probe pr = blkid_new_probe();
	const char *type = NULL, *uuid = NULL, *label = NULL;
	int ret, found = 0;

	if (!pr)
		return jrx_fail(-ENOMEM, "%s: cannot start a libblkid probe",
				d->path);
	if (blkid_probe_set_device(pr, d->fd, 0, 0)) {
		blkid_free_probe(pr);
		return jrx_fail(-EIO, "%s: libblkid cannot probe it", d->path);
	}
	blkid_probe_enable_superblocks(pr, 1);
	blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE |
					  BLKID_SUBLKS_UUID | BLKID_SUBLKS_LABEL);
	blkid_probe_enable_partitions(pr, 1);
	blkid_probe_set_partitions_flags(pr, BLKID_PARTS_MAGIC);
	ret = blkid_do_safeprobe(pr);
	if (ret == 0) {
		blkid_probe_lookup_value(pr, "TYPE", &type, NULL);
		blkid_probe_lookup_value(pr, "UUID", &uuid, NULL);
		blkid_probe_lookup_value(pr, "LABEL", &label, NULL);
		if (!type && !blkid_probe_lookup_value(pr, "PTTYPE", &type, NULL))
			snprintf(what, len, "a %s partition table", type);
		else
			snprintf(what, len, "a %s signature%s%s%s%s%s",
				 type ? type : "known", uuid ? " (UUID " : "",
				 uuid ? uuid : "", label ? ", LABEL " : "",
				 label ? label : "", uuid ? ")" : "");
		found = 1;
	} else if (ret == -2) {
		snprintf(what, len, "several signatures (libblkid: ambiguous)");
		found = 1;
	}
	/* ret 1: nothing; -1: probing failed, which says nothing is there */
	blkid_free_probe(pr);
	return found;
}

int jrx_dev_signature(struct jrx_dev *d, char *what, size_t len)
{
	int ret = jrx_copy(d, JRX_SB_PRIMARY_OFFSET, what, len);

	if (!ret)
		ret = jrx_copy(d, JRX_SB_BACKUP_OFFSET, what, len);
	if (!ret)
		ret = blkid_find(d, what, len);
	return ret;
}
