/*
 * spill_merge.c - the streaming merge of spilled runs (spill.h): one
 * buffered reader per run, a loser tree over their current records, and
 * the filter and dedup applied on the way out.
 *
 * A reader's buffer is a carry area (room for one record) followed by the
 * block-aligned area that reads land in: a record cut by the end of a
 * read is moved to just before the read area, so every record is
 * contiguous when it is compared.  Records are compared as they are on
 * the file (struct jrx_spill_frec, the seq its reader's seq0 plus dseq)
 * and made whole (struct jrx_spill_rec) when the dedup holds one back.
 *
 * Read-ahead: where io_uring or aio is allowed, each reader has two
 * buffers and keeps a read of its next area in flight in the other one
 * while its records in this one are merged, so the merge waits on the
 * disk only when it outruns it (without, one buffer and a pread when it
 * runs dry).  The reads go through a queue of the merge's (io/wq.h), which
 * belongs to the thread that opened the merge; every call on a merge
 * comes from there.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "spill_int.h"
#include "../format/bkey.h"
#include "../io/wq.h"
#include "../util/clock.h"
#include "../util/diag.h"

#define CARRY	((JRX_SPILL_MAX_REC + JRX_SPILL_ALIGN - 1) & ~(size_t)(JRX_SPILL_ALIGN - 1))

struct reader {
	char	*mem[2];		/* CARRY + area bytes each, aligned;
					   mem[1] only with read-ahead */
	unsigned cur;			/* the buffer p points into */
	size_t	 area;			/* bytes of a read area */
	uint64_t next;			/* file offset of the next read to issue */
	uint64_t filled;		/* file offset past the bytes in memory */
	uint64_t end;			/* file offset where the section ends */
	uint64_t left;			/* section bytes not yet consumed */
	const char *p;			/* current record (a frec) */
	size_t	 avail;			/* bytes from p that are in memory */
	uint64_t seq0;			/* its run's: seqs are seq0 + dseq */
	bool	 done;
	/* the read in flight into mem[!cur] */
	bool	 ahead, landed;
	int	 res;			/* its result, once landed */
	uint64_t ahead_off;
};

struct jrx_spill_merge {
	struct jrx_spill *sp;
	struct jrx_spill_filter f;
	size_t	 k;
	struct reader *rd;
	size_t	*tree;			/* loser tree: tree[0] the winner */
	/* dedup: the record held back, and the one handed out */
	uint64_t *held, *out;
	bool	 have_held;
	/* read-ahead (see the top): its queue, or NULL */
	struct jrx_wq *q;
	/* what it read and how long it was open: into sp->st at close, or,
	 * detached (opened at a mark, maybe on another thread), to the
	 * caller of jrx_spill_merge_end() */
	uint64_t bytes_read;
	bool	 detached;
	double	 t;
};

/* ---------------------------------------------------------------- readers */

static const struct jrx_bkey *frec_key(const struct jrx_spill_frec *f)
{
	return (const struct jrx_bkey *)(f + 1);
}

static size_t frec_bytes(const struct jrx_spill_frec *f)
{
	return sizeof(*f) + (size_t)f->u64s * 8u;
}

static size_t rd_want(const struct reader *r)
{
	uint64_t want = r->end - r->next;

	if (want > r->area)
		want = r->area;
	return (size_t)((want + JRX_SPILL_ALIGN - 1) &
			~(uint64_t)(JRX_SPILL_ALIGN - 1));
}

/* A read ahead has landed: its reader takes the result. */
static void rd_landed(void *ctx, int res)
{
	struct reader *r = ctx;

	r->res = res;
	r->landed = true;
}

/* Issue the read of r's next area into its other buffer. */
static int rd_issue(struct jrx_spill_merge *m, struct reader *r)
{
	size_t want = rd_want(r);
	int ret;

	r->ahead = true;
	r->landed = false;
	r->ahead_off = r->next;
	ret = jrx_wq_read_file(m->q, m->sp->fd, m->sp->path,
			       r->mem[!r->cur] + CARRY, want, r->next,
			       rd_landed, r);
	if (!ret)
		ret = jrx_wq_submit(m->q);	/* in flight now */
	if (ret)
		return ret;
	r->next += want;
	if (r->next > r->end)
		r->next = r->end;
	return 0;
}

