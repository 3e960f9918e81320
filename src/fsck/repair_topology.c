/*
 * repair_topology.c - JRX_FIX_TOPOLOGY: the repair of pass 3's problems
 * (damaged, missing or mislinked btree nodes; xfs_repair's phases and
 * bcachefs's topology repair are the ideas, none of their code).
 *
 * It owns: finding the btrees whose walk reports a pass-3 problem (and
 * those the space repair names: a node outside data or sharing sectors
 * with another node, which a rebuild writes to free buckets), the
 * scan of every data bucket for leaf nodes of those btrees that nothing
 * reaches, the choice of leaves that cover each btree's key space, the
 * rebuild of each such btree whole from the chosen leaves' keys, and the
 * report of the key ranges nothing covers (lost).
 *
 * The choice, per damaged btree: candidates are its reachable sound
 * leaves (the committed state: they come first) and the sound leaves the
 * scan finds (newest first, by the newest journal_seq of their bsets).
 * Taken in that order, each candidate gives the keys of the parts of its
 * [min_key, max_key] that no earlier candidate covered; what no candidate
 * covers is lost and said.  A scanned leaf may be an older copy of a
 * range (a node later rewritten elsewhere): its keys are then the older
 * state of that range, which is what is left of it.
 *
 * Crash safety, as REBUILD_ALLOC: the new nodes go to buckets that nothing
 * references (every reachable node's and extent's bucket is taken, and so
 * is every bucket holding a candidate leaf: a repair killed halfway must
 * find them again), are synced, and one superblock write switches the
 * rebuilt btrees' roots.  Killed before that write, the array is as it
 * was; the next fsck finds the same damage and repairs it again.  The
 * alloc and accounting btrees are wrong after this (nodes moved): run.c
 * checks again and the next round's REBUILD_ALLOC and NAMESPACE repairs
 * follow.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "jrx/errors.h"
#include "fsck_int.h"
#include "../btree/buckets.h"
#include "../btree/bulk.h"
#include "../format/bkey.h"
#include "../format/node.h"
#include "../util/diag.h"
#include "../util/vec.h"

/* A leaf whose keys may go into the rebuilt btree. */
struct cand {
	uint32_t	dev;
	uint64_t	sector;
	struct jrx_bpos	min, max;
	uint64_t	seq;		/* newest bset journal_seq (scanned) */
	bool		reachable;
	uint64_t	*keys;		/* the keys, one after another */
	size_t		nkeys, u64s;
};

struct range {
	struct jrx_bpos lo, hi;
};

struct topo {
	struct jrx_fsck		*f;
	struct jrx_buckets	 bt;
	bool			 rebuild[JRX_BTREE_NR];
	struct cand		*c[JRX_BTREE_NR];
	size_t			 nr[JRX_BTREE_NR], cap[JRX_BTREE_NR];
	size_t			 nr_reach[JRX_BTREE_NR];
	unsigned		 cur;	/* btree being walked */
	uint64_t		 scanned_buckets;
};

static bool in_data(const struct jrx_member *m, uint64_t b)
{
	return b >= m->first_bucket && b < m->nbuckets &&
		!(b >= m->journal_bucket && b < m->journal_bucket + m->journal_nr);
}

static struct jrx_bpos pos_pred(struct jrx_bpos p)
{
	if (p.snapshot) {
		p.snapshot--;
		return p;
	}
	p.snapshot = UINT32_MAX;
	if (p.offset) {
		p.offset--;
		return p;
	}
	p.offset = UINT64_MAX;
	p.inode--;		/* callers never pass POS_MIN */
	return p;
}

static void cand_free(struct cand *c)
{
	free(c->keys);
	c->keys = NULL;
}

/* A candidate from a decoded leaf: its keys copied. */
static int cand_add(struct topo *s, unsigned id, const struct jrx_bnode *n,
		    uint32_t dev, uint64_t sector, uint64_t seq, bool reachable)
{
	struct cand c = { .dev = dev, .sector = sector, .min = n->min,
			  .max = n->max, .seq = seq, .reachable = reachable };
	size_t o = 0;
	int ret;

	for (size_t i = 0; i < n->nr; i++)
		c.u64s += n->keys[i]->u64s;
	c.keys = malloc((c.u64s ? c.u64s : 1) * 8);
	if (!c.keys)
		return jrx_fail(-ENOMEM, "topology repair: copying a leaf's"
				" keys (%zu bytes)", c.u64s * 8);
	for (size_t i = 0; i < n->nr; i++) {
		memcpy(c.keys + o, n->keys[i], jrx_bkey_bytes(n->keys[i]));
		o += n->keys[i]->u64s;
	}
	c.nkeys = n->nr;
	ret = JRX_VEC_RESERVE(s->c[id], s->nr[id], s->cap[id], 1,
			      "topology repair candidates");
	if (ret) {
		free(c.keys);
		return ret;
	}
	s->c[id][s->nr[id]++] = c;
	return 0;
}

