/*
 * fs.c - an open store (see fs.h): open, transactions, closing a jset
 * (accounting, alloc keys, roots, reclaim), clean shutdown, power cut.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <inttypes.h>
#include "fs.h"
#include "jrx/errors.h"
#include "../util/diag.h"
#include "../format/jset.h"
#include "../journal/jread.h"

/* btree.c */
int  jrx_btree_insert_journaled(struct jrx_fs *fs, unsigned btree_id,
				const struct jrx_bkey *k);
int  jrx_fs_set_root(struct jrx_fs *fs, unsigned btree_id, unsigned level,
		     const struct jrx_bkey *ptr);
void jrx_fs_root_ptr(const struct jrx_fs *fs, unsigned btree_id,
		     struct jrx_bkey *k);
void jrx_fs_cache_free(struct jrx_fs *fs);


static int load_alloc_cb(void *ctx, unsigned btree_id, const struct jrx_bkey *k)
{
	struct jrx_fs *fs = ctx;
	const struct jrx_alloc_val *v = jrx_bkey_val(k);

	(void)btree_id;
	if (k->p.inode >= fs->bt.nr_devs || k->p.offset >= fs->bt.nbuckets[k->p.inode])
		return jrx_fail(-JRX_ERR_KEY_INVALID, "alloc key for bucket %"
				PRIu64 ":%" PRIu64 " outside the array",
				k->p.inode, k->p.offset);
	jrx_bucket_load(&fs->bt, (uint32_t)k->p.inode, k->p.offset, v);
	return 0;
}

/* Roots from the btree_root entries of one jset. */
static int roots_from_jset(struct jrx_fs *fs, const struct jrx_jset *j,
			   bool *found)
{
	const struct jrx_jset_entry *e;
	int ret = 0;

	jrx_for_each_jset_entry(e, j) {
		if (e->type != JRX_JE_BTREE_ROOT)
			continue;
		ret = jrx_fs_set_root(fs, e->btree_id, e->level,
				      jrx_je_keys(e));
		if (ret)
			break;
		*found = true;
	}
	return ret;
}

/* Roots from the newest valid jset (read-only view of an unclean array). */
static int roots_from_journal(struct jrx_fs *fs, bool *found)
{
	struct jrx_journal_scan s;
	const struct jrx_jset *best = NULL;
	int ret;

	*found = false;
	ret = jrx_journal_read_seq(fs->a, &s, JRX_SCAN_KEEP);
	if (ret)
		return ret;
	for (size_t i = 0; i < s.nr; i++)
		if (s.v[i].state == JRX_JSET_OK &&
		    (!best || s.v[i].seq > best->seq))
			best = s.v[i].j;
	if (best && best->seq > fs->a->sb.journal_seq)
		ret = roots_from_jset(fs, best, found);
	jrx_journal_scan_free(&s);
	return ret;
}

/* The superblock's roots (unless found in a jset), then the allocator. */
static int load_roots_and_alloc(struct jrx_fs *fs, bool have_roots)
{
	const struct jrx_sb *sb = &fs->a->sb;
	int ret = 0;

	for (unsigned i = 0; !ret && !have_roots && i < JRX_BTREE_NR; i++) {
		const struct jrx_btree_root *r = &sb->roots[i];

		if (!r->present) {
			ret = jrx_fail(-JRX_ERR_SB_INVALID, "%s: superblock has no"
				       " root for btree %s", fs->a->devs[0].path,
				       jrx_btree_name(i));
			break;
		}
		ret = jrx_fs_set_root(fs, i, r->level, &r->k);
	}
	for (unsigned i = 0; !ret && i < JRX_BTREE_NR; i++)
		if (!fs->root[i])
			ret = jrx_fail(-JRX_ERR_NOT_FOUND, "no root for btree %s",
				       jrx_btree_name(i));
	if (!ret)
		ret = jrx_btree_walk(fs, JRX_BTREE_ALLOC, load_alloc_cb, fs);
	return ret;
}

