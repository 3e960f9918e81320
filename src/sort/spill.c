/*
 * spill.c - the scratch file of a spilled sort (spill.h): creating it,
 * writing runs through one block-aligned buffer, and the passes that
 * merge groups of runs into longer ones.  The merge itself is in
 * spill_merge.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/magic.h>
#include <sys/vfs.h>
#include "spill.h"
#include "spill_int.h"
#include "../util/clock.h"
#include "../util/cmp.h"
#include "../util/diag.h"
#include "../util/vec.h"

static int open_tmp(const char *dir, int flags)
{
	char path[300];
	int fd = open(dir, O_TMPFILE | O_RDWR | flags, 0600);

	if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR &&
			errno != ENOENT))
		return fd >= 0 ? fd : -errno;
	/* no O_TMPFILE here: a named file, unlinked at once */
	if (snprintf(path, sizeof(path), "%s/jrx-spill-XXXXXX", dir) >=
	    (int)sizeof(path))
		return -ENAMETOOLONG;
	fd = mkostemp(path, flags);
	if (fd < 0)
		return -errno;
	(void)unlink(path);
	return fd;
}

int jrx_spill_open(struct jrx_spill *sp, const char *dir, size_t buf_bytes)
{
	struct statfs fs;
	int fd;

	memset(sp, 0, sizeof(*sp));
	sp->fd = -1;
	if (!dir || !*dir)
		dir = getenv("TMPDIR");
	if (!dir || !*dir)
		dir = "/var/tmp";
	snprintf(sp->path, sizeof(sp->path), "%s", dir);
	if (buf_bytes < JRX_SPILL_MIN_BUF)
		buf_bytes = JRX_SPILL_MIN_BUF;
	sp->buf_bytes = (buf_bytes + JRX_SPILL_ALIGN - 1) & ~(size_t)(JRX_SPILL_ALIGN - 1);
	sp->read_bytes = sp->buf_bytes;
	fd = open_tmp(dir, O_DIRECT);
	if (fd == -EINVAL)	/* no O_DIRECT on this filesystem (tmpfs) */
		fd = open_tmp(dir, 0);
	else
		sp->direct = fd >= 0;
	if (fd < 0)
		return jrx_fail(fd, "creating the spill file in %s: %s", dir,
				strerror(-fd));
	sp->fd = fd;
	sp->st.direct = sp->direct;
	sp->st.tmpfs = !fstatfs(fd, &fs) && fs.f_type == TMPFS_MAGIC;
	/* writes in flight (io_uring, aio, or the queue's helpers where both
	 * are refused); one at a time only where no queue opens */
	if (jrx_wq_open(&sp->wq, JRX_SPILL_WBUFS, JRX_IO_AUTO)) {
		sp->wq = NULL;
		jrx_diag_clear();
	}
	sp->wq_owner = pthread_self();
	sp->nr_wbufs = sp->wq ? JRX_SPILL_WBUFS : 1;
	for (unsigned i = 0; i < sp->nr_wbufs; i++)
		if (posix_memalign(&sp->wbuf[i], JRX_SPILL_ALIGN, sp->buf_bytes)) {
			sp->wbuf[i] = NULL;
			jrx_spill_close(sp);
			return jrx_fail(-ENOMEM, "allocating the spill writer's"
					" buffers: %u of %zu bytes",
					JRX_SPILL_WBUFS, sp->buf_bytes);
		}
	return 0;
}

void jrx_spill_close(struct jrx_spill *sp)
{
	jrx_wq_close(sp->wq);	/* drains: no write is left in flight */
	sp->wq = NULL;
	if (sp->fd >= 0)
		close(sp->fd);
	free(sp->run);
	free(sp->seqs);
	sp->seqs = NULL;
	sp->nr_seqs = sp->cap_seqs = 0;
	for (unsigned i = 0; i < JRX_SPILL_WBUFS; i++) {
		free(sp->wbuf[i]);
		sp->wbuf[i] = NULL;
	}
	sp->fd = -1;
	sp->run = NULL;
	sp->nr_runs = sp->cap_runs = 0;
}

