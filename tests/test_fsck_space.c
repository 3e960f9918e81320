/*
 * test_fsck_space.c - fsck's space repair (JRX_FIX_SPACE,
 * src/fsck/repair_space.c), one test per repairable pass-4 code: an
 * extent of a loaded clean array is pointed somewhere it must not be
 * (its old sectors freed through the store, so the alloc keys stay right
 * but where the damage points), so that fsck -n finds exactly that
 * problem, plus the alloc and accounting mismatches the new place
 * causes; then
 *   fsck -y (or -p for BUCKET_MIXED_DATA) repairs it: exit 1;
 *   fsck -n finds nothing: exit 0;
 *   fsck -y again writes nothing: exit 0, the devices' hashes unchanged;
 * and the namespace btrees' keys, dumped before the damage and after the
 * repair, differ by exactly what the repair says (an extent removed or
 * cut loses its data; a moved extent keeps its file range and data tag,
 * and the bytes at its new place are the bytes it pointed at).  Also: a
 * move killed at spread-out writes is finished by the next fsck -y.
 * TEST_FSCK_SHOW=1 prints every report.
 *
 * A node outside data: a leaf root copied into a journal bucket and the
 * superblock pointed at the copy; its btree is rebuilt into free buckets.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "helpers.h"
#include "keydump.h"
#include "btree/fs.h"
#include "btree/buckets.h"
#include "format/bkey.h"
#include "fsck/fsck.h"

/* ------------------------------------------------------------ fsck */

struct want { enum jrx_pr_code code; uint64_t n; };

/* What pointing an extent at the wrong sectors also causes: the alloc
 * keys and accounting of its new place (pass 5 counts from the btrees). */
static bool side_effect(unsigned code)
{
	return code == JRX_PR_ALLOC_MISMATCH ||
		code == JRX_PR_ACCOUNTING_MISMATCH;
}

/* fsck -n finds exactly these counts of these codes, and otherwise only
 * side effects (at most max_side of them). */
static void expect_found(struct th_array *e, const struct want *w, size_t nr,
			 uint64_t max_side)
{
	struct jrx_fsck_result res;
	uint64_t side = 0;
	int got = th_fsck(e->paths, true, JRX_REPAIR_NONE, &res, NULL);

	for (unsigned c = 0; c < JRX_PR_NR; c++) {
		uint64_t want = 0;

		for (size_t i = 0; i < nr; i++)
			if (w[i].code == c)
				want = w[i].n;
		if (jrx_problem_table[c].severity == JRX_SEV_INFO)
			continue;
		if (side_effect(c) && !want) {
			side += res.counts.code[c];
			continue;
		}
		if (res.counts.code[c] != want) {
			th_print_counts(&res.counts);
			fail_msg("the damage: %s found %llu times, want %llu",
				 jrx_problem_table[c].name,
				 (unsigned long long)res.counts.code[c],
				 (unsigned long long)want);
		}
	}
	if (side > max_side || got != 4) {
		th_print_counts(&res.counts);
		fail_msg("the damage: %llu alloc/accounting problems (exit %d),"
			 " want at most %llu (exit 4)", (unsigned long long)side,
			 got, (unsigned long long)max_side);
	}
}

/* ------------------------------------------------------------ damage */

struct find_extent {
	uint32_t min_size, max_size;
	unsigned skip;
	uint64_t buf[TH_KEY_WORDS];
	bool	 found;
};

static int find_extent_cb(void *ctx, unsigned btree_id, const struct jrx_bkey *k)
{
	struct find_extent *f = ctx;

	(void)btree_id;
	if (k->type != JRX_KEY_EXTENT || k->size < f->min_size ||
	    k->size > f->max_size || f->skip-- > 0)
		return 0;
	memcpy(f->buf, k, jrx_bkey_bytes(k));
	f->found = true;
	return 1;
}

/* An extent of min_size to max_size sectors (the skip + 1'th), into buf. */
static struct jrx_bkey *find_extent_of(struct jrx_fs *fs, uint32_t min_size,
				       uint32_t max_size, unsigned skip,
				       uint64_t *buf)
{
	struct find_extent f = { .min_size = min_size, .max_size = max_size,
				 .skip = skip };

	jrx_btree_walk(fs, JRX_BTREE_EXTENTS, find_extent_cb, &f);
	assert_true(f.found);
	memcpy(buf, f.buf, jrx_bkey_bytes((struct jrx_bkey *)f.buf));
	return (struct jrx_bkey *)buf;
}

