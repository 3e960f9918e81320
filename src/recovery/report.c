/*
 * report.c - the text and JSON forms of the recovery report (report.h).
 */
#include <inttypes.h>
#include <string.h>
#include "report.h"
#include "../util/json.h"

const char *const jrx_phase_names[JRX_PHASE_NR] = {
	[JRX_PHASE_SUPERBLOCK]	 = "superblock",
	[JRX_PHASE_JOURNAL_READ] = "journal_read",
	[JRX_PHASE_SORT]	 = "sort",
	[JRX_PHASE_REPLAY]	 = "replay",
	[JRX_PHASE_COMMIT]	 = "commit",
};

void jrx_report_init(struct jrx_report *r, const char *mode)
{
	memset(r, 0, sizeof(*r));
	r->mode = mode;
	r->io_backend = "pread";
	r->result = "";
	r->threads = 1;
}

void jrx_progress(const struct jrx_report *r, enum jrx_report_phase p,
		  uint64_t done, uint64_t total)
{
	if (r->progress)
		r->progress(r->progress_ctx, p, done, total);
}

double jrx_phase_begin(struct jrx_report *r, enum jrx_report_phase p)
{
	double t = jrx_now();

	r->phase_start[p] = t;
	r->cpu_at[p] = jrx_cpu_now();
	jrx_progress(r, p, 0, 1);
	return t;
}

void jrx_phase_end(struct jrx_report *r, enum jrx_report_phase p, double t)
{
	struct jrx_cpu c = jrx_cpu_now(), *a = &r->cpu_at[p];

	r->phase[p] = jrx_now() - t;
	r->phase_cpu[p] = (struct jrx_cpu){ c.user - a->user, c.sys - a->sys,
					    c.minflt - a->minflt };
	jrx_progress(r, p, 1, 1);
}

/* Journal read bandwidth in MB/s (10^6 bytes), 0 if not timed. */
static double mbps(const struct jrx_report *r)
{
	double t = r->phase[JRX_PHASE_JOURNAL_READ];

	return t > 0 ? (double)r->bytes_read / t / 1e6 : 0;
}

/* "memory":{...}: the limit and, when the journal was spilled, the runs. */
static void print_memory_json(const struct jrx_report *r, FILE *f)
{
	const struct jrx_spill_stats *sp = &r->spill;

	if (!r->memory_limit_bytes)
		return;		/* the reference: no limit */
	fprintf(f, "\"memory\":{\"limit_bytes\":%" PRIu64 ",\"limit_default\":"
		"%s,\"base_bytes\":%" PRIu64 ",\"journal_in_memory_max_bytes\":%"
		PRIu64 ",\"node_images_peak_bytes\":%" PRIu64 ",\"spilled\":%s",
		r->memory_limit_bytes, r->memory_limit_default ? "true" : "false",
		r->memory_base_bytes, r->journal_in_memory_max_bytes,
		r->node_images_peak_bytes, r->spilled ? "true" : "false");
	if (r->spilled) {
		fprintf(f, ",\"spill\":{\"dir\":");
		jrx_json_str(f, r->scratch_dir);
		fprintf(f, ",\"direct\":%s,\"read_ahead\":%s,\"tmpfs\":%s,\"runs\":%" PRIu64 ",\"keys\":%" PRIu64
			",\"bytes_written\":%" PRIu64 ",\"bytes_read\":%" PRIu64
			",\"merge_passes\":%u,\"runs_merged\":%" PRIu64
			",\"windows\":%" PRIu64 ",\"write_seconds\":%.6f,"
			"\"merge_seconds\":%.6f,\"close_seconds\":%.6f}", sp->direct ? "true" : "false",
			sp->read_ahead ? "true" : "false",
			sp->tmpfs ? "true" : "false",
			sp->runs, sp->keys, sp->bytes_written, sp->bytes_read,
			sp->merge_passes, r->spill_runs_left, r->spill_windows,
			sp->write_seconds, sp->merge_seconds, sp->close_seconds);
	}
	fprintf(f, "},");
}

/* The memory line of the text report. */
static void print_memory_text(const struct jrx_report *r, FILE *f)
{
	const struct jrx_spill_stats *sp = &r->spill;

	if (!r->memory_limit_bytes)
		return;
	fprintf(f, "  memory: limit %.0f MiB%s; ", r->memory_limit_bytes / 1048576.0,
		r->memory_limit_default ? " (70% of MemAvailable)" : "");
	if (!r->spilled)
		fprintf(f, "journal held in memory\n");
	else
		fprintf(f, "journal spilled to %s: %" PRIu64 " runs, %.1f MiB"
			" written, %.1f MiB read back, %u merge pass%s, %" PRIu64
			" replay windows%s\n", r->scratch_dir, sp->runs,
			sp->bytes_written / 1048576.0, sp->bytes_read / 1048576.0,
			sp->merge_passes, sp->merge_passes == 1 ? "" : "es",
			r->spill_windows, sp->tmpfs ? " (tmpfs: the spilled"
			" bytes were in memory too; --scratch elsewhere)" :
			sp->direct ? "" : " (no O_DIRECT there)");
}

