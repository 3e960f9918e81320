/*
 * placement.c - the NUMA plan of the replay workers and their binding
 * (placement.h): the hwloc topology in, one group of workers per NUMA node
 * with a PU each out; the per-group cut of the work units; the one-line
 * description for reports.
 *
 * Planning walks the PUs once in logical order: each gets its nearest NUMA
 * node and its rank inside its core (0 for the first PU of a core, 1 for
 * the second, ...).  A node's PUs in core-first order are then its rank-0
 * PUs in logical order, then its rank-1 PUs, and so on.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <hwloc.h>
#include "placement.h"
#include "jrx/errors.h"
#include "../util/clock.h"
#include "../util/diag.h"

/* A NUMA node that is some PU's nearest: a candidate group. */
struct cand {
	hwloc_obj_t node;
	unsigned nr_pus, nr_cores;
	unsigned first;		/* its PUs: order[first .. first + nr_pus) */
};

struct plan {
	unsigned nr_pus;
	int	*node_of;	/* per PU (logical index): candidate, or -1 */
	unsigned *rank;		/* per PU: its index inside its core */
	int	*order;		/* OS indexes of PUs, candidate by candidate,
				 * core-first inside each */
	struct cand *cand;
	unsigned nr_cand;
};

static void plan_free(struct plan *pl)
{
	free(pl->node_of);
	free(pl->rank);
	free(pl->order);
	free(pl->cand);
}

/* The first NUMA node among the memory children of o or its ancestors. */
static hwloc_obj_t nearest_node(hwloc_obj_t o)
{
	for (; o; o = o->parent) {
		hwloc_obj_t m = o->memory_first_child;

		while (m && m->type != HWLOC_OBJ_NUMANODE)
			m = m->memory_first_child;	/* through MemCache */
		if (m)
			return m;
	}
	return NULL;
}

static int load_topology(hwloc_topology_t *out)
{
	hwloc_topology_t t;
	int err;

	if (hwloc_topology_init(&t) < 0)
		return jrx_fail(errno ? -errno : -ENOMEM,
				"hwloc: cannot initialise a topology");
	if (hwloc_topology_load(t) < 0) {
		err = errno ? -errno : -EIO;
		hwloc_topology_destroy(t);
		return jrx_fail(err, "hwloc: cannot load the machine topology");
	}
	*out = t;
	return 0;
}

/*
 * On this system, keep only the PUs the calling thread may run on (workers
 * inherit its affinity): taskset, numactl --physcpubind.  Best effort.
 */
static void restrict_to_affinity(hwloc_topology_t t)
{
	hwloc_const_cpuset_t all = hwloc_topology_get_topology_cpuset(t);
	hwloc_bitmap_t set = hwloc_bitmap_alloc();

	if (set && !hwloc_get_cpubind(t, set, HWLOC_CPUBIND_THREAD) &&
	    hwloc_bitmap_intersects(set, all) &&
	    !hwloc_bitmap_isincluded(all, set))
		hwloc_topology_restrict(t, set, 0);
	hwloc_bitmap_free(set);
}

