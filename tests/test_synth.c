/*
 * test_synth.c - `jrx synth`: the generated journal is what the report says
 * (every jset valid, seq range complete, keys only in the journal), the
 * array is left unclean, the overwrite ratio and btree mix are honoured,
 * the same seed gives the same stream, and every refusal (journal too
 * small, array not clean) writes nothing.
 */
#include <stdio.h>
#include <string.h>
#include "helpers.h"
#include "format/format.h"
#include "workload/inspect.h"
#include "workload/synth.h"

struct env {
	struct th_dir dir;
	char p[3][256];
	const char *paths[3];
};

static int setup(void **state)
{
	static struct env e;

	th_dir_make(&e.dir);
	for (unsigned i = 0; i < 3; i++) {
		char name[8];

		snprintf(name, sizeof(name), "d%u", i);
		th_path(e.p[i], &e.dir, name);
		e.paths[i] = e.p[i];
	}
	*state = &e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;

	th_dir_remove(&e->dir);
	return 0;
}

static void format(struct env *e, unsigned n, unsigned replicas,
		   uint64_t journal_size)
{
	struct th_geom g = {
		/* small enough to hash whole for "nothing written" */
		.size = journal_size + (160ull << 20), .bucket_size = 256u << 10,
		.node_size = 32u << 10, .replicas = replicas,
		.journal_size = journal_size,
	};

	for (unsigned i = 0; i < n; i++)
		remove(e->p[i]);
	assert_jrx_ok(th_format(e->paths, n, &g));
}

static int synth(struct env *e, unsigned n, const struct jrx_synth_opts *o,
		 struct jrx_synth_report *r)
{
	struct jrx_array a;
	int ret;

	assert_jrx_ok(jrx_array_open(&a, e->paths, n, 0));
	memset(r, 0, sizeof(*r));
	ret = jrx_synth(&a, o, r);
	jrx_array_close(&a);
	return ret;
}

static void summarize(struct env *e, unsigned n, struct jrx_journal_summary *s,
		      struct jrx_sb *sb)
{
	struct jrx_array a;

	assert_jrx_ok(jrx_array_open(&a, e->paths, n, JRX_OPEN_RDONLY));
	assert_jrx_ok(jrx_journal_summarize(&a, s));
	*sb = a.sb;
	jrx_array_close(&a);
}

/* Replicas 2 over 3 devices: every jset twice, none bad, all live. */
static void test_journal_matches_report(void **state)
{
	struct env *e = *state;
	struct jrx_synth_opts o;
	struct jrx_synth_report r;
	struct jrx_journal_summary s;
	struct jrx_sb sb;
	uint64_t sum = 0;

	format(e, 3, 2, 32u << 20);
	jrx_synth_opts_default(&o);
	o.keys = 60000;
	o.base_keys = 20000;
	o.seed = 7;
	assert_jrx_ok(synth(e, 3, &o, &r));

	for (unsigned b = 0; b < JRX_SYNTH_NR_BTREES; b++)
		sum += r.keys_by_btree[b];
	assert_int_equal(r.keys, 60000);
	assert_int_equal(sum, r.keys);
	assert_true(r.jsets > 1);
	assert_int_equal(r.last_seq - r.first_seq + 1, r.jsets);

	summarize(e, 3, &s, &sb);
	assert_int_equal(sb.flags & JRX_SB_CLEAN, 0);
	assert_int_equal(s.bad, 0);
	assert_int_equal(s.jsets, 2 * r.jsets);	/* two replicas of each */
	assert_int_equal(s.max_seq, r.last_seq);
	assert_int_equal(s.last_seq, r.first_seq);
	/* file keys + alloc keys + accounting keys, all in the live range */
	assert_int_equal(s.live_keys, r.keys + r.alloc_keys + r.acct_keys);
	/* every new position is absent from the base btrees */
	assert_true(s.journal_only >= r.keys - r.overwrites);
}

