/*
 * test_btree_model.c - a property test of the btree write path against an
 * in-memory model.
 *
 * 100,000 random operations (new inserts, overwrites and deletions of
 * existing keys, deletions being whiteouts) go through jrx_fs_update +
 * jrx_fs_commit into two btrees:
 *  - extents: fixed-size keys whose data sectors are really allocated with
 *    jrx_fs_alloc_data and released with jrx_fs_free_data, so the alloc and
 *    accounting btrees must follow;
 *  - xattrs: variable-size keys (40 bytes .. ~3.5 KiB) so splits happen on
 *    byte size, not key count, with very few keys per node at times.
 * It runs twice: 2 devices with 64 KiB buckets, 16 KiB nodes and jsets
 * written to both (three-level btrees), and 1 device with 128 KiB buckets
 * and 32 KiB nodes; both with a 1 MiB journal per device, so nodes split,
 * move and append bsets all the time and the journal ring is reclaimed
 * and wraps many times.
 *
 * Every 100 operations the node structure of both btrees is checked
 * (children tile their parent, keys sorted and inside [min, max], no
 * whiteout in a live view, live_u64s right, the compacted node fits).
 * Every 20,000 operations, and at the end, the whole of both btrees is
 * walked and compared key by key, byte for byte, with the model, and
 * lookups and peeks at random present and absent positions are checked.
 * Checkpoints 1 and 3 shut the store down cleanly and reopen the array
 * (everything is then decoded from disk, bsets with whiteouts included);
 * checkpoint 2 writes everything back, shuts down and reopens read-only
 * (updates refused); checkpoint 4 and the end (live, then reopened) check
 * alloc and accounting: every bucket's alloc key against the nodes and
 * extents that really live in it (no sector used twice, extent gens not
 * stale), the accounting btree against the alloc keys, the inode count
 * against the inodes btree, and the in-memory bucket table against the
 * alloc btree.  Last, a power cut after a full write-back and a jset: the
 * read-only view at the newest jset's roots must equal the model.
 *
 * A directed test checks that an open bucket emptied before a clean
 * shutdown is freed rather than left "in use" with 0 sectors forever;
 * another that the allocator refuses a release below zero sectors or
 * outside the array with its own error, changing nothing.
 *
 * The seed is fixed; JRX_TEST_SEED=<n> in the environment overrides it.
 * Every failure names the seed, the operation and what differed.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "helpers.h"
#include "btree/fs.h"

#define SNAP		JRX_SNAPSHOT_DEFAULT
#define NR_OPS		100000u
#define CHECK_EVERY	20000u
#define WRITEBACK_EVERY	9973u
#define SHAPE_EVERY	100u

/* extents: 64 files of 1024 slots of 8 sectors; an extent is 1..4 sectors
 * ending at its slot's end, so extents never overlap */
#define EXT_INO0	4096u
#define EXT_PER_INO	1024u
#define EXT_NPOS	(64u * EXT_PER_INO)
/* xattrs: 32 inodes of 256 names */
#define XA_INO0		8192u
#define XA_PER_INO	256u
#define XA_NPOS		(32u * XA_PER_INO)

#define DEFAULT_SEED	0x6a72786d6f64656cull

/* One run: geometry, seed, and how deep the btrees must have grown. */
struct config {
	const char     *name;
	unsigned	ndevs;
	struct th_geom	g;
	uint64_t	seed;
	unsigned	min_ext_level, min_xa_level;
};

/* 2 devices, jsets on both: many small nodes, three levels */
static const struct config cfg_small = {
	.name = "2 devices, 64K buckets, 16K nodes, 2 journal replicas",
	.ndevs = 2,
	.g = { .size = 192ull << 20, .bucket_size = 64u << 10,
	       .node_size = 16u << 10, .replicas = 2,
	       .journal_size = 1u << 20 },
	.seed = DEFAULT_SEED,
	.min_ext_level = 2, .min_xa_level = 2,
};

/* 1 device, bigger nodes (fewer levels), another seed */
static const struct config cfg_one = {
	.name = "1 device, 128K buckets, 32K nodes, 1 journal replica",
	.ndevs = 1,
	.g = { .size = 256ull << 20, .bucket_size = 128u << 10,
	       .node_size = 32u << 10, .replicas = 1,
	       .journal_size = 1u << 20 },
	.seed = DEFAULT_SEED ^ 0x5bd1e995u,
	.min_ext_level = 1, .min_xa_level = 1,
};

/* ------------------------------------------------------------ the model */

struct model {
	unsigned	  btree;
	uint32_t	  npos;
	struct jrx_bkey **v;		/* by slot index; NULL: absent */
	uint32_t	 *live;		/* present slots, unordered */
	uint32_t	 *where;	/* slot -> index in live */
	size_t		  nlive;
};

static struct jrx_bpos slot_pos(const struct model *m, uint32_t i)
{
	if (m->btree == JRX_BTREE_EXTENTS)
		return jrx_bpos(EXT_INO0 + i / EXT_PER_INO,
				(uint64_t)(i % EXT_PER_INO + 1) * 8, SNAP);
	return jrx_bpos(XA_INO0 + i / XA_PER_INO,
			(uint64_t)(i % XA_PER_INO) * 1000003u + 17, SNAP);
}

static void model_init(struct model *m, unsigned btree, uint32_t npos)
{
	m->btree = btree;
	m->npos = npos;
	m->v = calloc(npos, sizeof(*m->v));
	m->live = calloc(npos, sizeof(*m->live));
	m->where = calloc(npos, sizeof(*m->where));
	m->nlive = 0;
	assert_non_null(m->v);
	assert_non_null(m->live);
	assert_non_null(m->where);
}

static void model_free(struct model *m)
{
	for (uint32_t i = 0; m->v && i < m->npos; i++)
		free(m->v[i]);
	free(m->v);
	free(m->live);
	free(m->where);
	memset(m, 0, sizeof(*m));
}

