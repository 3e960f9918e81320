/*
 * test_fsck.c - fsck finds what is wrong, says where, and -n writes
 * nothing: a loaded clean array and a crashed one (checked through the
 * dry-run view, then recovered) pass with no problem at all; then one
 * damage per test, each expected as exactly one instance of its problem
 * code with its device and offset (or bucket, or position): a flipped
 * byte in a leaf's first bset, in a middle bset and in a node header, an
 * interior pointer leaving a gap, superblock copies that disagree, an
 * alloc key with the wrong sector count, sectors given to two extents, a
 * dirent naming no inode, an extent past i_size, a journal seq lost on
 * every replica (recovery refuses: exit 4 | 8, the journal pass says
 * which); a device that is not jrx is an operational error (exit 8).
 * Repairs: superblock copies that disagree and a bad alloc key are
 * repaired by -y (exit 1), after which -n finds nothing, a second -y
 * writes nothing and the load's oracle still matches; -p repairs them too
 * (PREEN_OK) but answers "UNEXPECTED INCONSISTENCY" to a dangling dirent
 * and writes nothing; a repair killed at any of its writes is finished
 * by the next fsck -y.  The report (text and JSON) is the same for 1, 2
 * and 3 threads and any read batch size, on an array with problems in
 * three passes.
 * TEST_FSCK_SHOW=1 prints every report.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "helpers.h"
#include "btree/fs.h"
#include "format/checksum.h"
#include "format/node.h"
#include "format/sb.h"
#include "fsck/fsck.h"
#include "journal/jread.h"
#include "workload/load.h"
#include "workload/verify.h"
#include "btree/mkfs.h"
#include "btree/buckets.h"

struct env {
	struct th_dir dir;		/* first: th_array_teardown */
	char p[2][256];
	const char *paths[2];
	char oracle[256];
};

/* ------------------------------------------------------------ problems seen */

#define MAX_SEEN 256

struct seen {
	enum jrx_pr_code code;
	struct jrx_pr_ctx c;
	char why[256];		/* c.why lives only during the report */
};

static struct seen seen[MAX_SEEN];
static size_t nr_seen;

static void on_problem(void *ctx, enum jrx_pr_code code,
		       const struct jrx_pr_ctx *c)
{
	(void)ctx;
	if (nr_seen < MAX_SEEN) {
		struct seen *s = &seen[nr_seen++];

		s->code = code;
		s->c = *c;
		snprintf(s->why, sizeof(s->why), "%s", c->why ? c->why : "");
		s->c.why = s->why;
	}
}

static const struct seen *first_seen(enum jrx_pr_code code)
{
	for (size_t i = 0; i < nr_seen; i++)
		if (seen[i].code == code)
			return &seen[i];
	return NULL;
}

/* Every problem reported, one per line, for failure messages. */
static void print_seen(void)
{
	for (size_t i = 0; i < nr_seen; i++) {
		char buf[1024];
		struct jrx_pr_out o = { 0 };

		jrx_problem_text(buf, sizeof(buf), &o, seen[i].code, &seen[i].c);
		fprintf(stderr, "  %s: %s\n",
			jrx_problem_table[seen[i].code].name, buf);
	}
}

/* ------------------------------------------------------------ setup */

static int setup(void **state)
{
	static struct env e;

	th_dir_make(&e.dir);
	th_path(e.oracle, &e.dir, "oracle.sqlite");
	th_small_loaded_array(&e.dir, e.p, e.paths, 3000, e.oracle);
	*state = &e;
	return 0;
}

/*
 * fsck through jrx_fsck_run, as the CLI runs it; with read_only the
 * devices must come out byte-identical.  Returns the exit code.
 */
static int run_fsck_mode(struct env *e, bool read_only,
			 enum jrx_repair_mode mode, struct jrx_fsck_result *res,
			 FILE *out, bool json);

static int run_fsck(struct env *e, bool read_only, struct jrx_fsck_result *res,
		    FILE *out, bool json)
{
	return run_fsck_mode(e, read_only, JRX_REPAIR_NONE, res, out, json);
}

static int run_fsck_mode(struct env *e, bool read_only,
			 enum jrx_repair_mode mode, struct jrx_fsck_result *res,
			 FILE *out, bool json)
{
	struct th_file_state before[2], after[2];
	struct jrx_fsck_opts o;
	int ret;

	for (int i = 0; i < 2; i++)
		th_file_state(e->p[i], &before[i]);
	jrx_fsck_opts_default(&o);
	o.read_only = read_only;
	o.repair = mode;
	o.preen = mode == JRX_REPAIR_PREEN;
	o.force = true;
	o.json = json;
	/* TEST_FSCK_SHOW=1 prints every report */
	o.out = out ? out : getenv("TEST_FSCK_SHOW") ? stderr : NULL;
	o.on_problem = on_problem;
	nr_seen = 0;
	ret = jrx_fsck_run(e->paths, 2, &o, res);
	if (ret)
		fail_msg("fsck failed: %s (%s)", jrx_diag(), th_errname(ret));
	for (int i = 0; read_only && i < 2; i++) {
		th_file_state(e->p[i], &after[i]);
		if (before[i].hash != after[i].hash ||
		    before[i].mtime_ns != after[i].mtime_ns)
			fail_msg("fsck -n wrote to %s", e->p[i]);
	}
	return res->exit_code;
}

/* Exactly `want` instances of code, and the exit code that goes with it. */
static void expect_problem(const struct jrx_fsck_result *res,
			   enum jrx_pr_code code, uint64_t want)
{
	if (res->counts.code[code] != want) {
		print_seen();
		fail_msg("%s reported %llu times, want %llu",
			 jrx_problem_table[code].name,
			 (unsigned long long)res->counts.code[code],
			 (unsigned long long)want);
	}
	assert_int_equal(res->exit_code, want ? 4 : 0);
}

static void expect_clean(const struct jrx_fsck_result *res)
{
	uint64_t total = 0;

	for (unsigned s = 0; s < JRX_SEV_NR; s++)
		total += res->counts.sev[s];
	if (total) {
		print_seen();
		fail_msg("%llu problems on a sound array", (unsigned long long)total);
	}
	assert_int_equal(res->exit_code, 0);
	assert_int_equal(res->bad_nodes, 0);
	for (unsigned p = 0; p < JRX_PASS_NR; p++)
		if (p != JRX_PASS_JOURNAL)
			assert_true(res->pass[p].ran);
}

/* ------------------------------------------------------------ locating things */

struct node_loc {
	unsigned level;
	uint32_t dev;
	uint64_t sector;
	bool found;
};

static int find_node_cb(void *ctx, const struct jrx_bnode *n)
{
	struct node_loc *l = ctx;

	if (l->found || n->level != l->level)
		return 0;
	l->dev = n->dev;
	l->sector = n->sector;
	l->found = true;
	return 0;
}

/* A node of btree id at level (clean array, read-only). */
static struct node_loc find_node(struct env *e, unsigned id, unsigned level)
{
	struct node_loc l = { .level = level };

	th_walk_nodes(e->paths, id, find_node_cb, &l);
	assert_true(l.found);
	return l;
}

/* ------------------------------------------------------------ repairs */

/* Every durable operation of the setup's load is in the array. */
static void expect_oracle(struct env *e, const char *what)
{
	th_expect_oracle(e->paths, e->oracle, what);
}

