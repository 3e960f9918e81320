/* bkey.c - key helpers, validation and text form (see bkey.h). */
#include <stdio.h>
#include <string.h>
#include <inttypes.h>
#include "bkey.h"
#include "jrx/errors.h"

static const char *const btree_names[JRX_BTREE_NR] = {
	"extents", "inodes", "dirents", "xattrs", "alloc", "accounting",
};
static const char *const key_names[JRX_KEY_TYPE_NR] = {
	"whiteout", "extent", "inode", "dirent", "xattr", "alloc",
	"accounting", "btree_ptr",
};
static const char *const data_names[JRX_DATA_TYPE_NR] = {
	"free", "sb", "journal", "btree", "user",
};
static const uint8_t leaf_types[JRX_BTREE_NR] = {
	JRX_KEY_EXTENT, JRX_KEY_INODE, JRX_KEY_DIRENT, JRX_KEY_XATTR,
	JRX_KEY_ALLOC, JRX_KEY_ACCOUNTING,
};

struct jrx_bpos jrx_bpos_successor(struct jrx_bpos p)
{
	if (p.snapshot != UINT32_MAX) {
		p.snapshot++;
		return p;
	}
	p.snapshot = 0;
	if (p.offset != UINT64_MAX) {
		p.offset++;
		return p;
	}
	p.offset = 0;
	if (p.inode != UINT64_MAX) {
		p.inode++;
		return p;
	}
	return JRX_POS_MAX;
}

void jrx_bkey_init(struct jrx_bkey *k, uint8_t type, struct jrx_bpos p,
		   size_t val_bytes)
{
	memset(k, 0, sizeof(*k));
	k->u64s = (uint16_t)(JRX_BKEY_U64S + (val_bytes + 7) / 8);
	k->type = type;
	k->p = p;
}

const char *jrx_btree_name(unsigned id)
{
	return id < JRX_BTREE_NR ? btree_names[id] : "unknown";
}

int jrx_btree_id_parse(const char *name)
{
	for (unsigned i = 0; i < JRX_BTREE_NR; i++)
		if (!strcmp(name, btree_names[i]))
			return (int)i;
	return -1;
}

const char *jrx_key_type_name(unsigned type)
{
	return type < JRX_KEY_TYPE_NR ? key_names[type] : "unknown";
}

const char *jrx_data_type_name(unsigned type)
{
	return type < JRX_DATA_TYPE_NR ? data_names[type] : "unknown";
}

uint8_t jrx_btree_leaf_key_type(unsigned btree_id)
{
	return btree_id < JRX_BTREE_NR ? leaf_types[btree_id] : 0xff;
}

static size_t val_min(unsigned type)
{
	switch (type) {
	case JRX_KEY_WHITEOUT:	 return 0;
	case JRX_KEY_EXTENT:	 return sizeof(struct jrx_extent_val);
	case JRX_KEY_INODE:	 return sizeof(struct jrx_inode_val);
	case JRX_KEY_DIRENT:	 return sizeof(struct jrx_dirent_val);
	case JRX_KEY_XATTR:	 return sizeof(struct jrx_xattr_val);
	case JRX_KEY_ALLOC:	 return sizeof(struct jrx_alloc_val);
	case JRX_KEY_ACCOUNTING: return sizeof(struct jrx_accounting_val);
	case JRX_KEY_BTREE_PTR:	 return sizeof(struct jrx_btree_ptr_val);
	}
	return 0;
}

#define BAD(msg) do { *why = (msg); return -JRX_ERR_KEY_INVALID; } while (0)

int jrx_bkey_validate(const struct jrx_bkey *k, size_t avail,
		      unsigned btree_id, unsigned level, const char **why)
{
	size_t vb;

	*why = NULL;
	if (avail < sizeof(*k))
		BAD("key header runs past its container");
	if (k->u64s < JRX_BKEY_U64S || k->u64s > JRX_KEY_MAX_U64S)
		BAD("key u64s out of range [5, 512]");
	if (jrx_bkey_bytes(k) > avail)
		BAD("key u64s runs past its container");
	if (k->type >= JRX_KEY_TYPE_NR)
		BAD("key type unknown");
	if (k->flags)
		BAD("key flags are not zero");
	if (k->p.pad)
		BAD("key p.pad is not zero");
	if (btree_id >= JRX_BTREE_NR)
		BAD("key btree id unknown");
	if (level >= JRX_BTREE_MAX_DEPTH)
		BAD("btree level out of range");
	vb = jrx_bkey_val_bytes(k);
	if (vb < val_min(k->type))
		BAD("key u64s too small for its type's value");
	if (k->type == JRX_KEY_WHITEOUT)
		return 0;
	if (k->type == JRX_KEY_BTREE_PTR &&
	    !((const struct jrx_btree_ptr_val *)jrx_bkey_val(k))->blocks)
		BAD("btree pointer blocks is 0");
	if (level > 0) {
		if (k->type != JRX_KEY_BTREE_PTR)
			BAD("interior key type is not btree_ptr");
		return 0;
	}
	if (k->type != leaf_types[btree_id])
		BAD("key type does not belong in this btree");
	if (k->type == JRX_KEY_EXTENT) {
		if (!k->size)
			BAD("extent size is 0");
		if (k->size > k->p.offset)
			BAD("extent size above p.offset (starts before offset 0)");
	} else if (k->size) {
		BAD("key size set on a non-extent key");
	}
	if (k->type != JRX_KEY_ACCOUNTING && k->version)
		BAD("key version set on a non-accounting key");
	if (k->type == JRX_KEY_DIRENT) {
		const struct jrx_dirent_val *d = jrx_bkey_val(k);

		if (!d->name_len)
			BAD("dirent name_len is 0");
		if (sizeof(*d) + d->name_len > vb)
			BAD("dirent name_len runs past the value");
	}
	if (k->type == JRX_KEY_XATTR) {
		const struct jrx_xattr_val *x = jrx_bkey_val(k);

		if (!x->name_len)
			BAD("xattr name_len is 0");
		if (sizeof(*x) + (size_t)x->name_len + x->value_len > vb)
			BAD("xattr name_len + value_len runs past the value");
	}
	if (k->type == JRX_KEY_ALLOC) {
		const struct jrx_alloc_val *a = jrx_bkey_val(k);

		if (a->data_type >= JRX_DATA_TYPE_NR)
			BAD("alloc data_type out of range");
	}
	return 0;
}

size_t jrx_bpos_to_text(char *buf, size_t len, struct jrx_bpos p)
{
	int n = jrx_bpos_eq(p, JRX_POS_MAX) ? snprintf(buf, len, "POS_MAX") :
		snprintf(buf, len, "%" PRIu64 ":%" PRIu64 ":%" PRIu32,
			 p.inode, p.offset, p.snapshot);
	return n < 0 ? 0 : (size_t)n;
}

