/*
 * cmd_demo.c - `jrx demo`: the main job on a small default array.  Makes
 * a two-device array in a temporary directory, runs the workload with a
 * crash and a torn last jset, shows what the journal holds that the
 * btrees do not, then copies the crashed devices (sparse, copy.c) to a
 * second pair.  The first pair is recovered with the reference recovery,
 * the copy with the accelerated one (every online core), and their phase
 * timings are printed side by side with the speedup.  Both are checked:
 * fsck read-only, the oracle of durable operations, and a dump of every
 * btree of the one against the other, which must be identical.  Exit code
 * 0 only if every step passed; on failure the files are kept.
 *
 * Output fits 80 columns: a step label, its text, and its time ending at
 * column 79.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"
#include "demo.h"
#include "io/copy.h"
#include "btree/fs.h"
#include "format/bkey.h"
#include "util/clock.h"
#include "util/diag.h"
#include "util/json.h"
#include "fsck/fsck.h"
#include "recovery/recover.h"
#include "workload/inspect.h"
#include "workload/load.h"
#include "btree/mkfs.h"
#include "workload/verify.h"

static const char usage_text[] =
	"usage: jrx demo [--quick] [--keys N] [--ops N] [--seed S] [--dir DIR]"
	" [--keep] [--json]\n"
	"  Formats two 512 MiB sparse devices in DIR (default: a new\n"
	"  /tmp/jrx-demo.XXXXXX), loads N operations (default 20000, seed S)\n"
	"  with a power cut at 3/4 of them and the last jset torn, copies the\n"
	"  crashed devices, recovers the devices with the reference recovery\n"
	"  and the copy with the accelerated one (all online cores), prints\n"
	"  both phase timings side by side, and checks both arrays: fsck\n"
	"  read-only, the oracle of durable operations, identical dumps.\n"
	"  Then, at scale (not with --quick): a synth array with N journal\n"
	"  keys (--keys, default 2000000) over a btree as big, recovered by\n"
	"  both, with the speedup, the bytes moved and the I/O floor (the same\n"
	"  bytes with O_DIRECT), identical dumps and fsck; about 30 s on 2\n"
	"  cores, up to 16 GiB of sparse files (a few GiB written).\n"
	"  --keep keeps the temporary directory (a --dir is always kept).\n"
	"  --json prints one JSON object at the end (docs/REPORT.md); the\n"
	"  narrative then goes to stderr.\n"
	"  Exit code 0 only if every step passed.\n";

/* Files of the demo directory; the first four are the two arrays. */
enum { F_REF0, F_REF1, F_ACC0, F_ACC1, F_ORACLE, F_WAL, F_SHM, F_NR };
static const char *const demo_names[F_NR] = {
	"dev0.img", "dev1.img", "accel0.img", "accel1.img",
	"oracle.sqlite", "oracle.sqlite-wal", "oracle.sqlite-shm",
};

struct demo {
	const char	*dir;
	char		 path[F_NR][PATH_MAX];
	const char	*ref[2], *acc[2];	/* the two arrays */
	struct jrx_report rr, ra;		/* reference, accelerated */
};

