/*
 * extract.c - the two passes over the jsets (sort_int.h): the first finds
 * the range of every field and counts the keys of each jset, the second
 * writes one packed key per journal key.  Both walk a slice of the index
 * in order, so the keys of a run come out in (seq, offset) order.
 *
 * Both are bound by walking the jset bytes, so the per-key work is kept
 * to a few register operations: accumulators live in locals (behind
 * pointers they could alias the key words, both uint64_t, and would be
 * stored and reloaded around every key); the word offsets of an entry's
 * keys increase, so their range is taken from its first and last key;
 * 1- and 2-word keys are assembled in one unsigned __int128.
 */
#include <stddef.h>
#include "sort_int.h"
#include "../format/jset.h"

struct facc {
	uint64_t min, max, ref, vary;
};

SORT_INLINE void facc_add(struct facc *f, uint64_t v)
{
	f->min = v < f->min ? v : f->min;
	f->max = v > f->max ? v : f->max;
	f->vary |= v ^ f->ref;
}

/*
 * One entry's keys (there is at least one) into its group's ranges;
 * returns the key count and the last key.
 */
static uint64_t scan_entry(const struct jrx_jset_entry *e, uint64_t *gkeys,
			   struct sort_fstat *gf, const struct jrx_bkey **last)
{
	const struct jrx_bkey *k = jrx_je_keys(e), *end = jrx_je_keys_end(e), *l = k;
	struct facc f[3];
	uint64_t c = 0;

	if (!*gkeys) {		/* the group's first key is its reference */
		gf[0] = (struct sort_fstat){ k->p.inode, k->p.inode, k->p.inode, 0 };
		gf[1] = (struct sort_fstat){ k->p.offset, k->p.offset, k->p.offset, 0 };
		gf[2] = (struct sort_fstat){ k->p.snapshot, k->p.snapshot,
					     k->p.snapshot, 0 };
	}
	for (unsigned i = 0; i < 3; i++)
		f[i] = (struct facc){ gf[i].min, gf[i].max, gf[i].ref, gf[i].vary };
	for (; k < end; k = jrx_bkey_next(k)) {
		facc_add(&f[0], k->p.inode);
		facc_add(&f[1], k->p.offset);
		facc_add(&f[2], k->p.snapshot);
		l = k;
		c++;
	}
	for (unsigned i = 0; i < 3; i++)
		gf[i] = (struct sort_fstat){ f[i].min, f[i].max, f[i].ref, f[i].vary };
	*gkeys += c;
	*last = l;
	return c;
}

/* Word offsets: no trailing bits are dropped (every bit may vary). */
static void woff_add(struct sort_acc *a, uint64_t first, uint64_t last)
{
	if (!a->keys) {
		a->woff = (struct sort_fstat){ first, last, first, UINT64_MAX };
		return;
	}
	a->woff.min = first < a->woff.min ? first : a->woff.min;
	a->woff.max = last > a->woff.max ? last : a->woff.max;
}

static uint64_t woff_of(const struct jrx_jset *js, const void *k)
{
	return (uint64_t)((const uint64_t *)k - (const uint64_t *)js);
}

uint64_t sort_scan_jset(const struct jrx_jset *js, struct sort_acc *a)
{
	const struct jrx_jset_entry *e;
	const struct jrx_bkey *first = NULL, *last = NULL;
	uint64_t n = 0;

	jrx_for_each_jset_entry(e, js) {
		unsigned gi;

		if (e->type != JRX_JE_BTREE_KEYS ||
		    jrx_je_keys(e) >= jrx_je_keys_end(e))
			continue;
		if (e->btree_id >= 8 || e->level >= JRX_BTREE_MAX_DEPTH) {
			a->err = -1;
			a->err_btree = e->btree_id;
			a->err_level = e->level;
			return UINT64_MAX;
		}
		gi = sort_gidx(e->level, e->btree_id);
		if (!first)
			first = jrx_je_keys(e);
		n += scan_entry(e, &a->g[gi].keys, a->g[gi].f, &last);
	}
	if (n) {
		/* entries follow each other: the keys span first .. last */
		woff_add(a, woff_of(js, first), woff_of(js, last));
		a->keys += n;
	}
	return n;
}

void sort_scan_jsets(const struct jrx_jindex *ix, size_t j0, size_t j1,
		     struct sort_acc *a, uint32_t *kc)
{
	for (size_t j = j0; j < j1; j++) {
		uint64_t n;

		kc[j] = 0;
		if (ix->v[j].blacklisted)
			continue;
		n = sort_scan_jset(ix->v[j].j, a);
		if (n == UINT64_MAX) {
			a->err_jset = j;
			return;
		}
		kc[j] = (uint32_t)n;
		if (!n)
			continue;
		a->jmin = j < a->jmin ? j : a->jmin;
		a->jmax = j > a->jmax ? j : a->jmax;
	}
}

