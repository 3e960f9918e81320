/*
 * synth.c - `jrx synth`: a base btree plus a journal of N keys (synth.h).
 *
 * Owns: the compact model of the store being generated (flat arrays, no
 * per-key allocation), the key mix scheduler, the base build and the jset
 * stream.  Layout of the file: PRNG and model helpers, key builders, the
 * operations that make journal keys, the base build, the capacity checks,
 * and jrx_synth() that runs the phases.
 *
 * The model, all in flat arrays indexed by small integers:
 *   inode idx i      -> inum JRX_ROOT_INO + i (idx 0 is the root directory);
 *                       per inode: extent count (files) and nlink + dir bit
 *   extent           -> (inode idx, extent number n, device pointer); it
 *                       covers file sectors [8(n-1), 8n), so an overwrite
 *                       hits the same position with a new pointer
 *   dirent           -> (dir idx, target idx, name id), name "n<hex id>"
 *   xattr            -> (inode idx, name id), name "user.x<hex id>"
 * A file's i_size is its extent count rounded up to 16 extents (64 KiB),
 * so an append past i_size journals the inode with the new size.  Values
 * that are not in the model (times, xattr values, data tags) are generated
 * afresh each time a key is written: every journal key is a final value.
 *
 * The "hot" distribution (synth.h) works on the same model: the hot file
 * is a base file chosen after the inodes are planned (or, with no file in
 * the base, the first file the journal creates), the hot directory is the
 * root.  Their entries are listed apart so a hot operation picks among
 * them: the hot file's extents by index into ext, the root's dirents by
 * index into de (neither is ever removed), and the hot file's xattrs in
 * their own array hot_xa (xattrs are removed by moving the last one into
 * the hole, which would break an index list), never in xa.  Every
 * operation makes the same keys, alloc and accounting changes as in the
 * other distributions; only the inode it works on differs.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <inttypes.h>
#include "synth.h"
#include "../btree/mkfs.h"
#include "jrx/errors.h"
#include "../btree/accounting.h"
#include "../btree/buckets.h"
#include "../btree/bulk.h"
#include "../format/bkey.h"
#include "../format/checksum.h"
#include "../util/diag.h"
#include "../journal/journal.h"
#include "../util/clock.h"

enum { B_EXT = JRX_BTREE_EXTENTS, B_INO = JRX_BTREE_INODES,
       B_DIR = JRX_BTREE_DIRENTS, B_XAT = JRX_BTREE_XATTRS };
_Static_assert(JRX_BTREE_EXTENTS == 0 && JRX_BTREE_XATTRS == 3, "btree ids");

#define EXT_SECTORS	8u		/* every extent: 4 KiB */
#define EXT_GROW	16u		/* i_size steps, in extents */
#define DIR_ONE_IN	32u		/* share of new inodes that are dirs */
#define XDEL_ONE_IN	8u		/* share of xattr updates that delete */
#define ACTIVE_FILES	64u		/* files being appended to */
#define TX_MARGIN	1024u		/* jset bytes one operation may add */
#define T0		1700000000ull	/* synthetic clock for inode times */
#define DIR_BIT		0x80000000u
#define DT_REG		8u
#define DT_DIR		4u
#define PTR_DEV_SHIFT	58
#define PTR_SECTOR_MASK	((1ull << PTR_DEV_SHIFT) - 1)
#define ACCT_U64S	(JRX_BKEY_U64S + sizeof(struct jrx_accounting_val) / 8)
#define KEY_BUF_U64S	64u		/* room for any key built here */
#define NCELLS		(2 * JRX_SYNTH_NR_BTREES) /* (btree, new|overwrite) */
#define NO_INO		UINT32_MAX	/* hot: no hot file (yet) */

struct syn_ino { uint32_t next; uint32_t nlink; };	/* nlink | DIR_BIT */
struct syn_ext { uint32_t ino; uint32_t no; uint64_t ptr; };
struct syn_de  { uint32_t dir; uint32_t target; uint32_t name; };
struct syn_xa  { uint32_t ino; uint32_t name; };

struct synth {
	struct jrx_array	*a;
	const struct jrx_synth_opts *o;
	struct jrx_synth_report	*r;
	uint64_t		 rng[4];
	struct jrx_buckets	 bt;
	struct jrx_acct		 acct;
	struct jrx_journal	 j;
	bool			 bt_init, j_init;
	struct jrx_btree_root	 roots[JRX_BTREE_NR];
	/* model */
	struct syn_ino	*ino;	size_t n_ino, cap_ino;
	struct syn_ext	*ext;	size_t n_ext, cap_ext;
	struct syn_de	*de;	size_t n_de, cap_de;
	struct syn_xa	*xa;	size_t n_xa, cap_xa;
	uint32_t	*dirs;	size_t n_dirs, cap_dirs;
	uint32_t	 active[ACTIVE_FILES];
	unsigned	 n_active, active_pos;
	uint32_t	 next_dname, next_xname;
	uint64_t	 tag, now;
	bool		 named;		/* dirents are generated at all */
	/* choosing existing positions */
	uint64_t	 n_base[JRX_SYNTH_NR_BTREES];
	uint64_t	 mul[JRX_SYNTH_NR_BTREES], add[JRX_SYNTH_NR_BTREES];
	uint64_t	 cursor[JRX_SYNTH_NR_BTREES];
	/* mix scheduler: cells [btree] new, [4 + btree] overwrite */
	double		 target[NCELLS];
	uint64_t	 cnt[NCELLS];
	uint64_t	 emitted, first_seq, ops;
	/* "hot": the hot inodes, their entries, the keys on them */
	uint32_t	 hot_file, hot_dir;	/* inode idx */
	bool		 hot;		/* the current operation goes to them */
	uint32_t	*hot_ext; size_t n_hot_ext, cap_hot_ext; /* idx in ext */
	uint32_t	*hot_de;  size_t n_hot_de, cap_hot_de;	 /* idx in de */
	struct syn_xa	*hot_xa;  size_t n_hot_xa, cap_hot_xa;	 /* not in xa */
	uint64_t	 hot_keys;
};

/* ---------------------------------------------------------------- helpers */

static uint64_t splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static inline uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

/* xoshiro256** */
static inline uint64_t rnd(struct synth *s)
{
	uint64_t *v = s->rng, r = rotl(v[1] * 5, 7) * 9, t = v[1] << 17;

	v[2] ^= v[0];
	v[3] ^= v[1];
	v[1] ^= v[2];
	v[0] ^= v[3];
	v[2] ^= t;
	v[3] = rotl(v[3], 45);
	return r;
}

static inline uint64_t below(struct synth *s, uint64_t n)
{
	return (uint64_t)(((unsigned __int128)rnd(s) * n) >> 64);
}

static inline double unit(struct synth *s)
{
	return (double)(rnd(s) >> 11) * 0x1.0p-53;
}

