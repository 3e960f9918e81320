/* load.c - the mixed workload generator with crash points (see load.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <inttypes.h>
#include "load.h"
#include "fsops.h"
#include "../btree/mkfs.h"
#include "oracle.h"
#include "jrx/errors.h"
#include "../btree/fs.h"
#include "../util/diag.h"
#include "../util/clock.h"
#include "../util/prng.h"
#include "../util/vec.h"

/* Random writes land below this (512 KiB files, appends aside). */
#define JRX_LOAD_FILE_SECTORS 1024u

struct file {
	uint64_t inum;
	uint64_t parent;
	uint64_t size;		/* bytes */
	char	 name[24];
};

struct load {
	struct jrx_fs	   fs;
	struct jrx_oracle *oracle;
	const struct jrx_load_opts *o;
	struct file	  *files;
	size_t		   nr_files, cap_files;
	uint64_t	  *dirs;
	size_t		   nr_dirs, cap_dirs;
	uint64_t	   next_inum;
	uint64_t	   rng;
	uint64_t	   jsets;
	uint64_t	   op_id;
	int		   hook_err;
	bool		   crash_now;
};

static uint64_t rnd(struct load *l)
{
	return jrx_splitmix64(&l->rng);
}

static uint64_t below(struct load *l, uint64_t n)
{
	return jrx_rand_mod(rnd(l), n);
}

void jrx_load_opts_default(struct jrx_load_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->ops = 1000;
	o->seed = 1;
	o->flush_every = 16;
}

static void on_durable(void *ctx, uint64_t seq)
{
	struct load *l = ctx;

	l->jsets++;
	if (l->oracle && !l->hook_err)
		l->hook_err = jrx_oracle_durable(l->oracle, seq);
	if (l->o->crash_after_jsets && l->jsets >= l->o->crash_after_jsets)
		l->crash_now = true;
}

static int add_file(struct load *l, const struct file *f)
{
	int ret = JRX_VEC_RESERVE(l->files, l->nr_files, l->cap_files, 1,
				  "load file list");

	if (!ret)
		l->files[l->nr_files++] = *f;
	return ret;
}

static int add_dir(struct load *l, uint64_t inum)
{
	int ret = JRX_VEC_RESERVE(l->dirs, l->nr_dirs, l->cap_dirs, 1,
				  "load directory list");

	if (!ret)
		l->dirs[l->nr_dirs++] = inum;
	return ret;
}

static int oracle_add(struct load *l, const struct jrx_op *op)
{
	return l->oracle ? jrx_oracle_add(l->oracle, op) : 0;
}

/* Pick and run one operation; op describes it for the oracle. */
static int one_op(struct load *l, struct jrx_op *op, uint64_t now)
{
	struct jrx_fs *fs = &l->fs;
	unsigned r = (unsigned)below(l, 100);
	struct file *f;
	int ret;

	if (!l->nr_files || r < 15) {
		bool dir = below(l, 100) < 8;
		struct file nf = { .inum = l->next_inum++ };

		nf.parent = l->dirs[below(l, l->nr_dirs)];
		snprintf(nf.name, sizeof(nf.name), "%s%" PRIu64, dir ? "d" : "f",
			 nf.inum);
		op->kind = JRX_OP_CREATE;
		op->inum = nf.inum;
		op->parent = nf.parent;
		op->d_type = dir ? JRX_DT_DIR : JRX_DT_REG;
		snprintf(op->name, sizeof(op->name), "%s", nf.name);
		ret = oracle_add(l, op);
		if (!ret)
			ret = jrx_op_create(fs, nf.parent, nf.name, nf.inum,
					    op->d_type, now);
		if (!ret)
			ret = dir ? add_dir(l, nf.inum) : add_file(l, &nf);
		return ret;
	}
	f = &l->files[below(l, l->nr_files)];
	op->inum = f->inum;
	op->parent = f->parent;
	if (r < 70) {
		uint64_t cur = (f->size + JRX_SECTOR_SIZE - 1) / JRX_SECTOR_SIZE;
		bool append = r >= 55;

		op->kind = JRX_OP_WRITE;
		op->off = append ? cur : below(l, JRX_LOAD_FILE_SECTORS);
		op->len = 1 + below(l, append ? 32 : 64);
		op->tag = op->id;
		if ((op->off + op->len) * JRX_SECTOR_SIZE > f->size)
			f->size = (op->off + op->len) * JRX_SECTOR_SIZE;
		op->size = f->size;
		ret = oracle_add(l, op);
		return ret ? ret : jrx_op_write(fs, f->inum, op->off,
						(uint32_t)op->len, op->tag, now);
	}
	if (r < 78) {
		op->kind = JRX_OP_TRUNCATE;
		op->size = below(l, f->size + 1);
		f->size = op->size;
		ret = oracle_add(l, op);
		return ret ? ret : jrx_op_truncate(fs, f->inum, op->size, now);
	}
	if (r < 90) {
		op->kind = JRX_OP_SETXATTR;
		snprintf(op->name, sizeof(op->name), "user.attr%u",
			 (unsigned)below(l, 8));
		op->value_len = (uint16_t)(1 + below(l, 48));
		for (unsigned i = 0; i < op->value_len; i++)
			op->value[i] = (uint8_t)rnd(l);
		ret = oracle_add(l, op);
		return ret ? ret : jrx_op_setxattr(fs, f->inum, op->name,
						   op->value, op->value_len);
	}
	op->kind = JRX_OP_UNLINK;
	snprintf(op->name, sizeof(op->name), "%s", f->name);
	ret = oracle_add(l, op);
	if (!ret)
		ret = jrx_op_unlink(fs, f->parent, f->name, f->inum);
	*f = l->files[--l->nr_files];
	return ret;
}

