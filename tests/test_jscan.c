/*
 * test_jscan.c - the parallel journal reader (journal/jscan.h) against the
 * sequential reference reader: on random journals written through the
 * real writer (ring wrap-around, replicas, several write sessions, torn
 * tails, a bad checksum inside a bucket, stale jsets of the previous ring
 * cycle) the io_uring and pread backends, bisecting or scanning in full,
 * give exactly the reference's journal index, or the same error.  Also: a
 * read error names the device and offset; io_uring refused by seccomp
 * falls back to pread under --io=auto and fails under --io=uring.  Where
 * the host refuses io_uring, the io_uring halves skip (helpers.h).
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include "helpers.h"
#include "format/jset.h"
#include "format/sb.h"
#include "io/engine.h"
#include "journal/journal.h"
#include "journal/jread.h"
#include "journal/jscan.h"
#include "journal/jindex.h"

#define NDEV_MAX 3

struct env {
	struct th_dir dir;
	char p[NDEV_MAX][256];
	const char *paths[NDEV_MAX];
};

static int setup(void **state)
{
	static struct env e;

	th_dir_make(&e.dir);
	for (unsigned i = 0; i < NDEV_MAX; i++) {
		char name[8];

		snprintf(name, sizeof(name), "d%u", i);
		th_path(e.p[i], &e.dir, name);
		e.paths[i] = e.p[i];
	}
	*state = &e;
	return 0;
}

static int teardown(void **state)
{
	th_dir_remove(&((struct env *)*state)->dir);
	return 0;
}

/* ------------------------------------------------------------ journals */

struct shape {
	unsigned ndev, replicas;
	unsigned jbuckets;		/* journal buckets per device */
	unsigned sessions;		/* write sessions, each ended by a crash */
	unsigned jsets;			/* per session */
	unsigned lag_max;		/* last_seq = seq - lag */
	bool	 torn;			/* last write of the last session torn */
};

static void add_keys(struct jrx_journal *j, uint64_t *r, unsigned n)
{
	uint64_t buf[TH_KEY_WORDS];

	for (unsigned i = 0; i < n; i++) {
		struct jrx_bpos p = jrx_bpos(4096 + th_rand_below(r, 50),
					     th_rand_below(r, 1000) * 8 + 8,
					     JRX_SNAPSHOT_DEFAULT);
		struct jrx_bkey *k = th_key_extent(buf, p, 8, 0, 8192, 0,
						   th_rand(r));

		assert_jrx_ok(jrx_journal_add_key(j, JRX_BTREE_EXTENTS, 0, k));
	}
}

/* One write session from seq; returns the seq after the last one written. */
static uint64_t session(struct env *e, const struct shape *sh, uint64_t seq,
			bool last, uint64_t *r)
{
	struct jrx_journal j;
	struct jrx_array a;
	uint64_t last_seq = seq;

	assert_jrx_ok(jrx_array_open(&a, e->paths, sh->ndev, 0));
	if (seq > 1) {
		/* what a recovery leaves: journal_seq and a blacklist below seq */
		struct jrx_blacklist_entry *bl = &a.sb.blacklist[a.sb.nr_blacklist++];

		a.sb.journal_seq = seq - 1;
		bl->start = seq - 8;
		bl->end = seq - 1;
		assert_jrx_ok(jrx_array_write_sb(&a));
	}
	assert_jrx_ok(jrx_journal_init(&j, &a, seq));
	for (unsigned n = 0; n < sh->jsets; n++) {
		bool torn = last && sh->torn && n + 1 == sh->jsets;
		uint64_t s = j.seq, want;
		int ret;

		/* sizes from 4 KiB to ~20 KiB: stale tails stay behind new jsets */
		add_keys(&j, r, 1 + (unsigned)th_rand_below(r, 300));
		want = s > sh->lag_max ? s - th_rand_below(r, sh->lag_max) : 1;
		if (want > last_seq)
			last_seq = want;
		ret = jrx_journal_write(&j, last_seq, torn);
		while (ret == -JRX_ERR_JOURNAL_FULL && last_seq < s) {
			last_seq = s;		/* the btree caught up */
			ret = jrx_journal_write(&j, last_seq, torn);
		}
		assert_jrx_ok(ret);
	}
	seq = j.seq;
	jrx_journal_exit(&j);
	jrx_array_close(&a);
	return seq + 8;
}

