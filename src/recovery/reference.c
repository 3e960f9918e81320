/*
 * reference.c - the reference recovery (recover.h): the classic sequential
 * algorithm, kept faithful and unoptimised as the correctness oracle and
 * the speed baseline of the accelerated pipeline.
 *
 *   1. every journal bucket read with pread (jread.c), jsets indexed by
 *      seq (jindex.c);
 *   2. every key of the replay range collected into one array of
 *      references, sorted with qsort by (level desc, btree id, position,
 *      seq, offset in the jset), the comparator reading each key inside
 *      its jset;
 *   3. dedup: newest wins per (level, btree, position), except accounting
 *      deltas, all kept;
 *   4. re-sort by (level desc, seq, btree id, position, offset);
 *   5. one btree insert per key: interior keys, then alloc and accounting
 *      (a delta applied only if newer than the btree key's version), then
 *      the other leaves;
 *   6. write-back of every touched node to free space, alloc and
 *      accounting brought up to date, then the atomic commit (fs_replay.c).
 *
 * Before step 5 the allocator takes the newest journal alloc key of every
 * bucket, so that no node written during replay lands in a bucket the
 * journal says is in use.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "recover_int.h"
#include "reference.h"
#include "../journal/jindex.h"
#include "jrx/errors.h"
#include "../format/bkey.h"
#include "../util/diag.h"
#include "../util/vec.h"
#include "../format/jset.h"
#include "../journal/jread.h"
#include "../replay/apply.h"

struct ref_key {
	const struct jrx_jset *j;	/* the jset the key lives in */
	const struct jrx_bkey *k;	/* the key, inside j */
	uint32_t jset;			/* index of j in the journal index */
	uint8_t btree_id;
	uint8_t level;
};

static int cmp_u64(uint64_t a, uint64_t b)
{
	return a < b ? -1 : a > b;
}

/* (level desc, btree id, position, seq, offset) */
static int cmp_journal_order(const void *x, const void *y)
{
	const struct ref_key *a = x, *b = y;
	int c;

	if (a->level != b->level)
		return a->level > b->level ? -1 : 1;
	if (a->btree_id != b->btree_id)
		return a->btree_id < b->btree_id ? -1 : 1;
	c = jrx_bpos_cmp(a->k->p, b->k->p);
	if (c)
		return c;
	c = cmp_u64(a->j->seq, b->j->seq);
	if (c)
		return c;
	return cmp_u64((uint64_t)((const char *)a->k - (const char *)a->j),
		       (uint64_t)((const char *)b->k - (const char *)b->j));
}

/* (level desc, seq, btree id, position, offset) */
static int cmp_replay_order(const void *x, const void *y)
{
	const struct ref_key *a = x, *b = y;
	int c;

	if (a->level != b->level)
		return a->level > b->level ? -1 : 1;
	c = cmp_u64(a->j->seq, b->j->seq);
	if (c)
		return c;
	if (a->btree_id != b->btree_id)
		return a->btree_id < b->btree_id ? -1 : 1;
	c = jrx_bpos_cmp(a->k->p, b->k->p);
	if (c)
		return c;
	return cmp_u64((uint64_t)((const char *)a->k - (const char *)a->j),
		       (uint64_t)((const char *)b->k - (const char *)b->j));
}

static bool same_slot(const struct ref_key *a, const struct ref_key *b)
{
	return a->level == b->level && a->btree_id == b->btree_id &&
		jrx_bpos_eq(a->k->p, b->k->p);
}

/* Every btree_keys key of the non-blacklisted jsets of the range. */
static int collect(const struct jrx_jindex *ix, struct ref_key **out,
		   size_t *nr)
{
	struct ref_key *v = NULL;
	size_t n = 0, cap = 0;
	int ret;

	for (size_t i = 0; i < ix->nr; i++) {
		const struct jrx_jset_entry *e;
		const struct jrx_bkey *k;

		if (ix->v[i].blacklisted)
			continue;
		jrx_for_each_jset_entry(e, ix->v[i].j) {
			if (e->type != JRX_JE_BTREE_KEYS)
				continue;
			jrx_for_each_entry_key(k, e) {
				ret = JRX_VEC_RESERVE(v, n, cap, 1, "reference"
						      " recovery's journal keys");
				if (ret) {
					free(v);
					return ret;
				}
				v[n++] = (struct ref_key){
					.j = ix->v[i].j, .k = k,
					.jset = (uint32_t)i,
					.btree_id = e->btree_id, .level = e->level,
				};
			}
		}
	}
	*out = v;
	*nr = n;
	return 0;
}

/* Sorted in journal order: keep the newest of each slot, all deltas. */
static size_t dedup(struct ref_key *v, size_t n)
{
	size_t out = 0;

	for (size_t i = 0; i < n; i++) {
		bool delta = v[i].level == 0 &&
			v[i].btree_id == JRX_BTREE_ACCOUNTING;

		if (!delta && i + 1 < n && same_slot(&v[i], &v[i + 1]))
			continue;	/* a newer key follows */
		v[out++] = v[i];
	}
	return out;
}

