/* oracle.c - SQLite record of durable operations (see oracle.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>
#include "oracle.h"
#include "jrx/errors.h"
#include "../util/diag.h"
#include "../util/vec.h"

struct jrx_oracle {
	sqlite3		*db;
	sqlite3_stmt	*ins_op, *ins_file, *del_file, *upd_size, *ins_xattr,
			*del_xattrs;
	struct jrx_op	*held;
	size_t		 nr, cap;
	uint64_t	 durable_ops;
};

static const char schema[] =
	"PRAGMA journal_mode=WAL;"
	"PRAGMA synchronous=NORMAL;"
	"DROP TABLE IF EXISTS ops; DROP TABLE IF EXISTS files;"
	"DROP TABLE IF EXISTS xattrs; DROP TABLE IF EXISTS meta;"
	"CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT);"
	"CREATE TABLE ops(id INTEGER PRIMARY KEY, seq INTEGER NOT NULL,"
	" kind TEXT NOT NULL, inum INTEGER, parent INTEGER, name TEXT,"
	" off INTEGER, len INTEGER, size INTEGER, tag INTEGER, value BLOB);"
	"CREATE TABLE files(inum INTEGER PRIMARY KEY, parent INTEGER NOT NULL,"
	" name TEXT NOT NULL, d_type INTEGER NOT NULL, size INTEGER NOT NULL);"
	"CREATE TABLE xattrs(inum INTEGER NOT NULL, name TEXT NOT NULL,"
	" value BLOB, PRIMARY KEY(inum, name));";

static int db_err(struct jrx_oracle *o, const char *what)
{
	return jrx_fail(-JRX_ERR_ORACLE, "oracle: %s: %s", what,
			o->db ? sqlite3_errmsg(o->db) : "no database");
}

int jrx_oracle_open(struct jrx_oracle **out, const char *path)
{
	struct jrx_oracle *o = calloc(1, sizeof(*o));

	*out = NULL;
	if (!o)
		return jrx_fail(-ENOMEM, "oracle: allocating %s", path);
	if (sqlite3_open(path, &o->db) != SQLITE_OK ||
	    sqlite3_exec(o->db, schema, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(o->db, "INSERT INTO ops VALUES(?,?,?,?,?,?,?,?,?,?,?)",
			       -1, &o->ins_op, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(o->db, "INSERT OR REPLACE INTO files VALUES(?,?,?,?,0)",
			       -1, &o->ins_file, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(o->db, "DELETE FROM files WHERE inum=?",
			       -1, &o->del_file, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(o->db, "UPDATE files SET size=? WHERE inum=?",
			       -1, &o->upd_size, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(o->db, "INSERT OR REPLACE INTO xattrs VALUES(?,?,?)",
			       -1, &o->ins_xattr, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(o->db, "DELETE FROM xattrs WHERE inum=?",
			       -1, &o->del_xattrs, NULL) != SQLITE_OK) {
		int ret = db_err(o, path);

		jrx_oracle_close(o);
		return ret;
	}
	*out = o;
	return 0;
}

int jrx_oracle_meta(struct jrx_oracle *o, const char *key, const char *value)
{
	sqlite3_stmt *st;
	int ok;

	if (sqlite3_prepare_v2(o->db, "INSERT OR REPLACE INTO meta VALUES(?,?)",
			       -1, &st, NULL) != SQLITE_OK)
		return db_err(o, "meta");
	sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, value, -1, SQLITE_TRANSIENT);
	ok = sqlite3_step(st) == SQLITE_DONE;
	sqlite3_finalize(st);
	return ok ? 0 : db_err(o, "meta");
}

int jrx_oracle_add(struct jrx_oracle *o, const struct jrx_op *op)
{
	int ret = JRX_VEC_RESERVE(o->held, o->nr, o->cap, 1,
				  "oracle operations not yet durable");

	if (!ret)
		o->held[o->nr++] = *op;
	return ret;
}

static const char *const kind_names[] = {
	"", "create", "unlink", "write", "truncate", "setxattr",
};

static int step(struct jrx_oracle *o, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? 0 : db_err(o, "write");
}

static int record(struct jrx_oracle *o, const struct jrx_op *op)
{
	sqlite3_stmt *st = o->ins_op;
	int ret;

	sqlite3_bind_int64(st, 1, (sqlite3_int64)op->id);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)op->seq);
	sqlite3_bind_text(st, 3, kind_names[op->kind], -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)op->inum);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)op->parent);
	sqlite3_bind_text(st, 6, op->name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 7, (sqlite3_int64)op->off);
	sqlite3_bind_int64(st, 8, (sqlite3_int64)op->len);
	sqlite3_bind_int64(st, 9, (sqlite3_int64)op->size);
	sqlite3_bind_int64(st, 10, (sqlite3_int64)op->tag);
	sqlite3_bind_blob(st, 11, op->value, op->value_len, SQLITE_TRANSIENT);
	ret = step(o, st);
	if (ret)
		return ret;
	switch (op->kind) {
	case JRX_OP_CREATE:
		sqlite3_bind_int64(o->ins_file, 1, (sqlite3_int64)op->inum);
		sqlite3_bind_int64(o->ins_file, 2, (sqlite3_int64)op->parent);
		sqlite3_bind_text(o->ins_file, 3, op->name, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int(o->ins_file, 4, (int)op->d_type);
		return step(o, o->ins_file);
	case JRX_OP_UNLINK:
		sqlite3_bind_int64(o->del_file, 1, (sqlite3_int64)op->inum);
		ret = step(o, o->del_file);
		if (ret)
			return ret;
		sqlite3_bind_int64(o->del_xattrs, 1, (sqlite3_int64)op->inum);
		return step(o, o->del_xattrs);
	case JRX_OP_WRITE:
	case JRX_OP_TRUNCATE:
		sqlite3_bind_int64(o->upd_size, 1, (sqlite3_int64)op->size);
		sqlite3_bind_int64(o->upd_size, 2, (sqlite3_int64)op->inum);
		return step(o, o->upd_size);
	case JRX_OP_SETXATTR:
		sqlite3_bind_int64(o->ins_xattr, 1, (sqlite3_int64)op->inum);
		sqlite3_bind_text(o->ins_xattr, 2, op->name, -1, SQLITE_TRANSIENT);
		sqlite3_bind_blob(o->ins_xattr, 3, op->value, op->value_len,
				  SQLITE_TRANSIENT);
		return step(o, o->ins_xattr);
	}
	return 0;
}

int jrx_oracle_durable(struct jrx_oracle *o, uint64_t seq)
{
	size_t i;
	int ret = 0;

	if (!o->nr || o->held[0].seq > seq)
		return 0;
	if (sqlite3_exec(o->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		return db_err(o, "begin");
	for (i = 0; i < o->nr && o->held[i].seq <= seq && !ret; i++)
		ret = record(o, &o->held[i]);
	if (ret) {
		sqlite3_exec(o->db, "ROLLBACK", NULL, NULL, NULL);
		return ret;
	}
	if (sqlite3_exec(o->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		return db_err(o, "commit");
	o->durable_ops += i;
	memmove(o->held, o->held + i, (o->nr - i) * sizeof(*o->held));
	o->nr -= i;
	return 0;
}

int jrx_oracle_close(struct jrx_oracle *o)
{
	if (!o)
		return 0;
	sqlite3_finalize(o->ins_op);
	sqlite3_finalize(o->ins_file);
	sqlite3_finalize(o->del_file);
	sqlite3_finalize(o->upd_size);
	sqlite3_finalize(o->ins_xattr);
	sqlite3_finalize(o->del_xattrs);
	sqlite3_close(o->db);
	free(o->held);
	free(o);
	return 0;
}

uint64_t jrx_oracle_durable_ops(const struct jrx_oracle *o)
{
	return o->durable_ops;
}
