/*
 * memory.c - MemAvailable, the current RSS and the allocator's decommit
 * delay (memory.h).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
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

long jrx_mem_decommit_delay(long ms)
{
	long was = mi_option_get(mi_option_decommit_delay);

	mi_option_set(mi_option_decommit_delay, ms);
	return was;
}
