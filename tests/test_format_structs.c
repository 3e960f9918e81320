/*
 * test_format_structs.c - the on-disk structures of docs/FORMAT.md against
 * src/format: sizes and field offsets; encode (fill fields, set csum) and
 * validate round trips for the superblock (with member table and clean
 * roots), jsets with every entry type, keys of every type with their
 * values, btree node headers and bsets (and their merge by bnode_decode);
 * what each validator rejects (superblock §4.2, jset §5.4, key §6.7, node
 * and bset §7.4); the exact text form of keys; bpos order and successor;
 * CRC-32C and name-hash test vectors; magics; name tables.
 */
#include <string.h>
#include <stdio.h>
#include <stdlib.h>

#include "helpers.h"
#include "format/checksum.h"
#include "format/jset.h"
#include "format/node.h"
#include "format/sb.h"
#include "btree/bnode.h"

static uint64_t rd64(const void *p, size_t off)
{
	uint64_t v;

	memcpy(&v, (const char *)p + off, 8);
	return v;
}

static uint32_t rd32(const void *p, size_t off)
{
	uint32_t v;

	memcpy(&v, (const char *)p + off, 4);
	return v;
}

static uint16_t rd16(const void *p, size_t off)
{
	uint16_t v;

	memcpy(&v, (const char *)p + off, 2);
	return v;
}

static const uint8_t UUID[16] = {
	0x10, 0x32, 0x54, 0x76, 0x98, 0xba, 0xdc, 0xfe,
	0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
};

/* ------------------------------------------------------------ sizes */

#define OFF(type, field, want) \
	assert_int_equal(offsetof(type, field), (want))

static void test_sizes_and_offsets(void **state)
{
	(void)state;
	assert_int_equal(sizeof(struct jrx_bpos), 24);
	assert_int_equal(sizeof(struct jrx_bkey), 40);
	assert_int_equal(sizeof(struct jrx_extent_val), 24);
	assert_int_equal(sizeof(struct jrx_inode_val), 48);
	assert_int_equal(sizeof(struct jrx_dirent_val), 16);
	assert_int_equal(sizeof(struct jrx_xattr_val), 8);
	assert_int_equal(sizeof(struct jrx_alloc_val), 16);
	assert_int_equal(sizeof(struct jrx_accounting_val), 16);
	assert_int_equal(sizeof(struct jrx_btree_ptr_val), 48);
	assert_int_equal(sizeof(struct jrx_blacklist_entry), 16);
	assert_int_equal(sizeof(struct jrx_btree_root), 96);
	assert_int_equal(sizeof(struct jrx_member), 64);
	assert_int_equal(sizeof(struct jrx_sb), 8192);
	assert_int_equal(sizeof(struct jrx_jset), 40);
	assert_int_equal(sizeof(struct jrx_jset_entry), 8);
	assert_int_equal(sizeof(struct jrx_clock_val), 16);
	assert_int_equal(sizeof(struct jrx_btree_node), 80);
	assert_int_equal(sizeof(struct jrx_bset), 32);

	/* superblock, FORMAT.md §4.1 */
	OFF(struct jrx_sb, csum, 0);
	OFF(struct jrx_sb, version, 4);
	OFF(struct jrx_sb, magic, 8);
	OFF(struct jrx_sb, uuid, 24);
	OFF(struct jrx_sb, dev_uuid, 40);
	OFF(struct jrx_sb, seq, 56);
	OFF(struct jrx_sb, flags, 64);
	OFF(struct jrx_sb, dev_idx, 72);
	OFF(struct jrx_sb, nr_devices, 76);
	OFF(struct jrx_sb, block_size, 80);
	OFF(struct jrx_sb, bucket_size, 84);
	OFF(struct jrx_sb, btree_node_size, 88);
	OFF(struct jrx_sb, metadata_replicas, 92);
	OFF(struct jrx_sb, time, 96);
	OFF(struct jrx_sb, journal_seq, 104);
	OFF(struct jrx_sb, nr_blacklist, 112);
	OFF(struct jrx_sb, pad, 116);
	OFF(struct jrx_sb, blacklist, 120);
	OFF(struct jrx_sb, roots, 632);
	OFF(struct jrx_sb, members, 1400);
	OFF(struct jrx_sb, reserved, 5496);
	assert_int_equal(sizeof(((struct jrx_sb *)0)->reserved), 2696);
	/* §4.5, §4.6 */
	OFF(struct jrx_btree_root, btree_id, 0);
	OFF(struct jrx_btree_root, level, 1);
	OFF(struct jrx_btree_root, present, 2);
	OFF(struct jrx_btree_root, k, 8);
	OFF(struct jrx_btree_root, v, 48);
	OFF(struct jrx_member, uuid, 0);
	OFF(struct jrx_member, nbuckets, 16);
	OFF(struct jrx_member, first_bucket, 24);
	OFF(struct jrx_member, journal_bucket, 32);
	OFF(struct jrx_member, journal_nr, 40);
	OFF(struct jrx_member, state, 44);
	OFF(struct jrx_member, reserved, 48);
	/* §5.2, §5.3 */
	OFF(struct jrx_jset, csum, 0);
	OFF(struct jrx_jset, version, 4);
	OFF(struct jrx_jset, magic, 8);
	OFF(struct jrx_jset, seq, 16);
	OFF(struct jrx_jset, last_seq, 24);
	OFF(struct jrx_jset, flags, 32);
	OFF(struct jrx_jset, u64s, 36);
	OFF(struct jrx_jset_entry, u64s, 0);
	OFF(struct jrx_jset_entry, type, 2);
	OFF(struct jrx_jset_entry, btree_id, 3);
	OFF(struct jrx_jset_entry, level, 4);
	OFF(struct jrx_jset_entry, pad, 5);
	/* §6 */
	OFF(struct jrx_bpos, inode, 0);
	OFF(struct jrx_bpos, offset, 8);
	OFF(struct jrx_bpos, snapshot, 16);
	OFF(struct jrx_bpos, pad, 20);
	OFF(struct jrx_bkey, u64s, 0);
	OFF(struct jrx_bkey, type, 2);
	OFF(struct jrx_bkey, flags, 3);
	OFF(struct jrx_bkey, size, 4);
	OFF(struct jrx_bkey, version, 8);
	OFF(struct jrx_bkey, p, 16);
	OFF(struct jrx_extent_val, sector, 0);
	OFF(struct jrx_extent_val, dev, 8);
	OFF(struct jrx_extent_val, gen, 12);
	OFF(struct jrx_extent_val, data_tag, 16);
	OFF(struct jrx_inode_val, size, 0);
	OFF(struct jrx_inode_val, mtime, 8);
	OFF(struct jrx_inode_val, ctime, 16);
	OFF(struct jrx_inode_val, generation, 24);
	OFF(struct jrx_inode_val, mode, 32);
	OFF(struct jrx_inode_val, nlink, 36);
	OFF(struct jrx_inode_val, uid, 40);
	OFF(struct jrx_inode_val, gid, 44);
	OFF(struct jrx_dirent_val, target, 0);
	OFF(struct jrx_dirent_val, d_type, 8);
	OFF(struct jrx_dirent_val, name_len, 9);
	OFF(struct jrx_xattr_val, name_len, 0);
	OFF(struct jrx_xattr_val, value_len, 2);
	OFF(struct jrx_alloc_val, gen, 0);
	OFF(struct jrx_alloc_val, dirty_sectors, 4);
	OFF(struct jrx_alloc_val, data_type, 8);
	OFF(struct jrx_btree_ptr_val, sector, 0);
	OFF(struct jrx_btree_ptr_val, dev, 8);
	OFF(struct jrx_btree_ptr_val, nonce, 16);
	OFF(struct jrx_btree_ptr_val, min_key, 24);
	/* §7 */
	OFF(struct jrx_btree_node, csum, 0);
	OFF(struct jrx_btree_node, version, 4);
	OFF(struct jrx_btree_node, magic, 8);
	OFF(struct jrx_btree_node, nonce, 16);
	OFF(struct jrx_btree_node, btree_id, 24);
	OFF(struct jrx_btree_node, level, 25);
	OFF(struct jrx_btree_node, min_key, 32);
	OFF(struct jrx_btree_node, max_key, 56);
	OFF(struct jrx_bset, csum, 0);
	OFF(struct jrx_bset, block, 4);
	OFF(struct jrx_bset, nonce, 8);
	OFF(struct jrx_bset, journal_seq, 16);
	OFF(struct jrx_bset, u64s, 24);
	OFF(struct jrx_bset, flags, 28);

	/* constants that place things on a device, §3.1 */
	assert_int_equal(JRX_SB_PRIMARY_OFFSET, 4096);
	assert_int_equal(JRX_SB_BACKUP_OFFSET, 524288);
	assert_int_equal(JRX_RESERVED_BYTES, 1048576);
	assert_int_equal(JRX_SECTOR_SIZE, 512);
	assert_int_equal(JRX_BLOCK_SIZE, 4096);
	assert_int_equal(JRX_SNAPSHOT_DEFAULT, 0xffffffffu);
}

/* ------------------------------------------------------------ checksums */

static void test_crc32c_and_hash_vectors(void **state)
{
	(void)state;
	assert_int_equal(jrx_crc32c("123456789", 9), 0xE3069283u);
	assert_int_equal(jrx_crc32c("", 0), 0);
	/* 32 zero bytes: the iSCSI (RFC 3720) test vector */
	{
		uint8_t z[32] = { 0 };

		assert_int_equal(jrx_crc32c(z, sizeof(z)), 0x8A9136AAu);
		memset(z, 0xff, sizeof(z));
		assert_int_equal(jrx_crc32c(z, sizeof(z)), 0x62A8AB43u);
	}
	/* FORMAT.md §2.3 */
	assert_int_equal(jrx_name_hash("a", 1), 0x7363195B0F4B270Full);
	assert_int_equal(jrx_name_hash("foo", 3), 0x55B72FB203BF3EC5ull);
	assert_int_equal(jrx_name_hash("lost+found", 10), 0x050E468E8032D868ull);
	for (int i = 0; i < 1000; i++) {
		char name[32];
		int n = snprintf(name, sizeof(name), "name-%d", i);
		uint64_t h = jrx_name_hash(name, (size_t)n);

		if (h == 0 || h >= (1ull << 63)) {
			print_message("name_hash(%s) = %#llx outside [1, 2^63)\n",
				      name, (unsigned long long)h);
			fail();
		}
	}
}

