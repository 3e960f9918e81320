/*
 * test_placement.c - the NUMA plan of the replay workers
 * (replay/placement.h) on synthetic hwloc topologies (HWLOC_SYNTHETIC) and
 * asymmetric ones (a restricted synthetic topology exported to XML and
 * loaded through HWLOC_XMLFILE): groups per node in proportion to cores,
 * core-first PUs with wrap-around, fewer workers than nodes, CPU-less
 * nodes, --numa off, the cut of work units per group, the description
 * line, where a worker's I/O helpers go, and binding on the real machine
 * from worker threads.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <hwloc.h>
#include "helpers.h"
#include "replay/placement.h"

/* ------------------------------------------------------------ helpers */

static void clear_env(void)
{
	unsetenv("HWLOC_SYNTHETIC");
	unsetenv("HWLOC_XMLFILE");
}

/* jrx_placement_init on the synthetic topology `synth`. */
static void init_synth(struct jrx_placement *p, const char *synth,
		       unsigned threads, enum jrx_numa_mode mode)
{
	clear_env();
	setenv("HWLOC_SYNTHETIC", synth, 1);
	assert_jrx_ok(jrx_placement_init(p, threads, mode));
	clear_env();
}

static void init_xml(struct jrx_placement *p, const char *xml,
		     unsigned threads, enum jrx_numa_mode mode)
{
	clear_env();
	setenv("HWLOC_XMLFILE", xml, 1);
	assert_jrx_ok(jrx_placement_init(p, threads, mode));
	clear_env();
}

static const char *describe(const struct jrx_placement *p)
{
	static char buf[4096];

	jrx_placement_describe(p, buf, sizeof(buf));
	return buf;
}

/* Workers per group must be sizes[0..n). */
static void expect_groups(const struct jrx_placement *p, const char *what,
			  const unsigned *sizes, unsigned n)
{
	bool ok = p->nr_groups == n && p->group_first[0] == 0 &&
		p->group_first[n] == p->nr_workers;

	for (unsigned g = 0; ok && g < n; g++)
		ok = p->group_first[g + 1] - p->group_first[g] == sizes[g];
	if (ok)
		return;
	print_message("%s: expected %u groups of sizes", what, n);
	for (unsigned g = 0; g < n; g++)
		print_message(" %u", sizes[g]);
	print_message("; got %u groups of sizes", p->nr_groups);
	for (unsigned g = 0; g < p->nr_groups && g < JRX_PLACE_MAX_GROUPS; g++)
		print_message(" %u", p->group_first[g + 1] - p->group_first[g]);
	print_message(" (%u workers)\n  plan: %s\n", p->nr_workers, describe(p));
	fail();
}

/* Worker k must be in group g on node `node`, PU `pu`. */
static void expect_worker(const struct jrx_placement *p, const char *what,
			  unsigned k, unsigned g, int node, int pu)
{
	const struct jrx_place_worker *w;

	if (k >= p->nr_workers) {
		print_message("%s: worker %u missing (%u workers)\n", what, k,
			      p->nr_workers);
		fail();
	}
	w = &p->w[k];
	if (w->group == g && w->os_node == node && w->pu == pu &&
	    k >= p->group_first[g] && k < p->group_first[g + 1])
		return;
	print_message("%s: worker %u: expected group %u node %d PU %d, got group %u node %d PU %d\n"
		      "  plan: %s\n", what, k, g, node, pu, w->group,
		      w->os_node, w->pu, describe(p));
	fail();
}

/* The PUs of workers [first, first + n) must be pus[0..n). */
static void expect_pus(const struct jrx_placement *p, const char *what,
		       unsigned first, const int *pus, unsigned n)
{
	for (unsigned j = 0; j < n; j++) {
		if (first + j < p->nr_workers && p->w[first + j].pu == pus[j])
			continue;
		print_message("%s: worker %u: expected PU %d, got %d\n"
			      "  plan: %s\n", what, first + j, pus[j],
			      first + j < p->nr_workers ?
			      p->w[first + j].pu : -2, describe(p));
		fail();
	}
}

/* ------------------------------------------------------------ plans */

