/*
 * test_recovery.c - both recoveries end to end, the accelerated one held
 * against the reference (every test runs once per recovery; the views
 * compared are the reference's dry runs): for 50 seeds a
 * loaded array crashed at a random point (half of them with a torn jset)
 * recovers to exactly the dry-run view, leaves a clean array whose dump a
 * second recovery does not change, and takes a later workload; a crash
 * injected at a random device write during recovery, followed by another
 * recovery, gives the identical dump; bad journals are refused without a
 * write; bsets a crashed session wrote ahead of its lost jset stay hidden
 * behind the commit's blacklist, through the next session and its
 * recovery; an accounting delta a written node already holds is not
 * applied again; and when the jsets the accelerated recovery's bisect found do
 * not form the replay range, it reads the journal again in full and says
 * so.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "helpers.h"
#include "keydump.h"
#include "btree/fs.h"
#include "format/bkey.h"
#include "format/jset.h"
#include "format/sb.h"
#include "journal/jread.h"
#include "io/device.h"
#include "fsck/fsck.h"
#include "recovery/recover.h"
#include "workload/verify.h"
#include "workload/load.h"

struct env {
	struct th_dir dir;
	char p[2][256], oracle[256];
	const char *paths[2];
};

static int setup(void **state)
{
	static struct env e;

	th_dir_make(&e.dir);
	th_path(e.p[0], &e.dir, "d0");
	th_path(e.p[1], &e.dir, "d1");
	th_path(e.oracle, &e.dir, "oracle.sqlite");
	e.paths[0] = e.p[0];
	e.paths[1] = e.p[1];
	*state = &e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;

	th_dir_remove(&e->dir);
	return 0;
}

static void format(struct env *e, unsigned replicas)
{
	struct th_geom g = {
		.size = 96ull << 20, .bucket_size = 128u << 10,
		.node_size = 16u << 10, .replicas = replicas,
		.journal_size = 2u << 20,
	};

	remove(e->p[0]);
	remove(e->p[1]);
	assert_jrx_ok(th_format(e->paths, 2, &g));
}

static void load(struct env *e, uint64_t seed, uint64_t ops, uint64_t crash_at,
		 bool torn, struct jrx_load_result *r)
{
	struct jrx_load_opts o;
	struct jrx_array a;

	jrx_load_opts_default(&o);
	o.ops = ops;
	o.seed = seed;
	o.crash_after_ops = crash_at;
	o.torn = torn;
	o.oracle = e->oracle;
	assert_jrx_ok(jrx_array_open(&a, e->paths, 2, 0));
	assert_jrx_ok(jrx_load(&a, &o, r));
	jrx_array_close(&a);
}

/* ------------------------------------------------------------ dumps */

/* The post-recovery view (dry run on an unclean array), as text. */
static char *dump_view(struct env *e)
{
	struct jrx_array a;
	struct jrx_fs fs;
	char *text;

	assert_jrx_ok(jrx_array_open(&a, e->paths, 2, JRX_OPEN_RDONLY));
	assert_jrx_ok(jrx_open_view(&a, &fs, NULL));
	text = dump_fs_text(&fs);
	jrx_fs_abandon(&fs);
	jrx_array_close(&a);
	return text;
}

/* First differing line of two dumps, for the failure message. */
static void assert_same_dump(const char *want, const char *got,
			     const char *what, uint64_t seed)
{
	char msg[256];

	snprintf(msg, sizeof(msg), "seed %llu: %s", (unsigned long long)seed,
		 what);
	expect_same_text(want, got, msg);
}

/*
 * Every test runs twice: with the reference recovery, and with the
 * accelerated one, whose result is then held against the reference's
 * (dump_view() is the reference's dry run).  The accelerated runs go
 * round the io backends (pread for io_uring or aio where the host refuses
 * it),
 * thread counts, read modes, replay unit sizes and NUMA placement on and
 * off.
 */
static bool accelerated;
static unsigned recoveries;