/* ------------------------------------------------------------ the walk */

static int on_ptr(void *ctx, const struct fsck_ptr *p)
{
	struct topo *s = ctx;
	struct jrx_fsck *f = s->f;
	uint64_t b = p->sector / f->bucket_sectors;

	if (p->dev >= s->bt.nr_devs || !in_data(&f->a->sb.members[p->dev], b))
		return 0;
	return jrx_bucket_add_sectors(&s->bt, p->dev, b, JRX_DATA_BTREE,
				      f->node_size / JRX_SECTOR_SIZE, 0);
}

/* Extents' data buckets are taken (never allocated to new nodes). */
static int take_extent(struct topo *s, const struct jrx_bkey *k)
{
	const struct jrx_extent_val *e = jrx_bkey_val(k);
	uint64_t b;

	if (k->type != JRX_KEY_EXTENT || e->dev >= s->bt.nr_devs)
		return 0;
	b = e->sector / s->f->bucket_sectors;
	if (!in_data(&s->f->a->sb.members[e->dev], b))
		return 0;
	if (jrx_bucket(&s->bt, e->dev, b)->gen < e->gen)
		jrx_bucket(&s->bt, e->dev, b)->gen = e->gen;
	return jrx_bucket_add_sectors(&s->bt, e->dev, b, JRX_DATA_USER,
				      k->size, 0);
}

/* The generation of each bucket: the newest of its alloc key's and of
 * the reachable extents' (take_extent). */
static int take_alloc_gen(struct topo *s, const struct jrx_bkey *k)
{
	const struct jrx_alloc_val *v = jrx_bkey_val(k);

	if (k->type == JRX_KEY_ALLOC && k->p.inode < s->bt.nr_devs &&
	    k->p.offset < s->bt.nbuckets[k->p.inode] &&
	    jrx_bucket(&s->bt, (uint32_t)k->p.inode, k->p.offset)->gen < v->gen)
		jrx_bucket(&s->bt, (uint32_t)k->p.inode, k->p.offset)->gen =
			v->gen;
	return 0;
}

/*
 * An extent of a scanned (older) leaf whose bucket has been reused since
 * (its gen is below the bucket's): its data is gone, the pointer stale,
 * as bcachefs's generation check says.
 */
static bool stale_extent(struct topo *s, const struct jrx_bkey *k)
{
	const struct jrx_extent_val *e = jrx_bkey_val(k);
	uint64_t b;

	if (k->type != JRX_KEY_EXTENT)
		return false;
	if (e->dev >= s->bt.nr_devs)
		return true;
	b = e->sector / s->f->bucket_sectors;
	return !in_data(&s->f->a->sb.members[e->dev], b) ||
		e->gen < jrx_bucket(&s->bt, e->dev, b)->gen;
}

static int on_key(void *ctx, const struct fsck_ptr *leaf,
		  const struct jrx_bkey *k)
{
	(void)leaf;
	return leaf->btree_id == JRX_BTREE_ALLOC ? take_alloc_gen(ctx, k) :
		take_extent(ctx, k);
}

static int on_node(void *ctx, const struct jrx_bnode *n,
		   const struct fsck_ptr *p)
{
	struct topo *s = ctx;

	if (n->level)
		return 0;
	return cand_add(s, s->cur, n, p->dev, p->sector, 0, true);
}

/* ------------------------------------------------------------ the scan */

static int cmp_loc(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;

	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	return x->sector < y->sector ? -1 : x->sector > y->sector;
}

static bool reachable_at(struct topo *s, unsigned id, uint32_t dev,
			 uint64_t sector)
{
	struct cand key = { .dev = dev, .sector = sector };

	return s->nr_reach[id] &&
		bsearch(&key, s->c[id], s->nr_reach[id], sizeof(key), cmp_loc);
}

