/*
 * memory.h - what the machine and the process say about memory: the
 * kernel's estimate of what can be allocated without swapping or the OOM
 * killer (MemAvailable), and the process's resident set now, and how soon
 * the allocator gives freed memory back.  Recovery's memory limit
 * (recovery/budget.c) is built on these.
 */
#ifndef JRX_MEMORY_H
#define JRX_MEMORY_H

#include <stdint.h>

/* MemAvailable of /proc/meminfo in bytes, 0 when it cannot be read. */
uint64_t jrx_mem_available(void);
/* Resident bytes of this process now (/proc/self/statm), 0 if unknown. */
uint64_t jrx_rss_now(void);

/*
 * Freed memory goes back to the kernel within ms milliseconds (mimalloc's
 * decommit delay, process-wide; its default is 25 ms); returns the delay
 * it replaces, for the caller to put back.  Only the replay workers'
 * node images come from mimalloc (btree/blob.h); malloc is libc's.
 */
long jrx_mem_decommit_delay(long ms);

#endif
