/*
 * fsck_int.h - what the fsck passes share: the check's context, the node
 * walker (walk.c) and the per-pass entry points (pass_*.c).  Not part of
 * the API; fsck.h is.
 */
#ifndef JRX_FSCK_INT_H
#define JRX_FSCK_INT_H

#include "fsck.h"
#include "../btree/bnode.h"
#include "../util/checked.h"

/*
 * The byte offset sector * 512 (+ add) for a problem's context, or
 * JRX_PR_NONE where a sector read from disk puts it past 2^64: the
 * report then names the sector, never a wrapped offset.
 */
static inline uint64_t fsck_sector_offset(uint64_t sector, uint64_t add)
{
	uint64_t off;

	return jrx_muladd_u64(sector, JRX_SECTOR_SIZE, add, &off) ?
		off : JRX_PR_NONE;
}

/*
 * jrx_fsck_check, and for an unclean array whose post-recovery view could
 * not be built (view NULL, view_err its error, view_why the reason): the
 * superblock and journal passes still run, the others are skipped, and
 * the result is that operational error.
 */
int fsck_check(struct jrx_array *a, struct jrx_fs *view,
	       const struct jrx_fsck_opts *o, struct jrx_fsck_result *res,
	       int view_err, const char *view_why);

/* A node as its parent (or the root entry) points at it. */
struct fsck_ptr {
	uint8_t		btree_id;
	uint8_t		level;
	uint32_t	dev;
	uint64_t	sector;
	uint64_t	nonce;
	uint32_t	blocks;		/* the node's written part */
	struct jrx_bpos	min, max;
};

/* Key range of a btree whose keys pass 3 could not (all) read. */
struct fsck_damage {
	uint8_t		btree_id;
	uint8_t		level;		/* of the damaged node */
	struct jrx_bpos	min, max;
};

/* Expected counters of one (device, data type), pass 4 -> pass 5. */
struct fsck_acct_exp {
	int64_t buckets, sectors;
};

struct jrx_fsck {
	struct jrx_array	*a;
	struct jrx_fs		*view;		/* NULL: clean, from disk */
	const struct jrx_fsck_opts *o;
	struct jrx_fsck_result	*res;
	struct jrx_pr_out	 out;
	uint32_t		 node_size;
	uint32_t		 bucket_sectors;
	void			*buf;		/* node_size, aligned */
	struct jrx_blacklist	 bl;
	/* roots: from the view or the superblock */
	struct fsck_ptr		 root[JRX_BTREE_NR];
	bool			 have_root[JRX_BTREE_NR];
	/* nodes that exist only in the view (dry-run recovery), sorted by
	 * (dev, sector) */
	struct jrx_bnode	**mem;
	size_t			 nr_mem;
	/* pass 3 -> later passes: where keys are missing */
	struct fsck_damage	*damage;
	size_t			 nr_damage, cap_damage;
	bool			 nomem;
	/* an unclean array without a view: passes 3-6 cannot run */
	int			 view_err;
	const char		*view_why;
	/* pass 4 -> pass 5 */
	struct fsck_acct_exp	 acct[JRX_MAX_DEVICES][JRX_DATA_TYPE_NR];
	bool			 acct_valid;
	/* progress of the running pass's walks: nodes done, nodes known */
	uint64_t		 walk_done, walk_known;
	/* the walks' reader (walk.c): the read engine and the pool, opened
	 * at the first walk, closed by fsck_free() */
	struct fsck_reader	*rd;
	/*
	 * One read of every node (pass_nodes.c): pass 3's walk also feeds
	 * pass 4's and pass 6's collectors, whose problems are held back
	 * (later) until their pass runs and reports them in the order their
	 * own walks would have found them.  Owner: the walk's thread.
	 */
	struct fsck_space	*space;		/* pass 4's, filled by pass 3 */
	struct fsck_names	*names;		/* pass 6's, filled by pass 3 */
	bool			 defer;		/* problems go to later */
	uint8_t			 defer_btree;	/* the btree being walked */
	struct fsck_later	*later;
	size_t			 nr_later, cap_later;
	/* pass 4, when set (the space repair's): a bit per bucket of each
	 * device that a node or an extent in the data buckets touches */
	uint64_t *const		*refd;
};

/* A problem held back: its pass, the btree walked when it was found. */
struct fsck_later {
	enum jrx_pr_code code;
	uint8_t		 pass;
	uint8_t		 btree;
	bool		 has_why;
	struct jrx_pr_ctx c;		/* c.why: NULL; the text is in why */
	char		 why[200];
};

/* Hold a problem back (f->defer); on no memory f->nomem stops the walk. */
void fsck_defer(struct jrx_fsck *f, enum jrx_pr_code code,
		const struct jrx_pr_ctx *c);
/* Report the problems held back for pass, btree by btree in the order
 * of ids (0..NR-1), each btree's in the order found, and drop them. */
void fsck_report_later(struct jrx_fsck *f, enum jrx_fsck_pass pass,
		       const unsigned *ids, size_t nr_ids);
/* Drop the problems held back for pass while btree was walked (a pass
 * that walks it again to find them again, in order). */
