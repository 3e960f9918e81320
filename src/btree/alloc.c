/*
 * alloc.c - where an open store's nodes and user data go: a place (and a
 * new nonce) for a node from the btree open bucket, freeing a node's old
 * place, and the user-data sectors of the write path.  The allocator
 * itself is buckets.c; a parallel replay's workers come through here
 * under fs->lock (btree_replay.h).
 */
#include <assert.h>
#include <stdlib.h>
#include <sys/random.h>
#include "btree_int.h"
#include "btree_replay.h"

int jrx_fs_node_alloc_loc(struct jrx_fs *fs, struct jrx_bnode *n)
{
	uint32_t sectors = fs->node_size / JRX_SECTOR_SIZE, got, gen;
	int ret;

	jrx_fs_lock(fs);
	ret = jrx_alloc_sectors(&fs->bt, JRX_DATA_BTREE, sectors,
				fs->j.durable_seq, fs->j.seq, &n->dev,
				&n->sector, &got, &gen);
	jrx_fs_unlock(fs);
	if (ret)
		return ret;
	assert(got == sectors);
	n->fresh = fs->replaying;
	if (getrandom(&n->nonce, sizeof(n->nonce), 0) != sizeof(n->nonce))
		n->nonce = (n->sector << 20) ^ (uint64_t)rand();
	return 0;
}

int jrx_fs_free_node_loc(struct jrx_fs *fs, uint32_t dev, uint64_t sector)
{
	uint64_t bsec = fs->bt.bucket_sectors;
	int ret;

	jrx_fs_lock(fs);
	ret = jrx_bucket_add_sectors(&fs->bt, dev, sector / bsec, JRX_DATA_BTREE,
				     -(int64_t)(fs->node_size / JRX_SECTOR_SIZE),
				     fs->j.seq);
	jrx_fs_unlock(fs);
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
