/*
 * memory.c - MemAvailable, the current RSS, mimalloc's settings for a
 * recovery and the huge-page advice (memory.h).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <mimalloc.h>
#include "memory.h"

uint64_t jrx_mem_available(void)
{
	FILE *f = fopen("/proc/meminfo", "re");
	char line[128];
	uint64_t kb = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemAvailable: %" SCNu64 " kB", &kb) == 1)
			break;
	fclose(f);
	return kb * 1024;
}

uint64_t jrx_rss_now(void)
{
	FILE *f = fopen("/proc/self/statm", "re");
	uint64_t size, res = 0;
	long page = sysconf(_SC_PAGESIZE);

	if (!f)
		return 0;
	if (fscanf(f, "%" SCNu64 " %" SCNu64, &size, &res) != 2)
		res = 0;
	fclose(f);
	return res * (uint64_t)(page > 0 ? page : 4096);
}

void jrx_mem_large_pages(struct jrx_mem_pages *was)
{
	was->large = mi_option_get(mi_option_large_os_pages);
	was->eager_delay = mi_option_get(mi_option_eager_commit_delay);
	was->decommit_delay = mi_option_get(mi_option_decommit_delay);
	/* a thread's first segments are committed lazily, in 4 KiB pages,
	 * unless the delay is 0 */
	mi_option_set(mi_option_eager_commit_delay, 0);
	mi_option_set(mi_option_large_os_pages, 1);
}

static void pages_back(const struct jrx_mem_pages *was)
{
	mi_option_set(mi_option_large_os_pages, was->large);
	mi_option_set(mi_option_eager_commit_delay, was->eager_delay);
}

void jrx_mem_tight(const struct jrx_mem_pages *was)
{
	pages_back(was);
	mi_option_set(mi_option_decommit_delay, 1);
}

void jrx_mem_large_pages_end(const struct jrx_mem_pages *was)
{
	pages_back(was);
	mi_option_set(mi_option_decommit_delay, was->decommit_delay);
}

void jrx_mem_advise_huge(void *p, size_t bytes)
{
#ifdef MADV_HUGEPAGE
	const uintptr_t huge = (uintptr_t)2 << 20;
	uintptr_t a, e;

	if (!p || bytes < JRX_MEM_HUGE_MIN)
		return;
	a = ((uintptr_t)p + huge - 1) & ~(huge - 1);
	e = ((uintptr_t)p + bytes) & ~(huge - 1);
	if (e > a)
		(void)madvise((void *)a, e - a, MADV_HUGEPAGE);
#else
	(void)p;
	(void)bytes;
#endif
}
