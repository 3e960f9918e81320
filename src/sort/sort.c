/*
 * sort.c - jrx_sort_journal(), the driver of the sort stage (sort.h): it
 * owns the buffers and the phase order; its T workers are one pool
 * (util/pool.h), started and stopped here.
 *
 *   1. scan      T threads, jsets split by size: field ranges, key counts;
 *   2. layout    the packed key (pack.c) from the merged ranges;
 *   3. extract   T threads, jsets split by key count: thread t writes its
 *                run at runs[off_t ..) in journal-read order;
 *   4. sort      each thread radix-sorts its run, the scratch buffer at
 *                the same offsets;
 *   5. merge     boundaries of nr_ranges key ranges (partition.c), then
 *                the threads take ranges in turn and merge each with dedup
 *                into the scratch buffer, now the output, at the range's
 *                input offset; the ranges are then moved down end to end
 *                and the buffer trimmed to the result.
 *
 * Memory: runs hold n packed keys (8 bytes each when they fit 63 bits, 16
 * up to 127); the scratch buffer holds max(key, 16) bytes per key, so it
 * serves as radix scratch first and as the output (16-byte jkeys) after.
 * Peak: 24 bytes per key with 1-word keys, 32 with 2-word keys, plus a few
 * bytes per jset.  The runs are freed as soon as the merge is done.  Both
 * big buffers are advised to transparent huge pages (mem_alloc_big).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "sort_int.h"
#include "../util/pool.h"
#include "jrx/errors.h"
#include "../util/clock.h"
#include "../util/diag.h"

struct mem {
	uint64_t cur, peak;
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
#define HUGE_MIN	(8u << 20)
#define HUGE_PAGE	((uintptr_t)2 << 20)

static void *mem_alloc_big(struct mem *m, size_t bytes)
{
	void *p = mem_alloc(m, bytes);

#ifdef MADV_HUGEPAGE
	if (p && bytes >= HUGE_MIN) {
		uintptr_t a = ((uintptr_t)p + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
		uintptr_t e = ((uintptr_t)p + bytes) & ~(HUGE_PAGE - 1);

		if (e > a)
			madvise((void *)a, e - a, MADV_HUGEPAGE);
	}
#endif
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
	struct sort_acc *acc;		/* per thread */
	uint32_t *kc;			/* keys per jset */
	size_t *jb;			/* T + 1 jset bounds */
	/* runs */
	struct sort_layout L;
	uint64_t *runs, *tmp;
	size_t runs_bytes, tmp_bytes;
	size_t *off, *len;		/* per thread run */
	uint64_t (*vary)[SORT_MAX_WORDS];
	const uint64_t **rkey;
	/* merge */
	size_t *bnd;			/* (R + 1) x T */
	size_t *in_off, *out_n;		/* per range */
	uintptr_t *jptr;		/* jset address by index - L.jset.min */
	size_t nj;
	size_t next_range;
	bool keep_all;			/* jrx_sort_opts */
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

static void job_sort(void *arg, unsigned t)
{
	struct sort_ctx *c = arg;
	unsigned W = c->L.words;

	sort_radix(c->runs + c->off[t] * W, c->tmp + c->off[t] * W, c->len[t],
		   W, c->vary[t], c->algo);
}

