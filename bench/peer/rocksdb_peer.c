/*
 * rocksdb_peer.c - jrx-rocksdb-peer, the RocksDB peer of the recovery
 * benchmark: RocksDB recovering a WAL that holds the same key stream as a
 * crashed jrx array's journal (same keys, value sizes and overwrites).
 *
 * Owns: the mapping of jrx keys to RocksDB records, the RocksDB options
 * both sides of the benchmark share, and three subcommands:
 *
 *   load --db DIR DEV...     read the array read-only through the library
 *                            the way recovery does (journal scan, journal
 *                            index: the live range, one copy per seq,
 *                            blacklisted seqs skipped; the btrees opened at
 *                            the roots replay starts from).  The on-disk
 *                            btrees become the DB's SST files (written
 *                            without WAL, flushed, compacted: the state
 *                            written back before the crash), then every
 *                            journal key goes into the WAL, one WriteBatch
 *                            per jset, in seq order; the WAL is synced and
 *                            the process _exit()s without closing the DB.
 *   recover --db DIR         time rocksdb_open (WAL replay, and unless
 *                            --avoid-flush the flush of the recovered
 *                            memtable to an L0 SST) and rocksdb_close.
 *   verify --db DIR DEV...   the jrx post-recovery view (computed in memory,
 *                            nothing written) against the DB, key by key,
 *                            but for what jrx recovery itself changes
 *                            (excused(): the alloc keys and accounting
 *                            counters of btree-node buckets) and the level
 *                            > 0 records (node pointers, counted only).
 *
 * Mapping.  RocksDB key (22 bytes): btree id, level, then the position's
 * inode, offset (big-endian u64) and snapshot (big-endian u32), so that
 * bytewise order is jrx's (btree, position) order.  Value: the bkey's value
 * bytes (padding included), plus the header fields that carry data for the
 * type: extents are prefixed with `size` (le32), accounting keys suffixed
 * with `version` (le64).  A whiteout is a Delete; an accounting key (level
 * 0) is a Merge whose operator replays jrx's rule (FORMAT.md 6.6): the
 * delta is added only if its version is above the total's, which then
 * takes it.  Interior keys (level > 0) are written like any key (they are
 * in the journal stream) under their level byte.
 *
 * load prints one JSON line and writes it to DIR/jrx-peer.json, where
 * recover (keys/s) and verify find the record count and the memtable size.
 * The RocksDB version is the one of rocksdb/version.h, read by CMake (the
 * header is C++).
 *
 * Exit: 0 success; 1 failure (verify: a difference); 2 usage (verify: an
 * operational error, as `jrx verify`).
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <rocksdb/c.h>
#include "jrx/errors.h"
#include "btree/fs.h"
#include "format/bkey.h"
#include "util/clock.h"
#include "util/diag.h"
#include "format/jset.h"
#include "journal/jread.h"
#include "journal/jindex.h"
#include "recovery/recover.h"

#ifndef JRX_ROCKSDB_VERSION
#define JRX_ROCKSDB_VERSION "unknown"
#endif

#define PROG		"jrx-rocksdb-peer"
#define PEER_JSON	"jrx-peer.json"
#define KEY_BYTES	22u
#define ACCT_BYTES	24u	/* d[0], d[1], version */
#define VAL_MAX		(JRX_KEY_MAX_U64S * 8u + 8u)
#define BASE_BATCH	4096u	/* base keys per WriteBatch */
#define MEMTABLE_MIN	(64ull << 20)
#define MEMTABLE_MAX	(8ull << 30)
#define MEMTABLE_ENTRY	48u	/* skiplist and seq/type bytes per record */

enum { EXIT_FAIL = 1, EXIT_USAGE = 2 };

/* ------------------------------------------------------------ helpers */

static void put_be64(unsigned char *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (unsigned char)v;
}

static void put_be32(unsigned char *p, uint32_t v)
{
	for (int i = 3; i >= 0; i--, v >>= 8)
		p[i] = (unsigned char)v;
}

static uint64_t get_be(const unsigned char *p, unsigned n)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

static void put_le(unsigned char *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++, v >>= 8)
		p[i] = (unsigned char)v;
}

static uint64_t get_le(const unsigned char *p, unsigned n)
{
	uint64_t v = 0;

	for (unsigned i = n; i-- > 0;)
		v = v << 8 | p[i];
	return v;
}

/* A jrx library error: "jrx-rocksdb-peer CMD: what: diag (message)". */
static int jrx_error(const char *cmd, const char *what, int err)
{
	const char *d = jrx_diag();

	if (d && *d)
		fprintf(stderr, PROG " %s: %s: %s (%s)\n", cmd, what, d,
			jrx_strerror(err));
	else
		fprintf(stderr, PROG " %s: %s: %s\n", cmd, what,
			jrx_strerror(err));
	return EXIT_FAIL;
}

/* A RocksDB error string (freed here); true if there was one. */
static bool rdb_failed(const char *cmd, const char *what, char *err)
{
	if (!err)
		return false;
	fprintf(stderr, PROG " %s: %s: %s\n", cmd, what, err);
	rocksdb_free(err);
	return true;
}

