/*
 * verify.c - compare a store with the durable operations of a `jrx load`
 * oracle (see verify.h, docs/ORACLE.md).  Owns the comparison rules:
 *
 * Namespace (table files, btrees inodes and dirents):
 *  - every row of `files` has an inode at (inum, 0, *) whose type, from
 *    mode & 0170000, is 0040000 for d_type 4 (DT_DIR) and 0100000 for
 *    d_type 8 (DT_REG), and whose i_size equals files.size (bytes);
 *  - every row has a dirent at (parent, name_hash(name), *) whose name is
 *    `name`, whose target is `inum` and whose d_type is files.d_type;
 *  - the store has no other inode but the root directory JRX_ROOT_INO
 *    (which must exist and be a directory), and no other dirent.
 *  Inode fields the oracle does not record (times, nlink, generation,
 *  uid/gid) are not compared.
 *
 * Xattrs (table xattrs, btree xattrs): the same set of (inum, name), keyed
 * in the store at (inum, name_hash(name), *), with byte-identical values.
 *
 * Data (table ops, btree extents): the ops of kind create, write, truncate
 * and unlink are replayed in id order per inode into an interval map
 * (sorted, disjoint [start, end) sector ranges, each with the tag of the
 * write that last covered it; one entry per range, never per sector):
 *  - create, unlink: the map is emptied;
 *  - write off,len,tag: [off, off+len) is cut out of the map and inserted
 *    with `tag`;
 *  - truncate size: everything at or above sector ceil(size / 512) is cut
 *    (that is what jrx_op_truncate() punches: the sector holding the new
 *    end of file stays whole).
 *  The store's extents of the inode (key end E, size S: sectors [E-S, E))
 *  must cover exactly the same sectors, each with the same data_tag; the
 *  split of the store's coverage into keys is free (allocation pieces and
 *  trims split one write into several keys).  Trimmed fragments: fsops.c
 *  punch() keeps the value of the extent it trims, data_tag unchanged; a
 *  front fragment keeps `sector` and gets a smaller size, a back fragment
 *  [end, E) gets `sector + (end - (E - S))`.  The extent value has no
 *  "offset in the original write" field: the position of a fragment in
 *  its write lives only in `sector`, and because one write's data may be
 *  split over several allocations, the oracle (which does not record
 *  device sectors) cannot check it: only coverage and data_tag are
 *  compared.  Differing sectors are reported as coalesced ranges
 *  ("data", expected tag T or hole, found tag U or hole); two store
 *  extents that overlap are reported as "extent.overlap".
 *
 * Streaming: the ops are read ordered by (inum, id) and merged with one
 * walk of the extents btree (ordered by inum, then end), one inode in
 * memory at a time.  Files and xattrs are loaded and sorted in memory.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sqlite3.h>
#include "verify.h"
#include "../btree/mkfs.h"
#include "jrx/errors.h"
#include "../format/bkey.h"
#include "../format/checksum.h"
#include "../util/diag.h"
#include "../util/vec.h"

#define VERIFY_DEFAULT_PRINT 20u
#define S_TYPE_MASK 0170000u
#define S_TYPE_DIR  0040000u
#define S_TYPE_REG  0100000u

struct vfile {
	uint64_t inum, parent, size, hash;
	unsigned d_type;
	bool	 seen_inode, seen_dirent;
	char	*name;
};

struct vxattr {
	uint64_t inum, hash;
	char	*name;
	void	*value;
	size_t	 value_len;
	bool	 seen;
};

struct ival {
	uint64_t start, end, tag;
};

struct ivec {
	struct ival *v;
	size_t nr, cap;
};

struct vctx {
	struct jrx_fs		       *fs;
	const char		       *path;
	sqlite3			       *db;
	const struct jrx_verify_opts   *o;
	struct jrx_verify_result       *res;
	unsigned			max_print;
	int				err;

	struct vfile		       *files;	/* by inum */
	size_t				nr_files;
	struct vfile		      **by_pos;	/* by (parent, hash, name) */
	bool				root_seen;

	struct vxattr		       *xattrs;	/* by (inum, hash, name) */
	size_t				nr_xattrs;

	/* data: the ops cursor and the inode being compared */
	sqlite3_stmt		       *ops;
	bool				ops_row;	/* a row is current */
	struct ivec			exp, got;
	uint64_t			cur;
	bool				have_cur;
};

