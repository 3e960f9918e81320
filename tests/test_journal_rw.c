/*
 * test_journal_rw.c - the journal writer (src/journal/journal.c) against the
 * sequential scanner (src/journal/jread.c) and FORMAT.md §5:
 *
 *  - round trip: a few hundred jsets of every entry and key type, of sizes
 *    from one block to a whole bucket, read back byte for byte;
 *  - ring wrap-around: a small ring reused several times, stale jsets of
 *    older cycles behind newer ones, the live range complete; and
 *    JOURNAL_FULL when last_seq is not advanced (nothing written, nothing
 *    live overwritten, writing goes on once last_seq moves);
 *  - replicas: every seq on exactly metadata_replicas devices, namely
 *    (seq + i) mod nr_devices, all copies byte-identical;
 *  - torn write: the last jset half written, reported BAD_CSUM where it
 *    lies, everything before it OK;
 *  - corruption in the middle of a bucket: reported where it lies
 *    (BAD_CSUM / BAD, or nothing for a broken magic) and the rest of that
 *    bucket is not scanned (FORMAT.md §5.5, DESIGN.md §2.2);
 *  - padding: every jset starts on a block boundary and occupies a whole
 *    number of blocks, its padding is zero, and nothing past it is written.
 *
 * The test keeps its own model of FORMAT.md §5.1 (ring position of every
 * device, what every journal bucket holds, including stale leftovers) and
 * its own image of every jset, built from the entries it added.  After
 * writing, the scanner's output must equal, entry for entry, what the
 * model says a sequential scan of every bucket finds, and every OK jset
 * must be byte-identical to the model's image.  Every failure names the
 * seq, device, bucket and byte offset concerned.
 *
 * Devices are sparse files, buckets 64 KiB.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"
#include "format/jset.h"
#include "format/sb.h"
#include "journal/journal.h"
#include "journal/jread.h"

#define BUCKET		(64u << 10)
#define BLOCK		JRX_BLOCK_SIZE
#define MAXDEV		3
#define HDR_U64S	(sizeof(struct jrx_jset) / 8)
#define NONE		SIZE_MAX
#define FULL		(-JRX_ERR_JOURNAL_FULL)

/* Failure with a message naming what differed. */
#define CHECK(cond, ...)						\
	do {								\
		if (!(cond)) {						\
			print_message("%s:%d: failed: %s\n  ", __FILE__,	\
				      __LINE__, #cond);			\
			print_message(__VA_ARGS__);			\
			print_message("\n");				\
			_fail(__FILE__, __LINE__);			\
		}							\
	} while (0)

/* ------------------------------------------------------------ model */

enum slot_kind {
	SLOT_OK,
	SLOT_TORN,		/* first part written: checksum fails */
	SLOT_CSUM,		/* corrupted: checksum fails */
	SLOT_BAD,		/* corrupted, checksum redone: malformed */
	SLOT_MAGIC,		/* magic destroyed: not a jset any more */
};

/* A jset (or what is left of one) at a byte offset inside a bucket. */
struct mslot {
	uint64_t off;
	uint32_t bytes;
	uint64_t seq;
	uint64_t bad_last_seq;	/* SLOT_BAD: last_seq as now on disk */
	enum slot_kind kind;
};

struct mbucket {
	struct mslot *v;	/* sorted by off, not overlapping */
	size_t nr, cap;
	uint64_t max_seq;	/* newest seq written here, 0 none */
};

struct mring {
	uint64_t first;
	uint32_t nr, cur;
	uint64_t used;
	uint64_t wraps;		/* times cur went back to 0 */
	struct mbucket *b;
};

/* A jset as the test built it. */
struct mjset {
	uint64_t seq, last_seq;
	uint32_t u64s;
	uint32_t entries;
	uint64_t keys;
	bool torn;
	uint64_t *w;		/* the entries, u64s words */
};

struct fx {
	struct th_dir dir;
	unsigned gen;		/* for unique device file names */
	char p[MAXDEV][256];
	const char *paths[MAXDEV];
	unsigned ndev, replicas;
	uint32_t bsize;
	struct jrx_array a;
	bool a_open;
	struct jrx_journal j;
	bool j_init;
	uint64_t rng;

	struct mring ring[MAXDEV];
	uint64_t first_seq;
	struct mjset *js;	/* [seq - first_seq] */
	size_t js_nr, js_cap;

	/* the open jset */
	uint64_t *ow;
	size_t ow_nr, ow_cap;
	uint32_t ow_entries;
	uint64_t ow_keys;
	size_t ok_entry;	/* word index of the btree_keys entry open */
	unsigned ok_btree, ok_level;
};

/* one expected scanner entry */
struct xinfo {
	uint64_t seq, last_seq, bucket, offset;
	uint32_t dev, state, bytes;
};

static const char *state_name(uint32_t s)
{
	switch (s) {
	case JRX_JSET_OK:	return "OK";
	case JRX_JSET_BAD_CSUM:	return "BAD_CSUM";
	case JRX_JSET_BAD:	return "BAD";
	}
	return "?";
}

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n);
	assert_non_null(p);
	return p;
}

static struct mjset *mj(struct fx *f, uint64_t seq)
{
	CHECK(seq >= f->first_seq && seq - f->first_seq < f->js_nr,
	      "seq %" PRIu64 " was never written (first %" PRIu64 ", %zu"
	      " written)", seq, f->first_seq, f->js_nr);
	return &f->js[seq - f->first_seq];
}

/* ------------------------------------------------------------ fixture */

static void fx_close(struct fx *f)
{
	if (f->j_init)
		jrx_journal_exit(&f->j);
	f->j_init = false;
	if (f->a_open)
		jrx_array_close(&f->a);
	f->a_open = false;
	for (unsigned d = 0; d < MAXDEV; d++) {
		struct mring *r = &f->ring[d];

		if (r->b)
			for (uint32_t i = 0; i < r->nr; i++)
				free(r->b[i].v);
		free(r->b);
		memset(r, 0, sizeof(*r));
		if (f->p[d][0])
			unlink(f->p[d]);
		f->p[d][0] = 0;
	}
	for (size_t i = 0; i < f->js_nr; i++)
		free(f->js[i].w);
	free(f->js);
	f->js = NULL;
	f->js_nr = f->js_cap = 0;
	free(f->ow);
	f->ow = NULL;
	f->ow_nr = f->ow_cap = 0;
}

static void ow_reset(struct fx *f)
{
	f->ow_nr = 0;
	f->ow_entries = 0;
	f->ow_keys = 0;
	f->ok_entry = NONE;
}