/* The candidates of t and their PUs in core-first order. */
static int plan_build(hwloc_topology_t t, struct plan *pl)
{
	int nr_pus = hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_PU);
	int nr_cores = hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_CORE);
	int nr_nodes = hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_NUMANODE);
	unsigned *in_core = NULL, max_rank = 0;
	int *cand_of_node = NULL;

	memset(pl, 0, sizeof(*pl));
	if (nr_pus <= 0 || nr_nodes <= 0)
		return 0;
	if (nr_cores < 0)
		nr_cores = 0;
	pl->nr_pus = (unsigned)nr_pus;
	pl->node_of = calloc((size_t)nr_pus, sizeof(*pl->node_of));
	pl->rank = calloc((size_t)nr_pus, sizeof(*pl->rank));
	pl->order = calloc((size_t)nr_pus, sizeof(*pl->order));
	pl->cand = calloc((size_t)nr_nodes, sizeof(*pl->cand));
	in_core = calloc((size_t)nr_cores + (size_t)nr_pus, sizeof(*in_core));
	cand_of_node = malloc((size_t)nr_nodes * sizeof(*cand_of_node));
	if (!pl->node_of || !pl->rank || !pl->order || !pl->cand ||
	    !in_core || !cand_of_node) {
		free(in_core);
		free(cand_of_node);
		plan_free(pl);
		return jrx_fail(-ENOMEM, "placement: allocating the topology's tables");
	}

	/* nearest node and rank inside the core of every PU */
	for (int i = 0; i < nr_nodes; i++)
		cand_of_node[i] = -1;
	for (int i = 0; i < nr_pus; i++) {
		hwloc_obj_t pu = hwloc_get_obj_by_type(t, HWLOC_OBJ_PU, i);
		hwloc_obj_t core = hwloc_get_ancestor_obj_by_type(t,
							HWLOC_OBJ_CORE, pu);
		hwloc_obj_t node = nearest_node(pu);
		/* no Core object: the PU is its own core */
		size_t key = core ? core->logical_index :
			(size_t)nr_cores + (size_t)i;

		pl->rank[i] = in_core[key]++;
		if (pl->rank[i] > max_rank)
			max_rank = pl->rank[i];
		pl->node_of[i] = node ? (int)node->logical_index : -1;
	}

	/* candidates: nodes with PUs, in logical order */
	for (int i = 0; i < nr_pus; i++)
		if (pl->node_of[i] >= 0)
			cand_of_node[pl->node_of[i]] = 0;
	for (int n = 0; n < nr_nodes; n++) {
		if (cand_of_node[n] < 0)
			continue;
		cand_of_node[n] = (int)pl->nr_cand;
		pl->cand[pl->nr_cand++].node =
			hwloc_get_obj_by_type(t, HWLOC_OBJ_NUMANODE, (unsigned)n);
	}
	for (int i = 0; i < nr_pus; i++) {
		if (pl->node_of[i] < 0)
			continue;
		pl->node_of[i] = cand_of_node[pl->node_of[i]];
		pl->cand[pl->node_of[i]].nr_pus++;
		pl->cand[pl->node_of[i]].nr_cores += pl->rank[i] == 0;
	}
	for (unsigned c = 0; c < pl->nr_cand; c++)
		if (!pl->cand[c].nr_cores)	/* a core split across nodes */
			pl->cand[c].nr_cores = 1;

	/* core-first order inside each candidate */
	unsigned at = 0;

	for (unsigned c = 0; c < pl->nr_cand; c++) {
		pl->cand[c].first = at;
		for (unsigned r = 0; r <= max_rank; r++)
			for (int i = 0; i < nr_pus; i++)
				if (pl->node_of[i] == (int)c && pl->rank[i] == r)
					pl->order[at++] = (int)hwloc_get_obj_by_type(
						t, HWLOC_OBJ_PU, (unsigned)i)->os_index;
	}
	free(in_core);
	free(cand_of_node);
	return 0;
}

/*
 * n[g] workers per group: threads * cores[g] / total cores, largest
 * remainder first (ties: the earlier group), then every empty group takes
 * one worker from the group furthest above its share.  threads >= G.
 */
