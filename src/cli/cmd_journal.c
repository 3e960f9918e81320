/* cmd_journal.c - `jrx journal [--keys] [--json] DEV...`: list jsets. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <inttypes.h>
#include "cli.h"
#include "format/jset.h"
#include "journal/jread.h"
#include "util/json.h"

static const char *state_name(unsigned s)
{
	return s == JRX_JSET_OK ? "ok" : s == JRX_JSET_BAD_CSUM ? "bad-csum" : "bad";
}

static int cmp_seq(const void *a, const void *b)
{
	const struct jrx_jset_info *x = a, *y = b;

	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	return x->offset < y->offset ? -1 : x->offset > y->offset;
}

static void print_keys(const struct jrx_jset *j, bool json)
{
	const struct jrx_jset_entry *e;
	const struct jrx_bkey *k;
	char buf[1600];
	bool first = true;

	jrx_for_each_jset_entry(e, j) {
		if (e->type != JRX_JE_BTREE_KEYS && e->type != JRX_JE_BTREE_ROOT)
			continue;
		jrx_for_each_entry_key(k, e) {
			if (json) {
				printf("%s", first ? "" : ",");
				cli_key_json(stdout, e->btree_id, e->level,
					     e->type == JRX_JE_BTREE_ROOT, k);
				first = false;
				continue;
			}
			jrx_bkey_to_text(buf, sizeof(buf), k);
			printf("    %s:%u %s%s\n", jrx_btree_name(e->btree_id),
				       e->level,
				       e->type == JRX_JE_BTREE_ROOT ? "root " : "", buf);
			first = false;
		}
	}
}

int cmd_journal(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "keys", no_argument, NULL, 'k' },
		{ "json", no_argument, NULL, 'j' },
		{ "degraded", no_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct jrx_journal_scan s;
	static const char usage[] =
		"usage: jrx journal [--keys] [--json] [--degraded] DEV...\n"
		"Every jset copy in the journal buckets of every member: device,\n"
		"bucket, offset, seq, last_seq, entries, keys and checksum state,\n"
		"in seq order.  Nothing is written.\n"
		"  --keys      also each jset's keys\n"
		"  --json      one JSON object (docs/REPORT.md)\n"
		"  --degraded  with a member missing, while the journal's replicas\n"
		"              hold every jset (fewer missing than metadata_replicas)\n";
	struct jrx_array a;
	bool keys = false, json = false;
	unsigned degraded = 0;
	uint64_t max_seq = 0, nok = 0, nkeys = 0;
	int c, ret;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'k')
			keys = true;
		else if (c == 'j')
			json = true;
		else if (c == 'd')
			degraded = JRX_OPEN_DEGRADED;
		else {
			fputs(usage, c == 'h' ? stdout : stderr);
			return c == 'h' ? JRX_EXIT_OK : JRX_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "jrx journal: no device given\n");
		fputs(usage, stderr);
		return JRX_EXIT_USAGE;
	}
	if (cli_open_array("journal", &a, argv + optind, argc - optind,
			   JRX_OPEN_RDONLY | degraded))
		return JRX_EXIT_ERROR;
	ret = jrx_journal_read_seq(&a, &s, JRX_SCAN_KEEP);
	if (ret) {
		jrx_array_close(&a);
		return cli_error("journal", ret);
	}
	qsort(s.v, s.nr, sizeof(*s.v), cmp_seq);
	for (size_t i = 0; i < s.nr; i++)
		if (s.v[i].state == JRX_JSET_OK) {
			nok++;
			nkeys += s.v[i].keys;
			if (s.v[i].seq > max_seq)
				max_seq = s.v[i].seq;
		}
	if (json)
		printf("{\"devices\":%u,\"copies\":[", a.nr_devs);
	else
		printf("%-20s %8s %12s %10s %10s %7s %7s %s\n", "device", "bucket",
		       "offset", "seq", "last_seq", "entries", "keys", "state");
	for (size_t i = 0; i < s.nr; i++) {
		const struct jrx_jset_info *v = &s.v[i];
		const char *stale = v->state == JRX_JSET_OK && v->seq <= a.sb.journal_seq ?
			" (before the last clean shutdown)" : "";

		if (json) {
			printf("%s{\"device\":", i ? "," : "");
			jrx_json_str(stdout, a.devs[v->dev].path);
			printf(",\"bucket\":%" PRIu64 ",\"offset\":%" PRIu64
			       ",\"seq\":%" PRIu64 ",\"last_seq\":%" PRIu64
			       ",\"entries\":%u,\"keys\":%" PRIu64 ",\"state\":\"%s\"",
			       v->bucket, v->offset, v->seq, v->last_seq,
			       v->entries, v->keys, state_name(v->state));
			if (v->why) {
				printf(",\"error\":");
				jrx_json_str(stdout, v->why);
			}
			if (keys && v->j) {
				printf(",\"key_list\":[");
				print_keys(v->j, true);
				printf("]");
			}
			printf("}");
		} else {
			printf("%-20s %8" PRIu64 " %12" PRIu64 " %10" PRIu64 " %10" PRIu64
			       " %7u %7" PRIu64 " %s%s%s%s\n", a.devs[v->dev].path,
			       v->bucket, v->offset, v->seq, v->last_seq, v->entries,
			       v->keys, state_name(v->state), v->why ? ": " : "",
			       v->why ? v->why : "", stale);
			if (keys && v->j)
				print_keys(v->j, false);
		}
	}
	if (json)
		printf("],\"jset_copies\":%" PRIu64 ",\"keys\":{\"read\":%"
		       PRIu64 "},\"seq_last\":%" PRIu64 ",\"bytes_read\":%"
		       PRIu64 "}\n",
		       nok, nkeys, max_seq, s.bytes_read);
	else
		printf("%" PRIu64 " valid jset copies, %" PRIu64 " keys, newest seq %"
		       PRIu64 "; %" PRIu64 " bytes read\n", nok, nkeys, max_seq,
		       s.bytes_read);
	jrx_journal_scan_free(&s);
	jrx_array_close(&a);
	return JRX_EXIT_OK;
}
