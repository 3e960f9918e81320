/* bnode.c - btree nodes in memory: decode, apply, encode (see bnode.h). */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "bnode.h"
#include "blob.h"
#include "jrx/errors.h"
#include "../format/checksum.h"
#include "../format/node.h"
#include "../util/diag.h"
#include "../util/vec.h"

bool jrx_blacklisted(const struct jrx_blacklist *bl, uint64_t seq)
{
	if (!bl)
		return false;
	for (size_t i = 0; i < bl->nr; i++)
		if (seq >= bl->v[i].start && seq <= bl->v[i].end)
			return true;
	return false;
}

struct jrx_bnode *jrx_bnode_alloc(void)
{
	return calloc(1, sizeof(struct jrx_bnode));
}

/* Whether k points into n's blob (else it is a copy of its own). */
static bool in_blob(const struct jrx_bnode *n, const struct jrx_bkey *k)
{
	return n->blob && (const char *)k >= n->blob &&
		(const char *)k < n->blob + n->blob_len;
}

static void free_key(const struct jrx_bnode *n, struct jrx_bkey *k)
{
	if (!in_blob(n, k))
		free(k);
}

static void free_keys(const struct jrx_bnode *n, struct jrx_bkey **v,
		      size_t nr)
{
	for (size_t i = 0; i < nr; i++)
		free_key(n, v[i]);
}

/* n reset; its blob, no longer n's, returned. */
static char *reset_keep_blob(struct jrx_bnode *n)
{
	char *blob = n->blob;

	free_keys(n, n->keys, n->nr);
	free_keys(n, n->pend, n->pnr);
	free_keys(n, n->in, n->nin);
	n->nin = 0;
	n->blob = NULL;
	n->blob_len = 0;
	n->nr = n->pnr = 0;
	n->live_u64s = n->pend_u64s = 0;
	n->written = 0;
	n->bsets = 0;
	n->dirty_seq = 0;
	n->fresh = false;
	return blob;
}

void jrx_bnode_reset(struct jrx_bnode *n)
{
	jrx_blob_free(reset_keep_blob(n));
}

void *jrx_bnode_free_keep_blob(struct jrx_bnode *n)
{
	char *blob;

	if (!n)
		return NULL;
	blob = reset_keep_blob(n);
	free(n->keys);
	free(n->pend);
	free(n->in);
	free(n);
	return blob;
}

void jrx_bnode_free(struct jrx_bnode *n)
{
	jrx_blob_free(jrx_bnode_free_keep_blob(n));
}

