/*
 * inspect.h - what a crashed array holds: the live journal range of the
 * newest valid jset and how many of its leaf keys the on-disk btrees do
 * not hold yet (keys only the journal has, which recovery must replay).
 * Read-only.
 */
#ifndef JRX_INSPECT_H
#define JRX_INSPECT_H

#include <stdint.h>
#include "../io/array.h"

struct jrx_journal_summary {
	uint64_t jsets;		/* valid jset copies found */
	uint64_t bad;		/* jsets that ended a bucket's scan */
	uint64_t max_seq;	/* newest valid jset */
	uint64_t last_seq;	/* its last_seq */
	uint64_t live_keys;	/* leaf keys in [last_seq, max_seq] */
	uint64_t journal_only;	/* of those, absent or different on disk */
	uint64_t bytes_read;
};

int jrx_journal_summarize(struct jrx_array *a, struct jrx_journal_summary *s);

#endif