/*
 * fsck in mode repairs what the damage did (exit 1, fixes applied), then
 * -n finds nothing, the same fsck again writes nothing (exit 0), and the
 * load's oracle still matches: the damage destroyed no data.
 */
static void expect_repaired(struct env *e, enum jrx_repair_mode mode,
			    unsigned fixes, const char *what)
{
	struct th_file_state before[2];
	struct jrx_fsck_result res;
	int got = run_fsck_mode(e, false, mode, &res, NULL, false);

	if (got != 1) {
		print_seen();
		fail_msg("%s: fsck %s: exit %d, expected 1 (repaired)", what,
			 mode == JRX_REPAIR_PREEN ? "-p" : "-y", got);
	}
	if (fixes)
		assert_int_equal(res.repaired, fixes);
	got = run_fsck(e, true, &res, NULL, false);
	if (got) {
		print_seen();
		fail_msg("%s: fsck -n after the repair: exit %d", what, got);
	}
	th_files_state(e->paths, 2, before);
	assert_int_equal(run_fsck_mode(e, false, mode, &res, NULL, false), 0);
	th_expect_unwritten(e->paths, 2, before, "a second repair");
	expect_oracle(e, what);
}

/* ------------------------------------------------------------ tests */

static void test_clean(void **state)
{
	struct env *e = *state;
	struct jrx_fsck_result res;

	assert_int_equal(run_fsck(e, true, &res, NULL, false), 0);
	expect_clean(&res);
	assert_false(res.pass[JRX_PASS_JOURNAL].ran);
	assert_true(res.keys[JRX_BTREE_EXTENTS] > 100);
	assert_true(res.keys[JRX_BTREE_DIRENTS] > 100);
	assert_true(res.depth[JRX_BTREE_EXTENTS] >= 2);
	/* without -n a clean array is not touched either */
	struct th_file_state before, after;

	th_file_state(e->p[0], &before);
	assert_int_equal(run_fsck(e, false, &res, NULL, false), 0);
	expect_clean(&res);
	th_file_state(e->p[0], &after);
	assert_int_equal(before.hash, after.hash);
}

static void test_crashed(void **state)
{
	struct env *e = *state;
	struct jrx_fsck_result res;
	struct jrx_load_opts o;
	struct jrx_load_result r;
	struct jrx_array a;

	jrx_load_opts_default(&o);
	o.ops = 3000;
	o.seed = 43;
	o.crash_after_ops = 2000;
	o.torn = true;
	assert_jrx_ok(jrx_array_open(&a, e->paths, 2, 0));
	assert_jrx_ok(jrx_load(&a, &o, &r));
	jrx_array_close(&a);
	assert_true(r.crashed);

	/* -n: the dry-run view, nothing written; the torn jset is a note */
	assert_int_equal(run_fsck(e, true, &res, NULL, false), 0);
	assert_true(res.pass[JRX_PASS_JOURNAL].ran);
	assert_int_equal(res.counts.code[JRX_PR_JSET_BAD], 1);
	assert_int_equal(res.counts.sev[JRX_SEV_ERROR] +
			 res.counts.sev[JRX_SEV_WARNING], 0);
	/* without -n: recovered (exit 1: modified), then checked from disk */
	assert_int_equal(run_fsck(e, false, &res, NULL, false), 1);
	res.exit_code = 0;
	expect_clean(&res);
	/* nothing left to do: exit 0 */
	assert_int_equal(run_fsck(e, false, &res, NULL, false), 0);
	assert_jrx_ok(jrx_array_open(&a, e->paths, 2, JRX_OPEN_RDONLY));
	assert_true(a.sb.flags & JRX_SB_CLEAN);
	jrx_array_close(&a);
}

/* -p/-a on a clean array: reported clean without a check unless -f;
 * nothing is written either way. */
static void test_preen_clean(void **state)
{
	struct env *e = *state;
	struct th_file_state before[2];
	struct jrx_fsck_result res;
	struct jrx_fsck_opts o;

	th_files_state(e->paths, 2, before);
	jrx_fsck_opts_default(&o);
	o.preen = true;
	assert_jrx_ok(jrx_fsck_run(e->paths, 2, &o, &res));
	assert_true(res.skipped);
	assert_int_equal(res.exit_code, 0);
	for (unsigned p = 0; p < JRX_PASS_NR; p++)
		assert_false(res.pass[p].ran);
	o.force = true;
	assert_jrx_ok(jrx_fsck_run(e->paths, 2, &o, &res));
	assert_false(res.skipped);
	expect_clean(&res);
	th_expect_unwritten(e->paths, 2, before, "fsck -p of a clean array");
}

static void test_leaf_bset_csum(void **state)
{
	struct env *e = *state;
	struct node_loc l = find_node(e, JRX_BTREE_EXTENTS, 0);
	uint64_t off = l.sector * JRX_SECTOR_SIZE;
	uint64_t bset = off + sizeof(struct jrx_btree_node);
	struct jrx_fsck_result res;
	const struct seen *s;

	/* a byte of the first key of the first bset */
	th_flip_byte(e->p[l.dev], bset + sizeof(struct jrx_bset) + 16);
	assert_int_equal(run_fsck(e, true, &res, NULL, false), 4);
	expect_problem(&res, JRX_PR_BSET_CSUM, 1);
	s = first_seen(JRX_PR_BSET_CSUM);
	assert_int_equal(s->c.dev, l.dev);
	assert_int_equal(s->c.offset, bset);
	assert_int_equal(s->c.btree, JRX_BTREE_EXTENTS);
	assert_int_equal(s->c.level, 0);
	assert_int_equal(res.bad_nodes, 1);
	/* space can no longer be checked, and nothing else is blamed */
	assert_true(res.counts.code[JRX_PR_CHECK_INCOMPLETE] > 0);
	assert_int_equal(res.counts.sev[JRX_SEV_ERROR], 1);
}

static void test_node_header_csum(void **state)
{
	struct env *e = *state;
	struct node_loc l = find_node(e, JRX_BTREE_INODES, 0);
	uint64_t off = l.sector * JRX_SECTOR_SIZE;
	struct jrx_fsck_result res;
	const struct seen *s;

	th_flip_byte(e->p[l.dev], off + offsetof(struct jrx_btree_node, pad) + 2);
	assert_int_equal(run_fsck(e, true, &res, NULL, false), 4);
	expect_problem(&res, JRX_PR_NODE_CSUM, 1);
	s = first_seen(JRX_PR_NODE_CSUM);
	assert_int_equal(s->c.dev, l.dev);
	assert_int_equal(s->c.offset, off);
	assert_int_equal(s->c.btree, JRX_BTREE_INODES);
	/* the inodes it held are not reported missing */
	assert_int_equal(res.counts.sev[JRX_SEV_ERROR], 1);
}

