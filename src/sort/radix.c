/*
 * radix.c - sorting one run of packed keys (sort_int.h), on the thread
 * that extracted it.
 *
 * MSD (the default): the digit starts at the highest bit that varies in
 * the bucket, so constant bits (the unused top of narrow groups, fields
 * that do not vary) cost nothing, and hash-like positions (dirents,
 * xattrs: 63-bit name hashes) cost log(n) passes, not their width.  The
 * run's first digit is 11 bits: the scatter from DRAM into 2048 buckets
 * was the best trade against bucket size measured on a synth-like
 * journal (8 bits: 17 ms per 10 M keys, 11 bits: 37 ms, but buckets of
 * ~10 K keys that then sort in L2).  In cache the digit grows with the
 * bucket (about 4 keys per bucket, up to 13 bits), so most buckets are
 * leaves after one more pass; leaves of up to LEAF keys are
 * insertion-sorted.  A bucket's histogram is counted for the digit right
 * below its parent's while looking for its varying bits, and only counted
 * again when the bits just below the parent's digit turn out constant.
 * Counters are 32-bit (runs hold less than 2^32 keys): half the cache.
 *
 * LSD over the bytes that vary in the run is kept for comparison (the
 * micro-benchmarks measure both): with positions as wide as name hashes it
 * needs a dozen passes over the run where MSD needs two or three, and
 * measured 2.8x slower on the synth-like journal.  Software
 * write-combining for the first scatter did not pay off on the machine
 * measured (AMD Zen 5, 1 MiB L2 per core).
 *
 * The buffers ping-pong; every sub-sort knows which one its result must
 * end in, so nothing is copied back except leaves that land on the wrong
 * side (a few keys, in cache).
 */
#include <string.h>
#include "sort_int.h"

#define LEAF		16u
#define FIRST_DIGIT	11u	/* the run's first pass, from DRAM */
#define BIG_DIGIT	13u	/* at most, in cache */
#define SMALL_DIGIT	8u

static unsigned bitlen(uint64_t v)
{
	return v ? 64 - (unsigned)__builtin_clzll(v) : 0;
}

/* Highest set bit of a W-word value (which is not zero). */
SORT_INLINE unsigned top_bit(const uint64_t *v, unsigned W)
{
	for (unsigned w = W; w-- > 0;)
		if (v[w])
			return w * 64 + 63 - (unsigned)__builtin_clzll(v[w]);
	return 0;
}

SORT_INLINE bool is_zero(const uint64_t *v, unsigned W)
{
	uint64_t o = 0;

	for (unsigned w = 0; w < W; w++)
		o |= v[w];
	return !o;
}

SORT_INLINE void ins_sort(uint64_t *a, size_t n, const unsigned W)
{
	for (size_t i = 1; i < n; i++) {
		uint64_t x[SORT_MAX_WORDS];
		size_t j = i;

		key_cp(x, a + i * W, W);
		while (j && key_lt(x, a + (j - 1) * W, W)) {
			key_cp(a + j * W, a + (j - 1) * W, W);
			j--;
		}
		key_cp(a + j * W, x, W);
	}
}

/* Insertion sort of src into dst. */
SORT_INLINE void ins_copy(uint64_t *dst, const uint64_t *src, size_t n,
			  const unsigned W)
{
	for (size_t i = 0; i < n; i++) {
		size_t j = i;

		while (j && key_lt(src + i * W, dst + (j - 1) * W, W)) {
			key_cp(dst + j * W, dst + (j - 1) * W, W);
			j--;
		}
		key_cp(dst + j * W, src + i * W, W);
	}
}

/* Leaf: sort n keys at src, result in dst if to_tmp else in src. */
SORT_INLINE void leaf(uint64_t *src, uint64_t *dst, size_t n, bool to_tmp,
		      const unsigned W)
{
	if (to_tmp)
		ins_copy(dst, src, n, W);
	else
		ins_sort(src, n, W);
}

/* About 4 keys per bucket: the buckets are mostly leaves after one pass. */
#define BIG_N		(1u << 12)

static unsigned digit_bits(size_t n)
{
	unsigned b = bitlen(n) - 2;

	return b < 3 ? 3 : b > BIG_DIGIT ? BIG_DIGIT : b;
}

