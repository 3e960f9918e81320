/*
 * json.h - JSON string output shared by every machine-readable report
 * (recovery, fsck, verify): escaping, and null for an absent string.
 */
#ifndef JRX_JSON_H
#define JRX_JSON_H

#include <stdio.h>

/* s as a JSON string, with the quotes (NULL prints ""). */
void jrx_json_str(FILE *f, const char *s);
/* s as a JSON string, or null when s is NULL or empty. */
void jrx_json_str_or_null(FILE *f, const char *s);

#endif
