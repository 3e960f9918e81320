/* journal.c - the journal writer (see journal.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <inttypes.h>
#include "journal.h"
#include "jrx/errors.h"
#include "../util/diag.h"
#include "../format/jset.h"
#include "../format/sb.h"

#define HDR_U64S (sizeof(struct jrx_jset) / 8)
#define INIT_U64S 8192		/* the open jset's first buffer, in words */

int jrx_journal_init(struct jrx_journal *j, struct jrx_array *a, uint64_t seq)
{
	memset(j, 0, sizeof(*j));
	j->a = a;
	j->replicas = a->sb.metadata_replicas;
	j->seq = seq;
	j->durable_seq = seq - 1;
	j->max_u64s = a->sb.bucket_size / 8;
	for (unsigned i = 0; i < a->nr_devs; i++) {
		const struct jrx_member *m = &a->sb.members[i];

		j->ring[i].first = m->journal_bucket;
		j->ring[i].nr = m->journal_nr;
		j->ring[i].max_seq = calloc(m->journal_nr, sizeof(uint64_t));
		if (!j->ring[i].max_seq) {
			jrx_journal_exit(j);
			return jrx_fail(-ENOMEM, "allocating the journal writer's"
					" bucket seqs of %s: %u buckets",
					a->devs[i].path, m->journal_nr);
		}
	}
	j->cap_u64s = INIT_U64S;
	j->buf = jrx_alloc_aligned(INIT_U64S * 8);
	if (!j->buf) {
		jrx_journal_exit(j);
		return jrx_fail(-ENOMEM, "allocating the journal writer's jset"
				" buffer: %zu bytes", (size_t)INIT_U64S * 8);
	}
	memset(j->buf, 0, j->cap_u64s * 8);
	((struct jrx_jset *)j->buf)->u64s = 0;
	return 0;
}

void jrx_journal_exit(struct jrx_journal *j)
{
	for (unsigned i = 0; i < JRX_MAX_DEVICES; i++)
		free(j->ring[i].max_seq);
	free(j->buf);
	memset(j, 0, sizeof(*j));
}

static struct jrx_jset *open_jset(const struct jrx_journal *j)
{
	return (struct jrx_jset *)j->buf;
}

/*
 * Room for u64s more words in the open jset.  Not a JRX_VEC: the buffer is
 * aligned for the device writes (no realloc), its tail stays zeroed, and
 * keys_entry points into it.
 */
static int reserve(struct jrx_journal *j, size_t u64s)
{
	struct jrx_jset *js = open_jset(j);
	size_t need = HDR_U64S + js->u64s + u64s;
	uint64_t *nb;
	size_t ncap;

	if (need > j->max_u64s)
		return jrx_fail(-JRX_ERR_JOURNAL_FULL, "jset %" PRIu64 " would"
				" exceed a journal bucket (%u bytes)", j->seq,
				j->a->sb.bucket_size);
	if (need + JRX_BLOCK_SIZE / 8 <= j->cap_u64s)
		return 0;
	ncap = j->cap_u64s;
	while (need + JRX_BLOCK_SIZE / 8 > ncap)
		ncap *= 2;
	nb = jrx_alloc_aligned(ncap * 8);
	if (!nb)
		return jrx_fail(-ENOMEM, "allocating the buffer of jset %" PRIu64
				": %zu bytes", j->seq, ncap * 8);
	memcpy(nb, j->buf, j->cap_u64s * 8);
	memset(nb + j->cap_u64s, 0, (ncap - j->cap_u64s) * 8);
	if (j->keys_entry)
		j->keys_entry = (struct jrx_jset_entry *)
			((uint64_t *)nb + ((uint64_t *)j->keys_entry - j->buf));
	free(j->buf);
	j->buf = nb;
	j->cap_u64s = ncap;
	return 0;
}

int jrx_journal_add_entry(struct jrx_journal *j, unsigned type,
			  unsigned btree_id, unsigned level,
			  const void *payload, size_t u64s)
{
	struct jrx_jset *js;
	struct jrx_jset_entry *e;
	int ret;

	if (u64s > UINT16_MAX)
		return jrx_fail(-JRX_ERR_JSET_INVALID, "journal entry too large");
	ret = reserve(j, 1 + u64s);
	if (ret)
		return ret;
	js = open_jset(j);
	e = (struct jrx_jset_entry *)(j->buf + HDR_U64S + js->u64s);
	memset(e, 0, sizeof(*e));
	e->u64s = (uint16_t)u64s;
	e->type = (uint8_t)type;
	e->btree_id = (uint8_t)btree_id;
	e->level = (uint8_t)level;
	memcpy(e + 1, payload, u64s * 8);
	js->u64s += (uint32_t)(1 + u64s);
	j->keys_entry = NULL;
	return 0;
}

