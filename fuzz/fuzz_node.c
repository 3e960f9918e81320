/*
 * fuzz_node.c - libFuzzer target: one btree node image through
 * jrx_bnode_decode_adopt() (FORMAT.md 7.4: jrx_node_hdr_validate(), the
 * bset walk with jrx_bset_validate(), bsets of blacklisted seqs skipped,
 * every other key through jrx_bkey_validate(), order and [min, max]).
 * A node that decodes must hold a sorted view without whiteouts inside
 * [min, max], whose written part ends at the limit, and must survive a
 * round trip: encoded as one new node and decoded again, the same keys.
 *
 * The bytes past the written part are poisoned (ASan): the format says
 * they are not part of the node, so a read of them is reported even
 * though the image comes from mimalloc (src/btree/blob.c).
 *
 * Input: [flags u8][blocks u8][size u8][nbl u8][uuid[8..16) 8 bytes]
 *        [(nbl & 3) blacklist ranges: start u64, end u64][node bytes]
 *   node_size = 16 KiB << (size & 3); limit = blocks * 4096 (0 and past
 *   the node are the invalid cases), plus 8 with flags bit 3.
 *   flags bit 0  fix the header and every bset checksum up
 *   flags bit 1  write the array's node magic
 *   flags bit 2  write the node's nonce and the right block into every
 *                bset header the walk reaches
 *   flags bit 3  a limit that is not a whole number of blocks
 *   flags bit 4  jrx_bnode_decode() (a copy) instead of adopting the image
 */
#include "fuzz_input.h"
#include "btree/blob.h"
#include "btree/bnode.h"
#include "format/bkey.h"
#include "format/node.h"
#include "format/sb.h"
#include "jrx/errors.h"

#define FZ_FIX_BSETS	0x04u
#define FZ_ODD_LIMIT	0x08u
#define FZ_COPY		0x10u

/* The checksums, magic, nonces and blocks the flags ask for. */
static void fix_up(uint8_t *buf, size_t len, uint8_t flags, uint64_t magic)
{
	struct jrx_btree_node *h = (void *)buf;
	size_t off = sizeof(*h);

	if (len < sizeof(*h))
		return;
	if (flags & FZ_FIX_MAGIC)
		h->magic = magic;
	if (flags & FZ_FIX_CSUM)
		jrx_node_set_csum(h);
	while (off + sizeof(struct jrx_bset) <= len) {
		struct jrx_bset *b = (void *)(buf + off);

		if (flags & FZ_FIX_BSETS) {
			b->nonce = h->nonce;
			b->block = (uint32_t)(off / JRX_BLOCK_SIZE);
		}
		if (off + jrx_bset_bytes(b) > len)
			break;
		if (flags & FZ_FIX_CSUM)
			jrx_bset_set_csum(b);
		off = jrx_bset_next_offset(off + jrx_bset_bytes(b));
	}
}

/* What a decoded node must be (bnode.h's invariants, FORMAT.md 7.4). */
static void check_view(const struct jrx_bnode *n, size_t limit)
{
	size_t u64s = 0;
	const char *why;

	FZ_CHECK(jrx_bpos_cmp(n->min, n->max) <= 0, "min above max");
	FZ_CHECK(n->bsets >= 1 && n->written <= limit, "written part");
	FZ_CHECK(jrx_bset_next_offset(n->written) == limit,
		 "the bset walk does not end at the limit");
	FZ_CHECK(jrx_bnode_blocks(n) == limit / JRX_BLOCK_SIZE, "blocks");
	for (size_t i = 0; i < n->nr; i++) {
		const struct jrx_bkey *k = n->keys[i];

		FZ_CHECK(k->type != JRX_KEY_WHITEOUT, "whiteout in the view");
		FZ_CHECK(!jrx_bkey_validate(k, jrx_bkey_bytes(k), n->btree_id,
					    n->level, &why), "invalid key in the view");
		FZ_CHECK(jrx_bpos_cmp(k->p, n->min) >= 0 &&
			 jrx_bpos_cmp(k->p, n->max) <= 0, "key outside [min, max]");
		FZ_CHECK(!i || jrx_bpos_cmp(n->keys[i - 1]->p, k->p) < 0,
			 "view not strictly increasing");
		FZ_CHECK(jrx_bnode_lower_bound(n, k->p) == i, "lower bound");
		u64s += k->u64s;
	}
	FZ_CHECK(u64s == n->live_u64s, "live_u64s");
}

