/*
 * fsck.c - one check of an array (fsck.h): the context the passes share
 * (roots from the view or the superblock, the view's in-memory nodes),
 * the passes in order, and the summary in text or JSON.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include "fsck_int.h"
#include "jrx/errors.h"
#include "../util/diag.h"
#include "../util/clock.h"
#include "../util/vec.h"

static const struct {
	enum jrx_fsck_pass pass;
	int (*fn)(struct jrx_fsck *f);
} passes[JRX_PASS_NR] = {
	{ JRX_PASS_SB,		fsck_pass_sb },
	{ JRX_PASS_JOURNAL,	fsck_pass_journal },
	{ JRX_PASS_NODES,	fsck_pass_nodes },
	{ JRX_PASS_BUCKETS,	fsck_pass_buckets },
	{ JRX_PASS_ACCOUNTING,	fsck_pass_accounting },
	{ JRX_PASS_NAMESPACE,	fsck_pass_namespace },
};

void fsck_progress(struct jrx_fsck *f, uint64_t done, uint64_t total)
{
	if (f->o->progress)
		f->o->progress(f->o->progress_ctx, (unsigned)f->out.pass + 1,
			       done, total);
}

_Atomic bool fsck_inject_all_ranges;
_Atomic size_t fsck_inject_ref_batch;

void jrx_fsck_inject_limits(bool all_ranges, size_t ref_batch)
{
	atomic_store(&fsck_inject_all_ranges, all_ranges);
	atomic_store(&fsck_inject_ref_batch, ref_batch);
}

void jrx_fsck_opts_default(struct jrx_fsck_opts *o)
{
	memset(o, 0, sizeof(*o));
}

static int cmp_node_loc(const void *x, const void *y)
{
	const struct jrx_bnode *a = *(struct jrx_bnode *const *)x;
	const struct jrx_bnode *b = *(struct jrx_bnode *const *)y;

	if (a->dev != b->dev)
		return a->dev < b->dev ? -1 : 1;
	return a->sector < b->sector ? -1 : a->sector > b->sector;
}

/* The nodes of the view that are not (yet) on disk as the view has them. */
static int collect_mem_nodes(struct jrx_fsck *f)
{
	struct jrx_fs *v = f->view;
	size_t n = 0;

	for (int pass = 0; pass < 2; pass++) {
		for (size_t h = 0; h < JRX_CACHE_BUCKETS; h++)
			for (struct jrx_bnode *b = v->cache[h]; b; b = b->hnext) {
				if (!b->fresh && !b->dirty_seq && !b->mem_only)
					continue;
				if (pass)
					f->mem[f->nr_mem++] = b;
				else
					n++;
			}
		if (!pass) {
			if (!n)
				return 0;
			f->mem = calloc(n, sizeof(*f->mem));
			if (!f->mem)
				return jrx_fail(-ENOMEM, "allocating the list of"
						" the view's %zu nodes in memory",
						n);
		}
	}
	qsort(f->mem, f->nr_mem, sizeof(*f->mem), cmp_node_loc);
	return 0;
}

static void roots_from_view(struct jrx_fsck *f)
{
	for (unsigned i = 0; i < JRX_BTREE_NR; i++) {
		const struct jrx_bnode *n = f->view->root[i];

		if (!n)
			continue;
		f->root[i] = (struct fsck_ptr){
			.btree_id = (uint8_t)i, .level = n->level, .dev = n->dev,
			.sector = n->sector, .nonce = n->nonce,
			.blocks = jrx_bnode_blocks(n), .min = n->min,
			.max = n->max,
		};
		f->have_root[i] = true;
	}
}

static void roots_from_sb(struct jrx_fsck *f)
{
	for (unsigned i = 0; i < JRX_BTREE_NR; i++) {
		const struct jrx_btree_root *r = &f->a->sb.roots[i];

		if (!r->present)
			continue;
		f->root[i] = (struct fsck_ptr){
			.btree_id = (uint8_t)i, .level = r->level, .dev = r->v.dev,
			.sector = r->v.sector, .nonce = r->v.nonce,
			.blocks = r->v.blocks, .min = r->v.min_key, .max = r->k.p,
		};
		f->have_root[i] = true;
	}
}

