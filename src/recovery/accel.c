/*
 * accel.c - the accelerated recovery (recover.h): the pipeline of
 * DESIGN.md section 4 wired together.  Each stage talks to the next
 * through plain data:
 *
 *   io + journal  read engine (io/engine.h) and parallel reader
 *                 (journal/jscan.h) -> struct jrx_journal_scan -> jindex;
 *   sort          jindex -> sorted, deduplicated struct jrx_jkey ranges
 *                 (sort/sort.h);
 *   replay        jkeys -> the store, in parallel by btree and key
 *                 range on pinned workers (replay/replay.h);
 *   commit        shared with the reference (recover.c).
 *
 * If the journal the bisect found does not hold together (a seq of the
 * replay range missing), everything is read again in a full scan before
 * an error is reported: a bisect must never make a recovery fail that a
 * full read would let succeed.  With allow_missing (recover.h) the same
 * holds for a gap: only a full read may replay past one.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "recover_int.h"
#include "jrx/errors.h"
#include "../util/diag.h"
#include "../util/memory.h"
#include "../btree/blob.h"
#include "../journal/jscan.h"
#include "../replay/replay.h"
#include "../sort/sort.h"
#include "budget.h"
#include "spilled.h"

static void note_io(struct jrx_report *r, const struct jrx_io_engine *io)
{
	struct jrx_io_info info;

	jrx_io_get_info(io, &info);
	r->io_backend = jrx_io_backend_name(info.backend);
	if (info.fallback)
		snprintf(r->io_fallback, sizeof(r->io_fallback), "%s",
			 info.fallback);
	r->io_threads = info.threads;
	r->io_depth = info.depth;
	r->io_direct = info.direct;
	r->io_fixed_buffers = info.fixed_buffers;
}

/*
 * Journal read and index, with the full-scan retry.  With sink, a journal
 * bigger than the budget's share goes to it batch by batch (spilled.h).
 */
static int read_journal(struct jrx_array *a, const struct jrx_recover_opts *o,
			unsigned threads, struct jrx_report *r,
			struct jrx_journal_scan *scan, struct jrx_jindex *ix,
			const struct jrx_jscan_sink *sink)
{
	struct jrx_io_opts io_opts = { .backend = o->io, .threads = threads };
	struct jrx_io_engine *io;
	uint64_t bytes = 0, buckets = 0, probes = 0;
	char why[sizeof(scan->why_full)];
	int ret;

	ret = jrx_io_open(&io, a, &io_opts);
	if (ret)
		return ret;
	ret = jrx_journal_read_sink(a, io, o->full_scan ? JRX_JSCAN_FULL : 0,
				    scan, sink);
	if (!ret)
		ret = jrx_recover_index(ix, a, scan, o, r);
	/* with allow_missing a gap is no error, but a bisect's gap may be
	 * jsets it did not read: only a full read may replay past one */
	if ((ret || ix->missing) && ret != -ENOMEM &&
	    scan->mode == JRX_SCAN_BISECT) {
		snprintf(why, sizeof(why), "the jsets the bisect found do not"
			 " form the replay range (%s)", ret ? jrx_diag() :
			 "seqs missing");
		bytes = scan->bytes_read;
		buckets = scan->buckets_read;
		probes = scan->probes;
		jrx_jindex_free(ix);
		jrx_journal_scan_free(scan);
		if (sink && sink->reset)
			sink->reset(sink->ctx);
		ret = jrx_journal_read_sink(a, io, JRX_JSCAN_FULL, scan, sink);
		if (!ret) {
			snprintf(scan->why_full, sizeof(scan->why_full), "%s", why);
			ret = jrx_recover_index(ix, a, scan, o, r);
		}
	}
	scan->bytes_read += bytes;
	scan->buckets_read += buckets;
	scan->probes += probes;
	r->bytes_read = scan->bytes_read;
	r->buckets_read = scan->buckets_read;
	note_io(r, io);
	jrx_io_close(io);
	return ret;
}

static void count_kinds(const struct jrx_sort_result *res, struct jrx_report *r)
{
	for (size_t i = 0; i < res->nr; i++) {
		if (res->v[i].level)
			r->keys_interior++;
		else if (res->v[i].btree_id == JRX_BTREE_ALLOC)
			r->keys_alloc++;
		else if (res->v[i].btree_id == JRX_BTREE_ACCOUNTING)
			r->keys_accounting++;
	}
}

/* The journal reader's parsed hook: a bucket's jsets into the prescan. */
static void prescan_bucket(void *ctx, const struct jrx_jset_info *v, size_t n)
{
	jrx_sort_prescan_add(ctx, v, n);
}

/* The replay's units done, as the recovery's progress. */
static void replay_progress(void *ctx, uint64_t done, uint64_t total)
{
	jrx_progress(ctx, JRX_PHASE_REPLAY, done, total);
}

/* The keys the sort will extract: the parse's counts, or for a jset it
 * did not count, one a word of the jset (more than it can hold). */
static uint64_t index_keys(const struct jrx_jindex *ix)
{
	uint64_t n = 0;

	for (size_t i = 0; i < ix->nr; i++)
		if (!ix->v[i].blacklisted)
			n += ix->v[i].counted ? ix->v[i].keys :
				ix->v[i].bytes / 8;
	return n;
}

