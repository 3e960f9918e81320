/*
 * test_verify.c - `jrx verify` (src/workload/verify.c): a clean load
 * matches its oracle; every kind of tampering with the store (a dirent
 * deleted, an extent's data_tag changed, an xattr value changed) or with
 * the oracle (a file's size, an xattr row) is reported as exactly that
 * difference, field and inum; a crashed and torn load matches its oracle
 * through the recovered view, but not without replay; printing stops at
 * max_diffs; a missing or foreign oracle is an error; nothing is written.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "helpers.h"
#include "btree/fs.h"
#include "format/checksum.h"
#include "recovery/recover.h"
#include "workload/load.h"
#include "workload/verify.h"

#define SNAP JRX_SNAPSHOT_DEFAULT

struct env {
	struct th_dir dir;
	char p0[256], p1[256], oracle[256];
	char c0[256], c1[256], coracle[256];
	const char *paths[2], *cpaths[2];
};

static const struct th_geom geom = {
	.size = 256ull << 20, .bucket_size = 128u << 10,
	.node_size = 16u << 10, .replicas = 2, .journal_size = 1u << 20,
};

static void run_load(const char *const *paths, const struct jrx_load_opts *o,
		     struct jrx_load_result *r)
{
	struct jrx_array a;

	assert_jrx_ok(jrx_array_open(&a, paths, 2, 0));
	assert_jrx_ok(jrx_load(&a, o, r));
	jrx_array_close(&a);
}

static int setup(void **state)
{
	static struct env e;
	struct jrx_load_opts o;
	struct jrx_load_result r;

	th_dir_make(&e.dir);
	th_path(e.p0, &e.dir, "d0");
	th_path(e.p1, &e.dir, "d1");
	th_path(e.oracle, &e.dir, "oracle.sqlite");
	th_path(e.c0, &e.dir, "c0");
	th_path(e.c1, &e.dir, "c1");
	th_path(e.coracle, &e.dir, "crash.sqlite");
	e.paths[0] = e.p0;
	e.paths[1] = e.p1;
	e.cpaths[0] = e.c0;
	e.cpaths[1] = e.c1;
	assert_jrx_ok(th_format(e.paths, 2, &geom));
	jrx_load_opts_default(&o);
	o.ops = 4000;
	o.seed = 11;
	o.oracle = e.oracle;
	run_load(e.paths, &o, &r);
	assert_false(r.crashed);
	assert_int_equal(r.ops_durable, 4000);
	*state = &e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;

	th_dir_remove(&e->dir);
	return 0;
}

/* Verify the recovered view of an array; returns jrx_verify's result. */
static int verify(const char *const *paths, const char *oracle, FILE *out,
		  unsigned max, struct jrx_verify_result *res)
{
	struct jrx_verify_opts vo = { .out = out, .max_diffs = max };
	struct jrx_array a;
	struct jrx_fs fs;
	int ret;

	assert_jrx_ok(jrx_array_open(&a, paths, 2, JRX_OPEN_RDONLY));
	assert_jrx_ok(jrx_open_view(&a, &fs, NULL));
	ret = jrx_verify(&fs, oracle, &vo, res);
	jrx_fs_abandon(&fs);
	jrx_array_close(&a);
	return ret;
}

static void print_kept(const struct jrx_verify_result *r)
{
	char line[512];

	for (unsigned i = 0; i < r->nr_kept; i++) {
		jrx_verify_diff_text(line, sizeof(line), &r->kept[i]);
		print_message("  %s\n", line);
	}
}

static void assert_match(const char *const *paths, const char *oracle)
{
	struct jrx_verify_result r;
	int ret = verify(paths, oracle, NULL, 0, &r);

	if (ret || r.diffs) {
		print_kept(&r);
		fail_msg("verify: %d, %llu differences", ret,
			 (unsigned long long)r.diffs);
	}
}

/* Exactly one difference, of this field and inum. */
static const struct jrx_verify_diff *
assert_one_diff(const struct env *e, const char *field, uint64_t inum,
		struct jrx_verify_result *r)
{
	int ret = verify(e->paths, e->oracle, NULL, 0, r);

