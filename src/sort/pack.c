/*
 * pack.c - field ranges and the packed key layout (sort_int.h): merging
 * the first pass's per-thread ranges, choosing each field's bits, and
 * turning a caller's split point into a packed bound.
 */
#include <string.h>
#include "sort_int.h"

/* A field's stats are valid once its group has a key. */
void sort_acc_init(struct sort_acc *a)
{
	memset(a, 0, sizeof(*a));
	a->jmin = UINT64_MAX;
}

static void fstat_merge(struct sort_fstat *into, const struct sort_fstat *f,
			bool into_has)
{
	if (!into_has) {
		*into = *f;
		return;
	}
	into->min = f->min < into->min ? f->min : into->min;
	into->max = f->max > into->max ? f->max : into->max;
	into->vary |= f->vary | (f->ref ^ into->ref);
}

void sort_acc_merge(struct sort_acc *into, const struct sort_acc *from)
{
	for (unsigned g = 0; g < SORT_GROUPS; g++) {
		if (!from->g[g].keys)
			continue;
		for (unsigned f = 0; f < 3; f++)
			fstat_merge(&into->g[g].f[f], &from->g[g].f[f],
				    into->g[g].keys);
		into->g[g].keys += from->g[g].keys;
	}
	if (from->keys) {
		fstat_merge(&into->woff, &from->woff, into->keys);
		into->jmin = from->jmin < into->jmin ? from->jmin : into->jmin;
		into->jmax = from->jmax > into->jmax ? from->jmax : into->jmax;
		into->keys += from->keys;
	}
}

static unsigned bitlen(uint64_t v)
{
	return v ? 64 - (unsigned)__builtin_clzll(v) : 0;
}

/*
 * Subtract the minimum, drop the low bits that are the same in every
 * value (e.g. extent ends that are all multiples of 8 sectors), keep what
 * is left of the span.  Both keep the order of the values.
 */
static struct sort_field field_of(const struct sort_fstat *s)
{
	struct sort_field f = { .min = s->min };

	if (!s->vary)
		return f;
	f.shift = (uint8_t)__builtin_ctzll(s->vary);
	f.bits = (uint8_t)bitlen((s->max - s->min) >> f.shift);
	return f;
}

static void place(struct sort_field *f, unsigned pos)
{
	f->pos = (uint16_t)(f->bits ? pos : 0);
}

void sort_layout_build(struct sort_layout *L, const struct sort_acc *a)
{
	unsigned rank = 0;

	memset(L, 0, sizeof(*L));
	L->delta_rank = -1;
	L->keys = a->keys;
	/* journal order of the groups: level descending, then btree id */
	for (int level = JRX_BTREE_MAX_DEPTH - 1; level >= 0; level--)
		for (unsigned b = 0; b < 8; b++) {
			unsigned gi = sort_gidx((unsigned)level, b);
			struct sort_group *g = &L->g[gi];
			unsigned w = 0;

			if (!a->g[gi].keys)
				continue;
			g->keys = a->g[gi].keys;
			g->level = (uint8_t)level;
			g->btree_id = (uint8_t)b;
			g->rank = rank;
			L->by_rank[rank] = (uint8_t)gi;
			if (!level && b == JRX_BTREE_ACCOUNTING)
				L->delta_rank = (int)rank;
			rank++;
			for (unsigned f = 0; f < 3; f++) {
				g->f[f] = field_of(&a->g[gi].f[f]);
				w += g->f[f].bits;
			}
			if (w > L->pos_bits)
				L->pos_bits = w;
		}
	L->nr_groups = rank;
	L->group_bits = rank > 1 ? bitlen(rank - 1) : 0;

	if (a->keys) {
		L->woff = field_of(&a->woff);
		L->jset.min = a->jmin;
		L->jset.bits = (uint8_t)bitlen(a->jmax - a->jmin);
		L->nr_jsets = a->jmax - a->jmin + 1;
	}
	place(&L->woff, 0);
	place(&L->jset, L->woff.bits);
	L->tie_bits = L->woff.bits + L->jset.bits;
	L->group_pos = L->group_bits ? L->tie_bits + L->pos_bits : 0;
	L->bits = L->tie_bits + L->pos_bits + L->group_bits;
	/* one spare top bit: all-ones stays above every key (sentinel) */
	L->words = L->bits / 64 + 1;

	for (unsigned r = 0; r < L->nr_groups; r++) {
		struct sort_group *g = &L->g[L->by_rank[r]];
		/* left-aligned: every group's top position bit is the same */
		unsigned pos = L->tie_bits + L->pos_bits;

		for (unsigned f = 0; f < 3; f++) {
			pos -= g->f[f].bits;
			place(&g->f[f], pos);
		}
		if (L->group_bits)
			key_put(g->tmpl, r, L->group_pos, L->words);
	}
	for (unsigned w = 0; w < L->words; w++) {
		unsigned lo = w * 64;

		if (L->tie_bits <= lo)
			L->slot_mask[w] = UINT64_MAX;
		else if (L->tie_bits < lo + 64)
			L->slot_mask[w] = UINT64_MAX << (L->tie_bits - lo);
	}
}

