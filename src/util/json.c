/* json.c - JSON string output (json.h). */
#include "json.h"

void jrx_json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; s && *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

void jrx_json_str_or_null(FILE *f, const char *s)
{
	if (!s || !*s)
		fputs("null", f);
	else
		jrx_json_str(f, s);
}