static void test_magics(void **state)
{
	uint8_t zero[16] = { 0 };
	uint64_t m;

	(void)state;
	m = jrx_jset_magic(zero);
	assert_memory_equal(&m, "xrj-tesj", 8);
	m = jrx_node_magic(zero);
	assert_memory_equal(&m, "xrj-node", 8);
	assert_int_equal(jrx_jset_magic(UUID),
			 0xfedcba9876543210ull ^ JRX_JSET_MAGIC_XOR);
	assert_int_equal(jrx_node_magic(UUID),
			 0xefcdab8967452301ull ^ JRX_NODE_MAGIC_XOR);
	assert_memory_equal(JRX_SB_MAGIC, "jrx superblock\0\0", 16);
}

/* ------------------------------------------------------------ superblock */

static void make_sb(struct jrx_sb *sb, unsigned nr_devices, unsigned dev_idx)
{
	memset(sb, 0, sizeof(*sb));
	sb->version = JRX_FORMAT_VERSION;
	memcpy(sb->magic, JRX_SB_MAGIC, 16);
	memcpy(sb->uuid, UUID, 16);
	sb->seq = 7;
	sb->flags = JRX_SB_CLEAN;
	sb->nr_devices = nr_devices;
	sb->dev_idx = dev_idx;
	sb->block_size = 4096;
	sb->bucket_size = 256 * 1024;
	sb->btree_node_size = 64 * 1024;
	sb->metadata_replicas = nr_devices > 1 ? 2 : 1;
	sb->time = 1700000000;
	sb->journal_seq = 1234;
	sb->nr_blacklist = 2;
	sb->blacklist[0] = (struct jrx_blacklist_entry){ 10, 20 };
	sb->blacklist[1] = (struct jrx_blacklist_entry){ 30, 30 };
	for (unsigned i = 0; i < nr_devices; i++) {
		struct jrx_member *m = &sb->members[i];

		memset(m->uuid, 0xa0 + i, 16);
		m->nbuckets = 256 + i;
		m->first_bucket = 4;
		m->journal_bucket = 4;
		m->journal_nr = 8 + i;
		m->state = 1;
	}
	memcpy(sb->dev_uuid, sb->members[dev_idx].uuid, 16);
	for (unsigned i = 0; i < JRX_BTREE_NR; i++) {
		struct jrx_btree_root *r = &sb->roots[i];
		uint64_t kb[TH_KEY_WORDS];
		struct jrx_bkey *k = th_key_btree_ptr(kb, JRX_POS_MAX, JRX_POS_MIN,
						      i % nr_devices,
						      2048 + 128 * i,
						      0x1111111100000000ull + i);

		r->btree_id = (uint8_t)i;
		r->level = (uint8_t)(i % 3);
		r->present = 1;
		memcpy(&r->k, k, sizeof(r->k) + sizeof(r->v));
	}
	jrx_sb_set_csum(sb);
}

static void test_sb_roundtrip(void **state)
{
	struct jrx_sb *sb = malloc(sizeof(*sb)), *back = malloc(sizeof(*sb));
	uint8_t *raw = malloc(JRX_SB_SIZE);
	char why[JRX_SB_WHY];

	(void)state;
	assert_non_null(sb);
	make_sb(sb, 3, 1);
	memcpy(raw, sb, JRX_SB_SIZE);

	/* the bytes sit where FORMAT.md §4.1 says, little-endian */
	assert_int_equal(rd32(raw, 0), jrx_crc32c(raw + 8, JRX_SB_SIZE - 8));
	assert_int_equal(rd32(raw, 4), JRX_FORMAT_VERSION);
	assert_memory_equal(raw + 8, "jrx superblock\0\0", 16);
	assert_memory_equal(raw + 24, UUID, 16);
	assert_int_equal(raw[40], 0xa1);		/* dev_uuid = member 1 */
	assert_int_equal(rd64(raw, 56), 7);
	assert_int_equal(rd64(raw, 64), 1);
	assert_int_equal(rd32(raw, 72), 1);
	assert_int_equal(rd32(raw, 76), 3);
	assert_int_equal(rd32(raw, 80), 4096);
	assert_int_equal(rd32(raw, 84), 256 * 1024);
	assert_int_equal(rd32(raw, 88), 64 * 1024);
	assert_int_equal(rd32(raw, 92), 2);
	assert_int_equal(rd64(raw, 96), 1700000000);
	assert_int_equal(rd64(raw, 104), 1234);
	assert_int_equal(rd32(raw, 112), 2);
	assert_int_equal(rd64(raw, 120 + 16 + 0), 30);	/* blacklist[1].start */
	assert_int_equal(rd64(raw, 120 + 16 + 8), 30);
	/* roots[2]: btree_id, level, present, key u64s/type/pos, ptr sector */
	assert_int_equal(raw[632 + 2 * 96 + 0], 2);
	assert_int_equal(raw[632 + 2 * 96 + 1], 2);
	assert_int_equal(raw[632 + 2 * 96 + 2], 1);
	assert_int_equal(rd16(raw, 632 + 2 * 96 + 8), 11);
	assert_int_equal(raw[632 + 2 * 96 + 10], JRX_KEY_BTREE_PTR);
	assert_int_equal(rd64(raw, 632 + 2 * 96 + 8 + 16), UINT64_MAX);
	assert_int_equal(rd64(raw, 632 + 2 * 96 + 48), 2048 + 256);
	assert_int_equal(rd32(raw, 632 + 2 * 96 + 48 + 8), 2);	/* dev */
	assert_int_equal(rd64(raw, 632 + 2 * 96 + 48 + 16), 0x1111111100000002ull);
	/* members[2] */
	assert_int_equal(raw[1400 + 2 * 64], 0xa2);
	assert_int_equal(rd64(raw, 1400 + 2 * 64 + 16), 258);
	assert_int_equal(rd64(raw, 1400 + 2 * 64 + 24), 4);
	assert_int_equal(rd64(raw, 1400 + 2 * 64 + 32), 4);
	assert_int_equal(rd32(raw, 1400 + 2 * 64 + 40), 10);
	assert_int_equal(rd32(raw, 1400 + 2 * 64 + 44), 1);
	assert_int_equal(rd32(raw, 1400 + 3 * 64 + 44), 0);	/* no member 3 */

	/* decode: validate the raw bytes, fields survive */
	memcpy(back, raw, JRX_SB_SIZE);
	assert_jrx_ok(jrx_sb_validate(back, why, sizeof(why)));
	assert_string_equal(why, "");
	assert_memory_equal(back, sb, JRX_SB_SIZE);
	assert_int_equal(back->members[1].journal_nr, 9);
	assert_int_equal(back->roots[5].v.sector, 2048 + 128 * 5);
	assert_true(jrx_bpos_eq(back->roots[5].k.p, JRX_POS_MAX));

	/* a 1-device superblock with no roots and no blacklist is fine too */
	make_sb(sb, 1, 0);
	memset(sb->roots, 0, sizeof(sb->roots));
	sb->nr_blacklist = 0;
	memset(sb->blacklist, 0, sizeof(sb->blacklist));
	jrx_sb_set_csum(sb);
	assert_jrx_ok(jrx_sb_validate(sb, why, sizeof(why)));
	/* 64 members, the maximum */
	make_sb(sb, 64, 63);
	assert_jrx_ok(jrx_sb_validate(sb, why, sizeof(why)));
	free(sb);
	free(back);
	free(raw);
}

enum sb_bad {
	SB_MAGIC, SB_CSUM, SB_VERSION, SB_BLOCK, SB_BUCKET_NOT_POW2,
	SB_BUCKET_SMALL, SB_BUCKET_BIG, SB_NODE_SMALL, SB_NODE_BIG,
	SB_NODE_NOT_POW2, SB_NR_DEV_0, SB_NR_DEV_65, SB_DEV_IDX,
	SB_REPLICAS_0, SB_REPLICAS_3, SB_REPLICAS_GT_DEVS, SB_DEV_UUID,
	SB_NR_BL, SB_BL_ORDER, SB_MEMBER_STATE, SB_FIRST_BUCKET,
	SB_JOURNAL_BEFORE_FIRST, SB_JOURNAL_PAST_END, SB_JOURNAL_NR_1,
	SB_JOURNAL_WRAPS, SB_ROOT_ID, SB_ROOT_LEVEL, SB_ROOT_TYPE, SB_ROOT_DEV,
	SB_BAD_NR,
};

static const char *const sb_bad_names[SB_BAD_NR] = {
	"magic", "csum", "version", "block_size", "bucket not pow2",
	"bucket < 64K", "bucket > 64M", "node < 16K", "node > bucket",
	"node not pow2", "nr_devices 0", "nr_devices 65", "dev_idx",
	"replicas 0", "replicas 3", "replicas > devices", "dev_uuid",
	"nr_blacklist 33", "blacklist start > end", "member state",
	"first bucket in reserved area", "journal before first bucket",
	"journal past nbuckets", "journal_nr 1",
	"journal_bucket + journal_nr wraps past 2^64", "root btree_id",
	"root level 8", "root key type", "root dev",
};

