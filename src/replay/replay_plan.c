/*
 * replay_plan.c - the plan of a parallel replay (replay_int.h): which
 * committed leaf every leaf key goes to, and the work units.
 *
 * Routing follows descent exactly: below an interior node, a key goes to
 * the first child whose pointer key is >= its position.  With the keys
 * sorted, that is one binary search per pointer instead of one descent
 * per key.
 *
 * A leaf whose journal keys fit past its written tail gets them appended
 * as one bset (FORMAT.md 7.5) and is not read; the plan marks the leaves
 * whose keys might fit, the worker that claims one finds whether they do
 * (jrx_rplan_append_fits).  A unit weighs its journal
 * keys plus a fixed cost for the leaf it reads and writes (much less for
 * an append).  A leaf whose keys alone weigh more than a unit is cut into
 * slices of consecutive keys, so a hot leaf (one inode, one btree, a zipf
 * head) is spread over several workers like any other range.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "replay_int.h"
#include "../format/node.h"
#include "jrx/errors.h"
#include "../util/diag.h"

/* A leaf's read, decode, encode and write, in journal keys: about the
 * keys a node holds. */
#define LEAF_COST(node_size)	((node_size) / 64u)
/* An append writes a block or two and reads nothing. */
#define APPEND_COST(node_size)	((node_size) / 1024u)
/* Units are never cut finer than this many keys. */
#define MIN_UNIT	4096u
/* The sum of a leaf's key sizes prefetches this many keys ahead. */
#define SUM_AHEAD	16u