static void make(struct env *e, const struct shape *sh, uint64_t seed)
{
	struct th_geom g = {
		.size = 8ull << 20, .bucket_size = 64u << 10,
		.node_size = 16u << 10, .replicas = sh->replicas,
		.journal_size = (uint64_t)sh->jbuckets * (64u << 10),
	};
	uint64_t r = seed, seq = 1;

	for (unsigned i = 0; i < NDEV_MAX; i++)
		remove(e->p[i]);
	assert_jrx_ok(th_format(e->paths, sh->ndev, &g));
	for (unsigned s = 0; s < sh->sessions; s++)
		seq = session(e, sh, seq, s + 1 == sh->sessions, &r);
}

/* ------------------------------------------------------------ comparing */

struct result {
	int err;
	char diag[512];
	struct jrx_journal_scan scan;
	struct jrx_jindex ix;
};

static void result_free(struct result *res)
{
	jrx_jindex_free(&res->ix);
	jrx_journal_scan_free(&res->scan);
}

static void index_of(struct jrx_array *a, struct result *res)
{
	if (!res->err)
		res->err = jrx_jindex_build(&res->ix, &a->sb, &res->scan,
					    NULL, NULL);
	if (res->err)
		snprintf(res->diag, sizeof(res->diag), "%s", jrx_diag());
}

static void read_reference(struct jrx_array *a, struct result *res)
{
	memset(res, 0, sizeof(*res));
	res->err = jrx_journal_read_seq(a, &res->scan, JRX_SCAN_KEEP);
	index_of(a, res);
}

static void read_parallel(struct jrx_array *a, enum jrx_io_backend b,
			  unsigned threads, bool full, struct result *res)
{
	struct jrx_io_opts o = { .backend = b, .threads = threads, .depth = 4 };
	struct jrx_io_engine *io;

	memset(res, 0, sizeof(*res));
	assert_jrx_ok(jrx_io_open(&io, a, &o));
	res->err = jrx_journal_read_par(a, io, full ? JRX_JSCAN_FULL : 0, &res->scan);
	jrx_io_close(io);
	index_of(a, res);
}

#define differ(what, ...) do {						\
	print_error("%s: " what "\n", label, __VA_ARGS__);		\
	fail();								\
} while (0)

static void same_index(const char *label, const struct result *want,
		       const struct result *got)
{
	const struct jrx_jindex *w = &want->ix, *g = &got->ix;

	if (want->err != got->err)
		differ("reference says %s (%s), this reader %s (%s)",
		       th_errname(want->err), want->diag,
		       th_errname(got->err), got->diag);
	if (want->err)
		return;
	if (w->nr != g->nr || w->max_seq != g->max_seq ||
	    w->last_seq != g->last_seq || w->copies != g->copies ||
	    w->blacklisted != g->blacklisted || w->nr_bl != g->nr_bl)
		differ("index [%lu..%lu] %zu jsets %lu copies %lu blacklisted %zu"
		       " ranges vs [%lu..%lu] %zu jsets %lu copies %lu"
		       " blacklisted %zu ranges", w->last_seq, w->max_seq, w->nr,
		       w->copies, w->blacklisted, w->nr_bl, g->last_seq,
		       g->max_seq, g->nr, g->copies, g->blacklisted, g->nr_bl);
	for (size_t i = 0; i < w->nr_bl; i++)
		if (w->bl[i].start != g->bl[i].start || w->bl[i].end != g->bl[i].end)
			differ("blacklist range %zu: [%lu, %lu] vs [%lu, %lu]", i,
			       w->bl[i].start, w->bl[i].end, g->bl[i].start,
			       g->bl[i].end);
	for (size_t i = 0; i < w->nr; i++) {
		const struct jrx_jindex_ent *a = &w->v[i], *b = &g->v[i];

		if (a->seq != b->seq || a->dev != b->dev || a->offset != b->offset ||
		    a->copies != b->copies || a->blacklisted != b->blacklisted)
			differ("entry %zu: seq %lu dev %u offset %lu copies %u bl %d"
			       " vs seq %lu dev %u offset %lu copies %u bl %d", i,
			       a->seq, a->dev, a->offset, a->copies, a->blacklisted,
			       b->seq, b->dev, b->offset, b->copies, b->blacklisted);
		if (memcmp(a->j, b->j, jrx_jset_disk_bytes(a->j->u64s)))
			differ("entry %zu (seq %lu): jset bytes differ", i, a->seq);
	}
	if (w->newest != NULL && memcmp(w->newest, g->newest, sizeof(*w->newest)))
		differ("newest jset header differs (seq %lu vs %lu)",
		       w->newest->seq, g->newest->seq);
}

