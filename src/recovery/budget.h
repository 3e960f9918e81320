/*
 * budget.h - how a recovery shares its memory limit (jrx_recover_opts.
 * memory_limit; DESIGN.md section 4, "Memory") between the stages, and
 * whether the journal is recovered in memory or through spilled runs.
 *
 * The limit covers the whole process: what it held when the recovery
 * began (the program, the array's bucket tables, caches) is taken off
 * first, with a 10 MiB margin (the replay's fixed costs: stacks, node
 * images in flight, the interior nodes it routes through); of the rest, A:
 *  - in memory: the journal read whole costs its bytes plus about 60 %
 *    (sort entries, replay), so a journal of up to 5/8 A is read whole,
 *    as without a limit; its sort cuts its runs in chunks unless the
 *    uncut runs leave the replay a third of A (jrx_budget_sort_chunk);
 *  - spilled: the journal is read in batches of 0.15 A, three at a time
 *    (one read, one sorted, one written as a run: an arena of 0.45 A,
 *    and the sort's entries of two batches, at most 32 bytes a key), the
 *    run readers of the merges open at once (the windows', a streamed
 *    leaf's parts) share A / 5, and the replay's window of merged keys
 *    is at most A / 5 (about 1.25 times that with its key list), less
 *    when the interior, alloc and accounting keys held whole and a third
 *    of A for the replay leave less.
 * The default limit is 70 % of MemAvailable, so no journal size ends in
 * ENOMEM or the OOM killer.  Owner: the recovering thread.
 */
#ifndef JRX_BUDGET_H
#define JRX_BUDGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct jrx_budget {
	uint64_t limit;			/* bytes */
	bool	 from_default;		/* 70 % of MemAvailable */
	uint64_t base;			/* RSS when the recovery began */
	uint64_t avail;			/* A: limit - base - margin */
	uint64_t journal_in_memory;	/* most journal bytes read whole */
	size_t	 batch_bytes;		/* the journal read's arena: three
					   batches, each a spilled run */
	size_t	 readers_bytes;		/* all run readers of a merge */
	size_t	 window_bytes;		/* replay window, record bytes */
};

/* Percent of MemAvailable the default limit takes. */
#define JRX_BUDGET_DEFAULT_PCT	70u
/* Below this much for the stages (A), a recovery refuses to start. */
#define JRX_BUDGET_MIN_AVAIL	(12ull << 20)

/*
 * Plan b for limit bytes (0: the default); bucket_size is the journal's
 * (a batch holds at least one bucket).  -JRX_ERR_BAD_OPTION, saying
 * how much would be needed, when the limit leaves too little.
 */
int jrx_budget_plan(struct jrx_budget *b, uint64_t limit, uint64_t bucket_size);

/*
 * The sort's chunk size (sort.h, jrx_sort_opts.chunk_bytes) for keys
 * keys of a journal of journal_bytes read whole: SIZE_MAX, runs sorted
 * uncut, when their peak (at most 32 bytes a key) beside the journal
 * still leaves the replay a third of A; else 0, the sort's chunks (about
 * 20 bytes a key, but a K-way merge into fresh pages: 0.84-1.39 s of
 * merge at 50 M journal keys on 2 threads, where uncut runs took
 * 0.38-0.65 s and 460 MB more).
 */
size_t jrx_budget_sort_chunk(const struct jrx_budget *b,
			     uint64_t journal_bytes, uint64_t keys);

/* Per-reader buffer (a reader has two: spill_merge.c's read-ahead) and
 * the most runs one merge reads, for nr runs read by up to `merges`
 * merges at once (the one that fills the windows, and a streamed leaf's
 * parts, one a replay worker). */
size_t jrx_budget_reader(const struct jrx_budget *b, size_t nr_runs,
			 unsigned merges, size_t *max_runs);

/*
 * The replay window's bytes once held bytes (the interior, alloc and
 * accounting keys, kept whole) are taken: at most window_bytes, at least
 * 1 MiB (a smaller limit streams its leaves, slowly, but stays in it).
 */
size_t jrx_budget_window(const struct jrx_budget *b, uint64_t held);

/*
 * Node images each of threads replay workers may hold for its I/O
 * (jrx_replay_opts.images: leaves read ahead, pieces whose writes have
 * not landed), node_size bytes each: half the replay's third of A, at
 * least 2.  A big limit gives more than a worker uses (the replay takes
 * at most JRX_REPLAY_IMAGES_MAX).
 */
unsigned jrx_budget_images(const struct jrx_budget *b, uint32_t node_size,
			   unsigned threads);

#endif
