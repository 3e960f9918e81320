/* fsops.c - file-system operations through the write path (see fsops.h). */
#include <errno.h>
#include <string.h>
#include <inttypes.h>
#include "fsops.h"
#include "jrx/errors.h"
#include "../util/diag.h"

#define SNAP JRX_SNAPSHOT_DEFAULT
#define KEYBUF_U64S JRX_KEY_MAX_U64S

static int put(struct jrx_fs *fs, unsigned btree, const struct jrx_bkey *k)
{
	return jrx_fs_update(fs, btree, k);
}

static int whiteout(struct jrx_fs *fs, unsigned btree, struct jrx_bpos p)
{
	struct jrx_bkey k;

	jrx_bkey_init(&k, JRX_KEY_WHITEOUT, p, 0);
	return put(fs, btree, &k);
}

static int get_inode(struct jrx_fs *fs, uint64_t inum, struct jrx_inode_val *v)
{
	const struct jrx_bkey *k;
	int ret = jrx_btree_lookup(fs, JRX_BTREE_INODES, jrx_bpos(inum, 0, SNAP), &k);

	if (ret)
		return ret;
	if (!k)
		return jrx_fail(-JRX_ERR_NOT_FOUND, "inode %" PRIu64 " not found", inum);
	memcpy(v, jrx_bkey_val(k), sizeof(*v));
	return 0;
}

static int put_inode(struct jrx_fs *fs, uint64_t inum, const struct jrx_inode_val *v)
{
	uint64_t buf[JRX_BKEY_U64S + sizeof(*v) / 8];

	return put(fs, JRX_BTREE_INODES, jrx_fskey_inode(buf, inum, v));
}

static int put_extent(struct jrx_fs *fs, uint64_t inum, uint64_t end,
		      uint32_t size, const struct jrx_extent_val *e)
{
	uint64_t buf[JRX_BKEY_U64S + sizeof(*e) / 8];

	return put(fs, JRX_BTREE_EXTENTS, jrx_fskey_extent(buf, inum, end, size, e));
}

/*
 * Drop what [start, end) of inum covers: fragments outside the range are
 * rewritten as their own keys, covered sectors are freed.  skip_end: no
 * whiteout is needed for a key ending exactly at end (it is overwritten).
 */
static int punch(struct jrx_fs *fs, uint64_t inum, uint64_t start, uint64_t end,
		 bool skip_end)
{
	struct jrx_bpos pos = jrx_bpos(inum, start + 1, 0);
	int ret;

	for (;;) {
		const struct jrx_bkey *k;
		struct jrx_extent_val e;
		uint64_t ke, ks, lo, hi;
		uint32_t ksize;

		ret = jrx_btree_peek(fs, JRX_BTREE_EXTENTS, pos, &k);
		if (ret || !k || k->p.inode != inum)
			return ret;
		ke = k->p.offset;
		ksize = k->size;
		ks = ke - ksize;
		if (ks >= end)
			return 0;
		memcpy(&e, jrx_bkey_val(k), sizeof(e));
		lo = ks > start ? ks : start;
		hi = ke < end ? ke : end;
		if (ks < start) {
			ret = put_extent(fs, inum, start, (uint32_t)(start - ks), &e);
			if (ret)
				return ret;
		}
		if (ke > end) {
			struct jrx_extent_val back = e;

			back.sector += end - ks;
			ret = put_extent(fs, inum, ke, (uint32_t)(ke - end), &back);
		} else if (!(skip_end && ke == end)) {
			ret = whiteout(fs, JRX_BTREE_EXTENTS, jrx_bpos(inum, ke, SNAP));
		}
		if (!ret)
			ret = jrx_fs_free_data(fs, e.dev, e.sector + (lo - ks),
					       (uint32_t)(hi - lo));
		if (ret)
			return ret;
		pos = jrx_bpos(inum, ke + 1, 0);
	}
}

int jrx_op_write(struct jrx_fs *fs, uint64_t inum, uint64_t start,
		 uint32_t len, uint64_t tag, uint64_t now)
{
	struct jrx_inode_val iv;
	uint64_t end = start + len, cur = start;
	int ret = get_inode(fs, inum, &iv);

	if (ret)
		return ret;
	if (!len)
		return jrx_fail(-JRX_ERR_BAD_OPTION, "write of 0 sectors");
	ret = punch(fs, inum, start, end, true);
	while (!ret && cur < end) {
		struct jrx_extent_val e = { .data_tag = tag };
		uint32_t got;

		ret = jrx_fs_alloc_data(fs, (uint32_t)(end - cur), &e.dev,
					&e.sector, &got, &e.gen);
		if (!ret)
			ret = put_extent(fs, inum, cur + got, got, &e);
		cur += got;
	}
	if (!ret) {
		if (end * JRX_SECTOR_SIZE > iv.size)
			iv.size = end * JRX_SECTOR_SIZE;
		iv.mtime = now;
		ret = put_inode(fs, inum, &iv);
	}
	return ret ? ret : jrx_fs_commit(fs);
}

