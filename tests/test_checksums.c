/*
 * test_checksums.c - single-bit corruption of every checksummed structure
 * is caught by its validator with the right error (FORMAT.md §2.2):
 * superblock (-JRX_ERR_SB_CSUM; NOT_JRX for the magic, SB_INVALID for the
 * version, which are outside the checksum), jset (JSET_CSUM; JSET_INVALID
 * for version/magic/an oversized length), node header (NODE_CSUM;
 * NODE_INVALID for version/magic) and bset (NODE_CSUM; NODE_INVALID for
 * block/nonce/flags/an oversized length).  Every bit of each structure is
 * flipped, plus random bursts of up to 32 bits (which CRC-32C always
 * catches).  Block padding is not covered by any checksum, by design.
 * At the node level, a bad first bset makes the node invalid, while a bad
 * later bset only ends the walk there.
 */
#include <stdio.h>
#include <string.h>
#include <stdlib.h>

#include "helpers.h"
#include "format/checksum.h"
#include "format/jset.h"
#include "format/node.h"
#include "format/sb.h"
#include "btree/bnode.h"

static const uint8_t UUID[16] = {
	0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
};

static void flip(void *buf, size_t bit)
{
	((uint8_t *)buf)[bit / 8] ^= (uint8_t)(1u << (bit % 8));
}

static void report(const char *what, size_t bit, int got, int want,
		   const char *why)
{
	print_message("%s: flipping bit %zu (byte %zu) gave %s (why: %s),"
		      " expected %s\n", what, bit, bit / 8, th_errname(got),
		      why ? why : "(null)", th_errname(want));
	fail();
}

/* ------------------------------------------------------------ superblock */

static struct jrx_sb *valid_sb(void)
{
	struct jrx_sb *sb = calloc(1, sizeof(*sb));

	assert_non_null(sb);
	sb->version = JRX_FORMAT_VERSION;
	memcpy(sb->magic, JRX_SB_MAGIC, 16);
	memcpy(sb->uuid, UUID, 16);
	sb->seq = 3;
	sb->nr_devices = 2;
	sb->dev_idx = 1;
	sb->block_size = 4096;
	sb->bucket_size = 1 << 20;
	sb->btree_node_size = 256 << 10;
	sb->metadata_replicas = 2;
	for (int i = 0; i < 2; i++) {
		memset(sb->members[i].uuid, 0x40 + i, 16);
		sb->members[i].nbuckets = 64;
		sb->members[i].first_bucket = 1;
		sb->members[i].journal_bucket = 1;
		sb->members[i].journal_nr = 4;
		sb->members[i].state = 1;
	}
	memcpy(sb->dev_uuid, sb->members[1].uuid, 16);
	/* some non-zero bytes everywhere, reserved area included */
	for (size_t i = 0; i < sizeof(sb->reserved); i++)
		sb->reserved[i] = (uint8_t)(i * 7);
	jrx_sb_set_csum(sb);
	return sb;
}

static int sb_expect(size_t byte)
{
	if (byte < 4)
		return -JRX_ERR_SB_CSUM;
	if (byte < 8)
		return -JRX_ERR_SB_INVALID;	/* version, checked by value */
	if (byte < 24)
		return -JRX_ERR_NOT_JRX;	/* magic, checked first */
	return -JRX_ERR_SB_CSUM;
}

static void test_sb_every_bit(void **state)
{
	struct jrx_sb *sb = valid_sb();
	char why[JRX_SB_WHY];

	(void)state;
	assert_jrx_ok(jrx_sb_validate(sb, why, sizeof(why)));
	for (size_t bit = 0; bit < JRX_SB_SIZE * 8; bit++) {
		int got, want = sb_expect(bit / 8);

		flip(sb, bit);
		got = jrx_sb_validate(sb, why, sizeof(why));
		if (got != want)
			report("superblock", bit, got, want, why);
		flip(sb, bit);
	}
	assert_jrx_ok(jrx_sb_validate(sb, why, sizeof(why)));
	free(sb);
}