/* Every reader on the array as it is; returns the bisect's bucket count. */
static uint64_t check_all(struct env *e, unsigned ndev, const char *what,
			  bool *fell_back)
{
	static const enum jrx_io_backend backends[] = {
		JRX_IO_URING, JRX_IO_AIO, JRX_IO_PREAD,
	};
	struct result ref, got;
	struct jrx_array a;
	uint64_t bisect_buckets = 0;
	bool bisected = false;
	char label[512];

	assert_jrx_ok(jrx_array_open(&a, e->paths, ndev, JRX_OPEN_RDONLY));
	read_reference(&a, &ref);
	for (unsigned b = 0; b < 3; b++)
		for (unsigned full = 0; full < 2; full++) {
			if (th_io_backend(backends[b], backends[b] == JRX_IO_AIO ?
					  "the aio reader" : "the io_uring reader")
			    != backends[b])
				continue;
			read_parallel(&a, backends[b], 1 + full, full, &got);
			snprintf(label, sizeof(label), "%s, %s, %s (%s%s%s)", what,
				 jrx_io_backend_name(backends[b]),
				 full ? "full scan" : "bisect",
				 jrx_scan_mode_name(got.scan.mode),
				 got.scan.why_full[0] ? ": " : "",
				 got.scan.why_full);
			same_index(label, &ref, &got);
			if (!full && !bisected) {	/* the first bisect */
				bisected = true;
				bisect_buckets = got.scan.buckets_read;
				if (fell_back)
					*fell_back = got.scan.why_full[0] != 0;
			}
			if (full)
				assert_int_equal(got.scan.buckets_read,
						 ref.scan.buckets_read);
			result_free(&got);
		}
	result_free(&ref);
	jrx_array_close(&a);
	return bisect_buckets;
}

/* ------------------------------------------------------------ cases */

static void random_shape(uint64_t *r, struct shape *sh)
{
	sh->ndev = 1 + (unsigned)th_rand_below(r, NDEV_MAX);
	sh->replicas = sh->ndev > 1 && th_rand_below(r, 2) ? 2 : 1;
	sh->jbuckets = 4 + (unsigned)th_rand_below(r, 12);
	sh->sessions = 1 + (unsigned)th_rand_below(r, 3);
	sh->jsets = 1 + (unsigned)th_rand_below(r, sh->jbuckets * sh->ndev * 12);
	sh->lag_max = 1 + (unsigned)th_rand_below(r, th_rand_below(r, 2) ? 12 : 120);
	sh->torn = th_rand_below(r, 2);
}

/* Random journals: wrap-around, replicas, sessions, torn tails. */
static void test_random_journals(void **state)
{
	struct env *e = *state;
	unsigned bisected = 0, seeds = 40;

	for (uint64_t seed = 1; seed <= seeds; seed++) {
		uint64_t r = seed * 7919;
		struct shape sh;
		char what[160];
		bool fell_back = false;

		random_shape(&r, &sh);
		snprintf(what, sizeof(what), "seed %lu: %u devs, %u replicas, %u"
			 " buckets, %u sessions of %u jsets, lag %u%s", seed,
			 sh.ndev, sh.replicas, sh.jbuckets, sh.sessions, sh.jsets,
			 sh.lag_max, sh.torn ? ", torn" : "");
		make(e, &sh, r);
		check_all(e, sh.ndev, what, &fell_back);
		bisected += !fell_back;
	}
	/* the writer's rings always allow a bisect */
	assert_int_equal(bisected, seeds);
}

/* A long wrapped journal: the bisect reads only the live buckets. */
static void test_bisect_reads_less(void **state)
{
	struct env *e = *state;
	struct shape sh = {
		.ndev = 2, .replicas = 1, .jbuckets = 32, .sessions = 2,
		.jsets = 400, .lag_max = 6,
	};
	uint64_t got;
	bool fell_back = true;

	make(e, &sh, 42);
	got = check_all(e, sh.ndev, "wrapped, 2 sessions", &fell_back);
	assert_false(fell_back);
	if (got >= 2 * 32 / 2)
		fail_msg("the bisect read %lu of 64 buckets; the live range is a"
			 " few buckets", got);
}

