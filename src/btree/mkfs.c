/* mkfs.c - lay out a new, clean array (see mkfs.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <inttypes.h>
#include <sys/random.h>
#include "mkfs.h"
#include "jrx/errors.h"
#include "../btree/bulk.h"
#include "../util/diag.h"
#include "../format/sb.h"
#include "../io/array.h"
#include "../io/lock.h"
#include "../io/signature.h"

void jrx_format_opts_default(struct jrx_format_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->bucket_size = 1u << 20;
	o->btree_node_size = 256u << 10;
	o->replicas = 1;
}

static int is_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

static int check_opts(const struct jrx_format_opts *o, unsigned n)
{
	if (!n || n > JRX_MAX_DEVICES)
		return jrx_fail(-JRX_ERR_BAD_OPTION, "need 1 to %u devices, got %u",
				JRX_MAX_DEVICES, n);
	if (!is_pow2(o->bucket_size) || o->bucket_size < (64u << 10) ||
	    o->bucket_size > (64u << 20))
		return jrx_fail(-JRX_ERR_BAD_OPTION, "--bucket-size %u: must be a"
				" power of two from 64 KiB to 64 MiB", o->bucket_size);
	if (!is_pow2(o->btree_node_size) || o->btree_node_size < (16u << 10) ||
	    o->btree_node_size > o->bucket_size)
		return jrx_fail(-JRX_ERR_BAD_OPTION, "--btree-node-size %u: must be"
				" a power of two from 16 KiB to the bucket size",
				o->btree_node_size);
	if (o->replicas < 1 || o->replicas > 2 || o->replicas > n)
		return jrx_fail(-JRX_ERR_BAD_OPTION, "--replicas %u: must be 1 or 2"
				" and at most the number of devices", o->replicas);
	return 0;
}

/*
 * Open member i for formatting: created first when a size is asked for and
 * it does not exist, claimed exclusively (io/lock.h), refused if it holds
 * anything (io/signature.h) unless forced, and only then sized.
 */
static int open_member(struct jrx_dev *d, const char *path,
		       const struct jrx_format_opts *o)
{
	char what[256];
	int fd, ret;

	if (o->size) {
		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
		if (fd < 0)
			return jrx_fail(-errno, "%s: cannot create: %s", path,
					strerror(errno));
		close(fd);
	}
	ret = jrx_dev_open(d, path, JRX_DEV_EXCL);
	if (!ret)
		ret = jrx_dev_lock(d, JRX_LOCK_EXCLUSIVE, false);
	if (!ret && !o->force) {
		ret = jrx_dev_signature(d, what, sizeof(what));
		if (ret > 0)
			ret = jrx_fail(-JRX_ERR_DEV_HAS_DATA, "%s: holds %s;"
				       " not formatting it (--force discards"
				       " what it holds)", path, what);
	}
	if (!ret && o->size && d->blockdev)
		ret = jrx_fail(-JRX_ERR_BAD_OPTION, "%s: --size applies to"
			       " regular files, not a block device", path);
	if (!ret && o->size) {
		if (ftruncate(d->fd, 0) || ftruncate(d->fd, (off_t)o->size))
			ret = jrx_fail(-errno, "%s: cannot size to %" PRIu64
				       " bytes: %s", path, o->size,
				       strerror(errno));
		d->size = o->size;
	}
	if (ret && d->fd >= 0)
		jrx_dev_close(d);
	return ret;
}

static int build_empty(struct jrx_array *a, struct jrx_buckets *bt,
		       unsigned id, struct jrx_btree_root *root)
{
	struct jrx_bulk b;
	int ret = jrx_bulk_init(&b, a, bt, id, a->sb.btree_node_size, 75, 0);

	if (ret)
		return ret;
	if (id == JRX_BTREE_INODES) {
		uint64_t buf[JRX_BKEY_U64S + sizeof(struct jrx_inode_val) / 8];
		struct jrx_bkey *k = (struct jrx_bkey *)buf;
		struct jrx_inode_val *v = (void *)(buf + JRX_BKEY_U64S);

		jrx_bkey_init(k, JRX_KEY_INODE,
			      jrx_bpos(JRX_ROOT_INO, 0, JRX_SNAPSHOT_DEFAULT),
			      sizeof(*v));
		memset(v, 0, sizeof(*v));
		v->mode = 040755;
		v->nlink = 2;
		v->mtime = v->ctime = (uint64_t)time(NULL);
		ret = jrx_bulk_add(&b, k);
	}
	if (!ret)
		ret = jrx_bulk_finish(&b, root);
	jrx_bulk_exit(&b);
	return ret;
}