static void model_put(struct model *m, uint32_t i, const struct jrx_bkey *k)
{
	struct jrx_bkey *c = malloc(jrx_bkey_bytes(k));

	assert_non_null(c);
	memcpy(c, k, jrx_bkey_bytes(k));
	if (!m->v[i]) {
		m->where[i] = (uint32_t)m->nlive;
		m->live[m->nlive++] = i;
	}
	free(m->v[i]);
	m->v[i] = c;
}

static void model_del(struct model *m, uint32_t i)
{
	uint32_t w = m->where[i], last = m->live[--m->nlive];

	free(m->v[i]);
	m->v[i] = NULL;
	m->live[w] = last;
	m->where[last] = w;
}

/* ------------------------------------------------------------ the store */

struct env {
	const struct config *cfg;
	struct th_dir	  dir;
	char		  p0[256], p1[256];
	const char	 *paths[2];
	struct jrx_array *a;
	struct jrx_fs	 *fs;
	bool		  open;
	struct model	  ext, xa;
	uint64_t	  seed, rng;
	uint64_t	  op;		/* operations done */
	/* totals over every session */
	uint64_t	  splits, rewrites, reclaims, bsets, nodes_written;
	uint64_t	  journal_bytes, jsets, reopens;
	unsigned	  max_ext_level, max_xa_level;
};

static struct env E;

