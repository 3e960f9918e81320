/*
 * test_spill.c - journals bigger than the memory limit (issue 17;
 * sort/spill.h, recovery/budget.h, recovery/spilled.h):
 *  - the spilled sort alone: a journal cut into runs across its replicas,
 *    merged in passes of two, gives exactly the in-memory sort's keys,
 *    accounting deltas and seqs included;
 *  - recoveries whose journal is at least 4x the limit: uniform, zipf,
 *    hot and one-btree journals end identical to the
 *    reference and to the unlimited recovery, fsck clean, with the same
 *    node writes; hot leaves that alone overflow a window are streamed,
 *    their pieces written by parts on two threads;
 *  - a power cut at a random write of a spilled recovery, then another
 *    recovery (spilled, unlimited or the reference), ends the same;
 *  - with io_uring refused, the same (runs read back without read-ahead);
 *  - a limit too small for the smallest batches is refused before
 *    anything is written;
 *  - the jrx binary's peak RSS stays within --memory-limit, and its report
 *    says the journal was spilled.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include "replay_env.h"
#include "keydump.h"
#include "journal/jindex.h"
#include "journal/jscan.h"
#include "sort/spill.h"
#include "recovery/budget.h"
#include "replay/replay.h"
#include "replay/replay_int.h"
#include "util/memory.h"

/* Big enough for journals of 100 MB and more, small nodes (many leaves). */
static const struct th_geom geom = {
	.size = 4ull << 30, .bucket_size = 256u << 10,
	.node_size = 16u << 10, .replicas = 1, .journal_size = 320u << 20,
};

/* The stages' share of a limit: what this process holds now, plus this. */
#define STAGES (14u << 20)

/* A limit that leaves the stages STAGES bytes in this process. */
static uint64_t small_limit(void)
{
	return jrx_rss_now() + (10u << 20) + STAGES;
}

/* ------------------------------------------------------------ the sort */

