/*
 * test_array_open.c - formatting an array and opening its member devices
 * (src/btree/mkfs, src/io/array, FORMAT.md §3): the layout jrx_format
 * writes; devices given in any order are placed by member index; what is
 * refused and how it is named in jrx_diag() (not a jrx device, truncated,
 * missing, of another array, given twice, no valid superblock); a bad
 * primary superblock falls back to the backup and says so in a->notes; a
 * newer backup or an older device is picked up and noted; a superblock
 * write interrupted between the backup and primary passes still opens;
 * opening read-only (array, and fs on top) writes nothing; and jrx_format
 * rejects bad options and too-small devices; the write queue (io/wq.h,
 * on io_uring, aio and pread helper threads)
 * lands every write, stops at an injected crash and refuses read-only
 * devices, and an automatic queue on a host refusing both kernel
 * interfaces opens on the helpers.
 *
 * Devices are 64 MiB sparse files, bucket 256 KiB, node 64 KiB.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "helpers.h"
#include "btree/fs.h"
#include "format/sb.h"
#include "btree/mkfs.h"
#include "io/wq.h"

#define NDEV 3
#define DEV_SIZE (64ull << 20)
#define BUCKET (256u << 10)
#define NODE (64u << 10)

static const struct th_geom GEOM = {
	.size = DEV_SIZE, .bucket_size = BUCKET, .node_size = NODE,
	.replicas = 2, .journal_size = 0,
};

struct fx {
	struct th_dir dir;
	char p[NDEV][256];
	const char *paths[NDEV];
	struct jrx_array a;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	th_dir_make(&f->dir);
	for (int i = 0; i < NDEV; i++) {
		char name[16];

		snprintf(name, sizeof(name), "dev%d", i);
		th_path(f->p[i], &f->dir, name);
		f->paths[i] = f->p[i];
	}
	assert_jrx_ok(th_format(f->paths, NDEV, &GEOM));
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	jrx_dev_crash_after_writes(0);
	th_dir_remove(&f->dir);
	free(f);
	return 0;
}

static void read_sb_copy(const char *path, uint64_t off, struct jrx_sb *sb)
{
	th_file_pread(path, sb, sizeof(*sb), off);
}

static void corrupt(const char *path, uint64_t off)
{
	static const uint8_t junk[16] = {
		0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa,
		0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55,
	};

	th_file_pwrite(path, junk, sizeof(junk), off);
}

/* ------------------------------------------------------------ layout, order */

static void test_format_layout(void **state)
{
	struct fx *f = *state;
	struct jrx_sb *sb = malloc(sizeof(*sb)), *sb0 = malloc(sizeof(*sb));

	for (int i = 0; i < NDEV; i++) {
		char why[JRX_SB_WHY];

		assert_int_equal(th_file_size(f->p[i]), DEV_SIZE);
		for (int c = 0; c < 2; c++) {
			read_sb_copy(f->p[i], c ? JRX_SB_BACKUP_OFFSET :
				     JRX_SB_PRIMARY_OFFSET, sb);
			assert_jrx_ok(jrx_sb_validate(sb, why, sizeof(why)));
			assert_int_equal(sb->dev_idx, i);
			assert_int_equal(sb->nr_devices, NDEV);
			assert_int_equal(sb->bucket_size, BUCKET);
			assert_int_equal(sb->btree_node_size, NODE);
			assert_int_equal(sb->metadata_replicas, 2);
			assert_int_equal(sb->block_size, 4096);
			assert_int_equal(sb->flags, JRX_SB_CLEAN);
			assert_int_equal(sb->journal_seq, 0);
			assert_int_equal(sb->nr_blacklist, 0);
			assert_memory_equal(sb->dev_uuid, sb->members[i].uuid, 16);
			for (int m = 0; m < NDEV; m++) {
				const struct jrx_member *mb = &sb->members[m];

				assert_int_equal(mb->state, 1);
				assert_int_equal(mb->nbuckets, DEV_SIZE / BUCKET);
				assert_int_equal(mb->first_bucket, 4);	/* 1 MiB */
				assert_int_equal(mb->journal_bucket, 4);
				/* default journal: 1/16 of the device */
				assert_int_equal(mb->journal_nr, DEV_SIZE / 16 / BUCKET);
			}
			for (int r = 0; r < JRX_BTREE_NR; r++) {
				assert_int_equal(sb->roots[r].present, 1);
				assert_int_equal(sb->roots[r].btree_id, r);
				assert_int_equal(sb->roots[r].level, 0);
				assert_true(jrx_bpos_eq(sb->roots[r].k.p, JRX_POS_MAX));
			}
			assert_int_equal(sb->roots[6].present, 0);
			assert_int_equal(sb->roots[7].present, 0);
			if (i == 0 && c == 0)
				memcpy(sb0, sb, sizeof(*sb));
			/* every copy is the same superblock but for dev_idx,
			 * dev_uuid and csum (§3.3) */
			sb->dev_idx = 0;
			memcpy(sb->dev_uuid, sb0->dev_uuid, 16);
			sb->csum = sb0->csum;
			assert_memory_equal(sb, sb0, sizeof(*sb));
		}
	}
	/* member uuids are distinct */
	assert_memory_not_equal(sb0->members[0].uuid, sb0->members[1].uuid, 16);
	assert_memory_not_equal(sb0->members[1].uuid, sb0->members[2].uuid, 16);
	free(sb);
	free(sb0);
}