static void test_sb_copies_differ(void **state)
{
	struct env *e = *state;
	struct jrx_sb *sb = malloc(sizeof(*sb));
	struct jrx_fsck_result res;
	const struct seen *s;
	char why[JRX_SB_WHY];

	assert_non_null(sb);
	/* the backup of device 1, still valid, but not clean */
	th_file_pread(e->p[1], sb, sizeof(*sb), JRX_SB_BACKUP_OFFSET);
	assert_jrx_ok(jrx_sb_validate(sb, why, sizeof(why)));
	assert_true(sb->flags & JRX_SB_CLEAN);
	sb->flags &= ~JRX_SB_CLEAN;
	jrx_sb_set_csum(sb);
	th_file_pwrite(e->p[1], sb, sizeof(*sb), JRX_SB_BACKUP_OFFSET);
	assert_int_equal(run_fsck(e, true, &res, NULL, false), 4);
	expect_problem(&res, JRX_PR_SB_COPIES_DIFFER, 1);
	s = first_seen(JRX_PR_SB_COPIES_DIFFER);
	assert_int_equal(s->c.dev, 1);
	assert_int_equal(s->c.offset, JRX_SB_BACKUP_OFFSET);
	assert_string_equal(s->c.why, "flags");

	/* an older primary on device 0: the array uses the backup */
	th_file_pread(e->p[1], sb, sizeof(*sb), JRX_SB_PRIMARY_OFFSET);
	th_file_pwrite(e->p[1], sb, sizeof(*sb), JRX_SB_BACKUP_OFFSET);
	th_file_pread(e->p[0], sb, sizeof(*sb), JRX_SB_PRIMARY_OFFSET);
	sb->seq--;
	jrx_sb_set_csum(sb);
	th_file_pwrite(e->p[0], sb, sizeof(*sb), JRX_SB_PRIMARY_OFFSET);
	assert_int_equal(run_fsck(e, true, &res, NULL, false), 4);
	expect_problem(&res, JRX_PR_SB_COPIES_DIFFER, 1);
	s = first_seen(JRX_PR_SB_COPIES_DIFFER);
	assert_int_equal(s->c.dev, 0);
	assert_int_equal(s->c.offset, JRX_SB_PRIMARY_OFFSET);
	assert_string_equal(s->c.why, "seq");
	free(sb);
	expect_repaired(e, JRX_REPAIR_PREEN, 1u << JRX_FIX_REWRITE_SB,
			"an older primary superblock");
}

static struct jrx_bpos damage_alloc_key(struct env *e)
{
	return th_damage_alloc_key(e->paths, 2);
}

static void test_alloc_mismatch(void **state)
{
	struct env *e = *state;
	struct jrx_bpos pos = damage_alloc_key(e);
	struct jrx_fsck_result res;
	const struct seen *s;

	assert_int_equal(run_fsck(e, true, &res, NULL, false), 4);
	expect_problem(&res, JRX_PR_ALLOC_MISMATCH, 1);
	s = first_seen(JRX_PR_ALLOC_MISMATCH);
	assert_int_equal(s->c.dev, (int)pos.inode);
	assert_int_equal(s->c.bucket, pos.offset);
	assert_string_equal(s->c.why, "dirty sectors");
	/* accounting is checked against the btrees, not the alloc keys */
	assert_int_equal(res.counts.code[JRX_PR_ACCOUNTING_MISMATCH], 0);
	expect_repaired(e, JRX_REPAIR_ALL, 1u << JRX_FIX_REBUILD_ALLOC,
			"an alloc key one sector off");
}

/* A key put into btree through the store (committed, clean shutdown). */
static void put_key(struct env *e, unsigned btree, const struct jrx_bkey *k)
{
	struct jrx_array a;
	struct jrx_fs fs;

	th_open_rw(e->paths, &a, &fs);
	assert_jrx_ok(jrx_fs_update(&fs, btree, k));
	th_close_rw(&a, &fs);
}

/* An alloc key past device 0's last bucket: PREEN_OK, the rebuild drops it. */
static void test_alloc_key_outside(void **state)
{
	struct env *e = *state;
	uint64_t buf[TH_KEY_WORDS];
	struct jrx_fsck_result res;
	struct jrx_array a;
	uint64_t nb;

	assert_jrx_ok(jrx_array_open(&a, e->paths, 2, JRX_OPEN_RDONLY));
	nb = a.sb.members[0].nbuckets;
	jrx_array_close(&a);
	put_key(e, JRX_BTREE_ALLOC, th_key_alloc(buf, jrx_bpos(0, nb + 3, 0), 1,
						    0, JRX_DATA_FREE));
	assert_int_equal(run_fsck(e, true, &res, NULL, false), 4);
	expect_problem(&res, JRX_PR_ALLOC_KEY_OUTSIDE, 1);
	assert_int_equal(first_seen(JRX_PR_ALLOC_KEY_OUTSIDE)->c.pos.offset,
			 nb + 3);
	expect_repaired(e, JRX_REPAIR_PREEN, 1u << JRX_FIX_REBUILD_ALLOC,
			"an alloc key past the last bucket");
}

/* An accounting key of no known counter: PREEN_OK, the rebuild drops it. */
static void test_accounting_unknown(void **state)
{
	struct env *e = *state;
	uint64_t buf[TH_KEY_WORDS];
	struct jrx_fsck_result res;

	put_key(e, JRX_BTREE_ACCOUNTING,
		th_key_accounting(buf, jrx_bpos(99, 7, 0), 0, 1, 2));
	assert_int_equal(run_fsck(e, true, &res, NULL, false), 4);
	expect_problem(&res, JRX_PR_ACCOUNTING_UNKNOWN, 1);
	assert_int_equal(first_seen(JRX_PR_ACCOUNTING_UNKNOWN)->c.pos.inode, 99);
	expect_repaired(e, JRX_REPAIR_PREEN, 1u << JRX_FIX_REBUILD_ALLOC,
			"an accounting key of no counter");
}

/*
 * The inodes counter's key with a version past the clean superblock's
 * journal_seq (a later replay would skip deltas): not PREEN_OK; -y
 * rebuilds accounting with version 0.
 */
static void test_accounting_version(void **state)
{
	struct env *e = *state;
	uint64_t buf[TH_KEY_WORDS];
	const struct jrx_bkey *old;
	struct jrx_fsck_result res;
	struct jrx_array a;
	struct jrx_fs fs;

	th_open_rw(e->paths, &a, &fs);
	assert_jrx_ok(jrx_btree_lookup(&fs, JRX_BTREE_ACCOUNTING,
				       jrx_bpos(JRX_ACCT_INODES, 0, 0), &old));
	assert_non_null(old);
	memcpy(buf, old, jrx_bkey_bytes(old));
	((struct jrx_bkey *)buf)->version = a.sb.journal_seq + 1000;
	assert_jrx_ok(jrx_fs_update(&fs, JRX_BTREE_ACCOUNTING,
				    (struct jrx_bkey *)buf));
	th_close_rw(&a, &fs);
	assert_int_equal(run_fsck(e, true, &res, NULL, false), 4);
	expect_problem(&res, JRX_PR_ACCOUNTING_VERSION, 1);
	assert_int_equal(run_fsck_mode(e, false, JRX_REPAIR_PREEN, &res, NULL,
				       false), 4);
	assert_int_equal(res.repaired, 0);
	expect_repaired(e, JRX_REPAIR_ALL, 1u << JRX_FIX_REBUILD_ALLOC,
			"an accounting version past the journal");
}

