/*
 * spill.h - sorted runs of journal keys on a scratch file, and their
 * streaming merge: the sort stage of a recovery whose journal does not
 * fit its memory limit (DESIGN.md section 4, "Memory").
 *
 *   write   a batch of jsets is sorted in memory with every key kept
 *           (jrx_sort_opts.keep_all) and appended to the scratch file as
 *           one run of records (struct jrx_spill_frec, then the key); a
 *           seq already on the file (a replica of a jset an earlier batch
 *           held) is left out, so every seq is in one run only;
 *   merge   once the journal index is whole, the runs are merged with a
 *           loser tree, streaming, a section at a time (interior keys,
 *           the leaf keys of the ordinary btrees, alloc and accounting);
 *           keys of seqs the index does not replay (outside its range,
 *           blacklisted) are dropped before the dedup, which keeps what
 *           jrx_sort_journal() keeps: the newest key of a position, and
 *           every accounting delta (each record is one: no seq is in two
 *           runs, so no record is a replica's copy of another).
 *   passes  when there are more runs than the merge's memory can read
 *           at once, groups of runs are first merged into longer runs
 *           (the same filter and dedup; both are idempotent).
 *
 * The file is created unlinked in the scratch directory (O_TMPFILE, or
 * mkstemp and unlink), so nothing outlives the process; it is written and
 * read with O_DIRECT where the filesystem allows it, so a spill neither
 * fills the page cache nor reads back from it.  Owner: the calling
 * thread; nothing in it is shared, but for merges opened at a mark
 * (jrx_spill_merge_open_mark), which only read the file (pread and their
 * own read queue) and may run on other threads while the owner waits.
 */
#ifndef JRX_SPILL_H
#define JRX_SPILL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "sort.h"
#include "../format/format.h"
#include <pthread.h>
#include "../io/wq.h"
#include "../journal/jindex.h"

/*
 * One key in a run on the file: this header, then the key (u64s words).
 * The seq is kept as its distance from the run's first (struct
 * jrx_spill_run.seq0); the order within a run is the sort's, so a key's
 * offset in its jset need not be kept.
 */
struct jrx_spill_frec {
	uint32_t dseq;		/* seq - run's seq0 */
	uint8_t	 level;
	uint8_t	 btree_id;
	uint16_t u64s;		/* the key's u64s */
};
_Static_assert(sizeof(struct jrx_spill_frec) == 8, "spill file record");

/* One key as the merge hands it out (and jrx_spill_put takes it): this
 * header, then the key. */
struct jrx_spill_rec {
	uint64_t seq;
	uint32_t zero;		/* unused, 0 */
	uint8_t	 level;
	uint8_t	 btree_id;
	uint16_t u64s;		/* the key's u64s */
};
_Static_assert(sizeof(struct jrx_spill_rec) == 16, "spill record");

/* The longest record: its header and the longest key (on the file and
 * handed out). */
#define JRX_SPILL_MAX_REC_BYTES	(sizeof(struct jrx_spill_rec) + JRX_KEY_MAX_U64S * 8u)

static inline const struct jrx_bkey *jrx_spill_key(const struct jrx_spill_rec *r)
{
	return (const struct jrx_bkey *)(r + 1);
}

static inline size_t jrx_spill_rec_bytes(const struct jrx_spill_rec *r)
{
	return sizeof(*r) + (size_t)r->u64s * 8u;
}

/* Buffers of the spill writer (see struct jrx_spill). */
#define JRX_SPILL_WBUFS	4

/* The sections a merge reads; in journal order. */
enum jrx_spill_section {
	JRX_SPILL_INTERIOR = 0,	/* level > 0 */
	JRX_SPILL_LEAVES,	/* level 0, the btrees below alloc */
	JRX_SPILL_ALLOC,	/* level 0, alloc and accounting */
	JRX_SPILL_SECTIONS,
};

struct jrx_spill_run {
	uint64_t off;			/* where it starts: block-aligned */
	uint64_t bytes;			/* of records */
	uint64_t keys;
	uint64_t seq0, seq1;		/* its records' seqs: seq1 - seq0 fits
					   the 32 bits of frec.dseq */
	uint64_t sect[JRX_SPILL_SECTIONS + 1];	/* section s: bytes
					   [sect[s], sect[s + 1]) of the run */
};

struct jrx_spill_stats {
	uint64_t runs;			/* written from the journal */
	uint64_t keys;			/* records written from the journal */
	uint64_t copies_skipped;	/* jsets left out: their seq was on the
					   file (a replica in another batch) */
	uint64_t bytes_written;		/* all passes */
	uint64_t bytes_read;		/* all passes */
	unsigned merge_passes;		/* 1, plus the passes that made longer
					   runs */
	bool	 direct;		/* O_DIRECT */
	bool	 read_ahead;		/* the merges read ahead (io_uring or
					   aio; both refused: one pread at a
					   time) */
	bool	 tmpfs;			/* the scratch directory is tmpfs: the
					   spilled bytes are in memory too */
	double	 write_seconds, merge_seconds;
	double	 close_seconds;		/* closing the scratch file: freeing
					   its blocks (long where the
					   filesystem discards them) */
};

