/*
 * test_synth.c - `jrx synth`: the generated journal is what the report says
 * (every jset valid, seq range complete, keys only in the journal), the
 * array is left unclean and fsck finds nothing wrong with its post-recovery
 * view, the overwrite ratio and btree mix are honoured (a mix of one btree
 * too), the "hot" distribution puts its share of the keys on the hot
 * inodes (counted by reading the journal back), the same seed gives the
 * same stream, and every refusal (journal too small, array not clean)
 * writes nothing.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "helpers.h"
#include "btree/fs.h"
#include "format/bkey.h"
#include "format/format.h"
#include "format/jset.h"
#include "fsck/fsck.h"
#include "journal/jread.h"
#include "workload/inspect.h"
#include "btree/mkfs.h"
#include "workload/synth.h"

#define NB JRX_SYNTH_NR_BTREES

struct env {
	struct th_dir dir;
	char p[3][256];
	const char *paths[3];
};

static int setup(void **state)
{
	static struct env e;

	th_dir_make(&e.dir);
	for (unsigned i = 0; i < 3; i++) {
		char name[8];

		snprintf(name, sizeof(name), "d%u", i);
		th_path(e.p[i], &e.dir, name);
		e.paths[i] = e.p[i];
	}
	*state = &e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;

	th_dir_remove(&e->dir);
	return 0;
}

static void format(struct env *e, unsigned n, unsigned replicas,
		   uint64_t journal_size)
{
	struct th_geom g = {
		/* small enough to hash whole for "nothing written" */
		.size = journal_size + (160ull << 20), .bucket_size = 256u << 10,
		.node_size = 32u << 10, .replicas = replicas,
		.journal_size = journal_size,
	};

	for (unsigned i = 0; i < n; i++)
		remove(e->p[i]);
	assert_jrx_ok(th_format(e->paths, n, &g));
}

static int synth(struct env *e, unsigned n, const struct jrx_synth_opts *o,
		 struct jrx_synth_report *r)
{
	struct jrx_array a;
	int ret;

	assert_jrx_ok(jrx_array_open(&a, e->paths, n, 0));
	memset(r, 0, sizeof(*r));
	ret = jrx_synth(&a, o, r);
	jrx_array_close(&a);
	return ret;
}

static void summarize(struct env *e, unsigned n, struct jrx_journal_summary *s,
		      struct jrx_sb *sb)
{
	struct jrx_array a;

	assert_jrx_ok(jrx_array_open(&a, e->paths, n, JRX_OPEN_RDONLY));
	assert_jrx_ok(jrx_journal_summarize(&a, s));
	*sb = a.sb;
	jrx_array_close(&a);
}

/*
 * What every generated array must satisfy: the report adds up, the journal
 * holds exactly the reported keys in one complete live range, new
 * positions are absent from the base, and replaying it leaves a store
 * fsck finds clean (allocation info matching the btrees).
 */
static void assert_valid(struct env *e, unsigned n, unsigned replicas,
			 const struct jrx_synth_opts *o,
			 const struct jrx_synth_report *r, const char *what)
{
	struct jrx_journal_summary s;
	struct jrx_sb sb;
	uint64_t sum = 0;

	for (unsigned b = 0; b < NB; b++)
		sum += r->keys_by_btree[b];
	if (r->keys != o->keys || sum != r->keys)
		fail_msg("%s: %" PRIu64 " keys asked, report: %" PRIu64 " keys,"
			 " %" PRIu64 " by btree", what, o->keys, r->keys, sum);
	if (r->jsets < 2 || r->last_seq - r->first_seq + 1 != r->jsets)
		fail_msg("%s: %" PRIu64 " jsets for seq %" PRIu64 "..%" PRIu64,
			 what, r->jsets, r->first_seq, r->last_seq);

	summarize(e, n, &s, &sb);
	if (sb.flags & JRX_SB_CLEAN)
		fail_msg("%s: the array was left clean", what);
	if (s.bad || s.jsets != replicas * r->jsets)
		fail_msg("%s: journal: %" PRIu64 " valid and %" PRIu64 " bad jset"
			 " copies, want %" PRIu64 " valid", what, s.jsets, s.bad,
			 replicas * r->jsets);
	if (s.max_seq != r->last_seq || s.last_seq != r->first_seq)
		fail_msg("%s: live range %" PRIu64 "..%" PRIu64 ", report %"
			 PRIu64 "..%" PRIu64, what, s.last_seq, s.max_seq,
			 r->first_seq, r->last_seq);
	/* file keys + alloc keys + accounting keys, all in the live range */
	if (s.live_keys != r->keys + r->alloc_keys + r->acct_keys)
		fail_msg("%s: %" PRIu64 " live keys, report: %" PRIu64 " + %"
			 PRIu64 " alloc + %" PRIu64 " accounting", what,
			 s.live_keys, r->keys, r->alloc_keys, r->acct_keys);
	/* every new position is absent from the base btrees */
	if (s.journal_only < r->keys - r->overwrites)
		fail_msg("%s: %" PRIu64 " keys only in the journal, fewer than"
			 " the %" PRIu64 " new ones", what, s.journal_only,
			 r->keys - r->overwrites);
	th_assert_fsck_clean(e->paths, n, what);
}

