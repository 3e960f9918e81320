/*
 * fsops.h - file-system operations as transactions through the write path
 * (struct jrx_fs): each produces only final key values, e.g. an extent
 * overwrite journals the trimmed fragments and whiteouts of what it
 * covers, and frees the sectors it replaces.
 *
 * Units: extent offsets and lengths in 512-byte sectors; i_size in bytes.
 */
#ifndef JRX_FSOPS_H
#define JRX_FSOPS_H

#include <stdint.h>
#include "../btree/fs.h"
#include "../format/fskeys.h"		/* JRX_DT_REG, JRX_DT_DIR */

int jrx_op_create(struct jrx_fs *fs, uint64_t dir, const char *name,
		  uint64_t inum, unsigned d_type, uint64_t now);
int jrx_op_unlink(struct jrx_fs *fs, uint64_t dir, const char *name,
		  uint64_t inum);
int jrx_op_write(struct jrx_fs *fs, uint64_t inum, uint64_t start,
		 uint32_t len, uint64_t tag, uint64_t now);
int jrx_op_truncate(struct jrx_fs *fs, uint64_t inum, uint64_t size,
		    uint64_t now);
int jrx_op_setxattr(struct jrx_fs *fs, uint64_t inum, const char *name,
		    const void *value, uint16_t len);

#endif