/* d bits at p: one or two words shifted, no per-key branches */
SORT_INLINE size_t digit(const uint64_t *k, unsigned p, uint64_t mask,
			 const unsigned W)
{
	if (W == 1)
		return (size_t)((k[0] >> p) & mask);
	if (W == 2)
		return (size_t)((uint64_t)(((unsigned __int128)k[1] << 64 | k[0]) >> p) &
				mask);
	return (size_t)key_get(k, p, 64, W) & mask;
}

SORT_INLINE void histogram(const uint64_t *k, size_t n, unsigned p, unsigned d,
			   uint32_t *cnt, const unsigned W)
{
	uint64_t mask = ((uint64_t)1 << d) - 1;

	memset(cnt, 0, ((size_t)1 << d) * sizeof(*cnt));
	for (size_t i = 0; i < n; i++)
		cnt[digit(k + i * W, p, mask, W)]++;
}

typedef void msd_fn(uint64_t *src, uint64_t *tmp, size_t n, bool to_tmp,
		    unsigned hi, const uint64_t *vary);

/*
 * Sort the n keys at src (n > LEAF), which agree on every bit >= hi.
 * The result goes to tmp if to_tmp, else stays in src.  vary: the bits
 * that differ, when the caller knows them.
 */
SORT_INLINE void msd_body(uint64_t *src, uint64_t *tmp, size_t n, bool to_tmp,
			  unsigned hi, const uint64_t *vary, const unsigned W,
			  const unsigned MAXD, msd_fn *self)
{
	unsigned d = vary ? FIRST_DIGIT : digit_bits(n), top, p;
	uint32_t cnt[1u << MAXD];
	size_t off;
	uint64_t diff[SORT_MAX_WORDS] = { 0 };
	bool counted = false;

	if (d > MAXD)
		d = MAXD;

	if (vary) {
		key_cp(diff, vary, W);
	} else {
		/* find the varying bits, counting the digit below hi on the way */
		unsigned p0 = hi > d ? hi - d : 0, d0 = hi - p0;
		uint64_t mask0 = ((uint64_t)1 << d0) - 1;

		memset(cnt, 0, ((size_t)1 << d0) * sizeof(*cnt));
		for (size_t i = 0; i < n; i++) {
			const uint64_t *k = src + i * W;

			for (unsigned w = 0; w < W; w++)
				diff[w] |= k[w] ^ src[w];
			cnt[digit(k, p0, mask0, W)]++;
		}
		if (is_zero(diff, W)) {		/* all equal */
			if (to_tmp)
				memcpy(tmp, src, n * W * sizeof(*src));
			return;
		}
		counted = top_bit(diff, W) == hi - 1;
		if (counted) {
			p = p0;
			d = d0;
		}
	}
	if (!counted) {
		top = top_bit(diff, W);
		p = top + 1 >= d ? top + 1 - d : 0;
		d = top + 1 - p;
		histogram(src, n, p, d, cnt, W);
	}
	/* scatter src -> tmp, cnt becomes the bucket ends */
	off = 0;
	for (size_t b = 0; b < ((size_t)1 << d); b++) {
		size_t c = cnt[b];

		cnt[b] = (uint32_t)off;
		off += c;
	}
	for (size_t i = 0; i < n; i++) {
		const uint64_t *k = src + i * W;

		key_cp(tmp + cnt[digit(k, p, ((uint64_t)1 << d) - 1, W)]++ * W, k, W);
	}
	/* each bucket: data in tmp now, result where ours must go */
	off = 0;
	for (size_t b = 0; b < ((size_t)1 << d); b++) {
		size_t c = cnt[b] - off;

		if (c > LEAF)
			self(tmp + off * W, src + off * W, c, !to_tmp, p, NULL);
		else if (c)
			leaf(tmp + off * W, src + off * W, c, !to_tmp, W);
		off = cnt[b];
	}
}

/*
 * Two frame sizes, so that deep recursion on small buckets (hash bits)
 * keeps small stack frames: 8192 counters only while n >= BIG_N.
 */
#define DEFINE_MSD(W)							\
static void msd_##W(uint64_t *src, uint64_t *tmp, size_t n, bool to_tmp,\
		    unsigned hi, const uint64_t *vary);			\
