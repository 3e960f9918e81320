/*
 * repair_namespace.c - JRX_FIX_NAMESPACE: the repairs of what pass 6
 * finds (problems.h), in rounds of check -> fix:
 *
 *  - the check is pass 6 itself (pass_namespace.c), run from the
 *    superblock's roots with a hook that keeps every instance it reports
 *    (position, inode, and the number a fix needs: ctx.want);
 *  - the fix of a round goes through the store's own transaction path
 *    (btree/fs.h: jrx_fs_open, jrx_fs_update, jrx_fs_commit,
 *    jrx_fs_shutdown), each repair one transaction;
 *  - a round with anything but link counts fixes that, and the next
 *    round checks again; link counts are fixed in a round of their own,
 *    recomputed by the check after every other change (a dirent removed
 *    or a name in lost+found changes them), and end the repair.
 *
 * Why the transaction path and not new nodes + one superblock commit (as
 * REBUILD_ALLOC does): a namespace repair changes a few keys scattered in
 * four btrees, and must keep alloc and accounting right as it goes
 * (extents removed free their sectors, inodes made count in accounting);
 * the store's path does exactly that, writes final keys to the journal
 * before anything else, and leaves the array unclean from its first
 * write to its clean shutdown.  Killed at any write, the array is
 * unclean; the next fsck recovers it (the journal replayed up to the
 * last whole jset: whole transactions) and its check finds what is left
 * to repair, which the repair then finishes.  A second fsck finds
 * nothing and writes nothing (no round runs without an instance).
 *
 * What each fix does (docs/FSCK.md):
 *  ROOT_INODE_MISSING   the root made again, a directory (its dirents,
 *                       which still exist, are kept: their removal as
 *                       DIRENT_NO_DIR / NOT_IN_DIR is skipped)
 *  DIRENT_DANGLING, _NO_DIR, _NOT_IN_DIR   the dirent removed
 *  DIRENT_BAD_HASH      re-inserted at its name's hash, or removed when
 *                       that place holds another dirent
 *  DIRENT_WRONG_TYPE    d_type set from the target's mode
 *  EXTENT_NO_INODE, _NOT_FILE   the extent removed, its sectors freed
 *  EXTENT_OVERLAP       the later extent's overlapped head dropped (its
 *                       sectors freed): the earlier extent keeps them
 *  EXTENT_PAST_ISIZE    i_size raised to the extent's end (e2fsck)
 *  XATTR_NO_INODE       removed; XATTR_BAD_HASH as DIRENT_BAD_HASH
 *  DIR_MULTIPLE_LINKS   every name but the first (key order) removed;
 *                       the root keeps none
 *  INODE_UNREACHABLE    named "#<inum>" in /lost+found (made if missing)
 *  INODE_NLINK          nlink set to what the check counted
 *
 * Under -p only PREEN_OK rows are acted on (the policy let the repair
 * run only if nothing else was found).  The caller refuses the repair
 * while pass 3 found damage hiding keys (repair.c).
 *
 * Memory: pass 6's own (pass_namespace.c), plus 56 bytes per instance
 * found.  Owner: the thread running fsck (the check's walks join their
 * threads before the hook's list is read).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "fsck_int.h"
#include "../format/bkey.h"
#include "../format/checksum.h"
#include "../format/fskeys.h"
#include "../util/cmp.h"
#include "../util/diag.h"
#include "../util/vec.h"

#define S_IFMT_		0170000u
#define S_IFDIR_	0040000u
#define NS_ROUNDS	6	/* a repair that needs more says so */

/* One instance pass 6 reported. */
struct ns_fix {
	enum jrx_pr_code code;
	struct jrx_bpos	 pos;
	uint64_t	 num, want;
};

/* What the repair did, for its one line. */
struct ns_stats {
	uint64_t dirents_removed, dirents_rehashed, dirents_collided;
	uint64_t dtypes, extents_removed, extents_trimmed, sizes;
	uint64_t xattrs_removed, xattrs_rehashed, xattrs_collided;
	uint64_t names_removed, reconnected, nlinks;
	bool	 root, lost_found;
};