static void test_open_any_order(void **state)
{
	static const int perms[6][3] = {
		{ 0, 1, 2 }, { 0, 2, 1 }, { 1, 0, 2 },
		{ 1, 2, 0 }, { 2, 0, 1 }, { 2, 1, 0 },
	};
	struct fx *f = *state;

	for (int p = 0; p < 6; p++) {
		const char *given[NDEV];

		for (int i = 0; i < NDEV; i++)
			given[i] = f->paths[perms[p][i]];
		assert_jrx_ok(jrx_array_open(&f->a, given, NDEV, JRX_OPEN_RDONLY));
		assert_int_equal(f->a.nr_devs, NDEV);
		for (int i = 0; i < NDEV; i++) {
			assert_non_null(f->a.devs[i].path);
			if (strcmp(f->a.devs[i].path, f->paths[i]))
				fail_msg("order %d%d%d: member %d is %s, expected %s",
					 perms[p][0], perms[p][1], perms[p][2], i,
					 f->a.devs[i].path, f->paths[i]);
			assert_int_equal(f->a.devs[i].size, DEV_SIZE);
			assert_true(f->a.devs[i].rdonly);
		}
		for (int i = NDEV; i < (int)JRX_MAX_DEVICES; i++)
			assert_int_equal(f->a.devs[i].fd, -1);
		assert_string_equal(f->a.notes, "");
		assert_int_equal(f->a.sb.nr_devices, NDEV);
		assert_int_equal(f->a.sb.flags, JRX_SB_CLEAN);
		assert_int_equal(f->a.jset_magic, jrx_jset_magic(f->a.sb.uuid));
		assert_int_equal(f->a.node_magic, jrx_node_magic(f->a.sb.uuid));
		assert_true(f->a.rdonly);
		jrx_array_close(&f->a);
		assert_int_equal(f->a.devs[0].fd, -1);
	}
	/* read-write too */
	assert_jrx_ok(jrx_array_open(&f->a, f->paths, NDEV, 0));
	assert_false(f->a.rdonly);
	assert_false(f->a.devs[1].rdonly);
	jrx_array_close(&f->a);
}

/* ------------------------------------------------------------ refusals */

static void expect_refused(struct fx *f, const char *const *given, unsigned n,
			   int want, const char *must_name)
{
	jrx_diag_clear();
	assert_jrx_err(jrx_array_open(&f->a, given, n, JRX_OPEN_RDONLY), want);
	if (must_name)
		assert_contains(jrx_diag(), must_name);
	/* nothing stays open after a refusal */
	for (unsigned i = 0; i < JRX_MAX_DEVICES; i++)
		assert_int_equal(f->a.devs[i].fd, -1);
}

static void test_not_jrx(void **state)
{
	struct fx *f = *state;
	char zeros[256], rnd[256], tiny[256], missing[256];
	const char *given[NDEV];
	uint8_t *buf = malloc(1 << 20);
	uint64_t rng = 1234;

	th_path(zeros, &f->dir, "zeros");
	th_path(rnd, &f->dir, "random");
	th_path(tiny, &f->dir, "tiny");
	th_path(missing, &f->dir, "does-not-exist");
	th_sparse_file(zeros, DEV_SIZE);
	th_sparse_file(rnd, DEV_SIZE);
	th_rand_bytes(&rng, buf, 1 << 20);
	th_file_pwrite(rnd, buf, 1 << 20, 0);
	th_sparse_file(tiny, 100);

	given[0] = f->paths[0];
	given[1] = zeros;
	given[2] = f->paths[2];
	expect_refused(f, given, NDEV, -JRX_ERR_NOT_JRX, zeros);
	assert_contains(jrx_diag(), "not a jrx device");
	given[1] = rnd;
	expect_refused(f, given, NDEV, -JRX_ERR_NOT_JRX, rnd);
	/* first in the list, too */
	given[0] = rnd;
	given[1] = f->paths[1];
	expect_refused(f, given, NDEV, -JRX_ERR_NOT_JRX, rnd);
	given[0] = tiny;
	expect_refused(f, given, NDEV, -JRX_ERR_NOT_JRX, tiny);
	/* a directory is neither a file nor a block device */
	given[0] = f->dir.path;
	expect_refused(f, given, NDEV, -JRX_ERR_NOT_JRX, f->dir.path);
	given[0] = missing;
	expect_refused(f, given, NDEV, -ENOENT, missing);
	/* no device at all */
	assert_jrx_err(jrx_array_open(&f->a, given, 0, JRX_OPEN_RDONLY),
		       -JRX_ERR_BAD_OPTION);
	free(buf);
}

