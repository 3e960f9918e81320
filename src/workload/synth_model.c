/*
 * synth_model.c - adding to the synth model (synth_int.h): directories and
 * the files being appended to, the "hot" decisions and the lists of the
 * hot inodes' entries, and the device space an extent's pointer holds.
 */
#include "synth_int.h"
#include "jrx/errors.h"
#include "../util/diag.h"
#include "../util/vec.h"

/* Base plan: does this entry go to a hot inode?  One draw, "hot" only. */
bool synth_hot_base(struct synth *s)
{
	return dist_hot(s) && below(s, 100) < JRX_SYNTH_HOT_PCT;
}

/*
 * Journal: does the next operation go to the hot inodes?  Yes while they
 * hold less than JRX_SYNTH_HOT_PCT % of the keys emitted so far: the share
 * is exact, and it makes up for keys no operation could put there.
 */
bool synth_go_hot(const struct synth *s)
{
	return dist_hot(s) &&
		s->hot_keys * 100 < JRX_SYNTH_HOT_PCT * (s->emitted + 1);
}

/* List entry i of ext if the hot file owns it (of de: if in the hot dir). */
int synth_note_hot_ext(struct synth *s, size_t i)
{
	int ret = 0;

	if (s->ext[i].ino == s->hot_file) {
		ret = JRX_VEC_RESERVE(s->hot_ext, s->n_hot_ext, s->cap_hot_ext, 1,
				      "synth hot file's extents");
		if (!ret)
			s->hot_ext[s->n_hot_ext++] = (uint32_t)i;
	}
	return ret;
}

int synth_note_hot_de(struct synth *s, size_t i)
{
	int ret = 0;

	if (dist_hot(s) && s->de[i].dir == s->hot_dir) {
		ret = JRX_VEC_RESERVE(s->hot_de, s->n_hot_de, s->cap_hot_de, 1,
				      "synth hot directory's dirents");
		if (!ret)
			s->hot_de[s->n_hot_de++] = (uint32_t)i;
	}
	return ret;
}

int synth_push_dir(struct synth *s, uint32_t idx)
{
	int ret = JRX_VEC_RESERVE(s->dirs, s->n_dirs, s->cap_dirs, 1,
				  "synth directories");

	if (!ret)
		s->dirs[s->n_dirs++] = idx;
	return ret;
}

void synth_push_active(struct synth *s, uint32_t idx)
{
	s->active[s->active_pos++ % ACTIVE_FILES] = idx;
	if (s->n_active < ACTIVE_FILES)
		s->n_active++;
}

int synth_alloc_ext(struct synth *s, uint64_t durable, uint64_t seq,
		    uint64_t *ptr, uint32_t *gen)
{
	uint32_t dev, got;
	uint64_t sector;
	int ret = jrx_alloc_sectors(&s->bt, JRX_DATA_USER, EXT_SECTORS, durable,
				    seq, &dev, &sector, &got, gen);

	if (ret)
		return ret;
	if (got != EXT_SECTORS)	/* buckets are a multiple of 8 sectors */
		return jrx_fail(-JRX_ERR_NO_SPACE, "synth: short data allocation"
				" (%u of %u sectors)", got, EXT_SECTORS);
	*ptr = (uint64_t)dev << PTR_DEV_SHIFT | sector;
	return 0;
}

int synth_free_ext(struct synth *s, uint64_t ptr)
{
	uint64_t sector = ptr & PTR_SECTOR_MASK;

	return jrx_bucket_add_sectors(&s->bt, (uint32_t)(ptr >> PTR_DEV_SHIFT),
				      sector / s->bt.bucket_sectors, JRX_DATA_USER,
				      -(int64_t)EXT_SECTORS, s->j.seq);
}