int jrx_format(const char *const *paths, unsigned n,
	       const struct jrx_format_opts *o)
{
	struct jrx_array *a = calloc(1, sizeof(*a));
	struct jrx_buckets bt;
	struct jrx_sb *sb;
	uint8_t uuid[16];
	int ret;

	if (!a)
		return -ENOMEM;
	for (unsigned i = 0; i < JRX_MAX_DEVICES; i++)
		a->devs[i].fd = -1;
	ret = check_opts(o, n);
	if (ret)
		goto out_free;
	for (unsigned i = 0; i < n; i++) {
		ret = open_member(&a->devs[i], paths[i], o);
		if (ret)
			goto out;
	}
	if (getrandom(uuid, sizeof(uuid), 0) != sizeof(uuid)) {
		ret = -EIO;
		goto out;
	}
	sb = &a->sb;
	memcpy(sb->magic, JRX_SB_MAGIC, sizeof(sb->magic));
	memcpy(sb->uuid, uuid, 16);
	sb->version = JRX_FORMAT_VERSION;
	sb->nr_devices = n;
	sb->block_size = JRX_BLOCK_SIZE;
	sb->bucket_size = o->bucket_size;
	sb->btree_node_size = o->btree_node_size;
	sb->metadata_replicas = o->replicas;
	sb->time = (uint64_t)time(NULL);
	a->nr_devs = n;
	a->jset_magic = jrx_jset_magic(uuid);
	a->node_magic = jrx_node_magic(uuid);

	for (unsigned i = 0; i < n; i++) {
		struct jrx_member *m = &sb->members[i];
		uint64_t jbytes = o->journal_size;
		uint64_t first, nb;

		first = (JRX_RESERVED_BYTES + o->bucket_size - 1) / o->bucket_size;
		nb = a->devs[i].size / o->bucket_size;
		if (!jbytes) {
			jbytes = a->devs[i].size / 16;
			if (jbytes < 8ull * o->bucket_size)
				jbytes = 8ull * o->bucket_size;
			if (jbytes > (1ull << 30))
				jbytes = 1ull << 30;
		}
		if (getrandom(m->uuid, 16, 0) != 16) {
			ret = -EIO;
			goto out;
		}
		m->nbuckets = nb;
		m->first_bucket = first;
		m->journal_bucket = first;
		m->journal_nr = (uint32_t)((jbytes + o->bucket_size - 1) / o->bucket_size);
		m->state = 1;
		if (m->journal_nr < 2 || first + m->journal_nr + 16 > nb) {
			ret = jrx_fail(-JRX_ERR_DEV_TOO_SMALL, "%s: %" PRIu64 " bytes"
				       " holds %" PRIu64 " buckets of %u bytes; need"
				       " %" PRIu64 " (reserved area, %u journal"
				       " buckets and 16 more)", paths[i],
				       a->devs[i].size, nb, o->bucket_size,
				       first + m->journal_nr + 16, m->journal_nr);
			goto out;
		}
	}

	ret = jrx_buckets_init(&bt, sb, NULL);
	if (ret)
		goto out;
	for (unsigned i = 0; i < n && !ret; i++) {
		const struct jrx_member *m = &sb->members[i];

		for (uint64_t b = 0; b < m->first_bucket && !ret; b++)
			ret = jrx_bucket_add_sectors(&bt, i, b, JRX_DATA_SB,
						     bt.bucket_sectors, 0);
		for (uint64_t b = 0; b < m->journal_nr && !ret; b++)
			ret = jrx_bucket_add_sectors(&bt, i, m->journal_bucket + b,
						     JRX_DATA_JOURNAL,
						     bt.bucket_sectors, 0);
	}
	for (unsigned id = 0; id < JRX_BTREE_NR && !ret; id++)
		if (id != JRX_BTREE_ALLOC && id != JRX_BTREE_ACCOUNTING)
			ret = build_empty(a, &bt, id, &sb->roots[id]);
	if (!ret)
		ret = jrx_bulk_alloc_trees(a, &bt, 1, 0,
					   &sb->roots[JRX_BTREE_ACCOUNTING],
					   &sb->roots[JRX_BTREE_ALLOC]);
	jrx_buckets_exit(&bt);
	if (ret)
		goto out;
	sb->flags = JRX_SB_CLEAN;
	sb->journal_seq = 0;
	sb->seq = 0;
	ret = jrx_array_write_sb(a);
out:
	jrx_array_close(a);
out_free:
	free(a);
	return ret;
}
