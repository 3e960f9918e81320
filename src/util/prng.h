/*
 * prng.h - the project's one pseudo-random generator: splitmix64 for
 * seeding and for streams that need only a few values (nonces, load
 * operations, tests), xoshiro256** for long streams (synth), and the two
 * ways of drawing below a bound that the generators use.  Every stream is a
 * pure function of its seed, so arrays made with the same seed are
 * byte-identical.
 */
#ifndef JRX_PRNG_H
#define JRX_PRNG_H

#include <stdint.h>

/* splitmix64: advances *state and returns the next value. */
static inline uint64_t jrx_splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* xoshiro256**: the next value of the four-word state v. */
static inline uint64_t jrx_xoshiro256ss(uint64_t v[4])
{
	uint64_t r = v[1] * 5, t = v[1] << 17;

	r = ((r << 7) | (r >> 57)) * 9;
	v[2] ^= v[0];
	v[3] ^= v[1];
	v[1] ^= v[2];
	v[0] ^= v[3];
	v[2] ^= t;
	v[3] = (v[3] << 45) | (v[3] >> 19);
	return r;
}

/* r mapped to [0, n) by modulo (n == 0 gives 0). */
static inline uint64_t jrx_rand_mod(uint64_t r, uint64_t n)
{
	return n ? r % n : 0;
}

/* r mapped to [0, n) by a 128-bit multiply (Lemire; no division). */
static inline uint64_t jrx_rand_scale(uint64_t r, uint64_t n)
{
	return (uint64_t)(((unsigned __int128)r * n) >> 64);
}

#endif
