/*
 * fs_replay.c - a store opened for replay (see fs.h): opened at max_seq
 * with bsets past it blacklisted, keys inserted without being journaled,
 * write-back settled (replay_layout.c places the nodes), and the atomic
 * commit in one superblock write.  The reference and the parallel replay
 * (src/replay) both go through here; recovery (src/recovery) commits.
 */
#include <errno.h>
#include <string.h>
#include "btree_int.h"
#include "jrx/errors.h"
#include "../util/diag.h"

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
	/*
	 * Replay runs at seq max_seq: bsets it writes carry max_seq, and a
	 * bucket it frees is reusable only once max_seq is "durable", which
	 * never happens before the commit (durable_seq stays max_seq - 1).
	 */
	ret = jrx_fs_init_io(fs, max_seq ? max_seq : 1);
	if (!ret && newest)
		ret = jrx_fs_roots_from_jset(fs, newest, &have_roots);
	if (!ret)
		ret = jrx_fs_load_roots_and_alloc(fs, have_roots);
	if (ret)
		jrx_fs_abandon(fs);
	return ret;
}

int jrx_fs_replay_key(struct jrx_fs *fs, unsigned btree_id, unsigned level,
		      const struct jrx_bkey *k)
{
	if (!fs->replaying || fs->dead)
		return jrx_fail(-JRX_ERR_CRASHED, "store is not replaying");
	if (btree_id >= JRX_BTREE_NR)
		return jrx_fail(-JRX_ERR_KEY_INVALID, "journal key for btree %u",
				btree_id);
	return jrx_btree_insert(fs, btree_id, level, k, fs->j.seq);
}

int jrx_fs_replay_settle(struct jrx_fs *fs, unsigned depth)
{
	int ret = 0, rounds = 0;

	if (!fs->replaying || fs->dead)
		return jrx_fail(-JRX_ERR_CRASHED, "store is not replaying");
	if (depth && !fs->nowrite)
		ret = jrx_fs_wb_begin(fs, depth);
	while (!ret) {
		ret = jrx_fs_writeback_all(fs);
		if (!ret)
			ret = jrx_fs_drain_alloc(fs);
		if (!ret)
			ret = jrx_fs_drain_accounting(fs);
		if (!ret)
			ret = jrx_close_open_buckets(&fs->bt, fs->j.seq);
		if (!ret && ++rounds > 64)
			ret = jrx_fail(-EDEADLK, "replay write-back did not settle");
		if (!ret && !jrx_fs_any_dirty_node(fs) && !fs->acct.nr &&
		    !fs->bt.nr_changed)
			break;
	}
	/* every write on the device (or failed) before anything else */
	ret = jrx_fs_wb_end(fs, ret);
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
	if (!ret)
		ret = jrx_array_sync(fs->a);
	if (!ret)
		jrx_fs_roots_to_sb(fs);
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