/* A file-btree key of the live journal range, read back. */
struct jk {
	uint64_t inode, offset;
	unsigned btree;
	bool	 on_disk;	/* the base holds a key at this position */
};

static int cmp_jk(const void *x, const void *y)
{
	const struct jk *a = x, *b = y;

	if (a->inode != b->inode)
		return a->inode < b->inode ? -1 : 1;
	if (a->btree != b->btree)
		return a->btree < b->btree ? -1 : 1;
	return a->offset < b->offset ? -1 : a->offset > b->offset;
}

/*
 * The file-btree keys of the journal (one copy of every seq of the
 * report's range), each looked up in the base btrees; fails unless they
 * are exactly the reported keys, btree by btree.
 */
static struct jk *read_keys(struct env *e, unsigned n,
			    const struct jrx_synth_report *r, const char *what)
{
	uint64_t nseq = r->last_seq - r->first_seq + 1, by[NB] = { 0 };
	bool *seen = calloc(nseq, 1);
	struct jk *v = malloc((r->keys + 1) * sizeof(*v));
	struct jrx_journal_scan scan;
	struct jrx_array a;
	struct jrx_fs fs;
	size_t nk = 0;

	assert_non_null(seen);
	assert_non_null(v);
	assert_jrx_ok(jrx_array_open(&a, e->paths, n, JRX_OPEN_RDONLY));
	assert_jrx_ok(jrx_journal_read_seq(&a, &scan, JRX_SCAN_KEEP));
	assert_jrx_ok(jrx_fs_open(&fs, &a, JRX_FS_RDONLY));
	for (size_t i = 0; i < scan.nr; i++) {
		const struct jrx_jset *j = scan.v[i].j;
		const struct jrx_jset_entry *je;
		const struct jrx_bkey *k, *disk;

		if (scan.v[i].state != JRX_JSET_OK || !j ||
		    j->seq < r->first_seq || j->seq > r->last_seq ||
		    seen[j->seq - r->first_seq])
			continue;
		seen[j->seq - r->first_seq] = true;
		jrx_for_each_jset_entry(je, j) {
			if (je->type != JRX_JE_BTREE_KEYS || je->level ||
			    je->btree_id >= NB)
				continue;
			jrx_for_each_entry_key(k, je) {
				if (nk == r->keys)
					fail_msg("%s: the journal holds more file"
						 " keys than the reported %" PRIu64,
						 what, r->keys);
				assert_jrx_ok(jrx_btree_lookup(&fs, je->btree_id,
							       k->p, &disk));
				v[nk++] = (struct jk){ k->p.inode, k->p.offset,
						       je->btree_id, disk != NULL };
				by[je->btree_id]++;
			}
		}
	}
	jrx_fs_abandon(&fs);
	jrx_journal_scan_free(&scan);
	jrx_array_close(&a);
	for (uint64_t i = 0; i < nseq; i++)
		if (!seen[i])
			fail_msg("%s: seq %" PRIu64 " not found in the journal",
				 what, r->first_seq + i);
	free(seen);
	for (unsigned b = 0; b < NB; b++)
		if (by[b] != r->keys_by_btree[b])
			fail_msg("%s: the journal holds %" PRIu64 " %s keys, the"
				 " report says %" PRIu64, what, by[b],
				 jrx_btree_name(b), r->keys_by_btree[b]);
	return v;
}