static int grow(void **p, size_t *cap, size_t elem)
{
	size_t ncap = *cap ? *cap * 2 : 4096;
	void *n = realloc(*p, ncap * elem);

	if (!n)
		return jrx_fail(-ENOMEM, "synth: out of memory for the model"
				" (%zu entries of %zu bytes)", ncap, elem);
	*p = n;
	*cap = ncap;
	return 0;
}

#define RESERVE(s, arr, n, cap) \
	((s)->n < (s)->cap ? 0 : grow((void **)&(s)->arr, &(s)->cap, \
				       sizeof(*(s)->arr)))

static inline uint64_t inum_of(uint32_t idx)
{
	return JRX_ROOT_INO + (uint64_t)idx;
}

static inline bool is_dir(const struct synth *s, uint32_t idx)
{
	return s->ino[idx].nlink & DIR_BIT;
}

static inline uint64_t round_up(uint64_t v, uint64_t to)
{
	return (v + to - 1) / to * to;
}

static inline bool dist_hot(const struct synth *s)
{
	return s->o->dist == JRX_SYNTH_HOT;
}

/* The hot inode of xattrs and inode rewrites: the hot file, else the dir. */
static inline uint32_t hot_owner(const struct synth *s)
{
	return s->hot_file != NO_INO ? s->hot_file : s->hot_dir;
}

/* Base plan: does this entry go to a hot inode?  One draw, "hot" only. */
static bool hot_base(struct synth *s)
{
	return dist_hot(s) && below(s, 100) < JRX_SYNTH_HOT_PCT;
}

/*
 * Journal: does the next operation go to the hot inodes?  Yes while they
 * hold less than JRX_SYNTH_HOT_PCT % of the keys emitted so far: the share
 * is exact, and it makes up for keys no operation could put there.
 */
static bool go_hot(const struct synth *s)
{
	return dist_hot(s) &&
		s->hot_keys * 100 < JRX_SYNTH_HOT_PCT * (s->emitted + 1);
}

/* List entry i of ext if the hot file owns it (of de: if in the hot dir). */
static int note_hot_ext(struct synth *s, size_t i)
{
	int ret = 0;

	if (s->ext[i].ino == s->hot_file) {
		ret = RESERVE(s, hot_ext, n_hot_ext, cap_hot_ext);
		if (!ret)
			s->hot_ext[s->n_hot_ext++] = (uint32_t)i;
	}
	return ret;
}

static int note_hot_de(struct synth *s, size_t i)
{
	int ret = 0;

	if (dist_hot(s) && s->de[i].dir == s->hot_dir) {
		ret = RESERVE(s, hot_de, n_hot_de, cap_hot_de);
		if (!ret)
			s->hot_de[s->n_hot_de++] = (uint32_t)i;
	}
	return ret;
}

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

/* --------------------------------------------------------------- key builders */

static struct jrx_bkey *mk_inode(struct synth *s, uint64_t *buf, uint32_t idx)
{
	struct jrx_bkey *k = (struct jrx_bkey *)buf;
	struct jrx_inode_val *v = (void *)(buf + JRX_BKEY_U64S);
	const struct syn_ino *in = &s->ino[idx];
	bool dir = in->nlink & DIR_BIT;

	jrx_bkey_init(k, JRX_KEY_INODE,
		      jrx_bpos(inum_of(idx), 0, JRX_SNAPSHOT_DEFAULT), sizeof(*v));
	memset(v, 0, sizeof(*v));
	v->size = dir ? 0 : round_up(in->next, EXT_GROW) * EXT_SECTORS *
		JRX_SECTOR_SIZE;
	v->mtime = v->ctime = s->now;
	v->generation = idx ? 1 : 0;
	v->mode = dir ? 040755 : 0100644;
	v->nlink = in->nlink & ~DIR_BIT;
	v->uid = v->gid = idx ? 1000 : 0;
	return k;
}

static struct jrx_bkey *mk_extent(uint64_t *buf, const struct syn_ext *e,
				  uint32_t gen, uint64_t tag)
{
	struct jrx_bkey *k = (struct jrx_bkey *)buf;
	struct jrx_extent_val *v = (void *)(buf + JRX_BKEY_U64S);

	jrx_bkey_init(k, JRX_KEY_EXTENT,
		      jrx_bpos(inum_of(e->ino), (uint64_t)e->no * EXT_SECTORS,
			       JRX_SNAPSHOT_DEFAULT), sizeof(*v));
	k->size = EXT_SECTORS;
	v->sector = e->ptr & PTR_SECTOR_MASK;
	v->dev = (uint32_t)(e->ptr >> PTR_DEV_SHIFT);
	v->gen = gen;
	v->data_tag = tag;
	return k;
}

static struct jrx_bpos dirent_pos(const struct syn_de *d, char *name,
				  unsigned *len)
{
	*len = mk_name(name, "n", 1, d->name);
	return jrx_bpos(inum_of(d->dir), jrx_name_hash(name, *len),
			JRX_SNAPSHOT_DEFAULT);
}

static struct jrx_bkey *mk_dirent(struct synth *s, uint64_t *buf,
				  const struct syn_de *d)
{
	struct jrx_bkey *k = (struct jrx_bkey *)buf;
	struct jrx_dirent_val *v = (void *)(buf + JRX_BKEY_U64S);
	char name[16];
	unsigned len;
	struct jrx_bpos p = dirent_pos(d, name, &len);

	jrx_bkey_init(k, JRX_KEY_DIRENT, p, sizeof(*v) + len);
	memset(v, 0, jrx_bkey_val_bytes(k));
	v->target = inum_of(d->target);
	v->d_type = (uint8_t)(is_dir(s, d->target) ? DT_DIR : DT_REG);
	v->name_len = (uint8_t)len;
	memcpy(v + 1, name, len);
	return k;
}

static struct jrx_bpos xattr_pos(const struct syn_xa *x, char *name,
				 unsigned *len)
{
	*len = mk_name(name, "user.x", 6, x->name);
	return jrx_bpos(inum_of(x->ino), jrx_name_hash(name, *len),
			JRX_SNAPSHOT_DEFAULT);
}

static struct jrx_bkey *mk_xattr(struct synth *s, uint64_t *buf,
				 const struct syn_xa *x)
{
	struct jrx_bkey *k = (struct jrx_bkey *)buf;
	struct jrx_xattr_val *v = (void *)(buf + JRX_BKEY_U64S);
	char name[16];
	unsigned len, vlen = 8 + (unsigned)below(s, 49);
	struct jrx_bpos p = xattr_pos(x, name, &len);
	uint8_t *val;

	jrx_bkey_init(k, JRX_KEY_XATTR, p, sizeof(*v) + len + vlen);
	memset(v, 0, jrx_bkey_val_bytes(k));
	v->name_len = (uint8_t)len;
	v->value_len = (uint16_t)vlen;
	memcpy(v + 1, name, len);
	val = (uint8_t *)(v + 1) + len;
	for (unsigned o = 0; o < vlen; o += 8) {
		uint64_t w = rnd(s);

		memcpy(val + o, &w, vlen - o < 8 ? vlen - o : 8);
	}
	return k;
}

/* ---------------------------------------------------------------- data space */