static void test_dirent_dangling(void **state)
{
	struct env *e = *state;
	uint64_t buf[TH_KEY_WORDS];
	struct jrx_bpos pos = jrx_bpos(JRX_ROOT_INO, jrx_name_hash("ghost", 5),
				       JRX_SNAPSHOT_DEFAULT);
	struct jrx_fsck_result res;
	struct jrx_array a;
	struct jrx_fs fs;
	const struct seen *s;
	char *json = NULL;
	size_t len = 0;
	FILE *out;

	th_open_rw(e->paths, &a, &fs);
	assert_jrx_ok(jrx_fs_update(&fs, JRX_BTREE_DIRENTS,
				    th_key_dirent(buf, pos, 999999, 8, "ghost")));
	th_close_rw(&a, &fs);

	out = open_memstream(&json, &len);
	assert_non_null(out);
	assert_int_equal(run_fsck(e, true, &res, out, true), 4);
	fclose(out);
	expect_problem(&res, JRX_PR_DIRENT_DANGLING, 1);
	s = first_seen(JRX_PR_DIRENT_DANGLING);
	assert_true(s->c.has_pos);
	assert_true(jrx_bpos_eq(s->c.pos, pos));
	assert_string_equal(s->c.found, "999999");
	assert_contains(json, "\"code\":\"DIRENT_DANGLING\"");
	assert_contains(json, "\"exit_code\": 4");
	assert_contains(json, "\"DIRENT_DANGLING\":1");
	free(json);

	/* -p: not a problem preen may repair: said, nothing written, exit 4 */
	{
		struct th_file_state before[2];
		char *text = NULL;

		th_files_state(e->paths, 2, before);
		out = open_memstream(&text, &len);
		assert_non_null(out);
		assert_int_equal(run_fsck_mode(e, false, JRX_REPAIR_PREEN, &res,
					       out, false), 4);
		fclose(out);
		assert_contains(text, "UNEXPECTED INCONSISTENCY");
		assert_int_equal(res.repaired, 0);
		th_expect_unwritten(e->paths, 2, before, "fsck -p");
		free(text);
	}
}

/* The allocator never hands out a held bucket (the buckets of the trees a
 * repair replaces), even when it is the only free one. */
static void test_held_buckets(void **state)
{
	struct env *e = *state;
	struct jrx_buckets bt;
	struct jrx_array a;
	uint64_t sector, last = 0;
	uint32_t dev, got, gen, ldev = 0;

	assert_jrx_ok(jrx_array_open(&a, e->paths, 2, JRX_OPEN_RDONLY));
	assert_jrx_ok(jrx_buckets_init(&bt, &a.sb, NULL));
	jrx_array_close(&a);
	for (unsigned d = 0; d < bt.nr_devs; d++)
		for (uint64_t b = bt.first[d]; b < bt.nbuckets[d]; b++) {
			jrx_bucket(&bt, d, b)->reusable_after = JRX_BUCKET_HELD;
			ldev = d;
			last = b;
		}
	assert_jrx_err(jrx_alloc_sectors(&bt, JRX_DATA_BTREE, 8, UINT64_MAX, 0,
					 &dev, &sector, &got, &gen),
		       -JRX_ERR_NO_SPACE);
	jrx_bucket(&bt, ldev, last)->reusable_after = 0;
	assert_jrx_ok(jrx_alloc_sectors(&bt, JRX_DATA_BTREE, 8, UINT64_MAX, 0,
					&dev, &sector, &got, &gen));
	assert_int_equal(dev, ldev);
	assert_int_equal(sector / bt.bucket_sectors, last);
	jrx_buckets_exit(&bt);
}

/* fsck -y --json that repairs prints one object: the re-check's. */
static void test_repair_json(void **state)
{
	struct env *e = *state;
	struct jrx_fsck_result res;
	char *json = NULL;
	size_t len = 0;
	FILE *out;

	damage_alloc_key(e);
	out = open_memstream(&json, &len);
	assert_non_null(out);
	assert_int_equal(run_fsck_mode(e, false, JRX_REPAIR_ALL, &res, out,
				       true), 1);
	fclose(out);
	th_expect_one_json(json);
	assert_contains(json, "\"state\": \"repaired\"");
	assert_contains(json, "\"exit_code\": 1");
	free(json);
	assert_int_equal(run_fsck(e, true, &res, NULL, false), 0);
}

/* A repair killed at any of its writes: the next fsck -y finishes it. */
static void test_repair_crash(void **state)
{
	struct env *e = *state;
	struct jrx_fsck_result res;
	char saved[2][300], cmd[1024], what[96];
	uint64_t total, w0;

	damage_alloc_key(e);
	for (int i = 0; i < 2; i++) {
		snprintf(saved[i], sizeof(saved[i]), "%s.saved", e->p[i]);
		snprintf(cmd, sizeof(cmd), "cp --sparse=always %s %s", e->p[i],
			 saved[i]);
		assert_int_equal(system(cmd), 0);
	}
	w0 = jrx_dev_writes();
	assert_int_equal(run_fsck_mode(e, false, JRX_REPAIR_ALL, &res, NULL,
				       false), 1);
	total = jrx_dev_writes() - w0;
	assert_true(total > 4);
	for (uint64_t n = 1; n < total; n++) {
		for (int i = 0; i < 2; i++) {
			snprintf(cmd, sizeof(cmd), "cp --sparse=always %s %s",
				 saved[i], e->p[i]);
			assert_int_equal(system(cmd), 0);
		}
		jrx_dev_crash_after_writes(n);
		{
			struct jrx_fsck_opts o;

			jrx_fsck_opts_default(&o);
			o.repair = JRX_REPAIR_ALL;
			assert_jrx_err(jrx_fsck_run(e->paths, 2, &o, &res),
				       -JRX_ERR_CRASHED);
		}
		assert_true(jrx_dev_crashed());
		jrx_dev_crash_after_writes(0);
		snprintf(what, sizeof(what), "repair killed after write %llu of"
			 " %llu", (unsigned long long)n, (unsigned long long)total);
		/* before the commit: the alloc problem again; inside it:
		 * superblock copies that differ, which a rewrite fixes */
		expect_repaired(e, JRX_REPAIR_ALL, 0, what);
	}
}

static void test_extent_past_isize(void **state)
{
	struct env *e = *state;
	uint64_t buf[TH_KEY_WORDS];
	struct jrx_bpos pos = jrx_bpos(JRX_ROOT_INO + 1, 0, 0);
	const struct jrx_bkey *ik;
	struct jrx_fsck_result res;
	struct jrx_array a;
	struct jrx_fs fs;
	const struct seen *s;
	uint64_t inum, end;
	uint32_t dev, got, gen;
	uint64_t sector;

	th_open_rw(e->paths, &a, &fs);
	/* a regular file; new data allocated the proper way, past i_size */
	for (;;) {
		assert_jrx_ok(jrx_btree_peek(&fs, JRX_BTREE_INODES, pos, &ik));
		assert_non_null(ik);
		if ((((const struct jrx_inode_val *)jrx_bkey_val(ik))->mode &
		     0170000) == 0100000)
			break;
		pos = jrx_bpos_successor(ik->p);
	}
	inum = ik->p.inode;
	end = (((const struct jrx_inode_val *)jrx_bkey_val(ik))->size + 511) / 512;
	assert_jrx_ok(jrx_fs_alloc_data(&fs, 8, &dev, &sector, &got, &gen));
	end += 100 + got;
	assert_jrx_ok(jrx_fs_update(&fs, JRX_BTREE_EXTENTS,
				    th_key_extent(buf, jrx_bpos(inum, end,
							JRX_SNAPSHOT_DEFAULT),
						  got, dev, sector, gen, 7)));
	th_close_rw(&a, &fs);

	assert_int_equal(run_fsck(e, true, &res, NULL, false), 4);
	expect_problem(&res, JRX_PR_EXTENT_PAST_ISIZE, 1);
	s = first_seen(JRX_PR_EXTENT_PAST_ISIZE);
	assert_int_equal(s->c.num, inum);
	assert_int_equal(s->c.pos.offset, end);
	/* the space was allocated properly: nothing else is wrong */
	assert_int_equal(res.counts.sev[JRX_SEV_ERROR], 1);
}

