/* ring.c - one thread's io_uring set-up (ring.h). */
#include <errno.h>
#include <string.h>
#include "ring.h"
#include "../util/diag.h"

int jrx_ring_init(struct io_uring *ring, unsigned entries)
{
	struct io_uring_params p;
	int ret;

	memset(&p, 0, sizeof(p));
	p.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
	ret = io_uring_queue_init_params(entries, ring, &p);
	if (ret == -EINVAL) {		/* kernel older than 6.1 */
		memset(&p, 0, sizeof(p));
		ret = io_uring_queue_init_params(entries, ring, &p);
	}
	if (ret)
		return jrx_fail(ret, "io_uring set-up failed: %s", strerror(-ret));
	return 0;
}