int sort_split_cmp(const struct jrx_sort_split *a, const struct jrx_sort_split *b)
{
	if (a->level != b->level)
		return a->level > b->level ? -1 : 1;
	if (a->btree_id != b->btree_id)
		return a->btree_id < b->btree_id ? -1 : 1;
	if (a->pos.inode != b->pos.inode)
		return a->pos.inode < b->pos.inode ? -1 : 1;
	if (a->pos.offset != b->pos.offset)
		return a->pos.offset < b->pos.offset ? -1 : 1;
	if (a->pos.snapshot != b->pos.snapshot)
		return a->pos.snapshot < b->pos.snapshot ? -1 : 1;
	return 0;
}

static void key_ones(uint64_t *key, unsigned W)
{
	for (unsigned w = 0; w < W; w++)
		key[w] = UINT64_MAX;
}

/*
 * Smallest packable position >= (inode, offset, snapshot): per field the
 * packable values are min + j << shift, j < 2^bits.  Returns false when
 * every packable position is below.
 */
static bool pos_ceil(const struct sort_group *g, const uint64_t v[3],
		     uint64_t idx[3])
{
	int f;

	for (f = 0; f < 3; f++) {
		const struct sort_field *fd = &g->f[f];
		uint64_t jmax = fd->bits ? UINT64_MAX >> (64 - fd->bits) : 0;
		uint64_t d, j;

		if (v[f] < fd->min)
			goto rest_min;
		d = v[f] - fd->min;
		j = d >> fd->shift;
		if (j > jmax)
			goto carry;		/* above this field's range */
		idx[f] = j;
		if (d & ((1ull << fd->shift) - 1)) {
			f++;			/* between two packable values */
			goto carry;
		}
	}
	return true;			/* exactly packable */
carry:
	/* bump the field above the one that overflowed, zero the rest */
	while (f-- > 0) {
		uint64_t jmax = g->f[f].bits ? UINT64_MAX >> (64 - g->f[f].bits) : 0;

		if (idx[f] < jmax) {
			idx[f]++;
			f++;
			goto rest_min;
		}
	}
	return false;
rest_min:
	for (; f < 3; f++)
		idx[f] = 0;
	return true;
}

/* Journal order of two (level, btree id) groups. */
static int group_cmp(unsigned la, unsigned ba, unsigned lb, unsigned bb)
{
	if (la != lb)
		return la > lb ? -1 : 1;
	return ba < bb ? -1 : ba > bb;
}

void sort_pack_split(const struct sort_layout *L, const struct jrx_sort_split *s,
		     uint64_t *key)
{
	const unsigned W = L->words;
	const uint64_t v[3] = { s->pos.inode, s->pos.offset, s->pos.snapshot };
	uint64_t idx[3] = { 0, 0, 0 };

	memset(key, 0, W * sizeof(*key));
	for (unsigned r = 0; r < L->nr_groups; r++) {
		const struct sort_group *g = &L->g[L->by_rank[r]];
		int c = group_cmp(g->level, g->btree_id, s->level, s->btree_id);

		if (c < 0)
			continue;		/* every key of g is before s */
		if (c == 0 && !pos_ceil(g, v, idx))
			continue;		/* likewise */
		/* c > 0: the first key of g; else the first position >= s */
		key_cp(key, g->tmpl, W);
		for (unsigned f = 0; f < 3; f++)
			if (g->f[f].bits)
				key_put(key, c ? 0 : idx[f], g->f[f].pos, W);
		return;
	}
	key_ones(key, W);
}
