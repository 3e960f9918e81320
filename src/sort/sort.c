/*
 * sort.c - jrx_sort_journal(), the driver of the sort stage (sort.h): it
 * owns the buffers and the phase order; its T workers are one pool
 * (util/pool.h), started and stopped here.
 *
 *   1. scan      T threads, jsets split by size: field ranges, key counts;
 *   2. layout    the packed key (pack.c) from the merged ranges;
 *   3. extract   T threads, jsets split by key count: thread t writes its
 *                run at runs[off_t ..) in journal-read order;
 *   4. sort      each thread radix-sorts its run: whole, with the scratch
 *                buffer at the same offsets, or, for a big journal whose
 *                caller has not the memory for whole runs (the recovery
 *                asks recovery/budget.h), in C chunks, each then a run of
 *                its own, with a scratch of one chunk per thread;
 *   5. merge     boundaries of nr_ranges key ranges (partition.c), each cut
 *                again into S sub-ranges by sampled splitters; the threads
 *                take sub-ranges in turn and merge each with dedup into the
 *                output at the sub-range's input offset, and give back the
 *                whole pages of the runs it consumed (MADV_DONTNEED); the
 *                sub-ranges are then moved down end to end and the output
 *                trimmed to the result.
 *
 * Memory: runs hold n packed keys (8 bytes each when they fit 63 bits, 16
 * up to 127); the output holds 16-byte jkeys.  Unchunked (C = 1) the
 * scratch holds max(key, 16) bytes per key and becomes the output: peak
 * 24 bytes per key with 1-word keys, 32 with 2-word keys.  Chunked, the
 * scratch is a chunk per thread, freed before the merge, and the output is
 * fresh memory that fills as the runs' consumed pages are given back:
 * peak about the runs plus a chunk per thread (16 + 16 T / K bytes per key
 * with 2-word keys; 20 measured at 120 M keys, K = 8, where unchunked took
 * 32: issue 17's goal is journal bytes + 24).  The price is a K-way merge
 * instead of a 2-way one and an output faulted in as it fills (1.1 s
 * against 0.3 s of merge at 120 M keys).  Plus a few bytes per jset.  The
 * runs are freed as soon as the merge is done.  The big buffers are
 * advised to transparent huge pages (mem_alloc_big).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "sort_int.h"
#include "../util/pool.h"
#include "jrx/errors.h"
#include "../util/clock.h"
#include "../util/diag.h"
#include "../util/memory.h"

struct mem {
	uint64_t cur, peak;
	_Atomic uint64_t given_back;	/* run bytes released by the merge */
};

static void *mem_alloc(struct mem *m, size_t bytes)
{
	void *p = malloc(bytes ? bytes : 1);

	if (p) {
		m->cur += bytes;
		if (m->cur > m->peak)
			m->peak = m->cur;
	}
	return p;
}

/*
 * The big buffers are touched once each, in parallel, right after they
 * are allocated: with 4 KiB pages the first touch (page faults, zeroing)
 * costs about as much as sorting.  Transparent huge pages cut that
 * several times where THP is "madvise" (the Debian default); the hint is
 * only advice, and plain malloc/free stay the allocator.
 */
static void *mem_alloc_big(struct mem *m, size_t bytes)
{
	void *p = mem_alloc(m, bytes);

	jrx_mem_advise_huge(p, bytes);
	return p;
}

static void mem_free(struct mem *m, void *p, size_t bytes)
{
	if (p) {
		free(p);
		m->cur -= bytes;
	}
}

struct sort_ctx {
	const struct jrx_jindex *ix;
	unsigned T, R;
	enum sort_algo algo;
	struct jrx_pool *pool;		/* c->T workers (none when T == 1) */
	struct mem mem;
	/* scan */
	const struct jrx_sort_prescan *prescan;	/* opts', or NULL */
	bool prescanned;		/* the scan came from it */
	struct sort_acc *acc;		/* per thread */
	uint32_t *kc;			/* keys per jset */
	size_t *jb;			/* T + 1 jset bounds */
	/* runs */
	struct sort_layout L;
	uint64_t *runs, *tmp;		/* tmp: the radix scratch */
	size_t runs_bytes, tmp_bytes;
	size_t *off, *len;		/* per thread run */
	uint64_t (*vary)[SORT_MAX_WORDS];
	unsigned C, K;			/* chunks per thread; runs (T x C) */
	size_t chunk_max;		/* keys of the biggest chunk */
	const uint64_t **rkey;		/* per run (K) */
	size_t *rlen;
	/* merge */
	unsigned S, J;			/* sub-ranges per range; in all (R x S) */
	size_t *bnd;			/* (J + 1) x K */
	size_t *in_off, *out_n;		/* per sub-range */
	struct jrx_jkey *out;		/* the output: tmp, the scratch when
					   C == 1, else allocated anew */
	uintptr_t *jptr;		/* jset address by index - L.jset.min */
	size_t nj;
	size_t next_range;
	bool keep_all;			/* jrx_sort_opts */
	size_t chunk_bytes;
};

