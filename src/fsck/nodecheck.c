/*
 * nodecheck.c - the check of one btree node in isolation (wnode.h), with
 * the rules of FORMAT.md 7.4: the pointer readable (device, range,
 * written blocks), header magic and checksum, each bset's nonce, block
 * and checksum inside the written part, keys valid, sorted within their
 * bset and inside [min_key, max_key]; a node the dry-run recovery made
 * (the view's, in memory) by its merged keys; then the node against the
 * pointer that led to it (btree, level, nonce, key range), and an
 * interior node's children tiling its range.
 *
 * It runs on the walk's worker threads: everything it writes is the
 * wnode it was given (its problems are kept there, reported later in
 * pre-order by walk.c), everything it reads of the fsck is read-only
 * during a walk.  A problem's context is only built when there is a
 * problem: the sound key, the common case, costs no memset and no
 * formatting.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "wnode.h"
#include "jrx/errors.h"
#include "../btree/blob.h"
#include "../format/checksum.h"
#include "../format/node.h"
#include "../util/diag.h"
#include "../util/vec.h"

static void keep(const struct fsck_wcheck *x, struct fsck_wnode *wn,
		 uint32_t slot, enum jrx_pr_code code, const struct jrx_pr_ctx *c)
{
	struct fsck_wprob *p;

	if (!x->report || wn->err)
		return;
	if (JRX_VEC_RESERVE(wn->probs, wn->nr_probs, wn->cap_probs, 1,
			    "fsck problems of a node")) {
		wn->err = -ENOMEM;
		return;
	}
	p = &wn->probs[wn->nr_probs++];
	p->code = code;
	p->slot = slot;
	p->c = *c;
	p->has_why = c->why != NULL;
	snprintf(p->why, sizeof(p->why), "%s", c->why ? c->why : "");
	p->c.why = NULL;
}

static void pos_text(char *buf, size_t len, struct jrx_bpos p)
{
	jrx_bpos_to_text(buf, len, p);
}

/* The keys of one bset at byte off; false if the node is unusable. */
static bool check_bset_keys(const struct fsck_wcheck *x, struct fsck_wnode *wn,
			    const struct jrx_btree_node *h,
			    const struct jrx_bset *b, size_t off)
{
	const struct jrx_bkey *k = (const void *)(b + 1), *prev = NULL;
	const struct jrx_bkey *end = (const void *)((const uint64_t *)(b + 1) +
						    b->u64s);
	bool ok = true;

	for (; k < end; k = jrx_bkey_next(k)) {
		size_t avail = (size_t)((const char *)end - (const char *)k);
		bool unsorted, outside;
		struct jrx_pr_ctx c;
		const char *why;
		char t1[96], t2[96];

		if (jrx_bkey_validate(k, avail, h->btree_id, h->level, &why)) {
			fsck_ctx_node(&c, &wn->p);
			c.offset += off + (size_t)((const char *)k - (const char *)b);
			c.btree = h->btree_id;
			c.level = h->level;
			if (avail >= sizeof(*k))
				c.pos = k->p;
			c.why = why;
			keep(x, wn, 0, JRX_PR_KEY_INVALID, &c);
			return false;	/* its size cannot be trusted */
		}
		unsorted = prev && jrx_bpos_cmp(prev->p, k->p) >= 0;
		outside = jrx_bpos_cmp(k->p, h->min_key) < 0 ||
			jrx_bpos_cmp(k->p, h->max_key) > 0;
		if (unsorted || outside) {
			fsck_ctx_node(&c, &wn->p);
			c.offset += off + (size_t)((const char *)k - (const char *)b);
			c.btree = h->btree_id;
			c.level = h->level;
			c.pos = k->p;
			if (unsorted) {
				pos_text(t1, sizeof(t1), prev->p);
				jrx_pr_expected(&c, "%s", t1);
				keep(x, wn, 0, JRX_PR_KEYS_UNSORTED, &c);
				c.expected[0] = 0;
			}
			if (outside) {
				pos_text(t1, sizeof(t1), h->min_key);
				pos_text(t2, sizeof(t2), h->max_key);
				jrx_pr_expected(&c, "%s..%s", t1, t2);
				keep(x, wn, 0, JRX_PR_KEY_OUTSIDE_NODE, &c);
			}
			ok = false;
		}
		prev = k;
	}
	return ok;
}

