/*
 * test_load_crash.c - `jrx load` through the write path, crashed and not:
 * a crash leaves an unclean array whose newest jsets hold keys that exist
 * only in the journal (not in the on-disk btrees), a torn jset ends its
 * bucket's scan and is not durable, the oracle holds exactly the durable
 * operations, and a clean run leaves nothing for recovery to do.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include "helpers.h"
#include "btree/fs.h"
#include "journal/jread.h"
#include "workload/inspect.h"
#include "workload/load.h"

struct env {
	struct th_dir dir;
	char p0[256], p1[256], oracle[256];
	const char *paths[2];
};

static int setup(void **state)
{
	static struct env e;
	struct th_geom g = {
		.size = 256ull << 20, .bucket_size = 128u << 10,
		.node_size = 16u << 10, .replicas = 2, .journal_size = 1u << 20,
	};

	th_dir_make(&e.dir);
	th_path(e.p0, &e.dir, "d0");
	th_path(e.p1, &e.dir, "d1");
	th_path(e.oracle, &e.dir, "oracle.sqlite");
	e.paths[0] = e.p0;
	e.paths[1] = e.p1;
	assert_jrx_ok(th_format(e.paths, 2, &g));
	*state = &e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;

	th_dir_remove(&e->dir);
	return 0;
}

static uint64_t oracle_count(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	uint64_t v = UINT64_MAX;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = (uint64_t)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static void run_load(struct env *e, const struct jrx_load_opts *o,
		     struct jrx_load_result *r)
{
	struct jrx_array a;

	assert_jrx_ok(jrx_array_open(&a, e->paths, 2, 0));
	assert_jrx_ok(jrx_load(&a, o, r));
	jrx_array_close(&a);
}

static void test_crash_torn(void **state)
{
	struct env *e = *state;
	struct jrx_load_opts o;
	struct jrx_load_result r;
	struct jrx_journal_summary s;
	struct jrx_journal_scan scan;
	struct jrx_array a;
	uint64_t bad_seq = 0, bad = 0;
	char sql[128];

	jrx_load_opts_default(&o);
	o.ops = 4000;
	o.seed = 7;
	o.crash_after_ops = 3000;
	o.torn = true;
	o.oracle = e->oracle;
	run_load(e, &o, &r);
	assert_true(r.crashed);
	assert_true(r.torn);
	assert_int_equal(r.ops_done, 3000);
	/* the torn jset's operations are not durable, the rest are */
	assert_true(r.ops_durable < r.ops_done);
	assert_true(r.ops_done - r.ops_durable <= o.flush_every);

	assert_jrx_ok(jrx_array_open(&a, e->paths, 2, JRX_OPEN_RDONLY));
	assert_int_equal(a.sb.flags & JRX_SB_CLEAN, 0);

	assert_jrx_ok(jrx_journal_read_seq(&a, &scan, 0));
	for (size_t i = 0; i < scan.nr; i++)
		if (scan.v[i].state != JRX_JSET_OK) {
			bad++;
			bad_seq = scan.v[i].seq;
			assert_int_equal(scan.v[i].state, JRX_JSET_BAD_CSUM);
		}
	jrx_journal_scan_free(&scan);
	assert_int_equal(bad, 1);
	assert_int_equal(bad_seq, r.last_durable_seq + 1);

	assert_jrx_ok(jrx_journal_summarize(&a, &s));
	assert_int_equal(s.max_seq, r.last_durable_seq);
	assert_true(s.last_seq <= s.max_seq);
	assert_true(s.live_keys > 0);
	if (!s.journal_only)
		fail_msg("no key exists only in the journal (%llu live keys)",
			 (unsigned long long)s.live_keys);
	jrx_array_close(&a);

	/* the oracle holds exactly the durable ops, none past max_seq */
	assert_int_equal(oracle_count(e->oracle, "SELECT count(*) FROM ops"),
			 r.ops_durable);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM ops WHERE seq > %llu",
		 (unsigned long long)s.max_seq);
	assert_int_equal(oracle_count(e->oracle, sql), 0);
	assert_int_equal(oracle_count(e->oracle, "SELECT max(id) FROM ops"),
			 r.ops_durable);

	/* an unclean array refuses a writer */
	assert_jrx_ok(jrx_array_open(&a, e->paths, 2, 0));
	assert_jrx_err(jrx_load(&a, &o, &r), -JRX_ERR_NEEDS_RECOVERY);
	jrx_array_close(&a);
}

static void test_crash_after_jsets(void **state)
{
	struct env *e = *state;
	struct jrx_load_opts o;
	struct jrx_load_result r;
	struct jrx_journal_scan scan;
	struct jrx_array a;
	uint64_t seen[16] = { 0 };

	jrx_load_opts_default(&o);
	o.ops = 100000;
	o.seed = 3;
	o.crash_after_jsets = 12;
	run_load(e, &o, &r);
	assert_true(r.crashed);
	assert_int_equal(r.jsets, 12);

	assert_jrx_ok(jrx_array_open(&a, e->paths, 2, JRX_OPEN_RDONLY));
	assert_jrx_ok(jrx_journal_read_seq(&a, &scan, 0));
	for (size_t i = 0; i < scan.nr; i++) {
		assert_int_equal(scan.v[i].state, JRX_JSET_OK);
		assert_in_range(scan.v[i].seq, 1, 12);
		/* replicas: seq s goes to devices s % 2 and (s + 1) % 2 */
		seen[scan.v[i].seq]++;
	}
	for (unsigned s = 1; s <= 12; s++)
		if (seen[s] != 2)
			fail_msg("seq %u found %llu times, want 2 (one per replica)",
				 s, (unsigned long long)seen[s]);
	jrx_journal_scan_free(&scan);
	jrx_array_close(&a);
}

static int count_cb(void *ctx, unsigned id, const struct jrx_bkey *k)
{
	(void)id;
	(void)k;
	(*(uint64_t *)ctx)++;
	return 0;
}

static void test_clean_run(void **state)
{
	struct env *e = *state;
	struct jrx_load_opts o;
	struct jrx_load_result r;
	struct jrx_journal_summary s;
	struct jrx_array a;
	struct jrx_fs fs;
	uint64_t inodes = 0, files;

	jrx_load_opts_default(&o);
	o.ops = 6000;
	o.seed = 11;
	o.oracle = e->oracle;
	run_load(e, &o, &r);
	assert_false(r.crashed);
	assert_int_equal(r.ops_durable, 6000);
	/* small nodes and a small journal: splits and a wrapping ring */
	assert_true(r.splits > 0);
	assert_true(r.reclaims > 0);

	assert_jrx_ok(jrx_array_open(&a, e->paths, 2, JRX_OPEN_RDONLY));
	assert_int_equal(a.sb.flags & JRX_SB_CLEAN, JRX_SB_CLEAN);
	assert_jrx_ok(jrx_journal_summarize(&a, &s));
	assert_int_equal(s.journal_only, 0);
	assert_int_equal(s.max_seq, 0);	/* nothing newer than the clean sb */

	/* every durable file and directory has its inode on disk */
	assert_jrx_ok(jrx_fs_open(&fs, &a, JRX_FS_RDONLY));
	assert_jrx_ok(jrx_btree_walk(&fs, JRX_BTREE_INODES, count_cb, &inodes));
	jrx_fs_abandon(&fs);
	jrx_array_close(&a);
	files = oracle_count(e->oracle, "SELECT count(*) FROM files");
	assert_int_equal(inodes, files + 1);	/* + the root directory */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_crash_torn, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crash_after_jsets, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_clean_run, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
