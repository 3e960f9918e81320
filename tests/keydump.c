/*
 * keydump.c - the namespace btrees' keys dumped and compared (keydump.h).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "helpers.h"
#include "keydump.h"
#include "btree/fs.h"

static const unsigned ns_btrees[] = {
	JRX_BTREE_INODES, JRX_BTREE_DIRENTS, JRX_BTREE_EXTENTS, JRX_BTREE_XATTRS,
};

static int dump_cb(void *ctx, unsigned btree_id, const struct jrx_bkey *k)
{
	struct dump *d = ctx;

	if (d->nr == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 1024;
		d->v = realloc(d->v, d->cap * sizeof(*d->v));
		assert_non_null(d->v);
	}
	d->v[d->nr].btree = btree_id;
	d->v[d->nr].k = malloc(jrx_bkey_bytes(k));
	assert_non_null(d->v[d->nr].k);
	memcpy(d->v[d->nr].k, k, jrx_bkey_bytes(k));
	d->nr++;
	return 0;
}

void dump_keys(const char *const *paths, struct dump *d)
{
	struct jrx_array a;
	struct jrx_fs fs;

	memset(d, 0, sizeof(*d));
	assert_jrx_ok(jrx_array_open(&a, paths, 2, JRX_OPEN_RDONLY));
	assert_jrx_ok(jrx_fs_open(&fs, &a, JRX_FS_RDONLY));
	for (size_t i = 0; i < sizeof(ns_btrees) / sizeof(*ns_btrees); i++)
		assert_jrx_ok(jrx_btree_walk(&fs, ns_btrees[i], dump_cb, d));
	jrx_fs_abandon(&fs);
	jrx_array_close(&a);
}

static int text_key(void *ctx, unsigned btree_id, const struct jrx_bkey *k)
{
	char buf[1600];

	jrx_bkey_to_text(buf, sizeof(buf), k);
	fprintf(ctx, "%s %s\n", jrx_btree_name(btree_id), buf);
	return 0;
}

char *dump_fs_text(struct jrx_fs *fs)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	for (unsigned b = 0; b < JRX_BTREE_NR; b++)
		assert_jrx_ok(jrx_btree_walk(fs, b, text_key, f));
	fclose(f);
	return text;
}

char *dump_text(const char *const *paths)
{
	struct jrx_array a;
	struct jrx_fs fs;
	char *text;

	assert_jrx_ok(jrx_array_open(&a, paths, 2, JRX_OPEN_RDONLY));
	assert_true(a.sb.flags & JRX_SB_CLEAN);
	assert_jrx_ok(jrx_fs_open(&fs, &a, JRX_FS_RDONLY));
	text = dump_fs_text(&fs);
	jrx_fs_abandon(&fs);
	jrx_array_close(&a);
	return text;
}

void text_no_times(char *text, bool versions)
{
	static const char *const names[] = { "mtime=", "ctime=", "version=" };

	for (size_t i = 0; i < (versions ? 3u : 2u); i++)
		for (char *p = strstr(text, names[i]); p; p = strstr(p, names[i]))
			for (p += strlen(names[i]); *p >= '0' && *p <= '9'; p++)
				*p = '0';
}

void expect_same_text(const char *want, const char *got, const char *what)
{
	size_t line = 1;
	const char *w = want, *g = got;

	if (!strcmp(want, got))
		return;
	while (*w && *w == *g) {
		if (*w == '\n')
			line++;
		w++;
		g++;
	}
	while (w > want && w[-1] != '\n')
		w--;
	while (g > got && g[-1] != '\n')
		g--;
	fail_msg("%s: dumps differ at line %zu:\n  want: %.120s\n  got:  %.120s",
		 what, line, w, g);
}

void dump_free(struct dump *d)
{
	for (size_t i = 0; i < d->nr; i++)
		free(d->v[i].k);
	free(d->v);
}

void dump_no_times(struct dump *d)
{
	for (size_t i = 0; i < d->nr; i++)
		if (d->v[i].k->type == JRX_KEY_INODE) {
			struct jrx_inode_val *v = jrx_bkey_val(d->v[i].k);

			v->mtime = v->ctime = 0;
		}
}

static int dkey_cmp(const struct dkey *a, const struct dkey *b)
{
	if (a->btree != b->btree)
		return a->btree < b->btree ? -1 : 1;
	return jrx_bpos_cmp(a->k->p, b->k->p);
}

size_t diff_keys(const struct dump *a, const struct dump *b,
		 struct diff *out, size_t max)
{
	size_t i = 0, j = 0, n = 0;

	while (i < a->nr || j < b->nr) {
		int c = i == a->nr ? 1 : j == b->nr ? -1 :
			a->v[i].btree != b->v[j].btree ?
			/* the dump's btree order */
			(a->v[i].btree == JRX_BTREE_INODES ? -1 :
			 b->v[j].btree == JRX_BTREE_INODES ? 1 :
			 a->v[i].btree == JRX_BTREE_DIRENTS ? -1 :
			 b->v[j].btree == JRX_BTREE_DIRENTS ? 1 :
			 a->v[i].btree == JRX_BTREE_EXTENTS ? -1 : 1) :
			dkey_cmp(&a->v[i], &b->v[j]);
		struct diff d = { 0 };

		if (c < 0) {
			d = (struct diff){ GONE, a->v[i].btree, a->v[i].k, NULL };
			i++;
		} else if (c > 0) {
			d = (struct diff){ NEW, b->v[j].btree, NULL, b->v[j].k };
			j++;
		} else {
			bool same = jrx_bkey_bytes(a->v[i].k) ==
				jrx_bkey_bytes(b->v[j].k) &&
				!memcmp(a->v[i].k, b->v[j].k,
					jrx_bkey_bytes(a->v[i].k));

			d = (struct diff){ CHANGED, a->v[i].btree, a->v[i].k,
					   b->v[j].k };
			i++, j++;
			if (same)
				continue;
		}
		if (n < max)
			out[n] = d;
		n++;
	}
	return n;
}

void print_diff(const struct diff *d, size_t n)
{
	static const char *const names[] = { "gone", "new", "changed" };
	char b1[256], b2[256];

	for (size_t i = 0; i < n; i++)
		fprintf(stderr, "  %s %s: %s%s%s\n", names[d[i].what],
			jrx_btree_name(d[i].btree),
			d[i].old ? th_key_text(d[i].old, b1, sizeof(b1)) : "",
			d[i].old && d[i].new ? " -> " : "",
			d[i].new ? th_key_text(d[i].new, b2, sizeof(b2)) : "");
}

void expect_same_keys(const struct dump *before, const struct dump *after,
		      const char *what)
{
	struct diff d[MAX_DIFF];
	size_t n = diff_keys(before, after, d, MAX_DIFF);

	if (n) {
		print_diff(d, n < MAX_DIFF ? n : MAX_DIFF);
		fail_msg("%s: %zu keys differ from before the damage", what, n);
	}
}

