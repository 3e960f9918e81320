/*
 * blob.h - the memory of node images: a node read from disk or encoded
 * for writing is one aligned block (a blob), and the in-memory node's keys
 * point into it instead of being copied one by one.
 *
 * Blobs come from mimalloc.  A thread may name a heap of its own
 * (jrx_blob_use_heap): replay workers do, so the images they read and
 * write are allocated, and first touched, on their NUMA node.  Any thread
 * may free any blob.
 */
#ifndef JRX_BLOB_H
#define JRX_BLOB_H

#include <stddef.h>

/* len bytes aligned for O_DIRECT, from the calling thread's heap. */
void *jrx_blob_alloc(size_t len);
void  jrx_blob_free(void *p);

/*
 * Allocate the calling thread's blobs from heap (a mi_heap_t *), or from
 * the default heap again with NULL.  The heap must belong to the calling
 * thread (mimalloc's rule).
 */
void  jrx_blob_use_heap(void *heap);

#endif
