/*
 * cmd_demo.c - `jrx demo`: the main job on a small default array.  Makes
 * a two-device array in a temporary directory, runs the workload with a
 * crash and a torn last jset, shows what the journal holds that the
 * btrees do not, recovers it with the reference recovery, checks it with
 * fsck and against the oracle of durable operations, and prints the phase
 * timings.  Exit code 0 only if every step passed.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <inttypes.h>
#include "cli.h"
#include "fsck/fsck.h"
#include "recovery/recover.h"
#include "workload/verify.h"
#include "workload/inspect.h"
#include "workload/load.h"
#include "workload/mkfs.h"
#include "format/clock.h"

/* Reference recovery, then its report. */
static int demo_recover(const char *const *paths)
{
	struct jrx_recover_opts o = { .reference = true };
	struct jrx_report r;
	int ret = cli_recover("demo", (char **)paths, 2, &o, &r);

	if (ret)
		return ret;
	printf("  recover  reference: %" PRIu64 " journal keys, %" PRIu64
	       " after dedup, replayed and committed      %8.3f s\n",
	       r.keys_read, r.keys_after_dedup, r.total_seconds);
	printf("           phases:");
	for (unsigned i = 0; i < JRX_PHASE_NR; i++)
		printf(" %s %.3f s%s", jrx_phase_names[i], r.phase[i],
		       i + 1 < JRX_PHASE_NR ? "," : "\n");
	printf("           the next journal starts at seq %" PRIu64 " behind a"
	       " blacklist of the %u seqs past the crash\n",
	       r.new_journal_seq, JRX_JOURNAL_PAD - 1);
	return 0;
}

/* fsck of the recovered array, then the oracle check. */
static int demo_check(const char *const *paths, const char *oracle)
{
	struct jrx_fsck_opts fo;
	struct jrx_fsck_result fr;
	struct jrx_verify_opts vo = { .out = stdout, .max_diffs = 10 };
	struct jrx_verify_result vr;
	struct jrx_array a;
	struct jrx_fs fs;
	uint64_t nodes = 0, keys = 0;
	double t = jrx_now();
	int ret;

	char *log = NULL;
	size_t log_len = 0;

	/* fsck's own lines are shown only if it finds something */
	jrx_fsck_opts_default(&fo);
	fo.read_only = true;
	fo.out = open_memstream(&log, &log_len);
	ret = jrx_fsck_run(paths, 2, &fo, &fr);
	if (fo.out)
		fclose(fo.out);
	if (fr.exit_code && log)
		fputs(log, stdout);
	free(log);
	if (ret)
		return cli_error("demo", ret);
	for (unsigned i = 0; i < JRX_BTREE_NR; i++) {
		nodes += fr.nodes[i];
		keys += fr.keys[i];
	}
	printf("  fsck     %" PRIu64 " nodes, %" PRIu64 " keys in 6 passes: %s"
	       "               %8.3f s\n", nodes, keys,
	       fr.exit_code ? "PROBLEMS FOUND" : "no problem", jrx_now() - t);
	if (fr.exit_code)
		return JRX_EXIT_ERROR;

	t = jrx_now();
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
	printf("  verify   oracle: %" PRIu64 " files, %" PRIu64 " xattrs, %"
	       PRIu64 " data sectors: %s   %8.3f s\n", vr.files, vr.xattrs,
	       vr.sectors, ret ? "DURABLE DATA LOST" : "every durable operation"
	       " is there", jrx_now() - t);
	return ret ? JRX_EXIT_ERROR : 0;
}

