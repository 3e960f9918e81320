/*
 * test_fsck_topology.c - fsck's topology repair (JRX_FIX_TOPOLOGY,
 * src/fsck/repair_topology.c).  One loaded clean array is made once and
 * restored from a copy before each test; each test damages btree nodes on
 * disk so that fsck -n reports the pass-3 code, then
 *   fsck -p answers UNEXPECTED INCONSISTENCY (not PREEN_OK), exit 4, and
 *   writes nothing;
 *   fsck -y repairs it: exit 1, the rebuild and the lost ranges said;
 *   fsck -n finds nothing: exit 0;
 *   fsck -y again writes nothing: exit 0, the devices' hashes unchanged;
 * and the keys of every btree but alloc and accounting (rebuilt from the
 * others), dumped before the damage and after the repair, are the same
 * outside the ranges the repair says are lost; where nothing is lost the
 * load's oracle still matches.  One test per pass-3 code: a leaf's
 * header checksum, magic, header fields, bset checksum, bset header, an
 * invalid key, unsorted keys, a key outside the node (the keys of the
 * leaf's range lost unless an older copy of the leaf is found: the test
 * says how many came back); the extents root (interior) zeroed, the
 * dirents root entry removed, the root entry's range, nonce, level and
 * btree made wrong, a child pointer's blocks, device, sector and min_key
 * (gap, overlap) made wrong (every leaf found again by the scan: nothing
 * lost, the oracle matches); a leaf and every older copy of its range
 * zeroed (its range said lost, exactly); two btrees damaged at once
 * (both rebuilt in one commit); and the interior repair killed
 * at spread-out writes, finished by the next fsck -y; --json gives one
 * object (the last check's) after all the rounds, the repairs' lines in
 * its "repairs".
 * TEST_FSCK_SHOW=1 prints every report.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "helpers.h"
#include "btree/fs.h"
#include "btree/bnode.h"
#include "format/node.h"
#include "fsck/fsck.h"
#include "workload/verify.h"

struct env {
	struct th_dir dir;
	char p[2][256];
	const char *paths[2];
	char oracle[256];
	char saved[2][300];
};

static void sh(const char *fmt, const char *a, const char *b)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd), fmt, a, b);
	if (system(cmd))
		fail_msg("%s failed", cmd);
}

static int setup_group(void **state)
{
	static struct env e;

	th_dir_make(&e.dir);
	th_path(e.oracle, &e.dir, "oracle.sqlite");
	th_small_loaded_array(&e.dir, e.p, e.paths, 3000, e.oracle);
	for (int i = 0; i < 2; i++) {
		snprintf(e.saved[i], sizeof(e.saved[i]), "%s.saved", e.p[i]);
		sh("cp --sparse=always %s %s", e.p[i], e.saved[i]);
	}
	*state = &e;
	return 0;
}

static int teardown_group(void **state)
{
	struct env *e = *state;

	th_dir_remove(&e->dir);
	return 0;
}

/* Each test starts from the loaded array as made. */
static int setup(void **state)
{
	struct env *e = *state;

	jrx_dev_crash_after_writes(0);
	for (int i = 0; i < 2; i++)
		sh("cp --sparse=always %s %s", e->saved[i], e->p[i]);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	jrx_dev_crash_after_writes(0);
	return 0;
}

/* ------------------------------------------------------------ fsck */

static int fsck(struct env *e, bool read_only, enum jrx_repair_mode mode,
		struct jrx_fsck_result *res, char **text)
{
	return th_fsck(e->paths, read_only, mode, res, text);
}

static void print_counts(const struct jrx_pr_counts *c)
{
	for (unsigned i = 0; i < JRX_PR_NR; i++)
		if (c->code[i])
			fprintf(stderr, "  %s: %llu\n", jrx_problem_table[i].name,
				(unsigned long long)c->code[i]);
}

/* ------------------------------------------------------------ key dumps */

struct dump {
	struct jrx_bkey **k[JRX_BTREE_NR];
	size_t nr[JRX_BTREE_NR], cap[JRX_BTREE_NR];
	unsigned id;
};