int fsck_setup(struct jrx_fsck *f)
{
	struct jrx_array *a = f->a;

	if (!f->view && !(a->sb.flags & JRX_SB_CLEAN) && !f->view_err)
		return jrx_fail(-JRX_ERR_NEEDS_RECOVERY, "%s: the array is unclean:"
				" check its post-recovery view, or recover it"
				" first", a->devs[0].path);
	f->node_size = a->sb.btree_node_size;
	f->bucket_sectors = a->sb.bucket_size / JRX_SECTOR_SIZE;
	f->buf = jrx_alloc_aligned(f->node_size);
	if (!f->buf)
		return jrx_fail(-ENOMEM, "allocating the fsck node buffer: %u"
				" bytes", f->node_size);
	if (f->view) {
		f->bl = f->view->bl;
		roots_from_view(f);
		return collect_mem_nodes(f);
	}
	f->bl.v = a->sb.blacklist;
	f->bl.nr = a->sb.nr_blacklist < JRX_SB_MAX_BLACKLIST ?
		a->sb.nr_blacklist : JRX_SB_MAX_BLACKLIST;
	roots_from_sb(f);
	return 0;
}

void fsck_defer(struct jrx_fsck *f, enum jrx_pr_code code,
		const struct jrx_pr_ctx *c)
{
	struct fsck_later *l;

	if (JRX_VEC_RESERVE(f->later, f->nr_later, f->cap_later, 1,
			    "fsck problems held back for their pass")) {
		f->nomem = true;	/* jrx_diag() says what */
		return;
	}
	l = &f->later[f->nr_later++];
	l->code = code;
	l->pass = (uint8_t)f->out.pass;
	l->btree = f->defer_btree;
	l->c = *c;
	l->has_why = c->why != NULL;
	snprintf(l->why, sizeof(l->why), "%s", c->why ? c->why : "");
	l->c.why = NULL;
	l->c.fix = NULL;	/* points into the reporter's frame */
}

void fsck_report_later(struct jrx_fsck *f, enum jrx_fsck_pass pass,
		       const unsigned *ids, size_t nr_ids)
{
	enum jrx_fsck_pass running = f->out.pass;
	size_t kept = 0;

	f->out.pass = pass;
	for (size_t b = 0; b < nr_ids; b++)
		for (size_t i = 0; i < f->nr_later; i++) {
			struct fsck_later *l = &f->later[i];
			struct jrx_pr_ctx c;

			if (l->pass != pass || l->btree != ids[b])
				continue;
			c = l->c;
			c.why = l->has_why ? l->why : NULL;
			jrx_problem(&f->out, l->code, &c);
		}
	f->out.pass = running;
	for (size_t i = 0; i < f->nr_later; i++)
		if (f->later[i].pass != pass)
			f->later[kept++] = f->later[i];
	f->nr_later = kept;
}

void fsck_drop_later(struct jrx_fsck *f, enum jrx_fsck_pass pass,
		     unsigned btree)
{
	size_t kept = 0;

	for (size_t i = 0; i < f->nr_later; i++)
		if (f->later[i].pass != pass || f->later[i].btree != btree)
			f->later[kept++] = f->later[i];
	f->nr_later = kept;
}

void fsck_incomplete(struct jrx_fsck *f, const char *what, unsigned btree)
{
	struct jrx_pr_ctx c;

	jrx_pr_ctx_init(&c);
	c.btree = (int)btree;
	c.why = what;
	fsck_report(f, JRX_PR_CHECK_INCOMPLETE, &c);
}

/* ---------------------------------------------------------------- output */

static void json_begin(const struct jrx_fsck *f, FILE *out)
{
	fprintf(out, "{\n  \"state\": ");
	jrx_json_str(out, f->o->state ? f->o->state :
		     f->view ? "dry_run" : "clean");
	fprintf(out, ",\n  \"read_only\": %s,\n  \"devices\": %u,"
		"\n  \"device_paths\": [", f->o->read_only ? "true" : "false",
		f->a->nr_devs);
	for (unsigned i = 0; i < f->a->nr_devs; i++) {
		fprintf(out, "%s", i ? ", " : "");
		jrx_json_str(out, f->a->devs[i].path);
	}
	fprintf(out, "],\n  \"problems\": [");
}