/* Two packages with one NUMA node each: the brief's example. */
static void test_two_packages(void **state)
{
	static const unsigned two[] = { 2, 2 };
	struct jrx_placement p;
	char small[8];
	int n;

	(void)state;
	init_synth(&p, "package:2 numa:1 core:2 pu:1", 4, JRX_NUMA_AUTO);
	assert_int_equal(p.nr_workers, 4);
	expect_groups(&p, "2 packages, 4 threads", two, 2);
	expect_worker(&p, "2 packages", 0, 0, 0, 0);
	expect_worker(&p, "2 packages", 1, 0, 0, 1);
	expect_worker(&p, "2 packages", 2, 1, 1, 2);
	expect_worker(&p, "2 packages", 3, 1, 1, 3);
	if (p.bind) {
		print_message("synthetic topology: bind must be false\n");
		fail();
	}
	assert_contains(p.why, "synthetic topology");
	/* the plan only: enter binds nothing and succeeds */
	for (unsigned k = 0; k < 4; k++)
		assert_jrx_ok(jrx_placement_enter(&p, k));
	assert_jrx_err(jrx_placement_enter(&p, 4), -EINVAL);

	/* describe: both nodes, the exact line, snprintf semantics */
	assert_contains(describe(&p), "node 0");
	assert_contains(describe(&p), "node 1");
	if (strcmp(describe(&p), "2 nodes: node 0 workers 0-1 (PU 0,1), "
		   "node 1 workers 2-3 (PU 2,3)")) {
		print_message("describe: got \"%s\"\n", describe(&p));
		fail();
	}
	n = jrx_placement_describe(&p, small, sizeof(small));
	assert_int_equal(n, (int)strlen(describe(&p)));
	assert_string_equal(small, "2 nodes");
	assert_int_equal(jrx_placement_describe(&p, NULL, 0), n);
	jrx_placement_free(&p);
	jrx_placement_free(&p);		/* idempotent */

	/* threads 0: one worker per PU */
	init_synth(&p, "package:2 numa:1 core:2 pu:1", 0, JRX_NUMA_AUTO);
	expect_groups(&p, "2 packages, threads 0", two, 2);
	jrx_placement_free(&p);
}

/* Four nodes of 2 cores x 2 PUs: 1, 2 and 5 workers per node. */
static void test_four_nodes(void **state)
{
	static const unsigned one[] = { 1, 1, 1, 1 }, two[] = { 2, 2, 2, 2 },
		five[] = { 5, 5, 5, 5 }, four[] = { 4, 4, 4, 4 };
	const char *topo = "numa:4 core:2 pu:2";
	struct jrx_placement p;

	(void)state;
	/* node g holds PUs 4g..4g+3: core 0 = {4g, 4g+1}, core 1 = {4g+2, 4g+3} */
	init_synth(&p, topo, 4, JRX_NUMA_AUTO);
	expect_groups(&p, "4 nodes, 4 threads", one, 4);
	for (unsigned g = 0; g < 4; g++)
		expect_worker(&p, "4 nodes, 4 threads", g, g, (int)g,
			      (int)(4 * g));
	jrx_placement_free(&p);

	/* two per node, the first PU of each of its cores */
	init_synth(&p, topo, 8, JRX_NUMA_AUTO);
	expect_groups(&p, "4 nodes, 8 threads", two, 4);
	for (unsigned g = 0; g < 4; g++) {
		expect_worker(&p, "4 nodes, 8 threads", 2 * g, g, (int)g,
			      (int)(4 * g));
		expect_worker(&p, "4 nodes, 8 threads", 2 * g + 1, g, (int)g,
			      (int)(4 * g + 2));
	}
	jrx_placement_free(&p);

	/* five per node: first PUs of the cores, then second PUs, wrap */
	init_synth(&p, topo, 20, JRX_NUMA_AUTO);
	expect_groups(&p, "4 nodes, 20 threads", five, 4);
	for (unsigned g = 0; g < 4; g++) {
		const int b = (int)(4 * g);
		const int pus[5] = { b, b + 2, b + 1, b + 3, b };

		expect_pus(&p, "4 nodes, 20 threads (core-first, wrap)", 5 * g,
			   pus, 5);
		for (unsigned j = 0; j < 5; j++)
			expect_worker(&p, "4 nodes, 20 threads", 5 * g + j, g,
				      (int)g, pus[j]);
	}
	jrx_placement_free(&p);

	/* threads 0: every PU exactly once */
	init_synth(&p, topo, 0, JRX_NUMA_AUTO);
	expect_groups(&p, "4 nodes, threads 0", four, 4);
	for (int pu = 0; pu < 16; pu++) {
		unsigned seen = 0;

		for (unsigned k = 0; k < p.nr_workers; k++)
			seen += p.w[k].pu == pu;
		if (seen != 1) {
			print_message("threads 0: PU %d used by %u workers\n  plan: %s\n",
				      pu, seen, describe(&p));
			fail();
		}
	}
	jrx_placement_free(&p);
}

