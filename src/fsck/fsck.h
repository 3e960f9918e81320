/*
 * fsck.h - checking an array: six passes over the superblocks, the
 * journal, the btree nodes, the buckets, the accounting and the
 * namespace, each reporting what it finds through the problem table
 * (problems.h).  docs/FSCK.md lists the passes and the problems.
 *
 * The check never writes.  It reads nodes straight from the devices, so a
 * damaged node is a problem report (device, offset, why) and not the end
 * of the check; only an operational failure (out of memory, a pass that
 * cannot run) ends it early.  Memory: a table of a few dozen bytes per
 * bucket (pass 4), one entry per extent and node (used-twice check) and
 * per inode (pass 6); every node is read once, by pass 3's walk, which
 * also feeds passes 4 and 6.
 *
 * Owner: the calling thread.  The callbacks (on_problem, progress) and
 * the report's lines come one at a time, in the same order for any
 * number of threads, but during a walk on a thread of the check's (the
 * walk's visitor, fsck/walk.c), not necessarily the caller's; the
 * check's own threads (opts.threads) are joined before it returns.
 */
#ifndef JRX_FSCK_H
#define JRX_FSCK_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "problems.h"
#include "../btree/fs.h"
#include "../io/array.h"

struct jrx_fsck_opts {
	bool	 read_only;	/* -n: open nothing for writing, never recover */
	bool	 verbose;	/* per-pass and per-btree detail */
	bool	 json;		/* one JSON object instead of text */
	bool	 wait;		/* wait for a device's holder instead of
				   refusing (io/lock.h) */
	bool	 no_scan;	/* never scan block devices for members
				   that were not named (io/members.h) */
	bool	 degraded;	/* with read_only: members may be missing
				   while the journal's replicas cover them
				   (io/array.h JRX_OPEN_DEGRADED) */
	bool	 preen;		/* -p/-a: a clean array is not checked
				   unless force */
	bool	 force;		/* -f */
	/* the recovery of an unclean array (recovery/recover.h): its memory
	 * limit (0: 70 % of MemAvailable) and where spilled runs go */
	uint64_t memory_limit;
	const char *scratch_dir;
	enum jrx_repair_mode repair;	/* -p, -y (problems.h); needs
					   !read_only */
	/* the check's threads (node reads and checks, the passes' own
	 * parallel parts); 0: one per online core.  The report is the same
	 * for any number. */
	unsigned threads;
	/* nodes read in one batch; 0: 64 MiB of them (tests set it small) */
	unsigned window;
	FILE	*out;		/* problems and summary; NULL: silent */
	const char *state;	/* how the checked state was obtained, for the
				   report: "clean", "recovered", "dry_run" */
	/* with json: what the repairs said, one line each (set by
	 * jrx_fsck_run for the re-check; NULL: no "repairs" field) */
	const char *repairs;
	/* every problem instance (tests, later repair queues); may be NULL */
	void   (*on_problem)(void *ctx, enum jrx_pr_code code,
			     const struct jrx_pr_ctx *c);
	void    *hook_ctx;
	/*
	 * Progress, may be NULL: pass 1..6 (JRX_PASS_* + 1), done of total
	 * units.  Each pass starts with (0, 1) and ends with (1, 1); pass 3
	 * counts nodes, total growing as interior nodes name their children.
	 * Called often: the callee rate-limits.
	 */
	void   (*progress)(void *ctx, unsigned pass, uint64_t done,
			   uint64_t total);
	void    *progress_ctx;
};

struct jrx_fsck_pass_result {
	uint64_t checked;	/* objects the pass looked at */
	uint64_t problems;	/* errors and warnings it reported */
	uint64_t bytes_read;	/* node bytes its walks read from devices */
	double	 seconds;
	bool	 ran;		/* false: skipped (e.g. journal of a clean array) */
};

struct jrx_fsck_result {
	struct jrx_pr_counts counts;
	struct jrx_fsck_pass_result pass[JRX_PASS_NR];
	uint64_t nodes[JRX_BTREE_NR];	/* nodes read and valid */
	uint64_t bad_nodes;		/* nodes skipped as damaged */
	bool	 skipped;		/* clean, not checked (preen) */
	unsigned repaired;		/* 1 << JRX_FIX_* applied */
	uint64_t keys[JRX_BTREE_NR];	/* leaf keys */
	unsigned depth[JRX_BTREE_NR];	/* root level + 1 */
	int	 error;			/* operational error (0: none) */
	int	 exit_code;		/* fsck(8): 0, 4, | 8 */
	unsigned threads;		/* the check's threads (0: no walk ran) */
	const char *io;			/* how nodes were read: "io_uring",
					   "pread" (io/engine.h) */
};

void jrx_fsck_opts_default(struct jrx_fsck_opts *o);

/*
 * Check the array a.  view: the post-recovery state of an unclean array
 * (jrx_open_view(), a dry run kept in memory), or NULL for a clean array,
 * which is checked from the superblock's roots.  res gets the counts and
 * the exit code.  Returns 0 when every pass ran (problems or not), or the
 * operational error (also in res->error, exit code 8, jrx_diag()).
 */
int jrx_fsck_check(struct jrx_array *a, struct jrx_fs *view,
		   const struct jrx_fsck_opts *o, struct jrx_fsck_result *res);

/*
 * fsck of devices by path, as `jrx fsck` runs it: open the array
 * (read-only with o->read_only); an unclean array is recovered first
 * (the accelerated recovery, committed: exit code 1, the array was
 * modified) and checked from disk, or with read_only checked through the
 * dry-run view (jrx_open_view).  With preen and not force a clean array
 * is reported clean without a check (res->skipped), as e2fsck -p does.
 * Returns 0 or the operational error (res->exit_code has 8, jrx_diag()
 * says why).
 */
int jrx_fsck_run(const char *const *paths, unsigned n,
		 const struct jrx_fsck_opts *o, struct jrx_fsck_result *res);

/*
 * Test seam, process-wide like the other fault injections: every check
 * from now on lists every node and extent range for the sweep that finds
 * sectors used twice, as if every bucket had one (all_ranges: the sector
 * bitmap's shortcut off), and counts the dirents' targets in batches of
 * ref_batch (0: the default, 2^20).  (false, 0) turns it off.
 */
void jrx_fsck_inject_limits(bool all_ranges, size_t ref_batch);

#endif