static struct jrx_bkey *find_extent(struct jrx_fs *fs, uint32_t min_size,
				    unsigned skip, uint64_t *buf)
{
	return find_extent_of(fs, min_size, UINT32_MAX, skip, buf);
}

static struct jrx_extent_val *ev(struct jrx_bkey *k)
{
	return jrx_bkey_val(k);
}

/* Extent k pointed at (dev, sector); its old sectors freed, so only the
 * new place is wrong.  k is updated. */
static void repoint(struct jrx_fs *fs, struct jrx_bkey *k, uint32_t dev,
		    uint64_t sector)
{
	assert_jrx_ok(jrx_fs_free_data(fs, ev(k)->dev, ev(k)->sector, k->size));
	ev(k)->dev = dev;
	ev(k)->sector = sector;
	assert_jrx_ok(jrx_fs_update(fs, JRX_BTREE_EXTENTS, k));
}

/* A data bucket of dev that is free and followed by a free one. */
static uint64_t free_bucket_pair(struct jrx_fs *fs, uint32_t dev)
{
	const struct jrx_member *m = &fs->a->sb.members[dev];

	for (uint64_t b = m->nbuckets - 2; b > m->first_bucket; b--) {
		bool journal = b + 1 >= m->journal_bucket &&
			b < m->journal_bucket + m->journal_nr;

		if (!journal &&
		    jrx_bucket(&fs->bt, dev, b)->data_type == JRX_DATA_FREE &&
		    jrx_bucket(&fs->bt, dev, b + 1)->data_type == JRX_DATA_FREE)
			return b;
	}
	fail_msg("no two free buckets in a row on device %u", dev);
	return 0;
}

/* A recognisable pattern for n sectors starting at sector of path. */
static void fill(uint8_t *buf, uint64_t sector, size_t n)
{
	for (size_t i = 0; i < n * 512; i++)
		buf[i] = (uint8_t)((sector * 512 + i) * 131 >> 3);
}

static void write_pattern(const char *path, uint64_t sector, size_t n)
{
	uint8_t *buf = malloc(n * 512);

	assert_non_null(buf);
	fill(buf, sector, n);
	th_file_pwrite(path, buf, n * 512, sector * 512);
	free(buf);
}

/* The n sectors at (dev, at) hold the pattern written at sector. */
static void expect_pattern(struct th_array *e, uint32_t dev, uint64_t at,
			   uint64_t sector, size_t n, const char *what)
{
	uint8_t *want = malloc(n * 512), *got = malloc(n * 512);

	assert_non_null(want);
	assert_non_null(got);
	fill(want, sector, n);
	th_file_pread(e->p[dev], got, n * 512, at * 512);
	if (memcmp(want, got, n * 512))
		fail_msg("%s: the data at dev %u sector %llu is not the data of"
			 " sector %llu", what, dev, (unsigned long long)at,
			 (unsigned long long)sector);
	free(want);
	free(got);
}

/* The one key the repair changed: at pos, from old to a new place. */
static const struct jrx_bkey *expect_one_changed(const struct dump *before,
						 const struct dump *after,
						 struct jrx_bpos pos)
{
	struct diff d[MAX_DIFF];
	size_t n = diff_keys(before, after, d, MAX_DIFF);

	if (n != 1 || d[0].what != CHANGED || d[0].btree != JRX_BTREE_EXTENTS ||
	    jrx_bpos_cmp(d[0].new->p, pos)) {
		print_diff(d, n < MAX_DIFF ? n : MAX_DIFF);
		fail_msg("want one extent changed (moved), got %zu differences", n);
	}
	return d[0].new;
}

/* The one key the repair changed: the extent at pos, removed; before
 * is freed. */