/* Worker k's helper PUs must be the list `want` ("" and -ENOENT: none). */
static void expect_helpers(const struct jrx_placement *p, const char *what,
			   unsigned k, const char *want)
{
	char desc[64];
	cpu_set_t cpus;
	int ret = jrx_placement_helper_cpus(p, k, &cpus, desc, sizeof(desc));

	if (!*want && ret == -ENOENT && !CPU_COUNT(&cpus))
		return;
	if (ret || strcmp(desc, want)) {
		print_message("%s: worker %u's helpers on \"%s\" (%d), want \"%s\"\n"
			      "  plan: %s\n", what, k, desc, ret, want, describe(p));
		fail();
	}
	/* the set says what the list says */
	for (int pu = 0; pu < 64; pu++) {
		char one[8];
		bool listed = false;

		snprintf(one, sizeof(one), "%d", pu);
		for (const char *s = desc; *s;) {
			int a, b, n;

			if (sscanf(s, "%d-%d%n", &a, &b, &n) == 2 ||
			    (sscanf(s, "%d%n", &a, &n) == 1 && (b = a, 1)))
				listed |= a <= pu && pu <= b;
			else
				break;
			s += n;
			s += *s == ',';
		}
		if (listed != (bool)CPU_ISSET(pu, &cpus)) {
			print_message("%s: worker %u: PU %d %s the list \"%s\""
				      " but %s the set\n", what, k, pu,
				      listed ? "in" : "not in", desc,
				      listed ? "not in" : "in");
			fail();
		}
	}
}

/*
 * The helpers of a worker go to the PUs of its node no worker holds,
 * never to another node's; none when the workers hold every PU of the
 * node, or without a topology (--numa off).
 */
static void test_helper_cpus(void **state)
{
	/* node g of the first: PUs 4g..4g+3 */
	static const struct {
		const char *topo;
		unsigned threads, worker;
		const char *want;
	} cases[] = {
		/* one worker (PU 0): the rest of node 0 */
		{ "numa:2 core:4 pu:1", 1, 0, "1-3" },
		/* one a node (PUs 0 and 4): the rest of each one's node */
		{ "numa:2 core:4 pu:1", 2, 0, "1-3" },
		{ "numa:2 core:4 pu:1", 2, 1, "5-7" },
		/* three a node: the one PU left of each node */
		{ "numa:2 core:4 pu:1", 6, 0, "3" },
		{ "numa:2 core:4 pu:1", 6, 5, "7" },
		/* 3 on node 0 (PUs 0-2), 2 on node 1 (PUs 4-5) */
		{ "numa:2 core:4 pu:1", 5, 0, "3" },
		{ "numa:2 core:4 pu:1", 5, 4, "6-7" },
		/* every PU held: none */
		{ "numa:2 core:4 pu:1", 8, 0, "" },
		{ "numa:2 core:4 pu:1", 8, 7, "" },
		/* more workers than PUs (wrap-around): none either */
		{ "numa:1 core:2 pu:1", 3, 2, "" },
	};
	struct jrx_placement p;
	char what[96];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(what, sizeof(what), "%s, %u threads", cases[i].topo,
			 cases[i].threads);
		init_synth(&p, cases[i].topo, cases[i].threads, JRX_NUMA_AUTO);
		expect_helpers(&p, what, cases[i].worker, cases[i].want);
		jrx_placement_free(&p);
	}

	/* placement off: none, nothing said */
	init_synth(&p, "numa:2 core:4 pu:1", 2, JRX_NUMA_OFF);
	expect_helpers(&p, "--numa off", 0, "");
	jrx_placement_free(&p);
}

