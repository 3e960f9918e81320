/*
 * cmd_dump.c - `jrx dump [--btree NAME] [--recovered] [--json] DEV...`: the keys of
 * the on-disk btrees, one per line, without any replay (on an unclean
 * array the roots are those of the newest valid jset), or with
 * --recovered the post-recovery view computed in memory (the on-disk
 * btrees overlaid with the deduplicated journal keys) without writing.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include "cli.h"
#include "progress.h"
#include "btree/fs.h"
#include "recovery/recover.h"

int cli_dump_key(void *ctx, unsigned btree_id, const struct jrx_bkey *k)
{
	struct cli_dump *d = ctx;
	char buf[1600];

	d->keys++;
	if (d->json) {
		cli_key_json(d->f, btree_id, -1, false, k);
		return fputc('\n', d->f) == EOF ? -EIO : 0;
	}
	jrx_bkey_to_text(buf, sizeof(buf), k);
	return fprintf(d->f, "%s %s\n", jrx_btree_name(btree_id), buf) < 0 ?
		-EIO : 0;
}

int cli_dump_array(const char *cmd, const char *const *paths, int n,
		   struct cli_dump *out)
{
	struct jrx_array a;
	struct jrx_fs fs;
	int ret;

	if (cli_open_array(cmd, &a, (char **)paths, n, JRX_OPEN_RDONLY))
		return JRX_EXIT_ERROR;
	ret = jrx_fs_open(&fs, &a, JRX_FS_RDONLY);
	if (!ret) {
		for (unsigned b = 0; !ret && b < JRX_BTREE_NR; b++)
			ret = jrx_btree_walk(&fs, b, cli_dump_key, out);
		jrx_fs_abandon(&fs);
	}
	jrx_array_close(&a);
	return ret ? cli_error(cmd, ret) : 0;
}

/*
 * The bar of a dump on a terminal: leaves printed of the leaves of the
 * btree, estimated as it goes (the level-1 nodes not yet read are taken
 * to have as many children as those read), exact for trees of depth 2.
 */
struct dump_bar {
	struct cli_dump	 out;	/* first: the keys' callback takes it */
	struct cli_progress prog;
	const char *btree;
	uint64_t leaves_known, leaves_done;
	uint64_t l1_known, l1_seen, l1_children;
};

static int dump_node(void *ctx, const struct jrx_bnode *n)
{
	struct dump_bar *b = ctx;
	uint64_t est;

	if (n->level == 2)
		b->l1_known += n->nr;
	if (n->level == 1) {
		b->l1_seen++;
		b->l1_children += n->nr;
		b->leaves_known += n->nr;
	}
	if (n->level)
		return 0;
	b->leaves_done++;
	est = b->leaves_known > b->leaves_done ? b->leaves_known : b->leaves_done;
	if (b->l1_known > b->l1_seen && b->l1_seen)
		est += (b->l1_known - b->l1_seen) * b->l1_children / b->l1_seen;
	cli_progress_named(&b->prog, "dump", b->btree, b->leaves_done, est);
	return 0;
}

static int dump_btree(struct jrx_fs *fs, unsigned id, struct dump_bar *b)
{
	b->btree = jrx_btree_name(id);
	b->leaves_known = b->leaves_done = 0;
	b->l1_known = b->l1_seen = b->l1_children = 0;
	return jrx_btree_walk_all(fs, id, cli_dump_key,
				  b->prog.bar ? dump_node : NULL, b);
}

int cmd_dump(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "btree", required_argument, NULL, 'b' },
		{ "recovered", no_argument, NULL, 'r' },
		{ "wait", no_argument, NULL, 'w' },
		{ "memory-limit", required_argument, NULL, 'm' },
		{ "scratch", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "degraded", no_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct jrx_recover_opts ro = { 0 };
	static const char usage[] =
		"usage: jrx dump [--btree NAME] [--recovered] [--json] [--degraded]"
		" [--wait]"
		" DEV...\n"
		"  --btree NAME   only that btree (extents, inodes, dirents,\n"
		"                 xattrs, alloc, accounting)\n"
		"  --recovered    the state a recovery would reach, computed in\n"
		"                 memory (nothing is written)\n"
		"  --json         one JSON object a key (JSON lines): btree, pos,\n"
		"                 type and the value's fields (docs/REPORT.md)\n"
		"  --degraded     a member may be missing when the journal's\n"
		"                 replicas hold every jset; a btree node on it\n"
		"                 cannot be read and ends the dump with an error\n"
		"  --wait         wait while another process holds a device\n"
		"  --memory-limit SIZE, --scratch DIR\n"
		"                 with --recovered: the dry run's journal read and\n"
		"                 sort keep to the limit (jrx recover --help)\n";
	struct dump_bar bar = { .out = { .f = stdout } };
	struct jrx_array a;
	struct jrx_fs fs;
	int c, only = -1, ret = 0;
	bool recovered = false;
	unsigned flags = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'r') {
			recovered = true;
		} else if (c == 'j') {
			bar.out.json = true;
		} else if (c == 'D') {
			flags |= JRX_OPEN_DEGRADED;
		} else if (c == 'w') {
			flags |= JRX_OPEN_WAIT;
		} else if (c == 'm') {
			if (!cli_parse_size(optarg, &ro.memory_limit) ||
			    !ro.memory_limit) {
				fprintf(stderr, "jrx dump: --memory-limit %s: not a"
					" size\n", optarg);
				return JRX_EXIT_USAGE;
			}
		} else if (c == 's') {
			ro.scratch_dir = optarg;
		} else if (c == 'b') {
			only = jrx_btree_id_parse(optarg);
			if (only < 0) {
				fprintf(stderr, "jrx dump: unknown btree '%s' (extents,"
					" inodes, dirents, xattrs, alloc, accounting)\n",
					optarg);
				return JRX_EXIT_USAGE;
			}
		} else {
			fputs(usage, c == 'h' ? stdout : stderr);
			return c == 'h' ? JRX_EXIT_OK : JRX_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "jrx dump: no device given\n");
		fputs(usage, stderr);
		return JRX_EXIT_USAGE;
	}
	if (cli_open_array("dump", &a, argv + optind, argc - optind,
			   JRX_OPEN_RDONLY | flags))
		return JRX_EXIT_ERROR;
	ret = recovered ? jrx_open_view_opts(&a, &fs, NULL, &ro) :
		jrx_fs_open(&fs, &a, JRX_FS_RDONLY);
	if (ret) {
		jrx_array_close(&a);
		return cli_error("dump", ret);
	}
	/* a terminal on stderr sees the leaves go by */
	cli_progress_init(&bar.prog, -1, NULL, argv[optind]);
	for (unsigned i = 0; i < JRX_BTREE_NR && !ret; i++)
		if (only < 0 || (unsigned)only == i)
			ret = dump_btree(&fs, i, &bar);
	cli_progress_end(&bar.prog);
	jrx_fs_abandon(&fs);
	jrx_array_close(&a);
	return ret ? cli_error("dump", ret) : JRX_EXIT_OK;
}
