/*
 * budget.c - the memory limit shared between a recovery's stages
 * (budget.h).
 */
#include <inttypes.h>
#include <string.h>
#include "budget.h"
#include "jrx/errors.h"
#include "../util/diag.h"
#include "../util/memory.h"

#define MARGIN		(10ull << 20)	/* stacks, libraries' own, caches, rounding */
#define READER_MIN	(64u << 10)
#define READER_MAX	(1u << 20)
#define READER_CARRY	(8u << 10)	/* spill_merge.c's carry area */

int jrx_budget_plan(struct jrx_budget *b, uint64_t limit, uint64_t bucket_size)
{
	uint64_t need;

	memset(b, 0, sizeof(*b));
	if (!limit) {
		limit = jrx_mem_available() / 100 * JRX_BUDGET_DEFAULT_PCT;
		b->from_default = true;
		if (!limit)
			limit = 1ull << 30;	/* no /proc: a modest guess */
	}
	b->limit = limit;
	b->base = jrx_rss_now();
	need = b->base + MARGIN + JRX_BUDGET_MIN_AVAIL;
	/* a batch is at least one bucket, 0.4 A */
	if (need < b->base + MARGIN + bucket_size * 5 / 2)
		need = b->base + MARGIN + bucket_size * 5 / 2;
	if (limit < need)
		return jrx_fail(-JRX_ERR_BAD_OPTION, "memory limit %" PRIu64
				" bytes (%" PRIu64 " MiB) is too small: this"
				" recovery needs at least %" PRIu64 " MiB (%" PRIu64
				" MiB in use when it began, and %" PRIu64 " MiB for"
				" the smallest batches)", limit, limit >> 20,
				(need + (1 << 20) - 1) >> 20,
				(b->base + (1 << 20) - 1) >> 20,
				(need - b->base + (1 << 20) - 1) >> 20);
	b->avail = limit - b->base - MARGIN;
	b->journal_in_memory = b->avail * 5 / 8;
	b->batch_bytes = (size_t)(b->avail * 9 / 20);
	b->readers_bytes = (size_t)(b->avail / 5);
	b->window_bytes = (size_t)(b->avail / 5);
	return 0;
}

size_t jrx_budget_sort_chunk(const struct jrx_budget *b,
			     uint64_t journal_bytes, uint64_t keys)
{
	uint64_t room = b->avail - b->avail / 3;

	if (keys > room / 32 || journal_bytes > room - keys * 32)
		return 0;
	return SIZE_MAX;
}

size_t jrx_budget_reader(const struct jrx_budget *b, size_t nr_runs,
			 unsigned merges, size_t *max_runs)
{
	/* a reader has two buffers: one merged, one read into (read-ahead);
	 * up to `merges` merges of every run are open at once */
	size_t share = b->readers_bytes / (merges ? merges : 1) / 2;
	size_t per = nr_runs ? share / nr_runs : READER_MAX;

	*max_runs = share / (READER_MIN + READER_CARRY);
	if (*max_runs < 2)
		*max_runs = 2;
	if (per > READER_CARRY)
		per -= READER_CARRY;
	if (per < READER_MIN)
		per = READER_MIN;
	if (per > READER_MAX)
		per = READER_MAX;
	return per;
}

unsigned jrx_budget_images(const struct jrx_budget *b, uint32_t node_size,
			   unsigned threads)
{
	uint64_t n = b->avail / 6 / (threads ? threads : 1) /
		     (node_size ? node_size : 1);

	return n < 2 ? 2 : n > UINT32_MAX ? UINT32_MAX : (unsigned)n;
}

size_t jrx_budget_window(const struct jrx_budget *b, uint64_t held)
{
	/* the window's records and their key list (~1.25x), beside the run
	 * readers, what the recovery holds already, and a third of A for the
	 * replay's own (nodes in flight, parents, the allocator) */
	uint64_t used = b->readers_bytes + held * 5 / 4 + b->avail / 3;
	uint64_t w = used < b->avail ? (b->avail - used) * 4 / 5 : 0;

	if (w > b->window_bytes)
		w = b->window_bytes;
	return w < (1u << 20) ? 1u << 20 : (size_t)w;
}
