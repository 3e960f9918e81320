/*
 * wnode.h - one node of a walk as the parallel walker holds it (walk.c):
 * the pointer that leads to it, the node once read and checked, and the
 * problems its check found, kept until the walk reaches the node in
 * pre-order and reports them there (so the report is the same whatever
 * the number of threads, and the same as a one-node-at-a-time walk).
 *
 * nodecheck.c checks one node in isolation (its bytes, its keys, its
 * pointer, its children tiling its range) on any thread.
 *
 * Owner: a wnode belongs to the walk that made it.  While a batch of
 * nodes is loaded, each wnode is written by exactly one thread (the
 * worker its request or index was handed to) and read by nobody; the
 * batch's end (jrx_io_read or jrx_pool_run returning) hands it back to
 * the walk's thread.  What the checks read of the struct jrx_fsck (the
 * array, the blacklist, the view's nodes, node_size) is not written
 * during a walk.
 */
#ifndef JRX_FSCK_WNODE_H
#define JRX_FSCK_WNODE_H

#include "fsck_int.h"

/* A problem found by a node's check, to be reported in pre-order. */
struct fsck_wprob {
	enum jrx_pr_code code;
	uint32_t	 slot;		/* 0: at the node; i + 1: before its
					   child i; nr + 1: after its children */
	bool		 has_why;
	struct jrx_pr_ctx c;		/* c.why: NULL; the text is in why */
	char		 why[200];
};

struct fsck_wnode {
	struct fsck_ptr	  p;
	struct jrx_bnode *n;		/* the node, checked and sound; NULL
					   while not loaded or when bad */
	bool		  own;		/* n was decoded here (not the view's) */
	bool		  loaded;
	bool		  bad;		/* damaged: skipped with its subtree */
	bool		  skip;		/* its pointer was invalid: not visited */
	bool		  retry;	/* its adopted bytes did not decode (and
					   are freed): read it again, not adopted */
	int		  err;		/* operational error (-ENOMEM) */
	struct fsck_wprob *probs;
	size_t		  nr_probs, cap_probs;
	size_t		  first_child;	/* in the next level's array */
};

/* What a node check needs, read-only during a batch. */
struct fsck_wcheck {
	const struct jrx_fsck *f;
	bool report;			/* keep problems (pass 3) */
};

/*
 * Check wn's node: from the view's nodes when it is one of them (mem),
 * otherwise from buf, which holds the pointer's written part (read_err:
 * the read failed with that error, buf unused).  With adopt, buf is a
 * blob (btree/blob.h, node_size bytes) that the node keeps as its image
 * (no copy), or that is freed here; bytes that do not decode are not
 * checked then (the blob is gone): wn->retry is set and wn->loaded
 * false, and the caller checks the node again from a buffer it keeps
 * (adopt false), which finds its problems.  Sets wn->n, wn->bad,
 * wn->probs, wn->loaded; wn->err on an operational error (also
 * returned).
 */
int fsck_wnode_check(const struct fsck_wcheck *x, struct fsck_wnode *wn,
		     const struct jrx_bnode *mem, void *buf, bool adopt,
		     int read_err);

/*
 * Whether wn's pointer can be read at all (device, range, blocks); when
 * not, the problem is kept in wn, wn is bad and loaded.
 */
bool fsck_wnode_readable(const struct fsck_wcheck *x, struct fsck_wnode *wn);

/* The byte offset and length of wn's written part on its device. */
uint64_t fsck_wnode_off(const struct jrx_fsck *f, const struct fsck_wnode *wn);
static inline uint32_t fsck_wnode_len(const struct fsck_wnode *wn)
{
	return wn->p.blocks * JRX_BLOCK_SIZE;
}

/* Drop what wn holds (its node if own, its problems). */
void fsck_wnode_release(struct fsck_wnode *wn);

#endif