/* First index in v[lo, hi) whose position is > p. */
static size_t upper_bound(const struct jrx_jkey *v, size_t lo, size_t hi,
			  struct jrx_bpos p)
{
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (jrx_bpos_cmp(v[mid].k->p, p) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

size_t jrx_replay_leaf_start(const struct jrx_jkey *v, size_t n)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (v[mid].level)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

size_t jrx_replay_btree_end(const struct jrx_jkey *v, size_t lo, size_t hi)
{
	unsigned id = v[lo].btree_id;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (v[mid].btree_id <= id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Where an append to the leaf would start: the end of its written part. */
static uint64_t leaf_tail(const struct jrx_rleaf *l)
{
	const struct jrx_btree_ptr_val *pv =
		jrx_bkey_val((const struct jrx_bkey *)l->ptr);

	return (uint64_t)pv->blocks * JRX_BLOCK_SIZE;
}

bool jrx_rplan_append_fits(const struct jrx_fs *fs, const struct jrx_rleaf *l,
			   const struct jrx_jkey *v)
{
	uint64_t bytes = 0;

	if (!l->may_append)
		return false;
	for (size_t i = l->lo; i < l->hi && bytes <= fs->node_size; i++) {
		if (i + SUM_AHEAD < l->hi)
			__builtin_prefetch(v[i + SUM_AHEAD].k);
		bytes += v[i].k->u64s * 8u;
	}
	return jrx_bset_append_fits(leaf_tail(l), bytes, fs->node_size);
}

static int add_leaf(struct jrx_fs *fs, struct jrx_rplan *p, unsigned btree_id,
		    const struct jrx_bkey *ptr, size_t lo, size_t hi)
{
	struct jrx_rleaf *l;

	if (p->nr_leaves == p->cap_leaves) {
		size_t nc = p->cap_leaves ? p->cap_leaves * 2 : 1024;
		void *n = realloc(p->leaf, nc * sizeof(*p->leaf));

		if (!n)
			return -ENOMEM;
		p->leaf = n;
		p->cap_leaves = nc;
	}
	l = &p->leaf[p->nr_leaves++];
	memset(l, 0, sizeof(*l));
	memcpy(l->ptr, ptr, sizeof(l->ptr));
	l->cached = jrx_fs_cached_node(fs, ptr);
	if (l->cached && jrx_bnode_settle(l->cached))
		return -ENOMEM;
	l->btree_id = (uint8_t)btree_id;
	l->lo = lo;
	l->hi = hi;
	/*
	 * The rule write-back applies to a committed node (FORMAT.md 7.5).
	 * Each key sits in its jset, a cache miss, so here only the bound:
	 * keys of the smallest size (a bare struct jrx_bkey, which the
	 * journal's checks enforce).  The worker that claims the leaf sums
	 * the sizes, in parallel with the others and just before its append
	 * copies the same keys (replay_par.c).
	 */
	l->may_append = jrx_bset_append_fits(leaf_tail(l), (uint64_t)(hi - lo) *
					     sizeof(struct jrx_bkey),
					     fs->node_size);
	return 0;
}

static int route(struct jrx_fs *fs, struct jrx_rplan *p, struct jrx_bnode *n,
		 const struct jrx_jkey *v, size_t lo, size_t hi)
{
	int ret = jrx_bnode_settle(n);

	if (!ret && n->level >= 2 && n->nr > 1) {
		/* the children with keys to route, read at once */
		bool *want = calloc(n->nr, sizeof(*want));
		size_t l = lo;

		for (size_t i = 0; want && i < n->nr && l < hi; i++) {
			size_t end = upper_bound(v, l, hi, n->keys[i]->p);

			want[i] = end > l;
			l = end;
		}
		if (want)
			jrx_fs_prefetch(fs, n, want);
		free(want);
	}
	for (size_t i = 0; i < n->nr && lo < hi && !ret; i++) {
		const struct jrx_bkey *ptr = n->keys[i];
		size_t end = upper_bound(v, lo, hi, ptr->p);
		struct jrx_bnode *c;

		if (end == lo)
			continue;
		if (n->level == 1) {
			ret = add_leaf(fs, p, n->btree_id, ptr, lo, end);
		} else {
			ret = jrx_fs_get_node(fs, n->btree_id, n->level - 1u,
					      ptr, &c);
			if (!ret)
				ret = route(fs, p, c, v, lo, end);
		}
		lo = end;
	}
	if (!ret && lo < hi)
		ret = jrx_fail(-JRX_ERR_NODE_INVALID, "btree %s level %u: no"
			       " child covers the position",
			       jrx_btree_name(n->btree_id), n->level);
	return ret;
}

static int route_btree(struct jrx_fs *fs, struct jrx_rplan *p,
		       unsigned btree_id, const struct jrx_jkey *v, size_t lo,
		       size_t hi)
{
	struct jrx_bnode *root = fs->root[btree_id];
	uint64_t buf[JRX_PTR_U64S];

	if (!root)
		return jrx_fail(-JRX_ERR_NOT_FOUND, "btree %s has no root",
				jrx_btree_name(btree_id));
	if (jrx_bnode_settle(root))
		return -ENOMEM;
	if (root->level)
		return route(fs, p, root, v, lo, hi);
	/* the root is the only leaf */
	jrx_fs_node_ptr(root, (struct jrx_bkey *)buf);
	if (add_leaf(fs, p, btree_id, (struct jrx_bkey *)buf, lo, hi))
		return -ENOMEM;
	p->leaf[p->nr_leaves - 1].cached = root;
	p->leaf[p->nr_leaves - 1].was_root = true;
	return 0;
}

static int cut_units(struct jrx_rplan *p, unsigned workers, unsigned per_worker,
		     unsigned unit_keys, uint32_t node_size)
{
	uint64_t total = 0, unit, leaf_cost = LEAF_COST(node_size);
	size_t nr = 0, u = 0;

	for (size_t i = 0; i < p->nr_leaves; i++)
		total += p->leaf[i].hi - p->leaf[i].lo +
			(p->leaf[i].may_append ? APPEND_COST(node_size) :
			 leaf_cost);
	unit = total / ((uint64_t)workers * per_worker);
	if (unit < MIN_UNIT)
		unit = MIN_UNIT;
	if (unit_keys)
		unit = unit_keys;
	for (size_t i = 0; i < p->nr_leaves; i++) {
		uint64_t keys = p->leaf[i].hi - p->leaf[i].lo;

		p->leaf[i].nr_units = keys > unit && !p->leaf[i].may_append ?
			(size_t)((keys + unit - 1) / unit) : 1;
		nr += p->leaf[i].nr_units;
	}
	p->unit = calloc(nr ? nr : 1, sizeof(*p->unit));
	if (!p->unit)
		return -ENOMEM;
	for (size_t i = 0; i < p->nr_leaves; i++) {
		struct jrx_rleaf *l = &p->leaf[i];
		size_t keys = l->hi - l->lo;

		l->first_unit = u;
		if (l->nr_units > 1)
			p->sliced++;
		for (size_t s = 0; s < l->nr_units; s++, u++) {
			struct jrx_runit *x = &p->unit[u];

			x->leaf = i;
			x->lo = l->lo + keys * s / l->nr_units;
			x->hi = l->lo + keys * (s + 1) / l->nr_units;
			x->weight = x->hi - x->lo +
				(l->may_append ? APPEND_COST(node_size) :
				 l->nr_units > 1 ? leaf_cost / 2 : leaf_cost);
		}
	}
	p->nr_units = nr;
	return 0;
}

int jrx_replay_plan(struct jrx_fs *fs, const struct jrx_jkey *v, size_t lo,
		    size_t hi, unsigned workers, unsigned per_worker,
		    unsigned unit_keys, bool hold_last, struct jrx_rplan *p)
{
	int ret = 0;

	memset(p, 0, sizeof(*p));
	p->held = hi;
	while (lo < hi && !ret) {
		unsigned id = v[lo].btree_id;
		size_t end = jrx_replay_btree_end(v, lo, hi);
		if (id == JRX_BTREE_ALLOC || id == JRX_BTREE_ACCOUNTING) {
			lo = end;	/* replayed one by one before */
			continue;
		}
		if (v[lo].level || id >= JRX_BTREE_NR) {
			ret = jrx_fail(-JRX_ERR_KEY_INVALID, "parallel replay"
				       " given keys of btree %u level %u", id,
				       v[lo].level);
			break;
		}
		ret = route_btree(fs, p, id, v, lo, end);
		p->leaf_keys += end - lo;
		lo = end;
	}
	if (!ret && hold_last && p->nr_leaves) {
		const struct jrx_rleaf *l = &p->leaf[--p->nr_leaves];

		p->held = l->lo;
		p->leaf_keys -= l->hi - l->lo;
	}
	if (!ret)
		ret = cut_units(p, workers ? workers : 1,
				per_worker ? per_worker : 8, unit_keys,
				fs->node_size);
	if (ret)
		jrx_replay_plan_free(p);
	return ret;
}

void jrx_replay_plan_free(struct jrx_rplan *p)
{
	for (size_t u = 0; u < p->nr_units; u++) {
		struct jrx_runit *x = &p->unit[u];

		jrx_bnode_free(x->node);
		free(x->keys);
		for (size_t j = 0; j < x->nr_pieces; j++)
			jrx_bnode_free(x->pieces[j]);
		free(x->pieces);
	}
	free(p->unit);
	free(p->leaf);
	memset(p, 0, sizeof(*p));
}
