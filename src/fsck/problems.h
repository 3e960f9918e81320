/*
 * problems.h - fsck's problem table (e2fsck problem.c style): every
 * inconsistency fsck can find has a code, a stable name, a severity, a
 * message template, the repair it will get and policy flags, all in one
 * x-macro table.  Checks never print: they fill a context (device,
 * offset, btree, position, expected vs found) and call jrx_problem(),
 * the one place that counts, prints (text or JSON) and, once repairs
 * exist, decides with the -n/-y/-p policy whether to fix.
 *
 * Message templates expand e2fsck-like codes from the context:
 *   %D device ("dev 0 (/path)")   %o byte offset on it   %B bucket
 *   %b btree name   %l level   %p position inode:offset:snapshot
 *   %n number   %e expected   %f found   %w detail   %% a percent sign
 *
 * Owner: the thread running fsck.
 */
#ifndef JRX_FSCK_PROBLEMS_H
#define JRX_FSCK_PROBLEMS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "../util/json.h"
#include "../format/format.h"

enum jrx_pr_severity {
	JRX_SEV_INFO,		/* worth knowing; not an inconsistency */
	JRX_SEV_WARNING,	/* suspect; counts as a problem left */
	JRX_SEV_ERROR,		/* inconsistent; counts as a problem left */
	JRX_SEV_NR,
};

/*
 * What a repair does (fsck/repair.c); NONE: no repair exists (FSCK.md says
 * why for each such row).  A repair is whole: it fixes every instance of
 * every problem of its kind at once.
 */
enum jrx_pr_fix {
	JRX_FIX_NONE = 0,
	JRX_FIX_REWRITE_SB,	/* every superblock copy from the array's */
	JRX_FIX_REBUILD_ALLOC,	/* alloc and accounting from the btrees */
	JRX_FIX_NAMESPACE,	/* dirents, extents, xattrs, links, root */
	JRX_FIX_TOPOLOGY,	/* damaged btrees rebuilt from sound leaves */
	JRX_FIX_SPACE,		/* extents cut, moved or removed; misplaced
				   nodes' btrees rebuilt */
	JRX_FIX_JOURNAL,	/* recovered past missing journal seqs */
	JRX_FIX_NR,
};

/* Policy flags (e2fsck's PR_*). */
enum {
	JRX_PRF_PREEN_OK	= 1 << 0,	/* -p may fix it without asking */
	JRX_PRF_NO_NOMSG	= 1 << 1,	/* with -n: count, don't print */
	JRX_PRF_PREEN_NOMSG	= 1 << 2,	/* with -p: fix silently */
	JRX_PRF_FATAL		= 1 << 3,	/* stop checking after it */
};

/*
 * x(NAME, severity, fix, flags, template).  Names are stable: they are
 * the "code" of the JSON output and of docs/FSCK.md.  Append only.
 */