static struct jrx_recover_opts mode(bool dry)
{
	static const enum jrx_io_backend io[] = {
		JRX_IO_AUTO, JRX_IO_URING, JRX_IO_AIO, JRX_IO_PREAD,
	};
	unsigned n = recoveries++;
	struct jrx_recover_opts o = { .dry_run = dry, .reference = !accelerated };

	if (accelerated) {
		o.io = th_io_backend(io[n % 4], io[n % 4] == JRX_IO_AIO ?
				     "accelerated recoveries on aio" :
				     "accelerated recoveries on io_uring");
		o.threads = 1 + (n / 4) % 4;	/* every pair in 16 */
		o.full_scan = n % 5 == 4;
		/* replay units of a few keys: leaves sliced between workers */
		o.replay_unit = n % 2 ? 3 + n % 7 : 0;
		o.numa = n % 3 == 2 ? JRX_NUMA_OFF : JRX_NUMA_AUTO;
	}
	return o;
}

static int recover(struct env *e, bool dry, struct jrx_report *r)
{
	struct jrx_recover_opts o = mode(dry);
	struct jrx_array a;
	int ret;

	assert_jrx_ok(jrx_array_open(&a, e->paths, 2, dry ? JRX_OPEN_RDONLY : 0));
	jrx_report_init(r, accelerated ? "accelerated" : "reference");
	ret = jrx_recover(&a, &o, r, NULL);
	jrx_array_close(&a);
	return ret;
}

/* fsck -n finds nothing (th_assert_fsck_clean), named by seed and when. */
static void assert_fsck_clean(struct env *e, uint64_t seed, const char *when)
{
	char what[96];

	snprintf(what, sizeof(what), "seed %llu: %s", (unsigned long long)seed,
		 when);
	th_assert_fsck_clean(e->paths, 2, what);
}

/* The store holds exactly the oracle's durable operations. */
static void assert_oracle_match(struct env *e, uint64_t seed)
{
	struct jrx_verify_opts o = { .out = NULL, .max_diffs = 5 };
	struct jrx_verify_result res;
	struct jrx_array a;
	struct jrx_fs fs;
	int ret;

	assert_jrx_ok(jrx_array_open(&a, e->paths, 2, JRX_OPEN_RDONLY));
	assert_jrx_ok(jrx_open_view(&a, &fs, NULL));
	ret = jrx_verify(&fs, e->oracle, &o, &res);
	jrx_fs_abandon(&fs);
	jrx_array_close(&a);
	if (ret) {
		char line[512] = "";

		if (res.nr_kept)
			jrx_verify_diff_text(line, sizeof(line), &res.kept[0]);
		fail_msg("seed %llu: verify returned %d, %llu differences;"
			 " first: %s", (unsigned long long)seed, ret,
			 (unsigned long long)res.diffs, line);
	}
	assert_true(res.files > 0);
}

static bool is_clean(struct env *e)
{
	struct jrx_array a;
	bool clean;

	assert_jrx_ok(jrx_array_open(&a, e->paths, 2, JRX_OPEN_RDONLY));
	clean = a.sb.flags & JRX_SB_CLEAN;
	jrx_array_close(&a);
	return clean;
}

/*
 * The phases of a committing recovery ran in order and say when: each
 * phase_start (jrx_now(), the clock perf/phases.sh cuts profiles by) is
 * set, no earlier than the previous phase's start plus its duration, and
 * the JSON report carries them as "phase_starts".
 */
static void assert_phases_timed(const struct jrx_report *r, uint64_t seed)
{
	char *text = NULL, want[64];
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	for (unsigned p = JRX_PHASE_JOURNAL_READ; p < JRX_PHASE_NR; p++) {
		if (r->phase_start[p] <= 0)
			fail_msg("seed %llu: phase %s has no start time",
				 (unsigned long long)seed, jrx_phase_names[p]);
		if (p > JRX_PHASE_JOURNAL_READ &&
		    r->phase_start[p] + 1e-6 < r->phase_start[p - 1] + r->phase[p - 1])
			fail_msg("seed %llu: phase %s starts at %.6f, before %s"
				 " (%.6f + %.6f s) ended", (unsigned long long)seed,
				 jrx_phase_names[p], r->phase_start[p],
				 jrx_phase_names[p - 1], r->phase_start[p - 1],
				 r->phase[p - 1]);
	}
	assert_non_null(f);
	jrx_report_print_json(r, f);
	fclose(f);
	snprintf(want, sizeof(want), "\"phase_starts\":{\"superblock\":");
	if (!strstr(text, want))
		fail_msg("seed %llu: JSON report lacks %s: %s",
			 (unsigned long long)seed, want, text);
	free(text);
}

