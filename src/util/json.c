/* json.c - JSON string output (json.h). */
#include <string.h>
#include "json.h"

void jrx_json_str(FILE *f, const char *s)
{
	jrx_json_strn(f, s, s ? strlen(s) : 0);
}

void jrx_json_str_or_null(FILE *f, const char *s)
{
	if (!s || !*s)
		fputs("null", f);
	else
		jrx_json_str(f, s);
}

/* Length of the valid UTF-8 sequence at p (n bytes left), 0 if none. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
	size_t len = p[0] >= 0xf0 && p[0] <= 0xf4 ? 4 :
		p[0] >= 0xe0 ? 3 : p[0] >= 0xc2 && p[0] < 0xe0 ? 2 : 0;

	if (!len || len > n)
		return 0;
	for (size_t i = 1; i < len; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	/* overlong 3- and 4-byte forms, surrogates, past U+10FFFF */
	if ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] >= 0xa0) ||
	    (p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] >= 0x90))
		return 0;
	return len;
}

void jrx_json_strn(FILE *f, const void *s, size_t len)
{
	const unsigned char *p = s;

	fputc('"', f);
	for (size_t i = 0; i < len;) {
		unsigned char ch = p[i];
		size_t u;

		if (ch == '"' || ch == '\\') {
			fprintf(f, "\\%c", ch);
			i++;
		} else if (ch < 0x20 || ch == 0x7f) {
			fprintf(f, "\\u%04x", ch);
			i++;
		} else if (ch < 0x80) {
			fputc(ch, f);
			i++;
		} else if ((u = utf8_len(p + i, len - i))) {
			fwrite(p + i, 1, u, f);
			i += u;
		} else {
			fprintf(f, "\\u%04x", ch);
			i++;
		}
	}
	fputc('"', f);
}