static void test_truncated(void **state)
{
	struct fx *f = *state;

	th_file_truncate(f->p[2], DEV_SIZE - 1);
	expect_refused(f, f->paths, NDEV, -JRX_ERR_DEV_TRUNCATED, f->p[2]);
	th_file_truncate(f->p[2], 32ull << 20);
	expect_refused(f, f->paths, NDEV, -JRX_ERR_DEV_TRUNCATED, f->p[2]);
	assert_contains(jrx_diag(), "33554432");	/* its size */
	/* a device larger than its superblock says is fine */
	th_file_truncate(f->p[2], DEV_SIZE + (1 << 20));
	assert_jrx_ok(jrx_array_open(&f->a, f->paths, NDEV, JRX_OPEN_RDONLY));
	jrx_array_close(&f->a);
}

static void test_missing(void **state)
{
	struct fx *f = *state;
	const char *given[2] = { f->paths[2], f->paths[0] };

	expect_refused(f, given, 2, -JRX_ERR_DEV_MISSING, "member 1");
	given[0] = f->paths[1];
	expect_refused(f, given, 1, -JRX_ERR_DEV_MISSING, "member 0");
}

static void test_other_array(void **state)
{
	struct fx *f = *state;
	char b[NDEV][256];
	const char *bp[NDEV], *given[NDEV];

	for (int i = 0; i < NDEV; i++) {
		char name[16];

		snprintf(name, sizeof(name), "other%d", i);
		th_path(b[i], &f->dir, name);
		bp[i] = b[i];
	}
	assert_jrx_ok(th_format(bp, NDEV, &GEOM));
	given[0] = f->paths[0];
	given[1] = f->paths[1];
	given[2] = bp[2];
	expect_refused(f, given, NDEV, -JRX_ERR_DEV_OTHER_ARRAY, bp[2]);
	given[0] = bp[0];
	given[1] = f->paths[1];
	given[2] = f->paths[2];
	expect_refused(f, given, NDEV, -JRX_ERR_DEV_OTHER_ARRAY, f->paths[1]);
	/* the other array opens on its own */
	assert_jrx_ok(jrx_array_open(&f->a, bp, NDEV, JRX_OPEN_RDONLY));
	jrx_array_close(&f->a);
}

static void test_duplicate(void **state)
{
	struct fx *f = *state;
	char link[256];
	const char *given[NDEV + 1] = {
		f->paths[0], f->paths[1], f->paths[0], f->paths[2],
	};

	expect_refused(f, given, NDEV + 1, -JRX_ERR_DEV_DUPLICATE, f->paths[0]);
	/* the same device under another name */
	th_path(link, &f->dir, "link-to-dev1");
	assert_int_equal(symlink(f->paths[1], link), 0);
	given[2] = link;
	expect_refused(f, given, NDEV + 1, -JRX_ERR_DEV_DUPLICATE, link);
	assert_contains(jrx_diag(), f->paths[1]);
	/* three devices, one of them twice and one missing */
	given[0] = f->paths[2];
	given[1] = f->paths[0];
	given[2] = f->paths[2];
	expect_refused(f, given, NDEV, -JRX_ERR_DEV_DUPLICATE, f->paths[2]);
}

/* ------------------------------------------------------------ superblock copies */

static void test_primary_corrupt(void **state)
{
	struct fx *f = *state;
	struct th_file_state before, after;
	uint64_t seq;

	corrupt(f->p[1], JRX_SB_PRIMARY_OFFSET + 100);
	th_file_state(f->p[1], &before);
	assert_jrx_ok(jrx_array_open(&f->a, f->paths, NDEV, JRX_OPEN_RDONLY));
	assert_contains(f->a.notes, "primary");
	assert_contains(f->a.notes, f->p[1]);
	if (strstr(f->a.notes, f->p[0]) || strstr(f->a.notes, f->p[2]))
		fail_msg("notes name healthy devices:\n%s", f->a.notes);
	assert_int_equal(f->a.sb.nr_devices, NDEV);
	seq = f->a.sb.seq;
	jrx_array_close(&f->a);
	/* a read-only open repairs nothing */
	th_file_state(f->p[1], &after);
	assert_int_equal(after.hash, before.hash);

	/* the next superblock write fixes the primary */
	assert_jrx_ok(jrx_array_open(&f->a, f->paths, NDEV, 0));
	assert_jrx_ok(jrx_array_write_sb(&f->a));
	assert_int_equal(f->a.sb.seq, seq + 1);
	jrx_array_close(&f->a);
	assert_jrx_ok(jrx_array_open(&f->a, f->paths, NDEV, JRX_OPEN_RDONLY));
	assert_string_equal(f->a.notes, "");
	assert_int_equal(f->a.sb.seq, seq + 1);
	jrx_array_close(&f->a);

	/* a bad backup next to a good primary is noted too */
	corrupt(f->p[2], JRX_SB_BACKUP_OFFSET + 4000);
	assert_jrx_ok(jrx_array_open(&f->a, f->paths, NDEV, JRX_OPEN_RDONLY));
	assert_contains(f->a.notes, "backup");
	assert_contains(f->a.notes, f->p[2]);
	jrx_array_close(&f->a);
}

