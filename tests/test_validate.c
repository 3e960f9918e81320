/*
 * test_validate.c - validation that cannot wrap (FORMAT.md 4.2, 5.4, 6.7,
 * 7.4, 9): every field of the superblock, the member table, the root
 * slots, the jset header, the journal entry, the bset and the key that can
 * be made huge or zero is crafted so (checksum fixed up, so validation
 * reaches the field), and each is refused with the exact error code and a
 * reason that names the field (and for the superblock, the member or root
 * slot and the values).
 *
 * Array level: crafted superblock copies on a device make jrx_array_open
 * fail with the device, both copies' offsets and the field in jrx_diag(),
 * before anything sized by the member table is allocated (a child with its
 * address space capped opens the store too); the store refuses a node
 * whose pointer's sector wraps.  End to end: the two reviewer findings
 * (nbuckets 0x100000000400 with 1 MiB buckets, journal_bucket
 * 0xfffffffffffffff0) make `jrx show-super`, `journal`, `dump`,
 * `recover -n` and `fsck -n` fail with the named error and a non-zero
 * exit, and leave the device's bytes as they were.
 *
 * One 64 MiB sparse device, bucket 1 MiB, node 64 KiB.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "helpers.h"
#include "format/sb.h"
#include "format/jset.h"
#include "format/node.h"
#include "format/checksum.h"
#include "btree/bnode.h"
#include "btree/buckets.h"
#include "btree/fs.h"
#include "btree/btree_replay.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define UNDER_SANITIZER 1
#else
#define UNDER_SANITIZER 0
#endif

#define DEV_SIZE	(64ull << 20)
#define BUCKET		(1u << 20)
#define NODE		(64u << 10)

static const struct th_geom GEOM = {
	.size = DEV_SIZE, .bucket_size = BUCKET, .node_size = NODE,
	.replicas = 1, .journal_size = 0,
};

struct fx {
	struct th_dir dir;
	char p[256];
	const char *paths[1];
	struct jrx_sb *sb;	/* the formatted primary copy */
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	th_dir_make(&f->dir);
	th_path(f->p, &f->dir, "a.img");
	f->paths[0] = f->p;
	assert_jrx_ok(th_format(f->paths, 1, &GEOM));
	f->sb = malloc(sizeof(*f->sb));
	assert_non_null(f->sb);
	th_file_pread(f->p, f->sb, sizeof(*f->sb), JRX_SB_PRIMARY_OFFSET);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	th_dir_remove(&f->dir);
	free(f->sb);
	free(f);
	return 0;
}

/* ------------------------------------------------------------ superblock */

/* A field of struct jrx_sb, by offset and width, set to any value. */
struct field {
	const char *name;	/* as the reason names it */
	size_t off, width;
};

#define SB_FIELD(name, member)						\
	((struct field){ name, offsetof(struct jrx_sb, member),	\
			 sizeof(((struct jrx_sb *)0)->member) })

static void set_field(void *base, struct field fl, uint64_t v)
{
	switch (fl.width) {
	case 1: { uint8_t x = (uint8_t)v; memcpy((char *)base + fl.off, &x, 1); break; }
	case 2: { uint16_t x = (uint16_t)v; memcpy((char *)base + fl.off, &x, 2); break; }
	case 4: { uint32_t x = (uint32_t)v; memcpy((char *)base + fl.off, &x, 4); break; }
	case 8: memcpy((char *)base + fl.off, &v, 8); break;
	default: fail_msg("field %s: width %zu", fl.name, fl.width);
	}
}

/*
 * The formatted superblock with fl = v (checksum fixed) must be refused
 * with want, and the reason must hold every string of must[] (NULL ends).
 */
static void expect_sb(const struct fx *f, struct field fl, uint64_t v,
		      int want, const char *const *must)
{
	struct jrx_sb *sb = malloc(sizeof(*sb));
	char why[JRX_SB_WHY];
	int got;

	assert_non_null(sb);
	memcpy(sb, f->sb, sizeof(*sb));
	set_field(sb, fl, v);
	jrx_sb_set_csum(sb);
	memset(why, 'x', sizeof(why));
	got = jrx_sb_validate(sb, why, sizeof(why));
	if (got != want)
		fail_msg("superblock %s = %" PRIu64 " (%#" PRIx64 "): got %s (%s),"
			 " expected %s", fl.name, v, v, th_errname(got), why,
			 th_errname(want));
	for (; *must; must++)
		if (!strstr(why, *must))
			fail_msg("superblock %s = %" PRIu64 ": the reason \"%s\""
				 " does not name \"%s\"", fl.name, v, why, *must);
	free(sb);
}

/* Refused as SB_INVALID, naming the field, its value and where (may be NULL). */
static void sb_bad(const struct fx *f, struct field fl, uint64_t v,
		   const char *where)
{
	char val[32];
	const char *must[4] = { fl.name, val, where, NULL };

	snprintf(val, sizeof(val), " %" PRIu64, v);
	if (!where)
		must[2] = NULL;
	expect_sb(f, fl, v, -JRX_ERR_SB_INVALID, must);
}

static void test_sb_formatted_is_valid(void **state)
{
	struct fx *f = *state;
	char why[JRX_SB_WHY] = "unset";

	assert_jrx_ok(jrx_sb_validate(f->sb, why, sizeof(why)));
	assert_string_equal(why, "");
	/* the geometry the other tests assume */
	assert_int_equal(f->sb->bucket_size, BUCKET);
	assert_int_equal(f->sb->members[0].nbuckets, DEV_SIZE / BUCKET);
	assert_int_equal(f->sb->members[0].first_bucket, 1);
	assert_int_equal(f->sb->members[0].journal_bucket, 1);
	assert_int_equal(f->sb->members[0].journal_nr, 8);
}

static void test_sb_version(void **state)
{
	sb_bad(*state, SB_FIELD("version", version), 0, NULL);
	sb_bad(*state, SB_FIELD("version", version), UINT32_MAX, NULL);
}

static void test_sb_block_size(void **state)
{
	sb_bad(*state, SB_FIELD("block_size", block_size), 0, NULL);
	sb_bad(*state, SB_FIELD("block_size", block_size), UINT32_MAX, NULL);
}

static void test_sb_bucket_size(void **state)
{
	sb_bad(*state, SB_FIELD("bucket_size", bucket_size), 0, NULL);
	sb_bad(*state, SB_FIELD("bucket_size", bucket_size), 1u << 31, NULL);
	sb_bad(*state, SB_FIELD("bucket_size", bucket_size), UINT32_MAX, NULL);
}

static void test_sb_btree_node_size(void **state)
{
	sb_bad(*state, SB_FIELD("btree_node_size", btree_node_size), 0, NULL);
	sb_bad(*state, SB_FIELD("btree_node_size", btree_node_size),
	       1u << 31, NULL);
	sb_bad(*state, SB_FIELD("btree_node_size", btree_node_size),
	       UINT32_MAX, NULL);
}

