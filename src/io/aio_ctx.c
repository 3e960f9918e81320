/*
 * aio_ctx.c - the park of Linux AIO contexts (aio_ctx.h): a small stack
 * under a mutex.  A context is parked with the size it was set up for and
 * reused for that many events or fewer; past JRX_AIO_PARK contexts the
 * surplus is destroyed.  A forked child does not inherit AIO contexts:
 * its park starts empty (pthread_atfork).
 */
#include <pthread.h>
#include <string.h>
#include "aio_ctx.h"

#define JRX_AIO_PARK 64

static struct {
	pthread_mutex_t lock;
	unsigned	n;
	io_context_t	ctx[JRX_AIO_PARK];
	unsigned	nr[JRX_AIO_PARK];
} park = { .lock = PTHREAD_MUTEX_INITIALIZER };

static pthread_once_t once = PTHREAD_ONCE_INIT;

static void before_fork(void)
{
	pthread_mutex_lock(&park.lock);
}

static void after_fork_parent(void)
{
	pthread_mutex_unlock(&park.lock);
}

/* the parent's contexts are not the child's */
static void after_fork_child(void)
{
	park.n = 0;
	pthread_mutex_unlock(&park.lock);
}

static void park_init(void)
{
	pthread_atfork(before_fork, after_fork_parent, after_fork_child);
}

int jrx_aio_ctx_get(io_context_t *ctx, unsigned *nr)
{
	pthread_once(&once, park_init);
	pthread_mutex_lock(&park.lock);
	for (unsigned i = park.n; i-- > 0;)
		if (park.nr[i] >= *nr) {
			*ctx = park.ctx[i];
			*nr = park.nr[i];
			park.n--;
			park.ctx[i] = park.ctx[park.n];
			park.nr[i] = park.nr[park.n];
			pthread_mutex_unlock(&park.lock);
			return 0;
		}
	pthread_mutex_unlock(&park.lock);
	memset(ctx, 0, sizeof(*ctx));
	return io_setup((int)*nr, ctx);		/* -errno, libaio's way */
}

void jrx_aio_ctx_put(io_context_t ctx, unsigned nr)
{
	pthread_mutex_lock(&park.lock);
	if (park.n < JRX_AIO_PARK) {
		park.ctx[park.n] = ctx;
		park.nr[park.n++] = nr;
		ctx = NULL;
	}
	pthread_mutex_unlock(&park.lock);
	if (ctx)
		io_destroy(ctx);
}