/* The raw bytes of a node, and where each of its bsets starts. */
struct raw_node {
	char	*buf;
	size_t	 bset[64];
	unsigned nr;
};

static void read_raw(struct env *e, const struct node_loc *l, uint32_t size,
		     struct raw_node *r)
{
	size_t off = sizeof(struct jrx_btree_node);
	const struct jrx_btree_node *h;
	const char *why;

	r->buf = malloc(size);
	assert_non_null(r->buf);
	th_file_pread(e->p[l->dev], r->buf, size, l->sector * JRX_SECTOR_SIZE);
	h = (const void *)r->buf;
	r->nr = 0;
	while (off + sizeof(struct jrx_bset) <= size && r->nr < 64) {
		const struct jrx_bset *b = (const void *)(r->buf + off);

		if (jrx_bset_validate(b, off, size, h->nonce, &why))
			break;
		r->bset[r->nr++] = off;
		off = jrx_bset_next_offset(off + jrx_bset_bytes(b));
	}
}

struct multi_loc {
	unsigned min_bsets;
	struct node_loc l;
};

static int find_multi_cb(void *ctx, const struct jrx_bnode *n)
{
	struct multi_loc *m = ctx;

	if (m->l.found || n->level || n->bsets < m->min_bsets)
		return 0;
	m->l.dev = n->dev;
	m->l.sector = n->sector;
	m->l.found = true;
	return 0;
}

static void test_middle_bset_csum(void **state)
{
	struct env *e = *state;
	struct multi_loc m = { .min_bsets = 3 };
	struct jrx_fsck_result res;
	struct jrx_array a;
	struct jrx_fs fs;
	struct raw_node r;
	const struct seen *s;
	uint32_t size;
	uint64_t bad;

	assert_jrx_ok(jrx_array_open(&a, e->paths, 2, JRX_OPEN_RDONLY));
	assert_jrx_ok(jrx_fs_open(&fs, &a, JRX_FS_RDONLY));
	size = a.sb.btree_node_size;
	for (unsigned id = 0; id < JRX_BTREE_NR && !m.l.found; id++)
		assert_jrx_ok(jrx_btree_walk_nodes(&fs, id, find_multi_cb, &m));
	jrx_fs_abandon(&fs);
	jrx_array_close(&a);
	if (!m.l.found)
		skip();		/* no leaf with three bsets in this workload */
	read_raw(e, &m.l, size, &r);
	assert_true(r.nr >= 3);
	/* the second bset fails inside the written part its pointer gives */
	bad = m.l.sector * JRX_SECTOR_SIZE + r.bset[1];
	th_flip_byte(e->p[m.l.dev], bad + sizeof(struct jrx_bset) + 8);
	free(r.buf);
	assert_int_equal(run_fsck(e, true, &res, NULL, false), 4);
	expect_problem(&res, JRX_PR_BSET_CSUM, 1);
	s = first_seen(JRX_PR_BSET_CSUM);
	assert_int_equal(s->c.dev, m.l.dev);
	assert_int_equal(s->c.offset, bad);
	assert_contains(s->c.why, "inside the node's written part");
	/* the node is lost: a reader never merges part of a node */
	assert_int_equal(res.bad_nodes, 1);
	assert_int_equal(res.counts.sev[JRX_SEV_ERROR], 1);
}

static int find_interior_cb(void *ctx, const struct jrx_bnode *n)
{
	struct jrx_bkey **out = ctx;

	if (*out || !n->level || n->nr < 2)
		return 0;
	out[0] = malloc(jrx_bkey_bytes(n->keys[1]));
	assert_non_null(out[0]);
	memcpy(out[0], n->keys[1], jrx_bkey_bytes(n->keys[1]));
	out[1] = (struct jrx_bkey *)(uintptr_t)1;	/* found */
	((struct node_loc *)out[2])->dev = n->dev;
	((struct node_loc *)out[2])->sector = n->sector;
	((struct node_loc *)out[2])->level = n->level;
	((struct node_loc *)out[2])->found = true;
	return 0;
}

static void test_child_gap(void **state)
{
	struct env *e = *state;
	struct node_loc l = { 0 };
	struct jrx_bkey *found[3] = { NULL, NULL, (struct jrx_bkey *)&l };
	struct jrx_fsck_result res;
	struct jrx_array a;
	struct jrx_fs fs;
	struct raw_node r;
	struct jrx_bpos want;
	const struct seen *s;
	uint32_t size;
	unsigned changed = 0;

	/* an interior node's second child: its pointer starts one key late */
	assert_jrx_ok(jrx_array_open(&a, e->paths, 2, JRX_OPEN_RDONLY));
	assert_jrx_ok(jrx_fs_open(&fs, &a, JRX_FS_RDONLY));
	size = a.sb.btree_node_size;
	for (unsigned id = 0; id < JRX_BTREE_NR && !l.found; id++)
		assert_jrx_ok(jrx_btree_walk_nodes(&fs, id, find_interior_cb, found));
	jrx_fs_abandon(&fs);
	jrx_array_close(&a);
	assert_true(l.found);
	want = ((struct jrx_btree_ptr_val *)jrx_bkey_val(found[0]))->min_key;
	read_raw(e, &l, size, &r);
	for (unsigned i = 0; i < r.nr; i++) {
		struct jrx_bset *b = (void *)(r.buf + r.bset[i]);
		struct jrx_bkey *k = (void *)(b + 1);
		struct jrx_bkey *end = (void *)((uint64_t *)(b + 1) + b->u64s);

		for (; k < end; k = jrx_bkey_next(k)) {
			struct jrx_btree_ptr_val *v = jrx_bkey_val(k);

			if (k->type != JRX_KEY_BTREE_PTR ||
			    !jrx_bpos_eq(k->p, found[0]->p))
				continue;
			v->min_key = jrx_bpos_successor(want);
			changed++;
		}
		jrx_bset_set_csum(b);
	}
	assert_true(changed > 0);
	th_file_pwrite(e->p[l.dev], r.buf, size, l.sector * JRX_SECTOR_SIZE);
	free(r.buf);
	free(found[0]);

	assert_int_equal(run_fsck(e, true, &res, NULL, false), 4);
	expect_problem(&res, JRX_PR_CHILD_GAP, 1);
	s = first_seen(JRX_PR_CHILD_GAP);
	assert_int_equal(s->c.dev, l.dev);
	assert_int_equal(s->c.offset, l.sector * JRX_SECTOR_SIZE);
	assert_int_equal(s->c.level, l.level);
	/* and the child no longer matches its pointer */
	assert_int_equal(res.counts.code[JRX_PR_NODE_PTR_MISMATCH], 1);
	assert_int_equal(res.counts.code[JRX_PR_CHILD_OVERLAP], 0);
}

