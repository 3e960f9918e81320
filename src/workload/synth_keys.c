/*
 * synth_keys.c - the keys of synth model entries (synth_int.h): the names
 * "n<hex id>" and "user.x<hex id>", and the inode, extent, dirent and
 * xattr keys, built with the workloads' one set of key builders
 * (fskeys.h).  Values not in the model are made here: the inode times
 * from the synthetic clock, an xattr value from the PRNG.
 */
#include <string.h>
#include "synth_int.h"
#include "../format/fskeys.h"

#define NAME_MAX_BYTES	16u		/* "user.x" and 8 hex digits */
#define XVAL_MIN	8u		/* xattr values: 8 to 56 bytes */
#define XVAL_SPAN	49u

static unsigned mk_name(char *out, const char *prefix, unsigned plen, uint32_t id)
{
	static const char hx[] = "0123456789abcdef";
	char tmp[8];
	unsigned n = 0;

	memcpy(out, prefix, plen);
	do {
		tmp[n++] = hx[id & 15];
		id >>= 4;
	} while (id);
	for (unsigned i = 0; i < n; i++)
		out[plen + i] = tmp[n - 1 - i];
	return plen + n;
}

static unsigned dirent_name(const struct syn_de *d, char *name)
{
	return mk_name(name, "n", 1, d->name);
}

static unsigned xattr_name(const struct syn_xa *x, char *name)
{
	return mk_name(name, "user.x", 6, x->name);
}

struct jrx_bpos synth_dirent_pos(const struct syn_de *d)
{
	char name[NAME_MAX_BYTES];
	unsigned len = dirent_name(d, name);

	return jrx_fskey_name_pos(inum_of(d->dir), name, len);
}

struct jrx_bpos synth_xattr_pos(const struct syn_xa *x)
{
	char name[NAME_MAX_BYTES];
	unsigned len = xattr_name(x, name);

	return jrx_fskey_name_pos(inum_of(x->ino), name, len);
}

struct jrx_bkey *synth_inode_key(struct synth *s, uint64_t *buf, uint32_t idx)
{
	const struct syn_ino *in = &s->ino[idx];
	bool dir = in->nlink & DIR_BIT;
	struct jrx_inode_val v;

	memset(&v, 0, sizeof(v));
	v.size = dir ? 0 : round_up(in->next, EXT_GROW) * EXT_SECTORS *
		JRX_SECTOR_SIZE;
	v.mtime = v.ctime = s->now;
	v.generation = idx ? 1 : 0;
	v.mode = dir ? JRX_MODE_DIR : JRX_MODE_REG;
	v.nlink = in->nlink & ~DIR_BIT;
	v.uid = v.gid = idx ? 1000 : 0;
	return jrx_fskey_inode(buf, inum_of(idx), &v);
}

struct jrx_bkey *synth_extent_key(uint64_t *buf, const struct syn_ext *e,
				  uint32_t gen, uint64_t tag)
{
	struct jrx_extent_val v = {
		.sector = e->ptr & PTR_SECTOR_MASK,
		.dev = (uint32_t)(e->ptr >> PTR_DEV_SHIFT),
		.gen = gen,
		.data_tag = tag,
	};

	return jrx_fskey_extent(buf, inum_of(e->ino),
				(uint64_t)e->no * EXT_SECTORS, EXT_SECTORS, &v);
}

struct jrx_bkey *synth_dirent_key(struct synth *s, uint64_t *buf,
				  const struct syn_de *d)
{
	char name[NAME_MAX_BYTES];
	unsigned len = dirent_name(d, name);

	return jrx_fskey_dirent(buf, inum_of(d->dir), name, len,
				inum_of(d->target),
				is_dir(s, d->target) ? JRX_DT_DIR : JRX_DT_REG);
}

struct jrx_bkey *synth_xattr_key(struct synth *s, uint64_t *buf,
				 const struct syn_xa *x)
{
	char name[NAME_MAX_BYTES];
	uint8_t val[XVAL_MIN + XVAL_SPAN - 1];
	unsigned len = xattr_name(x, name);
	unsigned vlen = XVAL_MIN + (unsigned)below(s, XVAL_SPAN);

	for (unsigned o = 0; o < vlen; o += 8) {
		uint64_t w = rnd(s);

		memcpy(val + o, &w, vlen - o < 8 ? vlen - o : 8);
	}
	return jrx_fskey_xattr(buf, inum_of(x->ino), name, len, val,
			       (uint16_t)vlen);
}