static int run(struct load *l, struct jrx_load_result *r)
{
	const struct jrx_load_opts *o = l->o;
	uint64_t since_flush = 0, limit = o->ops;
	int ret = 0;

	if (o->crash_after_ops && o->crash_after_ops < limit)
		limit = o->crash_after_ops;
	while (!ret && r->ops_done < limit && !l->crash_now) {
		struct jrx_op op = { .id = ++l->op_id, .seq = jrx_fs_seq(&l->fs) };

		ret = one_op(l, &op, (uint64_t)time(NULL));
		if (ret)
			break;
		r->ops_done++;
		l->fs.ops++;
		if (o->progress && (!(r->ops_done & 1023) || r->ops_done == limit))
			o->progress(o->progress_ctx, r->ops_done, limit);
		if (++since_flush >= o->flush_every) {
			since_flush = 0;
			ret = jrx_fs_journal_flush(&l->fs, false);
		}
		if (!ret)
			ret = l->hook_err;
	}
	if (ret)
		return ret;
	r->crashed = l->crash_now || (o->crash_after_ops &&
				      r->ops_done >= o->crash_after_ops);
	if (r->crashed && o->torn) {
		/* cut power while the open jset is being written; if it is
		 * empty (a jset was just closed), one more op fills it */
		l->fs.jset_target = SIZE_MAX;
		if (jrx_journal_open_empty(&l->fs.j)) {
			struct jrx_op op = { .id = ++l->op_id,
					     .seq = jrx_fs_seq(&l->fs) };

			ret = one_op(l, &op, (uint64_t)time(NULL));
			if (!ret)
				r->ops_done++;
		}
		if (!ret && !jrx_journal_open_empty(&l->fs.j)) {
			ret = jrx_fs_journal_flush(&l->fs, true);
			r->torn = !ret;
		}
	}
	return ret;
}

int jrx_load(struct jrx_array *a, const struct jrx_load_opts *o,
	     struct jrx_load_result *r)
{
	struct load *l = calloc(1, sizeof(*l));
	double t0 = jrx_now();
	int ret;

	memset(r, 0, sizeof(*r));
	if (!l)
		return jrx_fail(-ENOMEM, "load: allocating the workload"
				" state (%zu bytes)", sizeof(*l));
	if (a->sb.bucket_size < JRX_LOAD_MIN_BUCKET) {
		free(l);
		return jrx_fail(-JRX_ERR_BAD_OPTION, "%s: load needs buckets of at"
				" least %u bytes (one operation's keys must fit"
				" a jset); this array has %u", a->devs[0].path,
				JRX_LOAD_MIN_BUCKET, a->sb.bucket_size);
	}
	l->o = o;
	l->rng = o->seed;
	l->next_inum = JRX_ROOT_INO + 1;
	ret = add_dir(l, JRX_ROOT_INO);
	if (!ret && o->oracle)
		ret = jrx_oracle_open(&l->oracle, o->oracle);
	if (!ret && l->oracle) {
		char v[64];

		snprintf(v, sizeof(v), "%" PRIu64, o->seed);
		ret = jrx_oracle_meta(l->oracle, "seed", v);
		snprintf(v, sizeof(v), "%" PRIu64, o->ops);
		if (!ret)
			ret = jrx_oracle_meta(l->oracle, "ops", v);
	}
	if (!ret)
		ret = jrx_fs_open(&l->fs, a, 0);
	if (ret)
		goto out;
	/* a fresh array's inode numbers; continue above what exists */
	{
		const struct jrx_bkey *k;
		struct jrx_bpos pos = jrx_bpos(JRX_ROOT_INO + 1, 0, 0);

		while (!(ret = jrx_btree_peek(&l->fs, JRX_BTREE_INODES, pos, &k)) && k) {
			l->next_inum = k->p.inode + 1;
			pos = jrx_bpos(k->p.inode + 1, 0, 0);
		}
	}
	l->fs.on_durable = on_durable;
	l->fs.hook_ctx = l;
	if (!ret)
		ret = run(l, r);
	if (!ret && !r->crashed)
		ret = jrx_fs_shutdown(&l->fs);
	else
		jrx_fs_abandon(&l->fs);
	r->splits = l->fs.splits;
	r->rewrites = l->fs.rewrites;
	r->reclaims = l->fs.reclaims;
	r->nodes_written = l->fs.nodes_written;
	r->bsets_appended = l->fs.bsets_appended;
	r->keys = l->fs.journal_keys;
	r->journal_bytes = l->fs.journal_bytes;
	r->jsets = l->fs.jsets_written;
	r->last_durable_seq = l->fs.durable_seq;
	if (!ret && l->hook_err)
		ret = l->hook_err;
out:
	if (l->oracle) {
		r->ops_durable = jrx_oracle_durable_ops(l->oracle);
		jrx_oracle_close(l->oracle);
	}
	free(l->files);
	free(l->dirs);
	free(l);
	r->seconds = jrx_now() - t0;
	return ret;
}