static int cmp_seq(const void *x, const void *y)
{
	const struct jrx_jindex_ent *a = x, *b = y;

	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* One run of the jsets s->v[lo, hi) (scan order: device by device). */
static void spill_chunk(struct jrx_spill *sp, const struct jrx_journal_scan *s,
			size_t lo, size_t hi)
{
	struct jrx_jindex ix = { 0 };
	struct jrx_sort_opts so = { .threads = 2, .keep_all = true };
	struct jrx_sort_result res;

	ix.v = calloc(hi - lo + 1, sizeof(*ix.v));
	assert_non_null(ix.v);
	for (size_t i = lo; i < hi; i++)
		if (s->v[i].state == JRX_JSET_OK)
			ix.v[ix.nr++] = (struct jrx_jindex_ent){
				.seq = s->v[i].seq, .j = s->v[i].j, .copies = 1 };
	qsort(ix.v, ix.nr, sizeof(*ix.v), cmp_seq);
	assert_jrx_ok(jrx_sort_journal(&ix, &so, &res, NULL));
	assert_jrx_ok(jrx_spill_write_run(sp, &ix, &res));
	jrx_sort_result_free(&res);
	free(ix.v);
}

/*
 * A journal written on two replicas, cut into 14 chunks in scan order (so
 * a seq's two copies land in different chunks: the second copy is left
 * out, and chunks of second copies only make no run), merged two at a
 * time until two are left and then streamed: the in-memory sort's
 * result, key for key.
 */
static void test_runs_merge(void **state)
{
	struct env *e = *state;
	struct th_geom g = geom;
	struct jrx_synth_opts so;
	struct jrx_array a;
	struct jrx_io_engine *io;
	struct jrx_journal_scan s;
	struct jrx_jindex ix;
	struct jrx_sort_opts o = { .threads = 2 };
	struct jrx_sort_result want;
	struct jrx_spill sp;
	struct jrx_spill_filter f;
	size_t at = 0, chunks = 14;
	uint64_t copies = 0;

	g.replicas = 2;
	g.journal_size = 64u << 20;
	re_synth_opts(&so, 60000, JRX_SYNTH_ZIPF, 5);
	re_make_geom(e, &so, &g);
	assert_jrx_ok(jrx_array_open(&a, e->ref, 2, JRX_OPEN_RDONLY));
	assert_jrx_ok(jrx_io_open(&io, &a, &(struct jrx_io_opts){
		.backend = JRX_IO_PREAD, .threads = 2 }));
	assert_jrx_ok(jrx_journal_read_par(&a, io, 0, &s));
	assert_jrx_ok(jrx_jindex_build(&ix, &a.sb, &s, NULL, NULL));
	for (size_t i = 0; i < ix.nr; i++)
		copies += ix.v[i].copies;
	assert_true(copies > ix.nr);		/* replicas are there */
	assert_jrx_ok(jrx_sort_journal(&ix, &o, &want, NULL));

	assert_jrx_ok(jrx_spill_open(&sp, e->dir.path, 64u << 10));
	for (size_t c = 0; c < chunks; c++) {
		size_t end = s.nr * (c + 1) / chunks;

		spill_chunk(&sp, &s, at, end);
		at = end;
	}
	/* every key of one copy of each seq, no key of the other copy */
	if (!sp.st.copies_skipped)
		fail_msg("no jset was left out of a run: the chunks held no"
			 " seq twice, the test is void");
	{
		struct jrx_sort_opts ka = { .threads = 2, .keep_all = true };
		struct jrx_sort_result all;

		assert_jrx_ok(jrx_sort_journal(&ix, &ka, &all, NULL));
		if (sp.st.keys != all.nr)
			fail_msg("%llu keys spilled, one copy of the journal"
				 " holds %zu", (unsigned long long)sp.st.keys,
				 all.nr);
		jrx_sort_result_free(&all);
	}
	if (sp.nr_runs < 5 || sp.nr_runs >= chunks)
		fail_msg("%zu runs from %zu chunks: expected fewer runs than"
			 " chunks (chunks of second copies make none), and 5"
			 " or more (two passes)", sp.nr_runs, chunks);
	f = (struct jrx_spill_filter){ .first = ix.last_seq, .last = ix.max_seq,
				       .bl = ix.bl, .nr_bl = ix.nr_bl };
	assert_jrx_ok(jrx_spill_reduce(&sp, &f, 2));
	assert_true(sp.nr_runs <= 2);
	assert_true(sp.st.merge_passes >= 2);

	at = 0;
	for (unsigned sec = 0; sec < JRX_SPILL_SECTIONS; sec++) {
		struct jrx_spill_merge *m;
		const struct jrx_spill_rec *r;
		int ret;

		assert_jrx_ok(jrx_spill_merge_open(&m, &sp, sec, &f));
		while ((ret = jrx_spill_merge_next(m, &r)) > 0) {
			const struct jrx_jkey *k;

			if (at >= want.nr)
				fail_msg("section %u: more keys than the in-memory"
					 " sort's %zu", sec, want.nr);
			k = &want.v[at];
			if (r->level != k->level || r->btree_id != k->btree_id ||
			    r->seq != ix.v[k->jset].seq || r->u64s != k->k->u64s ||
			    memcmp(jrx_spill_key(r), k->k, k->k->u64s * 8u))
				fail_msg("key %zu of %zu differs: spilled btree %u"
					 " level %u seq %llu, in memory btree %u"
					 " level %u seq %llu", at, want.nr,
					 r->btree_id, r->level,
					 (unsigned long long)r->seq, k->btree_id,
					 k->level,
					 (unsigned long long)ix.v[k->jset].seq);
			at++;
		}
		assert_jrx_ok(ret < 0 ? ret : 0);
		jrx_spill_merge_close(m);
	}
	assert_int_equal(at, want.nr);
	jrx_spill_close(&sp);
	jrx_sort_result_free(&want);
	jrx_jindex_free(&ix);
	jrx_journal_scan_free(&s);
	jrx_io_close(io);
	jrx_array_close(&a);
}

/* ------------------------------------------------------------ recoveries */

/* The journal was spilled, and it was at least 4x the stages' share. */
static void assert_spilled(const struct jrx_report *r, const char *what)
{
	uint64_t share = r->memory_limit_bytes - r->memory_base_bytes;

	if (!r->spilled)
		fail_msg("%s: the journal was not spilled (limit %llu, journal"
			 " read %llu bytes)", what,
			 (unsigned long long)r->memory_limit_bytes,
			 (unsigned long long)r->bytes_read);
	if (r->bytes_read < 4 * share)
		fail_msg("%s: journal of %llu bytes, less than 4x the %llu"
			 " bytes the limit left", what,
			 (unsigned long long)r->bytes_read,
			 (unsigned long long)share);
	assert_true(r->spill.runs >= 4);
	assert_true(r->spill_windows >= 2);
}

static void test_shapes(void **state)
{
	static const struct {
		unsigned dist;
		uint32_t mix[JRX_SYNTH_NR_BTREES];
		uint64_t keys;
		unsigned replicas;
	} cases[] = {
		{ JRX_SYNTH_UNIFORM, { 0 }, 1300000, 1 },
		/* every jset twice (the reads take the devices' buckets side
		 * by side, so a seq's copies share a batch and collapse there;
		 * copies in different batches: test_runs_merge) */
		{ JRX_SYNTH_ZIPF, { 0 }, 1300000, 2 },
		{ JRX_SYNTH_HOT, { 0 }, 1300000, 1 },
		{ JRX_SYNTH_HOT, { 0, 0, 1, 0 }, 1400000, 1 },	/* dirents only */
	};
	struct env *e = *state;
	uint64_t streamed = 0, parts = 0;
#ifdef JRX_TEST_TSAN
	/* races show in one shape with a streamed leaf; the rest is the
	 * release and ASan runs' job */
	const size_t nr_cases = 3;
#else
	const size_t nr_cases = sizeof(cases) / sizeof(cases[0]);
#endif

	for (size_t i = 0; i < nr_cases; i++) {
		struct jrx_synth_opts so;
		struct jrx_recover_opts o = {
			.threads = 2, .scratch_dir = e->dir.path,
		};
		struct jrx_report r;
		struct th_geom g = geom;
		char what[96];

		re_synth_opts(&so, cases[i].keys, cases[i].dist, 31 + i);
		if (cases[i].mix[0] + cases[i].mix[1] + cases[i].mix[2] +
		    cases[i].mix[3])
			memcpy(so.mix, cases[i].mix, sizeof(so.mix));
		g.replicas = cases[i].replicas;
		re_make_geom(e, &so, &g);
		o.memory_limit = small_limit();	/* after synth grew the RSS */
		snprintf(what, sizeof(what), "spilled case %zu (dist %u)", i,
			 cases[i].dist);
		re_differential(e, o, what, &r);
		assert_spilled(&r, what);
		if (g.replicas > 1 && r.jset_copies < 2 * r.jsets)
			fail_msg("%s: %llu jset copies of %llu jsets: the"
				 " replicas were not read", what,
				 (unsigned long long)r.jset_copies,
				 (unsigned long long)r.jsets);
		if (th_uring_available(NULL, 0) &&
		    (!r.spill.read_ahead || !r.replay.write_depth))
			fail_msg("%s: io_uring is allowed, but the merges read"
				 " ahead: %d, the replay queued writes: %u deep",
				 what, r.spill.read_ahead, r.replay.write_depth);
		streamed += r.replay.streamed_leaves;
		parts += r.replay.streamed_parts;
		if (i == 0) {
			/* and the unlimited recovery of the same journal */
			struct jrx_recover_opts un = { .threads = 2 };
			char *want = dump_text(e->ref), *got;

			re_make_geom(e, &so, &geom);
			assert_jrx_ok(th_recover(e->acc, &un, &r));
			assert_false(r.spilled);
			got = dump_text(e->acc);
			expect_same_text(want, got, "unlimited against reference");
			free(want);
			free(got);
		}
	}
	if (!streamed)
		fail_msg("no shape had a leaf too big for a window: the streamed"
			 " leaf went untested");
	if (parts <= streamed)
		fail_msg("%llu streamed leaves written in %llu parts: their"
			 " parts were never written by two threads",
			 (unsigned long long)streamed, (unsigned long long)parts);
}

/*
 * Where io_uring is refused (seccomp, in a child process), the spilled
 * recovery writes its runs and nodes and reads its runs back through aio,
 * reading ahead; where aio is refused too, through the write queues'
 * helper threads, still reading ahead.  Either way the same dump as the
 * reference, a streamed leaf included.
 */
static void test_no_uring(void **state)
{
	struct env *e = *state;
	struct jrx_synth_opts so;
	struct jrx_recover_opts ref = { .reference = true };
	struct jrx_report rr;

	re_synth_opts(&so, 1300000, JRX_SYNTH_HOT, 33);
	for (int also_aio = 0; also_aio < 2; also_aio++) {
		const char *what = also_aio ? "spilled without io_uring or aio" :
			"spilled without io_uring";
		char *want, *got;
		int status;
		pid_t pid;

		re_make_geom(e, &so, &geom);
		fflush(NULL);
		pid = fork();
		assert_true(pid >= 0);
		if (!pid) {
			struct jrx_recover_opts o = {
				.threads = 2, .scratch_dir = e->dir.path,
				.memory_limit = small_limit(),
			};
			struct jrx_report r;
			int ret = th_refuse_uring(also_aio);

			if (ret)
				_exit(TH_EXIT_SKIP);
			ret = th_recover(e->acc, &o, &r);
			if (ret)
				fprintf(stderr, "%s: recovery failed: %d\n", what,
					ret);
			else if (!r.spilled || !r.spill.read_ahead ||
				 !r.replay.streamed_leaves)
				fprintf(stderr, "%s: spilled %d, read ahead %d, %llu"
					" leaves streamed (want 1, 1, some)\n",
					what, r.spilled, r.spill.read_ahead,
					(unsigned long long)r.replay.streamed_leaves);
			_exit(ret ? 1 : !r.spilled || !r.spill.read_ahead ||
			      !r.replay.streamed_leaves ? 2 : 0);
		}
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFEXITED(status));
		if (WEXITSTATUS(status) == TH_EXIT_SKIP)
			skip();	/* no seccomp here: nothing to refuse with */
		if (WEXITSTATUS(status))
			fail_msg("%s: the recovery exited %d (see above)", what,
				 WEXITSTATUS(status));
		assert_jrx_ok(th_recover(e->ref, &ref, &rr));
		want = dump_text(e->ref);
		got = dump_text(e->acc);
		expect_same_text(want, got, what);
		th_assert_fsck_clean(e->acc, 2, what);
		free(want);
		free(got);
	}
}