/* ------------------------------------------------------------ tests */

static void test_fifty_seeds(void **state)
{
	struct env *e = *state;
	struct jrx_load_result lr;
	struct jrx_report r;
	struct th_file_state before[2], after[2];

#ifdef JRX_TEST_TSAN
	const uint64_t seeds = 12;	/* tests/CMakeLists.txt says why */
#else
	const uint64_t seeds = 50;
#endif

	for (uint64_t seed = 1; seed <= seeds; seed++) {
		uint64_t rnd = seed * 0x9e3779b97f4a7c15ull;
		uint64_t ops = 1500 + th_rand_below(&rnd, 2500);
		uint64_t crash = 100 + th_rand_below(&rnd, ops - 100);
		bool torn = seed & 1;
		char *view, *done, *again;
		uint64_t first_new_seq;

		format(e, 1 + (unsigned)(seed % 2));
		load(e, seed, ops, crash, torn, &lr);
		assert_true(lr.crashed);
		assert_false(is_clean(e));

		/* the dry run writes nothing */
		for (unsigned i = 0; i < 2; i++)
			th_file_state(e->p[i], &before[i]);
		view = dump_view(e);
		assert_jrx_ok(recover(e, true, &r));
		for (unsigned i = 0; i < 2; i++) {
			th_file_state(e->p[i], &after[i]);
			if (before[i].hash != after[i].hash)
				fail_msg("seed %llu: dry run changed %s",
					 (unsigned long long)seed, e->p[i]);
		}
		assert_string_equal(r.result, "dry_run");
		assert_int_equal(r.seq_last, lr.last_durable_seq);

		/* recovery commits exactly the dry-run view */
		assert_jrx_ok(recover(e, false, &r));
		assert_string_equal(r.result, "recovered");
		assert_phases_timed(&r, seed);
		first_new_seq = r.new_journal_seq;
		assert_true(r.keys_read >= r.keys_after_dedup);
		assert_true(r.keys_after_dedup > 0);
		/* the accelerated sort took its ranges from the journal read */
		if (accelerated && !r.spilled && !r.sort_prescanned)
			fail_msg("seed %llu: the accelerated recovery's sort made"
				 " its own first pass, not the prescan's",
				 (unsigned long long)seed);
		if (!accelerated && r.sort_prescanned)
			fail_msg("seed %llu: the reference reports a prescan",
				 (unsigned long long)seed);
		assert_true(is_clean(e));
		done = dump_view(e);
		assert_same_dump(view, done, "committed vs dry run", seed);
		assert_fsck_clean(e, seed, "after recovery");
		assert_oracle_match(e, seed);

		/* a second recovery changes nothing */
		for (unsigned i = 0; i < 2; i++)
			th_file_state(e->p[i], &before[i]);
		assert_jrx_ok(recover(e, false, &r));
		assert_string_equal(r.result, "clean");
		for (unsigned i = 0; i < 2; i++) {
			th_file_state(e->p[i], &after[i]);
			assert_int_equal(before[i].hash, after[i].hash);
		}
		again = dump_view(e);
		assert_same_dump(done, again, "second recovery", seed);

		/* every fifth seed: the store takes a new session that crashes
		 * too, and recovers behind the blacklist */
		if (seed % 5 == 0) {
			char *v2, *d2;
			uint64_t next = first_new_seq;

			load(e, seed + 1000, 800, 500, !torn, &lr);
			v2 = dump_view(e);
			assert_jrx_ok(recover(e, false, &r));
			/* the new session journaled past the blacklist */
			if (r.seq_first < next)
				fail_msg("seed %llu: second session replays from"
					 " seq %llu, below %llu", (unsigned long long)seed,
					 (unsigned long long)r.seq_first,
					 (unsigned long long)next);
			d2 = dump_view(e);
			assert_same_dump(v2, d2, "second session", seed);
			free(v2);
			free(d2);
		}
		free(view);
		free(done);
		free(again);
	}
}