/* ------------------------------------------------------------ differences */

size_t jrx_verify_diff_text(char *buf, size_t len,
			    const struct jrx_verify_diff *d)
{
	int n = snprintf(buf, len, "inum %" PRIu64, d->inum);
	size_t at = n > 0 ? (size_t)n : 0;

#define ADD(...) do {							\
		if (at < len) {						\
			n = snprintf(buf + at, len - at, __VA_ARGS__);	\
			at += n > 0 ? (size_t)n : 0;			\
		}							\
	} while (0)
	if (d->name[0])
		ADD(" \"%s\"", d->name);
	if (d->parent)
		ADD(" in dir %" PRIu64, d->parent);
	if (!strcmp(d->field, "data") || !strcmp(d->field, "extent.overlap"))
		ADD(" sectors [%" PRIu64 ", %" PRIu64 ")", d->start, d->end);
	ADD(": %s: expected %s, found %s", d->field, d->expected, d->found);
#undef ADD
	return at < len ? at : len ? len - 1 : 0;
}

static void diff(struct vctx *c, const struct jrx_verify_diff *d)
{
	struct jrx_verify_result *r = c->res;

	if (r->nr_kept < JRX_VERIFY_KEEP)
		r->kept[r->nr_kept++] = *d;
	if (c->o && c->o->out && r->diffs < c->max_print) {
		char line[512];

		jrx_verify_diff_text(line, sizeof(line), d);
		fprintf(c->o->out, "%s\n", line);
	}
	r->diffs++;
}

/* Bounded copy that always terminates (and may cut). */
static void copy_text(char *dst, size_t len, const char *src)
{
	size_t n = strnlen(src, len - 1);

	memcpy(dst, src, n);
	dst[n] = 0;
}

/* A difference with everything but the ranges. */
__attribute__((format(printf, 6, 7)))
static void diffv(struct vctx *c, uint64_t inum, uint64_t parent,
		  const char *field, const char *name, const char *fmt, ...)
{
	struct jrx_verify_diff d = { .inum = inum, .parent = parent };
	char both[256], *sep;
	va_list ap;

	snprintf(d.field, sizeof(d.field), "%s", field);
	snprintf(d.name, sizeof(d.name), "%s", name ? name : "");
	/* fmt gives "expected|found" */
	va_start(ap, fmt);
	vsnprintf(both, sizeof(both), fmt, ap);
	va_end(ap);
	sep = strchr(both, '|');
	if (sep)
		*sep++ = 0;
	copy_text(d.expected, sizeof(d.expected), both);
	copy_text(d.found, sizeof(d.found), sep ? sep : "?");
	diff(c, &d);
}

/* ------------------------------------------------------------ oracle */

static int db_fail(struct vctx *c, const char *what)
{
	return jrx_fail(-JRX_ERR_ORACLE, "%s: %s: %s", c->path, what,
			c->db ? sqlite3_errmsg(c->db) : "cannot open");
}

static int prepare(struct vctx *c, const char *sql, sqlite3_stmt **st)
{
	if (sqlite3_prepare_v2(c->db, sql, -1, st, NULL) == SQLITE_OK)
		return 0;
	*st = NULL;
	return jrx_fail(-JRX_ERR_ORACLE, "%s: not a jrx load oracle (%s)",
			c->path, sqlite3_errmsg(c->db));
}

/*
 * Read-only.  SQLite would still create FILE-wal and FILE-shm next to a
 * WAL-mode database; when there is no WAL content to read (the loader
 * closed the database, which checkpoints it), the file is opened
 * immutable instead, which leaves the directory untouched.
 */