struct ns_round {
	enum jrx_repair_mode mode;
	struct ns_fix	*v;
	size_t		 nr, cap;
	bool		 nomem;
	bool		 structural;	/* anything but INODE_NLINK */
	struct jrx_fs	*fs;
	struct ns_stats	*st;
	uint64_t	 changes;	/* transactions committed */
	/* directories named more than once, sorted; whether the walk of
	 * the dirents has seen (kept) a name of each; the names to drop */
	uint64_t	*multi;
	bool		*kept;
	size_t		 nr_multi;
	struct jrx_bpos	*drop;
	size_t		 nr_drop, cap_drop;
};

/* ------------------------------------------------------------ the check */

static void collect(void *ctx, enum jrx_pr_code code,
		    const struct jrx_pr_ctx *c)
{
	const struct jrx_problem_desc *d = &jrx_problem_table[code];
	struct ns_round *r = ctx;

	if (d->fix != JRX_FIX_NAMESPACE || (r->mode == JRX_REPAIR_PREEN &&
					     !(d->flags & JRX_PRF_PREEN_OK)))
		return;
	if (JRX_VEC_RESERVE(r->v, r->nr, r->cap, 1, "namespace repair list")) {
		r->nomem = true;
		return;
	}
	r->v[r->nr++] = (struct ns_fix){
		.code = code, .pos = c->pos, .num = c->num, .want = c->want,
	};
	if (code != JRX_PR_INODE_NLINK)
		r->structural = true;
}

static int ns_run(struct jrx_fsck *f, void *ctx)
{
	struct ns_round *r = ctx;
	int ret = fsck_pass_namespace(f);

	return !ret && r->nomem ? -ENOMEM : ret;	/* jrx_diag() says what */
}

/* Pass 6 from the superblock's roots, its instances into r. */
static int ns_check(struct jrx_array *a, const struct jrx_fsck_opts *o,
		    struct ns_round *r)
{
	return fsck_own_check(a, o, JRX_PASS_NAMESPACE, collect, r, ns_run, r);
}

/* ------------------------------------------------------------ keys */

static bool is_dir_mode(uint32_t mode)
{
	return (mode & S_IFMT_) == S_IFDIR_;
}

/* The key at pos copied into buf (JRX_KEY_MAX_U64S words); *found. */
static int get_key(struct jrx_fs *fs, unsigned btree, struct jrx_bpos pos,
		   uint64_t *buf, bool *found)
{
	const struct jrx_bkey *k;
	int ret = jrx_btree_lookup(fs, btree, pos, &k);

	*found = !ret && k;
	if (*found)
		memcpy(buf, k, jrx_bkey_bytes(k));
	return ret;
}

/*
 * Inode inum (its first snapshot, as pass 6 takes it) into *v, its
 * position into *pos; *found.
 */
static int get_inode(struct jrx_fs *fs, uint64_t inum,
		     struct jrx_inode_val *v, struct jrx_bpos *pos, bool *found)
{
	const struct jrx_bkey *k;
	int ret;

	ret = jrx_btree_peek(fs, JRX_BTREE_INODES, jrx_bpos(inum, 0, 0), &k);
	*found = !ret && k && k->p.inode == inum && k->type == JRX_KEY_INODE &&
		jrx_bkey_val_bytes(k) >= sizeof(*v);
	if (*found) {
		memcpy(v, jrx_bkey_val(k), sizeof(*v));
		*pos = k->p;
	}
	return ret;
}

/* The inode at pos (a new one: jrx_bpos(inum, 0, JRX_SNAPSHOT_DEFAULT)). */
static int put_inode(struct jrx_fs *fs, struct jrx_bpos pos,
		     const struct jrx_inode_val *v)
{
	uint64_t buf[JRX_BKEY_U64S + sizeof(*v) / 8];
	struct jrx_bkey *k = jrx_fskey_inode(buf, pos.inode, v);

	k->p = pos;
	return jrx_fs_update(fs, JRX_BTREE_INODES, k);
}

static struct jrx_bpos new_inode_pos(uint64_t inum)
{
	return jrx_bpos(inum, 0, JRX_SNAPSHOT_DEFAULT);
}

static int whiteout(struct jrx_fs *fs, unsigned btree, struct jrx_bpos p)
{
	struct jrx_bkey k;

	jrx_bkey_init(&k, JRX_KEY_WHITEOUT, p, 0);
	return jrx_fs_update(fs, btree, &k);
}

/* One repair is one transaction. */
static int commit(struct ns_round *r)
{
	r->changes++;
	return jrx_fs_commit(r->fs);
}

