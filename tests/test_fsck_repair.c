/*
 * test_fsck_repair.c - fsck's namespace repair (JRX_FIX_NAMESPACE,
 * src/fsck/repair_namespace.c), one test per repairable pass-6 code: a
 * loaded clean array is damaged through the store's write path so that
 * fsck -n finds exactly that problem (or, where one damage cannot help
 * causing another, exactly the set it causes), then
 *   fsck -y (or -p for the PREEN_OK rows) repairs it: exit 1;
 *   fsck -n finds nothing: exit 0;
 *   fsck -y again writes nothing: exit 0, the devices' hashes unchanged;
 * and the keys of the four namespace btrees, dumped before the damage
 * and after the repair, differ by exactly what the repair says it does
 * (nothing at all where the damage added or moved a key).  Also: with a
 * damaged node hiding keys, -p refuses (exit 4, nothing written) and -y
 * repairs the node (topology) and then the namespace, and a repair killed at spread-out writes is finished by
 * the next fsck -y, ending where the uninterrupted repair ends; with an
 * alloc key damaged too, the rebuild and the namespace repair both run.
 * TEST_FSCK_SHOW=1 prints every report.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "helpers.h"
#include "keydump.h"
#include "btree/fs.h"
#include "format/checksum.h"
#include "format/fskeys.h"
#include "format/node.h"
#include "fsck/fsck.h"
#include "workload/fsops.h"
#include "workload/load.h"

#define S_IFMT_ 0170000u
#define S_IFDIR_ 0040000u
#define S_IFREG_ 0100000u

/* ------------------------------------------------------------ fsck */

static struct jrx_pr_counts last_counts;

/* fsck through jrx_fsck_run as the CLI runs it; text report into *text
 * (may be NULL).  read_only must write nothing.  The exit code. */
static int fsck(struct th_array *e, bool read_only, enum jrx_repair_mode mode,
		struct jrx_fsck_result *res, char **text)
{
	int code = th_fsck(e->paths, read_only, mode, res, text);

	last_counts = res->counts;
	return code;
}

/* fsck -n finds exactly these counts of these codes, nothing else. */
struct want { enum jrx_pr_code code; uint64_t n; };

static void expect_found(struct th_array *e, const struct want *w, size_t nr)
{
	struct jrx_fsck_result res;
	uint64_t total = 0, want_total = 0;
	int got = fsck(e, true, JRX_REPAIR_NONE, &res, NULL);

	for (unsigned s = JRX_SEV_WARNING; s < JRX_SEV_NR; s++)
		total += res.counts.sev[s];
	for (size_t i = 0; i < nr; i++) {
		want_total += w[i].n;
		if (res.counts.code[w[i].code] != w[i].n) {
			th_print_counts(&res.counts);
			fail_msg("the damage: %s found %llu times, want %llu",
				 jrx_problem_table[w[i].code].name,
				 (unsigned long long)res.counts.code[w[i].code],
				 (unsigned long long)w[i].n);
		}
	}
	if (total != want_total || got != 4) {
		th_print_counts(&res.counts);
		fail_msg("the damage: %llu problems (exit %d), want exactly %llu"
			 " (exit 4)", (unsigned long long)total, got,
			 (unsigned long long)want_total);
	}
}

/*
 * fsck in mode repairs (exit 1, the namespace repair applied, its line
 * containing said; said NULL: the array was modified, by a recovery or a
 * repair), fsck -n finds nothing, fsck -y again writes nothing.
 */
static void expect_repaired(struct th_array *e, enum jrx_repair_mode mode,
			    const char *said)
{
	th_expect_repaired(e->paths, mode, said ? JRX_FIX_NAMESPACE : -1, said);
}

/* ------------------------------------------------------------ finding things */

struct find_dirent {
	unsigned d_type;
	unsigned skip;		/* matches to pass over */
	uint64_t buf[TH_KEY_WORDS];
	bool	 found;
};

static int find_dirent_cb(void *ctx, unsigned btree_id, const struct jrx_bkey *k)
{
	struct find_dirent *f = ctx;
	const struct jrx_dirent_val *d = jrx_bkey_val(k);

	(void)btree_id;
	if (d->d_type != f->d_type || f->skip-- > 0)
		return 0;
	memcpy(f->buf, k, jrx_bkey_bytes(k));
	f->found = true;
	return 1;
}

/* A dirent of type d_type (the skip + 1'th), copied into buf. */
static struct jrx_bkey *find_dirent(struct jrx_fs *fs, unsigned d_type,
				    unsigned skip, uint64_t *buf)
{
	struct find_dirent f = { .d_type = d_type, .skip = skip };

	jrx_btree_walk(fs, JRX_BTREE_DIRENTS, find_dirent_cb, &f);
	assert_true(f.found);
	memcpy(buf, f.buf, jrx_bkey_bytes((struct jrx_bkey *)f.buf));
	return (struct jrx_bkey *)buf;
}

static const struct jrx_dirent_val *dval(const struct jrx_bkey *k)
{
	return jrx_bkey_val(k);
}