#define JRX_PROBLEMS(x)							\
	/* pass 1: superblocks */					\
	x(SB_COPY_BAD, ERROR, REWRITE_SB, JRX_PRF_PREEN_OK,			\
	  "%D: the superblock copy at offset %o is invalid: %w")	\
	x(SB_COPIES_DIFFER, ERROR, REWRITE_SB, JRX_PRF_PREEN_OK,		\
	  "%D: the superblock copy at offset %o differs from the array's in %w: expected %e, found %f") \
	/* pass 2: journal (unclean arrays) */				\
	x(JOURNAL_SEQ_MISSING, ERROR, JOURNAL, 0,			\
	  "journal seqs %f (%n) are missing from the replay range %e and not blacklisted") \
	x(JOURNAL_REPLICAS_DIFFER, ERROR, NONE, 0,			\
	  "journal seq %n: the copy on %D at offset %o differs from the copy at %w") \
	x(JSET_BAD, INFO, NONE, 0,					\
	  "%D: jset seq %n at offset %o (bucket %B) is torn or corrupt (%w); the scan of its bucket ends there") \
	/* pass 3: btree nodes */					\
	x(ROOT_MISSING, ERROR, TOPOLOGY, 0,					\
	  "btree %b has no root")					\
	x(ROOT_BAD_RANGE, ERROR, TOPOLOGY, 0,				\
	  "the root of btree %b covers %f, expected %e")		\
	x(PTR_BAD_DEVICE, ERROR, TOPOLOGY, 0,				\
	  "%w (%b level %l, %p) names member %n, but the array has %e")	\
	x(PTR_BAD_BLOCKS, ERROR, TOPOLOGY, 0,				\
	  "%D offset %o: %b level %l node (%p): its pointer gives %n written blocks, expected %e") \
	x(NODE_READ, ERROR, TOPOLOGY, 0,					\
	  "%D offset %o: %b level %l node (%p) cannot be read: %w")	\
	x(NODE_BAD_MAGIC, ERROR, TOPOLOGY, 0,				\
	  "%D offset %o: %b level %l node (%p) has a bad magic: expected %e, found %f") \
	x(NODE_CSUM, ERROR, TOPOLOGY, 0,					\
	  "%D offset %o: %b level %l node (%p): header checksum mismatch: expected %e, found %f") \
	x(NODE_BAD_HEADER, ERROR, TOPOLOGY, 0,				\
	  "%D offset %o: %b level %l node (%p): %w")			\
	x(NODE_WRONG_BTREE, ERROR, TOPOLOGY, 0,				\
	  "%D offset %o: node (%p) belongs to btree %f, but its pointer is in btree %e") \
	x(NODE_WRONG_LEVEL, ERROR, TOPOLOGY, 0,				\
	  "%D offset %o: %b node (%p) has level %f, expected %e")	\
	x(NODE_PTR_MISMATCH, ERROR, TOPOLOGY, 0,				\
	  "%D offset %o: %b level %l node (%p): %w does not match its pointer: expected %e, found %f") \
	x(BSET_CSUM, ERROR, TOPOLOGY, 0,					\
	  "%D offset %o: bset of %b level %l node (%p) fails its checksum: %w") \
	x(BSET_BAD, ERROR, TOPOLOGY, 0,					\
	  "%D offset %o: bset of %b level %l node (%p) is malformed: %w") \
	x(KEY_INVALID, ERROR, TOPOLOGY, 0,					\
	  "%D offset %o: %b level %l key %p: %w")			\
	x(KEYS_UNSORTED, ERROR, TOPOLOGY, 0,				\
	  "%D offset %o: %b level %l key %p does not come after the previous key %e") \
	x(KEY_OUTSIDE_NODE, ERROR, TOPOLOGY, 0,				\
	  "%D offset %o: %b level %l key %p lies outside its node's range %e") \
	x(CHILD_GAP, ERROR, TOPOLOGY, 0,					\
	  "%D offset %o: %b level %l node, child %p: %w: expected %e, found %f") \
	x(CHILD_OVERLAP, ERROR, TOPOLOGY, 0,				\
	  "%D offset %o: %b level %l node, child %p: %w: expected %e, found %f") \
	/* pass 4: buckets */						\
	x(PTR_OUTSIDE_DATA, ERROR, SPACE, 0,				\
	  "%D offset %o: %w (%b, %p) lies in %f, not in a data bucket")	\
	x(PTR_CROSSES_BUCKET, ERROR, SPACE, 0,				\
	  "%D offset %o: %w (%b, %p) runs past the end of bucket %B")	\
	x(BUCKET_USED_TWICE, ERROR, SPACE, 0,				\
	  "%D offset %o (bucket %B): %n sectors are used twice: by %e and by %f") \
	x(BUCKET_MIXED_DATA, ERROR, SPACE, JRX_PRF_PREEN_OK,	\
	  "%D bucket %B holds both btree nodes and user data: %w")	\
	x(ALLOC_MISMATCH, ERROR, REBUILD_ALLOC, JRX_PRF_PREEN_OK,		\
	  "%D bucket %B: alloc key %w is %f, expected %e")		\
	x(ALLOC_KEY_OUTSIDE, ERROR, REBUILD_ALLOC, JRX_PRF_PREEN_OK,		\
	  "alloc key %p names a bucket outside the array: %w")		\
	/* pass 5: accounting */					\
	x(ACCOUNTING_MISMATCH, ERROR, REBUILD_ALLOC, JRX_PRF_PREEN_OK,		\
	  "accounting %w (key %p): expected %e, found %f")		\
	x(ACCOUNTING_UNKNOWN, WARNING, REBUILD_ALLOC, JRX_PRF_PREEN_OK,		\
	  "accounting key %p names no known counter: %w")		\
	x(ACCOUNTING_VERSION, WARNING, REBUILD_ALLOC, 0,				\
	  "accounting key %p has version %f, past the journal (%e): newer deltas would be skipped") \
	/* pass 6: namespace */						\
	x(ROOT_INODE_MISSING, ERROR, NAMESPACE, 0,		\
	  "root directory inode %n: %w")				\
	x(DIRENT_DANGLING, ERROR, NAMESPACE, 0,			\
	  "dirent %w in directory %n (%p) names inode %f, which does not exist") \
	x(DIRENT_NO_DIR, ERROR, NAMESPACE, 0,			\
	  "dirent %w (%p) is in directory %n, which does not exist")	\
	x(DIRENT_NOT_IN_DIR, ERROR, NAMESPACE, 0,		\
	  "dirent %w (%p) is in inode %n, which is not a directory (mode %f)") \
	x(DIRENT_BAD_HASH, ERROR, NAMESPACE, 0,			\
	  "dirent %w in directory %n is at hash %f, but its name hashes to %e") \
	x(DIRENT_WRONG_TYPE, WARNING, NAMESPACE, JRX_PRF_PREEN_OK, \
	  "dirent %w (%p) has type %f, but inode %n has type %e")	\
	x(EXTENT_NO_INODE, ERROR, NAMESPACE, 0,			\
	  "extent %p (file sectors %w) belongs to inode %n, which does not exist") \
	x(EXTENT_NOT_FILE, ERROR, NAMESPACE, 0,			\
	  "extent %p belongs to inode %n, which is not a regular file (mode %f)") \
	x(EXTENT_PAST_ISIZE, ERROR, NAMESPACE, JRX_PRF_PREEN_OK, \
	  "extent %p of inode %n ends at file sector %f, past i_size (%e)") \
	x(EXTENT_OVERLAP, ERROR, NAMESPACE, 0,			\
	  "extent %p of inode %n (file sectors %w) overlaps the previous extent, which ends at %e") \
	x(XATTR_NO_INODE, ERROR, NAMESPACE, 0,			\
	  "xattr %w (%p) belongs to inode %n, which does not exist")	\
	x(XATTR_BAD_HASH, ERROR, NAMESPACE, 0,			\
	  "xattr %w of inode %n is at hash %f, but its name hashes to %e") \
	x(INODE_UNREACHABLE, ERROR, NAMESPACE, 0,		\
	  "inode %n (%p) has no directory entry")			\
	x(DIR_MULTIPLE_LINKS, ERROR, NAMESPACE, 0,		\
	  "directory inode %n (%p) is named by %f directory entries, expected %e") \
	x(INODE_NLINK, ERROR, NAMESPACE, JRX_PRF_PREEN_OK,	\
	  "inode %n (%p) has nlink %f, expected %e (%w)")		\
	/* any pass */							\
	x(CHECK_INCOMPLETE, INFO, NONE, 0,				\
	  "%w: not checked, damaged %b nodes hide keys it needs")	\
	/* pass 1, --degraded */					\
	x(MEMBER_MISSING, WARNING, NONE, 0,				\
	  "%D: member %n is missing (--degraded): its superblocks and the btree nodes on it are not checked")

