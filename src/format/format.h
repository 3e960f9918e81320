/*
 * format.h - every on-disk structure of a jrx array, declared once.
 *
 * Owns: the byte layout of superblocks, member table, jsets and their
 * entries, bkeys and bpos, every key value type, btree node headers and
 * bsets, and the constants that place them on a device.  docs/FORMAT.md is
 * the normative description; this header must match it field for field.
 *
 * All integers are little-endian.  jrx only builds on little-endian hosts
 * (checked below), so the structs are read and written in place.  Every
 * struct has its size asserted.
 */
#ifndef JRX_FORMAT_H
#define JRX_FORMAT_H

#include <stdint.h>
#include <stddef.h>

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "jrx's on-disk structs are little-endian and accessed in place"
#endif

#define JRX_FORMAT_VERSION	2u	/* 2: btree pointers carry the written blocks */

#define JRX_SECTOR_SIZE		512u
#define JRX_BLOCK_SIZE		4096u
#define JRX_SB_SIZE		8192u
#define JRX_SB_PRIMARY_OFFSET	4096u		/* bytes */
#define JRX_SB_BACKUP_OFFSET	(512u * 1024u)	/* bytes */
#define JRX_RESERVED_BYTES	(1024u * 1024u)	/* no bucket starts below */
#define JRX_MAX_DEVICES		64u
/*
 * Buckets per member (FORMAT.md 9): the bucket tables are sized by
 * nbuckets, and with buckets of at most 64 MiB every byte offset of a
 * member stays below 2^58 (an off_t, and no sum of two wraps).
 */
#define JRX_MAX_NBUCKETS	(1ull << 32)
#define JRX_SB_MAX_BLACKLIST	32u
#define JRX_BTREE_ID_SLOTS	8u		/* root slots in the clean section */

/* Superblock magic: the 16 ASCII bytes "jrx superblock\0\0". */
#define JRX_SB_MAGIC		"jrx superblock\0"
/* jset and btree node magics are derived from the array uuid (FORMAT.md). */
#define JRX_JSET_MAGIC_XOR	0x6a7365742d6a7278ull	/* bytes on disk: "xrj-tesj" */
#define JRX_NODE_MAGIC_XOR	0x65646f6e2d6a7278ull	/* bytes on disk: "xrj-node" */

/* ---------------------------------------------------------------- bpos */

struct jrx_bpos {
	uint64_t inode;
	uint64_t offset;
	uint32_t snapshot;
	uint32_t pad;		/* must be zero */
};
_Static_assert(sizeof(struct jrx_bpos) == 24, "bpos");

#define JRX_SNAPSHOT_DEFAULT	0xffffffffu

/* The root directory's inode number: every formatted array has it. */
#define JRX_ROOT_INO		4096u

/* ---------------------------------------------------------------- btrees */

enum jrx_btree_id {
	JRX_BTREE_EXTENTS	= 0,
	JRX_BTREE_INODES	= 1,
	JRX_BTREE_DIRENTS	= 2,
	JRX_BTREE_XATTRS	= 3,
	JRX_BTREE_ALLOC		= 4,
	JRX_BTREE_ACCOUNTING	= 5,
	JRX_BTREE_NR		= 6,
};
_Static_assert(JRX_BTREE_NR <= JRX_BTREE_ID_SLOTS, "root slots");

#define JRX_BTREE_MAX_DEPTH	8u

/* ---------------------------------------------------------------- bkey */

enum jrx_key_type {
	JRX_KEY_WHITEOUT	= 0,	/* deletes the key at its position */
	JRX_KEY_EXTENT		= 1,
	JRX_KEY_INODE		= 2,
	JRX_KEY_DIRENT		= 3,
	JRX_KEY_XATTR		= 4,
	JRX_KEY_ALLOC		= 5,
	JRX_KEY_ACCOUNTING	= 6,
	JRX_KEY_BTREE_PTR	= 7,
	JRX_KEY_TYPE_NR		= 8,
};

/*
 * Key header.  u64s is the whole key (header + value) in u64 words, so a
 * key is 8-byte aligned and a sequence of keys is walked by u64s.
 * size: extents only, length in sectors (the key's position is the end).
 * version: accounting only, the journal seq of the delta (0 elsewhere).
 */
struct jrx_bkey {
	uint16_t u64s;
	uint8_t  type;
	uint8_t  flags;		/* must be zero */
	uint32_t size;
	uint64_t version;
	struct jrx_bpos p;
};
_Static_assert(sizeof(struct jrx_bkey) == 40, "bkey");

#define JRX_BKEY_U64S		(sizeof(struct jrx_bkey) / 8)
#define JRX_KEY_MAX_U64S	512u	/* 4 KiB: bounds every key */

