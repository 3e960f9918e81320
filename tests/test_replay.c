/*
 * test_replay.c - the parallel replay against the reference on synth
 * arrays: identical dumps of every btree (alloc and accounting included)
 * for uniform, zipf, sequential and hot-inode journals, one-btree mixes,
 * 1-4 workers and work units cut down to slices of a few keys; alloc
 * leaves recovery wrote and cuts again in a later round; a hot leaf cut
 * into hundreds of pieces does not hold their images at once; skewed
 * journals spread over every worker, each NUMA group (synthetic hwloc
 * topologies) working a contiguous key range; a crash at a random write
 * of the accelerated recovery, then another recovery, ends identical to
 * the reference; a second recovery changes nothing; thread starts
 * refused in every pool of the accelerated recovery change nothing either;
 * a bad leaf that the replay reads, ahead or not, fails the recovery
 * naming it, and commits nothing.
 *
 * Every array is made once (jrx synth) and copied, so the reference and
 * the accelerated recovery start from the same bytes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "replay_env.h"
#include "keydump.h"
#include "btree/fs.h"
#include "format/node.h"
#include "fsck/fsck.h"
#include "io/copy.h"
#include "util/diag.h"
#include "recovery/recover.h"
#include "util/pool.h"
#include "workload/synth.h"

/* ------------------------------------------------------------ arrays */

/* The arrays' geometry: small nodes, so many leaves, splits and sliced
 * leaves. */
static const struct th_geom geom = {
	.size = 768ull << 20, .bucket_size = 256u << 10,
	.node_size = 16u << 10, .replicas = 1, .journal_size = 96u << 20,
};

static void make(struct env *e, const struct jrx_synth_opts *so)
{
	re_make_geom(e, so, &geom);
}

/* ------------------------------------------------------------ checks */

/* Workers with write queues (io_uring, aio, pread helpers) read every
 * leaf they read through it, ahead of its unit (replay_par.c); workers
 * without (a queue that could not open) none. */
static void expect_read_ahead(const struct jrx_report *r, const char *what)
{
	uint64_t want = r->replay.queued_workers ? r->replay.leaves_read : 0;

	if (r->replay.queued_workers &&
	    r->replay.queued_workers != r->replay.workers)
		fail_msg("%s: %u of %u workers opened a write queue", what,
			 r->replay.queued_workers, r->replay.workers);
	if (r->replay.leaves_read_ahead != want)
		fail_msg("%s: %llu of %llu leaves read ahead (%u of %u"
			 " workers with a queue, %s), want %llu", what,
			 (unsigned long long)r->replay.leaves_read_ahead,
			 (unsigned long long)r->replay.leaves_read,
			 r->replay.queued_workers, r->replay.workers,
			 r->io_backend, (unsigned long long)want);
}

/* ------------------------------------------------------------ tests */

/* Distributions x mixes x workers x unit sizes. */
static void test_shapes(void **state)
{
	static const struct {
		unsigned dist;
		uint32_t mix[JRX_SYNTH_NR_BTREES];	/* 0: default */
		unsigned threads, unit;
	} cases[] = {
		{ JRX_SYNTH_UNIFORM, { 0 }, 2, 0 },
		{ JRX_SYNTH_UNIFORM, { 0 }, 3, 16 },
		{ JRX_SYNTH_ZIPF, { 0 }, 2, 0 },
		{ JRX_SYNTH_ZIPF, { 0 }, 4, 7 },
		{ JRX_SYNTH_SEQUENTIAL, { 0 }, 2, 64 },
		{ JRX_SYNTH_HOT, { 0 }, 2, 0 },
		{ JRX_SYNTH_HOT, { 0 }, 1, 33 },
		{ JRX_SYNTH_UNIFORM, { 1, 0, 0, 0 }, 2, 50 },	/* extents only */
		{ JRX_SYNTH_ZIPF, { 0, 1, 0, 0 }, 3, 0 },	/* inodes only */
		{ JRX_SYNTH_HOT, { 0, 0, 1, 0 }, 2, 20 },	/* dirents only */
	};
	struct env *e = *state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct jrx_synth_opts so;
		struct jrx_recover_opts o = {
			.threads = cases[i].threads, .replay_unit = cases[i].unit,
			.io = th_io_backend((enum jrx_io_backend)(i % 3),
					    "replay cases on io_uring"),
		};
		struct jrx_report r;
		char what[96];

		re_synth_opts(&so, 30000 + 7000 * i, cases[i].dist, 11 + i);
		if (cases[i].mix[0] + cases[i].mix[1] + cases[i].mix[2] +
		    cases[i].mix[3])
			memcpy(so.mix, cases[i].mix, sizeof(so.mix));
		make(e, &so);
		snprintf(what, sizeof(what), "case %zu (dist %u, %u threads, unit"
			 " %u)", i, cases[i].dist, cases[i].threads,
			 cases[i].unit);
		re_differential(e, o, what, &r);
		assert_int_equal(r.replay.workers, cases[i].threads);
		assert_true(r.replay.leaves > 0);
		if (cases[i].unit && cases[i].unit < 40 && !r.replay.sliced_leaves)
			fail_msg("%s: no leaf was sliced", what);
		expect_read_ahead(&r, what);
	}
}

