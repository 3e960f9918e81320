/*
 * synth_base.c - synth's base: the model planned from M keys split over
 * the btrees by weight (inodes, names, extent counts, xattrs), then each
 * file btree bulk-loaded in key order (extents, inodes, dirents, xattrs)
 * and the alloc and accounting btrees from the buckets used.  After the
 * base, bucket changes go to the journal, and the draws that scatter
 * zipf's hot ranks are made.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include "synth_int.h"
#include "jrx/errors.h"
#include "../btree/bulk.h"
#include "../util/diag.h"
#include "../util/vec.h"

struct sort_ent { uint64_t hash; uint32_t owner; uint32_t idx; };

static int cmp_ent(const void *x, const void *y)
{
	const struct sort_ent *a = x, *b = y;

	if (a->owner != b->owner)
		return a->owner < b->owner ? -1 : 1;
	return a->hash < b->hash ? -1 : a->hash > b->hash;
}

/* Split M keys over the btrees by weight (largest remainder). */
void synth_split_counts(uint64_t m, const uint32_t mix[], uint64_t c[])
{
	uint64_t sum = 0, given = 0;
	unsigned order[JRX_SYNTH_NR_BTREES];

	for (unsigned b = 0; b < JRX_SYNTH_NR_BTREES; b++)
		sum += mix[b];
	for (unsigned b = 0; b < JRX_SYNTH_NR_BTREES; b++) {
		c[b] = (uint64_t)((unsigned __int128)m * mix[b] / sum);
		given += c[b];
		order[b] = b;
	}
	for (unsigned i = 0; given < m; i = (i + 1) % JRX_SYNTH_NR_BTREES)
		if (mix[order[i]]) {
			c[order[i]]++;
			given++;
		}
}

/* A uniformly chosen file (there is one: s->n_ino > s->n_dirs). */
static uint32_t any_file(struct synth *s)
{
	uint32_t t;

	do
		t = (uint32_t)below(s, s->n_ino);
	while (is_dir(s, t));
	return t;
}

/*
 * Plan the base model: inodes, names, extent counts, xattrs.  Extents,
 * names and xattrs need inodes to belong to: a mix without inodes gets
 * one file per 16 extents, else one per 4 names (the other names are
 * links), else one per 16 xattrs.
 */
static int plan_base(struct synth *s, const uint64_t c[])
{
	uint64_t n_ino = c[B_INO] ? c[B_INO] : 1, links;
	int ret = 0;

	if (c[B_EXT] && n_ino < 2)
		n_ino = 1 + (c[B_EXT] + 15) / 16;
	else if (c[B_DIR] && n_ino < 2)
		n_ino = 1 + (c[B_DIR] + 3) / 4;
	else if (c[B_XAT] && n_ino < 2)
		n_ino = 1 + (c[B_XAT] + 15) / 16;
	ret = JRX_VEC_RESERVE(s->ino, s->n_ino, s->cap_ino, n_ino,
			      "synth inodes");
	if (ret)
		return ret;
	s->ino[0] = (struct syn_ino){ 0, 2 | DIR_BIT };	/* the root */
	s->n_ino = 1;
	ret = synth_push_dir(s, 0);
	for (uint32_t i = 1; i < n_ino && !ret; i++) {
		bool dir = s->named && !below(s, DIR_ONE_IN);
		uint32_t parent = synth_hot_base(s) ? s->hot_dir :
			s->dirs[below(s, s->n_dirs)];

		s->ino[s->n_ino++] = (struct syn_ino){ 0, dir ? 2 | DIR_BIT : 1 };
		if (s->named) {
			ret = JRX_VEC_RESERVE(s->de, s->n_de, s->cap_de, 1,
					      "synth dirents");
			if (ret)
				break;
			s->de[s->n_de++] = (struct syn_de){ parent, i, s->next_dname++ };
		}
		if (dir) {
			s->ino[parent].nlink++;
			ret = synth_push_dir(s, i);
		}
	}
	if (dist_hot(s) && s->n_ino > s->n_dirs)
		s->hot_file = any_file(s);
	/* more names than inodes: hard links to files */
	links = s->named && c[B_DIR] > s->n_de ? c[B_DIR] - s->n_de : 0;
	for (uint64_t l = 0; l < links && !ret && s->n_ino > s->n_dirs; l++) {
		uint32_t t = any_file(s);

		ret = JRX_VEC_RESERVE(s->de, s->n_de, s->cap_de, 1,
				      "synth dirents");
		if (ret)
			break;
		s->de[s->n_de++] = (struct syn_de){
			synth_hot_base(s) ? s->hot_dir : s->dirs[below(s, s->n_dirs)],
			t, s->next_dname++ };
		s->ino[t].nlink++;
	}
	for (uint64_t e = 0; e < c[B_EXT] && !ret && s->n_ino > s->n_dirs; e++) {
		uint32_t t = synth_hot_base(s) && s->hot_file != NO_INO ?
			s->hot_file : any_file(s);

		s->ino[t].next++;
	}
	for (uint64_t x = 0; x < c[B_XAT] && !ret; x++) {
		ret = JRX_VEC_RESERVE(s->xa, s->n_xa, s->cap_xa, 1, "synth xattrs");
		if (!ret)
			s->xa[s->n_xa++] = (struct syn_xa){
				synth_hot_base(s) ? hot_owner(s) :
				(uint32_t)below(s, s->n_ino), s->next_xname++ };
	}
	return ret;
}

