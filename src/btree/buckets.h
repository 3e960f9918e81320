/*
 * buckets.h - the in-memory allocation state: one entry per bucket of every
 * device (generation, data type, dirty sectors), the allocator that hands
 * out btree nodes and user-data sectors from open buckets, and the record
 * of what changed (for alloc keys) and by how much (for accounting).
 *
 * Owner: the writer thread of a struct jrx_fs, or a generator.  The alloc
 * btree is the durable copy; this table is rebuilt from it when an array
 * is opened and feeds alloc keys back to it when buckets change.
 */
#ifndef JRX_BUCKETS_H
#define JRX_BUCKETS_H

#include <stdbool.h>
#include <stdint.h>
#include "../format/format.h"
#include "accounting.h"

struct jrx_bucket {
	uint32_t gen;
	uint32_t dirty_sectors;
	uint8_t  data_type;
	uint8_t  open;		/* an open bucket: allocation continues in it */
	uint8_t  changed;	/* listed in changed[] */
	uint8_t  pad;
	uint64_t reusable_after; /* free, but only once this seq is durable;
				    JRX_BUCKET_HELD: never handed out */
};

/* reusable_after of a free bucket that must not be allocated: it still
 * holds what the durable state references (fsck's rebuild of the alloc
 * btree keeps the old trees' buckets until its commit). */
#define JRX_BUCKET_HELD	UINT64_MAX

struct jrx_bucket_ref {
	uint32_t dev;
	uint64_t bucket;
};

struct jrx_open_bucket {
	bool	 valid;
	uint32_t dev;
	uint64_t bucket;
	uint64_t used;		/* sectors handed out */
};

struct jrx_buckets {
	unsigned	 nr_devs;
	uint32_t	 bucket_sectors;
	uint64_t	 nbuckets[JRX_MAX_DEVICES];
	uint64_t	 first[JRX_MAX_DEVICES];
	struct jrx_bucket *b[JRX_MAX_DEVICES];
	/* a bit per bucket ever given a data type (loaded or allocated):
	 * jrx_buckets_free_empty() looks at those only, not at the whole
	 * table, most of which a replay never touches */
	uint64_t	*typed[JRX_MAX_DEVICES];
	struct jrx_bucket_ref *changed;
	size_t		 nr_changed, cap_changed;
	struct jrx_acct	*acct;		/* deltas go here (may be NULL) */
	unsigned	 dev_rr;
	uint64_t	 cursor[JRX_MAX_DEVICES];
	struct jrx_open_bucket open[JRX_DATA_TYPE_NR];
};

int  jrx_buckets_init(struct jrx_buckets *bt, const struct jrx_sb *sb,
		      struct jrx_acct *acct);
void jrx_buckets_exit(struct jrx_buckets *bt);

static inline struct jrx_bucket *jrx_bucket(struct jrx_buckets *bt,
					    uint32_t dev, uint64_t b)
{
	return &bt->b[dev][b];
}

/* Set a bucket's state as read from an alloc key (no change recorded). */
void jrx_bucket_load(struct jrx_buckets *bt, uint32_t dev, uint64_t b,
		     const struct jrx_alloc_val *v);

/*
 * Account sectors in a bucket: data_type is set if the bucket was free;
 * changes and accounting deltas are recorded.  When dirty sectors reach 0
 * and the bucket is not open, it becomes free (gen + 1), reusable once
 * seq is durable.
 */
int  jrx_bucket_add_sectors(struct jrx_buckets *bt, uint32_t dev, uint64_t b,
			    uint8_t data_type, int64_t sectors, uint64_t seq);

/*
 * Hand out up to want sectors of data_type from the open bucket of that
 * type, opening a free bucket (reusable at durable_seq) when needed.
 * Never crosses a bucket boundary; *got may be less than want.
 */
int  jrx_alloc_sectors(struct jrx_buckets *bt, uint8_t data_type,
		       uint32_t want, uint64_t durable_seq, uint64_t seq,
		       uint32_t *dev, uint64_t *sector, uint32_t *got,
		       uint32_t *gen);

/*
 * Close the open bucket of a type (e.g. before a clean shutdown); left
 * empty, it is freed at seq.  Returns the error of recording that (the
 * bucket is closed either way).
 */
int  jrx_close_open_bucket(struct jrx_buckets *bt, uint8_t data_type,
			   uint64_t seq);
/* The same for every data type's open bucket. */
int  jrx_close_open_buckets(struct jrx_buckets *bt, uint64_t seq);

/*
 * Free every btree or user bucket left with no sectors and not open (a
 * bucket that was open when the store crashed), freed at seq.
 */
int  jrx_buckets_free_empty(struct jrx_buckets *bt, uint64_t seq,
			    uint64_t *freed);

/* The alloc key of a bucket into k (room for a full alloc key). */
void jrx_bucket_to_key(struct jrx_buckets *bt, uint32_t dev, uint64_t b,
		       struct jrx_bkey *k);

/* Take the list of changed buckets; the caller frees it. */
size_t jrx_buckets_take_changed(struct jrx_buckets *bt,
				struct jrx_bucket_ref **out);

#define JRX_ALLOC_KEY_U64S (JRX_BKEY_U64S + sizeof(struct jrx_alloc_val) / 8)

#endif
