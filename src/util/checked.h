/*
 * checked.h - arithmetic that cannot wrap, for sizes and offsets computed
 * from on-disk fields.
 *
 * A count read from disk times a size, or an offset plus a length, can
 * wrap around 64 bits and pass a bound it should fail (a member whose
 * nbuckets * bucket_size wraps to a small number "fits" any device).
 * Every such sum and product goes through these: each stores the exact
 * result and returns true, or returns false when the result does not fit
 * the type (*out is then unspecified and must not be used).
 *
 *	uint64_t bytes;
 *	if (!jrx_mul_u64(m->nbuckets, sb->bucket_size, &bytes) ||
 *	    bytes > dev_size)
 *		return jrx_fail(...);
 */
#ifndef JRX_CHECKED_H
#define JRX_CHECKED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

static inline bool jrx_add_u64(uint64_t a, uint64_t b, uint64_t *out)
{
	return !__builtin_add_overflow(a, b, out);
}

static inline bool jrx_mul_u64(uint64_t a, uint64_t b, uint64_t *out)
{
	return !__builtin_mul_overflow(a, b, out);
}

static inline bool jrx_add_size(size_t a, size_t b, size_t *out)
{
	return !__builtin_add_overflow(a, b, out);
}

static inline bool jrx_mul_size(size_t a, size_t b, size_t *out)
{
	return !__builtin_mul_overflow(a, b, out);
}

/* a * b + c, the shape of "header + count * size" and "base + i * size". */
static inline bool jrx_muladd_u64(uint64_t a, uint64_t b, uint64_t c,
				  uint64_t *out)
{
	return jrx_mul_u64(a, b, out) && jrx_add_u64(*out, c, out);
}

static inline bool jrx_muladd_size(size_t a, size_t b, size_t c, size_t *out)
{
	return jrx_mul_size(a, b, out) && jrx_add_size(*out, c, out);
}

#endif
