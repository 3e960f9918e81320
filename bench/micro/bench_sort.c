/*
 * bench_sort.c - micro-benchmarks of the sort stage (src/sort) on a
 * journal like `jrx synth` writes (tests/jset_gen.h: extents, inodes,
 * dirents with 63-bit name hashes, xattrs, 30% overwrites, the alloc keys
 * and accounting deltas of every jset; 256 KiB jsets), at 1 M and 10 M
 * journal keys:
 *
 *   extract         scan + layout + packed keys into per-thread runs
 *   radix_msd/_lsd  one thread sorting the whole journal's packed keys
 *   merge           k sorted runs merged (loser tree / two-way) with dedup
 *   merge_nodedup   the same without dedup
 *   dedup           one sorted run: dedup and decoding alone
 *   sort_journal    jrx_sort_journal(), 1 and 2 threads, with its phases
 *   reference_sort  jrx_reference_sort() (collect + qsort + dedup)
 *
 * Every benchmark reports items_per_second in journal keys (keys in).
 * Journals are built once per process and shared.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cbench.h"
#include "jset_gen.h"
#include "util/clock.h"
#include "util/diag.h"
#include "util/pool.h"
#include "recovery/reference.h"
#include "sort/sort_int.h"

#define M		1000000ll
#define JSET_BYTES	(256u << 10)

/* ------------------------------------------------------------ journals */

struct journal {
	uint64_t want;
	struct jg g;
	/* the packed keys of the whole journal, one thread, unsorted */
	struct sort_layout L;
	uint64_t *keys;
	size_t n;
	uint64_t vary[SORT_MAX_WORDS];
	uintptr_t *jptr;
};

static struct journal *journal(struct cb_state *s, uint64_t keys)
{
	static struct journal *cache[4];
	struct journal *j;
	uint32_t *kc;
	struct sort_acc acc;
	unsigned i;
	int ret;

	for (i = 0; i < 4 && cache[i]; i++)
		if (cache[i]->want == keys)
			return cache[i];
	if (i == 4) {
		cb_error(s, "too many journals");
		return NULL;
	}
	j = calloc(1, sizeof(*j));
	if (!j)
		goto nomem;
	j->want = keys;
	ret = jg_init(&j->g, JSET_BYTES, 1);
	if (!ret)
		ret = jg_synth(&j->g, keys, 1);
	if (!ret)
		ret = jg_index(&j->g);
	if (ret) {
		cb_error(s, jrx_diag());
		return NULL;
	}
	kc = malloc(j->g.ix.nr * sizeof(*kc));
	if (!kc)
		goto nomem;
	sort_acc_init(&acc);
	sort_scan_jsets(&j->g.ix, 0, j->g.ix.nr, &acc, kc);
	free(kc);
	sort_layout_build(&j->L, &acc);
	j->keys = malloc(acc.keys * j->L.words * 8 + 8);
	j->jptr = malloc(j->L.nr_jsets * sizeof(*j->jptr) + 8);
	if (!j->keys || !j->jptr)
		goto nomem;
	j->n = sort_extract_jsets(&j->g.ix, 0, j->g.ix.nr, &j->L, j->keys, j->vary);
	for (size_t k = 0; k < j->L.nr_jsets; k++)
		j->jptr[k] = (uintptr_t)j->g.ix.v[j->L.jset.min + k].j;
	fprintf(stderr, "journal: %zu keys in %zu jsets, %u-bit sort keys (%u"
		" words), %u groups\n", j->n, j->g.ix.nr, j->L.bits, j->L.words,
		j->L.nr_groups);
	cache[i] = j;
	return j;
nomem:
	cb_error(s, "out of memory");
	return NULL;
}

/* k sorted runs of the journal's keys, split at jset boundaries. */
struct runs {
	unsigned k;
	uint64_t *buf;
	const uint64_t *key[SORT_MAX_THREADS];
	size_t len[SORT_MAX_THREADS];
};

static bool make_runs(const struct journal *j, unsigned k, struct runs *r)
{
	unsigned W = j->L.words;
	uint64_t *tmp = malloc(j->n * W * 8 + 8);
	size_t at = 0;

	r->k = k;
	r->buf = malloc(j->n * W * 8 + 8);
	if (!r->buf || !tmp) {
		free(tmp);
		free(r->buf);
		return false;
	}
	memcpy(r->buf, j->keys, j->n * W * 8);
	/* keys are in journal-read order: cutting by count cuts by jset */
	for (unsigned t = 0; t < k; t++) {
		size_t end = j->n * (t + 1) / k;

		r->key[t] = r->buf + at * W;
		r->len[t] = end - at;
		sort_radix(r->buf + at * W, tmp, end - at, W, NULL, SORT_MSD);
		at = end;
	}
	free(tmp);
	return true;
}