void fsck_drop_later(struct jrx_fsck *f, enum jrx_fsck_pass pass,
		     unsigned btree);

/* jrx_fsck_inject_limits(): read once at the start of a collector. */
extern _Atomic bool fsck_inject_all_ranges;
extern _Atomic size_t fsck_inject_ref_batch;

/* Keys of a leaf a visit prefetches ahead of the one it checks: they
 * were decoded on another thread. */
#define FSCK_KEY_AHEAD	4

/* Nodes a walk reads in one batch, unless o->window says: 64 MiB of them. */
#define FSCK_WINDOW_BYTES	(64u << 20)

struct fsck_reader;
void fsck_reader_close(struct fsck_reader *rd);

/*
 * fn(arg, id) for every id of the check's worker pool (util/pool.h:
 * o->threads workers, reader.c), for the passes' own parallel parts;
 * returns when all have returned.  0, or the error of opening the pool.
 */
int fsck_parallel(struct jrx_fsck *f, void (*fn)(void *arg, unsigned id),
		  void *arg);

/* o->progress for the running pass, if any. */
void fsck_progress(struct jrx_fsck *f, uint64_t done, uint64_t total);

/* Reading state of f (buffers, blacklist, roots from the view or the
 * superblock) for f->a and f->view; fsck_free() ends it. */
int  fsck_setup(struct jrx_fsck *f);
void fsck_free(struct jrx_fsck *f);

/*
 * The repairs of fixes (1 << JRX_FIX_*) on a, which must be clean and
 * open read-write; first is the check that found the problems.  What is
 * done is said on o->out.  Crash-safe: new state in free space, then one
 * superblock commit, or the store's journaled transactions (repair.c).  *done gets the repairs applied (a
 * rebuild can be refused, and says why on o->out).
 */
int  fsck_repair(struct jrx_array *a, const struct jrx_fsck_opts *o,
		 unsigned fixes, const struct jrx_fsck_result *first,
		 unsigned *done);

/*
 * A check of a repair's own (repair.c), on a, clean: a context set up as
 * fsck_setup() makes it, with no output and no progress, its problems
 * counted in f->res and given to hook (may be NULL) as pass's, then
 * run(f, ctx) called and everything freed.  run's result, or the error of
 * setting up.
 */
int  fsck_own_check(struct jrx_array *a, const struct jrx_fsck_opts *o,
		    enum jrx_fsck_pass pass,
		    void (*hook)(void *ctx, enum jrx_pr_code code,
				 const struct jrx_pr_ctx *c), void *hook_ctx,
		    int (*run)(struct jrx_fsck *f, void *ctx), void *ctx);

/*
 * fn(fs, ctx) on the store of a, clean, opened for writing (repair.c):
 * then the clean shutdown, or after an error the store abandoned (what
 * was committed is in the journal: the next fsck recovers it).
 */
struct jrx_fs;
int  fsck_in_store(struct jrx_array *a, int (*fn)(struct jrx_fs *fs, void *ctx),
		   void *ctx);

/*
 * JRX_FIX_NAMESPACE (repair_namespace.c): pass 6 run again and what it
 * finds repaired through the store's transaction path, round after round
 * until it finds nothing (o->repair PREEN: PREEN_OK rows only).  a must
 * be clean, open read-write, its references all known.  1 when something
 * was written (said on out), 0 when nothing was, or an error.
 */
int  fsck_repair_namespace(struct jrx_array *a, const struct jrx_fsck_opts *o,
			   FILE *out);

/*
 * JRX_FIX_TOPOLOGY (repair_topology.c): every btree whose walk finds a
 * pass-3 problem, and every btree of force (1 << id), rebuilt whole from
 * its reachable sound leaves and the sound leaves a scan of every data
 * bucket finds; the key ranges nothing covers are said lost on out.  f as fsck_setup() made it (f->res: the
 * walks' own counts), the array clean and open read-write.  1 when the
 * superblock switched roots, 0 when no btree was to rebuild, or an error.
 */
int  fsck_repair_topology(struct jrx_fsck *f, unsigned force, FILE *out);

/*
 * JRX_FIX_SPACE (repair_space.c): pass 4's misplaced and shared ranges
 * repaired, in rounds of check -> fix until its check finds none: an
 * extent outside data (or on no member) removed, one crossing its
 * bucket's end cut to its front, one sharing sectors with a node cut,
 * one sharing them with another extent moved (its data copied to free
 * sectors; cut when there is no room), extents in a bucket of nodes
 * moved out; a btree with a misplaced or shared node rebuilt
 * (fsck_repair_topology with force).  Extents through the store's
 * transactions; alloc and accounting are left to the next round's
 * rebuild.  a clean, open read-write, no node damaged.  1 when something
 * was written (said on out), 0 when nothing was, or an error.
 */
int  fsck_repair_space(struct jrx_array *a, const struct jrx_fsck_opts *o,
		       FILE *out);

/*
 * What the space repair needs of a pass-4 instance (jrx_pr_ctx.fix):
 * the node or extent range found, and for BUCKET_USED_TWICE the range
 * found before it whose sectors it shares ([start, start + len)).
 */
