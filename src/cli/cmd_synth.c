/*
 * cmd_synth.c - `jrx synth`: options, progress and the report of the
 * synthetic dirty-array generator (src/workload/synth*.c do the work).
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "cli.h"
#include "progress.h"
#include "util/clock.h"
#include "format/bkey.h"
#include "util/diag.h"
#include "workload/synth.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: jrx synth --keys N [--base-keys M] [--btrees MIX]"
		" [--overwrite-ratio R]\n"
		"                 [--distribution uniform|zipf|sequential|hot]"
		" [--seed S] [--jset-size BYTES]\n"
		"                 [--fill PCT] [--json] DEV...\n"
		"  on a clean array: rebuild the store as a bulk-loaded base of M"
		" keys plus a\n"
		"  journal of N keys that recovery must replay; the array is left"
		" unclean.\n"
		"  --keys            journal keys (extents, inodes, dirents,"
		" xattrs)\n"
		"  --base-keys       keys of the base btrees (default: N)\n"
		"  --btrees          weights, default %s;\n"
		"                    a btree not named gets 0: --btrees extents=1"
		" is one btree\n"
		"                    only (but the inodes extents and names belong"
		" to are\n"
		"                    written: new files, sizes, the inode of a new"
		" name)\n"
		"  --overwrite-ratio share of journal keys on existing positions"
		" (default 0.3)\n"
		"  --distribution    how positions are chosen (default uniform):"
		" uniform; zipf\n"
		"                    (overwrites by rank, density 1/rank);"
		" sequential (overwrites\n"
		"                    in key order); hot: %u%% of the journal keys on"
		" one hot inode\n"
		"                    per btree (a file's extents, xattrs and inode,"
		" the root's\n"
		"                    dirents), the rest uniform\n"
		"  --seed            PRNG seed (default 1)\n"
		"  --jset-size       bytes per jset, default 256K, at most a bucket\n"
		"  --fill            base leaves filled to PCT %% of a node, as a"
		" live store\n"
		"                    leaves them (default %u, %u to 100)\n"
		"  --json            print the report as one JSON object\n",
		JRX_SYNTH_DEFAULT_MIX, JRX_SYNTH_HOT_PCT,
		JRX_SYNTH_DEFAULT_FILL, JRX_SYNTH_MIN_FILL);
}

static void show_progress(void *ctx, const char *phase, uint64_t done,
			  uint64_t total)
{
	cli_progress_named(ctx, "synth", phase, done, total);
}

static double share(uint64_t part, uint64_t whole)
{
	return whole ? (double)part / (double)whole : 0;
}

static void report(const struct jrx_synth_opts *o,
		   const struct jrx_synth_report *r, bool json)
{
	double kps = r->elapsed > 0 ? (double)r->keys / r->elapsed : 0;

	if (json) {
		/* keys.written counts what a recovery reads (keys.read) */
		printf("{\"keys\":{\"written\":%" PRIu64 ",\"leaf\":%" PRIu64
		       ",\"alloc\":%" PRIu64 ",\"accounting\":%" PRIu64
		       ",\"overwrites\":%" PRIu64 ",\"deletes\":%" PRIu64
		       ",\"by_btree\":{", r->keys + r->alloc_keys + r->acct_keys,
		       r->keys, r->alloc_keys, r->acct_keys, r->overwrites,
		       r->deletes);
		for (unsigned b = 0; b < JRX_SYNTH_NR_BTREES; b++)
			printf("%s\"%s\":%" PRIu64, b ? "," : "", jrx_btree_name(b),
			       r->keys_by_btree[b]);
		printf("}},\"journal\":{\"jsets\":%" PRIu64 ",\"seq_first\":%"
		       PRIu64 ",\"seq_last\":%" PRIu64 ",\"bytes_written\":%"
		       PRIu64 ",\"bytes_needed_per_device\":%" PRIu64 "}"
		       ",\"base\":{\"keys\":%" PRIu64 ",\"nodes\":%" PRIu64
		       ",\"by_btree\":{", r->jsets, r->first_seq, r->last_seq,
		       r->journal_bytes, r->journal_needed, r->base_keys,
		       r->base_nodes);
		for (unsigned b = 0; b < JRX_SYNTH_NR_BTREES; b++)
			printf("%s\"%s\":%" PRIu64, b ? "," : "", jrx_btree_name(b),
			       r->base_by_btree[b]);
		printf("}},\"inodes\":%" PRIu64, r->inodes);
		if (o->dist == JRX_SYNTH_HOT)
			printf(",\"hot\":{\"file\":%" PRIu64 ",\"dir\":%" PRIu64
			       ",\"keys\":%" PRIu64 ",\"share\":%.4f}", r->hot_file,
			       r->hot_dir, r->hot_keys, share(r->hot_keys, r->keys));
		printf(",\"overwrite_ratio\":%g,\"distribution\":\"%s\",\"seed\":%"
		       PRIu64 ",\"jset_size\":%u,\"phases\":{\"base\":%.6f,"
		       "\"journal\":%.6f,\"superblock\":%.6f},"
		       "\"total_seconds\":%.6f,\"keys_per_second\":%.0f,"
		       "\"peak_rss_bytes\":%" PRIu64 "}\n",
		       o->overwrite_ratio, jrx_synth_dist_name(o->dist), o->seed,
		       o->jset_size, r->t_base, r->t_journal, r->t_sb, r->elapsed, kps,
		       jrx_peak_rss());
		return;
	}
	printf("synth: %" PRIu64 " journal keys (", r->keys);
	for (unsigned b = 0; b < JRX_SYNTH_NR_BTREES; b++)
		printf("%s%s %" PRIu64, b ? ", " : "", jrx_btree_name(b),
		       r->keys_by_btree[b]);
	printf("), %" PRIu64 " on existing positions (%" PRIu64 " deletes)\n",
	       r->overwrites, r->deletes);
	printf("  plus %" PRIu64 " alloc and %" PRIu64 " accounting keys\n",
	       r->alloc_keys, r->acct_keys);
	printf("  %" PRIu64 " jsets (seq %" PRIu64 "..%" PRIu64 "), %" PRIu64
	       " journal bytes written\n", r->jsets, r->first_seq, r->last_seq,
	       r->journal_bytes);
	printf("  base: %" PRIu64 " keys (", r->base_keys);
	for (unsigned b = 0; b < JRX_SYNTH_NR_BTREES; b++)
		printf("%s%s %" PRIu64, b ? ", " : "", jrx_btree_name(b),
		       r->base_by_btree[b]);
	printf(") in %" PRIu64 " nodes; %" PRIu64 " inodes in all\n",
	       r->base_nodes, r->inodes);
	if (o->dist == JRX_SYNTH_HOT)
		printf("  hot: %" PRIu64 " journal keys (%.1f%%) on inode %" PRIu64
		       " (file) and %" PRIu64 " (directory)\n", r->hot_keys,
		       100 * share(r->hot_keys, r->keys), r->hot_file, r->hot_dir);
	printf("  %.2f s (base %.2f, journal %.2f, superblock and sync %.2f),"
	       " %.0f keys/s, peak RSS %" PRIu64 " MiB\n", r->elapsed, r->t_base,
	       r->t_journal, r->t_sb, kps, jrx_peak_rss() >> 20);
	printf("  the array is unclean: recovery must replay seq %" PRIu64
	       "..%" PRIu64 "\n", r->first_seq, r->last_seq);
}