/* Wait for one read ahead to land (its reader marked); 0 or the first
 * error of the queue. */
static int reap_one(struct jrx_spill_merge *m)
{
	return jrx_wq_reap(m->q);
}

/* Bring n new bytes read at off in after r's carried bytes. */
static int rd_took(struct jrx_spill_merge *m, struct reader *r, ssize_t n,
		   uint64_t off)
{
	struct jrx_spill *sp = m->sp;

	if (n < 0)
		return jrx_fail((int)n, "reading the spill file in %s at offset %"
				PRIu64 ": %s", sp->path, off, strerror((int)-n));
	if ((uint64_t)n > r->end - off)
		n = (ssize_t)(r->end - off);
	if (!n)
		return jrx_fail(-EIO, "reading the spill file in %s at offset %"
				PRIu64 ": it ends early", sp->path, off);
	m->bytes_read += (uint64_t)n;
	r->avail += (size_t)n;
	r->filled = off + (uint64_t)n;
	return 0;
}

/* More bytes after r->p: the read ahead (waited for), or a pread. */
static int rd_fill(struct jrx_spill_merge *m, struct reader *r)
{
	struct jrx_spill *sp = m->sp;
	unsigned to = m->q ? !r->cur : r->cur;
	char *area = r->mem[to] + CARRY;
	uint64_t off = 0;
	ssize_t n = 0;
	int ret;

	if (m->q) {
		if (!r->ahead && (ret = rd_issue(m, r)))
			return ret;
		while (!r->landed)
			if ((ret = reap_one(m)))
				return ret;
		r->ahead = false;
		n = r->res;
		off = r->ahead_off;
		/* a short read: the next one starts where it stopped */
		if (n >= 0 && off + (uint64_t)n < r->next)
			r->next = off + (uint64_t)n;
	}
	/* the record cut by the end of the last read goes before the new
	 * bytes (in the other buffer, or moved down in this one first) */
	if (r->avail)
		memmove(area - r->avail, r->p, r->avail);
	r->p = area - r->avail;
	r->cur = to;
	if (!m->q) {
		off = r->next;
		do
			n = pread(sp->fd, area, rd_want(r), (off_t)off);
		while (n < 0 && errno == EINTR);
		if (n < 0)
			n = -errno;
		else
			r->next = (uint64_t)n > r->end - off ? r->end :
				off + (uint64_t)n;
	}
	ret = rd_took(m, r, n, off);
	/* the buffer left behind takes the next area meanwhile */
	if (!ret && m->q && r->next < r->end)
		ret = rd_issue(m, r);
	return ret;
}

/* Make the record at r->p whole in memory, or mark the reader done. */
static int rd_ready(struct jrx_spill_merge *m, struct reader *r)
{
	struct jrx_spill *sp = m->sp;
	const struct jrx_spill_frec *h;
	int ret;

	if (!r->left) {
		r->done = true;
		return 0;
	}
	if (r->avail < sizeof(*h) && (ret = rd_fill(m, r)))
		return ret;
	h = (const struct jrx_spill_frec *)r->p;
	if (h->u64s < JRX_BKEY_U64S || h->u64s > JRX_KEY_MAX_U64S ||
	    frec_bytes(h) > r->left)
		return jrx_fail(-EIO, "the spill file in %s: a record of %u"
				" words where %" PRIu64 " bytes are left: the"
				" file was changed", sp->path, h->u64s, r->left);
	if (r->avail < frec_bytes(h)) {
		if ((ret = rd_fill(m, r)))
			return ret;
		h = (const struct jrx_spill_frec *)r->p;
		if (r->avail < frec_bytes(h))
			return jrx_fail(-EIO, "the spill file in %s ends inside"
					" a record", sp->path);
	}
	if (frec_key(h)->u64s != h->u64s)
		return jrx_fail(-EIO, "the spill file in %s: a record of %u"
				" words holds a key of %u: the file was changed",
				sp->path, h->u64s, frec_key(h)->u64s);
	return 0;
}

static int rd_advance(struct jrx_spill_merge *m, struct reader *r)
{
	size_t n = frec_bytes((const struct jrx_spill_frec *)r->p);

	r->p += n;
	r->avail -= n;
	r->left -= n;
	return rd_ready(m, r);
}