static void expect_gone(struct th_array *e, struct dump *before, struct jrx_bpos pos,
			const char *what)
{
	struct diff d[MAX_DIFF];
	struct dump after;
	size_t n;

	dump_keys(e->paths, &after);
	n = diff_keys(before, &after, d, MAX_DIFF);
	if (n != 1 || d[0].what != GONE || jrx_bpos_cmp(d[0].old->p, pos)) {
		print_diff(d, n < MAX_DIFF ? n : MAX_DIFF);
		fail_msg("%s: want it gone, got %zu differences", what, n);
	}
	dump_free(before);
	dump_free(&after);
}

/* ------------------------------------------------------------ tests */

/*
 * An extent (the skip + 1'th) pointed into a journal bucket, or at a
 * member the array does not have (bad_device): found as code once, then
 * removed by fsck -y and nothing else changed.
 */
static void expect_removed(struct th_array *e, unsigned skip, bool bad_device,
			   enum jrx_pr_code code, const char *what)
{
	uint64_t buf[TH_KEY_WORDS];
	struct jrx_array a;
	struct jrx_fs fs;
	struct dump before;
	struct jrx_bkey *k;
	const struct want w[] = { { code, 1 } };

	dump_keys(e->paths, &before);
	th_open_rw(e->paths, &a, &fs);
	k = find_extent(&fs, 1, skip, buf);
	if (bad_device)
		repoint(&fs, k, 5, ev(k)->sector);
	else
		repoint(&fs, k, 0, (uint64_t)a.sb.members[0].journal_bucket *
			(a.sb.bucket_size / 512) + 16);
	th_close_rw(&a, &fs);
	expect_found(e, w, 1, 0);
	th_expect_repaired(e->paths, JRX_REPAIR_ALL, JRX_FIX_SPACE,
			   "repaired: space: 1 extents removed");
	expect_gone(e, &before, k->p, what);
}

/* An extent in a journal bucket: removed. */
static void test_outside_data(void **state)
{
	expect_removed(*state, 3, false, JRX_PR_PTR_OUTSIDE_DATA,
		       "an extent in a journal bucket");
}

/* An extent on a member the array does not have: removed (the topology
 * repair, PTR_BAD_DEVICE's, finds no damaged btree and hands it on). */
static void test_bad_device(void **state)
{
	expect_removed(*state, 5, true, JRX_PR_PTR_BAD_DEVICE,
		       "an extent on no member");
}

/* An extent starting on the last sector of a free bucket: cut to that
 * sector (the front); the rest of its file range becomes a hole. */
static void test_crosses_bucket(void **state)
{
	struct th_array *e = *state;
	uint64_t buf[TH_KEY_WORDS], bs, b, sector;
	struct jrx_array a;
	struct jrx_fs fs;
	struct dump before, after;
	struct diff d[MAX_DIFF];
	struct jrx_bkey *k;
	size_t n;
	const struct want w[] = { { JRX_PR_PTR_CROSSES_BUCKET, 1 } };

	dump_keys(e->paths, &before);
	th_open_rw(e->paths, &a, &fs);
	bs = a.sb.bucket_size / 512;
	k = find_extent(&fs, 2, 2, buf);
	b = free_bucket_pair(&fs, 1);
	sector = (b + 1) * bs - 1;
	repoint(&fs, k, 1, sector);
	th_close_rw(&a, &fs);
	/* bucket b: data type and sectors; accounting: buckets, sectors */
	expect_found(e, w, 1, 4);
	th_expect_repaired(e->paths, JRX_REPAIR_ALL, JRX_FIX_SPACE,
			   "repaired: space: 1 extents cut");
	dump_keys(e->paths, &after);
	n = diff_keys(&before, &after, d, MAX_DIFF);
	/* the front: one sector, at the file range's first sector */
	if (n != 2 || d[0].what != NEW || d[1].what != GONE ||
	    jrx_bpos_cmp(d[1].old->p, k->p) || d[0].new->size != 1 ||
	    d[0].new->p.offset != k->p.offset - k->size + 1 ||
	    ((const struct jrx_extent_val *)jrx_bkey_val(d[0].new))->sector !=
	    sector) {
		print_diff(d, n < MAX_DIFF ? n : MAX_DIFF);
		fail_msg("an extent crossing its bucket: want it cut to its"
			 " first sector, got %zu differences", n);
	}
	dump_free(&before);
	dump_free(&after);
}

