/* main.c - the jrx front end: dispatch to one command per cmd_*.c file. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "io/device.h"
#include "progress.h"

static const struct jrx_cmd cmds[] = {
	{ "format",	cmd_format,	"make a new array over one or more devices" },
	{ "load",	cmd_load,	"run a realistic workload, optionally crashing" },
	{ "synth",	cmd_synth,	"generate a big dirty array fast" },
	{ "recover",	cmd_recover,	"replay the journal of a crashed array" },
	{ "fsck",	cmd_fsck,	"check an array (fsck(8) exit codes)" },
	{ "verify",	cmd_verify,	"compare the recovered store with a load oracle" },
	{ "journal",	cmd_journal,	"list the jsets in the journal" },
	{ "dump",	cmd_dump,	"print the keys of the on-disk btrees" },
	{ "show-super",	cmd_show_super,	"print a device's superblock" },
	{ "demo",	cmd_demo,	"crash a small array, recover it both ways, compare" },
	{ "version",	cmd_version,	"print the version and the git commit" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: jrx COMMAND [options] DEV...\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(f, "  %-11s %s\n", cmds[i].name, cmds[i].summary);
	fprintf(f, "\n'jrx help COMMAND' or 'jrx COMMAND --help' describes a"
		" command's options;\n'jrx --version' (-V) prints the version.\n"
		"Every command: --progress / --no-progress show or hide the"
		" progress bars\n(default: on a terminal only).\n");
}

static void print_writes(void)
{
	fprintf(stderr, "jrx: test hook: %" PRIu64 " device writes\n",
		jrx_dev_writes());
}

/*
 * Test hooks of tests/test_kill.c, off unless set: JRX_TEST_STOP_AT_WRITE=N
 * stops the process before its N-th device write (io/device.h);
 * JRX_TEST_COUNT_WRITES=1 prints how many writes it issued at exit.
 */
static void test_hooks(void)
{
	const char *stop = getenv("JRX_TEST_STOP_AT_WRITE");
	uint64_t n;

	if (stop && cli_parse_u64(stop, &n))
		jrx_dev_stop_at_write(n);
	if (getenv("JRX_TEST_COUNT_WRITES"))
		atexit(print_writes);
}

/* --progress / --no-progress anywhere before "--": taken out, and the
 * bars of every command follow it (cli/progress.h). */
static int take_progress_option(int argc, char **argv)
{
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (!strcmp(argv[i], "--progress") ||
		    !strcmp(argv[i], "--no-progress")) {
			cli_progress_mode = argv[i][2] == 'p' ? CLI_PROGRESS_ON :
				CLI_PROGRESS_OFF;
			memmove(&argv[i], &argv[i + 1],
				(size_t)(argc - i) * sizeof(*argv));
			argc--;
			i--;
		}
	}
	return argc;
}

int main(int argc, char **argv)
{
	const char *self = argc ? strrchr(argv[0], '/') : NULL;

	/* fsck.jrx is this binary under the fsck(8) name */
	self = self ? self + 1 : argc ? argv[0] : "";
	test_hooks();
	argc = take_progress_option(argc, argv);
	if (!strcmp(self, "fsck.jrx"))
		return cmd_fsck(argc, argv);
	if (argc < 2) {
		usage(stderr);
		return JRX_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "help") && argc > 2) {
		/* jrx help CMD: that command's own help */
		char *args[] = { argv[2], (char *)"--help", NULL };

		for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
			if (!strcmp(argv[2], cmds[i].name))
				return cmds[i].fn(2, args);
		fprintf(stderr, "jrx: unknown command '%s'\n", argv[2]);
		usage(stderr);
		return JRX_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		usage(stdout);
		return JRX_EXIT_OK;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V"))
		return cmd_version(argc - 1, argv + 1);
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(argv[1], cmds[i].name))
			return cmds[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "jrx: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return JRX_EXIT_USAGE;
}
