/*
 * jrx.h - the public API of libjrx (small on purpose).
 *
 * Every call returns 0 or a negative error (a jrx_err or -errno, see
 * errors.h); the device and offset at fault are in jrx_diag() after a
 * failure.  Nothing here calls exit() or prints.
 *
 * It offers making a new array (jrx_format), the message and stable name
 * of every error (errors.h: jrx_strerror, jrx_errname) and the context of
 * the last one (jrx_diag).  Opening an array, recovery and fsck are not
 * here: they are the library's internal API under src/, which the jrx
 * command and the tests use.  docs/FORMAT.md is the on-disk format.
 */
#ifndef JRX_JRX_H
#define JRX_JRX_H

#include <stdbool.h>
#include <stdint.h>
#include "jrx/errors.h"

/* The one place of the version: CMake's project() and `jrx --version` read
 * it from here. */
#define JRX_VERSION "0.1.0"

/* Options of jrx_format(); start from jrx_format_opts_default(). */
struct jrx_format_opts {
	uint64_t size;		  /* per device: create/resize regular files
				     (sparse); 0 uses the device as it is */
	uint32_t bucket_size;	  /* bytes, power of two, 64 KiB..64 MiB;
				     default 1 MiB */
	uint32_t btree_node_size; /* bytes, power of two, 16 KiB..bucket size;
				     default 256 KiB */
	uint64_t journal_size;	  /* journal bytes per device; 0: 1/16 of the
				     device, at least 8 buckets, at most 1 GiB */
	uint32_t replicas;	  /* journal copies, 1 or 2 (<= devices) */
	bool	 force;		  /* format over an existing jrx array, file
				     system or partition table (refused
				     otherwise, naming what was found) */
};

void jrx_format_opts_default(struct jrx_format_opts *o);

/*
 * Make a new, clean array over n devices (1..64): superblocks, journal
 * buckets, empty btrees with the root directory, allocation info.
 * Each device is claimed exclusively first; one that holds anything
 * (-JRX_ERR_DEV_HAS_DATA) is left untouched unless o->force, and then
 * everything on it is discarded.
 */
int jrx_format(const char *const *paths, unsigned n,
	       const struct jrx_format_opts *o);

/* Text of the last error's context on this thread ("" if none). */
const char *jrx_diag(void);

#endif