int jrx_reference_sort(const struct jrx_jindex *ix, struct jrx_jkey **out,
		       size_t *nr)
{
	struct ref_key *keys;
	struct jrx_jkey *v;
	size_t n;
	int ret = collect(ix, &keys, &n);

	if (ret)
		return ret;
	if (n)	/* qsort(NULL, 0) is undefined */
		qsort(keys, n, sizeof(*keys), cmp_journal_order);
	n = dedup(keys, n);
	v = malloc((n ? n : 1) * sizeof(*v));
	if (!v) {
		free(keys);
		return jrx_fail(-ENOMEM, "allocating the %zu sorted journal keys:"
				" %zu bytes", n, n * sizeof(*v));
	}
	for (size_t i = 0; i < n; i++)
		v[i] = (struct jrx_jkey){
			.k = keys[i].k, .jset = keys[i].jset,
			.btree_id = keys[i].btree_id, .level = keys[i].level,
		};
	free(keys);
	*out = v;
	*nr = n;
	return 0;
}

/* The newest journal alloc key of every bucket, into the allocator. */
static int load_journal_alloc(struct jrx_fs *fs, const struct ref_key *v,
			      size_t n)
{
	int ret = 0;

	for (size_t i = 0; i < n && !ret; i++)
		ret = jrx_replay_load_alloc(fs, v[i].btree_id, v[i].level,
					    v[i].k, v[i].j->seq);
	return ret;
}

/* Interior keys, then alloc and accounting, then the other leaves. */
static int replay(struct jrx_fs *fs, const struct ref_key *v, size_t n,
		  struct jrx_report *r)
{
	int ret = load_journal_alloc(fs, v, n);

	for (unsigned pass = 0; !ret && pass < JRX_PASS_NR; pass++)
		for (size_t i = 0; i < n && !ret; i++) {
			if (!(i & 0xffff))
				jrx_progress(r, JRX_PHASE_REPLAY,
					     pass * n + i, JRX_PASS_NR * n);
			if (jrx_replay_pass_of(v[i].btree_id, v[i].level) == pass)
				ret = jrx_replay_apply(fs, v[i].btree_id,
						       v[i].level, v[i].k,
						       v[i].j->seq,
						       &r->accounting_skipped);
		}
	if (!ret)
		ret = jrx_replay_finish(fs);
	return ret;
}

static void count_kinds(const struct ref_key *v, size_t n, struct jrx_report *r)
{
	for (size_t i = 0; i < n; i++) {
		if (v[i].level)
			r->keys_interior++;
		else if (v[i].btree_id == JRX_BTREE_ALLOC)
			r->keys_alloc++;
		else if (v[i].btree_id == JRX_BTREE_ACCOUNTING)
			r->keys_accounting++;
	}
}

int jrx_recover_reference(struct jrx_array *a, const struct jrx_recover_opts *o,
			  struct jrx_report *r, struct jrx_fs *view)
{
	struct jrx_journal_scan scan = { 0 };
	struct jrx_jindex ix = { 0 };
	struct ref_key *keys = NULL;
	size_t nr = 0;
	struct jrx_fs local, *fs = view ? view : &local;
	bool dry = o && o->dry_run, fs_open = false;
	uint64_t max_seq;
	double t0 = jrx_now(), t;
	int ret;

	r->mode = "reference";
	r->io_backend = "pread";
	r->threads = 1;
	ret = jrx_recover_start(a, o, r, view);
	if (ret)
		goto out;

	/* journal read */
	t = jrx_phase_begin(r, JRX_PHASE_JOURNAL_READ);
	ret = jrx_journal_read_seq(a, &scan, JRX_SCAN_KEEP);
	if (!ret)
		ret = jrx_recover_index(&ix, a, &scan, o, r);
	r->bytes_read = scan.bytes_read;
	r->buckets_read = scan.buckets_read;
	jrx_phase_end(r, JRX_PHASE_JOURNAL_READ, t);
	if (ret)
		goto out;
	max_seq = jrx_recover_note_index(r, a, &ix, &scan);
	if (jrx_recover_stop(o, r, JRX_STOP_JOURNAL_READ))
		goto out;

	/* sort and dedup */
	t = jrx_phase_begin(r, JRX_PHASE_SORT);
	ret = collect(&ix, &keys, &nr);
	if (ret)
		goto out;
	r->keys_read = nr;
	if (nr)
		qsort(keys, nr, sizeof(*keys), cmp_journal_order);
	nr = dedup(keys, nr);
	r->keys_after_dedup = nr;
	count_kinds(keys, nr, r);
	if (nr)
		qsort(keys, nr, sizeof(*keys), cmp_replay_order);
	jrx_phase_end(r, JRX_PHASE_SORT, t);
	if (jrx_recover_stop(o, r, JRX_STOP_SORT))
		goto out;

	/* replay */
	t = jrx_phase_begin(r, JRX_PHASE_REPLAY);
	ret = jrx_fs_open_replay(fs, a, ix.newest, max_seq, dry);
	if (ret)
		goto out;
	fs_open = true;
	ret = replay(fs, keys, nr, r);
	jrx_recover_note_replay(r, fs);
	jrx_phase_end(r, JRX_PHASE_REPLAY, t);
	if (ret)
		goto out;

	/* commit */
	t = jrx_phase_begin(r, JRX_PHASE_COMMIT);
	ret = jrx_recover_end(a, fs, &fs_open, max_seq, dry, view, r);
	jrx_phase_end(r, JRX_PHASE_COMMIT, t);
out:
	if (fs_open)
		jrx_fs_abandon(fs);
	free(keys);
	jrx_jindex_free(&ix);
	jrx_journal_scan_free(&scan);
	r->total_seconds += jrx_now() - t0;
	r->peak_rss_bytes = jrx_peak_rss();
	return ret > 0 ? 0 : ret;
}
