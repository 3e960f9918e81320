/*
 * walk.c - the node walker of every fsck pass (fsck_int.h).
 *
 * It follows btree pointers from a root, pre-order.  A node comes from
 * the view when the dry-run recovery made or changed it (it exists only
 * in memory), otherwise it is read from its device and checked here, bset
 * by bset and key by key, with the rules of FORMAT.md 7.4: header magic
 * and checksum, each bset's nonce, block and checksum, keys valid, sorted
 * within their bset and inside [min_key, max_key].  Then the node must
 * match the pointer that led to it (btree, level, nonce, key range), and
 * an interior node's children must tile its range.  Nothing it finds
 * stops the walk: a damaged node is reported (pass 3) or skipped (later
 * passes) with its subtree.
 *
 * Memory: one decoded node per level of the path being walked.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "fsck_int.h"
#include "jrx/errors.h"
#include "../format/checksum.h"
#include "../format/node.h"
#include "../util/diag.h"
#include "../util/vec.h"

void fsck_ctx_node(struct jrx_pr_ctx *c, const struct fsck_ptr *p)
{
	jrx_pr_ctx_init(c);
	c->dev = (int)p->dev;
	c->offset = fsck_sector_offset(p->sector, 0);
	c->btree = p->btree_id;
	c->level = p->level;
	c->has_pos = true;
	c->pos = p->max;
}

void fsck_damage_add(struct jrx_fsck *f, const struct fsck_ptr *p)
{
	if (JRX_VEC_RESERVE(f->damage, f->nr_damage, f->cap_damage, 1,
			    "fsck damage list")) {
		f->nomem = true;	/* jrx_diag() says what */
		return;
	}
	f->damage[f->nr_damage++] = (struct fsck_damage){
		.btree_id = p->btree_id, .level = p->level, .min = p->min,
		.max = p->max,
	};
}

bool fsck_damaged(const struct jrx_fsck *f, unsigned btree, struct jrx_bpos lo,
		  struct jrx_bpos hi)
{
	for (size_t i = 0; i < f->nr_damage; i++) {
		const struct fsck_damage *d = &f->damage[i];

		if (d->btree_id == btree && jrx_bpos_cmp(d->min, hi) <= 0 &&
		    jrx_bpos_cmp(lo, d->max) <= 0)
			return true;
	}
	return false;
}

bool fsck_btree_damaged(const struct jrx_fsck *f, unsigned btree, bool interior)
{
	for (size_t i = 0; i < f->nr_damage; i++)
		if (f->damage[i].btree_id == btree &&
		    (!interior || f->damage[i].level > 0))
			return true;
	return false;
}

static void pos_text(char *buf, size_t len, struct jrx_bpos p)
{
	jrx_bpos_to_text(buf, len, p);
}

static void report(struct jrx_fsck *f, struct fsck_walk *w,
		   enum jrx_pr_code code, const struct jrx_pr_ctx *c)
{
	if (w->report)
		fsck_report(f, code, c);
}

/* Keys of p's range are lost (pass 3 notes it for the later passes). */
static void damaged(struct jrx_fsck *f, struct fsck_walk *w,
		    const struct fsck_ptr *p)
{
	if (w->report)
		fsck_damage_add(f, p);
}