static int open_oracle(struct vctx *c)
{
	char wal[4096], uri[3 * 4096 + 32];
	struct stat st;
	size_t at;
	int rc;

	if (access(c->path, R_OK))
		return jrx_fail(-JRX_ERR_ORACLE, "%s: cannot open oracle: %s",
				c->path, strerror(errno));
	snprintf(wal, sizeof(wal), "%s-wal", c->path);
	if (strlen(c->path) < 4000 && (stat(wal, &st) || !st.st_size)) {
		at = (size_t)snprintf(uri, sizeof(uri), "file:");
		for (const unsigned char *p = (const unsigned char *)c->path; *p; p++)
			at += (size_t)(isalnum(*p) || strchr("/-_.~", *p) ?
				snprintf(uri + at, sizeof(uri) - at, "%c", *p) :
				snprintf(uri + at, sizeof(uri) - at, "%%%02X", *p));
		snprintf(uri + at, sizeof(uri) - at, "?immutable=1");
		rc = sqlite3_open_v2(uri, &c->db, SQLITE_OPEN_READONLY |
				     SQLITE_OPEN_URI, NULL);
	} else {
		rc = sqlite3_open_v2(c->path, &c->db, SQLITE_OPEN_READONLY, NULL);
	}
	if (rc != SQLITE_OK)
		return db_fail(c, "cannot open oracle");
	sqlite3_busy_timeout(c->db, 5000);
	/* one read transaction: a consistent snapshot of all tables */
	if (sqlite3_exec(c->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		return db_fail(c, "begin");
	return 0;
}

static char *dup_text(sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	return strdup(t ? (const char *)t : "");
}

static int cmp_file_inum(const void *a, const void *b)
{
	const struct vfile *x = a, *y = b;

	return x->inum < y->inum ? -1 : x->inum > y->inum;
}

static int cmp_file_pos(const void *a, const void *b)
{
	const struct vfile *x = *(struct vfile *const *)a;
	const struct vfile *y = *(struct vfile *const *)b;

	if (x->parent != y->parent)
		return x->parent < y->parent ? -1 : 1;
	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	return strcmp(x->name, y->name);
}

static int load_files(struct vctx *c)
{
	sqlite3_stmt *st;
	size_t cap = 0;
	int rc, ret = prepare(c, "SELECT inum, parent, name, d_type, size"
			      " FROM files ORDER BY inum", &st);

	if (ret)
		return ret;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct vfile *f;

		ret = JRX_VEC_RESERVE(c->files, c->nr_files, cap, 1,
				      "verify oracle files");
		if (ret)
			break;
		f = &c->files[c->nr_files];
		memset(f, 0, sizeof(*f));
		f->inum = (uint64_t)sqlite3_column_int64(st, 0);
		f->parent = (uint64_t)sqlite3_column_int64(st, 1);
		f->name = dup_text(st, 2);
		f->d_type = (unsigned)sqlite3_column_int(st, 3);
		f->size = (uint64_t)sqlite3_column_int64(st, 4);
		if (!f->name) {
			ret = jrx_fail(-ENOMEM, "verify: allocating the"
				       " name of file %" PRIu64, f->inum);
			break;
		}
		f->hash = jrx_name_hash(f->name, strlen(f->name));
		c->nr_files++;
	}
	if (!ret && rc != SQLITE_DONE)
		ret = db_fail(c, "reading table files");
	sqlite3_finalize(st);
	if (ret)
		return ret;
	/* ORDER BY the primary key; sort anyway, bsearch depends on it */
	qsort(c->files, c->nr_files, sizeof(*c->files), cmp_file_inum);
	c->by_pos = malloc((c->nr_files + 1) * sizeof(*c->by_pos));
	if (!c->by_pos)
		return jrx_fail(-ENOMEM, "verify: allocating the %zu"
				" files by name", c->nr_files);
	for (size_t i = 0; i < c->nr_files; i++)
		c->by_pos[i] = &c->files[i];
	qsort(c->by_pos, c->nr_files, sizeof(*c->by_pos), cmp_file_pos);
	c->res->files = c->nr_files;
	return 0;
}

static int cmp_xattr(const void *a, const void *b)
{
	const struct vxattr *x = a, *y = b;

	if (x->inum != y->inum)
		return x->inum < y->inum ? -1 : 1;
	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	return strcmp(x->name, y->name);
}

static int load_xattrs(struct vctx *c)
{
	sqlite3_stmt *st;
	size_t cap = 0;
	int rc, ret = prepare(c, "SELECT inum, name, value FROM xattrs", &st);

	if (ret)
		return ret;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct vxattr *x;
		const void *v;

		ret = JRX_VEC_RESERVE(c->xattrs, c->nr_xattrs, cap, 1,
				      "verify oracle xattrs");
		if (ret)
			break;
		x = &c->xattrs[c->nr_xattrs];
		memset(x, 0, sizeof(*x));
		x->inum = (uint64_t)sqlite3_column_int64(st, 0);
		x->name = dup_text(st, 1);
		v = sqlite3_column_blob(st, 2);
		x->value_len = (size_t)sqlite3_column_bytes(st, 2);
		x->value = malloc(x->value_len + 1);
		if (!x->name || !x->value) {
			free(x->name);
			free(x->value);
			ret = jrx_fail(-ENOMEM, "verify: allocating an"
				       " xattr of inode %" PRIu64 " (%zu value"
				       " bytes)", x->inum, x->value_len);
			break;
		}
		if (x->value_len)
			memcpy(x->value, v, x->value_len);
		x->hash = jrx_name_hash(x->name, strlen(x->name));
		c->nr_xattrs++;
	}
	if (!ret && rc != SQLITE_DONE)
		ret = db_fail(c, "reading table xattrs");
	sqlite3_finalize(st);
	if (ret)
		return ret;
	qsort(c->xattrs, c->nr_xattrs, sizeof(*c->xattrs), cmp_xattr);
	c->res->xattrs = c->nr_xattrs;
	return 0;
}