/* A power cut at a random device write of recovery, then recovery again. */
static void test_crash_during_recovery(void **state)
{
	struct env *e = *state;
	struct jrx_load_result lr;
	struct jrx_report r;

	for (uint64_t seed = 100; seed < 112; seed++) {
		uint64_t rnd = seed * 0x2545f4914f6cdd1dull, writes, at;
		char *view, *done;
		int ret;

		format(e, 2);
		load(e, seed, 3000, 2000 + th_rand_below(&rnd, 900), seed & 1, &lr);
		view = dump_view(e);
		assert_jrx_ok(recover(e, true, &r));
		/* node writes (whole nodes and appended bsets), then the
		 * superblock: 2 copies x 2 devices */
		writes = r.nodes_written + r.bsets_appended + 4;
		at = 1 + th_rand_below(&rnd, writes);

		jrx_recover_crash_after_writes(at);
		ret = recover(e, false, &r);
		jrx_recover_crash_after_writes(0);
		if (at <= writes - 1 || ret) {
			/* the last write may land: then recovery finished */
			assert_jrx_err(ret, -JRX_ERR_CRASHED);
		}
		assert_jrx_ok(recover(e, false, &r));
		assert_true(is_clean(e));
		done = dump_view(e);
		assert_same_dump(view, done, "after a crash during recovery",
				 seed);
		assert_fsck_clean(e, seed, "after a crash during recovery");
		assert_oracle_match(e, seed);
		/* and the superblock copies agree again */
		{
			struct jrx_array a;

			assert_jrx_ok(jrx_array_open(&a, e->paths, 2, JRX_OPEN_RDONLY));
			if (a.sb_stale)
				fail_msg("seed %llu: superblock copies still differ:\n%s",
					 (unsigned long long)seed, a.notes);
			jrx_array_close(&a);
		}
		free(view);
		free(done);
	}
}

/* The newest jset's two replicas differ: an error naming both places. */
static void test_differing_replicas(void **state)
{
	struct env *e = *state;
	struct jrx_load_result lr;
	struct jrx_report r;
	struct jrx_array a;
	struct th_file_state before[2], after[2];
	int ret;

	format(e, 2);
	load(e, 7, 2000, 1500, false, &lr);
	/* rewrite one copy of a jset with a changed clock, checksum redone */
	{
		struct jrx_journal_scan s;
		const struct jrx_jset_info *hit = NULL;
		struct jrx_jset *j;
		size_t bytes;

		assert_jrx_ok(jrx_array_open(&a, e->paths, 2, JRX_OPEN_RDONLY));
		assert_jrx_ok(jrx_journal_read_seq(&a, &s, JRX_SCAN_KEEP));
		for (size_t i = 0; i < s.nr; i++)
			if (s.v[i].state == JRX_JSET_OK &&
			    s.v[i].seq == lr.last_durable_seq - 3 && !hit)
				hit = &s.v[i];
		assert_non_null(hit);
		bytes = hit->bytes;
		j = jrx_alloc_aligned(bytes);
		memcpy(j, hit->j, bytes);
		{
			struct jrx_jset_entry *je;
			bool changed = false;

			jrx_for_each_jset_entry(je, j)
				if (je->type == JRX_JE_CLOCK) {
					((struct jrx_clock_val *)(je + 1))->time += 1;
					changed = true;
				}
			assert_true(changed);
		}
		jrx_jset_set_csum(j);
		th_file_pwrite(e->p[hit->dev], j, bytes, hit->offset);
		free(j);
		jrx_journal_scan_free(&s);
		jrx_array_close(&a);
	}
	for (unsigned i = 0; i < 2; i++)
		th_file_state(e->p[i], &before[i]);
	ret = recover(e, false, &r);
	assert_jrx_err(ret, -JRX_ERR_JOURNAL_REPLICAS_DIFFER);
	assert_contains(jrx_diag(), "replicas differ");
	assert_contains(jrx_diag(), e->p[0]);
	assert_contains(jrx_diag(), e->p[1]);
	for (unsigned i = 0; i < 2; i++) {
		th_file_state(e->p[i], &after[i]);
		assert_int_equal(before[i].hash, after[i].hash);
	}
}