/* ------------------------------------------------------------ the fixes */

/* ROOT_INODE_MISSING: a directory again.  true if it was made. */
static int fix_root(struct ns_round *r, bool *fixed)
{
	struct jrx_inode_val v;
	struct jrx_bpos pos = new_inode_pos(JRX_ROOT_INO);
	bool found;
	int ret;

	*fixed = false;
	for (size_t i = 0; i < r->nr; i++)
		if (r->v[i].code == JRX_PR_ROOT_INODE_MISSING)
			*fixed = true;
	if (!*fixed)
		return 0;
	ret = get_inode(r->fs, JRX_ROOT_INO, &v, &pos, &found);
	if (ret)
		return ret;
	if (found && is_dir_mode(v.mode))
		return 0;
	if (!found) {
		memset(&v, 0, sizeof(v));
		v.mtime = v.ctime = (uint64_t)time(NULL);
		v.generation = JRX_ROOT_INO;
		v.nlink = 2;	/* the link round counts its subdirectories */
		ret = jrx_fs_acct_inodes(r->fs, 1);
	}
	/* a root of another kind: its extents go as EXTENT_NOT_FILE next
	 * round, as e2fsck clears a root that is not a directory */
	v.mode = JRX_MODE_DIR;
	v.size = 0;
	if (!ret)
		ret = put_inode(r->fs, pos, &v);
	r->st->root = true;
	return ret ? ret : commit(r);
}

/* Dirents, extents and xattrs of no (or the wrong kind of) inode. */
static int fix_removals(struct ns_round *r, bool root_fixed)
{
	uint64_t buf[JRX_KEY_MAX_U64S];
	int ret = 0;

	for (size_t i = 0; !ret && i < r->nr; i++) {
		struct ns_fix *x = &r->v[i];
		unsigned btree;
		bool found;

		switch (x->code) {
		case JRX_PR_DIRENT_NO_DIR:
		case JRX_PR_DIRENT_NOT_IN_DIR:
			if (root_fixed && x->pos.inode == JRX_ROOT_INO)
				continue;	/* its directory is back */
			/* fall through */
		case JRX_PR_DIRENT_DANGLING:
			btree = JRX_BTREE_DIRENTS;
			break;
		case JRX_PR_EXTENT_NO_INODE:
		case JRX_PR_EXTENT_NOT_FILE:
			btree = JRX_BTREE_EXTENTS;
			break;
		case JRX_PR_XATTR_NO_INODE:
			btree = JRX_BTREE_XATTRS;
			break;
		default:
			continue;
		}
		/* a key with several problems: the first removes it */
		ret = get_key(r->fs, btree, x->pos, buf, &found);
		if (ret || !found)
			continue;
		ret = whiteout(r->fs, btree, x->pos);
		if (!ret && btree == JRX_BTREE_EXTENTS) {
			const struct jrx_bkey *k = (const struct jrx_bkey *)buf;
			const struct jrx_extent_val *e = jrx_bkey_val(k);

			ret = jrx_fs_free_data(r->fs, e->dev, e->sector, k->size);
		}
		if (btree == JRX_BTREE_DIRENTS)
			r->st->dirents_removed++;
		else if (btree == JRX_BTREE_EXTENTS)
			r->st->extents_removed++;
		else
			r->st->xattrs_removed++;
		if (!ret)
			ret = commit(r);
	}
	return ret;
}

/* DIRENT_WRONG_TYPE: the target's type (before any dirent moves). */
static int fix_dtypes(struct ns_round *r)
{
	uint64_t buf[JRX_KEY_MAX_U64S];
	int ret = 0;

	for (size_t i = 0; !ret && i < r->nr; i++) {
		struct ns_fix *x = &r->v[i];
		struct jrx_dirent_val *d;
		struct jrx_inode_val v;
		struct jrx_bpos ipos;
		bool found;

		if (x->code != JRX_PR_DIRENT_WRONG_TYPE)
			continue;
		ret = get_key(r->fs, JRX_BTREE_DIRENTS, x->pos, buf, &found);
		if (ret || !found)
			continue;
		d = jrx_bkey_val((struct jrx_bkey *)buf);
		ret = get_inode(r->fs, d->target, &v, &ipos, &found);
		if (ret || !found)
			continue;
		d->d_type = (uint8_t)((v.mode & S_IFMT_) >> 12);
		ret = jrx_fs_update(r->fs, JRX_BTREE_DIRENTS,
				    (struct jrx_bkey *)buf);
		r->st->dtypes++;
		if (!ret)
			ret = commit(r);
	}
	return ret;
}

