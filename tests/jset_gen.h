/*
 * jset_gen.h - verified jsets built in memory, and the journal index over
 * them exactly as recovery builds it (jrx_jindex_build() on the reader's
 * list), without any device: for the sort stage's tests and the
 * micro-benchmarks (bench/micro), which share this one copy.
 *
 * Every jset is valid per FORMAT.md 5.4 (checked with jrx_jset_validate()
 * when it is closed): keys in btree_keys entries, then the six btree_root
 * entries and a clock entry every jset carries.  Seqs are consecutive from
 * first_seq; every jset's last_seq is first_seq, so the replay range is
 * all of them.  Not thread-safe; errors are negative values.
 */
#ifndef JRX_TESTS_JSET_GEN_H
#define JRX_TESTS_JSET_GEN_H

#include <stddef.h>
#include <stdint.h>
#include "format/format.h"
#include "io/array.h"
#include "journal/jread.h"
#include "journal/jindex.h"

struct jg {
	struct jrx_jindex ix;		/* valid after jg_index() */
	uint64_t keys;			/* journal keys added */
	uint64_t jsets;			/* jsets closed */
	/* private */
	struct jrx_array *a;		/* superblock fields the index reads */
	struct jrx_jset_info *info;
	size_t cap;
	uint64_t *cur;			/* the open jset */
	size_t cur_u64s;		/* entry words in it */
	size_t max_u64s;		/* entry words a jset may hold with trailer */
	struct jrx_jset_entry *entry;	/* btree_keys entry being extended */
	uint64_t seq, first_seq;
	uint64_t open_keys;
};

/* jset_bytes: the largest jset (multiple of 4096, >= 8192). */
int  jg_init(struct jg *g, uint32_t jset_bytes, uint64_t first_seq);
void jg_free(struct jg *g);

/* Append a key to the open jset (a new one is started when it is full). */
int  jg_add(struct jg *g, unsigned btree_id, unsigned level,
	    const struct jrx_bkey *k);
/* Close the open jset (even without keys). */
int  jg_close(struct jg *g);
/* Blacklist [start, end] in the superblock (before jg_index). */
int  jg_blacklist(struct jg *g, uint64_t start, uint64_t end);
/* Close the open jset if it holds keys, then build g->ix. */
int  jg_index(struct jg *g);

/* Seq the next key will get. */
static inline uint64_t jg_seq(const struct jg *g)
{
	return g->seq;
}

/*
 * A valid key for (btree_id, level) at p into buf (room for 64 words):
 * level > 0 a btree pointer; else the btree's leaf type (an extent whose
 * p.offset is 0 cannot exist: a whiteout then).  salt varies the value
 * and its size; version is used by accounting keys only.
 */
struct jrx_bkey *jg_key(uint64_t *buf, unsigned btree_id, unsigned level,
			struct jrx_bpos p, uint64_t version, uint64_t salt);
struct jrx_bkey *jg_whiteout(uint64_t *buf, struct jrx_bpos p);

/*
 * A journal like `jrx synth` writes with its defaults: a base store of
 * about `keys` keys (extents 70, inodes 10, dirents 15, xattrs 5), then
 * jsets of file-btree operations, 30% of them on existing
 * positions (uniform), each jset ending with the alloc keys of the buckets
 * it changed and the accounting deltas; until `keys` journal keys in all.
 * Jsets are as big as jg_init() was told (jrx synth: 256 KiB).
 */
int  jg_synth(struct jg *g, uint64_t keys, uint64_t seed);

#endif
