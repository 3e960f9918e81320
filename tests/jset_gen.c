/*
 * jset_gen.c - verified jsets in memory and their journal index
 * (jset_gen.h).  Layout: key builders, the jset builder, the index, and
 * the synth-like stream (a compact model after src/workload/synth.c).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "jset_gen.h"
#include "jrx/errors.h"
#include "format/bkey.h"
#include "format/checksum.h"
#include "util/diag.h"
#include "util/prng.h"
#include "format/jset.h"

#define GEN_MAGIC	(0x5eed0f5eed0f5eedull ^ JRX_JSET_MAGIC_XOR)
#define ROOT_U64S	(JRX_BKEY_U64S + sizeof(struct jrx_btree_ptr_val) / 8)
/* six btree_root entries and a clock entry close every jset */
#define TRAILER_U64S	(JRX_BTREE_NR * (1 + ROOT_U64S) + 1 + 2)
#define HDR_U64S	(sizeof(struct jrx_jset) / 8)

/* ------------------------------------------------------------ keys */

struct jrx_bkey *jg_whiteout(uint64_t *buf, struct jrx_bpos p)
{
	struct jrx_bkey *k = (struct jrx_bkey *)buf;

	jrx_bkey_init(k, JRX_KEY_WHITEOUT, p, 0);
	return k;
}

/* Key header and a zeroed value of val_bytes. */
static void *key_init(uint64_t *buf, uint8_t type, struct jrx_bpos p,
		      size_t val_bytes)
{
	jrx_bkey_init((struct jrx_bkey *)buf, type, p, val_bytes);
	memset(buf + JRX_BKEY_U64S, 0, (val_bytes + 7) / 8 * 8);
	return buf + JRX_BKEY_U64S;
}

static unsigned name_of(char *out, const char *prefix, uint64_t id)
{
	return (unsigned)snprintf(out, 32, "%s%llx", prefix, (unsigned long long)id);
}

static struct jrx_bkey *dirent(uint64_t *buf, struct jrx_bpos p,
			       const char *name, unsigned len, uint64_t target)
{
	struct jrx_dirent_val *v = key_init(buf, JRX_KEY_DIRENT, p, sizeof(*v) + len);

	v->target = target;
	v->d_type = 8;
	v->name_len = (uint8_t)len;
	memcpy(v + 1, name, len);
	return (struct jrx_bkey *)buf;
}

static struct jrx_bkey *xattr(uint64_t *buf, struct jrx_bpos p,
			      const char *name, unsigned len, unsigned vlen,
			      uint64_t salt)
{
	struct jrx_xattr_val *v = key_init(buf, JRX_KEY_XATTR, p,
					   sizeof(*v) + len + vlen);

	v->name_len = (uint8_t)len;
	v->value_len = (uint16_t)vlen;
	memcpy(v + 1, name, len);
	memset((char *)(v + 1) + len, (int)(salt | 1) & 0xff, vlen);
	return (struct jrx_bkey *)buf;
}

struct jrx_bkey *jg_key(uint64_t *buf, unsigned btree_id, unsigned level,
			struct jrx_bpos p, uint64_t version, uint64_t salt)
{
	struct jrx_bkey *k = (struct jrx_bkey *)buf;
	char name[32];
	unsigned len;