static void test_sb_nr_devices(void **state)
{
	sb_bad(*state, SB_FIELD("nr_devices", nr_devices), 0, NULL);
	sb_bad(*state, SB_FIELD("nr_devices", nr_devices), UINT32_MAX, NULL);
}

static void test_sb_dev_idx(void **state)
{
	sb_bad(*state, SB_FIELD("dev_idx", dev_idx), 1, NULL);
	sb_bad(*state, SB_FIELD("dev_idx", dev_idx), UINT32_MAX, NULL);
}

static void test_sb_metadata_replicas(void **state)
{
	sb_bad(*state, SB_FIELD("metadata_replicas", metadata_replicas), 0, NULL);
	sb_bad(*state, SB_FIELD("metadata_replicas", metadata_replicas),
	       UINT32_MAX, NULL);
}

static void test_sb_nr_blacklist(void **state)
{
	sb_bad(*state, SB_FIELD("nr_blacklist", nr_blacklist), 33, NULL);
	sb_bad(*state, SB_FIELD("nr_blacklist", nr_blacklist), UINT32_MAX, NULL);
}

static void test_sb_blacklist_range(void **state)
{
	struct fx *f = *state;
	struct jrx_sb *save = malloc(sizeof(*save));

	memcpy(save, f->sb, sizeof(*save));
	f->sb->nr_blacklist = 1;
	f->sb->blacklist[0].end = 0;
	sb_bad(f, SB_FIELD("start", blacklist[0].start), UINT64_MAX,
	       "blacklist[0]");
	memcpy(f->sb, save, sizeof(*save));
	free(save);
}

/* ------------------------------------------------------------ member table */

static void test_member_state(void **state)
{
	sb_bad(*state, SB_FIELD("state", members[0].state), 0, "member 0");
	sb_bad(*state, SB_FIELD("state", members[0].state), UINT32_MAX,
	       "member 0");
}

static void test_member_nbuckets(void **state)
{
	struct field fl = SB_FIELD("nbuckets", members[0].nbuckets);

	/* the reviewer's value: nbuckets * 1 MiB wraps to 1 GiB */
	sb_bad(*state, fl, 0x100000000400ull, "member 0");
	sb_bad(*state, fl, UINT64_MAX, "member 0");
	sb_bad(*state, fl, JRX_MAX_NBUCKETS + 1, "member 0");
	{
		const char *must[] = { "member 0: nbuckets 17592186045440 is"
				       " above the limit 4294967296", NULL };

		expect_sb(*state, fl, 0x100000000400ull, -JRX_ERR_SB_INVALID,
			  must);
	}
	/* zero: no room for the reserved area, let alone the journal */
	sb_bad(*state, fl, 0, "member 0");
	/* the journal ends past it */
	sb_bad(*state, fl, 8, "member 0");
}

static void test_member_first_bucket(void **state)
{
	struct field fl = SB_FIELD("first_bucket", members[0].first_bucket);

	sb_bad(*state, fl, 0, "member 0");		/* the reserved area */
	/* (2^44 + 1) * 1 MiB wraps to exactly 1 MiB */
	sb_bad(*state, fl, (1ull << 44) + 1, "member 0");
	sb_bad(*state, fl, UINT64_MAX, "member 0");
}

static void test_member_journal_bucket(void **state)
{
	struct field fl = SB_FIELD("journal_bucket", members[0].journal_bucket);
	const char *must[] = {
		"member 0: journal_bucket 18446744073709551600 + journal_nr 8"
		" runs past nbuckets 64", NULL,
	};

	sb_bad(*state, fl, 0, "member 0");		/* below first_bucket */
	/* the reviewer's value: + journal_nr wraps to 8 */
	expect_sb(*state, fl, 0xfffffffffffffff0ull, -JRX_ERR_SB_INVALID, must);
	sb_bad(*state, fl, UINT64_MAX, "member 0");
	sb_bad(*state, fl, 64 - 7, "member 0");		/* one bucket past */
}

static void test_member_journal_nr(void **state)
{
	struct field fl = SB_FIELD("journal_nr", members[0].journal_nr);

	sb_bad(*state, fl, 0, "member 0");
	sb_bad(*state, fl, 1, "member 0");
	sb_bad(*state, fl, UINT32_MAX, "member 0");
}

/* ------------------------------------------------------------ root slots */

static void test_root_btree_id(void **state)
{
	sb_bad(*state, SB_FIELD("btree_id", roots[2].btree_id), 255, "root slot 2");
}

static void test_root_level(void **state)
{
	sb_bad(*state, SB_FIELD("level", roots[2].level), 8, "root slot 2");
	sb_bad(*state, SB_FIELD("level", roots[2].level), 255, "root slot 2");
}

static void test_root_key_type(void **state)
{
	sb_bad(*state, SB_FIELD("key type", roots[2].k.type), 255, "root slot 2");
	sb_bad(*state, SB_FIELD("key type", roots[2].k.type), 0, "root slot 2");
}

static void test_root_dev(void **state)
{
	sb_bad(*state, SB_FIELD("dev", roots[2].v.dev), 1, "root slot 2");
	sb_bad(*state, SB_FIELD("dev", roots[2].v.dev), UINT32_MAX, "root slot 2");
}

static void test_root_blocks(void **state)
{
	sb_bad(*state, SB_FIELD("blocks", roots[2].v.blocks), 0, "root slot 2");
	sb_bad(*state, SB_FIELD("blocks", roots[2].v.blocks), NODE / 4096 + 1,
	       "root slot 2");
	sb_bad(*state, SB_FIELD("blocks", roots[2].v.blocks), UINT32_MAX,
	       "root slot 2");
}

static void test_root_sector(void **state)
{
	struct fx *f = *state;
	struct field fl = SB_FIELD("sector", roots[2].v.sector);
	uint64_t sector = f->sb->roots[2].v.sector;

	/* 2^55 sectors are 2^64 bytes: the same bytes modulo 2^64 */
	sb_bad(f, fl, sector + (1ull << 55), "root slot 2");
	sb_bad(f, fl, UINT64_MAX, "root slot 2");
	/* the node's last byte one past the member's */
	sb_bad(f, fl, DEV_SIZE / 512 - NODE / 512 + 1, "root slot 2");
	/* ending exactly at the last byte is fine */
	{
		struct jrx_sb *sb = malloc(sizeof(*sb));
		char why[JRX_SB_WHY];

		memcpy(sb, f->sb, sizeof(*sb));
		sb->roots[2].v.sector = DEV_SIZE / 512 - NODE / 512;
		jrx_sb_set_csum(sb);
		assert_jrx_ok(jrx_sb_validate(sb, why, sizeof(why)));
		free(sb);
	}
}