int jrx_fs_open(struct jrx_fs *fs, struct jrx_array *a, unsigned flags)
{
	const struct jrx_sb *sb = &a->sb;
	bool from_journal = false;
	int ret;

	memset(fs, 0, sizeof(*fs));
	fs->a = a;
	fs->rdonly = (flags & JRX_FS_RDONLY) || a->rdonly;
	fs->node_size = sb->btree_node_size;
	fs->bl.v = sb->blacklist;
	fs->bl.nr = sb->nr_blacklist;
	/* well under a bucket: a transaction never straddles jsets */
	fs->jset_target = sb->bucket_size / 4 < 64 * 1024 ?
		sb->bucket_size / 4 : 64 * 1024;
	fs->reclaim_below = 0.5;
	if (!fs->rdonly && !(sb->flags & JRX_SB_CLEAN))
		return jrx_fail(-JRX_ERR_NEEDS_RECOVERY, "%s: the array was not"
				" shut down cleanly; recover it first",
				a->devs[0].path);
	fs->iobuf = jrx_alloc_aligned(fs->node_size);
	if (!fs->iobuf)
		return -ENOMEM;
	ret = jrx_buckets_init(&fs->bt, sb, &fs->acct);
	if (!ret)
		ret = jrx_journal_init(&fs->j, a, sb->journal_seq + 1);
	if (!ret && fs->rdonly && !(sb->flags & JRX_SB_CLEAN))
		ret = roots_from_journal(fs, &from_journal);
	if (!ret)
		ret = load_roots_and_alloc(fs, from_journal);
	if (!ret && !fs->rdonly) {
		/* from here on, a crash must replay the journal */
		a->sb.flags &= ~JRX_SB_CLEAN;
		ret = jrx_array_write_sb(a);
	}
	if (ret)
		jrx_fs_abandon(fs);
	return ret;
}

void jrx_fs_abandon(struct jrx_fs *fs)
{
	if (fs->j.buf) {
		fs->jsets_written = fs->j.jsets_written;
		fs->journal_bytes = fs->j.bytes_written;
		fs->journal_keys = fs->j.keys_written;
		fs->durable_seq = fs->j.durable_seq;
	}
	jrx_fs_cache_free(fs);
	jrx_journal_exit(&fs->j);
	jrx_buckets_exit(&fs->bt);
	jrx_acct_free(&fs->acct);
	free(fs->iobuf);
	fs->iobuf = NULL;
	fs->dead = true;
}

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

/* Alloc keys for every bucket changed, journaled and applied; repeats
 * while applying them changes more buckets (node splits). */
static int drain_alloc(struct jrx_fs *fs)
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

/* Accounting deltas become keys (version = seq) and btree totals. */
static int drain_accounting(struct jrx_fs *fs)
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
				ret = drain_alloc(fs);
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
	ret = drain_alloc(fs);
	if (!ret && jrx_journal_open_bytes(&fs->j) >= fs->jset_target)
		ret = jrx_fs_journal_flush(fs, false);
	if (ret)
		fs->dead = true;
	return ret;
}

