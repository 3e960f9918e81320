/*
 * fs_parallel.c - the store's parallel section (btree_replay.h): the lock
 * and the O_DIRECT descriptors that let several replay workers read and
 * write nodes at once.  The store owns both; a replay only opens and
 * closes the section.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include "btree_replay.h"
#include "../util/diag.h"

int jrx_fs_parallel_begin(struct jrx_fs *fs)
{
	unsigned nr = fs->a->nr_devs, i;
	unsigned flags = JRX_DEV_DIRECT |
		(fs->nowrite || fs->a->rdonly ? JRX_DEV_RDONLY : 0);
	pthread_mutex_t *lock = malloc(sizeof(*lock));
	struct jrx_dev *d = calloc(nr, sizeof(*d));
	int ret = 0;

	if (!lock || !d) {
		free(lock);
		free(d);
		return jrx_fail(-ENOMEM, "allocating the replay's %u device"
				" descriptors", nr);
	}
	/* a second descriptor of each open member, never a reopened path:
	 * O_DIRECT, so no page-cache copy and no inode lock between writers
	 * (where O_DIRECT is refused, a buffered one) */
	for (i = 0; !ret && i < nr; i++)
		ret = jrx_dev_reopen(&d[i], &fs->a->devs[i], flags);
	if (ret) {
		while (i-- > 1)
			jrx_dev_close(&d[i - 1]);
		free(d);
		free(lock);
		return ret;
	}
	pthread_mutex_init(lock, NULL);
	fs->lock = lock;
	fs->direct = d;
	return 0;
}

void jrx_fs_parallel_end(struct jrx_fs *fs)
{
	if (fs->lock) {
		pthread_mutex_destroy(fs->lock);
		free(fs->lock);
	}
	for (unsigned i = 0; fs->direct && i < fs->a->nr_devs; i++)
		jrx_dev_close(&fs->direct[i]);
	free(fs->direct);
	fs->lock = NULL;
	fs->direct = NULL;
}