/* Bytes of the regular files in dir whose name ends with suffix. */
static int dir_bytes(const char *dir, const char *suffix, uint64_t *out)
{
	size_t sl = strlen(suffix);
	struct dirent *de;
	char path[4096];
	struct stat st;
	DIR *d = opendir(dir);

	*out = 0;
	if (!d)
		return -errno;
	while ((errno = 0, de = readdir(d))) {
		size_t nl = strlen(de->d_name);

		if (nl <= sl || strcmp(de->d_name + nl - sl, suffix))
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >=
		    (int)sizeof(path)) {
			closedir(d);
			return -ENAMETOOLONG;
		}
		if (stat(path, &st)) {
			int e = -errno;

			closedir(d);
			return e;
		}
		if (S_ISREG(st.st_mode))
			*out += (uint64_t)st.st_size;
	}
	if (errno) {
		int e = -errno;

		closedir(d);
		return e;
	}
	closedir(d);
	return 0;
}

/* ------------------------------------------------------------ mapping */

static void peer_key(unsigned char *out, unsigned btree_id, unsigned level,
		     struct jrx_bpos p)
{
	out[0] = (unsigned char)btree_id;
	out[1] = (unsigned char)level;
	put_be64(out + 2, p.inode);
	put_be64(out + 10, p.offset);
	put_be32(out + 18, p.snapshot);
}

static bool is_acct(unsigned btree_id, unsigned level)
{
	return !level && btree_id == JRX_BTREE_ACCOUNTING;
}

/* The RocksDB value of a (non-whiteout) key; returns its length. */
static size_t peer_value(unsigned char *out, unsigned btree_id, unsigned level,
			 const struct jrx_bkey *k)
{
	size_t n = jrx_bkey_val_bytes(k), off = 0;

	if (!level && btree_id == JRX_BTREE_EXTENTS) {
		put_le(out, k->size, 4);
		off = 4;
	}
	memcpy(out + off, jrx_bkey_val(k), n);
	off += n;
	if (is_acct(btree_id, level)) {
		put_le(out + off, k->version, 8);
		off += 8;
	}
	return off;
}

/*
 * Back from a level-0 record to the jrx key it stands for, into buf
 * (JRX_KEY_MAX_U64S words).  NULL if the record cannot be one.
 */
static struct jrx_bkey *peer_decode(uint64_t *buf, const unsigned char *key,
				    size_t klen, const unsigned char *val,
				    size_t vlen)
{
	struct jrx_bkey *k = (struct jrx_bkey *)buf;
	unsigned btree_id;
	size_t pre = 0, post = 0;

	if (klen != KEY_BYTES || key[0] >= JRX_BTREE_NR || key[1])
		return NULL;
	btree_id = key[0];
	if (btree_id == JRX_BTREE_EXTENTS)
		pre = 4;
	if (btree_id == JRX_BTREE_ACCOUNTING)
		post = 8;
	if (vlen < pre + post || (vlen - pre - post) % 8 ||
	    sizeof(*k) + vlen - pre - post > JRX_KEY_MAX_U64S * 8u)
		return NULL;
	jrx_bkey_init(k, jrx_btree_leaf_key_type(btree_id),
		      jrx_bpos(get_be(key + 2, 8), get_be(key + 10, 8),
			       (uint32_t)get_be(key + 18, 4)),
		      vlen - pre - post);
	if (pre)
		k->size = (uint32_t)get_le(val, 4);
	if (post)
		k->version = get_le(val + vlen - 8, 8);
	memcpy(jrx_bkey_val(k), val + pre, vlen - pre - post);
	return k;
}

/* --------------------------------------------------- merge operator */

/*
 * Accounting: d[0], d[1] (s64) and version (u64), little-endian.  An
 * operand is a journal delta with the seq of its jset as version; it is
 * added only if newer than the total so far, as jrx replay does.
 */
struct acct { int64_t d[2]; uint64_t version; };

static bool acct_get(const char *p, size_t len, struct acct *a)
{
	const unsigned char *u = (const unsigned char *)p;

	if (len != ACCT_BYTES)
		return false;
	a->d[0] = (int64_t)get_le(u, 8);
	a->d[1] = (int64_t)get_le(u + 8, 8);
	a->version = get_le(u + 16, 8);
	return true;
}

/*
 * The C API copies the returned value (length *new_length) before it
 * looks at *success: a failure still returns an allocated empty value.
 */
static char *acct_fail(unsigned char *success, size_t *new_length)
{
	*success = 0;
	*new_length = 0;
	return malloc(1);
}

static char *acct_full_merge(void *state, const char *key, size_t key_length,
			     const char *existing, size_t existing_length,
			     const char *const *ops, const size_t *ops_length,
			     int nr_ops, unsigned char *success,
			     size_t *new_length)
{
	struct acct t = { { 0, 0 }, 0 }, d;
	unsigned char *out;

	(void)state; (void)key; (void)key_length;
	if (existing && !acct_get(existing, existing_length, &t))
		return acct_fail(success, new_length);
	for (int i = 0; i < nr_ops; i++) {
		if (!acct_get(ops[i], ops_length[i], &d))
			return acct_fail(success, new_length);
		if (d.version <= t.version)
			continue;	/* already in the total */
		t.d[0] += d.d[0];
		t.d[1] += d.d[1];
		t.version = d.version;
	}
	out = malloc(ACCT_BYTES);
	if (!out)
		return acct_fail(success, new_length);
	put_le(out, (uint64_t)t.d[0], 8);
	put_le(out + 8, (uint64_t)t.d[1], 8);
	put_le(out + 16, t.version, 8);
	*new_length = ACCT_BYTES;
	*success = 1;
	return (char *)out;
}

/*
 * Two deltas cannot be folded into one without the total they apply to
 * (which one is skipped depends on its version): operands stay apart.
 */
static char *acct_partial_merge(void *state, const char *key,
				size_t key_length, const char *const *ops,
				const size_t *ops_length, int nr_ops,
				unsigned char *success, size_t *new_length)
{
	(void)state; (void)key; (void)key_length; (void)ops;
	(void)ops_length; (void)nr_ops;
	return acct_fail(success, new_length);
}

