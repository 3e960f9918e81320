/*
 * fuzz_jindex.c - libFuzzer target: the journal index over a set of
 * jsets.  The input is cut into journal buckets; each is scanned by the
 * readers' one parser, jrx_jread_bucket() (FORMAT.md 5.5: jsets from
 * offset 0 until the first that fails), and the list goes to
 * jrx_jindex_build() (5.6: replicas, max_seq, the replay range, the
 * blacklist of the superblock and of the jsets, missing seqs), with or
 * without a problem report.  An index that builds must be the replay
 * range, sorted, one entry per seq, every gap blacklisted.
 *
 * Input: [flags u8][uuid[0..8) 8 bytes][journal_seq u8][nbl u8]
 *        [(nbl & 3) superblock blacklist ranges: start u8, end u8]
 *        then buckets, each [ctl u8] and, unless ctl bit 2, [seq u8,
 *        lag u8 if ctl bit 3][len u16][len bytes].
 *   flags bit 0  fix every jset checksum up (the walk the reader makes)
 *   flags bit 1  write the jset magic at every jset the walk reaches
 *   flags bit 2  build with a report callback (fsck's way: go on)
 *   ctl bits 0-1 the device; bit 2: a replica, the previous bucket's
 *   bytes again on this device; bit 3: the jsets of the bucket get seq
 *   seq + i and last_seq seq + i - lag (0 if below).
 *   nr_blacklist is nbl itself (up to 255: the builder must clamp it).
 */
#include "fuzz_input.h"
#include "format/jset.h"
#include "format/sb.h"
#include "io/array.h"
#include "journal/jindex.h"
#include "journal/jread.h"
#include "jrx/errors.h"

#define FZ_REPORT	0x04u
#define CTL_REPLICA	0x04u
#define CTL_SEQ		0x08u
#define MAX_BUCKETS	16

struct bucket {
	unsigned dev;
	uint8_t ctl, seq, lag;
	const uint8_t *p;	/* the input's bytes */
	size_t len;
	uint8_t *buf;		/* bsize bytes: the bucket as read */
};

static struct jrx_array fa;	/* only sb and jset_magic are read */

static void fix_up(uint8_t *buf, size_t bsize, uint8_t flags,
		   const struct bucket *b)
{
	size_t pos = 0;

	for (unsigned i = 0; pos + sizeof(struct jrx_jset) <= bsize; i++) {
		struct jrx_jset *j = (void *)(buf + pos);

		if (flags & FZ_FIX_MAGIC)
			j->magic = fa.jset_magic;
		if (b->ctl & CTL_SEQ) {
			j->seq = (uint64_t)b->seq + i;
			j->last_seq = j->seq > b->lag ? j->seq - b->lag : 0;
		}
		if (sizeof(*j) + (size_t)j->u64s * 8 > bsize - pos)
			break;
		if (flags & FZ_FIX_CSUM)
			jrx_jset_set_csum(j);
		pos += jrx_jset_disk_bytes(j->u64s);
	}
}

static bool in_bl(const struct jrx_jindex *ix, uint64_t seq)
{
	for (size_t i = 0; i < ix->nr_bl; i++)
		if (seq >= ix->bl[i].start && seq <= ix->bl[i].end)
			return true;
	return false;
}

/* Whether every seq of [a, b] is blacklisted (b >= a), in nr_bl steps. */
static bool covered(const struct jrx_jindex *ix, uint64_t a, uint64_t b)
{
	for (size_t step = 0; step <= ix->nr_bl; step++) {
		size_t i;

		for (i = 0; i < ix->nr_bl; i++)
			if (a >= ix->bl[i].start && a <= ix->bl[i].end)
				break;
		if (i == ix->nr_bl)
			return false;
		if (ix->bl[i].end >= b)
			return true;
		a = ix->bl[i].end + 1;
	}
	return false;
}

static unsigned problems;

static void report(void *ctx, const struct jrx_jindex_problem *p)
{
	(void)ctx;
	FZ_CHECK(p->kind == JRX_JIX_SEQ_MISSING ? p->seq <= p->seq_end :
		 p->seq == p->seq_end, "problem range");
	problems++;
}

