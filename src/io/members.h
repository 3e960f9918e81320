/*
 * members.h - from the names a user gives to the member devices of one
 * array.  A name is a path, several paths joined by ':' (the form
 * bcachefs and fstab use: "/dev/sdb:/dev/sdc"), or "UUID=<array uuid>"
 * (32 hex digits, dashes allowed).  When the members named are fewer
 * than the array has, the others are found by scanning the system's
 * block devices (/sys/class/block) for superblocks of the same array;
 * regular files are never scanned for.  Nothing is written and no claim
 * is taken: jrx_array_open claims what this returns.
 */
#ifndef JRX_MEMBERS_H
#define JRX_MEMBERS_H

#include <stdbool.h>
#include <stddef.h>
#include "../format/format.h"

struct jrx_members {
	unsigned n;
	char	*paths[JRX_MAX_DEVICES];
	char	 notes[1024];	/* one line per member found by scanning */
};

/*
 * Resolve names[0, n) into m (free with jrx_members_free).  With scan
 * false only ':' lists are split; UUID= is then an error.  A name that
 * exists as a file is taken as it is, ':' or not.  A member that cannot
 * be found is left out: jrx_array_open names it.
 */
int  jrx_members_resolve(struct jrx_members *m, const char *const *names,
			 unsigned n, bool scan);
void jrx_members_free(struct jrx_members *m);

/*
 * Every block device under /sys/class/block whose valid superblock (the
 * newer copy) is of the array uuid: fn(ctx, "/dev/NAME", its member
 * index, its superblock seq).  Skipped: empty devices, optical and floppy
 * drives, and a device another one is stacked on (holders/ not empty: the
 * dm or md device on top is the member).  Returns how many matched.
 */
int  jrx_members_scan(const uint8_t uuid[16],
		      void (*fn)(void *ctx, const char *path, unsigned idx,
				 uint64_t seq),
		      void *ctx);

#endif
