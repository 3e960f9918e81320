/*
 * array_sync.c - making what was written to an array durable: every
 * member's fdatasync at once (array.h, jrx_array_sync).
 *
 * One after the other, each member's flush waits for the one before: the
 * host or the disks flush N times in a row, where N flushes issued
 * together overlap (on N disks) or join one journal commit of the
 * filesystem holding image files.  The flushes are one phase of the
 * worker pool (util/pool.h), a worker per member, so a thread that
 * cannot be started follows the pool's policy (its member is synced on
 * the calling thread); a pool that cannot be set up at all leaves them to
 * the calling thread, one after the other.
 */
#include <stdio.h>
#include "array.h"
#include "../util/diag.h"
#include "../util/pool.h"

struct sync_job {
	struct jrx_dev	*d;
	int		 ret;
	char		 why[512];	/* its jrx_diag(), from its thread */
};

/* A pool phase: worker id syncs its member. */
static void sync_one(void *arg, unsigned id)
{
	struct sync_job *j = (struct sync_job *)arg + id;

	j->ret = jrx_dev_sync(j->d);
	if (j->ret)
		snprintf(j->why, sizeof(j->why), "%s", jrx_diag());
}

int jrx_array_sync(struct jrx_array *a)
{
	struct sync_job job[JRX_MAX_DEVICES];
	struct jrx_pool *p = NULL;
	unsigned n = 0, first = 0;

	for (unsigned i = 0; i < a->nr_devs; i++)
		if (a->devs[i].fd >= 0 && !a->devs[i].rdonly &&
		    !a->devs[i].absent)
			job[n++] = (struct sync_job){ .d = &a->devs[i] };
	if (n > 1 && !jrx_pool_start(&p, &(struct jrx_pool_opts){
					.workers = n, .name = "sync" })) {
		jrx_pool_run(p, sync_one, job);
		jrx_pool_stop(p);
	} else {
		jrx_diag_clear();	/* no pool: one after the other */
		for (unsigned i = 0; i < n; i++)
			sync_one(job, i);
	}
	/* the first failure in member order, with its own message */
	while (first < n && !job[first].ret)
		first++;
	return first < n ? jrx_fail(job[first].ret, "%s", job[first].why) : 0;
}