static void job_merge(void *arg, unsigned t)
{
	struct sort_ctx *c = arg;
	struct sort_decoder d = { .L = &c->L, .jptr = c->jptr };
	struct sort_runs runs = { .nr = c->T, .key = c->rkey, .len = c->len };
	struct jrx_jkey *out = (struct jrx_jkey *)c->tmp;
	size_t r;

	(void)t;
	while ((r = __atomic_fetch_add(&c->next_range, 1, __ATOMIC_RELAXED)) < c->R)
		c->out_n[r] = sort_merge(&d, &runs, c->bnd + r * c->T,
					 c->bnd + (r + 1) * c->T,
					 out + c->in_off[r], c->keep_all);
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
	split_jsets(ix, c->T, NULL, c->jb);
	sort_phase(c, c->T, job_scan, c);
	all = &c->acc[c->T];
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

static int alloc_runs(struct sort_ctx *c)
{
	unsigned W = c->L.words, T = c->T;
	size_t n = c->L.keys, ent = W * 8 < 16 ? 16 : W * 8, sum = 0;

	if (n > SIZE_MAX / 64)
		return -ENOMEM;
	c->runs_bytes = n * W * 8;
	c->tmp_bytes = n * ent;
	c->off = mem_alloc(&c->mem, T * sizeof(*c->off));
	c->len = mem_alloc(&c->mem, T * sizeof(*c->len));
	c->vary = mem_alloc(&c->mem, T * sizeof(*c->vary));
	c->rkey = mem_alloc(&c->mem, T * sizeof(*c->rkey));
	c->runs = mem_alloc_big(&c->mem, c->runs_bytes);
	c->tmp = mem_alloc_big(&c->mem, c->tmp_bytes);
	if (!c->off || !c->len || !c->vary || !c->rkey || !c->runs || !c->tmp)
		return -ENOMEM;
	/* runs by key count, each at the sum of the counts before it */
	split_jsets(c->ix, T, c->kc, c->jb);
	for (unsigned t = 0; t < T; t++) {
		c->off[t] = sum;
		for (size_t j = c->jb[t]; j < c->jb[t + 1]; j++)
			sum += c->kc[j];
		c->rkey[t] = c->runs + c->off[t] * W;
		if (sum - c->off[t] > UINT32_MAX)
			return jrx_fail(-E2BIG, "sort: %zu keys for one thread: a"
					" run holds less than 2^32 keys (use more"
					" threads)", sum - c->off[t]);
	}
	return 0;
}

static int merge(struct sort_ctx *c, const struct jrx_sort_opts *o,
		 struct jrx_sort_result *res)
{
	const struct sort_layout *L = &c->L;
	struct sort_runs runs = { .nr = c->T, .key = c->rkey, .len = c->len };
	unsigned T = c->T, R = c->R;
	size_t in = 0, out = 0;
	int ret;

	c->nj = L->nr_jsets;
	c->bnd = mem_alloc(&c->mem, (size_t)(R + 1) * T * sizeof(*c->bnd));
	c->in_off = mem_alloc(&c->mem, R * sizeof(*c->in_off));
	c->out_n = mem_alloc(&c->mem, R * sizeof(*c->out_n));
	c->jptr = mem_alloc(&c->mem, c->nj * sizeof(*c->jptr));
	res->range = mem_alloc(&c->mem, (R + 1) * sizeof(*res->range));
	if (!c->bnd || !c->in_off || !c->out_n || !c->jptr || !res->range)
		return -ENOMEM;
	for (size_t j = 0; j < c->nj; j++)
		c->jptr[j] = (uintptr_t)c->ix->v[L->jset.min + j].j;
	ret = sort_partition(L, &runs, R, o ? o->splits : NULL,
			     o ? o->nr_splits : 0, c->bnd);
	if (ret)
		return ret;
	for (unsigned r = 0; r < R; r++) {
		c->in_off[r] = in;
		for (unsigned t = 0; t < T; t++)
			in += c->bnd[(r + 1) * T + t] - c->bnd[r * T + t];
	}
	sort_phase(c, T < R ? T : R, job_merge, c);

	/* the ranges end to end */
	for (unsigned r = 0; r < R; r++) {
		struct jrx_jkey *v = (struct jrx_jkey *)c->tmp;

		if (out != c->in_off[r])
			memmove(v + out, v + c->in_off[r],
				c->out_n[r] * sizeof(*v));
		res->range[r] = out;
		out += c->out_n[r];
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
	mem_free(&c->mem, c->rkey, T * sizeof(*c->rkey));
	mem_free(&c->mem, c->runs, c->runs_bytes);
	mem_free(&c->mem, c->tmp, c->tmp_bytes);
	mem_free(&c->mem, c->bnd, (size_t)(c->R + 1) * T * sizeof(*c->bnd));
	mem_free(&c->mem, c->in_off, c->R * sizeof(*c->in_off));
	mem_free(&c->mem, c->out_n, c->R * sizeof(*c->out_n));
	mem_free(&c->mem, c->jptr, c->nj * sizeof(*c->jptr));
	c->acc = NULL;
	c->kc = NULL;
	c->jb = c->off = c->len = c->bnd = c->in_off = c->out_n = NULL;
	c->vary = NULL;
	c->rkey = NULL;
	c->runs = c->tmp = NULL;
	c->jptr = NULL;
}

int sort_journal_algo(const struct jrx_jindex *ix, const struct jrx_sort_opts *o,
		      struct jrx_sort_result *res, struct jrx_sort_stats *st,
		      enum sort_algo algo)
{
	struct sort_ctx c = { .ix = ix, .algo = algo,
			      .keep_all = o && o->keep_all };
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