/* "  label    text ...     1.234 s": secs < 0 for no time. */
void __attribute__((format(printf, 3, 4)))
demo_step(const char *label, double secs, const char *fmt, ...)
{
	char text[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (secs < 0)
		printf("  %-9s%s\n", label, text);
	else
		printf("  %-9s%-*s%8.3f s\n", label, DEMO_TEXT, text, secs);
}

static int demo_paths(struct demo *d, const char *dir)
{
	d->dir = dir;
	for (unsigned i = 0; i < F_NR; i++)
		if (snprintf(d->path[i], sizeof(d->path[i]), "%s/%s", dir,
			     demo_names[i]) >= (int)sizeof(d->path[i])) {
			fprintf(stderr, "jrx demo: %s: path too long\n", dir);
			return JRX_EXIT_USAGE;
		}
	d->ref[0] = d->path[F_REF0];
	d->ref[1] = d->path[F_REF1];
	d->acc[0] = d->path[F_ACC0];
	d->acc[1] = d->path[F_ACC1];
	return 0;
}

/* ------------------------------------------------------ crash and copy */

static int demo_format(struct demo *d)
{
	struct jrx_format_opts fo;
	double t = jrx_now();
	int ret;

	jrx_format_opts_default(&fo);
	fo.size = 512ull << 20;
	fo.bucket_size = 256u << 10;
	fo.btree_node_size = 32u << 10;
	fo.journal_size = 4u << 20;
	fo.replicas = 2;
	ret = jrx_format(d->ref, 2, &fo);
	if (ret)
		return cli_error("demo", ret);
	demo_step("format", jrx_now() - t,
	     "256 KiB buckets, 32 KiB btree nodes, 4 MiB journal/dev");
	demo_step("", -1, "2 metadata replicas: every jset is written to both"
	     " devices");
	return 0;
}

static int demo_load(struct demo *d, struct jrx_load_opts *lo)
{
	struct jrx_load_result lr;
	struct jrx_array a;
	double t = jrx_now();
	int ret;

	if (cli_open_array("demo", &a, (char **)d->ref, 2, 0))
		return JRX_EXIT_ERROR;
	ret = jrx_load(&a, lo, &lr);
	jrx_array_close(&a);
	if (ret)
		return cli_error("demo", ret);
	demo_step("load", jrx_now() - t, "%" PRIu64 " ops, power cut after op %"
	     PRIu64 ", last jset torn", lr.ops_done, lo->crash_after_ops);
	demo_step("", -1, "%" PRIu64 " jsets written, %" PRIu64 " reclaims, %"
	     PRIu64 " node splits, %" PRIu64 " node moves", lr.jsets,
	     lr.reclaims, lr.splits, lr.rewrites);
	demo_step("", -1, "oracle: %" PRIu64 " operations durable, %" PRIu64
	     " lost with the unwritten jsets", lr.ops_durable,
	     lr.ops_done - lr.ops_durable);
	return 0;
}

/* What the journal holds that the btrees do not. */
static int demo_journal(struct demo *d)
{
	struct jrx_journal_summary js;
	struct jrx_array a;
	double t = jrx_now();
	int ret;

	if (cli_open_array("demo", &a, (char **)d->ref, 2, JRX_OPEN_RDONLY))
		return JRX_EXIT_ERROR;
	ret = jrx_journal_summarize(&a, &js);
	jrx_array_close(&a);
	if (ret)
		return cli_error("demo", ret);
	demo_step("journal", jrx_now() - t, "%" PRIu64 " valid jset copies, %" PRIu64
	     " torn/bad, %.1f MiB read", js.jsets, js.bad,
	     (double)js.bytes_read / (1 << 20));
	demo_step("", -1, "replay range [%" PRIu64 ", %" PRIu64 "]: %" PRIu64
	     " leaf keys, %" PRIu64 " only in the journal", js.last_seq,
	     js.max_seq, js.live_keys, js.journal_only);
	return 0;
}

/* The crashed devices to the second pair, which the accelerated gets. */
static int demo_copy(struct demo *d)
{
	uint64_t total = 0, n;
	double t = jrx_now();
	int ret;

	for (unsigned i = 0; i < 2; i++) {
		jrx_diag_clear();
		ret = jrx_copy_sparse(d->ref[i], d->acc[i], &n);
		if (ret)
			return cli_error("demo", ret);
		total += n;
	}
	demo_step("copy", jrx_now() - t, "%s, %s -> %s, %s", demo_names[F_REF0],
	     demo_names[F_REF1], demo_names[F_ACC0], demo_names[F_ACC1]);
	demo_step("", -1, "%.1f MiB of data copied, the holes left as holes",
	     (double)total / (1 << 20));
	return 0;
}

/* ------------------------------------------------------------ recover */

/* A time in the table's unit: ms, or s when the reference took >= 10 s. */
static void fmt_time(char *buf, size_t len, double s, bool ms)
{
	if (ms)
		snprintf(buf, len, "%.2f ms", s * 1e3);
	else
		snprintf(buf, len, "%.2f s", s);
}

/* ref / acc as "4.2x" ("0.31x" below 1), "-" without both times. */
void demo_fmt_speedup(char *buf, size_t len, double ref, double acc)
{
	if (ref > 0 && acc > 0)
		snprintf(buf, len, ref < acc ? "%.2fx" : "%.1fx", ref / acc);
	else
		snprintf(buf, len, "-");
}

void demo_fmt_mib(char *buf, size_t len, uint64_t bytes)
{
	if (bytes)
		snprintf(buf, len, "%.1f MiB", (double)bytes / (1 << 20));
	else
		snprintf(buf, len, "-");
}

static void row(const char *name, const char *ref, const char *acc,
		const char *speedup)
{
	printf("%11s%-14s%12s%14s", "", name, ref, acc);
	if (*speedup)
		printf("%10s", speedup);
	printf("\n");
}

/* The two reports side by side. */
void demo_table(const struct jrx_report *rr,
		       const struct jrx_report *ra)
{
	static const unsigned phases[] = {
		JRX_PHASE_JOURNAL_READ, JRX_PHASE_SORT, JRX_PHASE_REPLAY,
		JRX_PHASE_COMMIT,
	};
	bool ms = rr->total_seconds < 10;
	char a[32], b[32], s[32];

	printf("\n");
	row("phase", "reference", "accelerated", "speedup");
	printf("%11s%.50s\n", "", "-----------------------------------------"
	       "---------");
	for (unsigned i = 0; i < sizeof(phases) / sizeof(phases[0]); i++) {
		unsigned p = phases[i];

		fmt_time(a, sizeof(a), rr->phase[p], ms);
		fmt_time(b, sizeof(b), ra->phase[p], ms);
		demo_fmt_speedup(s, sizeof(s), rr->phase[p], ra->phase[p]);
		row(jrx_phase_names[p], a, b, s);
	}
	fmt_time(a, sizeof(a), rr->total_seconds, ms);
	fmt_time(b, sizeof(b), ra->total_seconds, ms);
	demo_fmt_speedup(s, sizeof(s), rr->total_seconds, ra->total_seconds);
	row("total", a, b, s);
	snprintf(a, sizeof(a), "%" PRIu64, rr->keys_read);
	snprintf(b, sizeof(b), "%" PRIu64, ra->keys_read);
	row("keys read", a, b, "");
	snprintf(a, sizeof(a), "%" PRIu64, rr->keys_after_dedup);
	snprintf(b, sizeof(b), "%" PRIu64, ra->keys_after_dedup);
	row("after dedup", a, b, "");
	printf("\n");
}

/* The reference on the devices, the accelerated on the copy. */
static int demo_recover(struct demo *d)
{
	struct jrx_recover_opts ro = { .reference = true };
	struct jrx_recover_opts ao = { .reference = false }; /* every core */
	char a[32], b[32];
	int ret;

	demo_step("recover", -1, "reference on dev0/1.img, accelerated on"
	     " accel0/1.img");
	ret = cli_recover("demo", (char **)d->ref, 2, &ro, &d->rr);
	ret |= cli_recover("demo", (char **)d->acc, 2, &ao, &d->ra);
	if (ret)
		return JRX_EXIT_ERROR;
	demo_table(&d->rr, &d->ra);
	demo_step("", -1, "accelerated: %s reads, %u thread%s (all cores)%s%s%s",
	     d->ra.io_backend, d->ra.threads, d->ra.threads == 1 ? "" : "s",
	     d->ra.replay_mode ? ", " : "",
	     d->ra.replay_mode ? d->ra.replay_mode : "",
	     d->ra.replay_mode ? " replay" : "");
	if (d->ra.io_fallback[0])
		demo_step("", -1, "(%s)", d->ra.io_fallback);
	/* one process for the load and both recoveries: its peak so far */
	demo_fmt_mib(a, sizeof(a), d->rr.peak_rss_bytes);
	demo_fmt_mib(b, sizeof(b), d->ra.peak_rss_bytes);
	demo_step("", -1, "process peak RSS: %s after the reference, %s after both",
	     a, b);
	if (d->rr.new_journal_seq == d->ra.new_journal_seq)
		demo_step("", -1, "both: next journal at seq %" PRIu64 ", past a"
		     " blacklist of %u seqs", d->rr.new_journal_seq,
		     JRX_JOURNAL_PAD - 1);
	else
		demo_step("", -1, "next journal at seq %" PRIu64 " (reference), %"
		     PRIu64 " (accelerated)", d->rr.new_journal_seq,
		     d->ra.new_journal_seq);
	return 0;
}

/* -------------------------------------------------------------- check */

/* fsck read-only of one recovered array; its lines only on a problem. */
int demo_fsck(const char *who, const char *const *paths)
{
	struct jrx_fsck_opts fo;
	struct jrx_fsck_result fr;
	uint64_t nodes = 0, keys = 0;
	double t = jrx_now();
	char *log = NULL;
	size_t log_len = 0;
	int ret;

	jrx_fsck_opts_default(&fo);
	fo.read_only = true;
	fo.out = open_memstream(&log, &log_len);
	if (!fo.out) {
		perror("jrx demo: open_memstream");
		return JRX_EXIT_ERROR;
	}
	jrx_diag_clear();
	ret = jrx_fsck_run(paths, 2, &fo, &fr);
	if (fclose(fo.out) && !ret) {
		perror("jrx demo: fsck log");
		free(log);
		return JRX_EXIT_ERROR;
	}
	if ((ret || fr.exit_code) && log)
		fputs(log, stdout);
	free(log);
	if (ret)
		return cli_error("demo", ret);
	for (unsigned i = 0; i < JRX_BTREE_NR; i++) {
		nodes += fr.nodes[i];
		keys += fr.keys[i];
	}
	demo_step("", jrx_now() - t, "%-13s%" PRIu64 " nodes, %" PRIu64 " keys: %s",
	     who, nodes, keys, fr.exit_code ? "PROBLEMS FOUND" : "no problem");
	return fr.exit_code ? JRX_EXIT_ERROR : 0;
}

/* The oracle check of one recovered array; the header line first if
 * *header, which is then cleared. */
static int demo_verify(const char *who, const char *const *paths,
		       const char *oracle, bool *header)
{
	struct jrx_verify_opts vo = { .out = stdout, .max_diffs = 10 };
	struct jrx_verify_result vr;
	struct jrx_array a;
	struct jrx_fs fs;
	double t = jrx_now();
	int ret;

	if (cli_open_array("demo", &a, (char **)paths, 2, JRX_OPEN_RDONLY))
		return JRX_EXIT_ERROR;
	ret = jrx_fs_open(&fs, &a, JRX_FS_RDONLY);
	if (!ret) {
		ret = jrx_verify(&fs, oracle, &vo, &vr);
		jrx_fs_abandon(&fs);
	}
	jrx_array_close(&a);
	if (ret < 0)
		return cli_error("demo", ret);
	if (*header)
		demo_step("verify", -1, "oracle: %" PRIu64 " files, %" PRIu64
		     " xattrs, %" PRIu64 " data sectors", vr.files, vr.xattrs,
		     vr.sectors);
	*header = false;
	demo_step("", jrx_now() - t, "%-13s%s", who, ret ? "DURABLE DATA LOST" :
	     "every durable operation is there");
	return ret ? JRX_EXIT_ERROR : 0;
}

struct dump {
	struct cli_dump	 out;		/* into text */
	char		*text;
	size_t		 len;
};

/* Every key of every btree of a clean array, as `jrx dump` prints them. */
static int demo_dump(const char *const *paths, struct dump *d)
{
	int ret;

	memset(d, 0, sizeof(*d));
	d->out.f = open_memstream(&d->text, &d->len);
	if (!d->out.f) {
		perror("jrx demo: open_memstream");
		return JRX_EXIT_ERROR;
	}
	ret = cli_dump_array("demo", paths, 2, &d->out);
	if (fclose(d->out.f) && !ret) {
		perror("jrx demo: dump");
		ret = JRX_EXIT_ERROR;
	}
	d->out.f = NULL;
	return ret;
}

/* Line number and start of the first line where two texts differ. */
static size_t first_diff(const char *x, const char *y, const char **lx,
			 const char **ly)
{
	const char *a = x, *b = y;
	size_t line = 1;

	while (*a && *a == *b) {
		if (*a == '\n')
			line++;
		a++;
		b++;
	}
	while (a > x && a[-1] != '\n')
		a--;
	while (b > y && b[-1] != '\n')
		b--;
	*lx = a;
	*ly = b;
	return line;
}

static void print_line(const char *who, const char *l)
{
	int n = (int)strcspn(l, "\n");

	demo_step("", -1, "%-13s%.*s", who, n, *l ? l : "(end of the dump)");
}

/* The two recovered arrays must dump identically. */
static int demo_compare(struct demo *d)
{
	struct dump x, y;
	const char *lx, *ly;
	double t = jrx_now();
	int ret;

	ret = demo_dump(d->ref, &x);
	if (!ret)
		ret = demo_dump(d->acc, &y);
	else
		y.text = NULL;
	if (!ret && (x.len != y.len || memcmp(x.text, y.text, x.len))) {
		size_t line = first_diff(x.text, y.text, &lx, &ly);

		demo_step("dump", jrx_now() - t, "DUMPS DIFFER at line %zu (%"
		     PRIu64 " and %" PRIu64 " keys)", line, x.out.keys, y.out.keys);
		print_line("reference:", lx);
		print_line("accelerated:", ly);
		ret = JRX_EXIT_ERROR;
	} else if (!ret) {
		demo_step("dump", jrx_now() - t, "dumps identical: %" PRIu64
		     " keys in %u btrees", x.out.keys, (unsigned)JRX_BTREE_NR);
	}
	free(x.text);
	free(y.text);
	return ret;
}

/* fsck, oracle and dump checks of both arrays: every one runs. */
static int demo_check(struct demo *d)
{
	const char *orc = d->path[F_ORACLE];
	bool header = true;
	int ret = 0;

	demo_step("fsck", -1, "read-only, 6 passes");
	if (demo_fsck("reference:", d->ref))
		ret = JRX_EXIT_ERROR;
	if (demo_fsck("accelerated:", d->acc))
		ret = JRX_EXIT_ERROR;
	if (demo_verify("reference:", d->ref, orc, &header))
		ret = JRX_EXIT_ERROR;
	if (demo_verify("accelerated:", d->acc, orc, &header))
		ret = JRX_EXIT_ERROR;
	if (demo_compare(d))
		ret = JRX_EXIT_ERROR;
	return ret;
}

/* ---------------------------------------------------------------- main */

static void demo_remove(struct demo *d)
{
	for (unsigned i = 0; i < F_NR; i++)
		if (unlink(d->path[i]) && errno != ENOENT)
			fprintf(stderr, "jrx demo: cannot remove %s: %s\n",
				d->path[i], strerror(errno));
	if (rmdir(d->dir) == 0)
		printf("(removed %s; run with --keep to inspect it)\n", d->dir);
	else
		fprintf(stderr, "jrx demo: cannot remove %s: %s\n", d->dir,
			strerror(errno));
}

static void demo_done(struct demo *d)
{
	char s[32];

	demo_fmt_speedup(s, sizeof(s), d->rr.total_seconds, d->ra.total_seconds);
	printf("\nRecovered both ways: each array is clean and holds every"
	       " durable operation,\nand the two dump identically.  Speedup of"
	       " the whole recovery of the small array\n(milliseconds each,"
	       " so mostly fixed costs): %s.\n", s);
}

/* demo --json: what both acts measured, as one object. */
static void demo_json(FILE *f, const struct demo *d,
		      const struct jrx_load_opts *lo,
		      const struct demo_scale_result *sr, bool keep, int ret)
{
	fprintf(f, "{\"result\":\"%s\",\"exit_code\":%d,\"dir\":",
		ret ? "failed" : "ok", ret);
	jrx_json_str(f, d->dir);
	fprintf(f, ",\"kept\":%s,\"small\":{\"ops\":%" PRIu64
		",\"seed\":%" PRIu64 ",\"speedup\":%.3f,\"reference\":",
		keep || ret ? "true" : "false", lo->ops, lo->seed,
		d->ra.total_seconds > 0 ?
		d->rr.total_seconds / d->ra.total_seconds : 0);
	jrx_report_print_json(&d->rr, f);
	fprintf(f, ",\"accelerated\":");
	jrx_report_print_json(&d->ra, f);
	fprintf(f, "}");
	if (sr) {
		fprintf(f, ",\"scale\":{\"keys\":%" PRIu64 ",\"speedup\":%.3f"
			",\"floor_seconds\":%.6f,\"x_floor\":%.3f,"
			"\"dump_keys\":%" PRIu64 ",\"reference\":", sr->keys,
			sr->speedup, sr->floor_seconds > 0 ? sr->floor_seconds : 0,
			sr->floor_seconds > 0 ?
			sr->ra.total_seconds / sr->floor_seconds : 0,
			sr->dump_keys);
		jrx_report_print_json(&sr->rr, f);
		fprintf(f, ",\"accelerated\":");
		jrx_report_print_json(&sr->ra, f);
		fprintf(f, "}");
	}
	fprintf(f, "}\n");
}

int cmd_demo(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ops", required_argument, NULL, 'o' },
		{ "seed", required_argument, NULL, 's' },
		{ "dir", required_argument, NULL, 'd' },
		{ "keep", no_argument, NULL, 'k' },
		{ "quick", no_argument, NULL, 'q' },
		{ "keys", required_argument, NULL, 'K' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	char tmpl[] = "/tmp/jrx-demo.XXXXXX";
	const char *dir = NULL;
	struct demo d = { 0 };
	struct jrx_load_opts lo;
	bool keep = false, quick = false, json = false;
	uint64_t keys = 2000000;
	struct demo_scale_result *sr = NULL;
	FILE *jout = NULL;
	int c, ret;

	jrx_load_opts_default(&lo);
	lo.ops = 20000;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			if (!cli_parse_u64(optarg, &lo.ops) || lo.ops < 10)
				goto usage;
			break;
		case 's':
			if (!cli_parse_u64(optarg, &lo.seed))
				goto usage;
			break;
		case 'd': dir = optarg; break;
		case 'k': keep = true; break;
		case 'q': quick = true; break;
		case 'j': json = true; break;
		case 'K':
			if (!cli_parse_u64(optarg, &keys) || keys < 1000 ||
			    keys > 50000000)
				goto usage;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return JRX_EXIT_OK;
		default:
			goto usage;
		}
	}
	if (optind < argc)
		goto usage;
	if (!dir) {
		dir = mkdtemp(tmpl);
		if (!dir) {
			perror("jrx demo: mkdtemp");
			return JRX_EXIT_ERROR;
		}
	} else {
		keep = true;
	}
	ret = demo_paths(&d, dir);
	if (ret)
		return ret;
	lo.crash_after_ops = lo.ops * 3 / 4;
	lo.torn = true;
	lo.oracle = d.path[F_ORACLE];

	if (json) {	/* stdout keeps the JSON; the narrative goes to stderr */
		int fd = dup(STDOUT_FILENO);

		if (fd < 0 || !(jout = fdopen(fd, "w")) ||
		    dup2(STDERR_FILENO, STDOUT_FILENO) < 0) {
			perror("jrx demo: --json");
			return JRX_EXIT_ERROR;
		}
	}
	if (!quick && !(sr = calloc(1, sizeof(*sr)))) {
		perror("jrx demo");
		return JRX_EXIT_ERROR;
	}
	/* a line at a time: error lines (stderr) land where they happen */
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("jrx demo: two 512 MiB sparse devices in %s\n", dir);
	ret = demo_format(&d);
	if (!ret)
		ret = demo_load(&d, &lo);
	if (!ret)
		ret = demo_journal(&d);
	if (!ret)
		ret = demo_copy(&d);
	if (!ret)
		ret = demo_recover(&d);
	if (!ret)
		ret = demo_check(&d);
	if (!ret && !quick)
		ret = demo_scale(dir, keys, lo.seed, keep, sr);
	if (jout) {
		demo_json(jout, &d, &lo, quick ? NULL : sr, keep, ret);
		fclose(jout);
	}
	if (ret) {
		fprintf(stderr, "\njrx demo: FAILED; the files are kept in %s\n",
			dir);
		free(sr);
		return ret;
	}
	demo_done(&d);
	if (sr && sr->speedup > 0)
		printf("At scale (%" PRIu64 " journal keys): %.1fx faster than the"
		       " reference, same result.\n", keys, sr->speedup);
	free(sr);
	if (keep)
		printf("Inspect them with:\n  jrx dump %s %s\n  jrx dump %s %s\n",
		       d.ref[0], d.ref[1], d.acc[0], d.acc[1]);
	else
		demo_remove(&d);
	return JRX_EXIT_OK;
usage:
	fputs(usage_text, stderr);
	return JRX_EXIT_USAGE;
}