static void test_sb_rejects(void **state)
{
	struct jrx_sb *sb = malloc(sizeof(*sb));

	(void)state;
	for (int c = 0; c < SB_BAD_NR; c++) {
		char why[JRX_SB_WHY];
		int want = -JRX_ERR_SB_INVALID, got;

		make_sb(sb, 2, 1);
		switch (c) {
		case SB_MAGIC:		sb->magic[3] = 'X'; want = -JRX_ERR_NOT_JRX; break;
		case SB_CSUM:		sb->time++; want = -JRX_ERR_SB_CSUM; break;
		case SB_VERSION:	sb->version = JRX_FORMAT_VERSION + 1; break;
		case SB_BLOCK:		sb->block_size = 512; break;
		case SB_BUCKET_NOT_POW2: sb->bucket_size = 3 * 65536; break;
		case SB_BUCKET_SMALL:	sb->bucket_size = 32768;
					sb->btree_node_size = 16384; break;
		case SB_BUCKET_BIG:	sb->bucket_size = 128u << 20; break;
		case SB_NODE_SMALL:	sb->btree_node_size = 8192; break;
		case SB_NODE_BIG:	sb->btree_node_size = 512 * 1024; break;
		case SB_NODE_NOT_POW2:	sb->btree_node_size = 48 * 1024; break;
		case SB_NR_DEV_0:	sb->nr_devices = 0; break;
		case SB_NR_DEV_65:	sb->nr_devices = 65; break;
		case SB_DEV_IDX:	sb->dev_idx = 2; break;
		case SB_REPLICAS_0:	sb->metadata_replicas = 0; break;
		case SB_REPLICAS_3:	sb->metadata_replicas = 3; break;
		case SB_REPLICAS_GT_DEVS:
			make_sb(sb, 1, 0);
			sb->metadata_replicas = 2;
			break;
		case SB_DEV_UUID:	sb->dev_uuid[15] ^= 1; break;
		case SB_NR_BL:		sb->nr_blacklist = 33; break;
		case SB_BL_ORDER:	sb->blacklist[1].start = 31; break;
		case SB_MEMBER_STATE:	sb->members[0].state = 0; break;
		case SB_FIRST_BUCKET:
			/* 3 buckets of 256K = 768K < 1 MiB */
			sb->members[1].first_bucket = 3;
			sb->members[1].journal_bucket = 3;
			break;
		case SB_JOURNAL_BEFORE_FIRST: sb->members[0].journal_bucket = 3; break;
		case SB_JOURNAL_PAST_END:
			sb->members[1].journal_bucket = sb->members[1].nbuckets -
				sb->members[1].journal_nr + 1;
			break;
		case SB_JOURNAL_NR_1:	sb->members[0].journal_nr = 1; break;
		case SB_JOURNAL_WRAPS:
			/* the sum wraps to 4 <= nbuckets (found by fuzz_sb) */
			sb->members[0].journal_bucket = UINT64_MAX - 3;
			sb->members[0].journal_nr = 8;
			break;
		case SB_ROOT_ID:	sb->roots[3].btree_id = 2; break;
		case SB_ROOT_LEVEL:	sb->roots[1].level = 8; break;
		case SB_ROOT_TYPE:	sb->roots[0].k.type = JRX_KEY_INODE; break;
		case SB_ROOT_DEV:	sb->roots[4].v.dev = 2; break;
		}
		if (c != SB_CSUM)
			jrx_sb_set_csum(sb);
		got = jrx_sb_validate(sb, why, sizeof(why));
		if (got != want || !*why) {
			print_message("superblock with bad %s: got %s (why: %s),"
				      " expected %s\n", sb_bad_names[c],
				      th_errname(got), why,
				      th_errname(want));
			fail();
		}
	}
	/* boundaries that are still valid */
	make_sb(sb, 2, 0);
	sb->bucket_size = 65536;
	sb->btree_node_size = 65536;
	for (int i = 0; i < 2; i++) {
		sb->members[i].first_bucket = 16;	/* exactly 1 MiB */
		sb->members[i].journal_bucket = 16;
		sb->members[i].journal_nr = 2;
		sb->members[i].nbuckets = 18;		/* journal ends at the end */
	}
	sb->blacklist[0].start = sb->blacklist[0].end = 5;
	/* entries past nr_blacklist are not looked at */
	sb->blacklist[5].start = 9;
	sb->roots[6].btree_id = 0;	/* slot 6 not present: not checked */
	/* every root node ends exactly at the member's last byte */
	for (int r = 0; r < JRX_BTREE_NR; r++)
		sb->roots[r].v.sector = 2048 + 128;
	jrx_sb_set_csum(sb);
	{
		char why[JRX_SB_WHY];

		assert_jrx_ok(jrx_sb_validate(sb, why, sizeof(why)));
	}
	sb->bucket_size = 64u << 20;
	sb->btree_node_size = 64u << 20;
	sb->members[0].first_bucket = sb->members[1].first_bucket = 1;
	sb->members[0].journal_bucket = sb->members[1].journal_bucket = 1;
	jrx_sb_set_csum(sb);
	{
		char why[JRX_SB_WHY];

		assert_jrx_ok(jrx_sb_validate(sb, why, sizeof(why)));
	}
	free(sb);
}

/* ------------------------------------------------------------ jsets */

struct jb {
	uint64_t *buf;		/* jset header + entries */
	size_t	  cap;		/* bytes */
	struct jrx_jset *j;
};

static void jb_init(struct jb *b, size_t cap)
{
	b->buf = calloc(1, cap);
	assert_non_null(b->buf);
	b->cap = cap;
	b->j = (struct jrx_jset *)b->buf;
}

static struct jrx_jset_entry *jb_entry(struct jb *b, unsigned type,
				       unsigned btree_id, unsigned level,
				       const void *payload, size_t u64s)
{
	struct jrx_jset_entry *e = jrx_jset_end(b->j);

	assert_true((size_t)((char *)(e + 1) - (char *)b->buf) + u64s * 8 <=
		    b->cap);
	memset(e, 0, sizeof(*e));
	e->u64s = (uint16_t)u64s;
	e->type = (uint8_t)type;
	e->btree_id = (uint8_t)btree_id;
	e->level = (uint8_t)level;
	if (u64s)
		memcpy(e + 1, payload, u64s * 8);
	b->j->u64s += (uint32_t)(1 + u64s);
	return e;
}

/* Append keys (back to back) as one btree_keys entry. */
static struct jrx_jset_entry *jb_keys(struct jb *b, unsigned btree_id,
				      unsigned level,
				      const struct jrx_bkey *const *keys,
				      size_t nr)
{
	uint64_t tmp[4096];
	size_t w = 0;

	for (size_t i = 0; i < nr; i++) {
		memcpy(tmp + w, keys[i], jrx_bkey_bytes(keys[i]));
		w += keys[i]->u64s;
	}
	return jb_entry(b, JRX_JE_BTREE_KEYS, btree_id, level, tmp, w);
}

static void jb_roots(struct jb *b)
{
	for (unsigned i = 0; i < JRX_BTREE_NR; i++) {
		uint64_t kb[TH_KEY_WORDS];
		struct jrx_bkey *k = th_key_btree_ptr(kb, JRX_POS_MAX, JRX_POS_MIN,
						      0, 4096 + 32 * i, 77 + i);

		jb_entry(b, JRX_JE_BTREE_ROOT, i, i % 2, k, k->u64s);
	}
}

static void jb_finish(struct jb *b, uint64_t seq, uint64_t last_seq)
{
	b->j->version = JRX_FORMAT_VERSION;
	b->j->magic = jrx_jset_magic(UUID);
	b->j->seq = seq;
	b->j->last_seq = last_seq;
	b->j->flags = 0;
	jrx_jset_set_csum(b->j);
}

static void jb_free(struct jb *b)
{
	free(b->buf);
}

