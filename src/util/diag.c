/* diag.c - thread-local text of the last error (see diag.h). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "diag.h"

static _Thread_local char diag_buf[1024];

/* The new text may quote the old (jrx_fail(e, "...: %s", jrx_diag())). */
int jrx_fail(int err, const char *fmt, ...)
{
	char buf[sizeof(diag_buf)];	/* the arguments may be jrx_diag() */
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	memcpy(diag_buf, buf, sizeof(buf));
	return err;
}

const char *jrx_diag(void)
{
	return diag_buf;
}

void jrx_diag_clear(void)
{
	diag_buf[0] = 0;
}

void jrx_note_line(char *buf, size_t size, const char *fmt, ...)
{
	size_t used = strlen(buf);
	va_list ap;

	if (used + 2 >= size)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + used, size - used - 1, fmt, ap);
	va_end(ap);
	used = strlen(buf);
	buf[used] = '\n';
	buf[used + 1] = 0;
}