/* ---------------------------------------------------------------- writer */

int jrx_spill_pwrite(struct jrx_spill *sp, const void *buf, size_t len,
		     uint64_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pwrite(sp->fd, (const char *)buf + done, len - done,
				   (off_t)(off + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return jrx_fail(n < 0 ? -errno : -EIO, "writing the spill"
					" file in %s at offset %" PRIu64 ": %s",
					sp->path, off + done,
					n < 0 ? strerror(errno) : "nothing written");
		done += (size_t)n;
	}
	sp->st.bytes_written += len;
	return 0;
}

int jrx_spill_writer_start(struct jrx_spill_writer *w, struct jrx_spill *sp,
			   uint64_t seq0, uint64_t seq1)
{
	if (seq1 < seq0 || seq1 - seq0 > UINT32_MAX)
		return jrx_fail(-EOVERFLOW, "spilling a run of journal seqs %"
				PRIu64 "..%" PRIu64 ": the spill file's records"
				" keep a seq in 32 bits from its run's first, and"
				" these span more", seq0, seq1);
	/* a run written on another thread: the queue moves (spill.h) */
	if (sp->wq && !pthread_equal(sp->wq_owner, pthread_self())) {
		jrx_wq_close(sp->wq);
		if (jrx_wq_open(&sp->wq, JRX_SPILL_WBUFS, JRX_IO_AUTO)) {
			sp->wq = NULL;	/* synchronous writes from here on */
			jrx_diag_clear();
		}
		sp->wq_owner = pthread_self();
	}
	memset(w, 0, sizeof(*w));
	w->sp = sp;
	w->run.off = sp->end;
	w->pos = sp->end;
	w->run.seq0 = seq0;
	w->run.seq1 = seq1;
	for (unsigned s = 0; s <= JRX_SPILL_SECTIONS; s++)
		w->run.sect[s] = UINT64_MAX;
	return 0;
}

/* A write of the queue has ended: its buffer is free again. */
static void wdone(void *ctx, int res)
{
	bool *busy = ctx;

	*busy = false;
	(void)res;		/* the queue keeps the first error */
}

/* Write the current buffer's first len bytes at w->pos, then move to the
 * next buffer, waiting until it is free. */
static int wsubmit(struct jrx_spill_writer *w, size_t len)
{
	struct jrx_spill *sp = w->sp;
	unsigned i = sp->cur;
	int ret;

	if (!sp->wq)
		return jrx_spill_pwrite(sp, sp->wbuf[i], len, w->pos);
	sp->busy[i] = true;
	ret = jrx_wq_write_file(sp->wq, sp->fd, sp->path, sp->wbuf[i], len,
				w->pos, wdone, &sp->busy[i]);
	sp->st.bytes_written += len;
	sp->cur = (i + 1) % sp->nr_wbufs;
	while (!ret && sp->busy[sp->cur])
		ret = jrx_wq_reap(sp->wq);
	return ret;
}

static int wflush(struct jrx_spill_writer *w)
{
	int ret = wsubmit(w, w->sp->buf_bytes);

	w->pos += w->sp->buf_bytes;
	w->fill = 0;
	return ret;
}

static enum jrx_spill_section section_of(unsigned level, unsigned btree_id)
{
	if (level)
		return JRX_SPILL_INTERIOR;
	return btree_id < JRX_BTREE_ALLOC ? JRX_SPILL_LEAVES : JRX_SPILL_ALLOC;
}

int jrx_spill_put(struct jrx_spill_writer *w, const struct jrx_spill_rec *r,
		  const struct jrx_bkey *k)
{
	struct jrx_spill_frec f = {
		.dseq = (uint32_t)(r->seq - w->run.seq0),
		.level = r->level, .btree_id = r->btree_id, .u64s = r->u64s,
	};
	const void *part[2] = { &f, k };
	size_t len[2] = { sizeof(f), (size_t)r->u64s * 8u };
	enum jrx_spill_section s = section_of(r->level, r->btree_id);
	char *buf;
	int ret;

	if (r->seq < w->run.seq0 || r->seq > w->run.seq1)
		return jrx_fail(-EINVAL, "spilling a key of seq %" PRIu64 " into"
				" a run of seqs %" PRIu64 "..%" PRIu64, r->seq,
				w->run.seq0, w->run.seq1);

	for (int t = (int)s; t >= 0 && w->run.sect[t] == UINT64_MAX; t--)
		w->run.sect[t] = w->run.bytes;
	for (int i = 0; i < 2; i++) {
		const char *p = part[i];
		size_t n = len[i];

		while (n) {
			size_t c = w->sp->buf_bytes - w->fill;

			buf = w->sp->wbuf[w->sp->cur];
			if (c > n)
				c = n;
			memcpy(buf + w->fill, p, c);
			w->fill += c;
			p += c;
			n -= c;
			if (w->fill == w->sp->buf_bytes && (ret = wflush(w)))
				return ret;
		}
	}
	w->run.bytes += len[0] + len[1];
	w->run.keys++;
	return 0;
}

int jrx_spill_writer_end(struct jrx_spill_writer *w)
{
	struct jrx_spill *sp = w->sp;
	size_t pad;
	int ret;

	for (unsigned s = 0; s <= JRX_SPILL_SECTIONS; s++)
		if (w->run.sect[s] == UINT64_MAX)
			w->run.sect[s] = w->run.bytes;
	if (w->fill) {
		pad = (JRX_SPILL_ALIGN - w->fill % JRX_SPILL_ALIGN) % JRX_SPILL_ALIGN;
		memset((char *)sp->wbuf[sp->cur] + w->fill, 0, pad);
		ret = wsubmit(w, w->fill + pad);
		if (ret)
			return ret;
		w->pos += w->fill + pad;
		w->fill = 0;
	}
	/* the run is read only once all of it is on the file */
	if (sp->wq && (ret = jrx_wq_drain(sp->wq)))
		return ret;
	ret = JRX_VEC_RESERVE(sp->run, sp->nr_runs, sp->cap_runs, 1,
			      "list of spilled runs");
	if (ret)
		return ret;
	sp->run[sp->nr_runs++] = w->run;
	sp->end = w->pos;
	return 0;
}

/* Keys asked for ahead of the one written: about a memory latency's worth
 * of the loop. */
#define PREFETCH	16

static bool seq_written(const struct jrx_spill *sp, uint64_t seq)
{
	return sp->nr_seqs &&
		bsearch(&seq, sp->seqs, sp->nr_seqs, sizeof(*sp->seqs),
			jrx_cmp_u64);
}

/* Add the ascending seqs v[0, n) (none on the file yet) to sp->seqs. */
static int note_seqs(struct jrx_spill *sp, const uint64_t *v, size_t n)
{
	size_t i, j, k;
	int ret = JRX_VEC_RESERVE(sp->seqs, sp->nr_seqs, sp->cap_seqs, n,
				  "list of spilled seqs");

	if (ret)
		return ret;
	/* merge from the back, in place */
	i = sp->nr_seqs;
	j = n;
	k = sp->nr_seqs + n;
	while (j)
		sp->seqs[--k] = i && sp->seqs[i - 1] > v[j - 1] ?
			sp->seqs[--i] : v[--j];
	sp->nr_seqs += n;
	return 0;
}

int jrx_spill_write_run(struct jrx_spill *sp, const struct jrx_jindex *ix,
			const struct jrx_sort_result *res)
{
	struct jrx_spill_writer w;
	uint64_t *keep = malloc((ix->nr ? ix->nr : 1) * sizeof(*keep));
	bool *skip = calloc(ix->nr ? ix->nr : 1, sizeof(*skip));
	size_t nk = 0, kept = 0;
	double t = jrx_now();
	int ret = 0;

	if (!keep || !skip) {
		ret = jrx_fail(-ENOMEM, "allocating the seqs of a run of %zu"
			       " jsets", ix->nr);
		goto out;
	}
	/* one copy of a seq on the file: the first one written */
	for (size_t i = 0; i < ix->nr; i++) {
		uint64_t seq = ix->v[i].seq;

		skip[i] = (nk && keep[nk - 1] == seq) || seq_written(sp, seq);
		if (!skip[i])
			keep[nk++] = seq;
		else
			sp->st.copies_skipped++;
	}
	if (!nk)
		goto out;
	ret = jrx_spill_writer_start(&w, sp, keep[0], keep[nk - 1]);
	for (size_t i = 0; i < res->nr && !ret; i++) {
		const struct jrx_jkey *jk = &res->v[i];

		/* the keys are gathered in sorted order from all over the
		 * batch: a cache miss each, so ask for them ahead */
		if (i + PREFETCH < res->nr) {
			const char *ahead = (const char *)res->v[i + PREFETCH].k;

			__builtin_prefetch(ahead);
			__builtin_prefetch(ahead + 64);
		}
		if (skip[jk->jset])
			continue;
		struct jrx_spill_rec r = {
			.seq = ix->v[jk->jset].seq,
			.level = jk->level, .btree_id = jk->btree_id,
			.u64s = jk->k->u64s,
		};

		ret = jrx_spill_put(&w, &r, jk->k);
		kept++;
	}
	if (!ret)
		ret = jrx_spill_writer_end(&w);
	if (!ret)
		ret = note_seqs(sp, keep, nk);
	if (!ret) {
		sp->st.runs++;
		sp->st.keys += kept;
	}
out:
	free(keep);
	free(skip);
	sp->st.write_seconds += jrx_now() - t;
	return ret;
}

/* ---------------------------------------------------------------- passes */

static void punch(struct jrx_spill *sp, const struct jrx_spill_run *r)
{
	uint64_t len = (r->bytes + JRX_SPILL_ALIGN - 1) &
		~(uint64_t)(JRX_SPILL_ALIGN - 1);

	if (len)
		(void)fallocate(sp->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				(off_t)r->off, (off_t)len);
}

/* Merge runs [0, n) into one run appended to the file, then drop them. */
static int reduce_group(struct jrx_spill *sp, const struct jrx_spill_filter *f,
			size_t n)
{
	struct jrx_spill_writer w;
	uint64_t seq0 = UINT64_MAX, seq1 = 0;
	int ret;

	for (size_t i = 0; i < n; i++) {
		if (sp->run[i].seq0 < seq0)
			seq0 = sp->run[i].seq0;
		if (sp->run[i].seq1 > seq1)
			seq1 = sp->run[i].seq1;
	}
	ret = jrx_spill_writer_start(&w, sp, seq0, seq1);
	for (unsigned s = 0; s < JRX_SPILL_SECTIONS && !ret; s++) {
		struct jrx_spill_merge *m;
		const struct jrx_spill_rec *r;

		ret = jrx_spill_merge_runs(&m, sp, 0, n, s, f);
		while (!ret && (ret = jrx_spill_merge_next(m, &r)) > 0)
			ret = jrx_spill_put(&w, r, jrx_spill_key(r));
		jrx_spill_merge_close(m);
	}
	if (!ret)
		ret = jrx_spill_writer_end(&w);
	if (ret)
		return ret;
	/* the group's blocks are free again (best effort) */
	for (size_t i = 0; i < n; i++)
		punch(sp, &sp->run[i]);
	memmove(sp->run, sp->run + n, (sp->nr_runs - n) * sizeof(*sp->run));
	sp->nr_runs -= n;
	return 0;
}

int jrx_spill_reduce(struct jrx_spill *sp, const struct jrx_spill_filter *f,
		     size_t max_runs)
{
	int ret = 0;

	if (max_runs < 2)
		max_runs = 2;
	while (sp->nr_runs > max_runs && !ret) {
		/* one pass merges every group once; the new runs go last */
		size_t left = sp->nr_runs;

		sp->st.merge_passes++;
		while (left > 1 && !ret) {
			size_t n = left < max_runs ? left : max_runs;

			ret = reduce_group(sp, f, n);
			left -= n;
		}
	}
	return ret;
}