static void test_overwrite_ratio_and_mix(void **state)
{
	struct env *e = *state;
	struct jrx_synth_opts o;
	struct jrx_synth_report r;
	double share;

	format(e, 2, 1, 32u << 20);
	jrx_synth_opts_default(&o);
	o.keys = 50000;
	o.base_keys = 10000;
	o.overwrite_ratio = 0.5;
	o.dist = JRX_SYNTH_ZIPF;
	assert_jrx_ok(jrx_synth_parse_mix("extents=1,dirents=1", o.mix));
	assert_jrx_ok(synth(e, 2, &o, &r));

	share = (double)r.overwrites / (double)r.keys;
	if (share < 0.45 || share > 0.55)
		fail_msg("overwrite share %.3f, asked for 0.5", share);
	assert_int_equal(r.keys_by_btree[JRX_BTREE_XATTRS], 0);
	assert_true(r.keys_by_btree[JRX_BTREE_EXTENTS] > 10000);
	assert_true(r.keys_by_btree[JRX_BTREE_DIRENTS] > 10000);
}

/* Same seed and geometry: the same key stream, counted the same way. */
static void test_deterministic(void **state)
{
	struct env *e = *state;
	struct jrx_synth_opts o;
	struct jrx_synth_report r1, r2;

	jrx_synth_opts_default(&o);
	o.keys = 20000;
	o.base_keys = 5000;
	o.seed = 42;
	o.dist = JRX_SYNTH_SEQUENTIAL;
	format(e, 2, 1, 32u << 20);
	assert_jrx_ok(synth(e, 2, &o, &r1));
	format(e, 2, 1, 32u << 20);
	assert_jrx_ok(synth(e, 2, &o, &r2));

	assert_int_equal(r1.jsets, r2.jsets);
	assert_int_equal(r1.journal_bytes, r2.journal_bytes);
	assert_int_equal(r1.overwrites, r2.overwrites);
	assert_int_equal(r1.deletes, r2.deletes);
	assert_int_equal(r1.alloc_keys, r2.alloc_keys);
	assert_int_equal(r1.acct_keys, r2.acct_keys);
	assert_int_equal(r1.base_nodes, r2.base_nodes);
	assert_memory_equal(r1.keys_by_btree, r2.keys_by_btree,
			    sizeof(r1.keys_by_btree));
}

/* Refusals are decided before any write. */
static void test_refusals_write_nothing(void **state)
{
	struct env *e = *state;
	struct jrx_synth_opts o;
	struct jrx_synth_report r;
	struct th_file_state before[2], after[2];

	format(e, 2, 1, 2u << 20);		/* 8 buckets of journal */
	for (unsigned i = 0; i < 2; i++)
		th_file_state(e->p[i], &before[i]);
	jrx_synth_opts_default(&o);
	o.keys = 2000000;
	assert_jrx_err(synth(e, 2, &o, &r), -JRX_ERR_JOURNAL_FULL);
	assert_contains(jrx_diag(), "journal too small");
	for (unsigned i = 0; i < 2; i++) {
		th_file_state(e->p[i], &after[i]);
		assert_int_equal(before[i].hash, after[i].hash);
	}

	/* a dirty array is refused: synth needs a clean one */
	o.keys = 1000;
	o.base_keys = 100;
	assert_jrx_ok(synth(e, 2, &o, &r));
	for (unsigned i = 0; i < 2; i++)
		th_file_state(e->p[i], &before[i]);
	assert_jrx_err(synth(e, 2, &o, &r), -JRX_ERR_NEEDS_RECOVERY);
	for (unsigned i = 0; i < 2; i++) {
		th_file_state(e->p[i], &after[i]);
		assert_int_equal(before[i].hash, after[i].hash);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_journal_matches_report),
		cmocka_unit_test(test_overwrite_ratio_and_mix),
		cmocka_unit_test(test_deterministic),
		cmocka_unit_test(test_refusals_write_nothing),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