static int alloc_ext(struct synth *s, uint64_t durable, uint64_t seq,
		     uint64_t *ptr, uint32_t *gen)
{
	uint32_t dev, got;
	uint64_t sector;
	int ret = jrx_alloc_sectors(&s->bt, JRX_DATA_USER, EXT_SECTORS, durable,
				    seq, &dev, &sector, &got, gen);

	if (ret)
		return ret;
	if (got != EXT_SECTORS)	/* buckets are a multiple of 8 sectors */
		return jrx_fail(-JRX_ERR_NO_SPACE, "synth: short data allocation"
				" (%u of %u sectors)", got, EXT_SECTORS);
	*ptr = (uint64_t)dev << PTR_DEV_SHIFT | sector;
	return 0;
}

static int free_ext(struct synth *s, uint64_t ptr)
{
	uint64_t sector = ptr & PTR_SECTOR_MASK;

	return jrx_bucket_add_sectors(&s->bt, (uint32_t)(ptr >> PTR_DEV_SHIFT),
				      sector / s->bt.bucket_sectors, JRX_DATA_USER,
				      -(int64_t)EXT_SECTORS, s->j.seq);
}

/* ------------------------------------------------------------ journal keys */

static int emit(struct synth *s, unsigned btree, const struct jrx_bkey *k,
		bool overwrite)
{
	int ret = jrx_journal_add_key(&s->j, btree, 0, k);

	if (ret)
		return ret;
	s->cnt[btree + (overwrite ? JRX_SYNTH_NR_BTREES : 0)]++;
	s->emitted++;
	if (dist_hot(s) && (k->p.inode == inum_of(s->hot_dir) ||
			    (s->hot_file != NO_INO &&
			     k->p.inode == inum_of(s->hot_file))))
		s->hot_keys++;
	return 0;
}

/* Index of an existing entry of btree b (n > 0) by the distribution. */
static uint64_t pick(struct synth *s, unsigned b, uint64_t n)
{
	uint64_t r, nb = s->n_base[b];

	switch (s->o->dist) {
	case JRX_SYNTH_SEQUENTIAL:
		r = s->cursor[b]++;
		if (r >= n) {
			r = 0;
			s->cursor[b] = 1;
		}
		return r;
	case JRX_SYNTH_ZIPF:
		/* density ~ 1/rank (s = 1); rank 0 is the hottest */
		r = (uint64_t)exp(unit(s) * log((double)n + 1.0));
		r = r ? r - 1 : 0;
		if (r >= n)
			r = n - 1;
		/* hot base entries are scattered over the key space */
		if (r < nb) {
			uint64_t m = (uint64_t)(((unsigned __int128)r * s->mul[b] +
						 s->add[b]) % nb);

			if (m < n)
				r = m;
		}
		return r;
	default:
		return below(s, n);
	}
}

static void push_active(struct synth *s, uint32_t idx)
{
	s->active[s->active_pos++ % ACTIVE_FILES] = idx;
	if (s->n_active < ACTIVE_FILES)
		s->n_active++;
}

static int push_dir(struct synth *s, uint32_t idx)
{
	int ret = RESERVE(s, dirs, n_dirs, cap_dirs);

	if (!ret)
		s->dirs[s->n_dirs++] = idx;
	return ret;
}

/* New inode (file, or now and then a directory) with its name. */
static int op_create(struct synth *s, bool may_dir)
{
	uint64_t buf[KEY_BUF_U64S];
	bool dir = may_dir && s->named && !below(s, DIR_ONE_IN);
	uint32_t idx, parent = s->hot ? s->hot_dir :
		s->dirs[below(s, s->n_dirs)];
	int ret = RESERVE(s, ino, n_ino, cap_ino);

	if (!ret)
		ret = RESERVE(s, de, n_de, cap_de);
	if (ret)
		return ret;
	idx = (uint32_t)s->n_ino++;
	s->ino[idx] = (struct syn_ino){ 0, dir ? 2 | DIR_BIT : 1 };
	if (dist_hot(s) && !dir && s->hot_file == NO_INO)
		s->hot_file = idx;	/* the base had no file */
	ret = jrx_acct_add(&s->acct, jrx_acct_inodes_pos(), 1, 0);
	if (!ret)
		ret = emit(s, B_INO, mk_inode(s, buf, idx), false);
	if (!ret && s->named) {
		struct syn_de *d = &s->de[s->n_de++];

		*d = (struct syn_de){ parent, idx, s->next_dname++ };
		ret = note_hot_de(s, s->n_de - 1);
		if (!ret)
			ret = emit(s, B_DIR, mk_dirent(s, buf, d), false);
		if (!ret && dir) {
			s->ino[parent].nlink++;
			ret = emit(s, B_INO, mk_inode(s, buf, parent), true);
			if (!ret)
				ret = push_dir(s, idx);
		}
	}
	if (!ret && !dir)
		push_active(s, idx);
	return ret;
}

/* A new extent at the end of a file being written. */
static int op_append(struct synth *s)
{
	uint64_t buf[KEY_BUF_U64S];
	struct syn_ext *e;
	uint32_t f, no, gen;
	int ret;

	if (s->hot && s->hot_file != NO_INO)
		f = s->hot_file;
	else if (!s->n_active)
		return op_create(s, false);
	else
		f = s->active[below(s, s->n_active)];
	ret = RESERVE(s, ext, n_ext, cap_ext);
	if (ret)
		return ret;
	no = ++s->ino[f].next;
	e = &s->ext[s->n_ext++];
	*e = (struct syn_ext){ f, no, 0 };
	ret = note_hot_ext(s, s->n_ext - 1);
	if (!ret)
		ret = alloc_ext(s, s->j.durable_seq, s->j.seq, &e->ptr, &gen);
	if (!ret)
		ret = emit(s, B_EXT, mk_extent(buf, e, gen, ++s->tag), false);
	if (!ret && no > round_up(no - 1, EXT_GROW))	/* past i_size */
		ret = emit(s, B_INO, mk_inode(s, buf, f), true);
	return ret;
}

/* A hard link: a new name for an existing file. */
static int op_link(struct synth *s)
{
	uint64_t buf[KEY_BUF_U64S];
	struct syn_de *d;
	uint32_t t = 0;
	unsigned tries;
	int ret;

	for (tries = 0; tries < 8; tries++) {
		t = (uint32_t)below(s, s->n_ino);
		if (!is_dir(s, t))
			break;
	}
	if (tries == 8 || !s->named)
		return op_create(s, false);
	ret = RESERVE(s, de, n_de, cap_de);
	if (ret)
		return ret;
	d = &s->de[s->n_de++];
	*d = (struct syn_de){ s->hot ? s->hot_dir : s->dirs[below(s, s->n_dirs)],
			      t, s->next_dname++ };
	ret = note_hot_de(s, s->n_de - 1);
	if (!ret)
		ret = emit(s, B_DIR, mk_dirent(s, buf, d), false);
	s->ino[t].nlink++;
	if (!ret)
		ret = emit(s, B_INO, mk_inode(s, buf, t), true);
	return ret;
}

