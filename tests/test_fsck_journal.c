/*
 * test_fsck_journal.c - fsck's repair of JOURNAL_SEQ_MISSING
 * (JRX_FIX_JOURNAL, fsck/run.c): an unclean 2-device array loses every
 * copy of one jset in the middle of its replay range, so recovery refuses
 * it; then
 *   fsck -n reports the missing seq, exit 12, nothing written;
 *   fsck -p refuses (not PREEN_OK), exit 12, nothing written;
 *   fsck -y recovers past the gap: exit 1, its line names the seq; fsck -n
 *   then finds nothing and a second fsck -y writes nothing;
 * and the array is then exactly what the reference recovery makes of the
 * damaged array with allow_missing (every btree, alloc and accounting
 * included), which lost the seq's transactions and nothing else, followed
 * by the same fsck -y (what the later transactions built on the lost ones,
 * a file's name or inode, is what the namespace repair then repairs;
 * inode times, the repair's clock, aside).  Also: a repair killed at
 * spread-out writes is finished by the next fsck -y, ending in the same
 * state.  TEST_FSCK_SHOW=1 prints every report.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "helpers.h"
#include "keydump.h"
#include "fsck/fsck.h"
#include "recovery/recover.h"
#include "io/copy.h"
#include "workload/load.h"

struct env {
	struct th_dir dir;		/* first: th_array_teardown */
	char p[2][256], r[2][272];
	const char *paths[2], *ref[2];
	uint64_t victim;
};

static int setup(void **state)
{
	static struct env e;
	struct jrx_load_opts o;
	struct jrx_load_result lr;
	struct jrx_array a;

	th_dir_make(&e.dir);
	for (int i = 0; i < 2; i++) {
		char name[8];

		snprintf(name, sizeof(name), "d%d", i);
		th_path(e.p[i], &e.dir, name);
		snprintf(e.r[i], sizeof(e.r[i]), "%s.ref", e.p[i]);
		e.paths[i] = e.p[i];
		e.ref[i] = e.r[i];
	}
	assert_jrx_ok(th_format(e.paths, 2, &th_small_geom));
	jrx_load_opts_default(&o);
	o.ops = 3000;
	o.seed = 44;
	o.crash_after_ops = 2500;
	o.flush_every = 4;
	assert_jrx_ok(jrx_array_open(&a, e.paths, 2, 0));
	assert_jrx_ok(jrx_load(&a, &o, &lr));
	jrx_array_close(&a);
	assert_true(lr.crashed);
	e.victim = th_lose_jset(e.paths);
	*state = &e;
	return 0;
}

/* fsck of the damaged array in mode, which refuses: exit 12 with the
 * missing seq counted, nothing written. */
static void expect_refused(struct env *e, bool read_only,
			   enum jrx_repair_mode mode)
{
	struct th_file_state before[2];
	struct jrx_fsck_result res;
	struct jrx_fsck_opts o;

	th_files_state(e->paths, 2, before);
	jrx_fsck_opts_default(&o);
	o.read_only = read_only;
	o.repair = mode;
	o.preen = mode == JRX_REPAIR_PREEN;
	o.out = getenv("TEST_FSCK_SHOW") ? stderr : NULL;
	assert_true(jrx_fsck_run(e->paths, 2, &o, &res) < 0);
	if (res.exit_code != (4 | 8) ||
	    res.counts.code[JRX_PR_JOURNAL_SEQ_MISSING] != 1 || res.repaired)
		fail_msg("fsck %s: exit %d, %llu JOURNAL_SEQ_MISSING, repaired"
			 " %#x; want exit 12, 1, nothing", read_only ? "-n" : "-p",
			 res.exit_code, (unsigned long long)
			 res.counts.code[JRX_PR_JOURNAL_SEQ_MISSING], res.repaired);
	th_expect_unwritten(e->paths, 2, before, "a refused fsck");
}

/* The reference recovery with allow_missing of the damaged array (a copy
 * of the files with suffix from), then fsck -y's other repairs, as text
 * without inode times. */
