/*
 * device.h - one member device: a regular file or a block device, opened
 * read-only or read-write, with whole-buffer pread/pwrite whose errors name
 * the device and the offset.
 */
#ifndef JRX_DEVICE_H
#define JRX_DEVICE_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

enum {
	JRX_DEV_RDONLY	= 1 << 0,
	JRX_DEV_DIRECT	= 1 << 1,	/* O_DIRECT where the file system allows */
	/* a block device opened O_EXCL: refused while mounted or claimed
	 * (lock.h); ignored for a read-only open and for regular files */
	JRX_DEV_EXCL	= 1 << 2,
};

struct jrx_dev {
	int	 fd;
	char	*path;
	uint64_t size;		/* bytes */
	bool	 rdonly;
	bool	 direct;	/* O_DIRECT is in effect */
	bool	 blockdev;
	/* a member missing from a degraded open (array.h): no descriptor
	 * (fd -1); its path says "member N (missing)"; every read, write
	 * and sync fails with -JRX_ERR_DEV_MISSING naming it */
	bool	 absent;
};

/* d as the missing member idx: no descriptor; 0 or -ENOMEM. */
int  jrx_dev_make_absent(struct jrx_dev *d, unsigned idx);

int  jrx_dev_open(struct jrx_dev *d, const char *path, unsigned flags);
/*
 * A second descriptor of the file d has open (its own file description,
 * so its own O_DIRECT flag), opened through /proc/self/fd and never by
 * path: the file cannot have been swapped behind d's back.  Where /proc
 * is not mounted the path is opened and must be the same inode.
 */
int  jrx_dev_reopen(struct jrx_dev *out, const struct jrx_dev *d,
		    unsigned flags);
void jrx_dev_close(struct jrx_dev *d);
/* Reads exactly len bytes; a short read is -JRX_ERR_DEV_TRUNCATED. */
int  jrx_dev_pread(struct jrx_dev *d, void *buf, size_t len, uint64_t off);
/*
 * The error of a read of len bytes at off that stopped after done bytes:
 * err (-errno) named as a read error at off + done, or with err 0 the
 * device's end (-JRX_ERR_DEV_TRUNCATED).  For readers that issue their
 * own reads (io/wq.h) and word them as jrx_dev_pread does.
 */
int  jrx_dev_read_failed(const struct jrx_dev *d, uint64_t off, size_t len,
			 size_t done, int err);
/* Whether a read at off may be issued: not on a missing member.
 * jrx_dev_pread asks it first; readers that issue their own reads
 * (io/wq.h) must too. */
int  jrx_dev_read_permit(const struct jrx_dev *d, uint64_t off);
int  jrx_dev_pwrite(struct jrx_dev *d, const void *buf, size_t len, uint64_t off);
/*
 * Whether a write at off may be issued: not on a read-only device, and
 * not past an injected crash (below).  jrx_dev_pwrite asks it first;
 * writers that issue their own writes (io/wq.h) must too.
 */
int  jrx_dev_write_permit(struct jrx_dev *d, uint64_t off);
int  jrx_dev_sync(struct jrx_dev *d);

/*
 * Test hook for crash injection: after n more successful device writes
 * (pwrite calls and write-queue writes) every further write fails with -JRX_ERR_CRASHED and
 * writes nothing, as if power had been cut.  0 disables.  Process-wide.
 */
void jrx_dev_crash_after_writes(uint64_t n);
bool jrx_dev_crashed(void);

/*
 * Test hook for real kills (tests/test_kill.c): the whole process stops
 * (SIGSTOP) just before issuing its n-th device write, counted from 1,
 * so a test can kill -9 it at that exact point, or let it go on with
 * SIGCONT.  0 disables.  jrx_dev_writes() counts the writes permitted so
 * far.  Process-wide; the CLI arms it from JRX_TEST_STOP_AT_WRITE.
 */
void jrx_dev_stop_at_write(uint64_t n);
uint64_t jrx_dev_writes(void);

/* Page-aligned buffer suitable for O_DIRECT; free with free(). */
void *jrx_alloc_aligned(size_t len);

#endif
