/*
 * cli.h - what the jrx front end's command files share: the command
 * table entry, option helpers, and error printing.  Each command lives in
 * its own cmd_*.c and returns a process exit code.
 */
#ifndef JRX_CLI_H
#define JRX_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "io/array.h"
#include "format/bkey.h"

struct jrx_cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

/* Exit codes */
enum { JRX_EXIT_OK = 0, JRX_EXIT_ERROR = 1, JRX_EXIT_USAGE = 2 };

/* "4096", "64K", "1M", "2G", "1T" -> bytes; false if malformed. */
bool cli_parse_size(const char *s, uint64_t *out);
bool cli_parse_u64(const char *s, uint64_t *out);
bool cli_parse_double(const char *s, double *out);

/* Prints "jrx CMD: <context>: <message>" to stderr; returns 1. */
int  cli_error(const char *cmd, int err);
/* Open the array named by argv; prints errors and notes. */
int  cli_open_array(const char *cmd, struct jrx_array *a, char **paths,
		    int n, unsigned flags);
/* What opening the array noted (replicas rewritten, ...), on stderr. */
void cli_print_notes(const struct jrx_array *a);

struct jrx_recover_opts;
struct jrx_report;
/* Open the array (timed as the superblock phase), recover, close; an exit
 * code, with errors printed. */
int  cli_recover(const char *cmd, char **paths, int n,
		 const struct jrx_recover_opts *o, struct jrx_report *r);


/*
 * A jrx_btree_walk() callback printing keys as `jrx dump` does, one line
 * per key ("btree key"), to ctx, a struct cli_dump, counting them.
 */
struct cli_dump {
	FILE	*f;
	uint64_t keys;
	bool	 json;		/* one JSON object a line (docs/REPORT.md) */
};
/* k as one JSON object (key_json.c), no newline; level < 0: none;
 * root: the key sets a btree's root (a journal entry). */
void cli_key_json(FILE *f, unsigned btree_id, int level, bool root,
		  const struct jrx_bkey *k);
int  cli_dump_key(void *ctx, unsigned btree_id, const struct jrx_bkey *k);
/* Every key of every btree of the clean array at paths into out, as
 * `jrx dump` prints them; an exit code, errors printed as cmd's. */
int  cli_dump_array(const char *cmd, const char *const *paths, int n,
		    struct cli_dump *out);

/* a's superblock as one JSON object and a newline (super_json.c). */
void cli_super_json(FILE *f, const struct jrx_array *a);

int cmd_format(int argc, char **argv);
int cmd_show_super(int argc, char **argv);
int cmd_journal(int argc, char **argv);
int cmd_dump(int argc, char **argv);
int cmd_load(int argc, char **argv);
int cmd_synth(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_recover(int argc, char **argv);
int cmd_fsck(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_version(int argc, char **argv);

/* "PROG 0.1.0 (commit c193a50)" on stdout (version.c). */
void cli_print_version(const char *prog);

#endif