static int bulk_begin(struct synth *s, struct jrx_bulk *b, unsigned id)
{
	return jrx_bulk_init(b, s->a, &s->bt, id, s->a->sb.btree_node_size,
			     s->o->fill_pct, s->a->sb.journal_seq);
}

static int bulk_end(struct synth *s, struct jrx_bulk *b, unsigned id, int ret)
{
	if (!ret)
		ret = jrx_bulk_finish(b, &s->roots[id]);
	s->r->base_nodes += b->nodes;
	s->r->base_by_btree[id] = b->keys;
	s->r->base_keys += b->keys;
	jrx_bulk_exit(b);
	if (!ret)
		synth_progress(s, "base", s->r->base_keys, s->o->base_keys);
	return ret;
}

static int base_extents(struct synth *s)
{
	uint64_t buf[KEY_BUF_U64S], total = 0;
	struct jrx_bulk b;
	int ret;

	for (size_t i = 0; i < s->n_ino; i++)
		total += s->ino[i].next;
	ret = JRX_VEC_RESERVE(s->ext, s->n_ext, s->cap_ext, total,
			      "synth extents");
	if (!ret)
		ret = bulk_begin(s, &b, B_EXT);
	if (ret)
		return ret;
	for (uint32_t i = 0; i < s->n_ino && !ret; i++)
		for (uint32_t no = 1; no <= s->ino[i].next && !ret; no++) {
			struct syn_ext *e = &s->ext[s->n_ext++];
			uint32_t gen;

			*e = (struct syn_ext){ i, no, 0 };
			ret = synth_note_hot_ext(s, s->n_ext - 1);
			if (!ret)
				ret = synth_alloc_ext(s, UINT64_MAX, 0, &e->ptr, &gen);
			if (!ret)
				ret = jrx_bulk_add(&b, synth_extent_key(buf, e, gen,
									++s->tag));
		}
	return bulk_end(s, &b, B_EXT, ret);
}

static int base_inodes(struct synth *s)
{
	uint64_t buf[KEY_BUF_U64S];
	struct jrx_bulk b;
	int ret = bulk_begin(s, &b, B_INO);

	if (ret)
		return ret;
	for (uint32_t i = 0; i < s->n_ino && !ret; i++)
		ret = jrx_bulk_add(&b, synth_inode_key(s, buf, i));
	return bulk_end(s, &b, B_INO, ret);
}

/* Hot: list the root's base dirents. */
static int hot_dirents(struct synth *s)
{
	int ret = 0;

	for (size_t i = 0; i < s->n_de && !ret; i++)
		ret = synth_note_hot_de(s, i);
	return ret;
}

/* Hot: move the hot file's base xattrs from xa to hot_xa. */
static int hot_xattrs(struct synth *s)
{
	uint32_t owner = hot_owner(s);
	size_t keep = 0;
	int ret = 0;

	for (size_t i = 0; i < s->n_xa && !ret; i++) {
		if (s->xa[i].ino != owner) {
			s->xa[keep++] = s->xa[i];
			continue;
		}
		ret = JRX_VEC_RESERVE(s->hot_xa, s->n_hot_xa, s->cap_hot_xa, 1,
				      "synth hot file's xattrs");
		if (!ret)
			s->hot_xa[s->n_hot_xa++] = s->xa[i];
	}
	if (!ret)	/* on failure the model is only freed */
		s->n_xa = keep;
	return ret;
}

/* Dirents and xattrs: sorted by (owner, name hash); the model is put in
 * that order too, so "sequential" walks base positions in order. */
