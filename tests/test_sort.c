/*
 * test_sort.c - the sort stage (sort/sort.h) against the reference sort
 * (jrx_reference_sort()): the same journal keys, field for field, for
 * random journals, every key at one position, one btree, positions so wide
 * the packed key needs 2, 3 and 4 words, runs of accounting deltas,
 * blacklisted jsets, 1 to 8 threads, fewer keys than threads, empty
 * journals, both radix sorts, the first pass done ahead (a prescan, and
 * the cases that fall back to the sort's own), and ranges cut at caller
 * split points
 * (disjoint, covering, starting at a split point, never inside a slot);
 * and jrx_sort_u128, for other stages' records, against qsort.
 * Jsets are built in memory (jset_gen.h) and indexed as recovery does.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "helpers.h"
#include "jset_gen.h"
#include "format/jset.h"
#include "recovery/reference.h"
#include "sort/sort.h"
#include "sort/sort_int.h"

/* Per-thread and per-jset bookkeeping on top of the per-key buffers. */
#define PEAK_SLACK	(256u << 10)

/* ------------------------------------------------------------ journals */

struct shape {
	uint32_t jset_bytes;
	uint64_t keys;
	unsigned btrees;	/* bit mask of btree ids to use */
	unsigned max_level;	/* levels 0 .. max_level (level 0 most often) */
	uint64_t ino_lo, ino_span;	/* span 0: the whole u64 range */
	uint64_t off_lo, off_span;
	uint64_t snap_lo, snap_span;	/* span 0: the whole u32 range */
	unsigned dup_pct;	/* keys reusing an earlier slot */
	unsigned wh_pct;	/* whiteouts */
};

static uint64_t in_range(uint64_t *rng, uint64_t lo, uint64_t span)
{
	return lo + (span ? th_rand_below(rng, span) : th_rand(rng));
}

struct slot {
	uint8_t btree, level;
	struct jrx_bpos p;
};

static void add_key(struct jg *g, uint64_t *rng, const struct slot *s)
{
	uint64_t buf[64];
	struct jrx_bkey *k = th_rand_below(rng, 100) < 3 ||
		(s->btree == JRX_BTREE_EXTENTS && !s->level && !s->p.offset) ?
		jg_whiteout(buf, s->p) :
		jg_key(buf, s->btree, s->level, s->p, jg_seq(g), th_rand(rng));

	assert_jrx_ok(jg_add(g, s->btree, s->level, k));
}

static void random_slot(uint64_t *rng, const struct shape *sh, struct slot *s)
{
	unsigned b;

	do
		b = (unsigned)th_rand_below(rng, JRX_BTREE_NR);
	while (!(sh->btrees & (1u << b)));
	s->btree = (uint8_t)b;
	s->level = (uint8_t)(sh->max_level && th_rand_below(rng, 4) == 0 ?
			     1 + th_rand_below(rng, sh->max_level) : 0);
	s->p = jrx_bpos(in_range(rng, sh->ino_lo, sh->ino_span),
			in_range(rng, sh->off_lo, sh->off_span),
			(uint32_t)in_range(rng, sh->snap_lo,
					   sh->snap_span ? sh->snap_span : 1ull << 32));
}

/* A journal of sh->keys keys: fresh slots, and dup_pct% reused ones. */
static void make_journal(struct jg *g, const struct shape *sh, uint64_t seed)
{
	uint64_t rng = seed;
	struct slot *seen = malloc((sh->keys + 1) * sizeof(*seen));
	size_t nseen = 0;

	assert_non_null(seen);
	assert_jrx_ok(jg_init(g, sh->jset_bytes, 1 + th_rand_below(&rng, 1000)));
	for (uint64_t i = 0; i < sh->keys; i++) {
		struct slot s;

		if (nseen && th_rand_below(&rng, 100) < sh->dup_pct)
			s = seen[th_rand_below(&rng, nseen)];
		else
			random_slot(&rng, sh, &s);
		seen[nseen++] = s;
		add_key(g, &rng, &s);
	}
	free(seen);
}

/* ------------------------------------------------------------ checks */

static const struct shape RANDOM = {
	.jset_bytes = 16384, .keys = 20000, .btrees = 0x3f, .max_level = 3,
	.ino_lo = 4096, .ino_span = 5000, .off_lo = 0, .off_span = 1u << 20,
	.snap_lo = 0xfffffff0u, .snap_span = 16, .dup_pct = 30,
};

