/*
 * cmd_verify.c - `jrx verify --oracle FILE.sqlite [--max-diffs N] [--json]
 * DEV...`: compare the post-recovery view of an array (a clean array as it
 * is, an unclean one recovered in memory, nothing written) with the
 * durable operations a `jrx load --oracle` run recorded.
 *
 * Exit codes: 0 the store matches, 1 differences (the first N printed, one
 * a line: inum, name, field, expected vs found), 2 usage or operational
 * error (oracle missing or unreadable, device bad, recovery failed).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "cli.h"
#include "fsck/problems.h"
#include "jrx/errors.h"
#include "util/diag.h"
#include "btree/fs.h"
#include "recovery/recover.h"
#include "workload/verify.h"
#include "util/clock.h"

#define VERIFY_EXIT_DIFFERS 1
#define VERIFY_EXIT_ERROR   2

static void usage(FILE *f)
{
	fprintf(f, "usage: jrx verify --oracle FILE.sqlite [--max-diffs N] [--json]"
		" DEV...\n"
		"  --oracle FILE  the SQLite oracle written by 'jrx load --oracle'\n"
		"  --max-diffs N  print at most N differences (default 20)\n"
		"  --json         print the result as one JSON object\n"
		"An unclean array is recovered in memory first; nothing is written.\n"
		"Exit: 0 match, 1 differences, 2 error.\n");
}

static int op_error(const char *what, int err)
{
	const char *d = jrx_diag();

	fprintf(stderr, "jrx verify: ");
	if (what)
		fprintf(stderr, "%s: ", what);
	if (d && *d)
		fprintf(stderr, "%s\n", d);
	else
		fprintf(stderr, "%s\n", jrx_strerror(err));
	return VERIFY_EXIT_ERROR;
}

static void print_json(const struct jrx_verify_result *r, unsigned max,
		       double open_s, double verify_s)
{
	printf("{\"match\":%s,\"differences\":%" PRIu64 ",\"files\":%" PRIu64
	       ",\"inodes\":%" PRIu64 ",\"dirents\":%" PRIu64 ",\"xattrs\":%"
	       PRIu64 ",\"ops\":%" PRIu64 ",\"extents\":%" PRIu64
	       ",\"sectors\":%" PRIu64 ",\"open_seconds\":%.3f,"
	       "\"verify_seconds\":%.3f,\"diffs\":[",
	       r->diffs ? "false" : "true", r->diffs, r->files, r->inodes,
	       r->dirents, r->xattrs, r->ops, r->extents, r->sectors, open_s,
	       verify_s);
	for (unsigned i = 0; i < r->nr_kept && i < max; i++) {
		const struct jrx_verify_diff *d = &r->kept[i];

		printf("%s{\"inum\":%" PRIu64 ",\"field\":", i ? "," : "", d->inum);
		jrx_json_str(stdout, d->field);
		printf(",\"name\":");
		jrx_json_str(stdout, d->name);
		if (d->parent)
			printf(",\"dir\":%" PRIu64, d->parent);
		if (d->end)
			printf(",\"start\":%" PRIu64 ",\"end\":%" PRIu64,
			       d->start, d->end);
		printf(",\"expected\":");
		jrx_json_str(stdout, d->expected);
		printf(",\"found\":");
		jrx_json_str(stdout, d->found);
		printf("}");
	}
	printf("]}\n");
}

int cmd_verify(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "oracle", required_argument, NULL, 'O' },
		{ "max-diffs", required_argument, NULL, 'm' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct jrx_verify_opts vo = { .out = stdout, .max_diffs = 20 };
	struct jrx_verify_result r;
	const char *oracle = NULL;
	struct jrx_array a;
	struct jrx_fs fs;
	bool json = false;
	double t0, t1, t2;
	uint64_t v;
	int c, ret;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'O': oracle = optarg; break;
		case 'm':
			if (!cli_parse_u64(optarg, &v) || !v || v > 1000000) {
				fprintf(stderr, "jrx verify: bad value '%s'\n", optarg);
				return JRX_EXIT_USAGE;
			}
			vo.max_diffs = (unsigned)v;
			break;
		case 'j': json = true; break;
		case 'h': usage(stdout); return JRX_EXIT_OK;
		default: usage(stderr); return JRX_EXIT_USAGE;
		}
	}
	if (!oracle || optind >= argc) {
		fprintf(stderr, "jrx verify: %s\n", !oracle ? "--oracle FILE is"
			" required" : "no device given");
		fprintf(stderr, "jrx verify: %s\n", !oracle ?
			"--oracle FILE is required" : "no device given");
		usage(stderr);
		return JRX_EXIT_USAGE;
	}
	/* before any (possibly long) recovery: the oracle must be readable */
	if (access(oracle, R_OK)) {
		fprintf(stderr, "jrx verify: oracle %s: %s\n", oracle,
			strerror(errno));
		return VERIFY_EXIT_ERROR;
	}
	t0 = jrx_now();
	jrx_diag_clear();
	ret = jrx_array_open(&a, (const char *const *)(argv + optind),
			     (unsigned)(argc - optind), JRX_OPEN_RDONLY);
	if (ret)
		return op_error("cannot open the array", ret);
	if (a.notes[0])
		fprintf(stderr, "%s", a.notes);
	if (!(a.sb.flags & JRX_SB_CLEAN) && !json)
		fprintf(stderr, "jrx verify: array is unclean: recovering in"
			" memory (nothing is written)\n");
	ret = jrx_open_view(&a, &fs, NULL);
	if (ret) {
		jrx_array_close(&a);
		return op_error("cannot build the recovered view", ret);
	}
	t1 = jrx_now();
	if (json)
		vo.out = NULL;
	jrx_diag_clear();
	ret = jrx_verify(&fs, oracle, &vo, &r);
	t2 = jrx_now();
	jrx_fs_abandon(&fs);
	jrx_array_close(&a);
	if (ret < 0)
		return op_error(NULL, ret);
	if (json) {
		print_json(&r, vo.max_diffs, t1 - t0, t2 - t1);
	} else {
		if (r.diffs > vo.max_diffs)
			printf("... %" PRIu64 " more differences\n",
			       r.diffs - vo.max_diffs);
		char outcome[64];

		if (r.diffs)
			snprintf(outcome, sizeof(outcome), "%" PRIu64
				 " differences", r.diffs);
		else
			snprintf(outcome, sizeof(outcome), "match");
		printf("verify: %" PRIu64 " files, %" PRIu64 " xattrs, %" PRIu64
		       " extents (%" PRIu64 " sectors) against %" PRIu64
		       " data ops: %s (%.2f s recovery view, %.2f s compare)\n",
		       r.files, r.xattrs, r.extents, r.sectors, r.ops, outcome,
		       t1 - t0, t2 - t1);
	}
	return r.diffs ? VERIFY_EXIT_DIFFERS : JRX_EXIT_OK;
}