static struct jrx_bnode *mem_find(struct jrx_fsck *f, uint32_t dev,
				  uint64_t sector)
{
	size_t lo = 0, hi = f->nr_mem;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		struct jrx_bnode *n = f->mem[mid];

		if (n->dev == dev && n->sector == sector)
			return n;
		if (n->dev < dev || (n->dev == dev && n->sector < sector))
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* The keys of one bset at byte off; false if the node is unusable. */
static bool check_bset_keys(struct jrx_fsck *f, struct fsck_walk *w,
			    const struct fsck_ptr *p,
			    const struct jrx_btree_node *h,
			    const struct jrx_bset *b, size_t off)
{
	const struct jrx_bkey *k = (const void *)(b + 1), *prev = NULL;
	const struct jrx_bkey *end = (const void *)((const uint64_t *)(b + 1) +
						    b->u64s);
	bool ok = true;

	for (; k < end; k = jrx_bkey_next(k)) {
		size_t avail = (size_t)((const char *)end - (const char *)k);
		struct jrx_pr_ctx c;
		const char *why;
		char t1[96], t2[96];

		fsck_ctx_node(&c, p);
		c.offset += off + (size_t)((const char *)k - (const char *)b);
		c.btree = h->btree_id;
		c.level = h->level;
		if (jrx_bkey_validate(k, avail, h->btree_id, h->level, &why)) {
			if (avail >= sizeof(*k))
				c.pos = k->p;
			c.why = why;
			report(f, w, JRX_PR_KEY_INVALID, &c);
			return false;	/* its size cannot be trusted */
		}
		c.pos = k->p;
		if (prev && jrx_bpos_cmp(prev->p, k->p) >= 0) {
			pos_text(t1, sizeof(t1), prev->p);
			jrx_pr_expected(&c, "%s", t1);
			report(f, w, JRX_PR_KEYS_UNSORTED, &c);
			ok = false;
		}
		if (jrx_bpos_cmp(k->p, h->min_key) < 0 ||
		    jrx_bpos_cmp(k->p, h->max_key) > 0) {
			pos_text(t1, sizeof(t1), h->min_key);
			pos_text(t2, sizeof(t2), h->max_key);
			jrx_pr_expected(&c, "%s..%s", t1, t2);
			report(f, w, JRX_PR_KEY_OUTSIDE_NODE, &c);
			ok = false;
		}
		prev = k;
	}
	return ok;
}

/* Header and bsets of a node read from disk; false if it is unusable. */
static bool check_node_bytes(struct jrx_fsck *f, struct fsck_walk *w,
			     const struct fsck_ptr *p, const char *buf)
{
	const struct jrx_btree_node *h = (const void *)buf;
	size_t off = sizeof(*h), limit = (size_t)p->blocks * JRX_BLOCK_SIZE;
	struct jrx_pr_ctx c;
	const char *why;
	bool ok = true;
	int ret;

	fsck_ctx_node(&c, p);
	if (h->magic != f->a->node_magic) {
		jrx_pr_expected(&c, "%#018" PRIx64, f->a->node_magic);
		jrx_pr_found(&c, "%#018" PRIx64, h->magic);
		report(f, w, JRX_PR_NODE_BAD_MAGIC, &c);
		return false;
	}
	ret = jrx_node_hdr_validate(h, f->a->node_magic, &why);
	if (ret == -JRX_ERR_NODE_CSUM) {
		jrx_pr_expected(&c, "%#010x", jrx_crc32c(buf + 8, sizeof(*h) - 8));
		jrx_pr_found(&c, "%#010x", h->csum);
		report(f, w, JRX_PR_NODE_CSUM, &c);
		return false;
	}
	if (ret) {
		c.why = why;
		report(f, w, JRX_PR_NODE_BAD_HEADER, &c);
		return false;
	}
	/*
	 * The written part is the pointer's blocks (FORMAT.md 7.4): every
	 * bset in it must be whole, and the last one ends in its last
	 * block.  What lies past it (a torn or uncommitted append) is not
	 * part of the node and is not read.
	 */
	while (off < limit) {
		const struct jrx_bset *b = (const void *)(buf + off);
		char msg[160];

		ret = jrx_bset_validate(b, off, limit, h->nonce, &why);
		if (!ret) {
			if (!jrx_blacklisted(&f->bl, b->journal_seq))
				ok &= check_bset_keys(f, w, p, h, b, off);
			off = jrx_bset_next_offset(off + jrx_bset_bytes(b));
			continue;
		}
		c.offset = fsck_sector_offset(p->sector, off);
		snprintf(msg, sizeof(msg), "%s, inside the node's written part"
			 " (%zu bytes, from its pointer): the node is lost",
			 why, limit);
		c.why = msg;
		report(f, w, ret == -JRX_ERR_NODE_CSUM ? JRX_PR_BSET_CSUM :
		       JRX_PR_BSET_BAD, &c);
		return false;
	}
	return ok;
}

static int read_node(struct jrx_fsck *f, struct fsck_walk *w,
		     const struct fsck_ptr *p, struct jrx_bnode **out)
{
	struct jrx_bnode *n;
	struct jrx_pr_ctx c;
	struct jrx_dev *d;
	const char *why;
	uint64_t end;		/* of the node's whole space */
	int ret;

	*out = NULL;
	fsck_ctx_node(&c, p);
	if (p->dev >= f->a->nr_devs) {
		c.dev = -1;
		c.offset = JRX_PR_NONE;
		c.num = p->dev;
		c.why = "node pointer";
		jrx_pr_expected(&c, "%u members", f->a->nr_devs);
		report(f, w, JRX_PR_PTR_BAD_DEVICE, &c);
		return 0;
	}
	d = &f->a->devs[p->dev];
	if (!jrx_muladd_u64(p->sector, JRX_SECTOR_SIZE, f->node_size, &end) ||
	    end > d->size) {
		c.why = "it lies past the end of the device";
		report(f, w, JRX_PR_NODE_READ, &c);
		return 0;
	}
	if (!p->blocks || p->blocks > f->node_size / JRX_BLOCK_SIZE) {
		c.num = p->blocks;
		jrx_pr_expected(&c, "1..%u", f->node_size / JRX_BLOCK_SIZE);
		report(f, w, JRX_PR_PTR_BAD_BLOCKS, &c);
		return 0;
	}
	/* the written part only: what the pointer says is the node */
	ret = jrx_dev_pread(d, f->buf, (size_t)p->blocks * JRX_BLOCK_SIZE,
			    end - f->node_size);
	if (ret) {
		c.why = jrx_strerror(ret);
		report(f, w, JRX_PR_NODE_READ, &c);
		return 0;
	}
	if (!check_node_bytes(f, w, p, f->buf))
		return 0;
	n = jrx_bnode_alloc();
	if (!n)
		return jrx_fail(-ENOMEM, "allocating the btree %s level %u node"
				" at dev %u sector %" PRIu64 " to check",
				jrx_btree_name(p->btree_id), p->level, p->dev,
				p->sector);
	ret = jrx_bnode_decode(n, f->buf, f->node_size,
			       (size_t)p->blocks * JRX_BLOCK_SIZE,
			       f->a->node_magic, &f->bl, &why);
	if (ret) {
		jrx_bnode_free(n);
		if (ret == -ENOMEM)
			return ret;
		/* the checks above cover every rule decode applies */
		c.why = why ? why : jrx_strerror(ret);
		report(f, w, JRX_PR_NODE_BAD_HEADER, &c);
		return 0;
	}
	n->dev = p->dev;
	n->sector = p->sector;
	*out = n;
	return 0;
}

/* A node the dry-run recovery made: its merged keys, in memory. */
static bool check_mem_node(struct jrx_fsck *f, struct fsck_walk *w,
			   const struct fsck_ptr *p, const struct jrx_bnode *n)
{
	bool ok = true;

	for (size_t i = 0; i < n->nr; i++) {
		const struct jrx_bkey *k = n->keys[i];
		struct jrx_pr_ctx c;
		const char *why;
		char t1[96], t2[96];

		fsck_ctx_node(&c, p);
		c.pos = k->p;
		if (jrx_bkey_validate(k, jrx_bkey_bytes(k), n->btree_id, n->level,
				      &why)) {
			c.why = why;
			report(f, w, JRX_PR_KEY_INVALID, &c);
			ok = false;
		}
		if (i && jrx_bpos_cmp(n->keys[i - 1]->p, k->p) >= 0) {
			pos_text(t1, sizeof(t1), n->keys[i - 1]->p);
			jrx_pr_expected(&c, "%s", t1);
			report(f, w, JRX_PR_KEYS_UNSORTED, &c);
			ok = false;
		}
		if (jrx_bpos_cmp(k->p, n->min) < 0 || jrx_bpos_cmp(k->p, n->max) > 0) {
			pos_text(t1, sizeof(t1), n->min);
			pos_text(t2, sizeof(t2), n->max);
			jrx_pr_expected(&c, "%s..%s", t1, t2);
			report(f, w, JRX_PR_KEY_OUTSIDE_NODE, &c);
			ok = false;
		}
	}
	return ok;
}

/* The node against its pointer; false if it is not the node meant. */
static bool match_ptr(struct jrx_fsck *f, struct fsck_walk *w,
		      const struct fsck_ptr *p, const struct jrx_bnode *n)
{
	struct jrx_pr_ctx c;
	char t1[96], t2[96];

	fsck_ctx_node(&c, p);
	if (n->btree_id != p->btree_id) {
		jrx_pr_expected(&c, "%s", jrx_btree_name(p->btree_id));
		jrx_pr_found(&c, "%s", jrx_btree_name(n->btree_id));
		report(f, w, JRX_PR_NODE_WRONG_BTREE, &c);
		return false;
	}
	if (n->level != p->level) {
		jrx_pr_expected(&c, "%u", p->level);
		jrx_pr_found(&c, "%u", n->level);
		report(f, w, JRX_PR_NODE_WRONG_LEVEL, &c);
		return false;
	}
	if (n->nonce != p->nonce) {
		c.why = "nonce";
		jrx_pr_expected(&c, "%#018" PRIx64, p->nonce);
		jrx_pr_found(&c, "%#018" PRIx64, n->nonce);
		report(f, w, JRX_PR_NODE_PTR_MISMATCH, &c);
		return false;
	}
	if (!jrx_bpos_eq(n->min, p->min)) {
		c.why = "min_key";
		pos_text(t1, sizeof(t1), p->min);
		pos_text(t2, sizeof(t2), n->min);
		jrx_pr_expected(&c, "%s", t1);
		jrx_pr_found(&c, "%s", t2);
		report(f, w, JRX_PR_NODE_PTR_MISMATCH, &c);
	}
	if (!jrx_bpos_eq(n->max, p->max)) {
		c.why = "max_key";
		pos_text(t1, sizeof(t1), p->max);
		pos_text(t2, sizeof(t2), n->max);
		jrx_pr_expected(&c, "%s", t1);
		jrx_pr_found(&c, "%s", t2);
		report(f, w, JRX_PR_NODE_PTR_MISMATCH, &c);
	}
	/* a range mismatch is reported, but the keys are still worth a look */
	return true;
}

static int visit(struct jrx_fsck *f, struct fsck_walk *w,
		 const struct fsck_ptr *p);

/* An interior node: children tile [min, max]; each is visited. */
static int visit_children(struct jrx_fsck *f, struct fsck_walk *w,
			  const struct fsck_ptr *p, const struct jrx_bnode *n)
{
	struct jrx_bpos expect = n->min;
	struct jrx_pr_ctx c;
	char t1[96], t2[96];
	int ret;

	for (size_t i = 0; i < n->nr; i++) {
		const struct jrx_bkey *k = n->keys[i];
		const struct jrx_btree_ptr_val *v = jrx_bkey_val(k);
		struct fsck_ptr cp = {
			.btree_id = n->btree_id, .level = (uint8_t)(n->level - 1),
			.dev = v->dev, .sector = v->sector, .nonce = v->nonce,
			.blocks = v->blocks, .min = v->min_key, .max = k->p,
		};
		int cmp;

		fsck_ctx_node(&c, p);
		c.pos = k->p;
		if (jrx_bpos_cmp(v->min_key, k->p) > 0) {
			c.why = "btree pointer whose min_key is past its position";
			report(f, w, JRX_PR_KEY_INVALID, &c);
			expect = jrx_bpos_successor(k->p);
			continue;
		}
		cmp = jrx_bpos_cmp(v->min_key, expect);
		if (cmp) {
			pos_text(t1, sizeof(t1), expect);
			pos_text(t2, sizeof(t2), v->min_key);
			jrx_pr_expected(&c, "min_key %s", t1);
			jrx_pr_found(&c, "%s", t2);
			if (cmp > 0)
				c.why = i ? "a gap before this child" :
					"the first child starts after the node's min_key";
			else
				c.why = i ? "this child overlaps the previous one" :
					"the first child starts before the node's min_key";
			report(f, w, cmp > 0 ? JRX_PR_CHILD_GAP : JRX_PR_CHILD_OVERLAP,
			       &c);
		}
		expect = jrx_bpos_successor(k->p);
		ret = visit(f, w, &cp);
		if (ret)
			return ret;
	}
	fsck_ctx_node(&c, p);
	if (!n->nr) {
		c.why = "an interior node without children";
		pos_text(t1, sizeof(t1), n->min);
		pos_text(t2, sizeof(t2), n->max);
		jrx_pr_expected(&c, "children covering %s..%s", t1, t2);
		jrx_pr_found(&c, "none");
		report(f, w, JRX_PR_CHILD_GAP, &c);
	} else if (!jrx_bpos_eq(n->keys[n->nr - 1]->p, n->max)) {
		c.pos = n->keys[n->nr - 1]->p;
		c.why = "the last child ends before the node's max_key";
		pos_text(t1, sizeof(t1), n->max);
		pos_text(t2, sizeof(t2), n->keys[n->nr - 1]->p);
		jrx_pr_expected(&c, "max_key %s", t1);
		jrx_pr_found(&c, "%s", t2);
		report(f, w, JRX_PR_CHILD_GAP, &c);
	}
	return 0;
}

static int visit(struct jrx_fsck *f, struct fsck_walk *w,
		 const struct fsck_ptr *p)
{
	struct jrx_bnode *n, *own = NULL;
	int ret;

	/* the damage list is short of a range: stop, its jrx_diag() kept */
	if (f->nomem)
		return -ENOMEM;
	if (w->ptr && (ret = w->ptr(w->ctx, p)))
		return ret;
	if (!p->level && !w->leaves)
		return 0;
	n = mem_find(f, p->dev, p->sector);
	if (n) {
		if (!check_mem_node(f, w, p, n)) {
			w->bad_nodes++;
			damaged(f, w, p);
			return 0;
		}
	} else {
		ret = read_node(f, w, p, &own);
		if (ret)
			return ret;
		n = own;
		if (!n) {
			w->bad_nodes++;
			damaged(f, w, p);
			return 0;
		}
	}
	if (!match_ptr(f, w, p, n)) {
		w->bad_nodes++;
		damaged(f, w, p);
		ret = 0;
		goto out;
	}
	w->nodes++;
	if (n->level)
		f->walk_known += n->nr;
	fsck_progress(f, ++f->walk_done, f->walk_known);
	if (w->node && (ret = w->node(w->ctx, n, p)))
		goto out;
	if (n->level) {
		ret = visit_children(f, w, p, n);
		goto out;
	}
	for (size_t i = 0; i < n->nr; i++) {
		w->keys++;
		if (w->key && (ret = w->key(w->ctx, p, n->keys[i])))
			goto out;
	}
	ret = 0;
out:
	jrx_bnode_free(own);
	return ret;
}

int fsck_walk(struct jrx_fsck *f, struct fsck_walk *w)
{
	const struct fsck_ptr *p = &f->root[w->btree_id];
	struct jrx_pr_ctx c;
	char t1[96], t2[96];
	int ret;

	w->nodes = w->bad_nodes = w->keys = 0;
	if (f->have_root[w->btree_id])
		f->walk_known++;	/* progress: the root, then children */
	jrx_pr_ctx_init(&c);
	c.btree = (int)w->btree_id;
	if (!f->have_root[w->btree_id]) {
		struct fsck_ptr all = {
			.btree_id = (uint8_t)w->btree_id, .level = JRX_BTREE_MAX_DEPTH,
			.min = JRX_POS_MIN, .max = JRX_POS_MAX,
		};

		report(f, w, JRX_PR_ROOT_MISSING, &c);
		damaged(f, w, &all);
		return f->nomem ? -ENOMEM : 0;
	}
	if (!jrx_bpos_eq(p->min, JRX_POS_MIN) || !jrx_bpos_eq(p->max, JRX_POS_MAX)) {
		pos_text(t1, sizeof(t1), p->min);
		pos_text(t2, sizeof(t2), p->max);
		jrx_pr_found(&c, "%s..%s", t1, t2);
		pos_text(t1, sizeof(t1), JRX_POS_MIN);
		pos_text(t2, sizeof(t2), JRX_POS_MAX);
		jrx_pr_expected(&c, "%s..%s", t1, t2);
		report(f, w, JRX_PR_ROOT_BAD_RANGE, &c);
	}
	ret = visit(f, w, p);
	return !ret && f->nomem ? -ENOMEM : ret;
}