static void test_used_twice(void **state)
{
	struct env *e = *state;
	uint64_t buf[TH_KEY_WORDS];
	struct jrx_bpos pos = jrx_bpos(JRX_ROOT_INO + 1, 0, 0);
	struct jrx_extent_val ev;
	struct jrx_inode_val iv;
	const struct jrx_bkey *k;
	struct jrx_fsck_result res;
	struct jrx_array a;
	struct jrx_fs fs;
	const struct seen *s;
	uint64_t inum, end;
	uint32_t size;

	th_open_rw(e->paths, &a, &fs);
	/* an existing extent's sectors, given to a second file as well */
	assert_jrx_ok(jrx_btree_peek(&fs, JRX_BTREE_EXTENTS, jrx_bpos(0, 0, 0), &k));
	assert_non_null(k);
	memcpy(&ev, jrx_bkey_val(k), sizeof(ev));
	size = k->size;
	for (;;) {
		assert_jrx_ok(jrx_btree_peek(&fs, JRX_BTREE_INODES, pos, &k));
		assert_non_null(k);
		memcpy(&iv, jrx_bkey_val(k), sizeof(iv));
		if ((iv.mode & 0170000) == 0100000)
			break;
		pos = jrx_bpos_successor(k->p);
	}
	inum = k->p.inode;
	end = (iv.size + 511) / 512 + 100 + size;
	iv.size = end * 512;
	assert_jrx_ok(jrx_fs_update(&fs, JRX_BTREE_INODES,
				    th_key_inode(buf, k->p, &iv)));
	assert_jrx_ok(jrx_fs_update(&fs, JRX_BTREE_EXTENTS,
				    th_key_extent(buf, jrx_bpos(inum, end,
							JRX_SNAPSHOT_DEFAULT),
						  size, ev.dev, ev.sector, ev.gen,
						  9)));
	th_close_rw(&a, &fs);

	assert_int_equal(run_fsck(e, true, &res, NULL, false), 4);
	expect_problem(&res, JRX_PR_BUCKET_USED_TWICE, 1);
	s = first_seen(JRX_PR_BUCKET_USED_TWICE);
	assert_int_equal(s->c.dev, ev.dev);
	assert_int_equal(s->c.offset, ev.sector * JRX_SECTOR_SIZE);
	assert_int_equal(s->c.num, size);
	assert_contains(s->c.expected, "extent");
	assert_contains(s->c.found, "extent");
	/* the bucket's alloc key counts the sectors once */
	assert_int_equal(res.counts.code[JRX_PR_ALLOC_MISMATCH], 1);

	/* -y: the second file's extent is moved to sectors of its own (the
	 * space repair; test_fsck_space has the details), then alloc and
	 * accounting are rebuilt; -n finds nothing, a second -y writes
	 * nothing */
	th_expect_repaired(e->paths, JRX_REPAIR_ALL, JRX_FIX_SPACE,
			   "repaired: space: 1 extents moved to free sectors");
}

static void test_journal_seq_missing(void **state)
{
	struct env *e = *state;
	struct jrx_fsck_result res;
	struct jrx_load_opts o;
	struct jrx_load_result r;
	struct jrx_array a;
	uint64_t victim;
	const struct seen *s;

	jrx_load_opts_default(&o);
	o.ops = 3000;
	o.seed = 44;
	o.crash_after_ops = 2500;
	o.flush_every = 4;
	assert_jrx_ok(jrx_array_open(&a, e->paths, 2, 0));
	assert_jrx_ok(jrx_load(&a, &o, &r));
	jrx_array_close(&a);
	assert_true(r.crashed);

	/* a seq of the replay range that ends its bucket everywhere, lost */
	victim = th_lose_jset(e->paths);
	if (!victim)
		skip();		/* no such jset in this run */

	/* recovery refuses, but the journal pass says which seq and where */
	struct jrx_fsck_opts fo;
	struct th_file_state before[2], after[2];

	for (int i = 0; i < 2; i++)
		th_file_state(e->p[i], &before[i]);
	jrx_fsck_opts_default(&fo);
	fo.read_only = true;
	fo.on_problem = on_problem;
	fo.out = getenv("TEST_FSCK_SHOW") ? stderr : NULL;
	nr_seen = 0;
	assert_true(jrx_fsck_run(e->paths, 2, &fo, &res) < 0);
	assert_int_equal(res.exit_code, 4 | 8);
	assert_int_equal(res.counts.code[JRX_PR_JOURNAL_SEQ_MISSING], 1);
	s = first_seen(JRX_PR_JOURNAL_SEQ_MISSING);
	assert_int_equal(s->c.num, 1);
	assert_true(res.counts.code[JRX_PR_JSET_BAD] >= 1);
	s = first_seen(JRX_PR_JSET_BAD);
	assert_int_equal(s->c.num, victim);
	assert_true(res.pass[JRX_PASS_JOURNAL].ran);
	assert_false(res.pass[JRX_PASS_NODES].ran);
	assert_contains(jrx_diag(), "not checked");
	for (int i = 0; i < 2; i++) {
		th_file_state(e->p[i], &after[i]);
		assert_int_equal(before[i].hash, after[i].hash);
	}
	/* without -n the recovery refuses the same way, writing nothing */
	fo.read_only = false;
	nr_seen = 0;
	assert_true(jrx_fsck_run(e->paths, 2, &fo, &res) < 0);
	assert_int_equal(res.exit_code, 4 | 8);
	assert_int_equal(res.counts.code[JRX_PR_JOURNAL_SEQ_MISSING], 1);
	for (int i = 0; i < 2; i++) {
		th_file_state(e->p[i], &after[i]);
		assert_int_equal(before[i].hash, after[i].hash);
	}
}

static void test_not_jrx(void **state)
{
	struct env *e = *state;
	struct jrx_fsck_opts o;
	struct jrx_fsck_result res;
	char junk[256];
	const char *paths[1] = { junk };

	th_path(junk, &e->dir, "junk");
	th_sparse_file(junk, 4u << 20);
	jrx_fsck_opts_default(&o);
	o.read_only = true;
	assert_jrx_err(jrx_fsck_run(paths, 1, &o, &res), -JRX_ERR_NOT_JRX);
	assert_int_equal(res.exit_code, 8);
	assert_contains(jrx_diag(), junk);
}

/* ------------------------------------------------------------ threads */

/*
 * A report with its timings and thread count blanked: "seconds":N,
 * "threads": N and "(N.NNN s)" become T, the line "N threads, nodes read
 * with ..." goes.  Everything else must not depend on the number of
 * threads.
 */
static char *mask_times(const char *in)
{
	size_t n = strlen(in);
	char *out = malloc(n + 1), *o = out;
	const char *start = in;

	assert_non_null(out);
	while (*in) {
		const char *keys[] = { "\"seconds\":", "\"threads\": " };
		const char *eol = strchr(in, '\n');
		bool masked = false;

		if (eol && (in == start || in[-1] == '\n') &&
		    memmem(in, (size_t)(eol - in), " nodes read with ", 17)) {
			in = eol + 1;
			continue;
		}
		for (size_t k = 0; k < 2 && !masked; k++) {
			size_t kl = strlen(keys[k]);

			if (!strncmp(in, keys[k], kl)) {
				memcpy(o, in, kl);
				o += kl;
				in += kl;
				while ((*in >= '0' && *in <= '9') || *in == '.')
					in++;
				*o++ = 'T';
				masked = true;
			}
		}
		if (!masked && *in == '(' && in[1] >= '0' && in[1] <= '9') {
			const char *q = in + 1;

			while ((*q >= '0' && *q <= '9') || *q == '.')
				q++;
			if (!strncmp(q, " s)", 3)) {
				memcpy(o, "(T s)", 5);
				o += 5;
				in = q + 3;
				masked = true;
			}
		}
		if (!masked)
			*o++ = *in++;
	}
	*o = 0;
	return out;
}

