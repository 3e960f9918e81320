/*
 * jscan.c - the parallel journal reader (jscan.h): ring bisection, the
 * live-range and full-scan bucket reads through the read engine, and the
 * assembly of the per-bucket results in device, bucket order.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <xxhash.h>
#include "jscan.h"
#include "jrx/errors.h"
#include "../util/diag.h"
#include "../util/pool.h"
#include "../util/vec.h"
#include "../util/checked.h"
#include "../format/jset.h"
#include "../format/sb.h"

#define PROBE_BYTES 4096u

/* probe cache values besides a seq */
#define P_UNKNOWN (-1)
#define P_EMPTY	  (-2)		/* wrong magic: nothing written */
#define P_UNDEC	  (-3)		/* magic right, header wrong */

/* One whole-bucket read and what its parser found. */
struct bread {
	uint32_t dev;
	uint64_t bucket;
	char	*buf;
	struct jrx_jset_info *v;	/* owned by this read until assembly */
	size_t	 nr, cap;
	bool	 kept;
};

/* Per device: its ring as the bisection sees it. */
struct dstate {
	uint32_t nr;		/* journal buckets */
	uint64_t first;		/* first journal bucket */
	int64_t	*seq;		/* probe cache: first seq of ring bucket i */
	uint32_t cur;		/* ring index being filled at the crash */
	uint32_t L;		/* buckets of the last write session */
	bool	 wrapped;	/* the session went round the ring */
	uint32_t read_from;	/* unrolled: [read_from, L) read whole */
	bool	 found;		/* a valid jset of the session was read */
};

struct scan {
	const struct jrx_array *a;
	struct jrx_io_engine *io;
	struct jrx_journal_scan *s;
	struct dstate d[JRX_MAX_DEVICES];
	struct bread *reads;
	size_t	 nr_reads, cap_reads;
	uint64_t jseq;		/* the superblock's journal_seq */
	bool	 full;		/* bisect gave up */
	const struct jrx_jscan_sink *sink;	/* NULL: keep every bucket */
	bool	 early;		/* a sunk read: compact copies at parse */
	bool	 hash;		/* replicas: each jset hashed at parse */
};

