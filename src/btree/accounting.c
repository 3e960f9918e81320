/* accounting.c - accounting delta accumulator (see accounting.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "accounting.h"

int jrx_acct_add(struct jrx_acct *a, struct jrx_bpos p, int64_t d0, int64_t d1)
{
	size_t lo = 0, hi = a->nr;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (jrx_bpos_cmp(a->v[mid].p, p) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < a->nr && jrx_bpos_eq(a->v[lo].p, p)) {
		a->v[lo].d[0] += d0;
		a->v[lo].d[1] += d1;
		return 0;
	}
	if (a->nr == a->cap) {
		size_t ncap = a->cap ? a->cap * 2 : 16;
		void *n = realloc(a->v, ncap * sizeof(*a->v));

		if (!n)
			return -ENOMEM;
		a->v = n;
		a->cap = ncap;
	}
	memmove(&a->v[lo + 1], &a->v[lo], (a->nr - lo) * sizeof(*a->v));
	a->v[lo] = (struct jrx_acct_delta){ .p = p, .d = { d0, d1 } };
	a->nr++;
	return 0;
}

void jrx_acct_reset(struct jrx_acct *a)
{
	a->nr = 0;
}

void jrx_acct_free(struct jrx_acct *a)
{
	free(a->v);
	memset(a, 0, sizeof(*a));
}