/* Header and bsets of a node read from disk; false if it is unusable. */
static bool check_node_bytes(const struct fsck_wcheck *x, struct fsck_wnode *wn,
			     const char *buf)
{
	const struct jrx_fsck *f = x->f;
	const struct fsck_ptr *p = &wn->p;
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
		keep(x, wn, 0, JRX_PR_NODE_BAD_MAGIC, &c);
		return false;
	}
	ret = jrx_node_hdr_validate(h, f->a->node_magic, &why);
	if (ret == -JRX_ERR_NODE_CSUM) {
		jrx_pr_expected(&c, "%#010x", jrx_crc32c(buf + 8, sizeof(*h) - 8));
		jrx_pr_found(&c, "%#010x", h->csum);
		keep(x, wn, 0, JRX_PR_NODE_CSUM, &c);
		return false;
	}
	if (ret) {
		c.why = why;
		keep(x, wn, 0, JRX_PR_NODE_BAD_HEADER, &c);
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
				ok &= check_bset_keys(x, wn, h, b, off);
			off = jrx_bset_next_offset(off + jrx_bset_bytes(b));
			continue;
		}
		c.offset = fsck_sector_offset(p->sector, off);
		snprintf(msg, sizeof(msg), "%s, inside the node's written part"
			 " (%zu bytes, from its pointer): the node is lost",
			 why, limit);
		c.why = msg;
		keep(x, wn, 0, ret == -JRX_ERR_NODE_CSUM ? JRX_PR_BSET_CSUM :
		     JRX_PR_BSET_BAD, &c);
		return false;
	}
	return ok;
}

bool fsck_wnode_readable(const struct fsck_wcheck *x, struct fsck_wnode *wn)
{
	const struct jrx_fsck *f = x->f;
	const struct fsck_ptr *p = &wn->p;
	struct jrx_pr_ctx c;
	uint64_t end;		/* of the node's whole space */

	fsck_ctx_node(&c, p);
	if (p->dev >= f->a->nr_devs) {
		c.dev = -1;
		c.offset = JRX_PR_NONE;
		c.num = p->dev;
		c.why = "node pointer";
		jrx_pr_expected(&c, "%u members", f->a->nr_devs);
		keep(x, wn, 0, JRX_PR_PTR_BAD_DEVICE, &c);
	} else if (f->a->devs[p->dev].absent) {
		c.why = "its member is missing (--degraded) and nodes have"
			" one copy";
		keep(x, wn, 0, JRX_PR_NODE_READ, &c);
	} else if (!jrx_muladd_u64(p->sector, JRX_SECTOR_SIZE, f->node_size,
				   &end) || end > f->a->devs[p->dev].size) {
		c.why = "it lies past the end of the device";
		keep(x, wn, 0, JRX_PR_NODE_READ, &c);
	} else if (!p->blocks || p->blocks > f->node_size / JRX_BLOCK_SIZE) {
		c.num = p->blocks;
		jrx_pr_expected(&c, "1..%u", f->node_size / JRX_BLOCK_SIZE);
		keep(x, wn, 0, JRX_PR_PTR_BAD_BLOCKS, &c);
	} else {
		return true;
	}
	wn->bad = true;
	wn->loaded = true;
	return false;
}

uint64_t fsck_wnode_off(const struct jrx_fsck *f, const struct fsck_wnode *wn)
{
	(void)f;
	/* fsck_wnode_readable() made sure it does not wrap */
	return wn->p.sector * JRX_SECTOR_SIZE;
}

/* A node the dry-run recovery made: its merged keys, in memory. */
static bool check_mem_node(const struct fsck_wcheck *x, struct fsck_wnode *wn,
			   const struct jrx_bnode *n)
{
	bool ok = true;

	for (size_t i = 0; i < n->nr; i++) {
		const struct jrx_bkey *k = n->keys[i];
		struct jrx_pr_ctx c;
		const char *why;
		char t1[96], t2[96];
		bool invalid = jrx_bkey_validate(k, jrx_bkey_bytes(k), n->btree_id,
						 n->level, &why) != 0;
		bool unsorted = i && jrx_bpos_cmp(n->keys[i - 1]->p, k->p) >= 0;
		bool outside = jrx_bpos_cmp(k->p, n->min) < 0 ||
			jrx_bpos_cmp(k->p, n->max) > 0;

		if (!invalid && !unsorted && !outside)
			continue;
		ok = false;
		fsck_ctx_node(&c, &wn->p);
		c.pos = k->p;
		if (invalid) {
			c.why = why;
			keep(x, wn, 0, JRX_PR_KEY_INVALID, &c);
		}
		if (unsorted) {
			pos_text(t1, sizeof(t1), n->keys[i - 1]->p);
			jrx_pr_expected(&c, "%s", t1);
			keep(x, wn, 0, JRX_PR_KEYS_UNSORTED, &c);
		}
		if (outside) {
			pos_text(t1, sizeof(t1), n->min);
			pos_text(t2, sizeof(t2), n->max);
			jrx_pr_expected(&c, "%s..%s", t1, t2);
			keep(x, wn, 0, JRX_PR_KEY_OUTSIDE_NODE, &c);
		}
	}
	return ok;
}

