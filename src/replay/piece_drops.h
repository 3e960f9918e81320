/*
 * piece_drops.h - written pieces waiting for their queued writes.  A
 * piece the replay keeps only as a pointer gives back its keys and image
 * once its write has landed: at once when it was written synchronously,
 * else at the write queue's next drain, which comes at the latest when
 * batch pieces wait (JRX_DROPS_BATCH unless the owner sets fewer: a
 * memory limit's share of node images), so memory stays bounded.  Shared by a
 * window's workers (replay_par.c) and a streamed leaf's parts
 * (replay_stream.c).  Owner: the thread that owns the queue.
 */
#ifndef JRX_PIECE_DROPS_H
#define JRX_PIECE_DROPS_H

#include <stddef.h>
#include "../btree/bnode.h"
#include "../io/wq.h"

#define JRX_DROPS_BATCH	64

struct jrx_drops {
	struct jrx_bnode **v;
	size_t	 n, cap;
	size_t	 batch;		/* drain when this many wait; 0: the default */
};

/* Drop what piece n holds in memory but its place, range and written
 * length (what its pointer says). */
void jrx_piece_drop_keys(struct jrx_bnode *n);
/* n was written through q (NULL: written already): drop it now, or once
 * q has drained.  q's first error, or 0. */
int  jrx_drops_add(struct jrx_drops *d, struct jrx_wq *q, struct jrx_bnode *n);
/* Drain q (NULL: nothing in flight), then drop every piece waiting; q's
 * first error, or 0. */
int  jrx_drops_drain(struct jrx_drops *d, struct jrx_wq *q);
void jrx_drops_free(struct jrx_drops *d);

#endif
