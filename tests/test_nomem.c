/*
 * test_nomem.c - an allocation that fails says what it was allocating.
 *
 * The growable array (util/vec.h): a size that wraps, a byte count that
 * wraps and a request no allocator can meet each return -ENOMEM with the
 * array's name and size in jrx_diag(), and leave the array as it was.
 *
 * Two paths a user meets, run in a forked child whose address space is
 * capped (RLIMIT_AS) a little above what it already maps, so the first
 * large allocation fails and only it: the sequential journal read (its
 * bucket buffer) and fsck of a clean array with a million buckets (pass
 * 4's bucket table), whose text output must name it once, next to the
 * error.  fsck runs once uncapped first, so that mimalloc's first
 * reservation (for the btree nodes, far above the cap) is made already.
 * The child sends its outcome up a pipe.  Under ASan or TSan the cap
 * would hit the sanitizer's own mappings first: those two skip there.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include "helpers.h"
#include "util/vec.h"
#include "journal/jread.h"
#include "fsck/fsck.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define UNDER_SANITIZER 1
#else
#define UNDER_SANITIZER 0
#endif

/* a request too big for any allocator returns NULL instead of aborting */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "allocator_may_return_null=1";
}
const char *__tsan_default_options(void);
const char *__tsan_default_options(void)
{
	return "allocator_may_return_null=1";
}

struct widget {
	uint64_t a, b;
};

/* ------------------------------------------------------------ vec */

/* nr + more entries, or their bytes, do not fit a size_t. */
static void test_vec_wraps(void **state)
{
	static const struct {
		size_t nr, more;
	} cases[] = {
		{ 3, SIZE_MAX },	/* the count wraps */
		{ 0, SIZE_MAX / 8 },	/* the bytes wrap (16 each) */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct widget *v = NULL;
		size_t nr = cases[i].nr, cap = 0;

		jrx_diag_clear();
		assert_jrx_err(JRX_VEC_RESERVE(v, nr, cap, cases[i].more,
					       "test widget list"), -ENOMEM);
		assert_contains(jrx_diag(), "allocating the test widget list: ");
		assert_contains(jrx_diag(), " overflow");
		assert_null(v);
		assert_int_equal(cap, 0);
	}
}

/* Bytes that fit a size_t but no address space: realloc fails. */
static void test_vec_too_big(void **state)
{
	struct widget *v = NULL;
	size_t nr = 0, cap = 0;
	char want[128];

	(void)state;
	assert_jrx_ok(JRX_VEC_RESERVE(v, nr, cap, 20, "test widget list"));
	for (; nr < 20; nr++)
		v[nr] = (struct widget){ nr, ~nr };
	jrx_diag_clear();
	assert_jrx_err(JRX_VEC_RESERVE(v, nr, cap, SIZE_MAX / 64,
				       "test widget list"), -ENOMEM);
	snprintf(want, sizeof(want), "allocating the test widget list: %zu"
		 " entries of %zu bytes", (size_t)1 << 59, sizeof(*v));
	assert_contains(jrx_diag(), want);
	/* unchanged */
	assert_int_equal(cap, 32);
	for (size_t i = 0; i < nr; i++)
		if (v[i].a != i || v[i].b != ~i)
			fail_msg("entry %zu changed by the failed reserve", i);
	free(v);
}

/* ------------------------------------------------------------ capped child */

struct outcome {
	int  ret;		/* of the call; 100+: the child's set-up failed */
	int  exit_code;		/* fsck's */
	char diag[1024];
	char out[2048];		/* fsck's text output */
};


typedef void (*capped_fn)(void *ctx, struct outcome *o);

/*
 * Run fn in a child capped at headroom bytes more than it maps; its
 * outcome.  warm: run it once uncapped first, so that the allocators'
 * first reservations (mimalloc's for the btree nodes) are made already.
 */
