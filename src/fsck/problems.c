/*
 * problems.c - the problem table and the one reporting function
 * (problems.h): template expansion, text and JSON output, counting, and
 * the fsck(8) exit code.  The fix policy will live in jrx_problem() too.
 */
#include <stdarg.h>
#include <string.h>
#include <inttypes.h>
#include "problems.h"
#include "../format/bkey.h"
#include "../io/array.h"

const struct jrx_problem_desc jrx_problem_table[JRX_PR_NR] = {
#define JRX_X(nm, sev, fx, fl, m)					\
	[JRX_PR_##nm] = { .code = JRX_PR_##nm, .name = #nm,		\
			  .severity = JRX_SEV_##sev, .fix = JRX_FIX_##fx, \
			  .flags = (fl), .msg = (m) },
	JRX_PROBLEMS(JRX_X)
#undef JRX_X
};

const char *const jrx_pass_names[JRX_PASS_NR] = {
	"superblocks", "journal", "nodes", "buckets", "accounting", "namespace",
};

const char *const jrx_severity_names[JRX_SEV_NR] = {
	"info", "warning", "error",
};

void jrx_pr_ctx_init(struct jrx_pr_ctx *c)
{
	memset(c, 0, sizeof(*c));
	c->dev = -1;
	c->offset = JRX_PR_NONE;
	c->bucket = JRX_PR_NONE;
	c->btree = -1;
	c->level = -1;
	c->num = JRX_PR_NONE;
	c->want = JRX_PR_NONE;
}

void jrx_pr_expected(struct jrx_pr_ctx *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->expected, sizeof(c->expected), fmt, ap);
	va_end(ap);
}

void jrx_pr_found(struct jrx_pr_ctx *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->found, sizeof(c->found), fmt, ap);
	va_end(ap);
}

int jrx_problem_by_name(const char *name)
{
	for (int i = 0; i < JRX_PR_NR; i++)
		if (!strcmp(jrx_problem_table[i].name, name))
			return i;
	return -1;
}

static const char *dev_path(const struct jrx_pr_out *o, int dev)
{
	if (o->a && dev >= 0 && (unsigned)dev < o->a->nr_devs &&
	    o->a->devs[dev].path)
		return o->a->devs[dev].path;
	return "?";
}

/* Appends to buf at *used, never past len - 1. */
static void put(char *buf, size_t len, size_t *used, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void put(char *buf, size_t len, size_t *used, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*used + 1 >= len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *used, len - *used, fmt, ap);
	va_end(ap);
	if (n > 0)
		*used += (size_t)n < len - *used ? (size_t)n : len - *used - 1;
}

size_t jrx_problem_text(char *buf, size_t len, const struct jrx_pr_out *o,
			enum jrx_pr_code code, const struct jrx_pr_ctx *c)
{
	const char *m = jrx_problem_table[code].msg;
	size_t used = 0;
	char pos[96];

	if (!len)
		return 0;
	buf[0] = 0;
	for (; *m; m++) {
		if (*m != '%' || !m[1]) {
			put(buf, len, &used, "%c", *m);
			continue;
		}
		switch (*++m) {
		case 'D':
			if (c->dev >= 0)
				put(buf, len, &used, "dev %d (%s)", c->dev,
				    dev_path(o, c->dev));
			else
				put(buf, len, &used, "dev ?");
			break;
		case 'o':
			if (c->offset != JRX_PR_NONE)
				put(buf, len, &used, "%" PRIu64, c->offset);
			else
				put(buf, len, &used, "?");
			break;
		case 'B':
			if (c->bucket != JRX_PR_NONE)
				put(buf, len, &used, "%" PRIu64, c->bucket);
			else
				put(buf, len, &used, "?");
			break;
		case 'b':
			put(buf, len, &used, "%s", c->btree >= 0 ?
			    jrx_btree_name((unsigned)c->btree) : "?");
			break;
		case 'l':
			if (c->level >= 0)
				put(buf, len, &used, "%d", c->level);
			else
				put(buf, len, &used, "?");
			break;
		case 'p':
			if (c->has_pos) {
				jrx_bpos_to_text(pos, sizeof(pos), c->pos);
				put(buf, len, &used, "%s", pos);
			} else {
				put(buf, len, &used, "?");
			}
			break;
		case 'n':
			if (c->num != JRX_PR_NONE)
				put(buf, len, &used, "%" PRIu64, c->num);
			else
				put(buf, len, &used, "?");
			break;
		case 'e':
			put(buf, len, &used, "%s", c->expected);
			break;
		case 'f':
			put(buf, len, &used, "%s", c->found);
			break;
		case 'w':
			put(buf, len, &used, "%s", c->why ? c->why : "");
			break;
		case '%':
			put(buf, len, &used, "%%");
			break;
		default:
			put(buf, len, &used, "%%%c", *m);
			break;
		}
	}
	return used;
}