/* The node range every reader and writer asks (FORMAT.md 7.4). */
static void test_node_range(void **state)
{
	struct fx *f = *state;
	uint64_t off;

	assert_null(jrx_sb_node_range(f->sb, 0, 2048, &off));
	assert_int_equal(off, 1 << 20);
	assert_null(jrx_sb_node_range(f->sb, 0, DEV_SIZE / 512 - NODE / 512,
				      &off));
	assert_contains(jrx_sb_node_range(f->sb, 0, 2048 + (1ull << 55), &off),
			"sector * 512");
	assert_contains(jrx_sb_node_range(f->sb, 0, UINT64_MAX, &off),
			"sector * 512");
	/* the sum with the node size wraps */
	assert_contains(jrx_sb_node_range(f->sb, 0, (UINT64_MAX >> 9) - 1, &off),
			"sector * 512");
	assert_contains(jrx_sb_node_range(f->sb, 0, DEV_SIZE / 512, &off),
			"last bucket");
	assert_contains(jrx_sb_node_range(f->sb, 1, 2048, &off), "not a member");
	assert_contains(jrx_sb_node_range(f->sb, UINT32_MAX, 2048, &off),
			"not a member");
}

/* ------------------------------------------------------------ array level */

/* Write sb (csum fixed) as both copies of the device. */
static void write_both_copies(const char *path, struct jrx_sb *sb)
{
	jrx_sb_set_csum(sb);
	th_file_pwrite(path, sb, sizeof(*sb), JRX_SB_PRIMARY_OFFSET);
	th_file_pwrite(path, sb, sizeof(*sb), JRX_SB_BACKUP_OFFSET);
}

/* The device with member 0's fl = v in both copies; a fresh format first. */
static void craft(struct fx *f, struct field fl, uint64_t v)
{
	struct jrx_sb *sb = malloc(sizeof(*sb));

	assert_non_null(sb);
	memcpy(sb, f->sb, sizeof(*sb));
	set_field(sb, fl, v);
	write_both_copies(f->p, sb);
	free(sb);
}

static void restore(struct fx *f)
{
	write_both_copies(f->p, f->sb);
}

static void expect_open(struct fx *f, int want, const char *const *must)
{
	struct jrx_array a;
	int got;

	jrx_diag_clear();
	got = jrx_array_open(&a, f->paths, 1, JRX_OPEN_RDONLY);
	if (!got)
		jrx_array_close(&a);
	if (got != want)
		fail_msg("opening %s: got %s (%s), expected %s", f->p,
			 th_errname(got), jrx_diag(), th_errname(want));
	for (; *must; must++)
		if (!strstr(jrx_diag(), *must))
			fail_msg("opening %s: \"%s\" does not name \"%s\"", f->p,
				 jrx_diag(), *must);
}

static void test_array_nbuckets_wraps(void **state)
{
	struct fx *f = *state;
	const char *must[] = {
		f->p, "no valid superblock", "primary at offset 4096",
		"backup at offset 524288",
		"member 0: nbuckets 17592186045440 is above the limit", NULL,
	};

	craft(f, SB_FIELD("nbuckets", members[0].nbuckets), 0x100000000400ull);
	expect_open(f, -JRX_ERR_SB_NO_VALID, must);
	restore(f);
}

/* Within the format's limit, but not within the device. */
static void test_array_nbuckets_past_device(void **state)
{
	struct fx *f = *state;
	char dev[300];
	const char *must[] = {
		dev, "superblock member 0: nbuckets 4294967296 of 1048576 bytes"
		" does not fit the device (67108864 bytes", NULL,
	};

	snprintf(dev, sizeof(dev), "dev 0 (%s)", f->p);
	craft(f, SB_FIELD("nbuckets", members[0].nbuckets), JRX_MAX_NBUCKETS);
	expect_open(f, -JRX_ERR_DEV_TRUNCATED, must);
	/* one bucket more than the device holds */
	craft(f, SB_FIELD("nbuckets", members[0].nbuckets), DEV_SIZE / BUCKET + 1);
	must[1] = "nbuckets 65 of 1048576 bytes does not fit the device";
	expect_open(f, -JRX_ERR_DEV_TRUNCATED, must);
	restore(f);
}

static void test_array_journal_bucket_wraps(void **state)
{
	struct fx *f = *state;
	const char *must[] = {
		f->p, "primary at offset 4096", "backup at offset 524288",
		"member 0: journal_bucket 18446744073709551600 + journal_nr 8"
		" runs past nbuckets 64", NULL,
	};

	craft(f, SB_FIELD("journal_bucket", members[0].journal_bucket),
	      0xfffffffffffffff0ull);
	expect_open(f, -JRX_ERR_SB_NO_VALID, must);
	restore(f);
}

static void test_array_first_bucket_wraps(void **state)
{
	struct fx *f = *state;
	const char *must[] = {
		f->p, "primary at offset 4096", "member 0: first_bucket"
		" 17592186044417 is not below nbuckets 64", NULL,
	};

	craft(f, SB_FIELD("first_bucket", members[0].first_bucket),
	      (1ull << 44) + 1);
	expect_open(f, -JRX_ERR_SB_NO_VALID, must);
	restore(f);
}

static void test_array_root_sector_wraps(void **state)
{
	struct fx *f = *state;
	uint64_t s = f->sb->roots[1].v.sector + (1ull << 55);
	char val[200];
	const char *must[] = { f->p, "primary at offset 4096", val, NULL };

	snprintf(val, sizeof(val), "root slot 1: sector %" PRIu64 " on member"
		 " 0: its sector * 512 does not fit in 64 bits", s);
	craft(f, SB_FIELD("sector", roots[1].v.sector), s);
	expect_open(f, -JRX_ERR_SB_NO_VALID, must);
	restore(f);
}

/* A bad primary next to a good backup: the backup is used and named. */
static void test_array_bad_primary_noted(void **state)
{
	struct fx *f = *state;
	struct jrx_sb *sb = malloc(sizeof(*sb));
	struct jrx_array a;

	memcpy(sb, f->sb, sizeof(*sb));
	sb->members[0].journal_bucket = 0xfffffffffffffff0ull;
	jrx_sb_set_csum(sb);
	th_file_pwrite(f->p, sb, sizeof(*sb), JRX_SB_PRIMARY_OFFSET);
	assert_jrx_ok(jrx_array_open(&a, f->paths, 1, JRX_OPEN_RDONLY));
	assert_contains(a.notes, "primary superblock at offset 4096 is bad"
			" (member 0: journal_bucket 18446744073709551600");
	jrx_array_close(&a);
	restore(f);
	free(sb);
}

/*
 * The bucket tables are bounded before they are allocated: a member
 * table that was not checked (jrx_buckets_init is also given mkfs's own)
 * is refused by name, and nothing of 2^32 + 1 entries is asked for.
 */
