/*
 * blob.c - node image memory (blob.h): mimalloc, aligned, per-thread heap.
 */
#include <mimalloc.h>
#include "blob.h"
#include "../format/format.h"

static _Thread_local mi_heap_t *blob_heap;

void *jrx_blob_alloc(size_t len)
{
	if (!len)
		len = JRX_BLOCK_SIZE;
	return blob_heap ? mi_heap_malloc_aligned(blob_heap, len, JRX_BLOCK_SIZE) :
		mi_malloc_aligned(len, JRX_BLOCK_SIZE);
}

void jrx_blob_free(void *p)
{
	mi_free(p);
}

void jrx_blob_use_heap(void *heap)
{
	blob_heap = heap;
}