	if (ret != JRX_VERIFY_DIFFERS || r->diffs != 1 ||
	    strcmp(r->kept[0].field, field) || r->kept[0].inum != inum) {
		print_kept(r);
		fail_msg("want one '%s' difference for inum %llu, got ret %d and"
			 " %llu differences", field, (unsigned long long)inum,
			 ret, (unsigned long long)r->diffs);
	}
	return &r->kept[0];
}

static void sql(const char *path, const char *stmt)
{
	sqlite3 *db;
	char *err = NULL;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	if (sqlite3_exec(db, stmt, NULL, NULL, &err) != SQLITE_OK)
		fail_msg("%s: %s", stmt, err);
	sqlite3_close(db);
}

/* First row of a query: an integer column and (optionally) a text one. */
static void sql_row(const char *path, const char *q, uint64_t *v0,
		    uint64_t *v1, char *text, size_t len)
{
	sqlite3 *db;
	sqlite3_stmt *st;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, q, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	*v0 = (uint64_t)sqlite3_column_int64(st, 0);
	if (v1)
		*v1 = (uint64_t)sqlite3_column_int64(st, 1);
	if (text)
		snprintf(text, len, "%s", sqlite3_column_text(st, 2));
	sqlite3_finalize(st);
	sqlite3_close(db);
}

/* Put one key through the write path and shut down cleanly. */
static void store_put(const struct env *e, unsigned btree,
		      const struct jrx_bkey *k)
{
	struct jrx_array a;
	struct jrx_fs fs;

	assert_jrx_ok(jrx_array_open(&a, e->paths, 2, 0));
	assert_jrx_ok(jrx_fs_open(&fs, &a, 0));
	assert_jrx_ok(jrx_fs_update(&fs, btree, k));
	assert_jrx_ok(jrx_fs_commit(&fs));
	assert_jrx_ok(jrx_fs_shutdown(&fs));
	jrx_array_close(&a);
}

/* Copy of the key at or after pos (buf: TH_KEY_WORDS words). */
static struct jrx_bkey *store_peek(const struct env *e, unsigned btree,
				   struct jrx_bpos pos, uint64_t *buf)
{
	const struct jrx_bkey *k;
	struct jrx_array a;
	struct jrx_fs fs;

	assert_jrx_ok(jrx_array_open(&a, e->paths, 2, JRX_OPEN_RDONLY));
	assert_jrx_ok(jrx_fs_open(&fs, &a, JRX_FS_RDONLY));
	assert_jrx_ok(jrx_btree_peek(&fs, btree, pos, &k));
	assert_non_null(k);
	memcpy(buf, k, jrx_bkey_bytes(k));
	jrx_fs_abandon(&fs);
	jrx_array_close(&a);
	return (struct jrx_bkey *)buf;
}

static void test_clean_match(void **state)
{
	struct env *e = *state;
	struct jrx_verify_result r;
	struct th_file_state s0, s1, so;
	uint64_t ops, files, xattrs;

	th_file_state(e->p0, &s0);
	th_file_state(e->p1, &s1);
	th_file_state(e->oracle, &so);
	assert_int_equal(verify(e->paths, e->oracle, NULL, 0, &r), 0);
	assert_int_equal(r.diffs, 0);
	sql_row(e->oracle, "SELECT count(*), (SELECT count(*) FROM xattrs)"
		" FROM files", &files, &xattrs, NULL, 0);
	sql_row(e->oracle, "SELECT count(*) FROM ops WHERE kind IN"
		" ('write', 'truncate', 'unlink')", &ops, NULL, NULL, 0);
	assert_int_equal(r.files, files);
	assert_int_equal(r.inodes, files + 1);	/* + the root */
	assert_int_equal(r.dirents, files);
	assert_int_equal(r.xattrs, xattrs);
	assert_int_equal(r.store_xattrs, xattrs);
	assert_int_equal(r.ops, ops);
	assert_true(files > 100 && xattrs > 50 && r.extents > 100);
	assert_true(r.sectors > r.extents);
	/* read-only: neither the devices nor the oracle changed */
	{
		struct th_file_state t;

		th_file_state(e->p0, &t);
		assert_memory_equal(&t, &s0, sizeof(t));
		th_file_state(e->p1, &t);
		assert_memory_equal(&t, &s1, sizeof(t));
		th_file_state(e->oracle, &t);
		assert_memory_equal(&t, &so, sizeof(t));
	}
}