/* DIRENT_BAD_HASH, XATTR_BAD_HASH: to the name's hash, or removed when
 * another key holds that place. */
static int fix_hashes(struct ns_round *r)
{
	uint64_t buf[JRX_KEY_MAX_U64S];
	int ret = 0;

	for (size_t i = 0; !ret && i < r->nr; i++) {
		struct ns_fix *x = &r->v[i];
		bool dirent = x->code == JRX_PR_DIRENT_BAD_HASH, found, taken;
		unsigned btree = dirent ? JRX_BTREE_DIRENTS : JRX_BTREE_XATTRS;
		struct jrx_bkey *k = (struct jrx_bkey *)buf;
		const char *name;
		size_t nl;
		uint64_t tmp[JRX_KEY_MAX_U64S];

		if (!dirent && x->code != JRX_PR_XATTR_BAD_HASH)
			continue;
		ret = get_key(r->fs, btree, x->pos, buf, &found);
		if (ret || !found)
			continue;
		if (dirent) {
			const struct jrx_dirent_val *d = jrx_bkey_val(k);

			name = (const char *)(d + 1);
			nl = d->name_len;
		} else {
			const struct jrx_xattr_val *xv = jrx_bkey_val(k);

			name = (const char *)(xv + 1);
			nl = xv->name_len;
		}
		k->p.offset = jrx_name_hash(name, nl);
		ret = get_key(r->fs, btree, k->p, tmp, &taken);
		if (ret)
			break;
		if (!taken)
			ret = jrx_fs_update(r->fs, btree, k);
		if (!ret)
			ret = whiteout(r->fs, btree, x->pos);
		if (dirent && taken)
			r->st->dirents_collided++;
		else if (dirent)
			r->st->dirents_rehashed++;
		else if (taken)
			r->st->xattrs_collided++;
		else
			r->st->xattrs_rehashed++;
		if (!ret)
			ret = commit(r);
	}
	return ret;
}

/* EXTENT_OVERLAP: the head of the later extent, up to the previous
 * extent's end (x->want), is dropped. */
static int fix_overlaps(struct ns_round *r)
{
	uint64_t buf[JRX_KEY_MAX_U64S];
	int ret = 0;

	for (size_t i = 0; !ret && i < r->nr; i++) {
		struct ns_fix *x = &r->v[i];
		struct jrx_bkey *k = (struct jrx_bkey *)buf;
		struct jrx_extent_val *e;
		uint64_t start, cut;
		bool found;

		if (x->code != JRX_PR_EXTENT_OVERLAP || x->want == JRX_PR_NONE)
			continue;
		ret = get_key(r->fs, JRX_BTREE_EXTENTS, x->pos, buf, &found);
		if (ret || !found)
			continue;
		start = k->p.offset - k->size;
		if (x->want <= start || x->want >= k->p.offset)
			continue;	/* no longer overlaps (or not as said) */
		cut = x->want - start;
		e = jrx_bkey_val(k);
		ret = jrx_fs_free_data(r->fs, e->dev, e->sector, (uint32_t)cut);
		e->sector += cut;
		k->size -= (uint32_t)cut;
		if (!ret)
			ret = jrx_fs_update(r->fs, JRX_BTREE_EXTENTS, k);
		r->st->extents_trimmed++;
		if (!ret)
			ret = commit(r);
	}
	return ret;
}

static bool extent_code(enum jrx_pr_code c)
{
	return c == JRX_PR_EXTENT_OVERLAP || c == JRX_PR_EXTENT_NO_INODE ||
		c == JRX_PR_EXTENT_NOT_FILE || c == JRX_PR_EXTENT_PAST_ISIZE;
}

/* Whether a later instance raises inode's size further: the extents'
 * instances come together, inode by inode, by end. */
static bool raised_later(const struct ns_round *r, size_t i)
{
	for (size_t j = i + 1; j < r->nr && extent_code(r->v[j].code) &&
	     r->v[j].pos.inode == r->v[i].pos.inode; j++)
		if (r->v[j].code == JRX_PR_EXTENT_PAST_ISIZE)
			return true;
	return false;
}

