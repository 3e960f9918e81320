/*
 * writeback.c - writing an open store's dirty nodes back: a bset appended
 * past a node's written tail, or, when it does not fit, the node moved
 * whole (rewrite) or split; during a replay, the layout rule instead
 * (replay_layout.c).  Leaves first, since a node written elsewhere dirties
 * its parent; and what journal reclaim needs to know (the oldest seq a
 * dirty node still needs); and, for a replay's settle, the queue that
 * keeps its node writes in flight (jrx_fs_wb_begin).
 */
#include <errno.h>
#include <stdlib.h>
#include "btree_int.h"
#include "btree_replay.h"
#include "../format/node.h"
#include "../io/wq.h"
#include "../util/diag.h"
#include "../util/vec.h"

static uint64_t node_offset(const struct jrx_bnode *n)
{
	return n->sector * JRX_SECTOR_SIZE;
}

/* ------------------------------------------------ writes in flight */

/* One write's buffer, free or in flight. */
struct wb_slot {
	struct jrx_fs_wbq *w;
	void		  *buf;		/* node_size, aligned */
};

struct jrx_fs_wbq {
	struct jrx_wq	 *q;
	struct wb_slot	 *slot;
	struct wb_slot	**free;		/* a stack of the free slots */
	unsigned	  depth, nfree;
	int		  err;		/* the first write's error */
};

int jrx_fs_wb_begin(struct jrx_fs *fs, unsigned depth)
{
	struct jrx_fs_wbq *w = calloc(1, sizeof(*w));
	int ret = 0;

	if (!w)
		return jrx_fail(-ENOMEM, "allocating the write-back queue");
	w->slot = calloc(depth, sizeof(*w->slot));
	w->free = calloc(depth, sizeof(*w->free));
	if (!w->slot || !w->free)
		ret = jrx_fail(-ENOMEM, "allocating the write-back queue's %u"
			       " slots", depth);
	for (unsigned i = 0; !ret && i < depth; i++) {
		w->slot[i] = (struct wb_slot){ w, jrx_alloc_aligned(fs->node_size) };
		if (!w->slot[i].buf)
			ret = jrx_fail(-ENOMEM, "allocating the write-back"
				       " queue's buffers: %u of %u bytes",
				       depth, fs->node_size);
		else
			w->free[w->nfree++] = &w->slot[i];
		w->depth = i + 1;
	}
	if (!ret && jrx_wq_open(&w->q, depth, JRX_IO_AUTO)) {
		jrx_diag_clear();	/* no queue opened: one at a time */
		w->q = NULL;
	}
	fs->wbq = w;
	if (ret || !w->q)
		ret = jrx_fs_wb_end(fs, ret);
	return ret;
}

static void wb_done(void *ctx, int res)
{
	struct wb_slot *s = ctx;

	if (res < 0 && !s->w->err)
		s->w->err = res;
	s->w->free[s->w->nfree++] = s;
}

/* Wait for every write in flight: 0, or the first write's error. */
static int wb_drain(struct jrx_fs *fs)
{
	struct jrx_fs_wbq *w = fs->wbq;
	int ret;

	if (!w || !w->q)
		return 0;
	ret = jrx_wq_drain(w->q);
	return ret ? ret : w->err;
}

int jrx_fs_wb_end(struct jrx_fs *fs, int ret)
{
	struct jrx_fs_wbq *w = fs->wbq;
	int err;

	if (!w)
		return ret;
	err = wb_drain(fs);
	if (w->q)
		jrx_wq_close(w->q);
	for (unsigned i = 0; i < w->depth; i++)
		free(w->slot[i].buf);
	free(w->slot);
	free(w->free);
	free(w);
	fs->wbq = NULL;
	return ret ? ret : err;
}

struct jrx_wq *jrx_fs_wb_queue(struct jrx_fs *fs)
{
	return fs->wbq && !fs->nowrite ? fs->wbq->q : NULL;
}

/* A buffer for a node image: fs->iobuf, or a free slot's (*slot). */
static int wb_buf(struct jrx_fs *fs, void **buf, struct wb_slot **slot)
{
	struct jrx_fs_wbq *w = fs->wbq;
	int ret = 0;

	*slot = NULL;
	*buf = fs->iobuf;
	if (!w || !w->q || fs->nowrite)
		return 0;
	while (!ret && !w->nfree)
		ret = jrx_wq_reap(w->q);
	if (!ret && w->err)
		ret = w->err;
	if (ret)
		return ret;
	*slot = w->free[--w->nfree];
	*buf = (*slot)->buf;
	return 0;
}