static void json_end(const struct jrx_fsck *f, FILE *out)
{
	const struct jrx_fsck_result *r = f->res;
	bool first = true;

	fprintf(out, "%s],\n  \"passes\": [", f->out.printed ? "\n  " : "");
	for (unsigned p = 0; p < JRX_PASS_NR; p++)
		fprintf(out, "%s\n    {\"pass\":\"%s\",\"ran\":%s,\"checked\":%" PRIu64
			",\"problems\":%" PRIu64 ",\"bytes_read\":%" PRIu64
			",\"seconds\":%.6f}",
			p ? "," : "", jrx_pass_names[p],
			r->pass[p].ran ? "true" : "false", r->pass[p].checked,
			r->pass[p].problems, r->pass[p].bytes_read,
			r->pass[p].seconds);
	fprintf(out, "\n  ],\n  \"btrees\": [");
	for (unsigned i = 0; i < JRX_BTREE_NR; i++)
		fprintf(out, "%s\n    {\"btree\":\"%s\",\"depth\":%u,\"nodes\":%"
			PRIu64 ",\"keys\":%" PRIu64 "}", i ? "," : "",
			jrx_btree_name(i), r->depth[i], r->nodes[i], r->keys[i]);
	fprintf(out, "\n  ],\n  \"counts\": {");
	for (unsigned c = 0; c < JRX_PR_NR; c++) {
		if (!r->counts.code[c])
			continue;
		fprintf(out, "%s\"%s\":%" PRIu64, first ? "" : ",",
			jrx_problem_table[c].name, r->counts.code[c]);
		first = false;
	}
	fprintf(out, "},\n  \"errors\": %" PRIu64 ",\n  \"warnings\": %" PRIu64
		",\n  \"infos\": %" PRIu64 ",\n  \"bad_nodes\": %" PRIu64,
		r->counts.sev[JRX_SEV_ERROR], r->counts.sev[JRX_SEV_WARNING],
		r->counts.sev[JRX_SEV_INFO], r->bad_nodes);
	if (f->o->repairs) {
		const char *l = f->o->repairs;

		fprintf(out, ",\n  \"repairs\": [");
		for (bool one = true; *l; one = false) {
			const char *nl = strchr(l, '\n');
			size_t n = nl ? (size_t)(nl - l) : strlen(l);
			char *line = strndup(l, n);

			fprintf(out, "%s\n    ", one ? "" : ",");
			jrx_json_str(out, line ? line : "");
			free(line);
			l += n + (nl != NULL);
		}
		fprintf(out, "\n  ]");
	}
	fprintf(out, ",\n  \"threads\": %u,\n  \"io_backend\": ", r->threads);
	jrx_json_str(out, r->io ? r->io : "none");
	if (r->error) {
		fprintf(out, ",\n  \"error\": ");
		jrx_json_str(out, jrx_errname(r->error));
		fprintf(out, ",\n  \"error_message\": ");
		jrx_json_str(out, jrx_diag());
	}
	fprintf(out, ",\n  \"exit_code\": %d\n}\n", r->exit_code);
}

static void text_pass(const struct jrx_fsck *f, unsigned p, FILE *out)
{
	const struct jrx_fsck_pass_result *r = &f->res->pass[p];

	if (!r->ran)
		fprintf(out, "pass %u %s: skipped\n", p + 1, jrx_pass_names[p]);
	else
		fprintf(out, "pass %u %s: %" PRIu64 " checked, %" PRIu64
			" problems (%.3f s)\n", p + 1, jrx_pass_names[p],
			r->checked, r->problems, r->seconds);
}

static void text_end(const struct jrx_fsck *f, FILE *out)
{
	const struct jrx_fsck_result *r = f->res;

	if (!f->o->verbose)
		for (unsigned p = 0; p < JRX_PASS_NR; p++)
			text_pass(f, p, out);
	if (f->o->verbose && r->threads)
		fprintf(out, "%u thread%s, nodes read with %s\n", r->threads,
			r->threads == 1 ? "" : "s", r->io ? r->io : "?");
	if (f->o->verbose)
		for (unsigned i = 0; i < JRX_BTREE_NR; i++)
			fprintf(out, "  %-10s depth %u, %" PRIu64 " nodes, %" PRIu64
				" keys\n", jrx_btree_name(i), r->depth[i],
				r->nodes[i], r->keys[i]);
	if (r->error)
		fprintf(out, "fsck stopped: %s (%s)\n", jrx_diag(),
			jrx_strerror(r->error));
	fprintf(out, "%" PRIu64 " errors, %" PRIu64 " warnings, %" PRIu64
		" notes: %s (exit code %d)\n", r->counts.sev[JRX_SEV_ERROR],
		r->counts.sev[JRX_SEV_WARNING], r->counts.sev[JRX_SEV_INFO],
		r->exit_code & 8 ? "check incomplete" :
		r->exit_code & 4 ? "problems left uncorrected" : "clean",
		r->exit_code);
}