/* A reader of [start, end) of the file, left bytes of records. */
static int rd_open_at(struct jrx_spill_merge *m, struct reader *r,
		      uint64_t start, uint64_t left, uint64_t end, size_t area,
		      uint64_t seq0)
{
	uint64_t aligned = start & ~(uint64_t)(JRX_SPILL_ALIGN - 1);
	unsigned nbuf = m->q ? 2 : 1;
	int ret;

	memset(r, 0, sizeof(*r));
	for (unsigned i = 0; i < nbuf; i++) {
		void *mem;

		if (posix_memalign(&mem, JRX_SPILL_ALIGN, CARRY + area))
			return jrx_fail(-ENOMEM, "allocating a spill reader's"
					" buffers: %u of %zu bytes", nbuf,
					CARRY + area);
		r->mem[i] = mem;
	}
	r->area = area;
	r->seq0 = seq0;
	r->left = left;
	r->next = aligned;
	r->end = end;
	if (!r->left) {
		r->done = true;
		return 0;
	}
	ret = rd_fill(m, r);
	if (ret)
		return ret;
	/* skip what the aligned read brought from before the start */
	r->p += start - aligned;
	r->avail -= (size_t)(start - aligned);
	return rd_ready(m, r);
}

static int rd_open(struct jrx_spill_merge *m, struct reader *r,
		   const struct jrx_spill_run *run, enum jrx_spill_section s,
		   size_t area)
{
	return rd_open_at(m, r, run->off + run->sect[s],
			  run->sect[s + 1] - run->sect[s],
			  run->off + run->sect[s + 1], area, run->seq0);
}

/* ---------------------------------------------------------------- order */

/*
 * Journal order: level descending, btree id, position, seq.  (Then the
 * offset in the jset: no two runs hold one seq, so keys of one seq and
 * position are in one run, which has them in that order.)
 */
static int rec_cmp(const struct reader *x, const struct reader *y)
{
	const struct jrx_spill_frec *a = (const void *)x->p, *b = (const void *)y->p;
	uint64_t sa, sb;
	int c;

	if (a->level != b->level)
		return a->level > b->level ? -1 : 1;
	if (a->btree_id != b->btree_id)
		return a->btree_id < b->btree_id ? -1 : 1;
	c = jrx_bpos_cmp(frec_key(a)->p, frec_key(b)->p);
	if (c)
		return c;
	sa = x->seq0 + a->dseq;
	sb = y->seq0 + b->dseq;
	return sa < sb ? -1 : sa > sb;
}

/* Does reader a's record come before b's?  A finished reader never does;
 * of equal records, the lower reader's goes first (its run's order). */
static bool before(const struct jrx_spill_merge *m, size_t a, size_t b)
{
	const struct reader *x = &m->rd[a], *y = &m->rd[b];
	int c;

	if (x->done || y->done)
		return !x->done;
	c = rec_cmp(x, y);
	return c < 0 || (c == 0 && a < b);
}

static int build_tree(struct jrx_spill_merge *m)
{
	size_t k = m->k, *win = malloc(2 * k * sizeof(*win));

	if (!win)
		return -ENOMEM;
	for (size_t i = 0; i < k; i++)
		win[k + i] = i;
	for (size_t n = k - 1; n >= 1; n--) {
		size_t a = win[2 * n], b = win[2 * n + 1];

		if (before(m, a, b)) {
			win[n] = a;
			m->tree[n] = b;
		} else {
			win[n] = b;
			m->tree[n] = a;
		}
	}
	m->tree[0] = win[1];
	free(win);
	return 0;
}

/* Reader i has moved on: play its new record up the tree. */
static void replay(struct jrx_spill_merge *m, size_t i)
{
	size_t w = i;

	for (size_t n = (i + m->k) / 2; n >= 1; n /= 2)
		if (before(m, m->tree[n], w)) {
			size_t t = m->tree[n];

			m->tree[n] = w;
			w = t;
		}
	m->tree[0] = w;
}

/* ---------------------------------------------------------------- merge */

static struct jrx_spill_merge *merge_new(struct jrx_spill *sp, size_t k,
					 const struct jrx_spill_filter *f,
					 bool detached);