/* ------------------------------------------------------------ namespace */

static const char *type_text(unsigned d_type)
{
	return d_type == 4 ? "dir" : d_type == 8 ? "reg" : "unknown d_type";
}

static uint32_t type_mode(unsigned d_type)
{
	return d_type == 4 ? S_TYPE_DIR : d_type == 8 ? S_TYPE_REG : 0;
}

static struct vfile *find_file(struct vctx *c, uint64_t inum)
{
	struct vfile key = { .inum = inum };

	return bsearch(&key, c->files, c->nr_files, sizeof(*c->files),
		       cmp_file_inum);
}

static int inode_cb(void *ctx, unsigned btree_id, const struct jrx_bkey *k)
{
	struct vctx *c = ctx;
	struct jrx_inode_val v;
	struct vfile *f;
	uint64_t inum = k->p.inode;
	uint32_t type;

	(void)btree_id;
	if (k->type != JRX_KEY_INODE)
		return 0;
	c->res->inodes++;
	memcpy(&v, jrx_bkey_val(k), sizeof(v));
	type = v.mode & S_TYPE_MASK;
	if (inum == JRX_ROOT_INO) {
		c->root_seen = true;
		if (type != S_TYPE_DIR)
			diffv(c, inum, 0, "root", NULL, "dir|mode 0%o", v.mode);
		return 0;
	}
	f = find_file(c, inum);
	if (!f) {
		diffv(c, inum, 0, "inode", NULL, "absent|present (mode 0%o,"
		      " i_size %" PRIu64 ")", v.mode, v.size);
		return 0;
	}
	if (f->seen_inode)	/* a second key of one inum (other snapshot) */
		diffv(c, inum, 0, "inode", f->name, "one key|another at"
		      " offset %" PRIu64 " snapshot %u", k->p.offset,
		      k->p.snapshot);
	f->seen_inode = true;
	if (type != type_mode(f->d_type))
		diffv(c, inum, 0, "type", f->name, "%s|mode 0%o",
		      type_text(f->d_type), v.mode);
	if (v.size != f->size)
		diffv(c, inum, 0, "i_size", f->name, "%" PRIu64 "|%" PRIu64,
		      f->size, v.size);
	return 0;
}

static int check_inodes(struct vctx *c)
{
	int ret = jrx_btree_walk(c->fs, JRX_BTREE_INODES, inode_cb, c);

	if (ret)
		return ret;
	if (!c->root_seen)
		diffv(c, JRX_ROOT_INO, 0, "root", NULL, "dir|absent");
	for (size_t i = 0; i < c->nr_files; i++) {
		struct vfile *f = &c->files[i];

		if (!f->seen_inode)
			diffv(c, f->inum, 0, "inode", f->name, "%s, i_size %"
			      PRIu64 "|absent", type_text(f->d_type), f->size);
	}
	return 0;
}

