/*
 * synth_check.c - what jrx_synth() checks before anything is written: the
 * options, that the journal can hold N keys (an estimate from the largest
 * key of each btree and the jset trailer), and that the devices have room
 * for the base, the new data and the btree nodes.
 */
#include <inttypes.h>
#include <math.h>
#include "synth_int.h"
#include "jrx/errors.h"
#include "../util/diag.h"

/* Largest key bytes per btree, with its entry header share. */
static const unsigned key_max[JRX_SYNTH_NR_BTREES] = {
	JRX_BKEY_U64S * 8 + sizeof(struct jrx_extent_val),
	JRX_BKEY_U64S * 8 + sizeof(struct jrx_inode_val),
	JRX_BKEY_U64S * 8 + sizeof(struct jrx_dirent_val) + 16,
	JRX_BKEY_U64S * 8 + sizeof(struct jrx_xattr_val) + 16 + 56,
};

static double mix_share(const struct jrx_synth_opts *o, unsigned b)
{
	double sum = 0;

	for (unsigned i = 0; i < JRX_SYNTH_NR_BTREES; i++)
		sum += o->mix[i];
	return o->mix[b] / sum;
}

int synth_check_journal(struct jrx_array *a, const struct jrx_synth_opts *o,
			 uint64_t *need_bytes)
{
	const struct jrx_sb *sb = &a->sb;
	unsigned nr = sb->nr_devices, r = sb->metadata_replicas;
	double per_key = 24, fixed, usable, total;
	uint64_t jsets, per_dev, per_bucket, buckets;

	for (unsigned b = 0; b < JRX_SYNTH_NR_BTREES; b++)
		per_key += mix_share(o, b) * (key_max[b] + 8);
	per_key += mix_share(o, B_EXT) * (o->overwrite_ratio + 1.0 / 64) *
		JRX_ALLOC_KEY_U64S * 8;
	fixed = sizeof(struct jrx_jset) + JRX_BTREE_NR * (8 + JRX_PTR_U64S * 8) +
		8 + sizeof(struct jrx_clock_val) + 16 +
		(4.0 * nr + 1) * ACCT_U64S * 8 + 4 * JRX_ALLOC_KEY_U64S * 8 +
		TX_MARGIN;
	usable = (double)o->jset_size - fixed;
	total = per_key * (double)o->keys;
	jsets = (uint64_t)ceil(total / usable) + 1;
	per_dev = r * ((jsets + nr - 1) / nr);
	per_bucket = sb->bucket_size / o->jset_size;
	buckets = (per_dev + per_bucket - 1) / per_bucket;
	*need_bytes = buckets * sb->bucket_size;
	for (unsigned d = 0; d < nr; d++)
		if (buckets > sb->members[d].journal_nr)
			return jrx_fail(-JRX_ERR_JOURNAL_FULL, "%s: journal too"
					" small: %" PRIu64 " keys need about %"
					PRIu64 " MiB of journal per device (%" PRIu64
					" jsets of %u KiB, %u replica(s) over %u"
					" device(s)); this device has %" PRIu64
					" MiB: format with --journal-size %" PRIu64
					"M or more, or ask for fewer keys",
					a->devs[d].path, o->keys, *need_bytes >> 20,
					jsets, o->jset_size >> 10, r, nr,
					((uint64_t)sb->members[d].journal_nr *
					 sb->bucket_size) >> 20,
					(*need_bytes + (1 << 20) - 1) >> 20);
	return 0;
}

