/* device.c - member device open/read/write with contextual errors. */
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <linux/fs.h>
#include <inttypes.h>
#include "device.h"
#include "lock.h"
#include "jrx/errors.h"
#include "../util/diag.h"

static _Atomic uint64_t crash_budget;	/* 0: disabled */
static _Atomic uint64_t writes_permitted, stop_at;	/* stop_at 0: off */
static _Atomic bool crash_armed, crash_hit;

void jrx_dev_crash_after_writes(uint64_t n)
{
	atomic_store(&crash_budget, n);
	atomic_store(&crash_armed, n != 0);
	atomic_store(&crash_hit, false);
}

bool jrx_dev_crashed(void)
{
	return atomic_load(&crash_hit);
}

void jrx_dev_stop_at_write(uint64_t n)
{
	atomic_store(&stop_at, n);
}

uint64_t jrx_dev_writes(void)
{
	return atomic_load(&writes_permitted);
}

void *jrx_alloc_aligned(size_t len)
{
	void *p = NULL;

	if (posix_memalign(&p, 4096, len ? len : 4096))
		return NULL;
	return p;
}

/* Why open(2) refused path, with what the system tells about a busy device. */
static int open_error(const char *path, int e, bool excl)
{
	char mnt[256];
	int fd;

	if (e != EBUSY || !excl)
		return jrx_fail(-e, "%s: cannot open: %s", path, strerror(e));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0 && jrx_dev_mountpoint(fd, mnt, sizeof(mnt))) {
		close(fd);
		return jrx_fail(-JRX_ERR_DEV_BUSY, "%s: in use: mounted on %s;"
				" not writing it", path, mnt);
	}
	if (fd >= 0)
		close(fd);
	return jrx_fail(-JRX_ERR_DEV_BUSY, "%s: in use: another program holds"
			" the block device open exclusively (a mount, a"
			" device-mapper or md holder, or a jrx writer); not"
			" writing it", path);
}