static int op_xattr_new(struct synth *s)
{
	uint64_t buf[KEY_BUF_U64S];
	uint32_t owner = s->hot ? hot_owner(s) : (uint32_t)below(s, s->n_ino);
	bool h = dist_hot(s) && owner == hot_owner(s);	/* into hot_xa */
	struct syn_xa *x;
	int ret = h ? RESERVE(s, hot_xa, n_hot_xa, cap_hot_xa) :
		RESERVE(s, xa, n_xa, cap_xa);

	if (ret)
		return ret;
	x = h ? &s->hot_xa[s->n_hot_xa++] : &s->xa[s->n_xa++];
	*x = (struct syn_xa){ owner, s->next_xname++ };
	return emit(s, B_XAT, mk_xattr(s, buf, x), false);
}

static int op_extent_ow(struct synth *s)
{
	uint64_t buf[KEY_BUF_U64S];
	struct syn_ext *e;
	uint32_t gen;
	int ret;

	if (s->hot && s->n_hot_ext)
		e = &s->ext[s->hot_ext[below(s, s->n_hot_ext)]];
	else if (!s->n_ext)
		return op_append(s);
	else
		e = &s->ext[pick(s, B_EXT, s->n_ext)];
	ret = free_ext(s, e->ptr);
	if (!ret)
		ret = alloc_ext(s, s->j.durable_seq, s->j.seq, &e->ptr, &gen);
	if (!ret)
		ret = emit(s, B_EXT, mk_extent(buf, e, gen, ++s->tag), true);
	return ret;
}

static int op_inode_ow(struct synth *s)
{
	uint64_t buf[KEY_BUF_U64S];
	uint32_t idx = s->hot ? hot_owner(s) :
		(uint32_t)pick(s, B_INO, s->n_ino);

	return emit(s, B_INO, mk_inode(s, buf, idx), true);
}

static int op_dirent_ow(struct synth *s)
{
	uint64_t buf[KEY_BUF_U64S];

	if (s->hot && s->n_hot_de)
		return emit(s, B_DIR, mk_dirent(s, buf, &s->de[s->hot_de[
					below(s, s->n_hot_de)]]), true);
	if (!s->n_de)
		return op_create(s, false);
	return emit(s, B_DIR, mk_dirent(s, buf, &s->de[pick(s, B_DIR, s->n_de)]),
		    true);
}

/* Rewrite an xattr's value, or now and then remove it (a whiteout). */
static int op_xattr_ow(struct synth *s)
{
	uint64_t buf[KEY_BUF_U64S];
	struct jrx_bkey *k = (struct jrx_bkey *)buf;
	bool h = s->hot && s->n_hot_xa;
	struct syn_xa *v = h ? s->hot_xa : s->xa;
	size_t *n = h ? &s->n_hot_xa : &s->n_xa;
	uint64_t i;
	char name[16];
	unsigned len;
	int ret;

	if (!*n)
		return op_xattr_new(s);
	i = h ? below(s, *n) : pick(s, B_XAT, *n);
	if (below(s, XDEL_ONE_IN))
		return emit(s, B_XAT, mk_xattr(s, buf, &v[i]), true);
	jrx_bkey_init(k, JRX_KEY_WHITEOUT, xattr_pos(&v[i], name, &len), 0);
	ret = emit(s, B_XAT, k, true);
	if (!ret) {
		s->r->deletes++;
		v[i] = v[--*n];
	}
	return ret;
}

static double deficit(const struct synth *s, unsigned c)
{
	return s->target[c] * (double)(s->emitted + 1) - (double)s->cnt[c];
}

/* One operation (1 to 3 keys) for the cell furthest behind its share. */
static int run_op(struct synth *s)
{
	unsigned best = NCELLS;

	s->hot = go_hot(s);
	if (s->o->keys - s->emitted < 3)
		return op_inode_ow(s);		/* exactly one key */
	for (unsigned c = 0; c < NCELLS; c++)
		if (s->target[c] > 0 &&
		    (best == NCELLS || deficit(s, c) > deficit(s, best)))
			best = c;
	switch (best) {
	case B_EXT:	return op_append(s);
	case B_INO:	return op_create(s, true);
	case B_DIR:
		return deficit(s, B_INO) >= deficit(s, 4 + B_INO) ?
			op_create(s, true) : op_link(s);
	case B_XAT:	return op_xattr_new(s);
	case 4 + B_EXT:	return op_extent_ow(s);
	case 4 + B_INO:	return op_inode_ow(s);
	case 4 + B_DIR:	return op_dirent_ow(s);
	default:	return op_xattr_ow(s);
	}
}

/* ---------------------------------------------------------------- jsets */

/* Bytes the open jset will take once its trailer is added. */
static size_t jset_estimate(const struct synth *s)
{
	const struct jrx_jset *js = (const struct jrx_jset *)s->j.buf;

	return sizeof(*js) + (size_t)js->u64s * 8 +
		8 + s->bt.nr_changed * JRX_ALLOC_KEY_U64S * 8 +
		8 + s->acct.nr * ACCT_U64S * 8 +
		JRX_BTREE_NR * (8 + JRX_PTR_U64S * 8) + 8 + sizeof(struct jrx_clock_val);
}

/* Trailer (accounting deltas, alloc keys, roots, clock), then write. */
static int close_jset(struct synth *s)
{
	uint64_t buf[KEY_BUF_U64S];
	struct jrx_bkey *k = (struct jrx_bkey *)buf;
	struct jrx_accounting_val *av = (void *)(buf + JRX_BKEY_U64S);
	struct jrx_bucket_ref *v = NULL;
	struct jrx_clock_val clock;
	size_t n;
	int ret = 0;

	for (size_t i = 0; i < s->acct.nr && !ret; i++) {
		const struct jrx_acct_delta *d = &s->acct.v[i];

		if (!d->d[0] && !d->d[1])
			continue;
		jrx_bkey_init(k, JRX_KEY_ACCOUNTING, d->p, sizeof(*av));
		k->version = s->j.seq;
		av->d[0] = d->d[0];
		av->d[1] = d->d[1];
		ret = jrx_journal_add_key(&s->j, JRX_BTREE_ACCOUNTING, 0, k);
		s->r->acct_keys++;
	}
	jrx_acct_reset(&s->acct);
	n = jrx_buckets_take_changed(&s->bt, &v);
	for (size_t i = 0; i < n && !ret; i++) {
		jrx_bucket_to_key(&s->bt, v[i].dev, v[i].bucket, k);
		ret = jrx_journal_add_key(&s->j, JRX_BTREE_ALLOC, 0, k);
		s->r->alloc_keys++;
	}
	free(v);
	for (unsigned id = 0; id < JRX_BTREE_NR && !ret; id++)
		ret = jrx_journal_add_entry(&s->j, JRX_JE_BTREE_ROOT, id,
					    s->roots[id].level, &s->roots[id].k,
					    JRX_PTR_U64S);
	clock.time = (uint64_t)time(NULL);
	clock.ops = s->ops;
	if (!ret)
		ret = jrx_journal_add_entry(&s->j, JRX_JE_CLOCK, 0, 0, &clock,
					    sizeof(clock) / 8);
	if (!ret)
		ret = jrx_journal_write(&s->j, s->first_seq, false);
	if (ret == -JRX_ERR_JOURNAL_FULL) {
		char why[512];

		snprintf(why, sizeof(why), "%s", jrx_diag());
		return jrx_fail(ret, "journal filled up after %" PRIu64 " of %"
				PRIu64 " keys (%s); the array is now inconsistent:"
				" format it again with a bigger --journal-size",
				s->emitted, s->o->keys, why);
	}
	s->now = T0 + (s->j.seq - s->first_seq) + 1;
	if (!ret && s->o->progress)
		s->o->progress(s->o->progress_ctx, "journal", s->emitted,
			       s->o->keys);
	return ret;
}

