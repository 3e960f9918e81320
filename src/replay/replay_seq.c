/*
 * replay_seq.c - replay of a sorted, deduplicated journal key list on one
 * thread (replay.h): the journal's alloc keys into the allocator, then
 * interior keys, alloc and accounting, and the other leaves, each pass in
 * list order.  Keys at different positions commute (DESIGN.md section 2
 * point 5) and the list holds one key per position except accounting
 * deltas (in seq order), so this order gives the reference's end state.
 */
#include "replay.h"
#include "apply.h"

int jrx_replay_sorted(struct jrx_fs *fs, const struct jrx_jindex *ix,
		      const struct jrx_jkey *v, size_t n, uint64_t *skipped)
{
	int ret = 0;

	for (size_t i = 0; i < n && !ret; i++)
		ret = jrx_replay_load_alloc(fs, v[i].btree_id, v[i].level,
					    v[i].k, ix->v[v[i].jset].seq);
	for (unsigned pass = 0; !ret && pass < JRX_PASS_NR; pass++)
		for (size_t i = 0; i < n && !ret; i++)
			if (jrx_replay_pass_of(v[i].btree_id, v[i].level) == pass)
				ret = jrx_replay_apply(fs, v[i].btree_id,
						       v[i].level, v[i].k,
						       ix->v[v[i].jset].seq,
						       skipped);
	if (!ret)
		ret = jrx_replay_finish(fs);
	return ret;
}