static int dump_key(void *ctx, unsigned btree_id, const struct jrx_bkey *k)
{
	struct dump *d = ctx;
	struct jrx_bkey *c = malloc(jrx_bkey_bytes(k));

	(void)btree_id;
	assert_non_null(c);
	memcpy(c, k, jrx_bkey_bytes(k));
	if (d->nr[d->id] == d->cap[d->id]) {
		d->cap[d->id] = d->cap[d->id] ? 2 * d->cap[d->id] : 256;
		d->k[d->id] = realloc(d->k[d->id], d->cap[d->id] * sizeof(c));
		assert_non_null(d->k[d->id]);
	}
	d->k[d->id][d->nr[d->id]++] = c;
	return 0;
}

static void dump(struct env *e, struct dump *d)
{
	struct jrx_array a;
	struct jrx_fs fs;

	memset(d, 0, sizeof(*d));
	assert_jrx_ok(jrx_array_open(&a, e->paths, 2, JRX_OPEN_RDONLY));
	assert_jrx_ok(jrx_fs_open(&fs, &a, JRX_FS_RDONLY));
	for (d->id = 0; d->id < JRX_BTREE_NR; d->id++)
		assert_jrx_ok(jrx_btree_walk(&fs, d->id, dump_key, d));
	jrx_fs_abandon(&fs);
	jrx_array_close(&a);
}

static void dump_free(struct dump *d)
{
	for (unsigned id = 0; id < JRX_BTREE_NR; id++) {
		for (size_t i = 0; i < d->nr[id]; i++)
			free(d->k[id][i]);
		free(d->k[id]);
	}
}

static bool in_range(struct jrx_bpos p, struct jrx_bpos lo, struct jrx_bpos hi)
{
	return jrx_bpos_cmp(p, lo) >= 0 && jrx_bpos_cmp(p, hi) <= 0;
}

/*
 * Every btree but alloc and accounting: the same keys, byte for byte,
 * outside [lo, hi] of btree lost_id (lost_id < 0: everywhere), but for
 * lost extents the inodes of that range, which may change (said).  Inside:
 * *back gets how many keys of before are there again, identical.
 */
static void expect_same(const struct dump *before, const struct dump *after,
			int lost_id, struct jrx_bpos lo, struct jrx_bpos hi,
			size_t *back, size_t *in_before, const char *what)
{
	char t[96];

	*back = *in_before = 0;
	for (unsigned id = 0; id < JRX_BTREE_NR; id++) {
		size_t i = 0, j = 0;

		if (id == JRX_BTREE_ALLOC || id == JRX_BTREE_ACCOUNTING)
			continue;
		while (i < before->nr[id] || j < after->nr[id]) {
			const struct jrx_bkey *x = i < before->nr[id] ?
				before->k[id][i] : NULL;
			const struct jrx_bkey *y = j < after->nr[id] ?
				after->k[id][j] : NULL;
			int c = !x ? 1 : !y ? -1 : jrx_bpos_cmp(x->p, y->p);
			const struct jrx_bkey *k = c <= 0 ? x : y;
			bool lost = (int)id == lost_id && in_range(k->p, lo, hi);
			/* an older copy's extents may raise their file's
			 * i_size (the namespace repair's EXTENT_PAST_ISIZE)
			 * or be removed: the inodes of the range may differ */
			bool ino = lost_id == JRX_BTREE_EXTENTS &&
				id == JRX_BTREE_INODES &&
				k->p.inode >= lo.inode && k->p.inode <= hi.inode;

			if (!c) {
				bool same = jrx_bkey_bytes(x) == jrx_bkey_bytes(y) &&
					!memcmp(x, y, jrx_bkey_bytes(x));

				if (lost) {
					(*in_before)++;
					*back += same;
				} else if (!same && ino) {
					jrx_bpos_to_text(t, sizeof(t), x->p);
					fprintf(stderr, "[ INFO     ] inode %s changed"
						" by the recovered range\n", t);
				} else if (!same) {
					jrx_bpos_to_text(t, sizeof(t), x->p);
					fail_msg("%s: btree %s key %s differs after"
						 " the repair", what,
						 jrx_btree_name(id), t);
				}
				i++, j++;
				continue;
			}
			jrx_bpos_to_text(t, sizeof(t), k->p);
			if (c < 0 && lost) {
				(*in_before)++;
				i++;
				continue;
			}
			if (c > 0 && lost) {
				j++;	/* an older copy's key: allowed in the range */
				continue;
			}
			fail_msg("%s: btree %s key %s is %s after the repair",
				 what, jrx_btree_name(id), t,
				 c < 0 ? "missing" : "new");
		}
	}
}