static int gen_journal(struct synth *s)
{
	const struct jrx_synth_opts *o = s->o;
	int ret = jrx_journal_init(&s->j, s->a, s->a->sb.journal_seq + 1);

	if (ret)
		return ret;
	s->j_init = true;
	s->first_seq = s->j.seq;
	s->now = T0 + 1;
	for (unsigned b = 0; b < JRX_SYNTH_NR_BTREES; b++) {
		double w = (double)o->mix[b], sum = 0;

		for (unsigned c = 0; c < JRX_SYNTH_NR_BTREES; c++)
			sum += o->mix[c];
		s->target[b] = w / sum * (1.0 - o->overwrite_ratio);
		s->target[4 + b] = w / sum * o->overwrite_ratio;
	}
	while (!ret && s->emitted < o->keys) {
		if (jset_estimate(s) + TX_MARGIN > o->jset_size)
			ret = close_jset(s);
		if (!ret)
			ret = run_op(s);
		s->ops++;
	}
	if (!ret && (!jrx_journal_open_empty(&s->j) || !s->j.jsets_written))
		ret = close_jset(s);
	return ret;
}

/* ---------------------------------------------------------------- base */

struct sort_ent { uint64_t hash; uint32_t owner; uint32_t idx; };

static int cmp_ent(const void *x, const void *y)
{
	const struct sort_ent *a = x, *b = y;

	if (a->owner != b->owner)
		return a->owner < b->owner ? -1 : 1;
	return a->hash < b->hash ? -1 : a->hash > b->hash;
}

/* Split M keys over the btrees by weight (largest remainder). */
static void split_counts(uint64_t m, const uint32_t mix[], uint64_t c[])
{
	uint64_t sum = 0, given = 0;
	unsigned order[JRX_SYNTH_NR_BTREES];

	for (unsigned b = 0; b < JRX_SYNTH_NR_BTREES; b++)
		sum += mix[b];
	for (unsigned b = 0; b < JRX_SYNTH_NR_BTREES; b++) {
		c[b] = (uint64_t)((unsigned __int128)m * mix[b] / sum);
		given += c[b];
		order[b] = b;
	}
	for (unsigned i = 0; given < m; i = (i + 1) % JRX_SYNTH_NR_BTREES)
		if (mix[order[i]]) {
			c[order[i]]++;
			given++;
		}
}

/* A uniformly chosen file (there is one: s->n_ino > s->n_dirs). */
static uint32_t any_file(struct synth *s)
{
	uint32_t t;

	do
		t = (uint32_t)below(s, s->n_ino);
	while (is_dir(s, t));
	return t;
}

/*
 * Plan the base model: inodes, names, extent counts, xattrs.  Extents,
 * names and xattrs need inodes to belong to: a mix without inodes gets
 * one file per 16 extents, else one per 4 names (the other names are
 * links), else one per 16 xattrs.
 */
static int plan_base(struct synth *s, const uint64_t c[])
{
	uint64_t n_ino = c[B_INO] ? c[B_INO] : 1, links;
	int ret = 0;

	if (c[B_EXT] && n_ino < 2)
		n_ino = 1 + (c[B_EXT] + 15) / 16;
	else if (c[B_DIR] && n_ino < 2)
		n_ino = 1 + (c[B_DIR] + 3) / 4;
	else if (c[B_XAT] && n_ino < 2)
		n_ino = 1 + (c[B_XAT] + 15) / 16;
	s->cap_ino = n_ino + 1024;
	s->ino = malloc(s->cap_ino * sizeof(*s->ino));
	if (!s->ino)
		return -ENOMEM;
	s->ino[0] = (struct syn_ino){ 0, 2 | DIR_BIT };	/* the root */
	s->n_ino = 1;
	ret = push_dir(s, 0);
	for (uint32_t i = 1; i < n_ino && !ret; i++) {
		bool dir = s->named && !below(s, DIR_ONE_IN);
		uint32_t parent = hot_base(s) ? s->hot_dir :
			s->dirs[below(s, s->n_dirs)];

		s->ino[s->n_ino++] = (struct syn_ino){ 0, dir ? 2 | DIR_BIT : 1 };
		if (s->named) {
			ret = RESERVE(s, de, n_de, cap_de);
			if (ret)
				break;
			s->de[s->n_de++] = (struct syn_de){ parent, i, s->next_dname++ };
		}
		if (dir) {
			s->ino[parent].nlink++;
			ret = push_dir(s, i);
		}
	}
	if (dist_hot(s) && s->n_ino > s->n_dirs)
		s->hot_file = any_file(s);
	/* more names than inodes: hard links to files */
	links = s->named && c[B_DIR] > s->n_de ? c[B_DIR] - s->n_de : 0;
	for (uint64_t l = 0; l < links && !ret && s->n_ino > s->n_dirs; l++) {
		uint32_t t = any_file(s);

		ret = RESERVE(s, de, n_de, cap_de);
		if (ret)
			break;
		s->de[s->n_de++] = (struct syn_de){
			hot_base(s) ? s->hot_dir : s->dirs[below(s, s->n_dirs)],
			t, s->next_dname++ };
		s->ino[t].nlink++;
	}
	for (uint64_t e = 0; e < c[B_EXT] && !ret && s->n_ino > s->n_dirs; e++) {
		uint32_t t = hot_base(s) && s->hot_file != NO_INO ? s->hot_file :
			any_file(s);

		s->ino[t].next++;
	}
	for (uint64_t x = 0; x < c[B_XAT] && !ret; x++) {
		ret = RESERVE(s, xa, n_xa, cap_xa);
		if (!ret)
			s->xa[s->n_xa++] = (struct syn_xa){
				hot_base(s) ? hot_owner(s) :
				(uint32_t)below(s, s->n_ino), s->next_xname++ };
	}
	return ret;
}

static int bulk_begin(struct synth *s, struct jrx_bulk *b, unsigned id)
{
	return jrx_bulk_init(b, s->a, &s->bt, id, s->a->sb.btree_node_size, 75,
			     s->a->sb.journal_seq);
}