struct fsck_space_ref {
	bool		extent;		/* else a node */
	uint8_t		btree;
	uint32_t	dev;
	uint64_t	sector;
	uint32_t	len;		/* sectors */
	struct jrx_bpos	pos;		/* extent: its key; node: its max */
};

struct fsck_space_fix {
	unsigned	 nr;		/* ranges: 1, or 2 (used twice) */
	struct fsck_space_ref r[2];	/* [0]: found; [1]: the earlier */
	uint64_t	 start, len;	/* used twice: the shared sectors */
};

/* A context for a problem about node p (device, offset, btree, level, pos). */
void fsck_ctx_node(struct jrx_pr_ctx *c, const struct fsck_ptr *p);

/* Note a range of btree keys lost to damage (pass 3). */
void fsck_damage_add(struct jrx_fsck *f, const struct fsck_ptr *p);
/* Whether damage hides keys of btree in [lo, hi] (any level). */
bool fsck_damaged(const struct jrx_fsck *f, unsigned btree, struct jrx_bpos lo,
		  struct jrx_bpos hi);
/* Whether damage hides any key of btree; interior: only node pointers. */
bool fsck_btree_damaged(const struct jrx_fsck *f, unsigned btree,
			bool interior);
/* Keys of inode inum in a btree keyed by inode number may be hidden. */
static inline bool fsck_inum_damaged(const struct jrx_fsck *f, unsigned btree,
				     uint64_t inum)
{
	return fsck_damaged(f, btree, jrx_bpos(inum, 0, 0),
			    jrx_bpos(inum, UINT64_MAX, UINT32_MAX));
}
/* A check skipped because of damage: one info line. */
void fsck_incomplete(struct jrx_fsck *f, const char *what, unsigned btree);

static inline bool fsck_report(struct jrx_fsck *f, enum jrx_pr_code code,
			       const struct jrx_pr_ctx *c)
{
	if (f->defer) {
		fsck_defer(f, code, c);
		return false;
	}
	return jrx_problem(&f->out, code, c);
}

/*
 * The node walker: every node reachable from a btree's root, pre-order.
 * The nodes are read and checked on all threads (o->threads), many reads
 * in flight; the callbacks and the problems come on the calling thread,
 * in pre-order, whatever the number of threads.
 * With report set (pass 3) every damaged node is reported and its range
 * noted (fsck_damage_add); otherwise the same nodes are skipped silently.  Callbacks
 * return non-zero (an operational error) to stop.
 */
struct fsck_walk {
	unsigned btree_id;
	bool	 report;
	bool	 leaves;	/* read leaves and visit their keys */
	/* every pointer followed, the root's included, before reading */
	int	(*ptr)(void *ctx, const struct fsck_ptr *p);
	/* every node read and found sound */
	int	(*node)(void *ctx, const struct jrx_bnode *n,
			const struct fsck_ptr *p);
	/* leaf keys, in order */
	int	(*key)(void *ctx, const struct fsck_ptr *leaf,
		       const struct jrx_bkey *k);
	void	*ctx;
	/* out */
	uint64_t nodes, bad_nodes, keys;
};

int fsck_walk(struct jrx_fsck *f, struct fsck_walk *w);

/*
 * Pass 4's collector (pass_buckets.c): every node pointer and the
 * extents' and alloc keys, as walk callbacks (ctx: the collector).
 */
struct fsck_space;
int  fsck_space_begin(struct jrx_fsck *f, struct fsck_space **out);
int  fsck_space_ptr(void *space, const struct fsck_ptr *p);
int  fsck_space_key(void *space, const struct fsck_ptr *leaf,
		    const struct jrx_bkey *k);
/* The same for every key of leaf n, in order (a walk's node callback). */
int  fsck_space_leaf(void *space, const struct jrx_bnode *n,
		     const struct fsck_ptr *leaf);
void fsck_space_free(struct fsck_space *s);

/*
 * Pass 6's collector (pass_namespace.c): the keys of the inodes,
 * dirents, extents and xattrs btrees, walked in that order.
 */
struct fsck_names;
int  fsck_names_begin(struct jrx_fsck *f, struct fsck_names **out);
int  fsck_names_key(void *names, const struct fsck_ptr *leaf,
		    const struct jrx_bkey *k);
int  fsck_names_leaf(void *names, const struct jrx_bnode *n,
		     const struct fsck_ptr *leaf);
void fsck_names_free(struct fsck_names *s);
/* inodes, dirents, extents, xattrs: the inode table comes first */
#define FSCK_NAMES_NR 4
extern const unsigned fsck_names_order[FSCK_NAMES_NR];

/* Passes: 0 when the pass ran (whatever it found), or an operational error. */
int fsck_pass_sb(struct jrx_fsck *f);
int fsck_pass_journal(struct jrx_fsck *f);
int fsck_pass_nodes(struct jrx_fsck *f);
int fsck_pass_buckets(struct jrx_fsck *f);
int fsck_pass_accounting(struct jrx_fsck *f);
int fsck_pass_namespace(struct jrx_fsck *f);

#endif