/*
 * Four nodes to a bucket (the default geometry's ratio, scaled down) and
 * a base far bigger than the journal: the first write-back round frees
 * most committed leaves and fills many new buckets, so the alloc leaves
 * recovery has just written get more keys than a node holds and are cut
 * again in the next round, their first places freed.  Those places must
 * be the same in both recoveries, or the alloc keys of their buckets
 * differ and so do the alloc leaves a later round rewrites (issue 14).
 */
static void test_alloc_leaves_cut_again(void **state)
{
	static const struct {
		uint64_t keys, base_keys, seed;
		unsigned threads;
	} cases[] = {
		{ 20000, 120000, 3, 2 },
		{ 10000, 120000, 4, 1 },
	};
	struct th_geom g = geom;
	struct env *e = *state;

	g.bucket_size = 64u << 10;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct jrx_synth_opts so;
		struct jrx_recover_opts o = { .threads = cases[i].threads };
		struct jrx_report r;
		char what[96];

		re_synth_opts(&so, cases[i].keys, JRX_SYNTH_UNIFORM, cases[i].seed);
		so.base_keys = cases[i].base_keys;
		re_make_geom(e, &so, &g);
		snprintf(what, sizeof(what), "64K buckets, %llu keys on a base of"
			 " %llu, %u threads", (unsigned long long)cases[i].keys,
			 (unsigned long long)cases[i].base_keys, cases[i].threads);
		re_differential(e, o, what, &r);
	}
}

/*
 * A base much bigger than the journal, nodes filled as a live store
 * leaves them (synth's default fill): most touched leaves take the
 * journal's keys as one appended bset and are never read (FORMAT.md 7.5),
 * both recoveries append the same bsets, the replay writes at most twice
 * the journal's bytes plus a block per append (issue 14), and a crash at
 * any write, inside or between appends or in the commit, then another
 * recovery of either kind, ends as the reference did.
 */