static int bulk_end(struct synth *s, struct jrx_bulk *b, unsigned id, int ret)
{
	if (!ret)
		ret = jrx_bulk_finish(b, &s->roots[id]);
	s->r->base_nodes += b->nodes;
	s->r->base_by_btree[id] = b->keys;
	s->r->base_keys += b->keys;
	jrx_bulk_exit(b);
	if (!ret && s->o->progress)
		s->o->progress(s->o->progress_ctx, "base", s->r->base_keys,
			       s->o->base_keys);
	return ret;
}

static int base_extents(struct synth *s)
{
	uint64_t buf[KEY_BUF_U64S], total = 0;
	struct jrx_bulk b;
	int ret;

	for (size_t i = 0; i < s->n_ino; i++)
		total += s->ino[i].next;
	s->cap_ext = total + 1024;
	s->ext = malloc(s->cap_ext * sizeof(*s->ext));
	if (!s->ext)
		return -ENOMEM;
	ret = bulk_begin(s, &b, B_EXT);
	if (ret)
		return ret;
	for (uint32_t i = 0; i < s->n_ino && !ret; i++)
		for (uint32_t no = 1; no <= s->ino[i].next && !ret; no++) {
			struct syn_ext *e = &s->ext[s->n_ext++];
			uint32_t gen;

			*e = (struct syn_ext){ i, no, 0 };
			ret = note_hot_ext(s, s->n_ext - 1);
			if (!ret)
				ret = alloc_ext(s, UINT64_MAX, 0, &e->ptr, &gen);
			if (!ret)
				ret = jrx_bulk_add(&b, mk_extent(buf, e, gen, ++s->tag));
		}
	return bulk_end(s, &b, B_EXT, ret);
}

static int base_inodes(struct synth *s)
{
	uint64_t buf[KEY_BUF_U64S];
	struct jrx_bulk b;
	int ret = bulk_begin(s, &b, B_INO);

	if (ret)
		return ret;
	for (uint32_t i = 0; i < s->n_ino && !ret; i++)
		ret = jrx_bulk_add(&b, mk_inode(s, buf, i));
	return bulk_end(s, &b, B_INO, ret);
}

/* Hot: list the root's base dirents. */
static int hot_dirents(struct synth *s)
{
	int ret = 0;

	for (size_t i = 0; i < s->n_de && !ret; i++)
		ret = note_hot_de(s, i);
	return ret;
}

/* Hot: move the hot file's base xattrs from xa to hot_xa. */
static int hot_xattrs(struct synth *s)
{
	uint32_t owner = hot_owner(s);
	size_t keep = 0;
	int ret = 0;

	for (size_t i = 0; i < s->n_xa && !ret; i++) {
		if (s->xa[i].ino != owner) {
			s->xa[keep++] = s->xa[i];
			continue;
		}
		ret = RESERVE(s, hot_xa, n_hot_xa, cap_hot_xa);
		if (!ret)
			s->hot_xa[s->n_hot_xa++] = s->xa[i];
	}
	if (!ret)	/* on failure the model is only freed */
		s->n_xa = keep;
	return ret;
}

/* Dirents and xattrs: sorted by (owner, name hash); the model is put in
 * that order too, so "sequential" walks base positions in order. */
static int base_named(struct synth *s, unsigned id)
{
	bool de = id == B_DIR;
	size_t n = de ? s->n_de : s->n_xa;
	struct sort_ent *v = malloc((n ? n : 1) * sizeof(*v));
	void *model = malloc((n ? n : 1) * (de ? sizeof(*s->de) : sizeof(*s->xa)));
	uint64_t buf[KEY_BUF_U64S];
	struct jrx_bulk b;
	char name[16];
	unsigned len;
	int ret = 0;

	if (!v || !model) {
		free(v);
		free(model);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		struct jrx_bpos p = de ? dirent_pos(&s->de[i], name, &len) :
			xattr_pos(&s->xa[i], name, &len);

		v[i] = (struct sort_ent){ p.offset, de ? s->de[i].dir : s->xa[i].ino,
					  (uint32_t)i };
	}
	qsort(v, n, sizeof(*v), cmp_ent);
	for (size_t i = 0; i < n; i++) {
		if (i && v[i].owner == v[i - 1].owner && v[i].hash == v[i - 1].hash)
			ret = jrx_fail(-JRX_ERR_KEY_INVALID, "synth: name hash"
				       " collision in inode %" PRIu64 "; try"
				       " another --seed", inum_of(v[i].owner));
		if (de)
			((struct syn_de *)model)[i] = s->de[v[i].idx];
		else
			((struct syn_xa *)model)[i] = s->xa[v[i].idx];
	}
	free(v);
	if (de) {
		free(s->de);
		s->de = model;
		s->cap_de = n ? n : 1;
	} else {
		free(s->xa);
		s->xa = model;
		s->cap_xa = n ? n : 1;
	}
	if (ret)
		return ret;
	ret = bulk_begin(s, &b, id);
	if (ret)
		return ret;
	for (size_t i = 0; i < n && !ret; i++)
		ret = jrx_bulk_add(&b, de ? mk_dirent(s, buf, &s->de[i]) :
				   mk_xattr(s, buf, &s->xa[i]));
	ret = bulk_end(s, &b, id, ret);
	if (!ret && dist_hot(s))
		ret = de ? hot_dirents(s) : hot_xattrs(s);
	return ret;
}

/* Odd multiplier coprime with n, to scatter zipf's hot ranks. */
static uint64_t coprime(struct synth *s, uint64_t n)
{
	uint64_t m = (rnd(s) % (n ? n : 1)) | 1;

	for (;;) {
		uint64_t a = m, b = n;

		while (b) {
			uint64_t t = a % b;

			a = b;
			b = t;
		}
		if (a == 1 || n <= 1)
			return m;
		m += 2;
	}
}

static int build_base(struct synth *s)
{
	const struct jrx_sb *sb = &s->a->sb;
	struct jrx_bucket_ref *v;
	uint64_t c[JRX_SYNTH_NR_BTREES];
	int ret;

	ret = jrx_buckets_init(&s->bt, sb, NULL);
	if (ret)
		return ret;
	s->bt_init = true;
	for (unsigned d = 0; d < sb->nr_devices && !ret; d++) {
		const struct jrx_member *m = &sb->members[d];

		for (uint64_t b = 0; b < m->first_bucket && !ret; b++)
			ret = jrx_bucket_add_sectors(&s->bt, d, b, JRX_DATA_SB,
						     s->bt.bucket_sectors, 0);
		for (uint64_t b = 0; b < m->journal_nr && !ret; b++)
			ret = jrx_bucket_add_sectors(&s->bt, d, m->journal_bucket + b,
						     JRX_DATA_JOURNAL,
						     s->bt.bucket_sectors, 0);
	}
	split_counts(s->o->base_keys, s->o->mix, c);
	s->now = T0;
	if (!ret)
		ret = plan_base(s, c);
	if (!ret)
		ret = base_extents(s);
	if (!ret)
		ret = base_inodes(s);
	if (!ret)
		ret = base_named(s, B_DIR);
	if (!ret)
		ret = base_named(s, B_XAT);
	if (!ret)
		ret = jrx_bulk_alloc_trees(s->a, &s->bt, (int64_t)s->n_ino,
					   sb->journal_seq,
					   &s->roots[JRX_BTREE_ACCOUNTING],
					   &s->roots[JRX_BTREE_ALLOC]);
	if (ret)
		return ret;
	/* the base is on disk: from here on changes go to the journal */
	jrx_buckets_take_changed(&s->bt, &v);
	free(v);
	s->bt.acct = &s->acct;
	s->n_base[B_EXT] = s->n_ext;
	s->n_base[B_INO] = s->n_ino;
	s->n_base[B_DIR] = s->n_de;
	s->n_base[B_XAT] = s->n_xa;
	for (unsigned b = 0; b < JRX_SYNTH_NR_BTREES; b++) {
		s->mul[b] = coprime(s, s->n_base[b]);
		s->add[b] = rnd(s) % (s->n_base[b] ? s->n_base[b] : 1);
	}
	for (size_t i = s->n_ino; i-- > 1 && s->n_active < ACTIVE_FILES;)
		if (!is_dir(s, (uint32_t)i))
			push_active(s, (uint32_t)i);
	return 0;
}

