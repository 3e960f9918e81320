/*
 * cmd_recover.c - `jrx recover [--reference] [--dry-run] [--json] DEV...`:
 * replay the journal of a crashed array and commit the result, or with
 * --dry-run report what would be replayed without writing anything.
 * Until the accelerated pipeline lands, both modes run the reference.
 */
#include <getopt.h>
#include <stdio.h>
#include "cli.h"
#include "recovery/recover.h"

static const char usage_text[] =
	"usage: jrx recover [--reference] [--dry-run] [--json] DEV...\n"
	"  --reference  the sequential reference recovery (the oracle)\n"
	"  --dry-run    replay in memory only, write nothing, report\n"
	"  --json       print the report as one JSON object\n";

int cli_recover(const char *cmd, char **paths, int n,
		const struct jrx_recover_opts *o, struct jrx_report *r)
{
	struct jrx_array a;
	double t = jrx_now();
	int ret;

	jrx_report_init(r, "reference");
	if (cli_open_array(cmd, &a, paths, n, o->dry_run ? JRX_OPEN_RDONLY : 0))
		return JRX_EXIT_ERROR;
	r->phase[JRX_PHASE_SUPERBLOCK] = jrx_now() - t;
	r->total_seconds = r->phase[JRX_PHASE_SUPERBLOCK];
	ret = jrx_recover_reference(&a, o, r, NULL);
	jrx_array_close(&a);
	return ret ? cli_error(cmd, ret) : JRX_EXIT_OK;
}

int cmd_recover(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "reference", no_argument, NULL, 'r' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct jrx_recover_opts o = { 0 };
	struct jrx_report r;
	bool json = false;
	int c, ret;

	optind = 1;
	while ((c = getopt_long(argc, argv, "hn", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			break;
		case 'n':
			o.dry_run = true;
			break;
		case 'j':
			json = true;
			break;
		default:
			fputs(usage_text, c == 'h' ? stdout : stderr);
			return c == 'h' ? JRX_EXIT_OK : JRX_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		fputs(usage_text, stderr);
		return JRX_EXIT_USAGE;
	}
	ret = cli_recover("recover", argv + optind, argc - optind, &o, &r);
	if (ret)
		return ret;
	if (json)
		jrx_report_print_json(&r, stdout);
	else
		jrx_report_print_text(&r, stdout);
	return JRX_EXIT_OK;
}