static void test_appends(void **state)
{
	static const struct {
		uint64_t keys, base_keys, seed;
		unsigned dist, threads;
	} cases[] = {
		{ 6000, 150000, 5, JRX_SYNTH_UNIFORM, 2 },
		{ 6000, 150000, 6, JRX_SYNTH_ZIPF, 1 },
		{ 3000, 100000, 7, JRX_SYNTH_HOT, 3 },
	};
	struct env *e = *state;
	uint64_t rnd = 0x2545f4914f6cdd1dull;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct jrx_recover_opts acc = { .threads = cases[i].threads };
		struct jrx_synth_opts so;
		struct jrx_report r;
		char what[128], *want;
		uint64_t bound;

		re_synth_opts(&so, cases[i].keys, cases[i].dist, cases[i].seed);
		so.base_keys = cases[i].base_keys;
		make(e, &so);
		snprintf(what, sizeof(what), "%llu keys on a base of %llu, dist"
			 " %u, %u threads", (unsigned long long)cases[i].keys,
			 (unsigned long long)cases[i].base_keys, cases[i].dist,
			 cases[i].threads);
		re_differential(e, acc, what, &r);
		if (r.replay.appended_leaves * 2 < r.replay.leaves)
			fail_msg("%s: %llu of %llu leaves appended to", what,
				 (unsigned long long)r.replay.appended_leaves,
				 (unsigned long long)r.replay.leaves);
		/* a leaf that gets an append is not read */
		assert_int_equal(r.replay.leaves_read,
				 r.replay.leaves - r.replay.appended_leaves);
		expect_read_ahead(&r, what);
		bound = 2 * r.bytes_read + 4096 * r.bsets_appended;
		if (r.node_bytes_written > bound)
			fail_msg("%s: the replay wrote %llu bytes; journal %llu"
				 " bytes, %llu bsets appended: at most %llu", what,
				 (unsigned long long)r.node_bytes_written,
				 (unsigned long long)r.bytes_read,
				 (unsigned long long)r.bsets_appended,
				 (unsigned long long)bound);
		want = dump_text(e->acc);

		/* a crash at a random write of an appending recovery: the
		 * reference's copy stays crashed, each round starts from it */
		make(e, &so);
		for (unsigned round = 0; round < 3; round++) {
			struct jrx_recover_opts again = {
				.reference = (round + i) & 1, .threads = 2,
			};

			for (unsigned d = 0; d < 2; d++)
				re_copy_sparse(e->ref[d], e->acc[d]);
			snprintf(what, sizeof(what), "case %zu round %u", i, round);
			re_crash_then_recover(e, &acc, &again, r.nodes_written +
					   r.bsets_appended + 4, &rnd, want, what);
		}
		free(want);
	}
}

/*
 * A hot inode's journal on one worker, its leaves not sliced: each is
 * cut into many pieces in one go, and each piece's image goes once its
 * write has landed.  The most node images held at once stays a small
 * part of the bytes written (before, every piece of a leaf stayed until
 * its last was written: at 10 M keys on one thread, 121 MiB at once).
 */
static void test_hot_leaf_pieces_dropped(void **state)
{
	struct env *e = *state;
	struct jrx_recover_opts o = { .threads = 1, .replay_unit = 1u << 30 };
	struct jrx_synth_opts so;
	struct jrx_report r;
	const char *what = "a hot inode's extents, one worker, no slices";

	re_synth_opts(&so, 200000, JRX_SYNTH_HOT, 61);
	so.base_keys = 1000;	/* a few leaves, each cut into many pieces */
	memcpy(so.mix, (uint32_t[JRX_SYNTH_NR_BTREES]){ 1, 0, 0, 0 },
	       sizeof(so.mix));
	make(e, &so);
	re_differential(e, o, what, &r);
	assert_int_equal(r.replay.sliced_leaves, 0);
	if (r.replay.pieces < 16 * r.replay.leaves)
		fail_msg("%s: %llu pieces from %llu leaves: the shape has no"
			 " leaf cut into many", what,
			 (unsigned long long)r.replay.pieces,
			 (unsigned long long)r.replay.leaves);
	if (r.node_images_peak_bytes * 4 > r.node_bytes_written)
		fail_msg("%s: %llu bytes of node images held at once, of %llu"
			 " written (%llu pieces of %llu leaves): want at most a"
			 " quarter", what,
			 (unsigned long long)r.node_images_peak_bytes,
			 (unsigned long long)r.node_bytes_written,
			 (unsigned long long)r.replay.pieces,
			 (unsigned long long)r.replay.leaves);
	print_message("%s: %llu bytes of images at most, %llu written\n", what,
		      (unsigned long long)r.node_images_peak_bytes,
		      (unsigned long long)r.node_bytes_written);
}

/*
 * Worker w's share of the work (the plan's weights: journal keys plus a
 * node's worth for every leaf read and written), as a fraction of a fair
 * share.
 */
static double share(const struct jrx_report *r, unsigned w)
{
	uint64_t total = 0;

	for (unsigned i = 0; i < r->replay.workers; i++)
		total += r->replay.w[i].weight;
	return total ? (double)r->replay.w[w].weight * r->replay.workers / total : 0;
}

/*
 * Skewed journals on 2 and 4 synthetic NUMA nodes, one worker each (so
 * every worker's share is its group's): every worker gets at least half
 * a fair share of the work and some of the keys, even where 90% of the
 * keys go to one inode; and the groups' unit ranges are contiguous,
 * in node order, and hold every unit a group's worker took.
 */
