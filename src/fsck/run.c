/*
 * run.c - fsck of devices by path (jrx_fsck_run in fsck.h), the policy
 * `jrx fsck` and fsck.jrx follow:
 *
 *  - with read_only (-n) the devices are opened read-only and nothing is
 *    ever written: a clean array is checked from disk, an unclean one
 *    through the dry-run recovery's in-memory view (jrx_open_view); when
 *    that view cannot be built (a journal recovery refuses), the
 *    superblock and journal passes still run and say why, and the result
 *    is an operational error;
 *  - otherwise an unclean array is recovered first (the accelerated
 *    recovery, committed; exit code 1), and the result is checked from
 *    disk after the devices are opened again, read-only, under the same
 *    claim (a recovery that fails is handled like a view that fails).
 *    Beyond that, only the repairs write (repair(): -y, -p);
 *  - with preen (-p, -a) and without force (-f) a clean array is reported
 *    clean at once, as e2fsck does at boot.
 *
 * Failing to open, recover or build the view is an operational error:
 * exit code 8, with jrx_diag() naming the device and the reason.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "fsck_int.h"
#include "jrx/errors.h"
#include "../util/diag.h"
#include "../recovery/recover.h"

static int fail(struct jrx_fsck_result *res, const struct jrx_fsck_opts *o,
		const char *state, int err)
{
	memset(res, 0, sizeof(*res));
	res->error = err;
	res->exit_code = 8;
	if (o->out && o->json) {
		fprintf(o->out, "{\n  \"state\": ");
		jrx_json_str(o->out, state);
		fprintf(o->out, ",\n  \"error\": ");
		jrx_json_str(o->out, jrx_errname(err));
		fprintf(o->out, ",\n  \"error_message\": ");
		jrx_json_str(o->out, jrx_diag());
		fprintf(o->out, ",\n  \"exit_code\": 8\n}\n");
	}
	return err;
}

/* A clean array under -p/-a without -f: one line, like e2fsck's. */
static void skip_clean(const struct jrx_array *a, const struct jrx_fsck_opts *o,
		       struct jrx_fsck_result *res)
{
	memset(res, 0, sizeof(*res));
	res->skipped = true;
	if (!o->out)
		return;
	if (o->json) {
		fprintf(o->out, "{\n  \"state\": \"clean\",\n  \"skipped\": true,"
			"\n  \"devices\": %u,\n  \"sb_seq\": %" PRIu64 ",\n"
			"  \"exit_code\": 0\n}\n", a->nr_devs, a->sb.seq);
		return;
	}
	fprintf(o->out, "%s%s: clean, %u device%s, superblock seq %" PRIu64
		" (not checked: -f checks it)\n", a->devs[0].path,
		a->nr_devs > 1 ? " and the other members" : "", a->nr_devs,
		a->nr_devs == 1 ? "" : "s", a->sb.seq);
}

/*
 * After a check that found problems on an array open read-write: the
 * repairs the policy allows (problems.h), then the check again, whose
 * result is the answer (exit 1 added: the array was modified).  A
 * topology or space repair runs alone and leaves alloc, accounting and
 * maybe the namespace to repair: the checks after it are held back and
 * decide a next round, at most REPAIR_ROUNDS in all (topology; space,
 * whose misplaced nodes may take a topology rebuild of their own round;
 * alloc and namespace; alloc again after the namespace repair's
 * removals); only the last check's report is printed.
 */
#define REPAIR_ROUNDS 6

static int repair(struct jrx_array *a, struct jrx_fsck_opts *lo,
		  struct jrx_fsck_result *res)
{
	bool unexpected;
	unsigned fixes = jrx_pr_fixes(&res->counts, lo->repair, &unexpected);
	unsigned done = res->repaired;	/* the journal's, if it was */
	char *pending = NULL;	/* the last check's report, held back */
	char *log_text = NULL;	/* with json: the repairs' lines */
	size_t log_len = 0;
	FILE *log = lo->json && lo->out ?
		open_memstream(&log_text, &log_len) : NULL;
	struct jrx_fsck_opts rep = *lo;	/* the repairs: text into log */
	int ret = 0;

	if (log) {
		rep.json = false;
		rep.out = log;
		/* the journal repair's line, said before these rounds */
		if (lo->repairs)
			fprintf(log, "%s\n", lo->repairs);
	}

