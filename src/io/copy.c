/*
 * copy.c - a sparse-aware file copy (copy.h), for a second copy of a
 * crashed array (`jrx demo`, the replay tests).  Devices are big sparse files: only their data
 * ranges, found with lseek(SEEK_DATA / SEEK_HOLE), are read and written
 * (pread / pwrite, 1 MiB at a time), and the copy is truncated to the full
 * size, so its holes stay holes.  A file system without SEEK_DATA support
 * reports the whole file as data, which is slower but still correct.
 *
 * Errors are negative errno values with the file and offset in jrx_diag().
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "copy.h"
#include "../util/diag.h"

#define COPY_CHUNK	(1u << 20)

struct copy {
	const char	*src, *dst;
	int		 in, out;
	void		*buf;		/* COPY_CHUNK */
	uint64_t	 copied;	/* data bytes */
};

/* err with "path: what[ at offset off]: reason"; off < 0: no offset. */
static int copy_fail(int err, const char *path, const char *what, off_t off)
{
	if (off < 0)
		return jrx_fail(err, "%s: %s: %s", path, what, strerror(-err));
	return jrx_fail(err, "%s: %s at offset %" PRIu64 ": %s", path, what,
			(uint64_t)off, strerror(-err));
}

/* Copy [off, end) of the source, which holds data. */
static int copy_range(struct copy *c, off_t off, off_t end)
{
	while (off < end) {
		size_t len = end - off < COPY_CHUNK ? (size_t)(end - off) :
			COPY_CHUNK;
		ssize_t n = pread(c->in, c->buf, len, off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return copy_fail(-errno, c->src, "read error", off);
		if (n == 0)
			return copy_fail(-EIO, c->src, "unexpected end of file",
					 off);
		for (ssize_t done = 0; done < n; ) {
			ssize_t w = pwrite(c->out, (char *)c->buf + done,
					   (size_t)(n - done), off + done);

			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				return copy_fail(w < 0 ? -errno : -EIO, c->dst,
						 "write error", off + done);
			done += w;
		}
		off += n;
		c->copied += (uint64_t)n;
	}
	return 0;
}

/* Every data range of a source of `size` bytes. */
static int copy_data(struct copy *c, off_t size)
{
	off_t off = 0, data, hole;
	int ret;

	while (off < size) {
		data = lseek(c->in, off, SEEK_DATA);
		if (data < 0 && errno == ENXIO)	/* only a hole is left */
			return 0;
		if (data < 0)
			return copy_fail(-errno, c->src, "lseek(SEEK_DATA)", off);
		hole = lseek(c->in, data, SEEK_HOLE);
		if (hole < 0)
			return copy_fail(-errno, c->src, "lseek(SEEK_HOLE)", data);
		if (hole > size)
			hole = size;
		ret = copy_range(c, data, hole);
		if (ret)
			return ret;
		off = hole;
	}
	return 0;
}

int jrx_copy_sparse(const char *src, const char *dst, uint64_t *copied)
{
	struct copy c = { .src = src, .dst = dst, .in = -1, .out = -1 };
	struct stat si, so;
	int ret;

	if (copied)
		*copied = 0;
	c.in = open(src, O_RDONLY | O_CLOEXEC);
	if (c.in < 0)
		return copy_fail(-errno, src, "cannot open", -1);
	if (fstat(c.in, &si)) {
		ret = copy_fail(-errno, src, "cannot stat", -1);
		goto out;
	}
	if (!S_ISREG(si.st_mode)) {
		ret = copy_fail(-EINVAL, src, "not a regular file", -1);
		goto out;
	}
	/* no O_TRUNC before we know the copy is another file */
	c.out = open(dst, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (c.out < 0) {
		ret = copy_fail(-errno, dst, "cannot create", -1);
		goto out;
	}
	if (fstat(c.out, &so)) {
		ret = copy_fail(-errno, dst, "cannot stat", -1);
		goto out;
	}
	if (so.st_dev == si.st_dev && so.st_ino == si.st_ino) {
		ret = jrx_fail(-EINVAL, "%s: copy of %s onto itself", dst, src);
		goto out;
	}
	if (ftruncate(c.out, 0)) {
		ret = copy_fail(-errno, dst, "cannot truncate", -1);
		goto out;
	}
	c.buf = malloc(COPY_CHUNK);
	if (!c.buf) {
		ret = jrx_fail(-ENOMEM, "%s: allocating a copy buffer", dst);
		goto out;
	}
	ret = copy_data(&c, si.st_size);
	if (!ret && ftruncate(c.out, si.st_size))
		ret = copy_fail(-errno, dst, "cannot extend", si.st_size);
out:
	free(c.buf);
	if (c.out >= 0 && close(c.out) && !ret)
		ret = copy_fail(-errno, dst, "close", -1);
	if (c.in >= 0)
		close(c.in);
	if (copied)
		*copied = c.copied;
	return ret;
}
