/*
 * recover_int.h - the steps every recovery shares (recover.c), so the
 * reference and the accelerated recovery differ only in how they read,
 * sort and replay: the start (clean arrays, refusals), the report of the
 * journal index, and the end (commit, or the dry-run view).
 */
#ifndef JRX_RECOVER_INT_H
#define JRX_RECOVER_INT_H

#include "recover.h"
#include "../journal/jindex.h"
#include "../journal/jread.h"
#include "../replay/replay.h"

/*
 * Fill the report's header and decide whether there is anything to do:
 * 1 when the array is clean (handled: stale superblock copies rewritten,
 * view opened), 0 to go on, or an error (read-only array without
 * dry_run, full blacklist).
 */
int  jrx_recover_start(struct jrx_array *a, const struct jrx_recover_opts *o,
		       struct jrx_report *r, struct jrx_fs *view);

/*
 * The journal index a recovery replays (jrx_jindex_build): with
 * o->allow_missing, seqs of the replay range that no valid jset holds are
 * skipped, counted and listed in the report; anything else the build
 * refuses (copies that differ) is refused as without it.
 */
int  jrx_recover_index(struct jrx_jindex *ix, const struct jrx_array *a,
		       const struct jrx_journal_scan *s,
		       const struct jrx_recover_opts *o, struct jrx_report *r);

/* The index and scan numbers into the report; returns the max_seq to use. */
uint64_t jrx_recover_note_index(struct jrx_report *r, const struct jrx_array *a,
				const struct jrx_jindex *ix,
				const struct jrx_journal_scan *s);

/* The replay's writes (jrx_replay_opts.write_depth, write_io): queued
 * on the interface the journal read used: io_uring, aio, or pread (a
 * queue on helper threads, io/wq.h). */
void jrx_recover_write_opts(const struct jrx_report *r,
			    struct jrx_replay_opts *ro);

/* What replay did to fs, into the report. */
void jrx_recover_note_replay(struct jrx_report *r, const struct jrx_fs *fs);

/* True (and the report says so) if the caller asked to stop here. */
bool jrx_recover_stop(const struct jrx_recover_opts *o, struct jrx_report *r,
		      enum jrx_stop at);

/*
 * After replay into fs (open, *fs_open): commit, or after a dry run keep
 * fs as the caller's read-only view (fs == view) or leave it to be
 * abandoned.  Clears *fs_open when fs no longer needs abandoning.
 */
int  jrx_recover_end(struct jrx_array *a, struct jrx_fs *fs, bool *fs_open,
		     uint64_t max_seq, bool dry, struct jrx_fs *view,
		     struct jrx_report *r);

#endif
