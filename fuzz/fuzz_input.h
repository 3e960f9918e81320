/*
 * fuzz_input.h - what the libFuzzer targets of fuzz/ share: a cursor over
 * the fuzzer's input (control bytes first, then the bytes of the
 * structure under test), the fix-up flags every target reads from its
 * first byte, ASan poisoning helpers, and FZ_CHECK, the one way a
 * harness reports a broken invariant (abort: libFuzzer records a crash).
 * docs/FUZZING.md describes each target's input layout.
 */
#ifndef JRX_FUZZ_INPUT_H
#define JRX_FUZZ_INPUT_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Bits of every target's first input byte. */
#define FZ_FIX_CSUM	0x01u	/* recompute the checksums over the bytes */
#define FZ_FIX_MAGIC	0x02u	/* write the expected magic(s) */

struct fz_in {
	const uint8_t *p;
	size_t n;
};

/* The next byte, or 0 past the end. */
static inline uint8_t fz_u8(struct fz_in *in)
{
	if (!in->n)
		return 0;
	in->n--;
	return *in->p++;
}

/* Up to max bytes into dst (the rest of dst untouched); returns the count. */
static inline size_t fz_take(struct fz_in *in, void *dst, size_t max)
{
	size_t n = in->n < max ? in->n : max;

	if (n)
		memcpy(dst, in->p, n);
	in->p += n;
	in->n -= n;
	return n;
}

static inline uint16_t fz_u16(struct fz_in *in)
{
	uint16_t lo = fz_u8(in);

	return (uint16_t)(lo | (uint16_t)fz_u8(in) << 8);
}

static inline uint64_t fz_u64(struct fz_in *in)
{
	uint8_t b[8] = { 0 };
	uint64_t v;

	fz_take(in, b, sizeof(b));
	memcpy(&v, b, sizeof(v));
	return v;
}

static inline size_t fz_round_up(size_t v, size_t a)
{
	return (v + a - 1) / a * a;
}

#define FZ_CHECK(cond, msg) do {					\
	if (!(cond)) {							\
		fprintf(stderr, "fuzz invariant broken: %s (%s) at %s:%d\n", \
			(msg), #cond, __FILE__, __LINE__);		\
		abort();						\
	}								\
} while (0)

/*
 * Manual poisoning: bytes a parser must not read (past a node's written
 * part) are made unaddressable, so ASan reports a read of them even in
 * memory ASan's allocator does not own (mimalloc's node images).
 */
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FZ_ASAN 1
#endif
#endif
#ifdef FZ_ASAN
#include <sanitizer/allocator_interface.h>
#include <sanitizer/asan_interface.h>
#define FZ_POISON(p, n)		ASAN_POISON_MEMORY_REGION((p), (n))
#define FZ_UNPOISON(p, n)	ASAN_UNPOISON_MEMORY_REGION((p), (n))
/* Whether ASan's allocator handed p out (so it poisons p when freed). */
#define FZ_ASAN_OWNS(p)		__sanitizer_get_ownership(p)
#else
#define FZ_POISON(p, n)		((void)(p), (void)(n))
#define FZ_UNPOISON(p, n)	((void)(p), (void)(n))
#define FZ_ASAN_OWNS(p)		((void)(p), 1)
#endif

#endif