enum jrx_pr_code {
#define JRX_X(name, sev, fix, flags, msg) JRX_PR_##name,
	JRX_PROBLEMS(JRX_X)
#undef JRX_X
	JRX_PR_NR
};

struct jrx_problem_desc {
	enum jrx_pr_code code;
	const char *name;		/* stable: "NODE_CSUM" */
	enum jrx_pr_severity severity;
	enum jrx_pr_fix fix;
	unsigned flags;			/* JRX_PRF_* */
	const char *msg;		/* template, codes above */
};

/* The passes, in the order they run. */
enum jrx_fsck_pass {
	JRX_PASS_SB,
	JRX_PASS_JOURNAL,
	JRX_PASS_NODES,
	JRX_PASS_BUCKETS,
	JRX_PASS_ACCOUNTING,
	JRX_PASS_NAMESPACE,
	JRX_PASS_NR,
};

#define JRX_PR_NONE UINT64_MAX

/* Where one instance of a problem is; unset fields print nothing. */
struct jrx_pr_ctx {
	int	 dev;			/* member index, -1: none */
	uint64_t offset;		/* bytes on dev, JRX_PR_NONE: none */
	uint64_t bucket;		/* JRX_PR_NONE: none */
	int	 btree;			/* -1: none */
	int	 level;			/* -1: none */
	bool	 has_pos;
	struct jrx_bpos pos;
	uint64_t num;			/* %n, JRX_PR_NONE: none */
	uint64_t want;			/* the expected value as a number, for
					   a repair (never printed; pass 6:
					   nlink, the previous extent's end),
					   JRX_PR_NONE: none */
	const char *why;		/* %w */
	/* what a repair needs beyond the fields above (never printed;
	 * pass 4: struct fsck_space_fix), valid during the hook only;
	 * NULL: nothing */
	const void *fix;
	char	 expected[96];		/* %e */
	char	 found[96];		/* %f */
};