/* ---------------------------------------------------------------- checks */

/* Largest key bytes per btree, with its entry header share. */
static const unsigned key_max[JRX_SYNTH_NR_BTREES] = {
	JRX_BKEY_U64S * 8 + sizeof(struct jrx_extent_val),
	JRX_BKEY_U64S * 8 + sizeof(struct jrx_inode_val),
	JRX_BKEY_U64S * 8 + sizeof(struct jrx_dirent_val) + 16,
	JRX_BKEY_U64S * 8 + sizeof(struct jrx_xattr_val) + 16 + 56,
};

static double mix_share(const struct jrx_synth_opts *o, unsigned b)
{
	double sum = 0;

	for (unsigned i = 0; i < JRX_SYNTH_NR_BTREES; i++)
		sum += o->mix[i];
	return o->mix[b] / sum;
}

static int check_journal(struct jrx_array *a, const struct jrx_synth_opts *o,
			 uint64_t *need_bytes)
{
	const struct jrx_sb *sb = &a->sb;
	unsigned nr = sb->nr_devices, r = sb->metadata_replicas;
	double per_key = 24, fixed, usable, total;
	uint64_t jsets, per_dev, per_bucket, buckets;

	for (unsigned b = 0; b < JRX_SYNTH_NR_BTREES; b++)
		per_key += mix_share(o, b) * (key_max[b] + 8);
	per_key += mix_share(o, B_EXT) * (o->overwrite_ratio + 1.0 / 64) *
		JRX_ALLOC_KEY_U64S * 8;
	fixed = sizeof(struct jrx_jset) + JRX_BTREE_NR * (8 + JRX_PTR_U64S * 8) +
		8 + sizeof(struct jrx_clock_val) + 16 +
		(4.0 * nr + 1) * ACCT_U64S * 8 + 4 * JRX_ALLOC_KEY_U64S * 8 +
		TX_MARGIN;
	usable = (double)o->jset_size - fixed;
	total = per_key * (double)o->keys;
	jsets = (uint64_t)ceil(total / usable) + 1;
	per_dev = r * ((jsets + nr - 1) / nr);
	per_bucket = sb->bucket_size / o->jset_size;
	buckets = (per_dev + per_bucket - 1) / per_bucket;
	*need_bytes = buckets * sb->bucket_size;
	for (unsigned d = 0; d < nr; d++)
		if (buckets > sb->members[d].journal_nr)
			return jrx_fail(-JRX_ERR_JOURNAL_FULL, "%s: journal too"
					" small: %" PRIu64 " keys need about %"
					PRIu64 " MiB of journal per device (%" PRIu64
					" jsets of %u KiB, %u replica(s) over %u"
					" device(s)); this device has %" PRIu64
					" MiB: format with --journal-size %" PRIu64
					"M or more, or ask for fewer keys",
					a->devs[d].path, o->keys, *need_bytes >> 20,
					jsets, o->jset_size >> 10, r, nr,
					((uint64_t)sb->members[d].journal_nr *
					 sb->bucket_size) >> 20,
					(*need_bytes + (1 << 20) - 1) >> 20);
	return 0;
}

static int check_space(struct jrx_array *a, const struct jrx_synth_opts *o)
{
	const struct jrx_sb *sb = &a->sb;
	uint64_t c[JRX_SYNTH_NR_BTREES], free_b = 0, user, nodes, need;
	double base_bytes = 0, payload;
	uint64_t bsect = sb->bucket_size / JRX_SECTOR_SIZE;
	uint64_t per_bucket = sb->bucket_size / sb->btree_node_size;

	split_counts(o->base_keys, o->mix, c);
	for (unsigned b = 0; b < JRX_SYNTH_NR_BTREES; b++)
		base_bytes += (double)c[b] * key_max[b];
	base_bytes += (double)(c[B_INO] + c[B_DIR]) * key_max[B_DIR];
	/* every journal extent key allocates new data; nothing is reused */
	user = c[B_EXT] + (uint64_t)ceil((double)o->keys *
					 (mix_share(o, B_EXT) + 0.02)) + 64;
	user = (user * EXT_SECTORS + bsect - 1) / bsect + 2 * sb->nr_devices;
	payload = (sb->btree_node_size - 112) * 0.75;
	nodes = (uint64_t)ceil(base_bytes * 1.1 / payload) + 64 +
		(uint64_t)ceil((double)(user + 1024) * 64 / payload);
	need = user + (nodes + per_bucket - 1) / per_bucket + 2 * sb->nr_devices;
	for (unsigned d = 0; d < sb->nr_devices; d++) {
		const struct jrx_member *m = &sb->members[d];

		free_b += m->nbuckets - m->first_bucket - m->journal_nr;
	}
	if (need > free_b)
		return jrx_fail(-JRX_ERR_NO_SPACE, "%s%s: array too small: %" PRIu64
				" base keys and %" PRIu64 " journal keys need"
				" about %" PRIu64 " MiB for data and btree nodes,"
				" the %u device(s) have %" PRIu64 " MiB outside the"
				" journal; use bigger devices (jrx format --size)",
				a->devs[0].path, sb->nr_devices > 1 ? " ..." : "",
				o->base_keys, o->keys,
				(need * sb->bucket_size) >> 20, sb->nr_devices,
				(free_b * sb->bucket_size) >> 20);
	return 0;
}