	if (unexpected && lo->out && !lo->json)
		fprintf(lo->out, "UNEXPECTED INCONSISTENCY; RUN fsck.jrx"
			" MANUALLY (without -a or -p)\n");
	for (unsigned round = 0; fixes && round < REPAIR_ROUNDS; round++) {
		struct jrx_fsck_result first = *res;
		struct jrx_fsck_opts ro;
		unsigned now = 0;
		size_t len = 0;
		FILE *held = NULL;
		bool again;

		ret = fsck_repair(a, log ? &rep : lo, fixes, &first, &now);
		if (log) {
			fflush(log);
			lo->repairs = log_text;
		}
		if (ret) {
			res->error = ret;
			res->exit_code |= 8;
			break;
		}
		if (!now)
			break;	/* refused, and said why: the last check stands */
		done |= now;
		lo->state = "repaired";
		ro = *lo;
		/* after a topology repair, what the next check finds is
		 * what it left (alloc, namespace, and the alloc keys the
		 * namespace repair's removals leave): another round */
		again = (done & ((1u << JRX_FIX_TOPOLOGY) |
				 (1u << JRX_FIX_SPACE))) &&
			round + 1 < REPAIR_ROUNDS;
		free(pending);
		pending = NULL;
		if (again && lo->out) {
			held = open_memstream(&pending, &len);
			if (held)
				ro.out = held;
		}
		ret = fsck_check(a, NULL, again ? &ro : lo, res, 0, NULL);
		if (held)
			fclose(held);
		res->repaired = done;
		if (ret)
			break;
		fixes = again ?
			jrx_pr_fixes(&res->counts, lo->repair, &unexpected) : 0;
	}
	if (pending && lo->out)
		fputs(pending, lo->out);
	free(pending);
	lo->repairs = NULL;
	if (log)
		fclose(log);
	free(log_text);
	return ret;
}

/*
 * JRX_FIX_JOURNAL: the recovery refused an unclean array for seqs of its
 * replay range that no valid jset holds (JOURNAL_SEQ_MISSING, found by
 * the first check's journal pass); when the policy allows the fix, the
 * array is recovered again past them (jrx_recover_opts.allow_missing:
 * their transactions are lost, everything else replayed, the node bsets
 * that carry those seqs read as usual) and checked from disk.  Why not
 * the superblock blacklist: docs/FSCK.md.  0 with res the re-check's, or
 * an operational error.
 */
static int recover_past_gap(struct jrx_array *a, const struct jrx_fsck_opts *o,
			    struct jrx_fsck_opts *lo, struct jrx_fsck_result *res,
			    char *line, size_t len)
{
	struct jrx_recover_opts ro = { .memory_limit = o->memory_limit,
				       .scratch_dir = o->scratch_dir,
				       .threads = o->threads,
				       .allow_missing = true };
	struct jrx_report r;
	int ret;

	jrx_report_init(&r, "accelerated");
	ret = jrx_recover_accelerated(a, &ro, &r, NULL);
	if (!ret && !(a->sb.flags & JRX_SB_CLEAN))
		ret = jrx_fail(-JRX_ERR_NEEDS_RECOVERY, "%s: still unclean after"
			       " recovery", a->devs[0].path);
	if (ret)
		return ret;
	snprintf(line, len, "repaired: journal: recovered past %"
		 PRIu64 " missing seqs (%s); their transactions are lost",
		 r.seqs_missing, r.missing_runs);
	if (o->out && !o->json)
		fprintf(o->out, "%s\n", line);
	/* with json, in the re-check's "repairs" and in those of the
	 * rounds that may follow (repair()) */
	lo->repairs = o->json ? line : NULL;
	lo->state = "repaired";
	ret = fsck_check(a, NULL, lo, res, 0, NULL);
	res->repaired = 1u << JRX_FIX_JOURNAL;
	return ret;
}

