/*
 * test_claims.c - who may open an array (io/lock.h, io/signature.h,
 * io/device.c): a writer's claim keeps out other writers and readers of
 * another process, readers share, the refusal names the holder's pid,
 * JRX_OPEN_WAIT waits for the holder; jrx_format refuses a device that
 * holds a jrx array or another signature unless forced, and writes
 * nothing when it refuses; a directory, a character device and a
 * read-only (mode 0444) image are refused with what they are.
 *
 * The other process is a forked child that holds the array open until
 * the parent tells it to let go.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "helpers.h"
#include "io/lock.h"

#define DEV_SIZE (64ull << 20)

static const struct th_geom GEOM = {
	.size = DEV_SIZE, .bucket_size = 256u << 10, .node_size = 64u << 10,
	.replicas = 1,
};

struct fx {
	struct th_dir dir;
	char p[2][256];
	const char *paths[2];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	th_dir_make(&f->dir);
	th_path(f->p[0], &f->dir, "a");
	th_path(f->p[1], &f->dir, "b");
	f->paths[0] = f->p[0];
	f->paths[1] = f->p[1];
	assert_jrx_ok(th_format(f->paths, 2, &GEOM));
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	th_dir_remove(&f->dir);
	free(f);
	return 0;
}

struct holder {
	pid_t	pid;
	int	go;	/* parent writes: let go (after delay_ms) */
};

/* A child that opens the array with flags, says so, and holds it until
 * told, then waits delay_ms more before closing. */
static struct holder hold(struct fx *f, unsigned flags, unsigned delay_ms)
{
	int up[2], down[2];
	struct holder h;
	char c;

	assert_int_equal(pipe(up), 0);
	assert_int_equal(pipe(down), 0);
	fflush(NULL);
	h.pid = fork();
	assert_true(h.pid >= 0);
	if (h.pid == 0) {
		struct jrx_array a;

		close(up[0]);
		close(down[1]);
		if (jrx_array_open(&a, f->paths, 2, flags))
			_exit(1);
		if (write(up[1], "h", 1) != 1 || read(down[0], &c, 1) != 1)
			_exit(2);
		usleep(delay_ms * 1000);
		jrx_array_close(&a);
		_exit(0);
	}
	close(up[1]);
	close(down[0]);
	assert_int_equal(read(up[0], &c, 1), 1);	/* it holds the array */
	close(up[0]);
	h.go = down[1];
	return h;
}

