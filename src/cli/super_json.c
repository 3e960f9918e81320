/*
 * super_json.c - an array's superblock as one JSON object: the form of
 * `jrx show-super --json` and `jrx format --json` (docs/REPORT.md).
 */
#include <inttypes.h>
#include <stdio.h>
#include "cli.h"
#include "format/bkey.h"
#include "format/sb.h"
#include "util/json.h"

void cli_super_json(FILE *f, const struct jrx_array *a)
{
	const struct jrx_sb *sb = &a->sb;
	char u[40], du[40];

	jrx_uuid_text(u, sb->uuid);
	fprintf(f, "{\"uuid\":\"%s\",\"version\":%u,\"seq\":%" PRIu64
	       ",\"clean\":%s,\"devices\":%u,\"block_size\":%u,"
	       "\"bucket_size\":%u,\"btree_node_size\":%u,"
	       "\"metadata_replicas\":%u,\"journal_seq\":%" PRIu64
	       ",\"blacklist\":[", u, sb->version, sb->seq,
	       (sb->flags & JRX_SB_CLEAN) ? "true" : "false",
	       sb->nr_devices, sb->block_size, sb->bucket_size,
	       sb->btree_node_size, sb->metadata_replicas, sb->journal_seq);
	for (unsigned i = 0; i < sb->nr_blacklist; i++)
		fprintf(f, "%s[%" PRIu64 ",%" PRIu64 "]", i ? "," : "",
		       sb->blacklist[i].start, sb->blacklist[i].end);
	fprintf(f, "],\"members\":[");
	for (unsigned i = 0; i < sb->nr_devices; i++) {
		const struct jrx_member *m = &sb->members[i];

		jrx_uuid_text(du, m->uuid);
		fprintf(f, "%s{\"index\":%u,\"path\":", i ? "," : "", i);
		jrx_json_str_or_null(f, a->devs[i].path);
		fprintf(f, ",\"uuid\":\"%s\",\"nbuckets\":%" PRIu64
			",\"first_bucket\":%" PRIu64 ",\"journal_bucket\":%"
			PRIu64 ",\"journal_nr\":%u}", du, m->nbuckets,
			m->first_bucket, m->journal_bucket, m->journal_nr);
	}
	fprintf(f, "],\"roots\":[");
	for (unsigned i = 0; i < JRX_BTREE_NR; i++) {
		const struct jrx_btree_root *r = &sb->roots[i];

		fprintf(f, "%s{\"btree\":\"%s\",\"level\":%u,\"dev\":%u,"
		       "\"sector\":%" PRIu64 "}", i ? "," : "",
		       jrx_btree_name(i), r->level, r->v.dev, r->v.sector);
	}
	fprintf(f, "]}\n");
}