/* Encode the view as one new node, decode it, compare. */
static void round_trip(const struct jrx_bnode *n, size_t node_size,
		       uint64_t magic)
{
	struct jrx_bnode *m;
	void *buf;
	size_t bytes;
	const char *why;
	int ret;

	FZ_CHECK(jrx_bnode_compact_bytes(n) <= node_size,
		 "a decoded node's live keys do not fit one node");
	buf = malloc(node_size);
	m = jrx_bnode_alloc();
	if (!buf || !m) {
		free(buf);
		jrx_bnode_free(m);
		return;
	}
	bytes = jrx_bnode_encode(n, 0, n->nr, buf, node_size, magic, 1);
	ret = jrx_bnode_decode(m, buf, node_size, bytes, magic, NULL, &why);
	if (ret != -ENOMEM) {
		FZ_CHECK(!ret, "a re-encoded node does not decode");
		FZ_CHECK(m->nr == n->nr && m->live_u64s == n->live_u64s &&
			 m->nonce == n->nonce && m->btree_id == n->btree_id &&
			 m->level == n->level, "re-encoded node differs");
		for (size_t i = 0; i < n->nr; i++)
			FZ_CHECK(!memcmp(m->keys[i], n->keys[i],
					 jrx_bkey_bytes(n->keys[i])),
				 "re-encoded key differs");
	}
	jrx_bnode_free(m);
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };
	uint8_t flags = fz_u8(&in), blocks = fz_u8(&in);
	size_t node_size = (size_t)16384 << (fz_u8(&in) & 3);
	unsigned nbl = fz_u8(&in) & 3;
	uint8_t uuid[16] = { 0 };
	struct jrx_blacklist_entry ble[3];
	struct jrx_blacklist bl = { ble, nbl };
	size_t limit = (size_t)blocks * JRX_BLOCK_SIZE +
		(flags & FZ_ODD_LIMIT ? 8 : 0);
	size_t have = limit < node_size ? limit : node_size;
	struct jrx_bnode *n;
	uint8_t *img;
	uint64_t magic;
	const char *why = NULL;
	int ret;

	fz_take(&in, uuid + 8, 8);
	magic = jrx_node_magic(uuid);
	for (unsigned i = 0; i < nbl; i++) {
		ble[i].start = fz_u64(&in);
		ble[i].end = fz_u64(&in);
	}
	n = jrx_bnode_alloc();
	if (!n)
		return 0;
	if (flags & FZ_COPY) {
		/* the read buffer holds the written part only */
		uint8_t *buf = calloc(1, have ? have : 1);

		if (buf) {
			fz_take(&in, buf, have);
			fix_up(buf, have, flags, magic);
			ret = jrx_bnode_decode(n, buf, node_size, limit, magic,
					       &bl, &why);
			free(buf);
		} else {
			ret = -ENOMEM;
		}
	} else {
		bool asan_blob;

		img = jrx_blob_alloc(node_size);
		if (!img) {
			jrx_bnode_free(n);
			return 0;
		}
		asan_blob = FZ_ASAN_OWNS(img);
		memset(img, 0, have);
		fz_take(&in, img, have);
		fix_up(img, have, flags, magic);
		FZ_POISON(img + have, node_size - have);
		ret = jrx_bnode_decode_adopt(n, img, node_size, limit, magic,
					     &bl, &why);
		/*
		 * Whole again before the blob is freed; a blob the failed
		 * decode freed already gets its shadow back too unless
		 * ASan's allocator owns it (it poisoned it as freed).
		 */
		if (n->blob == (char *)img || !asan_blob)
			FZ_UNPOISON(img, node_size);
	}
	FZ_CHECK(ret == 0 || ret == -JRX_ERR_NODE_INVALID ||
		 ret == -JRX_ERR_NODE_CSUM || ret == -ENOMEM,
		 "unexpected error value");
	FZ_CHECK(!ret == !why || ret == -ENOMEM, "a reason exactly when invalid");
	if (!ret) {
		check_view(n, limit);
		round_trip(n, node_size, magic);
	}
	jrx_bnode_free(n);
	return 0;
}