static void test_bucket_table_bounded(void **state)
{
	struct fx *f = *state;
	struct jrx_sb *sb = malloc(sizeof(*sb));
	struct jrx_buckets bt;

	memcpy(sb, f->sb, sizeof(*sb));
	sb->members[0].nbuckets = JRX_MAX_NBUCKETS + 1;
	jrx_diag_clear();
	assert_jrx_err(jrx_buckets_init(&bt, sb, NULL), -JRX_ERR_SB_INVALID);
	assert_contains(jrx_diag(), "member 0: nbuckets 4294967297 is not in");
	sb->members[0].nbuckets = 0x100000000400ull;
	assert_jrx_err(jrx_buckets_init(&bt, sb, NULL), -JRX_ERR_SB_INVALID);
	assert_contains(jrx_diag(), "nbuckets 17592186045440");
	/* first_bucket past nbuckets would make the allocator's scan wrap */
	sb->members[0].nbuckets = 64;
	sb->members[0].first_bucket = 65;
	assert_jrx_err(jrx_buckets_init(&bt, sb, NULL), -JRX_ERR_SB_INVALID);
	assert_contains(jrx_diag(), "first_bucket 65");
	free(sb);
}


/*
 * Opening the array and its store with nbuckets = 2^32 (the format's
 * limit, the device far smaller) in a child capped at 256 MiB more than
 * it maps: it fails on the device size, named, and never on memory (a
 * bucket table of 2^32 entries would be 96 GiB).
 */