static void test_both_copies_corrupt(void **state)
{
	struct fx *f = *state;

	corrupt(f->p[0], JRX_SB_PRIMARY_OFFSET + 100);
	corrupt(f->p[0], JRX_SB_BACKUP_OFFSET + 100);
	expect_refused(f, f->paths, NDEV, -JRX_ERR_SB_NO_VALID, f->p[0]);
	assert_contains(jrx_diag(), "primary");
	assert_contains(jrx_diag(), "backup");
	assert_contains(jrx_diag(), "checksum");
	/* the others alone are one device short */
	expect_refused(f, f->paths + 1, NDEV - 1, -JRX_ERR_DEV_MISSING, "member 0");
}

static void test_backup_newer(void **state)
{
	struct fx *f = *state;
	uint8_t *old = malloc(JRX_SB_SIZE);
	uint64_t seq;

	th_file_pread(f->p[0], old, JRX_SB_SIZE, JRX_SB_PRIMARY_OFFSET);
	assert_jrx_ok(jrx_array_open(&f->a, f->paths, NDEV, 0));
	seq = f->a.sb.seq;
	assert_jrx_ok(jrx_array_write_sb(&f->a));
	jrx_array_close(&f->a);
	/* put the old primary back: the backup is now newer */
	th_file_pwrite(f->p[0], old, JRX_SB_SIZE, JRX_SB_PRIMARY_OFFSET);
	assert_jrx_ok(jrx_array_open(&f->a, f->paths, NDEV, JRX_OPEN_RDONLY));
	assert_int_equal(f->a.sb.seq, seq + 1);
	assert_contains(f->a.notes, "newer");
	assert_contains(f->a.notes, f->p[0]);
	jrx_array_close(&f->a);
	free(old);
}

static void test_stale_device(void **state)
{
	struct fx *f = *state;
	uint8_t *pri = malloc(JRX_SB_SIZE), *bak = malloc(JRX_SB_SIZE);
	const char *given[NDEV] = { f->paths[2], f->paths[1], f->paths[0] };
	uint64_t seq;

	th_file_pread(f->p[2], pri, JRX_SB_SIZE, JRX_SB_PRIMARY_OFFSET);
	th_file_pread(f->p[2], bak, JRX_SB_SIZE, JRX_SB_BACKUP_OFFSET);
	assert_jrx_ok(jrx_array_open(&f->a, f->paths, NDEV, 0));
	seq = f->a.sb.seq;
	assert_jrx_ok(jrx_array_write_sb(&f->a));
	jrx_array_close(&f->a);
	th_file_pwrite(f->p[2], pri, JRX_SB_SIZE, JRX_SB_PRIMARY_OFFSET);
	th_file_pwrite(f->p[2], bak, JRX_SB_SIZE, JRX_SB_BACKUP_OFFSET);
	/* whatever the order, the newest superblock wins */
	for (int o = 0; o < 2; o++) {
		assert_jrx_ok(jrx_array_open(&f->a, o ? given : f->paths, NDEV,
					     JRX_OPEN_RDONLY));
		assert_int_equal(f->a.sb.seq, seq + 1);
		assert_contains(f->a.notes, "older");
		assert_contains(f->a.notes, f->p[2]);
		jrx_array_close(&f->a);
	}
	free(pri);
	free(bak);
}

