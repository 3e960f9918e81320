/*
 * ring.h - setting up an io_uring that one thread owns: the read engine's
 * workers (uring.c) and a thread's write queue (wq.c) each have one.
 */
#ifndef JRX_IO_RING_H
#define JRX_IO_RING_H

#include <liburing.h>

/*
 * A ring of `entries` for the calling thread alone (single issuer,
 * deferred task work; plain flags on kernels older than 6.1, which refuse
 * those).  0, or the negative errno of the set-up (-EPERM, -ENOSYS and
 * -EACCES when the host refuses io_uring), context in jrx_diag().
 */
int jrx_ring_init(struct io_uring *ring, unsigned entries);

#endif