/* A seq of the replay range with no valid copy: an error, nothing written. */
static void test_missing_seq(void **state)
{
	struct env *e = *state;
	struct jrx_load_result lr;
	struct jrx_report r;
	struct jrx_array a;
	struct jrx_journal_scan s;
	struct th_file_state before, after;
	uint64_t victim;
	char want[64];

	format(e, 1);
	load(e, 9, 2000, 1500, false, &lr);
	victim = lr.last_durable_seq - 2;
	assert_jrx_ok(jrx_array_open(&a, e->paths, 2, JRX_OPEN_RDONLY));
	assert_jrx_ok(jrx_journal_read_seq(&a, &s, 0));
	for (size_t i = 0; i < s.nr; i++)
		if (s.v[i].state == JRX_JSET_OK && s.v[i].seq == victim) {
			uint8_t junk[64];

			memset(junk, 0x5a, sizeof(junk));
			/* inside the jset's entries: its checksum fails */
			th_file_pwrite(e->p[s.v[i].dev], junk, sizeof(junk),
				       s.v[i].offset + 128);
		}
	jrx_journal_scan_free(&s);
	jrx_array_close(&a);

	th_file_state(e->p[0], &before);
	assert_jrx_err(recover(e, false, &r), -JRX_ERR_JOURNAL_SEQ_MISSING);
	snprintf(want, sizeof(want), "seq %llu is missing",
		 (unsigned long long)victim);
	assert_contains(jrx_diag(), want);
	th_file_state(e->p[0], &after);
	assert_int_equal(before.hash, after.hash);
}

/* A read-only array cannot be recovered in place. */
static void test_read_only_refused(void **state)
{
	struct env *e = *state;
	struct jrx_load_result lr;
	struct jrx_recover_opts o = mode(false);
	struct jrx_report r;
	struct jrx_array a;

	format(e, 1);
	load(e, 11, 1000, 700, true, &lr);
	assert_jrx_ok(jrx_array_open(&a, e->paths, 2, JRX_OPEN_RDONLY));
	jrx_report_init(&r, "reference");
	assert_jrx_err(jrx_recover(&a, &o, &r, NULL), -JRX_ERR_READ_ONLY);
	jrx_array_close(&a);
	assert_false(is_clean(e));
}

/* ------------------------------------------------------------ blacklist */

/* One key of a write session: an xattr or a dirent, its value a tag. */
struct tagged {
	unsigned btree;			/* JRX_BTREE_XATTRS or _DIRENTS */
	struct jrx_bpos p;
	char	 tag;
};

static struct jrx_bkey *tagged_key(uint64_t *buf, const struct tagged *t)
{
	char value[64];

	if (t->btree == JRX_BTREE_DIRENTS)
		return th_key_dirent(buf, t->p, (uint64_t)t->tag, 8, "blacklist");
	memset(value, t->tag, sizeof(value));
	return th_key_xattr(buf, t->p, "user.blacklist", value, sizeof(value));
}

/* The tag of t's key in the post-recovery view, or 0 if it has none. */
static char view_tag(struct env *e, const struct tagged *t)
{
	const struct jrx_bkey *k;
	struct jrx_array a;
	struct jrx_fs fs;
	char tag = 0;

	assert_jrx_ok(jrx_array_open(&a, e->paths, 2, JRX_OPEN_RDONLY));
	assert_jrx_ok(jrx_open_view(&a, &fs, NULL));
	assert_jrx_ok(jrx_btree_lookup(&fs, t->btree, t->p, &k));
	if (k && t->btree == JRX_BTREE_DIRENTS) {
		tag = (char)((const struct jrx_dirent_val *)jrx_bkey_val(k))->target;
	} else if (k) {
		const struct jrx_xattr_val *x = jrx_bkey_val(k);

		tag = ((const char *)(x + 1))[x->name_len];
	}
	jrx_fs_abandon(&fs);
	jrx_array_close(&a);
	return tag;
}