static void check_index(const struct jrx_jindex *ix,
			const struct jrx_journal_scan *s, bool reported)
{
	uint64_t copies = 0, *seqs;

	if (!ix->max_seq) {
		FZ_CHECK(!ix->nr && !ix->newest, "no replay but an index");
		return;
	}
	FZ_CHECK(ix->nr >= 1 && ix->newest && ix->newest->seq == ix->max_seq &&
		 ix->last_seq <= ix->max_seq &&
		 ix->v[ix->nr - 1].seq == ix->max_seq, "the range's ends");
	FZ_CHECK(ix->max_seq > fa.sb.journal_seq, "max_seq below journal_seq");
	for (size_t i = 0; i < s->nr; i++)
		if (s->v[i].state == JRX_JSET_OK) {
			FZ_CHECK(s->v[i].seq <= ix->max_seq ||
				 s->v[i].seq <= fa.sb.journal_seq,
				 "a newer valid jset than max_seq");
			copies += s->v[i].seq >= ix->last_seq &&
				s->v[i].seq <= ix->max_seq;
		}
	FZ_CHECK(copies == ix->copies, "copies of the range");
	for (size_t i = 0; i < ix->nr; i++) {
		const struct jrx_jindex_ent *e = &ix->v[i];
		uint64_t from = i ? ix->v[i - 1].seq + 1 : ix->last_seq;

		FZ_CHECK(e->j && e->j->seq == e->seq && e->copies >= 1,
			 "an entry without its jset");
		FZ_CHECK(e->seq >= ix->last_seq && e->seq <= ix->max_seq,
			 "an entry outside the range");
		FZ_CHECK(!i || ix->v[i - 1].seq < e->seq, "entries out of order");
		FZ_CHECK(e->blacklisted == in_bl(ix, e->seq), "blacklisted flag");
		if (!reported && from < e->seq)
			FZ_CHECK(covered(ix, from, e->seq - 1),
				 "a missing seq that is not blacklisted");
	}
	if (!reported)
		FZ_CHECK(!ix->missing, "missing seqs without a report");
	if (!jrx_jindex_seqs(ix, &seqs)) {
		for (size_t i = 0; i < ix->nr; i++)
			FZ_CHECK(seqs[i] == ix->v[i].seq, "jrx_jindex_seqs");
		free(seqs);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };
	uint8_t flags = fz_u8(&in);
	uint8_t uuid[16] = { 0 };
	struct bucket bk[MAX_BUCKETS];
	struct jrx_journal_scan s = { .mode = JRX_SCAN_SEQUENTIAL };
	struct jrx_jindex ix;
	size_t nb = 0, bsize = JRX_BLOCK_SIZE;
	unsigned nbl;
	bool reported;
	int ret = 0;

	fz_take(&in, uuid, 8);
	memset(&fa.sb, 0, sizeof(fa.sb));
	fa.jset_magic = jrx_jset_magic(uuid);
	fa.sb.journal_seq = fz_u8(&in);
	fa.sb.nr_blacklist = fz_u8(&in);
	nbl = fa.sb.nr_blacklist & 3;
	for (unsigned i = 0; i < nbl; i++) {
		fa.sb.blacklist[i].start = fz_u8(&in);
		fa.sb.blacklist[i].end = fz_u8(&in);
	}
	/* cut the buckets; the bucket size is the largest, whole blocks */
	while (in.n && nb < MAX_BUCKETS) {
		struct bucket *b = &bk[nb];

		*b = (struct bucket){ .ctl = fz_u8(&in) };
		b->dev = b->ctl & 3;
		if ((b->ctl & CTL_REPLICA) && nb) {
			b->p = bk[nb - 1].p;
			b->len = bk[nb - 1].len;
			b->ctl = (uint8_t)((b->ctl & ~CTL_SEQ) |
					   (bk[nb - 1].ctl & CTL_SEQ));
			b->seq = bk[nb - 1].seq;
			b->lag = bk[nb - 1].lag;
		} else {
			if (b->ctl & CTL_SEQ) {
				b->seq = fz_u8(&in);
				b->lag = fz_u8(&in);
			}
			b->len = fz_u16(&in);
			b->p = in.p;
			b->len = b->len < in.n ? b->len : in.n;
			in.p += b->len;
			in.n -= b->len;
		}
		if (fz_round_up(b->len, JRX_BLOCK_SIZE) > bsize)
			bsize = fz_round_up(b->len, JRX_BLOCK_SIZE);
		nb++;
	}
	fa.sb.bucket_size = (uint32_t)bsize;
	for (size_t i = 0; i < nb && !ret; i++) {
		struct bucket *b = &bk[i];
		bool kept;

		b->buf = calloc(1, bsize);	/* exactly a bucket, for ASan */
		if (!b->buf) {
			ret = -ENOMEM;
			break;
		}
		if (b->len)
			memcpy(b->buf, b->p, b->len);
		fix_up(b->buf, bsize, flags, b);
		ret = jrx_jread_bucket(&fa, b->dev, i, (const char *)b->buf,
				       &s.v, &s.nr, &s.cap, &kept);
	}
	if (!ret) {
		reported = flags & FZ_REPORT;
		problems = 0;
		ret = jrx_jindex_build(&ix, &fa.sb, &s, reported ? report : NULL,
				       NULL);
		FZ_CHECK(ret == 0 || ret == -JRX_ERR_JOURNAL_REPLICAS_DIFFER ||
			 ret == -JRX_ERR_JOURNAL_SEQ_MISSING || ret == -ENOMEM,
			 "unexpected error value");
		FZ_CHECK(!reported || ret == 0 || ret == -ENOMEM,
			 "an error with a report callback");
		if (ret)
			FZ_CHECK(!ix.v && !ix.bl && !ix.nr, "a failed build kept memory");
		else
			check_index(&ix, &s, reported);
		jrx_jindex_free(&ix);
	}
	free(s.v);
	for (size_t i = 0; i < nb; i++)
		free(bk[i].buf);
	return 0;
}