static void acct_delete_value(void *state, const char *value, size_t len)
{
	(void)state; (void)len;
	free((void *)value);
}

static const char *acct_name(void *state)
{
	(void)state;
	return "jrx.accounting.versioned_add";
}

static void acct_destroy(void *state)
{
	(void)state;
}

/* ------------------------------------------------------------ options */

struct peer_opts {
	uint64_t write_buffer_size;
	int	 jobs;			/* max_background_jobs */
	bool	 create;		/* load: a new DB, error if one exists */
	bool	 avoid_flush;		/* avoid_flush_during_recovery */
};

/* The options of every open: load, recover and verify share them. */
static rocksdb_options_t *peer_options(const char *cmd,
				       const struct peer_opts *po)
{
	rocksdb_options_t *o = rocksdb_options_create();
	rocksdb_mergeoperator_t *mo;

	if (po->avoid_flush) {
		/* not in the C API of 7.8: through an options string */
		rocksdb_options_t *base = o;
		char *err = NULL;

		o = rocksdb_options_create();
		rocksdb_get_options_from_string(base,
			"avoid_flush_during_recovery=true", o, &err);
		rocksdb_options_destroy(base);
		if (rdb_failed(cmd, "setting avoid_flush_during_recovery",
			       err)) {
			rocksdb_options_destroy(o);
			return NULL;
		}
	}
	rocksdb_options_set_create_if_missing(o, po->create);
	rocksdb_options_set_error_if_exists(o, po->create);
	rocksdb_options_set_compression(o, rocksdb_no_compression);
	rocksdb_options_set_write_buffer_size(o, po->write_buffer_size);
	rocksdb_options_set_max_write_buffer_number(o, 2);
	rocksdb_options_set_disable_auto_compactions(o, 1);
	rocksdb_options_set_recycle_log_file_num(o, 0);
	rocksdb_options_set_max_background_jobs(o, po->jobs);
	mo = rocksdb_mergeoperator_create(NULL, acct_destroy, acct_full_merge,
					  acct_partial_merge,
					  acct_delete_value, acct_name);
	rocksdb_options_set_merge_operator(o, mo);	/* o owns it */
	return o;
}

/* What load wrote to DIR/jrx-peer.json that recover and verify need. */
struct peer_info {
	uint64_t records;
	uint64_t write_buffer_size;
};

static bool json_u64(const char *s, const char *name, uint64_t *out)
{
	char pat[64];
	const char *p;
	char *end;

	snprintf(pat, sizeof(pat), "\"%s\":", name);
	p = strstr(s, pat);
	if (!p)
		return false;
	p += strlen(pat);
	errno = 0;
	*out = strtoull(p, &end, 10);
	return !errno && end != p;
}

static int peer_info_read(const char *cmd, const char *dir,
			  struct peer_info *pi)
{
	char path[4096], buf[4096];
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/" PEER_JSON, dir);
	f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, PROG " %s: %s: %s (was the DB made by '" PROG
			" load'?)\n", cmd, path, strerror(errno));
		return -1;
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	if (ferror(f)) {
		fprintf(stderr, PROG " %s: %s: read error\n", cmd, path);
		fclose(f);
		return -1;
	}
	fclose(f);
	buf[n] = 0;
	if (!json_u64(buf, "records", &pi->records) ||
	    !json_u64(buf, "write_buffer_size", &pi->write_buffer_size) ||
	    !pi->write_buffer_size) {
		fprintf(stderr, PROG " %s: %s: no \"records\" or"
			" \"write_buffer_size\" in it\n", cmd, path);
		return -1;
	}
	return 0;
}

/* ---------------------------------------------------------------- load */

struct load_stats {
	uint64_t puts, deletes, merges, batches, key_bytes, value_bytes;
	uint64_t interior;		/* records of level > 0 keys */
	uint64_t jsets, jsets_blacklisted;
	uint64_t base_keys, base_bytes;
};

static size_t value_len(unsigned btree_id, unsigned level,
			const struct jrx_bkey *k)
{
	return jrx_bkey_val_bytes(k) +
		(!level && btree_id == JRX_BTREE_EXTENTS ? 4 : 0) +
		(is_acct(btree_id, level) ? 8 : 0);
}

/* Memtable bytes the journal stream will take (estimate): its size. */
static uint64_t journal_bytes(const struct jrx_jindex *ix)
{
	const struct jrx_jset_entry *e;
	const struct jrx_bkey *k;
	uint64_t b = 0;

	for (size_t i = 0; i < ix->nr; i++) {
		if (ix->v[i].blacklisted)
			continue;
		jrx_for_each_jset_entry(e, ix->v[i].j) {
			if (e->type != JRX_JE_BTREE_KEYS)
				continue;
			jrx_for_each_entry_key(k, e)
				b += KEY_BYTES + MEMTABLE_ENTRY +
					(k->type == JRX_KEY_WHITEOUT ? 0 :
					 value_len(e->btree_id, e->level, k));
		}
	}
	return b;
}

struct base_ctx {
	const char *cmd;
	rocksdb_t *db;
	rocksdb_writeoptions_t *wo;
	rocksdb_writebatch_t *wb;
	struct load_stats *st;
	bool failed;			/* a RocksDB error, already printed */
};

