/*
 * spill_int.h - what spill.c and spill_merge.c share besides spill.h.
 */
#ifndef JRX_SPILL_INT_H
#define JRX_SPILL_INT_H

#include "spill.h"

#define JRX_SPILL_ALIGN		4096u
#define JRX_SPILL_MIN_BUF	(64u << 10)
#define JRX_SPILL_MAX_REC	JRX_SPILL_MAX_REC_BYTES

int  jrx_spill_pwrite(struct jrx_spill *sp, const void *buf, size_t len,
		      uint64_t off);

#endif