static int base_named(struct synth *s, unsigned id)
{
	bool de = id == B_DIR;
	size_t n = de ? s->n_de : s->n_xa;
	struct sort_ent *v = malloc((n ? n : 1) * sizeof(*v));
	void *model = malloc((n ? n : 1) * (de ? sizeof(*s->de) : sizeof(*s->xa)));
	uint64_t buf[KEY_BUF_U64S];
	struct jrx_bulk b;
	int ret = 0;

	if (!v || !model) {
		free(v);
		free(model);
		return jrx_fail(-ENOMEM, "synth: allocating to sort the %zu"
				" base %s", n, de ? "dirents" : "xattrs");
	}
	for (size_t i = 0; i < n; i++) {
		struct jrx_bpos p = de ? synth_dirent_pos(&s->de[i]) :
			synth_xattr_pos(&s->xa[i]);

		v[i] = (struct sort_ent){ p.offset, de ? s->de[i].dir : s->xa[i].ino,
					  (uint32_t)i };
	}
	qsort(v, n, sizeof(*v), cmp_ent);
	for (size_t i = 0; i < n; i++) {
		if (i && v[i].owner == v[i - 1].owner && v[i].hash == v[i - 1].hash)
			ret = jrx_fail(-JRX_ERR_KEY_INVALID, "synth: name hash"
				       " collision in inode %" PRIu64 "; try"
				       " another --seed", inum_of(v[i].owner));
		if (de)
			((struct syn_de *)model)[i] = s->de[v[i].idx];
		else
			((struct syn_xa *)model)[i] = s->xa[v[i].idx];
	}
	free(v);
	if (de) {
		free(s->de);
		s->de = model;
		s->cap_de = n ? n : 1;
	} else {
		free(s->xa);
		s->xa = model;
		s->cap_xa = n ? n : 1;
	}
	if (ret)
		return ret;
	ret = bulk_begin(s, &b, id);
	if (ret)
		return ret;
	for (size_t i = 0; i < n && !ret; i++)
		ret = jrx_bulk_add(&b, de ? synth_dirent_key(s, buf, &s->de[i]) :
				   synth_xattr_key(s, buf, &s->xa[i]));
	ret = bulk_end(s, &b, id, ret);
	if (!ret && dist_hot(s))
		ret = de ? hot_dirents(s) : hot_xattrs(s);
	return ret;
}

/* Odd multiplier coprime with n, to scatter zipf's hot ranks. */
static uint64_t coprime(struct synth *s, uint64_t n)
{
	uint64_t m = jrx_rand_mod(rnd(s), n) | 1;

	for (;;) {
		uint64_t a = m, b = n;

		while (b) {
			uint64_t t = a % b;

			a = b;
			b = t;
		}
		if (a == 1 || n <= 1)
			return m;
		m += 2;
	}
}

/* The buckets the superblocks and the journal take. */
static int reserve_fixed(struct synth *s)
{
	const struct jrx_sb *sb = &s->a->sb;
	int ret = 0;

	for (unsigned d = 0; d < sb->nr_devices && !ret; d++) {
		const struct jrx_member *m = &sb->members[d];

		for (uint64_t b = 0; b < m->first_bucket && !ret; b++)
			ret = jrx_bucket_add_sectors(&s->bt, d, b, JRX_DATA_SB,
						     s->bt.bucket_sectors, 0);
		for (uint64_t b = 0; b < m->journal_nr && !ret; b++)
			ret = jrx_bucket_add_sectors(&s->bt, d, m->journal_bucket + b,
						     JRX_DATA_JOURNAL,
						     s->bt.bucket_sectors, 0);
	}
	return ret;
}

int synth_build_base(struct synth *s)
{
	const struct jrx_sb *sb = &s->a->sb;
	struct jrx_bucket_ref *v;
	uint64_t c[JRX_SYNTH_NR_BTREES];
	int ret;

	ret = jrx_buckets_init(&s->bt, sb, NULL);
	if (ret)
		return ret;
	s->bt_init = true;
	ret = reserve_fixed(s);
	synth_split_counts(s->o->base_keys, s->o->mix, c);
	s->now = T0;
	if (!ret)
		ret = plan_base(s, c);
	if (!ret)
		ret = base_extents(s);
	if (!ret)
		ret = base_inodes(s);
	if (!ret)
		ret = base_named(s, B_DIR);
	if (!ret)
		ret = base_named(s, B_XAT);
	if (!ret)
		ret = jrx_bulk_alloc_trees(s->a, &s->bt, (int64_t)s->n_ino,
					   sb->journal_seq,
					   &s->roots[JRX_BTREE_ACCOUNTING],
					   &s->roots[JRX_BTREE_ALLOC]);
	if (ret)
		return ret;
	/* the base is on disk: from here on changes go to the journal */
	jrx_buckets_take_changed(&s->bt, &v);
	free(v);
	s->bt.acct = &s->acct;
	s->n_base[B_EXT] = s->n_ext;
	s->n_base[B_INO] = s->n_ino;
	s->n_base[B_DIR] = s->n_de;
	s->n_base[B_XAT] = s->n_xa;
	for (unsigned b = 0; b < JRX_SYNTH_NR_BTREES; b++) {
		s->mul[b] = coprime(s, s->n_base[b]);
		s->add[b] = jrx_rand_mod(rnd(s), s->n_base[b]);
	}
	for (size_t i = s->n_ino; i-- > 1 && s->n_active < ACTIVE_FILES;)
		if (!is_dir(s, (uint32_t)i))
			synth_push_active(s, (uint32_t)i);
	return 0;
}
