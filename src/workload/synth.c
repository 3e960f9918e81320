/*
 * synth.c - `jrx synth` (synth.h): every check first, then the base
 * (synth_base.c), the journal (synth_journal.c) and the unclean
 * superblock, and the report.  The generator's files are listed in
 * synth_int.h, with the model they share.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "synth_int.h"
#include "jrx/errors.h"
#include "../util/clock.h"
#include "../util/diag.h"

static void synth_free(struct synth *s)
{
	if (s->j_init)
		jrx_journal_exit(&s->j);
	if (s->bt_init)
		jrx_buckets_exit(&s->bt);
	jrx_acct_free(&s->acct);
	free(s->ino);
	free(s->ext);
	free(s->de);
	free(s->xa);
	free(s->dirs);
	free(s->hot_ext);
	free(s->hot_de);
	free(s->hot_xa);
}

int jrx_synth(struct jrx_array *a, const struct jrx_synth_opts *o,
	      struct jrx_synth_report *r)
{
	struct synth *s;
	double t0 = jrx_now(), t1, t2;
	uint64_t need;
	int ret;

	memset(r, 0, sizeof(*r));
	ret = synth_check_opts(a, o);
	if (!ret)
		ret = synth_check_journal(a, o, &need);
	if (!ret)
		ret = synth_check_space(a, o);
	if (ret)
		return ret;
	r->journal_needed = need;
	s = calloc(1, sizeof(*s));
	if (!s)
		return jrx_fail(-ENOMEM, "synth: allocating the generator"
				" state (%zu bytes)", sizeof(*s));
	s->a = a;
	s->o = o;
	s->r = r;
	s->named = o->mix[B_DIR] > 0;
	s->hot_file = NO_INO;
	s->hot_dir = 0;			/* the root */
	s->rng[0] = o->seed;
	for (unsigned i = 0; i < 4; i++)
		s->rng[i] = jrx_splitmix64(&s->rng[0]) ^ (i * 0x51ed2701ull);

	/* nothing has been written so far */
	ret = synth_build_base(s);
	t1 = jrx_now();
	if (!ret)
		ret = synth_gen_journal(s);
	t2 = jrx_now();
	if (!ret) {
		a->sb.flags &= ~JRX_SB_CLEAN;
		for (unsigned id = 0; id < JRX_BTREE_NR; id++)
			a->sb.roots[id] = s->roots[id];
		a->sb.time = (uint64_t)time(NULL);
		ret = jrx_array_write_sb(a);
	}
	if (ret && ret != -JRX_ERR_JOURNAL_FULL) {
		char why[700];

		snprintf(why, sizeof(why), "%s", jrx_diag());
		ret = jrx_fail(ret, "%s%sthe array was partly rewritten and is"
			       " not usable: format it again", why,
			       *why ? "; " : "");
	}
	r->keys = s->emitted;
	for (unsigned b = 0; b < JRX_SYNTH_NR_BTREES; b++) {
		r->keys_by_btree[b] = s->cnt[b] + s->cnt[4 + b];
		r->overwrites += s->cnt[4 + b];
	}
	r->jsets = s->j.jsets_written;
	r->journal_bytes = s->j.bytes_written;
	r->first_seq = s->first_seq;
	r->last_seq = s->j.durable_seq;
	r->inodes = s->n_ino;
	if (dist_hot(s)) {
		r->hot_file = s->hot_file != NO_INO ? inum_of(s->hot_file) : 0;
		r->hot_dir = inum_of(s->hot_dir);
		r->hot_keys = s->hot_keys;
	}
	r->t_base = t1 - t0;
	r->t_journal = t2 - t1;
	r->t_sb = jrx_now() - t2;
	r->elapsed = jrx_now() - t0;
	synth_free(s);
	free(s);
	return ret;
}
