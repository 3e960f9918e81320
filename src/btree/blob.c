/*
 * blob.c - node image memory (blob.h): mimalloc, aligned, per-thread heap.
 *
 * Sanitizer builds (JRX_SANITIZED) take every blob from plain
 * posix_memalign instead, so that ASan sees each node image's bounds (an
 * overread inside mimalloc's pages would be invisible to it) and TSan
 * its lifetime; the heap a thread names is then ignored.
 */
#include <stdlib.h>
#include <mimalloc.h>
#include "blob.h"
#include "../format/format.h"

static _Thread_local mi_heap_t *blob_heap;

void *jrx_blob_alloc(size_t len)
{
	if (!len)
		len = JRX_BLOCK_SIZE;
#ifdef JRX_SANITIZED
	{
		void *p = NULL;

		return posix_memalign(&p, JRX_BLOCK_SIZE, len) ? NULL : p;
	}
#else
	return blob_heap ? mi_heap_malloc_aligned(blob_heap, len, JRX_BLOCK_SIZE) :
		mi_malloc_aligned(len, JRX_BLOCK_SIZE);
#endif
}

void jrx_blob_free(void *p)
{
#ifdef JRX_SANITIZED
	free(p);
#else
	mi_free(p);
#endif
}

void jrx_blob_use_heap(void *heap)
{
	blob_heap = heap;
}