int jrx_fsck_run(const char *const *paths, unsigned n,
		 const struct jrx_fsck_opts *o, struct jrx_fsck_result *res)
{
	struct jrx_array *a = calloc(1, sizeof(*a));
	struct jrx_fsck_opts lo = *o;
	struct jrx_fs *view = NULL;
	const char *state = "clean";
	char why[512] = "", *held_text = NULL, gap_line[320] = "";
	char *gap_text = NULL;	/* with json: the re-check after the gap */
	size_t held_len = 0, gap_len = 0;
	FILE *held = NULL;
	int ret, view_err = 0;

	if (!a) {
		ret = jrx_fail(-ENOMEM, "allocating the array handle: %zu bytes",
			       sizeof(*a));
		return fail(res, o, state, ret);
	}
	jrx_diag_clear();
	ret = jrx_array_open(a, paths, n, (o->read_only ? JRX_OPEN_RDONLY : 0) |
			     (o->wait ? JRX_OPEN_WAIT : 0) |
			     (o->no_scan ? JRX_OPEN_NO_SCAN : 0) |
			     (o->degraded && o->read_only ?
			      JRX_OPEN_DEGRADED : 0));
	if (ret) {
		free(a);
		return fail(res, o, "unopened", ret);
	}
	/* what opening found (members by scanning, a bad primary copy) */
	if (o->out && !o->json && a->notes[0])
		fputs(a->notes, o->out);
	if (o->preen && !o->force && (a->sb.flags & JRX_SB_CLEAN)) {
		skip_clean(a, o, res);
		jrx_array_close(a);
		free(a);
		return 0;
	}
	if (!(a->sb.flags & JRX_SB_CLEAN) && !o->read_only) {
		struct jrx_recover_opts ro = { .memory_limit = o->memory_limit,
					       .scratch_dir = o->scratch_dir,
					       .threads = o->threads };
		struct jrx_report r;

		state = "recovered";
		jrx_report_init(&r, "accelerated");
		ret = jrx_recover_accelerated(a, &ro, &r, NULL);
		if (ret) {
			/* as with -n: passes 1 and 2 still say why */
			snprintf(why, sizeof(why), "%s", jrx_diag());
			view_err = ret;
		}
		/* the check goes on under the same exclusive claim: what the
		 * commit wrote is a->sb, on every copy */
		if (!view_err && !(a->sb.flags & JRX_SB_CLEAN)) {
			ret = jrx_fail(-JRX_ERR_NEEDS_RECOVERY, "%s: still unclean"
				       " after recovery", a->devs[0].path);
			jrx_array_close(a);
			free(a);
			return fail(res, o, state, ret);
		}
	} else if (!(a->sb.flags & JRX_SB_CLEAN)) {
		struct jrx_recover_opts vo = { .memory_limit = o->memory_limit,
					       .scratch_dir = o->scratch_dir,
					       .threads = o->threads };

		state = "dry_run";
		view = calloc(1, sizeof(*view));
		ret = view ? jrx_open_view_opts(a, view, NULL, &vo) :
			jrx_fail(-ENOMEM, "allocating the dry-run recovery's"
				 " view: %zu bytes", sizeof(*view));
		if (ret) {
			/* the superblock and journal passes still say why */
			snprintf(why, sizeof(why), "%s", jrx_diag());
			view_err = ret;
			free(view);
			view = NULL;
		}
	}
	if (!lo.state)
		lo.state = state;
	/* JSON is one object: when a repair may follow, the first check's
	 * object is held back and dropped if the re-check's replaces it */
	if (lo.json && lo.out && lo.repair != JRX_REPAIR_NONE && !o->read_only) {
		held = open_memstream(&held_text, &held_len);
		if (held)
			lo.out = held;
	}
	ret = fsck_check(a, view, &lo, res, view_err, why);
	if (held) {
		fclose(held);
		lo.out = o->out;
	}
	if (view_err == -JRX_ERR_JOURNAL_SEQ_MISSING && !o->read_only) {
		bool unexpected;
		unsigned fixes = jrx_pr_fixes(&res->counts, lo.repair,
					      &unexpected);

		if (unexpected && o->out && !o->json)
			fprintf(o->out, "UNEXPECTED INCONSISTENCY; RUN fsck.jrx"
				" MANUALLY (without -a or -p)\n");
		if (fixes & (1u << JRX_FIX_JOURNAL)) {
			/* JSON is one object: this re-check's is held back,
			 * and dropped if a repair round's replaces it */
			FILE *gh = lo.json && lo.out ?
				open_memstream(&gap_text, &gap_len) : NULL;

			if (gh)
				lo.out = gh;
			jrx_diag_clear();
			ret = recover_past_gap(a, o, &lo, res, gap_line,
					       sizeof(gap_line));
			if (gh) {
				fclose(gh);
				lo.out = o->out;
			}
			if (ret) {
				res->error = ret;
				res->exit_code |= 8;
			}
		}
	}
	if (!ret && !view && !o->read_only && (res->exit_code & 4))
		ret = repair(a, &lo, res);
	if (held_text && !res->repaired)
		fputs(held_text, o->out);
	if (gap_text && !(res->repaired & ~(1u << JRX_FIX_JOURNAL)))
		fputs(gap_text, o->out);
	free(held_text);
	free(gap_text);
	if (view) {
		jrx_fs_abandon(view);
		free(view);
	}
	jrx_array_close(a);
	free(a);
	return ret;
}
