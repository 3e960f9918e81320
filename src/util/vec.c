/* vec.c - growing the one growable array (see vec.h). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include "vec.h"
#include "diag.h"

int jrx_vec_reserve(void **p, size_t *cap, size_t nr, size_t more,
		    size_t elem, size_t min_cap, const char *what)
{
	size_t need, ncap = *cap ? *cap : (min_cap ? min_cap : 1), bytes;
	void *n;

	if (__builtin_add_overflow(nr, more, &need))
		return jrx_fail(-ENOMEM, "allocating the %s: %zu + %zu entries"
				" overflow", what, nr, more);
	if (need <= *cap)
		return 0;
	while (ncap < need)
		if (__builtin_mul_overflow(ncap, 2, &ncap))
			ncap = need;
	if (__builtin_mul_overflow(ncap, elem, &bytes))
		return jrx_fail(-ENOMEM, "allocating the %s: %zu entries of %zu"
				" bytes overflow", what, ncap, elem);
	n = realloc(*p, bytes);
	if (!n)
		return jrx_fail(-ENOMEM, "allocating the %s: %zu entries of %zu"
				" bytes", what, ncap, elem);
	*p = n;
	*cap = ncap;
	return 0;
}
