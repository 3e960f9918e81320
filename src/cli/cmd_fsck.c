/*
 * cmd_fsck.c - `jrx fsck`, also run as fsck.jrx: fsck(8)'s flags and exit
 * codes over jrx_fsck_run (fsck/run.c has the policy): -n, -y and -p/-a
 * exclusive, -f, the usage text with every exit code, SIGINT and SIGTERM
 * ending with 32, -V.  Repairs do not exist yet, so problems stay
 * uncorrected (exit 4).  -C fd is accepted and ignored.
 */
#include <getopt.h>
#include <signal.h>
#include <unistd.h>
#include <stdio.h>
#include <string.h>
#include "cli.h"
#include "progress.h"
#include "fsck/fsck.h"
#include "jrx/errors.h"
#include "util/diag.h"

static const char usage_text[] =
	"usage: jrx fsck [-n|-y|-p|-a] [-f] [-v] [--json] [--wait] [--no-scan]"
	" [--degraded] [--threads N] DEV...\n"
	"       jrx fsck -V\n"
	"       fsck.jrx ... (the same, under the name fsck(8) runs)\n"
	"DEV is a member device, several joined by ':' (/dev/sdb:/dev/sdc), or\n"
	"UUID=<array uuid>; members not named are found by scanning block\n"
	"devices for the same array.\n"
	"  -n         read-only: open nothing for writing; an unclean array is\n"
	"             checked through a dry-run recovery in memory\n"
	"  -p, -a     preen (boot): a clean array is reported clean without a\n"
	"             check unless -f; an unclean one is recovered and checked;\n"
	"             problems preen may repair (superblock copies, alloc and\n"
	"             accounting, data in a bucket of nodes, ...: docs/FSCK.md)\n"
	"             are repaired, any other stops it unrepaired\n"
	"  -y         recover, check, and repair every problem that has a\n"
	"             repair (docs/FSCK.md lists them)\n"
	"  -f         check even a clean array under -p/-a\n"
	"  -v         verbose: per-pass and per-btree detail\n"
	"  --json     print one JSON object\n"
	"  --wait     wait while another process holds a device (default:\n"
	"             refuse at once, naming it)\n"
	"  --no-scan  use only the devices named\n"
	"  --degraded with -n: check with a member missing when the journal's\n"
	"             replicas hold every jset; nodes on the missing member\n"
	"             are reported unreadable\n"
	"  -V         print the version and exit\n"
	"  -C FD      progress as e2fsck writes it (\"pass done total device\"\n"
	"             lines, here per mille of each pass) to descriptor FD;\n"
	"             -C 0: a bar on stdout.  A terminal on stderr gets the bar\n"
	"             anyway.  With -p/-a the lines also go to systemd-fsckd's\n"
	"             socket when it exists (/run/systemd/fsck.progress):\n"
	"  --progress-socket PATH  that socket, or another, in any mode\n"
	"  --memory-limit SIZE  the recovery's memory (jrx recover --help)\n"
	"  --scratch DIR  where a recovery's spilled runs go\n"
	"  --threads N  threads of the check (nodes read and checked many at\n"
	"             a time) and of a recovery; default: one per online core.\n"
	"             The problems and their order are the same for any N\n"
	"Only one of -n, -y and -p/-a may be given.  Without -n an unclean\n"
	"array is recovered (the journal replayed and committed) first.\n"
	"Exit codes (fsck(8)), added together: 0 clean; 1 the array was\n"
	"modified (recovered) and is clean now; 2 (never: no reboot needed);\n"
	"4 problems left uncorrected; 8 operational error (a device missing,\n"
	"busy or unreadable, a failed recovery); 16 usage error; 32\n"
	"interrupted (SIGINT, SIGTERM: what was committed stays committed).\n";

static void interrupted(int sig)
{
	static const char msg[] = "jrx fsck: interrupted\n";

	(void)sig;
	/* recovery and its commit are crash-safe: stopping here is a kill */
	if (write(2, msg, sizeof(msg) - 1) < 0) {
		/* nothing more to say */
	}
	_exit(32);
}