void jrx_report_print_text(const struct jrx_report *r, FILE *f)
{
	fprintf(f, "recovery (%s, %u thread%s, %s, %u device%s): %s\n",
		r->mode, r->threads, r->threads == 1 ? "" : "s", r->io_backend,
		r->devices, r->devices == 1 ? "" : "s", r->result);
	if (!strncmp(r->result, "clean", 5)) {
		fprintf(f, "  the array is clean: nothing to replay\n");
		return;
	}
	if (r->io_threads)
		fprintf(f, "  io: %s, %u worker%s x %u in flight, %s%s%s%s\n",
			r->io_backend, r->io_threads,
			r->io_threads == 1 ? "" : "s", r->io_depth,
			r->io_direct ? "O_DIRECT" : "buffered",
			r->io_fixed_buffers ? ", fixed buffers" : "",
			r->io_fallback[0] ? "; " : "", r->io_fallback);
	if (r->read_mode)
		fprintf(f, "  journal read: %s, %" PRIu64 " of %" PRIu64
			" buckets, %" PRIu64 " probes, %.0f MB/s%s%s\n",
			r->read_mode, r->buckets_read, r->buckets_total,
			r->probes, mbps(r), r->full_scan_why[0] ? "; " : "",
			r->full_scan_why);
	fprintf(f, "  journal: %" PRIu64 " bytes read, %" PRIu64 " jsets in"
		" seq %" PRIu64 "..%" PRIu64 " (%" PRIu64 " copies, %" PRIu64
		" blacklisted, %" PRIu64 " bad jset(s) ended a bucket)\n",
		r->bytes_read, r->jsets, r->seq_first, r->seq_last,
		r->jset_copies, r->blacklisted, r->bad_jsets);
	if (r->seqs_missing)
		fprintf(f, "  journal: replayed past %" PRIu64 " missing seqs"
			" (%s): their transactions are lost\n", r->seqs_missing,
			r->missing_runs);
	fprintf(f, "  keys: %" PRIu64 " read, %" PRIu64 " after dedup (%"
		PRIu64 " interior, %" PRIu64 " alloc, %" PRIu64 " accounting"
		" deltas, %" PRIu64 " of them already applied)\n",
		r->keys_read, r->keys_after_dedup, r->keys_interior,
		r->keys_alloc, r->keys_accounting, r->accounting_skipped);
	if (r->replay.workers)
		fprintf(f, "  replay   %u workers in %u group(s): %s; %" PRIu64
			" leaves in %" PRIu64 " units (%" PRIu64 " sliced), %"
			PRIu64 " nodes written, %" PRIu64 " appended to; open"
			" %.3f s, plan %.3f s, leaves %.3f s, install %.3f s, settle %.3f s\n",
			r->replay.workers,
			r->replay.groups, r->replay.placement, r->replay.leaves,
			r->replay.units, r->replay.sliced_leaves, r->replay.pieces,
			r->replay.appended_leaves, r->replay.open_seconds,
			r->replay.plan_seconds, r->replay.leaves_seconds,
			r->replay.install_seconds, r->replay.settle_seconds);
	if (r->replay.workers && r->replay.appended_leaves && !r->dry_run) {
		if (!r->replay.write_depth)
			fprintf(f, "  replay   appends: one synchronous write at"
				" a time per worker (%s)\n", r->io_backend);
		else if (r->replay.queued_workers)
			fprintf(f, "  replay   appends: up to %u in flight per"
				" worker (%s), %u node images each\n",
				r->replay.write_depth, r->io_backend,
				r->replay.images);
		else
			fprintf(f, "  replay   appends: one at a time: %s refused"
				" for writes\n", r->io_backend);
	}
	if (r->replay.threads < r->replay.workers)
		fprintf(f, "  replay   %u of %u worker threads started: the"
			" recovering thread ran the others' share\n",
			r->replay.threads, r->replay.workers);
	if (r->sort_key_bits)
		fprintf(f, "  sort: extract %.3f s%s, radix sort %.3f s, merge"
			" and dedup %.3f s, %u-bit packed keys\n",
			r->sort_extract, r->sort_prescanned ?
			" (ranges found as the journal was read)" : "",
			r->sort_sort, r->sort_merge, r->sort_key_bits);
	fprintf(f, "  btree: %" PRIu64 " nodes read (%" PRIu64 " leaves, %.1f"
		" MiB); %" PRIu64 " bsets appended in place, %" PRIu64 " nodes"
		" written whole (%" PRIu64 " moved, %" PRIu64 " cut), %.1f MiB%s\n",
		r->nodes_read, r->leaves_read, r->node_bytes_read / 1048576.0,
		r->bsets_appended, r->nodes_written, r->nodes_moved, r->splits,
		r->node_bytes_written / 1048576.0,
		r->dry_run ? " (in memory only)" : "");
	if (!r->dry_run)
		fprintf(f, "  committed: the next journal starts at seq %" PRIu64
			"\n", r->new_journal_seq);
	fprintf(f, "  phases:");
	for (unsigned i = 0; i < JRX_PHASE_NR; i++)
		fprintf(f, " %s %.3f s%s", jrx_phase_names[i], r->phase[i],
			i + 1 < JRX_PHASE_NR ? "," : "\n");
	fprintf(f, "  cpu user/sys:");
	for (unsigned i = 0; i < JRX_PHASE_NR; i++)
		fprintf(f, " %s %.3f/%.3f s%s", jrx_phase_names[i],
			r->phase_cpu[i].user, r->phase_cpu[i].sys,
			i + 1 < JRX_PHASE_NR ? "," : "\n");
	print_memory_text(r, f);
	fprintf(f, "  total %.3f s, peak RSS %.1f MiB\n", r->total_seconds,
		(double)r->peak_rss_bytes / (1 << 20));
}