/* ---------------------------------------------------------------- check */

int jrx_fsck_check(struct jrx_array *a, struct jrx_fs *view,
		   const struct jrx_fsck_opts *o, struct jrx_fsck_result *res)
{
	return fsck_check(a, view, o, res, 0, NULL);
}

/* Passes 3-6 need the btrees: a view, or a clean array. */
static bool needs_btrees(enum jrx_fsck_pass p)
{
	return p != JRX_PASS_SB && p != JRX_PASS_JOURNAL;
}

int fsck_check(struct jrx_array *a, struct jrx_fs *view,
	       const struct jrx_fsck_opts *o, struct jrx_fsck_result *res,
	       int view_err, const char *view_why)
{
	struct jrx_fsck *f = calloc(1, sizeof(*f));
	FILE *out = o->out;
	int ret;

	memset(res, 0, sizeof(*res));
	if (!f) {
		res->error = jrx_fail(-ENOMEM, "allocating the fsck state: %zu"
				      " bytes", sizeof(*f));
		res->exit_code = 8;
		return res->error;
	}
	f->a = a;
	f->view = view;
	f->view_err = view ? 0 : view_err;
	f->view_why = view_why;
	f->o = o;
	f->res = res;
	f->out = (struct jrx_pr_out){
		.f = out, .json = o->json, .read_only = o->read_only, .a = a,
		.counts = &res->counts, .hook = o->on_problem,
		.hook_ctx = o->hook_ctx,
	};
	if (out && o->json)
		json_begin(f, out);
	else if (out && o->verbose)
		fprintf(out, "checking %u device%s (%s)\n", a->nr_devs,
			a->nr_devs == 1 ? "" : "s", o->state ? o->state :
			view ? "dry_run" : "clean");
	ret = fsck_setup(f);
	if (!ret && out && !o->json && o->verbose && view)
		fprintf(out, "%zu nodes exist only in the view (dry-run recovery)\n",
			f->nr_mem);
	for (unsigned i = 0; !ret && i < JRX_PASS_NR; i++) {
		enum jrx_fsck_pass p = passes[i].pass;
		double t = jrx_now();

		if (f->view_err && needs_btrees(p))
			continue;
		f->out.pass = p;
		res->pass[p].ran = true;
		f->walk_done = f->walk_known = 0;
		fsck_progress(f, 0, 1);
		ret = passes[i].fn(f);
		if (!ret)
			fsck_progress(f, 1, 1);
		res->pass[p].seconds = jrx_now() - t;
		res->pass[p].problems = res->counts.pass[p];
		if (out && !o->json && o->verbose)
			text_pass(f, p, out);
	}
	if (!ret && f->view_err)
		ret = jrx_fail(f->view_err, "%s: the array is unclean and its"
			       " post-recovery view failed (%s): the btrees were"
			       " not checked", a->devs[0].path,
			       f->view_why ? f->view_why : jrx_strerror(f->view_err));
	res->error = ret;
	res->exit_code = jrx_pr_exit_code(&res->counts, ret != 0);
	/* fsck(8): 1, the array was modified (recovered or repaired) */
	if (!ret && o->state && (!strcmp(o->state, "recovered") ||
				 !strcmp(o->state, "repaired")))
		res->exit_code |= 1;
	if (out && o->json)
		json_end(f, out);
	else if (out)
		text_end(f, out);
	fsck_free(f);
	return ret;
}

void fsck_free(struct jrx_fsck *f)
{
	fsck_reader_close(f->rd);
	fsck_space_free(f->space);
	fsck_names_free(f->names);
	free(f->later);
	free(f->damage);
	free(f->mem);
	free(f->buf);
	free(f);
}
