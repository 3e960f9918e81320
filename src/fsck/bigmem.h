/*
 * bigmem.h - the check's big arrays (bigmem.c): pass 4's ranges and
 * bucket tables, pass 6's inode table and index.  Anonymous mappings
 * with huge pages advised, zeroed like calloc, grown by mremap (never
 * copied): with 4 KiB pages their first touch (page faults, zeroing)
 * and the TLB misses of random lookups cost more than the checks
 * themselves, as sort.c found for its buffers.
 *
 * Owner: whoever allocated the array; nothing shared.
 */
#ifndef JRX_FSCK_BIGMEM_H
#define JRX_FSCK_BIGMEM_H

#include <stddef.h>

/* bytes of zeroes, or NULL (no memory). */
void *fsck_big_alloc(size_t bytes);
/* p (of old bytes) made new bytes long, its contents kept and the rest
 * zero; NULL (p unchanged) when there is no memory. */
void *fsck_big_grow(void *p, size_t old, size_t bytes);
void  fsck_big_free(void *p, size_t bytes);

/*
 * Room for nr + 1 elements of elem bytes in *p (*cap elements now):
 * doubled from at least min; 0 or -ENOMEM with jrx_diag() naming what.
 */
int fsck_big_reserve(void **p, size_t *cap, size_t nr, size_t elem,
		     size_t min, const char *what);

#endif