static void release(struct holder *h)
{
	int st;

	assert_int_equal(write(h->go, "g", 1), 1);
	close(h->go);
	assert_int_equal(waitpid(h->pid, &st, 0), h->pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A writer elsewhere: both kinds of open refuse, naming its pid. */
static void test_writer_excludes(void **state)
{
	struct fx *f = *state;
	struct holder h = hold(f, 0, 0);
	struct jrx_array a;
	char pid[32];

	snprintf(pid, sizeof(pid), "in use by pid %d", (int)h.pid);
	jrx_diag_clear();
	assert_jrx_err(jrx_array_open(&a, f->paths, 2, 0), -JRX_ERR_DEV_BUSY);
	assert_contains(jrx_diag(), pid);
	assert_contains(jrx_diag(), "not writing");
	jrx_diag_clear();
	assert_jrx_err(jrx_array_open(&a, f->paths, 2, JRX_OPEN_RDONLY),
		       -JRX_ERR_DEV_BUSY);
	assert_contains(jrx_diag(), pid);
	assert_contains(jrx_diag(), "not reading");
	release(&h);
	assert_jrx_ok(jrx_array_open(&a, f->paths, 2, 0));
	jrx_array_close(&a);
}

/* Readers share; a reader keeps a writer out. */
static void test_readers_share(void **state)
{
	struct fx *f = *state;
	struct holder h = hold(f, JRX_OPEN_RDONLY, 0);
	struct jrx_array a;

	assert_jrx_ok(jrx_array_open(&a, f->paths, 2, JRX_OPEN_RDONLY));
	jrx_array_close(&a);
	assert_jrx_err(jrx_array_open(&a, f->paths, 2, 0), -JRX_ERR_DEV_BUSY);
	release(&h);
}

/* JRX_OPEN_WAIT blocks until the holder lets go, then opens. */
static void test_wait(void **state)
{
	struct fx *f = *state;
	struct holder h = hold(f, 0, 300);
	struct jrx_array a;
	const char *rev[2] = { f->paths[1], f->paths[0] };
	double t;
	int st;

	assert_int_equal(write(h.go, "g", 1), 1);	/* lets go in 300 ms */
	t = now();
	/* members in the other order: locks are taken in one order anyway */
	assert_jrx_ok(jrx_array_open(&a, rev, 2, JRX_OPEN_WAIT));
	if (now() - t < 0.15)
		fail_msg("the open returned after %.3f s, before the holder let"
			 " go (300 ms)", now() - t);
	jrx_array_close(&a);
	close(h.go);
	assert_int_equal(waitpid(h.pid, &st, 0), h.pid);
}

/* One device given twice to a writer is named as such. */
static void test_twice(void **state)
{
	struct fx *f = *state;
	const char *twice[2] = { f->paths[0], f->paths[0] };
	struct jrx_array a;

	jrx_diag_clear();
	assert_jrx_err(jrx_array_open(&a, twice, 2, 0), -JRX_ERR_DEV_DUPLICATE);
}

/* format refuses what holds an array or another signature; nothing is
 * written; --force formats. */
static void test_format_refuses(void **state)
{
	struct fx *f = *state;
	struct th_file_state before, after;
	struct th_geom g = GEOM;
	const char *one[1] = { f->paths[0] };
	char ext[256];
	const char *e[1] = { ext };
	uint16_t magic = 0xEF53;

	th_file_state(f->paths[0], &before);
	jrx_diag_clear();
	assert_jrx_err(th_format(one, 1, &g), -JRX_ERR_DEV_HAS_DATA);
	assert_contains(jrx_diag(), f->paths[0]);
	assert_contains(jrx_diag(), "holds a jrx array");
	assert_contains(jrx_diag(), "--force");
	th_file_state(f->paths[0], &after);
	assert_true(before.hash == after.hash && before.size == after.size);

	/* an ext2 superblock magic (s_magic at 1024 + 56), as libblkid sees */
	th_path(ext, &f->dir, "ext");
	th_sparse_file(ext, DEV_SIZE);
	th_file_pwrite(ext, &magic, sizeof(magic), 1024 + 56);
	th_file_state(ext, &before);
	jrx_diag_clear();
	assert_jrx_err(th_format(e, 1, &g), -JRX_ERR_DEV_HAS_DATA);
	assert_contains(jrx_diag(), "ext2");
	th_file_state(ext, &after);
	assert_true(before.hash == after.hash && before.size == after.size);

	/* a damaged superblock is still an array */
	th_file_pwrite(f->paths[0], "xx", 2, JRX_SB_PRIMARY_OFFSET + 100);
	jrx_diag_clear();
	assert_jrx_err(th_format(one, 1, &g), -JRX_ERR_DEV_HAS_DATA);

	g.force = true;
	assert_jrx_ok(th_format(one, 1, &g));
	assert_jrx_ok(th_format(e, 1, &g));
}

/* format of a device another process writes: refused even with force. */
static void test_format_busy(void **state)
{
	struct fx *f = *state;
	struct holder h = hold(f, JRX_OPEN_RDONLY, 0);
	struct th_geom g = GEOM;
	const char *one[1] = { f->paths[1] };

	g.force = true;
	assert_jrx_err(th_format(one, 1, &g), -JRX_ERR_DEV_BUSY);
	release(&h);
}

/* What is not a device is named for what it is. */
static void test_bad_kinds(void **state)
{
	struct fx *f = *state;
	const char *dir[1] = { f->dir.path };
	const char *null[1] = { "/dev/null" };
	struct jrx_array a;

	jrx_diag_clear();
	assert_jrx_err(jrx_array_open(&a, dir, 1, JRX_OPEN_RDONLY),
		       -JRX_ERR_NOT_JRX);
	assert_contains(jrx_diag(), "is a directory");
	jrx_diag_clear();
	assert_jrx_err(jrx_array_open(&a, null, 1, JRX_OPEN_RDONLY),
		       -JRX_ERR_NOT_JRX);
	assert_contains(jrx_diag(), "is a character device");

	/* mode 0444: root's open would succeed; jrx does not write it */
	assert_int_equal(chmod(f->paths[0], 0444), 0);
	jrx_diag_clear();
	if (geteuid() == 0) {
		assert_jrx_err(jrx_array_open(&a, f->paths, 2, 0),
			       -JRX_ERR_READ_ONLY);
		assert_contains(jrx_diag(), "mode 0444");
	} else {
		assert_jrx_err(jrx_array_open(&a, f->paths, 2, 0), -EACCES);
	}
	assert_jrx_ok(jrx_array_open(&a, f->paths, 2, JRX_OPEN_RDONLY));
	jrx_array_close(&a);
	assert_int_equal(chmod(f->paths[0], 0644), 0);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_writer_excludes),
		T(test_readers_share),
		T(test_wait),
		T(test_twice),
		T(test_format_refuses),
		T(test_format_busy),
		T(test_bad_kinds),
	};

	return th_exit_code(cmocka_run_group_tests(tests, NULL, NULL));
}
