/*
 * progress.c - fsck progress on a descriptor, systemd-fsckd's socket and a
 * terminal (progress.h).  Lines and bars are written when the pass
 * changes, when it ends, and otherwise at most ten times a second and
 * only when the per-mille figure moved.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include "progress.h"
#include "util/clock.h"
#include "recovery/report.h"

enum cli_progress_mode cli_progress_mode = CLI_PROGRESS_AUTO;

static const char *const pass_name[] = {
	"", "superblocks", "journal", "nodes", "buckets", "accounting",
	"namespace",
};

static int connect_socket(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int s;

	if (!path || stat(path, &st) || !S_ISSOCK(st.st_mode) ||
	    strlen(path) >= sizeof(sa.sun_path))
		return -1;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -1;
	if (connect(s, (struct sockaddr *)&sa, sizeof(sa))) {
		close(s);
		return -1;
	}
	return s;
}

void cli_progress_init(struct cli_progress *p, int fd, const char *socket_path,
		       const char *device)
{
	memset(p, 0, sizeof(*p));
	p->fd = fd > 0 ? fd : -1;
	p->sock = connect_socket(socket_path);
	p->bar = fd == 0 ? stdout :
		cli_progress_mode == CLI_PROGRESS_ON ? stderr :
		cli_progress_mode == CLI_PROGRESS_AUTO && isatty(2) ? stderr : NULL;
	p->device = device;
	p->permille = ~0u;
}

static void put_line(int fd, const char *line, size_t len)
{
	while (fd >= 0 && len) {
		ssize_t w = write(fd, line, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;		/* a reader gone: progress is optional */
		line += w;
		len -= (size_t)w;
	}
}

static void draw_bar(struct cli_progress *p, const char *label, unsigned pm,
		     double now)
{
	char bar[41];
	double el = now - p->pass_start;
	unsigned fill = pm * 40 / 1000;

	memset(bar, '=', fill);
	memset(bar + fill, ' ', 40 - fill);
	bar[40] = 0;
	fprintf(p->bar, "\r%-20s [%s] %5.1f%%", label, bar, pm / 10.0);
	if (pm > 20 && pm < 1000)
		fprintf(p->bar, ", %.0f s left ", el * (1000 - pm) / pm);
	else
		fprintf(p->bar, "             ");
	fflush(p->bar);
	p->bar_drawn = true;
}

/* Whether step (done of total) is worth writing now; the per mille in *pm. */
static bool due(struct cli_progress *p, unsigned step, uint64_t done,
		uint64_t total, unsigned *pm, double now)
{
	*pm = total ? (unsigned)(done >= total ? 1000 : done * 1000 / total) : 0;
	if (step == p->pass && (*pm == p->permille ||
				(*pm != 1000 && now - p->last < 0.1)))
		return false;
	if (step != p->pass) {
		if (p->bar && p->bar_drawn)
			fputc('\n', p->bar);
		p->pass = step;
		p->pass_start = now;
	}
	p->permille = *pm;
	p->last = now;
	return true;
}

void cli_progress_recover(void *ctx, unsigned phase, uint64_t done,
			  uint64_t total)
{
	struct cli_progress *p = ctx;
	double now = jrx_now();
	char label[64];
	unsigned pm;

	if (!p->bar || !due(p, phase + 1, done, total, &pm, now))
		return;
	snprintf(label, sizeof(label), "recover: %s",
		 phase < JRX_PHASE_NR ? jrx_phase_names[phase] : "");
	draw_bar(p, label, pm, now);
}

void cli_progress_named(struct cli_progress *p, const char *cmd,
			const char *name, uint64_t done, uint64_t total)
{
	double now = jrx_now();
	unsigned step = p->pass;
	char label[64];
	unsigned pm;

	if (!p->bar)
		return;
	if (!p->name || strcmp(p->name, name)) {
		p->name = name;
		step++;			/* a new step: due() starts it */
	}
	if (!due(p, step, done, total, &pm, now))
		return;
	snprintf(label, sizeof(label), "%s: %s", cmd, name);
	draw_bar(p, label, pm, now);
}

void cli_progress_fsck(void *ctx, unsigned pass, uint64_t done, uint64_t total)
{
	struct cli_progress *p = ctx;
	double now = jrx_now();
	char line[320];
	unsigned pm;
	int len;

	if (!due(p, pass, done, total, &pm, now))
		return;
	/* e2fsck's: "pass current max device", here in per-mille of the pass */
	len = snprintf(line, sizeof(line), "%u %u 1000 %s\n", pass, pm,
		       p->device);
	if (len > 0 && (size_t)len < sizeof(line)) {
		put_line(p->fd, line, (size_t)len);
		put_line(p->sock, line, (size_t)len);
	}
	if (p->bar) {
		snprintf(line, sizeof(line), "pass %u %s", pass,
			 pass < 7 ? pass_name[pass] : "");
		draw_bar(p, line, pm, now);
	}
}

void cli_progress_end(struct cli_progress *p)
{
	if (p->bar && p->bar_drawn)
		fputc('\n', p->bar);
	if (p->sock >= 0)
		close(p->sock);
	p->sock = -1;
}