static void share_by_cores(unsigned threads, const struct cand *cand,
			   unsigned G, unsigned *n)
{
	uint64_t total = 0, rem[JRX_PLACE_MAX_GROUPS];
	bool got_extra[JRX_PLACE_MAX_GROUPS] = { false };
	unsigned given = 0;

	for (unsigned g = 0; g < G; g++)
		total += cand[g].nr_cores;
	for (unsigned g = 0; g < G; g++) {
		uint64_t q = (uint64_t)threads * cand[g].nr_cores;

		n[g] = (unsigned)(q / total);
		rem[g] = q % total;
		given += n[g];
	}
	for (; given < threads; given++) {
		unsigned best = G;

		for (unsigned g = 0; g < G; g++)
			if (!got_extra[g] && (best == G || rem[g] > rem[best]))
				best = g;
		got_extra[best] = true;
		n[best]++;
	}
	for (unsigned g = 0; g < G; g++) {
		unsigned donor = G;
		int64_t best = 0;

		if (n[g])
			continue;
		for (unsigned h = 0; h < G; h++) {
			/* surplus over the share, scaled by total */
			int64_t s = (int64_t)n[h] * (int64_t)total -
				(int64_t)threads * cand[h].nr_cores;

			if (n[h] > 1 && (donor == G || s > best)) {
				donor = h;
				best = s;
			}
		}
		n[donor]--;
		n[g]++;
	}
}

static int alloc_workers(struct jrx_placement *p, unsigned threads)
{
	p->w = calloc(threads, sizeof(*p->w));
	if (!p->w)
		return jrx_fail(-ENOMEM, "placement: allocating %u workers",
				threads);
	p->nr_workers = threads;
	return 0;
}

/* One group of unpinned workers. */
static int plan_unpinned(struct jrx_placement *p, unsigned threads)
{
	int err = alloc_workers(p, threads);

	if (err)
		return err;
	for (unsigned k = 0; k < threads; k++)
		p->w[k] = (struct jrx_place_worker){ 0, -1, -1 };
	p->nr_groups = 1;
	p->group_first[0] = 0;
	p->group_first[1] = threads;
	p->bind = false;
	return 0;
}

static int init_off(struct jrx_placement *p, unsigned threads)
{
	if (!threads) {
		hwloc_topology_t t;

		if (!load_topology(&t)) {
			int n = hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_PU);

			threads = n > 0 ? (unsigned)n : 1;
			hwloc_topology_destroy(t);
		} else {
			threads = jrx_online_cpus();
		}
	}
	snprintf(p->why, sizeof(p->why), "placement off (--numa off)");
	return plan_unpinned(p, threads);
}

/* Can binding happen on t?  Sets p->bind and p->why. */
static void decide_bind(struct jrx_placement *p, hwloc_topology_t t)
{
	const struct hwloc_topology_support *s = hwloc_topology_get_support(t);
	const char *backend;

	p->bind = false;
	if (!hwloc_topology_is_thissystem(t)) {
		backend = hwloc_obj_get_info_by_name(hwloc_get_root_obj(t),
						     "Backend");
		if (backend && !strcmp(backend, "Synthetic"))
			snprintf(p->why, sizeof(p->why),
				 "synthetic topology: plan only, nothing bound");
		else
			snprintf(p->why, sizeof(p->why),
				 "topology of another system (%s): plan only, nothing bound",
				 backend ? backend : "unknown backend");
		return;
	}
	if (!s || !s->cpubind->set_thisthread_cpubind) {
		snprintf(p->why, sizeof(p->why),
			 "thread binding unsupported here: nothing bound");
		return;
	}
	p->bind = true;
	if (hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_NUMANODE) > 1 &&
	    (!s->membind->set_thisthread_membind || !s->membind->bind_membind))
		snprintf(p->why, sizeof(p->why),
			 "memory binding unsupported: CPU binding only");
}

int jrx_placement_init(struct jrx_placement *p, unsigned threads,
		       enum jrx_numa_mode mode)
{
	unsigned n[JRX_PLACE_MAX_GROUPS], G;
	hwloc_topology_t t;
	struct plan pl;
	int err;

	memset(p, 0, sizeof(*p));
	if (mode == JRX_NUMA_OFF)
		return init_off(p, threads);
	if (mode != JRX_NUMA_AUTO)
		return jrx_fail(-EINVAL, "placement: unknown NUMA mode %d",
				(int)mode);