	if (level) {
		struct jrx_btree_ptr_val *v = key_init(buf, JRX_KEY_BTREE_PTR, p,
						       sizeof(*v));

		v->sector = salt;
		v->blocks = 1;
		v->nonce = salt | 1;
		v->min_key = JRX_POS_MIN;
		return k;
	}
	switch (btree_id) {
	case JRX_BTREE_EXTENTS: {
		struct jrx_extent_val *v;
		uint64_t size = 1 + salt % 64;

		if (!p.offset)
			return jg_whiteout(buf, p);
		v = key_init(buf, JRX_KEY_EXTENT, p, sizeof(*v));
		k->size = (uint32_t)(size < p.offset ? size : p.offset);
		v->sector = salt;
		v->data_tag = salt;
		return k;
	}
	case JRX_BTREE_INODES: {
		struct jrx_inode_val *v = key_init(buf, JRX_KEY_INODE, p, sizeof(*v));

		v->size = salt;
		v->mode = 0100644;
		v->nlink = 1;
		return k;
	}
	case JRX_BTREE_DIRENTS:
		len = name_of(name, "d", salt % 1000003);
		return dirent(buf, p, name, len, salt);
	case JRX_BTREE_XATTRS:
		len = name_of(name, "user.", salt % 1000003);
		return xattr(buf, p, name, len, (unsigned)(salt % 41), salt);
	case JRX_BTREE_ALLOC: {
		struct jrx_alloc_val *v = key_init(buf, JRX_KEY_ALLOC, p, sizeof(*v));

		v->gen = (uint32_t)salt;
		v->data_type = (uint8_t)(salt % JRX_DATA_TYPE_NR);
		return k;
	}
	default: {
		struct jrx_accounting_val *v = key_init(buf, JRX_KEY_ACCOUNTING, p,
							sizeof(*v));

		k->version = version;
		v->d[0] = (int64_t)(salt % 17) - 8;
		v->d[1] = (int64_t)salt;
		return k;
	}
	}
}

/* ------------------------------------------------------------ jsets */

int jg_init(struct jg *g, uint32_t jset_bytes, uint64_t first_seq)
{
	memset(g, 0, sizeof(*g));
	if (jset_bytes % JRX_BLOCK_SIZE || jset_bytes < 2 * JRX_BLOCK_SIZE ||
	    !first_seq)
		return -EINVAL;
	g->a = calloc(1, sizeof(*g->a));
	if (!g->a)
		return -ENOMEM;
	g->a->jset_magic = GEN_MAGIC;
	g->a->sb.journal_seq = first_seq - 1;
	g->max_u64s = jset_bytes / 8 - HDR_U64S - TRAILER_U64S;
	g->seq = g->first_seq = first_seq;
	return 0;
}

void jg_free(struct jg *g)
{
	jrx_jindex_free(&g->ix);
	for (uint64_t i = 0; i < g->jsets; i++)
		free((void *)g->info[i].j);
	free(g->info);
	free(g->cur);
	free(g->a);
	memset(g, 0, sizeof(*g));
}

static int open_jset(struct jg *g)
{
	size_t bytes = (HDR_U64S + g->max_u64s + TRAILER_U64S) * 8;

	g->cur = calloc(1, bytes);
	if (!g->cur)
		return -ENOMEM;
	g->cur_u64s = 0;
	g->entry = NULL;
	g->open_keys = 0;
	return 0;
}

static struct jrx_jset_entry *add_entry(struct jg *g, unsigned type,
					unsigned btree_id, unsigned level,
					const void *payload, size_t u64s)
{
	struct jrx_jset_entry *e = (void *)(g->cur + HDR_U64S + g->cur_u64s);

	*e = (struct jrx_jset_entry){ .u64s = (uint16_t)u64s, .type = (uint8_t)type,
				      .btree_id = (uint8_t)btree_id,
				      .level = (uint8_t)level };
	if (u64s)
		memcpy(e + 1, payload, u64s * 8);
	g->cur_u64s += 1 + u64s;
	return e;
}

