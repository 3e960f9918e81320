/*
 * synth_journal.c - synth's jset stream: operations (synth_ops.c) are
 * added to the open jset until it is nearly full, then its trailer is
 * added (the accounting deltas, the alloc keys of the buckets changed,
 * every btree root, the clock) and it is written into the journal ring;
 * until the journal holds N keys.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "synth_int.h"
#include "jrx/errors.h"
#include "../util/diag.h"

/* Bytes the open jset will take once its trailer is added. */
static size_t jset_estimate(const struct synth *s)
{
	const struct jrx_jset *js = (const struct jrx_jset *)s->j.buf;

	return sizeof(*js) + (size_t)js->u64s * 8 +
		8 + s->bt.nr_changed * JRX_ALLOC_KEY_U64S * 8 +
		8 + s->acct.nr * ACCT_U64S * 8 +
		JRX_BTREE_NR * (8 + JRX_PTR_U64S * 8) + 8 + sizeof(struct jrx_clock_val);
}

/* Trailer (accounting deltas, alloc keys, roots, clock), then write. */
static int close_jset(struct synth *s)
{
	uint64_t buf[KEY_BUF_U64S];
	struct jrx_bkey *k = (struct jrx_bkey *)buf;
	struct jrx_accounting_val *av = (void *)(buf + JRX_BKEY_U64S);
	struct jrx_bucket_ref *v = NULL;
	struct jrx_clock_val clock;
	size_t n;
	int ret = 0;

	for (size_t i = 0; i < s->acct.nr && !ret; i++) {
		const struct jrx_acct_delta *d = &s->acct.v[i];

		if (!d->d[0] && !d->d[1])
			continue;
		jrx_bkey_init(k, JRX_KEY_ACCOUNTING, d->p, sizeof(*av));
		k->version = s->j.seq;
		av->d[0] = d->d[0];
		av->d[1] = d->d[1];
		ret = jrx_journal_add_key(&s->j, JRX_BTREE_ACCOUNTING, 0, k);
		s->r->acct_keys++;
	}
	jrx_acct_reset(&s->acct);
	n = jrx_buckets_take_changed(&s->bt, &v);
	for (size_t i = 0; i < n && !ret; i++) {
		jrx_bucket_to_key(&s->bt, v[i].dev, v[i].bucket, k);
		ret = jrx_journal_add_key(&s->j, JRX_BTREE_ALLOC, 0, k);
		s->r->alloc_keys++;
	}
	free(v);
	for (unsigned id = 0; id < JRX_BTREE_NR && !ret; id++)
		ret = jrx_journal_add_entry(&s->j, JRX_JE_BTREE_ROOT, id,
					    s->roots[id].level, &s->roots[id].k,
					    JRX_PTR_U64S);
	clock.time = (uint64_t)time(NULL);
	clock.ops = s->ops;
	if (!ret)
		ret = jrx_journal_add_entry(&s->j, JRX_JE_CLOCK, 0, 0, &clock,
					    sizeof(clock) / 8);
	if (!ret)
		ret = jrx_journal_write(&s->j, s->first_seq, false);
	if (ret == -JRX_ERR_JOURNAL_FULL) {
		char why[512];

		snprintf(why, sizeof(why), "%s", jrx_diag());
		return jrx_fail(ret, "journal filled up after %" PRIu64 " of %"
				PRIu64 " keys (%s); the array is now inconsistent:"
				" format it again with a bigger --journal-size",
				s->emitted, s->o->keys, why);
	}
	s->now = T0 + (s->j.seq - s->first_seq) + 1;
	if (!ret)
		synth_progress(s, "journal", s->emitted, s->o->keys);
	return ret;
}

int synth_gen_journal(struct synth *s)
{
	const struct jrx_synth_opts *o = s->o;
	int ret = jrx_journal_init(&s->j, s->a, s->a->sb.journal_seq + 1);

	if (ret)
		return ret;
	s->j_init = true;
	s->first_seq = s->j.seq;
	s->now = T0 + 1;
	for (unsigned b = 0; b < JRX_SYNTH_NR_BTREES; b++) {
		double w = (double)o->mix[b], sum = 0;

		for (unsigned c = 0; c < JRX_SYNTH_NR_BTREES; c++)
			sum += o->mix[c];
		s->target[b] = w / sum * (1.0 - o->overwrite_ratio);
		s->target[4 + b] = w / sum * o->overwrite_ratio;
	}
	while (!ret && s->emitted < o->keys) {
		if (jset_estimate(s) + TX_MARGIN > o->jset_size)
			ret = close_jset(s);
		if (!ret)
			ret = synth_run_op(s);
		s->ops++;
	}
	if (!ret && (!jrx_journal_open_empty(&s->j) || !s->j.jsets_written))
		ret = close_jset(s);
	return ret;
}