/* EXTENT_PAST_ISIZE: i_size raised to the end of its last extent. */
static int fix_sizes(struct ns_round *r)
{
	int ret = 0;

	for (size_t i = 0; !ret && i < r->nr; i++) {
		struct ns_fix *x = &r->v[i];
		uint64_t end = x->pos.offset;
		uint64_t buf[JRX_KEY_MAX_U64S];
		struct jrx_inode_val v;
		struct jrx_bpos pos;
		bool found;

		if (x->code != JRX_PR_EXTENT_PAST_ISIZE || raised_later(r, i))
			continue;
		/* not an extent removed (of a non-file) */
		ret = get_key(r->fs, JRX_BTREE_EXTENTS, x->pos, buf, &found);
		if (ret || !found)
			continue;
		ret = get_inode(r->fs, x->pos.inode, &v, &pos, &found);
		if (ret || !found || v.size >= end * JRX_SECTOR_SIZE)
			continue;
		v.size = end * JRX_SECTOR_SIZE;
		ret = put_inode(r->fs, pos, &v);
		r->st->sizes++;
		if (!ret)
			ret = commit(r);
	}
	return ret;
}

/* A dirent naming a directory named more than once: the first name of
 * each is kept (the root keeps none), the others are dropped. */
static int note_name(void *ctx, unsigned btree_id, const struct jrx_bkey *k)
{
	struct ns_round *r = ctx;
	const struct jrx_dirent_val *d = jrx_bkey_val(k);
	const uint64_t *m;
	size_t i;

	(void)btree_id;
	if (k->type != JRX_KEY_DIRENT)
		return 0;
	m = bsearch(&d->target, r->multi, r->nr_multi, sizeof(*m), jrx_cmp_u64);
	if (!m)
		return 0;
	i = (size_t)(m - r->multi);
	if (d->target != JRX_ROOT_INO && !r->kept[i]) {
		r->kept[i] = true;
		return 0;
	}
	if (JRX_VEC_RESERVE(r->drop, r->nr_drop, r->cap_drop, 1,
			    "names of directories named twice"))
		return -ENOMEM;
	r->drop[r->nr_drop++] = k->p;
	return 0;
}

/* DIR_MULTIPLE_LINKS: one walk of the dirents finds every name. */
static int fix_multi(struct ns_round *r)
{
	int ret = 0;

	for (size_t i = 0; i < r->nr; i++)
		if (r->v[i].code == JRX_PR_DIR_MULTIPLE_LINKS)
			r->nr_multi++;
	if (!r->nr_multi)
		return 0;
	r->multi = calloc(r->nr_multi, sizeof(*r->multi));
	r->kept = calloc(r->nr_multi, sizeof(*r->kept));
	if (!r->multi || !r->kept)
		return jrx_fail(-ENOMEM, "allocating the list of %zu directories"
				" named twice", r->nr_multi);
	r->nr_multi = 0;
	for (size_t i = 0; i < r->nr; i++)
		if (r->v[i].code == JRX_PR_DIR_MULTIPLE_LINKS)
			r->multi[r->nr_multi++] = r->v[i].num;
	qsort(r->multi, r->nr_multi, sizeof(*r->multi), jrx_cmp_u64);
	ret = jrx_btree_walk(r->fs, JRX_BTREE_DIRENTS, note_name, r);
	for (size_t i = 0; !ret && i < r->nr_drop; i++) {
		ret = whiteout(r->fs, JRX_BTREE_DIRENTS, r->drop[i]);
		r->st->names_removed++;
		if (!ret)
			ret = commit(r);
	}
	return ret;
}

static int max_inum(void *ctx, unsigned btree_id, const struct jrx_bkey *k)
{
	uint64_t *max = ctx;

	(void)btree_id;
	if (k->p.inode > *max)
		*max = k->p.inode;
	return 0;
}

/* /lost+found: the directory the root names so, or a new one (the name
 * taken over if it names anything else, which the next round then finds
 * unreachable). */