#define FAIL(e, fmt, ...)						\
	fail_msg("seed %" PRIu64 " after op %" PRIu64 ": " fmt,		\
		 (e)->seed, (e)->op, ##__VA_ARGS__)

static void env_collect(struct env *e)
{
	struct jrx_fs *fs = e->fs;

	e->splits += fs->splits;
	e->rewrites += fs->rewrites;
	e->reclaims += fs->reclaims;
	e->bsets += fs->bsets_appended;
	e->nodes_written += fs->nodes_written;
	e->journal_bytes += fs->journal_bytes;
	e->jsets += fs->jsets_written;
}

static void store_open(struct env *e, bool rdonly)
{
	assert_false(e->open);
	assert_jrx_ok(jrx_array_open(e->a, e->paths, e->cfg->ndevs,
				     rdonly ? JRX_OPEN_RDONLY : 0));
	assert_jrx_ok(jrx_fs_open(e->fs, e->a, rdonly ? JRX_FS_RDONLY : 0));
	e->open = true;
}

/* Clean shutdown (or the end of a read-only view) and close the array. */
static void store_close(struct env *e)
{
	assert_true(e->open);
	assert_jrx_ok(jrx_fs_shutdown(e->fs));
	env_collect(e);
	jrx_array_close(e->a);
	e->open = false;
}

static int setup(void **state)
{
	struct env *e = &E;
	const char *s = getenv("JRX_TEST_SEED");

	memset(e, 0, sizeof(*e));
	e->cfg = *state;
	e->seed = s && *s ? strtoull(s, NULL, 0) : e->cfg->seed;
	e->rng = e->seed;
	print_message("test_btree_model: %s, seed %" PRIu64 "\n",
		      e->cfg->name, e->seed);
	th_dir_make(&e->dir);
	th_path(e->p0, &e->dir, "d0");
	th_path(e->p1, &e->dir, "d1");
	e->paths[0] = e->p0;
	e->paths[1] = e->p1;
	e->a = calloc(1, sizeof(*e->a));
	e->fs = calloc(1, sizeof(*e->fs));
	assert_non_null(e->a);
	assert_non_null(e->fs);
	assert_jrx_ok(th_format(e->paths, e->cfg->ndevs, &e->cfg->g));
	model_init(&e->ext, JRX_BTREE_EXTENTS, EXT_NPOS);
	model_init(&e->xa, JRX_BTREE_XATTRS, XA_NPOS);
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;

	if (e->open) {
		jrx_fs_abandon(e->fs);
		jrx_array_close(e->a);
		e->open = false;
	}
	model_free(&e->ext);
	model_free(&e->xa);
	free(e->fs);
	free(e->a);
	th_dir_remove(&e->dir);
	return 0;
}

/* ------------------------------------------------------------ operations */

static void do_update(struct env *e, unsigned btree, const struct jrx_bkey *k)
{
	char t[256];
	int ret = jrx_fs_update(e->fs, btree, k);

	if (ret)
		FAIL(e, "update %s %s: %s (%s)", jrx_btree_name(btree),
		     th_key_text(k, t, sizeof(t)), th_errname(ret), jrx_diag());
}

static void do_commit(struct env *e)
{
	int ret = jrx_fs_commit(e->fs);

	if (ret)
		FAIL(e, "commit: %s (%s)", th_errname(ret), jrx_diag());
}

/* A slot that holds nothing, or UINT32_MAX when none is found quickly. */
static uint32_t pick_absent(struct env *e, const struct model *m)
{
	for (int tries = 0; tries < 64; tries++) {
		uint32_t i = (uint32_t)th_rand_below(&e->rng, m->npos);

		if (!m->v[i])
			return i;
	}
	return UINT32_MAX;
}

static uint32_t pick_present(struct env *e, const struct model *m)
{
	return m->live[th_rand_below(&e->rng, m->nlive)];
}

static void ext_free_old(struct env *e, const struct jrx_bkey *old)
{
	const struct jrx_extent_val *v = jrx_bkey_val(old);
	int ret = jrx_fs_free_data(e->fs, v->dev, v->sector, old->size);

	if (ret)
		FAIL(e, "freeing %u sectors at %u:%" PRIu64 ": %s (%s)",
		     old->size, v->dev, v->sector, th_errname(ret), jrx_diag());
}

static void ext_write(struct env *e, uint32_t i)
{
	uint64_t buf[TH_KEY_WORDS];
	uint32_t want = 1 + (uint32_t)th_rand_below(&e->rng, 4), dev, got, gen;
	uint64_t sector;
	int ret;

	if (e->ext.v[i])
		ext_free_old(e, e->ext.v[i]);
	ret = jrx_fs_alloc_data(e->fs, want, &dev, &sector, &got, &gen);
	if (ret)
		FAIL(e, "allocating %u data sectors: %s (%s)", want,
		     th_errname(ret), jrx_diag());
	if (got < 1 || got > want)
		FAIL(e, "jrx_fs_alloc_data(%u) gave %u sectors", want, got);
	th_key_extent(buf, slot_pos(&e->ext, i), got, dev, sector, gen,
		      e->op + 1);
	do_update(e, JRX_BTREE_EXTENTS, (struct jrx_bkey *)buf);
	model_put(&e->ext, i, (struct jrx_bkey *)buf);
}

static void xa_write(struct env *e, uint32_t i)
{
	uint64_t buf[TH_KEY_WORDS];
	uint8_t val[3600];
	char name[16];
	uint16_t len;

	/* mostly small values, one in eight large */
	if (th_rand_below(&e->rng, 8))
		len = (uint16_t)th_rand_below(&e->rng, 200);
	else
		len = (uint16_t)(500 + th_rand_below(&e->rng, 3000));
	th_rand_bytes(&e->rng, val, len);
	snprintf(name, sizeof(name), "user.%u", i);
	th_key_xattr(buf, slot_pos(&e->xa, i), name, val, len);
	do_update(e, JRX_BTREE_XATTRS, (struct jrx_bkey *)buf);
	model_put(&e->xa, i, (struct jrx_bkey *)buf);
}

static void one_op(struct env *e)
{
	struct model *m = th_rand_below(&e->rng, 5) ? &e->ext : &e->xa;
	unsigned r = (unsigned)th_rand_below(&e->rng, 100);
	uint32_t i = UINT32_MAX;

	if (!m->nlive || r < 55) {		/* a new key */
		i = pick_absent(e, m);
		if (i == UINT32_MAX && !m->nlive)
			FAIL(e, "no free slot in an empty model");
		if (i == UINT32_MAX)
			r = 55;			/* full: overwrite instead */
		else
			r = 0;
	}
	if (r < 85) {				/* new or overwrite */
		if (i == UINT32_MAX)
			i = pick_present(e, m);
		if (m->btree == JRX_BTREE_EXTENTS)
			ext_write(e, i);
		else
			xa_write(e, i);
	} else {				/* delete: a whiteout */
		uint64_t buf[TH_KEY_WORDS];

		i = pick_present(e, m);
		if (m->btree == JRX_BTREE_EXTENTS)
			ext_free_old(e, m->v[i]);
		th_key_whiteout(buf, slot_pos(m, i));
		do_update(e, m->btree, (struct jrx_bkey *)buf);
		model_del(m, i);
	}
	do_commit(e);
}

/* ------------------------------------------------------------ comparing */

struct cmp {
	struct env	   *e;
	const struct model *m;
	const char	   *when;
	uint32_t	    next;	/* slot the next key should be */
	uint64_t	    equal;
};

static void key_mismatch(struct cmp *c, const char *what,
			 const struct jrx_bkey *want, const struct jrx_bkey *got)
{
	char t1[512], t2[512];

	print_message("%s: btree %s: %s\n  expected %s\n  found    %s\n",
		      c->when, jrx_btree_name(c->m->btree), what,
		      th_key_text(want, t1, sizeof(t1)),
		      th_key_text(got, t2, sizeof(t2)));
	FAIL(c->e, "%s: btree %s: %s after %" PRIu64 " equal keys", c->when,
	     jrx_btree_name(c->m->btree), what, c->equal);
}

static uint32_t next_present(const struct model *m, uint32_t i)
{
	while (i < m->npos && !m->v[i])
		i++;
	return i;
}

static int cmp_cb(void *ctx, unsigned btree_id, const struct jrx_bkey *k)
{
	struct cmp *c = ctx;
	const struct jrx_bkey *want;

	assert_int_equal(btree_id, c->m->btree);
	c->next = next_present(c->m, c->next);
	want = c->next < c->m->npos ? c->m->v[c->next] : NULL;
	if (!want)
		key_mismatch(c, "walk found a key past the model's last", NULL, k);
	if (!jrx_bpos_eq(want->p, k->p))
		key_mismatch(c, "walk position differs", want, k);
	if (want->u64s != k->u64s ||
	    memcmp(want, k, jrx_bkey_bytes(want)) != 0)
		key_mismatch(c, "walk key bytes differ", want, k);
	c->equal++;
	c->next++;
	return 0;
}

static void compare_walk(struct env *e, const struct model *m,
			 const char *when)
{
	struct cmp c = { .e = e, .m = m, .when = when };
	int ret = jrx_btree_walk(e->fs, m->btree, cmp_cb, &c);

	if (ret)
		FAIL(e, "%s: walking %s: %s (%s)", when, jrx_btree_name(m->btree),
		     th_errname(ret), jrx_diag());
	c.next = next_present(m, c.next);
	if (c.next < m->npos)
		key_mismatch(&c, "walk ended before the model's last key",
			     m->v[c.next], NULL);
	if (c.equal != m->nlive)
		FAIL(e, "%s: %s walk saw %" PRIu64 " keys, model has %zu", when,
		     jrx_btree_name(m->btree), c.equal, m->nlive);
}

/* Lookups of present and absent slots, and peeks from absent slots. */
static void compare_lookups(struct env *e, const struct model *m,
			    const char *when, unsigned n)
{
	struct cmp c = { .e = e, .m = m, .when = when };

	for (unsigned t = 0; t < n; t++) {
		uint32_t i = (uint32_t)th_rand_below(&e->rng, m->npos), nx;
		struct jrx_bpos p = slot_pos(m, i);
		const struct jrx_bkey *k;
		int ret;

		if (t % 2 && m->nlive) {
			i = pick_present(e, m);
			p = slot_pos(m, i);
		}
		ret = jrx_btree_lookup(e->fs, m->btree, p, &k);
		if (ret)
			FAIL(e, "%s: lookup: %s (%s)", when, th_errname(ret),
			     jrx_diag());
		if (!m->v[i] != !k ||
		    (k && memcmp(k, m->v[i], jrx_bkey_bytes(m->v[i]))))
			key_mismatch(&c, "lookup differs", m->v[i], k);
		if (m->v[i])
			continue;
		/* absent: peek gives the next present key, or nothing */
		ret = jrx_btree_peek(e->fs, m->btree, p, &k);
		if (ret)
			FAIL(e, "%s: peek: %s (%s)", when, th_errname(ret),
			     jrx_diag());
		nx = next_present(m, i);
		if (nx < m->npos) {
			if (!k || memcmp(k, m->v[nx], jrx_bkey_bytes(m->v[nx])))
				key_mismatch(&c, "peek differs", m->v[nx], k);
		} else if (k) {
			key_mismatch(&c, "peek past the last key", NULL, k);
		}
	}
}

/* ------------------------------------------------------------ node shape */

struct shape {
	struct env *e;
	unsigned    btree;
	unsigned    root_level;
	uint64_t    nodes[JRX_BTREE_MAX_DEPTH];
	const char *when;
};

static int shape_cb(void *ctx, const struct jrx_bnode *n)
{
	struct shape *s = ctx;
	struct jrx_fs *fs = s->e->fs;
	struct jrx_bpos want_min = n->min;
	size_t u64s = 0;

	for (size_t i = 0; i < n->nr; i++)
		u64s += n->keys[i]->u64s;
	if (u64s != n->live_u64s)
		FAIL(s->e, "%s: %s level %u node: keys take %zu u64s, live_u64s"
		     " says %zu", s->when, jrx_btree_name(s->btree), n->level,
		     u64s, n->live_u64s);
	assert_true(n->level < JRX_BTREE_MAX_DEPTH);
	s->nodes[n->level]++;
	if (n->btree_id != s->btree)
		FAIL(s->e, "%s: node of btree %u in btree %s", s->when,
		     n->btree_id, jrx_btree_name(s->btree));
	if (jrx_bnode_compact_bytes(n) > fs->node_size)
		FAIL(s->e, "%s: %s level %u node holds %zu bytes compacted, node"
		     " size %u", s->when, jrx_btree_name(s->btree), n->level,
		     jrx_bnode_compact_bytes(n), fs->node_size);
	for (size_t i = 0; i < n->nr; i++) {
		const struct jrx_bkey *k = n->keys[i];

		if (k->type == JRX_KEY_WHITEOUT)
			FAIL(s->e, "%s: whiteout in the live view of a node",
			     s->when);
		if (jrx_bpos_cmp(k->p, n->min) < 0 ||
		    jrx_bpos_cmp(k->p, n->max) > 0 ||
		    (i && jrx_bpos_cmp(n->keys[i - 1]->p, k->p) >= 0))
			FAIL(s->e, "%s: %s level %u: key %zu out of order or"
			     " outside [min, max]", s->when,
			     jrx_btree_name(s->btree), n->level, i);
		if (n->level) {
			const struct jrx_btree_ptr_val *v = jrx_bkey_val(k);

			/* children tile the parent: no gap, no overlap */
			if (k->type != JRX_KEY_BTREE_PTR ||
			    !jrx_bpos_eq(v->min_key, want_min))
				FAIL(s->e, "%s: %s level %u: child %zu does not"
				     " start where the previous one ended",
				     s->when, jrx_btree_name(s->btree),
				     n->level, i);
			want_min = jrx_bpos_successor(k->p);
		}
	}
	if (n->level && (!n->nr || !jrx_bpos_eq(n->keys[n->nr - 1]->p, n->max)))
		FAIL(s->e, "%s: %s level %u: children do not reach max",
		     s->when, jrx_btree_name(s->btree), n->level);
	return 0;
}

static void check_shape(struct env *e, unsigned btree, const char *when,
			struct shape *s)
{
	int ret;

	memset(s, 0, sizeof(*s));
	s->e = e;
	s->btree = btree;
	s->when = when;
	s->root_level = e->fs->root[btree]->level;
	ret = jrx_btree_walk_nodes(e->fs, btree, shape_cb, s);
	if (ret)
		FAIL(e, "%s: walking nodes of %s: %s (%s)", when,
		     jrx_btree_name(btree), th_errname(ret), jrx_diag());
	if (s->nodes[s->root_level] != 1)
		FAIL(e, "%s: %s has %" PRIu64 " nodes at its root level %u",
		     when, jrx_btree_name(btree), s->nodes[s->root_level],
		     s->root_level);
	for (unsigned l = 0; l < s->root_level; l++)
		if (!s->nodes[l])
			FAIL(e, "%s: %s has no node at level %u below its root",
			     when, jrx_btree_name(btree), l);
}

static void verify(struct env *e, const char *when, unsigned lookups)
{
	struct shape s;

	compare_walk(e, &e->ext, when);
	compare_walk(e, &e->xa, when);
	compare_lookups(e, &e->ext, when, lookups);
	compare_lookups(e, &e->xa, when, lookups);
	check_shape(e, JRX_BTREE_EXTENTS, when, &s);
	if (s.root_level > e->max_ext_level)
		e->max_ext_level = s.root_level;
	print_message("%s: extents %zu keys, %" PRIu64 " leaves, %" PRIu64
		      " interior nodes, root level %u\n", when, e->ext.nlive,
		      s.nodes[0], s.nodes[1] + s.nodes[2] + s.nodes[3],
		      s.root_level);
	check_shape(e, JRX_BTREE_XATTRS, when, &s);
	if (s.root_level > e->max_xa_level)
		e->max_xa_level = s.root_level;
	print_message("%s: xattrs %zu keys, %" PRIu64 " leaves, %" PRIu64
		      " interior nodes, root level %u\n", when, e->xa.nlive,
		      s.nodes[0], s.nodes[1] + s.nodes[2] + s.nodes[3],
		      s.root_level);
}

/* ------------------------------------------------------------ alloc check */

struct usage {
	struct env	 *e;
	const char	 *when;
	uint32_t	  node_sectors, bsec;
	uint64_t	  nb[JRX_MAX_DEVICES];
	uint32_t	 *btree_sec[JRX_MAX_DEVICES];	/* by bucket */
	uint32_t	 *user_sec[JRX_MAX_DEVICES];
	uint32_t	 *user_gen[JRX_MAX_DEVICES];	/* gen + 1 of its extents */
	uint8_t		 *used[JRX_MAX_DEVICES];	/* sector bitmap */
	struct jrx_alloc_val *alloc[JRX_MAX_DEVICES];
	uint8_t		 *has_alloc[JRX_MAX_DEVICES];
	int64_t		  acct[JRX_MAX_DEVICES][JRX_DATA_TYPE_NR][2];
	int64_t		  acct_inodes;
	uint64_t	  nodes, extents, inodes, alloc_keys, acct_keys;
};

/* Mark sectors [s, s + n) of dev used; nothing may be used twice. */
static void mark_sectors(struct usage *u, uint32_t dev, uint64_t s, uint64_t n,
			 const char *what)
{
	if (dev >= u->e->a->nr_devs || (s + n) > u->nb[dev] * u->bsec)
		FAIL(u->e, "%s: %s at %u:%" PRIu64 "+%" PRIu64 " is outside the"
		     " array", u->when, what, dev, s, n);
	if (s / u->bsec != (s + n - 1) / u->bsec)
		FAIL(u->e, "%s: %s at %u:%" PRIu64 "+%" PRIu64 " crosses a"
		     " bucket boundary", u->when, what, dev, s, n);
	for (uint64_t i = s; i < s + n; i++) {
		if (u->used[dev][i / 8] & (1u << (i % 8)))
			FAIL(u->e, "%s: sector %u:%" PRIu64 " used twice (%s)",
			     u->when, dev, i, what);
		u->used[dev][i / 8] |= (uint8_t)(1u << (i % 8));
	}
}

static int usage_node_cb(void *ctx, const struct jrx_bnode *n)
{
	struct usage *u = ctx;

	if (n->sector % u->node_sectors)
		FAIL(u->e, "%s: node at %u:%" PRIu64 " not node aligned",
		     u->when, n->dev, n->sector);
	mark_sectors(u, n->dev, n->sector, u->node_sectors, "btree node");
	u->btree_sec[n->dev][n->sector / u->bsec] += u->node_sectors;
	u->nodes++;
	return 0;
}

static int usage_extent_cb(void *ctx, unsigned btree_id,
			   const struct jrx_bkey *k)
{
	struct usage *u = ctx;
	const struct jrx_extent_val *v = jrx_bkey_val(k);
	uint64_t b;

	(void)btree_id;
	mark_sectors(u, v->dev, v->sector, k->size, "extent data");
	b = v->sector / u->bsec;
	u->user_sec[v->dev][b] += k->size;
	if (u->user_gen[v->dev][b] && u->user_gen[v->dev][b] != v->gen + 1)
		FAIL(u->e, "%s: extents in bucket %u:%" PRIu64 " carry gens %u"
		     " and %u", u->when, v->dev, b, u->user_gen[v->dev][b] - 1,
		     v->gen);
	u->user_gen[v->dev][b] = v->gen + 1;
	u->extents++;
	return 0;
}

static int usage_inode_cb(void *ctx, unsigned btree_id,
			  const struct jrx_bkey *k)
{
	(void)btree_id;
	(void)k;
	((struct usage *)ctx)->inodes++;
	return 0;
}

static int usage_alloc_cb(void *ctx, unsigned btree_id,
			  const struct jrx_bkey *k)
{
	struct usage *u = ctx;
	uint64_t d = k->p.inode, b = k->p.offset;

	(void)btree_id;
	if (k->type != JRX_KEY_ALLOC || d >= u->e->a->nr_devs ||
	    b >= u->nb[d] || k->p.snapshot)
		FAIL(u->e, "%s: alloc key of type %u at %" PRIu64 ":%" PRIu64
		     ":%u", u->when, k->type, d, b, k->p.snapshot);
	memcpy(&u->alloc[d][b], jrx_bkey_val(k), sizeof(struct jrx_alloc_val));
	u->has_alloc[d][b] = 1;
	u->alloc_keys++;
	return 0;
}

static int usage_acct_cb(void *ctx, unsigned btree_id, const struct jrx_bkey *k)
{
	struct usage *u = ctx;
	const struct jrx_accounting_val *v = jrx_bkey_val(k);

	(void)btree_id;
	u->acct_keys++;
	if (k->type == JRX_KEY_ACCOUNTING && k->p.inode == JRX_ACCT_DEV_DATA &&
	    (k->p.offset >> 8) < u->e->a->nr_devs &&
	    (k->p.offset & 0xff) >= 1 && (k->p.offset & 0xff) < JRX_DATA_TYPE_NR &&
	    !k->p.snapshot) {
		u->acct[k->p.offset >> 8][k->p.offset & 0xff][0] = v->d[0];
		u->acct[k->p.offset >> 8][k->p.offset & 0xff][1] = v->d[1];
		return 0;
	}
	if (k->type == JRX_KEY_ACCOUNTING && k->p.inode == JRX_ACCT_INODES &&
	    !k->p.offset && !k->p.snapshot) {
		u->acct_inodes = v->d[0];
		if (v->d[1])
			FAIL(u->e, "%s: inodes accounting d[1] = %" PRId64,
			     u->when, v->d[1]);
		return 0;
	}
	FAIL(u->e, "%s: unexpected accounting key type %u at %" PRIu64 ":%"
	     PRIu64 ":%u", u->when, k->type, k->p.inode, k->p.offset,
	     k->p.snapshot);
	return 0;
}

static void usage_walk(struct usage *u, unsigned btree, jrx_key_cb kcb,
		       jrx_node_cb ncb)
{
	int ret = kcb ? jrx_btree_walk(u->e->fs, btree, kcb, u) :
		jrx_btree_walk_nodes(u->e->fs, btree, ncb, u);

	if (ret)
		FAIL(u->e, "%s: walking %s: %s (%s)", u->when,
		     jrx_btree_name(btree), th_errname(ret), jrx_diag());
}

/*
 * Every bucket's alloc key against what really lives in it, the in-memory
 * bucket table against the alloc btree, the accounting btree against the
 * alloc keys.  Accounting deltas reach the btree when a jset is closed,
 * so a live store is flushed first.
 */
static void check_alloc(struct env *e, const char *when)
{
	struct jrx_fs *fs = e->fs;
	const struct jrx_sb *sb = &e->a->sb;
	struct usage *u = calloc(1, sizeof(*u));
	int64_t sum[JRX_MAX_DEVICES][JRX_DATA_TYPE_NR][2];
	uint64_t idle = 0, btree_buckets = 0, user_buckets = 0;

	assert_non_null(u);
	if (!fs->rdonly) {
		assert_jrx_ok(jrx_fs_journal_flush(fs, false));
		if (fs->acct.nr || fs->bt.nr_changed)
			FAIL(e, "%s: %zu accounting deltas and %zu changed"
			     " buckets left after a journal flush", when,
			     fs->acct.nr, fs->bt.nr_changed);
	}
	u->e = e;
	u->when = when;
	u->node_sectors = fs->node_size / JRX_SECTOR_SIZE;
	u->bsec = sb->bucket_size / JRX_SECTOR_SIZE;
	for (unsigned d = 0; d < e->a->nr_devs; d++) {
		u->nb[d] = sb->members[d].nbuckets;
		u->btree_sec[d] = calloc(u->nb[d], sizeof(uint32_t));
		u->user_sec[d] = calloc(u->nb[d], sizeof(uint32_t));
		u->user_gen[d] = calloc(u->nb[d], sizeof(uint32_t));
		u->used[d] = calloc(u->nb[d] * u->bsec / 8 + 1, 1);
		u->alloc[d] = calloc(u->nb[d], sizeof(struct jrx_alloc_val));
		u->has_alloc[d] = calloc(u->nb[d], 1);
		assert_true(u->btree_sec[d] && u->user_sec[d] && u->user_gen[d] &&
			    u->used[d] && u->alloc[d] && u->has_alloc[d]);
	}
	for (unsigned id = 0; id < JRX_BTREE_NR; id++)
		usage_walk(u, id, NULL, usage_node_cb);
	usage_walk(u, JRX_BTREE_EXTENTS, usage_extent_cb, NULL);
	usage_walk(u, JRX_BTREE_INODES, usage_inode_cb, NULL);
	usage_walk(u, JRX_BTREE_ALLOC, usage_alloc_cb, NULL);
	usage_walk(u, JRX_BTREE_ACCOUNTING, usage_acct_cb, NULL);
	if (u->extents != e->ext.nlive)
		FAIL(e, "%s: %" PRIu64 " extents, model has %zu", when,
		     u->extents, e->ext.nlive);

	memset(sum, 0, sizeof(sum));
	for (unsigned d = 0; d < e->a->nr_devs; d++) {
		const struct jrx_member *mb = &sb->members[d];

		for (uint64_t b = 0; b < u->nb[d]; b++) {
			const struct jrx_alloc_val *v = &u->alloc[d][b];
			uint32_t want_sec = 0;
			uint8_t want_type = JRX_DATA_FREE;

			if (b < mb->first_bucket) {
				want_type = JRX_DATA_SB;
				want_sec = u->bsec;
			} else if (b >= mb->journal_bucket &&
				   b < mb->journal_bucket + mb->journal_nr) {
				want_type = JRX_DATA_JOURNAL;
				want_sec = u->bsec;
			}
			if (u->btree_sec[d][b] && u->user_sec[d][b])
				FAIL(e, "%s: bucket %u:%" PRIu64 " holds btree"
				     " nodes and extent data", when, d, b);
			if (want_type != JRX_DATA_FREE &&
			    (u->btree_sec[d][b] || u->user_sec[d][b]))
				FAIL(e, "%s: bucket %u:%" PRIu64 " is %s but holds"
				     " btree nodes or extent data", when, d, b,
				     jrx_data_type_name(want_type));
			if (u->btree_sec[d][b]) {
				want_type = JRX_DATA_BTREE;
				want_sec = u->btree_sec[d][b];
			} else if (u->user_sec[d][b]) {
				want_type = JRX_DATA_USER;
				want_sec = u->user_sec[d][b];
				if (u->user_gen[d][b] != v->gen + 1)
					FAIL(e, "%s: bucket %u:%" PRIu64 " gen %u,"
					     " its extents carry gen %u (stale)",
					     when, d, b, v->gen,
					     u->user_gen[d][b] - 1);
			}
			/*
			 * An empty bucket of type btree or user: an open
			 * bucket whose sectors were all freed again (it is
			 * freed when it is closed).  Counted, checked below.
			 */
			if (want_type == JRX_DATA_FREE && !v->dirty_sectors &&
			    (v->data_type == JRX_DATA_BTREE ||
			     v->data_type == JRX_DATA_USER)) {
				bool is_open = !fs->rdonly &&
					fs->bt.open[v->data_type].valid &&
					fs->bt.open[v->data_type].dev == d &&
					fs->bt.open[v->data_type].bucket == b;

				if (!is_open)
					print_message("%s: bucket %u:%" PRIu64
						      " is %s with 0 sectors and"
						      " not open\n", when, d, b,
						      jrx_data_type_name(v->data_type));
				idle += !is_open;
				want_type = v->data_type;
			}
			if (v->data_type != want_type ||
			    v->dirty_sectors != want_sec)
				FAIL(e, "%s: bucket %u:%" PRIu64 " alloc key says"
				     " %s with %u sectors (key %s), nodes and"
				     " extents in it make %s with %u sectors",
				     when, d, b,
				     jrx_data_type_name(v->data_type),
				     v->dirty_sectors,
				     u->has_alloc[d][b] ? "present" : "absent",
				     jrx_data_type_name(want_type), want_sec);
			if (v->pad[0] || memcmp(v->pad, v->pad + 1, 6))
				FAIL(e, "%s: bucket %u:%" PRIu64 " alloc key"
				     " padding not zero", when, d, b);
			{
				const struct jrx_bucket *m = &fs->bt.b[d][b];

				if (m->gen != v->gen ||
				    m->dirty_sectors != v->dirty_sectors ||
				    m->data_type != v->data_type)
					FAIL(e, "%s: bucket %u:%" PRIu64 " in"
					     " memory gen %u %s %u sectors,"
					     " alloc btree gen %u %s %u", when,
					     d, b, m->gen,
					     jrx_data_type_name(m->data_type),
					     m->dirty_sectors, v->gen,
					     jrx_data_type_name(v->data_type),
					     v->dirty_sectors);
			}
			if (v->data_type != JRX_DATA_FREE) {
				sum[d][v->data_type][0]++;
				sum[d][v->data_type][1] += v->dirty_sectors;
			}
			btree_buckets += v->data_type == JRX_DATA_BTREE;
			user_buckets += v->data_type == JRX_DATA_USER;
		}
		for (unsigned t = 1; t < JRX_DATA_TYPE_NR; t++)
			for (unsigned x = 0; x < 2; x++)
				if (sum[d][t][x] != u->acct[d][t][x])
					FAIL(e, "%s: accounting dev %u %s %s ="
					     " %" PRId64 ", alloc keys add up to"
					     " %" PRId64, when, d,
					     jrx_data_type_name(t),
					     x ? "sectors" : "buckets",
					     u->acct[d][t][x], sum[d][t][x]);
	}
	if ((int64_t)u->inodes != u->acct_inodes)
		FAIL(e, "%s: accounting says %" PRId64 " inodes, the inodes btree"
		     " holds %" PRIu64, when, u->acct_inodes, u->inodes);
	print_message("%s: alloc ok: %" PRIu64 " nodes in %" PRIu64 " btree"
		      " buckets, %" PRIu64 " extents in %" PRIu64 " user buckets,"
		      " %" PRIu64 " alloc keys, %" PRIu64 " accounting keys,"
		      " %" PRIu64 " empty closed buckets\n", when, u->nodes,
		      btree_buckets, u->extents, user_buckets, u->alloc_keys,
		      u->acct_keys, idle);
	if (idle)
		FAIL(e, "%s: %" PRIu64 " buckets of type btree/user hold nothing"
		     " and are not open: they can never be freed", when, idle);
	for (unsigned d = 0; d < e->a->nr_devs; d++) {
		free(u->btree_sec[d]);
		free(u->user_sec[d]);
		free(u->user_gen[d]);
		free(u->used[d]);
		free(u->alloc[d]);
		free(u->has_alloc[d]);
	}
	free(u);
}

/* ------------------------------------------------------------ the test */

static void checkpoint(struct env *e, unsigned n)
{
	char when[96];

	snprintf(when, sizeof(when), "checkpoint %u (op %" PRIu64 ", live)", n,
		 e->op);
	verify(e, when, 400);

	switch (n) {
	case 1:		/* clean shutdown, reopen for writing */
	case 3:
		store_close(e);
		store_open(e, false);
		e->reopens++;
		snprintf(when, sizeof(when), "checkpoint %u (op %" PRIu64
			 ", reopened)", n, e->op);
		verify(e, when, 400);
		check_alloc(e, when);
		break;
	case 2: {	/* write back, shutdown, reopen read-only, then again rw */
		uint64_t buf[TH_KEY_WORDS];
		int ret;

		assert_jrx_ok(jrx_fs_writeback_all(e->fs));
		store_close(e);
		store_open(e, true);
		assert_true(e->fs->rdonly);
		snprintf(when, sizeof(when), "checkpoint %u (op %" PRIu64
			 ", read-only)", n, e->op);
		verify(e, when, 400);
		check_alloc(e, when);
		th_key_whiteout(buf, slot_pos(&e->ext, e->ext.live[0]));
		ret = jrx_fs_update(e->fs, JRX_BTREE_EXTENTS,
				    (struct jrx_bkey *)buf);
		assert_jrx_err(ret, -JRX_ERR_READ_ONLY);
		store_close(e);
		store_open(e, false);
		e->reopens++;
		break;
	}
	default:	/* alloc and accounting of the live store */
		check_alloc(e, when);
		break;
	}
}

static void test_model(void **state)
{
	struct env *e = *state;
	unsigned until_flush = 1, cp = 0;
	uint64_t ring_bytes = 0;
	char when[96];

	store_open(e, false);
	for (unsigned d = 0; d < e->cfg->ndevs; d++)
		ring_bytes += (uint64_t)e->a->sb.bucket_size *
			e->a->sb.members[d].journal_nr;
	verify(e, "start", 16);

	while (e->op < NR_OPS) {
		one_op(e);
		e->op++;
		if (!--until_flush) {
			assert_jrx_ok(jrx_fs_journal_flush(e->fs, false));
			until_flush = 1 + (unsigned)th_rand_below(&e->rng, 128);
		}
		if (!(e->op % WRITEBACK_EVERY))
			assert_jrx_ok(jrx_fs_writeback_all(e->fs));
		if (!(e->op % SHAPE_EVERY)) {
			struct shape s;

			check_shape(e, JRX_BTREE_EXTENTS, "node shape", &s);
			check_shape(e, JRX_BTREE_XATTRS, "node shape", &s);
		}
		if (!(e->op % CHECK_EVERY) && e->op < NR_OPS)
			checkpoint(e, ++cp);
	}

	/* the end: live, alloc/accounting, then clean reopen */
	verify(e, "end (live)", 2000);
	check_alloc(e, "end (live)");
	store_close(e);
	store_open(e, false);
	e->reopens++;
	verify(e, "end (reopened)", 2000);
	check_alloc(e, "end (reopened)");

	/*
	 * Unclean: every node written back and a jset with the roots, then a
	 * power cut.  A read-only view takes the newest jset's roots without
	 * replay; extents and xattrs are wholly on disk there.
	 */
	assert_jrx_ok(jrx_fs_writeback_all(e->fs));
	assert_jrx_ok(jrx_fs_journal_flush(e->fs, false));
	jrx_fs_abandon(e->fs);
	env_collect(e);
	jrx_array_close(e->a);
	e->open = false;
	store_open(e, true);
	assert_int_equal(e->a->sb.flags & JRX_SB_CLEAN, 0);
	snprintf(when, sizeof(when), "end (unclean, read-only)");
	verify(e, when, 2000);
	store_close(e);

	print_message("%" PRIu64 " ops, %" PRIu64 " splits, %" PRIu64
		      " rewrites, %" PRIu64 " bsets appended, %" PRIu64
		      " nodes written, %" PRIu64 " reclaims, %" PRIu64 " jsets,"
		      " %" PRIu64 " journal bytes (ring %" PRIu64 "), %" PRIu64
		      " reopens; root levels extents %u xattrs %u\n", e->op,
		      e->splits, e->rewrites, e->bsets, e->nodes_written,
		      e->reclaims, e->jsets, e->journal_bytes, ring_bytes,
		      e->reopens, e->max_ext_level, e->max_xa_level);
	/* the run crossed what it is meant to cross */
	assert_true(e->splits > 100);
	assert_true(e->rewrites > 0);
	assert_true(e->bsets > 1000);
	assert_true(e->reclaims > 0);
	assert_true(e->journal_bytes > 4 * ring_bytes);
	assert_true(e->max_ext_level >= e->cfg->min_ext_level);
	assert_true(e->max_xa_level >= e->cfg->min_xa_level);
}

/*
 * Data allocated and freed again before a clean shutdown leaves the open
 * bucket empty.  Once the store is reopened nothing remembers it was open,
 * so it must not come back as a user bucket with 0 sectors: it would
 * never be freed (nothing it holds is ever released) and accounting would
 * count it used forever.
 */
static void test_open_bucket_at_shutdown(void **state)
{
	struct env *e = *state;
	uint32_t dev, got, gen, bsec;
	uint64_t sector, b;
	const struct jrx_bucket *k;

	store_open(e, false);
	bsec = e->a->sb.bucket_size / JRX_SECTOR_SIZE;
	assert_jrx_ok(jrx_fs_alloc_data(e->fs, 4, &dev, &sector, &got, &gen));
	assert_jrx_ok(jrx_fs_free_data(e->fs, dev, sector, got));
	assert_jrx_ok(jrx_fs_commit(e->fs));
	b = sector / bsec;
	k = &e->fs->bt.b[dev][b];
	assert_int_equal(k->data_type, JRX_DATA_USER);
	assert_int_equal(k->dirty_sectors, 0);
	assert_true(k->open);
	check_alloc(e, "open bucket emptied (live)");
	store_close(e);
	store_open(e, false);
	k = &e->fs->bt.b[dev][b];
	if (k->data_type != JRX_DATA_FREE || k->dirty_sectors)
		FAIL(e, "bucket %u:%" PRIu64 " emptied while open comes back"
		     " as %s with %u sectors after a clean shutdown", dev, b,
		     jrx_data_type_name(k->data_type), k->dirty_sectors);
	check_alloc(e, "open bucket emptied (reopened)");
	store_close(e);
}

/*
 * The allocator refuses what would corrupt its table, with an error that
 * says which check failed, and changes nothing: sectors released beyond a
 * bucket's count (ACCOUNTING_UNDERFLOW), a bucket past its device's end or
 * a device past the array's (BUCKET_RANGE).
 */
static void test_alloc_errors(void **state)
{
	struct env *e = *state;
	uint32_t dev, got, gen, bsec;
	uint64_t sector, nb;
	const struct jrx_bucket *k;

	store_open(e, false);
	bsec = e->fs->bt.bucket_sectors;
	assert_jrx_ok(jrx_fs_alloc_data(e->fs, 4, &dev, &sector, &got, &gen));
	k = &e->fs->bt.b[dev][sector / bsec];
	assert_jrx_err(jrx_fs_free_data(e->fs, dev, sector, k->dirty_sectors + 1),
		       -JRX_ERR_ACCOUNTING_UNDERFLOW);
	nb = e->fs->bt.nbuckets[dev];
	assert_jrx_err(jrx_fs_free_data(e->fs, dev, nb * bsec, got),
		       -JRX_ERR_BUCKET_RANGE);
	assert_jrx_err(jrx_fs_free_data(e->fs, e->fs->bt.nr_devs, sector, got),
		       -JRX_ERR_BUCKET_RANGE);
	if (k->data_type != JRX_DATA_USER || k->dirty_sectors < got)
		FAIL(e, "bucket %u:%" PRIu64 " changed by refused releases: %s"
		     " with %u sectors", dev, sector / bsec,
		     jrx_data_type_name(k->data_type), k->dirty_sectors);
	assert_jrx_ok(jrx_fs_free_data(e->fs, dev, sector, got));
	assert_jrx_ok(jrx_fs_commit(e->fs));
	check_alloc(e, "after refused releases");
	store_close(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_prestate_setup_teardown(test_model, setup,
							  teardown,
							  (void *)&cfg_small),
		cmocka_unit_test_prestate_setup_teardown(test_model, setup,
							  teardown,
							  (void *)&cfg_one),
		cmocka_unit_test_prestate_setup_teardown(
			test_open_bucket_at_shutdown, setup, teardown,
			(void *)&cfg_small),
		cmocka_unit_test_prestate_setup_teardown(
			test_alloc_errors, setup, teardown, (void *)&cfg_small),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