/* buf[0, len) written at off of dev: queued when it is a slot's. */
static int wb_write(struct jrx_fs *fs, uint32_t dev, void *buf, size_t len,
		    uint64_t off, struct wb_slot *slot)
{
	if (fs->nowrite)
		return 0;
	if (!slot)
		return jrx_dev_pwrite(&fs->a->devs[dev], buf, len, off);
	return jrx_wq_write(fs->wbq->q, &fs->a->devs[dev], buf, len, off,
			    wb_done, slot);
}

/* ------------------------------------------------ node writes */

/* Write all of n's keys as the whole node at n's location. */
int jrx_fs_node_write_full(struct jrx_fs *fs, struct jrx_bnode *n)
{
	struct wb_slot *slot;
	void *buf;
	size_t bytes;
	int ret = wb_buf(fs, &buf, &slot);

	if (ret)
		return ret;
	bytes = jrx_bnode_encode(n, 0, n->nr, buf, fs->node_size,
				 fs->a->node_magic, fs->j.seq);
	ret = wb_write(fs, n->dev, buf, bytes, node_offset(n), slot);
	if (ret)
		return ret;
	fs->nodes_written++;
	fs->node_bytes_written += bytes;
	/* the whole view is on disk now */
	jrx_bnode_written(n, (uint32_t)bytes);
	n->bsets = 1;
	return 0;
}

/* Move n to a new location with all its keys (its appends ran out). */
static int node_rewrite(struct jrx_fs *fs, struct jrx_bnode *n)
{
	uint32_t odev = n->dev;
	uint64_t osector = n->sector;
	bool was_root = fs->root[n->btree_id] == n;
	int ret;

	jrx_fs_cache_del(fs, n);
	ret = jrx_fs_node_alloc_loc(fs, n);
	if (!ret)
		ret = jrx_fs_node_write_full(fs, n);
	jrx_fs_cache_add(fs, n);	/* even on failure: the cache owns n */
	if (ret) {
		fs->dead = true;
		return ret;
	}
	fs->rewrites++;
	ret = jrx_fs_free_node_loc(fs, odev, osector);
	if (ret || was_root)
		return ret;	/* a root's new place goes out in btree_root */
	return jrx_btree_update_parent(fs, n);
}

static int node_writeback(struct jrx_fs *fs, struct jrx_bnode *n)
{
	if (!n->dirty_seq)
		return 0;
	/*
	 * Recovery writes nothing the committed state reads: it appends
	 * past a committed node's written part, or moves (cuts) the node by
	 * the layout rule; a node it placed itself is rewritten where it
	 * is, which is what lets write-back settle (FORMAT.md 7.5).
	 */
	if (fs->replaying)
		return jrx_fs_replay_writeback(fs, n);
	/*
	 * No room to append: move the node, or split it when it is more
	 * than 2/3 full after compaction, so the new node(s) keep room for
	 * later appends (else every write-back would move it again).
	 */
	if (!jrx_bnode_append_fits(n, fs->node_size))
		return jrx_bnode_compact_bytes(n) > fs->node_size / 3 * 2 ?
			jrx_btree_split(fs, n) : node_rewrite(fs, n);
	return jrx_fs_node_append(fs, n);
}

/*
 * Append n's unwritten keys as one bset past its written tail, then tell
 * the parent the new written length (FORMAT.md 8 point 1): journaled
 * like any pointer change, and only once the bset is on the device.  A
 * root's pointer goes out with every jset and in the superblock.
 */
int jrx_fs_node_append(struct jrx_fs *fs, struct jrx_bnode *n)
{
	struct wb_slot *slot;
	void *buf;
	size_t off, bytes;
	int ret = wb_buf(fs, &buf, &slot);

	if (!ret) {
		bytes = jrx_bnode_encode_append(n, buf, fs->j.seq, &off);
		ret = wb_write(fs, n->dev, buf, bytes, node_offset(n) + off, slot);
	}
	if (ret) {
		fs->dead = true;
		return ret;
	}
	jrx_bnode_written(n, (uint32_t)(off + jrx_bset_bytes(buf)));
	n->mem_only |= fs->nowrite;
	fs->bsets_appended++;
	fs->node_bytes_written += bytes;
	if (fs->root[n->btree_id] == n)
		return 0;
	return jrx_btree_update_parent(fs, n);
}

