/*
 * test_kill.c - real processes against one array (io/lock.h, FORMAT.md
 * 8.7): a `jrx recover` killed with SIGKILL at spread-out device writes,
 * the last ones inside the commit included, is finished by the next
 * recovery (accelerated or reference) to the state a single reference
 * recovery reaches, fsck-clean; while a recovery runs, a second recovery,
 * `fsck -n`, `dump` and `format --force` refuse at once naming it, and
 * `recover --wait` waits for it; `recover` refuses while `jrx load`
 * writes the array; an `fsck -y` killed while it rebuilds a damaged
 * alloc btree is finished by the next one, and so is one killed while
 * it rebuilds a btree whose root was zeroed (topology repair); one
 * interrupted by SIGINT exits 32; and `fsck -C fd` writes
 * e2fsck's progress lines to the descriptor and to a systemd-fsckd socket.
 *
 * The moments are exact: JRX_TEST_STOP_AT_WRITE=N (io/device.h) stops
 * the jrx process before its N-th device write, the test then kills it
 * or lets it go on.  The jrx binary is the build's (JRX_BIN).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "helpers.h"

#define KEYS "40000"
#define BASE "150000"

struct fx {
	struct th_dir dir;
	char a[256], b[256], a0[256], b0[256], ref[256], out[256], err[256];
	uint64_t writes;	/* device writes of one whole recovery */
	int	 fd3;		/* given to the child as fd 3; -1: none */
};

/* Starts jrx with args (NULL-ended), stdout/stderr to files; stop_at
 * arms the stop hook (0: off). */
static pid_t spawn(struct fx *f, uint64_t stop_at, bool count,
		   const char *const *args)
{
	const char *argv[16] = { JRX_BIN };
	pid_t pid;
	int n = 1;

	for (; args[n - 1]; n++) {
		assert_true(n < 15);
		argv[n] = args[n - 1];
	}
	argv[n] = NULL;
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char stop[32];
		int o = open(f->out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int e = open(f->err, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (o < 0 || e < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0)
			_exit(126);
		if (f->fd3 >= 0 && dup2(f->fd3, 3) < 0)
			_exit(126);
		if (stop_at) {
			snprintf(stop, sizeof(stop), "%llu",
				 (unsigned long long)stop_at);
			setenv("JRX_TEST_STOP_AT_WRITE", stop, 1);
		}
		if (count)
			setenv("JRX_TEST_COUNT_WRITES", "1", 1);
		execv(JRX_BIN, (char *const *)argv);
		_exit(127);
	}
	return pid;
}

static char *slurp(const char *path)
{
	FILE *fp = fopen(path, "r");
	char *buf = calloc(1, 1 << 20);
	size_t n;

	assert_non_null(fp);
	assert_non_null(buf);
	n = fread(buf, 1, (1 << 20) - 1, fp);
	buf[n] = 0;
	fclose(fp);
	return buf;
}

/* Exit code of a finished pid; fails the test naming args if it was
 * killed by a signal. */
static int wait_exit(struct fx *f, pid_t pid, const char *what)
{
	int st;

	assert_int_equal(waitpid(pid, &st, 0), pid);
	if (!WIFEXITED(st)) {
		char *err = slurp(f->err);

		fail_msg("%s: ended by signal %d; stderr:\n%s", what,
			 WTERMSIG(st), err);
	}
	return WEXITSTATUS(st);
}

/* Runs jrx to its end; the exit code must be want, else the test fails
 * printing stderr. */
static void run(struct fx *f, int want, const char *const *args)
{
	pid_t pid = spawn(f, 0, false, args);
	int got = wait_exit(f, pid, args[0]);

	if (got != want) {
		char *err = slurp(f->err);

		fail_msg("jrx %s %s: exit %d, expected %d; stderr:\n%s", args[0],
			 args[1] ? args[1] : "", got, want, err);
	}
}

/* The stopped pid of `jrx recover ...` halted before write n. */
static pid_t start_stopped(struct fx *f, uint64_t n, const char *const *args)
{
	pid_t pid = spawn(f, n, false, args);
	int st;

	assert_int_equal(waitpid(pid, &st, WUNTRACED), pid);
	if (!WIFSTOPPED(st)) {
		char *err = slurp(f->err);

		fail_msg("jrx %s did not reach write %llu (exit %d); stderr:\n%s",
			 args[0], (unsigned long long)n,
			 WIFEXITED(st) ? WEXITSTATUS(st) : -1, err);
	}
	return pid;
}

static void copy_file(const char *from, const char *to)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "cp --sparse=always '%s' '%s'", from, to);
	assert_int_equal(system(cmd), 0);
}