static int base_write(struct base_ctx *c)
{
	char *err = NULL;

	if (!rocksdb_writebatch_count(c->wb))
		return 0;
	rocksdb_write(c->db, c->wo, c->wb, &err);
	rocksdb_writebatch_clear(c->wb);
	if (rdb_failed(c->cmd, "writing the on-disk btrees", err)) {
		c->failed = true;
		return -EIO;
	}
	return 0;
}

static int base_key(void *vctx, unsigned btree_id, const struct jrx_bkey *k)
{
	struct base_ctx *c = vctx;
	unsigned char key[KEY_BYTES], val[VAL_MAX];
	size_t vl;

	if (k->type == JRX_KEY_WHITEOUT)
		return 0;
	peer_key(key, btree_id, 0, k->p);
	vl = peer_value(val, btree_id, 0, k);
	rocksdb_writebatch_put(c->wb, (const char *)key, KEY_BYTES,
			       (const char *)val, vl);
	c->st->base_keys++;
	c->st->base_bytes += KEY_BYTES + vl;
	if ((unsigned)rocksdb_writebatch_count(c->wb) >= BASE_BATCH)
		return base_write(c);
	return 0;
}

/*
 * The btrees as replay finds them (roots of the newest jset, bsets past
 * max_seq ignored) into SST files: written without WAL, flushed and
 * compacted, as a DB that wrote its memtables back before the crash.
 */
static int load_base(const char *cmd, struct jrx_array *a,
		     const struct jrx_jindex *ix, rocksdb_t *db,
		     struct load_stats *st)
{
	struct base_ctx c = { .cmd = cmd, .db = db, .st = st };
	rocksdb_flushoptions_t *fo;
	struct jrx_fs fs;
	char *err = NULL;
	int ret;

	ret = jrx_fs_open_replay(&fs, a, ix->newest, ix->max_seq, true);
	if (ret)
		return jrx_error(cmd, "opening the btrees at the replay roots",
				 ret);
	c.wo = rocksdb_writeoptions_create();
	rocksdb_writeoptions_disable_WAL(c.wo, 1);
	c.wb = rocksdb_writebatch_create();
	for (unsigned b = 0; !ret && b < JRX_BTREE_NR; b++)
		ret = jrx_btree_walk(&fs, b, base_key, &c);
	if (!ret)
		ret = base_write(&c);
	jrx_fs_abandon(&fs);
	rocksdb_writebatch_destroy(c.wb);
	rocksdb_writeoptions_destroy(c.wo);
	if (ret)
		return c.failed ? EXIT_FAIL :
			jrx_error(cmd, "walking the on-disk btrees", ret);
	fo = rocksdb_flushoptions_create();
	rocksdb_flushoptions_set_wait(fo, 1);
	rocksdb_flush(db, fo, &err);
	rocksdb_flushoptions_destroy(fo);
	if (rdb_failed(cmd, "flushing the on-disk btrees to SST", err))
		return EXIT_FAIL;
	rocksdb_compact_range(db, NULL, 0, NULL, 0);
	return 0;
}

/* Every journal key, one WriteBatch per jset, WAL on, no sync. */
static int load_journal(const char *cmd, const struct jrx_jindex *ix,
			rocksdb_t *db, struct load_stats *st)
{
	rocksdb_writeoptions_t *wo = rocksdb_writeoptions_create();
	rocksdb_writebatch_t *wb = rocksdb_writebatch_create();
	unsigned char key[KEY_BYTES], val[VAL_MAX];
	const struct jrx_jset_entry *e;
	const struct jrx_bkey *k;
	int ret = 0;

	rocksdb_writeoptions_set_sync(wo, 0);
	rocksdb_writeoptions_disable_WAL(wo, 0);
	for (size_t i = 0; i < ix->nr && !ret; i++) {
		char *err = NULL;

		if (ix->v[i].blacklisted) {
			st->jsets_blacklisted++;
			continue;
		}
		st->jsets++;
		rocksdb_writebatch_clear(wb);
		jrx_for_each_jset_entry(e, ix->v[i].j) {
			if (e->type != JRX_JE_BTREE_KEYS)
				continue;
			jrx_for_each_entry_key(k, e) {
				size_t vl;

				peer_key(key, e->btree_id, e->level, k->p);
				st->key_bytes += KEY_BYTES;
				st->interior += e->level != 0;
				if (k->type == JRX_KEY_WHITEOUT) {
					rocksdb_writebatch_delete(wb,
						(const char *)key, KEY_BYTES);
					st->deletes++;
					continue;
				}
				vl = peer_value(val, e->btree_id, e->level, k);
				st->value_bytes += vl;
				if (is_acct(e->btree_id, e->level)) {
					rocksdb_writebatch_merge(wb,
						(const char *)key, KEY_BYTES,
						(const char *)val, vl);
					st->merges++;
				} else {
					rocksdb_writebatch_put(wb,
						(const char *)key, KEY_BYTES,
						(const char *)val, vl);
					st->puts++;
				}
			}
		}
		if (!rocksdb_writebatch_count(wb))
			continue;
		rocksdb_write(db, wo, wb, &err);
		if (err) {
			fprintf(stderr, PROG " %s: writing the batch of journal"
				" seq %" PRIu64 ": %s\n", cmd, ix->v[i].seq, err);
			rocksdb_free(err);
			ret = EXIT_FAIL;
		}
		st->batches++;
	}
	rocksdb_writebatch_destroy(wb);
	rocksdb_writeoptions_destroy(wo);
	return ret;
}

static void usage_load(FILE *f)
{
	fprintf(f, "usage: " PROG " load --db DIR DEV...\n"
		"  the array's btrees as SST files, then its journal (the range"
		" recovery replays)\n  into the WAL of a new RocksDB at DIR, one"
		" WriteBatch per jset; exits without\n  closing the DB (a"
		" crash), the WAL synced\n");
}