/*
 * The order a replay writes a level's dirty nodes in: btree id, then key
 * range (the nodes of one btree and level are disjoint; the place breaks
 * a tie).  Alloc and accounting come last, as in the parallel replay,
 * whose workers write the other btrees' leaves before its write-back.
 */
_Static_assert(JRX_BTREE_ALLOC == JRX_BTREE_NR - 2 &&
	       JRX_BTREE_ACCOUNTING == JRX_BTREE_NR - 1,
	       "replay write-back: alloc and accounting are the last btrees");

static int cmp_writeback_order(const void *x, const void *y)
{
	const struct jrx_bnode *a = *(struct jrx_bnode *const *)x;
	const struct jrx_bnode *b = *(struct jrx_bnode *const *)y;
	int c;

	if (a->btree_id != b->btree_id)
		return a->btree_id < b->btree_id ? -1 : 1;
	c = jrx_bpos_cmp(a->min, b->min);
	if (c)
		return c;
	if (a->dev != b->dev)
		return a->dev < b->dev ? -1 : 1;
	return a->sector < b->sector ? -1 : a->sector > b->sector;
}

int jrx_fs_writeback_all(struct jrx_fs *fs)
{
	struct jrx_bnode **v = NULL;
	size_t cap = 0;
	int ret = 0;

	/* leaves first: a node written elsewhere dirties the level above */
	for (unsigned level = 0; !ret && level < JRX_BTREE_MAX_DEPTH; level++) {
		for (;;) {
			size_t nr = 0;

			for (size_t h = 0; h < JRX_CACHE_BUCKETS; h++)
				for (struct jrx_bnode *n = fs->cache[h]; n; n = n->hnext) {
					if (n->level != level || !n->dirty_seq)
						continue;
					ret = JRX_VEC_RESERVE(v, nr, cap, 1,
							      "write-back list");
					if (ret) {
						free(v);
						return ret;
					}
					v[nr++] = n;
				}
			if (!nr)
				break;
			/*
			 * A replay writes in key order, not in the cache's
			 * hash order (which follows where nodes were and
			 * when they were read).  Places are handed out one
			 * after the other, so a node's place follows from
			 * how many were handed out before it: in key order,
			 * the reference and the parallel replay give the
			 * alloc and accounting nodes, which later rounds
			 * rewrite, cut and free, the same places, and so
			 * write the same alloc keys and as many nodes
			 * (FORMAT.md 7.5).
			 */
			if (fs->replaying)
				qsort(v, nr, sizeof(*v), cmp_writeback_order);
			/*
			 * Writing one node never frees another of its level.
			 * Every node written journals its new pointer; when
			 * that fills the open jset, the jset is written (its
			 * drains may change the tree, so the level's dirty
			 * nodes are collected again).
			 */
			for (size_t i = 0; i < nr && !ret; i++) {
				ret = node_writeback(fs, v[i]);
				if (!ret && !fs->replaying &&
				    jrx_journal_open_bytes(&fs->j) >= fs->jset_target) {
					ret = jrx_fs_journal_write_open(fs, false);
					break;
				}
			}
			/* the batch on the device before the next one: a
			 * node is never written twice in one batch */
			if (!ret)
				ret = wb_drain(fs);
			if (ret)
				break;
		}
	}
	free(v);
	return ret;
}

bool jrx_fs_any_dirty_node(const struct jrx_fs *fs)
{
	for (size_t h = 0; h < JRX_CACHE_BUCKETS; h++)
		for (struct jrx_bnode *n = fs->cache[h]; n; n = n->hnext)
			if (n->dirty_seq)
				return true;
	return false;
}

uint64_t jrx_fs_last_seq(const struct jrx_fs *fs)
{
	uint64_t last = fs->j.seq;

	for (size_t h = 0; h < JRX_CACHE_BUCKETS; h++)
		for (struct jrx_bnode *n = fs->cache[h]; n; n = n->hnext)
			if (n->dirty_seq && n->dirty_seq < last)
				last = n->dirty_seq;
	return last;
}
