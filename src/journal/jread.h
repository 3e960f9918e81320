/*
 * jread.h - the sequential journal reader: every journal bucket of every
 * device read whole with pread, every jset in it checked in order; the
 * first jset that fails ends the scan of its bucket.
 *
 * This is the plain reader that `jrx journal`, the reference recovery and
 * the tests use as the oracle for faster readers.  Its result is the list
 * of jlist.h (mode JRX_SCAN_SEQUENTIAL).
 */
#ifndef JRX_JREAD_H
#define JRX_JREAD_H

#include <stdbool.h>
#include <stdint.h>
#include "jlist.h"
#include "../io/array.h"

enum {
	JRX_SCAN_KEEP	= 1 << 0,	/* keep the jset bytes (v[].j) */
};

/* Read every journal bucket of every member, one after the other. */
int  jrx_journal_read_seq(struct jrx_array *a, struct jrx_journal_scan *s,
			  unsigned flags);

/*
 * Parse one whole bucket buffer (FORMAT.md section 5.5): append to
 * (*v, *nr, *cap) the info of every jset from offset 0 up to and including
 * the first one that fails (magic right, rest wrong); a wrong magic ends
 * the bucket silently.  *kept: some valid jset points into buf.  The one
 * parser of every journal reader.
 */
int  jrx_jread_bucket(const struct jrx_array *a, unsigned dev, uint64_t bucket,
		      const char *buf, struct jrx_jset_info **v, size_t *nr,
		      size_t *cap, bool *kept);
/* The list's device names from a (every reader sets them). */
void jrx_journal_scan_names(struct jrx_journal_scan *s,
			    const struct jrx_array *a);

#endif