/*
 * The node image at img (node_size bytes, read whole): a sound leaf of a
 * btree being rebuilt that nothing reaches becomes a candidate; its
 * written part is where its bsets stop validating.  1 if taken.
 */
static int scan_node(struct topo *s, const void *img, uint32_t dev,
		     uint64_t sector)
{
	struct jrx_fsck *f = s->f;
	const struct jrx_btree_node *h = img;
	const char *why;
	size_t off = sizeof(*h), end = 0, limit;
	uint64_t seq = 0;
	struct jrx_bnode *n;
	int ret;

	if (jrx_node_hdr_validate(h, f->a->node_magic, &why) ||
	    h->btree_id >= JRX_BTREE_NR || !s->rebuild[h->btree_id] ||
	    h->level || reachable_at(s, h->btree_id, dev, sector))
		return 0;
	while (off + sizeof(struct jrx_bset) <= f->node_size) {
		const struct jrx_bset *b = (const void *)((const char *)img + off);

		if (jrx_bset_validate(b, off, f->node_size, h->nonce, &why))
			break;
		end = off + jrx_bset_bytes(b);
		if (!jrx_blacklisted(&f->bl, b->journal_seq) &&
		    b->journal_seq > seq)
			seq = b->journal_seq;
		off = jrx_bset_next_offset(end);
	}
	if (!end)
		return 0;
	limit = (end + JRX_BLOCK_SIZE - 1) / JRX_BLOCK_SIZE * JRX_BLOCK_SIZE;
	n = jrx_bnode_alloc();
	if (!n)
		return jrx_fail(-ENOMEM, "topology repair: a node");
	ret = jrx_bnode_decode(n, img, f->node_size, limit, f->a->node_magic,
			       &f->bl, &why);
	if (ret == -JRX_ERR_NODE_INVALID) {
		jrx_bnode_free(n);
		return 0;
	}
	if (!ret)
		ret = cand_add(s, h->btree_id, n, dev, sector, seq, false);
	jrx_bnode_free(n);
	return ret ? ret : 1;
}

/* Every node slot of every data bucket of every member but those that
 * reachable extents point into. */
static int scan(struct topo *s)
{
	struct jrx_fsck *f = s->f;
	struct jrx_array *a = f->a;
	size_t len = (size_t)f->bucket_sectors * JRX_SECTOR_SIZE;
	uint32_t per = f->node_size / JRX_SECTOR_SIZE;
	char *buf = jrx_alloc_aligned(len);
	int ret = 0;

	if (!buf)
		return jrx_fail(-ENOMEM, "topology repair: a bucket buffer"
				" (%zu bytes)", len);
	for (unsigned d = 0; !ret && d < a->nr_devs; d++) {
		const struct jrx_member *m = &a->sb.members[d];

		for (uint64_t b = m->first_bucket; !ret && b < m->nbuckets; b++) {
			bool taken = false;

			/* a bucket of reachable extents holds file data, which
			 * may hold anything, even a node image of this array */
			if (!in_data(m, b) ||
			    jrx_bucket(&s->bt, d, b)->data_type == JRX_DATA_USER)
				continue;
			ret = jrx_dev_pread(&a->devs[d], buf, len,
					    b * f->bucket_sectors * JRX_SECTOR_SIZE);
			if (ret) {
				/* an unreadable bucket holds nothing found */
				ret = 0;
				continue;
			}
			s->scanned_buckets++;
			for (uint32_t o = 0; !ret && o + per <= f->bucket_sectors;
			     o += per) {
				ret = scan_node(s, buf + (size_t)o * JRX_SECTOR_SIZE,
						d, b * f->bucket_sectors + o);
				if (ret == 1) {
					taken = true;
					ret = 0;
				}
			}
			/* a repair killed halfway must find them again */
			if (!ret && taken &&
			    jrx_bucket(&s->bt, d, b)->data_type == JRX_DATA_FREE)
				jrx_bucket(&s->bt, d, b)->reusable_after =
					JRX_BUCKET_HELD;
		}
	}
	free(buf);
	return ret;
}

/* ------------------------------------------------------------ the choice */

/* Reachable first (in key order), then the newest. */
static int cmp_prio(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;

	if (x->reachable != y->reachable)
		return x->reachable ? -1 : 1;
	if (x->reachable)
		return jrx_bpos_cmp(x->min, y->min);
	if (x->seq != y->seq)
		return x->seq > y->seq ? -1 : 1;
	return cmp_loc(a, b);
}