static void restore(struct fx *f)
{
	copy_file(f->a0, f->a);
	copy_file(f->b0, f->b);
}

/* dump of the array equals the reference dump; else the first line that
 * differs is named. */
static void assert_dump_is_reference(struct fx *f, const char *what)
{
	const char *dump[] = { "dump", f->a, f->b, NULL };
	char *got, *want;
	size_t i = 0, start = 0, line = 1;

	run(f, 0, dump);
	got = slurp(f->out);
	want = slurp(f->ref);
	while (got[i] && got[i] == want[i]) {
		if (got[i] == '\n') {
			line++;
			start = i + 1;
		}
		i++;
	}
	if (got[i] != want[i]) {
		char g[160] = "", w[160] = "";

		sscanf(got + start, "%159[^\n]", g);
		sscanf(want + start, "%159[^\n]", w);
		fail_msg("%s: the dump differs from the reference recovery's at"
			 " line %zu: got '%s', expected '%s'", what, line, g, w);
	}
	free(got);
	free(want);
}

static void assert_fsck_clean(struct fx *f, const char *what)
{
	const char *fsck[] = { "fsck", "-n", f->a, f->b, NULL };
	pid_t pid = spawn(f, 0, false, fsck);
	int got = wait_exit(f, pid, "fsck");

	if (got) {
		char *out = slurp(f->out);

		fail_msg("%s: fsck -n exit %d:\n%s", what, got, out);
	}
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	const char *count[4] = { "recover", NULL, NULL, NULL };
	char *err, *p;

	assert_non_null(f);
	f->fd3 = -1;
	th_dir_make(&f->dir);
	th_path(f->a, &f->dir, "a");
	th_path(f->b, &f->dir, "b");
	th_path(f->a0, &f->dir, "a0");
	th_path(f->b0, &f->dir, "b0");
	th_path(f->ref, &f->dir, "ref.txt");
	th_path(f->out, &f->dir, "out.txt");
	th_path(f->err, &f->dir, "err.txt");
	{
		const char *fmt[] = { "format", "--size", "1G", f->a, f->b, NULL };
		const char *syn[] = { "synth", "--keys", KEYS, "--base-keys", BASE,
				      "--seed", "7", f->a, f->b, NULL };

		run(f, 0, fmt);
		run(f, 0, syn);
	}
	copy_file(f->a, f->a0);
	copy_file(f->b, f->b0);
	/* the reference's end state, and how many writes a recovery makes */
	{
		const char *ref[] = { "recover", "--reference", f->a, f->b, NULL };
		const char *dump[] = { "dump", f->a, f->b, NULL };
		char cmd[600];

		run(f, 0, ref);
		run(f, 0, dump);
		snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", f->out, f->ref);
		assert_int_equal(system(cmd), 0);
	}
	restore(f);
	count[1] = f->a;
	count[2] = f->b;
	assert_int_equal(wait_exit(f, spawn(f, 0, true, count), "recover"), 0);
	err = slurp(f->err);
	p = strstr(err, "test hook: ");
	assert_non_null(p);
	f->writes = strtoull(p + strlen("test hook: "), NULL, 10);
	free(err);
	assert_true(f->writes > 20);
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

/* Kill -9 at spread-out writes, the commit's last ones included; the next
 * recovery finishes the job. */
static void test_kill_anywhere(void **state)
{
	struct fx *f = *state;
	uint64_t t = f->writes;
	uint64_t at[] = { 1, 2, t / 10, t / 4, t / 2, 3 * t / 4, t - 8, t - 4,
			  t - 3, t - 2, t - 1, t };

	for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
		bool ref_first = i % 4 == 3, ref_next = i % 2;
		const char *rec[] = { "recover", f->a, f->b, NULL };
		const char *ref[] = { "recover", "--reference", f->a, f->b, NULL };
		char what[96];
		pid_t pid;

		restore(f);
		pid = start_stopped(f, at[i], ref_first ? ref : rec);
		assert_int_equal(kill(pid, SIGKILL), 0);
		assert_int_equal(waitpid(pid, NULL, 0), pid);
		/* the kernel let go of the dead process's claim */
		run(f, 0, ref_next ? ref : rec);
		snprintf(what, sizeof(what), "%s killed before write %llu of %llu,"
			 " then %s", ref_first ? "reference" : "accelerated",
			 (unsigned long long)at[i], (unsigned long long)t,
			 ref_next ? "reference" : "accelerated");
		assert_dump_is_reference(f, what);
		assert_fsck_clean(f, what);
		/* once more changes nothing: the array is clean */
		run(f, 0, rec);
		assert_dump_is_reference(f, what);
	}
}