/* Extent: keyed by (inode, end sector in file, snapshot); size = length. */
struct jrx_extent_val {
	uint64_t sector;	/* first 512-byte sector on the device */
	uint32_t dev;		/* member index */
	uint32_t gen;		/* bucket generation when written */
	uint64_t data_tag;	/* identifies the write that produced the data */
};
_Static_assert(sizeof(struct jrx_extent_val) == 24, "extent");

/* Inode: keyed by (inum, 0, snapshot). */
struct jrx_inode_val {
	uint64_t size;		/* i_size in bytes */
	uint64_t mtime;
	uint64_t ctime;
	uint64_t generation;
	uint32_t mode;
	uint32_t nlink;
	uint32_t uid;
	uint32_t gid;
};
_Static_assert(sizeof(struct jrx_inode_val) == 48, "inode");

/* Dirent: keyed by (dir inum, name hash, snapshot); name follows. */
struct jrx_dirent_val {
	uint64_t target;	/* inum */
	uint8_t  d_type;
	uint8_t  name_len;
	uint8_t  pad[6];
	/* char name[name_len], zero padded to a u64 boundary */
};
_Static_assert(sizeof(struct jrx_dirent_val) == 16, "dirent");

/* Xattr: keyed by (inum, name hash, snapshot); name then value follow. */
struct jrx_xattr_val {
	uint8_t  name_len;
	uint8_t  pad;
	uint16_t value_len;
	uint32_t pad2;
	/* char name[name_len]; uint8_t value[value_len]; zero padded */
};
_Static_assert(sizeof(struct jrx_xattr_val) == 8, "xattr");

enum jrx_data_type {
	JRX_DATA_FREE		= 0,
	JRX_DATA_SB		= 1,
	JRX_DATA_JOURNAL	= 2,
	JRX_DATA_BTREE		= 3,
	JRX_DATA_USER		= 4,
	JRX_DATA_TYPE_NR	= 5,
};

/* Alloc: keyed by (dev, bucket, 0); a missing key means gen 0, free. */
struct jrx_alloc_val {
	uint32_t gen;
	uint32_t dirty_sectors;
	uint8_t  data_type;
	uint8_t  pad[7];
};
_Static_assert(sizeof(struct jrx_alloc_val) == 16, "alloc");

/*
 * Accounting: keyed by (kind, a, 0).  In the journal the value is a delta
 * and bkey.version is the seq of the jset that carries it; in the btree the
 * value is the running total and version the newest delta applied.
 */
enum jrx_acct_kind {
	JRX_ACCT_DEV_DATA	= 1,	/* a = dev << 8 | data_type: buckets, sectors */
	JRX_ACCT_INODES		= 2,	/* a = 0: inodes, 0 */
};
struct jrx_accounting_val {
	int64_t d[2];
};
_Static_assert(sizeof(struct jrx_accounting_val) == 16, "accounting");

/* Btree pointer (interior keys and roots): keyed by the child's max key. */
struct jrx_btree_ptr_val {
	uint64_t sector;	/* node start, in sectors, on dev */
	uint32_t dev;
	uint32_t blocks;	/* the node's written part, in 4096-byte
				   blocks: its bsets end there (>= 1) */
	uint64_t nonce;		/* must equal the node header's nonce */
	struct jrx_bpos min_key;
};
_Static_assert(sizeof(struct jrx_btree_ptr_val) == 48, "btree_ptr");
/* u64s of a whole btree pointer key (header + value) */
#define JRX_PTR_U64S	(JRX_BKEY_U64S + sizeof(struct jrx_btree_ptr_val) / 8)

/* ---------------------------------------------------------------- superblock */

struct jrx_blacklist_entry {
	uint64_t start;		/* first blacklisted seq */
	uint64_t end;		/* last blacklisted seq, inclusive */
};
_Static_assert(sizeof(struct jrx_blacklist_entry) == 16, "blacklist entry");

struct jrx_btree_root {
	uint8_t  btree_id;
	uint8_t  level;		/* level of the root node */
	uint8_t  present;	/* 1 if this slot holds a root */
	uint8_t  pad[5];
	struct jrx_bkey k;	/* type JRX_KEY_BTREE_PTR */
	struct jrx_btree_ptr_val v;
};
_Static_assert(sizeof(struct jrx_btree_root) == 96, "btree_root");

struct jrx_member {
	uint8_t  uuid[16];
	uint64_t nbuckets;		/* buckets [0, nbuckets) exist */
	uint64_t first_bucket;		/* first usable bucket */
	uint64_t journal_bucket;	/* first journal bucket */
	uint32_t journal_nr;		/* journal buckets: contiguous */
	uint32_t state;			/* 1 = member present */
	uint8_t  reserved[16];
};
_Static_assert(sizeof(struct jrx_member) == 64, "member");

