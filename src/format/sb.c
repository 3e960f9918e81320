/* sb.c - superblock checksum, validation and derived magics (see sb.h). */
#include <string.h>
#include "sb.h"
#include "checksum.h"
#include "jrx/errors.h"

void jrx_sb_set_csum(struct jrx_sb *sb)
{
	sb->csum = jrx_crc32c((const char *)sb + 8, JRX_SB_SIZE - 8);
}

static int is_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

#define BAD(msg) do { *why = (msg); return -JRX_ERR_SB_INVALID; } while (0)

int jrx_sb_validate(const struct jrx_sb *sb, const char **why)
{
	*why = NULL;
	if (memcmp(sb->magic, JRX_SB_MAGIC, sizeof(sb->magic))) {
		*why = "bad magic";
		return -JRX_ERR_NOT_JRX;
	}
	if (sb->csum != jrx_crc32c((const char *)sb + 8, JRX_SB_SIZE - 8)) {
		*why = "checksum mismatch";
		return -JRX_ERR_SB_CSUM;
	}
	if (sb->version != JRX_FORMAT_VERSION)
		BAD("unsupported format version");
	if (sb->block_size != JRX_BLOCK_SIZE)
		BAD("block size is not 4096");
	if (!is_pow2(sb->bucket_size) || sb->bucket_size < 64 * 1024 ||
	    sb->bucket_size > 64u * 1024 * 1024)
		BAD("bucket size is not a power of two in [64 KiB, 64 MiB]");
	if (!is_pow2(sb->btree_node_size) ||
	    sb->btree_node_size < 16 * 1024 ||
	    sb->btree_node_size > sb->bucket_size)
		BAD("btree node size is not a power of two in [16 KiB, bucket size]");
	if (!sb->nr_devices || sb->nr_devices > JRX_MAX_DEVICES)
		BAD("member count out of range");
	if (sb->dev_idx >= sb->nr_devices)
		BAD("device index beyond the member count");
	if (sb->metadata_replicas < 1 || sb->metadata_replicas > 2 ||
	    sb->metadata_replicas > sb->nr_devices)
		BAD("metadata replicas not 1 or 2, or more than the devices");
	if (memcmp(sb->dev_uuid, sb->members[sb->dev_idx].uuid, 16))
		BAD("device uuid differs from its member entry");
	if (sb->nr_blacklist > JRX_SB_MAX_BLACKLIST)
		BAD("too many blacklist entries");
	for (unsigned i = 0; i < sb->nr_blacklist; i++)
		if (sb->blacklist[i].start > sb->blacklist[i].end)
			BAD("blacklist entry ends before it starts");
	for (unsigned i = 0; i < sb->nr_devices; i++) {
		const struct jrx_member *m = &sb->members[i];

		if (m->state != 1)
			BAD("member entry not present");
		if ((uint64_t)m->first_bucket * sb->bucket_size < JRX_RESERVED_BYTES)
			BAD("first bucket overlaps the reserved area");
		/* journal_bucket + journal_nr <= nbuckets, without wrapping */
		if (m->journal_bucket < m->first_bucket ||
		    m->journal_bucket > m->nbuckets ||
		    m->journal_nr > m->nbuckets - m->journal_bucket ||
		    m->journal_nr < 2)
			BAD("journal buckets outside the device or fewer than 2");
	}
	for (unsigned i = 0; i < JRX_BTREE_ID_SLOTS; i++) {
		const struct jrx_btree_root *r = &sb->roots[i];

		if (!r->present)
			continue;
		if (r->btree_id != i || r->level >= JRX_BTREE_MAX_DEPTH ||
		    r->k.type != JRX_KEY_BTREE_PTR ||
		    r->v.dev >= sb->nr_devices || !r->v.blocks ||
		    r->v.blocks > sb->btree_node_size / JRX_BLOCK_SIZE)
			BAD("clean-section root is malformed");
	}
	return 0;
}

static uint64_t le64_at(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

uint64_t jrx_jset_magic(const uint8_t uuid[16])
{
	return le64_at(uuid) ^ JRX_JSET_MAGIC_XOR;
}

uint64_t jrx_node_magic(const uint8_t uuid[16])
{
	return le64_at(uuid + 8) ^ JRX_NODE_MAGIC_XOR;
}