/* ------------------------------------------------------------ threads */

struct phase_arg {
	void (*fn)(void *arg, unsigned t);
	void *arg;
	unsigned n;
};

static void phase_shim(void *p, unsigned id)
{
	const struct phase_arg *a = p;

	if (id < a->n)
		a->fn(a->arg, id);
}

/* fn(arg, t) for t = 0 .. n-1 (n <= c->T) on the stage's pool. */
static void sort_phase(struct sort_ctx *c, unsigned n,
			  void (*fn)(void *arg, unsigned t), void *arg)
{
	struct phase_arg a = { fn, arg, n };

	if (n == 1 || !c->pool)
		for (unsigned t = 0; t < n; t++)
			fn(arg, t);
	else
		jrx_pool_run(c->pool, phase_shim, &a);
}

/* ------------------------------------------------------------ phases */

static void job_scan(void *arg, unsigned t)
{
	struct sort_ctx *c = arg;

	sort_acc_init(&c->acc[t]);
	sort_scan_jsets(c->ix, c->jb[t], c->jb[t + 1], &c->acc[t], c->kc);
}

static void job_extract(void *arg, unsigned t)
{
	struct sort_ctx *c = arg;
	unsigned W = c->L.words;

	c->len[t] = sort_extract_jsets(c->ix, c->jb[t], c->jb[t + 1], &c->L,
				       c->runs + c->off[t] * W, c->vary[t]);
}

/* Thread t's run: its C chunks sorted, each a run of the merge. */
static void job_sort(void *arg, unsigned t)
{
	struct sort_ctx *c = arg;
	unsigned W = c->L.words;
	uint64_t *scratch = c->C == 1 ? c->tmp + c->off[t] * W :
		c->tmp + t * c->chunk_max * W;

	for (unsigned i = 0; i < c->C; i++) {
		size_t a = c->len[t] * i / c->C, b = c->len[t] * (i + 1) / c->C;
		uint64_t *keys = c->runs + (c->off[t] + a) * W;

		sort_radix(keys, scratch, b - a, W, c->vary[t], c->algo);
		c->rkey[t * c->C + i] = keys;
		c->rlen[t * c->C + i] = b - a;
	}
}

/* The whole pages of the keys sub-range j read from the runs given back:
 * nothing reads them again (the pages at its ends may hold keys of the
 * sub-ranges around it, and stay). */
static void give_back(struct sort_ctx *c, size_t j)
{
	const uintptr_t page = 4096;
	unsigned W = c->L.words;

	for (unsigned k = 0; k < c->K; k++) {
		uintptr_t a = (uintptr_t)(c->rkey[k] + c->bnd[j * c->K + k] * W);
		uintptr_t e = (uintptr_t)(c->rkey[k] + c->bnd[(j + 1) * c->K + k] * W);

		a = (a + page - 1) & ~(page - 1);
		e &= ~(page - 1);
		if (e > a && !madvise((void *)a, e - a, MADV_DONTNEED))
			atomic_fetch_add(&c->mem.given_back, e - a);
	}
}

static void job_merge(void *arg, unsigned t)
{
	struct sort_ctx *c = arg;
	struct sort_decoder d = { .L = &c->L, .jptr = c->jptr };
	struct sort_runs runs = { .nr = c->K, .key = c->rkey, .len = c->rlen };
	size_t j;

	(void)t;
	while ((j = __atomic_fetch_add(&c->next_range, 1, __ATOMIC_RELAXED)) < c->J) {
		c->out_n[j] = sort_merge(&d, &runs, c->bnd + j * c->K,
					 c->bnd + (j + 1) * c->K,
					 c->out + c->in_off[j], c->keep_all);
		if (c->C > 1)
			give_back(c, j);
	}
}

/* ------------------------------------------------------------ driver */