static int open_array(const char *cmd, struct jrx_array *a, char **paths,
		      int n)
{
	int ret;

	jrx_diag_clear();
	ret = jrx_array_open(a, (const char *const *)paths, (unsigned)n,
			     JRX_OPEN_RDONLY);
	if (ret)
		return jrx_error(cmd, "opening the array", ret);
	if (a->notes[0])
		fprintf(stderr, "%s", a->notes);
	return 0;
}

/* Read the journal the way the reference recovery does. */
static int read_journal(const char *cmd, struct jrx_array *a,
			struct jrx_journal_scan *scan, struct jrx_jindex *ix)
{
	int ret = jrx_journal_read_seq(a, scan, JRX_SCAN_KEEP);

	if (ret)
		return jrx_error(cmd, "reading the journal", ret);
	ret = jrx_jindex_build(ix, &a->sb, scan, NULL, NULL);
	if (ret)
		return jrx_error(cmd, "indexing the journal", ret);
	if (!ix->max_seq) {
		fprintf(stderr, PROG " %s: %s: nothing to replay (the array is"
			" clean, or no jset is newer than the superblock's"
			" journal_seq)\n", cmd, a->devs[0].path);
		return EXIT_FAIL;
	}
	return 0;
}

static int write_peer_json(const char *cmd, const char *dir, const char *line)
{
	char path[4096];
	FILE *f;
	int ret = 0;

	snprintf(path, sizeof(path), "%s/" PEER_JSON, dir);
	f = fopen(path, "w");
	if (!f) {
		fprintf(stderr, PROG " %s: creating %s: %s\n", cmd, path,
			strerror(errno));
		return EXIT_FAIL;
	}
	if (fputs(line, f) < 0 || fflush(f) || fsync(fileno(f)))
		ret = errno ? errno : EIO;
	if (fclose(f) && !ret)
		ret = errno ? errno : EIO;
	if (ret) {
		fprintf(stderr, PROG " %s: writing %s: %s\n", cmd, path,
			strerror(ret));
		return EXIT_FAIL;
	}
	return 0;
}

static int cmd_load(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *cmd = "load", *dir = NULL;
	struct jrx_journal_scan scan = { 0 };
	struct jrx_jindex ix = { 0 };
	struct load_stats st = { 0 };
	struct peer_opts po = { .create = true };
	struct jrx_array a;
	rocksdb_options_t *o = NULL;
	rocksdb_t *db = NULL;
	char *err = NULL, line[2048];
	uint64_t est, wal_bytes, sst_bytes, records;
	double t, base_seconds, load_seconds;
	int c, ret;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
		if (c == 'd') {
			dir = optarg;
		} else {
			usage_load(c == 'h' ? stdout : stderr);
			return c == 'h' ? 0 : EXIT_USAGE;
		}
	}
	if (!dir || optind >= argc) {
		usage_load(stderr);
		return EXIT_USAGE;
	}
	if (open_array(cmd, &a, argv + optind, argc - optind))
		return EXIT_FAIL;
	ret = read_journal(cmd, &a, &scan, &ix);
	if (ret)
		goto out;

	est = 2 * journal_bytes(&ix);
	if (est > MEMTABLE_MAX)
		fprintf(stderr, PROG " %s: the journal stream needs a memtable"
			" of ~%" PRIu64 " MiB, capped at %llu MiB: RocksDB will"
			" flush during the load\n", cmd, est >> 20,
			MEMTABLE_MAX >> 20);
	po.write_buffer_size = est < MEMTABLE_MIN ? MEMTABLE_MIN :
		est > MEMTABLE_MAX ? MEMTABLE_MAX : est;
	po.jobs = (int)jrx_online_cpus();
	o = peer_options(cmd, &po);
	if (!o) {
		ret = EXIT_FAIL;
		goto out;
	}
	db = rocksdb_open(o, dir, &err);
	if (rdb_failed(cmd, dir, err)) {
		ret = EXIT_FAIL;
		goto out;
	}

	t = jrx_now();
	ret = load_base(cmd, &a, &ix, db, &st);
	base_seconds = jrx_now() - t;
	if (ret)
		goto out;
	ret = dir_bytes(dir, ".sst", &sst_bytes);
	if (ret) {
		fprintf(stderr, PROG " %s: %s: listing SST files: %s\n", cmd,
			dir, strerror(-ret));
		ret = EXIT_FAIL;
		goto out;
	}

	t = jrx_now();
	ret = load_journal(cmd, &ix, db, &st);
	if (ret)
		goto out;
	rocksdb_flush_wal(db, 1, &err);
	load_seconds = jrx_now() - t;
	if (rdb_failed(cmd, "syncing the WAL", err)) {
		ret = EXIT_FAIL;
		goto out;
	}
	ret = dir_bytes(dir, ".log", &wal_bytes);
	if (ret) {
		fprintf(stderr, PROG " %s: %s: listing WAL files: %s\n", cmd,
			dir, strerror(-ret));
		ret = EXIT_FAIL;
		goto out;
	}

	records = st.puts + st.deletes + st.merges;
	snprintf(line, sizeof(line),
		 "{\"peer\":\"rocksdb\",\"rocksdb_version\":\"%s\","
		 "\"records\":%" PRIu64 ",\"puts\":%" PRIu64 ",\"deletes\":%"
		 PRIu64 ",\"merges\":%" PRIu64 ",\"batches\":%" PRIu64
		 ",\"key_bytes\":%" PRIu64 ",\"value_bytes\":%" PRIu64
		 ",\"wal_bytes\":%" PRIu64 ",\"load_seconds\":%.3f"
		 ",\"interior_records\":%" PRIu64 ",\"jsets\":%" PRIu64
		 ",\"jsets_blacklisted\":%" PRIu64 ",\"last_seq\":%" PRIu64
		 ",\"max_seq\":%" PRIu64 ",\"base_keys\":%" PRIu64
		 ",\"base_bytes\":%" PRIu64 ",\"base_seconds\":%.3f"
		 ",\"sst_bytes\":%" PRIu64 ",\"write_buffer_size\":%" PRIu64
		 "}\n", JRX_ROCKSDB_VERSION, records, st.puts, st.deletes,
		 st.merges, st.batches, st.key_bytes, st.value_bytes, wal_bytes,
		 load_seconds, st.interior, st.jsets, st.jsets_blacklisted,
		 ix.last_seq, ix.max_seq, st.base_keys, st.base_bytes,
		 base_seconds, sst_bytes, po.write_buffer_size);
	ret = write_peer_json(cmd, dir, line);
	if (ret)
		goto out;
	if (fputs(line, stdout) < 0 || fflush(stdout)) {
		fprintf(stderr, PROG " %s: writing stdout: %s\n", cmd,
			strerror(errno));
		_exit(EXIT_FAIL);
	}
	/* the crash: no close, no memtable flush; the WAL is all there is */
	_exit(0);
