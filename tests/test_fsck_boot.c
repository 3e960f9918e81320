/*
 * test_fsck_boot.c - fsck.jrx as fsck(8) runs it at boot, on loop
 * devices: a crashed two-device array named as "/dev/loopA:/dev/loopB"
 * through `fsck -t jrx -a` is recovered (exit 1) and then checks clean;
 * one member alone (`fsck.jrx -a /dev/loopA`) finds the other by
 * scanning block devices; UUID= names the array; -p on a clean array
 * answers at once without a check; --no-scan with one member fails
 * naming the missing member; systemd-fsck with an fstab entry of type
 * jrx (LIBMOUNT_FSTAB points fsck(8) at a file of the test's) recovers
 * the array and exits 0.
 *
 * Needs root, losetup and fsck(8); skips (exit 77, reason printed)
 * where any is missing or loop devices are refused.  The build's jrx and
 * fsck.jrx come first in PATH.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include "helpers.h"

struct fx {
	struct th_dir dir;
	char img[2][256], loop[2][64], out[256], path_env[4096];
	bool attached[2];
};

static char skip_why[256];

/* Runs cmd (a shell line) with the build dir first in PATH; stdout and
 * stderr together into f->out; returns the exit code. */
static int sh(struct fx *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int sh(struct fx *f, const char *fmt, ...)
{
	char cmd[2048], line[8192];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	snprintf(line, sizeof(line), "PATH='%s' %s > '%s' 2>&1", f->path_env,
		 cmd, f->out);
	st = system(line);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static char *output(struct fx *f)
{
	static char buf[1 << 16];
	FILE *fp = fopen(f->out, "r");
	size_t n = 0;

	if (fp) {
		n = fread(buf, 1, sizeof(buf) - 1, fp);
		fclose(fp);
	}
	buf[n] = 0;
	return buf;
}

/* cmd must exit with one of want (up to two codes); prints its output. */
static void expect(struct fx *f, int want1, int want2, const char *cmd)
{
	int got = sh(f, "%s", cmd);

	if (got != want1 && got != want2)
		fail_msg("'%s': exit %d, expected %d%s; output:\n%s", cmd, got,
			 want1, want1 != want2 ? " or the other" : "", output(f));
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char cmd[600];

	assert_non_null(f);
	if (geteuid() != 0) {
		snprintf(skip_why, sizeof(skip_why), "not root: loop devices");
		free(f);
		return -1;
	}
	if (system("command -v losetup >/dev/null && command -v fsck >/dev/null")) {
		snprintf(skip_why, sizeof(skip_why), "losetup or fsck(8) missing");
		free(f);
		return -1;
	}
	th_dir_make(&f->dir);
	th_path(f->out, &f->dir, "out.txt");
	snprintf(f->path_env, sizeof(f->path_env), "%s:%s", JRX_BIN_DIR,
		 getenv("PATH") ? getenv("PATH") : "/usr/sbin:/usr/bin:/sbin:/bin");
	for (int i = 0; i < 2; i++) {
		FILE *p;

		snprintf(cmd, sizeof(cmd), "img%d", i);
		th_path(f->img[i], &f->dir, cmd);
		th_sparse_file(f->img[i], 256ull << 20);
		snprintf(cmd, sizeof(cmd), "losetup -f --show '%s' 2>/dev/null",
			 f->img[i]);
		p = popen(cmd, "r");
		if (!p || !fgets(f->loop[i], sizeof(f->loop[i]), p) ||
		    strncmp(f->loop[i], "/dev/", 5)) {
			if (p)
				pclose(p);
			snprintf(skip_why, sizeof(skip_why), "losetup refused a"
				 " loop device");
			for (int j = 0; j < i; j++) {
				snprintf(cmd, sizeof(cmd), "losetup -d %s", f->loop[j]);
				if (system(cmd)) { /* best effort */ }
			}
			th_dir_remove(&f->dir);
			free(f);
			return -1;
		}
		pclose(p);
		f->loop[i][strcspn(f->loop[i], "\n")] = 0;
		f->attached[i] = true;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	for (int i = 0; i < 2; i++)
		if (f->attached[i]) {
			snprintf(cmd, sizeof(cmd), "losetup -d %s", f->loop[i]);
			if (system(cmd)) { /* best effort */ }
		}
	th_dir_remove(&f->dir);
	free(f);
	return 0;
}

static void crash(struct fx *f, unsigned seed)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "jrx load --ops 3000 --crash-after-ops 1800"
		 " --seed %u %s %s", seed, f->loop[0], f->loop[1]);
	expect(f, 0, 0, cmd);
	/* crashed: a read-only check sees it unclean, through the dry run */
	snprintf(cmd, sizeof(cmd), "jrx show-super %s %s", f->loop[0], f->loop[1]);
	expect(f, 0, 0, cmd);
	assert_contains(output(f), "needs recovery");
}

static void test_boot(void **state)
{
	struct fx *f = *state;
	char cmd[512], uuid[64] = "";
	char *p;

	snprintf(cmd, sizeof(cmd), "jrx format %s %s", f->loop[0], f->loop[1]);
	expect(f, 0, 0, cmd);

	/* fsck(8) with the array as one name: recovered, exit 1 */
	crash(f, 1);
	snprintf(cmd, sizeof(cmd), "fsck -t jrx -a %s:%s", f->loop[0], f->loop[1]);
	expect(f, 1, 1, cmd);
	snprintf(cmd, sizeof(cmd), "fsck.jrx -n %s:%s", f->loop[0], f->loop[1]);
	expect(f, 0, 0, cmd);

	/* one member: the other is found by the scan */
	crash(f, 2);
	snprintf(cmd, sizeof(cmd), "fsck -t jrx -a %s", f->loop[0]);
	expect(f, 1, 1, cmd);
	assert_contains(output(f), "found by scanning");
	assert_contains(output(f), f->loop[1]);
	snprintf(cmd, sizeof(cmd), "fsck.jrx -n %s", f->loop[1]);
	expect(f, 0, 0, cmd);

	/* clean under -p: at once, not checked; -f checks */
	snprintf(cmd, sizeof(cmd), "fsck.jrx -p %s", f->loop[0]);
	expect(f, 0, 0, cmd);
	assert_contains(output(f), "clean");
	assert_contains(output(f), "not checked");
	snprintf(cmd, sizeof(cmd), "fsck.jrx -p -f %s", f->loop[0]);
	expect(f, 0, 0, cmd);
	assert_contains(output(f), "pass 6");

	/* UUID= */
	snprintf(cmd, sizeof(cmd), "jrx show-super --json %s", f->loop[0]);
	expect(f, 0, 0, cmd);
	p = strstr(output(f), "\"uuid\":\"");
	assert_non_null(p);
	sscanf(p + 8, "%32[0-9a-f]", uuid);
	assert_int_equal(strlen(uuid), 32);
	crash(f, 3);
	snprintf(cmd, sizeof(cmd), "fsck.jrx -y UUID=%s", uuid);
	expect(f, 1, 1, cmd);

	/* systemd-fsck, as systemd-fsck@.service runs it, with fstab type jrx */
	if (access("/lib/systemd/systemd-fsck", X_OK)) {
		printf("[  SKIPPED ] systemd-fsck part: /lib/systemd/systemd-fsck"
		       " not installed\n");
	} else {
		char fstab[256];
		FILE *fp;

		th_path(fstab, &f->dir, "fstab");
		fp = fopen(fstab, "w");
		assert_non_null(fp);
		fprintf(fp, "%s /mnt/jrx-test jrx defaults 0 2\n", f->loop[0]);
		fclose(fp);
		crash(f, 4);
		snprintf(cmd, sizeof(cmd), "LIBMOUNT_FSTAB='%s'"
			 " /lib/systemd/systemd-fsck %s", fstab, f->loop[0]);
		expect(f, 0, 0, cmd);
		assert_contains(output(f), "exit code 1");
		snprintf(cmd, sizeof(cmd), "jrx show-super %s", f->loop[0]);
		expect(f, 0, 0, cmd);
		assert_contains(output(f), "state:             clean");
	}

	/* --no-scan: the member not named is missing */
	snprintf(cmd, sizeof(cmd), "fsck.jrx -n --no-scan %s", f->loop[0]);
	expect(f, 8, 8, cmd);
	assert_contains(output(f), "member 1 of 2");
	/* the options fsck(8) forbids together */
	snprintf(cmd, sizeof(cmd), "fsck.jrx -p -y %s", f->loop[0]);
	expect(f, 16, 16, cmd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_boot, setup, teardown),
	};
	struct fx *probe = NULL;

	/* the whole program needs loop devices: skip it, with the reason */
	if (setup((void **)&probe)) {
		printf("[  SKIPPED ] test_fsck_boot: %s\n", skip_why);
		return TH_EXIT_SKIP;
	}
	teardown((void **)&probe);
	return th_exit_code(cmocka_run_group_tests(tests, NULL, NULL));
}
