/*
 * synth_ops.c - the operations that make synth's journal keys, and the
 * mix scheduler that picks the next one: the (btree, new|overwrite) cell
 * furthest behind its share of the keys emitted so far.  Each operation
 * journals what the write path would: a new file with its name, a new
 * extent with the file's grown size, a link with the target's nlink, an
 * overwrite with its alloc and accounting changes (taken into the jset's
 * trailer by synth_journal.c).
 */
#include <math.h>
#include "synth_int.h"
#include "../util/vec.h"

static int emit(struct synth *s, unsigned btree, const struct jrx_bkey *k,
		bool overwrite)
{
	int ret = jrx_journal_add_key(&s->j, btree, 0, k);

	if (ret)
		return ret;
	s->cnt[btree + (overwrite ? JRX_SYNTH_NR_BTREES : 0)]++;
	s->emitted++;
	if (dist_hot(s) && (k->p.inode == inum_of(s->hot_dir) ||
			    (s->hot_file != NO_INO &&
			     k->p.inode == inum_of(s->hot_file))))
		s->hot_keys++;
	return 0;
}

/* Index of an existing entry of btree b (n > 0) by the distribution. */
static uint64_t pick(struct synth *s, unsigned b, uint64_t n)
{
	uint64_t r, nb = s->n_base[b];

	switch (s->o->dist) {
	case JRX_SYNTH_SEQUENTIAL:
		r = s->cursor[b]++;
		if (r >= n) {
			r = 0;
			s->cursor[b] = 1;
		}
		return r;
	case JRX_SYNTH_ZIPF:
		/* density ~ 1/rank (s = 1); rank 0 is the hottest */
		r = (uint64_t)exp(unit(s) * log((double)n + 1.0));
		r = r ? r - 1 : 0;
		if (r >= n)
			r = n - 1;
		/* hot base entries are scattered over the key space */
		if (r < nb) {
			uint64_t m = (uint64_t)(((unsigned __int128)r * s->mul[b] +
						 s->add[b]) % nb);

			if (m < n)
				r = m;
		}
		return r;
	default:
		return below(s, n);
	}
}

/* New inode (file, or now and then a directory) with its name. */
static int op_create(struct synth *s, bool may_dir)
{
	uint64_t buf[KEY_BUF_U64S];
	bool dir = may_dir && s->named && !below(s, DIR_ONE_IN);
	uint32_t idx, parent = s->hot ? s->hot_dir :
		s->dirs[below(s, s->n_dirs)];
	int ret = JRX_VEC_RESERVE(s->ino, s->n_ino, s->cap_ino, 1,
				  "synth inodes");

	if (!ret)
		ret = JRX_VEC_RESERVE(s->de, s->n_de, s->cap_de, 1,
				      "synth dirents");
	if (ret)
		return ret;
	idx = (uint32_t)s->n_ino++;
	s->ino[idx] = (struct syn_ino){ 0, dir ? 2 | DIR_BIT : 1 };
	if (dist_hot(s) && !dir && s->hot_file == NO_INO)
		s->hot_file = idx;	/* the base had no file */
	ret = jrx_acct_add(&s->acct, jrx_acct_inodes_pos(), 1, 0);
	if (!ret)
		ret = emit(s, B_INO, synth_inode_key(s, buf, idx), false);
	if (!ret && s->named) {
		struct syn_de *d = &s->de[s->n_de++];

		*d = (struct syn_de){ parent, idx, s->next_dname++ };
		ret = synth_note_hot_de(s, s->n_de - 1);
		if (!ret)
			ret = emit(s, B_DIR, synth_dirent_key(s, buf, d), false);
		if (!ret && dir) {
			s->ino[parent].nlink++;
			ret = emit(s, B_INO, synth_inode_key(s, buf, parent), true);
			if (!ret)
				ret = synth_push_dir(s, idx);
		}
	}
	if (!ret && !dir)
		synth_push_active(s, idx);
	return ret;
}

/* A new extent at the end of a file being written. */
static int op_append(struct synth *s)
{
	uint64_t buf[KEY_BUF_U64S];
	struct syn_ext *e;
	uint32_t f, no, gen;
	int ret;

	if (s->hot && s->hot_file != NO_INO)
		f = s->hot_file;
	else if (!s->n_active)
		return op_create(s, false);
	else
		f = s->active[below(s, s->n_active)];
	ret = JRX_VEC_RESERVE(s->ext, s->n_ext, s->cap_ext, 1, "synth extents");
	if (ret)
		return ret;
	no = ++s->ino[f].next;
	e = &s->ext[s->n_ext++];
	*e = (struct syn_ext){ f, no, 0 };
	ret = synth_note_hot_ext(s, s->n_ext - 1);
	if (!ret)
		ret = synth_alloc_ext(s, s->j.durable_seq, s->j.seq, &e->ptr, &gen);
	if (!ret)
		ret = emit(s, B_EXT, synth_extent_key(buf, e, gen, ++s->tag), false);
	if (!ret && no > round_up(no - 1, EXT_GROW))	/* past i_size */
		ret = emit(s, B_INO, synth_inode_key(s, buf, f), true);
	return ret;
}

