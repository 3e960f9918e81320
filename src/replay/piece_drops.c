/*
 * piece_drops.c - written pieces waiting for their queued writes
 * (piece_drops.h).
 */
#include <stdlib.h>
#include "piece_drops.h"

void jrx_piece_drop_keys(struct jrx_bnode *n)
{
	uint32_t written = n->written;

	jrx_bnode_reset(n);		/* keeps dev, sector, nonce, range */
	n->written = written;
	free(n->keys);
	n->keys = NULL;
	n->cap = 0;
}

int jrx_drops_drain(struct jrx_drops *d, struct jrx_wq *q)
{
	int ret = q ? jrx_wq_drain(q) : 0;

	for (size_t i = 0; i < d->n; i++)
		jrx_piece_drop_keys(d->v[i]);
	d->n = 0;
	return ret;
}

int jrx_drops_add(struct jrx_drops *d, struct jrx_wq *q, struct jrx_bnode *n)
{
	if (!q) {
		jrx_piece_drop_keys(n);
		return 0;
	}
	if (d->n == d->cap) {
		size_t nc = d->cap ? 2 * d->cap : JRX_DROPS_BATCH;
		void *p = realloc(d->v, nc * sizeof(*d->v));

		if (!p) {	/* no room to wait: wait now */
			int ret = jrx_drops_drain(d, q);

			jrx_piece_drop_keys(n);
			return ret;
		}
		d->v = p;
		d->cap = nc;
	}
	d->v[d->n++] = n;
	return d->n >= (d->batch ? d->batch : JRX_DROPS_BATCH) ?
		jrx_drops_drain(d, q) : 0;
}

void jrx_drops_free(struct jrx_drops *d)
{
	free(d->v);
	*d = (struct jrx_drops){ 0 };
}