int jrx_journal_add_key(struct jrx_journal *j, unsigned btree_id,
			unsigned level, const struct jrx_bkey *k)
{
	struct jrx_jset_entry *e = j->keys_entry;
	struct jrx_jset *js;
	int ret;

	if (e && e->btree_id == btree_id && e->level == level &&
	    (size_t)e->u64s + k->u64s <= UINT16_MAX) {
		ret = reserve(j, k->u64s);
		if (ret)
			return ret;
		e = j->keys_entry;	/* reserve may move the buffer */
		js = open_jset(j);
		memcpy(j->buf + HDR_U64S + js->u64s, k, jrx_bkey_bytes(k));
		js->u64s += k->u64s;
		e->u64s += k->u64s;
	} else {
		ret = jrx_journal_add_entry(j, JRX_JE_BTREE_KEYS, btree_id,
					    level, k, k->u64s);
		if (ret)
			return ret;
		js = open_jset(j);
		j->keys_entry = (struct jrx_jset_entry *)
			(j->buf + HDR_U64S + js->u64s - 1 - k->u64s);
	}
	j->open_keys++;
	return 0;
}

size_t jrx_journal_open_bytes(const struct jrx_journal *j)
{
	return jrx_jset_disk_bytes(open_jset(j)->u64s);
}

bool jrx_journal_open_empty(const struct jrx_journal *j)
{
	return open_jset(j)->u64s == 0;
}

static bool bucket_reusable(const struct jrx_jring *r, uint32_t idx,
			    uint64_t last_seq)
{
	return r->max_seq[idx] < last_seq;
}

/* Whether dev's ring has room for a jset of bytes; changes nothing. */
static int ring_room(const struct jrx_journal *j, unsigned dev, size_t bytes,
		     uint64_t last_seq)
{
	const struct jrx_jring *r = &j->ring[dev];
	uint32_t next = (r->cur + 1) % r->nr;

	if (r->used + bytes <= j->a->sb.bucket_size ||
	    bucket_reusable(r, next, last_seq))
		return 0;
	return jrx_fail(-JRX_ERR_JOURNAL_FULL, "%s: journal bucket %" PRIu64
			" still holds seq %" PRIu64 " >= last_seq %" PRIu64,
			j->a->devs[dev].path, r->first + next, r->max_seq[next],
			last_seq);
}

/* Position in dev's ring for a jset of bytes; moves to the next bucket. */
static int ring_place(struct jrx_journal *j, unsigned dev, size_t bytes,
		      uint64_t last_seq, uint64_t *off)
{
	struct jrx_jring *r = &j->ring[dev];
	uint64_t bsize = j->a->sb.bucket_size;
	int ret = ring_room(j, dev, bytes, last_seq);

	if (ret)
		return ret;
	if (r->used + bytes > bsize) {
		r->cur = (r->cur + 1) % r->nr;
		r->used = 0;
	}
	*off = jrx_bucket_offset(&j->a->sb, r->first + r->cur) + r->used;
	return 0;
}

int jrx_journal_write(struct jrx_journal *j, uint64_t last_seq, bool torn)
{
	struct jrx_jset *js = open_jset(j);
	size_t bytes;
	unsigned nr = j->a->nr_devs;
	int ret;

	js->version = JRX_FORMAT_VERSION;
	js->magic = j->a->jset_magic;
	js->seq = j->seq;
	js->last_seq = last_seq;
	js->flags = 0;
	bytes = jrx_jset_disk_bytes(js->u64s);
	/* zero the tail padding of the last block */
	memset((char *)j->buf + sizeof(*js) + (size_t)js->u64s * 8, 0,
	       bytes - sizeof(*js) - (size_t)js->u64s * 8);
	jrx_jset_set_csum(js);

	/* refuse before any copy is written: all of them or none */
	for (unsigned i = 0; i < j->replicas; i++) {
		ret = ring_room(j, (unsigned)((j->seq + i) % nr), bytes,
				last_seq);
		if (ret)
			return ret;
	}
	for (unsigned i = 0; i < j->replicas; i++) {
		unsigned dev = (unsigned)((j->seq + i) % nr);
		uint64_t off = 0;
		size_t len = bytes;

		ret = ring_place(j, dev, bytes, last_seq, &off);
		if (ret)
			return ret;
		if (torn) {
			if (i)
				break;
			/* first half of the blocks, at least one, never all */
			len = (bytes / JRX_BLOCK_SIZE / 2) * JRX_BLOCK_SIZE;
			if (!len)
				len = bytes > 512 ? 512 : bytes / 2;
		}
		ret = jrx_dev_pwrite(&j->a->devs[dev], j->buf, len, off);
		if (ret)
			return ret;
		j->ring[dev].used += bytes;
		j->ring[dev].max_seq[j->ring[dev].cur] = j->seq;
		j->bytes_written += len;
	}
	if (!torn) {
		j->durable_seq = j->seq;
		j->jsets_written++;
		j->keys_written += j->open_keys;
	}
	j->seq++;
	j->open_keys = 0;
	j->keys_entry = NULL;
	memset(js, 0, sizeof(*js));
	return 0;
}

double jrx_journal_free_fraction(const struct jrx_journal *j, uint64_t last_seq)
{
	uint64_t total = 0, free_b = 0;

	for (unsigned d = 0; d < j->a->nr_devs; d++) {
		const struct jrx_jring *r = &j->ring[d];

		for (uint32_t i = 0; i < r->nr; i++) {
			total++;
			if (i != r->cur && bucket_reusable(r, i, last_seq))
				free_b++;
		}
	}
	return total ? (double)free_b / (double)total : 0;
}