static void test_sb_bursts(void **state)
{
	struct jrx_sb *sb = valid_sb(), *copy = malloc(sizeof(*sb));
	uint64_t rng = 42;
	char why[JRX_SB_WHY];

	(void)state;
	for (int i = 0; i < 5000; i++) {
		/* a burst of 2..32 bits inside [24, 8192): only the csum sees it */
		size_t len = 2 + th_rand_below(&rng, 31);
		size_t start = 24 * 8 + th_rand_below(&rng, (JRX_SB_SIZE - 24) * 8 - len);
		int got;

		memcpy(copy, sb, sizeof(*sb));
		flip(copy, start);
		flip(copy, start + len - 1);
		for (size_t b = start + 1; b < start + len - 1; b++)
			if (th_rand(&rng) & 1)
				flip(copy, b);
		got = jrx_sb_validate(copy, why, sizeof(why));
		if (got != -JRX_ERR_SB_CSUM)
			report("superblock burst", start, got, -JRX_ERR_SB_CSUM, why);
	}
	free(copy);
	free(sb);
}

/* ------------------------------------------------------------ jset */

#define BUCKET 65536

static struct jrx_jset *valid_jset(size_t *used)
{
	struct jrx_jset *j = calloc(1, BUCKET);
	struct jrx_jset_entry *e;
	uint64_t kb[TH_KEY_WORDS];
	uint64_t *p;

	assert_non_null(j);
	j->version = JRX_FORMAT_VERSION;
	j->magic = jrx_jset_magic(UUID);
	j->seq = 77;
	j->last_seq = 70;
	e = jrx_jset_entries(j);
	/* one btree_keys entry of 20 xattrs */
	memset(e, 0, sizeof(*e));
	e->type = JRX_JE_BTREE_KEYS;
	e->btree_id = JRX_BTREE_XATTRS;
	p = (uint64_t *)(e + 1);
	for (int i = 0; i < 20; i++) {
		char name[16];
		struct jrx_bkey *k;

		snprintf(name, sizeof(name), "user.%d", i);
		k = th_key_xattr(kb, jrx_bpos(100 + i, 1000 + i, JRX_SNAPSHOT_DEFAULT),
				 name, "some value bytes", 16);
		memcpy(p, k, jrx_bkey_bytes(k));
		p += k->u64s;
		e->u64s += k->u64s;
	}
	/* a root and a clock */
	e = jrx_je_next(e);
	memset(e, 0, sizeof(*e));
	e->type = JRX_JE_BTREE_ROOT;
	e->btree_id = 1;
	e->u64s = 11;
	memcpy(e + 1, th_key_btree_ptr(kb, JRX_POS_MAX, JRX_POS_MIN, 0, 4096, 5), 88);
	e = jrx_je_next(e);
	memset(e, 0, sizeof(*e));
	e->type = JRX_JE_CLOCK;
	e->u64s = 2;
	((uint64_t *)(e + 1))[0] = 1700000000;
	((uint64_t *)(e + 1))[1] = 12;
	e = jrx_je_next(e);
	j->u64s = (uint32_t)((uint64_t *)e - (uint64_t *)(j + 1));
	jrx_jset_set_csum(j);
	*used = sizeof(*j) + (size_t)j->u64s * 8;
	return j;
}

static void test_jset_every_bit(void **state)
{
	size_t used, bytes;
	struct jrx_jset *j = valid_jset(&used);
	const uint64_t magic = jrx_jset_magic(UUID);
	uint32_t u64s = j->u64s;
	const char *why;

	(void)state;
	bytes = jrx_jset_disk_bytes(j->u64s);
	assert_true(used > 1000);
	assert_jrx_ok(jrx_jset_validate(j, BUCKET, magic, &why));
	for (size_t bit = 0; bit < used * 8; bit++) {
		size_t byte = bit / 8;
		int got, want;

		flip(j, bit);
		if (byte < 4)
			want = -JRX_ERR_JSET_CSUM;
		else if (byte < 16)
			want = -JRX_ERR_JSET_INVALID;	/* version, magic */
		else if (byte >= 36 && byte < 40)
			/* the length: past the bucket, or another csum range */
			want = jrx_jset_disk_bytes(j->u64s) > BUCKET ?
				-JRX_ERR_JSET_INVALID : -JRX_ERR_JSET_CSUM;
		else
			want = -JRX_ERR_JSET_CSUM;
		got = jrx_jset_validate(j, BUCKET, magic, &why);
		if (got != want)
			report("jset", bit, got, want, why);
		flip(j, bit);
		assert_int_equal(j->u64s, u64s);
	}
	/* the zero padding up to the block boundary is not checksummed */
	for (size_t byte = used; byte < bytes; byte += 97) {
		flip(j, byte * 8 + 3);
		assert_jrx_ok(jrx_jset_validate(j, BUCKET, magic, &why));
		flip(j, byte * 8 + 3);
	}
	free(j);
}