static void get_inode(struct jrx_fs *fs, uint64_t inum, struct jrx_inode_val *v)
{
	const struct jrx_bkey *k;

	assert_jrx_ok(jrx_btree_lookup(fs, JRX_BTREE_INODES,
				       jrx_bpos(inum, 0, JRX_SNAPSHOT_DEFAULT), &k));
	assert_non_null(k);
	memcpy(v, jrx_bkey_val(k), sizeof(*v));
}

static void put_inode(struct jrx_fs *fs, uint64_t inum,
		      const struct jrx_inode_val *v)
{
	uint64_t buf[TH_KEY_WORDS];

	assert_jrx_ok(jrx_fs_update(fs, JRX_BTREE_INODES,
				    jrx_fskey_inode(buf, inum, v)));
}

/* nlink of inum += delta. */
static void add_nlink(struct jrx_fs *fs, uint64_t inum, int delta)
{
	struct jrx_inode_val v;

	get_inode(fs, inum, &v);
	v.nlink = (uint32_t)((int)v.nlink + delta);
	put_inode(fs, inum, &v);
}

static void whiteout(struct jrx_fs *fs, unsigned btree, struct jrx_bpos p)
{
	uint64_t buf[TH_KEY_WORDS];

	assert_jrx_ok(jrx_fs_update(fs, btree, th_key_whiteout(buf, p)));
}

/* A dirent like d (a copy) at pos, name and target kept. */
static void put_dirent_at(struct jrx_fs *fs, const struct jrx_bkey *d,
			  struct jrx_bpos pos)
{
	uint64_t buf[TH_KEY_WORDS];
	struct jrx_bkey *k = (struct jrx_bkey *)buf;

	memcpy(buf, d, jrx_bkey_bytes(d));
	k->p = pos;
	assert_jrx_ok(jrx_fs_update(fs, JRX_BTREE_DIRENTS, k));
}

/* A free position in btree near pos (another hash in the same inode). */
static struct jrx_bpos free_pos(struct jrx_fs *fs, unsigned btree,
				struct jrx_bpos pos)
{
	const struct jrx_bkey *k;

	for (uint64_t x = 0x5555;; x += 0x1000) {
		struct jrx_bpos p = pos;

		p.offset ^= x;
		assert_jrx_ok(jrx_btree_lookup(fs, btree, p, &k));
		if (!k && p.offset)
			return p;
	}
}

/* ------------------------------------------------------------ tests */

static void test_dirent_dangling(void **state)
{
	struct th_array *e = *state;
	uint64_t buf[TH_KEY_WORDS];
	struct jrx_array a;
	struct jrx_fs fs;
	struct dump before, after;
	const struct want w[] = { { JRX_PR_DIRENT_DANGLING, 1 } };

	dump_keys(e->paths, &before);
	th_open_rw(e->paths, &a, &fs);
	assert_jrx_ok(jrx_fs_update(&fs, JRX_BTREE_DIRENTS,
				    jrx_fskey_dirent(buf, JRX_ROOT_INO, "ghost", 5,
						     999999, JRX_DT_REG)));
	th_close_rw(&a, &fs);
	expect_found(e, w, 1);
	expect_repaired(e, JRX_REPAIR_ALL, "1 dirents removed");
	dump_keys(e->paths, &after);
	expect_same_keys(&before, &after, "a dangling dirent removed");
	dump_free(&before);
	dump_free(&after);
}

/* A second name of a file F in a directory that does not exist
 * (no_dir), or in a regular file; F's nlink counts it. */
static void dirent_outside(struct th_array *e, bool no_dir)
{
	uint64_t buf[TH_KEY_WORDS], fbuf[TH_KEY_WORDS];
	struct jrx_array a;
	struct jrx_fs fs;
	struct dump before, after;
	const struct jrx_bkey *f;
	uint64_t dir;
	struct want w[] = { { no_dir ? JRX_PR_DIRENT_NO_DIR :
			      JRX_PR_DIRENT_NOT_IN_DIR, 1 } };

	dump_keys(e->paths, &before);
	th_open_rw(e->paths, &a, &fs);
	f = find_dirent(&fs, JRX_DT_REG, 0, buf);
	dir = no_dir ? 888888 : dval(find_dirent(&fs, JRX_DT_REG, 1, fbuf))->target;
	put_dirent_at(&fs, f, jrx_bpos(dir, f->p.offset, f->p.snapshot));
	add_nlink(&fs, dval(f)->target, 1);
	th_close_rw(&a, &fs);
	expect_found(e, w, 1);
	/* the name removed, then F's nlink back to its one name */
	expect_repaired(e, JRX_REPAIR_ALL, "1 dirents removed");
	dump_keys(e->paths, &after);
	expect_same_keys(&before, &after, no_dir ? "a dirent in no directory" :
			 "a dirent in a regular file");
	dump_free(&before);
	dump_free(&after);
}

static void test_dirent_no_dir(void **state)
{
	dirent_outside(*state, true);
}

static void test_dirent_not_in_dir(void **state)
{
	dirent_outside(*state, false);
}

