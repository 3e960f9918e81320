/*
 * members.c - the member devices of an array from the names given
 * (members.h): ':' lists, UUID=, and the missing members of a partly
 * named array found by reading the superblock of every block device.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "members.h"
#include "array.h"
#include "device.h"
#include "jrx/errors.h"
#include "../util/diag.h"
#include "../format/sb.h"

/* one line of m->notes */
#define note(m, ...) jrx_note_line(m->notes, sizeof(m->notes), __VA_ARGS__)

/* "UUID=" text to 16 bytes: 32 hex digits, dashes anywhere. */
static bool uuid_parse(const char *s, uint8_t out[16])
{
	unsigned nib = 0;

	for (; *s; s++) {
		int v;

		if (*s == '-')
			continue;
		if (!isxdigit((unsigned char)*s) || nib >= 32)
			return false;
		v = isdigit((unsigned char)*s) ? *s - '0' :
			tolower((unsigned char)*s) - 'a' + 10;
		if (nib % 2 == 0)
			out[nib / 2] = (uint8_t)(v << 4);
		else
			out[nib / 2] |= (uint8_t)v;
		nib++;
	}
	return nib == 32;
}

/* The newer valid superblock copy of the device at path, read-only, no
 * claim; false if there is none. */
static bool peek_sb(const char *path, struct jrx_sb *sb)
{
	struct jrx_sb *b = jrx_alloc_aligned(JRX_SB_SIZE);
	struct jrx_dev d;
	bool p_ok, b_ok;

	if (!b)
		return false;
	if (jrx_dev_open(&d, path, JRX_DEV_RDONLY)) {
		free(b);
		jrx_diag_clear();
		return false;
	}
	p_ok = !jrx_sb_read(&d, JRX_SB_PRIMARY_OFFSET, sb, NULL, 0);
	b_ok = !jrx_sb_read(&d, JRX_SB_BACKUP_OFFSET, b, NULL, 0);
	if (b_ok && (!p_ok || b->seq > sb->seq))
		memcpy(sb, b, JRX_SB_SIZE);
	jrx_dev_close(&d);
	free(b);
	jrx_diag_clear();
	return p_ok || b_ok;
}

static bool sys_u64(const char *dir, const char *name, const char *file,
		    uint64_t *v)
{
	char path[512], buf[64];
	FILE *f;
	bool ok;

	snprintf(path, sizeof(path), "%s/%s/%s", dir, name, file);
	f = fopen(path, "re");
	if (!f)
		return false;
	ok = fgets(buf, sizeof(buf), f) && sscanf(buf, "%lu", (unsigned long *)v) == 1;
	fclose(f);
	return ok;
}

/* Whether another block device is stacked on this one (dm, md). */
static bool has_holders(const char *dir, const char *name)
{
	char path[512];
	struct dirent *e;
	bool any = false;
	DIR *d;

	snprintf(path, sizeof(path), "%s/%s/holders", dir, name);
	d = opendir(path);
	if (!d)
		return false;
	while (!any && (e = readdir(d)))
		any = e->d_name[0] != '.';
	closedir(d);
	return any;
}

int jrx_members_scan(const uint8_t uuid[16],
		     void (*fn)(void *ctx, const char *path, unsigned idx,
				uint64_t seq),
		     void *ctx)
{
	static const char dir[] = "/sys/class/block";
	struct jrx_sb *sb = jrx_alloc_aligned(JRX_SB_SIZE);
	struct dirent *e;
	int found = 0;
	DIR *d;

	if (!sb)
		return jrx_fail(-ENOMEM, "allocating a superblock buffer");
	d = opendir(dir);
	if (!d) {
		free(sb);
		return 0;	/* no sysfs: nothing to scan */
	}
	while ((e = readdir(d))) {
		char path[300];
		uint64_t sectors;
		struct stat st;

		if (e->d_name[0] == '.' || !strncmp(e->d_name, "sr", 2) ||
		    !strncmp(e->d_name, "fd", 2))
			continue;
		if (!sys_u64(dir, e->d_name, "size", &sectors) || !sectors ||
		    has_holders(dir, e->d_name))
			continue;
		snprintf(path, sizeof(path), "/dev/%s", e->d_name);
		if (stat(path, &st) || !S_ISBLK(st.st_mode))
			continue;
		if (peek_sb(path, sb) && !memcmp(sb->uuid, uuid, 16)) {
			fn(ctx, path, sb->dev_idx, sb->seq);
			found++;
		}
	}
	closedir(d);
	free(sb);
	return found;
}

