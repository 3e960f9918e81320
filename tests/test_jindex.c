/*
 * test_jindex.c - the journal index (journal/jindex.h) on jset lists made
 * by hand, for what the fuzzer of fuzz/fuzz_jindex.c found: a replay range
 * of 2^62 seqs, missing or blacklisted, is counted in one step per run
 * (it used to be walked seq by seq, which never ended), and runs of
 * missing seqs between overlapping blacklist ranges are reported and
 * counted as before.
 */
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "format/jset.h"
#include "journal/jindex.h"

#define MAXJ 8

struct jl {
	struct jrx_sb sb;
	struct jrx_jset_info info[MAXJ];
	struct jrx_jset j[MAXJ];	/* headers only: no entries */
	size_t nr;
	struct jrx_journal_scan s;
	struct jrx_jindex_problem pr[8];
	unsigned npr;
};

static void add(struct jl *l, uint64_t seq, uint64_t last_seq)
{
	struct jrx_jset *j = &l->j[l->nr];
	const char *why;

	*j = (struct jrx_jset){ .version = JRX_FORMAT_VERSION, .magic = 1,
				.seq = seq, .last_seq = last_seq };
	jrx_jset_set_csum(j);
	assert_jrx_ok(jrx_jset_validate(j, JRX_BLOCK_SIZE, 1, &why));
	l->info[l->nr] = (struct jrx_jset_info){
		.seq = seq, .last_seq = last_seq, .state = JRX_JSET_OK,
		.offset = l->nr * JRX_BLOCK_SIZE, .bytes = JRX_BLOCK_SIZE, .j = j,
	};
	l->nr++;
	l->s = (struct jrx_journal_scan){ .v = l->info, .nr = l->nr };
}

static void collect(void *ctx, const struct jrx_jindex_problem *p)
{
	struct jl *l = ctx;

	assert_true(l->npr < 8);
	l->pr[l->npr++] = *p;
}

static struct jl *jl_new(void)
{
	struct jl *l = calloc(1, sizeof(*l));

	assert_non_null(l);
	return l;
}

/* 2^62 - 2 missing seqs: one run, reported once, counted at once. */
static void test_huge_gap_reported(void **state)
{
	struct jl *l = jl_new();
	struct jrx_jindex ix;
	uint64_t top = 1ull << 62;

	(void)state;
	add(l, 1, 1);
	add(l, top, 1);
	assert_jrx_ok(jrx_jindex_build(&ix, &l->sb, &l->s, collect, l));
	assert_int_equal(ix.nr, 2);
	assert_int_equal(ix.missing, top - 2);
	assert_int_equal(l->npr, 1);
	assert_int_equal(l->pr[0].kind, JRX_JIX_SEQ_MISSING);
	assert_int_equal(l->pr[0].seq, 2);
	assert_int_equal(l->pr[0].seq_end, top - 1);
	jrx_jindex_free(&ix);
	/* without a report the first missing seq is the error */
	assert_jrx_err(jrx_jindex_build(&ix, &l->sb, &l->s, NULL, NULL),
		       -JRX_ERR_JOURNAL_SEQ_MISSING);
	free(l);
}

/* The same gap blacklisted by the superblock: fine, counted at once. */
static void test_huge_gap_blacklisted(void **state)
{
	struct jl *l = jl_new();
	struct jrx_jindex ix;
	uint64_t top = 1ull << 62;

	(void)state;
	l->sb.nr_blacklist = 2;
	l->sb.blacklist[0] = (struct jrx_blacklist_entry){ 2, top / 2 };
	l->sb.blacklist[1] = (struct jrx_blacklist_entry){ top / 4, top - 1 };
	add(l, 1, 1);
	add(l, top, 1);
	assert_jrx_ok(jrx_jindex_build(&ix, &l->sb, &l->s, NULL, NULL));
	assert_int_equal(ix.nr, 2);
	assert_int_equal(ix.blacklisted, top - 2);
	assert_int_equal(ix.missing, 0);
	assert_false(ix.v[0].blacklisted);
	assert_false(ix.v[1].blacklisted);
	jrx_jindex_free(&ix);
	/* a blacklist reaching UINT64_MAX covers the newest jset too */
	l->sb.blacklist[1].end = UINT64_MAX;
	assert_jrx_ok(jrx_jindex_build(&ix, &l->sb, &l->s, NULL, NULL));
	assert_int_equal(ix.blacklisted, top - 2 + 1);
	assert_true(ix.v[1].blacklisted);
	jrx_jindex_free(&ix);
	free(l);
}

/*
 * 1 present, 2..5 missing, 6..9 blacklisted by two overlapping ranges,
 * 10 missing, 11 present, 12 blacklisted and present: the runs and
 * counts a seq-by-seq walk gives.
 */
static void test_runs_between_ranges(void **state)
{
	struct jl *l = jl_new();
	struct jrx_jindex ix;

	(void)state;
	l->sb.nr_blacklist = 3;
	l->sb.blacklist[0] = (struct jrx_blacklist_entry){ 7, 9 };
	l->sb.blacklist[1] = (struct jrx_blacklist_entry){ 6, 7 };
	l->sb.blacklist[2] = (struct jrx_blacklist_entry){ 12, 12 };
	add(l, 11, 1);
	add(l, 1, 1);
	add(l, 12, 1);
	assert_jrx_ok(jrx_jindex_build(&ix, &l->sb, &l->s, collect, l));
	assert_int_equal(ix.nr, 3);
	assert_int_equal(ix.max_seq, 12);
	assert_int_equal(ix.missing, 5);
	assert_int_equal(ix.blacklisted, 5);	/* 6..9 and 12 */
	assert_int_equal(l->npr, 2);
	assert_int_equal(l->pr[0].seq, 2);
	assert_int_equal(l->pr[0].seq_end, 5);
	assert_int_equal(l->pr[1].seq, 10);
	assert_int_equal(l->pr[1].seq_end, 10);
	assert_true(ix.v[2].blacklisted);
	jrx_jindex_free(&ix);
	free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_huge_gap_reported),
		cmocka_unit_test(test_huge_gap_blacklisted),
		cmocka_unit_test(test_runs_between_ranges),
	};

	return cmocka_run_group_tests_name("jindex", tests, NULL, NULL);
}
