/*
 * fskeys.h - the file-system keys, built into a caller's buffer: an
 * inode, an extent, a dirent and an xattr key, and the position of a
 * name (a dirent's in its directory, an xattr's in its inode).  The
 * write-path operations (workload/fsops.c), the synthetic generator
 * (workload/synth_keys.c) and fsck's namespace repair
 * (fsck/repair_namespace.c) all build their keys here, so the same key
 * has the same bytes whoever writes it.
 *
 * buf holds the key header and its value rounded up to 8 bytes; the
 * builders do not check names or sizes (their callers bound them).
 */
#ifndef JRX_FSKEYS_H
#define JRX_FSKEYS_H

#include <stddef.h>
#include <stdint.h>
#include "format.h"

#define JRX_DT_REG 8			/* dirent d_type of a regular file */
#define JRX_DT_DIR 4			/* ... of a directory */
#define JRX_MODE_REG 0100644u		/* inode mode of a new file */
#define JRX_MODE_DIR 040755u		/* ... of a new directory */

/* (inum, hash of the name, default snapshot) */
struct jrx_bpos jrx_fskey_name_pos(uint64_t inum, const char *name,
				   size_t len);

/* The inode inum with value *v. */
struct jrx_bkey *jrx_fskey_inode(uint64_t *buf, uint64_t inum,
				 const struct jrx_inode_val *v);
/* The extent of inum ending at sector end, sectors long, value *v. */
struct jrx_bkey *jrx_fskey_extent(uint64_t *buf, uint64_t inum, uint64_t end,
				  uint32_t sectors,
				  const struct jrx_extent_val *v);
/* name (len bytes) in directory dir, pointing at target. */
struct jrx_bkey *jrx_fskey_dirent(uint64_t *buf, uint64_t dir,
				  const char *name, size_t len,
				  uint64_t target, unsigned d_type);
/* The xattr name (len bytes) of inum with value (vlen bytes). */
struct jrx_bkey *jrx_fskey_xattr(uint64_t *buf, uint64_t inum,
				 const char *name, size_t len,
				 const void *value, uint16_t vlen);

#endif
