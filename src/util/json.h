/*
 * json.h - JSON string output shared by every machine-readable report
 * (recovery, fsck, verify): escaping, and null for an absent string.
 */
#ifndef JRX_JSON_H
#define JRX_JSON_H

#include <stddef.h>
#include <stdio.h>

/* s as a JSON string, with the quotes (NULL prints ""). */
void jrx_json_str(FILE *f, const char *s);
/*
 * len bytes of s (NULs and all) as a JSON string.  Valid UTF-8 is kept;
 * any other byte (names on disk are bytes, not text) becomes the code
 * point of the same value (\u00XX), so the output is always valid JSON.
 */
void jrx_json_strn(FILE *f, const void *s, size_t len);
/* s as a JSON string, or null when s is NULL or empty. */
void jrx_json_str_or_null(FILE *f, const char *s);

#endif