/* The node against its pointer; false if it is not the node meant. */
static bool match_ptr(const struct fsck_wcheck *x, struct fsck_wnode *wn,
		      const struct jrx_bnode *n)
{
	const struct fsck_ptr *p = &wn->p;
	struct jrx_pr_ctx c;
	char t1[96], t2[96];

	if (n->btree_id == p->btree_id && n->level == p->level &&
	    n->nonce == p->nonce && jrx_bpos_eq(n->min, p->min) &&
	    jrx_bpos_eq(n->max, p->max))
		return true;
	fsck_ctx_node(&c, p);
	if (n->btree_id != p->btree_id) {
		jrx_pr_expected(&c, "%s", jrx_btree_name(p->btree_id));
		jrx_pr_found(&c, "%s", jrx_btree_name(n->btree_id));
		keep(x, wn, 0, JRX_PR_NODE_WRONG_BTREE, &c);
		return false;
	}
	if (n->level != p->level) {
		jrx_pr_expected(&c, "%u", p->level);
		jrx_pr_found(&c, "%u", n->level);
		keep(x, wn, 0, JRX_PR_NODE_WRONG_LEVEL, &c);
		return false;
	}
	if (n->nonce != p->nonce) {
		c.why = "nonce";
		jrx_pr_expected(&c, "%#018" PRIx64, p->nonce);
		jrx_pr_found(&c, "%#018" PRIx64, n->nonce);
		keep(x, wn, 0, JRX_PR_NODE_PTR_MISMATCH, &c);
		return false;
	}
	if (!jrx_bpos_eq(n->min, p->min)) {
		c.why = "min_key";
		pos_text(t1, sizeof(t1), p->min);
		pos_text(t2, sizeof(t2), n->min);
		jrx_pr_expected(&c, "%s", t1);
		jrx_pr_found(&c, "%s", t2);
		keep(x, wn, 0, JRX_PR_NODE_PTR_MISMATCH, &c);
	}
	if (!jrx_bpos_eq(n->max, p->max)) {
		c.why = "max_key";
		pos_text(t1, sizeof(t1), p->max);
		pos_text(t2, sizeof(t2), n->max);
		jrx_pr_expected(&c, "%s", t1);
		jrx_pr_found(&c, "%s", t2);
		keep(x, wn, 0, JRX_PR_NODE_PTR_MISMATCH, &c);
	}
	/* a range mismatch is reported, but the keys are still worth a look */
	return true;
}

/* An interior node: its children tile [min, max] (problems by slot). */
static void check_children(const struct fsck_wcheck *x, struct fsck_wnode *wn,
			   const struct jrx_bnode *n)
{
	struct jrx_bpos expect = n->min;
	struct jrx_pr_ctx c;
	char t1[96], t2[96];

	for (size_t i = 0; i < n->nr; i++) {
		const struct jrx_bkey *k = n->keys[i];
		const struct jrx_btree_ptr_val *v = jrx_bkey_val(k);
		int cmp;

		if (jrx_bpos_cmp(v->min_key, k->p) > 0) {
			fsck_ctx_node(&c, &wn->p);
			c.pos = k->p;
			c.why = "btree pointer whose min_key is past its position";
			keep(x, wn, (uint32_t)i + 1, JRX_PR_KEY_INVALID, &c);
			expect = jrx_bpos_successor(k->p);
			continue;
		}
		cmp = jrx_bpos_cmp(v->min_key, expect);
		if (cmp) {
			fsck_ctx_node(&c, &wn->p);
			c.pos = k->p;
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
			keep(x, wn, (uint32_t)i + 1, cmp > 0 ? JRX_PR_CHILD_GAP :
			     JRX_PR_CHILD_OVERLAP, &c);
		}
		expect = jrx_bpos_successor(k->p);
	}
	fsck_ctx_node(&c, &wn->p);
	if (!n->nr) {
		c.why = "an interior node without children";
		pos_text(t1, sizeof(t1), n->min);
		pos_text(t2, sizeof(t2), n->max);
		jrx_pr_expected(&c, "children covering %s..%s", t1, t2);
		jrx_pr_found(&c, "none");
		keep(x, wn, (uint32_t)n->nr + 1, JRX_PR_CHILD_GAP, &c);
	} else if (!jrx_bpos_eq(n->keys[n->nr - 1]->p, n->max)) {
		c.pos = n->keys[n->nr - 1]->p;
		c.why = "the last child ends before the node's max_key";
		pos_text(t1, sizeof(t1), n->max);
		pos_text(t2, sizeof(t2), n->keys[n->nr - 1]->p);
		jrx_pr_expected(&c, "max_key %s", t1);
		jrx_pr_found(&c, "%s", t2);
		keep(x, wn, (uint32_t)n->nr + 1, JRX_PR_CHILD_GAP, &c);
	}
}