/* fsck -n with threads and window, its report (text or JSON), masked. */
static char *report_with(struct env *e, unsigned threads, unsigned window,
			 bool json, struct jrx_fsck_result *res)
{
	struct jrx_fsck_opts o;
	char *text = NULL, *masked;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	assert_non_null(out);
	jrx_fsck_opts_default(&o);
	o.read_only = true;
	o.force = true;
	o.json = json;
	o.verbose = !json;
	o.threads = threads;
	o.window = window;
	o.out = out;
	o.on_problem = on_problem;
	nr_seen = 0;
	if (jrx_fsck_run(e->paths, 2, &o, res))
		fail_msg("fsck failed: %s", jrx_diag());
	fclose(out);
	assert_int_equal(res->threads, threads);
	masked = mask_times(text);
	free(text);
	return masked;
}

/*
 * The report is the same, problem for problem and in the same order,
 * whatever the number of threads and the size of the read batches: a
 * damaged array with problems in passes 3 (an xattrs leaf's bset), 4
 * (an alloc key) and 6 (40 dangling dirents), checked with 1 thread and
 * default batches, then
 * 2 and 3 threads with batches of 1, 2 and 3 nodes (the reads run ahead
 * of the visit, many batches per btree), text and JSON.
 */
static void test_threads_identical(void **state)
{
	struct env *e = *state;
	uint64_t buf[TH_KEY_WORDS];
	const struct { unsigned threads, window; } runs[] = {
		{ 2, 1 }, { 2, 3 }, { 3, 2 }, { 1, 1 }, { 2, 0 },
	};
	struct jrx_fsck_result res, res1;
	struct node_loc l;
	struct jrx_array a;
	struct jrx_fs fs;
	char *want[2];

	th_open_rw(e->paths, &a, &fs);
	for (unsigned i = 0; i < 40; i++) {
		char name[16];
		int nl = snprintf(name, sizeof(name), "ghost%u", i);
		struct jrx_bpos pos = jrx_bpos(JRX_ROOT_INO,
					       jrx_name_hash(name, (size_t)nl),
					       JRX_SNAPSHOT_DEFAULT);

		assert_jrx_ok(jrx_fs_update(&fs, JRX_BTREE_DIRENTS,
					    th_key_dirent(buf, pos, 999000 + i, 8,
							  name)));
	}
	th_close_rw(&a, &fs);
	damage_alloc_key(e);
	l = find_node(e, JRX_BTREE_XATTRS, 0);
	th_flip_byte(e->p[l.dev], l.sector * JRX_SECTOR_SIZE +
		  sizeof(struct jrx_btree_node) + sizeof(struct jrx_bset) + 16);

	for (int json = 0; json < 2; json++)
		want[json] = report_with(e, 1, 0, json, &res1);
	/* what it is about: problems of three passes, many of them */
	assert_true(res1.counts.pass[JRX_PASS_NODES] > 0);
	assert_true(res1.counts.pass[JRX_PASS_BUCKETS] > 0);
	assert_true(res1.counts.pass[JRX_PASS_NAMESPACE] >= 40);
	assert_int_equal(res1.counts.code[JRX_PR_DIRENT_DANGLING], 40);
	assert_int_equal(res1.exit_code, 4);
	for (size_t r = 0; r < sizeof(runs) / sizeof(runs[0]); r++)
		for (int json = 0; json < 2; json++) {
			char *got = report_with(e, runs[r].threads, runs[r].window,
						json, &res);

			if (strcmp(got, want[json])) {
				fprintf(stderr, "--- 1 thread:\n%s--- %u threads,"
					" batches of %u:\n%s", want[json],
					runs[r].threads, runs[r].window, got);
				fail_msg("the %s report differs with %u threads",
					 json ? "JSON" : "text", runs[r].threads);
			}
			assert_memory_equal(&res.counts, &res1.counts,
					    sizeof(res.counts));
			assert_int_equal(res.exit_code, res1.exit_code);
			free(got);
		}
	free(want[0]);
	free(want[1]);
}

/* The text and JSON reports of fsck -n (2 threads), masked. */
static void reports(struct env *e, char *out[2], struct jrx_fsck_result *res)
{
	for (int json = 0; json < 2; json++)
		out[json] = report_with(e, 2, 0, json, res);
}

static void expect_same_reports(char *want[2], char *got[2], const char *how)
{
	for (int json = 0; json < 2; json++) {
		if (strcmp(got[json], want[json])) {
			fprintf(stderr, "--- as checked:\n%s--- %s:\n%s", want[json],
				how, got[json]);
			fail_msg("the %s report differs %s", json ? "JSON" : "text",
				 how);
		}
		free(want[json]);
		free(got[json]);
	}
}

/*
 * Many sectors used twice: extents of a file that does not exist on the
 * sectors of existing extents (the same range, shifted into it, longer,
 * a range inside it), on a leaf node's, and one crossing from a bucket's
 * end into the next.  Pass 4 marks sectors in a bitmap and lists only
 * the ranges of buckets with a sector marked twice; its report (text and
 * JSON) is the one of a list of every range (the bitmap's shortcut off,
 * jrx_fsck_inject_limits), and names every overlap.
 */
static void test_used_twice_many(void **state)
{
	struct env *e = *state;
	uint64_t buf[TH_KEY_WORDS], end = 1000;
	struct jrx_bpos pos = jrx_bpos(0, 0, 0);
	struct { uint64_t sector; uint32_t size, dev, gen; } ext[6];
	struct node_loc l = find_node(e, JRX_BTREE_INODES, 0);
	uint64_t bs = 128u << 10 >> 9;	/* setup's bucket, in sectors */
	uint64_t b = 0;
	const struct jrx_bkey *k;
	struct jrx_fsck_result res, res1;
	struct jrx_array a;
	struct jrx_fs fs;
	char *want[2], *got[2];
	size_t n = 0;

	th_open_rw(e->paths, &a, &fs);
	for (; n < 6; n++) {
		const struct jrx_extent_val *v;

		assert_jrx_ok(jrx_btree_peek(&fs, JRX_BTREE_EXTENTS, pos, &k));
		assert_non_null(k);
		v = jrx_bkey_val(k);
		ext[n].sector = v->sector;
		ext[n].size = k->size;
		ext[n].dev = v->dev;
		ext[n].gen = v->gen;
		pos = jrx_bpos_successor(k->p);
	}
	for (size_t i = 0; i < n; i++) {
		uint64_t sec[4] = { ext[i].sector, ext[i].sector + ext[i].size / 2,
				    ext[i].sector, ext[i].sector + 1 };
		uint32_t size[4] = { ext[i].size, ext[i].size, ext[i].size + 3, 1 };

		for (int v = 0; v < 4; v++) {
			end += size[v] + 16;
			assert_jrx_ok(jrx_fs_update(&fs, JRX_BTREE_EXTENTS,
				th_key_extent(buf, jrx_bpos(999999, end,
						JRX_SNAPSHOT_DEFAULT), size[v],
					      ext[i].dev, sec[v], ext[i].gen, 9)));
		}
	}
	/* on a node's sectors */
	end += 8 + 16;
	assert_jrx_ok(jrx_fs_update(&fs, JRX_BTREE_EXTENTS,
		th_key_extent(buf, jrx_bpos(999999, end, JRX_SNAPSHOT_DEFAULT),
			      8, l.dev, l.sector + 4, 0, 9)));
	/* across the end of a bucket past those extents' into the next,
	 * and a range of the next one that it overlaps: the sector used
	 * twice is not in the bucket the crossing range starts in */
	for (size_t i = 0; i < n; i++)
		if (ext[i].dev == ext[0].dev && ext[i].sector / bs >= b)
			b = ext[i].sector / bs + 2;
	end += 8 + 16;
	assert_jrx_ok(jrx_fs_update(&fs, JRX_BTREE_EXTENTS,
		th_key_extent(buf, jrx_bpos(999999, end, JRX_SNAPSHOT_DEFAULT),
			      8, ext[0].dev, (b + 1) * bs - 4, ext[0].gen, 9)));
	end += 2 + 16;
	assert_jrx_ok(jrx_fs_update(&fs, JRX_BTREE_EXTENTS,
		th_key_extent(buf, jrx_bpos(999999, end, JRX_SNAPSHOT_DEFAULT),
			      2, ext[0].dev, (b + 1) * bs + 1, ext[0].gen, 9)));
	th_close_rw(&a, &fs);

	reports(e, want, &res1);
	/* 4 per extent at least, the node's and the crossing range's */
	assert_true(res1.counts.code[JRX_PR_BUCKET_USED_TWICE] >= 4 * n + 2);
	assert_true(res1.counts.code[JRX_PR_PTR_CROSSES_BUCKET] >= 1);
	jrx_fsck_inject_limits(true, 0);
	reports(e, got, &res);
	jrx_fsck_inject_limits(false, 0);
	assert_memory_equal(&res.counts, &res1.counts, sizeof(res.counts));
	expect_same_reports(want, got, "with every range listed");
}

