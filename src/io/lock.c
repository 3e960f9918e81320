/*
 * lock.c - exclusive and shared claims on member devices (lock.h), and
 * finding who holds one: OFD locks show pid -1 in /proc/locks, so the
 * holder is found, as lslocks does, by the "lock:" lines of
 * /proc/<pid>/fdinfo/<fd>, which name the file as major:minor:inode.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include "lock.h"
#include "jrx/errors.h"
#include "../util/diag.h"

/* "pid N: cmdline" of process pid into buf. */
static void describe_pid(long pid, char *buf, size_t len)
{
	char path[64], cmd[256];
	size_t n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/cmdline", pid);
	f = fopen(path, "re");
	if (f) {
		n = fread(cmd, 1, sizeof(cmd) - 1, f);
		fclose(f);
	}
	while (n && cmd[n - 1] == 0)
		n--;
	for (size_t i = 0; i < n; i++)
		if (cmd[i] == 0)
			cmd[i] = ' ';
	cmd[n] = 0;
	if (n)
		snprintf(buf, len, "pid %ld: %s", pid, cmd);
	else
		snprintf(buf, len, "pid %ld", pid);
}

/* Whether an fdinfo file holds a lock line on maj:min:ino. */
static bool fdinfo_locks(const char *path, const char *id)
{
	char line[256];
	bool hit = false;
	FILE *f = fopen(path, "re");

	if (!f)
		return false;
	while (!hit && fgets(line, sizeof(line), f))
		if (!strncmp(line, "lock:", 5) && strstr(line, id))
			hit = true;
	fclose(f);
	return hit;
}

bool jrx_lock_holder(int fd, char *buf, size_t len)
{
	char id[64], path[300];
	struct dirent *p, *e;
	struct stat st;
	long self = (long)getpid();
	bool found = false;
	DIR *proc, *fds;

	if (fstat(fd, &st))
		return false;
	/* fs/locks.c prints the id as "%02x:%02x:%lu " */
	snprintf(id, sizeof(id), " %02x:%02x:%lu ", major(st.st_dev),
		 minor(st.st_dev), (unsigned long)st.st_ino);
	proc = opendir("/proc");
	if (!proc)
		return false;
	while (!found && (p = readdir(proc))) {
		char *end;
		long pid = strtol(p->d_name, &end, 10);

		if (*end || pid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/fdinfo", pid);
		fds = opendir(path);
		if (!fds)
			continue;
		while (!found && (e = readdir(fds))) {
			if (e->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "/proc/%ld/fdinfo/%s", pid,
				 e->d_name);
			if (pid == self && atoi(e->d_name) == fd)
				continue;
			if (fdinfo_locks(path, id)) {
				if (pid == self)
					snprintf(buf, len, "this process itself"
						 " (is one device given twice?)");
				else
					describe_pid(pid, buf, len);
				found = true;
			}
		}
		closedir(fds);
	}
	closedir(proc);
	return found;
}

bool jrx_dev_mountpoint(int fd, char *buf, size_t len)
{
	char line[4096], want[32];
	struct stat st;
	bool found = false;
	FILE *f;

	if (fstat(fd, &st) || !S_ISBLK(st.st_mode))
		return false;
	f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return false;
	snprintf(want, sizeof(want), "%u:%u", major(st.st_rdev),
		 minor(st.st_rdev));
	/* "id parent maj:min root mountpoint ..." */
	while (!found && fgets(line, sizeof(line), f)) {
		char dev[32], mnt[2048];

		if (sscanf(line, "%*s %*s %31s %*s %2047s", dev, mnt) == 2 &&
		    !strcmp(dev, want)) {
			snprintf(buf, len, "%s", mnt);
			found = true;
		}
	}
	fclose(f);
	return found;
}

int jrx_dev_lock(struct jrx_dev *d, enum jrx_lock_mode mode, bool wait)
{
	struct flock fl = {
		.l_type = mode == JRX_LOCK_EXCLUSIVE ? F_WRLCK : F_RDLCK,
		.l_whence = SEEK_SET,
	};
	char holder[320];

	while (fcntl(d->fd, wait ? F_OFD_SETLKW : F_OFD_SETLK, &fl)) {
		int e = errno;

		if (e == EINTR && wait)
			continue;
		if (e != EAGAIN && e != EACCES)
			return jrx_fail(-e, "%s: cannot lock: %s", d->path,
					strerror(e));
		if (!jrx_lock_holder(d->fd, holder, sizeof(holder)))
			snprintf(holder, sizeof(holder), "another process");
		return jrx_fail(-JRX_ERR_DEV_BUSY, "%s: in use by %s; not %s it%s",
				d->path, holder,
				mode == JRX_LOCK_EXCLUSIVE ? "writing" : "reading",
				wait ? "" : " (--wait waits for it)");
	}
	return 0;
}