static int check_opts(struct jrx_array *a, const struct jrx_synth_opts *o)
{
	const struct jrx_sb *sb = &a->sb;
	uint64_t sum = 0;

	for (unsigned b = 0; b < JRX_SYNTH_NR_BTREES; b++)
		sum += o->mix[b];
	if (!sum)
		return jrx_fail(-JRX_ERR_BAD_OPTION, "--btrees: every weight is 0");
	if (!(o->overwrite_ratio >= 0 && o->overwrite_ratio <= 1))
		return jrx_fail(-JRX_ERR_BAD_OPTION, "--overwrite-ratio %g: must be"
				" from 0 to 1", o->overwrite_ratio);
	if (o->dist > JRX_SYNTH_HOT)
		return jrx_fail(-JRX_ERR_BAD_OPTION, "unknown distribution");
	if (o->keys + o->base_keys > (1ull << 31) ||
	    o->keys > (1ull << 31) || o->base_keys > (1ull << 31))
		return jrx_fail(-JRX_ERR_BAD_OPTION, "--keys plus --base-keys: at"
				" most 2^31");
	if (o->jset_size % JRX_BLOCK_SIZE || o->jset_size < (16u << 10) ||
	    o->jset_size > sb->bucket_size)
		return jrx_fail(-JRX_ERR_BAD_OPTION, "--jset-size %u: must be a"
				" multiple of 4 KiB from 16 KiB to the bucket size"
				" (%u)", o->jset_size, sb->bucket_size);
	if (!(sb->flags & JRX_SB_CLEAN))
		return jrx_fail(-JRX_ERR_NEEDS_RECOVERY, "%s: the array is not"
				" clean (it needs recovery); synth needs a clean"
				" array, e.g. a freshly formatted one",
				a->devs[0].path);
	if (a->rdonly)
		return jrx_fail(-JRX_ERR_READ_ONLY, "%s: opened read-only",
				a->devs[0].path);
	return 0;
}

/* ---------------------------------------------------------------- entry */

void jrx_synth_opts_default(struct jrx_synth_opts *o)
{
	memset(o, 0, sizeof(*o));
	jrx_synth_parse_mix(JRX_SYNTH_DEFAULT_MIX, o->mix);
	o->overwrite_ratio = 0.3;
	o->dist = JRX_SYNTH_UNIFORM;
	o->seed = 1;
	o->jset_size = JRX_SYNTH_DEFAULT_JSET;
}

int jrx_synth_parse_mix(const char *str, uint32_t mix[JRX_SYNTH_NR_BTREES])
{
	const char *p = str;

	memset(mix, 0, JRX_SYNTH_NR_BTREES * sizeof(*mix));
	while (p && *p) {
		const char *eq = strchr(p, '='), *end = strchr(p, ',');
		char name[32], *e;
		unsigned long v;
		int id;

		if (!end)
			end = p + strlen(p);
		if (!eq || eq > end || (size_t)(eq - p) >= sizeof(name))
			return jrx_fail(-JRX_ERR_BAD_OPTION, "--btrees '%s': expected"
					" name=weight,...", str);
		memcpy(name, p, (size_t)(eq - p));
		name[eq - p] = 0;
		id = jrx_btree_id_parse(name);
		if (id < 0 || id >= JRX_SYNTH_NR_BTREES)
			return jrx_fail(-JRX_ERR_BAD_OPTION, "--btrees: unknown btree"
					" '%s' (extents, inodes, dirents, xattrs)",
					name);
		errno = 0;
		v = strtoul(eq + 1, &e, 10);
		if (errno || e != end || e == eq + 1 || v > 1000000)
			return jrx_fail(-JRX_ERR_BAD_OPTION, "--btrees: bad weight"
					" for %s (0 to 1000000)", name);
		mix[id] = (uint32_t)v;
		p = *end ? end + 1 : end;
	}
	return 0;
}

static const char *const dist_names[] = {
	[JRX_SYNTH_UNIFORM] = "uniform", [JRX_SYNTH_ZIPF] = "zipf",
	[JRX_SYNTH_SEQUENTIAL] = "sequential", [JRX_SYNTH_HOT] = "hot",
};
#define NR_DISTS (sizeof(dist_names) / sizeof(dist_names[0]))

int jrx_synth_parse_dist(const char *s)
{
	for (unsigned i = 0; i < NR_DISTS; i++)
		if (!strcmp(s, dist_names[i]))
			return (int)i;
	return -1;
}

const char *jrx_synth_dist_name(unsigned dist)
{
	return dist < NR_DISTS ? dist_names[dist] : "unknown";
}

static void synth_free(struct synth *s)
{
	if (s->j_init)
		jrx_journal_exit(&s->j);
	if (s->bt_init)
		jrx_buckets_exit(&s->bt);
	jrx_acct_free(&s->acct);
	free(s->ino);
	free(s->ext);
	free(s->de);
	free(s->xa);
	free(s->dirs);
	free(s->hot_ext);
	free(s->hot_de);
	free(s->hot_xa);
}

int jrx_synth(struct jrx_array *a, const struct jrx_synth_opts *o,
	      struct jrx_synth_report *r)
{
	struct synth *s;
	double t0 = jrx_now(), t1, t2;
	uint64_t need;
	int ret;

	memset(r, 0, sizeof(*r));
	ret = check_opts(a, o);
	if (!ret)
		ret = check_journal(a, o, &need);
	if (!ret)
		ret = check_space(a, o);
	if (ret)
		return ret;
	r->journal_needed = need;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->a = a;
	s->o = o;
	s->r = r;
	s->named = o->mix[B_DIR] > 0;
	s->hot_file = NO_INO;
	s->hot_dir = 0;			/* the root */
	s->rng[0] = o->seed;
	for (unsigned i = 0; i < 4; i++)
		s->rng[i] = splitmix(&s->rng[0]) ^ (i * 0x51ed2701ull);

	/* nothing has been written so far */
	ret = build_base(s);
	t1 = jrx_now();
	if (!ret)
		ret = gen_journal(s);
	t2 = jrx_now();
	if (!ret) {
		a->sb.flags &= ~JRX_SB_CLEAN;
		for (unsigned id = 0; id < JRX_BTREE_NR; id++)
			a->sb.roots[id] = s->roots[id];
		a->sb.time = (uint64_t)time(NULL);
		ret = jrx_array_write_sb(a);
	}
	if (ret && ret != -JRX_ERR_JOURNAL_FULL) {
		char why[700];

		snprintf(why, sizeof(why), "%s", jrx_diag());
		ret = jrx_fail(ret, "%s%sthe array was partly rewritten and is"
			       " not usable: format it again", why,
			       *why ? "; " : "");
	}
	r->keys = s->emitted;
	for (unsigned b = 0; b < JRX_SYNTH_NR_BTREES; b++) {
		r->keys_by_btree[b] = s->cnt[b] + s->cnt[4 + b];
		r->overwrites += s->cnt[4 + b];
	}
	r->jsets = s->j.jsets_written;
	r->journal_bytes = s->j.bytes_written;
	r->first_seq = s->first_seq;
	r->last_seq = s->j.durable_seq;
	r->inodes = s->n_ino;
	if (dist_hot(s)) {
		r->hot_file = s->hot_file != NO_INO ? inum_of(s->hot_file) : 0;
		r->hot_dir = inum_of(s->hot_dir);
		r->hot_keys = s->hot_keys;
	}
	r->t_base = t1 - t0;
	r->t_journal = t2 - t1;
	r->t_sb = jrx_now() - t2;
	r->elapsed = jrx_now() - t0;
	synth_free(s);
	free(s);
	return ret;
}