static void print_jkey(const char *who, const struct jrx_jindex *ix,
		       const struct jrx_jkey *k)
{
	char text[512];

	print_message("  %s: k %p jset %" PRIu32 " (seq %" PRIu64 ", offset %td)"
		      " btree %u level %u pad %u: %s\n", who, (const void *)k->k,
		      k->jset, k->jset < ix->nr ? ix->v[k->jset].seq : 0,
		      k->jset < ix->nr ? (const char *)k->k -
		      (const char *)ix->v[k->jset].j : -1, k->btree_id, k->level,
		      k->pad, th_key_text(k->k, text, sizeof(text)));
}

static bool same_jkey(const struct jrx_jkey *a, const struct jrx_jkey *b)
{
	return a->k == b->k && a->jset == b->jset && a->btree_id == b->btree_id &&
		a->level == b->level && a->pad == b->pad;
}

static void expect_same(const struct jrx_jindex *ix, const char *what,
			const struct jrx_sort_result *res,
			const struct jrx_jkey *ref, size_t nref)
{
	for (size_t i = 0; i < res->nr && i < nref; i++) {
		if (same_jkey(&res->v[i], &ref[i]))
			continue;
		print_message("%s: key %zu of %zu differs\n", what, i, nref);
		print_jkey("sort     ", ix, &res->v[i]);
		print_jkey("reference", ix, &ref[i]);
		fail();
	}
	if (res->nr != nref) {
		print_message("%s: %zu keys, the reference has %zu\n", what,
			      res->nr, nref);
		if (res->nr > nref)
			print_jkey("first extra", ix, &res->v[nref]);
		else
			print_jkey("first missing", ix, &ref[res->nr]);
		fail();
	}
}

/* Journal order of a key's slot against a split point. */
static int slot_cmp(const struct jrx_jkey *k, const struct jrx_sort_split *s)
{
	if (k->level != s->level)
		return k->level > s->level ? -1 : 1;
	if (k->btree_id != s->btree_id)
		return k->btree_id < s->btree_id ? -1 : 1;
	return jrx_bpos_cmp(k->k->p, s->pos);
}

static bool same_slot(const struct jrx_jkey *a, const struct jrx_jkey *b)
{
	return a->level == b->level && a->btree_id == b->btree_id &&
		jrx_bpos_eq(a->k->p, b->k->p);
}

