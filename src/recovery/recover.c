/*
 * recover.c - what every recovery shares (recover.h, recover_int.h): the
 * choice between reference and accelerated, the start and the end of a
 * recovery, the read-only post-recovery view and the crash-injection hook.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include "recover_int.h"
#include "jrx/errors.h"
#include "../util/diag.h"
#include "../io/device.h"

int jrx_recover_open(struct jrx_array *a, const char *const *paths,
		     unsigned n, const struct jrx_recover_opts *o,
		     struct jrx_report *r)
{
	bool dry = o && o->dry_run;
	double t;
	int ret;

	jrx_report_init(r, o && o->reference ? "reference" : "accelerated");
	if (o) {
		r->progress = o->progress;
		r->progress_ctx = o->progress_ctx;
	}
	if (o && o->degraded && !dry)
		return jrx_fail(-JRX_ERR_BAD_OPTION, "--degraded recovers in"
				" memory only (--dry-run, dump --recovered, fsck"
				" -n): a recovery writes nodes and superblocks to"
				" every member, and the format cannot mark a"
				" member failed, so the missing one would come"
				" back inconsistent; give every member to"
				" recover");
	t = jrx_phase_begin(r, JRX_PHASE_SUPERBLOCK);
	ret = jrx_array_open(a, paths, n, (dry ? JRX_OPEN_RDONLY : 0) |
			     (o && o->wait ? JRX_OPEN_WAIT : 0) |
			     (o && o->degraded ? JRX_OPEN_DEGRADED : 0));
	jrx_phase_end(r, JRX_PHASE_SUPERBLOCK, t);
	r->total_seconds = r->phase[JRX_PHASE_SUPERBLOCK];
	return ret;
}

int jrx_recover(struct jrx_array *a, const struct jrx_recover_opts *o,
		struct jrx_report *r, struct jrx_fs *view)
{
	if (o && o->reference)
		return jrx_recover_reference(a, o, r, view);
	return jrx_recover_accelerated(a, o, r, view);
}

int jrx_recover_start(struct jrx_array *a, const struct jrx_recover_opts *o,
		      struct jrx_report *r, struct jrx_fs *view)
{
	bool dry = o && o->dry_run;
	int ret;

	r->devices = a->nr_devs;
	r->dry_run = dry;
	if (!dry && a->rdonly)
		return jrx_fail(-JRX_ERR_READ_ONLY, "%s: recovery needs the array"
				" open for writing (or a dry run)", a->devs[0].path);
	if (!dry && o && o->stop_after != JRX_STOP_NONE)
		return jrx_fail(-JRX_ERR_BAD_OPTION, "stopping after a phase is"
				" for dry runs only");
	if (a->sb.flags & JRX_SB_CLEAN) {
		r->result = "clean";
		/* a commit cut short leaves some copies old: finish it */
		ret = !dry && a->sb_stale ? jrx_array_write_sb(a) : 0;
		if (!ret && !dry && a->sb_stale)
			r->result = "clean, superblock copies rewritten";
		if (!ret && view)
			ret = jrx_fs_open(view, a, JRX_FS_RDONLY);
		return ret ? ret : 1;
	}
	if (!dry && a->sb.nr_blacklist >= JRX_SB_MAX_BLACKLIST)
		return jrx_fail(-JRX_ERR_NO_SPACE, "%s: the superblock blacklist is"
				" full (%u ranges): recovery could not blacklist"
				" the seqs past the crash", a->devs[0].path,
				JRX_SB_MAX_BLACKLIST);
	return 0;
}

struct gap_ctx {
	struct jrx_report *r;
	bool other;			/* a problem allow_missing does not cover */
};

static void on_gap(void *ctx, const struct jrx_jindex_problem *p)
{
	struct gap_ctx *g = ctx;
	struct jrx_report *r = g->r;
	size_t len = strlen(r->missing_runs);
	char run[48];

	if (p->kind != JRX_JIX_SEQ_MISSING) {
		g->other = true;
		return;
	}
	if (p->seq == p->seq_end)
		snprintf(run, sizeof(run), "%s%" PRIu64, len ? ", " : "", p->seq);
	else
		snprintf(run, sizeof(run), "%s%" PRIu64 "..%" PRIu64,
			 len ? ", " : "", p->seq, p->seq_end);
	/* the list is for people: it ends with "..." when it is full */
	if (len + strlen(run) + 4 < sizeof(r->missing_runs))
		memcpy(r->missing_runs + len, run, strlen(run) + 1);
	else if (len + 4 <= sizeof(r->missing_runs) &&
		 strcmp(r->missing_runs + len - 3, "..."))
		memcpy(r->missing_runs + len, "...", 4);
}