static void test_skew_spread(void **state)
{
	static const struct {
		const char *topo;
		unsigned threads, dist;
		uint32_t mix[JRX_SYNTH_NR_BTREES];
	} cases[] = {
		{ "numa:2 core:1 pu:1", 2, JRX_SYNTH_HOT, { 0 } },
		{ "numa:2 core:1 pu:1", 2, JRX_SYNTH_ZIPF, { 1, 0, 0, 0 } },
		{ "numa:4 core:1 pu:1", 4, JRX_SYNTH_HOT, { 1, 0, 0, 0 } },
		{ "numa:4 core:1 pu:1", 4, JRX_SYNTH_SEQUENTIAL, { 0 } },
		{ "numa:2 core:2 pu:1", 4, JRX_SYNTH_HOT, { 0, 0, 1, 0 } },
	};
	struct env *e = *state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct jrx_synth_opts so;
		struct jrx_recover_opts o = { .threads = cases[i].threads };
		struct jrx_report r;
		char what[96];

		re_synth_opts(&so, 60000, cases[i].dist, 40 + i);
		if (cases[i].mix[0] + cases[i].mix[1] + cases[i].mix[2] +
		    cases[i].mix[3])
			memcpy(so.mix, cases[i].mix, sizeof(so.mix));
		make(e, &so);
		snprintf(what, sizeof(what), "%s, %u workers, dist %u",
			 cases[i].topo, cases[i].threads, cases[i].dist);
		setenv("HWLOC_SYNTHETIC", cases[i].topo, 1);
		re_differential(e, o, what, &r);
		unsetenv("HWLOC_SYNTHETIC");

		assert_int_equal(r.replay.groups, cases[i].threads /
				 (strstr(cases[i].topo, "core:2") ? 2 : 1));
		if (cases[i].dist == JRX_SYNTH_HOT && !r.replay.sliced_leaves)
			fail_msg("%s: the hot leaf was not sliced", what);
		for (unsigned g = 0; g < r.replay.groups; g++)
			if (r.replay.group_first[g] > r.replay.group_first[g + 1])
				fail_msg("%s: group %u units [%llu, %llu)", what, g,
					 (unsigned long long)r.replay.group_first[g],
					 (unsigned long long)r.replay.group_first[g + 1]);
		assert_int_equal(r.replay.group_first[r.replay.groups],
				 r.replay.units);
		for (unsigned w = 0; w < r.replay.workers; w++) {
			unsigned g = r.replay.w[w].group;

			if (r.replay.groups == r.replay.workers &&
			    (share(&r, w) < 0.5 || !r.replay.w[w].keys))
				fail_msg("%s: worker %u replayed %llu keys, weight"
					 " %llu: %.2f of a fair share", what, w,
					 (unsigned long long)r.replay.w[w].keys,
					 (unsigned long long)r.replay.w[w].weight,
					 share(&r, w));
			if (!r.replay.w[w].units)
				continue;
			if (r.replay.w[w].unit_lo < r.replay.group_first[g] ||
			    r.replay.w[w].unit_hi >= r.replay.group_first[g + 1])
				fail_msg("%s: worker %u of group %u took units"
					 " %llu-%llu outside its group's [%llu, %llu)",
					 what, w, g,
					 (unsigned long long)r.replay.w[w].unit_lo,
					 (unsigned long long)r.replay.w[w].unit_hi,
					 (unsigned long long)r.replay.group_first[g],
					 (unsigned long long)r.replay.group_first[g + 1]);
		}
	}
}

/*
 * A power cut at a random device write of the accelerated recovery (2
 * workers writing at once), then another recovery (accelerated or
 * reference, in turn): the reference's end state, fsck clean.  A third
 * recovery finds the array clean and writes nothing.
 */
