/*
 * prescan.c - the sort's first pass done ahead (sort.h: jrx_sort_prescan):
 * slots of field ranges that the journal reader's threads fill as each
 * bucket is parsed, and the layout the sort takes from them with the
 * index's key counts in place of its own pass (sort_prescan_layout()).
 *
 * Owners: a call of jrx_sort_prescan_add takes the first slot it can
 * lock, starting at a rotating index, so threads that add at the same
 * time rarely wait on each other, and holds it while it scans; the sort
 * merges the slots once no call is running (the read is over: the read
 * engine's batch has returned, which orders every call before it).
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include "sort_int.h"
#include "../format/jset.h"

struct ps_slot {
	pthread_mutex_t lock;
	struct sort_acc acc;
	bool		bad;	/* an entry no sort key can hold */
};

struct jrx_sort_prescan {
	unsigned	nr;
	atomic_uint	next;
	struct ps_slot *slot;
};

int jrx_sort_prescan_new(struct jrx_sort_prescan **out, unsigned slots)
{
	struct jrx_sort_prescan *ps = calloc(1, sizeof(*ps));

	*out = NULL;
	if (!slots)
		slots = 1;
	if (slots > SORT_MAX_THREADS)
		slots = SORT_MAX_THREADS;
	if (ps)
		ps->slot = calloc(slots, sizeof(*ps->slot));
	if (!ps || !ps->slot) {
		free(ps);
		return -ENOMEM;
	}
	ps->nr = slots;
	for (unsigned i = 0; i < slots; i++) {
		pthread_mutex_init(&ps->slot[i].lock, NULL);
		sort_acc_init(&ps->slot[i].acc);
	}
	*out = ps;
	return 0;
}

void jrx_sort_prescan_free(struct jrx_sort_prescan *ps)
{
	if (!ps)
		return;
	for (unsigned i = 0; i < ps->nr; i++)
		pthread_mutex_destroy(&ps->slot[i].lock);
	free(ps->slot);
	free(ps);
}

static struct ps_slot *take_slot(struct jrx_sort_prescan *ps)
{
	unsigned s = atomic_fetch_add_explicit(&ps->next, 1,
					       memory_order_relaxed);

	for (unsigned i = 0; i < ps->nr; i++) {
		struct ps_slot *x = &ps->slot[(s + i) % ps->nr];

		if (!pthread_mutex_trylock(&x->lock))
			return x;
	}
	pthread_mutex_lock(&ps->slot[s % ps->nr].lock);	/* all busy: wait */
	return &ps->slot[s % ps->nr];
}

void jrx_sort_prescan_add(struct jrx_sort_prescan *ps,
			  const struct jrx_jset_info *v, size_t n)
{
	struct ps_slot *x;

	if (!ps || !n)
		return;
	x = take_slot(ps);
	for (size_t i = 0; i < n && !x->bad; i++)
		if (v[i].state == JRX_JSET_OK && v[i].j && !v[i].compact &&
		    sort_scan_jset(v[i].j, &x->acc) == UINT64_MAX)
			x->bad = true;
	pthread_mutex_unlock(&x->lock);
}

/*
 * The layout from the prescan and the index's counts: kc[j] for every
 * jset, the slots merged into *all with the key count and the jsets
 * holding keys as the sort's own pass would give them.  Returns false
 * (kc and *all then hold nothing the caller may use) when the prescan
 * cannot stand for that pass: a jset not counted, an entry no sort key
 * can hold, no keys, or fewer keys seen than the index holds.
 */
bool sort_prescan_layout(const struct jrx_sort_prescan *ps,
			 const struct jrx_jindex *ix, uint32_t *kc,
			 struct sort_acc *all)
{
	uint64_t keys = 0, jmin = UINT64_MAX, jmax = 0;
	bool ok = true;

	for (size_t j = 0; j < ix->nr; j++) {
		const struct jrx_jindex_ent *e = &ix->v[j];

		kc[j] = 0;
		if (e->blacklisted)
			continue;
		if (!e->counted || e->compact || e->keys > UINT32_MAX)
			return false;
		kc[j] = (uint32_t)e->keys;
		keys += e->keys;
		if (e->keys) {
			jmin = j < jmin ? j : jmin;
			jmax = j;
		}
	}
	if (!keys)
		return false;
	sort_acc_init(all);
	for (unsigned i = 0; i < ps->nr; i++) {
		ok = ok && !ps->slot[i].bad;
		sort_acc_merge(all, &ps->slot[i].acc);
	}
	/* the ranges may cover more jsets; the counts are the sorted ones' */
	if (!ok || all->keys < keys)
		return false;
	all->keys = keys;
	all->jmin = jmin;
	all->jmax = jmax;
	return true;
}