#define JRX_SB_CLEAN	(1ull << 0)

struct jrx_sb {
	uint32_t csum;		/* crc32c of bytes [8, JRX_SB_SIZE) */
	uint32_t version;
	uint8_t  magic[16];
	uint8_t  uuid[16];	/* the array */
	uint8_t  dev_uuid[16];	/* this device: equals members[dev_idx].uuid */
	uint64_t seq;		/* bumped on every superblock write */
	uint64_t flags;
	uint32_t dev_idx;
	uint32_t nr_devices;
	uint32_t block_size;
	uint32_t bucket_size;
	uint32_t btree_node_size;
	uint32_t metadata_replicas;
	uint64_t time;		/* seconds since the epoch of this write */
	/* clean section: valid when flags & JRX_SB_CLEAN */
	uint64_t journal_seq;	/* newest seq written; the next journal starts above */
	uint32_t nr_blacklist;
	uint32_t pad;
	struct jrx_blacklist_entry blacklist[JRX_SB_MAX_BLACKLIST];
	struct jrx_btree_root roots[JRX_BTREE_ID_SLOTS];
	struct jrx_member members[JRX_MAX_DEVICES];
	uint8_t  reserved[JRX_SB_SIZE - 120 - 16 * JRX_SB_MAX_BLACKLIST
			  - 96 * JRX_BTREE_ID_SLOTS - 64 * JRX_MAX_DEVICES];
};
_Static_assert(sizeof(struct jrx_sb) == JRX_SB_SIZE, "superblock");
_Static_assert(offsetof(struct jrx_sb, blacklist) == 120, "sb header");

/* ---------------------------------------------------------------- journal */

/*
 * A jset starts on a block boundary inside a journal bucket and occupies
 * round_up(sizeof(jset) + u64s * 8, block size) bytes; the padding is zero.
 * csum covers bytes [8, sizeof(jset) + u64s * 8).
 */
struct jrx_jset {
	uint32_t csum;
	uint32_t version;
	uint64_t magic;
	uint64_t seq;
	uint64_t last_seq;
	uint32_t flags;
	uint32_t u64s;		/* entries that follow, in u64 words */
};
_Static_assert(sizeof(struct jrx_jset) == 40, "jset");

enum jrx_jset_entry_type {
	JRX_JE_BTREE_KEYS	= 1,	/* keys of (btree_id, level) */
	JRX_JE_BTREE_ROOT	= 2,	/* one btree_ptr key: root of btree_id at level */
	JRX_JE_BLACKLIST	= 3,	/* jrx_blacklist_entry[] */
	JRX_JE_CLOCK		= 4,	/* jrx_clock_val */
	JRX_JE_TYPE_NR		= 5,
};

struct jrx_jset_entry {
	uint16_t u64s;		/* payload after this header, in u64 words */
	uint8_t  type;
	uint8_t  btree_id;
	uint8_t  level;
	uint8_t  pad[3];
};
_Static_assert(sizeof(struct jrx_jset_entry) == 8, "jset entry");

struct jrx_clock_val {
	uint64_t time;		/* seconds since the epoch */
	uint64_t ops;		/* workload operations committed so far */
};
_Static_assert(sizeof(struct jrx_clock_val) == 16, "clock");

/* ---------------------------------------------------------------- btree node */

/*
 * A node occupies btree_node_size bytes at (dev, sector).  The header is
 * written once when the node is created; bsets follow it: the first right
 * after the header, each later one at the next block boundary past the end
 * of the previous.  csum covers bytes [8, sizeof(header)).
 */
struct jrx_btree_node {
	uint32_t csum;
	uint32_t version;
	uint64_t magic;
	uint64_t nonce;		/* random per node; bsets and parent carry it */
	uint8_t  btree_id;
	uint8_t  level;
	uint8_t  pad[6];
	struct jrx_bpos min_key;
	struct jrx_bpos max_key;
};
_Static_assert(sizeof(struct jrx_btree_node) == 80, "node header");

/* csum covers bytes [8, sizeof(bset) + u64s * 8). */
struct jrx_bset {
	uint32_t csum;
	uint32_t block;		/* block index within the node where it starts */
	uint64_t nonce;		/* the node's nonce */
	uint64_t journal_seq;	/* newest journal seq of any key in it */
	uint32_t u64s;		/* keys, in u64 words, sorted by position */
	uint32_t flags;		/* must be zero */
};
_Static_assert(sizeof(struct jrx_bset) == 32, "bset");

#endif /* JRX_FORMAT_H */