/*
 * Linux-style numbering, hyperthread siblings far apart: node 0 has cores
 * {0,4} and {1,5}, node 1 {2,6} and {3,7}.  Core-first means 0,1 then 4,5.
 */
static void test_sibling_numbering(void **state)
{
	static const unsigned four[] = { 4, 4 };
	static const int n0[] = { 0, 1, 4, 5 }, n1[] = { 2, 3, 6, 7 };
	struct jrx_placement p;

	(void)state;
	init_synth(&p, "numa:2 core:2 pu:2(indexes=0,4,1,5,2,6,3,7)", 8,
		   JRX_NUMA_AUTO);
	expect_groups(&p, "sibling numbering", four, 2);
	expect_pus(&p, "sibling numbering, node 0", 0, n0, 4);
	expect_pus(&p, "sibling numbering, node 1", 4, n1, 4);
	jrx_placement_free(&p);

	/* no Core objects: every PU counts as a core */
	init_synth(&p, "numa:2 pu:3", 4, JRX_NUMA_AUTO);
	{
		static const unsigned sz[] = { 2, 2 };
		static const int pus[] = { 0, 1, 3, 4 };

		expect_groups(&p, "no cores", sz, 2);
		expect_pus(&p, "no cores", 0, pus, 4);
	}
	jrx_placement_free(&p);
}

/* Fewer workers than PUs, or than nodes. */
static void test_few_threads(void **state)
{
	static const unsigned two_one[] = { 2, 1 }, one[] = { 1 },
		three[] = { 1, 1, 1 };
	struct jrx_placement p;

	(void)state;
	init_synth(&p, "numa:2 core:2 pu:1", 3, JRX_NUMA_AUTO);
	expect_groups(&p, "3 threads on 2 nodes", two_one, 2);
	expect_worker(&p, "3 threads on 2 nodes", 0, 0, 0, 0);
	expect_worker(&p, "3 threads on 2 nodes", 1, 0, 0, 1);
	expect_worker(&p, "3 threads on 2 nodes", 2, 1, 1, 2);
	jrx_placement_free(&p);

	init_synth(&p, "numa:4 core:2 pu:2", 1, JRX_NUMA_AUTO);
	expect_groups(&p, "1 thread on 4 nodes", one, 1);
	expect_worker(&p, "1 thread on 4 nodes", 0, 0, 0, 0);
	jrx_placement_free(&p);

	init_synth(&p, "numa:4 core:2 pu:2", 3, JRX_NUMA_AUTO);
	expect_groups(&p, "3 threads on 4 nodes", three, 3);
	for (unsigned g = 0; g < 3; g++)
		expect_worker(&p, "3 threads on 4 nodes", g, g, (int)g,
			      (int)(4 * g));
	jrx_placement_free(&p);

	/* one node: one group, pinned core-first */
	init_synth(&p, "numa:1 core:2 pu:2", 3, JRX_NUMA_AUTO);
	{
		static const unsigned sz[] = { 3 };
		static const int pus[] = { 0, 2, 1 };

		expect_groups(&p, "one node", sz, 1);
		expect_pus(&p, "one node", 0, pus, 3);
		assert_int_equal(p.w[0].os_node, 0);
	}
	jrx_placement_free(&p);
}

/*
 * Synthetic descriptions give every node the same arity, so asymmetric
 * machines are built by loading one, restricting it to some PUs and
 * exporting it as XML (HWLOC_XMLFILE).
 */
static void make_xml(const char *synth, unsigned last_pu, const char *path)
{
	hwloc_topology_t t;
	hwloc_bitmap_t set;

	assert_int_equal(hwloc_topology_init(&t), 0);
	assert_int_equal(hwloc_topology_set_synthetic(t, synth), 0);
	assert_int_equal(hwloc_topology_load(t), 0);
	set = hwloc_bitmap_alloc();
	assert_non_null(set);
	hwloc_bitmap_set_range(set, 0, (int)last_pu);
	if (hwloc_topology_restrict(t, set, 0) < 0 ||
	    hwloc_topology_export_xml(t, path, 0) < 0) {
		print_message("%s restricted to PUs 0-%u, exported to %s: %s\n",
			      synth, last_pu, path, strerror(errno));
		fail();
	}
	hwloc_bitmap_free(set);
	hwloc_topology_destroy(t);
}