/* The second recovery's limit, taken after the crashed one. */
static uint64_t again_limit(void)
{
	return small_limit() + (4u << 20);
}

static void test_crash_spilled(void **state)
{
	struct env *e = *state;
	struct jrx_synth_opts so;
	struct jrx_recover_opts ref = { .reference = true };
	struct jrx_report r;
	uint64_t rnd = 0x2545f4914f6cdd1dull, writes;
	char *want;

	re_synth_opts(&so, 1000000, JRX_SYNTH_HOT, 91);
	re_make_geom(e, &so, &geom);
	assert_jrx_ok(th_recover(e->acc, &ref, &r));
	want = dump_text(e->acc);
	/* the writes of one spilled recovery: nodes, bsets, 2 x 2 sb copies */
	{
		struct jrx_recover_opts dry = { .dry_run = true, .threads = 2,
						.memory_limit = small_limit(),
						.scratch_dir = e->dir.path };

		assert_jrx_ok(th_recover(e->ref, &dry, &r));
		assert_true(r.spilled);
		writes = r.nodes_written + r.bsets_appended + 4;
	}
#ifdef JRX_TEST_TSAN
	const unsigned rounds = 2;
#else
	const unsigned rounds = 4;
#endif

	for (unsigned round = 0; round < rounds; round++) {
		/* slack for what the copies add to this process (a sanitizer's
		 * quarantine): the crash, not the 4x, is what is tested here */
		struct jrx_recover_opts acc = {
			.threads = 2, .memory_limit = small_limit() + (4u << 20),
			.scratch_dir = e->dir.path,
		};
		struct jrx_recover_opts again = {
			.threads = 2, .reference = round == 3,
			.memory_limit = round & 1 ? small_limit() + (4u << 20) : 0,
			.scratch_dir = e->dir.path,
		};
		char what[64];

		for (unsigned i = 0; i < 2; i++)
			re_copy_sparse(e->ref[i], e->acc[i]);
		snprintf(what, sizeof(what), "spilled round %u", round);
		e->again_limit = again_limit;
		re_crash_then_recover(e, &acc, &again, writes, &rnd, want, what);
		e->again_limit = NULL;
	}
	free(want);
}