/* A file's dirent moved off its hash (moved back), or a copy of it off
 * its hash, F's nlink counting it (removed: its place is taken). */
static void dirent_bad_hash(struct th_array *e, bool copy)
{
	uint64_t buf[TH_KEY_WORDS];
	struct jrx_array a;
	struct jrx_fs fs;
	struct dump before, after;
	const struct jrx_bkey *f;
	const struct want w[] = { { JRX_PR_DIRENT_BAD_HASH, 1 } };

	dump_keys(e->paths, &before);
	th_open_rw(e->paths, &a, &fs);
	f = find_dirent(&fs, JRX_DT_REG, 3, buf);
	put_dirent_at(&fs, f, free_pos(&fs, JRX_BTREE_DIRENTS, f->p));
	if (copy)
		add_nlink(&fs, dval(f)->target, 1);
	else
		whiteout(&fs, JRX_BTREE_DIRENTS, f->p);
	th_close_rw(&a, &fs);
	expect_found(e, w, 1);
	expect_repaired(e, JRX_REPAIR_ALL, copy ?
			"1 dirents at a wrong hash removed (their name's place"
			" was taken)" : "1 dirents moved to their name's hash");
	dump_keys(e->paths, &after);
	expect_same_keys(&before, &after, copy ? "a copy of a dirent off its"
			 " hash" : "a dirent off its hash");
	dump_free(&before);
	dump_free(&after);
}

static void test_dirent_bad_hash(void **state)
{
	dirent_bad_hash(*state, false);
}

static void test_dirent_bad_hash_taken(void **state)
{
	dirent_bad_hash(*state, true);
}

/* PREEN_OK: -p sets it. */
static void test_dirent_wrong_type(void **state)
{
	struct th_array *e = *state;
	uint64_t buf[TH_KEY_WORDS];
	struct jrx_array a;
	struct jrx_fs fs;
	struct dump before, after;
	struct jrx_bkey *f;
	const struct want w[] = { { JRX_PR_DIRENT_WRONG_TYPE, 1 } };

	dump_keys(e->paths, &before);
	th_open_rw(e->paths, &a, &fs);
	f = find_dirent(&fs, JRX_DT_REG, 2, buf);
	((struct jrx_dirent_val *)jrx_bkey_val(f))->d_type = JRX_DT_DIR;
	assert_jrx_ok(jrx_fs_update(&fs, JRX_BTREE_DIRENTS, f));
	th_close_rw(&a, &fs);
	expect_found(e, w, 1);
	expect_repaired(e, JRX_REPAIR_PREEN, "1 dirent types set");
	dump_keys(e->paths, &after);
	expect_same_keys(&before, &after, "a dirent's type");
	dump_free(&before);
	dump_free(&after);
}

/* An extent of sectors allocated the proper way, for inum, ending at end. */
static void put_new_extent(struct jrx_fs *fs, uint64_t inum, uint64_t end,
			   uint32_t want, uint32_t *dev, uint64_t *sector)
{
	uint64_t buf[TH_KEY_WORDS];
	uint32_t got, gen;

	assert_jrx_ok(jrx_fs_alloc_data(fs, want, dev, sector, &got, &gen));
	assert_int_equal(got, want);
	assert_jrx_ok(jrx_fs_update(fs, JRX_BTREE_EXTENTS,
				    th_key_extent(buf, jrx_bpos(inum, end,
							JRX_SNAPSHOT_DEFAULT),
						  got, *dev, *sector, gen, 7)));
}

static void test_extent_no_inode(void **state)
{
	struct th_array *e = *state;
	struct jrx_array a;
	struct jrx_fs fs;
	struct dump before, after;
	uint32_t dev;
	uint64_t sector;
	const struct want w[] = { { JRX_PR_EXTENT_NO_INODE, 1 } };

	dump_keys(e->paths, &before);
	th_open_rw(e->paths, &a, &fs);
	put_new_extent(&fs, 777777, 16, 8, &dev, &sector);
	th_close_rw(&a, &fs);
	expect_found(e, w, 1);
	/* fsck -n clean after it: its sectors were freed (pass 4) */
	expect_repaired(e, JRX_REPAIR_ALL, "1 extents removed");
	dump_keys(e->paths, &after);
	expect_same_keys(&before, &after, "an extent of no inode");
	dump_free(&before);
	dump_free(&after);
}

/* An extent of a directory is past its i_size (0) too: both found, one
 * removal repairs both. */
static void test_extent_not_file(void **state)
{
	struct th_array *e = *state;
	uint64_t buf[TH_KEY_WORDS];
	struct jrx_array a;
	struct jrx_fs fs;
	struct dump before, after;
	uint32_t dev;
	uint64_t sector;
	const struct want w[] = { { JRX_PR_EXTENT_NOT_FILE, 1 },
				  { JRX_PR_EXTENT_PAST_ISIZE, 1 } };

	dump_keys(e->paths, &before);
	th_open_rw(e->paths, &a, &fs);
	put_new_extent(&fs, dval(find_dirent(&fs, JRX_DT_DIR, 0, buf))->target,
		       8, 8, &dev, &sector);
	th_close_rw(&a, &fs);
	expect_found(e, w, 2);
	expect_repaired(e, JRX_REPAIR_ALL, "1 extents removed");
	dump_keys(e->paths, &after);
	expect_same_keys(&before, &after, "an extent of a directory");
	dump_free(&before);
	dump_free(&after);
}

