/*
 * synth.h - `jrx synth`: fast generation of a big dirty array.
 *
 * Owns: the synthetic store model and generator.  On a clean array it
 * rebuilds the store from scratch: a base btree bulk-loaded from M keys
 * (extents, inodes, dirents, xattrs, then alloc and accounting), then a
 * journal of N keys written as jsets straight into the journal ring, and
 * an unclean superblock.  It is a generator, not the write path: nothing
 * goes through struct jrx_fs, but every key, alloc key and accounting delta
 * is what the write path would have journaled, so that replaying the
 * journal over the base leaves allocation info matching the btrees.
 *
 * Owner: the calling thread.  No exit(); errors are negative values with
 * context in jrx_diag().
 */
#ifndef JRX_SYNTH_H
#define JRX_SYNTH_H

#include <stdint.h>
#include "../io/array.h"

/* The file btrees keys are generated for, in MIX order. */
#define JRX_SYNTH_NR_BTREES 4	/* extents, inodes, dirents, xattrs */

/*
 * How the journal picks the entries it writes.  UNIFORM, ZIPF and
 * SEQUENTIAL choose the existing position an overwrite hits (uniformly,
 * by rank with density 1/rank, or in key order); new entries go to
 * uniformly chosen inodes.  HOT puts JRX_SYNTH_HOT_PCT % of the journal
 * keys on one hot inode per btree: the hot file takes the extents (new
 * offsets past its end and overwrites of its base extents), the xattrs and
 * the inode rewrites, the hot directory (the root) takes the dirents;
 * every other key is chosen as UNIFORM chooses it.  The share is exact
 * (a running count, not a coin) unless the mix makes it impossible: a new
 * inode's own key cannot be on an existing inode, so with more than
 * 100 - JRX_SYNTH_HOT_PCT % of new inodes every other key is hot.  The
 * base is skewed the same way (the hot inodes get that share of the base
 * extents, names and xattrs), so overwrites hit many distinct positions.
 */
enum jrx_synth_dist {
	JRX_SYNTH_UNIFORM	= 0,
	JRX_SYNTH_ZIPF		= 1,
	JRX_SYNTH_SEQUENTIAL	= 2,
	JRX_SYNTH_HOT		= 3,
};

#define JRX_SYNTH_HOT_PCT	90u	/* HOT: % of the journal keys */

struct jrx_synth_opts {
	uint64_t keys;			/* N journal keys (file btrees) */
	uint64_t base_keys;		/* M base keys */
	uint32_t mix[JRX_SYNTH_NR_BTREES]; /* weights, by btree id */
	double	 overwrite_ratio;	/* R: share of keys on existing positions */
	unsigned dist;			/* enum jrx_synth_dist */
	uint64_t seed;
	uint32_t jset_size;		/* bytes, multiple of 4096, <= bucket */
	unsigned fill_pct;		/* base leaves filled to this % of a
					   node, as a live store leaves them
					   (JRX_SYNTH_MIN_FILL..100) */
	/* called after every jset and base phase; may be NULL */
	void	(*progress)(void *ctx, const char *phase, uint64_t done,
			    uint64_t total);
	void	*progress_ctx;
};

struct jrx_synth_report {
	uint64_t keys;			/* journal keys of the file btrees */
	uint64_t keys_by_btree[JRX_SYNTH_NR_BTREES];
	uint64_t overwrites;		/* of those: on existing positions */
	uint64_t deletes;		/* of those: whiteouts */
	uint64_t alloc_keys, acct_keys;	/* journaled besides */
	uint64_t jsets, journal_bytes;	/* bytes written, all replicas */
	uint64_t first_seq, last_seq;
	uint64_t journal_needed;	/* estimated journal bytes per device */
	uint64_t base_keys;
	uint64_t base_by_btree[JRX_SYNTH_NR_BTREES];
	uint64_t base_nodes;
	uint64_t inodes;		/* inodes at the end (root included) */
	/* HOT only (else 0): the hot inodes and the journal keys on them */
	uint64_t hot_file, hot_dir;	/* inode numbers */
	uint64_t hot_keys;
	double	 t_base, t_journal, t_sb, elapsed;	/* seconds */
};

#define JRX_SYNTH_DEFAULT_MIX	"extents=70,inodes=10,dirents=15,xattrs=5"
#define JRX_SYNTH_DEFAULT_JSET	(256u << 10)
#define JRX_SYNTH_DEFAULT_FILL	75u
#define JRX_SYNTH_MIN_FILL	20u

/* Defaults: N = 0, M = N (when base_keys_set is false, see cmd_synth). */
void jrx_synth_opts_default(struct jrx_synth_opts *o);
/*
 * "extents=70,inodes=10,..."; unnamed btrees get weight 0, so "extents=1"
 * is one btree only.  A btree of weight 0 gets no keys of its own, but
 * extents, names and xattrs belong to inodes, whose keys are written
 * whatever the inodes weight: in the base the inodes they belong to, in
 * the journal what the write path journals with them (a new file and its
 * growing size for extents, the new or linked inode of a new name).
 */
int  jrx_synth_parse_mix(const char *s, uint32_t mix[JRX_SYNTH_NR_BTREES]);
/* "uniform", "zipf", "sequential", "hot" -> enum; -1 if unknown. */
int  jrx_synth_parse_dist(const char *s);
const char *jrx_synth_dist_name(unsigned dist);

/*
 * Generate on an array opened read-write.  Every check (clean array,
 * options, journal capacity, free space) is made before anything is
 * written; -JRX_ERR_JOURNAL_FULL says how much journal each device needs.
 */
int  jrx_synth(struct jrx_array *a, const struct jrx_synth_opts *o,
	       struct jrx_synth_report *r);

#endif