static size_t first_at_or_after(const struct jrx_sort_result *res,
				const struct jrx_sort_split *s)
{
	size_t lo = 0, hi = res->nr;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (slot_cmp(&res->v[mid], s) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void expect_ranges(const char *what, const struct jrx_sort_result *res,
			  unsigned want, const struct jrx_sort_split *sp,
			  size_t nsp)
{
	assert_int_equal(res->nr_ranges, want);
	assert_int_equal(res->range[0], 0);
	assert_int_equal(res->range[want], res->nr);
	for (unsigned r = 1; r < want; r++) {
		size_t at = res->range[r];
		bool ok = !nsp;

		if (at < res->range[r - 1]) {
			print_message("%s: range %u starts at %zu, before range"
				      " %u (%zu)\n", what, r, at, r - 1,
				      res->range[r - 1]);
			fail();
		}
		if (at && at < res->nr && same_slot(&res->v[at - 1], &res->v[at])) {
			print_message("%s: range %u starts at %zu inside a slot\n",
				      what, r, at);
			fail();
		}
		for (size_t i = 0; i < nsp && !ok; i++)
			ok = first_at_or_after(res, &sp[i]) == at;
		if (!ok) {
			print_message("%s: range %u starts at %zu, which is no"
				      " split point's first key\n", what, r, at);
			fail();
		}
	}
}

/* Keys of the jsets that are not blacklisted. */
static uint64_t live_keys(const struct jg *g)
{
	uint64_t n = 0;

	for (size_t i = 0; i < g->ix.nr; i++) {
		const struct jrx_jset_entry *e;
		const struct jrx_bkey *k;

		if (g->ix.v[i].blacklisted)
			continue;
		jrx_for_each_jset_entry(e, g->ix.v[i].j)
			if (e->type == JRX_JE_BTREE_KEYS)
				jrx_for_each_entry_key(k, e)
					n++;
	}
	return n;
}

struct run {
	unsigned threads, ranges;
	size_t chunk;			/* jrx_sort_opts.chunk_bytes */
	const struct jrx_sort_split *splits;
	size_t nr_splits;
	enum sort_algo algo;
};

static void sort_and_check(const struct jg *g, const char *what,
			   const struct jrx_jkey *ref, size_t nref,
			   const struct run *run, struct jrx_sort_stats *st_out)
{
	struct jrx_sort_opts o = {
		.threads = run->threads, .nr_ranges = run->ranges,
		.splits = run->splits, .nr_splits = run->nr_splits,
		.chunk_bytes = run->chunk,
	};
	struct jrx_sort_result res;
	struct jrx_sort_stats st;
	char name[256];

	snprintf(name, sizeof(name), "%s (threads %u, ranges %u, splits %zu,"
		 " chunks of %zu bytes, %s)", what, run->threads, run->ranges,
		 run->nr_splits, run->chunk, run->algo == SORT_LSD ? "lsd" : "msd");
	assert_jrx_ok(sort_journal_algo(&g->ix, &o, &res, &st, run->algo));
	expect_same(&g->ix, name, &res, ref, nref);
	expect_ranges(name, &res, run->ranges ? run->ranges :
		      run->threads ? run->threads : 1, run->splits,
		      run->nr_splits);
	assert_int_equal(st.keys_in, live_keys(g));
	assert_int_equal(st.keys_out, nref);
	assert_true(st.key_words >= 1 && st.key_words <= 4);
	assert_true(st.key_bits < 64 * st.key_words);
	assert_true(!st.keys_in || st.peak_bytes >= st.keys_in * 16);
	if (st_out)
		*st_out = st;
	jrx_sort_result_free(&res);
}

/* Threads 1 .. 8, both radix sorts, against the reference. */
static void check_journal(const struct jg *g, const char *what,
			  struct jrx_sort_stats *st)
{
	struct jrx_jkey *ref;
	size_t nref;

	assert_jrx_ok(jrx_reference_sort(&g->ix, &ref, &nref));
	for (unsigned t = 1; t <= 8; t++)
		for (int algo = SORT_MSD; algo <= SORT_LSD; algo++) {
			struct run run = { .threads = t, .algo = algo };

			sort_and_check(g, what, ref, nref, &run, st);
		}
	/* runs sorted in chunks, merged in sub-ranges giving pages back
	 * (a big journal's path): the same keys and ranges */
	for (unsigned t = 1; t <= 3; t++)
		for (size_t chunk = 4096; chunk <= 65536; chunk *= 16) {
			struct run run = { .threads = t, .ranges = t + 1,
					   .chunk = chunk };

			sort_and_check(g, what, ref, nref, &run, NULL);
		}
	free(ref);
}

/* ------------------------------------------------------------ tests */

static void test_random(void **state)
{
	(void)state;
	for (uint64_t seed = 1; seed <= 3; seed++) {
		struct jg g;
		struct jrx_sort_stats st;

		make_journal(&g, &RANDOM, seed);
		assert_jrx_ok(jg_index(&g));
		assert_true(g.ix.nr > 10);
		check_journal(&g, "random", &st);
		assert_int_equal(st.key_words, 1);	/* narrow: one word */
		/* runs 8 + scratch, then output, 16 bytes per key */
		assert_true(st.peak_bytes <= st.keys_in * 24 + PEAK_SLACK);
		jg_free(&g);
	}
}

static void test_one_position(void **state)
{
	struct shape sh = RANDOM;
	struct jrx_sort_stats st;
	struct jg g;

	(void)state;
	sh.btrees = 1u << JRX_BTREE_INODES;
	sh.max_level = 0;
	sh.ino_span = sh.off_span = sh.snap_span = 1;
	sh.keys = 5000;
	sh.jset_bytes = 8192;
	make_journal(&g, &sh, 7);
	assert_jrx_ok(jg_index(&g));
	check_journal(&g, "one position", &st);
	assert_int_equal(st.keys_out, 1);
	jg_free(&g);
}

static void test_one_btree(void **state)
{
	struct shape sh = RANDOM;
	struct jg g;

	(void)state;
	sh.btrees = 1u << JRX_BTREE_DIRENTS;
	sh.max_level = 0;
	sh.off_lo = 1;
	sh.off_span = 1ull << 63;		/* name hashes */
	make_journal(&g, &sh, 11);
	assert_jrx_ok(jg_index(&g));
	check_journal(&g, "one btree", NULL);
	jg_free(&g);
}

/* Positions wide enough for 2- and 3-word packed keys. */
static void test_wide(void **state)
{
	struct shape sh = RANDOM;
	struct jrx_sort_stats st;
	struct jg g;

	(void)state;
	sh.ino_lo = 0;
	sh.ino_span = 1ull << 40;
	sh.off_span = 1ull << 40;
	make_journal(&g, &sh, 21);
	assert_jrx_ok(jg_index(&g));
	check_journal(&g, "two words", &st);
	assert_int_equal(st.key_words, 2);
	assert_true(st.peak_bytes <= st.keys_in * 32 + PEAK_SLACK);
	jg_free(&g);

	sh.ino_span = 0;			/* the whole u64 range */
	sh.off_span = 0;
	sh.snap_lo = 0;
	sh.snap_span = 0;
	sh.dup_pct = 20;
	make_journal(&g, &sh, 22);
	/* the extremes too */
	{
		uint64_t rng = 5;
		struct slot lo = { JRX_BTREE_EXTENTS, 0, jrx_bpos(0, 1, 0) };
		struct slot hi = { JRX_BTREE_XATTRS, 0, JRX_POS_MAX };

		add_key(&g, &rng, &lo);
		add_key(&g, &rng, &hi);
		add_key(&g, &rng, &lo);
	}
	assert_jrx_ok(jg_index(&g));
	check_journal(&g, "three words", &st);
	assert_int_equal(st.key_words, 3);
	jg_free(&g);
}

/*
 * 4 words: full-range positions in 48 (level, btree) groups (6 bits),
 * 8192 jsets (13 bits, most of them without keys) and a key deep in a
 * 1 MiB jset (17 bits of word offset): more than 191 bits.
 */
static void test_four_words(void **state)
{
	uint64_t rng = 31;
	struct jrx_sort_stats st;
	struct jg g;

	(void)state;
	assert_jrx_ok(jg_init(&g, 1u << 20, 1));
	for (unsigned i = 0; i < 3000; i++) {
		struct slot s = {
			(uint8_t)th_rand_below(&rng, JRX_BTREE_NR),
			(uint8_t)th_rand_below(&rng, JRX_BTREE_MAX_DEPTH),
			jrx_bpos(th_rand(&rng), th_rand(&rng), (uint32_t)th_rand(&rng)),
		};

		add_key(&g, &rng, &s);
	}
	/* fill the first jset up to its end: deep word offsets */
	while (jg_seq(&g) == 1) {
		struct slot s = { JRX_BTREE_ALLOC, 0,
				  jrx_bpos(th_rand(&rng), th_rand(&rng), 0) };

		add_key(&g, &rng, &s);
	}
	while (jg_seq(&g) < 8192)
		assert_jrx_ok(jg_close(&g));
	for (unsigned i = 0; i < 100; i++) {
		struct slot s = { JRX_BTREE_INODES, 0,
				  jrx_bpos(th_rand(&rng), 0, (uint32_t)th_rand(&rng)) };

		add_key(&g, &rng, &s);
	}
	assert_jrx_ok(jg_index(&g));
	{
		struct jrx_jkey *ref;
		size_t nref;
		struct run runs[] = {
			{ .threads = 1 }, { .threads = 2 }, { .threads = 3, .ranges = 5 },
			{ .threads = 2, .algo = SORT_LSD },
		};

		assert_jrx_ok(jrx_reference_sort(&g.ix, &ref, &nref));
		for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++)
			sort_and_check(&g, "four words", ref, nref, &runs[i], &st);
		assert_int_equal(st.key_words, 4);
		free(ref);
	}
	jg_free(&g);
}

/* Accounting deltas: the same few positions over and over, all kept. */
static void test_accounting_deltas(void **state)
{
	struct shape sh = RANDOM;
	struct jrx_sort_stats st;
	struct jg g;

	(void)state;
	sh.btrees = 1u << JRX_BTREE_ACCOUNTING | 1u << JRX_BTREE_ALLOC;
	sh.max_level = 1;
	sh.ino_lo = 1;
	sh.ino_span = 2;
	sh.off_span = 8;
	sh.snap_lo = 0;
	sh.snap_span = 1;
	sh.dup_pct = 90;
	make_journal(&g, &sh, 41);
	assert_jrx_ok(jg_index(&g));
	check_journal(&g, "accounting deltas", &st);
	assert_true(st.keys_out > st.keys_in / 3);	/* deltas all kept */
	jg_free(&g);
}

static void test_blacklisted(void **state)
{
	struct jg g;
	uint64_t first;

	(void)state;
	make_journal(&g, &RANDOM, 51);
	first = g.first_seq;
	assert_jrx_ok(jg_blacklist(&g, first + 3, first + 9));
	assert_jrx_ok(jg_blacklist(&g, first + 40, first + 40));
	assert_jrx_ok(jg_index(&g));
	assert_int_equal(g.ix.blacklisted, 8);
	assert_true(g.ix.v[3].blacklisted && g.ix.v[40].blacklisted);
	{
		struct jrx_jkey *ref;
		size_t nref;
		struct jrx_sort_opts o = { .threads = 3 };
		struct jrx_sort_result res;
		struct jrx_sort_stats st;

		assert_jrx_ok(jrx_reference_sort(&g.ix, &ref, &nref));
		for (size_t i = 0; i < nref; i++)
			assert_false(g.ix.v[ref[i].jset].blacklisted);
		assert_jrx_ok(jrx_sort_journal(&g.ix, &o, &res, &st));
		expect_same(&g.ix, "blacklisted", &res, ref, nref);
		assert_int_equal(st.keys_in, live_keys(&g));
		assert_true(st.keys_in < g.keys);
		jrx_sort_result_free(&res);
		free(ref);
	}
	jg_free(&g);
}

/*
 * The first pass done ahead (jrx_sort_prescan): counted as the parse
 * counts, the prescan fed every jset and more (another journal's jsets,
 * with positions far wider, which the index does not hold), the sort
 * takes its layout from it: the same keys in the same order, from a
 * wider packed key.  A jset the parse did not count, or a prescanned
 * entry no sort key can hold, makes the sort do its own pass.
 */
static void count_like_parse(struct jg *g)
{
	for (uint64_t i = 0; i < g->jsets; i++) {
		struct jrx_jset_info *in = &g->info[i];
		struct jrx_jset_counts n;
		const char *why;

		assert_jrx_ok(jrx_jset_validate_count(in->j, in->bytes,
						      g->a->jset_magic, &why, &n));
		in->keys = n.keys;
		in->blacklists = n.blacklists;
		in->counted = true;
	}
}

static void sort_prescanned(const struct jg *g, const char *what,
			    const struct jrx_sort_prescan *ps, bool want,
			    unsigned *bits)
{
	struct jrx_jkey *ref;
	size_t nref;

	assert_jrx_ok(jrx_reference_sort(&g->ix, &ref, &nref));
	for (unsigned t = 1; t <= 4; t++) {
		struct jrx_sort_opts o = { .threads = t, .prescan = ps };
		struct jrx_sort_result res;
		struct jrx_sort_stats st;

		assert_jrx_ok(jrx_sort_journal(&g->ix, &o, &res, &st));
		expect_same(&g->ix, what, &res, ref, nref);
		if (st.prescanned != want)
			fail_msg("%s, %u threads: prescanned %d, want %d", what,
				 t, st.prescanned, want);
		assert_int_equal(st.keys_in, live_keys(g));
		assert_int_equal(st.keys_out, nref);
		*bits = st.key_bits;
		jrx_sort_result_free(&res);
	}
	free(ref);
}

static void test_prescan(void **state)
{
	struct shape wide = RANDOM;
	struct jg g, other;
	struct jrx_sort_prescan *ps;
	struct jrx_sort_opts plain = { .threads = 2 };
	struct jrx_sort_result res;
	struct jrx_sort_stats st;
	unsigned bits_plain, bits_pre;
	uint64_t buf[64], jbuf[64] = { 0 };
	struct jrx_jset *bad = (struct jrx_jset *)jbuf;
	struct jrx_jset_entry *e = jrx_jset_entries(bad);
	const struct jrx_bkey *k;
	struct jrx_jset_info binfo = { .state = JRX_JSET_OK, .j = bad };

	(void)state;
	make_journal(&g, &RANDOM, 71);
	assert_jrx_ok(jg_blacklist(&g, g.first_seq + 3, g.first_seq + 5));
	assert_jrx_ok(jg_close(&g));
	count_like_parse(&g);
	assert_jrx_ok(jg_index(&g));
	assert_true(g.ix.blacklisted > 0);
	wide.keys = 500;
	wide.ino_lo = 0;
	wide.ino_span = 0;		/* the whole u64 range */
	make_journal(&other, &wide, 72);
	assert_jrx_ok(jg_close(&other));

	assert_jrx_ok(jrx_sort_journal(&g.ix, &plain, &res, &st));
	assert_false(st.prescanned);	/* none given */
	bits_plain = st.key_bits;
	jrx_sort_result_free(&res);

	assert_jrx_ok(jrx_sort_prescan_new(&ps, 3));
	for (uint64_t i = 0; i < g.jsets; i += 7)
		jrx_sort_prescan_add(ps, g.info + i,
				     g.jsets - i < 7 ? g.jsets - i : 7);
	jrx_sort_prescan_add(ps, other.info, other.jsets);
	sort_prescanned(&g, "prescanned, with another journal's jsets", ps,
			true, &bits_pre);
	if (bits_pre <= bits_plain)
		fail_msg("the other journal's inodes did not widen the packed"
			 " key: %u bits prescanned, %u without", bits_pre,
			 bits_plain);

	/* a jset the parse did not count: the sort's own pass */
	g.ix.v[g.ix.nr / 2].counted = false;
	sort_prescanned(&g, "one jset not counted", ps, false, &bits_pre);
	assert_int_equal(bits_pre, bits_plain);
	g.ix.v[g.ix.nr / 2].counted = true;

	/* an entry for btree 9, which no sort key can hold */
	k = jg_key(buf, JRX_BTREE_EXTENTS, 0, jrx_bpos(5, 8, 1), 1, 2);
	e->type = JRX_JE_BTREE_KEYS;
	e->btree_id = 9;
	e->u64s = k->u64s;
	memcpy(e + 1, k, k->u64s * 8u);
	bad->u64s = 1 + k->u64s;
	jrx_sort_prescan_add(ps, &binfo, 1);
	sort_prescanned(&g, "a prescanned entry for btree 9", ps, false,
			&bits_pre);
	assert_int_equal(bits_pre, bits_plain);

	jrx_sort_prescan_free(ps);
	jg_free(&other);
	jg_free(&g);
}

/* Fewer keys than threads, one key, jsets without keys, no jsets. */
static void test_tiny(void **state)
{
	static const unsigned counts[] = { 0, 1, 2, 3, 7 };

	(void)state;
	for (size_t c = 0; c < sizeof(counts) / sizeof(counts[0]); c++) {
		struct shape sh = RANDOM;
		struct jg g;

		sh.keys = counts[c];
		make_journal(&g, &sh, 61 + c);
		assert_jrx_ok(jg_close(&g));		/* a jset with no key */
		assert_jrx_ok(jg_close(&g));
		assert_jrx_ok(jg_index(&g));
		check_journal(&g, "tiny", NULL);
		jg_free(&g);
	}
	/* more threads than jsets, and more than the cap */
	{
		struct shape sh = RANDOM;
		struct jrx_jkey *ref;
		size_t nref;
		struct jg g;
		struct run runs[] = { { .threads = 64 }, { .threads = 1000 },
				      { .threads = 1000, .ranges = 5 } };

		sh.keys = 300;
		make_journal(&g, &sh, 69);
		assert_jrx_ok(jg_index(&g));
		assert_true(g.ix.nr < 64);
		assert_jrx_ok(jrx_reference_sort(&g.ix, &ref, &nref));
		for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
			struct jrx_sort_opts o = { .threads = runs[i].threads,
						   .nr_ranges = runs[i].ranges };
			struct jrx_sort_result res;

			assert_jrx_ok(jrx_sort_journal(&g.ix, &o, &res, NULL));
			expect_same(&g.ix, "many threads", &res, ref, nref);
			expect_ranges("many threads", &res, runs[i].ranges ?
				      runs[i].ranges : runs[i].threads > 256 ?
				      256 : runs[i].threads, NULL, 0);
			jrx_sort_result_free(&res);
		}
		free(ref);
		jg_free(&g);
	}
	{
		struct jg g;
		struct jrx_sort_opts o = { .threads = 4, .nr_ranges = 3 };
		struct jrx_sort_result res;

		assert_jrx_ok(jg_init(&g, 8192, 1));
		assert_jrx_ok(jg_index(&g));
		assert_int_equal(g.ix.nr, 0);
		assert_jrx_ok(jrx_sort_journal(&g.ix, &o, &res, NULL));
		assert_int_equal(res.nr, 0);
		assert_int_equal(res.nr_ranges, 3);
		for (unsigned r = 0; r <= 3; r++)
			assert_int_equal(res.range[r], 0);
		jrx_sort_result_free(&res);
		jg_free(&g);
	}
}