static void test_open_allocates_nothing_first(void **state)
{
	struct fx *f = *state;
	struct { int ret; char diag[1024]; } r = { 0 };
	int pfd[2], status;
	pid_t pid;

	if (UNDER_SANITIZER) {
		print_message("[  SKIPPED ] capped open: the sanitizer's"
			      " mappings exceed any cap\n");
		return;
	}
	craft(f, SB_FIELD("nbuckets", members[0].nbuckets), JRX_MAX_NBUCKETS);
	assert_int_equal(pipe(pfd), 0);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct jrx_array *a = calloc(1, sizeof(*a));
		struct jrx_fs *fs = calloc(1, sizeof(*fs));

		close(pfd[0]);
		r.ret = 100;
		if (a && fs && !th_cap_address_space(256u << 20)) {
			r.ret = jrx_array_open(a, f->paths, 1, JRX_OPEN_RDONLY);
			if (!r.ret) {
				r.ret = jrx_fs_open(fs, a, JRX_FS_RDONLY);
				if (!r.ret)
					r.ret = 101;	/* opened: should not */
			}
		}
		snprintf(r.diag, sizeof(r.diag), "%s", jrx_diag());
		_exit(write(pfd[1], &r, sizeof(r)) == sizeof(r) ? 0 : 1);
	}
	close(pfd[1]);
	assert_int_equal(read(pfd[0], &r, sizeof(r)), sizeof(r));
	close(pfd[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	restore(f);
	if (r.ret != -JRX_ERR_DEV_TRUNCATED)
		fail_msg("capped open of nbuckets 2^32: got %s (%d: %s), expected"
			 " JRX_ERR_DEV_TRUNCATED before any bucket table",
			 r.ret >= 100 ? "a set-up failure or an open that"
			 " succeeded" : th_errname(r.ret), r.ret, r.diag);
	if (!strstr(r.diag, "nbuckets 4294967296"))
		fail_msg("capped open: \"%s\" does not name nbuckets", r.diag);
}

/* The store refuses a node pointer whose sector wraps, before reading. */
static void test_store_refuses_wrapped_pointer(void **state)
{
	struct fx *f = *state;
	struct jrx_array a;
	struct jrx_fs *fs = calloc(1, sizeof(*fs));
	uint64_t kb[TH_KEY_WORDS];
	struct jrx_bnode *n = NULL;
	const struct jrx_btree_root *r = &f->sb->roots[JRX_BTREE_INODES];
	struct jrx_bkey *k;

	assert_jrx_ok(jrx_array_open(&a, f->paths, 1, JRX_OPEN_RDONLY));
	assert_jrx_ok(jrx_fs_open(fs, &a, JRX_FS_RDONLY));
	/* the root's own node, 2^55 sectors further: the same bytes mod 2^64 */
	k = th_key_btree_ptr(kb, r->k.p, r->v.min_key, 0,
			     r->v.sector + (1ull << 55), r->v.nonce);
	((struct jrx_btree_ptr_val *)jrx_bkey_val(k))->blocks = r->v.blocks;
	jrx_diag_clear();
	assert_jrx_err(jrx_fs_read_node(fs, JRX_BTREE_INODES, r->level, k, &n),
		       -JRX_ERR_NODE_INVALID);
	assert_null(n);
	assert_contains(jrx_diag(), f->p);
	assert_contains(jrx_diag(), "sector * 512 does not fit in 64 bits");
	/* the real pointer reads the node */
	((struct jrx_btree_ptr_val *)jrx_bkey_val(k))->sector = r->v.sector;
	assert_jrx_ok(jrx_fs_read_node(fs, JRX_BTREE_INODES, r->level, k, &n));
	jrx_bnode_free(n);
	jrx_fs_abandon(fs);
	jrx_array_close(&a);
	free(fs);
}

/* ------------------------------------------------------------ jsets */

#define JMAGIC	0x6a72782d74657374ull
#define JAVAIL	(64u << 10)		/* bytes to the end of the bucket */

struct jfx {
	uint64_t *buf;			/* JAVAIL bytes */
	struct jrx_jset *j;
	struct jrx_jset_entry *keys, *root, *bl, *clock;
};

static struct jrx_jset_entry *add_entry(struct jfx *x, unsigned type,
					unsigned btree, unsigned level,
					const void *payload, size_t words)
{
	struct jrx_jset_entry *e = jrx_jset_end(x->j);

	memset(e, 0, sizeof(*e));
	e->u64s = (uint16_t)words;
	e->type = (uint8_t)type;
	e->btree_id = (uint8_t)btree;
	e->level = (uint8_t)level;
	memcpy(e + 1, payload, words * 8);
	x->j->u64s += (uint32_t)(1 + words);
	return e;
}

/* A valid jset: one inode key, a root, a blacklist range and a clock. */
static void jset_make(struct jfx *x)
{
	uint64_t kb[TH_KEY_WORDS], rb[TH_KEY_WORDS], blv[2] = { 3, 4 };
	struct jrx_inode_val iv = { .mode = 0100644, .nlink = 1 };
	struct jrx_clock_val cv = { 1700000000, 7 };
	struct jrx_bkey *k;
	const char *why;

	if (!x->buf)
		x->buf = calloc(1, JAVAIL);
	assert_non_null(x->buf);
	memset(x->buf, 0, JAVAIL);
	x->j = (struct jrx_jset *)x->buf;
	x->j->version = JRX_FORMAT_VERSION;
	x->j->magic = JMAGIC;
	x->j->seq = 10;
	x->j->last_seq = 9;
	k = th_key_inode(kb, jrx_bpos(4096, 0, JRX_SNAPSHOT_DEFAULT), &iv);
	x->keys = add_entry(x, JRX_JE_BTREE_KEYS, JRX_BTREE_INODES, 0, k, k->u64s);
	k = th_key_btree_ptr(rb, JRX_POS_MAX, JRX_POS_MIN, 0, 4096, 77);
	x->root = add_entry(x, JRX_JE_BTREE_ROOT, JRX_BTREE_INODES, 0, k, k->u64s);
	x->bl = add_entry(x, JRX_JE_BLACKLIST, 0, 0, blv, 2);
	x->clock = add_entry(x, JRX_JE_CLOCK, 0, 0, &cv, 2);
	jrx_jset_set_csum(x->j);
	assert_jrx_ok(jrx_jset_validate(x->j, JAVAIL, JMAGIC, &why));
}

/* After a change to x (csum fixed up if fix), refused as want naming must. */
static void expect_jset(struct jfx *x, bool fix, int want, const char *must,
			const char *what)
{
	const char *why = NULL;
	int got;

	if (fix)
		jrx_jset_set_csum(x->j);
	got = jrx_jset_validate(x->j, JAVAIL, JMAGIC, &why);
	if (got != want || !why || !strstr(why, must))
		fail_msg("jset with %s: got %s (%s), expected %s naming \"%s\"",
			 what, th_errname(got), why ? why : "-",
			 th_errname(want), must);
}

#define JSET_BAD(x, fix, must, what) \
	expect_jset((x), (fix), -JRX_ERR_JSET_INVALID, (must), (what))

static void test_jset_u64s(void **state)
{
	struct jfx x = { 0 };

	(void)state;
	jset_make(&x);
	/* huge: never summed into a wrapped length, never checksummed */
	x.j->u64s = UINT32_MAX;
	JSET_BAD(&x, false, "u64s runs past the end of its bucket", "u64s 2^32-1");
	x.j->u64s = (JAVAIL - 40) / 8 + 1;
	JSET_BAD(&x, false, "u64s runs past the end of its bucket",
		 "u64s one word past its bucket");
	/* the rounded size counts too: 40 + 8 * u64s fits, its blocks do not */
	jset_make(&x);
	assert_jrx_err(jrx_jset_validate(x.j, 4096 - 8, JMAGIC,
					 &(const char *){ NULL }),
		       -JRX_ERR_JSET_INVALID);
	/* zero entries is a valid (empty) jset */
	jset_make(&x);
	x.j->u64s = 0;
	jrx_jset_set_csum(x.j);
	assert_jrx_ok(jrx_jset_validate(x.j, JAVAIL, JMAGIC, &(const char *){ NULL }));
	/* less than a header before the end of the bucket */
	assert_jrx_err(jrx_jset_validate(x.j, 39, JMAGIC, &(const char *){ NULL }),
		       -JRX_ERR_JSET_INVALID);
	free(x.buf);
}

static void test_jset_seq(void **state)
{
	struct jfx x = { 0 };

	(void)state;
	jset_make(&x);
	x.j->seq = 0;
	x.j->last_seq = 0;
	JSET_BAD(&x, true, "seq is 0", "seq 0");
	jset_make(&x);
	x.j->last_seq = UINT64_MAX;
	JSET_BAD(&x, true, "last_seq above seq", "last_seq 2^64-1");
	jset_make(&x);
	x.j->seq = UINT64_MAX;		/* huge but ordered: valid */
	jrx_jset_set_csum(x.j);
	assert_jrx_ok(jrx_jset_validate(x.j, JAVAIL, JMAGIC, &(const char *){ NULL }));
	free(x.buf);
}

static void test_jset_version(void **state)
{
	struct jfx x = { 0 };

	(void)state;
	jset_make(&x);
	x.j->version = 0;
	JSET_BAD(&x, true, "version", "version 0");
	x.j->version = UINT32_MAX;
	JSET_BAD(&x, true, "version", "version 2^32-1");
	jset_make(&x);
	x.j->version = 0;		/* not covered by the csum: no fix-up */
	JSET_BAD(&x, false, "version", "version 0, csum untouched");
	jset_make(&x);
	x.j->seq++;
	expect_jset(&x, false, -JRX_ERR_JSET_CSUM, "checksum", "a stale csum");
	free(x.buf);
}

static void test_entry_u64s(void **state)
{
	struct jfx x = { 0 };

	(void)state;
	jset_make(&x);
	x.clock->u64s = UINT16_MAX;	/* the last entry: past the jset */
	JSET_BAD(&x, true, "entry u64s runs past the end of the jset",
		 "clock entry u64s 65535");
	jset_make(&x);
	x.clock->u64s = 3;		/* one word past */
	JSET_BAD(&x, true, "entry u64s runs past the end of the jset",
		 "clock entry one word past");
	jset_make(&x);
	x.keys->u64s = UINT16_MAX;
	JSET_BAD(&x, true, "entry u64s runs past the end of the jset",
		 "keys entry u64s 65535");
	jset_make(&x);
	x.clock->u64s = 0;		/* a hole inside: the clock loses a word */
	JSET_BAD(&x, true, "clock entry u64s is not 2", "clock entry u64s 0");
	jset_make(&x);
	x.root->u64s = 0;
	JSET_BAD(&x, true, "btree_root entry u64s", "root entry u64s 0");
	jset_make(&x);
	x.bl->u64s = 1;
	JSET_BAD(&x, true, "blacklist entry u64s", "blacklist entry u64s 1");
	/* an entry header as the last word: its payload (0 words) fits */
	jset_make(&x);
	x.keys->u64s = 0;
	JSET_BAD(&x, true, "", "keys entry u64s 0 (the next entry is its key)");
	free(x.buf);
}

static void test_entry_fields(void **state)
{
	struct jfx x = { 0 };

	(void)state;
	jset_make(&x);
	x.keys->btree_id = 255;
	JSET_BAD(&x, true, "entry btree_id", "btree_id 255");
	jset_make(&x);
	x.keys->level = 255;
	JSET_BAD(&x, true, "entry level", "level 255");
	jset_make(&x);
	x.keys->type = 0;
	JSET_BAD(&x, true, "entry type", "type 0");
	jset_make(&x);
	x.keys->type = 255;
	JSET_BAD(&x, true, "entry type", "type 255");
	jset_make(&x);
	jrx_je_keys(x.root)->type = JRX_KEY_WHITEOUT;
	JSET_BAD(&x, true, "btree_root entry key type", "root key a whiteout");
	free(x.buf);
}

/* A key inside a journal entry: its own fields, bounded by the entry. */
static void test_entry_key_u64s(void **state)
{
	struct jfx x = { 0 };

	(void)state;
	jset_make(&x);
	jrx_je_keys(x.keys)->u64s = UINT16_MAX;
	JSET_BAD(&x, true, "key u64s out of range", "key u64s 65535");
	jset_make(&x);
	jrx_je_keys(x.keys)->u64s = 0;
	JSET_BAD(&x, true, "key u64s out of range", "key u64s 0");
	jset_make(&x);
	jrx_je_keys(x.keys)->u64s++;	/* one word past its entry */
	JSET_BAD(&x, true, "key u64s runs past its container", "key one past");
	free(x.buf);
}

/* ------------------------------------------------------------ bsets */

#define NMAGIC	0x6e6f64652d746573ull
#define NONCE	0x1234567890abcdefull

struct nfx {
	uint8_t *node;		/* NODE bytes */
	struct jrx_btree_node *h;
	struct jrx_bset *b;
};

/* A node of one bset of 3 inode keys, its written part one block. */
static void node_make(struct nfx *x)
{
	struct jrx_inode_val iv = { .mode = 0100644, .nlink = 1 };
	uint64_t kb[TH_KEY_WORDS];
	char *p;

	if (!x->node)
		x->node = calloc(1, NODE);
	assert_non_null(x->node);
	memset(x->node, 0, NODE);
	x->h = (struct jrx_btree_node *)x->node;
	x->h->version = JRX_FORMAT_VERSION;
	x->h->magic = NMAGIC;
	x->h->nonce = NONCE;
	x->h->btree_id = JRX_BTREE_INODES;
	x->h->min_key = JRX_POS_MIN;
	x->h->max_key = JRX_POS_MAX;
	jrx_node_set_csum(x->h);
	x->b = (struct jrx_bset *)(x->h + 1);
	x->b->nonce = NONCE;
	x->b->journal_seq = 5;
	p = (char *)(x->b + 1);
	for (unsigned i = 0; i < 3; i++) {
		struct jrx_bkey *k = th_key_inode(kb, jrx_bpos(4096 + i, 0,
						  JRX_SNAPSHOT_DEFAULT), &iv);

		memcpy(p, k, jrx_bkey_bytes(k));
		p += jrx_bkey_bytes(k);
		x->b->u64s += k->u64s;
	}
	jrx_bset_set_csum(x->b);
}

static void expect_bset(struct nfx *x, size_t off, size_t end, bool fix,
			int want, const char *must, const char *what)
{
	const char *why = NULL;
	int got;

	if (fix)
		jrx_bset_set_csum(x->b);
	got = jrx_bset_validate(x->b, off, end, NONCE, &why);
	if (got != want || !why || !strstr(why, must))
		fail_msg("bset with %s: got %s (%s), expected %s naming \"%s\"",
			 what, th_errname(got), why ? why : "-",
			 th_errname(want), must);
}

#define BSET_BAD(x, fix, must, what)					\
	expect_bset((x), sizeof(struct jrx_btree_node), 4096, (fix),	\
		    -JRX_ERR_NODE_INVALID, (must), (what))

static void test_bset_u64s(void **state)
{
	struct nfx x = { 0 };
	const char *why;

	(void)state;
	node_make(&x);
	assert_jrx_ok(jrx_bset_validate(x.b, 80, 4096, NONCE, &why));
	x.b->u64s = UINT32_MAX;
	BSET_BAD(&x, false, "bset u64s runs past the node's written part",
		 "u64s 2^32-1");
	x.b->u64s = (4096 - 80 - 32) / 8 + 1;
	BSET_BAD(&x, false, "bset u64s runs past the node's written part",
		 "u64s one word past");
	/* zero keys: a valid, empty bset */
	node_make(&x);
	x.b->u64s = 0;
	jrx_bset_set_csum(x.b);
	assert_jrx_ok(jrx_bset_validate(x.b, 80, 4096, NONCE, &why));
	free(x.node);
}

static void test_bset_offset(void **state)
{
	struct nfx x = { 0 };

	(void)state;
	node_make(&x);
	/* an offset whose header end wraps: refused, not read */
	expect_bset(&x, SIZE_MAX - 8, 4096, false, -JRX_ERR_NODE_INVALID,
		    "bset header runs past", "offset SIZE_MAX - 8");
	expect_bset(&x, 4096 - 31, 4096, false, -JRX_ERR_NODE_INVALID,
		    "bset header runs past", "header one byte past");
	free(x.node);
}

static void test_bset_block(void **state)
{
	struct nfx x = { 0 };

	(void)state;
	node_make(&x);
	x.b->block = UINT32_MAX;
	BSET_BAD(&x, true, "bset block", "block 2^32-1");
	x.b->block = 1;
	BSET_BAD(&x, true, "bset block", "block 1 at byte 80");
	node_make(&x);
	x.b->nonce = 0;
	BSET_BAD(&x, true, "bset nonce", "nonce 0");
	free(x.node);
}

static void test_bset_flags(void **state)
{
	struct nfx x = { 0 };

	(void)state;
	node_make(&x);
	x.b->flags = UINT32_MAX;
	BSET_BAD(&x, true, "bset flags", "flags 2^32-1");
	node_make(&x);
	x.b->journal_seq++;
	expect_bset(&x, 80, 4096, false, -JRX_ERR_NODE_CSUM, "checksum",
		    "a stale csum");
	free(x.node);
}

/* The node's written length, from the pointer: zero or huge. */
static void test_node_written(void **state)
{
	struct nfx x = { 0 };
	struct jrx_bnode *n = jrx_bnode_alloc();
	const char *why;

	(void)state;
	node_make(&x);
	assert_jrx_ok(jrx_bnode_decode(n, x.node, NODE, 4096, NMAGIC, NULL, &why));
	assert_int_equal(n->nr, 3);
	assert_jrx_err(jrx_bnode_decode(n, x.node, NODE, 0, NMAGIC, NULL, &why),
		       -JRX_ERR_NODE_INVALID);
	assert_contains(why, "written length");
	assert_jrx_err(jrx_bnode_decode(n, x.node, NODE, SIZE_MAX & ~4095ul,
					NMAGIC, NULL, &why),
		       -JRX_ERR_NODE_INVALID);
	assert_contains(why, "written length");
	/* a key longer than its bset, inside the written part */
	jrx_bkey_next(jrx_bkey_next((struct jrx_bkey *)(x.b + 1)))->u64s = 512;
	jrx_bset_set_csum(x.b);
	assert_jrx_err(jrx_bnode_decode(n, x.node, NODE, 4096, NMAGIC, NULL, &why),
		       -JRX_ERR_NODE_INVALID);
	assert_contains(why, "key u64s runs past its container");
	/* the header's own fields */
	node_make(&x);
	x.h->level = 255;
	jrx_node_set_csum(x.h);
	assert_jrx_err(jrx_node_hdr_validate(x.h, NMAGIC, &why),
		       -JRX_ERR_NODE_INVALID);
	assert_contains(why, "level");
	x.h->level = 0;
	x.h->btree_id = 255;
	jrx_node_set_csum(x.h);
	assert_jrx_err(jrx_node_hdr_validate(x.h, NMAGIC, &why),
		       -JRX_ERR_NODE_INVALID);
	assert_contains(why, "btree_id");
	jrx_bnode_free(n);
	free(x.node);
}

/* ------------------------------------------------------------ keys */

static void expect_key(const struct jrx_bkey *k, size_t avail, unsigned btree,
		       unsigned level, const char *must, const char *what)
{
	const char *why = NULL;
	int got = jrx_bkey_validate(k, avail, btree, level, &why);

	if (got != -JRX_ERR_KEY_INVALID || !why || !strstr(why, must))
		fail_msg("key with %s: got %s (%s), expected JRX_ERR_KEY_INVALID"
			 " naming \"%s\"", what, th_errname(got), why ? why : "-",
			 must);
}

static struct jrx_bkey *inode_key(uint64_t *kb)
{
	struct jrx_inode_val iv = { .mode = 0100644, .nlink = 1 };

	return th_key_inode(kb, jrx_bpos(4096, 0, JRX_SNAPSHOT_DEFAULT), &iv);
}

static void test_key_u64s(void **state)
{
	uint64_t kb[TH_KEY_WORDS + 8] = { 0 };
	struct jrx_bkey *k = inode_key(kb);
	const size_t avail = sizeof(kb);
	const char *why;

	(void)state;
	assert_jrx_ok(jrx_bkey_validate(k, avail, JRX_BTREE_INODES, 0, &why));
	k->u64s = 0;
	expect_key(k, avail, JRX_BTREE_INODES, 0, "key u64s out of range", "u64s 0");
	k->u64s = 4;
	expect_key(k, avail, JRX_BTREE_INODES, 0, "key u64s out of range", "u64s 4");
	k->u64s = 513;
	expect_key(k, avail, JRX_BTREE_INODES, 0, "key u64s out of range", "u64s 513");
	k->u64s = UINT16_MAX;
	expect_key(k, avail, JRX_BTREE_INODES, 0, "key u64s out of range",
		   "u64s 65535");
	k->u64s = 11;
	expect_key(k, 80, JRX_BTREE_INODES, 0, "key u64s runs past its container",
		   "u64s past avail");
	expect_key(k, 39, JRX_BTREE_INODES, 0, "key header runs past",
		   "avail 39");
	k->u64s = 5;			/* an inode value needs 6 more words */
	expect_key(k, avail, JRX_BTREE_INODES, 0, "key u64s too small",
		   "u64s 5 on an inode");
}

static void test_key_size(void **state)
{
	uint64_t kb[TH_KEY_WORDS] = { 0 };
	struct jrx_bkey *k;

	(void)state;
	k = th_key_extent(kb, jrx_bpos(4096, 16, JRX_SNAPSHOT_DEFAULT), 8, 0,
			  4096, 0, 1);
	k->size = 0;
	expect_key(k, sizeof(kb), JRX_BTREE_EXTENTS, 0, "extent size is 0",
		   "extent size 0");
	k->size = UINT32_MAX;
	expect_key(k, sizeof(kb), JRX_BTREE_EXTENTS, 0, "extent size above p.offset",
		   "extent size 2^32-1");
	k = inode_key(kb);
	k->size = UINT32_MAX;
	expect_key(k, sizeof(kb), JRX_BTREE_INODES, 0, "key size set",
		   "inode size 2^32-1");
}

static void test_key_version(void **state)
{
	uint64_t kb[TH_KEY_WORDS] = { 0 };
	struct jrx_bkey *k = inode_key(kb);

	(void)state;
	k->version = UINT64_MAX;
	expect_key(k, sizeof(kb), JRX_BTREE_INODES, 0, "key version",
		   "inode version 2^64-1");
}

static void test_key_header_fields(void **state)
{
	uint64_t kb[TH_KEY_WORDS] = { 0 };
	struct jrx_bkey *k = inode_key(kb);

	(void)state;
	k->type = 255;
	expect_key(k, sizeof(kb), JRX_BTREE_INODES, 0, "key type", "type 255");
	k = inode_key(kb);
	k->flags = 255;
	expect_key(k, sizeof(kb), JRX_BTREE_INODES, 0, "key flags", "flags 255");
	k = inode_key(kb);
	k->p.pad = UINT32_MAX;
	expect_key(k, sizeof(kb), JRX_BTREE_INODES, 0, "key p.pad", "p.pad");
	k = inode_key(kb);
	expect_key(k, sizeof(kb), 255, 0, "btree id", "btree 255");
	expect_key(k, sizeof(kb), JRX_BTREE_INODES, 255, "level", "level 255");
}

static void test_key_dirent_name_len(void **state)
{
	uint64_t kb[TH_KEY_WORDS] = { 0 };
	struct jrx_bkey *k = th_key_dirent(kb, jrx_bpos(4096, 5, 0), 4097, 8, "a");
	struct jrx_dirent_val *d = jrx_bkey_val(k);

	(void)state;
	d->name_len = 0;
	expect_key(k, sizeof(kb), JRX_BTREE_DIRENTS, 0, "dirent name_len is 0",
		   "name_len 0");
	d->name_len = 255;
	expect_key(k, sizeof(kb), JRX_BTREE_DIRENTS, 0,
		   "dirent name_len runs past the value", "name_len 255");
}

static void test_key_xattr_lens(void **state)
{
	uint64_t kb[TH_KEY_WORDS] = { 0 };
	struct jrx_bkey *k = th_key_xattr(kb, jrx_bpos(4096, 5, 0), "n", "v", 1);
	struct jrx_xattr_val *x = jrx_bkey_val(k);

	(void)state;
	x->name_len = 0;
	expect_key(k, sizeof(kb), JRX_BTREE_XATTRS, 0, "xattr name_len is 0",
		   "name_len 0");
	x->name_len = 255;
	expect_key(k, sizeof(kb), JRX_BTREE_XATTRS, 0,
		   "xattr name_len + value_len", "name_len 255");
	x->name_len = 1;
	x->value_len = UINT16_MAX;
	expect_key(k, sizeof(kb), JRX_BTREE_XATTRS, 0,
		   "xattr name_len + value_len", "value_len 65535");
}

static void test_key_alloc_data_type(void **state)
{
	uint64_t kb[TH_KEY_WORDS] = { 0 };
	struct jrx_bkey *k = th_key_alloc(kb, jrx_bpos(0, 5, 0), 1, 0, 0);

	(void)state;
	((struct jrx_alloc_val *)jrx_bkey_val(k))->data_type = 255;
	expect_key(k, sizeof(kb), JRX_BTREE_ALLOC, 0, "alloc data_type",
		   "data_type 255");
}

static void test_key_ptr_blocks(void **state)
{
	uint64_t kb[TH_KEY_WORDS] = { 0 };
	struct jrx_bkey *k = th_key_btree_ptr(kb, JRX_POS_MAX, JRX_POS_MIN, 0,
					      4096, 1);

	(void)state;
	((struct jrx_btree_ptr_val *)jrx_bkey_val(k))->blocks = 0;
	expect_key(k, sizeof(kb), JRX_BTREE_INODES, 1, "btree pointer blocks is 0",
		   "blocks 0");
}

/* ------------------------------------------------------------ end to end */

#ifndef JRX_BIN
#error "JRX_BIN: the jrx binary (tests/CMakeLists.txt)"
#endif

/* Run `jrx args...`; its exit code, its stdout and stderr into out. */
static int run_jrx(const char *const *args, char *out, size_t len)
{
	const char *argv[16] = { JRX_BIN };
	int pfd[2], status;
	size_t got = 0, n = 1;
	pid_t pid;

	for (; *args && n < 15; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	assert_int_equal(pipe(pfd), 0);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(pfd[1], 1);
		dup2(pfd[1], 2);
		close(pfd[0]);
		close(pfd[1]);
		execv(JRX_BIN, (char *const *)argv);
		_exit(127);
	}
	close(pfd[1]);
	for (;;) {
		ssize_t r = read(pfd[0], out + got, len - 1 - got);

		if (r <= 0)
			break;
		got += (size_t)r;
		if (got == len - 1) {	/* drain what does not fit */
			char sink[4096];

			while (read(pfd[0], sink, sizeof(sink)) > 0)
				;
			break;
		}
	}
	out[got] = 0;
	close(pfd[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Every command that opens the array fails, named, and writes nothing. */
static void expect_cli_refuses(struct fx *f, const char *must, const char *what)
{
	static const char *const cmds[][3] = {
		{ "show-super", NULL }, { "journal", NULL }, { "dump", NULL },
		{ "recover", "-n", NULL }, { "fsck", "-n", NULL },
	};
	struct th_file_state before, after;
	char *out = malloc(1 << 16);

	assert_non_null(out);
	for (size_t c = 0; c < sizeof(cmds) / sizeof(cmds[0]); c++) {
		const char *args[6];
		size_t n = 0;
		int code;

		for (size_t i = 0; cmds[c][i]; i++)
			args[n++] = cmds[c][i];
		args[n++] = f->p;
		args[n] = NULL;
		th_file_state(f->p, &before);
		code = run_jrx(args, out, 1 << 16);
		th_file_state(f->p, &after);
		if (!code)
			fail_msg("%s: jrx %s %s exited 0; output:\n%s", what,
				 cmds[c][0], cmds[c][1] ? cmds[c][1] : "", out);
		if (code == 127 || code >= 128)
			fail_msg("%s: jrx %s did not run or died (%d):\n%s", what,
				 cmds[c][0], code, out);
		if (!strstr(out, must) || !strstr(out, f->p))
			fail_msg("%s: jrx %s (exit %d) does not name \"%s\" and"
				 " the device; output:\n%s", what, cmds[c][0],
				 code, must, out);
		if (strstr(out, "Cannot allocate memory"))
			fail_msg("%s: jrx %s ran out of memory:\n%s", what,
				 cmds[c][0], out);
		if (before.hash != after.hash || before.size != after.size ||
		    before.mtime_ns != after.mtime_ns)
			fail_msg("%s: jrx %s changed the device (hash %#" PRIx64
				 " -> %#" PRIx64 ", size %" PRIu64 " -> %" PRIu64
				 ", mtime %" PRId64 " -> %" PRId64 ")", what,
				 cmds[c][0], before.hash, after.hash,
				 before.size, after.size, before.mtime_ns,
				 after.mtime_ns);
	}
	free(out);
}

static void test_cli_nbuckets_wraps(void **state)
{
	struct fx *f = *state;

	craft(f, SB_FIELD("nbuckets", members[0].nbuckets), 0x100000000400ull);
	expect_cli_refuses(f, "member 0: nbuckets 17592186045440 is above the"
			   " limit 4294967296", "nbuckets 0x100000000400");
	/* within the limit, past the device */
	craft(f, SB_FIELD("nbuckets", members[0].nbuckets), JRX_MAX_NBUCKETS);
	expect_cli_refuses(f, "superblock member 0: nbuckets 4294967296 of"
			   " 1048576 bytes does not fit the device (67108864"
			   " bytes", "nbuckets 2^32");
	restore(f);
}

static void test_cli_journal_bucket_wraps(void **state)
{
	struct fx *f = *state;

	craft(f, SB_FIELD("journal_bucket", members[0].journal_bucket),
	      0xfffffffffffffff0ull);
	expect_cli_refuses(f, "member 0: journal_bucket 18446744073709551600 +"
			   " journal_nr 8 runs past nbuckets 64",
			   "journal_bucket 0xfffffffffffffff0");
	restore(f);
}

/* The restored device is whole again: the crafts above were the cause. */
static void test_cli_restored_opens(void **state)
{
	struct fx *f = *state;
	const char *args[] = { "show-super", f->p, NULL };
	char *out = malloc(1 << 16);

	restore(f);
	if (run_jrx(args, out, 1 << 16))
		fail_msg("jrx show-super of the restored device failed:\n%s", out);
	free(out);
}

int main(void)
{
#define T(fn) cmocka_unit_test(fn)
	const struct CMUnitTest tests[] = {
		T(test_sb_formatted_is_valid),
		T(test_sb_version),
		T(test_sb_block_size),
		T(test_sb_bucket_size),
		T(test_sb_btree_node_size),
		T(test_sb_nr_devices),
		T(test_sb_dev_idx),
		T(test_sb_metadata_replicas),
		T(test_sb_nr_blacklist),
		T(test_sb_blacklist_range),
		T(test_member_state),
		T(test_member_nbuckets),
		T(test_member_first_bucket),
		T(test_member_journal_bucket),
		T(test_member_journal_nr),
		T(test_root_btree_id),
		T(test_root_level),
		T(test_root_key_type),
		T(test_root_dev),
		T(test_root_blocks),
		T(test_root_sector),
		T(test_node_range),
		T(test_array_nbuckets_wraps),
		T(test_array_nbuckets_past_device),
		T(test_array_journal_bucket_wraps),
		T(test_array_first_bucket_wraps),
		T(test_array_root_sector_wraps),
		T(test_array_bad_primary_noted),
		T(test_bucket_table_bounded),
		T(test_open_allocates_nothing_first),
		T(test_store_refuses_wrapped_pointer),
		T(test_jset_u64s),
		T(test_jset_seq),
		T(test_jset_version),
		T(test_entry_u64s),
		T(test_entry_fields),
		T(test_entry_key_u64s),
		T(test_bset_u64s),
		T(test_bset_offset),
		T(test_bset_block),
		T(test_bset_flags),
		T(test_node_written),
		T(test_key_u64s),
		T(test_key_size),
		T(test_key_version),
		T(test_key_header_fields),
		T(test_key_dirent_name_len),
		T(test_key_xattr_lens),
		T(test_key_alloc_data_type),
		T(test_key_ptr_blocks),
		T(test_cli_nbuckets_wraps),
		T(test_cli_journal_bucket_wraps),
		T(test_cli_restored_opens),
	};

	return th_exit_code(cmocka_run_group_tests(tests, setup, teardown));
}