/* ------------------------------------------------------------ nodes */

#define NODE_SIZE 32768

/* A node with a header and two bsets; returns the offset of the second. */
static uint8_t *valid_node(uint64_t nonce, size_t *off2, size_t *end2)
{
	uint8_t *n = calloc(1, NODE_SIZE);
	struct jrx_btree_node *h = (void *)n;
	uint64_t kb[TH_KEY_WORDS];
	size_t off = sizeof(*h);

	assert_non_null(n);
	h->version = JRX_FORMAT_VERSION;
	h->magic = jrx_node_magic(UUID);
	h->nonce = nonce;
	h->btree_id = JRX_BTREE_INODES;
	h->min_key = jrx_bpos(1, 0, 0);
	h->max_key = jrx_bpos(1000, 0, UINT32_MAX);
	jrx_node_set_csum(h);
	for (int s = 0; s < 2; s++) {
		struct jrx_bset *b = (void *)(n + off);
		char *p = (char *)(b + 1);

		b->block = (uint32_t)(off / 4096);
		b->nonce = nonce;
		b->journal_seq = 10 + s;
		for (int i = 0; i < 25; i++) {
			struct jrx_inode_val v = {
				.size = (uint64_t)i * 4096, .mode = 0100644,
				.nlink = 1, .generation = (uint64_t)s,
			};
			const struct jrx_bkey *k =
				th_key_inode(kb, jrx_bpos(1 + (uint64_t)i * 10 + (uint64_t)s,
							  0, 7), &v);

			memcpy(p, k, jrx_bkey_bytes(k));
			p += jrx_bkey_bytes(k);
			b->u64s += k->u64s;
		}
		jrx_bset_set_csum(b);
		if (s == 1) {
			*off2 = off;
			*end2 = off + jrx_bset_bytes(b);
		}
		off = jrx_bset_next_offset(off + jrx_bset_bytes(b));
	}
	return n;
}

static void test_node_header_every_bit(void **state)
{
	size_t off2, end2;
	uint8_t *n = valid_node(0x5555aaaa5555aaaaull, &off2, &end2);
	const uint64_t magic = jrx_node_magic(UUID);
	const char *why;

	(void)state;
	assert_jrx_ok(jrx_node_hdr_validate((void *)n, magic, &why));
	for (size_t bit = 0; bit < sizeof(struct jrx_btree_node) * 8; bit++) {
		size_t byte = bit / 8;
		int got, want = byte >= 4 && byte < 16 ?
			-JRX_ERR_NODE_INVALID : -JRX_ERR_NODE_CSUM;

		flip(n, bit);
		got = jrx_node_hdr_validate((void *)n, magic, &why);
		if (got != want)
			report("node header", bit, got, want, why);
		flip(n, bit);
	}
	free(n);
}

static void test_bset_every_bit(void **state)
{
	const uint64_t nonce = 0x0f0f0f0f12345678ull;
	size_t off2, end2;
	uint8_t *n = valid_node(nonce, &off2, &end2);
	const char *why;

	(void)state;
	/* both bsets, each at its own offset */
	for (int s = 0; s < 2; s++) {
		size_t off = s ? off2 : sizeof(struct jrx_btree_node);
		struct jrx_bset *b = (void *)(n + off);
		size_t len = jrx_bset_bytes(b);
		uint32_t u64s = b->u64s;

		assert_jrx_ok(jrx_bset_validate(b, off, NODE_SIZE, nonce, &why));
		for (size_t bit = 0; bit < len * 8; bit++) {
			size_t byte = bit / 8;
			int got, want;

			flip(b, bit);
			if (byte < 4)
				want = -JRX_ERR_NODE_CSUM;
			else if (byte < 16)
				want = -JRX_ERR_NODE_INVALID;	/* block, nonce */
			else if (byte >= 24 && byte < 28)
				want = off + jrx_bset_bytes(b) > NODE_SIZE ?
					-JRX_ERR_NODE_INVALID : -JRX_ERR_NODE_CSUM;
			else if (byte >= 28 && byte < 32)
				want = -JRX_ERR_NODE_INVALID;	/* flags */
			else
				want = -JRX_ERR_NODE_CSUM;
			got = jrx_bset_validate(b, off, NODE_SIZE, nonce, &why);
			if (got != want)
				report(s ? "second bset" : "first bset", bit, got,
				       want, why);
			flip(b, bit);
			assert_int_equal(b->u64s, u64s);
		}
	}
	free(n);
}