/* First oracle file at (parent, hash), preferring the given name. */
static struct vfile *find_dirent(struct vctx *c, uint64_t parent,
				 uint64_t hash, const char *name)
{
	size_t lo = 0, hi = c->nr_files;
	struct vfile *first = NULL;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct vfile *f = c->by_pos[mid];

		if (f->parent < parent || (f->parent == parent && f->hash < hash))
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < c->nr_files; lo++) {
		struct vfile *f = c->by_pos[lo];

		if (f->parent != parent || f->hash != hash)
			break;
		if (!first && !f->seen_dirent)
			first = f;
		if (!strcmp(f->name, name))
			return f;
	}
	return first;
}

static int dirent_cb(void *ctx, unsigned btree_id, const struct jrx_bkey *k)
{
	struct vctx *c = ctx;
	struct jrx_dirent_val d;
	struct vfile *f;
	char name[256];
	size_t nl;

	(void)btree_id;
	if (k->type != JRX_KEY_DIRENT)
		return 0;
	c->res->dirents++;
	memcpy(&d, jrx_bkey_val(k), sizeof(d));
	nl = d.name_len;
	if (nl > jrx_bkey_val_bytes(k) - sizeof(d))
		nl = jrx_bkey_val_bytes(k) - sizeof(d);
	memcpy(name, (const char *)jrx_bkey_val(k) + sizeof(d), nl);
	name[nl] = 0;
	f = find_dirent(c, k->p.inode, k->p.offset, name);
	if (!f) {
		diffv(c, d.target, k->p.inode, "dirent", name,
		      "absent|present (target %" PRIu64 ")", d.target);
		return 0;
	}
	f->seen_dirent = true;
	if (strcmp(f->name, name))
		diffv(c, f->inum, f->parent, "dirent.name", f->name, "%s|%s",
		      f->name, name);
	if (d.target != f->inum)
		diffv(c, f->inum, f->parent, "dirent.target", f->name,
		      "%" PRIu64 "|%" PRIu64, f->inum, d.target);
	if (d.d_type != f->d_type)
		diffv(c, f->inum, f->parent, "dirent.d_type", f->name,
		      "%u|%u", f->d_type, d.d_type);
	return 0;
}

static int check_dirents(struct vctx *c)
{
	int ret = jrx_btree_walk(c->fs, JRX_BTREE_DIRENTS, dirent_cb, c);

	if (ret)
		return ret;
	for (size_t i = 0; i < c->nr_files; i++) {
		struct vfile *f = &c->files[i];

		if (!f->seen_dirent)
			diffv(c, f->inum, f->parent, "dirent", f->name,
			      "present (target %" PRIu64 ")|absent", f->inum);
	}
	return 0;
}

/* ------------------------------------------------------------ xattrs */

/* "len N: hex..." within out's size */
static void value_text(char *out, size_t len, const void *v, size_t n)
{
	const uint8_t *b = v;
	size_t at = (size_t)snprintf(out, len, "len %zu:", n);

	for (size_t i = 0; i < n && at + 8 < len; i++)
		at += (size_t)snprintf(out + at, len - at, "%02x", b[i]);
	if (at + 8 >= len && len > 4)
		memcpy(out + len - 4, "...", 4);
}

static struct vxattr *find_xattr(struct vctx *c, uint64_t inum, uint64_t hash,
				 const char *name)
{
	size_t lo = 0, hi = c->nr_xattrs;
	struct vxattr *first = NULL;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct vxattr *x = &c->xattrs[mid];

		if (x->inum < inum || (x->inum == inum && x->hash < hash))
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < c->nr_xattrs; lo++) {
		struct vxattr *x = &c->xattrs[lo];

		if (x->inum != inum || x->hash != hash)
			break;
		if (!first && !x->seen)
			first = x;
		if (!strcmp(x->name, name))
			return x;
	}
	return first;
}