/*
 * A run's seqs must fit the file record's 32-bit distance: a wider run is
 * refused before anything is written, and a key outside its run's range
 * is refused too.
 */
static void test_seq_span(void **state)
{
	struct env *e = *state;
	struct jrx_spill sp;
	struct jrx_spill_writer w;
	uint64_t key[JRX_BKEY_U64S] = { 0 };
	struct jrx_bkey *k = (struct jrx_bkey *)key;
	struct jrx_spill_rec r = { .u64s = JRX_BKEY_U64S };
	struct stat st;
	int ret;

	k->u64s = JRX_BKEY_U64S;
	assert_jrx_ok(jrx_spill_open(&sp, e->dir.path, 64u << 10));
	ret = jrx_spill_writer_start(&w, &sp, 10, 10 + (1ull << 32));
	if (ret != -EOVERFLOW)
		fail_msg("a run of seqs 10..10+2^32 started: %d, want -EOVERFLOW",
			 ret);
	assert_jrx_ok(jrx_spill_writer_start(&w, &sp, 10,
					     10 + (uint64_t)UINT32_MAX));
	r.seq = 9;
	ret = jrx_spill_put(&w, &r, k);
	if (ret != -EINVAL)
		fail_msg("a key of seq 9 went into a run of seqs from 10: %d",
			 ret);
	r.seq = 10 + (uint64_t)UINT32_MAX;
	assert_jrx_ok(jrx_spill_put(&w, &r, k));
	assert_jrx_ok(jrx_spill_writer_end(&w));
	assert_int_equal(sp.nr_runs, 1);
	assert_int_equal(sp.run[0].keys, 1);
	assert_int_equal(fstat(sp.fd, &st), 0);
	if ((uint64_t)st.st_size != sp.end)
		fail_msg("the spill file holds %lld bytes, the runs end at %llu",
			 (long long)st.st_size, (unsigned long long)sp.end);
	jrx_spill_close(&sp);
}

