/* checksum.c - CRC-32C through ISA-L and name hashing through xxhash. */
#include <isa-l/crc.h>
#include <xxhash.h>
#include "checksum.h"

uint32_t jrx_crc32c(const void *buf, size_t len)
{
	uint32_t crc = 0xffffffffu;
	const unsigned char *p = buf;

	/* crc32_iscsi takes an int length: feed large buffers in pieces. */
	while (len) {
		size_t n = len > (1u << 30) ? (1u << 30) : len;

		crc = crc32_iscsi((unsigned char *)p, (int)n, crc);
		p += n;
		len -= n;
	}
	return crc ^ 0xffffffffu;
}

uint64_t jrx_name_hash(const void *name, size_t len)
{
	/* offset 0 is never a name position: keep 0 out of the range */
	uint64_t h = XXH3_64bits(name, len) >> 1;

	return h ? h : 1;
}