/* Bad checksums inside buckets: every reader stops the bucket there. */
static void test_bad_csum_mid_bucket(void **state)
{
	struct env *e = *state;

	for (uint64_t seed = 1; seed <= 12; seed++) {
		uint64_t r = seed * 104729;
		struct shape sh = {
			.ndev = 2, .replicas = 1 + (unsigned)(seed & 1),
			.jbuckets = 8, .sessions = 1, .jsets = 90, .lag_max = 30,
		};
		struct jrx_journal_scan s;
		struct jrx_array a;
		size_t cand = 0, pick;
		char what[96];
		uint8_t byte;

		make(e, &sh, r);
		/* a valid jset that is not the first of its bucket */
		assert_jrx_ok(jrx_array_open(&a, e->paths, 2, JRX_OPEN_RDONLY));
		assert_jrx_ok(jrx_journal_read_seq(&a, &s, 0));
		for (size_t i = 0; i < s.nr; i++)
			cand += s.v[i].state == JRX_JSET_OK &&
				s.v[i].offset % (64u << 10);
		assert_true(cand > 0);
		pick = th_rand_below(&r, cand);
		for (size_t i = 0; i < s.nr; i++) {
			if (s.v[i].state != JRX_JSET_OK || !(s.v[i].offset % (64u << 10)))
				continue;
			if (pick--)
				continue;
			th_file_pread(e->p[s.v[i].dev], &byte, 1, s.v[i].offset + 100);
			byte ^= 0x5a;
			th_file_pwrite(e->p[s.v[i].dev], &byte, 1, s.v[i].offset + 100);
			break;
		}
		jrx_journal_scan_free(&s);
		jrx_array_close(&a);
		snprintf(what, sizeof(what), "seed %lu, replicas %u, one jset"
			 " corrupted", seed, sh.replicas);
		check_all(e, 2, what, NULL);
	}
}

/* A header the bisect cannot read: it falls back to the full scan. */
static void test_bisect_undecided(void **state)
{
	struct env *e = *state;
	struct shape sh = {
		.ndev = 2, .replicas = 2, .jbuckets = 8, .sessions = 2,
		.jsets = 60, .lag_max = 20,
	};
	struct jrx_array a;
	struct result got;
	uint64_t off;
	uint32_t version = 7;
	bool fell_back = false;

	make(e, &sh, 99);
	assert_jrx_ok(jrx_array_open(&a, e->paths, 2, JRX_OPEN_RDONLY));
	off = jrx_bucket_offset(&a.sb, a.sb.members[0].journal_bucket);
	jrx_array_close(&a);
	/* version of the first jset of device 0's first journal bucket */
	th_file_pwrite(e->p[0], &version, sizeof(version),
		       off + offsetof(struct jrx_jset, version));
	check_all(e, 2, "bad header in bucket +0", &fell_back);
	assert_true(fell_back);
	assert_jrx_ok(jrx_array_open(&a, e->paths, 2, JRX_OPEN_RDONLY));
	read_parallel(&a, th_io_backend(JRX_IO_URING, "the io_uring reader"), 2,
		      false, &got);
	assert_string_equal(jrx_scan_mode_name(got.scan.mode), "full_scan");
	assert_contains(got.scan.why_full, "jset header with bad fields");
	assert_contains(got.scan.why_full, e->p[0]);
	result_free(&got);
	jrx_array_close(&a);
}

/* A read error on one device names the device and the offset. */
static void test_read_error(void **state)
{
	struct env *e = *state;
	struct shape sh = {
		.ndev = 2, .replicas = 1, .jbuckets = 8, .sessions = 1,
		.jsets = 20, .lag_max = 3,
	};
	static const enum jrx_io_backend backends[] = {
		JRX_IO_URING, JRX_IO_AIO, JRX_IO_PREAD,
	};

	make(e, &sh, 7);
	for (unsigned b = 0; b < 3; b++)
		for (unsigned full = 0; full < 2; full++) {
			struct jrx_io_opts o = { .backend = backends[b] };
			struct jrx_journal_scan s;
			struct jrx_io_engine *io;
			struct jrx_array a;
			char want[320];
			uint64_t off;
			int ret;

			if (th_io_backend(backends[b], backends[b] == JRX_IO_AIO ?
					  "the aio read error" :
					  "the io_uring read error") != backends[b])
				continue;
			assert_jrx_ok(jrx_array_open(&a, e->paths, 2, JRX_OPEN_RDONLY));
			/* the first journal bucket of device 1: every mode reads it */
			off = jrx_bucket_offset(&a.sb, a.sb.members[1].journal_bucket);
			jrx_io_inject_read_error(1, off, 4096, -EIO);
			assert_jrx_ok(jrx_io_open(&io, &a, &o));
			ret = jrx_journal_read_par(&a, io, full ? JRX_JSCAN_FULL : 0, &s);
			jrx_io_inject_read_error(0, 0, 0, 0);
			assert_jrx_err(ret, -EIO);
			snprintf(want, sizeof(want), "%s: read error at offset %lu",
				 e->p[1], off);
			assert_contains(jrx_diag(), want);
			jrx_io_close(io);
			jrx_array_close(&a);
		}
}