/*
 * A write session on the fs API: `durable` journaled in a jset that
 * lands, then `ahead` only in nodes written back (bsets appended in
 * place) ahead of the next jset, which never does: a power cut.  Returns
 * the seq those bsets carry.
 */
static uint64_t session_ahead(struct env *e, const struct tagged *durable,
			      const struct tagged *ahead)
{
	uint64_t buf[TH_KEY_WORDS], seq;
	struct jrx_array a;
	struct jrx_fs fs;

	assert_jrx_ok(jrx_array_open(&a, e->paths, 2, 0));
	assert_jrx_ok(jrx_fs_open(&fs, &a, 0));
	assert_jrx_ok(jrx_fs_update(&fs, durable->btree, tagged_key(buf, durable)));
	assert_jrx_ok(jrx_fs_commit(&fs));
	assert_jrx_ok(jrx_fs_journal_flush(&fs, false));
	seq = jrx_fs_seq(&fs);
	assert_jrx_ok(jrx_fs_update(&fs, ahead->btree, tagged_key(buf, ahead)));
	assert_jrx_ok(jrx_fs_commit(&fs));
	assert_jrx_ok(jrx_fs_writeback_all(&fs));
	/* in place: the committed roots reach those bsets */
	assert_int_equal(fs.rewrites + fs.splits, 0);
	jrx_fs_abandon(&fs);
	jrx_array_close(&a);
	return seq;
}

/*
 * DESIGN.md 2.7: bsets that a crashed session appended ahead of a jset
 * that never landed carry a seq past max_seq.  Recovery ignores them,
 * and its commit blacklists (max_seq, max_seq + pad) so that they stay
 * ignored once the array is clean: in the committed state, and when the
 * next session's keys land in the same node and its crash is recovered.
 * Each btree is one small root leaf, so every write-back appends in place
 * and the replay of one btree leaves the other's nodes where they are.
 */
static void test_blacklist_hides_bsets_ahead(void **state)
{
	struct env *e = *state;
	const struct tagged a = { JRX_BTREE_DIRENTS, jrx_bpos(4096, 7, 0), 'a' };
	const struct tagged b = { JRX_BTREE_XATTRS, jrx_bpos(4096, 7, 0), 'b' };
	const struct tagged c = { JRX_BTREE_XATTRS, jrx_bpos(4096, 9, 0), 'c' };
	const struct tagged d = { JRX_BTREE_DIRENTS, jrx_bpos(4096, 9, 0), 'd' };
	uint64_t buf[TH_KEY_WORDS], ahead;
	struct jrx_report r;
	struct jrx_array arr;
	struct jrx_fs fs;
	char *view, *done;
	bool covered = false;

	/* a clean store: a few keys in both btrees */
	format(e, 1);
	assert_jrx_ok(jrx_array_open(&arr, e->paths, 2, 0));
	assert_jrx_ok(jrx_fs_open(&fs, &arr, 0));
	for (uint64_t i = 0; i < 8; i++) {
		struct tagged x = { JRX_BTREE_XATTRS, jrx_bpos(4096, 100 + i, 0), 'o' };
		struct tagged y = { JRX_BTREE_DIRENTS, x.p, 'o' };

		assert_jrx_ok(jrx_fs_update(&fs, x.btree, tagged_key(buf, &x)));
		assert_jrx_ok(jrx_fs_update(&fs, y.btree, tagged_key(buf, &y)));
		assert_jrx_ok(jrx_fs_commit(&fs));
	}
	assert_jrx_ok(jrx_fs_shutdown(&fs));
	jrx_array_close(&arr);

	/* a durable dirent, an xattr only in a bset ahead; recovery */
	ahead = session_ahead(e, &a, &b);
	view = dump_view(e);
	assert_int_equal(view_tag(e, &a), 'a');
	assert_int_equal(view_tag(e, &b), 0);
	assert_jrx_ok(recover(e, false, &r));
	assert_string_equal(r.result, "recovered");
	assert_int_equal(r.seq_last, ahead - 1);

	/* the superblock blacklists the seq of the bsets written ahead */
	assert_jrx_ok(jrx_array_open(&arr, e->paths, 2, JRX_OPEN_RDONLY));
	for (uint32_t i = 0; i < arr.sb.nr_blacklist; i++)
		covered |= arr.sb.blacklist[i].start <= ahead &&
			ahead <= arr.sb.blacklist[i].end;
	if (!covered)
		fail_msg("recovery to seq %llu committed %u blacklist range(s),"
			 " none covering seq %llu of the bsets written ahead of"
			 " the lost jset", (unsigned long long)r.seq_last,
			 arr.sb.nr_blacklist, (unsigned long long)ahead);
	jrx_array_close(&arr);
	if (view_tag(e, &b))
		fail_msg("xattr B, only in a bset written ahead of the lost jset"
			 " (seq %llu), is visible after recovery",
			 (unsigned long long)ahead);
	done = dump_view(e);
	assert_same_dump(view, done, "bsets written ahead, after recovery", 0);

	/* the next session's durable xattr lands in B's node; it crashes */
	session_ahead(e, &c, &d);
	assert_jrx_ok(recover(e, false, &r));
	assert_string_equal(r.result, "recovered");
	assert_int_equal(view_tag(e, &c), 'c');
	assert_int_equal(view_tag(e, &d), 0);
	if (view_tag(e, &b))
		fail_msg("xattr B, only in a bset written ahead of a jset lost a"
			 " session earlier (seq %llu), is visible after the next"
			 " session's recovery", (unsigned long long)ahead);
	free(view);
	free(done);
}