static int cmp_split(const void *x, const void *y)
{
	return sort_split_cmp(x, y);
}

/* Split points from the keys' own slots, random ones and out-of-range ones. */
static size_t make_splits(uint64_t *rng, const struct jrx_jkey *ref, size_t nref,
			  struct jrx_sort_split *sp, size_t max)
{
	size_t n = 0;

	while (n < max) {
		struct jrx_sort_split *s = &sp[n++];
		uint64_t pick = th_rand_below(rng, 4);

		if (pick <= 1 && nref) {
			const struct jrx_jkey *k = &ref[th_rand_below(rng, nref)];

			*s = (struct jrx_sort_split){ k->level, k->btree_id, k->k->p };
			if (pick == 1)	/* just after, or inside a slot's gap */
				s->pos = jrx_bpos_successor(s->pos);
		} else if (pick == 2) {
			*s = (struct jrx_sort_split){
				(uint8_t)th_rand_below(rng, 4),
				(uint8_t)th_rand_below(rng, 8),
				jrx_bpos(4096 + th_rand_below(rng, 6000),
					 th_rand_below(rng, 1u << 21),
					 (uint32_t)th_rand(rng)) };
		} else {
			*s = (struct jrx_sort_split){
				(uint8_t)th_rand_below(rng, 8),
				(uint8_t)th_rand_below(rng, 8),
				th_rand_below(rng, 2) ? JRX_POS_MAX : JRX_POS_MIN };
		}
	}
	qsort(sp, n, sizeof(*sp), cmp_split);
	return n;
}