int jg_add(struct jg *g, unsigned btree_id, unsigned level,
	   const struct jrx_bkey *k)
{
	struct jrx_jset_entry *e = g->entry;
	int ret;

	if (e && (e->btree_id != btree_id || e->level != level ||
		  e->u64s + k->u64s > UINT16_MAX))
		e = g->entry = NULL;
	if (g->cur && g->cur_u64s + !e + k->u64s > g->max_u64s) {
		ret = jg_close(g);
		if (ret)
			return ret;
		e = NULL;
	}
	if (!g->cur && (ret = open_jset(g)))
		return ret;
	if (!e)
		e = g->entry = add_entry(g, JRX_JE_BTREE_KEYS, btree_id, level,
					 NULL, 0);
	memcpy(g->cur + HDR_U64S + g->cur_u64s, k, k->u64s * 8);
	e->u64s += k->u64s;
	g->cur_u64s += k->u64s;
	g->open_keys++;
	g->keys++;
	return 0;
}

int jg_close(struct jg *g)
{
	struct jrx_jset *j;
	struct jrx_jset_info *inf;
	struct jrx_clock_val clock = { .time = 1700000000 + g->seq, .ops = g->keys };
	const char *why;
	size_t bytes;
	int ret;

	if (!g->cur && (ret = open_jset(g)))
		return ret;
	for (unsigned id = 0; id < JRX_BTREE_NR; id++) {
		uint64_t buf[ROOT_U64S];

		jg_key(buf, id, 1, JRX_POS_MAX, 0, 4096 + id * 64);
		add_entry(g, JRX_JE_BTREE_ROOT, id, 1, buf, ROOT_U64S);
	}
	add_entry(g, JRX_JE_CLOCK, 0, 0, &clock, 2);
	j = (struct jrx_jset *)g->cur;
	*j = (struct jrx_jset){ .version = JRX_FORMAT_VERSION, .magic = GEN_MAGIC,
				.seq = g->seq, .last_seq = g->first_seq,
				.u64s = (uint32_t)g->cur_u64s };
	jrx_jset_set_csum(j);
	bytes = jrx_jset_disk_bytes(j->u64s);
	ret = jrx_jset_validate(j, bytes, GEN_MAGIC, &why);
	if (ret)
		return jrx_fail(ret, "jset_gen: seq %llu invalid: %s",
				(unsigned long long)g->seq, why);
	if (g->jsets == g->cap) {
		size_t ncap = g->cap ? g->cap * 2 : 64;
		void *p = realloc(g->info, ncap * sizeof(*g->info));

		if (!p)
			return -ENOMEM;
		g->info = p;
		g->cap = ncap;
	}
	/* padding is zero (calloc), the buffer shrinks to the disk size */
	j = realloc(g->cur, bytes);
	if (!j)
		j = (struct jrx_jset *)g->cur;
	inf = &g->info[g->jsets++];
	*inf = (struct jrx_jset_info){
		.seq = g->seq, .last_seq = g->first_seq, .state = JRX_JSET_OK,
		.bucket = g->seq, .offset = g->seq * 4096, .bytes = (uint32_t)bytes,
		.keys = g->open_keys, .j = j,
	};
	g->cur = NULL;
	g->entry = NULL;
	g->open_keys = 0;
	g->seq++;
	return 0;
}

int jg_blacklist(struct jg *g, uint64_t start, uint64_t end)
{
	struct jrx_sb *sb = &g->a->sb;

	if (sb->nr_blacklist >= JRX_SB_MAX_BLACKLIST)
		return -ENOSPC;
	sb->blacklist[sb->nr_blacklist++] = (struct jrx_blacklist_entry){
		start, end };
	return 0;
}

int jg_index(struct jg *g)
{
	int ret = g->cur && g->open_keys ? jg_close(g) : 0;

	if (!ret) {
		struct jrx_journal_scan list = {
			.v = g->info, .nr = g->jsets, .mode = JRX_SCAN_SEQUENTIAL,
		};

		jrx_journal_scan_names(&list, g->a);
		ret = jrx_jindex_build(&g->ix, &g->a->sb, &list, NULL, NULL);
	}
	return ret;
}

/* ------------------------------------------------------------ synth-like */