int jrx_spill_merge_runs(struct jrx_spill_merge **mp, struct jrx_spill *sp,
			 size_t first, size_t n, enum jrx_spill_section s,
			 const struct jrx_spill_filter *f)
{
	struct jrx_spill_merge *m = merge_new(sp, n, f, false);
	int ret = 0;

	*mp = m;
	if (!m)
		return jrx_fail(-ENOMEM, "allocating a merge of %zu spilled runs",
				n);
	for (size_t i = 0; i < n && !ret; i++)
		ret = rd_open(m, &m->rd[i], &sp->run[first + i], s,
			      (sp->read_bytes + JRX_SPILL_ALIGN - 1) &
			      ~(size_t)(JRX_SPILL_ALIGN - 1));
	if (!ret)
		ret = build_tree(m);
	return ret;
}

/* A merge's shell for k readers, nothing opened. */
static struct jrx_spill_merge *merge_new(struct jrx_spill *sp, size_t k,
					 const struct jrx_spill_filter *f,
					 bool detached)
{
	struct jrx_spill_merge *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->t = jrx_now();
	m->sp = sp;
	m->f = *f;
	m->detached = detached;
	m->k = k ? k : 1;
	m->rd = calloc(m->k, sizeof(*m->rd));
	m->tree = calloc(m->k, sizeof(*m->tree));
	m->held = malloc(JRX_SPILL_MAX_REC);
	m->out = malloc(JRX_SPILL_MAX_REC);
	if (m->rd && !k)
		m->rd[0].done = true;
	/* a read in flight a reader (io_uring, aio or the queue's helpers);
	 * no queue: one buffer each */
	if (k && jrx_wq_open(&m->q, (unsigned)m->k, JRX_IO_AUTO)) {
		m->q = NULL;
		jrx_diag_clear();
	}
	if (k && !detached)
		sp->st.read_ahead = m->q != NULL;
	if (m->rd && m->tree && m->held && m->out)
		return m;
	jrx_spill_merge_close(m);
	return NULL;
}

int jrx_spill_merge_mark(const struct jrx_spill_merge *m,
			 struct jrx_spill_mark *mk)
{
	memset(mk, 0, sizeof(*mk));
	mk->k = m->k;
	mk->f = m->f;
	mk->at = malloc(m->k * sizeof(*mk->at));
	mk->left = malloc(m->k * sizeof(*mk->left));
	mk->end = malloc(m->k * sizeof(*mk->end));
	mk->seq0 = malloc(m->k * sizeof(*mk->seq0));
	if (m->have_held)
		mk->held = malloc(jrx_spill_rec_bytes((const void *)m->held));
	if (!mk->at || !mk->left || !mk->end || !mk->seq0 ||
	    (m->have_held && !mk->held)) {
		jrx_spill_mark_free(mk);
		return jrx_fail(-ENOMEM, "allocating a mark of a merge of %zu"
				" runs", m->k);
	}
	for (size_t i = 0; i < m->k; i++) {
		const struct reader *r = &m->rd[i];

		/* its current record is at filled - avail */
		mk->at[i] = r->done ? UINT64_MAX : r->filled - r->avail;
		mk->left[i] = r->left;
		mk->end[i] = r->end;
		mk->seq0[i] = r->seq0;
	}
	if (mk->held)
		memcpy(mk->held, m->held,
		       jrx_spill_rec_bytes((const void *)m->held));
	return 0;
}

void jrx_spill_mark_free(struct jrx_spill_mark *mk)
{
	free(mk->at);
	free(mk->left);
	free(mk->end);
	free(mk->seq0);
	free(mk->held);
	memset(mk, 0, sizeof(*mk));
}

int jrx_spill_merge_open_mark(struct jrx_spill_merge **out,
			      struct jrx_spill *sp,
			      const struct jrx_spill_mark *mk, size_t read_bytes)
{
	struct jrx_spill_merge *c = merge_new(sp, mk->k, &mk->f, true);
	size_t area = (read_bytes + JRX_SPILL_ALIGN - 1) &
		~(size_t)(JRX_SPILL_ALIGN - 1);
	int ret = 0;

	*out = c;
	if (!c)
		return jrx_fail(-ENOMEM, "allocating a merge at a mark");
	for (size_t i = 0; i < mk->k && !ret; i++) {
		if (mk->at[i] == UINT64_MAX)
			c->rd[i].done = true;
		else
			ret = rd_open_at(c, &c->rd[i], mk->at[i], mk->left[i],
					 mk->end[i], area, mk->seq0[i]);
	}
	if (mk->held) {
		memcpy(c->held, mk->held,
		       jrx_spill_rec_bytes((const void *)mk->held));
		c->have_held = true;
	}
	if (!ret)
		ret = build_tree(c);
	return ret;
}