/* PREEN_OK (e2fsck's PR_1_BAD_I_SIZE): -p raises i_size to the end. */
static void test_extent_past_isize(void **state)
{
	struct th_array *e = *state;
	uint64_t buf[TH_KEY_WORDS];
	struct jrx_array a;
	struct jrx_fs fs;
	struct dump before, after;
	struct jrx_inode_val v;
	struct diff d[MAX_DIFF];
	uint64_t inum, end;
	uint32_t dev;
	uint64_t sector;
	size_t n;
	const struct want w[] = { { JRX_PR_EXTENT_PAST_ISIZE, 1 } };

	dump_keys(e->paths, &before);
	th_open_rw(e->paths, &a, &fs);
	inum = dval(find_dirent(&fs, JRX_DT_REG, 4, buf))->target;
	get_inode(&fs, inum, &v);
	end = (v.size + 511) / 512 + 100 + 8;
	put_new_extent(&fs, inum, end, 8, &dev, &sector);
	th_close_rw(&a, &fs);
	expect_found(e, w, 1);
	expect_repaired(e, JRX_REPAIR_PREEN, "1 i_sizes raised to their extents");
	dump_keys(e->paths, &after);
	/* the extent stays, its file's i_size is its end */
	n = diff_keys(&before, &after, d, MAX_DIFF);
	if (n != 2 || d[0].what != CHANGED || d[0].new->p.inode != inum ||
	    d[1].what != NEW || d[1].btree != JRX_BTREE_EXTENTS ||
	    d[1].new->p.offset != end) {
		print_diff(d, n < MAX_DIFF ? n : MAX_DIFF);
		fail_msg("an extent past i_size: want the inode changed and the"
			 " extent new, got %zu differences", n);
	}
	v.size = end * 512;
	assert_memory_equal(jrx_bkey_val(d[0].new), &v, sizeof(v));
	dump_free(&before);
	dump_free(&after);
}

/*
 * A file written [0, 8) and [12, 16) the proper way, then an extent
 * [4, 12) of new sectors: its head [4, 8) overlaps; the repair keeps
 * [8, 12) of it (its sectors from the fifth on) and frees the rest.
 */
static void test_extent_overlap(void **state)
{
	struct th_array *e = *state;
	uint64_t inum = 900000;
	struct jrx_array a;
	struct jrx_fs fs;
	struct dump before, after;
	struct diff d[MAX_DIFF];
	const struct jrx_extent_val *ev;
	uint32_t dev;
	uint64_t sector;
	size_t n;
	const struct want w[] = { { JRX_PR_EXTENT_OVERLAP, 1 } };

	th_open_rw(e->paths, &a, &fs);
	assert_jrx_ok(jrx_op_create(&fs, JRX_ROOT_INO, "overlap", inum,
				    JRX_DT_REG, 1));
	assert_jrx_ok(jrx_op_write(&fs, inum, 0, 8, 1, 1));
	assert_jrx_ok(jrx_op_write(&fs, inum, 12, 4, 2, 1));
	th_close_rw(&a, &fs);
	dump_keys(e->paths, &before);
	th_open_rw(e->paths, &a, &fs);
	put_new_extent(&fs, inum, 12, 8, &dev, &sector);
	th_close_rw(&a, &fs);
	expect_found(e, w, 1);
	expect_repaired(e, JRX_REPAIR_ALL, "1 overlapping extents trimmed");
	dump_keys(e->paths, &after);
	n = diff_keys(&before, &after, d, MAX_DIFF);
	if (n != 1 || d[0].what != NEW || d[0].btree != JRX_BTREE_EXTENTS ||
	    d[0].new->p.inode != inum || d[0].new->p.offset != 12 ||
	    d[0].new->size != 4) {
		print_diff(d, n < MAX_DIFF ? n : MAX_DIFF);
		fail_msg("overlapping extents: want one new extent %llu:12 of 4"
			 " sectors, got %zu differences",
			 (unsigned long long)inum, n);
	}
	ev = jrx_bkey_val(d[0].new);
	assert_int_equal(ev->dev, dev);
	assert_int_equal(ev->sector, sector + 4);
	dump_free(&before);
	dump_free(&after);
}

static void test_xattr_no_inode(void **state)
{
	struct th_array *e = *state;
	uint64_t buf[TH_KEY_WORDS];
	struct jrx_array a;
	struct jrx_fs fs;
	struct dump before, after;
	const struct want w[] = { { JRX_PR_XATTR_NO_INODE, 1 } };

	dump_keys(e->paths, &before);
	th_open_rw(e->paths, &a, &fs);
	assert_jrx_ok(jrx_fs_update(&fs, JRX_BTREE_XATTRS,
				    jrx_fskey_xattr(buf, 777777, "user.x", 6,
						    "v", 1)));
	th_close_rw(&a, &fs);
	expect_found(e, w, 1);
	expect_repaired(e, JRX_REPAIR_ALL, "1 xattrs removed");
	dump_keys(e->paths, &after);
	expect_same_keys(&before, &after, "an xattr of no inode");
	dump_free(&before);
	dump_free(&after);
}

