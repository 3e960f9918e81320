/*
 * report.h - the recovery report: one plain struct that every phase of a
 * recovery (reference or accelerated) fills in, printed as text or JSON.
 *
 * Owner: the thread running the recovery; phases write their own fields
 * and nothing else.  The JSON names are a stable interface (issue 3):
 * mode, threads, io_backend, devices, journal{bytes_read,jsets,seq_first,
 * seq_last}, keys{read,after_dedup}, phases{superblock,journal_read,sort,
 * replay,commit}, phase_starts{same names: CLOCK_MONOTONIC seconds},
 * phase_cpu{same names: {user,sys,minflt}},
 * total_seconds, peak_rss_bytes; more may be added.  The accelerated
 * recovery adds memory{limit_bytes, limit_default, base_bytes,
 * journal_in_memory_max_bytes, node_images_peak_bytes, spilled,
 * spill{dir, direct, runs, keys, bytes_written, bytes_read, merge_passes,
 * runs_merged, windows, write_seconds, merge_seconds}} (spill only when
 * spilled) and
 * replay.streamed_leaves.
 */
#ifndef JRX_REPORT_H
#define JRX_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "../util/clock.h"
#include "../replay/replay_stats.h"
#include "../sort/spill.h"

enum jrx_report_phase {
	JRX_PHASE_SUPERBLOCK,
	JRX_PHASE_JOURNAL_READ,
	JRX_PHASE_SORT,
	JRX_PHASE_REPLAY,
	JRX_PHASE_COMMIT,
	JRX_PHASE_NR,
};

/* A recovery's progress callback: phase (enum jrx_report_phase), done of
 * total.  Called by one thread at a time; the callee rate-limits. */
typedef void (*jrx_progress_fn)(void *ctx, unsigned phase, uint64_t done,
				uint64_t total);

struct jrx_report {
	const char *mode;		/* "reference" | "accelerated" */
	const char *io_backend;		/* "io_uring" | "aio" | "pread" */
	const char *result;		/* "clean" | "recovered" | "dry_run" */
	unsigned threads;
	unsigned devices;
	bool	 dry_run;
	/* io (accelerated) */
	char	 io_fallback[160];	/* why auto left io_uring, or "" */
	bool	 io_direct;		/* O_DIRECT reads */
	bool	 io_fixed_buffers;	/* registered buffers */
	unsigned io_threads, io_depth;
	/* journal */
	const char *read_mode;		/* "sequential" | "bisect" | "full_scan" */
	char	 full_scan_why[256];	/* why a bisect became a full scan */
	uint64_t probes;		/* bisect: one-block reads */
	uint64_t buckets_total;		/* journal buckets of the array */
	uint64_t bytes_read;
	uint64_t buckets_read;
	uint64_t jsets;			/* distinct seqs in the replay range */
	uint64_t jset_copies;		/* valid copies found (replicas) */
	uint64_t bad_jsets;		/* torn or corrupt: ended a bucket */
	uint64_t seq_first, seq_last;	/* replay range */
	uint64_t blacklisted;		/* seqs skipped in the range */
	uint64_t seqs_missing;		/* allow_missing: seqs no jset held */
	char	 missing_runs[160];	/* those seqs as runs "a..b, c" */
	/* keys */
	uint64_t keys_read;
	uint64_t keys_after_dedup;
	uint64_t keys_interior;		/* level > 0, after dedup */
	uint64_t keys_alloc, keys_accounting; /* after dedup (deltas: all) */
	uint64_t accounting_skipped;	/* deltas already in the btree */
	/* sort (accelerated): the parts of phases.sort */
	double	 sort_extract, sort_sort, sort_merge;
	unsigned sort_key_bits;		/* packed sort key */
	bool	 sort_prescanned;	/* its ranges from the journal read */
	unsigned sort_runs;		/* runs merged (sort.h) */
	const char *replay_mode;	/* "sequential" | "parallel" */
	/* parallel replay (accelerated): placement, plan, workers */
	struct jrx_replay_stats replay;
	/* replay and commit */
	uint64_t nodes_read, nodes_written, splits;
	uint64_t leaves_read;		/* of nodes_read */
	uint64_t bsets_appended;	/* to committed nodes, in place */
	uint64_t nodes_moved;		/* written whole elsewhere, one piece */
	uint64_t node_bytes_read, node_bytes_written;	/* the replay's node I/O */
	uint64_t new_journal_seq;	/* first seq the next session writes */
	double	 phase[JRX_PHASE_NR];	/* seconds */
	/* when each phase began, jrx_now() (CLOCK_MONOTONIC) seconds: the
	 * clock of `perf record -k CLOCK_MONOTONIC`, so a profile can be cut
	 * by phase (perf/phases.sh); 0 for a phase that did not run */
	double	 phase_start[JRX_PHASE_NR];
	/* what each phase cost the process (clock.h jrx_cpu_now): CPU
	 * seconds in user and kernel mode and minor page faults, the end's
	 * counters less the begin's (cpu_at: the begin's, kept until then) */
	struct jrx_cpu phase_cpu[JRX_PHASE_NR], cpu_at[JRX_PHASE_NR];
	double	 total_seconds;
	uint64_t peak_rss_bytes;
	/* memory limit (recovery/budget.h) and the spilled sort (accelerated) */
	uint64_t memory_limit_bytes;
	bool	 memory_limit_default;	/* 70 % of MemAvailable */
	uint64_t memory_base_bytes;	/* RSS when the recovery began */
	uint64_t journal_in_memory_max_bytes; /* most journal read whole */
	uint64_t node_images_peak_bytes; /* most node images held at once */
	bool	 spilled;		/* the journal went through runs */
	char	 scratch_dir[256];
	struct jrx_spill_stats spill;
	uint64_t spill_runs_left;	/* runs the last merge read */
	uint64_t spill_windows;		/* replay windows */
	/* not reported: where progress goes (jrx_recover_opts.progress) */
	jrx_progress_fn	 progress;
	void		*progress_ctx;
};

extern const char *const jrx_phase_names[JRX_PHASE_NR];

/* Progress of a phase: (phase, 0, 1) when it begins, (phase, 1, 1) when it
 * ends, done of total units between (the replay: units of work). */
void jrx_progress(const struct jrx_report *r, enum jrx_report_phase p,
		  uint64_t done, uint64_t total);

void jrx_report_init(struct jrx_report *r, const char *mode);
/* Time one phase: t = jrx_phase_begin(r, p); ...; jrx_phase_end(r, p, t). */
double jrx_phase_begin(struct jrx_report *r, enum jrx_report_phase p);
void jrx_phase_end(struct jrx_report *r, enum jrx_report_phase p, double t);
void jrx_report_print_text(const struct jrx_report *r, FILE *f);
void jrx_report_print_json(const struct jrx_report *r, FILE *f);

#endif