static const char *run_capped(capped_fn fn, void *ctx, bool warm,
			      size_t headroom, struct outcome *o)
{
	static char why[128];
	int pfd[2], status;
	size_t got = 0;
	pid_t pid;

	memset(o, 0, sizeof(*o));
	if (pipe(pfd))
		return "pipe failed";
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return "fork failed";
	if (pid == 0) {
		struct outcome r = { .ret = 100 };

		close(pfd[0]);
		if (warm) {
			fn(ctx, &r);
			if (r.ret)
				_exit(2);
		}
		jrx_diag_clear();
		if (!th_cap_address_space(headroom))
			fn(ctx, &r);
		snprintf(r.diag, sizeof(r.diag), "%s", jrx_diag());
		_exit(write(pfd[1], &r, sizeof(r)) == sizeof(r) ? 0 : 1);
	}
	close(pfd[1]);
	while (got < sizeof(*o)) {
		ssize_t n = read(pfd[0], (char *)o + got, sizeof(*o) - got);

		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(pfd[0]);
	if (waitpid(pid, &status, 0) != pid)
		return "waitpid failed";
	if (WIFEXITED(status) && WEXITSTATUS(status) == 2)
		return "the uncapped warm-up run failed in the child";
	if (!WIFEXITED(status) || WEXITSTATUS(status) || got != sizeof(*o)) {
		snprintf(why, sizeof(why), "the capped child died (status %#x,"
			 " %zu bytes of its outcome)", status, got);
		return why;
	}
	if (o->ret >= 100)
		return "the child could not cap its address space or open its"
			" output";
	return NULL;
}

struct env {
	struct th_dir dir;
	char p[256];
	const char *paths[1];
	struct jrx_array a;
};

static void env_make(struct env *e, const struct th_geom *g)
{
	th_dir_make(&e->dir);
	th_path(e->p, &e->dir, "d0");
	e->paths[0] = e->p;
	assert_jrx_ok(th_format(e->paths, 1, g));
	assert_jrx_ok(jrx_array_open(&e->a, e->paths, 1, JRX_OPEN_RDONLY));
}

static void env_drop(struct env *e)
{
	jrx_array_close(&e->a);
	th_dir_remove(&e->dir);
}

/*
 * fn on a new one-device array of geometry g, in a capped child (see
 * run_capped); path gets the device's path (room for 256 bytes).
 */
static void run_on_array(const struct th_geom *g, capped_fn fn, bool warm,
			 size_t headroom, struct outcome *o, char *path)
{
	const char *why;
	struct env e;

	if (UNDER_SANITIZER)
		skip();
	env_make(&e, g);
	snprintf(path, sizeof(e.p), "%s", e.p);
	why = run_capped(fn, &e.a, warm, headroom, o);
	env_drop(&e);
	if (why)
		fail_msg("%s", why);
}

/* ------------------------------------------------------------ journal read */

static void journal_read(void *ctx, struct outcome *o)
{
	struct jrx_journal_scan s;

	o->ret = jrx_journal_read_seq(ctx, &s, 0);
	if (!o->ret)
		jrx_journal_scan_free(&s);
}

/* Its 1 MiB bucket buffer cannot be mapped in 256 KiB. */
static void test_journal_read(void **state)
{
	struct th_geom g = {
		.size = 64ull << 20, .bucket_size = 1u << 20,
		.node_size = 16u << 10, .replicas = 1, .journal_size = 4u << 20,
	};
	struct outcome o;
	char path[256];

	(void)state;
	run_on_array(&g, journal_read, false, 256u << 10, &o, path);
	assert_jrx_err(o.ret, -ENOMEM);
	assert_contains(o.diag, "allocating a journal bucket to read: 1048576"
			" bytes");
}

/* ------------------------------------------------------------ fsck */

static void fsck_clean(void *ctx, struct outcome *o)
{
	static char buf[sizeof(o->out)];
	struct jrx_fsck_result res;
	struct jrx_fsck_opts opts;
	FILE *out;

	/* unbuffered into a static buffer: no allocation when it prints */
	memset(buf, 0, sizeof(buf));
	out = fmemopen(buf, sizeof(buf) - 1, "w");
	if (!out) {
		o->ret = 101;
		return;
	}
	setvbuf(out, NULL, _IONBF, 0);
	jrx_fsck_opts_default(&opts);
	opts.read_only = true;
	opts.out = out;
	o->ret = jrx_fsck_check(ctx, NULL, &opts, &res);
	o->exit_code = res.exit_code;
	fclose(out);
	snprintf(o->out, sizeof(o->out), "%s", buf);
}

static unsigned count(const char *s, const char *what)
{
	unsigned n = 0;

	for (; (s = strstr(s, what)); s++)
		n++;
	return n;
}

/*
 * 1 Mi buckets of 64 KiB (a sparse 64 GiB device): pass 4's table of a few
 * dozen MiB cannot be had in 4 MiB; the passes before it need far less.
 */
static void test_fsck_bucket_table(void **state)
{
	struct th_geom g = {
		.size = 64ull << 30, .bucket_size = 64u << 10,
		.node_size = 16u << 10, .replicas = 1, .journal_size = 1u << 20,
	};
	char path[256], want[256 + 64];
	struct outcome o;
	const char *line;

	(void)state;
	run_on_array(&g, fsck_clean, true, 4u << 20, &o, path);
	snprintf(want, sizeof(want), "allocating the fsck bucket table of %s:"
		 " %u buckets of ", path, 1u << 20);
	assert_jrx_err(o.ret, -ENOMEM);
	assert_int_equal(o.exit_code, 8);
	assert_contains(o.diag, want);
	/* the text names it once, and the error once after it */
	line = strstr(o.out, "fsck stopped: ");
	if (!line)
		fail_msg("no \"fsck stopped\" line in fsck's output:\n%s", o.out);
	assert_contains(line, want);
	assert_contains(line, " bytes (Cannot allocate memory)\n");
	if (count(o.out, "bucket table") != 1 || count(o.out, "memory") != 1)
		fail_msg("the failure is not said exactly once:\n%s", o.out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vec_wraps),
		cmocka_unit_test(test_vec_too_big),
		cmocka_unit_test(test_journal_read),
		cmocka_unit_test(test_fsck_bucket_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