int cmd_demo(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ops", required_argument, NULL, 'o' },
		{ "seed", required_argument, NULL, 's' },
		{ "dir", required_argument, NULL, 'd' },
		{ "keep", no_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	char tmpl[] = "/tmp/jrx-demo.XXXXXX", p0[4200], p1[4200], orc[4200];
	const char *dir = NULL, *paths[2] = { p0, p1 };
	struct jrx_format_opts fo;
	struct jrx_load_opts lo;
	struct jrx_load_result lr;
	struct jrx_journal_summary js;
	struct jrx_array a;
	bool keep = false;
	double t0, t_format, t_load, t_scan;
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
		case 'h':
			printf("usage: jrx demo [--ops N] [--seed S] [--dir DIR] [--keep]\n");
			return JRX_EXIT_OK;
		default:
			goto usage;
		}
	}
	if (!dir) {
		dir = mkdtemp(tmpl);
		if (!dir) {
			perror("jrx demo: mkdtemp");
			return JRX_EXIT_ERROR;
		}
	}
	snprintf(p0, sizeof(p0), "%s/dev0.img", dir);
	snprintf(p1, sizeof(p1), "%s/dev1.img", dir);
	snprintf(orc, sizeof(orc), "%s/oracle.sqlite", dir);
	lo.crash_after_ops = lo.ops * 3 / 4;
	lo.torn = true;
	lo.oracle = orc;

	printf("jrx demo: two 512 MiB sparse devices in %s\n", dir);
	jrx_format_opts_default(&fo);
	fo.size = 512ull << 20;
	fo.bucket_size = 256u << 10;
	fo.btree_node_size = 32u << 10;
	fo.journal_size = 4u << 20;
	fo.replicas = 2;
	t0 = jrx_now();
	ret = jrx_format(paths, 2, &fo);
	if (ret)
		return cli_error("demo", ret);
	t_format = jrx_now() - t0;
	printf("  format   bucket 256 KiB, btree node 32 KiB, journal 4 MiB per"
	       " device, 2 replicas          %8.3f s\n", t_format);

	if (cli_open_array("demo", &a, (char **)paths, 2, 0))
		return JRX_EXIT_ERROR;
	t0 = jrx_now();
	ret = jrx_load(&a, &lo, &lr);
	jrx_array_close(&a);
	if (ret)
		return cli_error("demo", ret);
	t_load = jrx_now() - t0;
	printf("  load     %" PRIu64 " ops, power cut after op %" PRIu64
	       " with the last jset torn  %8.3f s\n", lr.ops_done,
	       lo.crash_after_ops, t_load);
	printf("           %" PRIu64 " jsets written (ring wrapped, %" PRIu64
	       " reclaims), %" PRIu64 " node splits, %" PRIu64 " node moves\n",
	       lr.jsets, lr.reclaims, lr.splits, lr.rewrites);
	printf("           oracle: %" PRIu64 " operations durable, %" PRIu64
	       " lost with the unwritten jsets\n", lr.ops_durable,
	       lr.ops_done - lr.ops_durable);

	if (cli_open_array("demo", &a, (char **)paths, 2, JRX_OPEN_RDONLY))
		return JRX_EXIT_ERROR;
	t0 = jrx_now();
	ret = jrx_journal_summarize(&a, &js);
	jrx_array_close(&a);
	if (ret)
		return cli_error("demo", ret);
	t_scan = jrx_now() - t0;
	printf("  journal  %" PRIu64 " valid jset copies, %" PRIu64 " torn/bad,"
	       " %.1f MiB read                    %8.3f s\n", js.jsets, js.bad,
	       (double)js.bytes_read / (1 << 20), t_scan);
	printf("           replay range [%" PRIu64 ", %" PRIu64 "]: %" PRIu64
	       " leaf keys, %" PRIu64 " of them only in the journal\n",
	       js.last_seq, js.max_seq, js.live_keys, js.journal_only);
	ret = demo_recover(paths);
	if (!ret)
		ret = demo_check(paths, orc);
	if (ret)
		return ret;
	printf("\nRecovered: the array is clean, checked, and holds every"
	       " durable operation.\n");
	if (keep || dir != tmpl)
		printf("Inspect it with:\n  jrx journal %s %s\n  jrx dump %s %s\n",
		       p0, p1, p0, p1);
	if (!keep && dir == tmpl) {
		unlink(p0);
		unlink(p1);
		unlink(orc);
		snprintf(orc, sizeof(orc), "%s/oracle.sqlite-wal", dir);
		unlink(orc);
		snprintf(orc, sizeof(orc), "%s/oracle.sqlite-shm", dir);
		unlink(orc);
		if (rmdir(dir) == 0)
			printf("(removed %s; run with --keep to inspect it)\n", dir);
	}
	return JRX_EXIT_OK;
usage:
	fprintf(stderr, "usage: jrx demo [--ops N] [--seed S] [--dir DIR] [--keep]\n");
	return JRX_EXIT_USAGE;
}