/*
 * The node's bytes decoded into wn->n, or checked rule by rule when they
 * do not decode (NULL in wn->n: bad).  Decoding applies the rules of
 * check_node_bytes() (and only those: the written part's length is
 * checked before), so a node that decodes is sound and its bytes are
 * checksummed and its keys validated once; only a node that does not
 * decode goes through the checks that say what is wrong.  With adopt,
 * buf is a blob (btree/blob.h) the node takes, and that a failed decode
 * frees: the node is left for the caller to read again (wn->retry).
 */
static int decode(const struct fsck_wcheck *x, struct fsck_wnode *wn,
		  void *buf, bool adopt)
{
	const struct jrx_fsck *f = x->f;
	const struct fsck_ptr *p = &wn->p;
	struct jrx_bnode *n;
	struct jrx_pr_ctx c;
	const char *why = NULL;
	int ret;

	n = jrx_bnode_alloc();
	if (!n) {
		if (adopt)
			jrx_blob_free(buf);
		return -ENOMEM;
	}
	ret = adopt ? jrx_bnode_decode_adopt(n, buf, f->node_size,
					     fsck_wnode_len(wn), f->a->node_magic,
					     &f->bl, &why) :
		jrx_bnode_decode(n, buf, f->node_size, fsck_wnode_len(wn),
				 f->a->node_magic, &f->bl, &why);
	if (!ret) {
		n->dev = p->dev;
		n->sector = p->sector;
		wn->n = n;
		wn->own = true;
		return 0;
	}
	jrx_bnode_free(n);	/* and buf with it, if adopted */
	if (ret == -ENOMEM)
		return ret;
	if (adopt) {
		wn->retry = true;
		return 0;
	}
	if (!check_node_bytes(x, wn, buf))
		return 0;
	/* the checks cover every rule decode applies: not reached */
	fsck_ctx_node(&c, p);
	c.why = why ? why : jrx_strerror(ret);
	keep(x, wn, 0, JRX_PR_NODE_BAD_HEADER, &c);
	return 0;
}

int fsck_wnode_check(const struct fsck_wcheck *x, struct fsck_wnode *wn,
		     const struct jrx_bnode *mem, void *buf, bool adopt,
		     int read_err)
{
	int ret = 0;

	wn->loaded = true;
	if (mem) {
		if (check_mem_node(x, wn, mem))
			wn->n = (struct jrx_bnode *)mem;
	} else if (read_err) {
		struct jrx_pr_ctx c;

		fsck_ctx_node(&c, &wn->p);
		c.why = jrx_strerror(read_err);
		keep(x, wn, 0, JRX_PR_NODE_READ, &c);
	} else {
		ret = decode(x, wn, buf, adopt);
		buf = NULL;
		if (!ret && wn->retry) {
			wn->loaded = false;	/* the caller reads it again */
			return 0;
		}
	}
	if (adopt && buf)
		jrx_blob_free(buf);
	if (!ret && wn->n && !match_ptr(x, wn, wn->n)) {
		if (wn->own)
			jrx_bnode_free(wn->n);
		wn->n = NULL;
		wn->own = false;
	}
	if (!ret && wn->n && wn->n->level)
		check_children(x, wn, wn->n);
	wn->bad = !wn->n;
	if (ret)
		wn->err = ret;
	return ret ? ret : wn->err;
}

void fsck_wnode_release(struct fsck_wnode *wn)
{
	if (wn->own)
		jrx_bnode_free(wn->n);
	wn->n = NULL;
	wn->own = false;
	free(wn->probs);
	wn->probs = NULL;
	wn->nr_probs = wn->cap_probs = 0;
}