static char *reference_past_gap(struct env *e, const char *from)
{
	struct jrx_recover_opts o = { .reference = true, .allow_missing = true };
	struct jrx_fsck_result res;
	struct jrx_report r;
	char *text;

	for (int i = 0; i < 2; i++) {
		char src[300];

		snprintf(src, sizeof(src), "%s%s", e->p[i], from);
		assert_jrx_ok(jrx_copy_sparse(src, e->r[i], NULL));
	}
	assert_jrx_ok(th_recover(e->ref, &o, &r));
	assert_int_equal(r.seqs_missing, 1);
	th_fsck(e->ref, false, JRX_REPAIR_ALL, &res, NULL);
	assert_int_equal(th_fsck(e->ref, true, JRX_REPAIR_NONE, &res, NULL), 0);
	text = dump_text(e->ref);
	text_no_times(text, false);
	return text;
}

static void test_gap_repaired(void **state)
{
	struct env *e = *state;
	char said[128], *want, *got;

	if (!e->victim)
		skip();		/* no jset that ends its bucket everywhere */
	th_copy_files(e->paths, 2, "", ".dmg");
	expect_refused(e, true, JRX_REPAIR_NONE);
	expect_refused(e, false, JRX_REPAIR_PREEN);
	snprintf(said, sizeof(said), "repaired: journal: recovered past 1"
		 " missing seqs (%llu)", (unsigned long long)e->victim);
	th_expect_repaired(e->paths, JRX_REPAIR_ALL, JRX_FIX_JOURNAL, said);
	want = reference_past_gap(e, ".dmg");
	got = dump_text(e->paths);
	text_no_times(got, false);
	expect_same_text(want, got, "fsck -y against the reference past the gap");
	free(want);
	free(got);
}

/* With --json, the one object's "repairs" has the journal's line and
 * those of the rounds after it. */
static void test_gap_repair_json(void **state)
{
	struct env *e = *state;
	struct jrx_fsck_result res;
	char *text = NULL;

	if (!e->victim)
		skip();
	assert_int_equal(th_fsck_json(e->paths, JRX_REPAIR_ALL, &res, &text), 1);
	assert_true(res.repaired & (1u << JRX_FIX_JOURNAL));
	assert_contains(text, "\"repairs\": [");
	assert_contains(text, "repaired: journal: recovered past 1 missing seqs");
	assert_contains(text, "repaired: alloc and accounting btrees rebuilt");
	/* one object: the first check's was dropped */
	th_expect_one_json(text);
	free(text);
}

/*
 * fsck -y killed after write n (injected), for n spread over all its
 * writes: the next fsck -y finishes the recovery (exit 1) or finds it
 * done and checks it (exit 0, the kill came after the commit); then -n
 * finds nothing and the array is the uninterrupted repair's (accounting
 * versions aside: a namespace repair killed and run again journals at
 * later seqs).
 */
static void test_gap_repair_crash(void **state)
{
	struct env *e = *state;
	struct jrx_fsck_result res;
	uint64_t total, w0;
	char what[96], *want;

	if (!e->victim)
		skip();
	th_copy_files(e->paths, 2, "", ".dmg");
	w0 = jrx_dev_writes();
	assert_int_equal(th_fsck(e->paths, false, JRX_REPAIR_ALL, &res, NULL), 1);
	total = jrx_dev_writes() - w0;
	assert_true(total > 4);
	want = dump_text(e->paths);
	text_no_times(want, true);
	for (uint64_t n = 1; n < total; n += 1 + total / 8) {
		char *got;
		int code;

		th_copy_files(e->paths, 2, ".dmg", "");
		th_fsck_killed(e->paths, n);
		snprintf(what, sizeof(what), "fsck -y killed after write %llu of"
			 " %llu", (unsigned long long)n, (unsigned long long)total);
		code = th_fsck(e->paths, false, JRX_REPAIR_ALL, &res, NULL);
		if (code != 0 && code != 1)
			fail_msg("%s: the next fsck -y: exit %d", what, code);
		assert_int_equal(th_fsck(e->paths, true, JRX_REPAIR_NONE, &res,
					 NULL), 0);
		got = dump_text(e->paths);
		text_no_times(got, true);
		expect_same_text(want, got, what);
		free(got);
	}
	free(want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, th_array_teardown)
		T(test_gap_repaired),
		T(test_gap_repair_json),
		T(test_gap_repair_crash),
#undef T
	};

	return th_exit_code(cmocka_run_group_tests(tests, NULL, NULL));
}
