/*
 * prefetch.c - reading the children of one interior node at once
 * (btree_int.h, jrx_fs_prefetch): a walk or a descent that is about to
 * visit many children one after another has them read by a few threads
 * in parallel first, so the device sees many reads in flight instead of
 * one.  On this VM an O_DIRECT read of a 256 KiB node waits ~1 ms; the
 * alloc btree a recovery loads at open and the level-1 nodes its plan
 * routes through were ~0.35 s of a 200 M-key base's 2.5 s.
 *
 * Best effort: a child that cannot be read is left uncached, and the
 * visit that follows reads it the usual way and reports the error as it
 * always did.  Runs only on the thread that owns the store, outside a
 * parallel section (it opens one for its readers: the lock and the
 * O_DIRECT descriptors that make jrx_fs_read_node thread-safe), and
 * caches what was read on that thread once the readers are done.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include "btree_int.h"
#include "btree_replay.h"
#include "../util/diag.h"

#define PREFETCH_THREADS 8	/* reads in flight: they mostly wait */

struct prefetch {
	struct jrx_fs		 *fs;
	unsigned		  btree_id, level;
	const struct jrx_bkey	**ptr;
	struct jrx_bnode	**got;
	size_t			  n;
	atomic_size_t		  next;
};

static void *reader(void *arg)
{
	struct prefetch *p = arg;
	size_t i;

	while ((i = atomic_fetch_add(&p->next, 1)) < p->n)
		if (jrx_fs_read_node(p->fs, p->btree_id, p->level, p->ptr[i],
				     &p->got[i]))
			p->got[i] = NULL;	/* the visit reports it */
	return NULL;
}

void jrx_fs_prefetch(struct jrx_fs *fs, const struct jrx_bnode *parent,
		     const bool *want)
{
	struct prefetch p = { .fs = fs, .btree_id = parent->btree_id };
	pthread_t th[PREFETCH_THREADS];
	unsigned nt = 0;

	if (!parent->level || fs->lock || parent->nr < 2)
		return;
	p.level = parent->level - 1u;
	p.ptr = malloc(parent->nr * sizeof(*p.ptr));
	p.got = calloc(parent->nr, sizeof(*p.got));
	if (!p.ptr || !p.got)
		goto out;
	for (size_t i = 0; i < parent->nr; i++)
		if ((!want || want[i]) &&
		    !jrx_fs_cached_node(fs, parent->keys[i]))
			p.ptr[p.n++] = parent->keys[i];
	if (p.n < 2)
		goto out;
	if (jrx_fs_parallel_begin(fs)) {
		jrx_diag_clear();	/* no prefetch: the visit reads */
		goto out;
	}
	for (; nt < PREFETCH_THREADS && nt < p.n; nt++)
		if (pthread_create(&th[nt], NULL, reader, &p))
			break;
	reader(&p);		/* this thread reads too, and ends the list */
	for (unsigned t = 0; t < nt; t++)
		pthread_join(th[t], NULL);
	jrx_fs_parallel_end(fs);
	jrx_diag_clear();	/* a failed read is the visit's to report
				   (the diag is this thread's) */
	for (size_t i = 0; i < p.n; i++)
		if (p.got[i])
			jrx_fs_cache_add(fs, p.got[i]);
out:
	free(p.ptr);
	free(p.got);
}
