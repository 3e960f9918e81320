/*
 * cmd_fsck.c - `jrx fsck [-n] [--json] [-v] DEV...`, also run as
 * fsck.jrx: check an array in six passes (docs/FSCK.md) and exit with
 * fsck(8) codes: 0 clean, 4 problems left uncorrected, 8 operational
 * error (bad device, failed recovery; the message names the device).
 * -n opens everything read-only and checks an unclean array through a
 * dry-run recovery in memory; without it an unclean array is recovered
 * first.  -y, -p/-a and -f are accepted for fsck(8); repairs do not exist
 * yet, so problems stay uncorrected.  -C fd is accepted and ignored.
 * -V prints the version and exits 0, as e2fsck -V does.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include "cli.h"
#include "fsck/fsck.h"
#include "jrx/errors.h"
#include "util/diag.h"

static const char usage_text[] =
	"usage: jrx fsck [-n] [-y|-p|-a] [-f] [-v] [--json] DEV...\n"
	"       jrx fsck -V\n"
	"  -n         read-only: open nothing for writing; an unclean array is\n"
	"             checked through a dry-run recovery in memory\n"
	"  -y, -p, -a repair (not implemented yet: problems are reported)\n"
	"  -f         force a full check (always done)\n"
	"  -v         verbose: per-pass and per-btree detail\n"
	"  --json     print one JSON object\n"
	"  --wait     wait while another process holds a device (default:\n"
	"             refuse at once, naming it)\n"
	"  -V         print the version and exit\n"
	"Without -n an unclean array is recovered (journal replay) first.\n"
	"Exit code: 0 clean, 4 problems left uncorrected, 8 operational error.\n";

int cmd_fsck(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "read-only", no_argument, NULL, 'n' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "wait", no_argument, NULL, 'W' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 }
	};
	struct jrx_fsck_opts o;
	struct jrx_fsck_result res;
	bool repair = false;
	int c, ret;

	jrx_fsck_opts_default(&o);
	o.out = stdout;
	optind = 1;
	while ((c = getopt_long(argc, argv, "nypafvC:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			o.read_only = true;
			break;
		case 'y': case 'p': case 'a':
			repair = true;
			break;
		case 'f': case 'C':
			break;
		case 'v':
			o.verbose = true;
			break;
		case 'j':
			o.json = true;
			break;
		case 'W':
			o.wait = true;
			break;
		case 'V':	/* as e2fsck -V: the version, nothing checked */
			cli_print_version(strcmp(argv[0], "fsck") ?
					  "fsck.jrx" : "jrx fsck");
			return 0;
		default:
			fputs(usage_text, c == 'h' ? stdout : stderr);
			return c == 'h' ? 0 : 16;	/* fsck(8): usage error */
		}
	}
	if (optind >= argc) {
		fputs(usage_text, stderr);
		return 16;
	}
	if (repair && o.read_only) {
		fprintf(stderr, "jrx fsck: -n cannot be combined with -y, -p or -a\n");
		return 16;
	}
	if (repair && !o.json)
		fprintf(stderr, "jrx fsck: repairs are not implemented yet;"
			" problems will be reported only\n");
	ret = jrx_fsck_run((const char *const *)argv + optind,
			   (unsigned)(argc - optind), &o, &res);
	if (ret && !o.json)
		fprintf(stderr, "jrx fsck: %s (%s)\n", jrx_diag(),
			jrx_strerror(ret));
	return res.exit_code;
}
