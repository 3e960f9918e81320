/* util.c - option parsing and error printing shared by the commands. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "jrx/errors.h"
#include "util/diag.h"

bool cli_parse_u64(const char *s, uint64_t *out)
{
	char *end;

	if (!s || !*s || *s == '-')
		return false;
	errno = 0;
	*out = strtoull(s, &end, 0);
	return !errno && !*end;
}

bool cli_parse_double(const char *s, double *out)
{
	char *end;

	if (!s || !*s)
		return false;
	errno = 0;
	*out = strtod(s, &end);
	return !errno && !*end;
}

bool cli_parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	if (!s || !*s || *s == '-')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return false;
	switch (*end) {
	case 0: break;
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	case 't': case 'T': shift = 40; end++; break;
	default: return false;
	}
	if (*end == 'i' && end[1] == 'B')
		end += 2;
	else if (*end == 'B')
		end++;
	if (*end || (shift && v > (~0ull >> shift)))
		return false;
	*out = (uint64_t)v << shift;
	return true;
}

int cli_error(const char *cmd, int err)
{
	const char *d = jrx_diag();

	/* the context says what and why; the code's text would repeat it */
	if (d && *d)
		fprintf(stderr, "jrx %s: %s\n", cmd, d);
	else
		fprintf(stderr, "jrx %s: %s\n", cmd, jrx_strerror(err));
	return JRX_EXIT_ERROR;
}

int cli_open_array(const char *cmd, struct jrx_array *a, char **paths, int n,
		   unsigned flags)
{
	int ret;

	jrx_diag_clear();
	ret = jrx_array_open(a, (const char *const *)paths, (unsigned)n, flags);
	if (ret)
		return cli_error(cmd, ret);
	cli_print_notes(a);
	return 0;
}

void cli_print_notes(const struct jrx_array *a)
{
	if (a->notes[0])
		fprintf(stderr, "%s", a->notes);
}
