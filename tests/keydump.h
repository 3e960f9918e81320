/*
 * keydump.h - the keys of an array's namespace btrees (inodes, dirents,
 * extents, xattrs) dumped from a clean array, and their differences, for
 * the repair tests: what a repair changed, key by key.
 */
#ifndef JRX_TEST_KEYDUMP_H
#define JRX_TEST_KEYDUMP_H

#include <stddef.h>
#include "format/format.h"

struct dkey {
	unsigned	 btree;
	struct jrx_bkey	*k;	/* malloc'd copy */
};

struct dump {
	struct dkey	*v;
	size_t		 nr, cap;
};

/* Every key of the namespace btrees of the clean 2-device array. */
void dump_keys(const char *const *paths, struct dump *d);
void dump_free(struct dump *d);
/* Every key of every btree (alloc and accounting too) of the store fs,
 * or of the clean 2-device array at paths, as text, a line a key; the
 * caller frees it. */
struct jrx_fs;
char *dump_fs_text(struct jrx_fs *fs);
char *dump_text(const char *const *paths);
/* Inode times in a text dump zeroed (a repair's clock), and with
 * versions accounting keys' versions (journal seqs: a store session
 * killed and run again takes more of them): in place. */
void text_no_times(char *text, bool versions);
/* Fails naming the first line that differs unless got is want. */
void expect_same_text(const char *want, const char *got, const char *what);
/* Inode times are the repair's clock: zeroed for comparisons. */
void dump_no_times(struct dump *d);

enum change { GONE, NEW, CHANGED };

struct diff {
	enum change	 what;
	unsigned	 btree;
	const struct jrx_bkey *old, *new;
};

#define MAX_DIFF 16

/* The keys that differ, in (btree order of the dump, position) order;
 * the first max into out, the count returned. */
size_t diff_keys(const struct dump *a, const struct dump *b,
		 struct diff *out, size_t max);
void print_diff(const struct diff *d, size_t n);
/* Fails, printing the differences, unless after is before. */
void expect_same_keys(const struct dump *before, const struct dump *after,
		      const char *what);

#endif
