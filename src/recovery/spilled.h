/*
 * spilled.h - the accelerated recovery of a journal bigger than its
 * memory limit (budget.h): the journal reader's sink that sorts each
 * batch of jsets and spills it as a run (sort/spill.h), and, once the
 * index is whole, the streaming merge of the runs straight into the
 * replay's windows (replay/replay.h), then the commit every recovery
 * shares.  Owner: the recovering thread.
 */
#ifndef JRX_SPILLED_H
#define JRX_SPILLED_H

#include "recover_int.h"
#include "budget.h"
#include "../journal/jscan.h"
#include "../sort/spill.h"
#include "../util/memory.h"

/* A batch sorted by the sink's first stage, for its second to spill. */
struct jrx_spilled_batch {
	struct jrx_jindex	 ix;		/* one entry a seq, by seq */
	struct jrx_sort_result	 res;		/* every key kept */
};

/*
 * Owners during the journal read: the sink's first stage (its thread)
 * has sort_seconds, tuned and the pend[] slot it is given; the second
 * has sp, open, keys and its slot; the recovering thread all of it
 * before and after.
 */
struct jrx_spilled {
	const struct jrx_array	*a;
	const struct jrx_budget	*b;
	const char		*scratch;	/* directory, NULL: default */
	unsigned		 threads;
	struct jrx_spill	 sp;
	bool			 open;		/* sp created (on the first batch) */
	bool			 tuned;		/* malloc set for tight memory */
	const struct jrx_mem_pages *pages;	/* mimalloc's settings before
						   the recovery: made tight at
						   the first batch (the
						   recovery puts them back) */
	double			 sort_seconds;	/* batches sorted in memory */
	const struct jrx_report	*r;		/* progress, may be NULL */
	uint64_t		 keys;		/* keys spilled */
	struct jrx_spilled_batch pend[2];	/* sorted, not yet spilled */
};

/* The sink for jrx_journal_read_sink(), spilling into x. */
void jrx_spilled_sink(struct jrx_spilled *x, struct jrx_jscan_sink *sink);

/*
 * Sort (the last merge passes), replay into fs and commit from x's runs,
 * with ix the index the read built: the report's phases from sort on.
 * fs and *fs_open as the accelerated recovery keeps them (abandoned by
 * the caller while *fs_open).
 */
int  jrx_recover_spilled(struct jrx_array *a, const struct jrx_recover_opts *o,
			 struct jrx_report *r, struct jrx_fs *fs, bool *fs_open,
			 struct jrx_fs *view, struct jrx_spilled *x,
			 const struct jrx_jindex *ix, uint64_t max_seq);

void jrx_spilled_free(struct jrx_spilled *x);

#endif
