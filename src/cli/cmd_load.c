/* cmd_load.c - `jrx load`: run the mixed workload, optionally crashing. */
#include <getopt.h>
#include <stdio.h>
#include <inttypes.h>
#include "cli.h"
#include "progress.h"
#include "util/clock.h"
#include "util/json.h"
#include "workload/load.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: jrx load --ops N [--seed S] [--crash-after-ops K |"
		" --crash-after-jsets K] [--torn]\n"
		"                [--oracle FILE.sqlite] [--flush-every N] [--json] DEV...\n"
		"  --ops N               operations to run (default 1000)\n"
		"  --crash-after-ops K   stop after K operations, as a power cut would\n"
		"  --crash-after-jsets K stop after the K-th jset reached the devices\n"
		"  --torn                at the crash, leave the next jset half written\n"
		"  --oracle FILE         record every durable operation in SQLite\n"
		"  --flush-every N       close a jset every N operations (default 16)\n"
		"Without a crash option the array is shut down cleanly.\n");
}

static void show_progress(void *ctx, uint64_t done, uint64_t total)
{
	cli_progress_named(ctx, "load", "operations", done, total);
}

int cmd_load(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ops", required_argument, NULL, 'o' },
		{ "seed", required_argument, NULL, 's' },
		{ "crash-after-ops", required_argument, NULL, 'c' },
		{ "crash-after-jsets", required_argument, NULL, 'J' },
		{ "torn", no_argument, NULL, 't' },
		{ "oracle", required_argument, NULL, 'O' },
		{ "flush-every", required_argument, NULL, 'f' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct jrx_load_opts o;
	struct cli_progress prog;
	struct jrx_load_result r;
	struct jrx_array a;
	bool json = false;
	uint64_t v;
	int c, ret;

	jrx_load_opts_default(&o);
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'o': if (!cli_parse_u64(optarg, &o.ops)) goto bad; break;
		case 's': if (!cli_parse_u64(optarg, &o.seed)) goto bad; break;
		case 'c':
			if (!cli_parse_u64(optarg, &o.crash_after_ops) ||
			    !o.crash_after_ops)
				goto bad;
			break;
		case 'J':
			if (!cli_parse_u64(optarg, &o.crash_after_jsets) ||
			    !o.crash_after_jsets)
				goto bad;
			break;
		case 't': o.torn = true; break;
		case 'O': o.oracle = optarg; break;
		case 'f': if (!cli_parse_u64(optarg, &v) || !v || v > 1000000)
				goto bad;
			  o.flush_every = (uint32_t)v; break;
		case 'j': json = true; break;
		case 'h': usage(stdout); return JRX_EXIT_OK;
		default: usage(stderr); return JRX_EXIT_USAGE;
		}
		continue;
bad:
		fprintf(stderr, "jrx load: bad value '%s'\n", optarg);
		return JRX_EXIT_USAGE;
	}
	if (optind >= argc) {
		fprintf(stderr, "jrx load: no device given\n");
		usage(stderr);
		return JRX_EXIT_USAGE;
	}
	if (o.crash_after_ops && o.crash_after_jsets) {
		fprintf(stderr, "jrx load: give one crash point, not both\n");
		return JRX_EXIT_USAGE;
	}
	if (o.torn && !o.crash_after_ops && !o.crash_after_jsets) {
		fprintf(stderr, "jrx load: --torn needs a crash point\n");
		return JRX_EXIT_USAGE;
	}
	if (cli_open_array("load", &a, argv + optind, argc - optind, 0))
		return JRX_EXIT_ERROR;
	/* a terminal on stderr sees the operations go by */
	cli_progress_init(&prog, -1, NULL, argv[optind]);
	o.progress = show_progress;
	o.progress_ctx = &prog;
	ret = jrx_load(&a, &o, &r);
	cli_progress_end(&prog);
	jrx_array_close(&a);
	if (ret)
		return cli_error("load", ret);
	if (json) {
		printf("{\"ops\":%" PRIu64 ",\"ops_durable\":%" PRIu64 ",\"jsets\":%"
		       PRIu64 ",\"journal_bytes\":%" PRIu64 ",\"keys\":{\"written\":%"
		       PRIu64 "},\"seq_durable\":%" PRIu64 ",\"splits\":%" PRIu64
		       ",\"rewrites\":%" PRIu64 ",\"reclaims\":%" PRIu64
		       ",\"crashed\":%s,\"torn\":%s,\"total_seconds\":%.6f,"
		       "\"peak_rss_bytes\":%" PRIu64 ",\"oracle\":",
		       r.ops_done, r.ops_durable, r.jsets, r.journal_bytes, r.keys,
		       r.last_durable_seq, r.splits, r.rewrites, r.reclaims,
		       r.crashed ? "true" : "false", r.torn ? "true" : "false",
		       r.seconds, jrx_peak_rss());
		jrx_json_str_or_null(stdout, o.oracle);
		printf("}\n");
		return JRX_EXIT_OK;
	}
	printf("%" PRIu64 " ops (%s), %" PRIu64 " jsets, %" PRIu64 " keys,"
	       " %" PRIu64 " journal bytes, last durable seq %" PRIu64
	       "; %" PRIu64 " splits, %" PRIu64 " node rewrites, %" PRIu64
	       " reclaims; %.2f s\n", r.ops_done,
	       r.crashed ? (r.torn ? "crashed, last jset torn" : "crashed")
	       : "clean shutdown", r.jsets, r.keys, r.journal_bytes,
	       r.last_durable_seq, r.splits, r.rewrites, r.reclaims,
	       r.seconds);
	if (o.oracle)
		printf("oracle %s: %" PRIu64 " durable operations\n", o.oracle,
		       r.ops_durable);
	return JRX_EXIT_OK;
}
