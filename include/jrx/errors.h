/*
 * errors.h - jrx's error codes, generated from one x-macro table.
 *
 * Library calls return 0 on success, a negative errno for system errors, or
 * a negative jrx_err below.  jrx_strerror() names either kind.
 */
#ifndef JRX_ERRORS_H
#define JRX_ERRORS_H

#define JRX_ERRORS(x)							\
	x(NOT_JRX,		"not a jrx device (bad superblock magic)") \
	x(SB_CSUM,		"superblock checksum mismatch")		\
	x(SB_INVALID,		"superblock fields are invalid")	\
	x(SB_NO_VALID,		"no valid superblock copy")		\
	x(DEV_TRUNCATED,	"device is smaller than its superblock says") \
	x(DEV_OTHER_ARRAY,	"device belongs to another array")	\
	x(DEV_MISSING,		"a member device of the array is missing") \
	x(DEV_DUPLICATE,	"the same member device was given twice") \
	x(DEV_TOO_SMALL,	"device too small for the requested layout") \
	x(BAD_OPTION,		"invalid option value")			\
	x(JSET_CSUM,		"jset checksum mismatch")		\
	x(JSET_INVALID,		"jset is malformed")			\
	x(JOURNAL_REPLICAS_DIFFER, "replicas of a journal seq differ")	\
	x(JOURNAL_SEQ_MISSING,	"a journal seq of the replay range is missing") \
	x(NODE_INVALID,		"btree node is malformed")		\
	x(NODE_CSUM,		"btree node checksum mismatch")		\
	x(KEY_INVALID,		"key is malformed")			\
	x(NEEDS_RECOVERY,	"array is unclean and needs recovery")	\
	x(NO_SPACE,		"no free bucket left")			\
	x(BUCKET_RANGE,		"bucket out of its device's range")	\
	x(ACCOUNTING_UNDERFLOW,	"a bucket's sectors would go below zero") \
	x(JOURNAL_FULL,		"journal too small for the data")	\
	x(READ_ONLY,		"array was opened read-only")		\
	x(CRASHED,		"simulated crash point reached")	\
	x(ORACLE,		"oracle database error")		\
	x(NOT_FOUND,		"not found")				\
	x(DEV_BUSY,		"device is in use by another process")	\
	x(DEV_HAS_DATA,		"device already holds an array or a file system")

enum jrx_err {
	JRX_ERR_START = 2048,
#define JRX_X(name, msg) JRX_ERR_##name,
	JRX_ERRORS(JRX_X)
#undef JRX_X
	JRX_ERR_MAX
};

/* Message for a negative return code: jrx_err or -errno. */
const char *jrx_strerror(int err);
/* Stable name ("JRX_ERR_SB_CSUM", "ENOENT", ...) for logs and JSON. */
const char *jrx_errname(int err);

#endif