/* "replay":{...}: the parallel replay's plan, placement and workers. */
static void print_replay_json(const struct jrx_replay_stats *st, FILE *f)
{
	fprintf(f, "\"replay\":{\"workers\":%u,", st->workers);
	/* only when some worker thread did not start (util/pool.h) */
	if (st->threads < st->workers)
		fprintf(f, "\"threads\":%u,", st->threads);
	fprintf(f, "\"groups\":%u,\"placement\":", st->groups);
	jrx_json_str(f, st->placement);
	fprintf(f, ",\"bind_errno\":%d,\"leaves\":%" PRIu64 ",\"units\":%"
		PRIu64 ",\"sliced_leaves\":%" PRIu64 ",\"pieces\":%" PRIu64
		",\"open_seconds\":%.6f,\"plan_seconds\":%.6f,\"leaves_seconds\":%.6f,"
		"\"install_seconds\":%.6f,\"settle_seconds\":%.6f,\"appended_leaves\":%" PRIu64
		",\"leaves_read_ahead\":%" PRIu64 ",\"streamed_leaves\":%"
		PRIu64 ",\"streamed_parts\":%" PRIu64 ",\"write_depth\""
		":%u,\"images_per_worker\":%u,\"queued_workers\":%u,"
		"\"per_worker\":[", st->bind_errno,
		st->leaves, st->units, st->sliced_leaves, st->pieces,
		st->open_seconds, st->plan_seconds, st->leaves_seconds, st->install_seconds,
		st->settle_seconds, st->appended_leaves, st->leaves_read_ahead,
		st->streamed_leaves,
		st->streamed_parts, st->write_depth, st->images,
		st->queued_workers);
	for (unsigned i = 0; i < st->workers && i < JRX_REPLAY_MAX_WORKERS; i++) {
		const struct jrx_replay_worker_stats *w = &st->w[i];

		fprintf(f, "%s{\"group\":%u,\"pu\":%d,\"units\":%" PRIu64
			",\"keys\":%" PRIu64 ",\"weight\":%" PRIu64
			",\"unit_lo\":%" PRIu64 ",\"unit_hi\":%" PRIu64
			",\"busy_seconds\":%.6f,\"helper_pus\":\"%s\"}", i ? "," : "",
			w->group, w->pu, w->units, w->keys, w->weight, w->unit_lo,
			w->unit_hi, w->busy_seconds, w->helper_pus);
	}
	fprintf(f, "],\"group_first\":[");
	for (unsigned g = 0; g <= st->groups && g <= JRX_PLACE_MAX_GROUPS; g++)
		fprintf(f, "%s%" PRIu64, g ? "," : "", st->group_first[g]);
	fprintf(f, "]},");
}

