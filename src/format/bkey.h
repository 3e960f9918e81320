/*
 * bkey.h - positions and keys: ordering, sizes, value access, validation
 * and the stable one-line text form used by `jrx dump` and `jrx journal`.
 */
#ifndef JRX_BKEY_H
#define JRX_BKEY_H

#include <stdbool.h>
#include <stddef.h>
#include "format.h"

#define JRX_POS_MIN ((struct jrx_bpos){ 0, 0, 0, 0 })
#define JRX_POS_MAX ((struct jrx_bpos){ UINT64_MAX, UINT64_MAX, UINT32_MAX, 0 })

static inline int jrx_bpos_cmp(struct jrx_bpos a, struct jrx_bpos b)
{
	if (a.inode != b.inode)
		return a.inode < b.inode ? -1 : 1;
	if (a.offset != b.offset)
		return a.offset < b.offset ? -1 : 1;
	if (a.snapshot != b.snapshot)
		return a.snapshot < b.snapshot ? -1 : 1;
	return 0;
}

static inline bool jrx_bpos_eq(struct jrx_bpos a, struct jrx_bpos b)
{
	return !jrx_bpos_cmp(a, b);
}

static inline struct jrx_bpos jrx_bpos(uint64_t inode, uint64_t offset, uint32_t snap)
{
	return (struct jrx_bpos){ inode, offset, snap, 0 };
}

/* The next position in key order (POS_MAX stays POS_MAX). */
struct jrx_bpos jrx_bpos_successor(struct jrx_bpos p);

static inline size_t jrx_bkey_bytes(const struct jrx_bkey *k)
{
	return (size_t)k->u64s * 8;
}

static inline void *jrx_bkey_val(const struct jrx_bkey *k)
{
	return (char *)k + sizeof(*k);
}

static inline size_t jrx_bkey_val_bytes(const struct jrx_bkey *k)
{
	return jrx_bkey_bytes(k) - sizeof(*k);
}

static inline struct jrx_bkey *jrx_bkey_next(const struct jrx_bkey *k)
{
	return (struct jrx_bkey *)((const uint64_t *)k + k->u64s);
}

/* Fill a key header for a value of val_bytes (rounded up to u64). */
void jrx_bkey_init(struct jrx_bkey *k, uint8_t type, struct jrx_bpos p,
		   size_t val_bytes);

const char *jrx_btree_name(unsigned id);
int jrx_btree_id_parse(const char *name);	/* -1 if unknown */
const char *jrx_key_type_name(unsigned type);
const char *jrx_data_type_name(unsigned type);

/* The key type that leaves of a btree hold. */
uint8_t jrx_btree_leaf_key_type(unsigned btree_id);

/*
 * Structural check of one key as found in (btree_id, level); avail is the
 * number of bytes from k to the end of its container.  Returns 0 or
 * -JRX_ERR_KEY_INVALID with the reason in *why.
 */
int jrx_bkey_validate(const struct jrx_bkey *k, size_t avail,
		      unsigned btree_id, unsigned level, const char **why);

/* A position as "inode:offset:snapshot", POS_MAX as "POS_MAX"; the
 * length written. */
size_t jrx_bpos_to_text(char *buf, size_t len, struct jrx_bpos p);
/*
 * The value fields of a key, in their stable order (bkey_fields.c): one
 * call of fn per field, its name as dump prints it ("size", "dev",
 * "name", ...).  Numbers are u (unsigned) or i (signed); OCT and HEX say
 * how the text form prints a number; STR and BYTES point into the key
 * (len bytes, not terminated); POS is a position.  A non-zero return of
 * fn stops the walk and is returned.
 */
enum jrx_field_kind {
	JRX_FIELD_U64, JRX_FIELD_I64, JRX_FIELD_OCT, JRX_FIELD_HEX,
	JRX_FIELD_STR, JRX_FIELD_BYTES, JRX_FIELD_POS,
};
struct jrx_field {
	const char	*name;
	const char	*json;		/* the JSON name when it differs: the
					   key's own "type" is taken */
	enum jrx_field_kind kind;
	uint64_t	 u;
	int64_t		 i;
	const void	*s;		/* STR, BYTES */
	size_t		 len;
	struct jrx_bpos	 pos;
};
typedef int (*jrx_field_fn)(void *ctx, const struct jrx_field *f);
int jrx_bkey_fields(const struct jrx_bkey *k, jrx_field_fn fn, void *ctx);

/* Stable text of a key: "inode:offset:snapshot type fields..." (dump):
 * each field as name=value, BYTES in hex (the first 256 bytes, then
 * "...").  Returns the whole length, even when buf is too short. */
size_t jrx_bkey_to_text(char *buf, size_t len, const struct jrx_bkey *k);

#endif
