/*
 * jscan.h - the parallel journal reader of the accelerated recovery: whole
 * buckets read through the read engine (io/engine.h), many at once over all
 * devices, each parsed and verified by the worker it landed on
 * (jrx_jread_bucket(), the same parser as the sequential reader).
 *
 * Bisect mode (default) reads only what recovery needs, relying on the
 * ring rules of FORMAT.md section 5.1 (each write session fills every
 * device's ring from bucket 0, one bucket after the other):
 *   1. per device, bisect the ring on the header of the first jset of a
 *      bucket (one 4 KiB block per probe, all devices probed together) to
 *      find the bucket being filled at the crash;
 *   2. read that bucket whole (and earlier ones while it holds no valid
 *      jset: a torn first write) to find max_seq and its last_seq;
 *   3. bisect again for the first bucket holding a seq >= last_seq, then
 *      read every bucket from there on whole, all devices at once.
 * When a probe cannot be interpreted (a header with the magic but bad
 * fields, seqs that do not rise along the ring) the reader falls back to
 * the full scan and says why in s->why_full.  The full scan (flag
 * JRX_JSCAN_FULL) reads every journal bucket of every device, like the
 * sequential reader.
 *
 * The result is the list of jlist.h as jrx_journal_read_seq() fills it
 * with JRX_SCAN_KEEP (infos in device, bucket, offset order; the bytes
 * kept in read arenas; mode JRX_SCAN_BISECT or JRX_SCAN_FULL), so the
 * journal index (jindex.h) is built the same from either.  Owner: the
 * calling thread.
 */
#ifndef JRX_JSCAN_H
#define JRX_JSCAN_H

#include "jread.h"
#include "../io/engine.h"

enum {
	JRX_JSCAN_FULL = 1 << 0,	/* read every journal bucket */
};

int jrx_journal_read_par(const struct jrx_array *a, struct jrx_io_engine *io,
			 unsigned flags, struct jrx_journal_scan *s);

/*
 * Reading a journal bigger than memory: a read of more than threshold
 * bytes of buckets is done in batches, one arena of batch_bytes reused in
 * slots; when a batch has landed and been parsed, fn sees its valid jsets
 * whole (v[i].j, in no particular order, replicas included), and then each
 * keeps only a compact copy (jlist.h: the header and the non-key entries,
 * and a hash), so the list and the journal index are built as usual but
 * hold no keys.
 *
 * A sink with a second stage (fn2 not NULL) is a pipeline: fn takes batch
 * k (on one thread) while fn2 finishes batch k - 1 (on another) and batch
 * k + 1 is read, so the arena has three slots, not two.  The jsets fn saw
 * stay whole until fn2 has returned.  slot tells fn2 which batch it
 * finishes: fn and fn2 of one batch get the same slot, 0 or 1, and the
 * batches fn2 has not finished have different slots.  fn2 is called only
 * for batches fn was called for, in the same order.
 *
 * reset is called when what was sunk must be forgotten (a bisect that
 * gives up and starts a full scan).  A non-zero return of fn or fn2 stops
 * the read.
 */
struct jrx_jscan_sink {
	uint64_t threshold;		/* reads of at most this many bytes
					   are kept whole, as without a sink */
	size_t batch_bytes;
	int  (*fn)(void *ctx, unsigned slot,
		   const struct jrx_jset_info *const *v, size_t n);
	int  (*fn2)(void *ctx, unsigned slot);	/* may be NULL */
	void (*reset)(void *ctx);
	/* buckets read of a batched read's, after each batch; may be NULL */
	void (*progress)(void *ctx, uint64_t done, uint64_t total);
	void  *ctx;
	/*
	 * May be NULL.  A read kept whole (not batched) calls it on the
	 * worker that parsed a bucket, with that bucket's jsets (v[i].state
	 * says which are valid), right after their checksums and checks,
	 * while their bytes are in the cache; calls for different buckets run
	 * at once, on different threads.  Every jset of the list passes
	 * through it, and some that the index will leave out (replicas,
	 * jsets outside the replay range, a bisect's reads before a full
	 * scan: reset is not called for it).
	 */
	void (*parsed)(void *ctx, const struct jrx_jset_info *v, size_t n);
	void  *parsed_ctx;
};

int jrx_journal_read_sink(const struct jrx_array *a, struct jrx_io_engine *io,
			  unsigned flags, struct jrx_journal_scan *s,
			  const struct jrx_jscan_sink *sink);

#endif
