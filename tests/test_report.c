/*
 * test_report.c - the JSON reports against docs/REPORT.md: every command
 * with --json (format, show-super, synth, journal, dump, recover in its
 * three modes, fsck clean, skipped, damaged and unopened, load, verify,
 * demo) is run by the jrx binary on small arrays, its output parsed with
 * json-c, and every field it prints must be a row of the command's table
 * in REPORT.md, with the type that row gives; every row marked "always"
 * must be printed.  Rows typed "see CMD" are checked against CMD's table
 * (demo's recovery reports, journal's keys).  A few values must agree
 * across commands: what synth wrote is what recover read.  The per-phase
 * CPU accounting (phase_cpu) is also checked on phases of known cost.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <json-c/json.h>
#include "helpers.h"
#include "recovery/report.h"

#define MAX_ROWS	1024
#define MAX_SECTIONS	16

struct row {
	char	 path[128];
	char	 type[48];
	bool	 always;
};

struct section {
	char	 cmds[64];		/* " recover " */
	struct row *rows;
	size_t	 nr;
};

static struct section sections[MAX_SECTIONS];
static size_t nr_sections;
static struct th_dir dir;

/* ------------------------------------------------------------ REPORT.md */

static char *trim(char *s)
{
	char *e;

	while (*s == ' ')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\n'))
		*--e = 0;
	return s;
}

static void load_doc(void)
{
	FILE *f = fopen(JRX_REPORT_MD, "r");
	char line[2048];
	struct section *cur = NULL;

	if (!f)
		fail_msg("cannot open %s", JRX_REPORT_MD);
	while (fgets(line, sizeof(line), f)) {
		char *cells[6], *p = line;
		unsigned n = 0;

		if (!strncmp(line, "<!-- report: ", 13)) {
			assert_true(nr_sections < MAX_SECTIONS);
			cur = &sections[nr_sections++];
			*strstr(line, " -->") = 0;
			snprintf(cur->cmds, sizeof(cur->cmds), " %.60s ", line + 13);
			cur->rows = calloc(MAX_ROWS, sizeof(*cur->rows));
			assert_non_null(cur->rows);
			continue;
		}
		if (!strncmp(line, "## ", 3))
			cur = NULL;	/* a section without a marker: prose */
		if (!cur || strncmp(line, "| `", 3))
			continue;
		while (n < 6 && (p = strchr(p, '|'))) {
			*p++ = 0;
			cells[n++] = p;
		}
		if (n < 5)
			fail_msg("REPORT.md: a row with %u cells: %s", n, cells[0]);
		for (unsigned i = 0; i < 4; i++)
			*strchrnul(cells[i], '|') = 0;
		assert_true(cur->nr < MAX_ROWS);
		{
			struct row *r = &cur->rows[cur->nr++];
			char *path = trim(cells[0]);

			path[strlen(path) - 1] = 0;	/* the backquotes */
			snprintf(r->path, sizeof(r->path), "%s", path + 1);
			snprintf(r->type, sizeof(r->type), "%s", trim(cells[1]));
			r->always = !strcmp(trim(cells[2]), "always");
		}
	}
	fclose(f);
	assert_true(nr_sections >= 9);
}

static struct section *section_of(const char *cmd)
{
	char key[80];

	snprintf(key, sizeof(key), " %s ", cmd);
	for (size_t i = 0; i < nr_sections; i++)
		if (strstr(sections[i].cmds, key))
			return &sections[i];
	fail_msg("docs/REPORT.md has no section for '%s'", cmd);
	return NULL;
}

/* ------------------------------------------------------------ matching */

/* path against a row's path: segment by segment, "*" any one name. */
static bool path_match(const char *pat, const char *path)
{
	for (;;) {
		size_t lp = strcspn(pat, "."), lq = strcspn(path, ".");

		if (!(lp == 1 && pat[0] == '*') &&
		    (lp != lq || strncmp(pat, path, lp)))
			return false;
		if (lp == 1 && pat[0] == '*' && memchr(path, '[', lq))
			return false;
		pat += lp;
		path += lq;
		if (!*pat || !*path)
			return !*pat && !*path;
		pat++;
		path++;
	}
}

static struct row *find_row(struct section *s, const char *path)
{
	for (size_t i = 0; i < s->nr; i++)
		if (path_match(s->rows[i].path, path))
			return &s->rows[i];
	return NULL;
}

