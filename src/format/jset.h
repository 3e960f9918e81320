/*
 * jset.h - jset checksum, validation and entry iteration.  Pure functions
 * over a buffer holding one jset; where jsets live is src/journal.
 */
#ifndef JRX_JSET_H
#define JRX_JSET_H

#include <stdbool.h>
#include "format.h"
#include "bkey.h"

/* Bytes a jset with u64s of entries occupies on disk (block aligned). */
static inline size_t jrx_jset_disk_bytes(uint32_t u64s)
{
	size_t b = sizeof(struct jrx_jset) + (size_t)u64s * 8;

	return (b + JRX_BLOCK_SIZE - 1) & ~(size_t)(JRX_BLOCK_SIZE - 1);
}

void jrx_jset_set_csum(struct jrx_jset *j);

/*
 * Checks one jset at buf with avail bytes before the end of its bucket:
 * magic, size, checksum, then every entry and key.  Returns 0 or
 * -JRX_ERR_JSET_INVALID / -JRX_ERR_JSET_CSUM with the reason in *why.
 */
int jrx_jset_validate(const struct jrx_jset *j, size_t avail, uint64_t magic,
		      const char **why);

/* What a valid jset holds, counted while it is validated. */
struct jrx_jset_counts {
	uint32_t entries;
	uint64_t keys;		/* keys of btree_keys entries */
	uint32_t blacklists;	/* blacklist entries */
};
/* jrx_jset_validate(), and on success the counts into *n (may be NULL). */
int jrx_jset_validate_count(const struct jrx_jset *j, size_t avail,
			    uint64_t magic, const char **why,
			    struct jrx_jset_counts *n);

static inline struct jrx_jset_entry *jrx_jset_entries(const struct jrx_jset *j)
{
	return (struct jrx_jset_entry *)(j + 1);
}

static inline struct jrx_jset_entry *jrx_jset_end(const struct jrx_jset *j)
{
	return (struct jrx_jset_entry *)((const uint64_t *)(j + 1) + j->u64s);
}

static inline struct jrx_jset_entry *jrx_je_next(const struct jrx_jset_entry *e)
{
	return (struct jrx_jset_entry *)((const uint64_t *)(e + 1) + e->u64s);
}

static inline struct jrx_bkey *jrx_je_keys(const struct jrx_jset_entry *e)
{
	return (struct jrx_bkey *)(e + 1);
}

static inline struct jrx_bkey *jrx_je_keys_end(const struct jrx_jset_entry *e)
{
	return (struct jrx_bkey *)jrx_je_next(e);
}

#define jrx_for_each_jset_entry(e, j) \
	for (e = jrx_jset_entries(j); e < jrx_jset_end(j); e = jrx_je_next(e))

#define jrx_for_each_entry_key(k, e) \
	for (k = jrx_je_keys(e); k < jrx_je_keys_end(e); k = jrx_bkey_next(k))

const char *jrx_je_type_name(unsigned type);

#endif
