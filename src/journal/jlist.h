/*
 * jlist.h - what a journal reader hands on: the list of jsets it found
 * (struct jrx_jset_info, in device, bucket, offset order), the read arenas
 * their bytes live in, and how the journal was read.  Plain data: the
 * journal index (jindex.h) and everything above it read this list without
 * knowing which reader (jread.h: sequential, jscan.h: parallel) made it or
 * how the devices are reached.
 *
 * Owner: whoever called the reader; jrx_journal_scan_free() releases the
 * list and the arenas.
 */
#ifndef JRX_JLIST_H
#define JRX_JLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "../format/format.h"

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
	/* counted: keys and blacklists are the parse's counts of the jset's
	 * btree_keys keys and blacklist entries (the validator's walk), so
	 * later stages need not walk its entries for them */
	bool	 counted;
	uint32_t blacklists;
	const char *why;	/* for a bad jset: what failed */
	const struct jrx_jset *j; /* the bytes (kept buffers), OK jsets only */
	/*
	 * A reader with a sink (jscan.h) keeps of each OK jset only a
	 * compact copy: the header and the entries that are not keys, with
	 * the header's u64s theirs; hash is then xxh3-64 of the whole jset
	 * as read (header and entries), which is how replicas are compared.
	 * jscan.h also hashes each jset of a replicated journal as it parses
	 * it, so that the index compares hashes, not bytes.
	 */
	bool	 compact;
	uint64_t hash;
	bool	 hashed;	/* hash is set: compact, or a replicated
				   journal read by jscan.h */
	/* a sunk read's compact copy, made where the jset was parsed; it
	 * becomes j (compact) once the sink is done with the jset */
	struct jrx_jset *cc;
};

/* How a reader went about it (the report's read_mode). */
enum jrx_scan_mode {
	JRX_SCAN_SEQUENTIAL = 0,	/* jread.h: every bucket, one by one */
	JRX_SCAN_FULL,			/* jscan.h: every bucket, in parallel */
	JRX_SCAN_BISECT,		/* jscan.h: the live range of the ring */
};

struct jrx_journal_scan {
	struct jrx_jset_info *v;	/* in scan order: device, bucket, offset */
	size_t nr, cap;
	/* the buffers v[].j points into (jrx_io_arena memory) */
	struct jrx_scan_arena { void *p; size_t len; } *arenas;
	size_t nr_arenas, cap_arenas;
	/* the members' names, for messages (the array's paths; the
	 * array outlives the list) */
	const char *dev_name[JRX_MAX_DEVICES];
	unsigned nr_devs;
	uint64_t bytes_read;
	uint64_t buckets_read;		/* whole buckets */
	enum jrx_scan_mode mode;
	char	 why_full[160];		/* why a bisect became a full scan */
	uint64_t probes;		/* one-block bisect reads */
	uint64_t buckets_total;		/* journal buckets of the array */
	/* compact copies of sunk jsets (malloc'd, one each) */
	void	**copies;
	size_t	 nr_copies, cap_copies;
	uint64_t batches;		/* batches handed to a sink */
};

/* "sequential", "full_scan", "bisect": the report's names. */
const char *jrx_scan_mode_name(enum jrx_scan_mode m);
/* The name of member dev for messages ("?" when unknown). */
const char *jrx_journal_scan_dev(const struct jrx_journal_scan *s,
				 uint32_t dev);

/* Keep p (from jrx_io_arena) with s; on -ENOMEM p is freed. */
int  jrx_journal_scan_keep(struct jrx_journal_scan *s, void *p, size_t len);
/* Free the arenas only (a reader starting over); the list stays. */
void jrx_journal_scan_drop_arenas(struct jrx_journal_scan *s);
void jrx_journal_scan_free(struct jrx_journal_scan *s);

#endif
