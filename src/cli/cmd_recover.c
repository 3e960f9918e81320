/*
 * cmd_recover.c - `jrx recover [options] DEV...`: replay the journal of a
 * crashed array and commit the result (the accelerated pipeline unless
 * --reference), or with --dry-run report what would be replayed without
 * writing anything.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include "cli.h"
#include "progress.h"
#include "jrx/errors.h"
#include "util/diag.h"
#include "recovery/recover.h"

static const char usage_text[] =
	"usage: jrx recover [options] DEV...\n"
	"  --reference        the sequential reference recovery (the oracle)\n"
	"  -n, --dry-run      replay in memory only, write nothing, report\n"
	"  --json             print the report as one JSON object\n"
	"  --wait             wait while another process holds a device\n"
	"                     (default: refuse at once, naming it)\n"
	"  --degraded         with --dry-run: run with a member missing when\n"
	"                     the journal's replicas hold every jset; btree\n"
	"                     nodes on the missing member cannot be read\n"
	"accelerated recovery:\n"
	"  --io=auto|uring|aio|pread  journal reads' and replay writes' kernel\n"
	"                     interface (auto: io_uring, else aio, else pread)\n"
	"  --threads N        workers per stage (default: online cores)\n"
	"  --full-scan        read every journal bucket instead of bisecting\n"
	"                     the ring for the live range\n"
	"  --numa auto|off    replay workers pinned one group per NUMA node,\n"
	"                     memory from their node (auto), or not pinned\n"
	"  --replay-unit N    replay work units of at most N journal keys\n"
	"                     (default: balanced automatically)\n"
	"  --memory-limit SIZE  the recovery's memory, RSS included (K/M/G;\n"
	"                     default 70% of MemAvailable): a journal that\n"
	"                     does not fit is sorted in runs spilled to disk\n"
	"  --scratch DIR      where spilled runs go (default $TMPDIR, else\n"
	"                     /var/tmp); an unlinked file, gone at exit\n"
	"  --stop-after journal_read|sort\n"
	"                     dry runs: stop after that phase (benchmarks,\n"
	"                     profiles)\n";

int cli_recover(const char *cmd, char **paths, int n,
		const struct jrx_recover_opts *o, struct jrx_report *r)
{
	struct jrx_array a;
	int ret;

	jrx_diag_clear();
	ret = jrx_recover_open(&a, (const char *const *)paths, (unsigned)n, o, r);
	if (ret)
		return cli_error(cmd, ret);
	cli_print_notes(&a);
	ret = jrx_recover(&a, o, r, NULL);
	jrx_array_close(&a);
	return ret ? cli_error(cmd, ret) : JRX_EXIT_OK;
}

static int bad_value(const char *opt, const char *v)
{
	jrx_fail(-JRX_ERR_BAD_OPTION, "%s: bad value '%s'", opt, v);
	cli_error("recover", -JRX_ERR_BAD_OPTION);
	return JRX_EXIT_USAGE;
}

int cmd_recover(int argc, char **argv)
{
	enum { O_REF = 256, O_JSON, O_IO, O_THREADS, O_FULL, O_STOP, O_NUMA,
	       O_UNIT, O_WAIT, O_MEM, O_SCRATCH, O_DEGRADED };
	static const struct option opts[] = {
		{ "reference", no_argument, NULL, O_REF },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "json", no_argument, NULL, O_JSON },
		{ "io", required_argument, NULL, O_IO },
		{ "threads", required_argument, NULL, O_THREADS },
		{ "full-scan", no_argument, NULL, O_FULL },
		{ "stop-after", required_argument, NULL, O_STOP },
		{ "numa", required_argument, NULL, O_NUMA },
		{ "replay-unit", required_argument, NULL, O_UNIT },
		{ "wait", no_argument, NULL, O_WAIT },
		{ "degraded", no_argument, NULL, O_DEGRADED },
		{ "memory-limit", required_argument, NULL, O_MEM },
		{ "scratch", required_argument, NULL, O_SCRATCH },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct jrx_recover_opts o = { 0 };
	struct jrx_report r;
	struct cli_progress prog;
	bool json = false;
	uint64_t v;
	int c, ret;

	optind = 1;
	while ((c = getopt_long(argc, argv, "hn", opts, NULL)) != -1) {
		switch (c) {
		case O_REF:
			o.reference = true;
			break;
		case 'n':
			o.dry_run = true;
			break;
		case O_JSON:
			json = true;
			break;
		case O_IO:
			ret = jrx_io_backend_parse(optarg);
			if (ret < 0)
				return bad_value("--io", optarg);
			o.io = (enum jrx_io_backend)ret;
			break;
		case O_THREADS:
			if (!cli_parse_u64(optarg, &v) || !v || v > 1024)
				return bad_value("--threads", optarg);
			o.threads = (unsigned)v;
			break;
		case O_FULL:
			o.full_scan = true;
			break;
		case O_WAIT:
			o.wait = true;
			break;
		case O_DEGRADED:
			o.degraded = true;
			break;
		case O_NUMA:
			if (!strcmp(optarg, "auto"))
				o.numa = JRX_NUMA_AUTO;
			else if (!strcmp(optarg, "off"))
				o.numa = JRX_NUMA_OFF;
			else
				return bad_value("--numa", optarg);
			break;
		case O_UNIT:
			if (!cli_parse_u64(optarg, &v) || !v || v > UINT32_MAX)
				return bad_value("--replay-unit", optarg);
			o.replay_unit = (unsigned)v;
			break;
		case O_MEM:
			if (!cli_parse_size(optarg, &v) || !v)
				return bad_value("--memory-limit", optarg);
			o.memory_limit = v;
			break;
		case O_SCRATCH:
			o.scratch_dir = optarg;
			break;
		case O_STOP:
			if (!strcmp(optarg, "journal_read"))
				o.stop_after = JRX_STOP_JOURNAL_READ;
			else if (!strcmp(optarg, "sort"))
				o.stop_after = JRX_STOP_SORT;
			else
				return bad_value("--stop-after", optarg);
			break;
		default:
			fputs(usage_text, c == 'h' ? stdout : stderr);
			return c == 'h' ? JRX_EXIT_OK : JRX_EXIT_USAGE;
		}
	}
	if (o.reference && (o.memory_limit || o.scratch_dir)) {
		jrx_fail(-JRX_ERR_BAD_OPTION, "--memory-limit and --scratch are"
			 " the accelerated recovery's: the reference keeps the"
			 " whole journal in memory");
		cli_error("recover", -JRX_ERR_BAD_OPTION);
		return JRX_EXIT_USAGE;
	}
	if (optind >= argc) {
		fprintf(stderr, "jrx recover: no device given\n");
		fputs(usage_text, stderr);
		return JRX_EXIT_USAGE;
	}
	if (o.degraded && !o.dry_run) {
		fputs("jrx recover: --degraded needs --dry-run: a recovery"
		      " writes to every member, and a missing one would come"
		      " back inconsistent (the format cannot mark it failed);"
		      " give every member to recover\n", stderr);
		return JRX_EXIT_USAGE;
	}
	if (o.stop_after && !o.dry_run) {
		fputs("jrx recover: --stop-after needs --dry-run\n", stderr);
		return JRX_EXIT_USAGE;
	}
	/* a terminal on stderr sees the phases go by */
	cli_progress_init(&prog, -1, NULL, argv[optind]);
	o.progress = cli_progress_recover;
	o.progress_ctx = &prog;
	ret = cli_recover("recover", argv + optind, argc - optind, &o, &r);
	cli_progress_end(&prog);
	if (ret)
		return ret;
	if (json)
		jrx_report_print_json(&r, stdout);
	else
		jrx_report_print_text(&r, stdout);
	return JRX_EXIT_OK;
}
