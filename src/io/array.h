/*
 * array.h - the set of member devices of one array and its superblock.
 *
 * The names given are resolved by members.h first (':' lists, UUID=,
 * members not named found by scanning block devices unless
 * JRX_OPEN_NO_SCAN).  Opening reads both superblock copies of every device
 * given, keeps the
 * newest valid one, checks that the devices form one complete array (same
 * uuid, every member once, sizes), places them by member index whatever the
 * order given, and notes anything repaired around (a bad primary copy).
 * Nothing is written by opening.
 *
 * Every device is claimed before anything is read from it and stays
 * claimed until jrx_array_close (lock.h): exclusively when opened for
 * writing, shared when read-only.  A claim held elsewhere fails the open
 * with -JRX_ERR_DEV_BUSY naming the device and the holder, or is waited
 * for with JRX_OPEN_WAIT.
 */
#ifndef JRX_ARRAY_H
#define JRX_ARRAY_H

#include <stdbool.h>
#include "device.h"
#include "../format/format.h"

#define JRX_ARRAY_NOTES 2048

struct jrx_array {
	unsigned	nr_devs;
	struct jrx_dev	devs[JRX_MAX_DEVICES];	/* by member index */
	struct jrx_sb	sb;			/* newest valid copy */
	uint64_t	jset_magic;
	uint64_t	node_magic;
	bool		rdonly;
	bool		sb_stale;		/* some copy is bad or older */
	char		notes[JRX_ARRAY_NOTES];	/* one line per finding */
};

enum {
	JRX_OPEN_RDONLY	= 1 << 0,
	JRX_OPEN_DIRECT	= 1 << 1,
	JRX_OPEN_WAIT	= 1 << 2,	/* wait for a device's holder (lock.h) */
	JRX_OPEN_NO_SCAN = 1 << 3,	/* never scan for members (members.h) */
	/* read-only inspection of what is there: members that are missing
	 * are noted, not refused (their devs[] entry has fd -1) */
	JRX_OPEN_PARTIAL = 1 << 4,
	/*
	 * --degraded, read-only: members that are missing become absent
	 * devices (device.h: reads fail naming them), allowed only while
	 * every jset still has a copy on the members given (fewer missing
	 * than metadata_replicas); refused otherwise, naming the members
	 * and the replicas.  Btree nodes have one copy: a node on a missing
	 * member fails the read that needs it, naming it.
	 */
	JRX_OPEN_DEGRADED = 1 << 5,
};

/* Returns 0 or an error with the device and reason in jrx_diag(). */
int  jrx_array_open(struct jrx_array *a, const char *const *paths, unsigned n,
		    unsigned flags);
void jrx_array_close(struct jrx_array *a);


/*
 * Writes a->sb (seq + 1) to both copies of every device, backup copy first,
 * then primary, and syncs.  The per-device fields are filled in here.
 */
int  jrx_array_write_sb(struct jrx_array *a);

/*
 * fdatasync every member that is open for writing, all at once (one
 * phase of the worker pool, a worker per member; array_sync.c).  0, or
 * the first member's error in member order, its message naming the
 * device.
 */
int  jrx_array_sync(struct jrx_array *a);

/*
 * Read one superblock copy and validate it; why (len bytes, JRX_SB_WHY is
 * enough) says what was wrong, naming the field and its values.
 */
int  jrx_sb_read(struct jrx_dev *d, uint64_t off, struct jrx_sb *sb,
		 char *why, size_t len);

static inline uint64_t jrx_array_bucket_bytes(const struct jrx_array *a)
{
	return a->sb.bucket_size;
}

#endif
