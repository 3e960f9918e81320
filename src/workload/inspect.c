/* inspect.c - journal summary of a crashed array (see inspect.h). */
#include <string.h>
#include "inspect.h"
#include "../btree/fs.h"
#include "../format/jset.h"
#include "../journal/jread.h"

int jrx_journal_summarize(struct jrx_array *a, struct jrx_journal_summary *s)
{
	struct jrx_journal_scan scan;
	struct jrx_fs fs;
	const struct jrx_jset *newest = NULL;
	int ret;

	memset(s, 0, sizeof(*s));
	ret = jrx_journal_read_seq(a, &scan, JRX_SCAN_KEEP);
	if (ret)
		return ret;
	s->bytes_read = scan.bytes_read;
	for (size_t i = 0; i < scan.nr; i++) {
		if (scan.v[i].state != JRX_JSET_OK) {
			s->bad++;
			continue;
		}
		s->jsets++;
		if (!newest || scan.v[i].seq > newest->seq)
			newest = scan.v[i].j;
	}
	if (!newest || newest->seq <= a->sb.journal_seq)
		goto out;
	s->max_seq = newest->seq;
	s->last_seq = newest->last_seq;
	ret = jrx_fs_open(&fs, a, JRX_FS_RDONLY);
	if (ret)
		goto out;
	for (size_t i = 0; i < scan.nr && !ret; i++) {
		const struct jrx_jset *j = scan.v[i].j;
		const struct jrx_jset_entry *e;
		const struct jrx_bkey *k, *disk;

		/* one copy per seq: replicas are identical */
		if (!j || j->seq < s->last_seq || j->seq > s->max_seq ||
		    (i && scan.v[i - 1].j && scan.v[i - 1].seq == j->seq) ||
		    scan.v[i].dev != (unsigned)(j->seq % a->nr_devs))
			continue;
		jrx_for_each_jset_entry(e, j) {
			if (e->type != JRX_JE_BTREE_KEYS || e->level)
				continue;
			jrx_for_each_entry_key(k, e) {
				s->live_keys++;
				ret = jrx_btree_lookup(&fs, e->btree_id, k->p, &disk);
				if (ret)
					break;
				if (k->type == JRX_KEY_WHITEOUT ? disk != NULL :
				    !disk || disk->u64s != k->u64s ||
				    memcmp(disk, k, jrx_bkey_bytes(k)))
					s->journal_only++;
			}
			if (ret)
				break;
		}
	}
	jrx_fs_abandon(&fs);
out:
	jrx_journal_scan_free(&scan);
	return ret;
}