static void test_jset_roundtrip(void **state)
{
	uint64_t k1[TH_KEY_WORDS], k2[TH_KEY_WORDS], k3[TH_KEY_WORDS];
	uint64_t k4[TH_KEY_WORDS], k5[TH_KEY_WORDS], k6[TH_KEY_WORDS];
	struct jrx_blacklist_entry bl[2] = { { 100, 120 }, { 200, 200 } };
	struct jrx_clock_val clock = { 1700000001, 99 };
	const struct jrx_bkey *xk[3], *ek[2], *pk[1];
	const struct jrx_jset_entry *e;
	const char *why = "unset";
	struct jb b;
	unsigned n;
	uint8_t *raw;
	size_t bytes;

	(void)state;
	jb_init(&b, 65536);
	xk[0] = th_key_xattr(k1, jrx_bpos(10, 5, JRX_SNAPSHOT_DEFAULT),
			     "user.a", "xyz", 3);
	xk[1] = th_key_xattr(k2, jrx_bpos(10, 9, JRX_SNAPSHOT_DEFAULT),
			     "user.bb", "", 0);
	xk[2] = th_key_whiteout(k3, jrx_bpos(11, 1, JRX_SNAPSHOT_DEFAULT));
	ek[0] = th_key_extent(k4, jrx_bpos(12, 64, 1), 8, 1, 4096, 3, 555);
	ek[1] = th_key_whiteout(k5, jrx_bpos(12, 72, 1));
	pk[0] = th_key_btree_ptr(k6, jrx_bpos(50, 0, 0), JRX_POS_MIN, 1, 8192, 42);
	jb_keys(&b, JRX_BTREE_XATTRS, 0, xk, 3);
	jb_keys(&b, JRX_BTREE_EXTENTS, 0, ek, 2);
	jb_keys(&b, JRX_BTREE_INODES, 1, pk, 1);
	jb_roots(&b);
	jb_entry(&b, JRX_JE_BLACKLIST, 0, 0, bl, 4);
	jb_entry(&b, JRX_JE_CLOCK, 0, 0, &clock, 2);
	jb_finish(&b, 1000, 990);

	bytes = jrx_jset_disk_bytes(b.j->u64s);
	assert_int_equal(bytes % 4096, 0);
	assert_true(bytes >= 40 + b.j->u64s * 8);
	raw = calloc(1, 65536);
	memcpy(raw, b.buf, bytes);
	/* header bytes, §5.2 */
	assert_int_equal(rd32(raw, 0), jrx_crc32c(raw + 8, 32 + b.j->u64s * 8));
	assert_int_equal(rd32(raw, 4), JRX_FORMAT_VERSION);
	assert_int_equal(rd64(raw, 8), jrx_jset_magic(UUID));
	assert_int_equal(rd64(raw, 16), 1000);
	assert_int_equal(rd64(raw, 24), 990);
	assert_int_equal(rd32(raw, 32), 0);
	assert_int_equal(rd32(raw, 36), b.j->u64s);
	/* first entry header, §5.3 */
	assert_int_equal(rd16(raw, 40), xk[0]->u64s + xk[1]->u64s + xk[2]->u64s);
	assert_int_equal(raw[42], JRX_JE_BTREE_KEYS);
	assert_int_equal(raw[43], JRX_BTREE_XATTRS);
	assert_int_equal(raw[44], 0);

	assert_jrx_ok(jrx_jset_validate((void *)raw, 65536, jrx_jset_magic(UUID),
					&why));
	assert_null(why);
	/* exactly as much room as it occupies is enough; one block less is not */
	assert_jrx_ok(jrx_jset_validate((void *)raw, bytes, jrx_jset_magic(UUID),
					&why));
	assert_jrx_err(jrx_jset_validate((void *)raw, bytes - 4096,
					 jrx_jset_magic(UUID), &why),
		       -JRX_ERR_JSET_INVALID);

	/* walk the entries back: types, ids, levels and payloads survive */
	n = 0;
	jrx_for_each_jset_entry(e, (struct jrx_jset *)raw) {
		const struct jrx_bkey *k;
		unsigned nk = 0;

		switch (n) {
		case 0:
			assert_int_equal(e->type, JRX_JE_BTREE_KEYS);
			assert_int_equal(e->btree_id, JRX_BTREE_XATTRS);
			jrx_for_each_entry_key(k, e) {
				assert_true(nk < 3);
				assert_memory_equal(k, xk[nk], jrx_bkey_bytes(xk[nk]));
				nk++;
			}
			assert_int_equal(nk, 3);
			break;
		case 1:
			assert_int_equal(e->btree_id, JRX_BTREE_EXTENTS);
			jrx_for_each_entry_key(k, e) {
				assert_true(nk < 2);
				assert_memory_equal(k, ek[nk], jrx_bkey_bytes(ek[nk]));
				nk++;
			}
			assert_int_equal(nk, 2);
			break;
		case 2:
			assert_int_equal(e->btree_id, JRX_BTREE_INODES);
			assert_int_equal(e->level, 1);
			assert_memory_equal(jrx_je_keys(e), pk[0], 88);
			break;
		case 3: case 4: case 5: case 6: case 7: case 8:
			assert_int_equal(e->type, JRX_JE_BTREE_ROOT);
			assert_int_equal(e->btree_id, n - 3);
			assert_int_equal(e->level, (n - 3) % 2);
			assert_int_equal(e->u64s, 11);
			assert_int_equal(((struct jrx_btree_ptr_val *)
					  jrx_bkey_val(jrx_je_keys(e)))->sector,
					 4096 + 32 * (n - 3));
			break;
		case 9:
			assert_int_equal(e->type, JRX_JE_BLACKLIST);
			assert_int_equal(e->u64s, 4);
			assert_memory_equal(e + 1, bl, sizeof(bl));
			break;
		case 10:
			assert_int_equal(e->type, JRX_JE_CLOCK);
			assert_memory_equal(e + 1, &clock, sizeof(clock));
			break;
		default:
			fail_msg("unexpected entry %u", n);
		}
		n++;
	}
	assert_int_equal(n, 11);
	assert_ptr_equal(e, jrx_jset_end((struct jrx_jset *)raw));

	/* an empty jset (no entries) is valid and takes one block */
	jb_free(&b);
	jb_init(&b, 4096);
	jb_finish(&b, 1, 1);
	assert_int_equal(jrx_jset_disk_bytes(0), 4096);
	assert_jrx_ok(jrx_jset_validate(b.j, 4096, jrx_jset_magic(UUID), &why));
	assert_int_equal(jrx_jset_disk_bytes(507), 4096);	/* 40 + 4056 */
	assert_int_equal(jrx_jset_disk_bytes(508), 8192);
	assert_string_equal(jrx_je_type_name(JRX_JE_BTREE_KEYS), "btree_keys");
	assert_string_equal(jrx_je_type_name(JRX_JE_BTREE_ROOT), "btree_root");
	assert_string_equal(jrx_je_type_name(JRX_JE_BLACKLIST), "blacklist");
	assert_string_equal(jrx_je_type_name(JRX_JE_CLOCK), "clock");
	assert_string_equal(jrx_je_type_name(9), "unknown");
	jb_free(&b);
	free(raw);
}

enum jset_bad {
	J_MAGIC, J_CSUM, J_VERSION, J_SEQ0, J_LAST_ABOVE, J_PAST_BUCKET,
	J_TINY_AVAIL, J_ENTRY_PAST_END, J_ENTRY_TYPE0, J_ENTRY_TYPE5,
	J_KEYS_BTREE6, J_KEYS_LEVEL8, J_KEYS_BAD_KEY, J_KEYS_WRONG_TYPE,
	J_KEYS_INTERIOR_LEAF, J_KEY_PAST_ENTRY, J_ROOT_TWO_KEYS,
	J_ROOT_NOT_PTR, J_BLACKLIST_ODD, J_CLOCK_1, J_CLOCK_3,
	J_BAD_NR,
};

static void test_jset_rejects(void **state)
{
	static const char *const names[J_BAD_NR] = {
		"magic", "csum", "version", "seq 0", "last_seq > seq",
		"past bucket", "avail < 40", "entry past end", "entry type 0",
		"entry type 5", "keys btree 6", "keys level 8", "bad key",
		"key of the wrong type", "leaf key at level 1",
		"key past its entry", "root entry of two keys",
		"root entry not a btree_ptr", "blacklist odd", "clock 1 word",
		"clock 3 words",
	};
	uint64_t magic = jrx_jset_magic(UUID);

	(void)state;
	for (int c = 0; c < J_BAD_NR; c++) {
		uint64_t kb[TH_KEY_WORDS], kb2[TH_KEY_WORDS];
		uint64_t words[32] = { 0 };
		const struct jrx_bkey *k;
		struct jrx_jset_entry *e;
		size_t avail = 65536;
		int want = -JRX_ERR_JSET_INVALID, got;
		const char *why = NULL;
		uint64_t seq = 10, last = 5;
		struct jb b;

		jb_init(&b, 65536);
		k = th_key_inode(kb, jrx_bpos(1, 0, JRX_SNAPSHOT_DEFAULT),
				 &(struct jrx_inode_val){ .mode = 0100644 });
		jb_keys(&b, JRX_BTREE_INODES, 0, &k, 1);	/* a good entry */
		switch (c) {
		case J_ENTRY_PAST_END:
			e = jb_entry(&b, JRX_JE_CLOCK, 0, 0, words, 2);
			e->u64s = 3;
			break;
		case J_ENTRY_TYPE0:
			jb_entry(&b, 0, 0, 0, words, 2);
			break;
		case J_ENTRY_TYPE5:
			jb_entry(&b, 5, 0, 0, words, 2);
			break;
		case J_KEYS_BTREE6:
			jb_keys(&b, 6, 0, &k, 1);
			break;
		case J_KEYS_LEVEL8:
			k = th_key_btree_ptr(kb2, JRX_POS_MAX, JRX_POS_MIN, 0, 0, 0);
			jb_keys(&b, JRX_BTREE_INODES, 8, &k, 1);
			break;
		case J_KEYS_BAD_KEY:
			k = th_key_extent(kb2, jrx_bpos(1, 8, 0), 0, 0, 0, 0, 0);
			jb_keys(&b, JRX_BTREE_EXTENTS, 0, &k, 1);
			break;
		case J_KEYS_WRONG_TYPE:
			jb_keys(&b, JRX_BTREE_XATTRS, 0, &k, 1);
			break;
		case J_KEYS_INTERIOR_LEAF:
			jb_keys(&b, JRX_BTREE_INODES, 1, &k, 1);
			break;
		case J_KEY_PAST_ENTRY:
			/* entry holds 7 words, but its key claims 11 */
			memcpy(words, kb, 40);
			((struct jrx_bkey *)words)->type = JRX_KEY_BTREE_PTR;
			((struct jrx_bkey *)words)->u64s = 11;
			jb_entry(&b, JRX_JE_BTREE_KEYS, JRX_BTREE_INODES, 1, words, 7);
			jb_entry(&b, JRX_JE_CLOCK, 0, 0, words + 16, 2);
			break;
		case J_ROOT_TWO_KEYS: {
			uint64_t two[22];

			k = th_key_btree_ptr(kb2, JRX_POS_MAX, JRX_POS_MIN, 0, 0, 0);
			memcpy(two, k, 88);
			memcpy(two + 11, k, 88);
			jb_entry(&b, JRX_JE_BTREE_ROOT, 0, 0, two, 22);
			break;
		}
		case J_ROOT_NOT_PTR:
			/* a whiteout padded to the size of a btree_ptr */
			k = th_key_whiteout(kb2, JRX_POS_MAX);
			((struct jrx_bkey *)kb2)->u64s = 11;
			memset(kb2 + 5, 0, 48);
			jb_entry(&b, JRX_JE_BTREE_ROOT, 0, 0, kb2, 11);
			break;
		case J_BLACKLIST_ODD:
			jb_entry(&b, JRX_JE_BLACKLIST, 0, 0, words, 3);
			break;
		case J_CLOCK_1:
			jb_entry(&b, JRX_JE_CLOCK, 0, 0, words, 1);
			break;
		case J_CLOCK_3:
			jb_entry(&b, JRX_JE_CLOCK, 0, 0, words, 3);
			break;
		case J_SEQ0:
			seq = 0;
			last = 0;
			break;
		case J_LAST_ABOVE:
			last = 11;
			break;
		default:
			break;
		}
		jb_finish(&b, seq, last);
		switch (c) {
		case J_MAGIC:
			b.j->magic ^= 1ull << 40;
			break;
		case J_CSUM:
			b.j->csum ^= 0x10;
			want = -JRX_ERR_JSET_CSUM;
			break;
		case J_VERSION:
			b.j->version = JRX_FORMAT_VERSION + 1;	/* not covered by csum */
			break;
		case J_PAST_BUCKET:
			avail = 4096;
			b.j->u64s = 600;	/* 4840 bytes > one block */
			jrx_jset_set_csum(b.j);
			break;
		case J_TINY_AVAIL:
			avail = 39;
			break;
		}
		got = jrx_jset_validate(b.j, avail, magic, &why);
		if (got != want || !*why) {
			print_message("jset with %s: got %s (why: %s), expected %s\n",
				      names[c], th_errname(got), why,
				      th_errname(want));
			fail();
		}
		jb_free(&b);
	}
}