static int xattr_cb(void *ctx, unsigned btree_id, const struct jrx_bkey *k)
{
	struct vctx *c = ctx;
	struct jrx_xattr_val xv;
	struct vxattr *x;
	char name[256], a[100], b[100];
	const char *p = (const char *)jrx_bkey_val(k) + sizeof(xv);
	size_t room, nl, vl;

	(void)btree_id;
	if (k->type != JRX_KEY_XATTR)
		return 0;
	c->res->store_xattrs++;
	memcpy(&xv, jrx_bkey_val(k), sizeof(xv));
	room = jrx_bkey_val_bytes(k) - sizeof(xv);
	nl = xv.name_len < room ? xv.name_len : room;
	vl = xv.value_len < room - nl ? xv.value_len : room - nl;
	memcpy(name, p, nl);
	name[nl] = 0;
	x = find_xattr(c, k->p.inode, k->p.offset, name);
	if (!x) {
		value_text(b, sizeof(b), p + nl, vl);
		diffv(c, k->p.inode, 0, "xattr", name, "absent|%s", b);
		return 0;
	}
	x->seen = true;
	if (strcmp(x->name, name)) {
		diffv(c, x->inum, 0, "xattr", x->name, "present|absent (another"
		      " name at its hash: %s)", name);
		return 0;
	}
	if (vl != x->value_len || memcmp(x->value, p + nl, vl)) {
		value_text(a, sizeof(a), x->value, x->value_len);
		value_text(b, sizeof(b), p + nl, vl);
		diffv(c, x->inum, 0, "xattr.value", x->name, "%s|%s", a, b);
	}
	return 0;
}

static int check_xattrs(struct vctx *c)
{
	int ret = jrx_btree_walk(c->fs, JRX_BTREE_XATTRS, xattr_cb, c);
	char a[100];

	if (ret)
		return ret;
	for (size_t i = 0; i < c->nr_xattrs; i++) {
		struct vxattr *x = &c->xattrs[i];

		if (!x->seen) {
			value_text(a, sizeof(a), x->value, x->value_len);
			diffv(c, x->inum, 0, "xattr", x->name, "%s|absent", a);
		}
	}
	return 0;
}

/* ------------------------------------------------------------ data */

/*
 * Cut [s, e) out of a sorted disjoint map and, if put, insert it with tag.
 * Binary search for the first range ending past s; one memmove.
 */
static int imap_put(struct ivec *m, uint64_t s, uint64_t e, bool put,
		    uint64_t tag)
{
	size_t lo = 0, hi = m->nr, n = 0, j;
	struct ival add[3];
	int ret;

	if (s >= e)
		return 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (m->v[mid].end <= s)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (j = lo; j < m->nr && m->v[j].start < e; j++)
		;
	if (lo < j && m->v[lo].start < s)
		add[n++] = (struct ival){ m->v[lo].start, s, m->v[lo].tag };
	if (put)
		add[n++] = (struct ival){ s, e, tag };
	if (lo < j && m->v[j - 1].end > e)
		add[n++] = (struct ival){ e, m->v[j - 1].end, m->v[j - 1].tag };
	/* room for n more: the j - lo ranges cut only make it smaller */
	ret = JRX_VEC_RESERVE(m->v, m->nr, m->cap, n, "verify sector map");
	if (ret)
		return ret;
	if (m->nr > j)
		memmove(m->v + lo + n, m->v + j, (m->nr - j) * sizeof(*m->v));
	if (n)
		memcpy(m->v + lo, add, n * sizeof(*add));
	m->nr = m->nr - (j - lo) + n;
	return 0;
}

static int ops_step(struct vctx *c)
{
	int rc = sqlite3_step(c->ops);

	c->ops_row = rc == SQLITE_ROW;
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 :
		db_fail(c, "reading table ops");
}

static uint64_t ops_inum(struct vctx *c)
{
	return (uint64_t)sqlite3_column_int64(c->ops, 0);
}

/* Replay the ops of the current row's inode into c->exp. */
static int build_expected(struct vctx *c, uint64_t inum)
{
	int ret = 0;

	c->exp.nr = 0;
	while (!ret && c->ops_row && ops_inum(c) == inum) {
		sqlite3_stmt *st = c->ops;
		const char *kind = (const char *)sqlite3_column_text(st, 1);
		uint64_t off = (uint64_t)sqlite3_column_int64(st, 2);
		uint64_t len = (uint64_t)sqlite3_column_int64(st, 3);
		uint64_t size = (uint64_t)sqlite3_column_int64(st, 4);
		uint64_t tag = (uint64_t)sqlite3_column_int64(st, 5);

		kind = kind ? kind : "";
		if (!strcmp(kind, "write")) {
			if (off + len < off)
				return jrx_fail(-JRX_ERR_ORACLE, "%s: ops: write"
						" of inum %" PRIu64 " at %" PRIu64
						" + %" PRIu64 " overflows",
						c->path, inum, off, len);
			ret = imap_put(&c->exp, off, off + len, true, tag);
		} else if (!strcmp(kind, "truncate")) {
			uint64_t cut = size / JRX_SECTOR_SIZE +
				!!(size % JRX_SECTOR_SIZE);

			ret = imap_put(&c->exp, cut, UINT64_MAX, false, 0);
		} else {	/* create, unlink */
			c->exp.nr = 0;
		}
		if (strcmp(kind, "create"))
			c->res->ops++;
		if (!ret)
			ret = ops_step(c);
	}
	return ret;
}

