/*
 * sb.h - superblock checksum and validation, and the magics derived from
 * the array uuid.  Pure functions over bytes; reading devices is src/io.
 */
#ifndef JRX_SB_H
#define JRX_SB_H

#include "format.h"

void jrx_sb_set_csum(struct jrx_sb *sb);
/*
 * 0, -JRX_ERR_NOT_JRX (magic), -JRX_ERR_SB_CSUM or -JRX_ERR_SB_INVALID
 * with the reason in *why.
 */
int jrx_sb_validate(const struct jrx_sb *sb, const char **why);

uint64_t jrx_jset_magic(const uint8_t uuid[16]);
uint64_t jrx_node_magic(const uint8_t uuid[16]);

/* Byte offset of bucket b on a device. */
static inline uint64_t jrx_bucket_offset(const struct jrx_sb *sb, uint64_t b)
{
	return b * (uint64_t)sb->bucket_size;
}

#endif