/*
 * Extent e2 pointed one sector into extent e1's sectors: the one found
 * second (e2, starting later) is moved, with the data it pointed at;
 * e1 keeps its sectors.  *moved_pos: e2's position.
 */
static void damage_shared(struct th_array *e, struct jrx_bpos *moved_pos,
			  uint32_t *dev, uint64_t *sector, uint32_t *size)
{
	uint64_t b1[TH_KEY_WORDS], b2[TH_KEY_WORDS];
	struct jrx_array a;
	struct jrx_fs fs;
	struct jrx_bkey *k1, *k2;

	th_open_rw(e->paths, &a, &fs);
	k1 = find_extent(&fs, 4, 0, b1);
	k2 = find_extent(&fs, 2, 7, b2);
	assert_true(jrx_bpos_cmp(k1->p, k2->p) != 0);
	*dev = ev(k1)->dev;
	*sector = ev(k1)->sector + 1;
	*size = k2->size;
	*moved_pos = k2->p;
	repoint(&fs, k2, *dev, *sector);
	th_close_rw(&a, &fs);
	write_pattern(e->p[*dev], *sector, *size);
}

static void test_used_twice_extents(void **state)
{
	struct th_array *e = *state;
	struct dump before, after;
	const struct jrx_bkey *nk;
	const struct jrx_extent_val *nv;
	struct jrx_bpos pos;
	uint64_t sector;
	uint32_t dev, size;
	const struct want w[] = { { JRX_PR_BUCKET_USED_TWICE, 1 } };

	damage_shared(e, &pos, &dev, &sector, &size);
	dump_keys(e->paths, &before);
	expect_found(e, w, 1, 4);
	th_expect_repaired(e->paths, JRX_REPAIR_ALL, JRX_FIX_SPACE,
			   "repaired: space: 1 extents moved to free sectors");
	dump_keys(e->paths, &after);
	nk = expect_one_changed(&before, &after, pos);
	nv = jrx_bkey_val(nk);
	assert_int_equal(nk->size, size);
	assert_false(nv->dev == dev && nv->sector + size > sector &&
		     nv->sector < sector + size);
	expect_pattern(e, nv->dev, nv->sector, sector, size,
		       "the moved extent");
	dump_free(&before);
	dump_free(&after);
}

struct find_node {
	uint32_t dev;
	uint64_t sector;
	bool	 found;
};

static int find_leaf_cb(void *ctx, const struct jrx_bnode *n)
{
	struct find_node *f = ctx;

	if (n->level || f->found)
		return 0;
	f->dev = n->dev;
	f->sector = n->sector;
	f->found = true;
	return 0;
}

/* An extent pointed into a leaf node's sectors: the node wins, the
 * extent's shared sectors are cut (all of them: it lies inside). */
static void test_used_twice_node(void **state)
{
	struct th_array *e = *state;
	uint64_t buf[TH_KEY_WORDS];
	struct jrx_array a;
	struct jrx_fs fs;
	struct dump before;
	struct find_node fn = { 0 };
	struct jrx_bkey *k;
	const struct want w[] = { { JRX_PR_BUCKET_USED_TWICE, 1 },
				  { JRX_PR_BUCKET_MIXED_DATA, 1 } };

	dump_keys(e->paths, &before);
	th_open_rw(e->paths, &a, &fs);
	assert_jrx_ok(jrx_btree_walk_nodes(&fs, JRX_BTREE_INODES, find_leaf_cb,
					   &fn));
	assert_true(fn.found);
	k = find_extent_of(&fs, 1, a.sb.btree_node_size / 512 - 8, 0, buf);
	repoint(&fs, k, fn.dev, fn.sector + 8);
	th_close_rw(&a, &fs);
	expect_found(e, w, 2, 4);
	th_expect_repaired(e->paths, JRX_REPAIR_ALL, JRX_FIX_SPACE,
			   "repaired: space: 1 extents removed");
	expect_gone(e, &before, k->p, "an extent inside a node");
}

struct node_slots {
	uint32_t dev;
	uint64_t lo, hi;		/* the bucket's sectors */
	uint64_t *used;			/* node sectors in it */
	size_t	  nr;
};