static void test_too_small(void **state)
{
	struct env *e = *state;
	struct jrx_synth_opts so;
	struct jrx_recover_opts o = { .threads = 2, .scratch_dir = e->dir.path };
	struct th_file_state before[2];
	struct jrx_report r;
	int ret;

	re_synth_opts(&so, 50000, JRX_SYNTH_UNIFORM, 3);
	re_make_geom(e, &so, &geom);
	th_files_state(e->acc, 2, before);
	o.memory_limit = jrx_rss_now() + (1u << 20);
	ret = th_recover(e->acc, &o, &r);
	assert_jrx_err(ret, -JRX_ERR_BAD_OPTION);
	assert_contains(jrx_diag(), "is too small");
	assert_contains(jrx_diag(), "needs at least");
	th_expect_unwritten(e->acc, 2, before, "a refused recovery");
}

/* ------------------------------------------------------------ the binary */

/* "24M" as bytes. */
static bool cli_size(const char *s, uint64_t *out)
{
	char *end;

	*out = strtoull(s, &end, 10) << 20;
	return *end == 'M' && !end[1];
}

static uint64_t json_u64(const char *json, const char *key)
{
	const char *p = strstr(json, key);

	if (!p)
		fail_msg("no %s in the report: %.400s", key, json);
	return strtoull(p + strlen(key), NULL, 10);
}

/*
 * `jrx recover --memory-limit 28M --json` in a process of its own, on an
 * array of btree node size node_size.  Under a sanitizer the runtime's
 * shadow memory and quarantine are resident too: the limit is raised and
 * only the release build's peak RSS is held to it (the journal is then
 * no longer 4x the limit).
 */