static bool type_ok(const char *type, json_object *v)
{
	enum json_type t = json_object_get_type(v);
	char base[48];
	const char *or_null = strstr(type, " or null");

	if (or_null) {
		if (t == json_type_null)
			return true;
		snprintf(base, sizeof(base), "%.*s", (int)(or_null - type), type);
		type = base;
	}
	if (!strcmp(type, "count") || !strcmp(type, "bytes") ||
	    !strcmp(type, "seq"))
		return t == json_type_int && json_object_get_int64(v) >= 0;
	if (!strcmp(type, "seconds"))
		return (t == json_type_int || t == json_type_double) &&
			json_object_get_double(v) >= 0;
	if (!strcmp(type, "number"))
		return t == json_type_int || t == json_type_double;
	if (!strcmp(type, "string"))
		return t == json_type_string;
	if (!strcmp(type, "position")) {
		const char *p = json_object_get_string(v);
		unsigned long long a, b;
		unsigned c;
		char end;

		return t == json_type_string &&
			(!strcmp(p, "POS_MAX") ||
			 sscanf(p, "%llu:%llu:%u%c", &a, &b, &c, &end) == 3);
	}
	if (!strcmp(type, "bool"))
		return t == json_type_boolean;
	if (!strcmp(type, "object") || !strncmp(type, "see ", 4))
		return t == json_type_object;
	if (!strcmp(type, "list"))
		return t == json_type_array;
	fail_msg("REPORT.md: unknown type '%s'", type);
	return false;
}

/* v at path (of what cmd printed) against s; fails on the first field
 * not listed or of another type. */
static void check(const char *cmd, struct section *s, json_object *v,
		  const char *path)
{
	char child[256];

	if (json_object_is_type(v, json_type_object)) {
		json_object_object_foreach(v, k, x) {
			struct row *r;

			snprintf(child, sizeof(child), "%s%s%s", path,
				 *path ? "." : "", k);
			r = find_row(s, child);
			if (!r)
				fail_msg("jrx %s --json prints `%s`, which"
					 " docs/REPORT.md does not list", cmd,
					 child);
			if (!type_ok(r->type, x))
				fail_msg("jrx %s --json: `%s` is %s, REPORT.md"
					 " says %s", cmd, child,
					 json_object_to_json_string(x), r->type);
			if (!strncmp(r->type, "see ", 4)) {
				struct section *t = section_of(r->type + 4);

				check(cmd, t, x, "");
				continue;
			}
			check(cmd, s, x, child);
		}
	} else if (json_object_is_type(v, json_type_array)) {
		size_t n = json_object_array_length(v);

		snprintf(child, sizeof(child), "%s[]", path);
		for (size_t i = 0; i < n; i++) {
			json_object *x = json_object_array_get_idx(v, i);
			struct row *r = find_row(s, child);

			if (!r)
				fail_msg("jrx %s --json prints elements of `%s`,"
					 " which docs/REPORT.md does not list",
					 cmd, child);
			if (!type_ok(r->type, x))
				fail_msg("jrx %s --json: an element of `%s` is"
					 " %s, REPORT.md says %s", cmd, path,
					 json_object_to_json_string(x), r->type);
			if (!strncmp(r->type, "see ", 4)) {
				check(cmd, section_of(r->type + 4), x, "");
				continue;
			}
			check(cmd, s, x, child);
		}
	}
}

/* Every "always" row of s is in v (paths through objects only). */
static void check_always(const char *cmd, struct section *s, json_object *v)
{
	for (size_t i = 0; i < s->nr; i++) {
		const struct row *r = &s->rows[i];
		json_object *x = v;
		char buf[128], *save = NULL, *seg;
		bool found = true;

		if (!r->always || strchr(r->path, '[') || strchr(r->path, '*'))
			continue;
		snprintf(buf, sizeof(buf), "%s", r->path);
		/* a member whose value is null is there (get_ex: true) */
		for (seg = strtok_r(buf, ".", &save); seg && found;
		     seg = strtok_r(NULL, ".", &save))
			found = json_object_object_get_ex(x, seg, &x);
		if (!found)
			fail_msg("jrx %s --json leaves out `%s`, which"
				 " docs/REPORT.md says is always there", cmd,
				 r->path);
	}
}

/* ------------------------------------------------------------ running */

static void path_of(char *out, const char *name)
{
	th_path(out, &dir, name);
}