#define ROOT_INO	JRX_ROOT_INO
#define EXT_SECTORS	8u
#define EXT_GROW	16u
#define ACTIVE		64u
#define NDEV		2u
#define BUCKET_EXTS	256u		/* 1 MiB buckets of 4 KiB extents */
#define DIR_ONE_IN	32u
#define XDEL_ONE_IN	8u
#define NB		4u		/* extents, inodes, dirents, xattrs */

struct syn_ext { uint32_t ino, no, bucket; };
struct syn_pair { uint32_t a, name; };		/* dirent: dir; xattr: inode */

struct syn {
	struct jg *g;
	uint64_t rng;
	uint32_t *next;		/* extents per inode */
	uint8_t  *isdir;
	size_t	  n_ino, cap_ino;
	struct syn_ext *ext;	size_t n_ext, cap_ext;
	struct syn_pair *de;	size_t n_de, cap_de;
	struct syn_pair *xa;	size_t n_xa, cap_xa;
	uint32_t *dirs;		size_t n_dirs, cap_dirs;
	uint32_t  active[ACTIVE];
	unsigned  n_active, active_pos;
	uint32_t  next_dname, next_xname;
	uint64_t  allocated;	/* extents ever allocated */
	uint64_t *touched;	size_t n_touched, cap_touched;
	bool	  inodes_changed;
	double	  target[2 * NB];
	uint64_t  cnt[2 * NB], emitted;
	uint64_t  buf[64];
};

static uint64_t rnd(struct syn *s)
{
	return jrx_splitmix64(&s->rng);
}

static uint64_t below(struct syn *s, uint64_t n)
{
	return jrx_rand_scale(rnd(s), n);
}

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
	size_t ncap = *cap ? *cap : 1024;
	void *n;

	if (need <= *cap)
		return 0;
	while (ncap < need)
		ncap *= 2;
	n = realloc(*p, ncap * elem);
	if (!n)
		return -ENOMEM;
	*p = n;
	*cap = ncap;
	return 0;
}

#define RESERVE(s, arr, n, cap, more) \
	grow((void **)&(s)->arr, &(s)->cap, (s)->n + (more), sizeof(*(s)->arr))

static int new_inode(struct syn *s, bool dir, uint32_t *idx)
{
	int ret = 0;

	if (s->n_ino == s->cap_ino) {
		size_t ncap = s->cap_ino ? s->cap_ino * 2 : 1024;
		void *a = realloc(s->next, ncap * sizeof(*s->next));
		void *b = a ? realloc(s->isdir, ncap * sizeof(*s->isdir)) : NULL;

		if (a)
			s->next = a;
		if (!b)
			return -ENOMEM;
		s->isdir = b;
		s->cap_ino = ncap;
	}
	*idx = (uint32_t)s->n_ino++;
	s->next[*idx] = 0;
	s->isdir[*idx] = dir;
	if (dir && (ret = RESERVE(s, dirs, n_dirs, cap_dirs, 1)) == 0)
		s->dirs[s->n_dirs++] = *idx;
	return ret;
}

static struct jrx_bpos named_pos(uint32_t owner, const char *prefix,
				 uint32_t id, char *name, unsigned *len)
{
	*len = name_of(name, prefix, id);
	return jrx_bpos(ROOT_INO + owner, jrx_name_hash(name, *len),
			JRX_SNAPSHOT_DEFAULT);
}

static int emit(struct syn *s, unsigned b, const struct jrx_bkey *k,
		bool overwrite)
{
	s->cnt[b + (overwrite ? NB : 0)]++;
	s->emitted++;
	return jg_add(s->g, b, 0, k);
}

static int touch(struct syn *s, uint32_t bucket)
{
	int ret = RESERVE(s, touched, n_touched, cap_touched, 1);

	if (!ret)
		s->touched[s->n_touched++] = bucket;
	return ret;
}