#ifdef JRX_TEST_SANITIZED
#define BIN_LIMIT "96M"
#else
#define BIN_LIMIT "28M"
#endif
static void binary_peak_rss(struct env *e, uint32_t node_size)
{
	struct jrx_synth_opts so;
	struct jrx_recover_opts ref = { .reference = true };
	struct th_geom g = geom;
	struct jrx_report r;
	char cmd[1200], out[256], *json = calloc(1, 1 << 20), *want, *got;
	uint64_t limit, peak;
	FILE *f;
	size_t n;

	assert_non_null(json);
	g.node_size = node_size;
	re_synth_opts(&so, 1500000, JRX_SYNTH_ZIPF, 17);
	re_make_geom(e, &so, &g);
	assert_jrx_ok(th_recover(e->ref, &ref, &r));
	th_path(out, &e->dir, "report.json");
	assert_true(cli_size(BIN_LIMIT, &limit));
	snprintf(cmd, sizeof(cmd), "%s recover --threads 2 --memory-limit "
		 BIN_LIMIT " --scratch %s --json %s %s > %s", JRX_BIN,
		 e->dir.path, e->acc[0], e->acc[1], out);
	if (system(cmd))
		fail_msg("%s: failed", cmd);
	f = fopen(out, "r");
	assert_non_null(f);
	n = fread(json, 1, (1 << 20) - 1, f);
	fclose(f);
	json[n] = 0;
	assert_contains(json, "\"spilled\":true");
	assert_int_equal(json_u64(json, "\"limit_bytes\":"), limit);
	peak = json_u64(json, "\"peak_rss_bytes\":");
#ifndef JRX_TEST_SANITIZED
	if (peak > limit)
		fail_msg("%u-byte nodes: peak RSS %llu bytes over the %llu-byte"
			 " limit (%llu bytes of node images at most)", node_size,
			 (unsigned long long)peak, (unsigned long long)limit,
			 (unsigned long long)json_u64(json,
				"\"node_images_peak_bytes\":"));
	if (json_u64(json, "\"bytes_read\":") < 4 * limit)
		fail_msg("the journal is not 4x the limit: %.300s", json);
#else
	(void)peak;
#endif
	want = dump_text(e->ref);
	got = dump_text(e->acc);
	expect_same_text(want, got, "jrx recover --memory-limit " BIN_LIMIT);
	free(want);
	free(got);
	free(json);
}

/* Small nodes (many leaves, big interior keys) and the default size:
 * 256 KiB images, which the replay holds fewer of under a small limit
 * (jrx_budget_images). */
static void test_binary_peak_rss(void **state)
{
	binary_peak_rss(*state, 16u << 10);
	binary_peak_rss(*state, 256u << 10);
}

/*
 * The in-memory sort's chunks (budget.h, jrx_budget_sort_chunk): whole
 * runs only where 32 bytes a key beside the journal leave the replay a
 * third of A, to the byte; chunks otherwise, never by a product that
 * wrapped.
 */
static void test_sort_chunk_rule(void **state)
{
	struct jrx_budget b;
	uint64_t room;

	(void)state;
	assert_jrx_ok(jrx_budget_plan(&b, jrx_rss_now() + (3ull << 30),
				      1u << 20));
	room = b.avail - b.avail / 3;
	assert_true(jrx_budget_sort_chunk(&b, 0, room / 32) == SIZE_MAX);
	assert_true(jrx_budget_sort_chunk(&b, room - room / 32 * 32,
					  room / 32) == SIZE_MAX);
	assert_int_equal(jrx_budget_sort_chunk(&b, 0, room / 32 + 1), 0);
	assert_int_equal(jrx_budget_sort_chunk(&b, room - room / 32 * 32 + 1,
					       room / 32), 0);
	assert_true(jrx_budget_sort_chunk(&b, room / 2, room / 64) == SIZE_MAX);
	assert_int_equal(jrx_budget_sort_chunk(&b, room / 2 + 32, room / 64), 0);
	/* keys * 32 would wrap to a small number */
	assert_int_equal(jrx_budget_sort_chunk(&b, 0, (UINT64_MAX >> 5) + 2), 0);
	assert_int_equal(jrx_budget_sort_chunk(&b, UINT64_MAX, 1), 0);
}

/*
 * The replay's node images per worker (jrx_budget_images): a sixth of A
 * shared by the workers, in whole nodes, at least 2; a product that
 * would not fit in 32 bits is held at UINT32_MAX, not wrapped.
 */