	err = load_topology(&t);
	if (err)
		return err;
	if (hwloc_topology_is_thissystem(t))
		restrict_to_affinity(t);
	err = plan_build(t, &pl);
	if (err) {
		hwloc_topology_destroy(t);
		return err;
	}
	if (!threads)
		threads = pl.nr_pus ? pl.nr_pus : 1;
	if (!pl.nr_cand) {
		/* cannot happen with hwloc 2; degrade rather than fail */
		plan_free(&pl);
		hwloc_topology_destroy(t);
		err = plan_unpinned(p, threads);
		snprintf(p->why, sizeof(p->why),
			 "no NUMA node with PUs in the topology: nothing bound");
		return err;
	}

	p->topo = t;
	decide_bind(p, t);
	G = pl.nr_cand;
	if (G > JRX_PLACE_MAX_GROUPS) {
		snprintf(p->why, sizeof(p->why),
			 "only the first %u of %u NUMA nodes used",
			 JRX_PLACE_MAX_GROUPS, G);
		G = JRX_PLACE_MAX_GROUPS;
	}
	if (threads < G) {
		G = threads;
		for (unsigned g = 0; g < G; g++)
			n[g] = 1;
	} else {
		share_by_cores(threads, pl.cand, G, n);
	}

	err = alloc_workers(p, threads);
	if (err) {
		plan_free(&pl);
		jrx_placement_free(p);
		return err;
	}
	p->nr_groups = G;
	p->group_first[0] = 0;
	for (unsigned g = 0, k = 0; g < G; g++) {
		const struct cand *c = &pl.cand[g];

		for (unsigned j = 0; j < n[g]; j++, k++)
			p->w[k] = (struct jrx_place_worker){
				.group = g,
				.os_node = (int)c->node->os_index,
				.pu = pl.order[c->first + j % c->nr_pus],
			};
		p->group_first[g + 1] = k;
	}
	plan_free(&pl);
	return 0;
}

int jrx_placement_enter(const struct jrx_placement *p, unsigned worker)
{
	const struct jrx_place_worker *w;
	hwloc_topology_t t = p->topo;
	hwloc_obj_t pu, node;
	int err;

	if (worker >= p->nr_workers)
		return jrx_fail(-EINVAL, "placement: worker %u of %u", worker,
				p->nr_workers);
	if (!p->bind)
		return 0;
	w = &p->w[worker];
	pu = hwloc_get_pu_obj_by_os_index(t, (unsigned)w->pu);
	node = hwloc_get_numanode_obj_by_os_index(t, (unsigned)w->os_node);
	if (!pu || !node)
		return jrx_fail(-EINVAL, "placement: worker %u: PU %d or node %d not in the topology",
				worker, w->pu, w->os_node);
	if (hwloc_set_cpubind(t, pu->cpuset, HWLOC_CPUBIND_THREAD) < 0) {
		err = errno ? -errno : -EINVAL;
		return jrx_fail(err, "placement: worker %u: cannot bind to PU %d: %s",
				worker, w->pu, strerror(-err));
	}
	if (hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_NUMANODE) <= 1)
		return 0;
	if (hwloc_set_membind(t, node->nodeset, HWLOC_MEMBIND_BIND,
			      HWLOC_MEMBIND_THREAD |
			      HWLOC_MEMBIND_BYNODESET) < 0) {
		err = errno ? -errno : -EINVAL;
		return jrx_fail(err, "placement: worker %u: cannot set its memory to node %d: %s",
				worker, w->os_node, strerror(-err));
	}
	return 0;
}