/* ------------------------------------------------------------ benchmarks */

struct xjob {
	const struct journal *j;
	unsigned T;
	struct sort_acc acc[SORT_MAX_THREADS];
	struct sort_layout L;
	uint32_t *kc;
	size_t jb[SORT_MAX_THREADS + 1], off[SORT_MAX_THREADS + 1];
	uint64_t *out;
};

static void x_scan(void *arg, unsigned t)
{
	struct xjob *x = arg;
	size_t nr = x->j->g.ix.nr;

	sort_acc_init(&x->acc[t]);
	sort_scan_jsets(&x->j->g.ix, nr * t / x->T, nr * (t + 1) / x->T,
			&x->acc[t], x->kc);
}

static void x_extract(void *arg, unsigned t)
{
	struct xjob *x = arg;
	uint64_t vary[SORT_MAX_WORDS];

	sort_extract_jsets(&x->j->g.ix, x->jb[t], x->jb[t + 1], &x->L,
			   x->out + x->off[t] * x->L.words, vary);
}

/* What the driver does before sorting: two passes, T threads. */
static void bm_extract(struct cb_state *s)
{
	struct journal *j = journal(s, (uint64_t)cb_arg(s, 0));
	struct xjob *x = calloc(1, sizeof(*x));
	size_t nr;

	if (!j || !x) {
		free(x);
		return;
	}
	nr = j->g.ix.nr;
	x->j = j;
	x->T = (unsigned)cb_arg(s, 1);
	x->kc = malloc(nr * sizeof(*x->kc));
	x->out = malloc(j->n * SORT_MAX_WORDS * 8 + 8);
	if (!x->kc || !x->out) {
		cb_error(s, "out of memory");
		goto out;
	}
	memset(x->out, 0, j->n * SORT_MAX_WORDS * 8);	/* no faults in the loop */
	double tscan = 0, t0;
	struct jrx_pool *pool;

	/* the recovery's own pool: started once, as the sort stage does */
	if (jrx_pool_start(&pool, &(struct jrx_pool_opts){ .workers = x->T,
						      .name = "bench" })) {
		cb_error(s, "cannot start the worker pool");
		goto out;
	}

	while (cb_keep_running(s)) {
		struct sort_acc all;
		size_t sum = 0, t = 1;

		t0 = jrx_now();
		jrx_pool_run(pool, x_scan, x);
		tscan += jrx_now() - t0;
		sort_acc_init(&all);
		for (unsigned i = 0; i < x->T; i++)
			sort_acc_merge(&all, &x->acc[i]);
		sort_layout_build(&x->L, &all);
		x->jb[0] = x->off[0] = 0;
		for (size_t k = 0; k < nr && t < x->T; k++) {
			sum += x->kc[k];
			if (sum >= all.keys * t / x->T) {
				x->jb[t] = k + 1;
				x->off[t++] = sum;
			}
		}
		for (; t <= x->T; t++) {
			x->jb[t] = nr;
			x->off[t] = all.keys;
		}
		jrx_pool_run(pool, x_extract, x);
	}
	jrx_pool_stop(pool);
	cb_items(s, (int64_t)j->n * cb_iterations(s));
	cb_counter(s, "scan_ms", tscan * 1e3, CB_AVG);
out:
	free(x->kc);
	free(x->out);
	free(x);
}

static void bm_radix(struct cb_state *s, enum sort_algo algo)
{
	struct journal *j = journal(s, (uint64_t)cb_arg(s, 0));
	uint64_t *a, *b;
	size_t bytes;

	if (!j)
		return;
	bytes = j->n * j->L.words * 8;
	a = malloc(bytes + 8);
	b = malloc(bytes + 8);
	if (!a || !b) {
		cb_error(s, "out of memory");
	} else {
		memset(b, 0, bytes);		/* no page faults in the loop */
		while (cb_keep_running(s)) {
			cb_pause(s);
			memcpy(a, j->keys, bytes);
			cb_resume(s);
			sort_radix(a, b, j->n, j->L.words, j->vary, algo);
		}
		cb_items(s, (int64_t)j->n * cb_iterations(s));
	}
	free(a);
	free(b);
}

static void bm_radix_msd(struct cb_state *s)
{
	bm_radix(s, SORT_MSD);
}

static void bm_radix_lsd(struct cb_state *s)
{
	bm_radix(s, SORT_LSD);
}