int jrx_dev_open(struct jrx_dev *d, const char *path, unsigned flags)
{
	bool rdonly = flags & JRX_DEV_RDONLY;
	bool excl = !rdonly && (flags & JRX_DEV_EXCL);
	int oflags = (rdonly ? O_RDONLY : O_RDWR) | O_CLOEXEC |
		(excl ? O_EXCL : 0);	/* Linux: O_EXCL claims a block device */
	struct stat st;
	bool known;

	memset(d, 0, sizeof(*d));
	d->fd = -1;
	/* a directory, a fifo or a tty is refused before open can hang or
	 * the superblock read can misreport it; without stat, open(2) says
	 * why */
	known = stat(path, &st) == 0;

	if (known && !S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
		return jrx_fail(-JRX_ERR_NOT_JRX, "%s: is a %s, not a regular"
				" file or block device", path,
				S_ISDIR(st.st_mode) ? "directory" :
				S_ISCHR(st.st_mode) ? "character device" :
				S_ISFIFO(st.st_mode) ? "fifo" :
				S_ISSOCK(st.st_mode) ? "socket" : "special file");
	if (known && !rdonly && S_ISREG(st.st_mode) && !(st.st_mode & 0222))
		/* root's open(2) ignores the mode; an operator who made an
		 * image read-only meant it */
		return jrx_fail(-JRX_ERR_READ_ONLY, "%s: the file is read-only"
				" (mode %04o); not writing it (chmod u+w to allow,"
				" or open read-only with -n)", path,
				(unsigned)(st.st_mode & 07777));
	d->fd = open(path, oflags | ((flags & JRX_DEV_DIRECT) ? O_DIRECT : 0));
	if (d->fd < 0 && (flags & JRX_DEV_DIRECT) && errno == EINVAL)
		d->fd = open(path, oflags);	/* no O_DIRECT here */
	else if (d->fd >= 0 && (flags & JRX_DEV_DIRECT))
		d->direct = true;
	if (d->fd < 0)
		return open_error(path, errno, excl);
	if (fstat(d->fd, &st)) {
		int e = -errno;

		close(d->fd);
		return jrx_fail(e, "%s: cannot stat: %s", path, strerror(-e));
	}
	if (S_ISBLK(st.st_mode)) {
		if (ioctl(d->fd, BLKGETSIZE64, &d->size)) {
			int e = -errno;

			close(d->fd);
			return jrx_fail(e, "%s: cannot get block device size", path);
		}
		d->blockdev = true;
	} else if (S_ISREG(st.st_mode)) {
		d->size = (uint64_t)st.st_size;
	} else {
		close(d->fd);
		return jrx_fail(-JRX_ERR_NOT_JRX,
				"%s: not a regular file or block device", path);
	}
	d->rdonly = rdonly;
	d->path = strdup(path);
	if (!d->path) {
		close(d->fd);
		return -ENOMEM;
	}
	return 0;
}

int jrx_dev_reopen(struct jrx_dev *out, const struct jrx_dev *d,
		   unsigned flags)
{
	char proc[64];
	struct stat a, b;
	int ret;

	if (d->absent) {	/* another absent member of the same name */
		*out = *d;
		out->path = strdup(d->path);
		return out->path ? 0 : -ENOMEM;
	}
	if (d->rdonly)
		flags |= JRX_DEV_RDONLY;
	flags &= ~JRX_DEV_EXCL;	/* d's claim covers this descriptor (lock.h) */
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", d->fd);
	if (access(proc, F_OK) == 0) {
		ret = jrx_dev_open(out, proc, flags);
	} else {
		ret = jrx_dev_open(out, d->path, flags);
		if (!ret && (fstat(d->fd, &a) || fstat(out->fd, &b) ||
			     a.st_dev != b.st_dev || a.st_ino != b.st_ino)) {
			jrx_dev_close(out);
			return jrx_fail(-JRX_ERR_DEV_OTHER_ARRAY, "%s: the path no"
					" longer names the device that was"
					" opened", d->path);
		}
	}
	if (ret)
		return jrx_fail(ret, "%s: cannot open a second descriptor: %s",
				d->path, jrx_diag());
	/* messages name the member, not /proc */
	free(out->path);
	out->path = strdup(d->path);
	if (!out->path) {
		jrx_dev_close(out);
		return jrx_fail(-ENOMEM, "allocating a device name");
	}
	return 0;
}

void jrx_dev_close(struct jrx_dev *d)
{
	if (d->fd >= 0)
		close(d->fd);
	free(d->path);
	d->fd = -1;
	d->path = NULL;
	d->absent = false;
}

int jrx_dev_make_absent(struct jrx_dev *d, unsigned idx)
{
	char name[48];

	snprintf(name, sizeof(name), "member %u (missing)", idx);
	*d = (struct jrx_dev){ .fd = -1, .rdonly = true, .absent = true,
			       .path = strdup(name) };
	return d->path ? 0 : -ENOMEM;
}

static int absent(const struct jrx_dev *d, const char *what, uint64_t off)
{
	return jrx_fail(-JRX_ERR_DEV_MISSING, "%s: cannot %s at offset %" PRIu64
			": the member is missing (--degraded); only the"
			" journal has copies on other members"
			" (metadata_replicas), btree nodes have one",
			d->path, what, off);
}

int jrx_dev_read_permit(const struct jrx_dev *d, uint64_t off)
{
	return d->absent ? absent(d, "read", off) : 0;
}

int jrx_dev_read_failed(const struct jrx_dev *d, uint64_t off, size_t len,
			size_t done, int err)
{
	if (err)
		return jrx_fail(err, "%s: read error at offset %" PRIu64 ": %s",
				d->path, off + done, jrx_strerror(err));
	return jrx_fail(-JRX_ERR_DEV_TRUNCATED, "%s: device ends at offset %"
			PRIu64 ", wanted %zu bytes at %" PRIu64, d->path,
			off + done, len, off);
}

int jrx_dev_pread(struct jrx_dev *d, void *buf, size_t len, uint64_t off)
{
	size_t done = 0;
	int ret = jrx_dev_read_permit(d, off);

	if (ret)
		return ret;

	while (done < len) {
		ssize_t r = pread(d->fd, (char *)buf + done, len - done,
				  (off_t)(off + done));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return jrx_dev_read_failed(d, off, len, done,
						   r ? -errno : 0);
		done += (size_t)r;
	}
	return 0;
}

int jrx_dev_write_permit(struct jrx_dev *d, uint64_t off)
{
	if (d->absent)
		return absent(d, "write", off);
	if (d->rdonly)
		return jrx_fail(-JRX_ERR_READ_ONLY, "%s: write at offset %" PRIu64
				" refused: opened read-only", d->path, off);
	if (atomic_load(&crash_armed)) {
		if (atomic_load(&crash_hit) ||
		    atomic_fetch_sub(&crash_budget, 1) == 0) {
			atomic_store(&crash_hit, true);
			return jrx_fail(-JRX_ERR_CRASHED, "%s: crash injected before"
					" write at offset %" PRIu64, d->path, off);
		}
	}
	if (atomic_fetch_add(&writes_permitted, 1) + 1 == atomic_load(&stop_at))
		raise(SIGSTOP);		/* every thread stops here */
	return 0;
}

int jrx_dev_pwrite(struct jrx_dev *d, const void *buf, size_t len, uint64_t off)
{
	size_t done = 0;
	int ret = jrx_dev_write_permit(d, off);

	if (ret)
		return ret;
	while (done < len) {
		ssize_t r = pwrite(d->fd, (const char *)buf + done, len - done,
				   (off_t)(off + done));
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return jrx_fail(-errno, "%s: write error at offset %" PRIu64
					": %s", d->path, off + done, strerror(errno));
		}
		done += (size_t)r;
	}
	return 0;
}

int jrx_dev_sync(struct jrx_dev *d)
{
	if (d->rdonly || d->absent)
		return 0;
	if (fdatasync(d->fd))
		return jrx_fail(-errno, "%s: fdatasync: %s", d->path, strerror(errno));
	return 0;
}