/* While a recovery runs, every other opener refuses naming it, or waits. */
static void test_one_writer(void **state)
{
	struct fx *f = *state;
	const char *rec[] = { "recover", f->a, f->b, NULL };
	const char *recw[] = { "recover", "--wait", f->a, f->b, NULL };
	const char *fsck[] = { "fsck", "-n", f->a, f->b, NULL };
	const char *dump[] = { "dump", f->b, f->a, NULL };
	const char *fmt[] = { "format", "--force", f->b, NULL };
	char holder[64], *err;
	pid_t first, waiter;
	int st;

	restore(f);
	first = start_stopped(f, f->writes / 2, rec);
	snprintf(holder, sizeof(holder), "in use by pid %d:", (int)first);
	run(f, 1, rec);
	err = slurp(f->err);
	assert_contains(err, holder);
	assert_contains(err, f->a);
	free(err);
	run(f, 8, fsck);		/* fsck(8): operational error */
	err = slurp(f->err);
	assert_contains(err, holder);
	free(err);
	run(f, 1, dump);
	err = slurp(f->err);
	assert_contains(err, holder);
	assert_contains(err, f->b);
	free(err);
	run(f, 1, fmt);
	err = slurp(f->err);
	assert_contains(err, holder);
	free(err);

	waiter = spawn(f, 0, false, recw);
	usleep(300 * 1000);
	assert_int_equal(waitpid(waiter, &st, WNOHANG), 0);	/* waiting */
	assert_int_equal(kill(first, SIGCONT), 0);
	assert_int_equal(wait_exit(f, first, "the first recovery"), 0);
	assert_int_equal(wait_exit(f, waiter, "recover --wait"), 0);
	assert_dump_is_reference(f, "a recovery that others tried to join");
	assert_fsck_clean(f, "a recovery that others tried to join");
}

/* fsck -y killed at spread-out writes of its repair: the next fsck -y
 * repairs (exit 1), fsck -n is clean. */
/*
 * The damaged array saved beside the devices (dmg: DEV.dmg), then fix
 * (`fsck -y`) run whole on it: exit 1.  Returns the device writes it
 * issued (the test hook), more than 4.
 */
static uint64_t save_damage_count_fix(struct fx *f, const char *const *fix,
				      char dmg[2][300])
{
	uint64_t t;
	char *err, *p;

	snprintf(dmg[0], 300, "%s.dmg", f->a);
	snprintf(dmg[1], 300, "%s.dmg", f->b);
	copy_file(f->a, dmg[0]);
	copy_file(f->b, dmg[1]);
	assert_int_equal(wait_exit(f, spawn(f, 0, true, fix), "fsck -y"), 1);
	err = slurp(f->err);
	p = strstr(err, "test hook: ");
	assert_non_null(p);
	t = strtoull(p + strlen("test hook: "), NULL, 10);
	free(err);
	assert_true(t > 4);
	return t;
}

