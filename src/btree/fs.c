/*
 * fs.c - opening and closing a store (see fs.h): a clean array for
 * writing or any array read-only (roots from the superblock, or from the
 * newest jset of an unclean one, then the allocator from the alloc
 * btree), clean shutdown and power cut.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <inttypes.h>
#include "btree_int.h"
#include "jrx/errors.h"
#include "../util/diag.h"
#include "../format/jset.h"
#include "../journal/jread.h"

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

int jrx_fs_roots_from_jset(struct jrx_fs *fs, const struct jrx_jset *j,
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
		ret = jrx_fs_roots_from_jset(fs, best, found);
	jrx_journal_scan_free(&s);
	return ret;
}

/* The superblock's roots (unless found in a jset), then the allocator. */
int jrx_fs_load_roots_and_alloc(struct jrx_fs *fs, bool have_roots)
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

int jrx_fs_init_io(struct jrx_fs *fs, uint64_t seq)
{
	int ret;

	fs->iobuf = jrx_alloc_aligned(fs->node_size);
	if (!fs->iobuf)
		return jrx_fail(-ENOMEM, "allocating the node I/O buffer"
				" (%u bytes)", fs->node_size);
	ret = jrx_buckets_init(&fs->bt, &fs->a->sb, &fs->acct);
	if (!ret)
		ret = jrx_journal_init(&fs->j, fs->a, seq);
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
	ret = jrx_fs_init_io(fs, sb->journal_seq + 1);
	if (!ret && fs->rdonly && !(sb->flags & JRX_SB_CLEAN))
		ret = roots_from_journal(fs, &from_journal);
	if (!ret)
		ret = jrx_fs_load_roots_and_alloc(fs, from_journal);
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

static bool any_dirty(const struct jrx_fs *fs)
{
	return jrx_fs_last_seq(fs) != fs->j.seq || fs->acct.nr ||
		fs->bt.nr_changed;
}

/* The current roots into the superblock's clean section. */
void jrx_fs_roots_to_sb(struct jrx_fs *fs)
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
		if (!ret)
			ret = jrx_close_open_buckets(&fs->bt, fs->j.seq);
		if (!ret && ++rounds > 64)
			ret = jrx_fail(-EDEADLK, "clean shutdown did not settle");
	} while (!ret && (any_dirty(fs) || !jrx_journal_open_empty(&fs->j)));
	if (!ret)
		jrx_fs_roots_to_sb(fs);
	if (!ret)
		ret = jrx_array_sync(fs->a);
	/*
	 * journal_seq: the open seq, one above the last jset, because the
	 * last write-back appended bsets under it.  The durable seq would
	 * leave those bsets past it: should the next session crash before
	 * its first jset, recovery (max_seq = journal_seq) would blacklist
	 * them and lose what they hold.
	 */
	if (!ret) {
		sb->journal_seq = fs->j.seq;
		sb->flags |= JRX_SB_CLEAN;
		ret = jrx_array_write_sb(fs->a);
	}
	jrx_fs_abandon(fs);
	return ret;
}