int jrx_op_truncate(struct jrx_fs *fs, uint64_t inum, uint64_t size,
		    uint64_t now)
{
	struct jrx_inode_val iv;
	uint64_t end = (size + JRX_SECTOR_SIZE - 1) / JRX_SECTOR_SIZE;
	int ret = get_inode(fs, inum, &iv);

	if (ret)
		return ret;
	ret = punch(fs, inum, end, UINT64_MAX - 1, false);
	if (!ret) {
		iv.size = size;
		iv.mtime = now;
		ret = put_inode(fs, inum, &iv);
	}
	return ret ? ret : jrx_fs_commit(fs);
}

static struct jrx_bpos name_pos(uint64_t dir, const char *name)
{
	return jrx_fskey_name_pos(dir, name, strlen(name));
}

int jrx_op_create(struct jrx_fs *fs, uint64_t dir, const char *name,
		  uint64_t inum, unsigned d_type, uint64_t now)
{
	uint64_t buf[KEYBUF_U64S];
	struct jrx_inode_val iv = { 0 }, dv;
	const struct jrx_bkey *old;
	size_t nl = strlen(name);
	int ret;

	if (!nl || nl > 255)
		return jrx_fail(-JRX_ERR_BAD_OPTION, "name length %zu", nl);
	ret = jrx_btree_lookup(fs, JRX_BTREE_DIRENTS, name_pos(dir, name), &old);
	if (ret)
		return ret;
	if (old)
		return jrx_fail(-EEXIST, "dirent hash of '%s' in %" PRIu64 " taken",
				name, dir);
	ret = get_inode(fs, dir, &dv);
	if (ret)
		return ret;
	iv.mode = d_type == JRX_DT_DIR ? JRX_MODE_DIR : JRX_MODE_REG;
	iv.nlink = d_type == JRX_DT_DIR ? 2 : 1;
	iv.mtime = iv.ctime = now;
	iv.generation = inum;
	ret = put_inode(fs, inum, &iv);
	if (ret)
		return ret;
	ret = put(fs, JRX_BTREE_DIRENTS,
		  jrx_fskey_dirent(buf, dir, name, nl, inum, d_type));
	if (!ret) {
		dv.mtime = now;
		if (d_type == JRX_DT_DIR)
			dv.nlink++;
		ret = put_inode(fs, dir, &dv);
	}
	if (!ret)
		ret = jrx_fs_acct_inodes(fs, 1);
	return ret ? ret : jrx_fs_commit(fs);
}

/* Whiteouts for every key of inum in a btree keyed by (inum, ...). */
static int drop_all(struct jrx_fs *fs, unsigned btree, uint64_t inum)
{
	struct jrx_bpos pos = jrx_bpos(inum, 0, 0);
	int ret;

	for (;;) {
		const struct jrx_bkey *k;
		struct jrx_bpos p;

		ret = jrx_btree_peek(fs, btree, pos, &k);
		if (ret || !k || k->p.inode != inum)
			return ret;
		p = k->p;
		ret = whiteout(fs, btree, p);
		if (ret)
			return ret;
		pos = jrx_bpos_successor(p);
	}
}

int jrx_op_unlink(struct jrx_fs *fs, uint64_t dir, const char *name,
		  uint64_t inum)
{
	int ret = punch(fs, inum, 0, UINT64_MAX - 1, false);

	if (!ret)
		ret = drop_all(fs, JRX_BTREE_XATTRS, inum);
	if (!ret)
		ret = whiteout(fs, JRX_BTREE_DIRENTS, name_pos(dir, name));
	if (!ret)
		ret = whiteout(fs, JRX_BTREE_INODES, jrx_bpos(inum, 0, SNAP));
	if (!ret)
		ret = jrx_fs_acct_inodes(fs, -1);
	return ret ? ret : jrx_fs_commit(fs);
}

int jrx_op_setxattr(struct jrx_fs *fs, uint64_t inum, const char *name,
		    const void *value, uint16_t len)
{
	uint64_t buf[KEYBUF_U64S];
	size_t nl = strlen(name);
	int ret;

	if (!nl || nl > 255 || sizeof(struct jrx_bkey) +
	    sizeof(struct jrx_xattr_val) + nl + len > JRX_KEY_MAX_U64S * 8)
		return jrx_fail(-JRX_ERR_BAD_OPTION, "xattr too large");
	ret = put(fs, JRX_BTREE_XATTRS,
		  jrx_fskey_xattr(buf, inum, name, nl, value, len));
	return ret ? ret : jrx_fs_commit(fs);
}