struct jrx_spill {
	int	 fd;
	bool	 direct;
	char	 path[256];		/* the scratch directory, for messages */
	uint64_t end;			/* where the next run goes */
	struct jrx_spill_run *run;
	size_t	 nr_runs, cap_runs;
	/* the seqs of the jsets written so far, ascending: a replica of one
	 * of them in a later batch is left out (8 bytes a jset) */
	uint64_t *seqs;
	size_t	 nr_seqs, cap_seqs;
	size_t	 buf_bytes;		/* each of the writer's buffers */
	size_t	 read_bytes;		/* each reader's (default buf_bytes) */
	/*
	 * The writer's buffers: one is filled while the others are written
	 * through wq (io/wq.h: io_uring, aio or its helper threads,
	 * O_DIRECT), so the records of a run are made while the disk writes
	 * the previous ones; where no queue opens, one buffer and synchronous
	 * writes.  busy[i]: in flight.
	 */
	void	*wbuf[JRX_SPILL_WBUFS];
	bool	 busy[JRX_SPILL_WBUFS];
	unsigned nr_wbufs, cur;
	/* a queue is single-issuer: wq belongs to the thread that
	 * opened it (wq_owner); a run begun on another thread (the journal
	 * read's sink thread writes the runs, the recovering thread the
	 * merge's reduce passes) opens it again there.  Between runs it is
	 * drained, so no write is in flight when it changes hands. */
	struct jrx_wq *wq;
	pthread_t wq_owner;
	int	 werr;			/* the first failed write's error */
	struct jrx_spill_stats st;
};

/*
 * Create the scratch file in dir (NULL: $TMPDIR, else /var/tmp).
 * buf_bytes: the writer's buffer and each reader's, rounded to 4 KiB
 * (at least 64 KiB).
 */
int  jrx_spill_open(struct jrx_spill *sp, const char *dir, size_t buf_bytes);
void jrx_spill_close(struct jrx_spill *sp);

/*
 * Append the sorted keys res (jrx_sort_journal() over ix with keep_all)
 * as one run.  ix (sorted by seq) and its jsets are only read; the keys
 * of a seq already on the file, or of a second entry of one seq in ix,
 * are left out.  A run whose seqs span more than 2^32 is refused
 * (-EOVERFLOW, before anything is written).
 */
int  jrx_spill_write_run(struct jrx_spill *sp, const struct jrx_jindex *ix,
			 const struct jrx_sort_result *res);

/* Which seqs the merge keeps: the index's range, less the blacklisted. */
struct jrx_spill_filter {
	uint64_t first, last;		/* [first, last] (last 0: none) */
	const struct jrx_blacklist_entry *bl;
	size_t	 nr_bl;
};

struct jrx_spill_merge;

/*
 * While more than max_runs runs are on the file, merge groups of them
 * into longer runs (filtered and deduplicated).  Counts the passes.
 */
int  jrx_spill_reduce(struct jrx_spill *sp, const struct jrx_spill_filter *f,
		      size_t max_runs);
/* Merge section s of every run: records come out of next(). */
int  jrx_spill_merge_open(struct jrx_spill_merge **m, struct jrx_spill *sp,
			  enum jrx_spill_section s,
			  const struct jrx_spill_filter *f);
/*
 * The next record in journal order, filtered and deduplicated: 1 and
 * *out (valid until the next call), 0 at the end, or a negative errno.
 */
int  jrx_spill_merge_next(struct jrx_spill_merge *m,
			  const struct jrx_spill_rec **out);
void jrx_spill_merge_close(struct jrx_spill_merge *m);
/*
 * Where a merge stands (each run's current record, and the record its
 * dedup holds back), to open a merge there later, on any thread, as many
 * times as wanted: the records after the mark come out of it again.
 */
struct jrx_spill_mark {
	size_t	 k;
	struct jrx_spill_filter f;
	uint64_t *at;			/* per run: its current record's file
					   offset; UINT64_MAX: the run is done */
	uint64_t *left, *end;		/* per run: section bytes left, its end */
	uint64_t *seq0;			/* per run: its first seq */
	uint64_t *held;			/* the held record's copy, or NULL */
};

int  jrx_spill_merge_mark(const struct jrx_spill_merge *m,
			  struct jrx_spill_mark *mk);
void jrx_spill_mark_free(struct jrx_spill_mark *mk);
/*
 * A merge opened at mk, its readers with read_bytes buffers, detached:
 * it belongs to the calling thread (its read-ahead queue, io/wq.h) and
 * keeps its statistics out of sp, so merges at marks can run on several
 * threads at once; it is closed with jrx_spill_merge_end(), which adds
 * its bytes read and seconds open to the caller's counters.
 */
int  jrx_spill_merge_open_mark(struct jrx_spill_merge **m,
			       struct jrx_spill *sp,
			       const struct jrx_spill_mark *mk,
			       size_t read_bytes);
void jrx_spill_merge_end(struct jrx_spill_merge *m, uint64_t *bytes_read,
			 double *seconds);

/*
 * A run written record by record (in journal order), appended to the
 * file through sp's write buffers: start (with the range of its seqs:
 * -EOVERFLOW if it spans more than 2^32), put..., end (which waits until
 * the run is on the file, then adds it to sp->run).
 */
struct jrx_spill_writer {
	struct jrx_spill *sp;
	struct jrx_spill_run run;
	uint64_t pos;			/* file offset of the current buffer */
	size_t	 fill;
};

int  jrx_spill_writer_start(struct jrx_spill_writer *w, struct jrx_spill *sp,
			    uint64_t seq0, uint64_t seq1);
int  jrx_spill_put(struct jrx_spill_writer *w, const struct jrx_spill_rec *r,
		   const struct jrx_bkey *k);
int  jrx_spill_writer_end(struct jrx_spill_writer *w);

/* Section s of runs [first, first + n) (a merge of one run: a run read
 * back in order). */
int  jrx_spill_merge_runs(struct jrx_spill_merge **m, struct jrx_spill *sp,
			  size_t first, size_t n, enum jrx_spill_section s,
			  const struct jrx_spill_filter *f);


#endif
