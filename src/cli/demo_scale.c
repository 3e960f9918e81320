/*
 * demo_scale.c - the second act of `jrx demo` (demo.h): recovery at a
 * size where the two recoveries differ by what jrx is for.  A synth
 * array (journal keys over as big a btree, two sparse devices) is copied;
 * the reference recovers one, the accelerated the other; the table shows
 * both, the I/O floor (dd's job, done here with O_DIRECT: the journal
 * bytes the recovery read, read from the device, and the node bytes it
 * wrote, written to a scratch file of the same file system) says how far
 * the accelerated is from the disk, and the two arrays must dump
 * identically (compared by a hash of the dump, the arrays being too big
 * to keep as text) and fsck clean.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>
#include "cli.h"
#include "demo.h"
#include "btree/fs.h"
#include "io/copy.h"
#include "io/device.h"
#include "recovery/recover.h"
#include "util/clock.h"
#include "util/diag.h"
#include "btree/mkfs.h"
#include "workload/synth.h"

enum { S_A0, S_A1, S_R0, S_R1, S_FLOOR, S_NR };
static const char *const scale_names[S_NR] = {
	"scale0.img", "scale1.img", "scale-ref0.img", "scale-ref1.img",
	"floor.tmp",
};

/* ------------------------------------------------------------ dump hash */

static ssize_t hash_write(void *cookie, const char *buf, size_t len)
{
	XXH3_64bits_update(cookie, buf, len);
	return (ssize_t)len;
}

/* The hash of `jrx dump` of a clean array, and its key count. */
static int dump_hash(const char *const *paths, uint64_t *hash, uint64_t *keys)
{
	cookie_io_functions_t io = { .write = hash_write };
	XXH3_state_t *st = XXH3_createState();
	struct cli_dump out = { 0 };
	int ret;

	if (!st)
		return cli_error("demo", -ENOMEM);
	XXH3_64bits_reset(st);
	out.f = fopencookie(st, "w", io);
	if (!out.f) {
		XXH3_freeState(st);
		return cli_error("demo", -errno);
	}
	ret = cli_dump_array("demo", paths, 2, &out);
	fclose(out.f);
	*hash = XXH3_64bits_digest(st);
	*keys = out.keys;
	XXH3_freeState(st);
	return ret;
}

/* ------------------------------------------------------------ I/O floor */

/* Seconds to read `bytes` from path and write `wbytes` to scratch, both
 * O_DIRECT in 1 MiB requests, the write synced; < 0 on failure. */
static double io_floor(const char *path, uint64_t bytes, const char *scratch,
		       uint64_t wbytes)
{
	const size_t chunk = 1u << 20;
	void *buf = jrx_alloc_aligned(chunk);
	double t = jrx_now();
	int in = open(path, O_RDONLY | O_DIRECT | O_CLOEXEC);
	int out = open(scratch, O_WRONLY | O_CREAT | O_TRUNC | O_DIRECT |
		       O_CLOEXEC, 0600);
	bool ok = buf && in >= 0 && out >= 0;

	if (ok)
		memset(buf, 0xa5, chunk);
	for (uint64_t done = 0; ok && done < bytes; done += chunk)
		ok = pread(in, buf, chunk, (off_t)(done + (1u << 20))) ==
			(ssize_t)chunk;
	for (uint64_t done = 0; ok && done < wbytes; done += chunk)
		ok = pwrite(out, buf, chunk, (off_t)done) == (ssize_t)chunk;
	ok = ok && !fdatasync(out);
	t = jrx_now() - t;
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	unlink(scratch);
	free(buf);
	return ok ? t : -1;
}

/* ---------------------------------------------------------------- act */