/* A crash between the backup pass and the primary pass (§3.3). */
static void test_sb_write_interrupted(void **state)
{
	struct fx *f = *state;
	uint64_t seq;

	for (int budget = 1; budget <= NDEV; budget++) {
		assert_jrx_ok(jrx_array_open(&f->a, f->paths, NDEV, 0));
		seq = f->a.sb.seq;
		jrx_dev_crash_after_writes((uint64_t)budget);
		assert_jrx_err(jrx_array_write_sb(&f->a), -JRX_ERR_CRASHED);
		assert_true(jrx_dev_crashed());
		jrx_dev_crash_after_writes(0);
		jrx_array_close(&f->a);
		/* every device still opens; the new seq is there on the
		 * devices whose backup was written */
		assert_jrx_ok(jrx_array_open(&f->a, f->paths, NDEV, JRX_OPEN_RDONLY));
		assert_int_equal(f->a.sb.seq, seq + 1);
		for (int i = 0; i < budget; i++) {
			assert_contains(f->a.notes, "newer");
			assert_contains(f->a.notes, f->p[i]);
		}
		if (budget < NDEV)
			assert_contains(f->a.notes, "older");
		jrx_array_close(&f->a);
		/* bring every copy up to date again */
		assert_jrx_ok(jrx_array_open(&f->a, f->paths, NDEV, 0));
		assert_jrx_ok(jrx_array_write_sb(&f->a));
		jrx_array_close(&f->a);
	}
}

/* ------------------------------------------------------------ read-only */

static int count_keys(void *ctx, unsigned btree_id, const struct jrx_bkey *k)
{
	(void)btree_id;
	(void)k;
	(*(size_t *)ctx)++;
	return 0;
}

static void test_rdonly_writes_nothing(void **state)
{
	struct fx *f = *state;
	struct th_file_state before[NDEV], after[NDEV];
	struct jrx_fs *fs = calloc(1, sizeof(*fs));
	const char *given[NDEV] = { f->paths[1], f->paths[2], f->paths[0] };
	size_t keys = 0;

	for (int i = 0; i < NDEV; i++)
		th_file_state(f->p[i], &before[i]);
	usleep(20000);	/* so a write would move the mtime */

	assert_jrx_ok(jrx_array_open(&f->a, given, NDEV, JRX_OPEN_RDONLY));
	assert_jrx_err(jrx_array_write_sb(&f->a), -JRX_ERR_READ_ONLY);
	assert_jrx_ok(jrx_fs_open(fs, &f->a, JRX_FS_RDONLY));
	for (unsigned b = 0; b < JRX_BTREE_NR; b++)
		assert_jrx_ok(jrx_btree_walk(fs, b, count_keys, &keys));
	assert_true(keys > 1);		/* root inode, alloc, accounting */
	{
		uint64_t kb[TH_KEY_WORDS];

		assert_jrx_err(jrx_fs_update(fs, JRX_BTREE_INODES,
					     th_key_whiteout(kb, jrx_bpos(1, 0, 0))),
			       -JRX_ERR_READ_ONLY);
	}
	assert_jrx_ok(jrx_fs_shutdown(fs));
	jrx_array_close(&f->a);

	/* a read-write array open alone writes nothing either */
	assert_jrx_ok(jrx_array_open(&f->a, f->paths, NDEV, 0));
	jrx_array_close(&f->a);

	for (int i = 0; i < NDEV; i++) {
		th_file_state(f->p[i], &after[i]);
		if (after[i].hash != before[i].hash)
			fail_msg("%s: contents changed by a read-only open", f->p[i]);
		assert_int_equal(after[i].size, before[i].size);
		if (after[i].mtime_ns != before[i].mtime_ns)
			fail_msg("%s: mtime moved by a read-only open", f->p[i]);
	}
	free(fs);
}

/* ------------------------------------------------------------ array sync */

/* jrx_array_sync: every member at once; a member whose fdatasync fails (a
 * pipe in place of its file: EINVAL) fails it, named, from whichever
 * thread synced it, the calling thread's (member 0) or a helper's. */
static void test_array_sync(void **state)
{
	struct fx *f = *state;

	assert_jrx_ok(jrx_array_open(&f->a, f->paths, NDEV, 0));
	assert_jrx_ok(jrx_array_sync(&f->a));
	for (unsigned bad = 0; bad < NDEV; bad++) {
		int pfd[2], real = f->a.devs[bad].fd;

		assert_int_equal(pipe(pfd), 0);
		f->a.devs[bad].fd = pfd[0];
		jrx_diag_clear();
		assert_jrx_err(jrx_array_sync(&f->a), -EINVAL);
		if (!strstr(jrx_diag(), f->a.devs[bad].path) ||
		    !strstr(jrx_diag(), "fdatasync"))
			fail_msg("member %u's failed sync: message \"%s\" does"
				 " not name %s and fdatasync", bad, jrx_diag(),
				 f->a.devs[bad].path);
		f->a.devs[bad].fd = real;
		close(pfd[0]);
		close(pfd[1]);
	}
	assert_jrx_ok(jrx_array_sync(&f->a));
	jrx_array_close(&f->a);

	/* read-only: nothing to sync, and no error */
	assert_jrx_ok(jrx_array_open(&f->a, f->paths, NDEV, JRX_OPEN_RDONLY));
	assert_jrx_ok(jrx_array_sync(&f->a));
	jrx_array_close(&f->a);
}