static void expect_oracle(struct env *e, const char *what)
{
	th_expect_oracle(e->paths, e->oracle, what);
}

/* ------------------------------------------------------------ nodes */

struct node_loc {
	unsigned level;		/* wanted: this level ... */
	bool	 root;		/* ... or the root */
	uint32_t dev;
	uint64_t sector;
	struct jrx_bpos min, max;
	unsigned got_level;
	size_t	 skip;		/* take the skip-th match */
	bool	 found;
};

static int find_cb(void *ctx, const struct jrx_bnode *n)
{
	struct node_loc *l = ctx;

	if (l->found || (!l->root && n->level != l->level))
		return 0;
	if (!l->root && l->skip) {
		l->skip--;
		return 0;
	}
	l->dev = n->dev;
	l->sector = n->sector;
	l->min = n->min;
	l->max = n->max;
	l->got_level = n->level;
	l->found = true;
	return 0;
}

static struct node_loc find_node(struct env *e, unsigned id,
				 struct node_loc l)
{
	th_walk_nodes(e->paths, id, find_cb, &l);
	assert_true(l.found);
	return l;
}

/* ------------------------------------------------------------ the steps */

/* -n finds code; -p refuses (exit 4, nothing written). */
static void expect_found(struct env *e, enum jrx_pr_code code)
{
	struct th_file_state before[2];
	struct jrx_fsck_result res;
	char *text = NULL;
	int got = fsck(e, true, JRX_REPAIR_NONE, &res, NULL);

	if (got != 4 || !res.counts.code[code]) {
		print_counts(&res.counts);
		fail_msg("the damage: exit %d, %s found %llu times", got,
			 jrx_problem_table[code].name,
			 (unsigned long long)res.counts.code[code]);
	}
	th_files_state(e->paths, 2, before);
	assert_int_equal(fsck(e, false, JRX_REPAIR_PREEN, &res, &text), 4);
	assert_contains(text, "UNEXPECTED INCONSISTENCY");
	free(text);
	assert_int_equal(res.repaired, 0);
	th_expect_unwritten(e->paths, 2, before, "fsck -p");
}

/* -y: exit 1 and its text (the caller frees); -n then clean; a second
 * -y writes nothing. */
static char *expect_repaired(struct env *e, const char *what)
{
	struct th_file_state before[2];
	struct jrx_fsck_result res;
	char *text = NULL;
	int got = fsck(e, false, JRX_REPAIR_ALL, &res, &text);

	if (got != 1) {
		print_counts(&res.counts);
		fail_msg("%s: fsck -y: exit %d, expected 1:\n%s", what, got, text);
	}
	got = fsck(e, true, JRX_REPAIR_NONE, &res, NULL);
	if (got) {
		print_counts(&res.counts);
		fail_msg("%s: fsck -n after the repair: exit %d", what, got);
	}
	th_files_state(e->paths, 2, before);
	assert_int_equal(fsck(e, false, JRX_REPAIR_ALL, &res, NULL), 0);
	th_expect_unwritten(e->paths, 2, before, "a second repair");
	return text;
}

/*
 * After damage the repair loses nothing to: code found, `-y` rebuilds
 * (its text has lost, and repaired unless NULL), every key is as before,
 * and the oracle matches.  Frees before.
 */
static void expect_rebuilt_whole(struct env *e, enum jrx_pr_code code,
				 const char *repaired, const char *lost,
				 struct dump *before, const char *what)
{
	struct dump after;
	size_t back, had;
	char *text;

	expect_found(e, code);
	text = expect_repaired(e, what);
	if (repaired)
		assert_contains(text, repaired);
	assert_contains(text, lost);
	free(text);
	dump(e, &after);
	expect_same(before, &after, -1, JRX_POS_MIN, JRX_POS_MIN, &back, &had,
		    what);
	dump_free(before);
	dump_free(&after);
	expect_oracle(e, what);
}

/* ------------------------------------------------------------ tests */