static void test_crash_during_accelerated(void **state)
{
	struct env *e = *state;
	struct jrx_synth_opts so;
	struct jrx_recover_opts ref = { .reference = true };
	struct jrx_recover_opts dry = { .dry_run = true, .threads = 2 };
	struct jrx_report r;
	char *want;
	uint64_t rnd = 0x9e3779b97f4a7c15ull;

	/* a0, a1 stay as crashed; every round starts from a copy */
	re_synth_opts(&so, 40000, JRX_SYNTH_ZIPF, 77);
	make(e, &so);
	assert_jrx_ok(th_recover(e->acc, &ref, &r));
	want = dump_text(e->acc);

	for (unsigned round = 0; round < 8; round++) {
		struct jrx_recover_opts acc = {
			.threads = 2, .replay_unit = round & 1 ? 50 : 0,
		};
		struct jrx_recover_opts again = {
			.reference = round & 2, .threads = 2,
		};
		struct th_file_state before[2], after[2];
		char what[64];

		for (unsigned i = 0; i < 2; i++)
			re_copy_sparse(e->ref[i], e->acc[i]);
		assert_jrx_ok(th_recover(e->acc, &dry, &r));
		/* nodes, bsets appended, 2 sb copies x 2 devices */
		snprintf(what, sizeof(what), "round %u", round);
		re_crash_then_recover(e, &acc, &again, r.nodes_written +
				   r.bsets_appended + 4, &rnd, want, what);

		if (round > 1)
			continue;
		/* idempotent: the next recovery finds it clean, writes nothing */
		for (unsigned i = 0; i < 2; i++)
			th_file_state(e->acc[i], &before[i]);
		assert_jrx_ok(th_recover(e->acc, &acc, &r));
		assert_string_equal(r.result, "clean");
		for (unsigned i = 0; i < 2; i++) {
			th_file_state(e->acc[i], &after[i]);
			assert_int_equal(before[i].hash, after[i].hash);
		}
	}
	free(want);
}

/*
 * Thread starts refused (util/pool.h's test seam) in every pool of the
 * accelerated recovery - read engine, sort and replay: the recovering
 * thread runs the workers whose thread did not start, the end state is
 * the reference's, and the report says how many replay threads started.
 */
static void test_failed_thread_starts(void **state)
{
	static const struct {
		uint64_t refused;
		unsigned threads, started;
		enum jrx_io_backend io;
	} cases[] = {
		{ 0x2, 3, 2, JRX_IO_AUTO },
		{ ~(uint64_t)0, 3, 0, JRX_IO_PREAD },
		{ ~(uint64_t)0, 2, 0, JRX_IO_AUTO },
	};
	struct env *e = *state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct jrx_synth_opts so;
		struct jrx_recover_opts o = {
			.threads = cases[i].threads, .io = cases[i].io,
		};
		struct jrx_report r;
		char what[96], want[96], *text = NULL;
		size_t len = 0;
		FILE *f;

		re_synth_opts(&so, 40000, JRX_SYNTH_ZIPF, 70 + i);
		make(e, &so);
		snprintf(what, sizeof(what), "%u workers, starts refused %#llx",
			 cases[i].threads, (unsigned long long)cases[i].refused);
		jrx_pool_inject_start_failure(cases[i].refused);
		re_differential(e, o, what, &r);
		jrx_pool_inject_start_failure(0);
		assert_int_equal(r.replay.workers, cases[i].threads);
		if (r.replay.threads != cases[i].started)
			fail_msg("%s: the report says %u replay threads started,"
				 " want %u", what, r.replay.threads,
				 cases[i].started);
		for (unsigned w = 0; w < r.replay.workers; w++)
			if ((cases[i].refused >> w & 1) && r.replay.w[w].pu != -1)
				fail_msg("%s: worker %u ran on the recovering thread"
					 " but reports PU %d", what, w,
					 r.replay.w[w].pu);
		f = open_memstream(&text, &len);
		assert_non_null(f);
		jrx_report_print_text(&r, f);
		fclose(f);
		snprintf(want, sizeof(want), "%u of %u worker threads started",
			 cases[i].started, cases[i].threads);
		assert_contains(text, want);
		free(text);
	}
}

/* The leaves of a btree (level 0), at most LEAVES of them. */
#define LEAVES 256
struct leaves {
	uint32_t dev[LEAVES];
	uint64_t sector[LEAVES];
	unsigned n;
};

static int leaf_cb(void *ctx, const struct jrx_bnode *n)
{
	struct leaves *lv = ctx;

	if (!n->level && lv->n < LEAVES) {
		lv->dev[lv->n] = n->dev;
		lv->sector[lv->n++] = n->sector;
	}
	return 0;
}