/* ------------------------------------------------------------ format options */

static void test_format_bad_options(void **state)
{
	struct fx *f = *state;
	char p1[256], p2[256], nodir[256];
	const char *one[1] = { p1 }, *two[2] = { p1, p2 };
	struct {
		const char *what;
		uint32_t bucket, node, replicas;
		unsigned ndev;
	} bad[] = {
		{ "bucket not a power of two", 100000, 16384, 1, 1 },
		{ "bucket below 64 KiB", 32768, 16384, 1, 1 },
		{ "bucket above 64 MiB", 128u << 20, 65536, 1, 1 },
		{ "node below 16 KiB", 65536, 8192, 1, 1 },
		{ "node above the bucket", 65536, 131072, 1, 1 },
		{ "node not a power of two", 262144, 49152, 1, 1 },
		{ "replicas 2 on one device", 262144, 65536, 2, 1 },
		{ "replicas 0", 262144, 65536, 0, 1 },
		{ "replicas 3", 262144, 65536, 3, 2 },
		{ "no devices", 262144, 65536, 1, 0 },
	};

	th_path(p1, &f->dir, "fmt1");
	th_path(p2, &f->dir, "fmt2");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct th_geom g = {
			.size = DEV_SIZE, .bucket_size = bad[i].bucket,
			.node_size = bad[i].node, .replicas = bad[i].replicas,
		};
		int got = th_format(bad[i].ndev == 2 ? two : one, bad[i].ndev, &g);
		struct stat st;

		if (got != -JRX_ERR_BAD_OPTION)
			fail_msg("jrx_format with %s: got %s, expected"
				 " JRX_ERR_BAD_OPTION", bad[i].what,
				 th_errname(got));
		/* options are checked before any file is touched */
		assert_int_equal(stat(p1, &st), -1);
	}
	/* the limits themselves are accepted */
	{
		struct th_geom g = {
			.size = DEV_SIZE, .bucket_size = 65536, .node_size = 65536,
			.replicas = 2,
		};

		assert_jrx_ok(th_format(two, 2, &g));
		g.bucket_size = 64u << 20;
		g.node_size = 16384;
		g.replicas = 1;
		g.size = 64ull << 30;	/* sparse: 1024 buckets */
		g.journal_size = 2ull * (64u << 20);
		g.force = true;		/* p1 holds the array just made */
		assert_jrx_ok(th_format(one, 1, &g));
		assert_jrx_ok(jrx_array_open(&f->a, one, 1, JRX_OPEN_RDONLY));
		assert_int_equal(f->a.sb.members[0].journal_nr, 2);
		assert_int_equal(f->a.sb.members[0].first_bucket, 1);
		jrx_array_close(&f->a);
	}
	/* too small: 2 MiB holds 8 buckets of 256 KiB; needs 4 + 8 + 16 */
	{
		struct th_geom g = {
			.size = 2 << 20, .bucket_size = BUCKET, .node_size = NODE,
			.replicas = 1, .force = true,
		};

		jrx_diag_clear();
		assert_jrx_err(th_format(one, 1, &g), -JRX_ERR_DEV_TOO_SMALL);
		assert_contains(jrx_diag(), p1);
		/* big enough in size, but the journal asked for does not fit */
		g.size = DEV_SIZE;
		g.journal_size = DEV_SIZE;
		assert_jrx_err(th_format(one, 1, &g), -JRX_ERR_DEV_TOO_SMALL);
		/* the smallest device that fits: 4 + 8 + 16 buckets */
		g.journal_size = 0;
		g.size = 28ull * BUCKET;
		assert_jrx_ok(th_format(one, 1, &g));
		g.size = 28ull * BUCKET - 1;
		assert_jrx_err(th_format(one, 1, &g), -JRX_ERR_DEV_TOO_SMALL);
	}
	/* a path that cannot be created */
	th_path(nodir, &f->dir, "no/such/dir");
	{
		const char *p[1] = { nodir };
		struct th_geom g = GEOM;

		g.replicas = 1;
		jrx_diag_clear();
		assert_jrx_err(th_format(p, 1, &g), -ENOENT);
		assert_contains(jrx_diag(), nodir);
	}
}

/* ------------------------------------------------------------ write queue */

struct wq_count {
	unsigned ok, failed;
	int	 first_err;
};

static void wq_done(void *ctx, int res)
{
	struct wq_count *c = ctx;

	if (res) {
		c->failed++;
		if (!c->first_err)
			c->first_err = res;
	} else {
		c->ok++;
	}
}

static void rd_done(void *ctx, int res)
{
	*(int *)ctx = res;
}