static int undecided(struct scan *sc, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Give up on bisecting: a full scan follows. */
static int undecided(struct scan *sc, const char *fmt, ...)
{
	va_list ap;

	if (!sc->full) {
		va_start(ap, fmt);
		vsnprintf(sc->s->why_full, sizeof(sc->s->why_full), fmt, ap);
		va_end(ap);
	}
	sc->full = true;
	return 0;
}

/* Ring index of the u-th bucket of the session, oldest first. */
static uint32_t unroll(const struct dstate *ds, uint32_t u)
{
	return ds->wrapped ? (ds->cur + 1 + u) % ds->nr : u;
}

/* ---------------------------------------------------------------- reads */

/* A list of n (device, ring index) pairs to read; -ENOMEM or 0. */
static int alloc_list(size_t n, uint32_t **dev, uint32_t **idx)
{
	*dev = calloc(n + 1, sizeof(**dev));
	*idx = calloc(n + 1, sizeof(**idx));
	if (*dev && *idx)
		return 0;
	free(*dev);
	free(*idx);
	return jrx_fail(-ENOMEM, "allocating the list of %zu journal buckets"
			" to read", n);
}

/* xxh3 of the jset's bytes (header and entries, as the index would
 * compare them byte for byte), set in info. */
static void hash_jset(struct jrx_jset_info *info)
{
	const struct jrx_jset *j = info->j;

	info->hash = XXH3_64bits(j, sizeof(*j) + (size_t)j->u64s * 8u);
	info->hashed = true;
}

/*
 * The jset's compact copy (jlist.h): the header and its entries that are
 * not keys, and the hash of the whole jset.
 */
static int make_copy(struct jrx_jset_info *info)
{
	const struct jrx_jset *j = info->j;
	const struct jrx_jset_entry *e;
	struct jrx_jset *c;
	size_t u64s = 0;
	char *p;

	jrx_for_each_jset_entry(e, j)
		if (e->type != JRX_JE_BTREE_KEYS)
			u64s += 1u + e->u64s;
	c = malloc(sizeof(*c) + u64s * 8u);
	if (!c)
		return jrx_fail(-ENOMEM, "allocating a compact jset");
	*c = *j;
	c->u64s = (uint32_t)u64s;
	p = (char *)(c + 1);
	jrx_for_each_jset_entry(e, j)
		if (e->type != JRX_JE_BTREE_KEYS) {
			memcpy(p, e, 8u + e->u64s * 8u);
			p += 8u + e->u64s * 8u;
		}
	hash_jset(info);
	info->cc = c;
	return 0;
}

static int bucket_done(void *ctx, struct jrx_io_req *req)
{
	const struct scan *sc = ctx;
	struct bread *b = req->priv;
	size_t from = b->nr;
	int ret = jrx_jread_bucket(sc->a, b->dev, b->bucket, b->buf, &b->v,
				   &b->nr, &b->cap, &b->kept);

	/*
	 * Here the bytes were just checked and are still in the cache: a
	 * sunk read makes its compact copies (walking a jset's entries when
	 * its batch is spilled missed on every key), and a replicated
	 * journal its hashes (the index compares those, not the bytes).
	 */
	for (size_t i = from; !ret && (sc->early || sc->hash) && i < b->nr; i++)
		if (b->v[i].state != JRX_JSET_OK)
			continue;
		else if (sc->early)
			ret = make_copy(&b->v[i]);
		else
			hash_jset(&b->v[i]);
	/* a kept read: the sink's parsed hook sees the jsets, still cached */
	if (!ret && !sc->early && sc->sink && sc->sink->parsed && b->nr > from)
		sc->sink->parsed(sc->sink->parsed_ctx, b->v + from, b->nr - from);
	return ret;
}

/* The jset becomes its compact copy (made early, or now), kept in s. */
static int compact(struct jrx_journal_scan *s, struct jrx_jset_info *info)
{
	int ret = JRX_VEC_RESERVE(s->copies, s->nr_copies, s->cap_copies, 1,
				  "compact jsets");

	if (!ret && !info->cc)
		ret = make_copy(info);
	if (ret)
		return ret;
	s->copies[s->nr_copies++] = info->cc;
	info->j = info->cc;
	info->cc = NULL;
	info->compact = true;
	return 0;
}

/*
 * A batch's way through the sink: take (fn, the first stage: the batch's
 * valid jsets, read only) and finish (fn2, the second stage, if the sink
 * has one; then the jsets become compact copies).
 */
struct stage {
	bool	 on;
	size_t	 base, n;		/* the batch's reads */
	unsigned slot;			/* the sink's, for fn and fn2 */
	bool	 called;		/* fn saw jsets */
	size_t	 done;			/* buckets read once it is finished */
	int	 ret;
	char	 msg[512];		/* its thread's jrx_diag() */
};

static int sink_take(struct scan *sc, struct stage *g)
{
	const struct jrx_jset_info **v = NULL;
	size_t nr = 0, cap = 0;
	int ret = 0;

	g->called = false;
	for (size_t r = g->base; r < g->base + g->n && !ret; r++)
		for (size_t i = 0; i < sc->reads[r].nr && !ret; i++) {
			const struct jrx_jset_info *x = &sc->reads[r].v[i];

			if (x->state != JRX_JSET_OK || !x->j || x->compact)
				continue;
			ret = JRX_VEC_RESERVE(v, nr, cap, 1, "jsets of a batch");
			if (!ret)
				v[nr++] = x;
		}
	if (!ret && nr) {
		g->called = true;
		ret = sc->sink->fn(sc->sink->ctx, g->slot, v, nr);
	}
	free(v);
	return ret;
}

static int sink_finish(struct scan *sc, struct stage *g)
{
	int ret = 0;

	if (g->called && sc->sink->fn2)
		ret = sc->sink->fn2(sc->sink->ctx, g->slot);
	sc->s->batches++;
	for (size_t r = g->base; r < g->base + g->n && !ret; r++) {
		for (size_t i = 0; i < sc->reads[r].nr && !ret; i++) {
			struct jrx_jset_info *x = &sc->reads[r].v[i];

			if (x->state == JRX_JSET_OK && x->j && !x->compact)
				ret = compact(sc->s, x);
		}
		sc->reads[r].kept = false;
	}
	return ret;
}

/* Both stages of reads [base, base + n), here and now. */
static int sink_batch(struct scan *sc, size_t base, size_t n)
{
	struct stage g = { .on = true, .base = base, .n = n };
	int ret = sink_take(sc, &g);

	return ret ? ret : sink_finish(sc, &g);
}

/*
 * One step of a sunk read, on the sink's pool: worker 0 takes the newest
 * batch; the oldest is finished by worker 1 meanwhile (a sink with two
 * stages), or by worker 0 after its take (one stage: the same batch).
 */
struct sinkjob {
	struct scan	*sc;
	unsigned	 workers;
	struct stage	 take, fin;
};

static void stage_run(struct scan *sc, struct stage *g, bool finish)
{
	if (!g->on || g->ret)
		return;
	g->ret = finish ? sink_finish(sc, g) : sink_take(sc, g);
	if (g->ret)
		snprintf(g->msg, sizeof(g->msg), "%s", jrx_diag());
}

static void sink_phase(void *arg, unsigned id)
{
	struct sinkjob *j = arg;

	if (id == 0) {
		stage_run(j->sc, &j->take, false);
		if (j->workers == 1) {
			j->fin.ret = j->take.ret;
			stage_run(j->sc, &j->fin, true);
		}
	} else {
		stage_run(j->sc, &j->fin, true);
	}
}

/* The end of a step, on the reading thread: its first error (with its
 * context here), or the progress of the batch it finished. */
static int sink_end(struct scan *sc, struct sinkjob *j, size_t total)
{
	if (j->take.on && j->take.ret)
		return jrx_fail(j->take.ret, "%s", j->take.msg);
	if (j->fin.on && j->fin.ret)
		return jrx_fail(j->fin.ret, "%s", j->fin.msg);
	if (j->fin.on && sc->sink->progress)
		sc->sink->progress(sc->sink->ctx, j->fin.done, total);
	return 0;
}

/* Run a step on the pool (busy: wait for it later), or here. */
static int sink_step(struct scan *sc, struct jrx_pool *pool,
		     struct sinkjob *j, bool *busy, size_t total)
{
	if (pool && jrx_pool_begin(pool, sink_phase, j)) {
		*busy = true;
		return 0;
	}
	for (unsigned id = 0; id < j->workers; id++)
		sink_phase(j, id);
	return sink_end(sc, j, total);
}

/*
 * Read the buckets (dev[i], ring index idx[i]) whole.  Without a sink, or
 * for a read of at most its threshold, all at once into a new arena kept
 * in s, their parsed jsets going to sc->reads.  Otherwise through an arena
 * of batch_bytes that is not kept, in slots: while the sink takes the
 * batch in one slot on a thread of its own (a pool, util/pool.h), the
 * next batch is read into another; a sink with two stages finishes the
 * batch before meanwhile, on a second thread, in a third slot.  Each
 * batch goes to the sink once it is parsed; once finished, its jsets are
 * compact copies.
 *
 * Owners during a sunk read: the sink's threads have the batches they
 * take and finish (their slots of the arena and their reads' entries;
 * the finishing one s->copies and s->batches) from jrx_pool_begin() to
 * jrx_pool_wait(); this thread has the other slot, the reads after it
 * (sc->reads is reserved for all n first, so it never moves),
 * s->bytes_read and s->buckets_read.
 */
static int read_buckets(struct scan *sc, const uint32_t *dev,
			const uint32_t *idx, size_t n, bool fixed)
{
	uint64_t bsize = sc->a->sb.bucket_size;
	bool sunk = sc->sink && (uint64_t)n * bsize > sc->sink->threshold;
	unsigned stages = sunk && sc->sink->fn2 ? 2 : 1;
	size_t slots = sunk ? stages + 1 : 1;
	size_t per = sunk ? sc->sink->batch_bytes / slots / bsize : n, len;
	struct jrx_pool *pool = NULL;
	struct sinkjob job = { .sc = sc, .workers = stages };
	struct jrx_io_req *reqs;
	bool busy = false;	/* the sink's threads have job */
	char *arena;
	int ret;

	if (!n)
		return 0;
	if (!per)
		per = 1;
	if (per > n)
		per = n;
	/* per journal buckets of a validated member: they fit its device */
	if (!jrx_mul_size(per, bsize, &len))
		return jrx_fail(-ENOMEM, "allocating %zu journal buckets of %"
				PRIu64 " bytes to read: the size overflows", per,
				bsize);
	ret = JRX_VEC_RESERVE(sc->reads, sc->nr_reads, sc->cap_reads, n,
			      "list of journal bucket reads");
	if (ret)
		return ret;
	reqs = calloc(per, sizeof(*reqs));
	arena = jrx_io_arena(len * slots);
	if (!reqs || !arena) {
		free(reqs);
		jrx_io_arena_free(arena, len * slots);
		return jrx_fail(-ENOMEM, "allocating %zu journal buckets to read:"
				" %zu bytes", per * slots, len * slots);
	}
	/* no threads for the sink: it runs here, between the reads */
	if (sunk && jrx_pool_start(&pool, &(struct jrx_pool_opts){
		.workers = stages, .name = "journal sink" })) {
		pool = NULL;
		jrx_diag_clear();
	}
	if (!sunk && (ret = jrx_journal_scan_keep(sc->s, arena, len))) {
		free(reqs);
		return ret;
	}
	if (fixed)
		jrx_io_set_arena(sc->io, arena, len * slots);
	for (size_t at = 0, k = 0; at < n && !ret; at += per, k++) {
		size_t m = n - at < per ? n - at : per, base = sc->nr_reads;
		char *slot = arena + (k % slots) * len;

		for (size_t i = 0; i < m; i++) {
			const struct dstate *ds = &sc->d[dev[at + i]];
			struct bread *b = &sc->reads[base + i];

			*b = (struct bread){
				.dev = dev[at + i], .bucket = ds->first + idx[at + i],
				.buf = slot + i * bsize,
			};
			reqs[i] = (struct jrx_io_req){
				.dev = b->dev, .len = (uint32_t)bsize,
				.off = jrx_bucket_offset(&sc->a->sb, b->bucket),
				.buf = b->buf, .priv = b,
			};
		}
		sc->nr_reads += m;
		sc->early = sunk;
		ret = jrx_io_read(sc->io, reqs, m, bucket_done, sc);
		sc->early = false;
		sc->s->bytes_read += m * bsize;
		sc->s->buckets_read += m;
		if (busy) {	/* the step before: its finished slot is free */
			jrx_pool_wait(pool);
			busy = false;
			if (!ret)
				ret = sink_end(sc, &job, n);
		}
		if (!ret && sunk) {
			struct stage g = { .on = true, .base = base, .n = m,
					   .slot = (unsigned)(k % 2),
					   .done = at + m };

			/* two stages: the batch taken last is finished now */
			job.fin = stages == 2 ? job.take : g;
			job.fin.ret = 0;
			job.take = g;
			ret = sink_step(sc, pool, &job, &busy, n);
		}
		/* kept: buckets with nothing valid need no memory */
		for (size_t i = 0; !ret && !sunk && i < m; i++)
			if (!sc->reads[base + i].kept)
				(void)madvise(sc->reads[base + i].buf, bsize,
					      MADV_DONTNEED);
	}
	if (busy) {
		jrx_pool_wait(pool);
		busy = false;
		if (!ret)
			ret = sink_end(sc, &job, n);
	}
	/* two stages: the last batch taken is finished */
	if (!ret && stages == 2 && job.take.on) {
		job.fin = job.take;
		job.take.on = false;
		ret = sink_step(sc, pool, &job, &busy, n);
		if (busy) {
			jrx_pool_wait(pool);
			ret = sink_end(sc, &job, n);
		}
	}
	jrx_pool_stop(pool);
	if (fixed)
		jrx_io_set_arena(sc->io, NULL, 0);
	free(reqs);
	if (sunk)
		jrx_io_arena_free(arena, len * slots);
	return ret;
}

/* ---------------------------------------------------------------- probes */

static int64_t probe_parse(const struct jrx_array *a, const void *blk)
{
	const struct jrx_jset *j = blk;

	if (j->magic != a->jset_magic)
		return P_EMPTY;
	if (j->version != JRX_FORMAT_VERSION || !j->seq || j->last_seq > j->seq ||
	    jrx_jset_disk_bytes(j->u64s) > a->sb.bucket_size ||
	    j->seq > INT64_MAX)
		return P_UNDEC;
	return (int64_t)j->seq;
}

struct probe {
	uint32_t dev, idx;
};

static int probe_done(void *ctx, struct jrx_io_req *req)
{
	struct scan *sc = ctx;
	const struct probe *p = req->priv;

	/* one request per (dev, idx): no two workers write one slot */
	sc->d[p->dev].seq[p->idx] = probe_parse(sc->a, req->buf);
	return 0;
}

/* Read the first block of the listed buckets not probed yet. */
static int probe(struct scan *sc, struct probe *p, size_t n)
{
	struct jrx_io_req reqs[JRX_MAX_DEVICES * 2];
	struct probe todo[JRX_MAX_DEVICES * 2];
	size_t m = 0;
	char *blocks;
	int ret;

	for (size_t i = 0; i < n && m < JRX_MAX_DEVICES * 2; i++)
		if (sc->d[p[i].dev].seq[p[i].idx] == P_UNKNOWN)
			todo[m++] = p[i];
	if (!m)
		return 0;
	blocks = jrx_io_arena((size_t)m * PROBE_BYTES);
	if (!blocks)
		return jrx_fail(-ENOMEM, "allocating %zu journal probe blocks:"
				" %zu bytes", m, (size_t)m * PROBE_BYTES);
	for (size_t i = 0; i < m; i++) {
		const struct dstate *ds = &sc->d[todo[i].dev];

		reqs[i] = (struct jrx_io_req){
			.dev = todo[i].dev, .len = PROBE_BYTES,
			.off = jrx_bucket_offset(&sc->a->sb, ds->first + todo[i].idx),
			.buf = blocks + i * PROBE_BYTES, .priv = &todo[i],
		};
	}
	ret = jrx_io_read(sc->io, reqs, m, probe_done, sc);
	jrx_io_arena_free(blocks, (size_t)m * PROBE_BYTES);
	sc->s->probes += m;
	sc->s->bytes_read += (uint64_t)m * PROBE_BYTES;
	return ret;
}

/* ---------------------------------------------------------------- bisection */

/* R(i): ring bucket i was written in the last session's current cycle. */
static bool in_cycle(const struct scan *sc, const struct dstate *ds, uint32_t i)
{
	int64_t s = ds->seq[i];

	return s > 0 && (uint64_t)s > sc->jseq && s >= ds->seq[0];
}

/*
 * Step 1: per device, the last ring bucket of the current cycle (cur) and
 * whether the session wrapped.  All devices bisect in lockstep so every
 * round is one batch of reads.
 */
static int find_current(struct scan *sc)
{
	unsigned nd = sc->a->nr_devs;
	uint32_t lo[JRX_MAX_DEVICES], hi[JRX_MAX_DEVICES];
	struct probe p[JRX_MAX_DEVICES];
	bool more;
	int ret;

	for (unsigned d = 0; d < nd; d++)
		p[d] = (struct probe){ d, 0 };
	ret = probe(sc, p, nd);
	if (ret)
		return ret;
	for (unsigned d = 0; d < nd; d++) {
		struct dstate *ds = &sc->d[d];
		int64_t s0 = ds->seq[0];

		lo[d] = 0;
		hi[d] = 0;		/* nothing to bisect */
		if (s0 == P_UNDEC)
			return undecided(sc, "%s: bucket %" PRIu64 ": jset header"
					 " with bad fields", sc->a->devs[d].path,
					 ds->first);
		if (s0 > 0 && (uint64_t)s0 > sc->jseq)
			hi[d] = ds->nr;
	}
	do {
		size_t n = 0;

		more = false;
		for (unsigned d = 0; d < nd; d++)
			if (hi[d] - lo[d] > 1)
				p[n++] = (struct probe){ d, lo[d] + (hi[d] - lo[d]) / 2 };
		if (!n)
			break;
		ret = probe(sc, p, n);
		if (ret)
			return ret;
		for (size_t k = 0; k < n; k++) {
			unsigned d = p[k].dev;
			uint32_t mid = p[k].idx;

			if (sc->d[d].seq[mid] == P_UNDEC)
				return undecided(sc, "%s: bucket %" PRIu64 ": jset"
						 " header with bad fields",
						 sc->a->devs[d].path,
						 sc->d[d].first + mid);
			if (in_cycle(sc, &sc->d[d], mid))
				lo[d] = mid;
			else
				hi[d] = mid;
			more = true;
		}
	} while (more);

	/* wrapped: the bucket after cur is from this session's last cycle */
	{
		size_t n = 0;

		for (unsigned d = 0; d < nd; d++)
			if (hi[d] && lo[d] + 1 < sc->d[d].nr)
				p[n++] = (struct probe){ d, lo[d] + 1 };
		ret = probe(sc, p, n);
		if (ret)
			return ret;
	}
	for (unsigned d = 0; d < nd; d++) {
		struct dstate *ds = &sc->d[d];

		if (!hi[d]) {
			ds->L = 0;	/* nothing of the session on d */
			continue;
		}
		ds->cur = lo[d];
		if (ds->cur + 1 < ds->nr) {
			int64_t s = ds->seq[ds->cur + 1];

			if (s == P_UNDEC)
				return undecided(sc, "%s: bucket %" PRIu64 ": jset"
						 " header with bad fields",
						 sc->a->devs[d].path,
						 ds->first + ds->cur + 1);
			ds->wrapped = s > 0 && (uint64_t)s > sc->jseq;
		}
		ds->L = ds->wrapped ? ds->nr : ds->cur + 1;
		ds->read_from = ds->L;
	}
	return 0;
}

/* The newest valid jset of the session read so far, or NULL. */
static const struct jrx_jset_info *newest(const struct scan *sc, unsigned dev,
					  bool any_dev)
{
	const struct jrx_jset_info *best = NULL;

	for (size_t r = 0; r < sc->nr_reads; r++) {
		const struct bread *b = &sc->reads[r];

		if (!any_dev && b->dev != dev)
			continue;
		for (size_t i = 0; i < b->nr; i++)
			if (b->v[i].state == JRX_JSET_OK && b->v[i].seq > sc->jseq &&
			    (!best || b->v[i].seq > best->seq))
				best = &b->v[i];
	}
	return best;
}

/*
 * Step 2: read each device's current bucket whole, and step back while
 * what was read holds no valid jset of the session (a torn first write).
 */
static int read_tails(struct scan *sc)
{
	unsigned nd = sc->a->nr_devs;
	uint32_t dev[JRX_MAX_DEVICES] = { 0 }, idx[JRX_MAX_DEVICES] = { 0 };
	size_t n;
	int ret;

	do {
		n = 0;
		for (unsigned d = 0; d < nd; d++) {
			struct dstate *ds = &sc->d[d];

			if (ds->found || !ds->read_from)
				continue;
			ds->read_from--;
			dev[n] = d;
			idx[n++] = unroll(ds, ds->read_from);
		}
		ret = read_buckets(sc, dev, idx, n, false);
		if (ret)
			return ret;
		for (unsigned d = 0; d < nd; d++)
			sc->d[d].found = newest(sc, d, false) != NULL;
	} while (n);
	return 0;
}

/*
 * Step 3: per device, the last bucket (unrolled order) whose first seq is
 * <= last_seq: nothing before it is needed.  Then read from there whole.
 */
static int read_live(struct scan *sc, uint64_t last_seq)
{
	unsigned nd = sc->a->nr_devs;
	uint32_t lo[JRX_MAX_DEVICES], hi[JRX_MAX_DEVICES];
	struct probe p[JRX_MAX_DEVICES];
	uint32_t *dev = NULL, *idx = NULL;
	size_t n = 0, total = 0;
	bool more;
	int ret;

	for (unsigned d = 0; d < nd; d++) {
		lo[d] = hi[d] = 0;
		if (sc->d[d].read_from) {
			hi[d] = sc->d[d].read_from;
			p[n++] = (struct probe){ d, unroll(&sc->d[d], 0) };
		}
	}
	ret = probe(sc, p, n);
	if (ret)
		return ret;
	for (unsigned d = 0; d < nd; d++) {
		struct dstate *ds = &sc->d[d];
		int64_t s;

		if (!hi[d])
			continue;
		s = ds->seq[unroll(ds, 0)];
		if (s <= 0 || (uint64_t)s <= sc->jseq)
			return undecided(sc, "%s: bucket %" PRIu64 " should start"
					 " the write session but holds no jset of"
					 " it", sc->a->devs[d].path,
					 ds->first + unroll(ds, 0));
		if ((uint64_t)s > last_seq)
			hi[d] = 0;	/* everything of d is needed */
	}
	do {
		more = false;
		n = 0;
		for (unsigned d = 0; d < nd; d++)
			if (hi[d] - lo[d] > 1)
				p[n++] = (struct probe){ d, unroll(&sc->d[d],
						lo[d] + (hi[d] - lo[d]) / 2) };
		if (!n)
			break;
		ret = probe(sc, p, n);
		if (ret)
			return ret;
		for (unsigned d = 0, k = 0; d < nd; d++) {
			struct dstate *ds = &sc->d[d];
			uint32_t mid;
			int64_t s;

			if (hi[d] - lo[d] <= 1)
				continue;
			mid = lo[d] + (hi[d] - lo[d]) / 2;
			s = ds->seq[p[k++].idx];
			if (s <= 0 || (uint64_t)s <= sc->jseq)
				return undecided(sc, "%s: bucket %" PRIu64 " inside"
						 " the write session holds no jset"
						 " of it", sc->a->devs[d].path,
						 ds->first + unroll(ds, mid));
			if ((uint64_t)s <= last_seq)
				lo[d] = mid;
			else
				hi[d] = mid;
			more = true;
		}
	} while (more);

	for (unsigned d = 0; d < nd; d++)
		total += sc->d[d].read_from - lo[d];
	ret = alloc_list(total, &dev, &idx);
	if (ret)
		return ret;
	/* interleave the devices so every one of them is busy at once */
	n = 0;
	for (uint32_t step = 0; n < total; step++)
		for (unsigned d = 0; d < nd; d++) {
			struct dstate *ds = &sc->d[d];

			if (lo[d] + step < ds->read_from) {
				dev[n] = d;
				idx[n++] = unroll(ds, lo[d] + step);
			}
		}
	for (unsigned d = 0; d < nd; d++)
		sc->d[d].read_from = lo[d];
	ret = read_buckets(sc, dev, idx, total, true);
	free(dev);
	free(idx);
	return ret;
}

/* The probes of a session must show seqs rising along the ring. */
static int check_order(struct scan *sc)
{
	for (unsigned d = 0; d < sc->a->nr_devs; d++) {
		struct dstate *ds = &sc->d[d];
		int64_t prev = 0;

		for (uint32_t u = 0; u < ds->L; u++) {
			int64_t s = ds->seq[unroll(ds, u)];

			if (s == P_UNKNOWN)
				continue;
			if (s <= prev)
				return undecided(sc, "%s: bucket %" PRIu64 ": seq %"
						 PRId64 " after %" PRId64 " along"
						 " the ring", sc->a->devs[d].path,
						 ds->first + unroll(ds, u), s, prev);
			prev = s;
		}
	}
	return 0;
}

static int bisect(struct scan *sc)
{
	const struct jrx_jset_info *top;
	int ret;

	ret = find_current(sc);
	if (ret || sc->full)
		return ret;
	ret = read_tails(sc);
	if (ret)
		return ret;
	top = newest(sc, 0, true);
	if (!top)
		return 0;		/* nothing valid after the last clean state */
	ret = read_live(sc, top->last_seq);
	if (ret || sc->full)
		return ret;
	return check_order(sc);
}

/* ---------------------------------------------------------------- full scan */

static int full_scan(struct scan *sc)
{
	uint32_t *dev, *idx;
	size_t total = 0, n = 0;
	int ret;

	for (unsigned d = 0; d < sc->a->nr_devs; d++)
		total += sc->d[d].nr;
	ret = alloc_list(total, &dev, &idx);
	if (ret)
		return ret;
	for (uint32_t i = 0; n < total; i++)
		for (unsigned d = 0; d < sc->a->nr_devs; d++)
			if (i < sc->d[d].nr) {
				dev[n] = d;
				idx[n++] = i;
			}
	ret = read_buckets(sc, dev, idx, total, true);
	free(dev);
	free(idx);
	return ret;
}

/* ---------------------------------------------------------------- assembly */

static int cmp_read(const void *x, const void *y)
{
	const struct bread *a = x, *b = y;

	if (a->dev != b->dev)
		return a->dev < b->dev ? -1 : 1;
	return a->bucket < b->bucket ? -1 : a->bucket > b->bucket;
}

/* sc->reads, in device and bucket order, into s->v. */
static int assemble(struct scan *sc)
{
	struct jrx_journal_scan *s = sc->s;
	size_t total = 0;

	if (sc->nr_reads)
		qsort(sc->reads, sc->nr_reads, sizeof(*sc->reads), cmp_read);
	for (size_t r = 0; r < sc->nr_reads; r++)
		total += sc->reads[r].nr;
	s->v = malloc((total ? total : 1) * sizeof(*s->v));
	if (!s->v)
		return jrx_fail(-ENOMEM, "allocating the list of %zu jsets read:"
				" %zu bytes", total, total * sizeof(*s->v));
	s->cap = total;
	for (size_t r = 0; r < sc->nr_reads; r++) {
		if (!sc->reads[r].nr)
			continue;	/* nothing parsed: no vector (memcpy NULL) */
		memcpy(s->v + s->nr, sc->reads[r].v,
		       sc->reads[r].nr * sizeof(*s->v));
		s->nr += sc->reads[r].nr;
	}
	return 0;
}

static void drop_reads(struct scan *sc)
{
	for (size_t r = 0; r < sc->nr_reads; r++) {
		for (size_t i = 0; i < sc->reads[r].nr; i++)
			free(sc->reads[r].v[i].cc);
		free(sc->reads[r].v);
	}
	sc->nr_reads = 0;
}

int jrx_journal_read_par(const struct jrx_array *a, struct jrx_io_engine *io,
			 unsigned flags, struct jrx_journal_scan *s)
{
	return jrx_journal_read_sink(a, io, flags, s, NULL);
}

int jrx_journal_read_sink(const struct jrx_array *a, struct jrx_io_engine *io,
			  unsigned flags, struct jrx_journal_scan *s,
			  const struct jrx_jscan_sink *sink)
{
	struct scan sc = { .a = a, .io = io, .s = s, .jseq = a->sb.journal_seq,
			   .hash = a->sb.metadata_replicas > 1,
			   .sink = sink };
	int ret = 0;

	memset(s, 0, sizeof(*s));
	jrx_journal_scan_names(s, a);
	for (unsigned d = 0; d < a->nr_devs && !ret; d++) {
		const struct jrx_member *m = &a->sb.members[d];
		struct dstate *ds = &sc.d[d];

		/* a missing member (degraded, io/array.h) has nothing to read:
		 * its jsets' other copies are on the members given */
		ds->nr = a->devs[d].absent ? 0 : m->journal_nr;
		ds->first = m->journal_bucket;
		if (a->devs[d].absent && !(flags & JRX_JSCAN_FULL)) {
			/* bisection probes every member: read what is there */
			flags |= JRX_JSCAN_FULL;
			snprintf(s->why_full, sizeof(s->why_full), "%s: the array"
				 " is degraded (--degraded): every journal"
				 " bucket of the members given is read",
				 a->devs[d].path);
		}
		ds->seq = calloc(ds->nr, sizeof(*ds->seq));
		if (!ds->seq)
			ret = jrx_fail(-ENOMEM, "allocating the journal probe"
				       " cache of %s: %u buckets",
				       a->devs[d].path, ds->nr);
		else
			for (uint32_t i = 0; i < ds->nr; i++)
				ds->seq[i] = P_UNKNOWN;
		s->buckets_total += ds->nr;
	}
	if (!ret && !(flags & JRX_JSCAN_FULL)) {
		s->mode = JRX_SCAN_BISECT;
		ret = bisect(&sc);
		if (!ret && sc.full) {
			/* start over: what was read goes, the full scan reads all */
			drop_reads(&sc);
			jrx_journal_scan_drop_arenas(s);
			s->batches = 0;
			if (sink && sink->reset)
				sink->reset(sink->ctx);
		}
	}
	if (!ret && ((flags & JRX_JSCAN_FULL) || sc.full)) {
		s->mode = JRX_SCAN_FULL;
		ret = full_scan(&sc);
	}
	/* once anything went to the sink, everything does */
	if (!ret && s->batches) {
		ret = sink_batch(&sc, 0, sc.nr_reads);
		jrx_journal_scan_drop_arenas(s);
	}
	if (!ret)
		ret = assemble(&sc);
	drop_reads(&sc);
	free(sc.reads);
	for (unsigned d = 0; d < a->nr_devs; d++)
		free(sc.d[d].seq);
	if (ret) {
		enum jrx_scan_mode mode = s->mode;

		jrx_journal_scan_free(s);
		s->mode = mode;
	}
	return ret;
}
