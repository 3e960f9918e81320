/*
 * test_degraded.c - --degraded (io/array.h JRX_OPEN_DEGRADED): a
 * replicated array read with a member missing.
 *
 *  - the journal read through the members given (sequential and
 *    accelerated) finds every seq the whole array holds;
 *  - with fewer copies than missing members the open is refused before
 *    anything is read, naming the replicas;
 *  - the missing member reads and writes nothing: each access fails
 *    with -JRX_ERR_DEV_MISSING naming it;
 *  - a dry-run recovery that needs a btree node on the missing member
 *    fails naming it, and a writing recovery is refused up front; the
 *    member given is left byte for byte as it was;
 *  - the commands: journal --degraded works, recover --degraded without
 *    --dry-run and fsck --degraded without -n are usage errors; fsck -n
 *    --degraded of a clean array names the missing member and the nodes
 *    on it, and checks the rest.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <cmocka.h>
#include "helpers.h"
#include "io/array.h"
#include "io/device.h"
#include "io/engine.h"
#include "journal/jread.h"
#include "journal/jscan.h"
#include "recovery/recover.h"
#include "util/diag.h"
#include "workload/synth.h"

struct env {
	struct th_dir dir;
	char	 p[2][1024];
	const char *paths[2];
};

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));

	assert_non_null(e);
	th_dir_make(&e->dir);
	for (unsigned i = 0; i < 2; i++) {
		char name[8];

		snprintf(name, sizeof(name), "d%u", i);
		th_path(e->p[i], &e->dir, name);
		e->paths[i] = e->p[i];
	}
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;

	th_dir_remove(&e->dir);
	free(e);
	return 0;
}

/* A 2-device array with `replicas` journal copies and a synth journal. */
static void make(struct env *e, unsigned replicas)
{
	struct th_geom g = { .size = 1ull << 30, .bucket_size = 1u << 20,
			     .node_size = 256u << 10, .replicas = replicas,
			     .journal_size = 64u << 20, .force = true };
	struct jrx_synth_opts so;
	struct jrx_synth_report sr;
	struct jrx_array a;

	for (unsigned i = 0; i < 2; i++)
		th_sparse_file(e->p[i], g.size);
	assert_jrx_ok(th_format(e->paths, 2, &g));
	jrx_synth_opts_default(&so);
	so.keys = 20000;
	assert_int_equal(jrx_array_open(&a, e->paths, 2, 0), 0);
	assert_int_equal(jrx_synth(&a, &so, &sr), 0);
	jrx_array_close(&a);
}

/* Bitmap of the valid seqs a scan found (seqs below 64 here). */
static uint64_t seqs(const struct jrx_journal_scan *s)
{
	uint64_t m = 0;

	for (size_t i = 0; i < s->nr; i++)
		if (s->v[i].state == JRX_JSET_OK) {
			assert_true(s->v[i].seq < 64);
			m |= 1ull << s->v[i].seq;
		}
	return m;
}

static void test_journal_from_one_member(void **state)
{
	struct env *e = *state;
	struct jrx_journal_scan s;
	struct jrx_io_engine *io;
	struct jrx_array a;
	uint64_t all;

	make(e, 2);
	assert_int_equal(jrx_array_open(&a, e->paths, 2, JRX_OPEN_RDONLY), 0);
	assert_int_equal(jrx_journal_read_seq(&a, &s, 0), 0);
	all = seqs(&s);
	jrx_journal_scan_free(&s);
	jrx_array_close(&a);
	assert_true(all != 0);

	for (unsigned given = 0; given < 2; given++) {
		assert_int_equal(jrx_array_open(&a, &e->paths[given], 1,
						JRX_OPEN_RDONLY |
						JRX_OPEN_DEGRADED), 0);
		assert_contains(a.notes, "is missing: degraded");
		assert_true(a.devs[1 - given].absent);
		assert_int_equal(jrx_journal_read_seq(&a, &s, 0), 0);
		if (seqs(&s) != all)
			fail_msg("member %u alone: seqs %#llx, the array's %#llx",
				 given, (unsigned long long)seqs(&s),
				 (unsigned long long)all);
		for (size_t i = 0; i < s.nr; i++)
			assert_int_equal(s.v[i].dev, given);
		jrx_journal_scan_free(&s);

		/* the accelerated read: a full scan of the member given */
		assert_int_equal(jrx_io_open(&io, &a, NULL), 0);
		assert_int_equal(jrx_journal_read_par(&a, io, 0, &s), 0);
		assert_int_equal(seqs(&s), all);
		assert_int_equal(s.mode, JRX_SCAN_FULL);
		assert_contains(s.why_full, "degraded");
		jrx_journal_scan_free(&s);
		jrx_io_close(io);
		jrx_array_close(&a);
	}
}