int jrx_recover_accelerated(struct jrx_array *a,
			    const struct jrx_recover_opts *o,
			    struct jrx_report *r, struct jrx_fs *view)
{
	static const struct jrx_recover_opts defaults;
	struct jrx_journal_scan scan = { 0 };
	struct jrx_jindex ix = { 0 };
	struct jrx_sort_result res = { 0 };
	struct jrx_sort_stats st = { 0 };
	struct jrx_sort_opts so = { 0 };
	struct jrx_replay_opts ro = { 0 };
	struct jrx_fs local, *fs = view ? view : &local;
	struct jrx_budget budget;
	struct jrx_spilled sx = { 0 };
	struct jrx_jscan_sink sink;
	struct jrx_sort_prescan *pre = NULL;
	struct jrx_mem_pages pages;
	bool fs_open = false, dry;
	unsigned threads;
	uint64_t max_seq, *seqs = NULL;
	double t0 = jrx_now(), t, open_seconds;
	int ret;

	if (!o)
		o = &defaults;
	dry = o->dry_run;
	threads = o->threads ? o->threads : jrx_online_cpus();
	/* node images in huge pages (until a batch spills), set before
	 * anything is allocated from mimalloc */
	jrx_mem_large_pages(&pages);
	r->mode = "accelerated";
	r->threads = threads;
	r->io_backend = jrx_io_backend_name(o->io);
	ret = jrx_recover_start(a, o, r, view);
	if (ret)
		goto out;
	ret = jrx_budget_plan(&budget, o->memory_limit, a->sb.bucket_size);
	if (ret)
		goto out;
	r->memory_limit_bytes = budget.limit;
	r->memory_limit_default = budget.from_default;
	r->memory_base_bytes = budget.base;
	r->journal_in_memory_max_bytes = budget.journal_in_memory;
	jrx_blob_peak_reset();
	sx = (struct jrx_spilled){ .a = a, .b = &budget, .threads = threads,
				   .scratch = o->scratch_dir, .r = r,
				   .pages = &pages };
	jrx_spilled_sink(&sx, &sink);
	/* the sort's first pass, made as the buckets are parsed */
	ret = jrx_sort_prescan_new(&pre, threads);
	if (ret)
		goto out;
	sink.parsed = prescan_bucket;
	sink.parsed_ctx = pre;

	/* journal read */
	t = jrx_phase_begin(r, JRX_PHASE_JOURNAL_READ);
	ret = read_journal(a, o, threads, r, &scan, &ix, &sink);
	jrx_phase_end(r, JRX_PHASE_JOURNAL_READ, t);
	if (ret)
		goto out;
	max_seq = jrx_recover_note_index(r, a, &ix, &scan);
	if (jrx_recover_stop(o, r, JRX_STOP_JOURNAL_READ))
		goto out;
	if (scan.batches) {
		/* bigger than the budget: spilled runs, merged into replay */
		ret = jrx_recover_spilled(a, o, r, fs, &fs_open, view, &sx, &ix,
					  max_seq);
		goto out;
	}

	/* extract, sort, merge, dedup */
	t = jrx_phase_begin(r, JRX_PHASE_SORT);
	so.threads = threads;
	so.prescan = pre;
	so.chunk_bytes = jrx_budget_sort_chunk(&budget, r->bytes_read,
					       index_keys(&ix));
	ret = jrx_sort_journal(&ix, &so, &res, &st);
	jrx_phase_end(r, JRX_PHASE_SORT, t);
	if (ret)
		goto out;
	r->keys_read = st.keys_in;
	r->keys_after_dedup = res.nr;
	r->sort_extract = st.extract_seconds;
	r->sort_sort = st.sort_seconds;
	r->sort_merge = st.merge_seconds;
	r->sort_key_bits = st.key_bits;
	r->sort_prescanned = st.prescanned;
	r->sort_runs = st.runs;
	count_kinds(&res, r);
	if (jrx_recover_stop(o, r, JRX_STOP_SORT))
		goto out;

	/* replay */
	t = jrx_phase_begin(r, JRX_PHASE_REPLAY);
	r->replay_mode = "parallel";
	ret = jrx_fs_open_replay(fs, a, ix.newest, max_seq, dry);
	if (ret)
		goto out;
	fs_open = true;
	open_seconds = jrx_now() - t;
	ro.threads = threads;
	ro.numa = o->numa;
	ro.unit_keys = o->replay_unit;
	ro.progress = replay_progress;
	ro.progress_ctx = r;
	jrx_recover_write_opts(r, &ro);
	ro.images = jrx_budget_images(&budget, a->sb.btree_node_size, threads);
	ret = jrx_jindex_seqs(&ix, &seqs);
	if (!ret)
		ret = jrx_replay_parallel(fs, seqs, res.v, res.nr, &ro,
					  &r->replay, &r->accounting_skipped);
	r->replay.open_seconds = open_seconds;
	jrx_recover_note_replay(r, fs);
	jrx_phase_end(r, JRX_PHASE_REPLAY, t);
	if (ret)
		goto out;

	/* commit */
	t = jrx_phase_begin(r, JRX_PHASE_COMMIT);
	ret = jrx_recover_end(a, fs, &fs_open, max_seq, dry, view, r);
	jrx_phase_end(r, JRX_PHASE_COMMIT, t);
out:
	if (fs_open)
		jrx_fs_abandon(fs);
	if (sx.open)
		snprintf(r->scratch_dir, sizeof(r->scratch_dir), "%s", sx.sp.path);
	t = jrx_now();
	jrx_spilled_free(&sx);
	jrx_mem_large_pages_end(&pages);
	if (r->spilled)		/* after the phases: counted in the total */
		r->spill.close_seconds = jrx_now() - t;
	jrx_sort_result_free(&res);
	jrx_sort_prescan_free(pre);
	free(seqs);
	jrx_jindex_free(&ix);
	jrx_journal_scan_free(&scan);
	r->total_seconds += jrx_now() - t0;
	r->peak_rss_bytes = jrx_peak_rss();
	r->node_images_peak_bytes = jrx_blob_peak_bytes();
	return ret > 0 ? 0 : ret;
}