/*
 * io/wq.h, on interface b: more writes than the queue's depth all land
 * where they were aimed, and read back through the queue (a read past
 * the device's end is short); crash injection counts them like pwrites
 * (the first refused write fails the queue and writes nothing, later ones
 * neither); a read-only device refuses them, a missing member reads.
 */
static void write_queue_on(struct fx *f, enum jrx_io_backend b)
{
	enum { NR = 100, BLK = 4096, BASE = 8u << 20 };
	uint8_t *buf = jrx_alloc_aligned((size_t)NR * BLK), *got = malloc(BLK);
	struct wq_count c = { 0 };
	struct jrx_dev d, ro, gone;
	struct jrx_wq *q;
	int res[4];

	if (th_io_backend(b, b == JRX_IO_AIO ? "aio write queue" :
			  "io_uring write queue") != b) {
		free(buf);
		free(got);
		return;
	}
	assert_non_null(buf);
	assert_jrx_ok(jrx_dev_open(&d, f->p[0], JRX_DEV_DIRECT));
	assert_jrx_ok(jrx_wq_open(&q, 8, b));
	assert_int_equal(jrx_wq_backend(q), b);
	for (unsigned i = 0; i < NR; i++) {
		memset(buf + (size_t)i * BLK, 1 + i, BLK);
		assert_jrx_ok(jrx_wq_write(q, &d, buf + (size_t)i * BLK, BLK,
					   BASE + (uint64_t)i * 2 * BLK, wq_done,
					   &c));
	}
	assert_jrx_ok(jrx_wq_drain(q));
	assert_int_equal(c.ok, NR);
	for (unsigned i = 0; i < NR; i++) {
		th_file_pread(f->p[0], got, BLK, BASE + (uint64_t)i * 2 * BLK);
		if (got[0] != (uint8_t)(1 + i) || got[BLK - 1] != (uint8_t)(1 + i))
			fail_msg("write %u of %u: found byte %u at its offset,"
				 " expected %u", i, NR, got[0], 1 + i);
	}
	memset(buf, 0, 4 * BLK);
	for (unsigned i = 0; i < 3; i++) {
		res[i] = -1;
		assert_jrx_ok(jrx_wq_read(q, &d, buf + (size_t)i * BLK, BLK,
					  BASE + (uint64_t)i * 2 * BLK, rd_done,
					  &res[i]));
	}
	res[3] = -1;
	assert_jrx_ok(jrx_wq_read(q, &d, buf + 3 * BLK, 2 * BLK, d.size - BLK,
				  rd_done, &res[3]));
	assert_jrx_ok(jrx_wq_drain(q));
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(res[i], BLK);
		if (buf[(size_t)i * BLK] != (uint8_t)(1 + i) ||
		    buf[(size_t)i * BLK + BLK - 1] != (uint8_t)(1 + i))
			fail_msg("read %u through the queue: byte %u, expected"
				 " %u", i, buf[(size_t)i * BLK], 1 + i);
	}
	assert_int_equal(res[3], BLK);		/* the last block only */

	/* a crash after 5 more writes: the 6th and later fail, write nothing */
	memset(buf, 0xee, (size_t)NR * BLK);
	c = (struct wq_count){ 0 };
	jrx_dev_crash_after_writes(5);
	for (unsigned i = 0; i < 10; i++) {
		int ret = jrx_wq_write(q, &d, buf + (size_t)i * BLK, BLK,
				       BASE + (uint64_t)i * 2 * BLK, wq_done, &c);

		if (i < 5)
			assert_jrx_ok(ret);
		else
			assert_jrx_err(ret, -JRX_ERR_CRASHED);
	}
	assert_jrx_err(jrx_wq_drain(q), -JRX_ERR_CRASHED);
	jrx_dev_crash_after_writes(0);
	assert_int_equal(c.ok, 5);
	assert_int_equal(c.failed, 5);
	for (unsigned i = 0; i < 10; i++) {
		th_file_pread(f->p[0], got, BLK, BASE + (uint64_t)i * 2 * BLK);
		assert_int_equal(got[0], i < 5 ? 0xee : 1 + i);
	}
	jrx_wq_close(q);

	/* read-only: refused, nothing written */
	assert_jrx_ok(jrx_dev_open(&ro, f->p[0], JRX_DEV_RDONLY));
	assert_jrx_ok(jrx_wq_open(&q, 4, b));
	c = (struct wq_count){ 0 };
	assert_jrx_err(jrx_wq_write(q, &ro, buf, BLK, BASE, wq_done, &c),
		       -JRX_ERR_READ_ONLY);
	assert_int_equal(c.failed, 1);
	jrx_wq_close(q);
	jrx_dev_close(&ro);

	/* a missing member (a degraded open): refused before it is issued */
	assert_jrx_ok(jrx_dev_make_absent(&gone, 1));
	assert_jrx_ok(jrx_wq_open(&q, 4, b));
	res[0] = 1;
	assert_jrx_err(jrx_wq_read(q, &gone, buf, BLK, BASE, rd_done, &res[0]),
		       -JRX_ERR_DEV_MISSING);
	assert_int_equal(res[0], -JRX_ERR_DEV_MISSING);
	assert_contains(jrx_diag(), "member 1 (missing)");
	jrx_wq_close(q);
	jrx_dev_close(&gone);
	jrx_dev_close(&d);
	free(buf);
	free(got);
}