static void print_json(struct jrx_pr_out *o, enum jrx_pr_code code,
		       const struct jrx_pr_ctx *c, const char *msg)
{
	const struct jrx_problem_desc *d = &jrx_problem_table[code];
	FILE *f = o->f;
	char pos[96];

	fprintf(f, "%s\n    {\"severity\":\"%s\",\"code\":\"%s\",\"pass\":\"%s\"",
		o->printed ? "," : "", jrx_severity_names[d->severity], d->name,
		jrx_pass_names[o->pass]);
	if (c->dev >= 0) {
		fprintf(f, ",\"dev\":%d,\"device\":", c->dev);
		jrx_json_str(f, dev_path(o, c->dev));
	}
	if (c->offset != JRX_PR_NONE)
		fprintf(f, ",\"offset\":%" PRIu64, c->offset);
	if (c->bucket != JRX_PR_NONE)
		fprintf(f, ",\"bucket\":%" PRIu64, c->bucket);
	if (c->btree >= 0)
		fprintf(f, ",\"btree\":\"%s\"", jrx_btree_name((unsigned)c->btree));
	if (c->level >= 0)
		fprintf(f, ",\"level\":%d", c->level);
	if (c->has_pos) {
		jrx_bpos_to_text(pos, sizeof(pos), c->pos);
		fprintf(f, ",\"pos\":\"%s\"", pos);
	}
	if (c->num != JRX_PR_NONE)
		fprintf(f, ",\"num\":%" PRIu64, c->num);
	if (c->expected[0]) {
		fprintf(f, ",\"expected\":");
		jrx_json_str(f, c->expected);
	}
	if (c->found[0]) {
		fprintf(f, ",\"found\":");
		jrx_json_str(f, c->found);
	}
	fprintf(f, ",\"message\":");
	jrx_json_str(f, msg);
	fputc('}', f);
}

bool jrx_problem(struct jrx_pr_out *o, enum jrx_pr_code code,
		 const struct jrx_pr_ctx *c)
{
	const struct jrx_problem_desc *d = &jrx_problem_table[code];
	bool quiet = o->read_only && (d->flags & JRX_PRF_NO_NOMSG);
	char msg[1024];

	if (o->counts) {
		o->counts->code[code]++;
		o->counts->sev[d->severity]++;
		if (d->severity != JRX_SEV_INFO)
			o->counts->pass[o->pass]++;
	}
	if (o->f && !quiet) {
		jrx_problem_text(msg, sizeof(msg), o, code, c);
		if (o->json)
			print_json(o, code, c, msg);
		else
			fprintf(o->f, "%s: %s: %s\n",
				jrx_severity_names[d->severity], d->name, msg);
		o->printed++;
	}
	if (o->hook)
		o->hook(o->hook_ctx, code, c);
	/* repairs are whole (a kind at a time): jrx_pr_fixes() decides them
	 * from the counts once the check is over */
	return false;
}

unsigned jrx_pr_fixes(const struct jrx_pr_counts *c, enum jrx_repair_mode mode,
		      bool *unexpected)
{
	unsigned fixes = 0;

	*unexpected = false;
	if (mode == JRX_REPAIR_NONE)
		return 0;
	for (unsigned i = 0; i < JRX_PR_NR; i++) {
		const struct jrx_problem_desc *d = &jrx_problem_table[i];

		if (!c->code[i] || d->severity == JRX_SEV_INFO)
			continue;
		if (mode == JRX_REPAIR_PREEN &&
		    (!(d->flags & JRX_PRF_PREEN_OK) || d->fix == JRX_FIX_NONE))
			*unexpected = true;
		if (d->fix != JRX_FIX_NONE)
			fixes |= 1u << d->fix;
	}
	return *unexpected ? 0 : fixes;
}

int jrx_pr_exit_code(const struct jrx_pr_counts *c, bool operational_error)
{
	int code = 0;

	if (c && (c->sev[JRX_SEV_ERROR] || c->sev[JRX_SEV_WARNING]))
		code |= 4;
	if (operational_error)
		code |= 8;
	return code;
}
