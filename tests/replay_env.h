/*
 * replay_env.h - what the tests that compare recoveries share
 * (test_replay.c, test_spill.c): an array made once by synth in the
 * reference's copy and copied byte for byte to the accelerated
 * recovery's, and the comparisons: reference against accelerated (dumps,
 * keydump.h, and node writes), and a power cut at a random write followed
 * by another recovery (in-process: th_recover).
 */
#ifndef JRX_TEST_REPLAY_ENV_H
#define JRX_TEST_REPLAY_ENV_H

#include "helpers.h"
#include "recovery/recover.h"
#include "workload/synth.h"

struct env {
	struct th_dir dir;
	char p[4][256];
	const char *ref[2];		/* the reference's copy */
	const char *acc[2];		/* the accelerated recovery's */
	/* set: re_crash_then_recover's second recovery, when it has a
	 * memory limit, gets this one, measured after the crashed one
	 * (whose freed memory a sanitizer keeps in this process) */
	uint64_t (*again_limit)(void);
};

/* synth options: keys journal keys over keys / 2 base keys, 64 KiB jsets. */
void  re_synth_opts(struct jrx_synth_opts *o, uint64_t keys, unsigned dist,
		    uint64_t seed);
/* cmocka group fixtures: the scratch directory and the four paths. */
int   re_setup(void **state);
int   re_teardown(void **state);
/* A sparse copy of a device (io/copy.h). */
void  re_copy_sparse(const char *src, const char *dst);
/* A crashed array of geometry g made by synth (so) in e->ref, the same
 * bytes in e->acc. */
void  re_make_geom(struct env *e, const struct jrx_synth_opts *so,
		   const struct th_geom *g);
/* (Dumps and their comparison: keydump.h, dump_text, expect_same_text.) */
/* Reference on e->ref, accelerated (o) on e->acc: the same dump, fsck
 * clean, and the same node writes. */
void  re_differential(struct env *e, struct jrx_recover_opts o,
		      const char *what, struct jrx_report *r);
/* A power cut at a random one of `writes` writes of recovery acc on
 * e->acc, then recovery again: the dump must be want, fsck clean. */
void  re_crash_then_recover(struct env *e, const struct jrx_recover_opts *acc,
			    const struct jrx_recover_opts *again,
			    uint64_t writes, uint64_t *rnd, const char *want,
			    const char *label);

#endif