static void test_kill_repair(void **state)
{
	struct fx *f = *state;
	const char *rec[] = { "recover", f->a, f->b, NULL };
	const char *fix[] = { "fsck", "-y", f->a, f->b, NULL };
	const char *chk[] = { "fsck", "-n", f->a, f->b, NULL };
	char dmg[2][300];
	uint64_t t;
	char *err;

	restore(f);
	run(f, 0, rec);
	{
		const char *paths[2] = { f->a, f->b };

		th_damage_alloc_key(paths, 2);
	}
	run(f, 4, chk);
	t = save_damage_count_fix(f, fix, dmg);
	for (uint64_t n = 1; n <= t; n += (t + 5) / 6) {
		pid_t pid;

		copy_file(dmg[0], f->a);
		copy_file(dmg[1], f->b);
		pid = start_stopped(f, n, fix);
		assert_int_equal(kill(pid, SIGKILL), 0);
		assert_int_equal(waitpid(pid, NULL, 0), pid);
		run(f, 1, fix);
		run(f, 0, chk);
	}
	/* SIGINT in the middle of the repair: exit 32, finished next time */
	{
		pid_t pid;

		copy_file(dmg[0], f->a);
		copy_file(dmg[1], f->b);
		pid = start_stopped(f, t / 2, fix);
		assert_int_equal(kill(pid, SIGINT), 0);
		assert_int_equal(kill(pid, SIGCONT), 0);
		assert_int_equal(wait_exit(f, pid, "fsck -y interrupted"), 32);
		err = slurp(f->err);
		assert_contains(err, "interrupted");
		free(err);
#ifdef JRX_TEST_TSAN
		/*
		 * TSan runs a signal handler at its next safe point, not at
		 * once: the interrupted repair may write on to its commit
		 * first, and the next fsck then has nothing left to do.
		 */
		{
			int got = wait_exit(f, spawn(f, 0, false, fix),
					    "fsck -y after SIGINT");

			if (got != 0 && got != 1)
				fail_msg("fsck -y after SIGINT: exit %d, expected"
					 " 0 or 1 (TSan)", got);
		}
#else
		run(f, 1, fix);
#endif
		run(f, 0, chk);
	}
	unlink(dmg[0]);
	unlink(dmg[1]);
}

/* text without its lines that start with "alloc " or "accounting "
 * (in place): the btrees a node repair's alloc rebuild rewrites. */
static char *drop_alloc_lines(char *text)
{
	char *w = text;

	for (char *l = text; *l;) {
		char *nl = strchr(l, '\n');
		size_t n = nl ? (size_t)(nl - l) + 1 : strlen(l);

		if (strncmp(l, "alloc ", 6) && strncmp(l, "accounting ", 11)) {
			memmove(w, l, n);
			w += n;
		}
		l += n;
	}
	*w = '\0';
	return text;
}

/* fsck -y killed with SIGKILL at spread-out writes of a topology repair
 * (the extents root, interior, zeroed; repair_topology.c) and of the
 * rounds after it: the next fsck -y repairs (exit 1), fsck -n is clean,
 * and the dump is the recovered array's but for alloc and accounting,
 * rebuilt around the new nodes (nothing was lost). */
static void test_kill_topology(void **state)
{
	struct fx *f = *state;
	const char *rec[] = { "recover", f->a, f->b, NULL };
	const char *fix[] = { "fsck", "-y", f->a, f->b, NULL };
	const char *chk[] = { "fsck", "-n", f->a, f->b, NULL };
	const char *dump[] = { "dump", f->a, f->b, NULL };
	char dmg[2][300], want[300], cmd[700];
	uint64_t t;

	restore(f);
	run(f, 0, rec);
	run(f, 0, dump);
	snprintf(want, sizeof(want), "%s.topo", f->ref);
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", f->out, want);
	assert_int_equal(system(cmd), 0);
	{
		const char *paths[2] = { f->a, f->b };
		struct jrx_array a;
		struct jrx_btree_root r;
		void *z;

		assert_jrx_ok(jrx_array_open(&a, paths, 2, JRX_OPEN_RDONLY));
		r = a.sb.roots[JRX_BTREE_EXTENTS];
		z = calloc(1, a.sb.btree_node_size);
		assert_non_null(z);
		assert_true(r.level > 0);
		th_file_pwrite(paths[r.v.dev], z, a.sb.btree_node_size,
			       r.v.sector * JRX_SECTOR_SIZE);
		free(z);
		jrx_array_close(&a);
	}
	run(f, 4, chk);
	t = save_damage_count_fix(f, fix, dmg);
	for (uint64_t n = 1; n <= t; n += (t + 3) / 4) {
		pid_t pid;
		char *got, *exp;

		copy_file(dmg[0], f->a);
		copy_file(dmg[1], f->b);
		pid = start_stopped(f, n, fix);
		assert_int_equal(kill(pid, SIGKILL), 0);
		assert_int_equal(waitpid(pid, NULL, 0), pid);
		run(f, 1, fix);
		run(f, 0, chk);
		run(f, 0, dump);
		got = drop_alloc_lines(slurp(f->out));
		exp = drop_alloc_lines(slurp(want));
		if (strcmp(got, exp))
			fail_msg("fsck -y killed before write %llu of %llu, then"
				 " finished: the dump (alloc and accounting"
				 " aside) differs from the undamaged array's", (unsigned long long)n,
				 (unsigned long long)t);
		free(got);
		free(exp);
	}
	unlink(dmg[0]);
	unlink(dmg[1]);
	unlink(want);
}

