/*
 * fuzz_jset.c - libFuzzer target: one jset through jrx_jset_validate_count()
 * (FORMAT.md 5.4, every key through jrx_bkey_validate(), 6.7) and, when it
 * is valid, the walk every reader of a jset does (src/journal, src/sort,
 * `jrx journal --keys`): entries, keys and their text form, blacklist
 * ranges, the clock; the walk's counts must equal the validator's.
 *
 * Input: [flags u8][uuid[0..8) 8 bytes][jset bytes].
 *   flags bit 0  fix the checksum up (over what u64s says, if it fits)
 *   flags bit 1  write the array's jset magic
 *   flags bit 2  pad the buffer with zeros to a whole block (else the
 *                jset's bucket ends exactly where the input does)
 */
#include "fuzz_input.h"
#include "format/bkey.h"
#include "format/jset.h"
#include "format/sb.h"
#include "jrx/errors.h"

#define FZ_PAD	0x04u

static void walk(const struct jrx_jset *j, size_t avail,
		 const struct jrx_jset_counts *c)
{
	const char *end = (const char *)jrx_jset_end(j);
	const struct jrx_jset_entry *e;
	uint32_t entries = 0;
	uint64_t keys = 0;
	char text[1600];

	FZ_CHECK(jrx_jset_disk_bytes(j->u64s) <= avail, "valid jset past avail");
	jrx_for_each_jset_entry(e, j) {
		const struct jrx_bkey *k;
		const char *why;
		unsigned n = 0;

		FZ_CHECK((const char *)jrx_je_next(e) <= end,
			 "entry of a valid jset runs past it");
		entries++;
		FZ_CHECK(jrx_je_type_name(e->type) != NULL, "type name");
		switch (e->type) {
		case JRX_JE_BTREE_KEYS:
		case JRX_JE_BTREE_ROOT:
			FZ_CHECK(jrx_btree_name(e->btree_id) != NULL, "btree name");
			jrx_for_each_entry_key(k, e) {
				size_t left = (size_t)((const char *)jrx_je_keys_end(e) -
						       (const char *)k);

				FZ_CHECK(jrx_bkey_bytes(k) <= left,
					 "key of a valid jset runs past its entry");
				FZ_CHECK(!jrx_bkey_validate(k, left, e->btree_id,
						e->type == JRX_JE_BTREE_ROOT ?
						1 : e->level, &why),
					 "key of a valid jset fails validation");
				jrx_bkey_to_text(text, sizeof(text), k);
				FZ_CHECK(strlen(text) < sizeof(text), "key text");
				n++;
			}
			if (e->type == JRX_JE_BTREE_KEYS)
				keys += n;
			else
				FZ_CHECK(n == 1 && jrx_je_keys(e)->type ==
					 JRX_KEY_BTREE_PTR,
					 "btree_root entry is not one pointer");
			break;
		case JRX_JE_BLACKLIST: {
			const struct jrx_blacklist_entry *b = (const void *)(e + 1);
			uint64_t sum = 0;

			FZ_CHECK(e->u64s % 2 == 0, "blacklist entry size");
			for (size_t i = 0; i < e->u64s / 2u; i++)
				sum += b[i].end - b[i].start;
			(void)sum;
			break;
		}
		case JRX_JE_CLOCK: {
			const struct jrx_clock_val *cv = (const void *)(e + 1);

			FZ_CHECK(e->u64s == 2, "clock entry size");
			(void)(cv->time + cv->ops);
			break;
		}
		default:
			FZ_CHECK(0, "unknown entry type in a valid jset");
		}
	}
	FZ_CHECK(entries == c->entries, "entry count differs from the validator's");
	FZ_CHECK(keys == c->keys, "key count differs from the validator's");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };
	uint8_t flags = fz_u8(&in);
	uint8_t uuid[16] = { 0 };
	struct jrx_jset_counts c = { 0 };
	struct jrx_jset *j;
	uint64_t magic;
	size_t avail;
	const char *why = NULL, *why2 = NULL;
	int ret, ret2;

	fz_take(&in, uuid, 8);
	magic = jrx_jset_magic(uuid);
	avail = flags & FZ_PAD ? fz_round_up(in.n, JRX_BLOCK_SIZE) : in.n;
	/* exactly avail bytes, so ASan sees any read past the bucket */
	j = calloc(1, avail ? avail : 1);
	if (!j)
		return 0;
	fz_take(&in, j, avail);
	if ((flags & FZ_FIX_MAGIC) && avail >= 16)
		j->magic = magic;
	if ((flags & FZ_FIX_CSUM) && avail >= sizeof(*j) &&
	    sizeof(*j) + (size_t)j->u64s * 8 <= avail)
		jrx_jset_set_csum(j);

	ret = jrx_jset_validate_count(j, avail, magic, &why, &c);
	FZ_CHECK(ret == 0 || ret == -JRX_ERR_JSET_INVALID ||
		 ret == -JRX_ERR_JSET_CSUM, "unexpected error value");
	FZ_CHECK(!ret == !why, "a reason exactly when invalid");
	ret2 = jrx_jset_validate(j, avail, magic, &why2);
	FZ_CHECK(ret == ret2 && why == why2, "validation is not repeatable");
	if (!ret)
		walk(j, avail, &c);
	free(j);
	return 0;
}
