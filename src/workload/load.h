/*
 * load.h - `jrx load`: a realistic mixed workload through the write path
 * (create and unlink files and directories, random and sequential writes
 * that overwrite extents, truncates, xattrs), with bucket allocation and
 * accounting as the store does them, stopped at a chosen crash point as a
 * power cut would leave it.
 */
#ifndef JRX_LOAD_H
#define JRX_LOAD_H

#include <stdbool.h>
#include <stdint.h>
#include "../io/array.h"

/* Smallest bucket (and so jset) that one operation's keys always fit. */
#define JRX_LOAD_MIN_BUCKET (128u * 1024)

struct jrx_load_opts {
	uint64_t    ops;		/* operations to run */
	uint64_t    seed;
	uint64_t    crash_after_ops;	/* 0: no crash by op count */
	uint64_t    crash_after_jsets;	/* 0: no crash by jset count */
	bool	    torn;		/* leave the last jset half written */
	const char *oracle;		/* SQLite file, or NULL */
	uint32_t    flush_every;	/* close a jset every N ops (fsync) */
	/* ops done of the ops to run, every 1024 ops and at the end, on the
	 * calling thread; the callee rate-limits */
	void	  (*progress)(void *ctx, uint64_t done, uint64_t total);
	void	   *progress_ctx;
};

struct jrx_load_result {
	uint64_t ops_done;
	uint64_t ops_durable;
	uint64_t jsets;
	uint64_t journal_bytes;
	uint64_t keys;
	uint64_t splits, rewrites, reclaims, nodes_written, bsets_appended;
	uint64_t last_durable_seq;
	bool	 crashed;
	bool	 torn;
	double	 seconds;
};

void jrx_load_opts_default(struct jrx_load_opts *o);
/* The array must be clean; it is left clean unless a crash was asked. */
int  jrx_load(struct jrx_array *a, const struct jrx_load_opts *o,
	      struct jrx_load_result *r);

#endif