/* Reading a node (§7.4): what a flipped bit does to the merged view. */
static void test_node_decode_with_flips(void **state)
{
	const uint64_t nonce = 0x77;
	const uint64_t magic = jrx_node_magic(UUID);
	size_t off2, end2;
	uint8_t *n = valid_node(nonce, &off2, &end2);
	struct jrx_bnode *bn = jrx_bnode_alloc();
	uint64_t rng = 7;
	const char *why;
	size_t lim = jrx_bset_next_offset(end2);	/* the pointer's blocks */

	(void)state;
	assert_jrx_ok(jrx_bnode_decode(bn, n, NODE_SIZE, lim, magic, NULL, &why));
	assert_int_equal(bn->nr, 50);
	assert_int_equal(bn->bsets, 2);
	assert_int_equal(bn->written, end2);

	for (int i = 0; i < 400; i++) {
		size_t bit;
		int got;

		/* header: the node cannot be read */
		bit = th_rand_below(&rng, 80 * 8);
		flip(n, bit);
		got = jrx_bnode_decode(bn, n, NODE_SIZE, lim, magic, NULL, &why);
		if (got != -JRX_ERR_NODE_CSUM && got != -JRX_ERR_NODE_INVALID)
			report("node decode, header", bit, got, -JRX_ERR_NODE_CSUM, why);
		assert_int_equal(bn->nr, 0);
		flip(n, bit);

		/* first bset: the node is invalid */
		bit = 80 * 8 + th_rand_below(&rng,
					     jrx_bset_bytes((void *)(n + 80)) * 8);
		flip(n, bit);
		got = jrx_bnode_decode(bn, n, NODE_SIZE, lim, magic, NULL, &why);
		if (got != -JRX_ERR_NODE_CSUM && got != -JRX_ERR_NODE_INVALID)
			report("node decode, first bset", bit, got,
			       -JRX_ERR_NODE_CSUM, why);
		assert_int_equal(bn->nr, 0);
		flip(n, bit);

		/* second bset, inside the written part the pointer gives:
		 * the node is invalid */
		bit = off2 * 8 + th_rand_below(&rng, (end2 - off2) * 8);
		flip(n, bit);
		got = jrx_bnode_decode(bn, n, NODE_SIZE, lim, magic, NULL, &why);
		if (got != -JRX_ERR_NODE_CSUM && got != -JRX_ERR_NODE_INVALID)
			report("node decode, second bset", bit, got,
			       -JRX_ERR_NODE_CSUM, why);
		assert_int_equal(bn->nr, 0);
		/* past a pointer that ends before it, the same bytes are not
		 * part of the node: the first bset's keys are the whole view */
		got = jrx_bnode_decode(bn, n, NODE_SIZE, off2, magic, NULL, &why);
		if (got)
			report("node decode, second bset past the written part",
			       bit, got, 0, why);
		if (bn->nr != 25 || bn->bsets != 1 ||
		    bn->written != 80 + jrx_bset_bytes((void *)(n + 80))) {
			print_message("bit %zu in the second bset: view has %zu keys,"
				      " %u bsets, written %u; expected the first"
				      " bset only (25 keys)\n", bit, bn->nr,
				      bn->bsets, bn->written);
			fail();
		}
		for (size_t k = 0; k < bn->nr; k++)
			assert_int_equal(bn->keys[k]->p.inode, 1 + k * 10);
		flip(n, bit);
	}
	assert_jrx_ok(jrx_bnode_decode(bn, n, NODE_SIZE, lim, magic, NULL, &why));
	assert_int_equal(bn->nr, 50);
	jrx_bnode_free(bn);
	free(n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sb_every_bit),
		cmocka_unit_test(test_sb_bursts),
		cmocka_unit_test(test_jset_every_bit),
		cmocka_unit_test(test_node_header_every_bit),
		cmocka_unit_test(test_bset_every_bit),
		cmocka_unit_test(test_node_decode_with_flips),
	};

	return cmocka_run_group_tests_name("checksums", tests, NULL, NULL);
}
