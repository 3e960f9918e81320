/*
 * accounting.h - an accumulator of accounting deltas keyed by position.
 *
 * The write path adds deltas as transactions change counters; when a jset
 * is closed the accumulated deltas become accounting keys (version = that
 * jset's seq) and are applied to the accounting btree.  Owner: the writer
 * thread.
 */
#ifndef JRX_ACCOUNTING_H
#define JRX_ACCOUNTING_H

#include <stddef.h>
#include <stdint.h>
#include "../format/bkey.h"

struct jrx_acct_delta {
	struct jrx_bpos p;
	int64_t d[2];
};

struct jrx_acct {
	struct jrx_acct_delta *v;	/* sorted by position */
	size_t nr, cap;
};

static inline struct jrx_bpos jrx_acct_dev_pos(uint32_t dev, unsigned data_type)
{
	return jrx_bpos(JRX_ACCT_DEV_DATA, (uint64_t)dev << 8 | data_type, 0);
}

static inline struct jrx_bpos jrx_acct_inodes_pos(void)
{
	return jrx_bpos(JRX_ACCT_INODES, 0, 0);
}

int  jrx_acct_add(struct jrx_acct *a, struct jrx_bpos p, int64_t d0, int64_t d1);
void jrx_acct_reset(struct jrx_acct *a);
void jrx_acct_free(struct jrx_acct *a);

#endif