struct side {
	bool	 in;
	uint64_t tag;
};

static void tag_text(char *out, size_t len, struct side s)
{
	if (s.in)
		snprintf(out, len, "tag %" PRIu64, s.tag);
	else
		snprintf(out, len, "hole");
}

static void data_diff(struct vctx *c, uint64_t inum, uint64_t s, uint64_t e,
		      struct side want, struct side got)
{
	struct jrx_verify_diff d = { .inum = inum, .start = s, .end = e };
	struct vfile *f = find_file(c, inum);

	snprintf(d.field, sizeof(d.field), "data");
	if (f)
		snprintf(d.name, sizeof(d.name), "%s", f->name);
	tag_text(d.expected, sizeof(d.expected), want);
	tag_text(d.found, sizeof(d.found), got);
	diff(c, &d);
}

/* Compare c->exp with c->got (the store's extents of inum, by end). */
static void compare_data(struct vctx *c, uint64_t inum)
{
	struct ival *ev = c->exp.v, *gv = c->got.v;
	size_t ne = c->exp.nr, ng = 0, i = 0, j = 0;
	struct side pw = { 0 }, pg = { 0 };
	uint64_t ps = 0, pe = 0, pos = 0;
	bool pending = false;

	for (size_t k = 0; k < ne; k++)
		c->res->sectors += ev[k].end - ev[k].start;
	c->res->extents += c->got.nr;
	/* overlapping store extents: report, then clip to keep them disjoint */
	for (size_t k = 0; k < c->got.nr; k++) {
		struct ival g = gv[k];

		if (ng && g.start < gv[ng - 1].end) {
			struct jrx_verify_diff d = {
				.inum = inum, .start = g.start,
				.end = gv[ng - 1].end < g.end ? gv[ng - 1].end : g.end,
			};

			snprintf(d.field, sizeof(d.field), "extent.overlap");
			snprintf(d.expected, sizeof(d.expected), "disjoint extents");
			snprintf(d.found, sizeof(d.found), "tag %" PRIu64
				 " and tag %" PRIu64, gv[ng - 1].tag, g.tag);
			diff(c, &d);
			g.start = gv[ng - 1].end;
			if (g.start >= g.end)
				continue;
		}
		gv[ng++] = g;
	}
	for (;;) {
		struct side w = { 0 }, g = { 0 };
		uint64_t next = UINT64_MAX;

		while (i < ne && ev[i].end <= pos)
			i++;
		while (j < ng && gv[j].end <= pos)
			j++;
		if (i >= ne && j >= ng)
			break;
		if (i < ne && ev[i].start <= pos) {
			w = (struct side){ true, ev[i].tag };
			next = ev[i].end;
		} else if (i < ne) {
			next = ev[i].start;
		}
		if (j < ng && gv[j].start <= pos) {
			g = (struct side){ true, gv[j].tag };
			next = gv[j].end < next ? gv[j].end : next;
		} else if (j < ng && gv[j].start < next) {
			next = gv[j].start;
		}
		if (w.in != g.in || (w.in && w.tag != g.tag)) {
			if (pending && pe == pos && pw.in == w.in && pg.in == g.in &&
			    pw.tag == w.tag && pg.tag == g.tag) {
				pe = next;
			} else {
				if (pending)
					data_diff(c, inum, ps, pe, pw, pg);
				pending = true;
				ps = pos;
				pe = next;
				pw = w;
				pg = g;
			}
		}
		pos = next;
	}
	if (pending)
		data_diff(c, inum, ps, pe, pw, pg);
}

