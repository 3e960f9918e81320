/* diag.c - thread-local text of the last error (see diag.h). */
#include <stdarg.h>
#include <stdio.h>
#include "diag.h"

static _Thread_local char diag_buf[1024];

int jrx_fail(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(diag_buf, sizeof(diag_buf), fmt, ap);
	va_end(ap);
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