/*
 * DESIGN.md 2.4: an accounting delta of the replay range that a node
 * already holds (written back before its jset closed, as a split of the
 * accounting btree writes it; its version is the jset's seq) is not
 * applied a second time: recovery leaves the counter as the store had it.
 */
static void test_delta_applied_once(void **state)
{
	struct env *e = *state;
	struct jrx_bpos p = jrx_bpos(JRX_ACCT_INODES, 77, 0);
	const struct jrx_accounting_val *v;
	uint64_t buf[TH_KEY_WORDS];
	const struct jrx_bkey *k;
	struct jrx_report r;
	struct jrx_array a;
	struct jrx_fs fs;

	format(e, 1);
	assert_jrx_ok(jrx_array_open(&a, e->paths, 2, 0));
	assert_jrx_ok(jrx_fs_open(&fs, &a, 0));
	assert_jrx_ok(jrx_fs_update(&fs, JRX_BTREE_ACCOUNTING,
				    th_key_accounting(buf, p, jrx_fs_seq(&fs),
						      5, 7)));
	assert_jrx_ok(jrx_fs_commit(&fs));
	assert_jrx_ok(jrx_fs_writeback_all(&fs));
	assert_jrx_ok(jrx_fs_journal_flush(&fs, false));
	jrx_fs_abandon(&fs);
	jrx_array_close(&a);

	assert_jrx_ok(recover(e, false, &r));
	assert_string_equal(r.result, "recovered");
	assert_jrx_ok(jrx_array_open(&a, e->paths, 2, JRX_OPEN_RDONLY));
	assert_jrx_ok(jrx_open_view(&a, &fs, NULL));
	assert_jrx_ok(jrx_btree_lookup(&fs, JRX_BTREE_ACCOUNTING, p, &k));
	assert_non_null(k);
	v = jrx_bkey_val(k);
	if (v->d[0] != 5 || v->d[1] != 7)
		fail_msg("accounting counter (%llu, %llu): %lld, %lld after"
			 " recovery; the store had 5, 7 (a delta already in a"
			 " written node applied again?)",
			 (unsigned long long)p.inode,
			 (unsigned long long)p.offset, (long long)v->d[0],
			 (long long)v->d[1]);
	jrx_fs_abandon(&fs);
	jrx_array_close(&a);
}