out:
	if (db)
		rocksdb_close(db);
	if (o)
		rocksdb_options_destroy(o);
	jrx_jindex_free(&ix);
	jrx_journal_scan_free(&scan);
	jrx_array_close(&a);
	return ret;
}

/* ------------------------------------------------------------- recover */

static void usage_recover(FILE *f)
{
	fprintf(f, "usage: " PROG " recover --db DIR [--avoid-flush]"
		" [--threads N]\n"
		"  time rocksdb_open (WAL replay, then by default the flush of"
		" the recovered\n  memtable to an L0 SST; --avoid-flush keeps"
		" it in memory) and rocksdb_close;\n  --threads sets"
		" max_background_jobs (default: online cores)\n");
}

static int cmd_recover(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "avoid-flush", no_argument, NULL, 'a' },
		{ "threads", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *cmd = "recover", *dir = NULL;
	struct peer_opts po = { 0 };
	struct peer_info pi;
	rocksdb_options_t *o;
	rocksdb_t *db;
	uint64_t wal_before, sst_bytes;
	double t0, t1, t2;
	char *err = NULL, *end;
	unsigned long threads = jrx_online_cpus();
	int c, ret;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			dir = optarg;
			break;
		case 'a':
			po.avoid_flush = true;
			break;
		case 't':
			errno = 0;
			threads = strtoul(optarg, &end, 10);
			if (errno || *end || !threads || threads > 1024) {
				fprintf(stderr, PROG " %s: --threads '%s': want"
					" 1..1024\n", cmd, optarg);
				return EXIT_USAGE;
			}
			break;
		default:
			usage_recover(c == 'h' ? stdout : stderr);
			return c == 'h' ? 0 : EXIT_USAGE;
		}
	}
	if (!dir || optind != argc) {
		usage_recover(stderr);
		return EXIT_USAGE;
	}
	if (peer_info_read(cmd, dir, &pi))
		return EXIT_FAIL;
	ret = dir_bytes(dir, ".log", &wal_before);
	if (ret) {
		fprintf(stderr, PROG " %s: %s: listing WAL files: %s\n", cmd,
			dir, strerror(-ret));
		return EXIT_FAIL;
	}
	po.write_buffer_size = pi.write_buffer_size;
	po.jobs = (int)threads;
	o = peer_options(cmd, &po);
	if (!o)
		return EXIT_FAIL;

	t0 = jrx_now();
	db = rocksdb_open(o, dir, &err);
	t1 = jrx_now();
	if (rdb_failed(cmd, dir, err)) {
		rocksdb_options_destroy(o);
		return EXIT_FAIL;
	}
	rocksdb_close(db);
	t2 = jrx_now();
	rocksdb_options_destroy(o);
	ret = dir_bytes(dir, ".sst", &sst_bytes);
	if (ret) {
		fprintf(stderr, PROG " %s: %s: listing SST files: %s\n", cmd,
			dir, strerror(-ret));
		return EXIT_FAIL;
	}
	printf("{\"peer\":\"rocksdb\",\"rocksdb_version\":\"%s\",\"records\":%"
	       PRIu64 ",\"open_seconds\":%.3f,\"close_seconds\":%.3f,"
	       "\"total_seconds\":%.3f,\"keys_per_second\":%.0f,"
	       "\"peak_rss_bytes\":%" PRIu64 ",\"sst_bytes\":%" PRIu64
	       ",\"wal_bytes_before\":%" PRIu64 ",\"avoid_flush\":%s,"
	       "\"threads\":%lu}\n", JRX_ROCKSDB_VERSION, pi.records,
	       t1 - t0, t2 - t1, t2 - t0,
	       t1 > t0 ? (double)pi.records / (t1 - t0) : 0.0,
	       jrx_peak_rss(), sst_bytes, wal_before,
	       po.avoid_flush ? "true" : "false", threads);
	if (fflush(stdout)) {
		fprintf(stderr, PROG " %s: writing stdout: %s\n", cmd,
			strerror(errno));
		return EXIT_FAIL;
	}
	return 0;
}

/* -------------------------------------------------------------- verify */

