/* accounting.c - accounting delta accumulator (see accounting.h). */
#include <stdlib.h>
#include <string.h>
#include "accounting.h"
#include "../util/vec.h"

int jrx_acct_add(struct jrx_acct *a, struct jrx_bpos p, int64_t d0, int64_t d1)
{
	size_t lo = 0, hi = a->nr;
	int ret;

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
	ret = JRX_VEC_RESERVE(a->v, a->nr, a->cap, 1, "accounting deltas");
	if (ret)
		return ret;
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
