/* sb.c - superblock checksum, validation and derived magics (see sb.h). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <inttypes.h>
#include "sb.h"
#include "checksum.h"
#include "jrx/errors.h"
#include "../util/checked.h"

void jrx_sb_set_csum(struct jrx_sb *sb)
{
	sb->csum = jrx_crc32c((const char *)sb + 8, JRX_SB_SIZE - 8);
}

static int is_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

static int why_set(int err, char *why, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int why_set(int err, char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (why && len) {
		va_start(ap, fmt);
		vsnprintf(why, len, fmt, ap);
		va_end(ap);
	}
	return err;
}

#define BAD(...) return why_set(-JRX_ERR_SB_INVALID, why, len, __VA_ARGS__)

bool jrx_sb_member_bytes(const struct jrx_sb *sb, unsigned dev,
			 uint64_t *bytes)
{
	const struct jrx_member *m = &sb->members[dev];

	return m->nbuckets <= JRX_MAX_NBUCKETS &&
		jrx_mul_u64(m->nbuckets, sb->bucket_size, bytes);
}

/* FORMAT.md 4.2 rule 12, for member i, in the order of its table. */
static int member_validate(const struct jrx_sb *sb, unsigned i, char *why,
			   size_t len)
{
	const struct jrx_member *m = &sb->members[i];
	uint64_t bytes, jend;

	if (m->state != 1)
		BAD("member %u: state %" PRIu32 " is not 1 (present)", i, m->state);
	if (!jrx_sb_member_bytes(sb, i, &bytes))
		BAD("member %u: nbuckets %" PRIu64 " is above the limit %" PRIu64,
		    i, m->nbuckets, (uint64_t)JRX_MAX_NBUCKETS);
	if (m->first_bucket >= m->nbuckets)
		BAD("member %u: first_bucket %" PRIu64 " is not below nbuckets %"
		    PRIu64, i, m->first_bucket, m->nbuckets);
	/* first_bucket < nbuckets <= 2^32: the product cannot wrap */
	if (!jrx_mul_u64(m->first_bucket, sb->bucket_size, &bytes) ||
	    bytes < JRX_RESERVED_BYTES)
		BAD("member %u: first_bucket %" PRIu64 " * bucket_size %" PRIu32
		    " is below the reserved %u bytes", i, m->first_bucket,
		    sb->bucket_size, JRX_RESERVED_BYTES);
	if (m->journal_nr < 2)
		BAD("member %u: journal_nr %" PRIu32 " is below 2", i,
		    m->journal_nr);
	if (m->journal_bucket < m->first_bucket)
		BAD("member %u: journal_bucket %" PRIu64 " is below first_bucket"
		    " %" PRIu64, i, m->journal_bucket, m->first_bucket);
	if (!jrx_add_u64(m->journal_bucket, m->journal_nr, &jend) ||
	    jend > m->nbuckets)
		BAD("member %u: journal_bucket %" PRIu64 " + journal_nr %" PRIu32
		    " runs past nbuckets %" PRIu64, i, m->journal_bucket,
		    m->journal_nr, m->nbuckets);
	return 0;
}

const char *jrx_sb_node_range(const struct jrx_sb *sb, uint32_t dev,
			      uint64_t sector, uint64_t *off)
{
	uint64_t end, dev_bytes;

	if (dev >= sb->nr_devices)
		return "its device is not a member";
	if (!jrx_mul_u64(sector, JRX_SECTOR_SIZE, off) ||
	    !jrx_add_u64(*off, sb->btree_node_size, &end))
		return "its sector * 512 does not fit in 64 bits";
	if (!jrx_sb_member_bytes(sb, dev, &dev_bytes) || end > dev_bytes)
		return "it runs past the member's last bucket";
	return NULL;
}

/* FORMAT.md 4.2 rule 13, for root slot i (present). */
static int root_validate(const struct jrx_sb *sb, unsigned i, char *why,
			 size_t len)
{
	const struct jrx_btree_root *r = &sb->roots[i];
	uint64_t off;
	const char *bad;

	if (r->btree_id != i)
		BAD("root slot %u: btree_id %u is not the slot", i, r->btree_id);
	if (r->level >= JRX_BTREE_MAX_DEPTH)
		BAD("root slot %u: level %u is not below %u", i, r->level,
		    JRX_BTREE_MAX_DEPTH);
	if (r->k.type != JRX_KEY_BTREE_PTR)
		BAD("root slot %u: key type %u is not %u (btree_ptr)", i,
		    r->k.type, JRX_KEY_BTREE_PTR);
	if (r->v.dev >= sb->nr_devices)
		BAD("root slot %u: dev %" PRIu32 " is not below nr_devices %"
		    PRIu32, i, r->v.dev, sb->nr_devices);
	if (!r->v.blocks || r->v.blocks > sb->btree_node_size / JRX_BLOCK_SIZE)
		BAD("root slot %u: blocks %" PRIu32 " is not in [1, %u]", i,
		    r->v.blocks, sb->btree_node_size / JRX_BLOCK_SIZE);
	bad = jrx_sb_node_range(sb, r->v.dev, r->v.sector, &off);
	if (bad)
		BAD("root slot %u: sector %" PRIu64 " on member %" PRIu32 ": %s",
		    i, r->v.sector, r->v.dev, bad);
	return 0;
}