enum { VERIFY_DIFFERS = 1, VERIFY_ERROR = 2 };

struct verify_ctx {
	rocksdb_iterator_t *it;
	unsigned btree;
	uint64_t jrx_keys, rdb_keys, diffs, printed, max_diffs;
	uint64_t excused;		/* differences recovery itself makes */
	int	 bad;			/* a record that decodes to no key */
};

/* The current record if it is a leaf of the btree being compared. */
static struct jrx_bkey *rdb_cur(struct verify_ctx *c, uint64_t *buf)
{
	const unsigned char *key, *val;
	struct jrx_bkey *k;
	size_t kl, vl;

	if (!rocksdb_iter_valid(c->it))
		return NULL;
	key = (const unsigned char *)rocksdb_iter_key(c->it, &kl);
	if (!kl || key[0] != c->btree || (kl > 1 && key[1]))
		return NULL;
	val = (const unsigned char *)rocksdb_iter_value(c->it, &vl);
	k = peer_decode(buf, key, kl, val, vl);
	if (!k && !c->bad) {
		fprintf(stderr, PROG " verify: btree %s: a record of %zu key"
			" bytes and %zu value bytes is no jrx key\n",
			jrx_btree_name(c->btree), kl, vl);
		c->bad = -EINVAL;
	}
	return k;
}

static bool btree_bucket(const struct jrx_bkey *k)
{
	const struct jrx_alloc_val *v;

	if (!k)
		return false;
	v = jrx_bkey_val(k);
	return v->data_type == JRX_DATA_BTREE;
}

/*
 * A difference that jrx recovery makes itself and the journal cannot
 * carry: replay writes every touched node to free space (copy on write,
 * FORMAT.md section 8), so the buckets of the new nodes become btree
 * buckets, those of the old ones free (gen + 1), and the btree counters
 * of accounting move with them (settled with version max_seq).  RocksDB's
 * equivalent is its own SST files, outside the key space.  Every other
 * alloc and accounting key must match.
 */
static bool excused(unsigned btree_id, const struct jrx_bkey *jk,
		    const struct jrx_bkey *rk)
{
	const struct jrx_bkey *k = jk ? jk : rk;

	if (btree_id == JRX_BTREE_ALLOC)
		return btree_bucket(jk) || btree_bucket(rk);
	if (btree_id == JRX_BTREE_ACCOUNTING)
		return k->p.inode == JRX_ACCT_DEV_DATA &&
			(k->p.offset & 0xff) == JRX_DATA_BTREE;
	return false;
}

static void diff(struct verify_ctx *c, const char *what,
		 const struct jrx_bkey *jk, const struct jrx_bkey *rk)
{
	char jb[1600], rb[1600];

	if (excused(c->btree, jk, rk)) {
		c->excused++;
		return;
	}
	c->diffs++;
	if (c->printed >= c->max_diffs)
		return;
	c->printed++;
	if (jk)
		jrx_bkey_to_text(jb, sizeof(jb), jk);
	if (rk)
		jrx_bkey_to_text(rb, sizeof(rb), rk);
	printf("DIFF %s: %s:%s%s%s%s\n", jrx_btree_name(c->btree), what,
	       jk ? "\n  jrx:     " : "", jk ? jb : "",
	       rk ? "\n  rocksdb: " : "", rk ? rb : "");
}

/* Accounting: the summed counters; other keys: every byte. */
static bool same_key(unsigned btree_id, const struct jrx_bkey *a,
		     const struct jrx_bkey *b)
{
	if (btree_id == JRX_BTREE_ACCOUNTING) {
		const struct jrx_accounting_val *x = jrx_bkey_val(a);
		const struct jrx_accounting_val *y = jrx_bkey_val(b);

		return a->type == b->type && jrx_bpos_eq(a->p, b->p) &&
			x->d[0] == y->d[0] && x->d[1] == y->d[1];
	}
	return a->u64s == b->u64s && !memcmp(a, b, jrx_bkey_bytes(a));
}

static int verify_key(void *vctx, unsigned btree_id, const struct jrx_bkey *k)
{
	struct verify_ctx *c = vctx;
	uint64_t buf[JRX_KEY_MAX_U64S];
	struct jrx_bkey *rk;

	c->jrx_keys++;
	while ((rk = rdb_cur(c, buf))) {
		int cmp = jrx_bpos_cmp(rk->p, k->p);

		if (cmp > 0)
			break;
		c->rdb_keys++;
		rocksdb_iter_next(c->it);
		if (cmp < 0) {
			diff(c, "key only in RocksDB", NULL, rk);
			continue;
		}
		if (!same_key(btree_id, k, rk))
			diff(c, "values differ", k, rk);
		return 0;
	}
	if (c->bad)
		return c->bad;
	diff(c, "key only in jrx", k, NULL);
	return 0;
}

/* Records of level > 0 keys of a btree (the journal's node pointers). */
static uint64_t count_interior(rocksdb_iterator_t *it, unsigned btree_id)
{
	unsigned char start[2] = { (unsigned char)btree_id, 1 };
	const unsigned char *key;
	uint64_t n = 0;
	size_t kl;

	rocksdb_iter_seek(it, (const char *)start, sizeof(start));
	for (; rocksdb_iter_valid(it); rocksdb_iter_next(it), n++) {
		key = (const unsigned char *)rocksdb_iter_key(it, &kl);
		if (!kl || key[0] != btree_id)
			break;
	}
	return n;
}

