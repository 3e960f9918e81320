/*
 * kernels.c - jrx-kernels: run ONE kernel of the sort stage once, on an
 * in-memory journal like `jrx synth` writes (tests/jset_gen.h, 256 KiB
 * jsets, seed 1), for valgrind --tool=callgrind (perf/callgrind.sh).
 *
 *   jrx-kernels KERNEL [--keys N] [--runs K]
 *
 *   extract    sort_scan_jsets() + sort_extract_jsets() over the journal
 *   radix      sort_radix() (MSD) of the whole journal's packed keys
 *   merge      sort_merge() of K sorted runs (default 2) with dedup
 *   sort1      jrx_sort_journal(), 1 thread
 *   sort2      jrx_sort_journal(), 2 threads
 *   reference  jrx_reference_sort() (collect + qsort + dedup)
 *
 * Everything before the kernel (generating and indexing the journal,
 * packing and pre-sorting its keys) runs first, outside the function
 * callgrind is told to collect in.  Prints "keys_in N keys_out M" on
 * stdout; N is the journal's keys, M the kernel's output count.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "jset_gen.h"
#include "util/diag.h"
#include "recovery/reference.h"
#include "sort/sort_int.h"

#define JSET_BYTES	(256u << 10)

static void die(const char *what)
{
	fprintf(stderr, "jrx-kernels: %s\n", what);
	exit(1);
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		die("out of memory");
	return p;
}

/* The journal's packed keys, one thread, unsorted (what extract makes). */
struct packed {
	struct sort_layout L;
	uint64_t *keys;
	size_t n;
	uint64_t vary[SORT_MAX_WORDS];
	uintptr_t *jptr;
};

static size_t extract(const struct jg *g, struct packed *p)
{
	uint32_t *kc = xmalloc(g->ix.nr * sizeof(*kc));
	struct sort_acc acc;

	sort_acc_init(&acc);
	sort_scan_jsets(&g->ix, 0, g->ix.nr, &acc, kc);
	free(kc);
	sort_layout_build(&p->L, &acc);
	p->keys = xmalloc(acc.keys * p->L.words * 8 + 8);
	p->n = sort_extract_jsets(&g->ix, 0, g->ix.nr, &p->L, p->keys, p->vary);
	return p->n;
}

static size_t radix(const struct packed *p)
{
	size_t bytes = p->n * p->L.words * 8;
	uint64_t *a = xmalloc(bytes + 8), *b = xmalloc(bytes + 8);

	memcpy(a, p->keys, bytes);
	memset(b, 0, bytes);			/* no page faults in the kernel */
	sort_radix(a, b, p->n, p->L.words, p->vary, SORT_MSD);
	free(a);
	free(b);
	return p->n;
}

/* k sorted runs cut at jset boundaries, as k extract threads make them. */
static size_t merge(const struct jg *g, const struct packed *p, unsigned k)
{
	unsigned W = p->L.words;
	uint64_t *buf = xmalloc(p->n * W * 8 + 8), *tmp = xmalloc(p->n * W * 8 + 8);
	const uint64_t *key[SORT_MAX_THREADS];
	size_t len[SORT_MAX_THREADS], lo[SORT_MAX_THREADS] = { 0 }, at = 0, kept;
	uintptr_t *jptr = xmalloc(p->L.nr_jsets * sizeof(*jptr) + 8);
	struct jrx_jkey *out = xmalloc(p->n * sizeof(*out) + 16);

	for (size_t j = 0; j < p->L.nr_jsets; j++)
		jptr[j] = (uintptr_t)g->ix.v[p->L.jset.min + j].j;
	memcpy(buf, p->keys, p->n * W * 8);
	for (unsigned t = 0; t < k; t++) {	/* journal order: by count = by jset */
		size_t end = p->n * (t + 1) / k;

		key[t] = buf + at * W;
		len[t] = end - at;
		sort_radix(buf + at * W, tmp, end - at, W, NULL, SORT_MSD);
		at = end;
	}
	free(tmp);
	memset(out, 0, p->n * sizeof(*out));

	struct sort_decoder d = { .L = &p->L, .jptr = jptr };
	struct sort_runs runs = { .nr = k, .key = key, .len = len };

	kept = sort_merge(&d, &runs, lo, len, out, false);
	free(out);
	free(jptr);
	free(buf);
	return kept;
}

static size_t sort_journal(const struct jg *g, unsigned threads)
{
	struct jrx_sort_opts o = { .threads = threads };
	struct jrx_sort_result res;
	size_t kept;

	if (jrx_sort_journal(&g->ix, &o, &res, NULL))
		die(jrx_diag());
	kept = res.nr;
	jrx_sort_result_free(&res);
	return kept;
}

static size_t reference(const struct jg *g)
{
	struct jrx_jkey *v;
	size_t n;

	if (jrx_reference_sort(&g->ix, &v, &n))
		die("reference sort failed");
	free(v);
	return n;
}

static void usage(void)
{
	fputs("usage: jrx-kernels extract|radix|merge|sort1|sort2|reference"
	      " [--keys N] [--runs K]\n", stderr);
	exit(2);
}

int main(int argc, char **argv)
{
	unsigned long long keys = 1000000;
	unsigned runs = 2;
	const char *k;
	struct packed p = { 0 };
	struct jg g;
	size_t in, out;

	if (argc < 2)
		usage();
	k = argv[1];
	for (int i = 2; i < argc; i++) {
		if (i + 1 < argc && !strcmp(argv[i], "--keys"))
			keys = strtoull(argv[++i], NULL, 0);
		else if (i + 1 < argc && !strcmp(argv[i], "--runs"))
			runs = (unsigned)strtoul(argv[++i], NULL, 0);
		else
			usage();
	}
	if (!keys || !runs || runs > SORT_MAX_THREADS)
		usage();
	if (jg_init(&g, JSET_BYTES, 1) || jg_synth(&g, keys, 1) || jg_index(&g))
		die(jrx_diag());

	if (!strcmp(k, "extract")) {
		in = out = extract(&g, &p);
	} else if (!strcmp(k, "radix")) {
		in = extract(&g, &p);
		out = radix(&p);
	} else if (!strcmp(k, "merge")) {
		in = extract(&g, &p);
		out = merge(&g, &p, runs);
	} else if (!strcmp(k, "sort1") || !strcmp(k, "sort2")) {
		in = g.keys;
		out = sort_journal(&g, k[4] - '0');
	} else if (!strcmp(k, "reference")) {
		in = g.keys;
		out = reference(&g);
	} else {
		usage();
	}
	printf("keys_in %zu keys_out %zu\n", in, out);
	free(p.keys);
	jg_free(&g);
	return 0;
}