static int cmp_range(const void *a, const void *b)
{
	return jrx_bpos_cmp(((const struct range *)a)->lo,
			    ((const struct range *)b)->lo);
}

static int cmp_keyp(const void *a, const void *b)
{
	return jrx_bpos_cmp((*(struct jrx_bkey *const *)a)->p,
			    (*(struct jrx_bkey *const *)b)->p);
}

/* Sort and merge touching ranges. */
static void merge(struct range *v, size_t *nr)
{
	size_t o = 0;

	if (*nr > 1)
		qsort(v, *nr, sizeof(*v), cmp_range);
	for (size_t i = 0; i < *nr; i++) {
		if (o && (jrx_bpos_eq(v[o - 1].hi, JRX_POS_MAX) ||
			  jrx_bpos_cmp(v[i].lo,
				       jrx_bpos_successor(v[o - 1].hi)) <= 0)) {
			if (jrx_bpos_cmp(v[i].hi, v[o - 1].hi) > 0)
				v[o - 1].hi = v[i].hi;
			continue;
		}
		v[o++] = v[i];
	}
	*nr = o;
}

struct choice {
	struct topo	 *s;
	FILE		 *out;
	unsigned	  id;
	struct jrx_bkey	**keys;
	size_t		  nkeys, cap;
	struct range	 *cov;
	size_t		  ncov, ccov;
	struct range	 *add;		/* pieces of the candidate in hand */
	size_t		  nadd, cadd;
	size_t		  used;		/* candidates that covered a part */
	size_t		  used_scanned;
	size_t		  stale;	/* stale extents of scanned leaves */
};

static int take_keys(struct choice *ch, struct cand *c, struct jrx_bpos lo,
		     struct jrx_bpos hi, size_t *pieces, size_t *nkeys)
{
	uint64_t *p = c->keys;
	size_t before = *nkeys;
	int ret;

	for (size_t i = 0; i < c->nkeys; i++) {
		struct jrx_bkey *k = (struct jrx_bkey *)p;

		p += k->u64s;
		if (jrx_bpos_cmp(k->p, lo) < 0 || jrx_bpos_cmp(k->p, hi) > 0)
			continue;
		if (!c->reachable && stale_extent(ch->s, k)) {
			ch->stale++;
			continue;
		}
		ret = JRX_VEC_RESERVE(ch->keys, ch->nkeys, ch->cap, 1,
				      "topology repair keys");
		if (ret)
			return ret;
		ch->keys[ch->nkeys++] = k;
		(*nkeys)++;
	}
	/* an unreachable leaf covers only the pieces it gives keys in: an
	 * empty older node (mkfs's root, say) is no sign that a range is
	 * empty now, and the range is said lost instead */
	if (c->reachable || *nkeys > before) {
		ret = JRX_VEC_RESERVE(ch->add, ch->nadd, ch->cadd, 1,
				      "topology repair ranges");
		if (ret)
			return ret;
		ch->add[ch->nadd++] = (struct range){ lo, hi };
		(*pieces)++;
	}
	return 0;
}

/* What of [c->min, c->max] is not covered yet gives its keys. */
static int choose(struct choice *ch, struct cand *c)
{
	struct jrx_bpos cur = c->min;
	bool done = false;
	size_t n0 = ch->ncov, pieces = 0, nkeys = 0;
	int ret = 0;

	ch->nadd = 0;
	for (size_t i = 0; !ret && !done && i < n0; i++) {
		struct range r = ch->cov[i];

		if (jrx_bpos_cmp(r.hi, cur) < 0)
			continue;
		if (jrx_bpos_cmp(r.lo, c->max) > 0)
			break;
		if (jrx_bpos_cmp(r.lo, cur) > 0)
			ret = take_keys(ch, c, cur, pos_pred(r.lo), &pieces,
				       &nkeys);
		if (jrx_bpos_cmp(r.hi, c->max) >= 0)
			done = true;
		else
			cur = jrx_bpos_successor(r.hi);
	}
	if (!ret && !done)
		ret = take_keys(ch, c, cur, c->max, &pieces, &nkeys);
	if (!ret)
		ret = JRX_VEC_RESERVE(ch->cov, ch->ncov, ch->ccov, ch->nadd,
				      "topology repair ranges");
	if (ret)
		return ret;
	if (ch->nadd)
		memcpy(ch->cov + ch->ncov, ch->add,
		       ch->nadd * sizeof(*ch->add));
	ch->ncov += ch->nadd;
	merge(ch->cov, &ch->ncov);
	if (pieces) {
		ch->used++;
		ch->used_scanned += !c->reachable;
	}
	if (pieces && !c->reachable && ch->out) {
		char t1[96], t2[96];

		jrx_bpos_to_text(t1, sizeof(t1), c->min);
		jrx_bpos_to_text(t2, sizeof(t2), c->max);
		fprintf(ch->out, "found: btree %s keys of %s..%s (%zu, in the"
			" part nothing newer covers) from an unreachable leaf"
			" on dev %u sector %" PRIu64 " (journal seq %" PRIu64
			")\n", jrx_btree_name(ch->id), t1, t2, nkeys, c->dev,
			c->sector, c->seq);
	}
	return 0;
}

