/* fskeys.c - building the file-system keys (see fskeys.h). */
#include <string.h>
#include "fskeys.h"
#include "bkey.h"
#include "checksum.h"

struct jrx_bpos jrx_fskey_name_pos(uint64_t inum, const char *name,
				   size_t len)
{
	return jrx_bpos(inum, jrx_name_hash(name, len), JRX_SNAPSHOT_DEFAULT);
}

struct jrx_bkey *jrx_fskey_inode(uint64_t *buf, uint64_t inum,
				 const struct jrx_inode_val *v)
{
	struct jrx_bkey *k = (struct jrx_bkey *)buf;

	jrx_bkey_init(k, JRX_KEY_INODE, jrx_bpos(inum, 0, JRX_SNAPSHOT_DEFAULT),
		      sizeof(*v));
	memcpy(jrx_bkey_val(k), v, sizeof(*v));
	return k;
}

struct jrx_bkey *jrx_fskey_extent(uint64_t *buf, uint64_t inum, uint64_t end,
				  uint32_t sectors,
				  const struct jrx_extent_val *v)
{
	struct jrx_bkey *k = (struct jrx_bkey *)buf;

	jrx_bkey_init(k, JRX_KEY_EXTENT,
		      jrx_bpos(inum, end, JRX_SNAPSHOT_DEFAULT), sizeof(*v));
	k->size = sectors;
	memcpy(jrx_bkey_val(k), v, sizeof(*v));
	return k;
}

struct jrx_bkey *jrx_fskey_dirent(uint64_t *buf, uint64_t dir,
				  const char *name, size_t len,
				  uint64_t target, unsigned d_type)
{
	struct jrx_bkey *k = (struct jrx_bkey *)buf;
	struct jrx_dirent_val *d;

	jrx_bkey_init(k, JRX_KEY_DIRENT, jrx_fskey_name_pos(dir, name, len),
		      sizeof(*d) + len);
	d = jrx_bkey_val(k);
	memset(d, 0, jrx_bkey_val_bytes(k));
	d->target = target;
	d->d_type = (uint8_t)d_type;
	d->name_len = (uint8_t)len;
	memcpy(d + 1, name, len);
	return k;
}

struct jrx_bkey *jrx_fskey_xattr(uint64_t *buf, uint64_t inum,
				 const char *name, size_t len,
				 const void *value, uint16_t vlen)
{
	struct jrx_bkey *k = (struct jrx_bkey *)buf;
	struct jrx_xattr_val *x;

	jrx_bkey_init(k, JRX_KEY_XATTR, jrx_fskey_name_pos(inum, name, len),
		      sizeof(*x) + len + vlen);
	x = jrx_bkey_val(k);
	memset(x, 0, jrx_bkey_val_bytes(k));
	x->name_len = (uint8_t)len;
	x->value_len = vlen;
	memcpy(x + 1, name, len);
	memcpy((char *)(x + 1) + len, value, vlen);
	return k;
}