/* Damages of one leaf (the second of the extents btree). */
enum leaf_damage {
	LD_HDR_CSUM,	/* a header byte: NODE_CSUM */
	LD_BAD_MAGIC,	/* the magic: NODE_BAD_MAGIC */
	LD_BAD_HEADER,	/* level 9, checksum set: NODE_BAD_HEADER */
	LD_BSET_CSUM,	/* a key byte: BSET_CSUM */
	LD_BSET_BAD,	/* bset flags set, checksum set: BSET_BAD */
	LD_KEY_INVALID,	/* a key of type 200, checksum set: KEY_INVALID */
	LD_UNSORTED,	/* key 1 at key 0's position: KEYS_UNSORTED */
	LD_OUTSIDE,	/* the last key past the node's max: KEY_OUTSIDE_NODE */
};

/*
 * A leaf damaged: its keys are lost unless an older copy of its range is
 * found; nothing else changes (but the inodes of its range, whose i_size
 * an older copy's extents may raise).
 */
static void leaf_damage(struct env *e, enum leaf_damage how,
			enum jrx_pr_code code, const char *what)
{
	struct node_loc l = find_node(e, JRX_BTREE_EXTENTS,
				      (struct node_loc){ .level = 0, .skip = 1 });
	uint64_t off = l.sector * JRX_SECTOR_SIZE;
	struct jrx_btree_node *h;
	struct jrx_bset *bs;
	struct jrx_bkey *k0, *k1, *last;
	struct dump before, after;
	size_t back, had;
	char t1[96], t2[96], line[300], *text;
	char *node = calloc(1, 16384);

	assert_non_null(node);
	dump(e, &before);
	th_file_pread(e->p[l.dev], node, 16384, off);
	h = (struct jrx_btree_node *)node;
	bs = (struct jrx_bset *)(h + 1);
	k0 = (struct jrx_bkey *)(bs + 1);
	k1 = jrx_bkey_next(k0);
	last = k0;
	for (struct jrx_bkey *k = k0;
	     (char *)k < (char *)(bs + 1) + bs->u64s * 8; k = jrx_bkey_next(k))
		last = k;
	assert_true(bs->u64s > 2 * k0->u64s);
	switch (how) {
	case LD_HDR_CSUM:
		node[offsetof(struct jrx_btree_node, pad) + 2] ^= 0x5a;
		break;
	case LD_BAD_MAGIC:
		h->magic ^= 1;
		break;
	case LD_BAD_HEADER:
		h->level = 9;
		jrx_node_set_csum(h);
		break;
	case LD_BSET_CSUM:
		((char *)k0)[16] ^= 0x5a;
		break;
	case LD_BSET_BAD:
		bs->flags = 1;
		jrx_bset_set_csum(bs);
		break;
	case LD_KEY_INVALID:
		k0->type = 200;
		jrx_bset_set_csum(bs);
		break;
	case LD_UNSORTED:
		k1->p = k0->p;
		jrx_bset_set_csum(bs);
		break;
	case LD_OUTSIDE:
		last->p = jrx_bpos_successor(h->max_key);
		jrx_bset_set_csum(bs);
		break;
	}
	th_file_pwrite(e->p[l.dev], node, 16384, off);
	free(node);
	expect_found(e, code);
	text = expect_repaired(e, what);
	assert_contains(text, "repaired: btree extents rebuilt from");
	dump(e, &after);
	expect_same(&before, &after, JRX_BTREE_EXTENTS, l.min, l.max, &back,
		    &had, what);
	jrx_bpos_to_text(t1, sizeof(t1), l.min);
	jrx_bpos_to_text(t2, sizeof(t2), l.max);
	snprintf(line, sizeof(line), "lost: btree extents keys %s..%s", t1, t2);
	/* either its range is said lost, or an older copy covered it */
	if (!strstr(text, line)) {
		assert_contains(text, "lost: btree extents: no key range uncovered");
		assert_contains(text, "found: btree extents keys of");
	}
	fprintf(stderr, "[ INFO     ] %s: leaf %s..%s: %zu of its %zu keys"
		" back (%s)\n", what, t1, t2, back, had, strstr(text, line) ?
		"its range said lost" : "an older copy found");
	free(text);
	dump_free(&before);
	dump_free(&after);
}

static void test_leaf_csum(void **state)
{
	leaf_damage(*state, LD_HDR_CSUM, JRX_PR_NODE_CSUM, "NODE_CSUM");
}