/* ------------------------------------------------------------ keys */

struct key_case {
	const char *name;
	unsigned btree, level;
	unsigned u64s;		/* expected size */
	const char *text;	/* expected jrx_bkey_to_text */
};

static void test_keys_every_type(void **state)
{
	uint64_t kb[8][TH_KEY_WORDS];
	const struct jrx_bkey *k[8];
	struct jrx_inode_val iv = {
		.size = 1234, .mtime = 10, .ctime = 20, .generation = 5,
		.mode = 0100644, .nlink = 1, .uid = 1000, .gid = 100,
	};
	static const struct key_case cases[8] = {
		{ "whiteout", JRX_BTREE_ALLOC, 2, 5, "5:6:7 whiteout" },
		{ "extent", JRX_BTREE_EXTENTS, 0, 8,
		  "4096:16:4294967295 extent size=8 dev=1 sector=2048 gen=3 tag=77" },
		{ "inode", JRX_BTREE_INODES, 0, 11,
		  "4097:0:4294967295 inode size=1234 mode=100644 nlink=1 uid=1000"
		  " gid=100 mtime=10 ctime=20 gen=5" },
		{ "dirent", JRX_BTREE_DIRENTS, 0, 8,
		  "4096:123:4294967295 dirent target=4097 type=8 name=hello" },
		{ "xattr", JRX_BTREE_XATTRS, 0, 8,
		  "4097:99:4294967295 xattr name=user.a value=0102ff" },
		{ "alloc", JRX_BTREE_ALLOC, 0, 7,
		  "0:12:0 alloc gen=2 type=btree dirty_sectors=128" },
		{ "accounting", JRX_BTREE_ACCOUNTING, 0, 7,
		  "1:259:0 accounting version=42 d0=1 d1=-5" },
		{ "btree_ptr", JRX_BTREE_INODES, 1, 11,
		  "POS_MAX btree_ptr"
		  " dev=0 sector=4096 blocks=1 nonce=00000000deadbeef min=3:4:5" },
	};

	(void)state;
	k[0] = th_key_whiteout(kb[0], jrx_bpos(5, 6, 7));
	k[1] = th_key_extent(kb[1], jrx_bpos(4096, 16, JRX_SNAPSHOT_DEFAULT), 8, 1,
			     2048, 3, 77);
	k[2] = th_key_inode(kb[2], jrx_bpos(4097, 0, JRX_SNAPSHOT_DEFAULT), &iv);
	k[3] = th_key_dirent(kb[3], jrx_bpos(4096, 123, JRX_SNAPSHOT_DEFAULT),
			     4097, 8, "hello");
	k[4] = th_key_xattr(kb[4], jrx_bpos(4097, 99, JRX_SNAPSHOT_DEFAULT),
			    "user.a", "\x01\x02\xff", 3);
	k[5] = th_key_alloc(kb[5], jrx_bpos(0, 12, 0), 2, 128, JRX_DATA_BTREE);
	k[6] = th_key_accounting(kb[6], jrx_bpos(1, 1 << 8 | 3, 0), 42, 1, -5);
	k[7] = th_key_btree_ptr(kb[7], JRX_POS_MAX, jrx_bpos(3, 4, 5), 0, 4096,
				0xdeadbeef);

	for (int i = 0; i < 8; i++) {
		uint64_t raw[TH_KEY_WORDS];
		const struct jrx_bkey *rk = (const void *)raw;
		const char *why = "unset";
		char text[2048];

		assert_int_equal(k[i]->type, i);
		if (k[i]->u64s != cases[i].u64s)
			fail_msg("%s key: u64s %u, expected %u", cases[i].name,
				 k[i]->u64s, cases[i].u64s);
		/* round trip through raw bytes: header fields at §6.2 offsets */
		memcpy(raw, k[i], jrx_bkey_bytes(k[i]));
		assert_int_equal(rd16(raw, 0), cases[i].u64s);
		assert_int_equal(((uint8_t *)raw)[2], i);
		assert_int_equal(((uint8_t *)raw)[3], 0);
		assert_int_equal(rd32(raw, 4), k[i]->size);
		assert_int_equal(rd64(raw, 8), k[i]->version);
		assert_int_equal(rd64(raw, 16), k[i]->p.inode);
		assert_int_equal(rd64(raw, 24), k[i]->p.offset);
		assert_int_equal(rd32(raw, 32), k[i]->p.snapshot);
		assert_int_equal(rd32(raw, 36), 0);
		assert_jrx_ok(jrx_bkey_validate(rk, jrx_bkey_bytes(rk),
						cases[i].btree, cases[i].level,
						&why));
		assert_null(why);
		jrx_bkey_to_text(text, sizeof(text), rk);
		assert_string_equal(text, cases[i].text);
	}
	/* value bytes at §6.4 offsets */
	assert_int_equal(rd64(kb[1], 40), 2048);		/* extent sector */
	assert_int_equal(rd32(kb[1], 48), 1);			/* dev */
	assert_int_equal(rd32(kb[1], 52), 3);			/* gen */
	assert_int_equal(rd64(kb[1], 56), 77);			/* tag */
	assert_int_equal(rd32(kb[2], 40 + 32), 0100644);	/* inode mode */
	assert_int_equal(rd32(kb[2], 40 + 44), 100);		/* gid */
	assert_int_equal(rd64(kb[3], 40), 4097);		/* dirent target */
	assert_int_equal(((uint8_t *)kb[3])[49], 5);		/* name_len */
	assert_memory_equal((char *)kb[3] + 56, "hello\0\0\0", 8);
	assert_int_equal(((uint8_t *)kb[4])[40], 6);		/* xattr name_len */
	assert_int_equal(rd16(kb[4], 42), 3);			/* value_len */
	assert_memory_equal((char *)kb[4] + 48, "user.a\x01\x02\xff\0", 10);
	assert_int_equal(((uint8_t *)kb[5])[48], JRX_DATA_BTREE);
	assert_int_equal(rd64(kb[6], 48), (uint64_t)-5);
	assert_int_equal(rd64(kb[7], 40 + 16), 0xdeadbeef);	/* nonce */
	assert_int_equal(rd64(kb[7], 40 + 24), 3);		/* min inode */

	/* a whiteout is valid in any btree at any level */
	for (unsigned b = 0; b < JRX_BTREE_NR; b++)
		for (unsigned l = 0; l < JRX_BTREE_MAX_DEPTH; l++) {
			const char *why;

			assert_jrx_ok(jrx_bkey_validate(k[0], 40, b, l, &why));
		}
	/* a btree_ptr is valid at every level > 0 of every btree */
	for (unsigned b = 0; b < JRX_BTREE_NR; b++)
		for (unsigned l = 1; l < JRX_BTREE_MAX_DEPTH; l++) {
			const char *why;

			assert_jrx_ok(jrx_bkey_validate(k[7], 88, b, l, &why));
		}
}

static void test_key_text_edges(void **state)
{
	uint64_t kb[TH_KEY_WORDS];
	uint8_t val[300];
	char text[2048], want[2048];
	const struct jrx_bkey *k;
	size_t n;

	(void)state;
	n = jrx_bpos_to_text(text, sizeof(text), JRX_POS_MAX);
	assert_string_equal(text, "POS_MAX");
	assert_int_equal(n, strlen(text));
	jrx_bpos_to_text(text, sizeof(text), JRX_POS_MIN);
	assert_string_equal(text, "0:0:0");

	/* a long xattr value is cut at 256 bytes and marked "..." */
	for (int i = 0; i < 300; i++)
		val[i] = (uint8_t)i;
	k = th_key_xattr(kb, jrx_bpos(1, 2, 3), "n", val, 300);
	jrx_bkey_to_text(text, sizeof(text), k);
	n = (size_t)snprintf(want, sizeof(want), "1:2:3 xattr name=n value=");
	for (int i = 0; i < 256; i++)
		n += (size_t)snprintf(want + n, sizeof(want) - n, "%02x", i);
	snprintf(want + n, sizeof(want) - n, "...");
	assert_string_equal(text, want);

	/* an empty xattr value prints as nothing */
	k = th_key_xattr(kb, jrx_bpos(1, 2, 3), "user.e", NULL, 0);
	jrx_bkey_to_text(text, sizeof(text), k);
	assert_string_equal(text, "1:2:3 xattr name=user.e value=");

	/* an alloc key of each data type */
	{
		static const char *const types[] = {
			"free", "sb", "journal", "btree", "user",
		};

		for (unsigned t = 0; t < 5; t++) {
			snprintf(want, sizeof(want), "1:7:0 alloc gen=0 type=%s"
				 " dirty_sectors=0", types[t]);
			k = th_key_alloc(kb, jrx_bpos(1, 7, 0), 0, 0, (uint8_t)t);
			jrx_bkey_to_text(text, sizeof(text), k);
			assert_string_equal(text, want);
		}
	}
	/* returns the full length even when the buffer is short */
	k = th_key_whiteout(kb, jrx_bpos(5, 6, 7));
	n = jrx_bkey_to_text(text, 4, k);
	assert_int_equal(n, strlen("5:6:7 whiteout"));
	assert_string_equal(text, "5:6");
}

