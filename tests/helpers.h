/*
 * helpers.h - what the cmocka test programs share: a scratch directory under
 * /tmp (removed at the end), sparse device files, formatting an array,
 * a deterministic random generator, builders for every key type, raw file
 * reads/writes/hashes, and assertions that name the jrx error they saw.
 *
 * Every test program is standalone (liburing style); nothing here keeps
 * global state except the scratch directory a test asked for and what the
 * io_uring probe found.
 */
#ifndef JRX_TEST_HELPERS_H
#define JRX_TEST_HELPERS_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <cmocka.h>

#include "jrx/errors.h"
#include "format/format.h"
#include "format/bkey.h"
#include "util/diag.h"
#include "io/array.h"
#include "io/engine.h"
#include "fsck/fsck.h"

/* ------------------------------------------------------------ assertions */

/* Name of a return code for messages: "OK", "JRX_ERR_SB_CSUM", "ENOENT". */
const char *th_errname(int err);

/* got must equal want; on failure prints both names and jrx_diag(). */
#define assert_jrx_err(got, want)					\
	th_assert_err((got), (want), #got, __FILE__, __LINE__)
#define assert_jrx_ok(expr) assert_jrx_err((expr), 0)
void th_assert_err(int got, int want, const char *expr, const char *file,
		   int line);

/* haystack must contain needle; prints both on failure. */
#define assert_contains(haystack, needle)				\
	th_assert_contains((haystack), (needle), #haystack, __FILE__, __LINE__)
void th_assert_contains(const char *haystack, const char *needle,
			const char *expr, const char *file, int line);

/*
 * `fsck -n` of the array at paths (read-only: an unclean array is checked
 * through its in-memory post-recovery view) finds nothing; on failure the
 * message names what (the caller's context) and gives fsck's whole output.
 */
void th_assert_fsck_clean(const char *const *paths, unsigned n,
			  const char *what);

/* ------------------------------------------------------------ io_uring */

/*
 * Where the host refuses io_uring (a seccomp policy, sysctl
 * kernel.io_uring_disabled, a kernel without it) the io_uring parts of a
 * test skip instead of failing, as liburing's own tests do, and the
 * program exits TH_EXIT_SKIP (CTest's SKIP_RETURN_CODE) if nothing
 * failed.  Parts that run on pread still run.
 */
#define TH_EXIT_SKIP 77

/* io_uring_queue_init probed once and cached; if refused, false and the
 * reason in why (may be NULL). */
bool th_uring_available(char *why, size_t len);

/*
 * The io_uring part `what` of a test: true if it can run; else prints
 * "[  SKIPPED ] what: io_uring refused (why)" (once per what), counts the
 * skip for th_exit_code() and returns false.
 */
bool th_uring_or_skip(const char *what);

/* The same for Linux AIO (io_setup probed once): "aio refused (why)". */
bool th_aio_available(char *why, size_t len);
bool th_aio_or_skip(const char *what);

/* want, or pread where want is io_uring or aio and the host refuses it
 * (the skip of the part `what` printed as by th_uring_or_skip). */
enum jrx_io_backend th_io_backend(enum jrx_io_backend want, const char *what);

/* A program's exit code from cmocka's failure count: the failures, else
 * TH_EXIT_SKIP if an io_uring or aio part was skipped, else 0. */
int th_exit_code(int failed);

/*
 * From now on io_uring_setup (and with also_aio io_setup too) fails with
 * EPERM in this process and the programs it starts (a seccomp filter, as
 * container hosts install); 0 or -errno.  For tests/no_uring.c and
 * test_jscan's fallback checks.
 */
int th_refuse_uring(bool also_aio);

/* ------------------------------------------------------------ scratch files */

struct th_dir {
	char path[64];
};

void th_dir_make(struct th_dir *d);		/* mkdtemp under /tmp */
void th_dir_remove(struct th_dir *d);		/* rm -r */
/* out = dir/name (out has room for 256 bytes). */
void th_path(char *out, const struct th_dir *d, const char *name);

void th_sparse_file(const char *path, uint64_t size);
void th_file_pread(const char *path, void *buf, size_t len, uint64_t off);
void th_file_pwrite(const char *path, const void *buf, size_t len,
		    uint64_t off);
void th_file_truncate(const char *path, uint64_t size);
/* Each of the n files paths[i]from_suffix copied (sparse) to
 * paths[i]to_suffix. */
void th_copy_files(const char *const *paths, unsigned n,
		   const char *from_suffix, const char *to_suffix);
uint64_t th_file_size(const char *path);

/* Content hash of a whole file, plus its mtime (ns), for "nothing written". */
struct th_file_state {
	uint64_t hash;
	uint64_t size;
	int64_t	 mtime_ns;
};
void th_file_state(const char *path, struct th_file_state *st);
/* "Nothing written": the state of each of n files before, then the check
 * that none changed (else fails: "<what> wrote to <path>"). */
void th_files_state(const char *const *paths, unsigned n,
		    struct th_file_state *st);
void th_expect_unwritten(const char *const *paths, unsigned n,
			 const struct th_file_state *before, const char *what);

/* ------------------------------------------------------------ arrays */

struct th_geom {
	uint64_t size;		/* per device */
	uint32_t bucket_size;
	uint32_t node_size;
	uint32_t replicas;
	uint64_t journal_size;	/* 0: mkfs default */
	bool	 force;		/* format over an existing array */
};

/* fsck's test geometry: 64 MiB devices, 128 KiB buckets, 16 KiB nodes,
 * 2 journal replicas, a 1 MiB journal. */
extern const struct th_geom th_small_geom;

/* jrx_format with the given geometry; returns its result. */
int th_format(const char *const *paths, unsigned n, const struct th_geom *g);

/*
 * fsck's test array: d0 and d1 in dir (paths into p, 256 bytes each),
 * 64 MiB with 128 KiB buckets, 16 KiB nodes, 2 journal replicas, then
 * `ops` operations of jrx_load (seed 42, oracle if not NULL), clean.
 */
void th_small_loaded_array(const struct th_dir *dir, char p[2][256],
			   const char *paths[2], uint64_t ops,
			   const char *oracle);

/* The repair tests' array: a scratch directory and its two devices. */
struct th_array {
	struct th_dir dir;
	char p[2][256];
	const char *paths[2];
};
/* cmocka setup: a th_array holding th_small_loaded_array (1500 ops, no
 * oracle), made anew for each test. */
int th_array_setup(void **state);
/* cmocka teardown of a state that starts with a struct th_dir (a
 * th_array, or a test's own env laid out so): crash injection off, the
 * directory removed. */
int th_array_teardown(void **state);

/*
 * Damage for fsck's repair tests: the alloc key of the first bucket that
 * holds user data on the clean array at paths says one sector more than
 * the bucket has (written through the store, committed, clean again).
 * Returns the key's position (dev:bucket).
 */
struct jrx_bpos th_damage_alloc_key(const char *const *paths, unsigned n);

/*
 * fsck of the 2-device array at paths through jrx_fsck_run, as the CLI
 * runs it (forced; mode's repairs, PREEN as -p); the text report into
 * *text (malloc'd) unless text is NULL, and to stderr with
 * TEST_FSCK_SHOW=1.  An operational error fails the test; with read_only
 * the devices must come out byte-identical.  Returns the exit code.
 */
int th_fsck(const char *const *paths, bool read_only,
	    enum jrx_repair_mode mode, struct jrx_fsck_result *res,
	    char **text);
/* The same with --json (repairs: the output's one object in *json). */
int th_fsck_json(const char *const *paths, enum jrx_repair_mode mode,
		 struct jrx_fsck_result *res, char **json);

/*
 * Damage for the journal tests: on the unclean 2-device array at paths,
 * a seq of the replay range below its newest that ends its bucket on
 * every device holding it (losing it loses no other jset), every copy of
 * it corrupted (a byte of its entries flipped).  Returns that seq, or 0
 * when the journal has none (the caller skips).
 */
uint64_t th_lose_jset(const char *const *paths);
/* A byte of path at off flipped (xor 0x5a). */
void th_flip_byte(const char *path, uint64_t off);

/* Recover the 2-device array at paths with o (in this process); the
 * recovery's result (r filled). */
struct jrx_recover_opts;
struct jrx_report;
int th_recover(const char *const *paths, const struct jrx_recover_opts *o,
	       struct jrx_report *r);

/* cb(ctx, node) for every node of btree id of the clean 2-device array
 * at paths (read-only), pre-order. */
struct jrx_bnode;
void th_walk_nodes(const char *const *paths, unsigned id,
		   int (*cb)(void *ctx, const struct jrx_bnode *n), void *ctx);

/* The clean 2-device array at paths opened for writing through the store
 * (update, then th_close_rw: commit and clean shutdown). */
struct jrx_fs;
void th_open_rw(const char *const *paths, struct jrx_array *a,
		struct jrx_fs *fs);
void th_close_rw(struct jrx_array *a, struct jrx_fs *fs);

/* fsck -y of the 2-device array killed after its write n (injected: the
 * devices refuse every write after it); fails unless it was. */
void th_fsck_killed(const char *const *paths, uint64_t n);

/*
 * fsck in mode repairs (exit 1; with fix >= 0 that repair, 1 << fix, among
 * those applied and its text containing said), then fsck -n finds nothing
 * (exit 0) and fsck -y again writes nothing (exit 0, hashes unchanged).
 * A failure prints the report and the counts.
 */
void th_expect_repaired(const char *const *paths, enum jrx_repair_mode mode,
			int fix, const char *said);
/* fsck --json output: exactly one object (one "exit_code"), else fails
 * printing it. */
void th_expect_one_json(const char *json);
/* The codes of c counted, one per line, on stderr. */
void th_print_counts(const struct jrx_pr_counts *c);

/* Every durable operation of the load whose oracle file is oracle is in
 * the clean array at paths (2 devices); else the test fails naming what. */
void th_expect_oracle(const char *const *paths, const char *oracle,
		      const char *what);

/*
 * Cap this process's address space (RLIMIT_AS) at what is mapped now plus
 * headroom bytes: later allocations beyond it fail, for tests of what
 * happens when memory runs out.  0 or -1.
 */
int th_cap_address_space(size_t headroom);

/* ------------------------------------------------------------ randomness */

/*
 * jrx_splitmix64() (util/prng.h): deterministic for a fixed seed.  An
 * out-of-line call, so call sites that draw several arguments of one call
 * keep their order of evaluation.
 */
uint64_t th_rand(uint64_t *state);
/* Uniform in [0, n). */
uint64_t th_rand_below(uint64_t *state, uint64_t n);
void th_rand_bytes(uint64_t *state, void *buf, size_t len);

/* ------------------------------------------------------------ keys */

/* Every builder writes a whole key into buf (room for 512 u64 words),
 * value zero padded to the u64 boundary, and returns it. */
#define TH_KEY_WORDS JRX_KEY_MAX_U64S

struct jrx_bkey *th_key_whiteout(uint64_t *buf, struct jrx_bpos p);
struct jrx_bkey *th_key_extent(uint64_t *buf, struct jrx_bpos p, uint32_t size,
			       uint32_t dev, uint64_t sector, uint32_t gen,
			       uint64_t tag);
struct jrx_bkey *th_key_inode(uint64_t *buf, struct jrx_bpos p,
			      const struct jrx_inode_val *v);
struct jrx_bkey *th_key_dirent(uint64_t *buf, struct jrx_bpos p,
			       uint64_t target, uint8_t d_type,
			       const char *name);
struct jrx_bkey *th_key_xattr(uint64_t *buf, struct jrx_bpos p,
			      const char *name, const void *value,
			      uint16_t value_len);
struct jrx_bkey *th_key_alloc(uint64_t *buf, struct jrx_bpos p, uint32_t gen,
			      uint32_t dirty_sectors, uint8_t data_type);
struct jrx_bkey *th_key_accounting(uint64_t *buf, struct jrx_bpos p,
				   uint64_t version, int64_t d0, int64_t d1);
struct jrx_bkey *th_key_btree_ptr(uint64_t *buf, struct jrx_bpos max,
				  struct jrx_bpos min, uint32_t dev,
				  uint64_t sector, uint64_t nonce);

/* A key as text, for failure messages (static buffer per call site use). */
const char *th_key_text(const struct jrx_bkey *k, char *buf, size_t len);

#endif
