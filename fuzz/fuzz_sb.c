/*
 * fuzz_sb.c - libFuzzer target: one superblock through jrx_sb_validate()
 * (FORMAT.md 4.2: magic, checksum, geometry, the member table, the
 * blacklist and the clean-section roots).  A superblock it accepts must
 * satisfy every rule of 4.2 computed here in exact (128-bit) arithmetic,
 * so a check that wraps around and lets a bad member through is caught.
 *
 * Input: [flags u8][superblock bytes, up to 8192; the rest is zero].
 *   flags bit 0  fix the checksum up
 *   flags bit 1  write the magic
 *   flags bit 2  copy members[dev_idx].uuid into dev_uuid (dev_idx < 64)
 */
#include "fuzz_input.h"
#include "format/sb.h"
#include "jrx/errors.h"

#define FZ_FIX_DEV_UUID	0x04u

typedef unsigned __int128 u128;

static bool pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

/* FORMAT.md 4.2 rules 3..13 of a superblock the validator accepted. */
static void check_accepted(const struct jrx_sb *sb)
{
	FZ_CHECK(sb->version == JRX_FORMAT_VERSION, "rule 3");
	FZ_CHECK(sb->block_size == JRX_BLOCK_SIZE, "rule 4");
	FZ_CHECK(pow2(sb->bucket_size) && sb->bucket_size >= 65536 &&
		 sb->bucket_size <= 67108864, "rule 5");
	FZ_CHECK(pow2(sb->btree_node_size) && sb->btree_node_size >= 16384 &&
		 sb->btree_node_size <= sb->bucket_size, "rule 6");
	FZ_CHECK(sb->nr_devices >= 1 && sb->nr_devices <= JRX_MAX_DEVICES,
		 "rule 7");
	FZ_CHECK(sb->dev_idx < sb->nr_devices, "rule 8");
	FZ_CHECK((sb->metadata_replicas == 1 || sb->metadata_replicas == 2) &&
		 sb->metadata_replicas <= sb->nr_devices, "rule 9");
	FZ_CHECK(!memcmp(sb->dev_uuid, sb->members[sb->dev_idx].uuid, 16),
		 "rule 10");
	FZ_CHECK(sb->nr_blacklist <= JRX_SB_MAX_BLACKLIST, "rule 11");
	for (unsigned i = 0; i < sb->nr_blacklist; i++)
		FZ_CHECK(sb->blacklist[i].start <= sb->blacklist[i].end, "rule 11");
	for (unsigned i = 0; i < sb->nr_devices; i++) {
		const struct jrx_member *m = &sb->members[i];

		FZ_CHECK(m->state == 1, "rule 12: state");
		FZ_CHECK((u128)m->first_bucket * sb->bucket_size >=
			 JRX_RESERVED_BYTES, "rule 12: first_bucket");
		FZ_CHECK(m->journal_bucket >= m->first_bucket,
			 "rule 12: journal_bucket");
		FZ_CHECK((u128)m->journal_bucket + m->journal_nr <= m->nbuckets,
			 "rule 12: journal_bucket + journal_nr <= nbuckets");
		FZ_CHECK(m->journal_nr >= 2, "rule 12: journal_nr");
	}
	for (unsigned i = 0; i < JRX_BTREE_ID_SLOTS; i++) {
		const struct jrx_btree_root *r = &sb->roots[i];

		if (!r->present)
			continue;
		FZ_CHECK(r->btree_id == i && r->level < JRX_BTREE_MAX_DEPTH &&
			 r->k.type == JRX_KEY_BTREE_PTR &&
			 r->v.dev < sb->nr_devices && r->v.blocks >= 1 &&
			 r->v.blocks <= sb->btree_node_size / JRX_BLOCK_SIZE,
			 "rule 13");
	}
	/* the derived values the readers use next */
	(void)(jrx_jset_magic(sb->uuid) ^ jrx_node_magic(sb->uuid));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };
	uint8_t flags = fz_u8(&in);
	struct jrx_sb *sb = calloc(1, sizeof(*sb));
	char why[JRX_SB_WHY];
	int ret;

	if (!sb)
		return 0;
	fz_take(&in, sb, sizeof(*sb));
	if (flags & FZ_FIX_MAGIC)
		memcpy(sb->magic, JRX_SB_MAGIC, sizeof(sb->magic));
	if ((flags & FZ_FIX_DEV_UUID) && sb->dev_idx < JRX_MAX_DEVICES)
		memcpy(sb->dev_uuid, sb->members[sb->dev_idx].uuid, 16);
	if (flags & FZ_FIX_CSUM)
		jrx_sb_set_csum(sb);

	ret = jrx_sb_validate(sb, why, sizeof(why));
	FZ_CHECK(ret == 0 || ret == -JRX_ERR_NOT_JRX || ret == -JRX_ERR_SB_CSUM ||
		 ret == -JRX_ERR_SB_INVALID, "unexpected error value");
	FZ_CHECK(!ret == !why[0], "a reason exactly when invalid");
	if (!ret)
		check_accepted(sb);
	free(sb);
	return 0;
}
