/*
 * vec.h - the one growable array: an element pointer, a count and a
 * capacity that the owner keeps in its own struct, grown by doubling.
 *
 *	struct thing *v; size_t nr, cap;
 *	if ((ret = JRX_VEC_RESERVE(v, nr, cap, 1, "fsck damage list")))
 *		return ret;
 *	v[nr++] = x;
 *
 * On failure the array is left as it was and the error (-ENOMEM, with
 * jrx_fail() context naming what) is returned; sizes cannot wrap.
 */
#ifndef JRX_VEC_H
#define JRX_VEC_H

#include <stddef.h>

/*
 * Make room for nr + more elements of elem bytes in *p (capacity *cap),
 * at least min_cap when it grows from empty.  what names the array in the
 * error.
 */
int jrx_vec_reserve(void **p, size_t *cap, size_t nr, size_t more,
		    size_t elem, size_t min_cap, const char *what);

#define JRX_VEC_RESERVE(ptr, nr, cap, more, what)			\
	((nr) + (more) <= (cap) && (nr) + (more) >= (nr) ? 0 :		\
	 jrx_vec_reserve((void **)&(ptr), &(cap), (nr), (more),		\
			 sizeof(*(ptr)), 16, (what)))

#endif