static void test_write_queue(void **state)
{
	write_queue_on(*state, JRX_IO_URING);
}

/* The same on a queue's pread helper threads (a host that refuses both
 * io_uring and aio). */
static void test_write_queue_pread(void **state)
{
	write_queue_on(*state, JRX_IO_PREAD);
}

/* In a forked child: one block of byte at off written through a new
 * queue asked for `ask`, which must have opened on `want`; 0 if it landed,
 * else a code (what failed on stderr). */
static int queue_child(const char *path, enum jrx_io_backend ask,
		       enum jrx_io_backend want, uint8_t byte, uint64_t off)
{
	uint8_t *buf = jrx_alloc_aligned(4096);
	struct wq_count c = { 0 };
	struct jrx_dev d;
	struct jrx_wq *q;

	if (!buf || jrx_dev_open(&d, path, JRX_DEV_DIRECT))
		return 10;
	memset(buf, byte, 4096);
	if (jrx_wq_open(&q, 8, ask)) {
		fprintf(stderr, "queue child: no queue: %s\n", jrx_diag());
		return 11;
	}
	if (jrx_wq_backend(q) != want) {
		fprintf(stderr, "queue child: the queue's interface is %d,"
			" want %d\n", (int)jrx_wq_backend(q), (int)want);
		return 12;
	}
	if (jrx_wq_write(q, &d, buf, 4096, off, wq_done, &c) ||
	    jrx_wq_drain(q) || c.ok != 1) {
		fprintf(stderr, "queue child: %s\n", jrx_diag());
		return 13;
	}
	jrx_wq_close(q);
	jrx_dev_close(&d);
	return 0;
}

/*
 * The aio queue; then, its context parked for reuse (io/aio_ctx.h), a
 * forked child (which inherits no AIO context) must still get a working
 * queue.
 */
static void test_write_queue_aio(void **state)
{
	struct fx *f = *state;
	uint8_t got[1];
	int status;
	pid_t pid;

	write_queue_on(f, JRX_IO_AIO);
	if (!th_aio_available(NULL, 0))
		return;
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid)
		_exit(queue_child(f->p[0], JRX_IO_AIO, JRX_IO_AIO, 0x5a,
				  40u << 20));
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status))
		fail_msg("a forked child's aio write queue failed with code %d",
			 WEXITSTATUS(status));
	th_file_pread(f->p[0], got, 1, 40u << 20);
	assert_int_equal(got[0], 0x5a);
}

/* In a forked child refusing io_uring and aio: a queue asked for either
 * (JRX_IO_AUTO, as the spill and the write-back ask) opens on its helper
 * threads and lands a write. */
static int refused_child(const char *path)
{
	if (th_refuse_uring(true))
		return TH_EXIT_SKIP;
	return queue_child(path, JRX_IO_AUTO, JRX_IO_PREAD, 0x6b, 44u << 20);
}

static void test_write_queue_auto_refused(void **state)
{
	struct fx *f = *state;
	uint8_t got[1];
	int status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid)
		_exit(refused_child(f->p[0]));
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == TH_EXIT_SKIP)
		skip();		/* no seccomp here: nothing to refuse with */
	if (WEXITSTATUS(status))
		fail_msg("with io_uring and aio refused, an automatic write"
			 " queue failed with code %d (see above)",
			 WEXITSTATUS(status));
	th_file_pread(f->p[0], got, 1, 44u << 20);
	assert_int_equal(got[0], 0x6b);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_format_layout),
		T(test_open_any_order),
		T(test_not_jrx),
		T(test_truncated),
		T(test_missing),
		T(test_other_array),
		T(test_duplicate),
		T(test_primary_corrupt),
		T(test_both_copies_corrupt),
		T(test_backup_newer),
		T(test_stale_device),
		T(test_sb_write_interrupted),
		T(test_rdonly_writes_nothing),
		T(test_array_sync),
		T(test_format_bad_options),
		T(test_write_queue),
		T(test_write_queue_aio),
		T(test_write_queue_pread),
		T(test_write_queue_auto_refused),
	};
#undef T

	return th_exit_code(cmocka_run_group_tests_name("array_open", tests,
							NULL, NULL));
}