int jrx_placement_helper_cpus(const struct jrx_placement *p, unsigned worker,
			       cpu_set_t *cpus, char *desc, size_t len)
{
	hwloc_topology_t t = p->topo;
	hwloc_obj_t node;
	hwloc_bitmap_t set;
	int pu;

	CPU_ZERO(cpus);
	if (desc && len)
		desc[0] = 0;
	if (!t || worker >= p->nr_workers || p->w[worker].os_node < 0)
		return -ENOENT;
	node = hwloc_get_numanode_obj_by_os_index(t, (unsigned)p->w[worker].os_node);
	if (!node || !node->cpuset)
		return -ENOENT;
	set = hwloc_bitmap_dup(node->cpuset);
	if (!set)
		return -ENOMEM;
	for (unsigned k = 0; k < p->nr_workers; k++)
		if (p->w[k].pu >= 0)
			hwloc_bitmap_clr(set, (unsigned)p->w[k].pu);
	hwloc_bitmap_foreach_begin(pu, set)
		if (pu < CPU_SETSIZE)
			CPU_SET(pu, cpus);
	hwloc_bitmap_foreach_end();
	if (desc && len)
		hwloc_bitmap_list_snprintf(desc, len, set);
	hwloc_bitmap_free(set);
	return CPU_COUNT(cpus) ? 0 : -ENOENT;
}

void jrx_placement_free(struct jrx_placement *p)
{
	if (p->topo)
		hwloc_topology_destroy(p->topo);
	free(p->w);
	memset(p, 0, sizeof(*p));
}

void jrx_placement_split(const struct jrx_placement *p,
			 const uint64_t *weight, size_t nr_units,
			 size_t *unit_first)
{
	unsigned G = p->nr_groups ? p->nr_groups : 1;
	unsigned __int128 total = 0, sum = 0, nw;
	bool by_count;
	size_t i = 0;

	nw = p->nr_workers ? p->nr_workers : 1;
	for (size_t u = 0; u < nr_units; u++)
		total += weight[u];
	by_count = total == 0;
	if (by_count)
		total = nr_units;

	unit_first[0] = 0;
	for (unsigned g = 0; g + 1 < G; g++) {
		/* cumulative target of groups 0..g, scaled by nw */
		unsigned __int128 target = total * p->group_first[g + 1];

		while (i < nr_units) {
			unsigned __int128 next = sum + (by_count ? 1 : weight[i]);
			unsigned __int128 s = sum * nw, nx = next * nw;

			if (nx <= target) {		/* unit i ends before the target */
				sum = next;
				i++;
				continue;
			}
			if (s < target && nx - target < target - s) {
				sum = next;		/* it straddles, mostly before */
				i++;
			}
			break;
		}
		unit_first[g + 1] = i;
	}
	unit_first[G] = nr_units;
}

/* snprintf that appends at *at and counts what did not fit too. */
static void put(char *buf, size_t len, size_t *at, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void put(char *buf, size_t len, size_t *at, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(*at < len ? buf + *at : NULL, *at < len ? len - *at : 0,
		      fmt, ap);
	va_end(ap);
	if (n > 0)
		*at += (size_t)n;
}

int jrx_placement_describe(const struct jrx_placement *p, char *buf,
			   size_t len)
{
	size_t at = 0;

	if (len)
		buf[0] = 0;
	if (!p->w || p->w[0].os_node < 0) {
		put(buf, len, &at, "placement off: %u worker%s unpinned",
		    p->nr_workers, p->nr_workers == 1 ? "" : "s");
		return (int)at;
	}
	put(buf, len, &at, "%u node%s: ", p->nr_groups,
	    p->nr_groups == 1 ? "" : "s");
	for (unsigned g = 0; g < p->nr_groups; g++) {
		unsigned a = p->group_first[g], b = p->group_first[g + 1];

		put(buf, len, &at, "%snode %d worker%s %u", g ? ", " : "",
		    p->w[a].os_node, b - a == 1 ? "" : "s", a);
		if (b - a > 1)
			put(buf, len, &at, "-%u", b - 1);
		put(buf, len, &at, " (PU ");
		for (unsigned k = a; k < b; k++)
			put(buf, len, &at, "%s%d", k > a ? "," : "", p->w[k].pu);
		put(buf, len, &at, ")");
	}
	return (int)at;
}
