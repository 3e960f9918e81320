/*
 * jindex.h - the journal index recovery works from: the valid jsets of the
 * replay range, one per seq, sorted by seq (DESIGN.md section 2 points 2
 * and 3).  Built from the superblock's fields (journal_seq, blacklist) and
 * any reader's list of jsets (jlist.h), so the reference reader and faster
 * readers produce the same index and can be compared; it never touches a
 * device.
 *
 * Rules: identical replicas of a seq collapse to one (all places kept for
 * reports); differing ones are an error naming both places
 * (JRX_ERR_JOURNAL_REPLICAS_DIFFER).  max_seq is
 * the newest valid jset above the superblock's journal_seq; the replay
 * range is [its last_seq, max_seq]; a seq of the range that no valid jset
 * holds is an error unless blacklisted (superblock or blacklist entries):
 * JRX_ERR_JOURNAL_SEQ_MISSING.
 *
 * Owner: the caller; the index points into the reader's buffers, which
 * must outlive it.
 */
#ifndef JRX_JINDEX_H
#define JRX_JINDEX_H

#include <stdbool.h>
#include <stdint.h>
#include "jlist.h"
#include "../format/format.h"

struct jrx_jindex_ent {
	uint64_t seq;
	const struct jrx_jset *j;	/* one verified copy */
	uint32_t dev;			/* where that copy is */
	uint64_t offset;
	uint32_t copies;		/* identical copies found */
	bool	 blacklisted;		/* in range but to be skipped */
	/* counted: keys and blacklists are the parse's counts for j
	 * (jlist.h); a compact copy's keys are counted but not in j */
	bool	 counted;
	uint32_t blacklists;
	uint64_t keys;
	/* j is a compact copy (jlist.h), with its jset's hash and size */
	bool	 compact;
	bool	 hashed;		/* hash is set (compact, or hashed at
					   parse: jlist.h) */
	uint64_t hash;
	uint32_t bytes;
};

struct jrx_jindex {
	struct jrx_jindex_ent *v;	/* seq order, replay range only */
	size_t	 nr;
	uint64_t max_seq;		/* 0: nothing to replay */
	uint64_t last_seq;
	uint64_t copies;		/* valid copies in the range */
	uint64_t bad;			/* jsets that ended a bucket's scan */
	uint64_t blacklisted;		/* seqs of the range skipped */
	uint64_t missing;		/* seqs missing (with allow_missing) */
	const struct jrx_jset *newest;	/* the max_seq jset (roots) */
	/* blacklist: the superblock's ranges plus those of jset entries */
	struct jrx_blacklist_entry *bl;
	size_t	 nr_bl;
};

/* A problem found while building, for callers that go on (fsck). */
struct jrx_jindex_problem {
	enum { JRX_JIX_REPLICAS_DIFFER, JRX_JIX_SEQ_MISSING } kind;
	uint64_t seq, seq_end;		/* missing: the run [seq, seq_end] */
	uint32_t dev[2];		/* replicas: first copy, differing copy */
	uint64_t offset[2];
};
typedef void (*jrx_jindex_report_fn)(void *ctx,
				     const struct jrx_jindex_problem *p);

/*
 * Build the index from the jsets a reader found (any order).  With report
 * NULL the first problem is an error; otherwise every problem goes to
 * report and the build goes on (the first copy of a seq is kept; missing
 * seqs are counted in ix->missing).
 */
int  jrx_jindex_build(struct jrx_jindex *ix, const struct jrx_sb *sb,
		      const struct jrx_journal_scan *s,
		      jrx_jindex_report_fn report, void *ctx);
/*
 * The seq of every jset of the index, ix->v[i].seq at [i]: what replay
 * needs of the journal (a key's jset number to its seq), as plain data.
 * *out is malloc'd; the caller frees it.
 */
int  jrx_jindex_seqs(const struct jrx_jindex *ix, uint64_t **out);
void jrx_jindex_free(struct jrx_jindex *ix);

#endif
