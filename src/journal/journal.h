/*
 * journal.h - the journal writer: one open jset in memory, closed and
 * written to `metadata_replicas` devices, each device's journal buckets
 * used as a ring.
 *
 * Owner: the single writer thread of a struct jrx_fs (or a generator);
 * not thread-safe.  What goes into a jset and when it is closed is decided
 * by the caller; this file owns the bytes and where they land.
 */
#ifndef JRX_JOURNAL_H
#define JRX_JOURNAL_H

#include <stdbool.h>
#include <stdint.h>
#include "../io/array.h"

struct jrx_jring {
	uint64_t  first;	/* first journal bucket of the device */
	uint32_t  nr;		/* journal buckets */
	uint32_t  cur;		/* ring index of the bucket being filled */
	uint64_t  used;		/* bytes used in that bucket */
	uint64_t *max_seq;	/* per ring bucket: newest seq written (0: none) */
};

struct jrx_journal {
	struct jrx_array *a;
	struct jrx_jring  ring[JRX_MAX_DEVICES];
	unsigned	  replicas;
	uint64_t	  seq;		/* seq of the open jset */
	uint64_t	  durable_seq;	/* newest seq fully written */
	/* the open jset */
	uint64_t	 *buf;		/* jset header + entries; u64 words */
	size_t		  cap_u64s;	/* words allocated in buf */
	size_t		  max_u64s;	/* hard limit: a jset fits a bucket */
	struct jrx_jset_entry *keys_entry; /* btree_keys entry being extended */
	uint64_t	  open_keys;	/* keys in the open jset */
	/* stats */
	uint64_t	  jsets_written;
	uint64_t	  bytes_written;
	uint64_t	  keys_written;
};

/* Prepare to write jsets starting at seq; every ring starts empty. */
int  jrx_journal_init(struct jrx_journal *j, struct jrx_array *a, uint64_t seq);
void jrx_journal_exit(struct jrx_journal *j);

/* Entries of the open jset. */
int  jrx_journal_add_key(struct jrx_journal *j, unsigned btree_id,
			 unsigned level, const struct jrx_bkey *k);
int  jrx_journal_add_entry(struct jrx_journal *j, unsigned type,
			   unsigned btree_id, unsigned level,
			   const void *payload, size_t u64s);
/* Bytes the open jset would occupy on disk now. */
size_t jrx_journal_open_bytes(const struct jrx_journal *j);
bool jrx_journal_open_empty(const struct jrx_journal *j);

/*
 * Close the open jset with last_seq and write it; the next jset is opened
 * with seq + 1.  torn: write only the first half of the first replica
 * (and nothing of the second), as a power cut in mid-write would; the jset
 * is then not durable.  Returns -JRX_ERR_JOURNAL_FULL when a device's
 * ring has no bucket whose jsets are all below last_seq.
 */
int  jrx_journal_write(struct jrx_journal *j, uint64_t last_seq, bool torn);

/*
 * Fraction (0..1) of journal buckets, over all devices, that hold nothing
 * at or above last_seq and could be reused now.
 */
double jrx_journal_free_fraction(const struct jrx_journal *j, uint64_t last_seq);

#endif