static void test_images_rule(void **state)
{
	static const struct {
		uint64_t avail;
		uint32_t node_size;
		unsigned threads, want;
	} c[] = {
		{ 15u << 20, 256u << 10, 2, 5 },	/* a 28 MiB limit */
		{ 15u << 20, 16u << 10, 2, 80 },
		{ 6u * (256u << 10) * 2, 256u << 10, 2, 2 },
		{ 6u * (256u << 10) * 2 - 1, 256u << 10, 2, 2 },
		{ 6u * (256u << 10) * 3, 256u << 10, 1, 3 },
		{ 6u * (256u << 10) * 3 - 1, 256u << 10, 1, 2 },
		{ 1u << 20, 256u << 10, 64, 2 },	/* none: the floor */
		{ 1ull << 40, 4096, 1, 44739242 },
		{ UINT64_MAX, 512, 1, UINT32_MAX },
		{ 3u * 6 << 20, 1u << 20, 0, 3 },	/* no threads: one */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct jrx_budget b = { .avail = c[i].avail };
		unsigned got = jrx_budget_images(&b, c[i].node_size,
						 c[i].threads);

		if (got != c[i].want)
			fail_msg("case %zu: A %llu, %u-byte nodes, %u threads:"
				 " %u images a worker, want %u", i,
				 (unsigned long long)c[i].avail, c[i].node_size,
				 c[i].threads, got, c[i].want);
	}
}

/*
 * The parts of a streamed leaf's second walk (jrx_replay_stream_parts):
 * src 0, then the first source past each equal share, none past the
 * start of the last piece.  A 50 M-key journal's leaf under
 * `--memory-limit 195M --threads 8` had its last part start inside the
 * last piece, and the part before it found no piece start to stop at
 * ("a part of the leaf's keys ended early").
 */
static void test_stream_parts(void **state)
{
	static const struct {
		uint64_t total;
		size_t kp, nw, nsrc;
		uint64_t at[16];
		size_t want_n, want[8];
	} c[] = {
		/* a share each: the sources at or past 500 */
		{ 1000, 8, 2, 10, { 0, 100, 200, 300, 400, 500, 600, 700, 800,
				   900 }, 2, { 0, 5 } },
		/* the next source past the share is in the last piece
		 * (it starts past 1000 * 7 / 8 = 875): no second part */
		{ 1000, 8, 2, 3, { 0, 300, 900 }, 1, { 0 } },
		/* a source where the last piece starts: a part */
		{ 1000, 8, 2, 2, { 0, 875 }, 2, { 0, 1 } },
		{ 1000, 8, 2, 2, { 0, 876 }, 1, { 0 } },
		/* fewer than 4 pieces a part: one */
		{ 1000, 7, 2, 10, { 0, 100, 200, 300, 400, 500, 600, 700, 800,
				   900 }, 1, { 0 } },
		{ 1600, 16, 4, 16, { 0, 100, 200, 300, 400, 500, 600, 700, 800,
				    900, 1000, 1100, 1200, 1300, 1400, 1500 },
		  4, { 0, 4, 8, 12 } },
		{ 1600, 16, 4, 2, { 0, 1550 }, 1, { 0 } },
		/* fewer sources than workers: a part each */
		{ 3000, 100, 8, 3, { 0, 1000, 2000 }, 3, { 0, 1, 2 } },
		/* every source before the first share: one part */
		{ 1000, 100, 3, 3, { 0, 10, 20 }, 1, { 0 } },
		{ 1000, 100, 3, 0, { 0 }, 0, { 0 } },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct jrx_replay_source src[16] = { 0 };
		size_t pick[8], n;

		for (size_t j = 0; j < c[i].nsrc; j++)
			src[j].at.before = c[i].at[j];
		n = jrx_replay_stream_parts(src, c[i].nsrc, c[i].total,
					    c[i].kp, c[i].nw, pick);
		if (n != c[i].want_n)
			fail_msg("case %zu: %zu parts, want %zu", i, n,
				 c[i].want_n);
		for (size_t j = 0; j < n; j++)
			if (pick[j] != c[i].want[j])
				fail_msg("case %zu: part %zu starts at source"
					 " %zu, want %zu", i, j, pick[j],
					 c[i].want[j]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sort_chunk_rule),
		cmocka_unit_test(test_images_rule),
		cmocka_unit_test(test_stream_parts),
		cmocka_unit_test(test_runs_merge),
		cmocka_unit_test(test_seq_span),
		cmocka_unit_test(test_shapes),
		cmocka_unit_test(test_crash_spilled),
		cmocka_unit_test(test_no_uring),
		cmocka_unit_test(test_too_small),
		cmocka_unit_test(test_binary_peak_rss),
	};

	return th_exit_code(cmocka_run_group_tests(tests, re_setup, re_teardown));
}