static int add(struct jrx_members *m, const char *path)
{
	if (m->n >= JRX_MAX_DEVICES)
		return jrx_fail(-JRX_ERR_BAD_OPTION, "more than %u devices given",
				JRX_MAX_DEVICES);
	m->paths[m->n] = strdup(path);
	if (!m->paths[m->n])
		return jrx_fail(-ENOMEM, "copying a device name");
	m->n++;
	return 0;
}

/* What a scan found: the members not yet given, one path per index. */
struct found {
	struct jrx_members *m;
	bool	 have[JRX_MAX_DEVICES];
	char	 path[JRX_MAX_DEVICES][300];
	uint64_t seq[JRX_MAX_DEVICES];
};

static void on_found(void *ctx, const char *path, unsigned idx, uint64_t seq)
{
	struct found *f = ctx;

	if (idx >= JRX_MAX_DEVICES || f->have[idx])
		return;
	if (f->path[idx][0] && f->seq[idx] >= seq)
		return;		/* two copies of one member: the newer */
	snprintf(f->path[idx], sizeof(f->path[idx]), "%s", path);
	f->seq[idx] = seq;
}

/* Scan for the members of uuid that m does not name yet. */
static int scan_missing(struct jrx_members *m, const uint8_t uuid[16],
			const char *why)
{
	struct found *f = calloc(1, sizeof(*f));
	struct jrx_sb *sb = jrx_alloc_aligned(JRX_SB_SIZE);
	char u[33];
	int ret = 0;

	if (!f || !sb) {
		free(f);
		free(sb);
		return jrx_fail(-ENOMEM, "allocating the member scan");
	}
	for (unsigned i = 0; i < m->n; i++)
		if (peek_sb(m->paths[i], sb) && !memcmp(sb->uuid, uuid, 16) &&
		    sb->dev_idx < JRX_MAX_DEVICES)
			f->have[sb->dev_idx] = true;
	ret = jrx_members_scan(uuid, on_found, f);
	jrx_uuid_text(u, uuid);
	for (unsigned i = 0; ret >= 0 && i < JRX_MAX_DEVICES; i++) {
		if (!f->path[i][0])
			continue;
		note(m, "%s: member %u of array %s found by scanning block"
		     " devices (%s)", f->path[i], i, u, why);
		ret = add(m, f->path[i]);
	}
	free(f);
	free(sb);
	return ret < 0 ? ret : 0;
}

int jrx_members_resolve(struct jrx_members *m, const char *const *names,
			unsigned n, bool scan)
{
	uint8_t want[16];
	bool by_uuid = false;
	struct stat st;
	int ret = 0;

	memset(m, 0, sizeof(*m));
	for (unsigned i = 0; !ret && i < n; i++) {
		const char *s = names[i];

		if (!strncmp(s, "UUID=", 5)) {
			if (!uuid_parse(s + 5, want))
				ret = jrx_fail(-JRX_ERR_BAD_OPTION, "%s: an array"
					       " uuid is 32 hex digits", s);
			else if (!scan)
				ret = jrx_fail(-JRX_ERR_BAD_OPTION, "%s: needs a"
					       " scan of block devices, which"
					       " --no-scan turned off", s);
			else if (by_uuid)
				ret = jrx_fail(-JRX_ERR_BAD_OPTION, "%s: only one"
					       " UUID= may be given", s);
			by_uuid = true;
		} else if (strchr(s, ':') && stat(s, &st)) {
			char *copy = strdup(s), *save = NULL, *p;

			if (!copy)
				return jrx_fail(-ENOMEM, "copying a device list");
			for (p = strtok_r(copy, ":", &save); p && !ret;
			     p = strtok_r(NULL, ":", &save))
				ret = add(m, p);
			free(copy);
		} else {
			ret = add(m, s);
		}
	}
	if (ret)
		goto err;
	if (by_uuid) {
		char u[33];

		ret = scan_missing(m, want, "UUID= given");
		jrx_uuid_text(u, want);
		if (!ret && !m->n)
			ret = jrx_fail(-JRX_ERR_DEV_MISSING, "UUID=%s: no block"
				       " device holds a member of that array", u);
	} else if (scan && m->n) {
		struct jrx_sb *sb = jrx_alloc_aligned(JRX_SB_SIZE);

		if (!sb)
			return jrx_fail(-ENOMEM, "allocating a superblock buffer");
		/* fewer members named than the array has: find the rest */
		if (peek_sb(m->paths[0], sb) && sb->nr_devices > m->n)
			ret = scan_missing(m, sb->uuid, "not named");
		free(sb);
	}
	if (!ret)
		return 0;
err:
	jrx_members_free(m);
	return ret;
}

void jrx_members_free(struct jrx_members *m)
{
	for (unsigned i = 0; i < m->n; i++)
		free(m->paths[i]);
	m->n = 0;
}