static int k_inode(struct syn *s, uint32_t idx, bool overwrite)
{
	struct jrx_inode_val *v = key_init(s->buf, JRX_KEY_INODE,
					   jrx_bpos(ROOT_INO + idx, 0,
						    JRX_SNAPSHOT_DEFAULT),
					   sizeof(*v));

	v->size = (uint64_t)(s->next[idx] + EXT_GROW - 1) / EXT_GROW * EXT_GROW *
		EXT_SECTORS * JRX_SECTOR_SIZE;
	v->mtime = v->ctime = 1700000000 + s->g->seq;
	v->mode = s->isdir[idx] ? 040755 : 0100644;
	v->nlink = 1;
	s->inodes_changed |= !overwrite;
	return emit(s, JRX_BTREE_INODES, (struct jrx_bkey *)s->buf, overwrite);
}

static int k_extent(struct syn *s, struct syn_ext *e, bool overwrite)
{
	struct jrx_extent_val *v = key_init(s->buf, JRX_KEY_EXTENT,
					    jrx_bpos(ROOT_INO + e->ino,
						     (uint64_t)e->no * EXT_SECTORS,
						     JRX_SNAPSHOT_DEFAULT),
					    sizeof(*v));
	uint64_t a = s->allocated++;
	int ret;

	if (overwrite)
		ret = touch(s, e->bucket);	/* the old data is freed */
	else
		ret = 0;
	e->bucket = (uint32_t)(a / BUCKET_EXTS);
	if (!ret)
		ret = touch(s, e->bucket);
	((struct jrx_bkey *)s->buf)->size = EXT_SECTORS;
	v->sector = a * EXT_SECTORS;
	v->dev = e->bucket % NDEV;
	v->data_tag = a;
	return ret ? ret : emit(s, JRX_BTREE_EXTENTS, (struct jrx_bkey *)s->buf,
				overwrite);
}

static int k_dirent(struct syn *s, const struct syn_pair *d, bool overwrite)
{
	char name[32];
	unsigned len;
	struct jrx_bpos p = named_pos(d->a, "n", d->name, name, &len);

	return emit(s, JRX_BTREE_DIRENTS, dirent(s->buf, p, name, len, d->name),
		    overwrite);
}

static int k_xattr(struct syn *s, const struct syn_pair *x, bool overwrite,
		   bool del)
{
	char name[32];
	unsigned len;
	struct jrx_bpos p = named_pos(x->a, "user.x", x->name, name, &len);

	if (del)
		return emit(s, JRX_BTREE_XATTRS, jg_whiteout(s->buf, p), overwrite);
	return emit(s, JRX_BTREE_XATTRS,
		    xattr(s->buf, p, name, len, 8 + (unsigned)below(s, 49), rnd(s)),
		    overwrite);
}

static void push_active(struct syn *s, uint32_t idx)
{
	s->active[s->active_pos++ % ACTIVE] = idx;
	if (s->n_active < ACTIVE)
		s->n_active++;
}

static int op_create(struct syn *s)
{
	bool dir = !below(s, DIR_ONE_IN);
	uint32_t parent = s->dirs[below(s, s->n_dirs)], idx;
	int ret = new_inode(s, dir, &idx);

	if (!ret)
		ret = RESERVE(s, de, n_de, cap_de, 1);
	if (!ret)
		ret = k_inode(s, idx, false);
	if (!ret) {
		s->de[s->n_de] = (struct syn_pair){ parent, s->next_dname++ };
		ret = k_dirent(s, &s->de[s->n_de++], false);
	}
	if (!ret && dir)
		ret = k_inode(s, parent, true);
	if (!ret && !dir)
		push_active(s, idx);
	return ret;
}

static int op_append(struct syn *s)
{
	struct syn_ext *e;
	uint32_t f;
	int ret;

	if (!s->n_active)
		return op_create(s);
	ret = RESERVE(s, ext, n_ext, cap_ext, 1);
	if (ret)
		return ret;
	f = s->active[below(s, s->n_active)];
	e = &s->ext[s->n_ext++];
	*e = (struct syn_ext){ f, ++s->next[f], 0 };
	ret = k_extent(s, e, false);
	if (!ret && e->no % EXT_GROW == 1)		/* past i_size */
		ret = k_inode(s, f, true);
	return ret;
}