static void test_xattr_bad_hash(void **state)
{
	struct th_array *e = *state;
	uint64_t buf[TH_KEY_WORDS];
	struct jrx_bkey *k = (struct jrx_bkey *)buf;
	const struct jrx_bkey *x;
	struct jrx_array a;
	struct jrx_fs fs;
	struct dump before, after;
	struct jrx_bpos old;
	const struct want w[] = { { JRX_PR_XATTR_BAD_HASH, 1 } };

	dump_keys(e->paths, &before);
	th_open_rw(e->paths, &a, &fs);
	assert_jrx_ok(jrx_btree_peek(&fs, JRX_BTREE_XATTRS, JRX_POS_MIN, &x));
	assert_non_null(x);	/* the load sets xattrs */
	memcpy(buf, x, jrx_bkey_bytes(x));
	old = k->p;
	k->p = free_pos(&fs, JRX_BTREE_XATTRS, old);
	assert_jrx_ok(jrx_fs_update(&fs, JRX_BTREE_XATTRS, k));
	whiteout(&fs, JRX_BTREE_XATTRS, old);
	th_close_rw(&a, &fs);
	expect_found(e, w, 1);
	expect_repaired(e, JRX_REPAIR_ALL, "1 xattrs moved to their name's hash");
	dump_keys(e->paths, &after);
	expect_same_keys(&before, &after, "an xattr off its hash");
	dump_free(&before);
	dump_free(&after);
}

/*
 * A file's (or a directory's: its parent's nlink follows) only name
 * removed: it comes back as /lost+found/#<inum>, lost+found made (a
 * directory named in the root, whose nlink counts it), and nothing else
 * changes.
 */
static void unreachable(struct th_array *e, bool dir)
{
	uint64_t buf[TH_KEY_WORDS];
	struct jrx_array a;
	struct jrx_fs fs;
	struct dump before, after;
	struct diff d[MAX_DIFF];
	const struct jrx_bkey *f;
	struct jrx_inode_val root, lf;
	uint64_t inum, lf_inum = 0;
	char name[32];
	size_t n;
	const struct want w[] = { { JRX_PR_INODE_UNREACHABLE, 1 } };

	dump_keys(e->paths, &before);
	th_open_rw(e->paths, &a, &fs);
	get_inode(&fs, JRX_ROOT_INO, &root);
	f = find_dirent(&fs, dir ? JRX_DT_DIR : JRX_DT_REG, 1, buf);
	inum = dval(f)->target;
	whiteout(&fs, JRX_BTREE_DIRENTS, f->p);
	if (dir)
		add_nlink(&fs, f->p.inode, -1);
	th_close_rw(&a, &fs);
	expect_found(e, w, 1);
	expect_repaired(e, JRX_REPAIR_ALL, "/lost+found made, 1 inodes"
			" reconnected in /lost+found");
	dump_keys(e->paths, &after);
	dump_no_times(&before);
	dump_no_times(&after);
	n = diff_keys(&before, &after, d, MAX_DIFF);
	/* inodes: the parent (a directory's), the root, lost+found;
	 * dirents: in the root (lost+found's), the old name gone and
	 * #inum in lost+found, in key order */
	if (n != (!dir ? 5u : f->p.inode != JRX_ROOT_INO ? 6u : 4u)) {
		print_diff(d, n < MAX_DIFF ? n : MAX_DIFF);
		fail_msg("an unreachable inode: %zu keys differ", n);
	}
	for (size_t i = 0; i < n; i++) {
		const struct jrx_bkey *k = d[i].new;

		if (d[i].what == GONE) {
			assert_int_equal(d[i].btree, JRX_BTREE_DIRENTS);
			assert_true(jrx_bpos_eq(d[i].old->p, f->p));
		} else if (d[i].btree == JRX_BTREE_INODES &&
			   d[i].what == CHANGED) {
			const struct jrx_inode_val *v = jrx_bkey_val(k);

			/* the root has lost+found, a parent a subdir less */
			assert_true(k->p.inode == JRX_ROOT_INO ||
				    (dir && k->p.inode == f->p.inode));
			if (k->p.inode == JRX_ROOT_INO)
				assert_int_equal(v->nlink, root.nlink + 1 -
						 (dir && f->p.inode ==
						  JRX_ROOT_INO));
		} else if (d[i].btree == JRX_BTREE_INODES) {
			memcpy(&lf, jrx_bkey_val(k), sizeof(lf));
			lf_inum = k->p.inode;
			assert_int_equal(lf.mode & S_IFMT_, S_IFDIR_);
			assert_int_equal(lf.nlink, dir ? 3 : 2);
		}
	}
	/* the names: lost+found in the root, #inum in it */
	{
		struct jrx_array ra;
		struct jrx_fs rfs;
		const struct jrx_bkey *k;

		assert_jrx_ok(jrx_array_open(&ra, e->paths, 2, JRX_OPEN_RDONLY));
		assert_jrx_ok(jrx_fs_open(&rfs, &ra, JRX_FS_RDONLY));
		assert_jrx_ok(jrx_btree_lookup(&rfs, JRX_BTREE_DIRENTS,
					       jrx_fskey_name_pos(JRX_ROOT_INO,
								  "lost+found", 10),
					       &k));
		assert_non_null(k);
		assert_int_equal(dval(k)->target, lf_inum);
		assert_int_equal(dval(k)->d_type, JRX_DT_DIR);
		snprintf(name, sizeof(name), "#%llu", (unsigned long long)inum);
		assert_jrx_ok(jrx_btree_lookup(&rfs, JRX_BTREE_DIRENTS,
					       jrx_fskey_name_pos(lf_inum, name,
								  strlen(name)),
					       &k));
		assert_non_null(k);
		assert_int_equal(dval(k)->target, inum);
		assert_int_equal(dval(k)->d_type, dir ? JRX_DT_DIR : JRX_DT_REG);
		jrx_fs_abandon(&rfs);
		jrx_array_close(&ra);
	}
	dump_free(&before);
	dump_free(&after);
}