/* The ranges of [POS_MIN, POS_MAX] nothing covers, said on out. */
static size_t say_lost(const struct choice *ch, unsigned id, FILE *out)
{
	struct jrx_bpos cur = JRX_POS_MIN;
	bool end = false;
	size_t lost = 0;
	char t1[96], t2[96];

	for (size_t i = 0; i <= ch->ncov && !end; i++) {
		struct jrx_bpos lo = cur, hi;

		if (i < ch->ncov) {
			if (jrx_bpos_cmp(ch->cov[i].lo, cur) <= 0) {
				if (jrx_bpos_eq(ch->cov[i].hi, JRX_POS_MAX))
					end = true;
				else
					cur = jrx_bpos_successor(ch->cov[i].hi);
				continue;
			}
			hi = pos_pred(ch->cov[i].lo);
			if (jrx_bpos_eq(ch->cov[i].hi, JRX_POS_MAX))
				end = true;
			else
				cur = jrx_bpos_successor(ch->cov[i].hi);
		} else {
			hi = JRX_POS_MAX;
		}
		lost++;
		if (out) {
			jrx_bpos_to_text(t1, sizeof(t1), lo);
			jrx_bpos_to_text(t2, sizeof(t2), hi);
			fprintf(out, "lost: btree %s keys %s..%s: no sound node"
				" covers them\n", jrx_btree_name(id), t1, t2);
		}
	}
	return lost;
}

/* Choose btree id's keys and write it anew; *root the new root. */
static int rebuild(struct topo *s, unsigned id, struct jrx_btree_root *root,
		   FILE *out)
{
	struct jrx_fsck *f = s->f;
	struct choice ch = { .s = s, .out = out, .id = id };
	struct jrx_bulk b;
	size_t lost;
	int ret = 0;

	if (s->nr[id] > 1)
		qsort(s->c[id], s->nr[id], sizeof(struct cand), cmp_prio);
	for (size_t i = 0; !ret && i < s->nr[id]; i++)
		ret = choose(&ch, &s->c[id][i]);
	if (!ret && ch.nkeys > 1)
		qsort(ch.keys, ch.nkeys, sizeof(*ch.keys), cmp_keyp);
	/* the extents kept keep their data buckets from new nodes */
	for (size_t i = 0; !ret && id == JRX_BTREE_EXTENTS && i < ch.nkeys; i++)
		ret = take_extent(s, ch.keys[i]);
	/* bset journal_seq 0, as the alloc rebuild writes: the
	 * superblock's journal_seq may lie in a blacklisted range (after a
	 * recovery), whose bsets readers skip; and a leftover of a killed
	 * repair ranks below every real leaf in the next repair's scan */
	if (!ret)
		ret = jrx_bulk_init(&b, f->a, &s->bt, id, f->node_size, 75, 0);
	if (!ret) {
		for (size_t i = 0; !ret && i < ch.nkeys; i++)
			ret = jrx_bulk_add(&b, ch.keys[i]);
		if (!ret)
			ret = jrx_bulk_finish(&b, root);
		jrx_bulk_exit(&b);
	}
	if (!ret && out) {
		fprintf(out, "repaired: btree %s rebuilt from %zu leaves"
			" (%zu of them found by scanning %" PRIu64 " buckets),"
			" %zu keys, %" PRIu64 " nodes\n", jrx_btree_name(id),
			ch.used, ch.used_scanned, s->scanned_buckets, ch.nkeys,
			b.nodes);
		if (ch.stale)
			fprintf(out, "lost: btree %s: %zu extents of older"
				" copies dropped, their buckets reused since"
				" (stale generation)\n", jrx_btree_name(id),
				ch.stale);
	}
	if (!ret) {
		lost = say_lost(&ch, id, out);
		if (!lost && out)
			fprintf(out, "lost: btree %s: no key range uncovered\n",
				jrx_btree_name(id));
	}
	free(ch.keys);
	free(ch.cov);
	free(ch.add);
	return ret;
}