static void test_leaf_bad_magic(void **state)
{
	leaf_damage(*state, LD_BAD_MAGIC, JRX_PR_NODE_BAD_MAGIC,
		    "NODE_BAD_MAGIC");
}

static void test_leaf_bad_header(void **state)
{
	leaf_damage(*state, LD_BAD_HEADER, JRX_PR_NODE_BAD_HEADER,
		    "NODE_BAD_HEADER");
}

static void test_bset_csum(void **state)
{
	leaf_damage(*state, LD_BSET_CSUM, JRX_PR_BSET_CSUM, "BSET_CSUM");
}

static void test_bset_bad(void **state)
{
	leaf_damage(*state, LD_BSET_BAD, JRX_PR_BSET_BAD, "BSET_BAD");
}

static void test_key_invalid(void **state)
{
	leaf_damage(*state, LD_KEY_INVALID, JRX_PR_KEY_INVALID, "KEY_INVALID");
}

static void test_keys_unsorted(void **state)
{
	leaf_damage(*state, LD_UNSORTED, JRX_PR_KEYS_UNSORTED, "KEYS_UNSORTED");
}

static void test_key_outside_node(void **state)
{
	leaf_damage(*state, LD_OUTSIDE, JRX_PR_KEY_OUTSIDE_NODE,
		    "KEY_OUTSIDE_NODE");
}

/* The extents root (interior) zeroed: every leaf is found by the scan,
 * nothing is lost, the oracle matches. */
static void zero_interior_root(struct env *e, struct node_loc *out)
{
	struct node_loc l = find_node(e, JRX_BTREE_EXTENTS,
				      (struct node_loc){ .root = true });
	void *z = calloc(1, 16384);

	assert_non_null(z);
	if (!l.got_level)
		fail_msg("the extents btree has one level: no interior node");
	th_file_pwrite(e->p[l.dev], z, 16384, l.sector * JRX_SECTOR_SIZE);
	free(z);
	*out = l;
}

static void test_interior_zeroed(void **state)
{
	struct env *e = *state;
	struct node_loc l;
	struct dump before;

	dump(e, &before);
	zero_interior_root(e, &l);
	expect_rebuilt_whole(e, JRX_PR_NODE_BAD_MAGIC, NULL,
			     "lost: btree extents: no key range uncovered",
			     &before, "the extents root zeroed");
}

/* The dirents btree's root entry gone from the superblock. */
static void test_root_missing(void **state)
{
	struct env *e = *state;
	struct dump before;
	struct jrx_array a;

	dump(e, &before);
	assert_jrx_ok(jrx_array_open(&a, e->paths, 2, 0));
	memset(&a.sb.roots[JRX_BTREE_DIRENTS], 0,
	       sizeof(a.sb.roots[JRX_BTREE_DIRENTS]));
	assert_jrx_ok(jrx_array_write_sb(&a));
	jrx_array_close(&a);
	expect_rebuilt_whole(e, JRX_PR_ROOT_MISSING,
			     "repaired: btree dirents rebuilt from",
			     "lost: btree dirents: no key range uncovered",
			     &before, "the dirents root missing");
}

/*
 * The extents btree's root entry in the superblock made wrong, one field
 * at a time: the code it reports, then the repair finds every leaf by the
 * scan and loses nothing.
 */
enum root_damage {
	RD_RANGE,	/* min_key past POS_MIN: ROOT_BAD_RANGE */
	RD_BLOCKS,	/* (child) written length past the node: PTR_BAD_BLOCKS */
	RD_NONCE,	/* a stale pointer: NODE_PTR_MISMATCH */
	RD_LEVEL,	/* one level too high: NODE_WRONG_LEVEL */
	RD_DEVICE,	/* (child) a member the array lacks: PTR_BAD_DEVICE */
	RD_BTREE,	/* the dirents root's node: NODE_WRONG_BTREE */
	RD_PAST_END,	/* (child) past the device's end: NODE_READ */
	RD_GAP,		/* (child) min_key one past: CHILD_GAP */
	RD_OVERLAP,	/* (child) min_key POS_MIN, not first: CHILD_OVERLAP */
};

static void root_damage(struct env *e, enum root_damage how,
			enum jrx_pr_code code, const char *what)
{
	struct jrx_btree_root *r;
	struct dump before;
	struct jrx_array a;

