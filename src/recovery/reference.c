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
 *      accounting brought up to date, then the atomic commit (fs.c).
 *
 * Before step 5 the allocator takes the newest journal alloc key of every
 * bucket, so that no node written during replay lands in a bucket the
 * journal says is in use.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "recover.h"
#include "reference.h"
#include "jindex.h"
#include "jrx/errors.h"
#include "../format/bkey.h"
#include "../format/diag.h"
#include "../format/jset.h"
#include "../journal/jread.h"

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

	for (size_t i = 0; i < ix->nr; i++) {
		const struct jrx_jset_entry *e;
		const struct jrx_bkey *k;

		if (ix->v[i].blacklisted)
			continue;
		jrx_for_each_jset_entry(e, ix->v[i].j) {
			if (e->type != JRX_JE_BTREE_KEYS)
				continue;
			jrx_for_each_entry_key(k, e) {
				if (n == cap) {
					size_t ncap = cap ? cap * 2 : 4096;
					void *p = realloc(v, ncap * sizeof(*v));

					if (!p) {
						free(v);
						return -ENOMEM;
					}
					v = p;
					cap = ncap;
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
	qsort(keys, n, sizeof(*keys), cmp_journal_order);
	n = dedup(keys, n);
	v = malloc((n ? n : 1) * sizeof(*v));
	if (!v) {
		free(keys);
		return -ENOMEM;
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
	for (size_t i = 0; i < n; i++) {
		const struct jrx_bkey *k = v[i].k;

		if (v[i].level || v[i].btree_id != JRX_BTREE_ALLOC ||
		    k->type != JRX_KEY_ALLOC)
			continue;
		if (k->p.inode >= fs->bt.nr_devs ||
		    k->p.offset >= fs->bt.nbuckets[k->p.inode] ||
		    k->p.offset < fs->bt.first[k->p.inode])
			return jrx_fail(-JRX_ERR_KEY_INVALID, "journal seq %"
					PRIu64 ": alloc key for bucket %" PRIu64
					":%" PRIu64 " outside the array",
					v[i].j->seq, k->p.inode, k->p.offset);
		jrx_bucket_load(&fs->bt, (uint32_t)k->p.inode, k->p.offset,
				jrx_bkey_val(k));
	}
	return 0;
}

/* An accounting delta, applied only if newer than the btree's total. */
static int apply_delta(struct jrx_fs *fs, const struct jrx_bkey *k,
		       struct jrx_report *r)
{
	uint64_t buf[JRX_BKEY_U64S + sizeof(struct jrx_accounting_val) / 8];
	struct jrx_bkey *nk = (struct jrx_bkey *)buf;
	const struct jrx_accounting_val *d = jrx_bkey_val(k);
	struct jrx_accounting_val *v;
	const struct jrx_bkey *old;
	int ret;

	if (k->type != JRX_KEY_ACCOUNTING)
		return jrx_fail(-JRX_ERR_KEY_INVALID, "accounting btree: journal"
				" key of type %s", jrx_key_type_name(k->type));
	ret = jrx_btree_lookup(fs, JRX_BTREE_ACCOUNTING, k->p, &old);
	if (ret)
		return ret;
	if (old && old->version >= k->version) {
		r->accounting_skipped++;
		return 0;
	}
	jrx_bkey_init(nk, JRX_KEY_ACCOUNTING, k->p, sizeof(*v));
	nk->version = k->version;
	v = jrx_bkey_val(nk);
	v->d[0] = d->d[0];
	v->d[1] = d->d[1];
	if (old) {
		const struct jrx_accounting_val *ov = jrx_bkey_val(old);

		v->d[0] += ov->d[0];
		v->d[1] += ov->d[1];
	}
	return jrx_fs_replay_key(fs, JRX_BTREE_ACCOUNTING, 0, nk);
}

enum { PASS_INTERIOR, PASS_ALLOC, PASS_LEAVES };

static bool in_pass(const struct ref_key *rk, unsigned pass)
{
	bool alloc = rk->btree_id == JRX_BTREE_ALLOC ||
		rk->btree_id == JRX_BTREE_ACCOUNTING;

	switch (pass) {
	case PASS_INTERIOR:	return rk->level > 0;
	case PASS_ALLOC:	return rk->level == 0 && alloc;
	default:		return rk->level == 0 && !alloc;
	}
}

static int replay(struct jrx_fs *fs, const struct ref_key *v, size_t n,
		  struct jrx_report *r)
{
	uint64_t freed;
	int ret = load_journal_alloc(fs, v, n);

	for (unsigned pass = PASS_INTERIOR; !ret && pass <= PASS_LEAVES; pass++)
		for (size_t i = 0; i < n && !ret; i++) {
			if (!in_pass(&v[i], pass))
				continue;
			if (!v[i].level && v[i].btree_id == JRX_BTREE_ACCOUNTING)
				ret = apply_delta(fs, v[i].k, r);
			else
				ret = jrx_fs_replay_key(fs, v[i].btree_id,
							v[i].level, v[i].k);
			if (ret)
				jrx_fail(ret, "replaying journal seq %" PRIu64
					 " btree %s level %u: %s", v[i].j->seq,
					 jrx_btree_name(v[i].btree_id),
					 v[i].level, jrx_diag());
		}
	/* buckets open at the crash and emptied since hold nothing */
	if (!ret)
		ret = jrx_buckets_free_empty(&fs->bt, fs->j.seq, &freed);
	if (!ret)
		ret = jrx_fs_replay_settle(fs);
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
	r->devices = a->nr_devs;
	r->dry_run = dry;
	if (!dry && a->rdonly)
		return jrx_fail(-JRX_ERR_READ_ONLY, "%s: recovery needs the array"
				" open for writing (or a dry run)", a->devs[0].path);
	if (a->sb.flags & JRX_SB_CLEAN) {
		r->result = "clean";
		/* a commit cut short leaves some copies old: finish it */
		ret = !dry && a->sb_stale ? jrx_array_write_sb(a) : 0;
		if (!ret && !dry && a->sb_stale)
			r->result = "clean, superblock copies rewritten";
		if (!ret && view)
			ret = jrx_fs_open(view, a, JRX_FS_RDONLY);
		goto out;
	}

	if (!dry && a->sb.nr_blacklist >= JRX_SB_MAX_BLACKLIST) {
		ret = jrx_fail(-JRX_ERR_NO_SPACE, "%s: the superblock blacklist is"
			       " full (%u ranges): recovery could not blacklist"
			       " the seqs past the crash", a->devs[0].path,
			       JRX_SB_MAX_BLACKLIST);
		goto out;
	}

	/* journal read */
	t = jrx_now();
	ret = jrx_journal_scan(a, &scan, JRX_SCAN_KEEP);
	if (!ret)
		ret = jrx_jindex_build(&ix, a, scan.v, scan.nr, NULL, NULL);
	r->bytes_read = scan.bytes_read;
	r->buckets_read = scan.buckets_read;
	r->phase[JRX_PHASE_JOURNAL_READ] = jrx_now() - t;
	if (ret)
		goto out;
	r->jsets = ix.nr;
	r->jset_copies = ix.copies;
	r->bad_jsets = ix.bad;
	r->blacklisted = ix.blacklisted;
	max_seq = ix.max_seq ? ix.max_seq : a->sb.journal_seq;
	r->seq_first = ix.max_seq ? ix.last_seq : 0;
	r->seq_last = ix.max_seq;

	/* sort and dedup */
	t = jrx_now();
	ret = collect(&ix, &keys, &nr);
	if (ret)
		goto out;
	r->keys_read = nr;
	qsort(keys, nr, sizeof(*keys), cmp_journal_order);
	nr = dedup(keys, nr);
	r->keys_after_dedup = nr;
	count_kinds(keys, nr, r);
	qsort(keys, nr, sizeof(*keys), cmp_replay_order);
	r->phase[JRX_PHASE_SORT] = jrx_now() - t;

	/* replay */
	t = jrx_now();
	ret = jrx_fs_open_replay(fs, a, ix.newest, max_seq, dry);
	if (ret)
		goto out;
	fs_open = true;
	ret = replay(fs, keys, nr, r);
	r->nodes_read = fs->cached;
	r->nodes_written = fs->nodes_written;
	r->splits = fs->splits;
	r->phase[JRX_PHASE_REPLAY] = jrx_now() - t;
	if (ret)
		goto out;

	/* commit */
	t = jrx_now();
	r->new_journal_seq = max_seq + JRX_JOURNAL_PAD;
	if (dry) {
		r->result = "dry_run";
		if (view) {
			fs->rdonly = true;	/* the caller's view from now on */
			fs_open = false;
		}
	} else {
		fs_open = false;
		ret = jrx_fs_replay_commit(fs, max_seq, JRX_JOURNAL_PAD);
		if (!ret)
			r->result = "recovered";
		if (!ret && view)
			ret = jrx_fs_open(view, a, JRX_FS_RDONLY);
	}
	r->phase[JRX_PHASE_COMMIT] = jrx_now() - t;
out:
	if (fs_open)
		jrx_fs_abandon(fs);
	free(keys);
	jrx_jindex_free(&ix);
	jrx_journal_scan_free(&scan);
	r->total_seconds += jrx_now() - t0;
	r->peak_rss_bytes = jrx_peak_rss();
	return ret;
}