/*
 * Dirents of every kind the targets' merge counts or finds bad: hard
 * links to files, second names of directories, dirents of the wrong type
 * and dangling ones, in the root and in other directories.  Pass 6 sorts
 * the targets a batch at a time and merges each batch with the inode
 * table; the report (text and JSON) is the same in batches of 3 as in
 * one batch, and counts what was made.
 */
static void test_dirent_batches(void **state)
{
	struct env *e = *state;
	uint64_t buf[TH_KEY_WORDS], files[8], dirs[4];
	struct jrx_bpos pos = jrx_bpos(JRX_ROOT_INO + 1, 0, 0);
	size_t nf = 0, nd = 0, made = 0;
	const struct jrx_bkey *k;
	struct jrx_fsck_result res, res1;
	struct jrx_array a;
	struct jrx_fs fs;
	char *want[2], *got[2];

	th_open_rw(e->paths, &a, &fs);
	while (nf < 8 || nd < 4) {
		const struct jrx_inode_val *v;

		assert_jrx_ok(jrx_btree_peek(&fs, JRX_BTREE_INODES, pos, &k));
		assert_non_null(k);
		v = jrx_bkey_val(k);
		if ((v->mode & 0170000) == 0100000 && nf < 8)
			files[nf++] = k->p.inode;
		else if ((v->mode & 0170000) == 0040000 && nd < 4)
			dirs[nd++] = k->p.inode;
		pos = jrx_bpos(k->p.inode + 1, 0, 0);
	}
	for (unsigned i = 0; i < 32; i++) {
		uint64_t dir = i % 3 ? dirs[i % 4] : JRX_ROOT_INO;
		uint64_t target;
		uint8_t dt;
		char name[16];
		int nl = snprintf(name, sizeof(name), "batch%u", i);

		switch (i % 4) {
		case 0:	target = files[i % 8]; dt = 8; break;	/* a link */
		case 1:	target = files[i % 8]; dt = 4; break;	/* wrong type */
		case 2:	target = dirs[(i + 1) % 4]; dt = 4; break;
		default: target = 888000 + i; dt = 8; break;	/* dangling */
		}
		assert_jrx_ok(jrx_fs_update(&fs, JRX_BTREE_DIRENTS,
			th_key_dirent(buf, jrx_bpos(dir, jrx_name_hash(name,
						    (size_t)nl),
						    JRX_SNAPSHOT_DEFAULT),
				      target, dt, name)));
		made++;
	}
	th_close_rw(&a, &fs);

	reports(e, want, &res1);
	assert_int_equal(res1.counts.code[JRX_PR_DIRENT_DANGLING], made / 4);
	assert_int_equal(res1.counts.code[JRX_PR_DIRENT_WRONG_TYPE], made / 4);
	assert_true(res1.counts.code[JRX_PR_DIR_MULTIPLE_LINKS] > 0);
	assert_true(res1.counts.code[JRX_PR_INODE_NLINK] > 0);
	jrx_fsck_inject_limits(false, 3);
	reports(e, got, &res);
	jrx_fsck_inject_limits(false, 0);
	assert_memory_equal(&res.counts, &res1.counts, sizeof(res.counts));
	expect_same_reports(want, got, "in batches of 3");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_clean, setup, th_array_teardown),
		cmocka_unit_test_setup_teardown(test_crashed, setup, th_array_teardown),
		cmocka_unit_test_setup_teardown(test_preen_clean, setup, th_array_teardown),
		cmocka_unit_test_setup_teardown(test_leaf_bset_csum, setup, th_array_teardown),
		cmocka_unit_test_setup_teardown(test_node_header_csum, setup,
						th_array_teardown),
		cmocka_unit_test_setup_teardown(test_sb_copies_differ, setup,
						th_array_teardown),
		cmocka_unit_test_setup_teardown(test_repair_json, setup,
						th_array_teardown),
		cmocka_unit_test_setup_teardown(test_held_buckets, setup,
						th_array_teardown),
		cmocka_unit_test_setup_teardown(test_repair_crash, setup,
						th_array_teardown),
		cmocka_unit_test_setup_teardown(test_alloc_mismatch, setup,
						th_array_teardown),
		cmocka_unit_test_setup_teardown(test_alloc_key_outside, setup,
						th_array_teardown),
		cmocka_unit_test_setup_teardown(test_accounting_unknown, setup,
						th_array_teardown),
		cmocka_unit_test_setup_teardown(test_accounting_version, setup,
						th_array_teardown),
		cmocka_unit_test_setup_teardown(test_dirent_dangling, setup,
						th_array_teardown),
		cmocka_unit_test_setup_teardown(test_extent_past_isize, setup,
						th_array_teardown),
		cmocka_unit_test_setup_teardown(test_middle_bset_csum, setup,
						th_array_teardown),
		cmocka_unit_test_setup_teardown(test_child_gap, setup, th_array_teardown),
		cmocka_unit_test_setup_teardown(test_used_twice, setup, th_array_teardown),
		cmocka_unit_test_setup_teardown(test_journal_seq_missing, setup,
						th_array_teardown),
		cmocka_unit_test_setup_teardown(test_not_jrx, setup, th_array_teardown),
		cmocka_unit_test_setup_teardown(test_threads_identical, setup,
						th_array_teardown),
		cmocka_unit_test_setup_teardown(test_used_twice_many, setup,
						th_array_teardown),
		cmocka_unit_test_setup_teardown(test_dirent_batches, setup,
						th_array_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
