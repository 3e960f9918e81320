/*
 * jread.h - the sequential journal reader: every journal bucket of every
 * device read whole with pread, every jset in it checked in order; the
 * first jset that fails ends the scan of its bucket.
 *
 * This is the plain reader that `jrx journal`, the reference recovery and
 * the tests use as the oracle for faster readers.
 */
#ifndef JRX_JREAD_H
#define JRX_JREAD_H

#include <stdbool.h>
#include <stdint.h>
#include "../io/array.h"

enum jrx_jset_state {
	JRX_JSET_OK	= 0,
	JRX_JSET_BAD_CSUM,	/* magic right, checksum wrong: torn or corrupt */
	JRX_JSET_BAD,		/* magic right, header or entries malformed */
};

struct jrx_jset_info {
	uint64_t seq;
	uint64_t last_seq;
	uint32_t dev;
	uint32_t state;		/* enum jrx_jset_state */
	uint64_t bucket;	/* bucket number on dev */
	uint64_t offset;	/* byte offset on dev */
	uint32_t bytes;		/* on-disk size */
	uint32_t entries;
	uint64_t keys;
	const char *why;	/* for a bad jset: what failed */
	const struct jrx_jset *j; /* the bytes (kept buffers), OK jsets only */
};

struct jrx_journal_scan {
	struct jrx_jset_info *v;	/* in scan order: device, bucket, offset */
	size_t nr, cap;
	/* the buffers v[].j points into (jrx_io_arena memory) */
	struct jrx_scan_arena { void *p; size_t len; } *arenas;
	size_t nr_arenas;
	uint64_t bytes_read;
	uint64_t buckets_read;		/* whole buckets */
	/* how the parallel reader (jscan.h) went about it */
	const char *mode;		/* "full_scan" | "bisect" */
	char	 why_full[160];		/* why a bisect became a full scan */
	uint64_t probes;		/* one-block bisect reads */
	uint64_t buckets_total;		/* journal buckets of the array */
};

enum {
	JRX_SCAN_KEEP	= 1 << 0,	/* keep the jset bytes (v[].j) */
};

int  jrx_journal_scan(struct jrx_array *a, struct jrx_journal_scan *s,
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
void jrx_journal_scan_free(struct jrx_journal_scan *s);
/* Keep p (from jrx_io_arena) with s; on -ENOMEM p is freed. */
int  jrx_journal_scan_keep(struct jrx_journal_scan *s, void *p, size_t len);

#endif
