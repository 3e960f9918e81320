/*
 * demo.h - what the two acts of `jrx demo` share: the step lines, number
 * formats, the side-by-side table of two recovery reports and the
 * read-only fsck of an array (cmd_demo.c), and the second act, recovery
 * at scale (demo_scale.c).
 */
#ifndef JRX_CLI_DEMO_H
#define JRX_CLI_DEMO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "recovery/report.h"

/* Column of the step texts; a timed text is padded to this width. */
#define DEMO_TEXT	58

/* "  label    text ...     1.234 s": secs < 0 for no time. */
void demo_step(const char *label, double secs, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* ref / acc as "4.2x" ("0.31x" below 1), "-" without both times. */
void demo_fmt_speedup(char *buf, size_t len, double ref, double acc);
void demo_fmt_mib(char *buf, size_t len, uint64_t bytes);
/* The two reports side by side, phase by phase. */
void demo_table(const struct jrx_report *rr, const struct jrx_report *ra);
/* fsck -n of a two-device array: a line, the log on a problem; 0 if clean. */
int  demo_fsck(const char *who, const char *const *paths);

/* What act two measured, for the summary and demo --json. */
struct demo_scale_result {
	uint64_t	 keys;
	struct jrx_report rr, ra;	/* reference, accelerated */
	double		 speedup;	/* rr.total_seconds / ra.total_seconds */
	double		 floor_seconds;	/* <= 0: not measured */
	uint64_t	 dump_keys;	/* keys in each dump (identical) */
};

/*
 * Act two: a synth array of `keys` journal keys over as big a btree in
 * dir, recovered by the reference and (on a sparse copy) by the
 * accelerated recovery, with the speedup, the bytes moved, the I/O floor
 * (the same bytes read and written with O_DIRECT in dir) and the checks
 * (identical dumps, fsck).  Its files are removed unless keep.  0 or an
 * exit code; *res filled as far as it got.
 */
int  demo_scale(const char *dir, uint64_t keys, uint64_t seed, bool keep,
		struct demo_scale_result *res);

#endif
