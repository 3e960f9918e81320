/*
 * recover.h - crash recovery of an array (DESIGN.md section 2).
 *
 * The reference recovery is the classic sequential algorithm: every
 * journal bucket read with pread, jsets indexed by seq, all keys sorted
 * with qsort, dedup, one btree insert per key, write-back of every touched
 * node to free space, and one atomic commit (the clean superblock with the
 * new roots and a blacklist past max_seq).  It is the correctness oracle
 * and the speed baseline, and it is never optimised.
 *
 * Owner: the calling thread.  Errors are negative values with the device,
 * offset and reason in jrx_diag().
 */
#ifndef JRX_RECOVER_H
#define JRX_RECOVER_H

#include <stdbool.h>
#include "../btree/fs.h"
#include "../io/array.h"
#include "../io/engine.h"
#include "../replay/placement.h"
#include "report.h"

/* Seqs blacklisted after max_seq: the next journal starts at max_seq + pad. */
#define JRX_JOURNAL_PAD 64u

/* Dry runs may stop early: to time or profile one stage alone. */
enum jrx_stop {
	JRX_STOP_NONE,
	JRX_STOP_JOURNAL_READ,
	JRX_STOP_SORT,
};

struct jrx_recover_opts {
	bool dry_run;		/* replay in memory only: no write at all */
	bool reference;		/* jrx_recover(): the reference recovery */
	bool wait;		/* jrx_recover_open(): wait for a device's
				   holder instead of refusing (io/lock.h) */
	bool degraded;		/* jrx_recover_open(), dry runs only: open
				   with members missing while the journal's
				   replicas cover them (JRX_OPEN_DEGRADED) */
	enum jrx_stop stop_after; /* dry runs only */
	/* replay past seqs of the replay range that no valid jset holds
	 * (fsck -y's repair of JOURNAL_SEQ_MISSING): their transactions are
	 * lost, counted in the report (journal.seqs_missing); copies of a
	 * seq that differ still refuse.  Default false: refused */
	bool allow_missing;
	/* accelerated recovery */
	enum jrx_io_backend io;	/* journal read backend (default auto) */
	unsigned threads;	/* workers of every stage; 0: online cores */
	bool full_scan;		/* read every journal bucket, no bisect */
	enum jrx_numa_mode numa; /* replay workers: auto (pinned per NUMA
				    node) or off */
	unsigned replay_unit;	/* replay units of at most this many journal
				   keys (0: automatic); tests force slices */
	/* memory (recovery/budget.h): the process's limit in bytes (0: 70 %
	 * of MemAvailable); a journal that does not fit is sorted in runs
	 * spilled to a file in scratch_dir (NULL: $TMPDIR, else /var/tmp) */
	uint64_t memory_limit;
	const char *scratch_dir;
	/* progress of every phase (report.h), may be NULL */
	jrx_progress_fn progress;
	void	*progress_ctx;
};

/*
 * The superblock phase of a recovery: open the array over paths[0, n)
 * (read-only for a dry run), timed in r (which it initialises for the
 * mode o asks for).  Then jrx_recover(), then jrx_array_close().
 */
int jrx_recover_open(struct jrx_array *a, const char *const *paths,
		     unsigned n, const struct jrx_recover_opts *o,
		     struct jrx_report *r);

/* The reference or the accelerated recovery, as o->reference says. */
int jrx_recover(struct jrx_array *a, const struct jrx_recover_opts *o,
		struct jrx_report *r, struct jrx_fs *view);

/*
 * Recover a (possibly) unclean array.  A clean array needs nothing: the
 * report says "clean".  Unless dry_run, `a` must be open read-write.
 *
 * With view != NULL, *view is left open on success as the post-recovery
 * store, read-only: after a dry run it lives in memory (the on-disk btrees
 * overlaid with the replayed journal), otherwise it is the committed
 * state.  The caller ends it with jrx_fs_abandon().
 */
int jrx_recover_reference(struct jrx_array *a, const struct jrx_recover_opts *o,
			  struct jrx_report *r, struct jrx_fs *view);

/*
 * The accelerated recovery (DESIGN.md section 4), same contract as the
 * reference: the journal read by the parallel reader (journal/jscan.h)
 * through io_uring or the pread pool, the keys sorted and deduplicated by
 * the sort stage (sort/sort.h), then replayed and committed.  Its end
 * state is the reference's, key for key.
 */
int jrx_recover_accelerated(struct jrx_array *a,
			    const struct jrx_recover_opts *o,
			    struct jrx_report *r, struct jrx_fs *view);

/*
 * The post-recovery view of an array without writing anything: a clean
 * array is opened read-only as it is; an unclean one goes through a
 * dry-run recovery (r may be NULL).  For dump --recovered, fsck -n and
 * verify.  End it with jrx_fs_abandon().
 */
int jrx_open_view(struct jrx_array *a, struct jrx_fs *view,
		  struct jrx_report *r);
/*
 * The same with a memory limit (o->memory_limit, o->scratch_dir; o may be
 * NULL): the dry run is then the accelerated recovery, whose journal
 * read and sort stay within the limit (spilled runs); the leaves it
 * replays stay in memory as the view, as with every dry run, so a limit
 * bounds the journal's share, not the view's.
 */
int jrx_open_view_opts(struct jrx_array *a, struct jrx_fs *view,
		       struct jrx_report *r, const struct jrx_recover_opts *o);

/*
 * Crash injection for tests: the recovery stops (as a power cut would)
 * right after its nth device write, returning -JRX_ERR_CRASHED.  0: off.
 * Thin wrapper over jrx_dev_crash_after_writes() in src/io/device.h.
 */
void jrx_recover_crash_after_writes(uint64_t n);

#endif
