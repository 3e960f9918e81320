/*
 * bkey_fields.c - the fields of a key's value, as one list that every
 * printer walks (bkey.h): the text form of dump and fsck messages, and
 * dump's JSON lines.  A field added here appears in both.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "bkey.h"

#define XATTR_TEXT_MAX 256	/* value bytes the text form shows */

static int put(jrx_field_fn fn, void *ctx, const char *name,
	       enum jrx_field_kind kind, uint64_t u)
{
	return fn(ctx, &(struct jrx_field){ .name = name, .kind = kind,
					    .u = u });
}

static int put_i(jrx_field_fn fn, void *ctx, const char *name, int64_t i)
{
	return fn(ctx, &(struct jrx_field){ .name = name,
					    .kind = JRX_FIELD_I64, .i = i });
}

static int put_s(jrx_field_fn fn, void *ctx, const char *name,
		 enum jrx_field_kind kind, const void *s, size_t len)
{
	return fn(ctx, &(struct jrx_field){ .name = name, .kind = kind,
					    .s = s, .len = len });
}

int jrx_bkey_fields(const struct jrx_bkey *k, jrx_field_fn fn, void *ctx)
{
	const void *val = jrx_bkey_val(k);
	int r = 0;

	switch (k->type) {
	case JRX_KEY_EXTENT: {
		const struct jrx_extent_val *e = val;

		(void)((r = put(fn, ctx, "size", JRX_FIELD_U64, k->size)) ||
		       (r = put(fn, ctx, "dev", JRX_FIELD_U64, e->dev)) ||
		       (r = put(fn, ctx, "sector", JRX_FIELD_U64, e->sector)) ||
		       (r = put(fn, ctx, "gen", JRX_FIELD_U64, e->gen)) ||
		       (r = put(fn, ctx, "tag", JRX_FIELD_U64, e->data_tag)));
		break;
	}
	case JRX_KEY_INODE: {
		const struct jrx_inode_val *i = val;

		(void)((r = put(fn, ctx, "size", JRX_FIELD_U64, i->size)) ||
		       (r = put(fn, ctx, "mode", JRX_FIELD_OCT, i->mode)) ||
		       (r = put(fn, ctx, "nlink", JRX_FIELD_U64, i->nlink)) ||
		       (r = put(fn, ctx, "uid", JRX_FIELD_U64, i->uid)) ||
		       (r = put(fn, ctx, "gid", JRX_FIELD_U64, i->gid)) ||
		       (r = put(fn, ctx, "mtime", JRX_FIELD_U64, i->mtime)) ||
		       (r = put(fn, ctx, "ctime", JRX_FIELD_U64, i->ctime)) ||
		       (r = put(fn, ctx, "gen", JRX_FIELD_U64, i->generation)));
		break;
	}
	case JRX_KEY_DIRENT: {
		const struct jrx_dirent_val *d = val;

		(void)((r = put(fn, ctx, "target", JRX_FIELD_U64, d->target)) ||
		       (r = fn(ctx, &(struct jrx_field){
				.name = "type", .json = "d_type",
				.kind = JRX_FIELD_U64, .u = d->d_type })) ||
		       (r = put_s(fn, ctx, "name", JRX_FIELD_STR, d + 1,
				  d->name_len)));
		break;
	}
	case JRX_KEY_XATTR: {
		const struct jrx_xattr_val *x = val;
		const char *name = (const char *)(x + 1);

		(void)((r = put_s(fn, ctx, "name", JRX_FIELD_STR, name,
				  x->name_len)) ||
		       (r = put_s(fn, ctx, "value", JRX_FIELD_BYTES,
				  name + x->name_len, x->value_len)));
		break;
	}
	case JRX_KEY_ALLOC: {
		const struct jrx_alloc_val *a = val;
		const char *t = jrx_data_type_name(a->data_type);

		(void)((r = put(fn, ctx, "gen", JRX_FIELD_U64, a->gen)) ||
		       (r = fn(ctx, &(struct jrx_field){
				.name = "type", .json = "data_type",
				.kind = JRX_FIELD_STR, .s = t,
				.len = strlen(t) })) ||
		       (r = put(fn, ctx, "dirty_sectors", JRX_FIELD_U64,
				a->dirty_sectors)));
		break;
	}
	case JRX_KEY_ACCOUNTING: {
		const struct jrx_accounting_val *a = val;

		(void)((r = put(fn, ctx, "version", JRX_FIELD_U64, k->version)) ||
		       (r = put_i(fn, ctx, "d0", a->d[0])) ||
		       (r = put_i(fn, ctx, "d1", a->d[1])));
		break;
	}
	case JRX_KEY_BTREE_PTR: {
		const struct jrx_btree_ptr_val *b = val;

		(void)((r = put(fn, ctx, "dev", JRX_FIELD_U64, b->dev)) ||
		       (r = put(fn, ctx, "sector", JRX_FIELD_U64, b->sector)) ||
		       (r = put(fn, ctx, "blocks", JRX_FIELD_U64, b->blocks)) ||
		       (r = put(fn, ctx, "nonce", JRX_FIELD_HEX, b->nonce)) ||
		       (r = fn(ctx, &(struct jrx_field){
				.name = "min", .kind = JRX_FIELD_POS,
				.pos = b->min_key })));
		break;
	}
	default:
		break;
	}
	return r;
}

/* ------------------------------------------------------------ text */

struct text {
	char	*buf;
	size_t	 len, n;		/* n: written so far (may exceed len) */
};

static void add(struct text *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void add(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(t->n < t->len ? t->buf + t->n : NULL,
		      t->n < t->len ? t->len - t->n : 0, fmt, ap);
	va_end(ap);
	if (n > 0)
		t->n += (size_t)n;
}

static int text_field(void *ctx, const struct jrx_field *f)
{
	static const char digits[] = "0123456789abcdef";
	struct text *t = ctx;
	char pos[80];

	add(t, " %s=", f->name);
	switch (f->kind) {
	case JRX_FIELD_U64:
		add(t, "%" PRIu64, f->u);
		break;
	case JRX_FIELD_I64:
		add(t, "%" PRId64, f->i);
		break;
	case JRX_FIELD_OCT:
		add(t, "%" PRIo64, f->u);
		break;
	case JRX_FIELD_HEX:
		add(t, "%016" PRIx64, f->u);
		break;
	case JRX_FIELD_STR:
		add(t, "%.*s", (int)f->len, (const char *)f->s);
		break;
	case JRX_FIELD_BYTES: {
		const uint8_t *p = f->s;
		size_t n = f->len > XATTR_TEXT_MAX ? XATTR_TEXT_MAX : f->len;

		for (size_t i = 0; i < n; i++)
			add(t, "%c%c", digits[p[i] >> 4], digits[p[i] & 15]);
		if (n < f->len)
			add(t, "...");
		break;
	}
	case JRX_FIELD_POS:
		jrx_bpos_to_text(pos, sizeof(pos), f->pos);
		add(t, "%s", pos);
		break;
	}
	return 0;
}

size_t jrx_bkey_to_text(char *buf, size_t len, const struct jrx_bkey *k)
{
	struct text t = { .buf = buf, .len = len };
	char pos[80];

	if (len)
		buf[0] = 0;
	jrx_bpos_to_text(pos, sizeof(pos), k->p);
	add(&t, "%s %s", pos, jrx_key_type_name(k->type));
	jrx_bkey_fields(k, text_field, &t);
	return t.n;	/* the whole length, as snprintf */
}
