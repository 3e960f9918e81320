/*
 * sb.h - superblock checksum and validation, and the magics derived from
 * the array uuid.  Pure functions over bytes; reading devices is src/io.
 */
#ifndef JRX_SB_H
#define JRX_SB_H

#include <stdbool.h>
#include "format.h"

void jrx_sb_set_csum(struct jrx_sb *sb);

/* Room for jrx_sb_validate()'s reason: every message fits. */
#define JRX_SB_WHY	192

/*
 * The checks of FORMAT.md 4.2, in order: 0, -JRX_ERR_NOT_JRX (magic),
 * -JRX_ERR_SB_CSUM or -JRX_ERR_SB_INVALID.  The reason goes to why (len
 * bytes, may be NULL; "" when valid) and names the field, the member or
 * root slot it belongs to, and the values that break the rule, e.g.
 * "member 0: nbuckets 17592186045440 is above the limit 4294967296".
 * The caller adds the device and the copy.
 */
int jrx_sb_validate(const struct jrx_sb *sb, char *why, size_t len);

/*
 * The bytes member dev's buckets span, nbuckets * bucket_size, into
 * *bytes; false if nbuckets is above JRX_MAX_NBUCKETS (FORMAT.md 9), so
 * that no span wraps.  Valid for any superblock, checked or not.
 */
bool jrx_sb_member_bytes(const struct jrx_sb *sb, unsigned dev,
			 uint64_t *bytes);

/*
 * Where the node a btree pointer names lies (FORMAT.md 7.4): *off =
 * sector * 512, and NULL if [*off, *off + btree_node_size) lies inside
 * member dev's buckets; else why not ("its sector * 512 does not fit in
 * 64 bits", ...), and *off must not be used.  Every reader and writer of
 * a node at a pointer's location asks this first.
 */
const char *jrx_sb_node_range(const struct jrx_sb *sb, uint32_t dev,
			      uint64_t sector, uint64_t *off);

/* A uuid as 32 lowercase hex digits into buf (33 bytes with the NUL). */
void jrx_uuid_text(char buf[33], const uint8_t uuid[16]);

uint64_t jrx_jset_magic(const uint8_t uuid[16]);
uint64_t jrx_node_magic(const uint8_t uuid[16]);

/*
 * Byte offset of bucket b on a device.  b < nbuckets of a validated
 * superblock: the product is below 2^58 (FORMAT.md 9).
 */
static inline uint64_t jrx_bucket_offset(const struct jrx_sb *sb, uint64_t b)
{
	return b * (uint64_t)sb->bucket_size;
}

#endif