int jrx_sb_validate(const struct jrx_sb *sb, char *why, size_t len)
{
	uint32_t csum;
	int ret;

	why_set(0, why, len, "%s", "");
	if (memcmp(sb->magic, JRX_SB_MAGIC, sizeof(sb->magic)))
		return why_set(-JRX_ERR_NOT_JRX, why, len, "bad magic");
	csum = jrx_crc32c((const char *)sb + 8, JRX_SB_SIZE - 8);
	if (sb->csum != csum)
		return why_set(-JRX_ERR_SB_CSUM, why, len, "checksum mismatch"
			       " (csum %#010" PRIx32 ", computed %#010" PRIx32 ")",
			       sb->csum, csum);
	if (sb->version != JRX_FORMAT_VERSION)
		BAD("unsupported format version %" PRIu32 " (this is %u)",
		    sb->version, JRX_FORMAT_VERSION);
	if (sb->block_size != JRX_BLOCK_SIZE)
		BAD("block_size %" PRIu32 " is not %u", sb->block_size,
		    JRX_BLOCK_SIZE);
	if (!is_pow2(sb->bucket_size) || sb->bucket_size < 64 * 1024 ||
	    sb->bucket_size > 64u * 1024 * 1024)
		BAD("bucket_size %" PRIu32 " is not a power of two in [64 KiB,"
		    " 64 MiB]", sb->bucket_size);
	if (!is_pow2(sb->btree_node_size) ||
	    sb->btree_node_size < 16 * 1024 ||
	    sb->btree_node_size > sb->bucket_size)
		BAD("btree_node_size %" PRIu32 " is not a power of two in"
		    " [16 KiB, bucket_size %" PRIu32 "]", sb->btree_node_size,
		    sb->bucket_size);
	if (!sb->nr_devices || sb->nr_devices > JRX_MAX_DEVICES)
		BAD("nr_devices %" PRIu32 " is not in [1, %u]", sb->nr_devices,
		    JRX_MAX_DEVICES);
	if (sb->dev_idx >= sb->nr_devices)
		BAD("dev_idx %" PRIu32 " is not below nr_devices %" PRIu32,
		    sb->dev_idx, sb->nr_devices);
	if (sb->metadata_replicas < 1 || sb->metadata_replicas > 2 ||
	    sb->metadata_replicas > sb->nr_devices)
		BAD("metadata_replicas %" PRIu32 " is not 1 or 2 and at most"
		    " nr_devices %" PRIu32, sb->metadata_replicas,
		    sb->nr_devices);
	if (memcmp(sb->dev_uuid, sb->members[sb->dev_idx].uuid, 16))
		BAD("dev_uuid differs from member %" PRIu32 "'s uuid",
		    sb->dev_idx);
	if (sb->nr_blacklist > JRX_SB_MAX_BLACKLIST)
		BAD("nr_blacklist %" PRIu32 " is above %u", sb->nr_blacklist,
		    JRX_SB_MAX_BLACKLIST);
	for (unsigned i = 0; i < sb->nr_blacklist; i++)
		if (sb->blacklist[i].start > sb->blacklist[i].end)
			BAD("blacklist[%u]: start %" PRIu64 " is above end %"
			    PRIu64, i, sb->blacklist[i].start,
			    sb->blacklist[i].end);
	for (unsigned i = 0; i < sb->nr_devices; i++)
		if ((ret = member_validate(sb, i, why, len)))
			return ret;
	for (unsigned i = 0; i < JRX_BTREE_ID_SLOTS; i++)
		if (sb->roots[i].present && (ret = root_validate(sb, i, why, len)))
			return ret;
	return 0;
}

static uint64_t le64_at(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

void jrx_uuid_text(char buf[33], const uint8_t uuid[16])
{
	static const char digits[] = "0123456789abcdef";

	for (int i = 0; i < 16; i++) {
		buf[2 * i] = digits[uuid[i] >> 4];
		buf[2 * i + 1] = digits[uuid[i] & 15];
	}
	buf[32] = 0;
}

uint64_t jrx_jset_magic(const uint8_t uuid[16])
{
	return le64_at(uuid) ^ JRX_JSET_MAGIC_XOR;
}

uint64_t jrx_node_magic(const uint8_t uuid[16])
{
	return le64_at(uuid + 8) ^ JRX_NODE_MAGIC_XOR;
}
