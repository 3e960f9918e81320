/*
 * blob.c - node image memory (blob.h): mimalloc, aligned, per-thread heap.
 *
 * Sanitizer builds (JRX_SANITIZED) take every blob from plain
 * posix_memalign instead, so that ASan sees each node image's bounds (an
 * overread inside mimalloc's pages would be invisible to it) and TSan
 * its lifetime; the heap a thread names is then ignored.
 *
 * The live and peak byte counts are two process-wide atomics, counted in
 * the allocator's usable size of each blob.
 */
#include <malloc.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <mimalloc.h>
#include "blob.h"
#include "../format/format.h"

static _Thread_local mi_heap_t *blob_heap;
static _Atomic size_t live_bytes, peak_bytes;

static size_t usable(void *p)
{
#ifdef JRX_SANITIZED
	return malloc_usable_size(p);
#else
	return mi_usable_size(p);
#endif
}

static void *counted(void *p)
{
	size_t len, now, peak;

	if (!p)
		return NULL;
	len = usable(p);
	now = atomic_fetch_add_explicit(&live_bytes, len,
					memory_order_relaxed) + len;
	peak = atomic_load_explicit(&peak_bytes, memory_order_relaxed);
	while (now > peak &&
	       !atomic_compare_exchange_weak_explicit(&peak_bytes, &peak, now,
						     memory_order_relaxed,
						     memory_order_relaxed))
		;
	return p;
}

void *jrx_blob_alloc(size_t len)
{
	if (!len)
		len = JRX_BLOCK_SIZE;
#ifdef JRX_SANITIZED
	{
		void *p = NULL;

		return counted(posix_memalign(&p, JRX_BLOCK_SIZE, len) ? NULL : p);
	}
#else
	return counted(blob_heap ?
		       mi_heap_malloc_aligned(blob_heap, len, JRX_BLOCK_SIZE) :
		       mi_malloc_aligned(len, JRX_BLOCK_SIZE));
#endif
}

void jrx_blob_free(void *p)
{
	if (p)
		atomic_fetch_sub_explicit(&live_bytes, usable(p),
					  memory_order_relaxed);
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

size_t jrx_blob_live_bytes(void)
{
	return atomic_load_explicit(&live_bytes, memory_order_relaxed);
}

size_t jrx_blob_peak_bytes(void)
{
	return atomic_load_explicit(&peak_bytes, memory_order_relaxed);
}

void jrx_blob_peak_reset(void)
{
	atomic_store_explicit(&peak_bytes, jrx_blob_live_bytes(),
			      memory_order_relaxed);
}
