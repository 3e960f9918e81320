/*
 * checksum.h - the one checksum of the format: CRC-32C (Castagnoli),
 * standard form (init and final xor 0xffffffff), computed by ISA-L.
 */
#ifndef JRX_CHECKSUM_H
#define JRX_CHECKSUM_H
#include <stddef.h>
#include <stdint.h>

uint32_t jrx_crc32c(const void *buf, size_t len);
/* xxh3-64 of a name, used for dirent and xattr positions. */
uint64_t jrx_name_hash(const void *name, size_t len);

#endif
