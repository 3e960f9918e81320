/* cmd_show_super.c - `jrx show-super [--json] DEV`: print a superblock. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <inttypes.h>
#include "cli.h"
#include "format/bkey.h"
#include "format/sb.h"

int cmd_show_super(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	static const char usage[] =
		"usage: jrx show-super [--json] DEV...\n"
		"The array's superblock (the newest valid copy of the members\n"
		"given): uuid, seq, clean flag, geometry, blacklist, members and\n"
		"btree roots.  One member is enough: the others are listed, as\n"
		"missing if they were not given or found.  Nothing is written.\n"
		"  --json  one JSON object (docs/REPORT.md)\n";
	struct jrx_array a;
	const struct jrx_sb *sb;
	bool json = false;
	char u[33], du[33];
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'j')
			json = true;
		else {
			fputs(usage, c == 'h' ? stdout : stderr);
			return c == 'h' ? JRX_EXIT_OK : JRX_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "jrx show-super: no device given\n");
		fputs(usage, stderr);
		return JRX_EXIT_USAGE;
	}
	/* a superblock is worth seeing with members missing too */
	if (cli_open_array("show-super", &a, argv + optind, argc - optind,
			   JRX_OPEN_RDONLY | JRX_OPEN_PARTIAL))
		return JRX_EXIT_ERROR;
	sb = &a.sb;
	jrx_uuid_text(u, sb->uuid);
	if (json) {
		cli_super_json(stdout, &a);
	} else {
		printf("array uuid:        %s\n", u);
		printf("format version:    %u\n", sb->version);
		printf("superblock seq:    %" PRIu64 "\n", sb->seq);
		printf("state:             %s\n",
		       (sb->flags & JRX_SB_CLEAN) ? "clean" : "unclean (needs recovery)");
		printf("devices:           %u\n", sb->nr_devices);
		printf("bucket size:       %u\n", sb->bucket_size);
		printf("btree node size:   %u\n", sb->btree_node_size);
		printf("metadata replicas: %u\n", sb->metadata_replicas);
		printf("journal seq:       %" PRIu64 "\n", sb->journal_seq);
		for (unsigned i = 0; i < sb->nr_blacklist; i++)
			printf("blacklisted:       %" PRIu64 "..%" PRIu64 "\n",
			       sb->blacklist[i].start, sb->blacklist[i].end);
		for (unsigned i = 0; i < sb->nr_devices; i++) {
			const struct jrx_member *m = &sb->members[i];

			jrx_uuid_text(du, m->uuid);
			printf("member %u: %s uuid %s buckets %" PRIu64 " first %"
			       PRIu64 " journal %" PRIu64 "+%u\n", i,
			       a.devs[i].path ? a.devs[i].path : "(missing)", du,
			       m->nbuckets, m->first_bucket,
			       m->journal_bucket, m->journal_nr);
		}
		for (unsigned i = 0; i < JRX_BTREE_NR; i++)
			printf("root %-10s level %u dev %u sector %" PRIu64 "%s\n",
			       jrx_btree_name(i), sb->roots[i].level,
			       sb->roots[i].v.dev, sb->roots[i].v.sector,
			       (sb->flags & JRX_SB_CLEAN) ? "" : " (stale: see journal)");
	}
	jrx_array_close(&a);
	return JRX_EXIT_OK;
}