	dump(e, &before);
	assert_jrx_ok(jrx_array_open(&a, e->paths, 2, 0));
	r = &a.sb.roots[JRX_BTREE_EXTENTS];
	switch (how) {
	case RD_RANGE:
		r->v.min_key = jrx_bpos(1, 0, 0);
		break;
	case RD_NONCE:
		r->v.nonce ^= 1;
		break;
	case RD_LEVEL:
		r->level++;
		break;
	case RD_BTREE:
		r->v = a.sb.roots[JRX_BTREE_DIRENTS].v;
		r->k.p = a.sb.roots[JRX_BTREE_DIRENTS].k.p;
		r->level = a.sb.roots[JRX_BTREE_DIRENTS].level;
		break;
	default:
		fail_msg("not a root damage");
	}
	assert_jrx_ok(jrx_array_write_sb(&a));
	jrx_array_close(&a);
	expect_rebuilt_whole(e, code, "repaired: btree extents rebuilt from",
			     "lost: btree extents: no key range uncovered",
			     &before, what);
}

static void test_root_bad_range(void **state)
{
	root_damage(*state, RD_RANGE, JRX_PR_ROOT_BAD_RANGE, "ROOT_BAD_RANGE");
}

static void test_node_ptr_mismatch(void **state)
{
	root_damage(*state, RD_NONCE, JRX_PR_NODE_PTR_MISMATCH,
		    "NODE_PTR_MISMATCH");
}

static void test_node_wrong_level(void **state)
{
	root_damage(*state, RD_LEVEL, JRX_PR_NODE_WRONG_LEVEL,
		    "NODE_WRONG_LEVEL");
}

static void test_node_wrong_btree(void **state)
{
	root_damage(*state, RD_BTREE, JRX_PR_NODE_WRONG_BTREE,
		    "NODE_WRONG_BTREE");
}

/*
 * A child pointer of the extents root (interior) made wrong in the
 * root's last bset (its first key), its checksum set again (the superblock refuses
 * such a root entry itself): the code it reports, then the repair finds
 * the child by the scan and loses nothing.
 */
static void child_damage(struct env *e, enum root_damage how,
			 enum jrx_pr_code code, const char *what)
{
	struct node_loc l = find_node(e, JRX_BTREE_EXTENTS,
				      (struct node_loc){ .root = true });
	uint64_t off = l.sector * JRX_SECTOR_SIZE;
	struct dump before;
	struct jrx_btree_ptr_val *v;
	struct jrx_bset *bs;
	char *node = calloc(1, 16384);

	assert_non_null(node);
	if (!l.got_level)
		fail_msg("the extents btree has one level: no interior node");
	dump(e, &before);
	th_file_pread(e->p[l.dev], node, 16384, off);
	/* the last bset's first key: no later bset hides the change */
	{
		const struct jrx_btree_node *h = (void *)node;
		const char *why;
		size_t o = sizeof(*h);

		bs = NULL;
		while (o + sizeof(*bs) <= 16384 &&
		       !jrx_bset_validate((void *)(node + o), o, 16384,
					  h->nonce, &why)) {
			bs = (struct jrx_bset *)(node + o);
			o = jrx_bset_next_offset(o + jrx_bset_bytes(bs));
		}
		assert_non_null(bs);
		assert_true(bs->u64s > 0);
	}
	v = jrx_bkey_val((struct jrx_bkey *)(bs + 1));
	switch (how) {
	case RD_BLOCKS:
		v->blocks = 1000;
		break;
	case RD_DEVICE:
		v->dev = 7;
		break;
	case RD_GAP:
		v->min_key = jrx_bpos_successor(v->min_key);
		break;
	case RD_OVERLAP:
		if (jrx_bpos_eq(v->min_key, JRX_POS_MIN)) {
			struct jrx_bkey *k1 = jrx_bkey_next((struct jrx_bkey *)
							    (bs + 1));

			assert_true(bs->u64s > 2 * k1->u64s);
			v = jrx_bkey_val(k1);
		}
		v->min_key = JRX_POS_MIN;
		break;
	default:
		v->sector = 1ull << 40;
		break;
	}
	jrx_bset_set_csum(bs);
	th_file_pwrite(e->p[l.dev], node, 16384, off);
	free(node);
	expect_rebuilt_whole(e, code, "repaired: btree extents rebuilt from",
			     "lost: btree extents: no key range uncovered",
			     &before, what);
}

