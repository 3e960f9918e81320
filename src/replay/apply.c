/*
 * apply.c - applying one journal key during replay (apply.h).
 */
#include <inttypes.h>
#include "apply.h"
#include "jrx/errors.h"
#include "../format/bkey.h"
#include "../util/diag.h"

int jrx_replay_load_alloc(struct jrx_fs *fs, unsigned btree_id, unsigned level,
			  const struct jrx_bkey *k, uint64_t seq)
{
	if (level || btree_id != JRX_BTREE_ALLOC || k->type != JRX_KEY_ALLOC)
		return 0;
	if (k->p.inode >= fs->bt.nr_devs ||
	    k->p.offset >= fs->bt.nbuckets[k->p.inode] ||
	    k->p.offset < fs->bt.first[k->p.inode])
		return jrx_fail(-JRX_ERR_KEY_INVALID, "journal seq %" PRIu64
				": alloc key for bucket %" PRIu64 ":%" PRIu64
				" outside the array", seq, k->p.inode,
				k->p.offset);
	jrx_bucket_load(&fs->bt, (uint32_t)k->p.inode, k->p.offset,
			jrx_bkey_val(k));
	return 0;
}

/* An accounting delta, applied only if newer than the btree's total. */
static int apply_delta(struct jrx_fs *fs, const struct jrx_bkey *k,
		       uint64_t *skipped)
{
	uint64_t buf[JRX_BKEY_U64S + sizeof(struct jrx_accounting_val) / 8];
	struct jrx_bkey *nk = (struct jrx_bkey *)buf;
	const struct jrx_accounting_val *d = jrx_bkey_val(k);
	struct jrx_accounting_val *v;
	const struct jrx_bkey *old;
	int ret;

	if (k->type != JRX_KEY_ACCOUNTING)
		return jrx_fail(-JRX_ERR_KEY_INVALID, "accounting btree: journal"
				" key of type %s", jrx_key_type_name(k->type));
	ret = jrx_btree_lookup(fs, JRX_BTREE_ACCOUNTING, k->p, &old);
	if (ret)
		return ret;
	if (old && old->version >= k->version) {
		(*skipped)++;
		return 0;
	}
	jrx_bkey_init(nk, JRX_KEY_ACCOUNTING, k->p, sizeof(*v));
	nk->version = k->version;
	v = jrx_bkey_val(nk);
	v->d[0] = d->d[0];
	v->d[1] = d->d[1];
	if (old) {
		const struct jrx_accounting_val *ov = jrx_bkey_val(old);

		v->d[0] += ov->d[0];
		v->d[1] += ov->d[1];
	}
	return jrx_fs_replay_key(fs, JRX_BTREE_ACCOUNTING, 0, nk);
}

int jrx_replay_apply(struct jrx_fs *fs, unsigned btree_id, unsigned level,
		     const struct jrx_bkey *k, uint64_t seq, uint64_t *skipped)
{
	int ret;

	if (!level && btree_id == JRX_BTREE_ACCOUNTING)
		ret = apply_delta(fs, k, skipped);
	else
		ret = jrx_fs_replay_key(fs, btree_id, level, k);
	if (ret)
		jrx_fail(ret, "replaying journal seq %" PRIu64 " btree %s level"
			 " %u: %s", seq, jrx_btree_name(btree_id), level,
			 jrx_diag());
	return ret;
}

int jrx_replay_finish(struct jrx_fs *fs)
{
	uint64_t freed;
	int ret;

	/* buckets open at the crash and emptied since hold nothing */
	ret = jrx_buckets_free_empty(&fs->bt, fs->j.seq, &freed);
	if (!ret)
		ret = jrx_fs_replay_settle(fs, 0);
	return ret;
}
