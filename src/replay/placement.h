/*
 * placement.h - where the parallel replay's workers run (DESIGN.md section
 * 4): one group of workers per NUMA node, each worker pinned to a PU of its
 * node with its memory policy set to that node, and the work units cut into
 * one contiguous key range per group, so a node's leaves, keys and new
 * nodes stay in its own memory.  A worker's I/O helpers (io_uring's kernel
 * workers, write helper threads) go to the PUs of its node that no worker
 * is pinned to, if there are any (jrx_placement_helper_cpus).
 *
 * The plan comes from the hwloc topology.  hwloc honours HWLOC_SYNTHETIC
 * (e.g. "package:2 numa:1 core:2 pu:1", "numa:4 core:2 pu:2") and
 * HWLOC_XMLFILE: the plan of any machine can then be computed and checked
 * anywhere; binding only happens on the real topology of this system.
 *
 * A PU belongs to its nearest NUMA node: the first memory child of its
 * closest ancestor that has memory attached (CPU-less nodes such as
 * CXL/HBM-only nodes, which are nobody's nearest, get no workers).  On this
 * system the topology holds only the CPUs the process may use (hwloc drops
 * those outside its cgroup cpuset) and is further restricted to the CPU
 * affinity of the thread calling jrx_placement_init() (taskset, numactl
 * --physcpubind; the workers it starts inherit it), so a restricted jrx is
 * never pinned outside its mask.
 *
 * Thread safety: after jrx_placement_init() the struct is read-only; every
 * worker may read it and call jrx_placement_enter() concurrently.  hwloc is
 * reentrant: a topology may be read by several threads at once, and only
 * creation, loading, restriction, insertion and distance/memory-attribute
 * changes modify it (hwloc "Thread Safety" documentation); the binding
 * calls used here only read it and act on the calling thread.  init and
 * free belong to one thread, before the workers start / after they are
 * joined.
 */
#ifndef JRX_REPLAY_PLACEMENT_H
#define JRX_REPLAY_PLACEMENT_H

#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Most groups (NUMA nodes) used; further nodes get no workers (see why). */
#define JRX_PLACE_MAX_GROUPS 64

enum jrx_numa_mode {
	JRX_NUMA_AUTO = 0,	/* one group per NUMA node, workers pinned */
	JRX_NUMA_OFF = 1,	/* one group, nothing pinned (--numa off) */
};

struct jrx_place_worker {
	unsigned group;		/* 0..nr_groups-1, groups in NUMA node order */
	int	 os_node;	/* OS index of the NUMA node, -1 when placement
				 * is off */
	int	 pu;		/* OS index of the PU the worker is pinned to,
				 * -1 unpinned */
};

struct jrx_placement {
	unsigned nr_workers;
	unsigned nr_groups;	/* NUMA nodes used (1 when off or one node) */
	/*
	 * Workers of group g: [group_first[g], group_first[g + 1]);
	 * group_first[0] == 0, group_first[nr_groups] == nr_workers, and
	 * every group has at least one worker.
	 */
	unsigned group_first[JRX_PLACE_MAX_GROUPS + 1];
	struct jrx_place_worker *w;	/* nr_workers entries */
	/*
	 * Binding really happens in jrx_placement_enter(): mode AUTO on the
	 * topology of this system with thread binding supported.  False for
	 * a synthetic or XML topology (plan only) and for --numa off.
	 */
	bool	 bind;
	/*
	 * Why binding is off or partial, for the report ("" otherwise):
	 * "placement off (--numa off)", "synthetic topology: plan only,
	 * nothing bound", "memory binding unsupported: CPU binding only",
	 * "only the first 64 of 80 NUMA nodes used", ...
	 */
	char	 why[160];
	void	*topo;		/* hwloc_topology_t, private; NULL when off */
};