static int op_link(struct syn *s)
{
	uint32_t t = (uint32_t)below(s, s->n_ino);
	int ret;

	if (s->isdir[t])
		return op_create(s);
	ret = RESERVE(s, de, n_de, cap_de, 1);
	if (ret)
		return ret;
	s->de[s->n_de] = (struct syn_pair){ s->dirs[below(s, s->n_dirs)],
					    s->next_dname++ };
	ret = k_dirent(s, &s->de[s->n_de++], false);
	return ret ? ret : k_inode(s, t, true);
}

static int op_xattr_new(struct syn *s)
{
	int ret = RESERVE(s, xa, n_xa, cap_xa, 1);

	if (ret)
		return ret;
	s->xa[s->n_xa] = (struct syn_pair){ (uint32_t)below(s, s->n_ino),
					    s->next_xname++ };
	return k_xattr(s, &s->xa[s->n_xa++], false, false);
}

static int op_xattr_ow(struct syn *s)
{
	uint64_t i;
	int ret;

	if (!s->n_xa)
		return op_xattr_new(s);
	i = below(s, s->n_xa);
	if (below(s, XDEL_ONE_IN))
		return k_xattr(s, &s->xa[i], true, false);
	ret = k_xattr(s, &s->xa[i], true, true);
	s->xa[i] = s->xa[--s->n_xa];
	return ret;
}

static int run_op(struct syn *s)
{
	unsigned best = 0;

	for (unsigned c = 1; c < 2 * NB; c++)
		if (s->target[c] * (double)(s->emitted + 1) - (double)s->cnt[c] >
		    s->target[best] * (double)(s->emitted + 1) - (double)s->cnt[best])
			best = c;
	switch (best) {
	case 0:	return op_append(s);
	case 1:	return op_create(s);
	case 2:	return op_link(s);
	case 3:	return op_xattr_new(s);
	case 4:	return s->n_ext ? k_extent(s, &s->ext[below(s, s->n_ext)], true) :
			op_append(s);
	case 5:	return k_inode(s, (uint32_t)below(s, s->n_ino), true);
	case 6:	return k_dirent(s, &s->de[below(s, s->n_de)], true);
	default: return op_xattr_ow(s);
	}
}

static int cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;

	return a < b ? -1 : a > b;
}

/* Alloc keys of the buckets the jset changed, accounting deltas, close. */
static int close_jset(struct syn *s)
{
	uint64_t seq = jg_seq(s->g);
	bool dev[NDEV] = { false };
	int ret = 0;

	qsort(s->touched, s->n_touched, sizeof(*s->touched), cmp_u64);
	for (size_t i = 0; i < s->n_touched && !ret; i++) {
		struct jrx_alloc_val *v;
		uint32_t b = (uint32_t)s->touched[i];

		if (i && s->touched[i] == s->touched[i - 1])
			continue;
		dev[b % NDEV] = true;
		v = key_init(s->buf, JRX_KEY_ALLOC, jrx_bpos(b % NDEV, 64 + b / NDEV, 0),
			     sizeof(*v));
		v->gen = 1;
		v->dirty_sectors = 8;
		v->data_type = JRX_DATA_USER;
		ret = jg_add(s->g, JRX_BTREE_ALLOC, 0, (struct jrx_bkey *)s->buf);
	}
	s->n_touched = 0;
	for (unsigned d = 0; d <= NDEV && !ret; d++) {
		struct jrx_accounting_val *v;
		struct jrx_bpos p = d < NDEV ?
			jrx_bpos(JRX_ACCT_DEV_DATA, d << 8 | JRX_DATA_USER, 0) :
			jrx_bpos(JRX_ACCT_INODES, 0, 0);

		if (d < NDEV ? !dev[d] : !s->inodes_changed)
			continue;
		v = key_init(s->buf, JRX_KEY_ACCOUNTING, p, sizeof(*v));
		((struct jrx_bkey *)s->buf)->version = seq;
		v->d[0] = 1;
		v->d[1] = 8;
		ret = jg_add(s->g, JRX_BTREE_ACCOUNTING, 0, (struct jrx_bkey *)s->buf);
	}
	s->inodes_changed = false;
	return ret ? ret : jg_close(s->g);
}