SORT_INLINE uint64_t packed(const struct sort_field *f, uint64_t v)
{
	return (v - f->min) >> f->shift;
}

/* 1 and 2 words: the key is built in one unsigned __int128. */
SORT_INLINE unsigned __int128 at(uint64_t v, unsigned pos, const unsigned W)
{
	if (W == 1)
		return v << pos;		/* pos < 64 */
	return (unsigned __int128)v << pos;
}

SORT_INLINE size_t extract_narrow(const struct jrx_jindex *ix, size_t j0,
				  size_t j1, const struct sort_layout *L,
				  uint64_t *out, uint64_t *vary, const unsigned W)
{
	const struct sort_field wf = L->woff;
	unsigned __int128 ref = 0, var = 0;
	size_t n = 0;

	for (size_t j = j0; j < j1; j++) {
		const struct jrx_jset *js = ix->v[j].j;
		const struct jrx_jset_entry *e;
		unsigned __int128 tie;

		if (ix->v[j].blacklisted)
			continue;
		tie = at(j - L->jset.min, L->jset.pos, W);
		jrx_for_each_jset_entry(e, js) {
			const struct sort_group *g;
			const struct jrx_bkey *k;
			struct sort_field fi, fo, fs;
			unsigned __int128 base;

			if (e->type != JRX_JE_BTREE_KEYS)
				continue;
			g = &L->g[sort_gidx(e->level, e->btree_id)];
			fi = g->f[0];
			fo = g->f[1];
			fs = g->f[2];
			base = tie | g->tmpl[0];
			if (W == 2)
				base |= (unsigned __int128)g->tmpl[1] << 64;
			jrx_for_each_entry_key(k, e) {
				unsigned __int128 key = base |
					at(packed(&fi, k->p.inode), fi.pos, W) |
					at(packed(&fo, k->p.offset), fo.pos, W) |
					at(packed(&fs, k->p.snapshot), fs.pos, W) |
					packed(&wf, woff_of(js, k));

				if (!n)
					ref = key;
				var |= key ^ ref;
				out[n * W] = (uint64_t)key;
				if (W == 2)
					out[n * W + 1] = (uint64_t)(key >> 64);
				n++;
			}
		}
	}
	vary[0] = (uint64_t)var;
	if (W == 2)
		vary[1] = (uint64_t)(var >> 64);
	return n;
}

/* 3 and 4 words (very wide journals): the general bit writer. */
SORT_INLINE size_t extract_wide(const struct jrx_jindex *ix, size_t j0,
				size_t j1, const struct sort_layout *L,
				uint64_t *out, uint64_t *vary, const unsigned W)
{
	uint64_t ref[SORT_MAX_WORDS] = { 0 }, var[SORT_MAX_WORDS] = { 0 };
	size_t n = 0;

	for (size_t j = j0; j < j1; j++) {
		const struct jrx_jset *js = ix->v[j].j;
		const struct jrx_jset_entry *e;
		uint64_t tie[SORT_MAX_WORDS] = { 0 };

		if (ix->v[j].blacklisted)
			continue;
		key_put(tie, j - L->jset.min, L->jset.pos, W);
		jrx_for_each_jset_entry(e, js) {
			const struct sort_group *g;
			const struct jrx_bkey *k;

			if (e->type != JRX_JE_BTREE_KEYS)
				continue;
			g = &L->g[sort_gidx(e->level, e->btree_id)];
			jrx_for_each_entry_key(k, e) {
				uint64_t *key = out + n * W;

				for (unsigned w = 0; w < W; w++)
					key[w] = g->tmpl[w] | tie[w];
				key_put(key, packed(&g->f[0], k->p.inode), g->f[0].pos, W);
				key_put(key, packed(&g->f[1], k->p.offset), g->f[1].pos, W);
				key_put(key, packed(&g->f[2], k->p.snapshot), g->f[2].pos, W);
				key_put(key, packed(&L->woff, woff_of(js, k)), 0, W);
				if (!n)
					key_cp(ref, key, W);
				for (unsigned w = 0; w < W; w++)
					var[w] |= key[w] ^ ref[w];
				n++;
			}
		}
	}
	key_cp(vary, var, W);
	return n;
}

size_t sort_extract_jsets(const struct jrx_jindex *ix, size_t j0, size_t j1,
			  const struct sort_layout *L, uint64_t *out,
			  uint64_t *vary)
{
	switch (L->words) {
	case 1:	 return extract_narrow(ix, j0, j1, L, out, vary, 1);
	case 2:	 return extract_narrow(ix, j0, j1, L, out, vary, 2);
	case 3:	 return extract_wide(ix, j0, j1, L, out, vary, 3);
	default: return extract_wide(ix, j0, j1, L, out, vary, 4);
	}
}