static void test_splits(void **state)
{
	uint64_t rng = 71;
	struct jrx_sort_split sp[400];
	struct jrx_jkey *ref;
	size_t nref;
	struct jg g;

	(void)state;
	make_journal(&g, &RANDOM, 72);
	assert_jrx_ok(jg_index(&g));
	assert_jrx_ok(jrx_reference_sort(&g.ix, &ref, &nref));
	for (unsigned round = 0; round < 24; round++) {
		static const size_t nsp[] = { 1, 2, 5, 40, 400 };
		struct run run = {
			.threads = 1 + round % 4,
			.ranges = 1 + (unsigned)th_rand_below(&rng, 16),
			.splits = sp,
			.nr_splits = make_splits(&rng, ref, nref, sp,
						 nsp[round % 5]),
			.algo = round % 3 == 2 ? SORT_LSD : SORT_MSD,
			/* every other round in chunks: the ranges still
			 * start at split points */
			.chunk = round % 2 ? 8192 : 0,
		};

		sort_and_check(&g, "splits", ref, nref, &run, NULL);
	}
	/* sampled ranges, no splits: balanced, disjoint, slot-aligned */
	for (unsigned ranges = 1; ranges <= 33; ranges += 8) {
		struct run run = { .threads = 3, .ranges = ranges };

		sort_and_check(&g, "ranges", ref, nref, &run, NULL);
	}
	/* out of order: refused */
	{
		struct jrx_sort_split bad[2] = {
			{ 0, 1, jrx_bpos(5, 0, 0) }, { 0, 1, jrx_bpos(4, 0, 0) },
		};
		struct jrx_sort_opts o = { .threads = 2, .splits = bad, .nr_splits = 2 };
		struct jrx_sort_result res;

		assert_jrx_err(jrx_sort_journal(&g.ix, &o, &res, NULL), -EINVAL);
		assert_contains(jrx_diag(), "journal order");
		assert_null(res.v);
	}
	free(ref);
	jg_free(&g);
}

