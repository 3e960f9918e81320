/*
 * verify.h - `jrx verify`: compare a (recovered) store with the durable
 * operations recorded by `jrx load --oracle` (docs/ORACLE.md).
 *
 * The store must equal the durable state exactly: nothing the oracle holds
 * may be missing or different, and nothing the oracle does not hold (an
 * operation that never became durable) may be present.  The comparison
 * rules are spelled out at the top of verify.c.
 *
 * Owner: the calling thread; the view is only read.
 */
#ifndef JRX_VERIFY_H
#define JRX_VERIFY_H

#include <stdint.h>
#include <stdio.h>
#include "../btree/fs.h"

/* jrx_verify() result when the store differs from the oracle. */
#define JRX_VERIFY_DIFFERS 1

/* Differences kept in the result (the first ones found). */
#define JRX_VERIFY_KEEP 20

struct jrx_verify_opts {
	FILE	*out;		/* differences printed here, one a line; NULL: none */
	unsigned max_diffs;	/* print at most this many (0: 20) */
};

/*
 * One difference.  field names what differs:
 *   "root"            the root directory inode (missing or not a directory)
 *   "inode"           an inode present in one side only
 *   "type"            the inode's file type (mode) vs files.d_type
 *   "i_size"          the inode's size in bytes vs files.size
 *   "dirent"          a dirent present in one side only
 *   "dirent.target", "dirent.d_type", "dirent.name"
 *                     the dirent at (parent, name_hash(name)) differs
 *   "xattr"           an xattr present in one side only
 *   "xattr.value"     the value differs
 *   "data"            sectors [start, end) hold another data_tag (or a hole)
 *   "extent.overlap"  two extents of the store overlap at [start, end)
 * expected and found are text ("absent", "tag 77", "hole", "4096", ...).
 */
struct jrx_verify_diff {
	uint64_t inum;		/* the file concerned (dirents: the target) */
	uint64_t parent;	/* dirents: the directory */
	uint64_t start, end;	/* data, extent.overlap: file sectors */
	char	 field[16];
	char	 name[80];	/* file or xattr name, "" if none */
	char	 expected[112];
	char	 found[112];
};

struct jrx_verify_result {
	uint64_t files;		/* oracle files and directories checked */
	uint64_t inodes;	/* store inodes seen */
	uint64_t dirents;	/* store dirents seen */
	uint64_t xattrs;	/* oracle xattrs checked */
	uint64_t store_xattrs;	/* store xattrs seen */
	uint64_t ops;		/* oracle data operations replayed */
	uint64_t extents;	/* store extents compared */
	uint64_t sectors;	/* sectors the oracle expects data in */
	uint64_t diffs;		/* differences found (all, not only printed) */
	unsigned nr_kept;
	struct jrx_verify_diff kept[JRX_VERIFY_KEEP];
};

/*
 * Compare the store `view` (e.g. jrx_open_view()) with the oracle at
 * oracle_path (opened read-only).  Returns 0 when they match,
 * JRX_VERIFY_DIFFERS when they don't (res->diffs > 0), or a negative error
 * (-JRX_ERR_ORACLE for an oracle that cannot be opened or read, with the
 * file and reason in jrx_diag(); a btree read error as returned).
 */
int jrx_verify(struct jrx_fs *view, const char *oracle_path,
	       const struct jrx_verify_opts *o, struct jrx_verify_result *res);

/* One difference as a line of text (no newline). */
size_t jrx_verify_diff_text(char *buf, size_t len,
			    const struct jrx_verify_diff *d);

#endif
