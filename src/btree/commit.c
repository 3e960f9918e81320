/*
 * commit.c - the transaction path of an open store (see fs.h): updates
 * journaled and applied at once, the alloc keys of the buckets a
 * transaction touched, and closing a jset (journal reclaim, accounting
 * deltas, btree roots, clock) once it is past its target size.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "btree_int.h"
#include "jrx/errors.h"
#include "../util/diag.h"

int jrx_fs_update(struct jrx_fs *fs, unsigned btree_id, const struct jrx_bkey *k)
{
	int ret;

	if (fs->dead)
		return jrx_fail(-JRX_ERR_CRASHED, "store is stopped");
	if (fs->rdonly)
		return jrx_fail(-JRX_ERR_READ_ONLY, "store is read-only");
	ret = jrx_journal_add_key(&fs->j, btree_id, 0, k);
	if (!ret)
		ret = jrx_btree_insert_journaled(fs, btree_id, k);
	if (ret)
		fs->dead = true;
	return ret;
}

/* Journal a leaf key, except in recovery (replay journals nothing). */
static int journal_key(struct jrx_fs *fs, unsigned btree_id,
		       const struct jrx_bkey *k)
{
	return fs->replaying ? 0 : jrx_journal_add_key(&fs->j, btree_id, 0, k);
}

int jrx_fs_drain_alloc(struct jrx_fs *fs)
{
	uint64_t buf[JRX_ALLOC_KEY_U64S];
	struct jrx_bkey *k = (struct jrx_bkey *)buf;
	struct jrx_bucket_ref *v;
	size_t n;
	int ret = 0;

	while (!ret && (n = jrx_buckets_take_changed(&fs->bt, &v))) {
		for (size_t i = 0; i < n && !ret; i++) {
			jrx_bucket_to_key(&fs->bt, v[i].dev, v[i].bucket, k);
			ret = journal_key(fs, JRX_BTREE_ALLOC, k);
			if (!ret)
				ret = jrx_btree_insert_journaled(fs, JRX_BTREE_ALLOC, k);
		}
		free(v);
	}
	return ret;
}

int jrx_fs_drain_accounting(struct jrx_fs *fs)
{
	uint64_t buf[JRX_BKEY_U64S + 2];
	struct jrx_bkey *k = (struct jrx_bkey *)buf;
	int ret = 0;

	while (!ret && fs->acct.nr) {
		struct jrx_acct snap = fs->acct;

		memset(&fs->acct, 0, sizeof(fs->acct));
		for (size_t i = 0; i < snap.nr && !ret; i++) {
			struct jrx_accounting_val *v;
			const struct jrx_bkey *old;

			if (!snap.v[i].d[0] && !snap.v[i].d[1])
				continue;
			jrx_bkey_init(k, JRX_KEY_ACCOUNTING, snap.v[i].p, sizeof(*v));
			k->version = fs->j.seq;
			v = jrx_bkey_val(k);
			v->d[0] = snap.v[i].d[0];
			v->d[1] = snap.v[i].d[1];
			ret = journal_key(fs, JRX_BTREE_ACCOUNTING, k);
			if (ret)
				break;
			ret = jrx_btree_lookup(fs, JRX_BTREE_ACCOUNTING, k->p, &old);
			if (ret)
				break;
			if (old) {
				const struct jrx_accounting_val *ov = jrx_bkey_val(old);

				v->d[0] += ov->d[0];
				v->d[1] += ov->d[1];
			}
			ret = jrx_btree_insert_journaled(fs, JRX_BTREE_ACCOUNTING, k);
			if (!ret)
				ret = jrx_fs_drain_alloc(fs);
		}
		jrx_acct_free(&snap);
	}
	return ret;
}

int jrx_fs_commit(struct jrx_fs *fs)
{
	int ret;

	if (fs->dead)
		return jrx_fail(-JRX_ERR_CRASHED, "store is stopped");
	ret = jrx_fs_drain_alloc(fs);
	if (!ret && jrx_journal_open_bytes(&fs->j) >= fs->jset_target)
		ret = jrx_fs_journal_flush(fs, false);
	if (ret)
		fs->dead = true;
	return ret;
}

int jrx_fs_journal_flush(struct jrx_fs *fs, bool torn)
{
	int ret = 0;

	if (fs->dead)
		return jrx_fail(-JRX_ERR_CRASHED, "store is stopped");
	if (jrx_journal_free_fraction(&fs->j, jrx_fs_last_seq(fs)) <
	    fs->reclaim_below) {
		fs->reclaims++;
		ret = jrx_fs_writeback_all(fs);
	}
	if (ret) {
		fs->dead = true;
		return ret;
	}
	return jrx_fs_journal_write_open(fs, torn);
}

int jrx_fs_journal_write_open(struct jrx_fs *fs, bool torn)
{
	uint64_t buf[JRX_PTR_U64S];
	struct jrx_bkey *k = (struct jrx_bkey *)buf;
	struct jrx_clock_val clock;
	uint64_t seq = fs->j.seq;
	int ret;

	ret = jrx_fs_drain_alloc(fs);
	if (!ret)
		ret = jrx_fs_drain_accounting(fs);
	for (unsigned i = 0; !ret && i < JRX_BTREE_NR; i++) {
		jrx_fs_root_ptr(fs, i, k);
		ret = jrx_journal_add_entry(&fs->j, JRX_JE_BTREE_ROOT, i,
					    fs->root[i]->level, k, k->u64s);
	}
	clock.time = (uint64_t)time(NULL);
	clock.ops = fs->ops;
	if (!ret)
		ret = jrx_journal_add_entry(&fs->j, JRX_JE_CLOCK, 0, 0, &clock,
					    sizeof(clock) / 8);
	if (!ret)
		ret = jrx_journal_write(&fs->j, jrx_fs_last_seq(fs), torn);
	if (ret || torn) {
		fs->dead = true;
		return ret;
	}
	if (fs->on_durable)
		fs->on_durable(fs->hook_ctx, seq);
	return 0;
}

int jrx_fs_acct_inodes(struct jrx_fs *fs, int64_t delta)
{
	return jrx_acct_add(&fs->acct, jrx_acct_inodes_pos(), delta, 0);
}

