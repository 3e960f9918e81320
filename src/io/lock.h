/*
 * lock.h - claiming a member device for one process: exclusive for a
 * writer, shared for a reader, and naming whoever holds it.
 *
 * A writer holds an open file description lock (F_OFD_SETLK, F_WRLCK over
 * the whole file) on each member, and on a block device also opened it
 * with O_EXCL (device.h, JRX_DEV_EXCL), which the kernel refuses while the
 * device is mounted or claimed by another exclusive opener.  A reader
 * holds an F_RDLCK over the whole file: readers share, a writer excludes
 * them and they exclude a writer, so nobody reads half a commit.
 *
 * OFD locks belong to the open file description: a second descriptor of
 * the same file (jrx_dev_reopen) is covered by the first one's lock and
 * must not take its own (it would conflict with it).  The kernel drops
 * the lock when the process dies, kill -9 included.
 *
 * Two paths to one block device through different device nodes (a mknod
 * outside /dev) are different inodes to OFD locks; O_EXCL still keeps two
 * writers apart there, not a reader from a writer.
 */
#ifndef JRX_LOCK_H
#define JRX_LOCK_H

#include <stdbool.h>
#include <stddef.h>
#include "device.h"

enum jrx_lock_mode {
	JRX_LOCK_SHARED,
	JRX_LOCK_EXCLUSIVE,
};

/*
 * Lock d in mode.  Without wait a lock held elsewhere fails at once with
 * -JRX_ERR_DEV_BUSY and a message naming the device and, where
 * /proc/locks tells, the holder's pid and command line; with wait it
 * blocks until the holder lets go.
 */
int jrx_dev_lock(struct jrx_dev *d, enum jrx_lock_mode mode, bool wait);

/*
 * Who holds a lock on the file open as fd, other than the caller's own
 * description: "pid 1234: jrx recover a.img b.img" into buf, or false if
 * nothing is known (no /proc, or the lock went away meanwhile).
 */
bool jrx_lock_holder(int fd, char *buf, size_t len);

/* Where the block device open as fd is mounted, into buf; false if not. */
bool jrx_dev_mountpoint(int fd, char *buf, size_t len);

#endif