/* Bounds jb[0..T] over the jsets so each thread gets about total / T. */
static void split_jsets(const struct jrx_jindex *ix, unsigned T,
			const uint32_t *kc, size_t *jb)
{
	uint64_t total = 0, sum = 0;
	unsigned t = 1;

	for (size_t j = 0; j < ix->nr; j++)
		total += kc ? kc[j] : ix->v[j].blacklisted ? 0 : ix->v[j].j->u64s;
	jb[0] = 0;
	for (size_t j = 0; j < ix->nr && t < T; j++) {
		sum += kc ? kc[j] : ix->v[j].blacklisted ? 0 : ix->v[j].j->u64s;
		while (t < T && sum >= (uint64_t)((unsigned __int128)total * t / T))
			jb[t++] = j + 1;
	}
	while (t <= T)
		jb[t++] = ix->nr;
}

static int check_splits(const struct jrx_sort_opts *o)
{
	for (size_t i = 1; o && i < o->nr_splits; i++)
		if (sort_split_cmp(&o->splits[i - 1], &o->splits[i]) > 0)
			return jrx_fail(-EINVAL, "sort: split point %zu (level %u"
					" btree %u %" PRIu64 ":%" PRIu64 ":%u) is"
					" before split point %zu: splits must be"
					" in journal order", i, o->splits[i].level,
					o->splits[i].btree_id,
					o->splits[i].pos.inode,
					o->splits[i].pos.offset,
					o->splits[i].pos.snapshot, i - 1);
	return 0;
}

static int scan(struct sort_ctx *c)
{
	const struct jrx_jindex *ix = c->ix;
	struct sort_acc *all;
	int ret = 0;

	c->acc = mem_alloc(&c->mem, (c->T + 1) * sizeof(*c->acc));
	c->kc = mem_alloc(&c->mem, ix->nr * sizeof(*c->kc));
	c->jb = mem_alloc(&c->mem, (c->T + 1) * sizeof(*c->jb));
	if (!c->acc || !c->kc || !c->jb)
		return -ENOMEM;
	all = &c->acc[c->T];
	if (c->prescan && sort_prescan_layout(c->prescan, ix, c->kc, all)) {
		c->prescanned = true;
		sort_layout_build(&c->L, all);
		return 0;
	}
	split_jsets(ix, c->T, NULL, c->jb);
	sort_phase(c, c->T, job_scan, c);
	sort_acc_init(all);
	for (unsigned t = 0; t < c->T; t++) {
		const struct sort_acc *a = &c->acc[t];

		if (a->err && !ret)
			ret = jrx_fail(-JRX_ERR_JSET_INVALID, "sort: jset seq %"
				       PRIu64 " has a btree_keys entry for btree"
				       " %u level %u", ix->v[a->err_jset].seq,
				       a->err_btree, a->err_level);
		sort_acc_merge(all, a);
	}
	if (!ret)
		sort_layout_build(&c->L, all);
	return ret;
}

/* A thread's run is sorted in chunks of at most this many bytes
 * (jrx_sort_opts.chunk_bytes); a sub-range of the merge reads about an
 * eighth of that.  128 MiB took 18 bytes a key at 120 M keys but a
 * 16-way merge 2.4 s; 256 MiB, 20 bytes and 1.1 s. */
#define CHUNK_BYTES	((size_t)256 << 20)
#define MAX_CHUNKS	16u
#define MAX_SUBRANGES	4096u

