/*
 * cmp.h - qsort() and bsearch() comparators for plain values.
 */
#ifndef JRX_CMP_H
#define JRX_CMP_H

#include <stdint.h>

/* Two uint64_t, ascending. */
static inline int jrx_cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;

	return a < b ? -1 : a > b;
}

#endif