/* A byte of the first key of each leaf's first bset (put back by the
 * same call again). */
static void flip_leaves(struct env *e, const struct leaves *lv)
{
	for (unsigned i = 0; i < lv->n; i++)
		th_flip_byte(e->acc[lv->dev[i]], lv->sector[i] * JRX_SECTOR_SIZE +
			     sizeof(struct jrx_btree_node) +
			     sizeof(struct jrx_bset) + 16);
}

/*
 * Every extents leaf of the crashed state is bad (a byte of its first key
 * flipped): the accelerated recovery, whether it reads the leaves it
 * rewrites ahead through its write queue (io_uring, aio, pread helper
 * threads; 1 and 2 workers) or one at a time (a dry run: no queue),
 * fails with the same error naming a device and one of those leaves'
 * offsets, and commits nothing: with the bytes put back, a recovery ends
 * as the reference did.
 */
static void test_bad_leaf(void **state)
{
	static const struct {
		enum jrx_io_backend io;
		unsigned threads;
		bool dry;
	} cases[] = {
		{ JRX_IO_URING, 2, false }, { JRX_IO_AIO, 1, false },
		{ JRX_IO_AIO, 2, false }, { JRX_IO_PREAD, 2, false },
		{ JRX_IO_AUTO, 2, true },
	};
	struct env *e = *state;
	struct jrx_recover_opts ref = { .reference = true };
	struct jrx_recover_opts acc = { .threads = 2 };
	struct jrx_synth_opts so;
	struct leaves lv = { .n = 0 };
	struct jrx_report r;
	char *want, *got;
	int first = 0;

	re_synth_opts(&so, 40000, JRX_SYNTH_UNIFORM, 91);
	make(e, &so);
	assert_jrx_ok(th_recover(e->ref, &ref, &r));
	want = dump_text(e->ref);
	th_walk_nodes(e->acc, JRX_BTREE_EXTENTS, leaf_cb, &lv);
	assert_true(lv.n > 8);
	flip_leaves(e, &lv);

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char what[64], msg[512], where[64];
		struct jrx_recover_opts o = {
			.threads = cases[i].threads, .dry_run = cases[i].dry,
		};
		bool named = false;
		int ret;

		snprintf(what, sizeof(what), "%s, %u workers%s",
			 jrx_io_backend_name(cases[i].io), cases[i].threads,
			 cases[i].dry ? ", dry run" : "");
		o.io = th_io_backend(cases[i].io, what);
		ret = th_recover(e->acc, &o, &r);
		snprintf(msg, sizeof(msg), "%s", jrx_diag());
		if (ret >= 0)
			fail_msg("%s: recovered (%s) with every extents leaf"
				 " bad", what, r.result);
		if (!first)
			first = ret;
		if (ret != first)
			fail_msg("%s: failed with %s, the first case with %s"
				 " (%s)", what, jrx_errname(ret),
				 jrx_errname(first), msg);
		for (unsigned l = 0; l < lv.n && !named; l++) {
			snprintf(where, sizeof(where), "offset %llu",
				 (unsigned long long)(lv.sector[l] *
						      JRX_SECTOR_SIZE));
			named = strstr(msg, e->acc[lv.dev[l]]) &&
				strstr(msg, where);
		}
		if (!named)
			fail_msg("%s: the error names no bad leaf (device and"
				 " offset): %s", what, msg);
	}
	/* nothing was committed: with the leaves mended it recovers */
	flip_leaves(e, &lv);
	assert_jrx_ok(th_recover(e->acc, &acc, &r));
	assert_string_equal(r.result, "recovered");
	got = dump_text(e->acc);
	expect_same_text(want, got, "after the failed recoveries");
	free(got);
	free(want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shapes),
		cmocka_unit_test(test_alloc_leaves_cut_again),
		cmocka_unit_test(test_appends),
		cmocka_unit_test(test_hot_leaf_pieces_dropped),
		cmocka_unit_test(test_skew_spread),
		cmocka_unit_test(test_crash_during_accelerated),
		cmocka_unit_test(test_failed_thread_starts),
		cmocka_unit_test(test_bad_leaf),
	};

	return th_exit_code(cmocka_run_group_tests(tests, re_setup, re_teardown));
}