static int alloc_runs(struct sort_ctx *c)
{
	unsigned W = c->L.words, T = c->T;
	size_t n = c->L.keys, ent = W * 8 < 16 ? 16 : W * 8, sum = 0, most = 0;

	if (n > SIZE_MAX / 64)
		return -ENOMEM;
	c->off = mem_alloc(&c->mem, T * sizeof(*c->off));
	c->len = mem_alloc(&c->mem, T * sizeof(*c->len));
	c->vary = mem_alloc(&c->mem, T * sizeof(*c->vary));
	if (!c->off || !c->len || !c->vary)
		return -ENOMEM;
	/* runs by key count, each at the sum of the counts before it */
	split_jsets(c->ix, T, c->kc, c->jb);
	for (unsigned t = 0; t < T; t++) {
		c->off[t] = sum;
		for (size_t j = c->jb[t]; j < c->jb[t + 1]; j++)
			sum += c->kc[j];
		if (sum - c->off[t] > most)
			most = sum - c->off[t];
		if (sum - c->off[t] > UINT32_MAX)
			return jrx_fail(-E2BIG, "sort: %zu keys for one thread: a"
					" run holds less than 2^32 keys (use more"
					" threads)", sum - c->off[t]);
	}
	/* a big run in chunks, so the scratch is a chunk and not a run */
	c->C = c->chunk_bytes == SIZE_MAX ? 1 :
		(unsigned)((most * W * 8 + c->chunk_bytes - 1) / c->chunk_bytes);
	if (c->C > MAX_CHUNKS)
		c->C = MAX_CHUNKS;
	if (c->C < 1 || (size_t)T * c->C > SORT_MAX_THREADS)
		c->C = 1;
	c->K = T * c->C;
	c->chunk_max = (most + c->C - 1) / c->C;
	c->runs_bytes = n * W * 8;
	c->tmp_bytes = c->C == 1 ? n * ent : T * c->chunk_max * W * 8;
	c->rkey = mem_alloc(&c->mem, c->K * sizeof(*c->rkey));
	c->rlen = mem_alloc(&c->mem, c->K * sizeof(*c->rlen));
	c->runs = mem_alloc_big(&c->mem, c->runs_bytes);
	c->tmp = mem_alloc_big(&c->mem, c->tmp_bytes);
	if (!c->rkey || !c->rlen || !c->runs || !c->tmp)
		return -ENOMEM;
	return 0;
}

/*
 * Sub-range boundaries: each of the R ranges of bnd_r ((R + 1) x K) cut
 * into S by sampled splitters over its part of the runs (slot
 * boundaries, as partition.c's), into c->bnd ((J + 1) x K).
 */
static int sub_partition(struct sort_ctx *c, const size_t *bnd_r)
{
	unsigned K = c->K, W = c->L.words;
	const uint64_t **key = mem_alloc(&c->mem, K * sizeof(*key));
	size_t *len = mem_alloc(&c->mem, K * sizeof(*len));
	size_t *sb = mem_alloc(&c->mem, (size_t)(c->S + 1) * K * sizeof(*sb));
	int ret = 0;

	if (!key || !len || !sb)
		ret = -ENOMEM;
	for (unsigned r = 0; !ret && r < c->R; r++) {
		const size_t *lo = bnd_r + (size_t)r * K, *hi = lo + K;
		struct sort_runs sub = { .nr = K, .key = key, .len = len };

		for (unsigned k = 0; k < K; k++) {
			key[k] = c->rkey[k] + lo[k] * W;
			len[k] = hi[k] - lo[k];
		}
		ret = sort_partition(&c->L, &sub, c->S, NULL, 0, sb);
		for (unsigned i = 0; !ret && i <= c->S; i++)
			for (unsigned k = 0; k < K; k++)
				c->bnd[((size_t)r * c->S + i) * K + k] =
					lo[k] + sb[(size_t)i * K + k];
	}
	mem_free(&c->mem, key, K * sizeof(*key));
	mem_free(&c->mem, len, K * sizeof(*len));
	mem_free(&c->mem, sb, (size_t)(c->S + 1) * K * sizeof(*sb));
	return ret;
}

static int merge(struct sort_ctx *c, const struct jrx_sort_opts *o,
		 struct jrx_sort_result *res)
{
	const struct sort_layout *L = &c->L;
	struct sort_runs runs = { .nr = c->K, .key = c->rkey, .len = c->rlen };
	unsigned T = c->T, R = c->R, K = c->K;
	size_t in = 0, out = 0, *bnd_r = NULL;
	int ret;