/*
 * Plan threads workers (0: one per PU of the machine, i.e. online core
 * count as hwloc sees it) for mode.
 *
 * AUTO: groups are the NUMA nodes that are some PU's nearest node, in
 * logical order.  With fewer threads than nodes, the first `threads` nodes
 * get one worker each.  Otherwise workers go to nodes in proportion to
 * their core counts (largest remainder, at least one per node), group g
 * holding the contiguous worker ids [group_first[g], group_first[g + 1]).
 * Within a node, worker k takes its k-th PU in core-first order: the first
 * PU of every core in order, then the second PU of every core, ...,
 * wrapping around when there are more workers than PUs.  (A topology
 * without Core objects counts each PU as a core.)
 *
 * OFF: one group of threads workers, os_node and pu -1, bind false; no
 * topology is kept (it is loaded only to count PUs when threads is 0, and
 * a failure there falls back to the online CPU count).
 *
 * Returns 0, -EINVAL for an unknown mode, -ENOMEM, or the negative errno
 * of a failed hwloc topology load (context in jrx_diag()); on error *p is
 * left empty (jrx_placement_free() is harmless on it).
 */
int  jrx_placement_init(struct jrx_placement *p, unsigned threads,
			enum jrx_numa_mode mode);

/*
 * Called by worker thread `worker` itself before it touches its data: when
 * p->bind, binds the calling thread to its PU (hwloc_set_cpubind,
 * HWLOC_CPUBIND_THREAD) and, when the topology has more than one NUMA
 * node, sets the thread's memory policy to its node (hwloc_set_membind,
 * HWLOC_MEMBIND_BIND without STRICT, i.e. MPOL_PREFERRED on Linux: memory
 * first touched by the worker comes from its node, and spills to other
 * nodes rather than failing when the node is full).  Does nothing and
 * returns 0 when !p->bind.
 *
 * Returns 0, -EINVAL for a worker id out of range, or the negative errno
 * of the failed binding call (typically -EPERM, -ENOSYS or -EXDEV in
 * containers or under seccomp), context in jrx_diag() of the calling
 * thread.  A CPU binding that succeeded stays when the memory binding then
 * fails.  The replay treats a binding failure as non-fatal: the worker
 * runs unpinned (slower, never wrong) and the report says so.
 */
int  jrx_placement_enter(const struct jrx_placement *p, unsigned worker);

/*
 * Where worker's I/O helpers should run (io/wq.h jrx_wq_helper_cpus):
 * the PUs of its NUMA node that no worker is pinned to, so the kernel's
 * share of the worker's writes (the file system's allocation, pinning
 * the pages) runs on a core the replay leaves idle, next to the worker's
 * memory, instead of taking turns with the worker on its own PU.  When
 * workers hold every PU of the node there is none: the helpers stay with
 * their worker (sent to the other workers' PUs, the pread helpers made
 * a 10 M-key replay on 2 of 2 PUs slower, docs/bench/history.md).
 * Computed for any plan with a topology (a synthetic one too); a caller
 * applies it only when p->bind.  desc (may be NULL) gets the PUs as a
 * list, e.g. "1" or "4-7".  0; -ENOENT when there are none (every PU of
 * the node held, placement off, or the worker has no node); -ENOMEM.
 */
int  jrx_placement_helper_cpus(const struct jrx_placement *p, unsigned worker,
			       cpu_set_t *cpus, char *desc, size_t len);

/* Release the plan and the topology; *p is left empty.  Idempotent. */
void jrx_placement_free(struct jrx_placement *p);

/*
 * Cut nr_units work units (in key order, unit i weighing weight[i], e.g.
 * its key count) into one contiguous run per group: group g gets units
 * [unit_first[g], unit_first[g + 1]).  unit_first has nr_groups + 1
 * entries; unit_first[0] == 0 <= unit_first[1] <= ... <=
 * unit_first[nr_groups] == nr_units.  Each cut is the unit boundary
 * nearest (ties: the earlier one) to the cumulative target total * (workers
 * of groups 0..g) / nr_workers, never moving back, so a group's total is
 * within one unit's weight of its share; a unit is never split, and groups
 * may be empty when there are fewer units than groups.  All-zero weights
 * are cut by unit count.  Weights are summed in 128 bits (exact for any
 * realistic count of units).
 */
void jrx_placement_split(const struct jrx_placement *p,
			 const uint64_t *weight, size_t nr_units,
			 size_t *unit_first);

/*
 * One line for logs and reports, e.g. "2 nodes: node 0 workers 0-1 (PU
 * 0,1), node 1 workers 2-3 (PU 2,3)"; "placement off: 4 workers unpinned"
 * when off.  Returns the length of the whole line like snprintf (buf holds
 * at most len - 1 chars of it and a NUL; buf may be NULL when len is 0).
 */
int  jrx_placement_describe(const struct jrx_placement *p, char *buf,
			    size_t len);

#endif