static int note_slot(void *ctx, const struct jrx_bnode *n)
{
	struct node_slots *s = ctx;

	if (n->dev == s->dev && n->sector >= s->lo && n->sector < s->hi) {
		s->used = realloc(s->used, (s->nr + 1) * sizeof(*s->used));
		assert_non_null(s->used);
		s->used[s->nr++] = n->sector;
	}
	return 0;
}

/*
 * An extent pointed at a node-sized slot no node uses, in a bucket of
 * nodes: BUCKET_MIXED_DATA, PREEN_OK: fsck -p moves the extent out, with
 * its data, and the bucket is nodes only again.
 */
static void test_mixed_preen(void **state)
{
	struct th_array *e = *state;
	uint64_t buf[TH_KEY_WORDS], bs, ns, slot = 0;
	struct jrx_array a;
	struct jrx_fs fs;
	struct dump before, after;
	struct find_node fn = { 0 };
	struct node_slots s = { 0 };
	const struct jrx_bkey *nk;
	const struct jrx_extent_val *nv;
	struct jrx_bkey *k;
	bool found = false;
	const struct want w[] = { { JRX_PR_BUCKET_MIXED_DATA, 1 } };

	th_open_rw(e->paths, &a, &fs);
	bs = a.sb.bucket_size / 512;
	ns = a.sb.btree_node_size / 512;
	assert_jrx_ok(jrx_btree_walk_nodes(&fs, JRX_BTREE_EXTENTS, find_leaf_cb,
					   &fn));
	assert_true(fn.found);
	s.dev = fn.dev;
	s.lo = fn.sector / bs * bs;
	s.hi = s.lo + bs;
	for (unsigned id = 0; id < JRX_BTREE_NR; id++)
		assert_jrx_ok(jrx_btree_walk_nodes(&fs, id, note_slot, &s));
	for (uint64_t at = s.lo; !found && at + ns <= s.hi; at += ns) {
		found = true;
		for (size_t i = 0; i < s.nr; i++)
			if (s.used[i] + ns > at && s.used[i] < at + ns)
				found = false;
		slot = at;
	}
	free(s.used);
	if (!found) {
		jrx_fs_abandon(&fs);
		jrx_array_close(&a);
		skip();		/* the bucket is full of nodes */
	}
	k = find_extent(&fs, 2, 6, buf);
	repoint(&fs, k, fn.dev, slot);
	th_close_rw(&a, &fs);
	write_pattern(e->p[fn.dev], slot, k->size);
	dump_keys(e->paths, &before);
	expect_found(e, w, 1, 4);
	th_expect_repaired(e->paths, JRX_REPAIR_PREEN, JRX_FIX_SPACE,
			   "repaired: space: 1 extents moved to free sectors");
	dump_keys(e->paths, &after);
	nk = expect_one_changed(&before, &after, k->p);
	nv = jrx_bkey_val(nk);
	assert_int_equal(nk->size, k->size);
	assert_false(nv->dev == fn.dev && nv->sector / bs == slot / bs);
	expect_pattern(e, nv->dev, nv->sector, slot, k->size,
		       "the extent moved out of a bucket of nodes");
	dump_free(&before);
	dump_free(&after);
}

/*
 * A btree's root (a leaf) copied to the end of a journal bucket and the
 * superblock pointed at the copy: the node reads sound (pass 3 finds
 * nothing) but lies outside the data buckets.  The btree is rebuilt into
 * free buckets (the topology repair, forced), alloc and accounting after
 * it; no key changes.
 */