static void test_ptr_bad_blocks(void **state)
{
	child_damage(*state, RD_BLOCKS, JRX_PR_PTR_BAD_BLOCKS, "PTR_BAD_BLOCKS");
}

static void test_ptr_bad_device(void **state)
{
	child_damage(*state, RD_DEVICE, JRX_PR_PTR_BAD_DEVICE, "PTR_BAD_DEVICE");
}

static void test_node_read(void **state)
{
	child_damage(*state, RD_PAST_END, JRX_PR_NODE_READ, "NODE_READ");
}

static void test_child_gap(void **state)
{
	child_damage(*state, RD_GAP, JRX_PR_CHILD_GAP, "CHILD_GAP");
}

static void test_child_overlap(void **state)
{
	child_damage(*state, RD_OVERLAP, JRX_PR_CHILD_OVERLAP, "CHILD_OVERLAP");
}

/*
 * A leaf and every older copy of its range zeroed (every node slot of
 * the devices holding an extents leaf with keys whose range meets it;
 * empty ones, as mkfs's root, are kept and must not hide the loss): its
 * range is said lost, exactly, and nothing outside it changes.
 */
static void test_leaf_lost(void **state)
{
	struct env *e = *state;
	struct node_loc l = find_node(e, JRX_BTREE_EXTENTS,
				      (struct node_loc){ .level = 0, .skip = 1 });
	struct dump before, after;
	struct jrx_array a;
	uint64_t magic, size;
	size_t back, had, zeroed = 0, empty = 0;
	char t1[96], t2[96], line[300], *text;
	char *node = calloc(1, 16384), *z = calloc(1, 16384);

	assert_non_null(node);
	assert_non_null(z);
	assert_jrx_ok(jrx_array_open(&a, e->paths, 2, JRX_OPEN_RDONLY));
	magic = a.node_magic;
	jrx_array_close(&a);
	dump(e, &before);
	for (int d = 0; d < 2; d++) {
		size = th_file_size(e->p[d]);
		for (uint64_t off = 0; off + 16384 <= size; off += 16384) {
			const struct jrx_btree_node *h = (void *)node;

			th_file_pread(e->p[d], node, 16384, off);
			const struct jrx_bset *bs = (const void *)(h + 1);

			if (h->magic != magic || h->btree_id != JRX_BTREE_EXTENTS ||
			    h->level || jrx_bpos_cmp(h->max_key, l.min) < 0 ||
			    jrx_bpos_cmp(h->min_key, l.max) > 0)
				continue;
			/* an empty one (mkfs's root) is kept: an old empty
			 * node must not pass for the range's keys */
			if (!bs->u64s && off != l.sector * JRX_SECTOR_SIZE) {
				empty++;
				continue;
			}
			th_file_pwrite(e->p[d], z, 16384, off);
			zeroed++;
		}
	}
	free(node);
	free(z);
	assert_true(zeroed >= 1);
	expect_found(e, JRX_PR_NODE_BAD_MAGIC);
	text = expect_repaired(e, "a leaf lost");
	jrx_bpos_to_text(t1, sizeof(t1), l.min);
	jrx_bpos_to_text(t2, sizeof(t2), l.max);
	snprintf(line, sizeof(line), "lost: btree extents keys %s..%s: no sound"
		 " node covers them\n", t1, t2);
	assert_contains(text, line);
	dump(e, &after);
	expect_same(&before, &after, JRX_BTREE_EXTENTS, l.min, l.max, &back,
		    &had, "a leaf lost");
	assert_int_equal(back, 0);
	fprintf(stderr, "[ INFO     ] leaf %s..%s and %zu copies zeroed (%zu empty"
		" ones kept): its %zu keys lost, said\n", t1, t2, zeroed - 1,
		empty, had);
	free(text);
	dump_free(&before);
	dump_free(&after);
}

/* Two btrees damaged at once (the extents root zeroed, the dirents root
 * entry gone): both rebuilt, one commit, nothing lost. */
