/*
 * synth_int.h - what the synth files share: the compact model of the store
 * being generated, its random draws, and each file's entry points.  Not
 * part of the API; synth.h is.
 *
 *   synth.c		jrx_synth(): the checks, then the phases, the report
 *   synth_opts.c	the options' defaults, the mix and distribution names
 *   synth_check.c	options, journal capacity and free space, checked
 *			before anything is written
 *   synth_model.c	adding to the model: directories, active files, the
 *			hot lists, the device space of an extent
 *   synth_keys.c	the keys of model entries (through fskeys.h)
 *   synth_base.c	the base: the model planned from M keys, bulk-loaded
 *   synth_ops.c	the operations that make journal keys, and the mix
 *			scheduler that picks them
 *   synth_journal.c	the jset stream: trailers, writes, the key loop
 *
 * The model, all in flat arrays indexed by small integers (no per-key
 * allocation):
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
 *
 * Every stream is a pure function of the seed: one xoshiro256** state,
 * drawn from in a fixed order by the single generating thread.
 */
#ifndef JRX_SYNTH_INT_H
#define JRX_SYNTH_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "synth.h"
#include "../btree/accounting.h"
#include "../btree/buckets.h"
#include "../format/format.h"
#include "../journal/journal.h"
#include "../util/prng.h"

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
#define PTR_DEV_SHIFT	58		/* syn_ext.ptr: dev << 58 | sector */
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

/* ------------------------------------------------------------ draws */

static inline uint64_t rnd(struct synth *s)
{
	return jrx_xoshiro256ss(s->rng);
}

/* Uniform in [0, n). */
static inline uint64_t below(struct synth *s, uint64_t n)
{
	return jrx_rand_scale(rnd(s), n);
}

/* Uniform in [0, 1), 53 bits. */
static inline double unit(struct synth *s)
{
	return (double)(rnd(s) >> 11) * 0x1.0p-53;
}

/* ------------------------------------------------------------ model */

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

/* The progress callback, if there is one. */
static inline void synth_progress(const struct synth *s, const char *phase,
				  uint64_t done, uint64_t total)
{
	if (s->o->progress)
		s->o->progress(s->o->progress_ctx, phase, done, total);
}

/* synth_model.c */
bool synth_hot_base(struct synth *s);
bool synth_go_hot(const struct synth *s);
int  synth_note_hot_ext(struct synth *s, size_t i);
int  synth_note_hot_de(struct synth *s, size_t i);
int  synth_push_dir(struct synth *s, uint32_t idx);
void synth_push_active(struct synth *s, uint32_t idx);
int  synth_alloc_ext(struct synth *s, uint64_t durable, uint64_t seq,
		     uint64_t *ptr, uint32_t *gen);
int  synth_free_ext(struct synth *s, uint64_t ptr);

/* synth_keys.c: buf holds KEY_BUF_U64S words */
struct jrx_bkey *synth_inode_key(struct synth *s, uint64_t *buf, uint32_t idx);
struct jrx_bkey *synth_extent_key(uint64_t *buf, const struct syn_ext *e,
				  uint32_t gen, uint64_t tag);
struct jrx_bkey *synth_dirent_key(struct synth *s, uint64_t *buf,
				  const struct syn_de *d);
/* draws the value's length and bytes */
struct jrx_bkey *synth_xattr_key(struct synth *s, uint64_t *buf,
				 const struct syn_xa *x);
struct jrx_bpos synth_dirent_pos(const struct syn_de *d);
struct jrx_bpos synth_xattr_pos(const struct syn_xa *x);

/* synth_base.c */
void synth_split_counts(uint64_t m, const uint32_t mix[], uint64_t c[]);
int  synth_build_base(struct synth *s);

/* synth_ops.c: one operation (1 to 3 keys) */
int  synth_run_op(struct synth *s);

/* synth_journal.c */
int  synth_gen_journal(struct synth *s);

/* synth_check.c */
int  synth_check_opts(struct jrx_array *a, const struct jrx_synth_opts *o);
int  synth_check_journal(struct jrx_array *a, const struct jrx_synth_opts *o,
			 uint64_t *need_bytes);
int  synth_check_space(struct jrx_array *a, const struct jrx_synth_opts *o);

#endif