/* Distinct positions of btree b on inode ino among v[0..n) (sorted). */
static uint64_t distinct(const struct jk *v, size_t n, uint64_t ino, unsigned b)
{
	uint64_t d = 0;

	for (size_t i = 0; i < n; i++)
		if (v[i].inode == ino && v[i].btree == b &&
		    (!d || v[i - 1].inode != ino || v[i - 1].btree != b ||
		     v[i - 1].offset != v[i].offset))
			d++;
	return d;
}

static double ratio(uint64_t part, uint64_t whole)
{
	return whole ? (double)part / (double)whole : 0;
}

struct hot_stats {
	uint64_t on_hot[NB];		/* keys of btree b on either hot inode */
	uint64_t hot;			/* all of them */
	uint64_t top_inode, top_keys;	/* the inode with most keys */
};

/*
 * Count the journal's keys per inode and check them against the report:
 * the keys on the two hot inodes are the reported hot_keys and at least
 * min_share of all keys.
 */
static struct jk *check_hot_share(struct env *e, unsigned n,
				  const struct jrx_synth_report *r,
				  double min_share, struct hot_stats *h,
				  const char *what)
{
	struct jk *v = read_keys(e, n, r, what);
	uint64_t run = 0;

	memset(h, 0, sizeof(*h));
	if (r->hot_dir != JRX_ROOT_INO || !r->hot_file || r->hot_file == r->hot_dir)
		fail_msg("%s: hot inodes: file %" PRIu64 ", directory %" PRIu64
			 " (want some file and the root %u)", what, r->hot_file,
			 r->hot_dir, JRX_ROOT_INO);
	qsort(v, r->keys, sizeof(*v), cmp_jk);
	for (size_t i = 0; i < r->keys; i++) {
		if (v[i].inode == r->hot_file || v[i].inode == r->hot_dir) {
			h->on_hot[v[i].btree]++;
			h->hot++;
		}
		run = i && v[i - 1].inode == v[i].inode ? run + 1 : 1;
		if (run > h->top_keys) {
			h->top_keys = run;
			h->top_inode = v[i].inode;
		}
	}
	if (h->hot != r->hot_keys)
		fail_msg("%s: the journal has %" PRIu64 " keys on inodes %" PRIu64
			 " and %" PRIu64 ", the report says %" PRIu64, what, h->hot,
			 r->hot_file, r->hot_dir, r->hot_keys);
	if (ratio(h->hot, r->keys) < min_share)
		fail_msg("%s: %.2f%% of the journal keys on the hot inodes, want"
			 " at least %.2f%%", what, 100 * ratio(h->hot, r->keys),
			 100 * min_share);
	return v;
}

/* Replicas 2 over 3 devices: every jset twice, none bad, all live. */
static void test_journal_matches_report(void **state)
{
	struct env *e = *state;
	struct jrx_synth_opts o;
	struct jrx_synth_report r;

	format(e, 3, 2, 32u << 20);
	jrx_synth_opts_default(&o);
	o.keys = 60000;
	o.base_keys = 20000;
	o.seed = 7;
	assert_jrx_ok(synth(e, 3, &o, &r));
	assert_valid(e, 3, 2, &o, &r, "uniform");
	assert_int_equal(r.hot_keys, 0);	/* hot fields: "hot" only */
}

/*
 * "hot" with the default mix: exactly JRX_SYNTH_HOT_PCT % of the keys on
 * the hot inodes; in each btree those keys are nearly all of its keys and
 * hit many distinct positions: the hot file's extents both overwrite its
 * base extents and add offsets past its end, the root's dirents and the
 * hot file's xattrs are many names.  The array is as valid as any other.
 */