/* The base store: inodes with names, extents spread over files, xattrs. */
static int base(struct syn *s, uint64_t m)
{
	uint64_t c_ext = m * 70 / 100, c_ino = m / 10 + 2, c_de = m * 15 / 100;
	uint64_t c_xa = m * 5 / 100;
	uint32_t idx;
	int ret = new_inode(s, true, &idx);	/* the root */

	for (uint64_t i = 1; i < c_ino && !ret; i++) {
		uint32_t parent = s->dirs[below(s, s->n_dirs)];

		ret = new_inode(s, !below(s, DIR_ONE_IN), &idx);
		if (!ret)
			ret = RESERVE(s, de, n_de, cap_de, 1);
		if (!ret)
			s->de[s->n_de++] = (struct syn_pair){ parent, s->next_dname++ };
	}
	while (s->n_de < c_de && !ret) {
		ret = RESERVE(s, de, n_de, cap_de, 1);
		if (!ret)
			s->de[s->n_de++] = (struct syn_pair){
				s->dirs[below(s, s->n_dirs)], s->next_dname++ };
	}
	if (!ret)
		ret = RESERVE(s, ext, n_ext, cap_ext, c_ext);
	for (uint64_t e = 0; e < c_ext && !ret; e++) {
		uint32_t t = (uint32_t)below(s, s->n_ino);

		if (s->isdir[t])
			continue;
		s->ext[s->n_ext++] = (struct syn_ext){ t, ++s->next[t],
			(uint32_t)(s->allocated++ / BUCKET_EXTS) };
	}
	if (!ret)
		ret = RESERVE(s, xa, n_xa, cap_xa, c_xa);
	for (uint64_t x = 0; x < c_xa && !ret; x++)
		s->xa[s->n_xa++] = (struct syn_pair){ (uint32_t)below(s, s->n_ino),
						      s->next_xname++ };
	for (size_t i = s->n_ino; i-- > 1 && s->n_active < ACTIVE;)
		if (!s->isdir[i])
			push_active(s, (uint32_t)i);
	return ret;
}

int jg_synth(struct jg *g, uint64_t keys, uint64_t seed)
{
	static const double mix[NB] = { 70, 10, 15, 5 }, ratio = 0.3;
	struct syn *s = calloc(1, sizeof(*s));
	int ret;

	if (!s)
		return -ENOMEM;
	s->g = g;
	s->rng = seed * 0x2545f4914f6cdd1dull + 1;
	for (unsigned b = 0; b < NB; b++) {
		s->target[b] = mix[b] / 100 * (1 - ratio);
		s->target[NB + b] = mix[b] / 100 * ratio;
	}
	ret = base(s, keys);
	while (!ret && g->keys < keys) {
		/* room for the trailer: alloc keys, deltas, margin */
		if (g->cur && g->cur_u64s + (s->n_touched + 4) * 8 + 128 > g->max_u64s)
			ret = close_jset(s);
		if (!ret)
			ret = run_op(s);
	}
	if (!ret && g->cur)
		ret = close_jset(s);
	free(s->next);
	free(s->isdir);
	free(s->ext);
	free(s->de);
	free(s->xa);
	free(s->dirs);
	free(s->touched);
	free(s);
	return ret;
}