/* Run "jrx ARGS" (ARGS may name files of the test's directory as %D/),
 * stdout to out.json; its exit code. */
static int run(const char *args, const char *out)
{
	char cmd[8192], o[1024], expanded[2048];
	const char *p = args;
	size_t n = 0;
	int st;

	while (*p && n + 512 < sizeof(expanded)) {
		if (p[0] == '%' && p[1] == 'D') {
			n += (size_t)snprintf(expanded + n, sizeof(expanded) - n,
					      "%s", dir.path);
			p += 2;
		} else {
			expanded[n++] = *p++;
		}
	}
	expanded[n] = 0;
	path_of(o, out);
	snprintf(cmd, sizeof(cmd), "%s %s > %s 2> %s.err", JRX_BIN, expanded,
		 o, o);
	st = system(cmd);
	assert_true(st != -1 && WIFEXITED(st));
	return WEXITSTATUS(st);
}

static json_object *parse(const char *out)
{
	char p[1024];
	json_object *v;

	path_of(p, out);
	v = json_object_from_file(p);
	if (!v)
		fail_msg("%s is not one JSON object: %s", out,
			 json_util_get_last_err());
	return v;
}

/* out holds the JSON of `jrx cmd`: check it, keep it for the caller. */
static json_object *checked(const char *cmd, const char *out)
{
	json_object *v = parse(out);
	struct section *s = section_of(cmd);

	check(cmd, s, v, "");
	check_always(cmd, s, v);
	return v;
}

static json_object *member(json_object *v, const char *path)
{
	char buf[128], *save = NULL, *seg;

	snprintf(buf, sizeof(buf), "%s", path);
	for (seg = strtok_r(buf, ".", &save); seg; seg = strtok_r(NULL, ".", &save))
		if (!json_object_object_get_ex(v, seg, &v))
			fail_msg("no `%s` in the report", path);
	return v;
}

static int64_t get(json_object *v, const char *path)
{
	return json_object_get_int64(member(v, path));
}

static double getd(json_object *v, const char *path)
{
	return json_object_get_double(member(v, path));
}