static int lost_found(struct ns_round *r, uint64_t *inum)
{
	static const char name[] = "lost+found";
	uint64_t buf[JRX_KEY_MAX_U64S], now = (uint64_t)time(NULL);
	struct jrx_bpos pos = jrx_fskey_name_pos(JRX_ROOT_INO, name,
						 sizeof(name) - 1);
	struct jrx_inode_val v, root;
	struct jrx_bpos ipos;
	bool found;
	int ret;

	ret = get_key(r->fs, JRX_BTREE_DIRENTS, pos, buf, &found);
	if (!ret && found) {
		const struct jrx_dirent_val *d =
			jrx_bkey_val((struct jrx_bkey *)buf);

		*inum = d->target;
		ret = get_inode(r->fs, *inum, &v, &ipos, &found);
		if (ret || (found && is_dir_mode(v.mode)))
			return ret;
	}
	if (ret)
		return ret;
	*inum = JRX_ROOT_INO;
	ret = jrx_btree_walk(r->fs, JRX_BTREE_INODES, max_inum, inum);
	if (ret)
		return ret;
	++*inum;
	memset(&v, 0, sizeof(v));
	v.mode = JRX_MODE_DIR;
	v.nlink = 2;
	v.mtime = v.ctime = now;
	v.generation = *inum;
	ret = put_inode(r->fs, new_inode_pos(*inum), &v);
	if (!ret)
		ret = jrx_fs_update(r->fs, JRX_BTREE_DIRENTS,
				    jrx_fskey_dirent(buf, JRX_ROOT_INO, name,
						     sizeof(name) - 1, *inum,
						     JRX_DT_DIR));
	if (!ret)
		ret = get_inode(r->fs, JRX_ROOT_INO, &root, &ipos, &found);
	if (!ret && found) {
		root.nlink++;
		ret = put_inode(r->fs, ipos, &root);
	}
	if (!ret)
		ret = jrx_fs_acct_inodes(r->fs, 1);
	r->st->lost_found = true;
	return ret ? ret : commit(r);
}

/* INODE_UNREACHABLE: "#<inum>" in /lost+found (e2fsck's name), with a
 * suffix in the rare case another name holds its hash. */
static int fix_unreachable(struct ns_round *r)
{
	uint64_t buf[JRX_KEY_MAX_U64S], lf = 0;
	bool have_lf = false;
	int ret = 0;

	for (size_t i = 0; !ret && i < r->nr; i++) {
		struct ns_fix *x = &r->v[i];
		struct jrx_inode_val v, dir;
		struct jrx_bpos ipos;
		unsigned dt;
		char name[48];
		bool found, taken = true;

		if (x->code != JRX_PR_INODE_UNREACHABLE)
			continue;
		ret = get_inode(r->fs, x->num, &v, &ipos, &found);
		if (ret || !found)
			continue;
		if (!have_lf) {
			ret = lost_found(r, &lf);
			if (ret)
				break;
			have_lf = true;
		}
		if (x->num == lf)
			continue;	/* named now */
		for (unsigned n = 0; !ret && taken && n < 16; n++) {
			if (n)
				snprintf(name, sizeof(name), "#%" PRIu64 ".%u",
					 x->num, n);
			else
				snprintf(name, sizeof(name), "#%" PRIu64, x->num);
			ret = get_key(r->fs, JRX_BTREE_DIRENTS,
				      jrx_fskey_name_pos(lf, name, strlen(name)),
				      buf, &taken);
		}
		if (ret || taken)
			continue;	/* left for the next round (said) */
		dt = (v.mode & S_IFMT_) >> 12;
		ret = jrx_fs_update(r->fs, JRX_BTREE_DIRENTS,
				    jrx_fskey_dirent(buf, lf, name, strlen(name),
						     x->num, dt));
		if (!ret && is_dir_mode(v.mode)) {
			ret = get_inode(r->fs, lf, &dir, &ipos, &found);
			if (!ret && found) {
				dir.nlink++;
				ret = put_inode(r->fs, ipos, &dir);
			}
		}
		r->st->reconnected++;
		if (!ret)
			ret = commit(r);
	}
	return ret;
}

/* INODE_NLINK: what the check counted (a round of its own). */
static int fix_nlinks(struct ns_round *r)
{
	int ret = 0;

	for (size_t i = 0; !ret && i < r->nr; i++) {
		struct ns_fix *x = &r->v[i];
		struct jrx_inode_val v;
		struct jrx_bpos pos;
		bool found;

		if (x->code != JRX_PR_INODE_NLINK || x->want > UINT32_MAX)
			continue;
		ret = get_inode(r->fs, x->num, &v, &pos, &found);
		if (ret || !found || v.nlink == x->want)
			continue;
		v.nlink = (uint32_t)x->want;
		ret = put_inode(r->fs, pos, &v);
		r->st->nlinks++;
		if (!ret)
			ret = commit(r);
	}
	return ret;
}

