/*
 * wq.h - a write queue: one thread's writes to member devices, up to
 * `depth` in flight on an io_uring of its own, or on a Linux AIO context
 * of its own (libaio) where io_uring is refused, so a thread whose work
 * is many small writes (the parallel replay's appended bsets) keeps the
 * device busy instead of waiting on each write.  Asked for pread (a
 * recovery whose reads fell back to it: a host that refuses both), the
 * queue runs on 4 helper threads of its own, each issuing one request
 * at a time with pread or pwrite; so does a queue asked for either
 * kernel interface (JRX_IO_AUTO) on a host that refuses both.  AIO
 * writes are asynchronous only with O_DIRECT (the kernel completes
 * others before io_submit returns): correct either way.  A queue also
 * reads: member devices (the parallel replay's leaf read-ahead,
 * jrx_wq_read) and scratch files (the spill merge's read-ahead,
 * jrx_wq_read_file), so that one thread's I/O has one mechanism.
 *
 * Writes are submitted in batches (a quarter of the depth, from a depth
 * of 32): a queued write may wait in the ring until its batch fills or
 * the caller reaps, drains or needs room, so only a drain says a write is
 * on the device.
 *
 * Ownership: a queue belongs to the thread that opened it; every call,
 * and every done callback (run from jrx_wq_write and jrx_wq_read_file
 * when they wait for room, and from jrx_wq_reap and jrx_wq_drain), happens
 * on that thread.  Buffers must stay
 * valid until their callback ran; O_DIRECT rules (4096-aligned buffer,
 * offset and length) are the device's.
 */
#ifndef JRX_IO_WQ_H
#define JRX_IO_WQ_H

#include <sched.h>
#include <stddef.h>
#include <stdint.h>
#include "device.h"
#include "engine.h"

struct jrx_wq;

/* Called once a write has completed whole (res 0) or failed (res < 0);
 * for a read, res is the bytes read or the error. */
typedef void (*jrx_wq_done_fn)(void *ctx, int res);

/*
 * A queue of up to depth writes in flight (0: 32) on the interface b:
 * JRX_IO_URING, JRX_IO_AIO or JRX_IO_PREAD (min(depth, 4) helper
 * threads), that one only (a recovery's writes take the interface its
 * reads took); JRX_IO_AUTO io_uring, else AIO where io_uring is refused
 * (jrx_io_refused), else the helpers where AIO is refused too.  -errno
 * if refused (the helpers could not start: a caller writes with
 * jrx_dev_pwrite instead).
 */
int  jrx_wq_open(struct jrx_wq **out, unsigned depth, enum jrx_io_backend b);
/*
 * Where the queue's helpers may run: io_uring's kernel workers (the
 * writes a file system cannot start without blocking, such as O_DIRECT
 * writes that allocate, go to them: IORING_REGISTER_IOWQ_AFF) or the
 * helper threads (JRX_IO_PREAD); an AIO queue has none.  They otherwise
 * take the opening thread's affinity or, for io_uring's, run where the
 * scheduler wakes them, next to that thread: a thread pinned to one CPU
 * then shares it with its own I/O while other CPUs idle.  0; -ENOENT for
 * an AIO queue (no helpers); or -errno (the queue still works, its
 * helpers where they were).
 */
int  jrx_wq_helper_cpus(struct jrx_wq *q, const cpu_set_t *cpus);
/* The interface the queue writes with: JRX_IO_URING, JRX_IO_AIO or
 * JRX_IO_PREAD. */
enum jrx_io_backend jrx_wq_backend(const struct jrx_wq *q);
/*
 * Queue a write of buf[0, len) at off of d (jrx_dev_write_permit() is
 * asked first, so crash injection and read-only devices behave as with
 * jrx_dev_pwrite).  Returns 0 once it is queued, or the first error of
 * the queue, whose writes then all fail; done(ctx, res) runs for every
 * write queued, whatever happens.
 */
int  jrx_wq_write(struct jrx_wq *q, struct jrx_dev *d, const void *buf,
		  size_t len, uint64_t off, jrx_wq_done_fn done, void *ctx);
/*
 * The same for a plain file that is not a member (a scratch file): no
 * write permit is asked (crash injection counts device writes only);
 * name is for messages and must outlive the write.
 */
int  jrx_wq_write_file(struct jrx_wq *q, int fd, const char *name,
		       const void *buf, size_t len, uint64_t off,
		       jrx_wq_done_fn done, void *ctx);
/*
 * A read of buf[0, len) at off of d (jrx_dev_read_permit() is asked
 * first), in the same queue: done's res is the bytes read (a short count
 * is the caller's to judge) or a negative error, which is also the
 * queue's.  Queued like a write: call jrx_wq_submit to start it at once.
 */
int  jrx_wq_read(struct jrx_wq *q, struct jrx_dev *d, void *buf, size_t len,
		 uint64_t off, jrx_wq_done_fn done, void *ctx);
/* The same for such a file (no permit asked). */
int  jrx_wq_read_file(struct jrx_wq *q, int fd, const char *name, void *buf,
		      size_t len, uint64_t off, jrx_wq_done_fn done,
		      void *ctx);
/* Hand everything queued to the kernel now; the first error, or 0. */
int  jrx_wq_submit(struct jrx_wq *q);
/* The queue's first error, or 0 (nothing submitted, nothing waited). */
int  jrx_wq_error(const struct jrx_wq *q);
/* Reads and writes queued or in flight whose callback has not run. */
unsigned jrx_wq_inflight(const struct jrx_wq *q);
/* Wait for one write to complete (if any is in flight), its callback run;
 * the first error of the queue, or 0. */
int  jrx_wq_reap(struct jrx_wq *q);
/* Wait for every queued write; the first error of the queue, or 0. */
int  jrx_wq_drain(struct jrx_wq *q);
/* Drains, then frees the queue. */
void jrx_wq_close(struct jrx_wq *q);

#endif