static void test_node_outside_data(void **state)
{
	struct th_array *e = *state;
	struct jrx_btree_root *r = NULL;
	const struct jrx_member *m;
	struct dump before, after;
	struct jrx_array a;
	char *node, said[128];
	uint64_t to;
	uint32_t ns;
	const struct want w[] = { { JRX_PR_PTR_OUTSIDE_DATA, 1 } };

	dump_keys(e->paths, &before);
	assert_jrx_ok(jrx_array_open(&a, e->paths, 2, 0));
	for (unsigned id = 0; !r && id < JRX_BTREE_NR; id++)
		if (id != JRX_BTREE_ALLOC && id != JRX_BTREE_ACCOUNTING &&
		    a.sb.roots[id].present && !a.sb.roots[id].level)
			r = &a.sb.roots[id];
	if (!r) {
		jrx_array_close(&a);
		skip();		/* no btree of one level */
	}
	ns = a.sb.btree_node_size;
	m = &a.sb.members[r->v.dev];
	/* the last node-sized slot of the last journal bucket */
	to = (m->journal_bucket + m->journal_nr) * (uint64_t)a.sb.bucket_size - ns;
	node = malloc(ns);
	assert_non_null(node);
	th_file_pread(e->p[r->v.dev], node, ns, r->v.sector * 512);
	th_file_pwrite(e->p[r->v.dev], node, ns, to);
	free(node);
	r->v.sector = to / 512;
	snprintf(said, sizeof(said), "repaired: space: btree %s has nodes"
		 " outside data buckets", jrx_btree_name(r->btree_id));
	assert_jrx_ok(jrx_array_write_sb(&a));
	jrx_array_close(&a);
	/* its old bucket: data type, sectors; accounting */
	expect_found(e, w, 1, 4);
	th_expect_repaired(e->paths, JRX_REPAIR_ALL, JRX_FIX_SPACE, said);
	dump_keys(e->paths, &after);
	expect_same_keys(&before, &after, "a btree rebuilt off a journal bucket");
	dump_free(&before);
	dump_free(&after);
}

/* The extent at pos: where it points dropped (a move killed and done
 * again may land elsewhere), its data checked there instead. */
static void unplace(struct th_array *e, struct dump *d, struct jrx_bpos pos,
		    uint64_t sector, uint32_t size, const char *what)
{
	for (size_t i = 0; i < d->nr; i++) {
		struct jrx_extent_val *v;

		if (d->v[i].btree != JRX_BTREE_EXTENTS ||
		    jrx_bpos_cmp(d->v[i].k->p, pos))
			continue;
		v = jrx_bkey_val(d->v[i].k);
		assert_int_equal(d->v[i].k->size, size);
		expect_pattern(e, v->dev, v->sector, sector, size, what);
		v->dev = 0;
		v->sector = 0;
		v->gen = 0;
		return;
	}
	fail_msg("%s: the moved extent is gone", what);
}

/*
 * The move killed after write n (injected), for n spread over all its
 * writes: the next fsck -y recovers what the repair journaled and
 * finishes it (exit 1), -n then finds nothing, -y writes nothing, and the
 * keys are the uninterrupted repair's, the moved extent's place aside
 * (its data is checked where it went).
 */
static void test_move_crash(void **state)
{
	struct th_array *e = *state;
	struct jrx_fsck_result res;
	struct dump want, got;
	struct jrx_bpos pos;
	char what[96];
	uint64_t total, w0, sector;
	uint32_t dev, size;

	damage_shared(e, &pos, &dev, &sector, &size);
	th_copy_files(e->paths, 2, "", ".saved");
	w0 = jrx_dev_writes();
	assert_int_equal(th_fsck(e->paths, false, JRX_REPAIR_ALL, &res, NULL), 1);
	total = jrx_dev_writes() - w0;
	assert_true(total > 4);
	dump_keys(e->paths, &want);
	unplace(e, &want, pos, sector, size, "the uninterrupted move");
	for (uint64_t n = 1; n < total; n += 1 + total / 10) {
		th_copy_files(e->paths, 2, ".saved", "");
		th_fsck_killed(e->paths, n);
		snprintf(what, sizeof(what), "move killed after write %llu of"
			 " %llu", (unsigned long long)n, (unsigned long long)total);
		th_expect_repaired(e->paths, JRX_REPAIR_ALL, -1, NULL);
		dump_keys(e->paths, &got);
		unplace(e, &got, pos, sector, size, what);
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
		T(test_outside_data),
		T(test_bad_device),
		T(test_crosses_bucket),
		T(test_used_twice_extents),
		T(test_used_twice_node),
		T(test_mixed_preen),
		T(test_node_outside_data),
		T(test_move_crash),
#undef T
	};

	return th_exit_code(cmocka_run_group_tests(tests, NULL, NULL));
}