static void test_tamper_dirent(void **state)
{
	struct env *e = *state;
	struct jrx_verify_result r;
	const struct jrx_verify_diff *d;
	uint64_t inum, parent, buf[TH_KEY_WORDS], saved[TH_KEY_WORDS];
	struct jrx_bkey *k;
	char name[64];

	sql_row(e->oracle, "SELECT inum, parent, name FROM files WHERE d_type = 8"
		" ORDER BY inum LIMIT 1 OFFSET 7", &inum, &parent, name,
		sizeof(name));
	k = store_peek(e, JRX_BTREE_DIRENTS,
		       jrx_bpos(parent, jrx_name_hash(name, strlen(name)), SNAP),
		       saved);
	assert_int_equal(((struct jrx_dirent_val *)jrx_bkey_val(k))->target, inum);

	store_put(e, JRX_BTREE_DIRENTS, th_key_whiteout(buf, k->p));
	d = assert_one_diff(e, "dirent", inum, &r);
	assert_int_equal(d->parent, parent);
	assert_string_equal(d->name, name);
	assert_string_equal(d->found, "absent");

	/* back as it was: a match again */
	store_put(e, JRX_BTREE_DIRENTS, k);
	assert_match(e->paths, e->oracle);
}

static void test_tamper_extent_tag(void **state)
{
	struct env *e = *state;
	struct jrx_verify_result r;
	const struct jrx_verify_diff *d;
	uint64_t saved[TH_KEY_WORDS], buf[TH_KEY_WORDS], files;
	struct jrx_bkey *k, *t;
	struct jrx_extent_val *v;
	char want[64], found[64];

	sql_row(e->oracle, "SELECT min(inum) FROM files WHERE d_type = 8 AND"
		" size > 8192", &files, NULL, NULL, 0);
	k = store_peek(e, JRX_BTREE_EXTENTS, jrx_bpos(files, 0, 0), saved);
	assert_int_equal(k->p.inode, files);
	memcpy(buf, k, jrx_bkey_bytes(k));
	t = (struct jrx_bkey *)buf;
	v = jrx_bkey_val(t);
	snprintf(want, sizeof(want), "tag %llu", (unsigned long long)v->data_tag);
	v->data_tag += 1000000;
	snprintf(found, sizeof(found), "tag %llu", (unsigned long long)v->data_tag);

	store_put(e, JRX_BTREE_EXTENTS, t);
	d = assert_one_diff(e, "data", files, &r);
	assert_int_equal(d->start, k->p.offset - k->size);
	assert_int_equal(d->end, k->p.offset);
	assert_string_equal(d->expected, want);
	assert_string_equal(d->found, found);

	/* a shortened extent leaves a hole where the oracle has data */
	memcpy(buf, k, jrx_bkey_bytes(k));
	if (k->size > 1) {
		t->size = k->size - 1;
		store_put(e, JRX_BTREE_EXTENTS, t);
		d = assert_one_diff(e, "data", files, &r);
		assert_int_equal(d->start, k->p.offset - k->size);
		assert_int_equal(d->end, d->start + 1);
		assert_string_equal(d->expected, want);
		assert_string_equal(d->found, "hole");
	}

	store_put(e, JRX_BTREE_EXTENTS, k);
	assert_match(e->paths, e->oracle);
}

