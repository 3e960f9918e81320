/*
 * aio_ctx.h - Linux AIO contexts (libaio), kept for reuse.  Destroying a
 * context waits for an RCU grace period (io_destroy: 30-50 ms on the
 * development VM), which a recovery would pay at every phase that closes
 * its queues; a closed context with nothing in flight is parked instead
 * and handed to the next caller that needs one as big.  The process's
 * exit releases the parked ones; a forked child starts with none.
 *
 * Ownership: the park is process-wide under its own lock; a context taken
 * from it belongs to the taker until it is put back.
 */
#ifndef JRX_IO_AIO_CTX_H
#define JRX_IO_AIO_CTX_H

#include <libaio.h>

/* A context for at least *nr events in flight, *nr then its size: a
 * parked one, or a new one; 0 or -errno (io_setup's: EPERM, ENOSYS,
 * EAGAIN). */
int  jrx_aio_ctx_get(io_context_t *ctx, unsigned *nr);
/* Give back a context from jrx_aio_ctx_get, with the size it said and
 * nothing in flight. */
void jrx_aio_ctx_put(io_context_t ctx, unsigned nr);

#endif