static void test_one_copy_refused(void **state)
{
	struct env *e = *state;
	struct jrx_array a;

	make(e, 1);
	assert_jrx_err(jrx_array_open(&a, e->paths, 1, JRX_OPEN_RDONLY |
				      JRX_OPEN_DEGRADED), -JRX_ERR_DEV_MISSING);
	assert_contains(jrx_diag(), "metadata_replicas");
	/* writing: never degraded */
	assert_jrx_err(jrx_array_open(&a, e->paths, 1, JRX_OPEN_DEGRADED),
		       -JRX_ERR_DEV_MISSING);
}

static void test_missing_member_reads_nothing(void **state)
{
	struct env *e = *state;
	char buf[4096] __attribute__((aligned(4096)));
	struct jrx_array a;

	make(e, 2);
	assert_int_equal(jrx_array_open(&a, e->paths, 1,
					JRX_OPEN_RDONLY | JRX_OPEN_DEGRADED), 0);
	assert_jrx_err(jrx_dev_pread(&a.devs[1], buf, sizeof(buf), 4096),
		       -JRX_ERR_DEV_MISSING);
	assert_contains(jrx_diag(), "member 1 (missing)");
	assert_jrx_err(jrx_dev_pwrite(&a.devs[1], buf, sizeof(buf), 4096),
		       -JRX_ERR_DEV_MISSING);
	jrx_array_close(&a);
}

static void test_recovery_needs_every_node(void **state)
{
	struct env *e = *state;
	struct jrx_recover_opts o = { .dry_run = true, .degraded = true };
	struct th_file_state before, after;
	struct jrx_report r;
	struct jrx_array a;
	struct jrx_fs view;

	make(e, 2);
	th_file_state(e->p[0], &before);
	/* synth spreads the btrees over both members: a node is missing */
	assert_int_equal(jrx_recover_open(&a, e->paths, 1, &o, &r), 0);
	th_assert_err(jrx_recover(&a, &o, &r, &view), -JRX_ERR_DEV_MISSING,
		      "dry run", __FILE__, __LINE__);
	assert_contains(jrx_diag(), "member 1 (missing)");
	jrx_array_close(&a);
	/* writing is refused before anything is opened */
	o.dry_run = false;
	assert_jrx_err(jrx_recover_open(&a, e->paths, 1, &o, &r), -JRX_ERR_BAD_OPTION);
	assert_contains(jrx_diag(), "--degraded");
	th_file_state(e->p[0], &after);
	assert_memory_equal(&before, &after, sizeof(before));
}

static int jrx(const struct env *e, const char *args)
{
	char cmd[4096];
	int st;

	snprintf(cmd, sizeof(cmd), "%s %s %s > /dev/null 2>&1", JRX_BIN, args,
		 e->p[0]);
	st = system(cmd);
	assert_true(st != -1 && WIFEXITED(st));
	return WEXITSTATUS(st);
}

static void test_commands(void **state)
{
	struct env *e = *state;

	make(e, 2);
	assert_int_equal(jrx(e, "journal --degraded"), 0);
	assert_int_equal(jrx(e, "journal"), 1);		/* a member missing */
	assert_int_equal(jrx(e, "recover --degraded"), 2);
	assert_int_equal(jrx(e, "recover --dry-run --degraded"), 1);
	assert_int_equal(jrx(e, "fsck --degraded"), 16);
	assert_int_equal(jrx(e, "fsck -n --degraded"), 12);	/* unclean */

	/* clean: what is on the missing member is listed, not checked */
	{
		char cmd[4096], out[1024], text[8192] = "";
		FILE *f;
		size_t n;
		int st;

		snprintf(cmd, sizeof(cmd), "%s recover %s %s > /dev/null",
			 JRX_BIN, e->p[0], e->p[1]);
		assert_int_equal(system(cmd), 0);
		th_path(out, &e->dir, "fsck.txt");
		snprintf(cmd, sizeof(cmd), "%s fsck -n --degraded %s > %s 2>&1",
			 JRX_BIN, e->p[0], out);
		st = system(cmd);
		assert_true(WIFEXITED(st));
		assert_int_equal(WEXITSTATUS(st), 4);
		f = fopen(out, "r");
		assert_non_null(f);
		n = fread(text, 1, sizeof(text) - 1, f);
		text[n] = 0;
		fclose(f);
		assert_contains(text, "MEMBER_MISSING: dev 1 (member 1 (missing))");
		assert_contains(text, "its member is missing (--degraded)");
		assert_true(strstr(text, "SB_COPY_BAD") == NULL);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_journal_from_one_member,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_one_copy_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_missing_member_reads_nothing,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_recovery_needs_every_node,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_commands, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
