/*
 * array_sync.c - making what was written to an array durable: every
 * member's fdatasync at once (array.h, jrx_array_sync).
 *
 * One after the other, each member's flush waits for the one before: the
 * host or the disks flush N times in a row, where N flushes issued
 * together overlap (on N disks) or join one journal commit of the
 * filesystem holding image files.  A thread per further member issues
 * its own; like io/wq.c's helpers they only wait in the kernel, so they
 * are not the worker pool's.  Where a thread cannot be started, that
 * member is synced on the calling thread, after the others.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include "array.h"
#include "../util/diag.h"

struct sync_job {
	struct jrx_dev	*d;
	int		 ret;
	char		 why[512];	/* its jrx_diag(), from its thread */
	pthread_t	 th;
	bool		 started;
};

static void *sync_main(void *arg)
{
	struct sync_job *j = arg;

	j->ret = jrx_dev_sync(j->d);
	if (j->ret)
		snprintf(j->why, sizeof(j->why), "%s", jrx_diag());
	return NULL;
}

int jrx_array_sync(struct jrx_array *a)
{
	struct sync_job job[JRX_MAX_DEVICES];
	unsigned n = 0, first = 0;
	int ret = 0;

	for (unsigned i = 0; i < a->nr_devs; i++)
		if (a->devs[i].fd >= 0 && !a->devs[i].rdonly &&
		    !a->devs[i].absent)
			job[n++] = (struct sync_job){ .d = &a->devs[i] };
	/* job 0 runs here, once the others are under way */
	for (unsigned i = 1; i < n; i++)
		job[i].started = !pthread_create(&job[i].th, NULL, sync_main,
						 &job[i]);
	if (n)
		sync_main(&job[0]);
	for (unsigned i = 1; i < n; i++) {
		if (job[i].started)
			pthread_join(job[i].th, NULL);
		else
			sync_main(&job[i]);
	}
	/* the first failure in member order, with its own message */
	while (first < n && !job[first].ret)
		first++;
	if (first < n)
		ret = jrx_fail(job[first].ret, "%s", job[first].why);
	return ret;
}