/* Format ndev devices with jnr journal buckets each, open, start writing. */
static void fx_open(struct fx *f, unsigned ndev, unsigned replicas,
		    uint32_t jnr, uint64_t seed)
{
	struct th_geom g = {
		.size = (uint64_t)(16 + jnr + 48) * BUCKET,
		.bucket_size = BUCKET, .node_size = 16u << 10,
		.replicas = replicas, .journal_size = (uint64_t)jnr * BUCKET,
	};

	fx_close(f);
	f->gen++;
	for (unsigned d = 0; d < ndev; d++) {
		char name[32];

		snprintf(name, sizeof(name), "a%u-d%u", f->gen, d);
		th_path(f->p[d], &f->dir, name);
		f->paths[d] = f->p[d];
	}
	f->ndev = ndev;
	f->replicas = replicas;
	f->rng = seed;
	assert_jrx_ok(th_format(f->paths, ndev, &g));
	assert_jrx_ok(jrx_array_open(&f->a, f->paths, ndev, 0));
	f->a_open = true;
	assert_int_equal(f->a.sb.metadata_replicas, replicas);
	f->bsize = f->a.sb.bucket_size;
	assert_int_equal(f->bsize, BUCKET);
	assert_jrx_ok(jrx_journal_init(&f->j, &f->a, f->a.sb.journal_seq + 1));
	f->j_init = true;
	f->first_seq = f->j.seq;
	for (unsigned d = 0; d < ndev; d++) {
		struct mring *r = &f->ring[d];

		assert_int_equal(f->a.sb.members[d].journal_nr, jnr);
		r->first = f->a.sb.members[d].journal_bucket;
		r->nr = jnr;
		r->b = calloc(jnr, sizeof(*r->b));
		assert_non_null(r->b);
	}
	ow_reset(f);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	th_dir_make(&f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	fx_close(f);
	th_dir_remove(&f->dir);
	free(f);
	return 0;
}

/* ------------------------------------------------------------ open jset */

static void ow_reserve(struct fx *f, size_t add)
{
	if (f->ow_nr + add <= f->ow_cap)
		return;
	while (f->ow_nr + add > f->ow_cap)
		f->ow_cap = f->ow_cap ? f->ow_cap * 2 : 1024;
	f->ow = xrealloc(f->ow, f->ow_cap * 8);
}

static bool would_overflow(const struct fx *f, size_t add)
{
	return HDR_U64S + f->ow_nr + add > f->bsize / 8;
}

/*
 * Adds a key through the writer and to the model.  A jset grows past a
 * bucket only with JOURNAL_FULL, and then neither changes; returns whether
 * the key went in.
 */
static bool m_add_key(struct fx *f, unsigned btree, unsigned level,
		      const struct jrx_bkey *k)
{
	bool merge = f->ok_entry != NONE && f->ok_btree == btree &&
		f->ok_level == level &&
		((struct jrx_jset_entry *)(f->ow + f->ok_entry))->u64s +
		(size_t)k->u64s <= UINT16_MAX;
	size_t add = k->u64s + (merge ? 0 : 1);
	bool full = would_overflow(f, add);
	int ret = jrx_journal_add_key(&f->j, btree, level, k);
	char kt[512];

	CHECK(ret == (full ? FULL : 0), "seq %" PRIu64 ": add_key %s (%u words)"
	      " to a jset of %zu words returned %s, expected %s; diag: %s",
	      f->j.seq, th_key_text(k, kt, sizeof(kt)), k->u64s, f->ow_nr,
	      th_errname(ret), th_errname(full ? FULL : 0), jrx_diag());
	if (full)
		return false;
	ow_reserve(f, add);
	if (!merge) {
		struct jrx_jset_entry *e = (void *)(f->ow + f->ow_nr);

		memset(e, 0, sizeof(*e));
		e->type = JRX_JE_BTREE_KEYS;
		e->btree_id = (uint8_t)btree;
		e->level = (uint8_t)level;
		f->ok_entry = f->ow_nr++;
		f->ok_btree = btree;
		f->ok_level = level;
		f->ow_entries++;
	}
	memcpy(f->ow + f->ow_nr, k, jrx_bkey_bytes(k));
	f->ow_nr += k->u64s;
	((struct jrx_jset_entry *)(f->ow + f->ok_entry))->u64s += k->u64s;
	f->ow_keys++;
	return true;
}

static bool m_add_entry(struct fx *f, unsigned type, unsigned btree,
			unsigned level, const void *payload, size_t u64s)
{
	bool full = would_overflow(f, 1 + u64s);
	int ret = jrx_journal_add_entry(&f->j, type, btree, level, payload,
					u64s);
	struct jrx_jset_entry *e;

	CHECK(ret == (full ? FULL : 0), "seq %" PRIu64 ": add_entry type %u"
	      " (%zu words) to a jset of %zu words returned %s, expected %s;"
	      " diag: %s", f->j.seq, type, u64s, f->ow_nr, th_errname(ret),
	      th_errname(full ? FULL : 0), jrx_diag());
	if (full)
		return false;
	ow_reserve(f, 1 + u64s);
	e = (void *)(f->ow + f->ow_nr);
	memset(e, 0, sizeof(*e));
	e->u64s = (uint16_t)u64s;
	e->type = (uint8_t)type;
	e->btree_id = (uint8_t)btree;
	e->level = (uint8_t)level;
	if (u64s)
		memcpy(e + 1, payload, u64s * 8);
	f->ow_nr += 1 + u64s;
	f->ow_entries++;
	f->ok_entry = NONE;
	return true;
}

/* ------------------------------------------------------------ ring model */

static uint64_t torn_len(size_t bytes)
{
	/* journal.h: first half of the blocks, at least one, never all */
	uint64_t len = (bytes / BLOCK / 2) * BLOCK;

	if (!len)
		len = bytes > 512 ? 512 : bytes / 2;
	return len;
}

/* Where dev's next jset of bytes goes (bucket index, offset in it). */
static void m_peek(const struct fx *f, unsigned dev, size_t bytes,
		   uint32_t *idx, uint64_t *off)
{
	const struct mring *r = &f->ring[dev];

	if (r->used + bytes > f->bsize) {
		*idx = (r->cur + 1) % r->nr;
		*off = 0;
	} else {
		*idx = r->cur;
		*off = r->used;
	}
}

/*
 * FORMAT.md §5.1: may every copy of the next jset be placed?  (A torn
 * write is refused on the same terms, though it writes one copy only.)
 */
static bool m_fits(const struct fx *f, uint64_t seq, size_t bytes,
		   uint64_t last_seq)
{
	for (unsigned i = 0; i < f->replicas; i++) {
		unsigned dev = (unsigned)((seq + i) % f->ndev);
		const struct mring *r = &f->ring[dev];
		uint32_t idx;
		uint64_t off;

		m_peek(f, dev, bytes, &idx, &off);
		if (idx != r->cur && r->b[idx].max_seq >= last_seq)
			return false;
	}
	return true;
}

static void slot_put(struct mbucket *b, uint64_t off, uint64_t len,
		     const struct mslot *s)
{
	size_t o = 0;

	/* what the write covers is gone */
	for (size_t i = 0; i < b->nr; i++)
		if (b->v[i].off + b->v[i].bytes <= off ||
		    b->v[i].off >= off + len)
			b->v[o++] = b->v[i];
	b->nr = o;
	if (b->nr == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 16;
		b->v = xrealloc(b->v, b->cap * sizeof(*b->v));
	}
	for (o = 0; o < b->nr && b->v[o].off < off; o++)
		;
	memmove(b->v + o + 1, b->v + o, (b->nr - o) * sizeof(*b->v));
	b->v[o] = *s;
	b->nr++;
}

static uint64_t ring_dev_offset(const struct fx *f, unsigned dev,
				uint32_t idx, uint64_t off)
{
	return jrx_bucket_offset(&f->a.sb, f->ring[dev].first + idx) + off;
}

/*
 * Closes the open jset through the writer with last_seq and checks the
 * result against the model: JOURNAL_FULL exactly when FORMAT.md §5.1 says
 * a device's next bucket still holds a needed seq.  Returns the result.
 */
static int m_write(struct fx *f, uint64_t last_seq, bool torn)
{
	uint64_t seq = f->j.seq, durable = f->j.durable_seq;
	size_t bytes = jrx_jset_disk_bytes((uint32_t)f->ow_nr);
	bool full = !m_fits(f, seq, bytes, last_seq);
	struct mjset *m;
	int ret;

	CHECK(jrx_journal_open_bytes(&f->j) == bytes, "seq %" PRIu64 ": open"
	      " jset of %zu words: open_bytes %zu, expected %zu", seq,
	      f->ow_nr, jrx_journal_open_bytes(&f->j), bytes);
	CHECK(jrx_journal_open_empty(&f->j) == (f->ow_nr == 0), "seq %" PRIu64
	      ": open_empty says %d with %zu words", seq,
	      jrx_journal_open_empty(&f->j), f->ow_nr);
	ret = jrx_journal_write(&f->j, last_seq, torn);
	CHECK(ret == (full ? FULL : 0), "seq %" PRIu64 " (%zu bytes, last_seq %"
	      PRIu64 "%s): jrx_journal_write returned %s, the ring model"
	      " (FORMAT.md 5.1) expected %s; diag: %s", seq, bytes, last_seq,
	      torn ? ", torn" : "", th_errname(ret),
	      th_errname(full ? FULL : 0), jrx_diag());
	if (full) {
		CHECK(f->j.seq == seq && f->j.durable_seq == durable,
		      "refused seq %" PRIu64 ": writer moved on to seq %" PRIu64
		      ", durable %" PRIu64, seq, f->j.seq, f->j.durable_seq);
		return ret;
	}
	CHECK(f->j.seq == seq + 1, "after writing seq %" PRIu64 " the open"
	      " seq is %" PRIu64, seq, f->j.seq);
	CHECK(f->j.durable_seq == (torn ? durable : seq), "after writing seq %"
	      PRIu64 "%s durable_seq is %" PRIu64, seq, torn ? " torn" : "",
	      f->j.durable_seq);
	CHECK(jrx_journal_open_empty(&f->j), "seq %" PRIu64 " not empty after"
	      " the write of seq %" PRIu64, f->j.seq, seq);

	if (f->js_nr == f->js_cap) {
		f->js_cap = f->js_cap ? f->js_cap * 2 : 256;
		f->js = xrealloc(f->js, f->js_cap * sizeof(*f->js));
	}
	assert_int_equal(seq, f->first_seq + f->js_nr);
	m = &f->js[f->js_nr++];
	m->seq = seq;
	m->last_seq = last_seq;
	m->u64s = (uint32_t)f->ow_nr;
	m->entries = f->ow_entries;
	m->keys = f->ow_keys;
	m->torn = torn;
	m->w = malloc(f->ow_nr * 8 + 8);
	assert_non_null(m->w);
	if (f->ow_nr)
		memcpy(m->w, f->ow, f->ow_nr * 8);

	for (unsigned i = 0; i < f->replicas; i++) {
		unsigned dev = (unsigned)((seq + i) % f->ndev);
		struct mring *r = &f->ring[dev];
		struct mslot s = {
			.bytes = (uint32_t)bytes, .seq = seq,
			.kind = torn ? SLOT_TORN : SLOT_OK,
		};
		uint32_t idx;

		m_peek(f, dev, bytes, &idx, &s.off);
		if (idx != r->cur) {
			r->cur = idx;
			r->used = 0;
			if (!idx)
				r->wraps++;
		}
		slot_put(&r->b[idx], s.off, torn ? torn_len(bytes) : bytes, &s);
		r->used += bytes;
		r->b[idx].max_seq = seq;
		if (torn)
			break;
	}
	ow_reset(f);
	return 0;
}

static void m_write_ok(struct fx *f, uint64_t last_seq)
{
	assert_jrx_ok(m_write(f, last_seq, false));
}

/* The jset of seq exactly as it must be on disk (header, entries, zeros). */
static uint8_t *m_image(struct fx *f, uint64_t seq, size_t *bytes)
{
	struct mjset *m = mj(f, seq);
	struct jrx_jset *h;

	*bytes = jrx_jset_disk_bytes(m->u64s);
	h = calloc(1, *bytes);
	assert_non_null(h);
	h->version = JRX_FORMAT_VERSION;
	h->magic = f->a.jset_magic;
	h->seq = seq;
	h->last_seq = m->last_seq;
	h->flags = 0;
	h->u64s = m->u64s;
	if (m->u64s)
		memcpy(h + 1, m->w, (size_t)m->u64s * 8);
	jrx_jset_set_csum(h);
	return (uint8_t *)h;
}

/* What a sequential scan of every journal bucket must report. */
static struct xinfo *m_expect(struct fx *f, size_t *nr)
{
	struct xinfo *x = NULL;
	size_t n = 0, cap = 0;

	for (unsigned d = 0; d < f->ndev; d++) {
		const struct mring *r = &f->ring[d];

		for (uint32_t i = 0; i < r->nr; i++) {
			const struct mbucket *b = &r->b[i];
			uint64_t pos = 0;
			size_t k = 0;

			while (pos + sizeof(struct jrx_jset) <= f->bsize) {
				const struct mslot *s;
				struct xinfo e;

				while (k < b->nr && b->v[k].off < pos)
					k++;
				if (k == b->nr || b->v[k].off != pos)
					break;	/* zeros or the middle of old data */
				s = &b->v[k];
				if (s->kind == SLOT_MAGIC)
					break;
				e.seq = s->seq;
				e.last_seq = s->kind == SLOT_BAD ?
					s->bad_last_seq : mj(f, s->seq)->last_seq;
				e.bucket = r->first + i;
				e.offset = ring_dev_offset(f, d, i, pos);
				e.dev = d;
				e.state = s->kind == SLOT_OK ? JRX_JSET_OK :
					s->kind == SLOT_BAD ? JRX_JSET_BAD :
					JRX_JSET_BAD_CSUM;
				e.bytes = s->kind == SLOT_OK ? s->bytes : 0;
				if (n == cap) {
					cap = cap ? cap * 2 : 256;
					x = xrealloc(x, cap * sizeof(*x));
				}
				x[n++] = e;
				if (s->kind != SLOT_OK)
					break;	/* ends the bucket's scan */
				pos += s->bytes;
			}
		}
	}
	*nr = n;
	return x;
}

/* ------------------------------------------------------------ checking */

static const char *region(const struct jrx_jset *j, size_t at)
{
	if (at < 4)
		return "csum";
	if (at < sizeof(*j))
		return "header";
	if (at < sizeof(*j) + (size_t)j->u64s * 8)
		return "entries";
	return "padding";
}

/* An OK jset the scanner kept against the model's image of its seq. */
static void check_content(struct fx *f, const struct jrx_jset_info *in)
{
	struct mjset *m = mj(f, in->seq);
	size_t bytes;
	uint8_t *img = m_image(f, in->seq, &bytes);
	const uint8_t *got = (const uint8_t *)in->j;

	CHECK(in->j != NULL, "seq %" PRIu64 " dev %u bucket %" PRIu64 " offset %"
	      PRIu64 ": no bytes kept with JRX_SCAN_KEEP", in->seq, in->dev,
	      in->bucket, in->offset);
	CHECK(!m->torn, "seq %" PRIu64 " was torn but is OK on dev %u bucket %"
	      PRIu64 " offset %" PRIu64, in->seq, in->dev, in->bucket,
	      in->offset);
	CHECK(in->bytes == bytes && in->bytes % BLOCK == 0, "seq %" PRIu64
	      " dev %u bucket %" PRIu64 " offset %" PRIu64 ": %u bytes on disk,"
	      " expected %zu (u64s %u)", in->seq, in->dev, in->bucket,
	      in->offset, in->bytes, bytes, m->u64s);
	CHECK(in->entries == m->entries && in->keys == m->keys, "seq %" PRIu64
	      " dev %u bucket %" PRIu64 " offset %" PRIu64 ": %u entries %" PRIu64
	      " keys, expected %u entries %" PRIu64 " keys", in->seq, in->dev,
	      in->bucket, in->offset, in->entries, in->keys, m->entries,
	      m->keys);
	if (memcmp(img, got, bytes)) {
		size_t at = 0;

		while (img[at] == got[at])
			at++;
		CHECK(0, "seq %" PRIu64 " dev %u bucket %" PRIu64 " offset %"
		      PRIu64 ": byte %zu of the jset (%s, device offset %" PRIu64
		      ") is 0x%02x, expected 0x%02x", in->seq, in->dev,
		      in->bucket, in->offset, at,
		      region((const struct jrx_jset *)img, at),
		      in->offset + at, got[at], img[at]);
	}
	free(img);
}

/*
 * The scanner's report must be exactly the model's, and with keep every OK
 * jset byte-identical to the model's image.
 */
static void check_scan(struct fx *f, const struct jrx_journal_scan *s,
		       bool keep)
{
	size_t nx, n;
	struct xinfo *x = m_expect(f, &nx);
	uint64_t buckets = 0;

	for (unsigned d = 0; d < f->ndev; d++)
		buckets += f->ring[d].nr;
	CHECK(s->buckets_read == buckets && s->bytes_read == buckets * f->bsize,
	      "scanner read %" PRIu64 " buckets, %" PRIu64 " bytes; the journal"
	      " has %" PRIu64 " buckets of %u", s->buckets_read, s->bytes_read,
	      buckets, f->bsize);
	n = s->nr > nx ? s->nr : nx;
	for (size_t i = 0; i < n; i++) {
		const struct jrx_jset_info *g = i < s->nr ? &s->v[i] : NULL;
		const struct xinfo *e = i < nx ? &x[i] : NULL;

		CHECK(g, "scan entry %zu: scanner stopped; expected seq %" PRIu64
		      " %s on dev %u bucket %" PRIu64 " offset %" PRIu64, i,
		      e->seq, state_name(e->state), e->dev, e->bucket,
		      e->offset);
		CHECK(e, "scan entry %zu: unexpected seq %" PRIu64 " %s on dev %u"
		      " bucket %" PRIu64 " offset %" PRIu64, i, g->seq,
		      state_name(g->state), g->dev, g->bucket, g->offset);
		CHECK(g->dev == e->dev && g->bucket == e->bucket &&
		      g->offset == e->offset && g->seq == e->seq &&
		      g->last_seq == e->last_seq && g->state == e->state &&
		      g->bytes == e->bytes,
		      "scan entry %zu: got seq %" PRIu64 " last_seq %" PRIu64
		      " %s (%s) on dev %u bucket %" PRIu64 " offset %" PRIu64
		      " bytes %u;\n  expected seq %" PRIu64 " last_seq %" PRIu64
		      " %s on dev %u bucket %" PRIu64 " offset %" PRIu64
		      " bytes %u", i, g->seq, g->last_seq, state_name(g->state),
		      g->why ? g->why : "-", g->dev, g->bucket, g->offset,
		      g->bytes, e->seq, e->last_seq, state_name(e->state),
		      e->dev, e->bucket, e->offset, e->bytes);
		CHECK(g->offset % BLOCK == 0, "seq %" PRIu64 " dev %u: offset %"
		      PRIu64 " is not on a block boundary", g->seq, g->dev,
		      g->offset);
		if (g->state == JRX_JSET_OK) {
			if (keep)
				check_content(f, g);
			else
				CHECK(!g->j, "seq %" PRIu64 " dev %u offset %"
				      PRIu64 ": bytes pointer left without"
				      " JRX_SCAN_KEEP", g->seq, g->dev,
				      g->offset);
		} else {
			CHECK(g->why && !g->j, "bad seq %" PRIu64 " dev %u offset %"
			      PRIu64 ": why %s, bytes %p", g->seq, g->dev,
			      g->offset, g->why ? g->why : "(null)",
			      (const void *)g->j);
		}
	}
	free(x);
}

static void scan_check(struct fx *f, struct jrx_journal_scan *s)
{
	assert_jrx_ok(jrx_journal_read_seq(&f->a, s, JRX_SCAN_KEEP));
	check_scan(f, s, true);
}

static int cmp_info_seq(const void *a, const void *b)
{
	const struct jrx_jset_info *x = *(const struct jrx_jset_info *const *)a;
	const struct jrx_jset_info *y = *(const struct jrx_jset_info *const *)b;

	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return x->dev < y->dev ? -1 : x->dev > y->dev;
}

/*
 * Recovery's view (DESIGN.md §2.3, FORMAT.md §5.5-5.6), from the scan
 * alone: the newest OK jset is want_max; every seq of [lo, want_max] is
 * there, on exactly the replica devices (exact) or at least once, with all
 * copies byte-identical.  Returns the last_seq of jset want_max.
 */
static uint64_t check_live(struct fx *f, const struct jrx_journal_scan *s,
			   uint64_t lo, uint64_t want_max, bool exact)
{
	const struct jrx_jset_info **v = calloc(s->nr + 1, sizeof(*v));
	uint64_t max = 0, last = 0;
	size_t n = 0, i = 0;

	assert_non_null(v);
	for (size_t k = 0; k < s->nr; k++)
		if (s->v[k].state == JRX_JSET_OK)
			v[n++] = &s->v[k];
	qsort(v, n, sizeof(*v), cmp_info_seq);
	if (n) {
		max = v[n - 1]->seq;
		last = v[n - 1]->last_seq;
	}
	CHECK(max == want_max, "newest OK jset is seq %" PRIu64 " (dev %u offset"
	      " %" PRIu64 "), expected %" PRIu64, max, n ? v[n - 1]->dev : 0,
	      n ? v[n - 1]->offset : 0, want_max);
	for (uint64_t seq = lo ? lo : 1; seq <= want_max; seq++) {
		unsigned copies = 0;
		uint64_t devs = 0;
		const struct jrx_jset_info *first = NULL;

		while (i < n && v[i]->seq < seq)
			i++;
		for (; i < n && v[i]->seq == seq; i++) {
			const struct jrx_jset_info *c = v[i];

			CHECK(!(devs & (1ull << c->dev)), "seq %" PRIu64 " twice on"
			      " dev %u (offset %" PRIu64 ")", seq, c->dev,
			      c->offset);
			devs |= 1ull << c->dev;
			copies++;
			if (!first) {
				first = c;
				continue;
			}
			CHECK(c->bytes == first->bytes &&
			      !memcmp(c->j, first->j, c->bytes), "seq %" PRIu64
			      ": copy on dev %u offset %" PRIu64 " differs from"
			      " the copy on dev %u offset %" PRIu64, seq, c->dev,
			      c->offset, first->dev, first->offset);
		}
		CHECK(copies, "seq %" PRIu64 " of the live range [%" PRIu64 ", %"
		      PRIu64 "] is missing from every device", seq, lo, want_max);
		if (exact) {
			uint64_t want = 0;

			for (unsigned r = 0; r < f->replicas; r++)
				want |= 1ull << ((seq + r) % f->ndev);
			CHECK(devs == want, "seq %" PRIu64 ": on devices mask 0x%"
			      PRIx64 " (%u copies), expected mask 0x%" PRIx64
			      " (%u replicas over %u devices)", seq, devs, copies,
			      want, f->replicas, f->ndev);
		}
	}
	free(v);
	return last;
}

/* ------------------------------------------------------------ content */

static struct jrx_bpos rand_pos(uint64_t *r)
{
	switch (th_rand_below(r, 10)) {
	case 0:
		return JRX_POS_MAX;
	case 1:
		return jrx_bpos(0, 0, 0);
	default:
		return jrx_bpos(th_rand_below(r, 1u << 20),
				th_rand(r) >> th_rand_below(r, 64),
				th_rand_below(r, 2) ? JRX_SNAPSHOT_DEFAULT :
				(uint32_t)th_rand(r));
	}
}

static void rand_name(uint64_t *r, char *out, unsigned len)
{
	for (unsigned i = 0; i < len; i++)
		out[i] = (char)('a' + th_rand_below(r, 26));
	out[len] = 0;
}

/* A valid key for (btree, level) of a random type and size. */
static struct jrx_bkey *gen_key(struct fx *f, uint64_t *buf, unsigned btree,
				unsigned level)
{
	uint64_t *r = &f->rng;
	struct jrx_bpos p = rand_pos(r);
	char name[256];
	uint8_t val[1024];

	if (th_rand_below(r, 8) == 0)
		return th_key_whiteout(buf, p);
	if (level)
		return th_key_btree_ptr(buf, p, rand_pos(r),
					(uint32_t)th_rand_below(r, MAXDEV),
					th_rand(r) >> 20, th_rand(r));
	switch (btree) {
	case JRX_BTREE_EXTENTS: {
		uint32_t size = 1 + (uint32_t)th_rand_below(r, 2048);

		if (p.offset < size)
			p.offset = size + th_rand_below(r, 1u << 30);
		return th_key_extent(buf, p, size,
				     (uint32_t)th_rand_below(r, MAXDEV),
				     th_rand(r) >> 24, (uint32_t)th_rand(r),
				     th_rand(r));
	}
	case JRX_BTREE_INODES: {
		struct jrx_inode_val v;

		th_rand_bytes(r, &v, sizeof(v));
		return th_key_inode(buf, p, &v);
	}
	case JRX_BTREE_DIRENTS:
		rand_name(r, name, 1 + (unsigned)th_rand_below(r, 200));
		return th_key_dirent(buf, p, th_rand(r),
				     (uint8_t)th_rand_below(r, 16), name);
	case JRX_BTREE_XATTRS: {
		uint16_t vl = (uint16_t)th_rand_below(r, sizeof(val));

		rand_name(r, name, 1 + (unsigned)th_rand_below(r, 60));
		th_rand_bytes(r, val, vl);
		return th_key_xattr(buf, p, name, val, vl);
	}
	case JRX_BTREE_ALLOC:
		return th_key_alloc(buf, jrx_bpos(th_rand_below(r, MAXDEV),
						  th_rand_below(r, 4096), 0),
				    (uint32_t)th_rand(r),
				    (uint32_t)th_rand_below(r, 1u << 20),
				    (uint8_t)th_rand_below(r, JRX_DATA_TYPE_NR));
	default:
		return th_key_accounting(buf, jrx_bpos(th_rand_below(r, 3),
						       th_rand_below(r, 1024), 0),
					 f->j.seq, (int64_t)th_rand(r),
					 (int64_t)th_rand(r));
	}
}

static bool add_roots(struct fx *f)
{
	uint64_t buf[TH_KEY_WORDS];

	for (unsigned id = 0; id < JRX_BTREE_NR; id++) {
		struct jrx_bkey *k = th_key_btree_ptr(buf, JRX_POS_MAX,
						      JRX_POS_MIN, id % MAXDEV,
						      th_rand(&f->rng) >> 20,
						      th_rand(&f->rng));

		if (!m_add_entry(f, JRX_JE_BTREE_ROOT, id,
				 (unsigned)th_rand_below(&f->rng, 4), k,
				 k->u64s))
			return false;
	}
	return true;
}

static bool add_clock(struct fx *f)
{
	struct jrx_clock_val c = { .time = 1700000000 + f->j.seq,
				   .ops = f->j.seq * 10 };

	return m_add_entry(f, JRX_JE_CLOCK, 0, 0, &c, sizeof(c) / 8);
}

/* A blacklist entry of words payload (even). */
static bool add_blacklist(struct fx *f, size_t words)
{
	uint64_t *p = malloc(words * 8 + 8);
	bool ok;

	assert_non_null(p);
	th_rand_bytes(&f->rng, p, words * 8);
	ok = m_add_entry(f, JRX_JE_BLACKLIST, 0, 0, p, words);
	free(p);
	return ok;
}

/* Grow the open jset to exactly u64s words (>= what it has). */
static void pad_to(struct fx *f, size_t u64s)
{
	size_t need;

	assert_true(u64s >= f->ow_nr);
	need = u64s - f->ow_nr;
	if (!need)
		return;
	if (need % 2 == 0) {
		assert_true(add_blacklist(f, 0));
		need--;
	}
	assert_true(add_blacklist(f, need - 1));
	assert_int_equal(f->ow_nr, u64s);
}

/*
 * nkeys random keys in runs of one (btree, level), so that the writer both
 * extends and starts btree_keys entries, with other entries in between;
 * the roots and a clock as a real store writes them.  Stops quietly where
 * the jset would exceed a bucket (the writer says JOURNAL_FULL).
 */
static void fill_jset(struct fx *f, unsigned nkeys)
{
	uint64_t buf[TH_KEY_WORDS];
	bool roots_first = th_rand_below(&f->rng, 2);
	unsigned btree = (unsigned)th_rand_below(&f->rng, JRX_BTREE_NR);
	unsigned level = 0;

	if (roots_first && !add_roots(f))
		return;
	for (unsigned i = 0; i < nkeys; i++) {
		uint64_t x = th_rand_below(&f->rng, 64);

		if (x < 20) {
			btree = (unsigned)th_rand_below(&f->rng, JRX_BTREE_NR);
			level = th_rand_below(&f->rng, 4) ? 0 :
				1 + (unsigned)th_rand_below(&f->rng,
							    JRX_BTREE_MAX_DEPTH - 1);
		} else if (x == 20 && !add_clock(f)) {
			return;
		} else if (x == 21 &&
			   !add_blacklist(f, 2 * th_rand_below(&f->rng, 4))) {
			return;
		}
		if (!m_add_key(f, btree, level, gen_key(f, buf, btree, level)))
			return;
	}
	if (!roots_first && !add_roots(f))
		return;
	add_clock(f);
}

/* A jset of a random shape, from empty to a whole bucket. */
static void random_jset(struct fx *f, unsigned max_keys)
{
	uint64_t x = th_rand_below(&f->rng, 100);
	unsigned n;

	if (x < 8) {
		n = 0;
	} else if (x < 65) {
		n = 1 + (unsigned)th_rand_below(&f->rng, 20);
	} else if (x < 90) {
		n = 20 + (unsigned)th_rand_below(&f->rng, 180);
	} else if (x < 95) {
		n = 200 + (unsigned)th_rand_below(&f->rng, 1000);
	} else {
		/* ends exactly on, or one word either side of, a block */
		size_t blocks = 1 + th_rand_below(&f->rng, 4);
		size_t target = (blocks * BLOCK - sizeof(struct jrx_jset)) / 8;

		target += (size_t)th_rand_below(&f->rng, 3) - 1;
		n = (unsigned)th_rand_below(&f->rng, 4);
		if (n > max_keys)
			n = max_keys;
		fill_jset(f, n);
		if (f->ow_nr <= target)
			pad_to(f, target);
		return;
	}
	if (n > max_keys)
		n = max_keys;
	fill_jset(f, n);
}

/* A jset of exactly u64s words (roots, keys, then padding entries). */
static void sized_jset(struct fx *f, size_t u64s)
{
	uint64_t buf[TH_KEY_WORDS];

	if (u64s >= 200) {
		add_roots(f);
		while (f->ow_nr + 2 * JRX_KEY_MAX_U64S < u64s - 20) {
			unsigned b = (unsigned)th_rand_below(&f->rng,
							     JRX_BTREE_NR);

			assert_true(m_add_key(f, b, 0, gen_key(f, buf, b, 0)));
		}
	}
	pad_to(f, u64s);
}

/* ------------------------------------------------------------ raw access */

static uint8_t *dev_read(struct fx *f, unsigned dev, uint64_t off, size_t len)
{
	uint8_t *b = malloc(len);

	assert_non_null(b);
	assert_jrx_ok(jrx_dev_pread(&f->a.devs[dev], b, len, off));
	return b;
}

static void dev_write(struct fx *f, unsigned dev, uint64_t off,
		      const void *buf, size_t len)
{
	assert_jrx_ok(jrx_dev_pwrite(&f->a.devs[dev], buf, len, off));
}

static void hash_devs(struct fx *f, uint64_t *h)
{
	for (unsigned d = 0; d < f->ndev; d++) {
		struct th_file_state st;

		th_file_state(f->p[d], &st);
		h[d] = st.hash;
	}
}

/* ------------------------------------------------------------ 1. round trip */

/*
 * The parse counts each jset's blacklist entries (the index walks the
 * entries only of a jset that has some): every count is the entries'.
 */
static void check_bl_counts(const struct jrx_journal_scan *s)
{
	size_t with = 0;

	for (size_t i = 0; i < s->nr; i++) {
		const struct jrx_jset_info *x = &s->v[i];
		const struct jrx_jset_entry *e;
		uint32_t n = 0;

		if (x->state != JRX_JSET_OK || !x->j)
			continue;
		jrx_for_each_jset_entry(e, x->j)
			n += e->type == JRX_JE_BLACKLIST;
		CHECK(x->counted && x->blacklists == n, "jset %" PRIu64
		      ": %u blacklist entries counted (known: %d), %u there",
		      x->seq, x->blacklists, x->counted, n);
		with += n > 0;
	}
	CHECK(with > 0, "no jset had a blacklist entry: the counts went"
	      " untested");
}

static void test_round_trip(void **state)
{
	struct fx *f = *state;
	struct jrx_journal_scan s, s2;
	uint64_t last_seq = 1, seq;

	fx_open(f, 2, 2, 128, 0x1234);

	/* a freshly formatted journal holds no jset */
	assert_jrx_ok(jrx_journal_read_seq(&f->a, &s, JRX_SCAN_KEEP));
	CHECK(s.nr == 0, "fresh journal: scanner found %zu jsets, first seq %"
	      PRIu64 " dev %u offset %" PRIu64, s.nr, s.v[0].seq, s.v[0].dev,
	      s.v[0].offset);
	jrx_journal_scan_free(&s);

	for (unsigned i = 0; i < 300; i++) {
		seq = f->j.seq;
		random_jset(f, UINT32_MAX);
		if (th_rand_below(&f->rng, 4) == 0) {
			uint64_t lo = seq > 20 ? seq - 20 : 1;

			if (lo > last_seq)
				last_seq = lo + th_rand_below(&f->rng,
							      seq - lo + 1);
		}
		m_write_ok(f, last_seq);
	}
	seq = f->j.seq - 1;
	for (unsigned d = 0; d < f->ndev; d++)
		CHECK(f->ring[d].wraps == 0, "dev %u wrapped: the round trip"
		      " journal is too small", d);

	scan_check(f, &s);
	check_bl_counts(&s);
	/* nothing overwritten: every seq written is there, twice */
	CHECK(check_live(f, &s, f->first_seq, seq, true) == last_seq,
	      "jset %" PRIu64 " has the wrong last_seq", seq);
	CHECK(s.nr == 2 * (seq - f->first_seq + 1), "%zu jsets scanned for %"
	      PRIu64 " written twice", s.nr, seq - f->first_seq + 1);
	CHECK(f->j.jsets_written == seq - f->first_seq + 1,
	      "writer counts %" PRIu64 " jsets", f->j.jsets_written);

	/* without JRX_SCAN_KEEP: the same report, no bytes */
	assert_jrx_ok(jrx_journal_read_seq(&f->a, &s2, 0));
	check_scan(f, &s2, false);
	CHECK(s2.nr_arenas == 0, "%zu buffers kept without JRX_SCAN_KEEP",
	      s2.nr_arenas);
	jrx_journal_scan_free(&s2);

	/* a reopened array reads the same */
	jrx_journal_scan_free(&s);
	jrx_array_close(&f->a);
	f->a_open = false;
	assert_jrx_ok(jrx_array_open(&f->a, f->paths, f->ndev, JRX_OPEN_RDONLY));
	f->a_open = true;
	scan_check(f, &s);
	jrx_journal_scan_free(&s);
}

/* ------------------------------------------------------------ 2. ring */

/* A small jset (1 to ~5 blocks, sometimes 8). */
static void small_jset(struct fx *f)
{
	if (th_rand_below(&f->rng, 16) == 0)
		sized_jset(f, (8 * BLOCK - sizeof(struct jrx_jset)) / 8 -
			   th_rand_below(&f->rng, 2));
	else
		random_jset(f, 60);
}

static void wrap_run(struct fx *f, unsigned cycles, bool demand)
{
	struct jrx_journal_scan s;
	uint64_t last_seq = f->first_seq, reclaims = 0, n = 0;
	uint64_t stale = 0, behind = 0, max, live;
	double frac;

	for (;;) {
		uint64_t seq = f->j.seq, done = UINT64_MAX, free_b = 0, total = 0;
		size_t bytes;

		for (unsigned d = 0; d < f->ndev; d++)
			if (f->ring[d].wraps < done)
				done = f->ring[d].wraps;
		if (done >= cycles)
			break;
		CHECK(++n < 20000, "no %u wraps after %" PRIu64 " jsets", cycles,
		      n);

		small_jset(f);
		/* btree nodes written back now and then: last_seq moves up */
		if (th_rand_below(&f->rng, 3) == 0) {
			uint64_t lo = seq > 3 ? seq - 3 : 1;

			if (lo > last_seq)
				last_seq = lo;
		}
		/* free fraction as the store sees it, per the model */
		for (unsigned d = 0; d < f->ndev; d++)
			for (uint32_t i = 0; i < f->ring[d].nr; i++) {
				total++;
				free_b += i != f->ring[d].cur &&
					f->ring[d].b[i].max_seq < last_seq;
			}
		frac = jrx_journal_free_fraction(&f->j, last_seq);
		CHECK(frac == (double)free_b / (double)total, "seq %" PRIu64
		      ": free fraction %f at last_seq %" PRIu64 ", expected %"
		      PRIu64 "/%" PRIu64, seq, frac, last_seq, free_b, total);
		/* and it reclaims (writes everything back) before it is full */
		bytes = jrx_jset_disk_bytes((uint32_t)f->ow_nr);
		if (!m_fits(f, seq, bytes, last_seq)) {
			last_seq = seq;
			reclaims++;
		}
		m_write_ok(f, last_seq);
		if (n % 32 == 0) {
			scan_check(f, &s);
			check_live(f, &s, last_seq, seq, true);
			jrx_journal_scan_free(&s);
		}
	}
	max = f->j.seq - 1;
	scan_check(f, &s);
	live = check_live(f, &s, last_seq, max, true);
	CHECK(live == last_seq, "jset %" PRIu64 ": last_seq %" PRIu64
	      ", written with %" PRIu64, max, live, last_seq);
	/* every other jset found is a leftover of an older cycle, below it */
	for (size_t i = 0; i < s.nr; i++) {
		const struct jrx_jset_info *v = &s.v[i];

		CHECK(v->state == JRX_JSET_OK, "seq %" PRIu64 " dev %u bucket %"
		      PRIu64 " offset %" PRIu64 ": %s (%s)", v->seq, v->dev,
		      v->bucket, v->offset, state_name(v->state), v->why);
		CHECK(v->seq <= max, "seq %" PRIu64 " above max_seq on dev %u"
		      " offset %" PRIu64, v->seq, v->dev, v->offset);
		if (v->seq < live)
			stale++;
		if (i && v[-1].dev == v->dev && v[-1].bucket == v->bucket &&
		    v[-1].seq > v->seq)
			behind++;
	}
	/* the run must have shown the interesting cases */
	CHECK(!demand || (stale > 0 && behind > 0), "after %" PRIu64 " jsets (%" PRIu64
	      " reclaims): %" PRIu64 " stale jsets, %" PRIu64 " behind a newer"
	      " one in their bucket", n, reclaims, stale, behind);
	jrx_journal_scan_free(&s);
}

static void test_ring_wrap(void **state)
{
	struct fx *f = *state;

	fx_open(f, 1, 1, 3, 0x5eed1);
	wrap_run(f, 8, true);
	fx_open(f, 3, 2, 4, 0x5eed2);
	wrap_run(f, 6, true);
}

/*
 * last_seq never advanced: the writer refuses the jset that needs a bucket
 * still holding a live seq; nothing is written by the refusal; once
 * last_seq moves up the same jset goes out and the ring goes on.
 */
static void full_run(struct fx *f)
{
	struct jrx_journal_scan s;
	uint64_t last_seq = f->first_seq, h0[MAXDEV], h1[MAXDEV];
	unsigned fulls = 0;

	for (unsigned n = 0; fulls < 3; n++) {
		uint64_t seq = f->j.seq;
		size_t bytes;
		int ret;

		CHECK(n < 5000, "never JOURNAL_FULL in %u jsets", n);
		small_jset(f);
		bytes = jrx_jset_disk_bytes((uint32_t)f->ow_nr);
		if (m_fits(f, seq, bytes, last_seq)) {
			m_write_ok(f, last_seq);
			continue;
		}
		fulls++;
		hash_devs(f, h0);
		ret = m_write(f, last_seq, false);
		assert_jrx_err(ret, FULL);
		hash_devs(f, h1);
		for (unsigned d = 0; d < f->ndev; d++)
			CHECK(h0[d] == h1[d], "refused seq %" PRIu64 " (JOURNAL_FULL"
			      " at last_seq %" PRIu64 ") changed dev %u (%s)",
			      seq, last_seq, d, f->p[d]);
		/* everything live is still there */
		scan_check(f, &s);
		check_live(f, &s, last_seq, seq - 1, true);
		jrx_journal_scan_free(&s);
		/* a second refusal changes nothing either */
		assert_jrx_err(m_write(f, last_seq, false), FULL);
		hash_devs(f, h1);
		for (unsigned d = 0; d < f->ndev; d++)
			CHECK(h0[d] == h1[d], "second refusal of seq %" PRIu64
			      " changed dev %u", seq, d);

		/* written back up to the open jset: it goes out now */
		last_seq = seq;
		m_write_ok(f, last_seq);
		scan_check(f, &s);
		check_live(f, &s, last_seq, seq, true);
		jrx_journal_scan_free(&s);
	}
}

static void test_journal_full(void **state)
{
	struct fx *f = *state;
	static const unsigned cfg[][3] = {
		/* devices, replicas, journal buckets */
		{ 1, 1, 2 }, { 2, 1, 3 }, { 2, 2, 3 }, { 3, 2, 3 }, { 3, 1, 2 },
	};

	for (unsigned c = 0; c < sizeof(cfg) / sizeof(cfg[0]); c++) {
		fx_open(f, cfg[c][0], cfg[c][1], cfg[c][2], 0xf0110 + c);
		full_run(f);
	}
}

/* ------------------------------------------------------------ 3. replicas */

static void test_replicas(void **state)
{
	struct fx *f = *state;
	static const unsigned cfg[][2] = {
		{ 2, 2 }, { 3, 2 }, { 1, 1 }, { 2, 1 }, { 3, 1 },
	};

	for (unsigned c = 0; c < sizeof(cfg) / sizeof(cfg[0]); c++) {
		struct jrx_journal_scan s;
		uint64_t max, per_dev[MAXDEV] = { 0 };

		fx_open(f, cfg[c][0], cfg[c][1], 32, 0xe9 + c);
		for (unsigned i = 0; i < 90; i++) {
			random_jset(f, 300);
			m_write_ok(f, f->first_seq);
		}
		max = f->j.seq - 1;
		scan_check(f, &s);
		check_live(f, &s, f->first_seq, max, true);
		CHECK(s.nr == f->replicas * (max - f->first_seq + 1),
		      "%u devices, %u replicas: %zu copies of %" PRIu64 " jsets",
		      f->ndev, f->replicas, s.nr, max - f->first_seq + 1);
		/* each device got its share: the seqs it is a replica for */
		for (size_t i = 0; i < s.nr; i++)
			per_dev[s.v[i].dev]++;
		for (unsigned d = 0; d < f->ndev; d++) {
			uint64_t want = 0;

			for (uint64_t q = f->first_seq; q <= max; q++)
				for (unsigned r = 0; r < f->replicas; r++)
					want += (q + r) % f->ndev == d;
			CHECK(per_dev[d] == want, "%u devices, %u replicas: dev %u"
			      " holds %" PRIu64 " jsets, expected %" PRIu64,
			      f->ndev, f->replicas, d, per_dev[d], want);
		}
		jrx_journal_scan_free(&s);
	}
}

/* ------------------------------------------------------------ 4. torn */

struct torn_case {
	unsigned ndev, replicas, jnr;
	unsigned before;	/* jsets written first */
	size_t torn_u64s;	/* size of the torn jset */
	bool bucket_end;	/* leave less room than it needs in the bucket */
	bool wrap;		/* wrap the ring first */
};

static void torn_one(struct fx *f, const struct torn_case *c, uint64_t seed)
{
	struct jrx_journal_scan s;
	uint64_t tseq, last_seq, off, dev_off;
	uint32_t idx;
	size_t bytes, len, bad = 0;
	unsigned dev;
	uint8_t *pre, *post, *img;

	fx_open(f, c->ndev, c->replicas, c->jnr, seed);
	if (c->wrap)
		wrap_run(f, 1, false);
	for (unsigned i = 0; i < c->before; i++) {
		random_jset(f, 100);
		m_write_ok(f, f->j.seq);
	}
	if (c->bucket_end) {
		/* one-block jsets until 1 or 2 blocks are left in the bucket */
		while (f->bsize - f->ring[f->j.seq % f->ndev].used > 2 * BLOCK ||
		       f->ring[f->j.seq % f->ndev].used == 0 ||
		       f->ring[f->j.seq % f->ndev].used == f->bsize) {
			pad_to(f, 20);
			m_write_ok(f, f->j.seq);
		}
	}
	tseq = f->j.seq;
	last_seq = tseq - (tseq > 1);
	dev = (unsigned)(tseq % f->ndev);
	sized_jset(f, c->torn_u64s);
	bytes = jrx_jset_disk_bytes((uint32_t)f->ow_nr);
	len = torn_len(bytes);
	m_peek(f, dev, bytes, &idx, &off);
	if (c->bucket_end)
		CHECK(off == 0 && idx != f->ring[dev].cur, "torn jset of %zu"
		      " bytes should start a new bucket, goes to offset %" PRIu64,
		      bytes, off);
	dev_off = ring_dev_offset(f, dev, idx, off);
	pre = dev_read(f, dev, dev_off, bytes);
	assert_jrx_ok(m_write(f, last_seq, true));
	post = dev_read(f, dev, dev_off, bytes);
	img = m_image(f, tseq, &bytes);

	/* the first half went out, the rest is as it was */
	CHECK(!memcmp(post, img, len), "torn seq %" PRIu64 " dev %u offset %"
	      PRIu64 ": the first %zu bytes are not the jset's", tseq, dev,
	      dev_off, len);
	CHECK(!memcmp(post + len, pre + len, bytes - len), "torn seq %" PRIu64
	      " dev %u offset %" PRIu64 ": bytes past the first %zu of %zu"
	      " were written", tseq, dev, dev_off, len, bytes);
	CHECK(len < bytes && len > 0, "torn seq %" PRIu64 ": %zu of %zu bytes",
	      tseq, len, bytes);

	/* the scanner: BAD_CSUM right there, everything else OK */
	scan_check(f, &s);
	for (size_t i = 0; i < s.nr; i++) {
		const struct jrx_jset_info *v = &s.v[i];

		if (v->state == JRX_JSET_OK) {
			CHECK(v->seq != tseq, "torn seq %" PRIu64 " is OK on dev"
			      " %u offset %" PRIu64, tseq, v->dev, v->offset);
			continue;
		}
		bad++;
		CHECK(v->state == JRX_JSET_BAD_CSUM && v->seq == tseq &&
		      v->dev == dev && v->offset == dev_off &&
		      v->bucket == f->ring[dev].first + idx, "bad jset seq %"
		      PRIu64 " %s (%s) on dev %u bucket %" PRIu64 " offset %"
		      PRIu64 "; expected the torn seq %" PRIu64 " BAD_CSUM on"
		      " dev %u bucket %" PRIu64 " offset %" PRIu64, v->seq,
		      state_name(v->state), v->why, v->dev, v->bucket,
		      v->offset, tseq, dev, f->ring[dev].first + idx, dev_off);
	}
	CHECK(bad == 1, "%zu bad jsets, expected the torn one only", bad);
	check_live(f, &s, tseq - 1, tseq - 1, true);
	jrx_journal_scan_free(&s);
	free(pre);
	free(post);
	free(img);
}

/*
 * Every torn jset here has more than 512 bytes of checksummed content.  A
 * smaller one cannot be torn: the writer's torn mode writes its first 512
 * bytes, which then hold all of it, and it reads back OK.
 */
static void test_torn_write(void **state)
{
	struct fx *f = *state;
	/* jset words: 100 -> 1 block, 1000 -> 2 blocks, 2500 -> 5 blocks */
	static const struct torn_case cases[] = {
		{ 2, 2, 16, 20, 100, false, false },
		{ 2, 2, 16, 25, 1000, false, false },
		{ 2, 2, 16, 30, 2500, false, false },
		{ 3, 2, 16, 7, 507, false, false },	/* exactly 1 block */
		{ 1, 1, 8, 3, 1500, true, false },	/* 3 blocks, new bucket */
		{ 2, 1, 8, 0, 100, false, false },	/* the very first jset */
		{ 3, 2, 4, 5, 2500, false, true },	/* over stale data */
		{ 2, 2, 3, 2, 6000, false, true },
	};

	for (unsigned c = 0; c < sizeof(cases) / sizeof(cases[0]); c++)
		torn_one(f, &cases[c], 0x7047 + c);
}

/* ------------------------------------------------------------ 5. corruption */

/* The slot in the middle of the bucket idx of dev's ring. */
static struct mslot *middle_slot(struct fx *f, unsigned dev, uint32_t idx)
{
	struct mbucket *b = &f->ring[dev].b[idx];

	CHECK(b->nr >= 3, "dev %u bucket %" PRIu64 " holds %zu jsets, want 3+",
	      dev, f->ring[dev].first + idx, b->nr);
	return &b->v[b->nr / 2];
}

static void test_corruption(void **state)
{
	struct fx *f = *state;
	struct jrx_journal_scan s;
	struct mslot *sl[5];
	uint64_t off[5];
	const char *want_why[5] = {
		"checksum", "version", "past the end", "last_seq", NULL,
	};
	const unsigned dev = 0;

	fx_open(f, 2, 2, 8, 0xc0);
	/* jsets of 1 to 4 blocks until buckets 0-5 of dev 0 are full */
	while (f->ring[dev].cur < 6) {
		random_jset(f, 8);
		m_write_ok(f, f->first_seq);
	}
	scan_check(f, &s);
	jrx_journal_scan_free(&s);

	/*
	 * Bucket 1: a flipped payload byte.  Bucket 2: a wrong version with the
	 * checksum redone.  Bucket 3: u64s past the bucket.  Bucket 4:
	 * last_seq above seq, checksum redone.  Bucket 5: a flipped magic.
	 */
	for (unsigned c = 0; c < 5; c++) {
		struct jrx_jset *h;
		struct mjset *m;
		size_t at;

		sl[c] = middle_slot(f, dev, 1 + c);
		m = mj(f, sl[c]->seq);
		off[c] = ring_dev_offset(f, dev, 1 + c, sl[c]->off);
		h = (struct jrx_jset *)dev_read(f, dev, off[c], sl[c]->bytes);
		CHECK(h->seq == sl[c]->seq, "dev %u offset %" PRIu64 " holds seq %"
		      PRIu64 ", the model says %" PRIu64, dev, off[c], h->seq,
		      sl[c]->seq);
		switch (c) {
		case 0:
			CHECK(m->u64s > 0, "seq %" PRIu64 " is empty", m->seq);
			at = sizeof(*h) + 8 * th_rand_below(&f->rng, m->u64s) +
				th_rand_below(&f->rng, 8);
			((uint8_t *)h)[at] ^= 0x10;
			sl[c]->kind = SLOT_CSUM;
			break;
		case 1:
			h->version = JRX_FORMAT_VERSION + 1;
			jrx_jset_set_csum(h);
			sl[c]->kind = SLOT_BAD;
			break;
		case 2:
			h->u64s = f->bsize / 8;
			sl[c]->kind = SLOT_BAD;
			break;
		case 3:
			h->last_seq = h->seq + 1;
			jrx_jset_set_csum(h);
			sl[c]->kind = SLOT_BAD;
			break;
		default:
			h->magic ^= 1ull << 40;
			sl[c]->kind = SLOT_MAGIC;
			break;
		}
		sl[c]->bad_last_seq = h->last_seq;
		dev_write(f, dev, off[c], h, sl[c]->bytes);
		free(h);
	}

	scan_check(f, &s);
	for (unsigned c = 0; c < 5; c++) {
		uint64_t bucket = f->ring[dev].first + 1 + c, after = 0;
		const struct jrx_jset_info *bad = NULL;

		for (size_t i = 0; i < s.nr; i++) {
			const struct jrx_jset_info *v = &s.v[i];

			if (v->dev != dev || v->bucket != bucket)
				continue;
			if (v->offset == off[c])
				bad = v;
			else if (v->offset > off[c])
				after++;
			else
				CHECK(v->state == JRX_JSET_OK, "dev %u bucket %"
				      PRIu64 " offset %" PRIu64 ": seq %" PRIu64
				      " %s before the corrupt jset", dev,
				      bucket, v->offset, v->seq,
				      state_name(v->state));
		}
		/* a corrupt jset ends its bucket's scan */
		CHECK(after == 0, "corruption %u at dev %u bucket %" PRIu64
		      " offset %" PRIu64 ": %" PRIu64 " jsets reported past it",
		      c, dev, bucket, off[c], after);
		if (!want_why[c]) {
			CHECK(!bad, "dev %u bucket %" PRIu64 " offset %" PRIu64
			      ": jset with a broken magic reported (%s)", dev,
			      bucket, off[c], bad ? state_name(bad->state) : "");
			continue;
		}
		CHECK(bad && bad->seq == sl[c]->seq &&
		      bad->state == (c ? JRX_JSET_BAD : JRX_JSET_BAD_CSUM) &&
		      bad->why && strstr(bad->why, want_why[c]),
		      "corruption %u (seq %" PRIu64 ") at dev %u bucket %" PRIu64
		      " offset %" PRIu64 ": reported %s %s (%s), expected %s"
		      " (\"%s\")", c, sl[c]->seq, dev, bucket, off[c],
		      bad ? "as" : "not at all", bad ? state_name(bad->state) :
		      "", bad && bad->why ? bad->why : "-",
		      state_name(c ? JRX_JSET_BAD : JRX_JSET_BAD_CSUM),
		      want_why[c]);
	}
	/* the replicas on dev 1 cover every seq, the other buckets intact */
	check_live(f, &s, f->first_seq, f->j.seq - 1, false);
	jrx_journal_scan_free(&s);
}

/* ------------------------------------------------------------ 6. padding */

static void test_padding(void **state)
{
	struct fx *f = *state;
	struct jrx_journal_scan s;
	const size_t hdr = sizeof(struct jrx_jset);
	/* entry words: around block boundaries, and a whole bucket */
	const size_t sizes[] = {
		0, 1, 2, 3, 505, 506, 507, 508, 509, 1018, 1019, 1020,
		(3 * BLOCK - hdr) / 8, (3 * BLOCK - hdr) / 8 + 1, 100,
		(BUCKET - hdr) / 8, 7, (BUCKET - hdr) / 8 - 1, 2000,
		(BUCKET - hdr) / 8 - 512, 4000, 5000,
	};
	const uint32_t jnr = 12;
	const size_t jbytes = (size_t)jnr * BUCKET;
	uint8_t *junk = malloc(jbytes);
	uint64_t buf[TH_KEY_WORDS];

	assert_non_null(junk);
	fx_open(f, 1, 1, jnr, 0x9ad);
	/* garbage in every journal bucket: it must not show through */
	memset(junk, 0xa5, jbytes);
	dev_write(f, 0, ring_dev_offset(f, 0, 0, 0), junk, jbytes);

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		sized_jset(f, sizes[i]);
		if (sizes[i] == (BUCKET - hdr) / 8) {
			/* a full bucket: not one word more */
			CHECK(jrx_journal_open_bytes(&f->j) == BUCKET,
			      "a full-bucket jset occupies %zu bytes",
			      jrx_journal_open_bytes(&f->j));
			assert_false(m_add_key(f, 0, 1, gen_key(f, buf, 0, 1)));
			assert_false(add_blacklist(f, 0));
		}
		m_write_ok(f, f->j.seq);
	}
	CHECK(f->ring[0].wraps == 0, "padding test wrapped its ring");

	scan_check(f, &s);
	check_live(f, &s, f->first_seq, f->j.seq - 1, true);
	for (size_t i = 0; i < s.nr; i++) {
		const struct jrx_jset_info *v = &s.v[i];
		const struct jrx_jset *j = v->j;
		uint64_t base = jrx_bucket_offset(&f->a.sb, v->bucket);
		size_t used = hdr + (size_t)j->u64s * 8;
		const uint8_t *pad = (const uint8_t *)j + used;

		CHECK(v->bytes % BLOCK == 0 && v->bytes >= used &&
		      v->bytes - used < BLOCK && (v->offset - base) % BLOCK == 0,
		      "seq %" PRIu64 " dev %u bucket %" PRIu64 " offset %" PRIu64
		      ": %u bytes at bucket offset %" PRIu64 " for %zu used",
		      v->seq, v->dev, v->bucket, v->offset, v->bytes,
		      v->offset - base, used);
		for (size_t k = 0; k < v->bytes - used; k++)
			CHECK(!pad[k], "seq %" PRIu64 " dev %u bucket %" PRIu64
			      " offset %" PRIu64 ": padding byte at device offset"
			      " %" PRIu64 " is 0x%02x", v->seq, v->dev, v->bucket,
			      v->offset, v->offset + used + k, pad[k]);
		/* jsets follow each other; the first of a bucket at 0 */
		if (i && s.v[i - 1].bucket == v->bucket)
			CHECK(v->offset == s.v[i - 1].offset + s.v[i - 1].bytes,
			      "seq %" PRIu64 " at offset %" PRIu64 ", previous"
			      " jset ends at %" PRIu64, v->seq, v->offset,
			      s.v[i - 1].offset + s.v[i - 1].bytes);
		else
			CHECK(v->offset == base, "seq %" PRIu64 " first in bucket %"
			      PRIu64 " at offset %" PRIu64, v->seq, v->bucket,
			      v->offset - base);
	}
	/* nothing past the last jset of a bucket was written */
	for (uint32_t b = 0; b < jnr; b++) {
		const struct mbucket *mb = &f->ring[0].b[b];
		uint64_t end = mb->nr ? mb->v[mb->nr - 1].off +
			mb->v[mb->nr - 1].bytes : 0;
		uint8_t *rest;

		if (end == f->bsize)
			continue;
		rest = dev_read(f, 0, ring_dev_offset(f, 0, b, end),
				f->bsize - end);
		for (uint64_t k = 0; k < f->bsize - end; k++)
			CHECK(rest[k] == 0xa5, "dev 0 bucket %" PRIu64 ": byte at"
			      " bucket offset %" PRIu64 " past the last jset was"
			      " written (0x%02x)", f->ring[0].first + b, end + k,
			      rest[k]);
		free(rest);
	}
	jrx_journal_scan_free(&s);
	free(junk);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ring_wrap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal_full, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_replicas, setup, teardown),
		cmocka_unit_test_setup_teardown(test_torn_write, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corruption, setup, teardown),
		cmocka_unit_test_setup_teardown(test_padding, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