int jrx_fs_journal_flush(struct jrx_fs *fs, bool torn)
{
	uint64_t buf[JRX_PTR_U64S];
	struct jrx_bkey *k = (struct jrx_bkey *)buf;
	struct jrx_clock_val clock;
	uint64_t seq = fs->j.seq;
	int ret = 0;

	if (fs->dead)
		return jrx_fail(-JRX_ERR_CRASHED, "store is stopped");
	if (jrx_journal_free_fraction(&fs->j, jrx_fs_last_seq(fs)) <
	    fs->reclaim_below) {
		fs->reclaims++;
		ret = jrx_fs_writeback_all(fs);
	}
	if (!ret)
		ret = drain_alloc(fs);
	if (!ret)
		ret = drain_accounting(fs);
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

static bool any_dirty(const struct jrx_fs *fs)
{
	return jrx_fs_last_seq(fs) != fs->j.seq || fs->acct.nr ||
		fs->bt.nr_changed;
}

/* The current roots into the superblock's clean section. */
static void roots_to_sb(struct jrx_fs *fs)
{
	uint64_t buf[JRX_PTR_U64S];
	struct jrx_bkey *k = (struct jrx_bkey *)buf;

	for (unsigned i = 0; i < JRX_BTREE_NR; i++) {
		struct jrx_btree_root *r = &fs->a->sb.roots[i];

		jrx_fs_root_ptr(fs, i, k);
		memset(r, 0, sizeof(*r));
		r->btree_id = (uint8_t)i;
		r->level = fs->root[i]->level;
		r->present = 1;
		memcpy(&r->k, k, sizeof(r->k) + sizeof(r->v));
	}
}

int jrx_fs_shutdown(struct jrx_fs *fs)
{
	struct jrx_sb *sb = &fs->a->sb;
	int ret = 0, rounds = 0;

	if (fs->dead || fs->rdonly) {
		jrx_fs_abandon(fs);
		return fs->rdonly ? 0 : jrx_fail(-JRX_ERR_CRASHED, "store is stopped");
	}
	/* journal what is open, write every node back, until nothing moves */
	do {
		if (!jrx_journal_open_empty(&fs->j) || fs->acct.nr ||
		    fs->bt.nr_changed)
			ret = jrx_fs_journal_flush(fs, false);
		if (!ret)
			ret = jrx_fs_writeback_all(fs);
		/* a reopened store does not know which buckets were open: an
		 * open bucket left empty would never be freed (closing frees
		 * it, and the next round journals that) */
		for (unsigned t = 0; !ret && t < JRX_DATA_TYPE_NR; t++)
			jrx_close_open_bucket(&fs->bt, (uint8_t)t, fs->j.seq);
		if (!ret && ++rounds > 64)
			ret = jrx_fail(-EDEADLK, "clean shutdown did not settle");
	} while (!ret && (any_dirty(fs) || !jrx_journal_open_empty(&fs->j)));
	if (!ret)
		roots_to_sb(fs);
	for (unsigned d = 0; !ret && d < fs->a->nr_devs; d++)
		ret = jrx_dev_sync(&fs->a->devs[d]);
	if (!ret) {
		sb->journal_seq = fs->j.durable_seq;
		sb->flags |= JRX_SB_CLEAN;
		ret = jrx_array_write_sb(fs->a);
	}
	jrx_fs_abandon(fs);
	return ret;
}

int jrx_fs_alloc_data(struct jrx_fs *fs, uint32_t want, uint32_t *dev,
		      uint64_t *sector, uint32_t *got, uint32_t *gen)
{
	return jrx_alloc_sectors(&fs->bt, JRX_DATA_USER, want, fs->j.durable_seq,
				 fs->j.seq, dev, sector, got, gen);
}

int jrx_fs_free_data(struct jrx_fs *fs, uint32_t dev, uint64_t sector,
		     uint32_t sectors)
{
	return jrx_bucket_add_sectors(&fs->bt, dev, sector / fs->bt.bucket_sectors,
				      JRX_DATA_USER, -(int64_t)sectors, fs->j.seq);
}

int jrx_fs_acct_inodes(struct jrx_fs *fs, int64_t delta)
{
	return jrx_acct_add(&fs->acct, jrx_acct_inodes_pos(), delta, 0);
}

/* ---------------------------------------------------------------- replay */

int jrx_fs_open_replay(struct jrx_fs *fs, struct jrx_array *a,
		       const struct jrx_jset *newest, uint64_t max_seq,
		       bool nowrite)
{
	const struct jrx_sb *sb = &a->sb;
	bool have_roots = false;
	int ret;

	memset(fs, 0, sizeof(*fs));
	fs->a = a;
	fs->replaying = true;
	fs->nowrite = nowrite;
	if (!nowrite && a->rdonly)
		return jrx_fail(-JRX_ERR_READ_ONLY, "%s: recovery needs the array"
				" open for writing", a->devs[0].path);
	if (sb->nr_blacklist > JRX_SB_MAX_BLACKLIST)
		return jrx_fail(-JRX_ERR_SB_INVALID, "%s: superblock lists %u"
				" blacklist entries", a->devs[0].path,
				sb->nr_blacklist);
	/* bsets past max_seq were written ahead of a jset that never landed */
	memcpy(fs->bl_store, sb->blacklist,
	       sb->nr_blacklist * sizeof(fs->bl_store[0]));
	fs->bl_store[sb->nr_blacklist] =
		(struct jrx_blacklist_entry){ max_seq + 1, UINT64_MAX };
	fs->bl.v = fs->bl_store;
	fs->bl.nr = sb->nr_blacklist + 1u;
	fs->node_size = sb->btree_node_size;
	fs->jset_target = sb->bucket_size / 4;
	fs->reclaim_below = 0.0;
	fs->iobuf = jrx_alloc_aligned(fs->node_size);
	if (!fs->iobuf)
		return -ENOMEM;
	ret = jrx_buckets_init(&fs->bt, sb, &fs->acct);
	/*
	 * Replay runs at seq max_seq: bsets it writes carry max_seq, and a
	 * bucket it frees is reusable only once max_seq is "durable", which
	 * never happens before the commit (durable_seq stays max_seq - 1).
	 */
	if (!ret)
		ret = jrx_journal_init(&fs->j, a, max_seq ? max_seq : 1);
	if (!ret && newest)
		ret = roots_from_jset(fs, newest, &have_roots);
	if (!ret)
		ret = load_roots_and_alloc(fs, have_roots);
	if (ret)
		jrx_fs_abandon(fs);
	return ret;
}

int jrx_fs_replay_settle(struct jrx_fs *fs)
{
	int ret = 0, rounds = 0;

	if (!fs->replaying || fs->dead)
		return jrx_fail(-JRX_ERR_CRASHED, "store is not replaying");
	do {
		ret = jrx_fs_writeback_all(fs);
		if (!ret)
			ret = drain_alloc(fs);
		if (!ret)
			ret = drain_accounting(fs);
		for (unsigned t = 0; !ret && t < JRX_DATA_TYPE_NR; t++)
			jrx_close_open_bucket(&fs->bt, (uint8_t)t, fs->j.seq);
		if (!ret && ++rounds > 64)
			ret = jrx_fail(-EDEADLK, "replay write-back did not settle");
	} while (!ret && (jrx_fs_any_dirty_node(fs) || fs->acct.nr ||
			  fs->bt.nr_changed));
	if (ret)
		fs->dead = true;
	return ret;
}

int jrx_fs_replay_commit(struct jrx_fs *fs, uint64_t max_seq, unsigned pad)
{
	struct jrx_sb *sb = &fs->a->sb;
	int ret = 0;

	if (!fs->replaying || fs->dead || fs->nowrite ||
	    jrx_fs_any_dirty_node(fs) || fs->acct.nr || fs->bt.nr_changed) {
		jrx_fs_abandon(fs);
		return jrx_fail(-JRX_ERR_CRASHED, "replay is not ready to commit");
	}
	if (pad > 1 && sb->nr_blacklist >= JRX_SB_MAX_BLACKLIST) {
		jrx_fs_abandon(fs);
		return jrx_fail(-JRX_ERR_NO_SPACE, "%s: the superblock blacklist"
				" is full (%u ranges)", fs->a->devs[0].path,
				JRX_SB_MAX_BLACKLIST);
	}
	/* every node reachable from the new roots is on disk first */
	for (unsigned d = 0; !ret && d < fs->a->nr_devs; d++)
		ret = jrx_dev_sync(&fs->a->devs[d]);
	if (!ret)
		roots_to_sb(fs);
	if (!ret) {
		if (pad > 1)
			sb->blacklist[sb->nr_blacklist++] =
				(struct jrx_blacklist_entry){
					max_seq + 1, max_seq + pad - 1 };
		sb->journal_seq = max_seq + pad - 1;
		sb->flags |= JRX_SB_CLEAN;
		ret = jrx_array_write_sb(fs->a);
	}
	jrx_fs_abandon(fs);
	return ret;
}