	/* chunked runs: sub-ranges of about an eighth of a chunk, so the
	 * pages given back follow the merge closely */
	c->S = 1;
	if (c->C > 1) {
		size_t per = c->runs_bytes / R / (c->chunk_bytes / 8 + 1) + 1;

		c->S = (unsigned)(per * R > MAX_SUBRANGES ? MAX_SUBRANGES / R : per);
		if (c->S < 1)
			c->S = 1;
	}
	c->J = R * c->S;
	c->nj = L->nr_jsets;
	c->bnd = mem_alloc(&c->mem, (size_t)(c->J + 1) * K * sizeof(*c->bnd));
	c->in_off = mem_alloc(&c->mem, c->J * sizeof(*c->in_off));
	c->out_n = mem_alloc(&c->mem, c->J * sizeof(*c->out_n));
	c->jptr = mem_alloc(&c->mem, c->nj * sizeof(*c->jptr));
	res->range = mem_alloc(&c->mem, (R + 1) * sizeof(*res->range));
	if (c->S > 1)
		bnd_r = mem_alloc(&c->mem, (size_t)(R + 1) * K * sizeof(*bnd_r));
	if (!c->bnd || !c->in_off || !c->out_n || !c->jptr || !res->range ||
	    (c->S > 1 && !bnd_r))
		return -ENOMEM;
	for (size_t j = 0; j < c->nj; j++)
		c->jptr[j] = (uintptr_t)c->ix->v[L->jset.min + j].j;
	ret = sort_partition(L, &runs, R, o ? o->splits : NULL,
			     o ? o->nr_splits : 0, bnd_r ? bnd_r : c->bnd);
	if (!ret && bnd_r)
		ret = sub_partition(c, bnd_r);
	mem_free(&c->mem, bnd_r, (size_t)(R + 1) * K * sizeof(*bnd_r));
	if (ret)
		return ret;
	for (unsigned j = 0; j < c->J; j++) {
		c->in_off[j] = in;
		for (unsigned k = 0; k < K; k++)
			in += c->bnd[(size_t)(j + 1) * K + k] - c->bnd[(size_t)j * K + k];
	}
	/* unchunked, the scratch is the output; else fresh memory that
	 * fills as the runs' pages are given back */
	if (c->C > 1) {
		uint64_t peak = c->mem.peak;

		mem_free(&c->mem, c->tmp, c->tmp_bytes);
		c->tmp_bytes = c->L.keys * sizeof(struct jrx_jkey);
		c->tmp = mem_alloc_big(&c->mem, c->tmp_bytes);
		if (!c->tmp)
			return -ENOMEM;
		c->mem.peak = peak;	/* counted as it fills, below */
	}
	c->out = (struct jrx_jkey *)c->tmp;
	sort_phase(c, T < c->J ? T : c->J, job_merge, c);
	if (c->C > 1) {
		/* at the merge's end: the runs less what was given back,
		 * and the output as written (at most a jkey per key in) */
		uint64_t now = c->mem.cur - c->tmp_bytes -
			atomic_load(&c->mem.given_back) +
			in * sizeof(struct jrx_jkey);

		if (now > c->mem.peak)
			c->mem.peak = now;
	}

	/* the sub-ranges end to end; a range starts with its first */
	for (unsigned j = 0; j < c->J; j++) {
		struct jrx_jkey *v = c->out;

		if (out != c->in_off[j])
			memmove(v + out, v + c->in_off[j],
				c->out_n[j] * sizeof(*v));
		if (j % c->S == 0)
			res->range[j / c->S] = out;
		out += c->out_n[j];
	}
	res->range[R] = out;
	res->nr = out;
	res->nr_ranges = R;
	return 0;
}

/* The scratch buffer becomes the result, trimmed to its keys. */
static void take_output(struct sort_ctx *c, struct jrx_sort_result *res)
{
	size_t bytes = res->nr * sizeof(struct jrx_jkey);
	void *v = c->tmp;

	if (!res->nr) {
		mem_free(&c->mem, c->tmp, c->tmp_bytes);
		v = NULL;
	} else if (bytes < c->tmp_bytes) {
		void *p = realloc(c->tmp, bytes);

		if (p)
			v = p;
		c->mem.cur -= c->tmp_bytes - (p ? bytes : c->tmp_bytes);
	}
	c->tmp = NULL;
	res->v = v;
}

static void cleanup(struct sort_ctx *c)
{
	unsigned T = c->T;

	mem_free(&c->mem, c->acc, (T + 1) * sizeof(*c->acc));
	mem_free(&c->mem, c->kc, c->ix->nr * sizeof(*c->kc));
	mem_free(&c->mem, c->jb, (T + 1) * sizeof(*c->jb));
	mem_free(&c->mem, c->off, T * sizeof(*c->off));
	mem_free(&c->mem, c->len, T * sizeof(*c->len));
	mem_free(&c->mem, c->vary, T * sizeof(*c->vary));
	mem_free(&c->mem, c->rkey, c->K * sizeof(*c->rkey));
	mem_free(&c->mem, c->rlen, c->K * sizeof(*c->rlen));
	mem_free(&c->mem, c->runs, c->runs_bytes);
	mem_free(&c->mem, c->tmp, c->tmp_bytes);
	mem_free(&c->mem, c->bnd, (size_t)(c->J + 1) * c->K * sizeof(*c->bnd));
	mem_free(&c->mem, c->in_off, c->J * sizeof(*c->in_off));
	mem_free(&c->mem, c->out_n, c->J * sizeof(*c->out_n));
	mem_free(&c->mem, c->jptr, c->nj * sizeof(*c->jptr));
	c->acc = NULL;
	c->kc = NULL;
	c->jb = c->off = c->len = c->bnd = c->in_off = c->out_n = NULL;
	c->vary = NULL;
	c->rkey = NULL;
	c->rlen = NULL;
	c->runs = c->tmp = NULL;
	c->jptr = NULL;
}