static void test_inode_unreachable(void **state)
{
	unreachable(*state, false);
}

static void test_dir_unreachable(void **state)
{
	unreachable(*state, true);
}

/* A directory given a second name (later in key order than its first,
 * which is kept), its new parent's nlink counting it. */
static void test_dir_multiple_links(void **state)
{
	struct th_array *e = *state;
	uint64_t buf[TH_KEY_WORDS];
	struct jrx_array a;
	struct jrx_fs fs;
	struct dump before, after;
	const struct jrx_bkey *dk;
	struct jrx_bpos p;
	char name[32];
	const struct want w[] = { { JRX_PR_DIR_MULTIPLE_LINKS, 1 } };

	dump_keys(e->paths, &before);
	th_open_rw(e->paths, &a, &fs);
	dk = find_dirent(&fs, JRX_DT_DIR, 0, buf);
	for (unsigned i = 0;; i++) {
		snprintf(name, sizeof(name), "again%u", i);
		p = jrx_fskey_name_pos(dk->p.inode, name, strlen(name));
		if (p.offset > dk->p.offset)
			break;
	}
	{
		uint64_t nbuf[TH_KEY_WORDS];

		assert_jrx_ok(jrx_fs_update(&fs, JRX_BTREE_DIRENTS,
					    jrx_fskey_dirent(nbuf, dk->p.inode,
							     name, strlen(name),
							     dval(dk)->target,
							     JRX_DT_DIR)));
	}
	add_nlink(&fs, dk->p.inode, 1);
	th_close_rw(&a, &fs);
	expect_found(e, w, 1);
	expect_repaired(e, JRX_REPAIR_ALL, "1 extra names of directories removed");
	dump_keys(e->paths, &after);
	expect_same_keys(&before, &after, "a directory's second name");
	dump_free(&before);
	dump_free(&after);
}

/* PREEN_OK: -p sets nlink. */
static void test_inode_nlink(void **state)
{
	struct th_array *e = *state;
	uint64_t buf[TH_KEY_WORDS];
	struct jrx_array a;
	struct jrx_fs fs;
	struct dump before, after;
	const struct want w[] = { { JRX_PR_INODE_NLINK, 2 } };

	dump_keys(e->paths, &before);
	th_open_rw(e->paths, &a, &fs);
	add_nlink(&fs, dval(find_dirent(&fs, JRX_DT_REG, 5, buf))->target, 3);
	add_nlink(&fs, dval(find_dirent(&fs, JRX_DT_DIR, 1, buf))->target, -1);
	th_close_rw(&a, &fs);
	expect_found(e, w, 1);
	expect_repaired(e, JRX_REPAIR_PREEN, "2 link counts set");
	dump_keys(e->paths, &after);
	expect_same_keys(&before, &after, "two link counts");
	dump_free(&before);
	dump_free(&after);
}

/*
 * The root inode removed (counted out of accounting, as an unlink
 * would): every dirent of the root is in no directory too; or the root
 * made a regular file: every dirent of it is in a non-directory, and its
 * nlink (a file's: its names, none) is wrong too.  The root is made a
 * directory again and keeps its dirents; its nlink is counted again.
 */
