/*
 * replay_env.c - the shared comparisons of recoveries (replay_env.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "replay_env.h"
#include "keydump.h"
#include "btree/fs.h"
#include "io/copy.h"

int re_setup(void **state)
{
	static struct env e;
	static const char *names[] = { "a0", "a1", "b0", "b1" };

	th_dir_make(&e.dir);
	for (unsigned i = 0; i < 4; i++)
		th_path(e.p[i], &e.dir, names[i]);
	e.ref[0] = e.p[0];
	e.ref[1] = e.p[1];
	e.acc[0] = e.p[2];
	e.acc[1] = e.p[3];
	*state = &e;
	return 0;
}

int re_teardown(void **state)
{
	struct env *e = *state;

	th_dir_remove(&e->dir);
	return 0;
}


/* A sparse copy of a device (io/copy.h). */
void re_copy_sparse(const char *src, const char *dst)
{
	assert_jrx_ok(jrx_copy_sparse(src, dst, NULL));
}

/* A crashed array of geometry g in the reference's copy, and the same
 * bytes in the accelerated recovery's. */
void re_make_geom(struct env *e, const struct jrx_synth_opts *so,
		      const struct th_geom *g)
{
	struct jrx_synth_report sr;
	struct jrx_array a;

	for (unsigned i = 0; i < 4; i++)
		remove(e->p[i]);
	assert_jrx_ok(th_format(e->ref, 2, g));
	assert_jrx_ok(jrx_array_open(&a, e->ref, 2, 0));
	assert_jrx_ok(jrx_synth(&a, so, &sr));
	jrx_array_close(&a);
	for (unsigned i = 0; i < 2; i++)
		re_copy_sparse(e->ref[i], e->acc[i]);
}

/* Reference on one copy, accelerated (o) on the other: same end state. */
void re_differential(struct env *e, struct jrx_recover_opts o,
			 const char *what, struct jrx_report *r)
{
	struct jrx_recover_opts ref = { .reference = true };
	struct jrx_report rr;
	char *want, *got;

	/* the accelerated first: a memory limit in o is relative to what
	 * this process holds now */
	assert_jrx_ok(th_recover(e->acc, &o, r));
	assert_jrx_ok(th_recover(e->ref, &ref, &rr));
	assert_string_equal(r->result, "recovered");
	want = dump_text(e->ref);
	got = dump_text(e->acc);
	expect_same_text(want, got, what);
	th_assert_fsck_clean(e->acc, 2, what);
	/* and the same node writes: the layout is a function of the keys */
	if (rr.nodes_written != r->nodes_written ||
	    rr.bsets_appended != r->bsets_appended ||
	    rr.node_bytes_written != r->node_bytes_written)
		fail_msg("%s: reference wrote %llu nodes and appended %llu bsets"
			 " (%llu bytes), accelerated %llu, %llu (%llu bytes)",
			 what, (unsigned long long)rr.nodes_written,
			 (unsigned long long)rr.bsets_appended,
			 (unsigned long long)rr.node_bytes_written,
			 (unsigned long long)r->nodes_written,
			 (unsigned long long)r->bsets_appended,
			 (unsigned long long)r->node_bytes_written);
	free(want);
	free(got);
}

/*
 * A power cut at a random one of `writes` device writes of an accelerated
 * recovery (acc) of the array in e->acc, then a recovery of either kind
 * (again): the dump must be want, and fsck clean.
 */
void re_crash_then_recover(struct env *e, const struct jrx_recover_opts *acc,
			       const struct jrx_recover_opts *again,
			       uint64_t writes, uint64_t *rnd, const char *want,
			       const char *label)
{
	uint64_t at = 1 + th_rand_below(rnd, writes);
	struct jrx_report r;
	char what[160], *got;
	int ret;

	snprintf(what, sizeof(what), "%s: crash at write %llu of %llu, then %s",
		 label, (unsigned long long)at, (unsigned long long)writes,
		 again->reference ? "the reference" : "accelerated");
	jrx_recover_crash_after_writes(at);
	ret = th_recover(e->acc, acc, &r);
	jrx_recover_crash_after_writes(0);
	if (at < writes)
		assert_jrx_err(ret, -JRX_ERR_CRASHED);
	if (again->memory_limit && e->again_limit) {
		struct jrx_recover_opts a2 = *again;

		a2.memory_limit = e->again_limit();
		assert_jrx_ok(th_recover(e->acc, &a2, &r));
	} else {
		assert_jrx_ok(th_recover(e->acc, again, &r));
	}
	got = dump_text(e->acc);
	expect_same_text(want, got, what);
	th_assert_fsck_clean(e->acc, 2, what);
	free(got);
}


void re_synth_opts(struct jrx_synth_opts *o, uint64_t keys, unsigned dist,
		   uint64_t seed)
{
	jrx_synth_opts_default(o);
	o->keys = keys;
	o->base_keys = keys / 2;
	o->dist = dist;
	o->seed = seed;
	o->jset_size = 64u << 10;
}