int jrx_recover_index(struct jrx_jindex *ix, const struct jrx_array *a,
		      const struct jrx_journal_scan *s,
		      const struct jrx_recover_opts *o, struct jrx_report *r)
{
	struct gap_ctx g = { .r = r };
	int ret;

	r->seqs_missing = 0;
	r->missing_runs[0] = 0;
	if (!o || !o->allow_missing)
		return jrx_jindex_build(ix, &a->sb, s, NULL, NULL);
	ret = jrx_jindex_build(ix, &a->sb, s, on_gap, &g);
	if (!ret && g.other) {
		/* built again without going on: its error, as without */
		jrx_jindex_free(ix);
		ret = jrx_jindex_build(ix, &a->sb, s, NULL, NULL);
		if (!ret) {
			jrx_jindex_free(ix);
			ret = jrx_fail(-JRX_ERR_JOURNAL_REPLICAS_DIFFER, "%s:"
				       " the journal index refuses the array",
				       a->devs[0].path);
		}
	}
	if (!ret)
		r->seqs_missing = ix->missing;
	return ret;
}

uint64_t jrx_recover_note_index(struct jrx_report *r, const struct jrx_array *a,
				const struct jrx_jindex *ix,
				const struct jrx_journal_scan *s)
{
	r->read_mode = jrx_scan_mode_name(s->mode);
	if (s->why_full[0])
		snprintf(r->full_scan_why, sizeof(r->full_scan_why), "%s",
			 s->why_full);
	r->probes = s->probes;
	r->buckets_total = s->buckets_total;
	r->jsets = ix->nr;
	r->jset_copies = ix->copies;
	r->bad_jsets = ix->bad;
	r->blacklisted = ix->blacklisted;
	r->seq_first = ix->max_seq ? ix->last_seq : 0;
	r->seq_last = ix->max_seq;
	return ix->max_seq ? ix->max_seq : a->sb.journal_seq;
}

void jrx_recover_write_opts(const struct jrx_report *r,
			    struct jrx_replay_opts *ro)
{
	int b = jrx_io_backend_parse(r->io_backend);

	ro->write_io = b == JRX_IO_URING || b == JRX_IO_AIO ?
		(enum jrx_io_backend)b : JRX_IO_PREAD;
	ro->write_depth = 32;	/* pread: a queue on helper threads (wq.h) */
}

void jrx_recover_note_replay(struct jrx_report *r, const struct jrx_fs *fs)
{
	r->nodes_read = fs->nodes_read;
	r->leaves_read = fs->leaves_read;
	r->nodes_written = fs->nodes_written;
	r->splits = fs->splits;
	r->bsets_appended = fs->bsets_appended;
	r->nodes_moved = fs->rewrites;
	r->node_bytes_read = fs->node_bytes_read;
	r->node_bytes_written = fs->node_bytes_written;
}

bool jrx_recover_stop(const struct jrx_recover_opts *o, struct jrx_report *r,
		      enum jrx_stop at)
{
	if (!o || o->stop_after != at)
		return false;
	r->result = at == JRX_STOP_JOURNAL_READ ? "stopped after journal_read" :
		"stopped after sort";
	return true;
}

int jrx_recover_end(struct jrx_array *a, struct jrx_fs *fs, bool *fs_open,
		    uint64_t max_seq, bool dry, struct jrx_fs *view,
		    struct jrx_report *r)
{
	int ret = 0;

	r->new_journal_seq = max_seq + JRX_JOURNAL_PAD;
	if (dry) {
		r->result = "dry_run";
		if (view) {
			fs->rdonly = true;	/* the caller's view from now on */
			*fs_open = false;
		}
		return 0;
	}
	*fs_open = false;
	ret = jrx_fs_replay_commit(fs, max_seq, JRX_JOURNAL_PAD);
	if (!ret)
		r->result = "recovered";
	if (!ret && view)
		ret = jrx_fs_open(view, a, JRX_FS_RDONLY);
	return ret;
}

int jrx_open_view(struct jrx_array *a, struct jrx_fs *view,
		  struct jrx_report *r)
{
	return jrx_open_view_opts(a, view, r, NULL);
}

int jrx_open_view_opts(struct jrx_array *a, struct jrx_fs *view,
		       struct jrx_report *r, const struct jrx_recover_opts *lim)
{
	struct jrx_recover_opts o = { .dry_run = true, .reference = true };
	struct jrx_report local;

	if (a->sb.flags & JRX_SB_CLEAN)
		return jrx_fs_open(view, a, JRX_FS_RDONLY);
	if (lim && lim->memory_limit) {
		o = *lim;
		o.dry_run = true;
		o.reference = false;
	}
	if (!r) {
		jrx_report_init(&local, o.reference ? "reference" : "accelerated");
		r = &local;
	}
	return jrx_recover(a, &o, r, view);
}

void jrx_recover_crash_after_writes(uint64_t n)
{
	jrx_dev_crash_after_writes(n);
}