enum key_bad {
	K_AVAIL_39, K_U64S_4, K_U64S_513, K_PAST_AVAIL, K_TYPE_8, K_FLAGS,
	K_POS_PAD, K_BTREE_6, K_LEVEL_8, K_VAL_SMALL, K_INTERIOR_NOT_PTR,
	K_WRONG_BTREE, K_PTR_AT_LEAF, K_EXTENT_SIZE0, K_EXTENT_BEFORE_0,
	K_SIZE_NON_EXTENT, K_VERSION_NON_ACCT, K_DIRENT_NAME0,
	K_DIRENT_NAME_PAST, K_XATTR_NAME0, K_XATTR_VALUE_PAST, K_ALLOC_TYPE,
	K_BAD_NR,
};

static void test_key_rejects(void **state)
{
	static const char *const names[K_BAD_NR] = {
		"avail 39", "u64s 4", "u64s 513", "u64s past avail", "type 8",
		"flags", "pos pad", "btree 6", "level 8", "value too small",
		"interior key not a btree_ptr", "key type of another btree",
		"btree_ptr at level 0", "extent size 0",
		"extent starting before 0", "size on a non-extent",
		"version on a non-accounting key", "dirent name_len 0",
		"dirent name past the value", "xattr name_len 0",
		"xattr value past the value", "alloc data type 5",
	};
	struct jrx_inode_val iv = { .mode = 0100644, .nlink = 1 };

	(void)state;
	for (int c = 0; c < K_BAD_NR; c++) {
		uint64_t kb[TH_KEY_WORDS + 8] = { 0 };
		struct jrx_bkey *k = th_key_inode(kb, jrx_bpos(1, 0, 0), &iv);
		unsigned btree = JRX_BTREE_INODES, level = 0;
		size_t avail = 88;
		const char *why = NULL;
		int got;

		switch (c) {
		case K_AVAIL_39:	avail = 39; break;
		case K_U64S_4:		k->u64s = 4; break;
		case K_U64S_513:	k->u64s = 513; avail = 513 * 8; break;
		case K_PAST_AVAIL:	avail = 80; break;
		case K_TYPE_8:		k->type = 8; break;
		case K_FLAGS:		k->flags = 1; break;
		case K_POS_PAD:		k->p.pad = 1; break;
		case K_BTREE_6:		btree = 6; break;
		case K_LEVEL_8:		level = 8; break;
		case K_VAL_SMALL:	k->u64s = 10; avail = 80; break;
		case K_INTERIOR_NOT_PTR: level = 1; break;
		case K_WRONG_BTREE:	btree = JRX_BTREE_XATTRS; break;
		case K_PTR_AT_LEAF:
			k = th_key_btree_ptr(kb, JRX_POS_MAX, JRX_POS_MIN, 0, 0, 0);
			break;
		case K_EXTENT_SIZE0:
			k = th_key_extent(kb, jrx_bpos(1, 8, 0), 0, 0, 0, 0, 0);
			btree = JRX_BTREE_EXTENTS;
			break;
		case K_EXTENT_BEFORE_0:
			k = th_key_extent(kb, jrx_bpos(1, 8, 0), 9, 0, 0, 0, 0);
			btree = JRX_BTREE_EXTENTS;
			break;
		case K_SIZE_NON_EXTENT:	k->size = 1; break;
		case K_VERSION_NON_ACCT: k->version = 1; break;
		case K_DIRENT_NAME0:
			k = th_key_dirent(kb, jrx_bpos(1, 5, 0), 2, 1, "x");
			((struct jrx_dirent_val *)jrx_bkey_val(k))->name_len = 0;
			btree = JRX_BTREE_DIRENTS;
			break;
		case K_DIRENT_NAME_PAST:
			/* value is 24 bytes: room for 8 name bytes, not 9 */
			k = th_key_dirent(kb, jrx_bpos(1, 5, 0), 2, 1, "abcdefgh");
			assert_int_equal(k->u64s, 8);
			((struct jrx_dirent_val *)jrx_bkey_val(k))->name_len = 9;
			btree = JRX_BTREE_DIRENTS;
			break;
		case K_XATTR_NAME0:
			k = th_key_xattr(kb, jrx_bpos(1, 5, 0), "n", "v", 1);
			((struct jrx_xattr_val *)jrx_bkey_val(k))->name_len = 0;
			btree = JRX_BTREE_XATTRS;
			break;
		case K_XATTR_VALUE_PAST:
			/* 8 + 1 + 7 = 16 bytes of value: one more is past */
			k = th_key_xattr(kb, jrx_bpos(1, 5, 0), "n", "1234567", 7);
			assert_int_equal(k->u64s, 7);
			((struct jrx_xattr_val *)jrx_bkey_val(k))->value_len = 8;
			btree = JRX_BTREE_XATTRS;
			break;
		case K_ALLOC_TYPE:
			k = th_key_alloc(kb, jrx_bpos(0, 5, 0), 0, 0, 5);
			btree = JRX_BTREE_ALLOC;
			break;
		}
		if (c >= K_PTR_AT_LEAF && c != K_SIZE_NON_EXTENT &&
		    c != K_VERSION_NON_ACCT)
			avail = jrx_bkey_bytes(k);
		got = jrx_bkey_validate(k, avail, btree, level, &why);
		if (got != -JRX_ERR_KEY_INVALID || !why) {
			print_message("key with %s: got %s (why: %s), expected"
				      " JRX_ERR_KEY_INVALID\n", names[c],
				      th_errname(got), why ? why : "(null)");
			fail();
		}
	}

	/* the valid side of each boundary */
	{
		uint64_t kb[TH_KEY_WORDS];
		struct jrx_bkey *k;
		const char *why;

		/* extent covering [0, 8): size == offset */
		k = th_key_extent(kb, jrx_bpos(1, 8, 0), 8, 0, 0, 0, 0);
		assert_jrx_ok(jrx_bkey_validate(k, 64, JRX_BTREE_EXTENTS, 0, &why));
		k->size = UINT32_MAX;
		k->p.offset = UINT64_MAX;
		assert_jrx_ok(jrx_bkey_validate(k, 64, JRX_BTREE_EXTENTS, 0, &why));
		/* dirent name exactly filling the value */
		k = th_key_dirent(kb, jrx_bpos(1, 5, 0), 2, 1, "abcdefgh");
		assert_jrx_ok(jrx_bkey_validate(k, 64, JRX_BTREE_DIRENTS, 0, &why));
		/* xattr name + value exactly filling the value */
		k = th_key_xattr(kb, jrx_bpos(1, 5, 0), "n", "1234567", 7);
		assert_jrx_ok(jrx_bkey_validate(k, 56, JRX_BTREE_XATTRS, 0, &why));
		/* the biggest key: 512 words */
		k = th_key_xattr(kb, jrx_bpos(1, 5, 0), "n", NULL, 0);
		((struct jrx_xattr_val *)jrx_bkey_val(k))->value_len = 4096 - 49;
		k->u64s = 512;
		assert_jrx_ok(jrx_bkey_validate(k, 4096, JRX_BTREE_XATTRS, 0, &why));
		/* alloc data type 4 (user) */
		k = th_key_alloc(kb, jrx_bpos(0, 5, 0), 0, 0, JRX_DATA_USER);
		assert_jrx_ok(jrx_bkey_validate(k, 56, JRX_BTREE_ALLOC, 0, &why));
		/* accounting keys carry a version */
		k = th_key_accounting(kb, jrx_bpos(2, 0, 0), UINT64_MAX, 1, 0);
		assert_jrx_ok(jrx_bkey_validate(k, 56, JRX_BTREE_ACCOUNTING, 0, &why));
		/* a value longer than its struct is fine (zero tail) */
		k = th_key_inode(kb, jrx_bpos(1, 0, 0), &iv);
		k->u64s = 20;
		memset(kb + 11, 0, 9 * 8);
		assert_jrx_ok(jrx_bkey_validate(k, 160, JRX_BTREE_INODES, 0, &why));
	}
}

/* ------------------------------------------------------------ nodes */

#define NODE_SIZE 16384

static size_t put_bset(uint8_t *node, size_t off, uint64_t nonce,
		       uint64_t journal_seq, const struct jrx_bkey *const *keys,
		       size_t nr)
{
	struct jrx_bset *b = (void *)(node + off);
	char *p = (char *)(b + 1);

	memset(b, 0, sizeof(*b));
	b->block = (uint32_t)(off / 4096);
	b->nonce = nonce;
	b->journal_seq = journal_seq;
	for (size_t i = 0; i < nr; i++) {
		memcpy(p, keys[i], jrx_bkey_bytes(keys[i]));
		p += jrx_bkey_bytes(keys[i]);
		b->u64s += keys[i]->u64s;
	}
	jrx_bset_set_csum(b);
	return off + jrx_bset_bytes(b);
}

static void make_node_hdr(uint8_t *node, uint64_t nonce, struct jrx_bpos min,
			  struct jrx_bpos max)
{
	struct jrx_btree_node *h = (void *)node;

	memset(h, 0, sizeof(*h));
	h->version = JRX_FORMAT_VERSION;
	h->magic = jrx_node_magic(UUID);
	h->nonce = nonce;
	h->btree_id = JRX_BTREE_XATTRS;
	h->level = 0;
	h->min_key = min;
	h->max_key = max;
	jrx_node_set_csum(h);
}

