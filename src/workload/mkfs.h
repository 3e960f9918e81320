/*
 * mkfs.h - `jrx format`: lay out a new array over N devices (regular files
 * are created sparse when a size is given), with empty btrees (plus the
 * root directory inode), alloc info for every used bucket and a clean
 * superblock on every device.
 */
#ifndef JRX_MKFS_H
#define JRX_MKFS_H

#include <stdint.h>

struct jrx_format_opts {
	uint64_t size;		  /* per device; 0: use the device as it is */
	uint32_t bucket_size;	  /* bytes, default 1 MiB */
	uint32_t btree_node_size; /* bytes, default 256 KiB */
	uint64_t journal_size;	  /* per device, bytes; 0: 1/16 of the device,
				     8 buckets .. 1 GiB */
	uint32_t replicas;	  /* metadata replicas, 1 or 2 */
};

#define JRX_ROOT_INO 4096u

void jrx_format_opts_default(struct jrx_format_opts *o);
int  jrx_format(const char *const *paths, unsigned n,
		const struct jrx_format_opts *o);

#endif
