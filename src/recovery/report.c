/*
 * report.c - the text and JSON forms of the recovery report (report.h).
 */
#include <inttypes.h>
#include <string.h>
#include "report.h"

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

void jrx_report_print_text(const struct jrx_report *r, FILE *f)
{
	fprintf(f, "recovery (%s, %u thread%s, %s, %u device%s): %s\n",
		r->mode, r->threads, r->threads == 1 ? "" : "s", r->io_backend,
		r->devices, r->devices == 1 ? "" : "s", r->result);
	if (!strncmp(r->result, "clean", 5)) {
		fprintf(f, "  the array is clean: nothing to replay\n");
		return;
	}
	fprintf(f, "  journal: %" PRIu64 " bytes read, %" PRIu64 " jsets in"
		" seq %" PRIu64 "..%" PRIu64 " (%" PRIu64 " copies, %" PRIu64
		" blacklisted, %" PRIu64 " bad jset(s) ended a bucket)\n",
		r->bytes_read, r->jsets, r->seq_first, r->seq_last,
		r->jset_copies, r->blacklisted, r->bad_jsets);
	fprintf(f, "  keys: %" PRIu64 " read, %" PRIu64 " after dedup (%"
		PRIu64 " interior, %" PRIu64 " alloc, %" PRIu64 " accounting"
		" deltas, %" PRIu64 " of them already applied)\n",
		r->keys_read, r->keys_after_dedup, r->keys_interior,
		r->keys_alloc, r->keys_accounting, r->accounting_skipped);
	fprintf(f, "  btree: %" PRIu64 " nodes read, %" PRIu64 " written%s, %"
		PRIu64 " splits\n", r->nodes_read, r->nodes_written,
		r->dry_run ? " (in memory only)" : "", r->splits);
	if (!r->dry_run)
		fprintf(f, "  committed: the next journal starts at seq %" PRIu64
			"\n", r->new_journal_seq);
	fprintf(f, "  phases:");
	for (unsigned i = 0; i < JRX_PHASE_NR; i++)
		fprintf(f, " %s %.3f s%s", jrx_phase_names[i], r->phase[i],
			i + 1 < JRX_PHASE_NR ? "," : "\n");
	fprintf(f, "  total %.3f s, peak RSS %.1f MiB\n", r->total_seconds,
		(double)r->peak_rss_bytes / (1 << 20));
}

void jrx_report_print_json(const struct jrx_report *r, FILE *f)
{
	fprintf(f, "{\"mode\":\"%s\",\"threads\":%u,\"io_backend\":\"%s\","
		"\"devices\":%u,\"result\":\"%s\",\"dry_run\":%s,",
		r->mode, r->threads, r->io_backend, r->devices, r->result,
		r->dry_run ? "true" : "false");
	fprintf(f, "\"journal\":{\"bytes_read\":%" PRIu64 ",\"buckets_read\":%"
		PRIu64 ",\"jsets\":%" PRIu64 ",\"jset_copies\":%" PRIu64
		",\"bad_jsets\":%" PRIu64 ",\"blacklisted\":%" PRIu64
		",\"seq_first\":%" PRIu64 ",\"seq_last\":%" PRIu64 "},",
		r->bytes_read, r->buckets_read, r->jsets, r->jset_copies,
		r->bad_jsets, r->blacklisted, r->seq_first, r->seq_last);
	fprintf(f, "\"keys\":{\"read\":%" PRIu64 ",\"after_dedup\":%" PRIu64
		",\"interior\":%" PRIu64 ",\"alloc\":%" PRIu64 ",\"accounting\":%"
		PRIu64 ",\"accounting_skipped\":%" PRIu64 "},",
		r->keys_read, r->keys_after_dedup, r->keys_interior,
		r->keys_alloc, r->keys_accounting, r->accounting_skipped);
	fprintf(f, "\"btree\":{\"nodes_read\":%" PRIu64 ",\"nodes_written\":%"
		PRIu64 ",\"splits\":%" PRIu64 "},\"new_journal_seq\":%" PRIu64
		",", r->nodes_read, r->nodes_written, r->splits,
		r->new_journal_seq);
	fprintf(f, "\"phases\":{");
	for (unsigned i = 0; i < JRX_PHASE_NR; i++)
		fprintf(f, "\"%s\":%.6f%s", jrx_phase_names[i], r->phase[i],
			i + 1 < JRX_PHASE_NR ? "," : "},");
	fprintf(f, "\"total_seconds\":%.6f,\"peak_rss_bytes\":%" PRIu64 "}\n",
		r->total_seconds, r->peak_rss_bytes);
}