static void test_two_btrees(void **state)
{
	struct env *e = *state;
	struct dump before, after;
	struct jrx_array a;
	struct node_loc l;
	size_t back, had;
	char *text;

	dump(e, &before);
	zero_interior_root(e, &l);
	assert_jrx_ok(jrx_array_open(&a, e->paths, 2, 0));
	memset(&a.sb.roots[JRX_BTREE_DIRENTS], 0,
	       sizeof(a.sb.roots[JRX_BTREE_DIRENTS]));
	assert_jrx_ok(jrx_array_write_sb(&a));
	jrx_array_close(&a);
	expect_found(e, JRX_PR_ROOT_MISSING);
	text = expect_repaired(e, "two btrees");
	assert_contains(text, "repaired: btree extents rebuilt from");
	assert_contains(text, "repaired: btree dirents rebuilt from");
	assert_contains(text, "lost: btree extents: no key range uncovered");
	assert_contains(text, "lost: btree dirents: no key range uncovered");
	free(text);
	dump(e, &after);
	expect_same(&before, &after, -1, JRX_POS_MIN, JRX_POS_MIN, &back, &had,
		    "two btrees");
	dump_free(&before);
	dump_free(&after);
	expect_oracle(e, "two btrees");
}

/* --json: one object after every round, the last check's, with the
 * repairs' lines. */
static void test_json(void **state)
{
	struct env *e = *state;
	struct jrx_fsck_result res;
	struct node_loc l;
	char *json = NULL;

	zero_interior_root(e, &l);
	assert_int_equal(th_fsck_json(e->paths, JRX_REPAIR_ALL, &res, &json), 1);
	th_expect_one_json(json);
	assert_contains(json, "\"state\": \"repaired\"");
	assert_contains(json, "\"exit_code\": 1");
	assert_true(res.repaired & (1u << JRX_FIX_TOPOLOGY));
	assert_true(res.repaired & (1u << JRX_FIX_REBUILD_ALLOC));
	/* what the repairs said, as the text output says it */
	assert_contains(json, "\"repairs\": [");
	assert_contains(json, "\"repaired: btree extents rebuilt from");
	assert_contains(json, "\"lost: btree extents: no key range uncovered\"");
	free(json);
	assert_int_equal(fsck(e, true, JRX_REPAIR_NONE, &res, NULL), 0);
}

/* The interior repair killed at spread-out writes (injected): the next
 * fsck -y finishes it, nothing lost. */
static void test_repair_crash(void **state)
{
	struct env *e = *state;
	struct jrx_fsck_result res;
	struct node_loc l;
	char dmg[2][300], what[96];
	uint64_t total, w0;

	zero_interior_root(e, &l);
	for (int i = 0; i < 2; i++) {
		snprintf(dmg[i], sizeof(dmg[i]), "%s.damaged", e->p[i]);
		sh("cp --sparse=always %s %s", e->p[i], dmg[i]);
	}
	w0 = jrx_dev_writes();
	assert_int_equal(fsck(e, false, JRX_REPAIR_ALL, &res, NULL), 1);
	total = jrx_dev_writes() - w0;
	assert_true(total > 4);
	for (uint64_t n = 1; n < total; n += total / 7 + 1) {
		char *text;

		for (int i = 0; i < 2; i++)
			sh("cp --sparse=always %s %s", dmg[i], e->p[i]);
		th_fsck_killed(e->paths, n);
		snprintf(what, sizeof(what), "repair killed after write %llu of"
			 " %llu", (unsigned long long)n, (unsigned long long)total);
		text = expect_repaired(e, what);
		free(text);
		expect_oracle(e, what);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_leaf_csum, setup, teardown),
		cmocka_unit_test_setup_teardown(test_leaf_bad_magic, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_leaf_bad_header, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_bset_csum, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_bset_bad, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_key_invalid, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_keys_unsorted, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_key_outside_node, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_interior_zeroed, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_root_missing, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_root_bad_range, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_ptr_bad_blocks, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_node_ptr_mismatch, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_node_wrong_level, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_ptr_bad_device, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_node_wrong_btree, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_node_read, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_child_gap, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_child_overlap, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_leaf_lost, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_two_btrees, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_json, setup, teardown),
		cmocka_unit_test_setup_teardown(test_repair_crash, setup,
						teardown),
	};

	return th_exit_code(cmocka_run_group_tests(tests, setup_group,
						   teardown_group));
}
