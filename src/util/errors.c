/* errors.c - message and name tables for enum jrx_err (see errors.h). */
#include <string.h>
#include <errno.h>
#include "jrx/errors.h"

static const char *const msgs[] = {
#define JRX_X(name, msg) [JRX_ERR_##name - JRX_ERR_START] = msg,
	JRX_ERRORS(JRX_X)
#undef JRX_X
};

static const char *const names[] = {
#define JRX_X(name, msg) [JRX_ERR_##name - JRX_ERR_START] = "JRX_ERR_" #name,
	JRX_ERRORS(JRX_X)
#undef JRX_X
};

const char *jrx_strerror(int err)
{
	int e = err < 0 ? -err : err;

	if (e > JRX_ERR_START && e < JRX_ERR_MAX)
		return msgs[e - JRX_ERR_START];
	return strerror(e);
}

const char *jrx_errname(int err)
{
	int e = err < 0 ? -err : err;

	if (e > JRX_ERR_START && e < JRX_ERR_MAX)
		return names[e - JRX_ERR_START];
	return strerrorname_np(e) ? strerrorname_np(e) : "EUNKNOWN";
}