static size_t lower_bound(struct jrx_bkey *const *v, size_t nr,
			  struct jrx_bpos p)
{
	size_t lo = 0, hi = nr;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (jrx_bpos_cmp(v[mid]->p, p) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

size_t jrx_bnode_lower_bound(const struct jrx_bnode *n, struct jrx_bpos p)
{
	return lower_bound(n->keys, n->nr, p);
}

/* A malloc'd copy of k into *out. */
static int dup_key(const struct jrx_bkey *k, struct jrx_bkey **out)
{
	size_t bytes = jrx_bkey_bytes(k);
	struct jrx_bkey *c = malloc(bytes);

	if (!c)
		return jrx_fail(-ENOMEM, "allocating a copy of a btree"
				" key (%zu bytes)", bytes);
	memcpy(c, k, bytes);
	*out = c;
	return 0;
}

/*
 * Put k into n's view (or pend): replace at equal position, or insert.
 * A key inside n's blob is stored as it is, any other is copied.
 */
static int sorted_put(struct jrx_bnode *n, bool pend, const struct jrx_bkey *k,
		      bool keep_whiteout)
{
	struct jrx_bkey ***v = pend ? &n->pend : &n->keys;
	size_t *nr = pend ? &n->pnr : &n->nr;
	size_t *cap = pend ? &n->pcap : &n->cap;
	size_t *u64s = pend ? &n->pend_u64s : &n->live_u64s;
	size_t i;
	bool found;
	struct jrx_bkey *c = NULL;
	int ret;

	/* keys mostly come in order (decoding, replay): append fast */
	if (!*nr || jrx_bpos_cmp((*v)[*nr - 1]->p, k->p) < 0)
		i = *nr;
	else
		i = lower_bound(*v, *nr, k->p);
	found = i < *nr && jrx_bpos_eq((*v)[i]->p, k->p);
	if (k->type == JRX_KEY_WHITEOUT && !keep_whiteout) {
		if (found) {
			*u64s -= (*v)[i]->u64s;
			free_key(n, (*v)[i]);
			memmove(&(*v)[i], &(*v)[i + 1], (*nr - i - 1) * sizeof(**v));
			(*nr)--;
		}
		return 0;
	}
	if (!pend && in_blob(n, k))
		c = (struct jrx_bkey *)k;
	else if ((ret = dup_key(k, &c)))
		return ret;
	if (found) {
		*u64s -= (*v)[i]->u64s;
		free_key(n, (*v)[i]);
		(*v)[i] = c;
	} else {
		ret = JRX_VEC_RESERVE(*v, *nr, *cap, 1, pend ?
				      "btree node's unwritten keys" :
				      "btree node's keys");
		if (ret) {
			free_key(n, c);
			return ret;
		}
		memmove(&(*v)[i + 1], &(*v)[i], (*nr - i) * sizeof(**v));
		(*v)[i] = c;
		(*nr)++;
	}
	*u64s += c->u64s;
	return 0;
}

int jrx_bnode_apply(struct jrx_bnode *n, const struct jrx_bkey *k, uint64_t seq)
{
	int ret;

	assert(jrx_bpos_cmp(k->p, n->min) >= 0 && jrx_bpos_cmp(k->p, n->max) <= 0);
	ret = sorted_put(n, false, k, false);
	if (ret || !seq)
		return ret;
	/* a whiteout only needs writing if an older bset may hold the key */
	ret = sorted_put(n, true, k, n->written > 0);
	if (!ret && (!n->dirty_seq || seq < n->dirty_seq))
		n->dirty_seq = seq;
	return ret;
}

int jrx_bnode_defer(struct jrx_bnode *n, const struct jrx_bkey *k, uint64_t seq)
{
	struct jrx_bkey *c = NULL;
	int ret;

	assert(jrx_bpos_cmp(k->p, n->min) >= 0 && jrx_bpos_cmp(k->p, n->max) <= 0);
	ret = JRX_VEC_RESERVE(n->in, n->nin, n->incap, 1,
			      "btree node's deferred keys");
	if (!ret)
		ret = dup_key(k, &c);
	if (ret)
		return ret;
	n->in[n->nin++] = c;
	if (seq && (!n->dirty_seq || seq < n->dirty_seq))
		n->dirty_seq = seq;
	return 0;
}

struct defer_slot {
	struct jrx_bkey *k;
	size_t i;		/* arrival */
};

/* By position, then arrival: the last update of a position wins. */
static int cmp_slot(const void *a, const void *b)
{
	const struct defer_slot *x = a, *y = b;
	int c = jrx_bpos_cmp(x->k->p, y->k->p);

	return c ? c : (x->i < y->i ? -1 : x->i > y->i);
}

int jrx_bnode_settle_deferred(struct jrx_bnode *n)
{
	struct jrx_bkey **v, **in = n->in;
	size_t nin = n->nin, i = 0, j = 0, o = 0;
	size_t cap = n->nr + nin;

	/* the updates by position, equal positions in arrival order */
	{
		struct defer_slot *s;

		s = malloc(nin * sizeof(*s));
		if (!s)
			return jrx_fail(-ENOMEM, "allocating to sort a btree"
					" node's %zu deferred keys", nin);
		for (size_t x = 0; x < nin; x++)
			s[x] = (struct defer_slot){ in[x], x };
		qsort(s, nin, sizeof(*s), cmp_slot);
		for (size_t x = 0; x < nin; x++)
			in[x] = s[x].k;
		free(s);
	}
	/*
	 * The newest update of every position is also unwritten: pend, as
	 * jrx_bnode_apply() keeps it (a whiteout too, once an older bset
	 * may hold the key), so write-back can append exactly what changed.
	 */
	for (size_t x = 0; x < nin; x++) {
		int ret;

		if (x + 1 < nin && jrx_bpos_eq(in[x]->p, in[x + 1]->p))
			continue;
		ret = sorted_put(n, true, in[x], n->written > 0);
		if (ret)
			return ret;
	}
	v = malloc((cap ? cap : 1) * sizeof(*v));
	if (!v)
		return jrx_fail(-ENOMEM, "allocating to merge a btree node's"
				" keys (%zu)", cap);
	n->live_u64s = 0;
	while (i < n->nr || j < nin) {
		struct jrx_bkey *k;
		int c;

		if (j < nin && j + 1 < nin &&
		    jrx_bpos_eq(in[j]->p, in[j + 1]->p)) {
			free(in[j++]);		/* a later update wins */
			continue;
		}
		c = i == n->nr ? 1 : j == nin ? -1 :
			jrx_bpos_cmp(n->keys[i]->p, in[j]->p);
		if (c < 0) {
			k = n->keys[i++];
		} else {
			if (!c)
				free_key(n, n->keys[i++]);
			k = in[j++];
			if (k->type == JRX_KEY_WHITEOUT) {
				free(k);
				continue;
			}
		}
		v[o++] = k;
		n->live_u64s += k->u64s;
	}
	free(n->keys);
	n->keys = v;
	n->nr = o;
	n->cap = cap ? cap : 1;
	n->nin = 0;
	return 0;
}

#define BAD(msg) do { *why = (msg); ret = -JRX_ERR_NODE_INVALID; goto err; } while (0)

int jrx_bnode_decode(struct jrx_bnode *n, const void *buf, size_t node_size,
		     size_t limit, uint64_t magic,
		     const struct jrx_blacklist *bl, const char **why)
{
	void *img = jrx_blob_alloc(node_size);

	if (!img) {
		jrx_bnode_reset(n);
		return jrx_fail(-ENOMEM, "allocating a btree node image"
				" (%zu bytes)", node_size);
	}
	memcpy(img, buf, limit < node_size ? limit : node_size);
	return jrx_bnode_decode_adopt(n, img, node_size, limit, magic, bl, why);
}

int jrx_bnode_decode_adopt(struct jrx_bnode *n, void *img, size_t node_size,
			   size_t limit, uint64_t magic,
			   const struct jrx_blacklist *bl, const char **why)
{
	const struct jrx_btree_node *h = img;
	const char *buf = img;
	size_t off = sizeof(*h);
	int ret;

	jrx_bnode_reset(n);
	n->blob = img;
	n->blob_len = node_size;
	if (!limit || limit > node_size || limit % JRX_BLOCK_SIZE) {
		*why = "the written length is not a whole number of blocks"
			" inside the node";
		return -JRX_ERR_NODE_INVALID;
	}
	ret = jrx_node_hdr_validate(h, magic, why);
	if (ret)
		return ret;
	n->nonce = h->nonce;
	n->btree_id = h->btree_id;
	n->level = h->level;
	n->min = h->min_key;
	n->max = h->max_key;

	/* every bset of the written part is whole, and they end at limit */
	while (off < limit) {
		const struct jrx_bset *b = (const void *)(buf + off);
		const struct jrx_bkey *k, *end, *prev = NULL;

		ret = jrx_bset_validate(b, off, limit, n->nonce, why);
		if (ret)
			goto err;
		n->bsets++;
		n->written = (uint32_t)(off + jrx_bset_bytes(b));
		off = jrx_bset_next_offset(off + jrx_bset_bytes(b));
		if (jrx_blacklisted(bl, b->journal_seq))
			continue;
		k = (const void *)(b + 1);
		end = (const void *)((const uint64_t *)(b + 1) + b->u64s);
		/* room for every key of the bset (at least 5 u64s each) */
		ret = JRX_VEC_RESERVE(n->keys, n->nr, n->cap,
				      b->u64s / JRX_BKEY_U64S,
				      "btree node's keys");
		if (ret)
			goto err;
		for (; k < end; k = jrx_bkey_next(k)) {
			const char *kwhy;

			if (jrx_bkey_validate(k, (size_t)((const char *)end -
							  (const char *)k),
					      n->btree_id, n->level, &kwhy)) {
				*why = kwhy;
				ret = -JRX_ERR_NODE_INVALID;
				goto err;
			}
			if (prev && jrx_bpos_cmp(prev->p, k->p) >= 0)
				BAD("keys out of order within a bset");
			if (jrx_bpos_cmp(k->p, n->min) < 0 ||
			    jrx_bpos_cmp(k->p, n->max) > 0)
				BAD("key outside the node's [min, max]");
			prev = k;
			/* past the last key (the first bset, the common
			 * case): appended as sorted_put() would, in place */
			if (k->type != JRX_KEY_WHITEOUT && n->nr < n->cap &&
			    (!n->nr ||
			     jrx_bpos_cmp(n->keys[n->nr - 1]->p, k->p) < 0)) {
				n->keys[n->nr++] = (struct jrx_bkey *)k;
				n->live_u64s += k->u64s;
				continue;
			}
			ret = sorted_put(n, false, k, false);
			if (ret)
				goto err;
		}
	}
	return 0;
err:
	jrx_bnode_reset(n);
	return ret;
}

bool jrx_bnode_append_fits(const struct jrx_bnode *n, size_t node_size)
{
	return jrx_bset_append_fits(jrx_bset_next_offset(n->written),
				    n->pend_u64s * 8, node_size);
}

/* Keys that lie end to end in memory (a run of one bset's keys, as most
 * of a merged leaf is) go in one copy rather than one call per key. */
static size_t put_keys(void *dst, struct jrx_bkey *const *v, size_t lo,
		       size_t hi)
{
	char *p = dst;

	for (size_t i = lo; i < hi;) {
		const char *src = (const char *)v[i];
		size_t len = jrx_bkey_bytes(v[i]);

		while (++i < hi && (const char *)v[i] == src + len)
			len += jrx_bkey_bytes(v[i]);
		memcpy(p, src, len);
		p += len;
	}
	return (size_t)(p - (char *)dst);
}

size_t jrx_node_encode_keys(const struct jrx_node_meta *m,
			    const struct jrx_bkey *const *keys, size_t nr,
			    void *buf, size_t node_size, uint64_t magic,
			    uint64_t journal_seq)
{
	struct jrx_btree_node *h = buf;
	struct jrx_bset *b = (void *)(h + 1);
	size_t bytes, end;

	memset(buf, 0, sizeof(*h) + sizeof(*b));
	h->version = JRX_FORMAT_VERSION;
	h->magic = magic;
	h->nonce = m->nonce;
	h->btree_id = m->btree_id;
	h->level = m->level;
	h->min_key = m->min;
	h->max_key = m->max;
	jrx_node_set_csum(h);
	b->block = 0;
	b->nonce = m->nonce;
	b->journal_seq = journal_seq;
	bytes = put_keys(b + 1, (struct jrx_bkey *const *)keys, 0, nr);
	b->u64s = (uint32_t)(bytes / 8);
	jrx_bset_set_csum(b);
	bytes += sizeof(*h) + sizeof(*b);
	assert(bytes <= node_size);
	/* up to the block the write ends on: nothing past it is written,
	 * and an adopted image's keys end at bytes (blob_len) */
	end = jrx_bset_next_offset(bytes);
	assert(end <= node_size);
	(void)node_size;	/* the asserts' only */
	memset((char *)buf + bytes, 0, end - bytes);
	return end;
}

size_t jrx_bnode_encode(const struct jrx_bnode *n, size_t lo, size_t hi,
			void *buf, size_t node_size, uint64_t magic,
			uint64_t journal_seq)
{
	struct jrx_node_meta m = {
		.nonce = n->nonce, .btree_id = n->btree_id, .level = n->level,
		.min = n->min, .max = n->max,
	};

	const struct jrx_bkey *const *keys = (const struct jrx_bkey *const *)n->keys;

	/* a node that never held a key has no keys[]: NULL + 0 is undefined */
	return jrx_node_encode_keys(&m, hi > lo ? keys + lo : keys, hi - lo,
				    buf, node_size, magic, journal_seq);
}

int jrx_bnode_adopt_image(struct jrx_bnode *n, void *img, size_t bytes)
{
	const struct jrx_btree_node *h = img;
	const struct jrx_bset *b = (const void *)(h + 1);
	const struct jrx_bkey *k = (const void *)(b + 1);
	const struct jrx_bkey *end = (const void *)((const uint64_t *)(b + 1) +
						    b->u64s);
	size_t nr = 0;
	int ret;

	jrx_bnode_reset(n);
	for (const struct jrx_bkey *c = k; c < end; c = jrx_bkey_next(c))
		nr++;
	ret = JRX_VEC_RESERVE(n->keys, n->nr, n->cap, nr, "btree node's keys");
	if (ret)
		return ret;
	n->blob = img;
	n->blob_len = bytes;
	n->nonce = h->nonce;
	n->btree_id = h->btree_id;
	n->level = h->level;
	n->min = h->min_key;
	n->max = h->max_key;
	for (; k < end; k = jrx_bkey_next(k)) {
		n->keys[n->nr++] = (struct jrx_bkey *)k;
		n->live_u64s += k->u64s;
	}
	n->written = (uint32_t)bytes;
	n->bsets = 1;
	return 0;
}

size_t jrx_bset_encode_keys(void *buf, uint64_t nonce, size_t off,
			    const struct jrx_bkey *const *keys, size_t nr,
			    uint64_t journal_seq)
{
	struct jrx_bset *b = buf;
	size_t bytes;

	memset(b, 0, sizeof(*b));
	b->block = (uint32_t)(off / JRX_BLOCK_SIZE);
	b->nonce = nonce;
	b->journal_seq = journal_seq;
	bytes = put_keys(b + 1, (struct jrx_bkey *const *)keys, 0, nr);
	b->u64s = (uint32_t)(bytes / 8);
	jrx_bset_set_csum(b);
	bytes += sizeof(*b);
	memset((char *)buf + bytes, 0, jrx_bset_next_offset(bytes) - bytes);
	return jrx_bset_next_offset(bytes);
}

size_t jrx_bnode_encode_append(const struct jrx_bnode *n, void *buf,
			       uint64_t journal_seq, size_t *off)
{
	*off = jrx_bset_next_offset(n->written);
	return jrx_bset_encode_keys(buf, n->nonce, *off,
				    (const struct jrx_bkey *const *)n->pend,
				    n->pnr, journal_seq);
}

void jrx_bnode_written(struct jrx_bnode *n, uint32_t written)
{
	free_keys(n, n->pend, n->pnr);
	n->pnr = 0;
	n->pend_u64s = 0;
	n->dirty_seq = 0;
	n->written = written;
	n->bsets++;
}

int jrx_bnode_move_tail(struct jrx_bnode *a, struct jrx_bnode *b, size_t from)
{
	size_t cnt = a->nr - from;
	int ret;

	ret = JRX_VEC_RESERVE(b->keys, b->nr, b->cap, cnt, "btree node's keys");
	if (ret)
		return ret;
	/* b does not share a's blob: it gets copies of the keys inside it */
	for (size_t i = 0; i < cnt; i++) {
		struct jrx_bkey *k = a->keys[from + i];

		if (!in_blob(a, k)) {
			b->keys[i] = k;
			continue;
		}
		ret = dup_key(k, &b->keys[i]);
		if (ret) {
			while (i--)
				if (in_blob(a, a->keys[from + i]))
					free(b->keys[i]);
			return ret;
		}
	}
	b->nr = cnt;
	b->live_u64s = 0;
	for (size_t i = 0; i < cnt; i++)
		b->live_u64s += b->keys[i]->u64s;
	a->nr = from;
	a->live_u64s -= b->live_u64s;
	return 0;
}
