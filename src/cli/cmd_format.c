/* cmd_format.c - `jrx format`: make a new array. */
#include <getopt.h>
#include <stdio.h>
#include "cli.h"
#include "btree/mkfs.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: jrx format [--size BYTES] [--bucket-size BYTES]"
		" [--btree-node-size BYTES]\n"
		"                  [--journal-size BYTES] [--replicas 1|2] [--force]"
		" [--json] DEV...\n"
		"  --size            create/resize regular files to this size (sparse)\n"
		"  --bucket-size     default 1M\n"
		"  --btree-node-size default 256K\n"
		"  --journal-size    journal bytes per device (default: 1/16 of the"
		" device, 8 buckets to 1G)\n"
		"  --replicas        metadata (journal) copies, default 1\n"
		"  --force           format a device that holds a jrx array, a file"
		" system\n"
		"                    or a partition table (refused otherwise)\n"
		"  --json            print the superblock written as one JSON\n"
		"                    object (the form of show-super --json)\n");
}

int cmd_format(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "size", required_argument, NULL, 's' },
		{ "bucket-size", required_argument, NULL, 'b' },
		{ "btree-node-size", required_argument, NULL, 'n' },
		{ "journal-size", required_argument, NULL, 'j' },
		{ "replicas", required_argument, NULL, 'r' },
		{ "force", no_argument, NULL, 'f' },
		{ "json", no_argument, NULL, 'J' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct jrx_format_opts o;
	bool json = false;
	uint64_t v;
	int c, ret;

	jrx_format_opts_default(&o);
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		const char *arg = optarg;

		switch (c) {
		case 's':
			if (!cli_parse_size(arg, &o.size))
				goto bad;
			break;
		case 'b':
			if (!cli_parse_size(arg, &v) || v > UINT32_MAX)
				goto bad;
			o.bucket_size = (uint32_t)v;
			break;
		case 'n':
			if (!cli_parse_size(arg, &v) || v > UINT32_MAX)
				goto bad;
			o.btree_node_size = (uint32_t)v;
			break;
		case 'j':
			if (!cli_parse_size(arg, &o.journal_size))
				goto bad;
			break;
		case 'r':
			if (!cli_parse_u64(arg, &v) || v > 2)
				goto bad;
			o.replicas = (uint32_t)v;
			break;
		case 'f':
			o.force = true;
			break;
		case 'J':
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
		fprintf(stderr, "jrx format: bad value '%s' for --%s\n", arg,
			opts[c == 's' ? 0 : c == 'b' ? 1 : c == 'n' ? 2 :
			     c == 'j' ? 3 : 4].name);
		return JRX_EXIT_USAGE;
	}
	if (optind >= argc) {
		fprintf(stderr, "jrx format: no device given\n");
		usage(stderr);
		return JRX_EXIT_USAGE;
	}
	ret = jrx_format((const char *const *)argv + optind,
			 (unsigned)(argc - optind), &o);
	if (ret)
		return cli_error("format", ret);
	if (json) {	/* the superblock written, as show-super prints it */
		struct jrx_array a;

		if (cli_open_array("format", &a, argv + optind, argc - optind,
				   JRX_OPEN_RDONLY))
			return JRX_EXIT_ERROR;
		cli_super_json(stdout, &a);
		jrx_array_close(&a);
		return JRX_EXIT_OK;
	}
	printf("formatted %d device(s): bucket %u, btree node %u, replicas %u\n",
	       argc - optind, o.bucket_size, o.btree_node_size, o.replicas);
	return JRX_EXIT_OK;
}