/* k runs merged in one range by one thread (k = 1: dedup only). */
static void bm_merge_k(struct cb_state *s, unsigned k, bool nodedup)
{
	struct journal *j = journal(s, (uint64_t)cb_arg(s, 0));
	struct runs r;
	struct jrx_jkey *out;
	size_t lo[SORT_MAX_THREADS] = { 0 }, kept = 0;

	if (!j)
		return;
	if (!make_runs(j, k, &r)) {
		cb_error(s, "out of memory");
		return;
	}
	out = malloc(j->n * sizeof(*out) + 16);
	if (out) {
		struct sort_decoder d = { .L = &j->L, .jptr = j->jptr };
		struct sort_runs runs = { .nr = k, .key = r.key, .len = r.len };

		memset(out, 0, j->n * sizeof(*out));
		while (cb_keep_running(s))
			kept = sort_merge(&d, &runs, lo, r.len, out, nodedup);
		cb_items(s, (int64_t)j->n * cb_iterations(s));
		cb_counter(s, "keys_out", (double)kept, CB_PLAIN);
	} else {
		cb_error(s, "out of memory");
	}
	free(out);
	free(r.buf);
}

static void bm_merge(struct cb_state *s)
{
	bm_merge_k(s, (unsigned)cb_arg(s, 1), false);
}

static void bm_merge_nodedup(struct cb_state *s)
{
	bm_merge_k(s, (unsigned)cb_arg(s, 1), true);
}

static void bm_dedup(struct cb_state *s)
{
	bm_merge_k(s, 1, false);
}

static void bm_sort_journal(struct cb_state *s)
{
	struct journal *j = journal(s, (uint64_t)cb_arg(s, 0));
	struct jrx_sort_opts o = { .threads = (unsigned)cb_arg(s, 1) };
	struct jrx_sort_stats st, sum = { 0 };

	if (!j)
		return;
	while (cb_keep_running(s)) {
		struct jrx_sort_result res;

		if (jrx_sort_journal(&j->g.ix, &o, &res, &st)) {
			cb_error(s, jrx_diag());
			return;
		}
		jrx_sort_result_free(&res);
		sum.extract_seconds += st.extract_seconds;
		sum.sort_seconds += st.sort_seconds;
		sum.merge_seconds += st.merge_seconds;
	}
	cb_items(s, (int64_t)j->n * cb_iterations(s));
	cb_counter(s, "extract_ms", sum.extract_seconds * 1e3, CB_AVG);
	cb_counter(s, "sort_ms", sum.sort_seconds * 1e3, CB_AVG);
	cb_counter(s, "merge_ms", sum.merge_seconds * 1e3, CB_AVG);
	/* sort + merge + dedup alone, keys per second */
	cb_counter(s, "sort_merge_keys_per_s", (double)j->n * cb_iterations(s) /
		   (sum.sort_seconds + sum.merge_seconds), CB_PLAIN);
	cb_counter(s, "keys_out", (double)st.keys_out, CB_PLAIN);
	cb_counter(s, "key_bits", st.key_bits, CB_PLAIN);
	cb_counter(s, "peak_bytes_per_key", (double)st.peak_bytes / (double)j->n,
		   CB_PLAIN);
}

static void bm_reference_sort(struct cb_state *s)
{
	struct journal *j = journal(s, (uint64_t)cb_arg(s, 0));
	size_t n = 0;

	if (!j)
		return;
	while (cb_keep_running(s)) {
		struct jrx_jkey *v;

		if (jrx_reference_sort(&j->g.ix, &v, &n)) {
			cb_error(s, "reference sort failed");
			return;
		}
		free(v);
	}
	cb_items(s, (int64_t)j->n * cb_iterations(s));
	cb_counter(s, "keys_out", (double)n, CB_PLAIN);
}

/* ------------------------------------------------------------ registry */

static void reg(const char *name, cb_fn fn, const char *second,
		const int64_t *second_vals, unsigned nvals)
{
	static const int64_t sizes[] = { 1 * M, 10 * M };
	struct cb_bench *b = cb_register(name, fn);
	const char *names[2] = { "keys", second };

	for (unsigned i = 0; i < 2; i++) {
		if (!second) {
			cb_args(b, &sizes[i], 1);
			continue;
		}
		for (unsigned v = 0; v < nvals; v++)
			cb_args(b, (int64_t[]){ sizes[i], second_vals[v] }, 2);
	}
	cb_arg_names(b, names, second ? 2 : 1);
	cb_real_time(b);
	cb_unit_ms(b);
}

void cb_register_all(void)
{
	static const int64_t threads[] = { 1, 2 }, ks[] = { 2, 4, 8 };

	reg("extract", bm_extract, "threads", threads, 2);
	reg("radix_msd", bm_radix_msd, NULL, NULL, 0);
	reg("radix_lsd", bm_radix_lsd, NULL, NULL, 0);
	reg("merge", bm_merge, "runs", ks, 3);
	reg("merge_nodedup", bm_merge_nodedup, "runs", ks, 3);
	reg("dedup", bm_dedup, NULL, NULL, 0);
	reg("sort_journal", bm_sort_journal, "threads", threads, 2);
	reg("reference_sort", bm_reference_sort, NULL, NULL, 0);
}