/* ------------------------------------------------------------ the repair */

int fsck_repair_topology(struct jrx_fsck *f, unsigned force, FILE *out)
{
	struct jrx_array *a = f->a;
	struct topo *s = calloc(1, sizeof(*s));
	struct jrx_btree_root roots[JRX_BTREE_NR];
	enum jrx_fsck_pass saved = f->out.pass;
	bool any = false;
	int ret;

	if (!s)
		return jrx_fail(-ENOMEM, "allocating the topology repair");
	s->f = f;
	ret = jrx_buckets_init(&s->bt, &a->sb, NULL);
	if (ret) {
		free(s);	/* the table cleaned up after itself */
		return ret;
	}
	for (unsigned d = 0; !ret && d < a->nr_devs; d++) {
		const struct jrx_member *m = &a->sb.members[d];

		for (uint64_t b = 0; !ret && b < m->first_bucket; b++)
			ret = jrx_bucket_add_sectors(&s->bt, d, b, JRX_DATA_SB,
						     s->bt.bucket_sectors, 0);
		for (uint64_t b = 0; !ret && b < m->journal_nr; b++)
			ret = jrx_bucket_add_sectors(&s->bt, d, m->journal_bucket + b,
						     JRX_DATA_JOURNAL,
						     s->bt.bucket_sectors, 0);
	}
	/* every btree walked as pass 3 walks it: those it finds a problem in
	 * are rebuilt; every node and extent bucket is taken */
	f->out.pass = JRX_PASS_NODES;
	for (unsigned id = 0; !ret && id < JRX_BTREE_NR; id++) {
		uint64_t before = f->res->counts.pass[JRX_PASS_NODES];
		struct fsck_walk w = {
			.btree_id = id, .report = true, .leaves = true,
			.ptr = on_ptr,
			.key = id == JRX_BTREE_EXTENTS ||
				id == JRX_BTREE_ALLOC ? on_key : NULL,
			.ctx = s,
		};

		s->cur = id;
		ret = fsck_walk(f, &w);
		if (ret)
			break;
		s->rebuild[id] = f->res->counts.pass[JRX_PASS_NODES] != before ||
			w.bad_nodes || (force & (1u << id));
		any |= s->rebuild[id];
		/* a damaged btree's sound leaves copied by a second walk: the
		 * keys of sound btrees are never held */
		if (s->rebuild[id]) {
			struct fsck_walk w2 = {
				.btree_id = id, .leaves = true, .node = on_node,
				.ctx = s,
			};

			ret = fsck_walk(f, &w2);
			if (ret)
				break;
		}
		s->nr_reach[id] = s->nr[id];
		if (s->nr[id] > 1)
			qsort(s->c[id], s->nr[id], sizeof(struct cand),
			      cmp_loc);
	}
	f->out.pass = saved;
	if (!ret && !any && out)
		fprintf(out, "not repaired: the btrees' nodes: no btree has"
			" damage any more\n");
	if (!ret && any)
		ret = scan(s);
	for (unsigned id = 0; !ret && any && id < JRX_BTREE_NR; id++)
		if (s->rebuild[id])
			ret = rebuild(s, id, &roots[id], out);
	if (!ret && any)
		ret = jrx_array_sync(a);	/* nodes before the roots */
	if (!ret && any) {
		for (unsigned id = 0; id < JRX_BTREE_NR; id++)
			if (s->rebuild[id])
				a->sb.roots[id] = roots[id];
		ret = jrx_array_write_sb(a);
	}
	for (unsigned id = 0; id < JRX_BTREE_NR; id++) {
		for (size_t i = 0; i < s->nr[id]; i++)
			cand_free(&s->c[id][i]);
		free(s->c[id]);
	}
	jrx_buckets_exit(&s->bt);
	free(s);
	return ret ? ret : any;
}