void jrx_report_print_json(const struct jrx_report *r, FILE *f)
{
	fprintf(f, "{\"mode\":\"%s\",\"threads\":%u,\"io_backend\":\"%s\","
		"\"devices\":%u,\"result\":\"%s\",\"dry_run\":%s,",
		r->mode, r->threads, r->io_backend, r->devices, r->result,
		r->dry_run ? "true" : "false");
	fprintf(f, "\"io\":{\"threads\":%u,\"depth\":%u,\"direct\":%s,"
		"\"fixed_buffers\":%s,\"fallback\":", r->io_threads, r->io_depth,
		r->io_direct ? "true" : "false",
		r->io_fixed_buffers ? "true" : "false");
	jrx_json_str_or_null(f, r->io_fallback);
	fprintf(f, "},\"journal_read\":{\"mode\":");
	jrx_json_str_or_null(f, r->read_mode);
	fprintf(f, ",\"full_scan_why\":");
	jrx_json_str_or_null(f, r->full_scan_why);
	fprintf(f, ",\"probes\":%" PRIu64 ",\"buckets_total\":%" PRIu64
		",\"mb_per_s\":%.1f},", r->probes, r->buckets_total, mbps(r));
	fprintf(f, "\"journal\":{\"bytes_read\":%" PRIu64 ",\"buckets_read\":%"
		PRIu64 ",\"jsets\":%" PRIu64 ",\"jset_copies\":%" PRIu64
		",\"bad_jsets\":%" PRIu64 ",\"blacklisted\":%" PRIu64
		",\"seqs_missing\":%" PRIu64
		",\"seq_first\":%" PRIu64 ",\"seq_last\":%" PRIu64 "},",
		r->bytes_read, r->buckets_read, r->jsets, r->jset_copies,
		r->bad_jsets, r->blacklisted, r->seqs_missing, r->seq_first,
		r->seq_last);
	fprintf(f, "\"keys\":{\"read\":%" PRIu64 ",\"after_dedup\":%" PRIu64
		",\"interior\":%" PRIu64 ",\"alloc\":%" PRIu64 ",\"accounting\":%"
		PRIu64 ",\"accounting_skipped\":%" PRIu64 "},",
		r->keys_read, r->keys_after_dedup, r->keys_interior,
		r->keys_alloc, r->keys_accounting, r->accounting_skipped);
	fprintf(f, "\"sort\":{\"extract_seconds\":%.6f,\"sort_seconds\":%.6f,"
		"\"merge_seconds\":%.6f,"
		"\"key_bits\":%u,\"prescanned\":%s,\"runs\":%u},"
		"\"replay_mode\":",
		r->sort_extract, r->sort_sort, r->sort_merge, r->sort_key_bits,
		r->sort_prescanned ? "true" : "false", r->sort_runs);
	jrx_json_str_or_null(f, r->replay_mode);
	fputc(',', f);
	if (r->replay.workers)
		print_replay_json(&r->replay, f);
	fprintf(f, "\"btree\":{\"nodes_read\":%" PRIu64 ",\"leaves_read\":%"
		PRIu64 ",\"bytes_read\":%" PRIu64 ",\"nodes_written\":%" PRIu64
		",\"appended\":%" PRIu64 ",\"moved\":%" PRIu64 ",\"splits\":%"
		PRIu64 ",\"bytes_written\":%" PRIu64 "},\"new_journal_seq\":%"
		PRIu64 ",", r->nodes_read, r->leaves_read, r->node_bytes_read,
		r->nodes_written, r->bsets_appended, r->nodes_moved, r->splits,
		r->node_bytes_written, r->new_journal_seq);
	fprintf(f, "\"phases\":{");
	for (unsigned i = 0; i < JRX_PHASE_NR; i++)
		fprintf(f, "\"%s\":%.6f%s", jrx_phase_names[i], r->phase[i],
			i + 1 < JRX_PHASE_NR ? "," : "},");
	fprintf(f, "\"phase_starts\":{");
	for (unsigned i = 0; i < JRX_PHASE_NR; i++)
		fprintf(f, "\"%s\":%.6f%s", jrx_phase_names[i],
			r->phase_start[i], i + 1 < JRX_PHASE_NR ? "," : "},");
	fprintf(f, "\"phase_cpu\":{");
	for (unsigned i = 0; i < JRX_PHASE_NR; i++)
		fprintf(f, "\"%s\":{\"user\":%.6f,\"sys\":%.6f,\"minflt\":%"
			PRIu64 "}%s", jrx_phase_names[i], r->phase_cpu[i].user,
			r->phase_cpu[i].sys, r->phase_cpu[i].minflt,
			i + 1 < JRX_PHASE_NR ? "," : "},");
	print_memory_json(r, f);
	fprintf(f, "\"total_seconds\":%.6f,\"peak_rss_bytes\":%" PRIu64 "}\n",
		r->total_seconds, r->peak_rss_bytes);
}