int cmd_fsck(int argc, char **argv)
{
	enum { O_NO_SCAN = 256, O_SOCKET, O_MEM, O_SCRATCH, O_THREADS,
	       O_DEGRADED };
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "read-only", no_argument, NULL, 'n' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "wait", no_argument, NULL, 'W' },
		{ "no-scan", no_argument, NULL, O_NO_SCAN },
		{ "degraded", no_argument, NULL, O_DEGRADED },
		{ "progress-socket", required_argument, NULL, O_SOCKET },
		{ "memory-limit", required_argument, NULL, O_MEM },
		{ "scratch", required_argument, NULL, O_SCRATCH },
		{ "threads", required_argument, NULL, O_THREADS },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 }
	};
	struct jrx_fsck_opts o;
	struct jrx_fsck_result res;
	bool mode_n = false, mode_y = false, mode_p = false;
	const char *sock = NULL;
	struct cli_progress prog;
	int c, ret, cfd = -1;
	uint64_t v;

	jrx_fsck_opts_default(&o);
	o.out = stdout;
	optind = 1;
	while ((c = getopt_long(argc, argv, "nypafvC:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			mode_n = true;
			break;
		case 'y':
			mode_y = true;
			break;
		case 'p': case 'a':
			mode_p = true;
			break;
		case 'f':
			o.force = true;
			break;
		case 'C':
			if (!cli_parse_u64(optarg, &v) || v > 1024) {
				fprintf(stderr, "jrx fsck: -C %s: not a file"
					" descriptor\n", optarg);
				return 16;
			}
			cfd = (int)v;
			break;
		case O_SOCKET:
			sock = optarg;
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
		case O_DEGRADED:
			o.degraded = true;
			break;
		case O_NO_SCAN:
			o.no_scan = true;
			break;
		case O_MEM:
			if (!cli_parse_size(optarg, &o.memory_limit) ||
			    !o.memory_limit) {
				fprintf(stderr, "jrx fsck: --memory-limit %s: not a"
					" size\n", optarg);
				return 16;
			}
			break;
		case O_SCRATCH:
			o.scratch_dir = optarg;
			break;
		case O_THREADS:
			if (!cli_parse_u64(optarg, &v) || !v || v > 1024) {
				fprintf(stderr, "jrx fsck: --threads %s: not a"
					" number of threads (1..1024)\n", optarg);
				return 16;
			}
			o.threads = (unsigned)v;
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
		fprintf(stderr, "jrx fsck: no device given\n");
		fputs(usage_text, stderr);
		return 16;
	}
	if (mode_n + mode_y + mode_p > 1) {
		fprintf(stderr, "jrx fsck: only one of the options -p/-a, -n or"
			" -y may be specified\n");
		return 16;
	}
	if (o.degraded && !mode_n) {
		fprintf(stderr, "jrx fsck: --degraded needs -n: with a member"
			" missing nothing may be written (a missing member would"
			" come back inconsistent)\n");
		return 16;
	}
	o.read_only = mode_n;
	o.preen = mode_p;
	o.repair = mode_y ? JRX_REPAIR_ALL : mode_p ? JRX_REPAIR_PREEN :
		JRX_REPAIR_NONE;
	signal(SIGINT, interrupted);
	signal(SIGTERM, interrupted);
	/* systemd-fsckd's socket at boot (-a/-p), as fsck(8) runs us there;
	 * an administrator's own run does not talk to it unless asked */
	if (!sock && mode_p)
		sock = "/run/systemd/fsck.progress";
	cli_progress_init(&prog, o.json ? (cfd > 0 ? cfd : -1) : cfd, sock,
			  argv[optind]);
	if (o.json && !cfd)
		prog.bar = NULL;	/* stdout is the JSON's */
	o.progress = cli_progress_fsck;
	o.progress_ctx = &prog;
	ret = jrx_fsck_run((const char *const *)argv + optind,
			   (unsigned)(argc - optind), &o, &res);
	cli_progress_end(&prog);
	if (ret && !o.json)
		fprintf(stderr, "jrx fsck: %s\n", *jrx_diag() ? jrx_diag() :
			jrx_strerror(ret));
	if (!ret && (res.exit_code & 4) && !o.json)
		fprintf(stderr, "jrx fsck: problems left uncorrected%s\n",
			mode_y || mode_p ? " (no repair exists for them, or it"
			" was refused)" : mode_n ? "" : " (-y repairs what can be"
			" repaired)");
	return res.exit_code;
}