static int make(char path[S_NR][PATH_MAX], uint64_t keys, uint64_t seed)
{
	const char *dev[2] = { path[S_A0], path[S_A1] };
	struct jrx_format_opts fo;
	struct jrx_synth_opts so;
	struct jrx_synth_report sr;
	struct jrx_array a;
	double t = jrx_now();
	int ret;

	jrx_format_opts_default(&fo);
	fo.size = 8ull << 30;		/* sparse */
	ret = jrx_format(dev, 2, &fo);
	if (ret)
		return cli_error("demo", ret);
	jrx_synth_opts_default(&so);
	so.keys = keys;
	so.base_keys = keys;
	so.seed = seed;
	if (cli_open_array("demo", &a, (char **)dev, 2, 0))
		return JRX_EXIT_ERROR;
	ret = jrx_synth(&a, &so, &sr);
	jrx_array_close(&a);
	if (ret)
		return cli_error("demo", ret);
	demo_step("synth", jrx_now() - t, "%" PRIu64 " journal keys over a %"
		  PRIu64 "-key btree", keys, keys);
	demo_step("", -1, "%.1f MiB of journal, %" PRIu64 " jsets; two 8 GiB"
		  " sparse devices", (double)sr.journal_bytes / (1 << 20),
		  sr.jsets);
	return 0;
}

int demo_scale(const char *dir, uint64_t keys, uint64_t seed, bool keep,
	       struct demo_scale_result *res)
{
	char path[S_NR][PATH_MAX];
	const char *acc[2], *ref[2];
	struct jrx_recover_opts ro = { .reference = true };
	struct jrx_recover_opts ao = { .reference = false };
	struct jrx_report *rr = &res->rr, *ra = &res->ra;
	uint64_t hr, ha, kr, ka, n;
	double t, floor_s;
	char a[32], b[32];
	int ret;

	memset(res, 0, sizeof(*res));
	res->keys = keys;

	for (unsigned i = 0; i < S_NR; i++)
		if (snprintf(path[i], sizeof(path[i]), "%s/%s", dir,
			     scale_names[i]) >= (int)sizeof(path[i]))
			return JRX_EXIT_USAGE;
	acc[0] = path[S_A0];
	acc[1] = path[S_A1];
	ref[0] = path[S_R0];
	ref[1] = path[S_R1];
	printf("\nAt scale: a crash with %" PRIu64 " keys in the journal\n", keys);
	ret = make(path, keys, seed);
	if (ret)
		return ret;
	t = jrx_now();
	for (unsigned i = 0; i < 2 && !ret; i++)
		ret = jrx_copy_sparse(acc[i], ref[i], &n);
	if (ret)
		return cli_error("demo", ret);
	demo_step("copy", jrx_now() - t, "scale0/1.img -> scale-ref0/1.img");

	demo_step("recover", -1, "reference on scale-ref0/1.img, accelerated"
		  " on scale0/1.img");
	if (cli_recover("demo", (char **)ref, 2, &ro, rr) ||
	    cli_recover("demo", (char **)acc, 2, &ao, ra))
		return JRX_EXIT_ERROR;
	demo_table(rr, ra);
	res->speedup = ra->total_seconds > 0 ?
		rr->total_seconds / ra->total_seconds : 0;
	demo_fmt_mib(a, sizeof(a), ra->bytes_read);
	demo_fmt_mib(b, sizeof(b), ra->node_bytes_written);
	demo_step("", -1, "accelerated read %s of journal and wrote %s of"
		  " nodes", a, b);
	floor_s = io_floor(acc[0], ra->bytes_read, path[S_FLOOR],
			   ra->node_bytes_written);
	res->floor_seconds = floor_s;
	if (floor_s > 0)
		demo_step("floor", floor_s, "the same bytes with O_DIRECT here:"
			  " accelerated at %.1fx", ra->total_seconds / floor_s);
	else
		demo_step("floor", -1, "not measured (O_DIRECT refused here)");

	t = jrx_now();
	ret = dump_hash(ref, &hr, &kr);
	if (!ret)
		ret = dump_hash(acc, &ha, &ka);
	if (!ret && (hr != ha || kr != ka)) {
		demo_step("dump", jrx_now() - t, "DUMPS DIFFER (%" PRIu64 " and %"
			  PRIu64 " keys); compare with jrx dump", kr, ka);
		ret = JRX_EXIT_ERROR;
	} else if (!ret) {
		demo_step("dump", jrx_now() - t, "dumps identical: %" PRIu64
			  " keys (hash %016" PRIx64 ")", kr, hr);
	}
	if (!ret)
		res->dump_keys = kr;
	if (!ret)
		ret = demo_fsck("accelerated:", acc);
	if (!ret && !keep)
		for (unsigned i = 0; i < S_NR; i++)
			unlink(path[i]);
	return ret;
}