int synth_check_space(struct jrx_array *a, const struct jrx_synth_opts *o)
{
	const struct jrx_sb *sb = &a->sb;
	uint64_t c[JRX_SYNTH_NR_BTREES], free_b = 0, user, nodes, need;
	double base_bytes = 0, payload;
	uint64_t bsect = sb->bucket_size / JRX_SECTOR_SIZE;
	uint64_t per_bucket = sb->bucket_size / sb->btree_node_size;

	synth_split_counts(o->base_keys, o->mix, c);
	for (unsigned b = 0; b < JRX_SYNTH_NR_BTREES; b++)
		base_bytes += (double)c[b] * key_max[b];
	base_bytes += (double)(c[B_INO] + c[B_DIR]) * key_max[B_DIR];
	/* every journal extent key allocates new data; nothing is reused */
	user = c[B_EXT] + (uint64_t)ceil((double)o->keys *
					 (mix_share(o, B_EXT) + 0.02)) + 64;
	user = (user * EXT_SECTORS + bsect - 1) / bsect + 2 * sb->nr_devices;
	payload = (sb->btree_node_size - 112) * (o->fill_pct / 100.0);
	nodes = (uint64_t)ceil(base_bytes * 1.1 / payload) + 64 +
		(uint64_t)ceil((double)(user + 1024) * 64 / payload);
	need = user + (nodes + per_bucket - 1) / per_bucket + 2 * sb->nr_devices;
	for (unsigned d = 0; d < sb->nr_devices; d++) {
		const struct jrx_member *m = &sb->members[d];

		free_b += m->nbuckets - m->first_bucket - m->journal_nr;
	}
	if (need > free_b)
		return jrx_fail(-JRX_ERR_NO_SPACE, "%s%s: array too small: %" PRIu64
				" base keys and %" PRIu64 " journal keys need"
				" about %" PRIu64 " MiB for data and btree nodes,"
				" the %u device(s) have %" PRIu64 " MiB outside the"
				" journal; use bigger devices (jrx format --size)",
				a->devs[0].path, sb->nr_devices > 1 ? " ..." : "",
				o->base_keys, o->keys,
				(need * sb->bucket_size) >> 20, sb->nr_devices,
				(free_b * sb->bucket_size) >> 20);
	return 0;
}

int synth_check_opts(struct jrx_array *a, const struct jrx_synth_opts *o)
{
	const struct jrx_sb *sb = &a->sb;
	uint64_t sum = 0;

	for (unsigned b = 0; b < JRX_SYNTH_NR_BTREES; b++)
		sum += o->mix[b];
	if (!sum)
		return jrx_fail(-JRX_ERR_BAD_OPTION, "--btrees: every weight is 0");
	if (!(o->overwrite_ratio >= 0 && o->overwrite_ratio <= 1))
		return jrx_fail(-JRX_ERR_BAD_OPTION, "--overwrite-ratio %g: must be"
				" from 0 to 1", o->overwrite_ratio);
	if (o->dist > JRX_SYNTH_HOT)
		return jrx_fail(-JRX_ERR_BAD_OPTION, "unknown distribution");
	if (o->fill_pct < JRX_SYNTH_MIN_FILL || o->fill_pct > 100)
		return jrx_fail(-JRX_ERR_BAD_OPTION, "--fill %u: must be from %u"
				" to 100 (percent of a node)", o->fill_pct,
				JRX_SYNTH_MIN_FILL);
	if (o->keys + o->base_keys > (1ull << 31) ||
	    o->keys > (1ull << 31) || o->base_keys > (1ull << 31))
		return jrx_fail(-JRX_ERR_BAD_OPTION, "--keys plus --base-keys: at"
				" most 2^31");
	if (o->jset_size % JRX_BLOCK_SIZE || o->jset_size < (16u << 10) ||
	    o->jset_size > sb->bucket_size)
		return jrx_fail(-JRX_ERR_BAD_OPTION, "--jset-size %u: must be a"
				" multiple of 4 KiB from 16 KiB to the bucket size"
				" (%u)", o->jset_size, sb->bucket_size);
	if (!(sb->flags & JRX_SB_CLEAN))
		return jrx_fail(-JRX_ERR_NEEDS_RECOVERY, "%s: the array is not"
				" clean (it needs recovery); synth needs a clean"
				" array, e.g. a freshly formatted one",
				a->devs[0].path);
	if (a->rdonly)
		return jrx_fail(-JRX_ERR_READ_ONLY, "%s: opened read-only",
				a->devs[0].path);
	/* the base replaces the btrees and takes buckets as if the array
	 * were empty: an array that has held data (its journal has been
	 * written) would end up unrecoverable */
	if (sb->journal_seq)
		return jrx_fail(-JRX_ERR_BAD_OPTION, "%s: the array has held data"
				" (journal seq %" PRIu64 "); synth needs a freshly"
				" formatted one (jrx format --force)",
				a->devs[0].path, sb->journal_seq);
	return 0;
}