/* ------------------------------------------------------------ bisect retry */

/*
 * The first jset of device 0's first journal bucket zeroed (a discarded
 * bucket, all of it below last_seq): the bisect takes device 0 for
 * unwritten and finds a replay range with seqs missing; the accelerated
 * recovery reads the journal again in full, recovers the reference's
 * state, and the report says why.
 */
static void test_bisect_retry(void **state)
{
	struct env *e = *state;
	struct jrx_recover_opts o = { .threads = 2 };
	struct jrx_journal_scan s;
	struct jrx_load_result lr;
	struct jrx_report r;
	struct jrx_array a;
	uint64_t off, top = 0, last_seq = 0, below = 0;
	uint8_t zero[4096] = { 0 };
	char *view, *done;

	format(e, 1);
	load(e, 13, 8000, 7000, false, &lr);
	assert_jrx_ok(jrx_array_open(&a, e->paths, 2, JRX_OPEN_RDONLY));
	off = jrx_bucket_offset(&a.sb, a.sb.members[0].journal_bucket);
	assert_jrx_ok(jrx_journal_read_seq(&a, &s, 0));
	for (size_t i = 0; i < s.nr; i++)
		if (s.v[i].state == JRX_JSET_OK && s.v[i].seq > top) {
			top = s.v[i].seq;
			last_seq = s.v[i].last_seq;
		}
	for (size_t i = 0; i < s.nr; i++)
		if (s.v[i].dev == 0 && s.v[i].offset >= off &&
		    s.v[i].offset < off + a.sb.bucket_size &&
		    s.v[i].seq > below)
			below = s.v[i].seq;
	jrx_journal_scan_free(&s);
	jrx_array_close(&a);
	if (!below || below >= last_seq)
		fail_msg("the load no longer leaves device 0's first journal"
			 " bucket below last_seq (its newest seq %llu, replay"
			 " range [%llu, %llu]): change its parameters",
			 (unsigned long long)below,
			 (unsigned long long)last_seq, (unsigned long long)top);
	th_file_pwrite(e->p[0], zero, sizeof(zero), off);

	view = dump_view(e);
	assert_jrx_ok(jrx_array_open(&a, e->paths, 2, 0));
	jrx_report_init(&r, "accelerated");
	assert_jrx_ok(jrx_recover(&a, &o, &r, NULL));
	jrx_array_close(&a);
	assert_string_equal(r.result, "recovered");
	assert_int_equal(r.seq_last, top);
	assert_string_equal(r.read_mode, "full_scan");
	assert_contains(r.full_scan_why, "the jsets the bisect found do not"
			" form the replay range");
	done = dump_view(e);
	assert_same_dump(view, done, "after the bisect's full-scan retry", 13);
	assert_oracle_match(e, 13);
	free(view);
	free(done);
}

#define BOTH(fn)							\
	static void fn##_reference(void **state)			\
	{								\
		accelerated = false;					\
		fn(state);						\
	}								\
	static void fn##_accelerated(void **state)			\
	{								\
		accelerated = true;					\
		fn(state);						\
	}
BOTH(test_fifty_seeds)
BOTH(test_crash_during_recovery)
BOTH(test_differing_replicas)
BOTH(test_missing_seq)
BOTH(test_read_only_refused)
BOTH(test_blacklist_hides_bsets_ahead)
BOTH(test_delta_applied_once)
#define TESTS(fn) cmocka_unit_test(fn##_reference), cmocka_unit_test(fn##_accelerated)

int main(void)
{
	const struct CMUnitTest tests[] = {
		TESTS(test_fifty_seeds),
		TESTS(test_crash_during_recovery),
		TESTS(test_differing_replicas),
		TESTS(test_missing_seq),
		TESTS(test_read_only_refused),
		TESTS(test_blacklist_hides_bsets_ahead),
		TESTS(test_delta_applied_once),
		cmocka_unit_test(test_bisect_retry),
	};

	return th_exit_code(cmocka_run_group_tests(tests, setup, teardown));
}
