/*
 * jkey.h - one journal key as the stages after the journal read pass it
 * around: plain data, 16 bytes, pointing into a verified jset that stays
 * resident.  The sort stage produces arrays of these in journal order
 * (level descending, btree id, position, seq, offset in the jset),
 * deduplicated; replay consumes them.  Neither needs the other's internals.
 */
#ifndef JRX_JKEY_H
#define JRX_JKEY_H

#include <stdint.h>
#include "../format/format.h"

struct jrx_jkey {
	const struct jrx_bkey *k;	/* the key, inside its jset */
	uint32_t jset;			/* index of that jset in the journal
					 * index (jindex.h: ix->v[jset]) */
	uint8_t  btree_id;
	uint8_t  level;
	uint16_t pad;			/* zero */
};
_Static_assert(sizeof(struct jrx_jkey) == 16, "jkey");

#endif
