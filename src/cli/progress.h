/*
 * progress.h - where a long fsck shows how far it is: e2fsck's progress
 * protocol ("pass done total device" lines) on a file descriptor (-C fd)
 * and on systemd-fsckd's socket when it exists, and a bar with the time
 * left on a terminal (or stdout with -C 0); a recovery's phases as a bar
 * on a terminal.
 */
#ifndef JRX_CLI_PROGRESS_H
#define JRX_CLI_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* --progress / --no-progress, taken out of any command line by main.c:
 * the bar always, never, or (auto) when stderr is a terminal. */
enum cli_progress_mode { CLI_PROGRESS_AUTO, CLI_PROGRESS_ON, CLI_PROGRESS_OFF };
extern enum cli_progress_mode cli_progress_mode;

struct cli_progress {
	int	 fd;		/* protocol lines; -1: none */
	int	 sock;		/* systemd-fsckd; -1: none */
	FILE	*bar;		/* NULL: no bar */
	const char *device;	/* named in the protocol lines */
	unsigned pass;
	const char *name;	/* of the step, cli_progress_named */
	unsigned permille;	/* last written */
	double	 last, pass_start;
	bool	 bar_drawn;
};

/*
 * fd: -C's descriptor (> 0: the protocol there; 0: the bar on stdout; -1:
 * no -C).  socket_path: systemd-fsckd's socket, used when it exists
 * (NULL: none).  The bar also goes to stderr as cli_progress_mode says.
 */
void cli_progress_init(struct cli_progress *p, int fd, const char *socket_path,
		       const char *device);
/* A recovery's progress (report.h): a bar on the terminal only. */
void cli_progress_recover(void *ctx, unsigned phase, uint64_t done,
			  uint64_t total);
/* A step named by a string (synth's phases): "cmd: name" bars. */
void cli_progress_named(struct cli_progress *p, const char *cmd,
			const char *name, uint64_t done, uint64_t total);
/* The fsck progress callback (fsck.h), ctx a struct cli_progress. */
void cli_progress_fsck(void *ctx, unsigned pass, uint64_t done, uint64_t total);
void cli_progress_end(struct cli_progress *p);

#endif