static void test_hot(void **state)
{
	struct env *e = *state;
	struct jrx_synth_opts o;
	struct jrx_synth_report r;
	struct hot_stats h;
	struct jk *v;
	uint64_t base_hits = 0, past = 0, base_max = 0, new_min = UINT64_MAX;
	double want = JRX_SYNTH_HOT_PCT / 100.0, share;
	static const unsigned owner_is_dir[NB] = { 0, 0, 1, 0 };

	assert_int_equal(jrx_synth_parse_dist("hot"), JRX_SYNTH_HOT);
	assert_string_equal(jrx_synth_dist_name(JRX_SYNTH_HOT), "hot");

	format(e, 2, 1, 32u << 20);
	jrx_synth_opts_default(&o);
	o.keys = 60000;
	o.base_keys = 20000;
	o.seed = 11;
	o.dist = JRX_SYNTH_HOT;
	assert_jrx_ok(synth(e, 2, &o, &r));
	assert_valid(e, 2, 1, &o, &r, "hot");

	/* the share is a running count: exact to a key or two per jset */
	share = ratio(r.hot_keys, r.keys);
	if (share < want - 0.002 || share > want + 0.002)
		fail_msg("hot: %.3f%% of the keys on the hot inodes, the"
			 " distribution promises %u%%", 100 * share,
			 JRX_SYNTH_HOT_PCT);
	v = check_hot_share(e, 2, &r, want - 0.002, &h, "hot");
	if (h.top_inode != r.hot_file)
		fail_msg("hot: inode %" PRIu64 " has the most keys (%" PRIu64 "),"
			 " not the hot file %" PRIu64, h.top_inode, h.top_keys,
			 r.hot_file);
	/* every btree but inodes (new inodes cannot be hot) is nearly all hot */
	for (unsigned b = 0; b < NB; b++) {
		uint64_t ino = owner_is_dir[b] ? r.hot_dir : r.hot_file, d;

		if (b == JRX_BTREE_INODES)
			continue;
		if (ratio(h.on_hot[b], r.keys_by_btree[b]) < want)
			fail_msg("hot: %" PRIu64 " of %" PRIu64 " %s keys on the hot"
				 " inodes (%.1f%%), want %u%% or more", h.on_hot[b],
				 r.keys_by_btree[b], jrx_btree_name(b),
				 100 * ratio(h.on_hot[b], r.keys_by_btree[b]),
				 JRX_SYNTH_HOT_PCT);
		d = distinct(v, r.keys, ino, b);
		if (d < r.keys_by_btree[b] / 10)
			fail_msg("hot: %" PRIu64 " distinct %s positions on inode %"
				 PRIu64 " for %" PRIu64 " keys: too few", d,
				 jrx_btree_name(b), ino, r.keys_by_btree[b]);
	}
	if (!h.on_hot[JRX_BTREE_INODES])
		fail_msg("hot: no inode rewrite of the hot inodes");
	/* the hot file's extents: base positions and offsets past its base */
	for (size_t i = 0; i < r.keys; i++) {
		if (v[i].inode != r.hot_file || v[i].btree != JRX_BTREE_EXTENTS)
			continue;
		if (v[i].on_disk) {
			base_hits++;
			base_max = v[i].offset > base_max ? v[i].offset : base_max;
		} else {
			past++;
			new_min = v[i].offset < new_min ? v[i].offset : new_min;
		}
	}
	if (base_hits < r.keys / 20 || past < r.keys / 20)
		fail_msg("hot: hot file extents: %" PRIu64 " on base positions, %"
			 PRIu64 " new: want both at least %" PRIu64, base_hits, past,
			 r.keys / 20);
	if (new_min <= base_max)
		fail_msg("hot: a new extent of the hot file at offset %" PRIu64
			 ", not past its base (up to %" PRIu64 ")", new_min, base_max);
	free(v);
}

/*
 * One btree only (a mix naming one btree, as `--btrees extents=1` gives),
 * uniform and hot: the base holds M keys of that btree (plus the inodes
 * its entries belong to), the journal keys are that btree's but for the
 * inode keys the write path journals with them, and the array is valid.
 */