static int setup(void **state)
{
	(void)state;
	load_doc();
	th_dir_make(&dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	th_dir_remove(&dir);
	for (size_t i = 0; i < nr_sections; i++)
		free(sections[i].rows);
	return 0;
}

#define ARRAY "%D/a %D/b"
#define FORMAT "format --size 1G --journal-size 64M --json "

/* ------------------------------------------------------------ the tests */

/* format, synth, journal, show-super, dump of an unclean array; then the
 * three recoveries, and synth's counts against recover's. */
static void test_make_and_recover(void **state)
{
	json_object *synth, *rec, *ref, *dry, *v;

	(void)state;
	assert_int_equal(run(FORMAT ARRAY, "format.json"), 0);
	json_object_put(checked("format", "format.json"));
	assert_int_equal(run("synth --keys 20000 --dist hot --json " ARRAY,
			     "synth.json"), 0);
	synth = checked("synth", "synth.json");
	assert_int_equal(run("journal --keys --json " ARRAY, "journal.json"), 0);
	v = checked("journal", "journal.json");
	assert_int_equal(get(v, "seq_last"), get(synth, "journal.seq_last"));
	json_object_put(v);
	assert_int_equal(run("show-super --json %D/a", "super1.json"), 0);
	json_object_put(checked("show-super", "super1.json"));

	/* dump: JSON lines, each line one key */
	assert_int_equal(run("dump --json " ARRAY, "dump.json"), 0);
	{
		char p[1024], line[8192];
		FILE *f;
		unsigned lines = 0;

		path_of(p, "dump.json");
		f = fopen(p, "r");
		assert_non_null(f);
		while (fgets(line, sizeof(line), f)) {
			json_object *k = json_tokener_parse(line);

			if (!k)
				fail_msg("dump --json line %u is not JSON: %s",
					 lines + 1, line);
			check("dump", section_of("dump"), k, "");
			check_always("dump", section_of("dump"), k);
			json_object_put(k);
			lines++;
		}
		fclose(f);
		assert_true(lines > 20000);
	}

	/* the copies the reference recovers */
	{
		char cmd[4096];

		snprintf(cmd, sizeof(cmd), "cp --sparse=always %s/a %s/ra &&"
			 " cp --sparse=always %s/b %s/rb", dir.path, dir.path,
			 dir.path, dir.path);
		assert_int_equal(system(cmd), 0);
	}
	assert_int_equal(run("recover --dry-run --json " ARRAY, "dry.json"), 0);
	dry = checked("recover", "dry.json");
	assert_int_equal(run("recover --reference --json %D/ra %D/rb",
			     "ref.json"), 0);
	ref = checked("recover", "ref.json");
	assert_int_equal(run("recover --json " ARRAY, "rec.json"), 0);
	rec = checked("recover", "rec.json");

	/* one vocabulary: what synth wrote is what each recovery read */
	assert_int_equal(get(rec, "keys.read"), get(synth, "keys.written"));
	assert_int_equal(get(ref, "keys.read"), get(synth, "keys.written"));
	assert_int_equal(get(dry, "keys.read"), get(synth, "keys.written"));
	assert_int_equal(get(rec, "journal.seq_first"),
			 get(synth, "journal.seq_first"));
	assert_int_equal(get(rec, "journal.seq_last"),
			 get(synth, "journal.seq_last"));
	assert_int_equal(get(rec, "devices"), 2);
	/* the phases' CPU: each no more than every core for the phase's
	 * time (with a tick of slack: the kernel charges CPU by the tick) */
	{
		static const char *ph[] = { "superblock", "journal_read", "sort",
					    "replay", "commit" };
		long cores = sysconf(_SC_NPROCESSORS_ONLN);

		for (size_t i = 0; i < sizeof(ph) / sizeof(ph[0]); i++) {
			char a[64], b[64], w[64];
			double u, sy, wall;

			snprintf(a, sizeof(a), "phase_cpu.%s.user", ph[i]);
			snprintf(b, sizeof(b), "phase_cpu.%s.sys", ph[i]);
			snprintf(w, sizeof(w), "phases.%s", ph[i]);
			u = getd(rec, a);
			sy = getd(rec, b);
			wall = getd(rec, w);
			if (u < 0 || sy < 0 ||
			    u + sy > wall * (double)(cores > 0 ? cores : 1) + 0.05)
				fail_msg("recover --json: %s charged %.6f s user"
					 " and %.6f s sys in %.6f s on %ld cores",
					 ph[i], u, sy, wall, cores);
		}
	}
	json_object_put(synth);
	json_object_put(dry);
	json_object_put(ref);
	json_object_put(rec);

	/* the recovered array: show-super of both, fsck -n clean, -p skips */
	assert_int_equal(run("show-super --json " ARRAY, "super2.json"), 0);
	json_object_put(checked("show-super", "super2.json"));
	assert_int_equal(run("fsck -n --json " ARRAY, "fsck.json"), 0);
	v = checked("fsck", "fsck.json");
	assert_int_equal(get(v, "devices"), 2);
	json_object_put(v);
	assert_int_equal(run("fsck -p --json " ARRAY, "skip.json"), 0);
	v = checked("fsck", "skip.json");
	assert_true(json_object_get_boolean(json_object_object_get(v, "skipped")));
	json_object_put(v);
}

/*
 * phase_cpu: a phase that spins charges user time, one that touches fresh
 * memory charges its page faults, one that sleeps charges neither; and a
 * recovery's phases together use no more CPU than the process did.
 */
static void test_phase_cpu(void **state)
{
	enum { SPIN_MS = 60, SLEEP_MS = 60, PAGES = 4096 };
	struct jrx_report r;
	struct timespec ts = { 0, SLEEP_MS * 1000000L };
	volatile uint64_t x = 0;
	unsigned char *m;
	double t, t0;
	long page = sysconf(_SC_PAGESIZE);
	const struct jrx_cpu *c;

	(void)state;
	jrx_report_init(&r, "accelerated");
	t = jrx_phase_begin(&r, JRX_PHASE_SORT);
	t0 = jrx_now();
	while (jrx_now() - t0 < SPIN_MS / 1000.0)
		x++;
	jrx_phase_end(&r, JRX_PHASE_SORT, t);
	c = &r.phase_cpu[JRX_PHASE_SORT];
	if (c->user + c->sys < SPIN_MS / 2000.0)
		fail_msg("a phase that spun %d ms is charged %.3f s user and"
			 " %.3f s sys: want at least %.3f s", SPIN_MS, c->user,
			 c->sys, SPIN_MS / 2000.0);

	/* fresh anonymous pages, no huge pages: one fault a page */
	m = mmap(NULL, PAGES * (size_t)page, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(m != MAP_FAILED);
	madvise(m, PAGES * (size_t)page, MADV_NOHUGEPAGE);
	t = jrx_phase_begin(&r, JRX_PHASE_REPLAY);
	for (size_t i = 0; i < PAGES; i++)
		m[i * (size_t)page] = 1;
	jrx_phase_end(&r, JRX_PHASE_REPLAY, t);
	munmap(m, PAGES * (size_t)page);
	c = &r.phase_cpu[JRX_PHASE_REPLAY];
	if (c->minflt < PAGES / 2)
		fail_msg("a phase that touched %d fresh pages is charged %"
			 PRIu64 " minor faults: want at least %d", PAGES,
			 c->minflt, PAGES / 2);

	t = jrx_phase_begin(&r, JRX_PHASE_COMMIT);
	nanosleep(&ts, NULL);
	jrx_phase_end(&r, JRX_PHASE_COMMIT, t);
	c = &r.phase_cpu[JRX_PHASE_COMMIT];
	if (r.phase[JRX_PHASE_COMMIT] < SLEEP_MS / 1000.0 ||
	    c->user + c->sys > SLEEP_MS / 3000.0)
		fail_msg("a phase that slept %d ms took %.3f s and is charged"
			 " %.3f s user and %.3f s sys: want at most %.3f s",
			 SLEEP_MS, r.phase[JRX_PHASE_COMMIT], c->user, c->sys,
			 SLEEP_MS / 3000.0);
}

/* fsck's problems: a backup superblock copy zeroed; and an array that
 * cannot be opened. */
static void test_fsck_problems(void **state)
{
	static const uint8_t zero[4096];
	char a[1024];
	json_object *v, *probs;

	(void)state;
	assert_int_equal(run(FORMAT "%D/p0 %D/p1", "pformat.json"), 0);
	v = parse("pformat.json");
	json_object_put(v);
	path_of(a, "p0");
	th_file_pwrite(a, zero, sizeof(zero), 512 * 1024);	/* the backup */
	assert_int_equal(run("fsck -n --json %D/p0 %D/p1", "pfsck.json"), 4);
	v = checked("fsck", "pfsck.json");
	probs = json_object_object_get(v, "problems");
	assert_true(json_object_array_length(probs) >= 1);
	json_object_put(v);

	assert_int_equal(run("fsck -n --json %D/missing0", "nofsck.json"), 8);
	v = checked("fsck", "nofsck.json");
	assert_non_null(json_object_object_get(v, "error_message"));
	json_object_put(v);
}

/* load with an oracle, recover, verify. */
static void test_load_verify(void **state)
{
	json_object *v;

	(void)state;
	assert_int_equal(run(FORMAT "%D/l0 %D/l1", "lformat.json"), 0);
	assert_int_equal(run("load --ops 3000 --crash-after-ops 2000 --oracle"
			     " %D/o.sqlite --json %D/l0 %D/l1", "load.json"), 0);
	v = checked("load", "load.json");
	assert_true(json_object_get_boolean(json_object_object_get(v, "crashed")));
	json_object_put(v);
	assert_int_equal(run("recover %D/l0 %D/l1", "lrec.txt"), 0);
	assert_int_equal(run("verify --oracle %D/o.sqlite --json %D/l0 %D/l1",
			     "verify.json"), 0);
	v = checked("verify", "verify.json");
	assert_true(json_object_get_boolean(json_object_object_get(v, "match")));
	json_object_put(v);
}

/* demo --quick: its two recovery reports are recover's. */
static void test_demo(void **state)
{
	json_object *v;

	(void)state;
	assert_int_equal(run("version", "version.txt"), 0);
	{
		char d[1024];

		path_of(d, "demo");
		assert_int_equal(mkdir(d, 0700), 0);
	}
	assert_int_equal(run("demo --quick --json --ops 2000 --dir %D/demo",
			     "demo.json"), 0);
	v = checked("demo", "demo.json");
	check_always("recover", section_of("recover"),
		     json_object_object_get(json_object_object_get(v, "small"),
					    "accelerated"));
	json_object_put(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_phase_cpu),
		cmocka_unit_test(test_make_and_recover),
		cmocka_unit_test(test_fsck_problems),
		cmocka_unit_test(test_load_verify),
		cmocka_unit_test(test_demo),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
