/*
 * bigmem.c - the check's big arrays (bigmem.h): mmap, madvise
 * (MADV_HUGEPAGE), mremap, in 2 MiB steps.
 */
#include <errno.h>
#include <stdint.h>
#include <sys/mman.h>
#include "bigmem.h"
#include "../util/checked.h"
#include "../util/diag.h"

#define BIG_ALIGN ((size_t)2 << 20)

static size_t big_len(size_t bytes)
{
	return bytes ? (bytes + BIG_ALIGN - 1) & ~(BIG_ALIGN - 1) : BIG_ALIGN;
}

static void advise(void *p, size_t len)
{
#ifdef MADV_HUGEPAGE
	(void)madvise(p, len, MADV_HUGEPAGE);
#else
	(void)p;
	(void)len;
#endif
}

void *fsck_big_alloc(size_t bytes)
{
	void *p;

	if (bytes > SIZE_MAX - BIG_ALIGN)
		return NULL;
	p = mmap(NULL, big_len(bytes), PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	advise(p, big_len(bytes));
	return p;
}

void *fsck_big_grow(void *p, size_t old, size_t bytes)
{
	void *q;

	if (!p)
		return fsck_big_alloc(bytes);
	if (bytes > SIZE_MAX - BIG_ALIGN)
		return NULL;
	if (big_len(bytes) <= big_len(old))
		return p;
	q = mremap(p, big_len(old), big_len(bytes), MREMAP_MAYMOVE);
	if (q == MAP_FAILED)
		return NULL;
	advise(q, big_len(bytes));
	return q;
}

void fsck_big_free(void *p, size_t bytes)
{
	if (p)
		munmap(p, big_len(bytes));
}

int fsck_big_reserve(void **p, size_t *cap, size_t nr, size_t elem,
		     size_t min, const char *what)
{
	size_t ncap, bytes, old;
	void *q;

	if (nr < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : min;
	if (!jrx_mul_size(ncap, elem, &bytes) || !jrx_mul_size(*cap, elem, &old))
		return jrx_fail(-ENOMEM, "%s: more than %zu", what, *cap);
	q = fsck_big_grow(*p, old, bytes);
	if (!q)
		return jrx_fail(-ENOMEM, "growing the %s to %zu", what, ncap);
	*p = q;
	*cap = ncap;
	return 0;
}
