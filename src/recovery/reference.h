/*
 * reference.h - the reference recovery's sort stage on its own, as the
 * oracle the accelerated sort (sort/sort.h) is tested and benchmarked
 * against: collect every key of the index's non-blacklisted jsets, qsort
 * in journal order (level desc, btree id, position, seq, offset), dedup
 * (newest wins; accounting deltas all kept).  The same code the reference
 * recovery runs.
 */
#ifndef JRX_REFERENCE_H
#define JRX_REFERENCE_H

#include <stddef.h>
#include "../journal/jindex.h"
#include "../journal/jkey.h"

/* *out is malloc'd (free()); 0 or -ENOMEM. */
int jrx_reference_sort(const struct jrx_jindex *ix, struct jrx_jkey **out,
		       size_t *nr);

#endif
