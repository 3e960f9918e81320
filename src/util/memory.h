/*
 * memory.h - what the machine and the process say about memory: the
 * kernel's estimate of what can be allocated without swapping or the OOM
 * killer (MemAvailable), and the process's resident set now.  Recovery's
 * memory limit (recovery/budget.c) is built on these.
 */
#ifndef JRX_MEMORY_H
#define JRX_MEMORY_H

#include <stdint.h>

/* MemAvailable of /proc/meminfo in bytes, 0 when it cannot be read. */
uint64_t jrx_mem_available(void);
/* Resident bytes of this process now (/proc/self/statm), 0 if unknown. */
uint64_t jrx_rss_now(void);

#endif