static void test_one_btree(void **state)
{
	struct env *e = *state;
	/* least share of the journal keys in the btree itself: new files
	 * come with extents, every new name with its inode's key */
	static const double own[NB] = { 0.9, 1.0, 0.45, 0.99 };
	/* least hot share: new inodes' own keys cannot be hot, so a mix of
	 * inodes gets the overwrite share, dirents the names' share */
	static const double hot[NB] = { 0.898, 0.29, 0.45, 0.898 };
	static const unsigned dists[] = { JRX_SYNTH_UNIFORM, JRX_SYNTH_HOT };

	for (unsigned b = 0; b < NB; b++)
		for (unsigned di = 0; di < 2; di++) {
			struct jrx_synth_opts o;
			struct jrx_synth_report r;
			struct hot_stats h;
			char mix[32], what[64];

			snprintf(mix, sizeof(mix), "%s=1", jrx_btree_name(b));
			snprintf(what, sizeof(what), "--btrees %s --distribution %s",
				 mix, jrx_synth_dist_name(dists[di]));
			format(e, 2, 1, 32u << 20);
			jrx_synth_opts_default(&o);
			assert_jrx_ok(jrx_synth_parse_mix(mix, o.mix));
			o.keys = 20000;
			o.base_keys = 8000;
			o.seed = 3 + b;
			o.dist = dists[di];
			assert_jrx_ok(synth(e, 2, &o, &r));
			assert_valid(e, 2, 1, &o, &r, what);

			if (r.base_by_btree[b] != o.base_keys)
				fail_msg("%s: %" PRIu64 " base %s keys, want %" PRIu64,
					 what, r.base_by_btree[b], mix, o.base_keys);
			for (unsigned c = 0; c < NB; c++) {
				if (c == b || c == JRX_BTREE_INODES)
					continue;
				if (r.base_by_btree[c] || r.keys_by_btree[c])
					fail_msg("%s: %" PRIu64 " base and %" PRIu64
						 " journal %s keys, want none", what,
						 r.base_by_btree[c], r.keys_by_btree[c],
						 jrx_btree_name(c));
			}
			if (ratio(r.keys_by_btree[b], r.keys) < own[b])
				fail_msg("%s: %" PRIu64 " of %" PRIu64 " journal keys"
					 " are %s keys, want %.0f%% or more", what,
					 r.keys_by_btree[b], r.keys, jrx_btree_name(b),
					 100 * own[b]);
			if (dists[di] == JRX_SYNTH_HOT)
				free(check_hot_share(e, 2, &r, hot[b], &h, what));
			else
				free(read_keys(e, 2, &r, what));
		}
}

static void test_overwrite_ratio_and_mix(void **state)
{
	struct env *e = *state;
	struct jrx_synth_opts o;
	struct jrx_synth_report r;
	double share;

	format(e, 2, 1, 32u << 20);
	jrx_synth_opts_default(&o);
	o.keys = 50000;
	o.base_keys = 10000;
	o.overwrite_ratio = 0.5;
	o.dist = JRX_SYNTH_ZIPF;
	assert_jrx_ok(jrx_synth_parse_mix("extents=1,dirents=1", o.mix));
	assert_jrx_ok(synth(e, 2, &o, &r));

	share = (double)r.overwrites / (double)r.keys;
	if (share < 0.45 || share > 0.55)
		fail_msg("overwrite share %.3f, asked for 0.5", share);
	assert_int_equal(r.keys_by_btree[JRX_BTREE_XATTRS], 0);
	assert_true(r.keys_by_btree[JRX_BTREE_EXTENTS] > 10000);
	assert_true(r.keys_by_btree[JRX_BTREE_DIRENTS] > 10000);
}

/* Same seed and geometry: the same key stream, counted the same way. */
static void test_deterministic(void **state)
{
	struct env *e = *state;
	struct jrx_synth_opts o;
	struct jrx_synth_report r1, r2;

	jrx_synth_opts_default(&o);
	o.keys = 20000;
	o.base_keys = 5000;
	o.seed = 42;
	o.dist = JRX_SYNTH_SEQUENTIAL;
	format(e, 2, 1, 32u << 20);
	assert_jrx_ok(synth(e, 2, &o, &r1));
	format(e, 2, 1, 32u << 20);
	assert_jrx_ok(synth(e, 2, &o, &r2));

	assert_int_equal(r1.jsets, r2.jsets);
	assert_int_equal(r1.journal_bytes, r2.journal_bytes);
	assert_int_equal(r1.overwrites, r2.overwrites);
	assert_int_equal(r1.deletes, r2.deletes);
	assert_int_equal(r1.alloc_keys, r2.alloc_keys);
	assert_int_equal(r1.acct_keys, r2.acct_keys);
	assert_int_equal(r1.base_nodes, r2.base_nodes);
	assert_memory_equal(r1.keys_by_btree, r2.keys_by_btree,
			    sizeof(r1.keys_by_btree));
}