int cmd_synth(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "keys", required_argument, NULL, 'k' },
		{ "base-keys", required_argument, NULL, 'b' },
		{ "btrees", required_argument, NULL, 'm' },
		{ "overwrite-ratio", required_argument, NULL, 'r' },
		{ "distribution", required_argument, NULL, 'd' },
		{ "seed", required_argument, NULL, 's' },
		{ "jset-size", required_argument, NULL, 'J' },
		{ "fill", required_argument, NULL, 'F' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct jrx_synth_opts o;
	struct jrx_synth_report r;
	struct cli_progress prog;
	struct jrx_array a;
	bool have_keys = false, have_base = false, json = false;
	uint64_t v;
	int c, ret, d;

	jrx_synth_opts_default(&o);
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		const char *arg = optarg;

		switch (c) {
		case 'k':
			if (!cli_parse_u64(arg, &o.keys))
				goto bad;
			have_keys = true;
			break;
		case 'b':
			if (!cli_parse_u64(arg, &o.base_keys))
				goto bad;
			have_base = true;
			break;
		case 'm':
			jrx_diag_clear();
			ret = jrx_synth_parse_mix(arg, o.mix);
			if (ret) {
				cli_error("synth", ret);
				return JRX_EXIT_USAGE;
			}
			break;
		case 'r':
			if (!cli_parse_double(arg, &o.overwrite_ratio) ||
			    !(o.overwrite_ratio >= 0 && o.overwrite_ratio <= 1))
				goto bad;
			break;
		case 'd':
			d = jrx_synth_parse_dist(arg);
			if (d < 0)
				goto bad;
			o.dist = (unsigned)d;
			break;
		case 's':
			if (!cli_parse_u64(arg, &o.seed))
				goto bad;
			break;
		case 'J':
			if (!cli_parse_size(arg, &v) || v > UINT32_MAX)
				goto bad;
			o.jset_size = (uint32_t)v;
			break;
		case 'F':
			if (!cli_parse_u64(arg, &v) || v < JRX_SYNTH_MIN_FILL ||
			    v > 100)
				goto bad;
			o.fill_pct = (unsigned)v;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			usage(stdout);
			return JRX_EXIT_OK;
		default:
			usage(stderr);
			return JRX_EXIT_USAGE;
		}
		continue;
bad:
		for (d = 0; opts[d].name && opts[d].val != c; d++)
			;
		fprintf(stderr, "jrx synth: bad value '%s' for --%s\n", arg,
			opts[d].name);
		return JRX_EXIT_USAGE;
	}
	if (!have_keys || optind >= argc) {
		fprintf(stderr, "jrx synth: %s\n", !have_keys ?
			"--keys N is required" : "no device given");
		usage(stderr);
		return JRX_EXIT_USAGE;
	}
	if (!have_base)
		o.base_keys = o.keys;
	cli_progress_init(&prog, -1, NULL, argv[optind]);
	o.progress = show_progress;
	o.progress_ctx = &prog;

	if (cli_open_array("synth", &a, argv + optind, argc - optind, 0))
		return JRX_EXIT_ERROR;
	jrx_diag_clear();
	ret = jrx_synth(&a, &o, &r);
	cli_progress_end(&prog);
	jrx_array_close(&a);
	if (ret)
		return cli_error("synth", ret);
	report(&o, &r, json);
	return JRX_EXIT_OK;
}