static void root_broken(struct th_array *e, bool file)
{
	struct jrx_array a;
	struct jrx_fs fs;
	struct dump before, after;
	struct jrx_inode_val root;
	struct diff d[MAX_DIFF];
	const struct jrx_bkey *k;
	const struct jrx_inode_val *v;
	uint64_t in_root = 0;
	size_t n;
	struct want w[] = { { JRX_PR_ROOT_INODE_MISSING, 1 },
			    { file ? JRX_PR_DIRENT_NOT_IN_DIR :
			      JRX_PR_DIRENT_NO_DIR, 0 },
			    { JRX_PR_INODE_NLINK, 1 } };

	dump_keys(e->paths, &before);
	for (size_t i = 0; i < before.nr; i++)
		in_root += before.v[i].btree == JRX_BTREE_DIRENTS &&
			before.v[i].k->p.inode == JRX_ROOT_INO;
	assert_true(in_root > 0);
	w[1].n = in_root;
	th_open_rw(e->paths, &a, &fs);
	get_inode(&fs, JRX_ROOT_INO, &root);
	if (file) {
		struct jrx_inode_val v = root;

		v.mode = S_IFREG_ | 0644;
		put_inode(&fs, JRX_ROOT_INO, &v);
	} else {
		whiteout(&fs, JRX_BTREE_INODES, jrx_bpos(JRX_ROOT_INO, 0,
							 JRX_SNAPSHOT_DEFAULT));
		assert_jrx_ok(jrx_fs_acct_inodes(&fs, -1));
	}
	th_close_rw(&a, &fs);
	expect_found(e, w, file ? 3 : 2);
	expect_repaired(e, JRX_REPAIR_ALL, "root directory made again");
	dump_keys(e->paths, &after);
	/* the root alone may differ (its times, its generation) */
	n = diff_keys(&before, &after, d, MAX_DIFF);
	if (n > 1 || (n == 1 && (d[0].what != CHANGED ||
				 d[0].new->p.inode != JRX_ROOT_INO))) {
		print_diff(d, n < MAX_DIFF ? n : MAX_DIFF);
		fail_msg("the root made again: %zu keys differ", n);
	}
	k = NULL;
	for (size_t i = 0; i < after.nr && !k; i++)
		if (after.v[i].btree == JRX_BTREE_INODES &&
		    after.v[i].k->p.inode == JRX_ROOT_INO)
			k = after.v[i].k;
	assert_non_null(k);
	v = jrx_bkey_val(k);
	assert_int_equal(v->mode, root.mode);
	assert_int_equal(v->nlink, root.nlink);
	assert_int_equal(v->size, 0);
	dump_free(&before);
	dump_free(&after);
}

static void test_root_missing(void **state)
{
	root_broken(*state, false);
}

static void test_root_not_dir(void **state)
{
	root_broken(*state, true);
}

/* Damage in a namespace btree's node: -p refuses (the topology repair
 * is not PREEN_OK), says so and writes nothing; -y repairs the node first
 * (the xattrs btree rebuilt, repair_topology.c), then, in the next round,
 * the namespace (the dangling dirent removed). */
static void test_refused_on_damage(void **state)
{
	struct th_array *e = *state;
	uint64_t buf[TH_KEY_WORDS];
	struct th_file_state before[2], after[2];
	struct jrx_fsck_result res;
	struct jrx_array a;
	struct jrx_fs fs;
	struct jrx_btree_root r;
	char *text = NULL;
	uint8_t b;
	uint64_t off;

	th_open_rw(e->paths, &a, &fs);
	assert_jrx_ok(jrx_fs_update(&fs, JRX_BTREE_DIRENTS,
				    jrx_fskey_dirent(buf, JRX_ROOT_INO, "ghost", 5,
						     999999, JRX_DT_REG)));
	th_close_rw(&a, &fs);
	/* a byte of the xattrs root's first bset: its keys are hidden */
	assert_jrx_ok(jrx_array_open(&a, e->paths, 2, JRX_OPEN_RDONLY));
	r = a.sb.roots[JRX_BTREE_XATTRS];
	jrx_array_close(&a);
	off = r.v.sector * JRX_SECTOR_SIZE + sizeof(struct jrx_btree_node) +
		sizeof(struct jrx_bset) + 16;
	th_file_pread(e->p[r.v.dev], &b, 1, off);
	b ^= 0x5a;
	th_file_pwrite(e->p[r.v.dev], &b, 1, off);
	for (int i = 0; i < 2; i++)
		th_file_state(e->p[i], &before[i]);
	assert_int_equal(fsck(e, false, JRX_REPAIR_PREEN, &res, &text), 4);
	assert_contains(text, "UNEXPECTED INCONSISTENCY");
	assert_int_equal(res.repaired, 0);
	assert_int_equal(res.counts.code[JRX_PR_DIRENT_DANGLING], 1);
	free(text);
	text = NULL;
	for (int i = 0; i < 2; i++) {
		th_file_state(e->p[i], &after[i]);
		if (before[i].hash != after[i].hash)
			fail_msg("a refused repair wrote to %s", e->p[i]);
	}
	assert_int_equal(fsck(e, false, JRX_REPAIR_ALL, &res, &text), 1);
	assert_contains(text, "repaired: btree xattrs rebuilt from");
	assert_contains(text, "1 dirents removed");
	assert_true(res.repaired & (1u << JRX_FIX_TOPOLOGY));
	assert_true(res.repaired & (1u << JRX_FIX_NAMESPACE));
	free(text);
	assert_int_equal(fsck(e, true, JRX_REPAIR_NONE, &res, NULL), 0);
}