/* Finish every inode the ops name below `below` (no store extents). */
static int drain_ops_below(struct vctx *c, uint64_t below, bool all)
{
	int ret = 0;

	c->got.nr = 0;
	while (!ret && c->ops_row && (all || ops_inum(c) < below)) {
		uint64_t inum = ops_inum(c);

		ret = build_expected(c, inum);
		if (!ret)
			compare_data(c, inum);
	}
	return ret;
}

/* The store's extents of c->cur are in c->got: compare them. */
static int finish_inode(struct vctx *c)
{
	struct ivec got = c->got;
	int ret;

	/* inodes with ops but no extents, below cur */
	c->got.nr = 0;
	ret = drain_ops_below(c, c->cur, false);
	c->got = got;
	if (ret)
		return ret;
	c->exp.nr = 0;
	if (c->ops_row && ops_inum(c) == c->cur)
		ret = build_expected(c, c->cur);
	if (!ret)
		compare_data(c, c->cur);
	c->got.nr = 0;
	c->have_cur = false;
	return ret;
}

static int extent_cb(void *ctx, unsigned btree_id, const struct jrx_bkey *k)
{
	struct vctx *c = ctx;
	struct jrx_extent_val e;
	int ret;

	(void)btree_id;
	if (k->type != JRX_KEY_EXTENT)
		return 0;
	if (c->have_cur && k->p.inode != c->cur) {
		ret = finish_inode(c);
		if (ret)
			return c->err = ret;
	}
	if (!c->have_cur) {
		c->cur = k->p.inode;
		c->have_cur = true;
		c->got.nr = 0;
	}
	ret = JRX_VEC_RESERVE(c->got.v, c->got.nr, c->got.cap, 1,
			      "verify store sector map");
	if (ret)
		return c->err = ret;
	memcpy(&e, jrx_bkey_val(k), sizeof(e));
	c->got.v[c->got.nr++] = (struct ival){
		k->p.offset - k->size, k->p.offset, e.data_tag };
	return 0;
}

static int check_data(struct vctx *c)
{
	int ret = prepare(c, "SELECT inum, kind, off, len, size, tag FROM ops"
			  " WHERE kind IN ('create', 'write', 'truncate',"
			  " 'unlink') ORDER BY inum, id", &c->ops);

	if (!ret)
		ret = ops_step(c);
	if (!ret)
		ret = jrx_btree_walk(c->fs, JRX_BTREE_EXTENTS, extent_cb, c);
	if (!ret && c->have_cur)
		ret = finish_inode(c);
	if (!ret)
		ret = drain_ops_below(c, 0, true);
	return ret;
}

/* ------------------------------------------------------------ entry */

static void vctx_free(struct vctx *c)
{
	for (size_t i = 0; i < c->nr_files; i++)
		free(c->files[i].name);
	for (size_t i = 0; i < c->nr_xattrs; i++) {
		free(c->xattrs[i].name);
		free(c->xattrs[i].value);
	}
	free(c->files);
	free(c->by_pos);
	free(c->xattrs);
	free(c->exp.v);
	free(c->got.v);
	sqlite3_finalize(c->ops);
	if (c->db) {
		sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
		sqlite3_close(c->db);
	}
}

int jrx_verify(struct jrx_fs *view, const char *oracle_path,
	       const struct jrx_verify_opts *o, struct jrx_verify_result *res)
{
	struct vctx c = {
		.fs = view, .path = oracle_path, .o = o, .res = res,
		.max_print = o && o->max_diffs ? o->max_diffs
					       : VERIFY_DEFAULT_PRINT,
	};
	int ret;

	memset(res, 0, sizeof(*res));
	ret = open_oracle(&c);
	if (!ret)
		ret = load_files(&c);
	if (!ret)
		ret = load_xattrs(&c);
	if (!ret)
		ret = check_inodes(&c);
	if (!ret)
		ret = check_dirents(&c);
	if (!ret)
		ret = check_xattrs(&c);
	if (!ret)
		ret = check_data(&c);
	if (ret && c.err)
		ret = c.err;
	vctx_free(&c);
	if (ret)
		return ret;
	return res->diffs ? JRX_VERIFY_DIFFERS : 0;
}