static void test_node_roundtrip(void **state)
{
	uint8_t *node = calloc(1, NODE_SIZE);
	uint64_t kb[6][TH_KEY_WORDS];
	const struct jrx_bkey *b0[3], *b1[3];
	const uint64_t nonce = 0x0123456789abcdefull;
	const uint64_t magic = jrx_node_magic(UUID);
	struct jrx_bnode *n = jrx_bnode_alloc();
	const char *why = "unset";
	size_t end0, off1, end1;
	char text[512];

	(void)state;
	make_node_hdr(node, nonce, jrx_bpos(10, 0, 0), jrx_bpos(20, 0, 0));
	b0[0] = th_key_xattr(kb[0], jrx_bpos(10, 1, 0), "a", "1", 1);
	b0[1] = th_key_xattr(kb[1], jrx_bpos(11, 1, 0), "b", "22", 2);
	b0[2] = th_key_xattr(kb[2], jrx_bpos(12, 1, 0), "c", "333", 3);
	end0 = put_bset(node, 80, nonce, 5, b0, 3);
	off1 = jrx_bset_next_offset(end0);
	assert_int_equal(off1, 4096);
	/* second bset: overwrite b, delete c, add d */
	b1[0] = th_key_xattr(kb[3], jrx_bpos(11, 1, 0), "b", "new", 3);
	b1[1] = th_key_whiteout(kb[4], jrx_bpos(12, 1, 0));
	b1[2] = th_key_xattr(kb[5], jrx_bpos(20, 0, 0), "d", "", 0);
	end1 = put_bset(node, off1, nonce, 9, b1, 3);

	/* header bytes, §7.1, and bset bytes, §7.2 */
	assert_int_equal(rd32(node, 0), jrx_crc32c(node + 8, 72));
	assert_int_equal(rd32(node, 4), JRX_FORMAT_VERSION);
	assert_int_equal(rd64(node, 8), magic);
	assert_int_equal(rd64(node, 16), nonce);
	assert_int_equal(node[24], JRX_BTREE_XATTRS);
	assert_int_equal(node[25], 0);
	assert_int_equal(rd64(node, 32), 10);
	assert_int_equal(rd64(node, 56), 20);
	assert_int_equal(rd32(node, 80 + 4), 0);		/* block */
	assert_int_equal(rd64(node, 80 + 8), nonce);
	assert_int_equal(rd64(node, 80 + 16), 5);
	assert_int_equal(rd32(node, 80 + 24), (end0 - 80 - 32) / 8);
	assert_int_equal(rd32(node, 80 + 0),
			 jrx_crc32c(node + 88, end0 - 88));
	assert_int_equal(rd32(node, 4096 + 4), 1);		/* block 1 */
	assert_int_equal(rd64(node, 4096 + 16), 9);

	assert_jrx_ok(jrx_node_hdr_validate((void *)node, magic, &why));
	assert_null(why);
	assert_jrx_ok(jrx_bset_validate((void *)(node + 80), 80, NODE_SIZE, nonce,
					&why));
	assert_jrx_ok(jrx_bset_validate((void *)(node + off1), off1, NODE_SIZE,
					nonce, &why));
	/* nothing valid past the second bset: that is the end of the node */
	assert_jrx_err(jrx_bset_validate((void *)(node + 8192), 8192, NODE_SIZE,
					 nonce, &why), -JRX_ERR_NODE_INVALID);

	/* merged view: later bset wins, the whiteout deletes */
	assert_jrx_ok(jrx_bnode_decode(n, node, NODE_SIZE, 8192, magic, NULL,
				       &why));
	assert_int_equal(n->nonce, nonce);
	assert_int_equal(n->bsets, 2);
	assert_int_equal(n->written, end1);
	assert_int_equal(n->nr, 3);
	assert_string_equal(th_key_text(n->keys[0], text, sizeof(text)),
			    "10:1:0 xattr name=a value=31");
	assert_string_equal(th_key_text(n->keys[1], text, sizeof(text)),
			    "11:1:0 xattr name=b value=6e6577");
	assert_string_equal(th_key_text(n->keys[2], text, sizeof(text)),
			    "20:0:0 xattr name=d value=");
	assert_int_equal(n->live_u64s, b0[0]->u64s + b1[0]->u64s + b1[2]->u64s);

	/*
	 * The pointer's written length bounds the walk (§7.4): one block
	 * is the first bset alone, whatever follows it; three blocks make
	 * the invalid third block part of the node, which is then invalid.
	 */
	assert_jrx_ok(jrx_bnode_decode(n, node, NODE_SIZE, 4096, magic, NULL,
				       &why));
	assert_int_equal(n->bsets, 1);
	assert_int_equal(n->written, end0);
	assert_string_equal(th_key_text(n->keys[2], text, sizeof(text)),
			    "12:1:0 xattr name=c value=333333");
	assert_jrx_err(jrx_bnode_decode(n, node, NODE_SIZE, 3 * 4096, magic,
					NULL, &why), -JRX_ERR_NODE_INVALID);
	assert_string_equal(why, "bset nonce does not match the node");
	assert_jrx_err(jrx_bnode_decode(n, node, NODE_SIZE, 0, magic, NULL,
					&why), -JRX_ERR_NODE_INVALID);
	assert_jrx_err(jrx_bnode_decode(n, node, NODE_SIZE, NODE_SIZE + 4096,
					magic, NULL, &why), -JRX_ERR_NODE_INVALID);

	/* a bset longer than the written part: the node is invalid */
	{
		uint8_t *big = calloc(1, NODE_SIZE);
		uint64_t (*kw)[TH_KEY_WORDS] = calloc(64, sizeof(*kw));
		const struct jrx_bkey *kv[64];
		size_t end;

		make_node_hdr(big, nonce, jrx_bpos(10, 0, 0), jrx_bpos(20, 0, 0));
		for (unsigned i = 0; i < 64; i++)
			kv[i] = th_key_xattr(kw[i], jrx_bpos(10, 100 + i, 0),
					     "name", "a value of some length", 22);
		end = put_bset(big, 80, nonce, 5, kv, 64);
		assert_true(end > 4096 && end <= 8192);
		assert_jrx_err(jrx_bnode_decode(n, big, NODE_SIZE, 4096, magic,
						NULL, &why), -JRX_ERR_NODE_INVALID);
		assert_string_equal(why, "bset u64s runs past the node's written part");
		assert_jrx_ok(jrx_bnode_decode(n, big, NODE_SIZE, 8192, magic,
					       NULL, &why));
		assert_int_equal(n->nr, 64);
		free(kw);
		free(big);
	}

	/* a blacklisted bset is skipped, the walk goes on past it */
	{
		struct jrx_blacklist_entry e = { 9, 9 };
		struct jrx_blacklist bl = { &e, 1 };

		assert_jrx_ok(jrx_bnode_decode(n, node, NODE_SIZE, 8192, magic,
					       &bl, &why));
		assert_int_equal(n->nr, 3);
		assert_string_equal(th_key_text(n->keys[1], text, sizeof(text)),
				    "11:1:0 xattr name=b value=3232");
		assert_string_equal(th_key_text(n->keys[2], text, sizeof(text)),
				    "12:1:0 xattr name=c value=333333");
		assert_true(jrx_blacklisted(&bl, 9));
		assert_false(jrx_blacklisted(&bl, 8));
		assert_false(jrx_blacklisted(&bl, 10));
	}

	/*
	 * a node whose one bset is empty decodes to no keys (keys[] never
	 * allocated) and encodes again (found by fuzz_node under UBSan:
	 * the encoder took NULL + 0)
	 */
	{
		uint8_t *empty = calloc(1, NODE_SIZE), *out = malloc(NODE_SIZE);
		struct jrx_bnode *e = jrx_bnode_alloc();

		assert_non_null(empty);
		assert_non_null(out);
		assert_non_null(e);
		make_node_hdr(empty, nonce, jrx_bpos(10, 0, 0), jrx_bpos(20, 0, 0));
		put_bset(empty, 80, nonce, 5, NULL, 0);
		assert_jrx_ok(jrx_bnode_decode(e, empty, NODE_SIZE, 4096, magic,
					       NULL, &why));
		assert_int_equal(e->nr, 0);
		assert_int_equal(jrx_bnode_encode(e, 0, e->nr, out, NODE_SIZE,
						  magic, 5), 4096);
		assert_jrx_ok(jrx_bnode_decode(e, out, NODE_SIZE, 4096, magic,
					       NULL, &why));
		assert_int_equal(e->nr, 0);
		jrx_bnode_free(e);
		free(out);
		free(empty);
	}
	/* a key outside [min, max] makes the node invalid */
	{
		uint64_t ob[TH_KEY_WORDS];
		const struct jrx_bkey *out = th_key_xattr(ob, jrx_bpos(20, 0, 1),
							  "z", "", 0);
		uint8_t *copy = malloc(NODE_SIZE);

		memcpy(copy, node, NODE_SIZE);
		put_bset(copy, off1, nonce, 9, &out, 1);
		assert_jrx_err(jrx_bnode_decode(n, copy, NODE_SIZE, 8192, magic,
						NULL, &why), -JRX_ERR_NODE_INVALID);
		assert_non_null(why);
		/* keys out of order within a bset */
		{
			const struct jrx_bkey *rev[2] = { b0[1], b0[0] };

			memcpy(copy, node, NODE_SIZE);
			put_bset(copy, 80, nonce, 5, rev, 2);
			assert_jrx_err(jrx_bnode_decode(n, copy, NODE_SIZE, 8192,
							magic, NULL, &why),
				       -JRX_ERR_NODE_INVALID);
		}
		/* a key of the wrong type for the node's btree */
		{
			uint64_t ib[TH_KEY_WORDS];
			const struct jrx_bkey *ik = th_key_inode(ib, jrx_bpos(15, 0, 0),
				&(struct jrx_inode_val){ .mode = 0100644 });

			memcpy(copy, node, NODE_SIZE);
			put_bset(copy, off1, nonce, 9, &ik, 1);
			assert_jrx_err(jrx_bnode_decode(n, copy, NODE_SIZE, 8192,
							magic, NULL, &why),
				       -JRX_ERR_NODE_INVALID);
		}
		free(copy);
	}
	jrx_bnode_free(n);
	free(node);
}

