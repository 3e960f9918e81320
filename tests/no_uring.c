/*
 * no_uring.c - runs a program on a host that refuses io_uring: the
 * seccomp filter of th_refuse_uring() (io_uring_setup fails with EPERM,
 * as container hosts' policies do), then exec.
 *
 *   no_uring PROGRAM [ARGS...]                run it so
 *   no_uring --expect-skip PROGRAM [ARGS...]  CTest's test_uring_refused:
 *       exit 0 only if PROGRAM exits 77 (its io_uring parts skipped,
 *       nothing failed) and printed why ("io_uring refused"); its output
 *       is passed through.
 *
 * Exits 77 itself if the host does not let it install the filter.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include "helpers.h"

static void refuse_and_exec(char **argv)
{
	int ret = th_refuse_uring(false);

	if (ret) {
		fprintf(stderr, "no_uring: cannot install the seccomp filter: %s\n",
			strerror(-ret));
		exit(TH_EXIT_SKIP);
	}
	execv(argv[0], argv);
	fprintf(stderr, "no_uring: %s: %s\n", argv[0], strerror(errno));
	exit(127);
}

/* Run argv with io_uring refused; its output to ours and into *out. */
static int run_captured(char **argv, char **out)
{
	size_t len = 0, cap = 0;
	int fds[2], status;
	char buf[4096];
	ssize_t n;
	pid_t pid;

	if (pipe(fds))
		return -1;
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		close(fds[0]);
		dup2(fds[1], STDOUT_FILENO);
		dup2(fds[1], STDERR_FILENO);
		close(fds[1]);
		refuse_and_exec(argv);
	}
	close(fds[1]);
	*out = NULL;
	while ((n = read(fds[0], buf, sizeof(buf))) > 0 ||
	       (n < 0 && errno == EINTR)) {
		if (n < 0)
			continue;
		fwrite(buf, 1, (size_t)n, stdout);
		if (len + (size_t)n + 1 > cap) {
			char *p;

			cap = (len + (size_t)n + 1) * 2;
			p = realloc(*out, cap);
			if (!p) {
				fprintf(stderr, "no_uring: out of memory\n");
				exit(1);
			}
			*out = p;
		}
		memcpy(*out + len, buf, (size_t)n);
		len += (size_t)n;
		(*out)[len] = 0;
	}
	close(fds[0]);
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return status;
}

int main(int argc, char **argv)
{
	char *out = NULL;
	int status;

	if (argc < 2 || (!strcmp(argv[1], "--expect-skip") && argc < 3)) {
		fprintf(stderr, "usage: no_uring [--expect-skip] PROGRAM [ARGS...]\n");
		return 2;
	}
	if (strcmp(argv[1], "--expect-skip"))
		refuse_and_exec(argv + 1);

	status = run_captured(argv + 2, &out);
	fflush(stdout);
	if (status < 0) {
		fprintf(stderr, "no_uring: cannot run %s: %s\n", argv[2],
			strerror(errno));
		return 1;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == TH_EXIT_SKIP &&
	    out && strstr(out, "io_uring refused")) {
		printf("no_uring: %s skipped its io_uring parts, nothing failed\n",
		       argv[2]);
		free(out);
		return 0;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == TH_EXIT_SKIP &&
	    strstr(out ? out : "", "cannot install the seccomp filter")) {
		free(out);
		return TH_EXIT_SKIP;	/* the host has no seccomp for us */
	}
	if (WIFEXITED(status))
		fprintf(stderr, "no_uring: %s exited %d with io_uring refused;"
			" expected %d (skipped) and \"io_uring refused\" in its"
			" output\n", argv[2], WEXITSTATUS(status), TH_EXIT_SKIP);
	else
		fprintf(stderr, "no_uring: %s died of signal %d with io_uring"
			" refused\n", argv[2], WTERMSIG(status));
	free(out);
	return 1;
}
