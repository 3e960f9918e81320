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

/*
 * The bytes of blobs allocated and not yet freed, process-wide, and the
 * most there were at once since jrx_blob_peak_reset() (a recovery's
 * report: how many node images it held at once).
 */
size_t jrx_blob_live_bytes(void);
size_t jrx_blob_peak_bytes(void);
void   jrx_blob_peak_reset(void);

#endif