static void test_node_rejects(void **state)
{
	uint8_t *node = calloc(1, NODE_SIZE);
	struct jrx_btree_node *h = (void *)node;
	struct jrx_bset *b = (void *)(node + 80);
	uint64_t kb[TH_KEY_WORDS];
	const struct jrx_bkey *k = th_key_xattr(kb, jrx_bpos(10, 1, 0), "a", "", 0);
	const uint64_t magic = jrx_node_magic(UUID), nonce = 99;
	const char *why;

	(void)state;
#define HDR_CASE(mutate, want) do {					\
		make_node_hdr(node, nonce, jrx_bpos(10, 0, 0),		\
			      jrx_bpos(20, 0, 0));			\
		mutate;							\
		why = NULL;						\
		assert_jrx_err(jrx_node_hdr_validate(h, magic, &why), want); \
		assert_non_null(why);					\
	} while (0)
	HDR_CASE(h->magic ^= 1, -JRX_ERR_NODE_INVALID);
	HDR_CASE(h->nonce ^= 1, -JRX_ERR_NODE_CSUM);
	HDR_CASE(h->csum ^= 1, -JRX_ERR_NODE_CSUM);
	HDR_CASE(h->version = JRX_FORMAT_VERSION + 1, -JRX_ERR_NODE_INVALID);
	HDR_CASE((h->btree_id = 6, jrx_node_set_csum(h)), -JRX_ERR_NODE_INVALID);
	HDR_CASE((h->level = 8, jrx_node_set_csum(h)), -JRX_ERR_NODE_INVALID);
	HDR_CASE((h->min_key = jrx_bpos(20, 0, 1), jrx_node_set_csum(h)),
		 -JRX_ERR_NODE_INVALID);
	/* a node covering a single position is fine */
	make_node_hdr(node, nonce, jrx_bpos(7, 7, 7), jrx_bpos(7, 7, 7));
	assert_jrx_ok(jrx_node_hdr_validate(h, magic, &why));
	/* the magic is checked before the checksum */
	make_node_hdr(node, nonce, JRX_POS_MIN, JRX_POS_MAX);
	h->magic ^= 1;
	h->csum ^= 1;
	assert_jrx_err(jrx_node_hdr_validate(h, magic, &why), -JRX_ERR_NODE_INVALID);

#define BSET_CASE(off, size, mutate, want) do {				\
		memset(node, 0, NODE_SIZE);				\
		put_bset(node, 80, nonce, 3, &k, 1);			\
		mutate;							\
		why = NULL;						\
		assert_jrx_err(jrx_bset_validate((void *)(node + (off)), (off), \
						 (size), nonce, &why), want); \
		assert_non_null(why);					\
	} while (0)
	BSET_CASE(80, NODE_SIZE, b->nonce ^= 1, -JRX_ERR_NODE_INVALID);
	BSET_CASE(80, NODE_SIZE, b->block = 1, -JRX_ERR_NODE_INVALID);
	BSET_CASE(80, NODE_SIZE, (b->flags = 1, jrx_bset_set_csum(b)),
		  -JRX_ERR_NODE_INVALID);
	BSET_CASE(80, NODE_SIZE, (b->u64s = (NODE_SIZE - 80 - 32) / 8 + 1,
				  b->csum = 0), -JRX_ERR_NODE_INVALID);
	BSET_CASE(80, NODE_SIZE, b->csum ^= 1, -JRX_ERR_NODE_CSUM);
	BSET_CASE(80, NODE_SIZE, b->journal_seq++, -JRX_ERR_NODE_CSUM);
	BSET_CASE(80, NODE_SIZE, ((uint8_t *)(b + 1))[20] ^= 4, -JRX_ERR_NODE_CSUM);
	/* the bset fills the node to the last byte: fine; one byte less: not */
	memset(node, 0, NODE_SIZE);
	put_bset(node, 80, nonce, 3, &k, 1);
	assert_jrx_ok(jrx_bset_validate(b, 80, 80 + jrx_bset_bytes(b), nonce, &why));
	assert_jrx_err(jrx_bset_validate(b, 80, 80 + jrx_bset_bytes(b) - 1, nonce,
					 &why), -JRX_ERR_NODE_INVALID);
	/* a bset header that would not fit the node */
	assert_jrx_err(jrx_bset_validate((void *)(node + NODE_SIZE - 32),
					 NODE_SIZE - 24, NODE_SIZE, nonce, &why),
		       -JRX_ERR_NODE_INVALID);
	free(node);
#undef HDR_CASE
#undef BSET_CASE
}

/* ------------------------------------------------------------ bpos */

static void test_bpos_order_and_successor(void **state)
{
	const struct jrx_bpos order[] = {
		JRX_POS_MIN,
		jrx_bpos(0, 0, 1),
		jrx_bpos(0, 0, UINT32_MAX),
		jrx_bpos(0, 1, 0),
		jrx_bpos(0, UINT64_MAX, UINT32_MAX),
		jrx_bpos(1, 0, 0),
		jrx_bpos(1, 0, 5),
		jrx_bpos(1, 1ull << 63, 0),	/* compared unsigned */
		jrx_bpos(1ull << 63, 0, 0),
		jrx_bpos(UINT64_MAX, UINT64_MAX, UINT32_MAX - 1),
		JRX_POS_MAX,
	};
	const size_t n = sizeof(order) / sizeof(order[0]);
	struct jrx_bpos p, a, b;

	(void)state;
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n; j++) {
			int want = i < j ? -1 : i > j ? 1 : 0;
			int got = jrx_bpos_cmp(order[i], order[j]);

			if (got != want)
				fail_msg("bpos_cmp(#%zu, #%zu) = %d, want %d", i, j,
					 got, want);
			assert_int_equal(jrx_bpos_eq(order[i], order[j]), i == j);
		}
	/* pad takes no part in the order */
	a = jrx_bpos(3, 4, 5);
	b = a;
	b.pad = 9;
	assert_int_equal(jrx_bpos_cmp(a, b), 0);

	p = jrx_bpos_successor(jrx_bpos(3, 4, 5));
	assert_true(jrx_bpos_eq(p, jrx_bpos(3, 4, 6)));
	p = jrx_bpos_successor(jrx_bpos(3, 4, UINT32_MAX));
	assert_true(jrx_bpos_eq(p, jrx_bpos(3, 5, 0)));
	p = jrx_bpos_successor(jrx_bpos(3, UINT64_MAX, UINT32_MAX));
	assert_true(jrx_bpos_eq(p, jrx_bpos(4, 0, 0)));
	p = jrx_bpos_successor(jrx_bpos(UINT64_MAX, UINT64_MAX, UINT32_MAX - 1));
	assert_true(jrx_bpos_eq(p, JRX_POS_MAX));
	p = jrx_bpos_successor(JRX_POS_MAX);
	assert_true(jrx_bpos_eq(p, JRX_POS_MAX));
	assert_int_equal(p.pad, 0);
	p = jrx_bpos_successor(jrx_bpos(UINT64_MAX, 7, UINT32_MAX));
	assert_true(jrx_bpos_eq(p, jrx_bpos(UINT64_MAX, 8, 0)));
	p = jrx_bpos_successor(JRX_POS_MIN);
	assert_true(jrx_bpos_eq(p, jrx_bpos(0, 0, 1)));
	/* the successor is the smallest position above: every pair in order[]
	 * that is adjacent in value is adjacent by successor */
	for (size_t i = 0; i + 1 < n; i++) {
		struct jrx_bpos s = jrx_bpos_successor(order[i]);

		assert_true(jrx_bpos_cmp(s, order[i]) > 0);
		assert_true(jrx_bpos_cmp(s, order[i + 1]) <= 0);
	}
}

/* ------------------------------------------------------------ names */

static void test_names(void **state)
{
	static const char *const btrees[] = {
		"extents", "inodes", "dirents", "xattrs", "alloc", "accounting",
	};
	static const uint8_t leaf[] = {
		JRX_KEY_EXTENT, JRX_KEY_INODE, JRX_KEY_DIRENT, JRX_KEY_XATTR,
		JRX_KEY_ALLOC, JRX_KEY_ACCOUNTING,
	};
	static const char *const keys[] = {
		"whiteout", "extent", "inode", "dirent", "xattr", "alloc",
		"accounting", "btree_ptr",
	};

	(void)state;
	for (unsigned i = 0; i < JRX_BTREE_NR; i++) {
		assert_string_equal(jrx_btree_name(i), btrees[i]);
		assert_int_equal(jrx_btree_id_parse(btrees[i]), i);
		assert_int_equal(jrx_btree_leaf_key_type(i), leaf[i]);
	}
	assert_string_equal(jrx_btree_name(6), "unknown");
	assert_int_equal(jrx_btree_id_parse("nope"), -1);
	assert_int_equal(jrx_btree_id_parse(""), -1);
	assert_int_equal(jrx_btree_leaf_key_type(6), 0xff);
	for (unsigned i = 0; i < JRX_KEY_TYPE_NR; i++)
		assert_string_equal(jrx_key_type_name(i), keys[i]);
	assert_string_equal(jrx_key_type_name(8), "unknown");
	assert_string_equal(jrx_data_type_name(JRX_DATA_JOURNAL), "journal");
	assert_string_equal(jrx_data_type_name(5), "unknown");
	assert_string_equal(jrx_errname(-JRX_ERR_SB_CSUM), "JRX_ERR_SB_CSUM");
	assert_string_equal(jrx_errname(-JRX_ERR_NOT_FOUND), "JRX_ERR_NOT_FOUND");
	assert_string_equal(jrx_strerror(-JRX_ERR_DEV_MISSING),
			    "a member device of the array is missing");
	assert_string_equal(jrx_errname(-2), "ENOENT");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes_and_offsets),
		cmocka_unit_test(test_crc32c_and_hash_vectors),
		cmocka_unit_test(test_magics),
		cmocka_unit_test(test_sb_roundtrip),
		cmocka_unit_test(test_sb_rejects),
		cmocka_unit_test(test_jset_roundtrip),
		cmocka_unit_test(test_jset_rejects),
		cmocka_unit_test(test_keys_every_type),
		cmocka_unit_test(test_key_text_edges),
		cmocka_unit_test(test_key_rejects),
		cmocka_unit_test(test_node_roundtrip),
		cmocka_unit_test(test_node_rejects),
		cmocka_unit_test(test_bpos_order_and_successor),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests_name("format_structs", tests, NULL, NULL);
}
