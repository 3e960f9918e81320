/*
 * reader.h - how fsck reads and checks nodes (reader.c): the read engine
 * (io/engine.h: io_uring, or the pread pool, many reads in flight) and
 * the check's worker pool (util/pool.h), both owned by one thread, the
 * reader's, which is worker 0 of a two-worker pool; worker 1 of that pool
 * may run beside it (the walk's visit, walk.c), so that reading and
 * checking the next nodes overlaps with the callbacks of the last ones.
 *
 * Owner: the check's thread opens and closes the reader (f->rd); every
 * other call below runs on the reader's thread (fsck_reader_run's id 0),
 * except fsck_reader_window and fsck_reader_release.
 */
#ifndef JRX_FSCK_READER_H
#define JRX_FSCK_READER_H

#include "wnode.h"
#include "../util/pool.h"

/* Open f->rd (threads: f->o->threads, 0: one per online core). */
int fsck_reader_open(struct jrx_fsck *f);

/* Nodes loaded in one batch. */
size_t fsck_reader_window(const struct fsck_reader *rd);

/*
 * fn(arg, 0) on the reader's thread and, when *pair comes back true,
 * fn(arg, 1) at the same time on another thread; when *pair is false
 * (one thread was asked for, or none could be started), fn(arg, 1) may
 * run after fn(arg, 0) and must do nothing.  *pair is set before either
 * runs.
 */
void fsck_reader_run(struct fsck_reader *rd, jrx_pool_fn fn, void *arg,
		     bool *pair);

/*
 * Load v[from, to) of one level (on the reader's thread): each node
 * read and checked on the worker it landed on, its problems kept in it
 * (report), the bytes read added to pass's count.  0, or an operational
 * error (jrx_diag() on this thread).
 */
int fsck_reader_load(struct jrx_fsck *f, bool report, unsigned pass,
		     struct fsck_wnode *v, size_t from, size_t to);

/*
 * fsck_wnode_release(wn), its node's image kept for the next reads (any
 * thread: the images kept have a lock).
 */
void fsck_reader_release(struct fsck_reader *rd, struct fsck_wnode *wn);

#endif