/* A recovery refuses an array that `jrx load` is writing. */
static void test_recover_during_load(void **state)
{
	struct fx *f = *state;
	char c[256], d[256], holder[64], *err;
	const char *fmt[] = { "format", "--size", "256M", c, d, NULL };
	const char *load[] = { "load", "--ops", "3000", c, d, NULL };
	const char *rec[] = { "recover", c, d, NULL };
	pid_t pid;

	th_path(c, &f->dir, "c");
	th_path(d, &f->dir, "d");
	run(f, 0, fmt);
	pid = start_stopped(f, 10, load);
	snprintf(holder, sizeof(holder), "in use by pid %d:", (int)pid);
	run(f, 1, rec);
	err = slurp(f->err);
	assert_contains(err, holder);
	free(err);
	assert_int_equal(kill(pid, SIGCONT), 0);
	assert_int_equal(wait_exit(f, pid, "load"), 0);
	run(f, 0, rec);		/* after it: a clean array, nothing to do */
}

/* Lines "pass done total device" as e2fsck writes them: every pass 1..6
 * in order, each starting at 0 and ending at its total; false and why. */
static bool protocol_ok(const char *text, const char *dev, char *why,
			size_t len)
{
	unsigned pass = 0, p, d, t, ended = 0;
	char name[256];
	const char *s = text;

	while (*s) {
		if (sscanf(s, "%u %u %u %255s", &p, &d, &t, name) != 4) {
			snprintf(why, len, "malformed line: %.60s", s);
			return false;
		}
		if (strcmp(name, dev) || p < pass || p > 6 || d > t) {
			snprintf(why, len, "out of order or range: %.60s", s);
			return false;
		}
		if (p != pass && d) {
			snprintf(why, len, "pass %u starts at %u", p, d);
			return false;
		}
		pass = p;
		ended += d == t;
		s = strchr(s, '\n');
		if (!s)
			break;
		s++;
	}
	if (pass != 6 || ended < 6) {
		snprintf(why, len, "ended in pass %u with %u passes complete",
			 pass, ended);
		return false;
	}
	return true;
}

static void test_fsck_progress(void **state)
{
	struct fx *f = *state;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char prog[256], sock[256], why[128], buf[8192];
	const char *fsck[] = { "fsck", "-n", "-C", "3", "--progress-socket", sock,
			       f->a, f->b, NULL };
	char *text;
	ssize_t n, got = 0;
	int ls, c;

	restore(f);
	th_path(prog, &f->dir, "progress.txt");
	th_path(sock, &f->dir, "fsck.progress");
	assert_true(strlen(sock) < sizeof(sa.sun_path));
	memcpy(sa.sun_path, sock, strlen(sock) + 1);
	ls = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(ls >= 0);
	assert_int_equal(bind(ls, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(ls, 4), 0);
	f->fd3 = open(prog, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(f->fd3 >= 0);
	run(f, 0, fsck);
	close(f->fd3);
	f->fd3 = -1;

	text = slurp(prog);
	if (!protocol_ok(text, f->a, why, sizeof(why)))
		fail_msg("-C 3: %s; the lines:\n%s", why, text);
	free(text);
	/* the same lines reached the socket (buffered until accepted) */
	c = accept(ls, NULL, NULL);
	assert_true(c >= 0);
	while ((n = read(c, buf + got, sizeof(buf) - 1 - (size_t)got)) > 0)
		got += n;
	buf[got] = 0;
	if (!protocol_ok(buf, f->a, why, sizeof(why)))
		fail_msg("socket: %s; the lines:\n%s", why, buf);
	close(c);
	close(ls);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kill_anywhere),
		cmocka_unit_test(test_one_writer),
		cmocka_unit_test(test_recover_during_load),
		cmocka_unit_test(test_kill_repair),
		cmocka_unit_test(test_kill_topology),
		cmocka_unit_test(test_fsck_progress),
	};

	return th_exit_code(cmocka_run_group_tests(tests, setup, teardown));
}