/*
 * In a child: 0 if auto falls back as it should once io_uring (and with
 * also_aio, aio too) is refused, else a code.  The fallback names every
 * refusal and the backend it ended on; the index it reads is the
 * reference's; forcing a refused backend fails with its EPERM.
 */
static int fallback_child(struct env *e, bool also_aio)
{
	struct jrx_io_opts o = { .backend = JRX_IO_AUTO };
	enum jrx_io_backend want = also_aio ? JRX_IO_PREAD : JRX_IO_AIO;
	struct result ref, got;
	struct jrx_io_engine *io;
	struct jrx_io_info info;
	struct jrx_array a;

	if (th_refuse_uring(also_aio))
		return 10;
	if (jrx_array_open(&a, e->paths, 2, JRX_OPEN_RDONLY))
		return 11;
	if (jrx_io_open(&io, &a, &o))
		return 12;
	jrx_io_get_info(io, &info);
	if (info.backend != want || !info.fallback ||
	    !strstr(info.fallback, "io_uring unavailable (Operation not"
		    " permitted)") ||
	    (also_aio && !strstr(info.fallback, "aio unavailable (Operation"
				 " not permitted)")) ||
	    !strstr(info.fallback, want == JRX_IO_AIO ? "using aio" :
		    "using pread")) {
		fprintf(stderr, "backend %s (expected %s), fallback %s\n",
			jrx_io_backend_name(info.backend),
			jrx_io_backend_name(want),
			info.fallback ? info.fallback : "(none)");
		return 13;
	}
	/* no cmocka in the child: the index compared by hand */
	memset(&got, 0, sizeof(got));
	got.err = jrx_journal_read_par(&a, io, 0, &got.scan);
	index_of(&a, &got);
	read_reference(&a, &ref);
	if (got.err || ref.err || !ref.ix.nr)
		return 14;
	if (got.ix.nr != ref.ix.nr || got.ix.max_seq != ref.ix.max_seq ||
	    got.ix.last_seq != ref.ix.last_seq)
		return 15;
	for (size_t i = 0; i < ref.ix.nr; i++)
		if (got.ix.v[i].seq != ref.ix.v[i].seq ||
		    got.ix.v[i].dev != ref.ix.v[i].dev ||
		    got.ix.v[i].offset != ref.ix.v[i].offset ||
		    got.ix.v[i].copies != ref.ix.v[i].copies)
			return 15;
	jrx_io_close(io);
	result_free(&got);
	result_free(&ref);
	o.backend = JRX_IO_URING;
	if (jrx_io_open(&io, &a, &o) != -EPERM) {
		fprintf(stderr, "forced io_uring did not fail with EPERM\n");
		return 16;
	}
	if (!strstr(jrx_diag(), "io_uring set-up failed"))
		return 17;
	o.backend = JRX_IO_AIO;
	if (also_aio && (jrx_io_open(&io, &a, &o) != -EPERM ||
			 !strstr(jrx_diag(), "aio set-up failed"))) {
		fprintf(stderr, "forced aio did not fail with EPERM\n");
		return 18;
	}
	jrx_array_close(&a);
	return 0;
}

static void test_forced_fallback(void **state)
{
	struct env *e = *state;
	struct shape sh = {
		.ndev = 2, .replicas = 2, .jbuckets = 8, .sessions = 1,
		.jsets = 40, .lag_max = 5,
	};

	make(e, &sh, 3);
	for (int also_aio = 0; also_aio < 2; also_aio++) {
		int status;
		pid_t pid;

		fflush(NULL);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0)
			_exit(fallback_child(e, also_aio));
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFEXITED(status));
		if (WEXITSTATUS(status))
			fail_msg("fallback check (io_uring%s refused) failed in"
				 " the child with code %d",
				 also_aio ? " and aio" : "",
				 WEXITSTATUS(status));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_journals),
		cmocka_unit_test(test_bisect_reads_less),
		cmocka_unit_test(test_bad_csum_mid_bucket),
		cmocka_unit_test(test_bisect_undecided),
		cmocka_unit_test(test_read_error),
		cmocka_unit_test(test_forced_fallback),
	};

	return th_exit_code(cmocka_run_group_tests(tests, setup, teardown));
}
