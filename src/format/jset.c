/* jset.c - jset checksum and validation (see jset.h). */
#include "jset.h"
#include "bkey.h"
#include "checksum.h"
#include "jrx/errors.h"
#include "../util/checked.h"

static const char *const je_names[JRX_JE_TYPE_NR] = {
	"unknown", "btree_keys", "btree_root", "blacklist", "clock",
};

const char *jrx_je_type_name(unsigned type)
{
	return type < JRX_JE_TYPE_NR ? je_names[type] : "unknown";
}

void jrx_jset_set_csum(struct jrx_jset *j)
{
	j->csum = jrx_crc32c((const char *)j + 8,
			     sizeof(*j) - 8 + (size_t)j->u64s * 8);
}

#define BAD(msg) do { *why = (msg); return -JRX_ERR_JSET_INVALID; } while (0)

int jrx_jset_validate(const struct jrx_jset *j, size_t avail, uint64_t magic,
		      const char **why)
{
	return jrx_jset_validate_count(j, avail, magic, why, NULL);
}

int jrx_jset_validate_count(const struct jrx_jset *j, size_t avail,
			    uint64_t magic, const char **why,
			    struct jrx_jset_counts *n)
{
	const uint64_t *words = (const uint64_t *)(j + 1);
	struct jrx_jset_counts c = { 0 };
	size_t pos, bytes;

	*why = NULL;
	if (avail < sizeof(*j))
		BAD("no room for a jset header before the end of its bucket");
	if (j->magic != magic)
		BAD("bad magic");
	/* 40 + u64s * 8, then rounded up to a block, inside the bucket */
	if (!jrx_muladd_size(j->u64s, 8, sizeof(*j), &bytes) ||
	    bytes > avail || jrx_jset_disk_bytes(j->u64s) > avail)
		BAD("u64s runs past the end of its bucket");
	if (j->csum != jrx_crc32c((const char *)j + 8,
				  sizeof(*j) - 8 + (size_t)j->u64s * 8)) {
		*why = "checksum mismatch";
		return -JRX_ERR_JSET_CSUM;
	}
	if (j->version != JRX_FORMAT_VERSION)
		BAD("unsupported version");
	if (!j->seq)
		BAD("seq is 0");
	if (j->last_seq > j->seq)
		BAD("last_seq above seq");
	/* entries by word offset: nothing is addressed past the jset */
	for (pos = 0; pos < j->u64s;) {
		const struct jrx_jset_entry *e = (const void *)(words + pos);
		const struct jrx_bkey *k;

		/* the 1-word header lies inside (pos < u64s); the payload? */
		if (e->u64s > j->u64s - pos - 1)
			BAD("entry u64s runs past the end of the jset");
		pos += 1 + (size_t)e->u64s;
		c.entries++;
		switch (e->type) {
		case JRX_JE_BTREE_KEYS:
		case JRX_JE_BTREE_ROOT:
			if (e->btree_id >= JRX_BTREE_NR)
				BAD("entry btree_id out of range");
			if (e->level >= JRX_BTREE_MAX_DEPTH)
				BAD("entry level out of range");
			for (k = jrx_je_keys(e); k < jrx_je_keys_end(e);
			     k = jrx_bkey_next(k)) {
				const char *kwhy;
				size_t left = (size_t)((const char *)jrx_je_keys_end(e) -
						       (const char *)k);

				if (jrx_bkey_validate(k, left, e->btree_id,
						      e->type == JRX_JE_BTREE_ROOT ?
						      1 : e->level, &kwhy))
					BAD(kwhy);
				c.keys += e->type == JRX_JE_BTREE_KEYS;
			}
			if (e->type != JRX_JE_BTREE_ROOT)
				break;
			if (e->u64s * 8 != sizeof(struct jrx_bkey) +
			    sizeof(struct jrx_btree_ptr_val))
				BAD("btree_root entry u64s is not one btree"
				    " pointer (11)");
			if (jrx_je_keys(e)->type != JRX_KEY_BTREE_PTR)
				BAD("btree_root entry key type is not btree_ptr");
			break;
		case JRX_JE_BLACKLIST:
			if (e->u64s % 2)
				BAD("blacklist entry u64s is not whole ranges");
			c.blacklists++;
			break;
		case JRX_JE_CLOCK:
			if (e->u64s != 2)
				BAD("clock entry u64s is not 2");
			break;
		default:
			BAD("entry type unknown");
		}
	}
	if (n)
		*n = c;
	return 0;
}