static void test_asymmetric(void **state)
{
	char xml[256];
	struct jrx_placement p;
	struct th_dir d;

	(void)state;
	th_dir_make(&d);
	th_path(xml, &d, "topo.xml");

	/* node 0: 4 cores (PUs 0-3), node 1: 2 cores (PUs 4-5) */
	make_xml("numa:2 core:4 pu:1", 5, xml);
	{
		static const struct {
			unsigned threads, n0, n1;
		} cases[] = {
			{ 6, 4, 2 }, { 3, 2, 1 }, { 2, 1, 1 }, { 12, 8, 4 },
			{ 5, 3, 2 },	/* 3.33 + 1.67: the larger remainder */
		};

		for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
			const unsigned sz[2] = { cases[c].n0, cases[c].n1 };
			char what[64];

			snprintf(what, sizeof(what), "4+2 cores, %u threads",
				 cases[c].threads);
			init_xml(&p, xml, cases[c].threads, JRX_NUMA_AUTO);
			expect_groups(&p, what, sz, 2);
			expect_worker(&p, what, 0, 0, 0, 0);
			expect_worker(&p, what, cases[c].n0, 1, 1, 4);
			if (p.bind) {
				print_message("%s: XML topology must not bind\n",
					      what);
				fail();
			}
			assert_contains(p.why, "plan only");
			jrx_placement_free(&p);
		}
	}

	/* 8 cores against 1: the small node still gets a worker */
	make_xml("numa:2 core:8 pu:1", 8, xml);
	{
		static const unsigned sz[] = { 3, 1 };

		init_xml(&p, xml, 4, JRX_NUMA_AUTO);
		expect_groups(&p, "8+1 cores, 4 threads", sz, 2);
		expect_worker(&p, "8+1 cores, 4 threads", 3, 1, 1, 8);
		jrx_placement_free(&p);
	}

	/* node 1 keeps its memory but loses its PUs: no group for it */
	make_xml("numa:2 core:4 pu:1", 3, xml);
	{
		static const unsigned sz[] = { 4 };

		init_xml(&p, xml, 4, JRX_NUMA_AUTO);
		expect_groups(&p, "CPU-less node 1", sz, 1);
		for (unsigned k = 0; k < 4; k++)
			expect_worker(&p, "CPU-less node 1", k, 0, 0, (int)k);
		jrx_placement_free(&p);
	}
	th_dir_remove(&d);
}

static void test_off(void **state)
{
	static const unsigned six[] = { 6 }, sixteen[] = { 16 };
	struct jrx_placement p;

	(void)state;
	init_synth(&p, "numa:4 core:2 pu:2", 6, JRX_NUMA_OFF);
	expect_groups(&p, "--numa off", six, 1);
	for (unsigned k = 0; k < 6; k++)
		expect_worker(&p, "--numa off", k, 0, -1, -1);
	if (p.bind) {
		print_message("--numa off: bind must be false\n");
		fail();
	}
	assert_string_equal(p.why, "placement off (--numa off)");
	assert_string_equal(describe(&p), "placement off: 6 workers unpinned");
	for (unsigned k = 0; k < 6; k++)
		assert_jrx_ok(jrx_placement_enter(&p, k));
	jrx_placement_free(&p);

	/* threads 0: still one worker per PU of the machine */
	init_synth(&p, "numa:4 core:2 pu:2", 0, JRX_NUMA_OFF);
	expect_groups(&p, "--numa off, threads 0", sixteen, 1);
	jrx_placement_free(&p);

	assert_jrx_err(jrx_placement_init(&p, 2, (enum jrx_numa_mode)7),
		       -EINVAL);
	assert_null(p.w);
	jrx_placement_free(&p);
}

/* ------------------------------------------------------------ split */

/*
 * unit_first must be monotonic from 0 to n, and each group's total within
 * one unit's weight (the heaviest) of total * workers / nr_workers; with
 * all-zero weights, the same on unit counts.
 */
