/*
 * key_json.c - one key as a JSON object, the form of `jrx dump --json`
 * and `jrx journal --keys --json` (docs/REPORT.md): btree, level (journal
 * entries only), root (true for a journal entry setting a root), pos as "inode:offset:snapshot", type, then the value's
 * fields from jrx_bkey_fields() under their dump names.
 */
#include <inttypes.h>
#include <stdio.h>
#include "cli.h"
#include "format/bkey.h"
#include "util/json.h"

static int json_field(void *ctx, const struct jrx_field *f)
{
	FILE *out = ctx;
	char pos[80];

	fprintf(out, ",\"%s\":", f->json ? f->json : f->name);
	switch (f->kind) {
	case JRX_FIELD_U64:
	case JRX_FIELD_OCT:	/* a number is a number; only text is octal */
		fprintf(out, "%" PRIu64, f->u);
		break;
	case JRX_FIELD_I64:
		fprintf(out, "%" PRId64, f->i);
		break;
	case JRX_FIELD_HEX:
		fprintf(out, "\"%016" PRIx64 "\"", f->u);
		break;
	case JRX_FIELD_STR:
		jrx_json_strn(out, f->s, f->len);
		break;
	case JRX_FIELD_BYTES:
		fputc('"', out);
		for (size_t i = 0; i < f->len; i++)
			fprintf(out, "%02x", ((const uint8_t *)f->s)[i]);
		fputc('"', out);
		break;
	case JRX_FIELD_POS:
		jrx_bpos_to_text(pos, sizeof(pos), f->pos);
		jrx_json_str(out, pos);
		break;
	}
	return 0;
}

void cli_key_json(FILE *f, unsigned btree_id, int level, bool root,
		  const struct jrx_bkey *k)
{
	char pos[80];

	fprintf(f, "{\"btree\":\"%s\"", jrx_btree_name(btree_id));
	if (level >= 0)
		fprintf(f, ",\"level\":%d", level);
	if (root)
		fputs(",\"root\":true", f);
	jrx_bpos_to_text(pos, sizeof(pos), k->p);
	fprintf(f, ",\"pos\":\"%s\",\"type\":\"%s\"", pos,
		jrx_key_type_name(k->type));
	jrx_bkey_fields(k, json_field, f);
	fputc('}', f);
}