int jrx_spill_merge_open(struct jrx_spill_merge **m, struct jrx_spill *sp,
			 enum jrx_spill_section s,
			 const struct jrx_spill_filter *f)
{
	return jrx_spill_merge_runs(m, sp, 0, sp->nr_runs, s, f);
}

static bool keep_seq(const struct jrx_spill_filter *f, uint64_t seq)
{
	if (seq < f->first || seq > f->last)
		return false;
	for (size_t i = 0; i < f->nr_bl; i++)
		if (seq >= f->bl[i].start && seq <= f->bl[i].end)
			return false;
	return true;
}

/* Same level, btree and position: one slot of the dedup. */
static bool same_slot(const struct jrx_spill_rec *a, const struct jrx_spill_frec *b)
{
	return a->level == b->level && a->btree_id == b->btree_id &&
		jrx_bpos_eq(jrx_spill_key(a)->p, frec_key(b)->p);
}

/* Make reader r's current record whole in buf. */
static void take(void *buf, const struct reader *r)
{
	const struct jrx_spill_frec *f = (const void *)r->p;
	struct jrx_spill_rec *h = buf;

	*h = (struct jrx_spill_rec){
		.seq = r->seq0 + f->dseq, .level = f->level,
		.btree_id = f->btree_id, .u64s = f->u64s,
	};
	memcpy(h + 1, f + 1, (size_t)f->u64s * 8u);
}

int jrx_spill_merge_next(struct jrx_spill_merge *m,
			 const struct jrx_spill_rec **out)
{
	for (;;) {
		size_t w = m->tree[0];
		struct reader *r = &m->rd[w];
		const struct jrx_spill_rec *h = (const void *)m->held;
		const struct jrx_spill_frec *c;
		void *t;
		int ret;

		if (r->done) {
			if (!m->have_held)
				return 0;
			/* the last one */
			t = m->out;
			m->out = m->held;
			m->held = t;
			m->have_held = false;
			*out = (const void *)m->out;
			return 1;
		}
		c = (const void *)r->p;
		if (!keep_seq(&m->f, r->seq0 + c->dseq)) {
			if ((ret = rd_advance(m, r)))
				return ret;
			replay(m, w);
			continue;
		}
		/* the same slot again: newer, it replaces the held one; but
		 * accounting deltas all count (each record is one, spill.h) */
		if (m->have_held && same_slot(h, c) &&
		    (c->level || c->btree_id != JRX_BTREE_ACCOUNTING)) {
			take(m->held, r);
			if ((ret = rd_advance(m, r)))
				return ret;
			replay(m, w);
			continue;
		}
		/* c starts a new slot (or is another delta): hand out the held */
		t = m->out;
		m->out = m->held;
		m->held = t;
		take(m->held, r);
		if ((ret = rd_advance(m, r)))
			return ret;
		replay(m, w);
		if (m->have_held) {
			*out = (const void *)m->out;
			return 1;
		}
		m->have_held = true;
	}
}

static void merge_free(struct jrx_spill_merge *m)
{
	if (m->q) {
		/* the kernel may still write into the buffers */
		jrx_wq_drain(m->q);
		if (jrx_wq_inflight(m->q))	/* waiting failed: keep them */
			return;
		jrx_wq_close(m->q);
	}
	for (size_t i = 0; m->rd && i < m->k; i++) {
		free(m->rd[i].mem[0]);
		free(m->rd[i].mem[1]);
	}
	free(m->rd);
	free(m->tree);
	free(m->held);
	free(m->out);
	free(m);
}

void jrx_spill_merge_close(struct jrx_spill_merge *m)
{
	if (!m)
		return;
	if (!m->detached) {
		m->sp->st.merge_seconds += jrx_now() - m->t;
		m->sp->st.bytes_read += m->bytes_read;
	}
	merge_free(m);
}

void jrx_spill_merge_end(struct jrx_spill_merge *m, uint64_t *bytes_read,
			 double *seconds)
{
	if (!m)
		return;
	*bytes_read += m->bytes_read;
	*seconds += jrx_now() - m->t;
	merge_free(m);
}