static void check_split(const struct jrx_placement *p, const char *what,
			const uint64_t *w, size_t n, const size_t *uf)
{
	unsigned G = p->nr_groups;
	uint64_t total = 0, heaviest = 0;
	bool zero;

	for (size_t i = 0; i < n; i++) {
		total += w[i];
		if (w[i] > heaviest)
			heaviest = w[i];
	}
	zero = total == 0;
	if (zero) {
		total = n;
		heaviest = 1;
	}
	if (uf[0] != 0 || uf[G] != n) {
		print_message("%s: unit_first[0] = %zu, unit_first[%u] = %zu; expected 0 and %zu\n",
			      what, uf[0], G, uf[G], n);
		fail();
	}
	for (unsigned g = 0; g < G; g++) {
		uint64_t got = 0;
		double target = (double)total *
			(p->group_first[g + 1] - p->group_first[g]) /
			p->nr_workers;

		if (uf[g] > uf[g + 1]) {
			print_message("%s: unit_first[%u] = %zu > unit_first[%u] = %zu\n",
				      what, g, uf[g], g + 1, uf[g + 1]);
			fail();
		}
		for (size_t i = uf[g]; i < uf[g + 1]; i++)
			got += zero ? 1 : w[i];
		if ((double)got > target + (double)heaviest ||
		    (double)got < target - (double)heaviest) {
			print_message("%s: group %u (units %zu-%zu) weighs %" PRIu64
				      ", target %.1f, heaviest unit %" PRIu64 "\n",
				      what, g, uf[g], uf[g + 1], got, target,
				      heaviest);
			fail();
		}
	}
}

static void test_split(void **state)
{
	static const char *const topos[] = {
		"numa:2 core:2 pu:1",		/* with 4 threads: 2 + 2 */
		"numa:3 core:2 pu:1",		/* with 7 threads: 3 + 2 + 2 */
		"numa:4 core:2 pu:2",
	};
	static const unsigned threads[] = { 4, 7, 16 };
	uint64_t w[1000], rng = 5;
	size_t uf[JRX_PLACE_MAX_GROUPS + 1];
	struct jrx_placement p;

	(void)state;
	/* 2 groups of 2 workers, 100 units of 1: the cut is exactly 50 */
	init_synth(&p, topos[0], 4, JRX_NUMA_AUTO);
	assert_int_equal(p.nr_groups, 2);
	for (size_t i = 0; i < 100; i++)
		w[i] = 1;
	jrx_placement_split(&p, w, 100, uf);
	if (uf[0] != 0 || uf[1] != 50 || uf[2] != 100) {
		print_message("100 units of 1 on 2+2 workers: cut %zu %zu %zu, expected 0 50 100\n",
			      uf[0], uf[1], uf[2]);
		fail();
	}
	jrx_placement_free(&p);

	for (size_t t = 0; t < sizeof(topos) / sizeof(topos[0]); t++) {
		char what[96];

		init_synth(&p, topos[t], threads[t], JRX_NUMA_AUTO);

		/* uniform */
		for (size_t i = 0; i < 1000; i++)
			w[i] = 10;
		snprintf(what, sizeof(what), "%s uniform", topos[t]);
		jrx_placement_split(&p, w, 1000, uf);
		check_split(&p, what, w, 1000, uf);

		/* skewed: one unit holds 90% of the weight */
		for (size_t at = 0; at < 100; at += 33) {
			for (size_t i = 0; i < 100; i++)
				w[i] = i == at ? 891 : 1;
			snprintf(what, sizeof(what), "%s skewed at %zu",
				 topos[t], at);
			jrx_placement_split(&p, w, 100, uf);
			check_split(&p, what, w, 100, uf);
		}

		/* zero weights: cut by unit count */
		memset(w, 0, sizeof(w));
		snprintf(what, sizeof(what), "%s zero weights", topos[t]);
		jrx_placement_split(&p, w, 1000, uf);
		check_split(&p, what, w, 1000, uf);

		/* fewer units than groups, and none */
		for (size_t n = 0; n < p.nr_groups; n++) {
			for (size_t i = 0; i < n; i++)
				w[i] = 1 + i;
			snprintf(what, sizeof(what), "%s %zu units", topos[t],
				 n);
			jrx_placement_split(&p, w, n, uf);
			check_split(&p, what, w, n, uf);
		}

		/* random sizes, some zero */
		for (unsigned round = 0; round < 50; round++) {
			size_t n = 1 + th_rand_below(&rng, 1000);

			for (size_t i = 0; i < n; i++)
				w[i] = th_rand_below(&rng, 4) ? 0 :
					th_rand_below(&rng, 1u << 20);
			snprintf(what, sizeof(what), "%s random round %u",
				 topos[t], round);
			jrx_placement_split(&p, w, n, uf);
			check_split(&p, what, w, n, uf);
		}
		jrx_placement_free(&p);
	}

	/* one group: everything */
	init_synth(&p, "numa:4 core:2 pu:2", 4, JRX_NUMA_OFF);
	w[0] = 3;
	w[1] = 4;
	jrx_placement_split(&p, w, 2, uf);
	assert_int_equal(uf[0], 0);
	assert_int_equal(uf[1], 2);
	jrx_placement_free(&p);
}