static void usage_verify(FILE *f)
{
	fprintf(f, "usage: " PROG " verify --db DIR [--max-diffs N] DEV...\n"
		"  every key of every btree of the array's post-recovery view"
		" (computed in memory,\n  nothing written) against the DB"
		" opened read-only; prints the first N differences\n"
		"  (default 10).  Exit: 0 same, 1 differences, 2 error.\n");
}

static int cmd_verify(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "max-diffs", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *cmd = "verify", *dir = NULL;
	struct verify_ctx vc = { .max_diffs = 10 };
	struct peer_opts po = { .jobs = 2 };
	struct peer_info pi;
	struct jrx_array a;
	struct jrx_fs fs;
	rocksdb_options_t *o = NULL;
	rocksdb_readoptions_t *ro = NULL;
	rocksdb_t *db = NULL;
	uint64_t total_diffs = 0;
	char *err = NULL, *end;
	bool view_open = false;
	int c, ret = VERIFY_ERROR;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
		if (c == 'd') {
			dir = optarg;
		} else if (c == 'm') {
			errno = 0;
			vc.max_diffs = strtoull(optarg, &end, 10);
			if (errno || *end || *optarg == '-') {
				fprintf(stderr, PROG " %s: --max-diffs '%s':"
					" not a count\n", cmd, optarg);
				return VERIFY_ERROR;
			}
		} else {
			usage_verify(c == 'h' ? stdout : stderr);
			return c == 'h' ? 0 : VERIFY_ERROR;
		}
	}
	if (!dir || optind >= argc) {
		usage_verify(stderr);
		return VERIFY_ERROR;
	}
	if (peer_info_read(cmd, dir, &pi))
		return VERIFY_ERROR;
	if (open_array(cmd, &a, argv + optind, argc - optind))
		return VERIFY_ERROR;
	ret = jrx_open_view(&a, &fs, NULL);
	if (ret) {
		jrx_error(cmd, "recovering the array in memory", ret);
		ret = VERIFY_ERROR;
		goto out;
	}
	view_open = true;
	ret = VERIFY_ERROR;
	po.write_buffer_size = pi.write_buffer_size;
	o = peer_options(cmd, &po);
	if (!o)
		goto out;
	/* read-only: a WAL not replayed yet is replayed in memory only */
	db = rocksdb_open_for_read_only(o, dir, 0, &err);
	if (rdb_failed(cmd, dir, err))
		goto out;
	ro = rocksdb_readoptions_create();
	rocksdb_readoptions_set_verify_checksums(ro, 1);
	vc.it = rocksdb_create_iterator(db, ro);

	for (unsigned b = 0; b < JRX_BTREE_NR; b++) {
		unsigned char start[2] = { (unsigned char)b, 0 };
		uint64_t buf[JRX_KEY_MAX_U64S], interior;
		struct jrx_bkey *rk;
		int r;

		vc.btree = b;
		vc.jrx_keys = vc.rdb_keys = vc.diffs = vc.excused = 0;
		rocksdb_iter_seek(vc.it, (const char *)start, sizeof(start));
		r = jrx_btree_walk(&fs, b, verify_key, &vc);
		while (!r && (rk = rdb_cur(&vc, buf))) {
			vc.rdb_keys++;
			diff(&vc, "key only in RocksDB", NULL, rk);
			rocksdb_iter_next(vc.it);
		}
		if (!r)
			r = vc.bad;
		err = NULL;
		rocksdb_iter_get_error(vc.it, &err);
		if (rdb_failed(cmd, "iterating the DB", err))
			goto out;
		if (r) {
			if (r != vc.bad)
				jrx_error(cmd, "walking the recovered btree", r);
			goto out;
		}
		interior = count_interior(vc.it, b);
		printf("%-10s jrx %" PRIu64 " keys, rocksdb %" PRIu64 " keys, %"
		       PRIu64 " differences", jrx_btree_name(b), vc.jrx_keys,
		       vc.rdb_keys, vc.diffs);
		if (vc.excused)
			printf("; %" PRIu64 " more not counted: %s",
			       vc.excused, b == JRX_BTREE_ALLOC ?
			       "buckets of btree nodes, which jrx recovery"
			       " moves (copy-on-write write-back)" :
			       "btree-node counters, which jrx recovery"
			       " changes by moving nodes");
		if (interior)
			printf("; %" PRIu64 " level > 0 journal records not"
			       " compared (jrx node pointers)", interior);
		printf("\n");
		total_diffs += vc.diffs;
	}
	ret = total_diffs ? VERIFY_DIFFERS : 0;
	if (ret)
		printf("verify: DIFFERENT: %" PRIu64 " differences\n",
		       total_diffs);
	else
		printf("verify: same keys and values in every btree (alloc and"
		       " accounting: but for the btree-node entries noted)\n");
out:
	if (vc.it)
		rocksdb_iter_destroy(vc.it);
	if (ro)
		rocksdb_readoptions_destroy(ro);
	if (db)
		rocksdb_close(db);
	if (o)
		rocksdb_options_destroy(o);
	if (view_open)
		jrx_fs_abandon(&fs);
	jrx_array_close(&a);
	return ret;
}

/* ---------------------------------------------------------------- main */

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "load"))
		return cmd_load(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "recover"))
		return cmd_recover(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "verify"))
		return cmd_verify(argc - 1, argv + 1);
	if (argc >= 2 && (!strcmp(argv[1], "--help") ||
			  !strcmp(argv[1], "-h"))) {
		usage_load(stdout);
		usage_recover(stdout);
		usage_verify(stdout);
		return 0;
	}
	fprintf(stderr, PROG ": want a subcommand: load, recover or verify"
		" (--help)\n");
	return EXIT_USAGE;
}