/* Splits on a wide (3-word) journal and one with splits inside gaps. */
static void test_splits_wide(void **state)
{
	uint64_t rng = 81;
	struct shape sh = RANDOM;
	struct jrx_sort_split sp[64];
	struct jrx_jkey *ref;
	size_t nref;
	struct jg g;

	(void)state;
	sh.ino_span = sh.off_span = sh.snap_span = 0;
	sh.ino_lo = sh.snap_lo = 0;
	sh.keys = 8000;
	make_journal(&g, &sh, 82);
	assert_jrx_ok(jg_index(&g));
	assert_jrx_ok(jrx_reference_sort(&g.ix, &ref, &nref));
	for (unsigned round = 0; round < 8; round++) {
		struct run run = {
			.threads = 2 + round % 3, .ranges = 2 + round,
			.splits = sp,
			.nr_splits = make_splits(&rng, ref, nref, sp, 64),
		};

		sort_and_check(&g, "wide splits", ref, nref, &run, NULL);
	}
	free(ref);
	jg_free(&g);
}

/* The synth-like stream the benchmarks use, small. */
static void test_synth_stream(void **state)
{
	struct jrx_sort_stats st;
	struct jg g;

	(void)state;
	assert_jrx_ok(jg_init(&g, 256u << 10, 100));
	assert_jrx_ok(jg_synth(&g, 100000, 3));
	assert_jrx_ok(jg_index(&g));
	assert_true(g.ix.nr > 20);
	check_journal(&g, "synth", &st);
	assert_true(st.keys_out < st.keys_in);
	jg_free(&g);
}