static void test_tamper_xattr(void **state)
{
	struct env *e = *state;
	struct jrx_verify_result r;
	const struct jrx_verify_diff *d;
	uint64_t saved[TH_KEY_WORDS], buf[TH_KEY_WORDS];
	struct jrx_bkey *k;
	struct jrx_xattr_val *x;
	char name[256];

	k = store_peek(e, JRX_BTREE_XATTRS, JRX_POS_MIN, saved);
	memcpy(buf, k, jrx_bkey_bytes(k));
	x = jrx_bkey_val((struct jrx_bkey *)buf);
	assert_true(x->value_len > 0);
	memcpy(name, x + 1, x->name_len);
	name[x->name_len] = 0;
	((uint8_t *)(x + 1))[x->name_len] ^= 0x5a;	/* first value byte */

	store_put(e, JRX_BTREE_XATTRS, (struct jrx_bkey *)buf);
	d = assert_one_diff(e, "xattr.value", k->p.inode, &r);
	assert_string_equal(d->name, name);
	assert_string_not_equal(d->expected, d->found);

	store_put(e, JRX_BTREE_XATTRS, k);
	assert_match(e->paths, e->oracle);
}

static void test_tamper_oracle(void **state)
{
	struct env *e = *state;
	struct jrx_verify_result r;
	const struct jrx_verify_diff *d;
	uint64_t inum, size;
	char q[256], name[64], want[32], found[32];

	sql_row(e->oracle, "SELECT inum, size, name FROM files WHERE d_type = 8"
		" AND size > 0 ORDER BY inum DESC LIMIT 1", &inum, &size, name,
		sizeof(name));
	snprintf(q, sizeof(q), "UPDATE files SET size = size + 1 WHERE inum = %llu",
		 (unsigned long long)inum);
	sql(e->oracle, q);
	d = assert_one_diff(e, "i_size", inum, &r);
	assert_string_equal(d->name, name);
	snprintf(want, sizeof(want), "%llu", (unsigned long long)size + 1);
	snprintf(found, sizeof(found), "%llu", (unsigned long long)size);
	assert_string_equal(d->expected, want);
	assert_string_equal(d->found, found);
	snprintf(q, sizeof(q), "UPDATE files SET size = size - 1 WHERE inum = %llu",
		 (unsigned long long)inum);
	sql(e->oracle, q);

	/* an xattr the oracle lost is one the store has in excess */
	sql(e->oracle, "CREATE TABLE saved AS SELECT * FROM xattrs WHERE rowid ="
	    " (SELECT min(rowid) FROM xattrs);"
	    "DELETE FROM xattrs WHERE rowid = (SELECT min(rowid) FROM xattrs)");
	sql_row(e->oracle, "SELECT inum, 0, name FROM saved", &inum, &size, name,
		sizeof(name));
	d = assert_one_diff(e, "xattr", inum, &r);
	assert_string_equal(d->name, name);
	assert_string_equal(d->expected, "absent");
	sql(e->oracle, "INSERT INTO xattrs SELECT * FROM saved; DROP TABLE saved");

	/* a write the oracle never saw: its sectors are found, not expected */
	sql(e->oracle, "CREATE TABLE saved AS SELECT * FROM ops WHERE id ="
	    " (SELECT max(id) FROM ops o WHERE kind = 'write' AND inum IN"
	    " (SELECT inum FROM files) AND NOT EXISTS (SELECT 1 FROM ops t"
	    " WHERE t.inum = o.inum AND t.id > o.id AND t.kind = 'truncate'));"
	    "DELETE FROM ops WHERE id = (SELECT id FROM saved)");
	sql_row(e->oracle, "SELECT inum, tag FROM saved", &inum, &size, NULL, 0);
	{
		int ret = verify(e->paths, e->oracle, NULL, 0, &r);

		assert_int_equal(ret, JRX_VERIFY_DIFFERS);
		assert_true(r.diffs >= 1);
		for (unsigned i = 0; i < r.nr_kept; i++) {
			assert_string_equal(r.kept[i].field, "data");
			assert_int_equal(r.kept[i].inum, inum);
		}
		snprintf(found, sizeof(found), "tag %llu", (unsigned long long)size);
		assert_string_equal(r.kept[0].found, found);
	}
	sql(e->oracle, "INSERT INTO ops SELECT * FROM saved; DROP TABLE saved");
	assert_match(e->paths, e->oracle);
}