int sort_journal_algo(const struct jrx_jindex *ix, const struct jrx_sort_opts *o,
		      struct jrx_sort_result *res, struct jrx_sort_stats *st,
		      enum sort_algo algo)
{
	struct sort_ctx c = { .ix = ix, .algo = algo,
			      .keep_all = o && o->keep_all,
			      .prescan = o ? o->prescan : NULL,
			      .chunk_bytes = o && o->chunk_bytes ?
				o->chunk_bytes : CHUNK_BYTES };
	unsigned T = o && o->threads ? o->threads : 1;
	size_t live = 0;
	double t0 = jrx_now(), t1, t2, t3;
	int ret;

	memset(res, 0, sizeof(*res));
	if (st)
		memset(st, 0, sizeof(*st));
	if (T > SORT_MAX_THREADS)
		T = SORT_MAX_THREADS;
	c.R = o && o->nr_ranges ? o->nr_ranges : T;
	/* a jset is never split: more threads than jsets would idle */
	for (size_t j = 0; j < ix->nr && live < T; j++)
		live += !ix->v[j].blacklisted;
	c.T = live > 1 ? (unsigned)live : 1;
	if (ix->nr > UINT32_MAX)
		return jrx_fail(-E2BIG, "sort: %zu jsets: a journal key names its"
				" jset with 32 bits", ix->nr);
	ret = check_splits(o);
	if (ret)
		return ret;

	if (c.T > 1)
		ret = jrx_pool_start(&c.pool, &(struct jrx_pool_opts){
			.workers = c.T, .name = "sort" });
	if (!ret)
		ret = scan(&c);
	if (!ret)
		ret = alloc_runs(&c);
	if (ret)
		goto out;
	sort_phase(&c, c.T, job_extract, &c);
	t1 = jrx_now();
	/* the first pass's buffers are done with */
	mem_free(&c.mem, c.acc, (c.T + 1) * sizeof(*c.acc));
	mem_free(&c.mem, c.kc, ix->nr * sizeof(*c.kc));
	c.acc = NULL;
	c.kc = NULL;
	sort_phase(&c, c.T, job_sort, &c);
	t2 = jrx_now();
	ret = merge(&c, o, res);
	if (ret)
		goto out;
	mem_free(&c.mem, c.runs, c.runs_bytes);
	c.runs = NULL;
	take_output(&c, res);
	t3 = jrx_now();
	if (st) {
		st->extract_seconds = t1 - t0;
		st->sort_seconds = t2 - t1;
		st->merge_seconds = t3 - t2;
		st->keys_in = c.L.keys;
		st->keys_out = res->nr;
		st->key_bits = c.L.bits;
		st->key_words = c.L.words;
		st->prescanned = c.prescanned;
		st->runs = c.K;
	}
out:
	if (st)
		st->peak_bytes = c.mem.peak;
	if (ret) {
		mem_free(&c.mem, res->range, (c.R + 1) * sizeof(*res->range));
		memset(res, 0, sizeof(*res));
		if (ret == -ENOMEM)
			jrx_fail(ret, "sort: allocating %" PRIu64 " journal"
				 " keys (%u-word sort keys)", c.L.keys, c.L.words);
	}
	cleanup(&c);
	jrx_pool_stop(c.pool);
	return ret;
}

int jrx_sort_journal(const struct jrx_jindex *ix, const struct jrx_sort_opts *o,
		     struct jrx_sort_result *res, struct jrx_sort_stats *st)
{
	return sort_journal_algo(ix, o, res, st, SORT_MSD);
}

void jrx_sort_result_free(struct jrx_sort_result *res)
{
	free(res->v);
	free(res->range);
	memset(res, 0, sizeof(*res));
}
