/*
 * memory.h - what the machine and the process say about memory: the
 * kernel's estimate of what can be allocated without swapping or the OOM
 * killer (MemAvailable), and the process's resident set now, and how soon
 * the allocator gives freed memory back, and the advice that big blocks
 * take huge pages.  Recovery's memory limit
 * (recovery/budget.c) is built on these.
 */
#ifndef JRX_MEMORY_H
#define JRX_MEMORY_H

#include <stddef.h>
#include <stdint.h>

/* MemAvailable of /proc/meminfo in bytes, 0 when it cannot be read. */
uint64_t jrx_mem_available(void);
/* Resident bytes of this process now (/proc/self/statm), 0 if unknown. */
uint64_t jrx_rss_now(void);

/*
 * mimalloc's settings (process-wide) for a recovery; only the replay
 * workers' node images come from mimalloc (btree/blob.h), malloc is
 * libc's.  A recovery saves them and starts roomy, goes tight if its
 * journal spills, and puts them back at its end:
 *
 * jrx_mem_large_pages: node images in transparent huge pages from here
 *   on: mimalloc's OS memory is advised to them and committed when it is
 *   mapped, and never decommitted until it is unmapped.  A worker's first
 *   images then fault a few 2 MiB pages, not thousands of 4 KiB ones;
 *   the images keep their peak resident, which the images budget already
 *   bounds.  Only segments mapped after the call take huge pages: a
 *   recovery calls it at its start, before anything comes from mimalloc.
 *   *was receives the settings it replaces.
 * jrx_mem_tight: the page settings of *was again, and freed memory back
 *   to the kernel within 1 ms (mimalloc's decommit delay; 25 ms by
 *   default).
 * jrx_mem_large_pages_end: every setting of *was again.
 */
struct jrx_mem_pages {
	long	large, eager_delay, decommit_delay;	/* mimalloc's options */
};
void jrx_mem_large_pages(struct jrx_mem_pages *was);
void jrx_mem_tight(const struct jrx_mem_pages *was);
void jrx_mem_large_pages_end(const struct jrx_mem_pages *was);

/*
 * Advise the 2 MiB-aligned interior of a block of at least
 * JRX_MEM_HUGE_MIN bytes (any allocator's) to transparent huge pages; a
 * smaller block is left alone.  Only advice: the block stays its
 * allocator's.  Its first touch then faults a few 2 MiB pages instead of
 * hundreds of 4 KiB ones, which matters where a fault is dear (about
 * 10 us per 4 KiB page on the benchmark's VM, docs/bench/history.md).
 */
#define JRX_MEM_HUGE_MIN	((size_t)8 << 20)
void jrx_mem_advise_huge(void *p, size_t bytes);

#endif