static void msd_big_##W(uint64_t *src, uint64_t *tmp, size_t n,	\
			bool to_tmp, unsigned hi, const uint64_t *vary)	\
{									\
	msd_body(src, tmp, n, to_tmp, hi, vary, W, BIG_DIGIT, msd_##W);\
}									\
static void msd_small_##W(uint64_t *src, uint64_t *tmp, size_t n,	\
			  bool to_tmp, unsigned hi, const uint64_t *vary)\
{									\
	msd_body(src, tmp, n, to_tmp, hi, vary, W, SMALL_DIGIT, msd_##W);\
}									\
static void msd_##W(uint64_t *src, uint64_t *tmp, size_t n, bool to_tmp,\
		    unsigned hi, const uint64_t *vary)			\
{									\
	if (n >= BIG_N)							\
		msd_big_##W(src, tmp, n, to_tmp, hi, vary);		\
	else								\
		msd_small_##W(src, tmp, n, to_tmp, hi, vary);		\
}
DEFINE_MSD(1)
DEFINE_MSD(2)
DEFINE_MSD(3)
DEFINE_MSD(4)

/* LSD over the bytes that vary; the result ends in keys. */
SORT_INLINE void lsd(uint64_t *keys, uint64_t *tmp, size_t n,
		     const uint64_t *vary, const unsigned W)
{
	static const unsigned NB = 8 * SORT_MAX_WORDS;
	size_t cnt[8 * SORT_MAX_WORDS][256];
	unsigned q[8 * SORT_MAX_WORDS], nq = 0;
	uint64_t *src = keys, *dst = tmp;

	for (unsigned b = 0; b < 8 * W && b < NB; b++)
		if ((vary[b / 8] >> (b % 8 * 8)) & 0xff)
			q[nq++] = b;
	if (!nq)
		return;
	memset(cnt, 0, sizeof(cnt[0]) * nq);
	for (size_t i = 0; i < n; i++)
		for (unsigned j = 0; j < nq; j++)
			cnt[j][key_get(keys + i * W, q[j] * 8, 8, W)]++;
	for (unsigned j = 0; j < nq; j++) {
		size_t off = 0;
		uint64_t *t;

		/* a byte with one value in the whole run moves nothing */
		if (cnt[j][key_get(keys, q[j] * 8, 8, W)] == n)
			continue;
		for (unsigned b = 0; b < 256; b++) {
			size_t c = cnt[j][b];

			cnt[j][b] = off;
			off += c;
		}
		for (size_t i = 0; i < n; i++) {
			const uint64_t *k = src + i * W;

			key_cp(dst + cnt[j][key_get(k, q[j] * 8, 8, W)]++ * W, k, W);
		}
		t = src;
		src = dst;
		dst = t;
	}
	if (src != keys)
		memcpy(keys, src, n * W * sizeof(*keys));
}

SORT_INLINE void radix_w(uint64_t *keys, uint64_t *tmp, size_t n,
			 const uint64_t *varying, enum sort_algo algo,
			 const unsigned W, msd_fn *msd)
{
	uint64_t vary[SORT_MAX_WORDS] = { 0 };

	if (n <= LEAF) {
		ins_sort(keys, n, W);
		return;
	}
	if (varying) {
		key_cp(vary, varying, W);
	} else {
		for (size_t i = 1; i < n; i++)
			for (unsigned w = 0; w < W; w++)
				vary[w] |= keys[i * W + w] ^ keys[w];
	}
	if (is_zero(vary, W))
		return;
	if (algo == SORT_LSD)
		lsd(keys, tmp, n, vary, W);
	else
		msd(keys, tmp, n, false, 64 * W, vary);
}

void sort_radix(uint64_t *keys, uint64_t *tmp, size_t n, unsigned W,
		const uint64_t *varying, enum sort_algo algo)
{
	switch (W) {
	case 1:	 radix_w(keys, tmp, n, varying, algo, 1, msd_1); break;
	case 2:	 radix_w(keys, tmp, n, varying, algo, 2, msd_2); break;
	case 3:	 radix_w(keys, tmp, n, varying, algo, 3, msd_3); break;
	default: radix_w(keys, tmp, n, varying, algo, 4, msd_4); break;
	}
}

void jrx_sort_u128(uint64_t *keys, uint64_t *tmp, size_t n)
{
	sort_radix(keys, tmp, n, 2, NULL, SORT_MSD);
}