/* ------------------------------------------------------------ this machine */

struct worker_arg {
	const struct jrx_placement *p;
	unsigned k;
	int ret;
	bool bound_ok;		/* binding checked, or not applicable */
	char diag[256];
};

static void *worker(void *arg)
{
	struct worker_arg *a = arg;
	const struct jrx_placement *p = a->p;

	a->ret = jrx_placement_enter(p, a->k);
	snprintf(a->diag, sizeof(a->diag), "%s", jrx_diag());
	a->bound_ok = true;
	if (!a->ret && p->bind) {
		hwloc_bitmap_t got = hwloc_bitmap_alloc();
		hwloc_bitmap_t want = hwloc_bitmap_alloc();

		hwloc_bitmap_only(want, (unsigned)p->w[a->k].pu);
		a->bound_ok = got && want &&
			!hwloc_get_cpubind(p->topo, got, HWLOC_CPUBIND_THREAD) &&
			hwloc_bitmap_isequal(got, want);
		hwloc_bitmap_free(got);
		hwloc_bitmap_free(want);
	}
	return NULL;
}

static bool nonfatal(int ret)
{
	return ret == 0 || ret == -ENOSYS || ret == -EXDEV || ret == -EPERM;
}

static void test_this_machine(void **state)
{
	struct worker_arg a[2];
	pthread_t th[2];
	struct jrx_placement p;

	(void)state;
	clear_env();
	assert_jrx_ok(jrx_placement_init(&p, 2, JRX_NUMA_AUTO));
	assert_int_equal(p.nr_workers, 2);
	assert_true(p.nr_groups >= 1 && p.nr_groups <= 2);
	print_message("this machine: %s; bind %s%s%s\n", describe(&p),
		      p.bind ? "yes" : "no", p.why[0] ? ": " : "", p.why);
	assert_true(describe(&p)[0] != 0);
	for (unsigned k = 0; k < 2; k++) {
		if (p.w[k].pu < 0 || p.w[k].os_node < 0) {
			print_message("worker %u unplaced: node %d PU %d\n", k,
				      p.w[k].os_node, p.w[k].pu);
			fail();
		}
	}

	/* both workers bind themselves at once, on the shared plan */
	for (unsigned k = 0; k < 2; k++) {
		a[k] = (struct worker_arg){ .p = &p, .k = k };
		assert_int_equal(pthread_create(&th[k], NULL, worker, &a[k]), 0);
	}
	for (unsigned k = 0; k < 2; k++) {
		assert_int_equal(pthread_join(th[k], NULL), 0);
		if (!nonfatal(a[k].ret)) {
			print_message("worker %u: enter returned %d (%s): %s\n",
				      k, a[k].ret, th_errname(a[k].ret),
				      a[k].diag);
			fail();
		}
		if (a[k].ret)
			print_message("worker %u: binding refused (%s), non-fatal: %s\n",
				      k, th_errname(a[k].ret), a[k].diag);
		if (!a[k].bound_ok) {
			print_message("worker %u: enter returned 0 but the thread is not bound to PU %d\n",
				      k, p.w[k].pu);
			fail();
		}
	}
	jrx_placement_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_two_packages),
		cmocka_unit_test(test_four_nodes),
		cmocka_unit_test(test_sibling_numbering),
		cmocka_unit_test(test_few_threads),
		cmocka_unit_test(test_asymmetric),
		cmocka_unit_test(test_off),
		cmocka_unit_test(test_helper_cpus),
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_this_machine),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