static void test_print_limit(void **state)
{
	struct env *e = *state;
	struct jrx_verify_result r;
	char *text = NULL;
	size_t len = 0, lines = 0;
	FILE *f;

	/* five sizes off by one: five differences, two printed */
	sql(e->oracle, "UPDATE files SET size = size + 1 WHERE inum IN (SELECT"
	    " inum FROM files WHERE d_type = 8 ORDER BY inum LIMIT 5)");
	f = open_memstream(&text, &len);
	assert_non_null(f);
	assert_int_equal(verify(e->paths, e->oracle, f, 2, &r),
			 JRX_VERIFY_DIFFERS);
	fclose(f);
	assert_int_equal(r.diffs, 5);
	assert_int_equal(r.nr_kept, 5);
	for (const char *p = text; *p; p++)
		lines += *p == '\n';
	assert_int_equal(lines, 2);
	assert_contains(text, ": i_size: expected ");
	free(text);
	sql(e->oracle, "UPDATE files SET size = size - 1 WHERE inum IN (SELECT"
	    " inum FROM files WHERE d_type = 8 ORDER BY inum LIMIT 5)");
	assert_match(e->paths, e->oracle);
}

static void test_crash_recovered(void **state)
{
	struct env *e = *state;
	struct jrx_load_opts o;
	struct jrx_load_result r;
	struct jrx_verify_result vr;
	struct jrx_verify_opts vo = { 0 };
	struct th_file_state before, after;
	struct jrx_array a;
	struct jrx_fs fs;

	assert_jrx_ok(th_format(e->cpaths, 2, &geom));
	jrx_load_opts_default(&o);
	o.ops = 6000;
	o.seed = 23;
	o.crash_after_ops = 5000;
	o.torn = true;
	o.oracle = e->coracle;
	run_load(e->cpaths, &o, &r);
	assert_true(r.crashed && r.torn);
	assert_true(r.ops_durable < r.ops_done);

	th_file_state(e->c0, &before);
	assert_match(e->cpaths, e->coracle);
	th_file_state(e->c0, &after);
	assert_memory_equal(&before, &after, sizeof(after));

	/* without replay the journal-only keys are missing: not a match */
	assert_jrx_ok(jrx_array_open(&a, e->cpaths, 2, JRX_OPEN_RDONLY));
	assert_int_equal(a.sb.flags & JRX_SB_CLEAN, 0);
	assert_jrx_ok(jrx_fs_open(&fs, &a, JRX_FS_RDONLY));
	assert_int_equal(jrx_verify(&fs, e->coracle, &vo, &vr),
			 JRX_VERIFY_DIFFERS);
	assert_true(vr.diffs > 0);
	jrx_fs_abandon(&fs);
	jrx_array_close(&a);
}

static void test_bad_oracle(void **state)
{
	struct env *e = *state;
	struct jrx_verify_result r;
	char path[256];

	th_path(path, &e->dir, "missing.sqlite");
	assert_jrx_err(verify(e->paths, path, NULL, 0, &r), -JRX_ERR_ORACLE);
	assert_contains(jrx_diag(), path);
	assert_contains(jrx_diag(), "No such file");

	/* a device is no database */
	assert_jrx_err(verify(e->paths, e->p0, NULL, 0, &r), -JRX_ERR_ORACLE);
	assert_contains(jrx_diag(), e->p0);
	assert_contains(jrx_diag(), "not a jrx load oracle");

	/* a database without the oracle's tables */
	th_path(path, &e->dir, "other.sqlite");
	sql(path, "CREATE TABLE t(a)");
	assert_jrx_err(verify(e->paths, path, NULL, 0, &r), -JRX_ERR_ORACLE);
	assert_contains(jrx_diag(), "no such table");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clean_match),
		cmocka_unit_test(test_tamper_dirent),
		cmocka_unit_test(test_tamper_extent_tag),
		cmocka_unit_test(test_tamper_xattr),
		cmocka_unit_test(test_tamper_oracle),
		cmocka_unit_test(test_print_limit),
		cmocka_unit_test(test_crash_recovered),
		cmocka_unit_test(test_bad_oracle),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