/* An alloc key off by a sector and a dangling dirent: the rebuild runs
 * first, then the namespace repair on the rebuilt allocator. */
static void test_with_rebuild(void **state)
{
	struct th_array *e = *state;
	uint64_t buf[TH_KEY_WORDS];
	struct jrx_fsck_result res;
	struct jrx_array a;
	struct jrx_fs fs;
	struct dump before, after;
	const struct want w[] = { { JRX_PR_ALLOC_MISMATCH, 1 },
				  { JRX_PR_DIRENT_DANGLING, 1 } };

	dump_keys(e->paths, &before);
	th_damage_alloc_key(e->paths, 2);
	th_open_rw(e->paths, &a, &fs);
	assert_jrx_ok(jrx_fs_update(&fs, JRX_BTREE_DIRENTS,
				    jrx_fskey_dirent(buf, JRX_ROOT_INO, "ghost", 5,
						     999999, JRX_DT_REG)));
	th_close_rw(&a, &fs);
	expect_found(e, w, 2);
	expect_repaired(e, JRX_REPAIR_ALL, "1 dirents removed");
	assert_int_equal(fsck(e, true, JRX_REPAIR_NONE, &res, NULL), 0);
	dump_keys(e->paths, &after);
	expect_same_keys(&before, &after, "a dangling dirent beside an alloc"
			 " key off by one");
	dump_free(&before);
	dump_free(&after);
}

/* Three damages at once: a dangling dirent, a file with no name, a
 * wrong nlink. */
static void damage_three(struct th_array *e)
{
	uint64_t buf[TH_KEY_WORDS];
	struct jrx_array a;
	struct jrx_fs fs;
	const struct jrx_bkey *f;

	th_open_rw(e->paths, &a, &fs);
	assert_jrx_ok(jrx_fs_update(&fs, JRX_BTREE_DIRENTS,
				    jrx_fskey_dirent(buf, JRX_ROOT_INO, "ghost", 5,
						     999999, JRX_DT_REG)));
	f = find_dirent(&fs, JRX_DT_REG, 6, buf);
	whiteout(&fs, JRX_BTREE_DIRENTS, f->p);
	add_nlink(&fs, dval(find_dirent(&fs, JRX_DT_REG, 7, buf))->target, 2);
	th_close_rw(&a, &fs);
}

/*
 * The repair killed after write n (injected: the device refuses every
 * write after it), for n spread over all its writes: the next fsck -y
 * recovers the journal the repair left and repairs what is left (exit
 * 1), after which -n finds nothing, -y writes nothing, and the namespace
 * is the one the uninterrupted repair made (inode times aside).
 */
static void test_repair_crash(void **state)
{
	struct th_array *e = *state;
	struct jrx_fsck_result res;
	struct dump want, got;
	char what[96];
	uint64_t total, w0;
	const struct want w[] = { { JRX_PR_DIRENT_DANGLING, 1 },
				  { JRX_PR_INODE_UNREACHABLE, 1 },
				  { JRX_PR_INODE_NLINK, 1 } };

	damage_three(e);
	expect_found(e, w, 3);
	th_copy_files(e->paths, 2, "", ".saved");
	w0 = jrx_dev_writes();
	assert_int_equal(fsck(e, false, JRX_REPAIR_ALL, &res, NULL), 1);
	total = jrx_dev_writes() - w0;
	assert_true(total > 8);
	dump_keys(e->paths, &want);
	dump_no_times(&want);
	for (uint64_t n = 1; n < total; n += 1 + total / 12) {
		th_copy_files(e->paths, 2, ".saved", "");
		th_fsck_killed(e->paths, n);
		snprintf(what, sizeof(what), "repair killed after write %llu of"
			 " %llu", (unsigned long long)n, (unsigned long long)total);
		expect_repaired(e, JRX_REPAIR_ALL, NULL);
		dump_keys(e->paths, &got);
		dump_no_times(&got);
		expect_same_keys(&want, &got, what);
		dump_free(&got);
	}
	dump_free(&want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, th_array_setup, \
							       th_array_teardown)
		T(test_dirent_dangling),
		T(test_dirent_no_dir),
		T(test_dirent_not_in_dir),
		T(test_dirent_bad_hash),
		T(test_dirent_bad_hash_taken),
		T(test_dirent_wrong_type),
		T(test_extent_no_inode),
		T(test_extent_not_file),
		T(test_extent_past_isize),
		T(test_extent_overlap),
		T(test_xattr_no_inode),
		T(test_xattr_bad_hash),
		T(test_inode_unreachable),
		T(test_dir_unreachable),
		T(test_dir_multiple_links),
		T(test_inode_nlink),
		T(test_root_missing),
		T(test_root_not_dir),
		T(test_refused_on_damage),
		T(test_with_rebuild),
		T(test_repair_crash),
#undef T
	};

	return th_exit_code(cmocka_run_group_tests(tests, NULL, NULL));
}
