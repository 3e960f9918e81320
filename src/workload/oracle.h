/*
 * oracle.h - the SQLite record of what became durable during `jrx load`.
 *
 * Operations are handed over with the journal seq they were committed
 * under and kept in memory until that jset reaches the devices; then they
 * are written, in order, to table `ops` and folded into tables `files` and
 * `xattrs` (the durable namespace).  Operations whose jset never landed
 * are never written.  Schema: docs/ORACLE.md.
 *
 * Owner: the load thread.
 */
#ifndef JRX_ORACLE_H
#define JRX_ORACLE_H

#include <stdint.h>

enum jrx_op_kind {
	JRX_OP_CREATE = 1, JRX_OP_UNLINK, JRX_OP_WRITE, JRX_OP_TRUNCATE,
	JRX_OP_SETXATTR,
};

struct jrx_op {
	uint64_t id;		/* 1, 2, ... in commit order */
	uint64_t seq;		/* journal seq it was committed under */
	unsigned kind;		/* enum jrx_op_kind */
	unsigned d_type;
	uint64_t inum;
	uint64_t parent;
	char	 name[64];	/* dirent or xattr name */
	uint64_t off;		/* write: first sector */
	uint64_t len;		/* write: sectors */
	uint64_t size;		/* truncate: new i_size; write: i_size after */
	uint64_t tag;		/* write: data tag */
	uint8_t	 value[64];	/* setxattr */
	uint16_t value_len;
};

struct jrx_oracle;

int  jrx_oracle_open(struct jrx_oracle **o, const char *path);
/* Record run parameters (key/value) in table meta. */
int  jrx_oracle_meta(struct jrx_oracle *o, const char *key, const char *value);
/* Hold an operation until its seq is durable. */
int  jrx_oracle_add(struct jrx_oracle *o, const struct jrx_op *op);
/* Every held operation with seq <= seq is durable: write them. */
int  jrx_oracle_durable(struct jrx_oracle *o, uint64_t seq);
/* Drop what is held (a crash) and close. */
int  jrx_oracle_close(struct jrx_oracle *o);
uint64_t jrx_oracle_durable_ops(const struct jrx_oracle *o);

#endif