/* Refusals are decided before any write. */
static void test_refusals_write_nothing(void **state)
{
	struct env *e = *state;
	struct jrx_synth_opts o;
	struct jrx_synth_report r;
	struct th_file_state before[2], after[2];

	format(e, 2, 1, 2u << 20);		/* 8 buckets of journal */
	for (unsigned i = 0; i < 2; i++)
		th_file_state(e->p[i], &before[i]);
	jrx_synth_opts_default(&o);
	o.keys = 2000000;
	assert_jrx_err(synth(e, 2, &o, &r), -JRX_ERR_JOURNAL_FULL);
	assert_contains(jrx_diag(), "journal too small");
	for (unsigned i = 0; i < 2; i++) {
		th_file_state(e->p[i], &after[i]);
		assert_int_equal(before[i].hash, after[i].hash);
	}

	/* a dirty array is refused: synth needs a clean one */
	o.keys = 1000;
	o.base_keys = 100;
	assert_jrx_ok(synth(e, 2, &o, &r));
	for (unsigned i = 0; i < 2; i++)
		th_file_state(e->p[i], &before[i]);
	assert_jrx_err(synth(e, 2, &o, &r), -JRX_ERR_NEEDS_RECOVERY);
	for (unsigned i = 0; i < 2; i++) {
		th_file_state(e->p[i], &after[i]);
		assert_int_equal(before[i].hash, after[i].hash);
	}
}

/*
 * --fill: the base's leaves are filled to the asked share of a node, so a
 * fuller base needs fewer nodes for the same keys (nodes scale about as
 * 1/fill), and every fill gives a valid array; a fill out of range is
 * refused before any write.
 */
static void test_fill(void **state)
{
	static const unsigned fills[] = { 50, 75, 100 };
	struct env *e = *state;
	struct jrx_synth_opts o;
	struct jrx_synth_report r;
	struct th_file_state before, after;
	uint64_t nodes[3];
	char what[64];

	for (unsigned i = 0; i < 3; i++) {
		jrx_synth_opts_default(&o);
		o.keys = 5000;
		o.base_keys = 60000;
		o.seed = 9;
		o.fill_pct = fills[i];
		format(e, 2, 1, 32u << 20);
		assert_jrx_ok(synth(e, 2, &o, &r));
		snprintf(what, sizeof(what), "--fill %u", fills[i]);
		assert_valid(e, 2, 1, &o, &r, what);
		nodes[i] = r.base_nodes;
	}
	/* 50 % full needs about twice the nodes of 100 %, 1.5 x of 75 % */
	if (!(nodes[0] > nodes[1] && nodes[1] > nodes[2]) ||
	    nodes[0] * 10 < nodes[2] * 17 || nodes[0] * 10 > nodes[2] * 23)
		fail_msg("base nodes at fill 50/75/100: %" PRIu64 "/%" PRIu64
			 "/%" PRIu64 ": not about 1/fill", nodes[0], nodes[1],
			 nodes[2]);

	format(e, 2, 1, 32u << 20);
	th_file_state(e->p[0], &before);
	o.fill_pct = JRX_SYNTH_MIN_FILL - 1;
	assert_jrx_err(synth(e, 2, &o, &r), -JRX_ERR_BAD_OPTION);
	assert_contains(jrx_diag(), "--fill");
	th_file_state(e->p[0], &after);
	assert_int_equal(before.hash, after.hash);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_journal_matches_report),
		cmocka_unit_test(test_overwrite_ratio_and_mix),
		cmocka_unit_test(test_hot),
		cmocka_unit_test(test_one_btree),
		cmocka_unit_test(test_deterministic),
		cmocka_unit_test(test_refusals_write_nothing),
		cmocka_unit_test(test_fill),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
