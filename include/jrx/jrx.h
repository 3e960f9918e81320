/*
 * jrx.h - the public API of libjrx (small on purpose).
 *
 * Every call returns 0 or a negative error (a jrx_err or -errno, see
 * errors.h); the device and offset at fault are in jrx_diag() after a
 * failure.  Nothing here calls exit() or prints.
 *
 * So far: making an array.  Opening, recovery and fsck follow as they are
 * built (docs/FORMAT.md is the on-disk format).
 */
#ifndef JRX_JRX_H
#define JRX_JRX_H

#include <stdint.h>
#include "jrx/errors.h"

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
};

void jrx_format_opts_default(struct jrx_format_opts *o);

/*
 * Make a new, clean array over n devices (1..64): superblocks, journal
 * buckets, empty btrees with the root directory, allocation info.
 * Everything on the devices is discarded.
 */
int jrx_format(const char *const *paths, unsigned n,
	       const struct jrx_format_opts *o);

/* Text of the last error's context on this thread ("" if none). */
const char *jrx_diag(void);

#endif