static int cmp_u128(const void *x, const void *y)
{
	const uint64_t *a = x, *b = y;

	if (a[1] != b[1])
		return a[1] < b[1] ? -1 : 1;
	return a[0] < b[0] ? -1 : a[0] > b[0];
}

/*
 * jrx_sort_u128 (other stages' two-word records: fsck's dirent targets)
 * against qsort: high words from a few values to all 64 bits, low words
 * random, sizes from 0 to past the sort's first digit.
 */
static void test_u128(void **state)
{
	const size_t sizes[] = { 0, 1, 2, 17, 1000, 100000 };
	const unsigned hi_bits[] = { 2, 23, 64 };
	uint64_t seed = 7;

	(void)state;
	for (size_t z = 0; z < sizeof(sizes) / sizeof(sizes[0]); z++)
		for (size_t h = 0; h < 3; h++) {
			size_t n = sizes[z];
			uint64_t *k = malloc((n + 1) * 2 * sizeof(*k));
			uint64_t *t = malloc((n + 1) * 2 * sizeof(*t));
			uint64_t *want = malloc((n + 1) * 2 * sizeof(*want));

			assert_non_null(k);
			assert_non_null(t);
			assert_non_null(want);
			for (size_t i = 0; i < n; i++) {
				uint64_t hi = th_rand(&seed);

				k[2 * i] = th_rand(&seed);
				k[2 * i + 1] = hi_bits[h] < 64 ?
					hi & ((1ull << hi_bits[h]) - 1) : hi;
			}
			memcpy(want, k, n * 2 * sizeof(*k));
			qsort(want, n, 2 * sizeof(*want), cmp_u128);
			jrx_sort_u128(k, t, n);
			if (n)
				assert_memory_equal(k, want, n * 2 * sizeof(*k));
			free(k);
			free(t);
			free(want);
		}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_u128),
		cmocka_unit_test(test_random),
		cmocka_unit_test(test_one_position),
		cmocka_unit_test(test_one_btree),
		cmocka_unit_test(test_wide),
		cmocka_unit_test(test_four_words),
		cmocka_unit_test(test_accounting_deltas),
		cmocka_unit_test(test_blacklisted),
		cmocka_unit_test(test_prescan),
		cmocka_unit_test(test_tiny),
		cmocka_unit_test(test_splits),
		cmocka_unit_test(test_splits_wide),
		cmocka_unit_test(test_synth_stream),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