static int ns_fixes(struct jrx_fs *fs, void *ctx)
{
	struct ns_round *r = ctx;
	bool root_fixed = false;
	int ret;

	r->fs = fs;
	if (r->structural) {
		ret = fix_root(r, &root_fixed);
		if (!ret)
			ret = fix_removals(r, root_fixed);
		if (!ret)
			ret = fix_dtypes(r);
		if (!ret)
			ret = fix_hashes(r);
		if (!ret)
			ret = fix_overlaps(r);
		if (!ret)
			ret = fix_sizes(r);
		if (!ret)
			ret = fix_multi(r);
		if (!ret)
			ret = fix_unreachable(r);
	} else {
		ret = fix_nlinks(r);
	}
	r->fs = NULL;
	return ret;
}

/* One round's fixes, through the store's transaction path. */
static int ns_apply(struct jrx_array *a, struct ns_round *r)
{
	return fsck_in_store(a, ns_fixes, r);
}

static void ns_round_reset(struct ns_round *r)
{
	free(r->v);
	free(r->multi);
	free(r->kept);
	free(r->drop);
	*r = (struct ns_round){ .mode = r->mode, .st = r->st };
}

static void say(FILE *out, const char *what, uint64_t n, bool *first)
{
	if (!n)
		return;
	fprintf(out, "%s%" PRIu64 " %s", *first ? "" : ", ", n, what);
	*first = false;
}

static void summary(FILE *out, const struct ns_stats *st)
{
	bool first = true;

	fprintf(out, "repaired: namespace: ");
	if (st->root) {
		fprintf(out, "root directory made again");
		first = false;
	}
	say(out, "dirents removed", st->dirents_removed, &first);
	say(out, "dirents moved to their name's hash", st->dirents_rehashed,
	    &first);
	say(out, "dirents at a wrong hash removed (their name's place was"
	    " taken)", st->dirents_collided, &first);
	say(out, "dirent types set", st->dtypes, &first);
	say(out, "extents removed", st->extents_removed, &first);
	say(out, "overlapping extents trimmed", st->extents_trimmed, &first);
	say(out, "i_sizes raised to their extents", st->sizes, &first);
	say(out, "xattrs removed", st->xattrs_removed, &first);
	say(out, "xattrs moved to their name's hash", st->xattrs_rehashed,
	    &first);
	say(out, "xattrs at a wrong hash removed (their name's place was"
	    " taken)", st->xattrs_collided, &first);
	say(out, "extra names of directories removed", st->names_removed,
	    &first);
	if (st->lost_found) {
		fprintf(out, "%s/lost+found made", first ? "" : ", ");
		first = false;
	}
	say(out, "inodes reconnected in /lost+found", st->reconnected, &first);
	say(out, "link counts set", st->nlinks, &first);
	if (first)
		fprintf(out, "nothing to change");
	fputc('\n', out);
}

int fsck_repair_namespace(struct jrx_array *a, const struct jrx_fsck_opts *o,
			  FILE *out)
{
	struct ns_stats st = { 0 };
	struct ns_round r = { .mode = o->repair, .st = &st };
	uint64_t changes = 0;
	int ret = 0, round;

	for (round = 0; !ret && round < NS_ROUNDS; round++) {
		bool last;

		ret = ns_check(a, o, &r);
		if (ret || !r.nr)
			break;
		last = !r.structural;	/* link counts: nothing changes them */
		ret = ns_apply(a, &r);
		changes += r.changes;
		if (!ret && !r.changes)
			break;	/* found, but nothing applies: the re-check says */
		ns_round_reset(&r);
		if (last)
			break;
	}
	ns_round_reset(&r);
	if (!ret && round == NS_ROUNDS && out)
		fprintf(out, "namespace repair: still finding problems after %d"
			" rounds; run fsck again\n", NS_ROUNDS);
	if (!ret && out && changes)
		summary(out, &st);
	return ret ? ret : changes ? 1 : 0;
}
