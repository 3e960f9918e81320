/*
 * pread_pool.c - the pread backend of the read engine (engine.h): every
 * worker takes the next request off the shared cursor, reads it whole
 * with blocking preads on the engine's O_DIRECT descriptors and runs the
 * completion callback itself.  Concurrency is the number of workers; it
 * serves where io_uring is disabled.
 */
#include <errno.h>
#include <unistd.h>
#include "engine_int.h"
#include "jrx/errors.h"

static int read_whole(struct jrx_io_engine *e, struct jrx_io_req *r,
		      uint64_t *bytes)
{
	uint32_t done = 0;
	int err = jrx_io_injected(r->dev, r->off, r->len);

	if (err)
		return jrx_io_read_error(e, r, r->off, err);
	while (done < r->len) {
		ssize_t n = pread(e->fds[r->dev], (char *)r->buf + done,
				  r->len - done, (off_t)(r->off + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return jrx_io_read_error(e, r, r->off + done,
						 n ? -errno : -JRX_ERR_DEV_TRUNCATED);
		done += (uint32_t)n;
		*bytes += (uint64_t)n;
	}
	return 0;
}

void jrx_pread_batch(struct jrx_io_worker *w)
{
	struct jrx_io_engine *e = w->e;

	while (!atomic_load(&e->failed)) {
		size_t i = atomic_fetch_add(&e->next, 1);
		int ret;

		if (i >= e->nr)
			return;
		ret = read_whole(e, &e->reqs[i], &w->bytes);
		if (!ret) {
			w->reads++;
			ret = e->done(e->ctx, &e->reqs[i]);
		}
		if (ret)
			jrx_io_fail(e, ret);
	}
}
