/*
 * version.c - `jrx version` (also `jrx --version`, `jrx -V`, and
 * `fsck.jrx -V`): the version of include/jrx/jrx.h and the git commit the
 * binary was built from, which the build writes into <jrx_commit.h>
 * (cmake/commit.cmake; "unknown" outside a git checkout).
 */
#include <stdio.h>
#include <string.h>
#include <jrx_commit.h>		/* generated in the build directory */
#include "cli.h"
#include "jrx/jrx.h"

void cli_print_version(const char *prog)
{
	printf("%s %s (commit %s)\n", prog, JRX_VERSION, JRX_COMMIT);
}

int cmd_version(int argc, char **argv)
{
	if (argc > 1) {
		bool help = !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h");

		fputs("usage: jrx version (or jrx --version, jrx -V)\n",
		      help ? stdout : stderr);
		return help ? JRX_EXIT_OK : JRX_EXIT_USAGE;
	}
	cli_print_version("jrx");
	return JRX_EXIT_OK;
}