/* Counts kept per code, severity and pass. */
struct jrx_pr_counts {
	uint64_t code[JRX_PR_NR];
	uint64_t sev[JRX_SEV_NR];
	uint64_t pass[JRX_PASS_NR];
};

struct jrx_array;

/* The reporter: where problems go and what they add up to. */
struct jrx_pr_out {
	FILE		 *f;		/* NULL: nothing printed */
	bool		  json;		/* objects of a JSON array, comma separated */
	bool		  read_only;	/* -n: JRX_PRF_NO_NOMSG applies */
	const struct jrx_array *a;	/* device paths (may be NULL) */
	enum jrx_fsck_pass pass;	/* the pass running */
	struct jrx_pr_counts *counts;
	uint64_t	  printed;	/* JSON objects written */
	/* every instance, after counting (tests, later repair queues) */
	void		(*hook)(void *ctx, enum jrx_pr_code code,
				const struct jrx_pr_ctx *c);
	void		 *hook_ctx;
};

extern const struct jrx_problem_desc jrx_problem_table[JRX_PR_NR];
extern const char *const jrx_pass_names[JRX_PASS_NR];
extern const char *const jrx_severity_names[JRX_SEV_NR];

/* A context with nothing set. */
void jrx_pr_ctx_init(struct jrx_pr_ctx *c);
/* printf into c->expected / c->found. */
void jrx_pr_expected(struct jrx_pr_ctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void jrx_pr_found(struct jrx_pr_ctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * Report one instance: count it, print it (one line of text, or one JSON
 * object), call the hook.  Returns false: repairs are whole, decided by
 * jrx_pr_fixes() once the check is over.
 */
bool jrx_problem(struct jrx_pr_out *o, enum jrx_pr_code code,
		 const struct jrx_pr_ctx *c);

/* The message of an instance, template expanded, into buf. */
size_t jrx_problem_text(char *buf, size_t len, const struct jrx_pr_out *o,
			enum jrx_pr_code code, const struct jrx_pr_ctx *c);

/* Code by stable name, or -1. */
int jrx_problem_by_name(const char *name);

/*
 * fsck(8) exit code: 0 nothing left, 4 problems (warnings or errors) left
 * uncorrected, | 8 when fsck itself failed (operational error).  Info
 * never counts.  (1 "corrected" arrives with repairs.)
 */
/* How far fsck may repair (fsck.h's repair option). */
enum jrx_repair_mode {
	JRX_REPAIR_NONE,	/* -n, or no -y/-p: report only */
	JRX_REPAIR_PREEN,	/* -p/-a: PREEN_OK problems, silently */
	JRX_REPAIR_ALL,		/* -y */
};

/*
 * fsck(8)'s policy, in one place: the repairs (1 << JRX_FIX_*) to apply
 * for what a check counted.  Under PREEN every error and warning found
 * must be PREEN_OK and repairable, or nothing is repaired and *unexpected
 * is set (e2fsck's "UNEXPECTED INCONSISTENCY; RUN fsck MANUALLY").
 */
unsigned jrx_pr_fixes(const struct jrx_pr_counts *c, enum jrx_repair_mode mode,
		      bool *unexpected);

int jrx_pr_exit_code(const struct jrx_pr_counts *c, bool operational_error);


#endif