/* A hard link: a new name for an existing file. */
static int op_link(struct synth *s)
{
	uint64_t buf[KEY_BUF_U64S];
	struct syn_de *d;
	uint32_t t = 0;
	unsigned tries;
	int ret;

	for (tries = 0; tries < 8; tries++) {
		t = (uint32_t)below(s, s->n_ino);
		if (!is_dir(s, t))
			break;
	}
	if (tries == 8 || !s->named)
		return op_create(s, false);
	ret = JRX_VEC_RESERVE(s->de, s->n_de, s->cap_de, 1, "synth dirents");
	if (ret)
		return ret;
	d = &s->de[s->n_de++];
	*d = (struct syn_de){ s->hot ? s->hot_dir : s->dirs[below(s, s->n_dirs)],
			      t, s->next_dname++ };
	ret = synth_note_hot_de(s, s->n_de - 1);
	if (!ret)
		ret = emit(s, B_DIR, synth_dirent_key(s, buf, d), false);
	s->ino[t].nlink++;
	if (!ret)
		ret = emit(s, B_INO, synth_inode_key(s, buf, t), true);
	return ret;
}

static int op_xattr_new(struct synth *s)
{
	uint64_t buf[KEY_BUF_U64S];
	uint32_t owner = s->hot ? hot_owner(s) : (uint32_t)below(s, s->n_ino);
	bool h = dist_hot(s) && owner == hot_owner(s);	/* into hot_xa */
	struct syn_xa *x;
	int ret = h ? JRX_VEC_RESERVE(s->hot_xa, s->n_hot_xa, s->cap_hot_xa, 1,
				      "synth hot file's xattrs") :
		JRX_VEC_RESERVE(s->xa, s->n_xa, s->cap_xa, 1, "synth xattrs");

	if (ret)
		return ret;
	x = h ? &s->hot_xa[s->n_hot_xa++] : &s->xa[s->n_xa++];
	*x = (struct syn_xa){ owner, s->next_xname++ };
	return emit(s, B_XAT, synth_xattr_key(s, buf, x), false);
}

static int op_extent_ow(struct synth *s)
{
	uint64_t buf[KEY_BUF_U64S];
	struct syn_ext *e;
	uint32_t gen;
	int ret;

	if (s->hot && s->n_hot_ext)
		e = &s->ext[s->hot_ext[below(s, s->n_hot_ext)]];
	else if (!s->n_ext)
		return op_append(s);
	else
		e = &s->ext[pick(s, B_EXT, s->n_ext)];
	ret = synth_free_ext(s, e->ptr);
	if (!ret)
		ret = synth_alloc_ext(s, s->j.durable_seq, s->j.seq, &e->ptr, &gen);
	if (!ret)
		ret = emit(s, B_EXT, synth_extent_key(buf, e, gen, ++s->tag), true);
	return ret;
}

static int op_inode_ow(struct synth *s)
{
	uint64_t buf[KEY_BUF_U64S];
	uint32_t idx = s->hot ? hot_owner(s) :
		(uint32_t)pick(s, B_INO, s->n_ino);

	return emit(s, B_INO, synth_inode_key(s, buf, idx), true);
}

static int op_dirent_ow(struct synth *s)
{
	uint64_t buf[KEY_BUF_U64S];

	if (s->hot && s->n_hot_de)
		return emit(s, B_DIR, synth_dirent_key(s, buf, &s->de[s->hot_de[
					below(s, s->n_hot_de)]]), true);
	if (!s->n_de)
		return op_create(s, false);
	return emit(s, B_DIR, synth_dirent_key(s, buf,
					       &s->de[pick(s, B_DIR, s->n_de)]),
		    true);
}

/* Rewrite an xattr's value, or now and then remove it (a whiteout). */
static int op_xattr_ow(struct synth *s)
{
	uint64_t buf[KEY_BUF_U64S];
	struct jrx_bkey *k = (struct jrx_bkey *)buf;
	bool h = s->hot && s->n_hot_xa;
	struct syn_xa *v = h ? s->hot_xa : s->xa;
	size_t *n = h ? &s->n_hot_xa : &s->n_xa;
	uint64_t i;
	int ret;

	if (!*n)
		return op_xattr_new(s);
	i = h ? below(s, *n) : pick(s, B_XAT, *n);
	if (below(s, XDEL_ONE_IN))
		return emit(s, B_XAT, synth_xattr_key(s, buf, &v[i]), true);
	jrx_bkey_init(k, JRX_KEY_WHITEOUT, synth_xattr_pos(&v[i]), 0);
	ret = emit(s, B_XAT, k, true);
	if (!ret) {
		s->r->deletes++;
		v[i] = v[--*n];
	}
	return ret;
}

static double deficit(const struct synth *s, unsigned c)
{
	return s->target[c] * (double)(s->emitted + 1) - (double)s->cnt[c];
}

int synth_run_op(struct synth *s)
{
	unsigned best = NCELLS;

	s->hot = synth_go_hot(s);
	if (s->o->keys - s->emitted < 3)
		return op_inode_ow(s);		/* exactly one key */
	for (unsigned c = 0; c < NCELLS; c++)
		if (s->target[c] > 0 &&
		    (best == NCELLS || deficit(s, c) > deficit(s, best)))
			best = c;
	switch (best) {
	case B_EXT:	return op_append(s);
	case B_INO:	return op_create(s, true);
	case B_DIR:
		return deficit(s, B_INO) >= deficit(s, 4 + B_INO) ?
			op_create(s, true) : op_link(s);
	case B_XAT:	return op_xattr_new(s);
	case 4 + B_EXT:	return op_extent_ow(s);
	case 4 + B_INO:	return op_inode_ow(s);
	case 4 + B_DIR:	return op_dirent_ow(s);
	default:	return op_xattr_ow(s);
	}
}
