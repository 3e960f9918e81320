/* helpers.c - shared test helpers (see helpers.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <libaio.h>
#include <liburing.h>
#include <xxhash.h>

#include "helpers.h"
#include "fsck/fsck.h"
#include "btree/mkfs.h"
#include "io/array.h"
#include "io/copy.h"
#include "workload/load.h"
#include "util/prng.h"
#include "btree/fs.h"
#include "workload/verify.h"
#include "recovery/recover.h"
#include "journal/jread.h"
#include "format/jset.h"

/* ------------------------------------------------------------ assertions */

const char *th_errname(int err)
{
	return err ? jrx_errname(err) : "OK";
}

void th_assert_err(int got, int want, const char *expr, const char *file,
		   int line)
{
	if (got == want)
		return;
	print_message("%s:%d: %s returned %d (%s), expected %d (%s)\n"
		      "  last diag: %s\n", file, line, expr, got,
		      th_errname(got), want, th_errname(want), jrx_diag());
	_fail(file, line);
}

void th_assert_contains(const char *haystack, const char *needle,
			const char *expr, const char *file, int line)
{
	if (haystack && strstr(haystack, needle))
		return;
	print_message("%s:%d: %s does not contain \"%s\"; it is:\n  \"%s\"\n",
		      file, line, expr, needle, haystack ? haystack : "(null)");
	_fail(file, line);
}

void th_assert_fsck_clean(const char *const *paths, unsigned n,
			  const char *what)
{
	struct jrx_fsck_opts o;
	struct jrx_fsck_result res;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	jrx_fsck_opts_default(&o);
	o.read_only = true;
	o.out = f;
	assert_jrx_ok(jrx_fsck_run(paths, n, &o, &res));
	fclose(f);
	if (res.exit_code != 0)
		fail_msg("%s: fsck -n: exit %d\n%s", what, res.exit_code, text);
	free(text);
}

/* ------------------------------------------------------------ io_uring */

/* A kernel interface's probe, run once; the skips of the parts that need
 * it, each "what" printed once. */
struct iface {
	const char *name;
	int	 probed;	/* 0: not yet, 1: available, -1: refused */
	char	 why[128];
};

static struct iface uring = { .name = "io_uring" }, aio = { .name = "aio" };

static struct {
	unsigned skipped;	/* io_uring or aio parts skipped */
	char	 seen[16][128];	/* whats already printed */
	unsigned nr_seen;
} skips;

/* probe's 0 or -errno, once: f available, or why not in f->why */
static bool iface_available(struct iface *f, int (*probe)(void),
			    const char *call, char *why, size_t len)
{
	if (!f->probed) {
		int ret = probe();

		if (ret)
			snprintf(f->why, sizeof(f->why), "%s: %s", call,
				 strerror(-ret));
		f->probed = ret ? -1 : 1;
	}
	if (f->probed < 0 && why && len)
		snprintf(why, len, "%s", f->why);
	return f->probed > 0;
}

static bool iface_or_skip(struct iface *f, bool available, const char *what)
{
	if (available)
		return true;
	skips.skipped++;
	for (unsigned i = 0; i < skips.nr_seen; i++)
		if (!strcmp(skips.seen[i], what))
			return false;
	if (skips.nr_seen < sizeof(skips.seen) / sizeof(skips.seen[0]))
		snprintf(skips.seen[skips.nr_seen++], sizeof(skips.seen[0]),
			 "%s", what);
	print_message("[  SKIPPED ] %s: %s refused (%s)\n", what, f->name,
		      f->why);
	return false;
}

static int probe_uring(void)
{
	struct io_uring ring;
	int ret = io_uring_queue_init(4, &ring, 0);

	if (!ret)
		io_uring_queue_exit(&ring);
	return ret;
}

static int probe_aio(void)
{
	io_context_t ctx = 0;
	int ret = io_setup(1, &ctx);

	if (!ret)
		io_destroy(ctx);
	return ret;
}

bool th_uring_available(char *why, size_t len)
{
	return iface_available(&uring, probe_uring, "io_uring_queue_init",
			       why, len);
}

bool th_uring_or_skip(const char *what)
{
	return iface_or_skip(&uring, th_uring_available(NULL, 0), what);
}

bool th_aio_available(char *why, size_t len)
{
	return iface_available(&aio, probe_aio, "io_setup", why, len);
}

bool th_aio_or_skip(const char *what)
{
	return iface_or_skip(&aio, th_aio_available(NULL, 0), what);
}

enum jrx_io_backend th_io_backend(enum jrx_io_backend want, const char *what)
{
	if (want == JRX_IO_URING && !th_uring_or_skip(what))
		return JRX_IO_PREAD;
	if (want == JRX_IO_AIO && !th_aio_or_skip(what))
		return JRX_IO_PREAD;
	return want;
}

int th_exit_code(int failed)
{
	if (failed)
		return failed;
	return skips.skipped ? TH_EXIT_SKIP : 0;
}

#if defined(__x86_64__)
#define TH_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define TH_AUDIT_ARCH AUDIT_ARCH_AARCH64
#endif

int th_refuse_uring(bool also_aio)
{
	struct sock_filter f[] = {
#ifdef TH_AUDIT_ARCH
		/* another architecture's syscall numbers: not ours to judge */
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, TH_AUDIT_ARCH, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
#endif
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 2, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
			 also_aio ? __NR_io_setup : __NR_io_uring_setup, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_RET | BPF_K,
			 SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
	};
	struct sock_fprog prog = {
		.len = (unsigned short)(sizeof(f) / sizeof(f[0])), .filter = f,
	};

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -errno;
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog))
		return -errno;
	return 0;
}

/* ------------------------------------------------------------ scratch files */

void th_dir_make(struct th_dir *d)
{
	snprintf(d->path, sizeof(d->path), "/tmp/jrx-test-XXXXXX");
	if (!mkdtemp(d->path)) {
		print_message("mkdtemp(%s): %s\n", d->path, strerror(errno));
		fail();
	}
}

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

void th_dir_remove(struct th_dir *d)
{
	if (d->path[0])
		nftw(d->path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	d->path[0] = 0;
}

void th_path(char *out, const struct th_dir *d, const char *name)
{
	snprintf(out, 256, "%s/%s", d->path, name);
}

static int open_or_fail(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC, 0644);

	if (fd < 0) {
		print_message("open(%s): %s\n", path, strerror(errno));
		fail();
	}
	return fd;
}

void th_sparse_file(const char *path, uint64_t size)
{
	int fd = open_or_fail(path, O_RDWR | O_CREAT | O_TRUNC);

	if (ftruncate(fd, (off_t)size)) {
		print_message("ftruncate(%s): %s\n", path, strerror(errno));
		close(fd);
		fail();
	}
	close(fd);
}

void th_file_pread(const char *path, void *buf, size_t len, uint64_t off)
{
	int fd = open_or_fail(path, O_RDONLY);
	ssize_t r = pread(fd, buf, len, (off_t)off);

	close(fd);
	if (r != (ssize_t)len) {
		print_message("pread(%s, %zu at %llu) = %zd\n", path, len,
			      (unsigned long long)off, r);
		fail();
	}
}

void th_file_pwrite(const char *path, const void *buf, size_t len,
		    uint64_t off)
{
	int fd = open_or_fail(path, O_RDWR);
	ssize_t r = pwrite(fd, buf, len, (off_t)off);

	close(fd);
	if (r != (ssize_t)len) {
		print_message("pwrite(%s, %zu at %llu) = %zd\n", path, len,
			      (unsigned long long)off, r);
		fail();
	}
}

void th_copy_files(const char *const *paths, unsigned n,
		   const char *from_suffix, const char *to_suffix)
{
	for (unsigned i = 0; i < n; i++) {
		char src[PATH_MAX], dst[PATH_MAX];

		snprintf(src, sizeof(src), "%s%s", paths[i], from_suffix);
		snprintf(dst, sizeof(dst), "%s%s", paths[i], to_suffix);
		if (jrx_copy_sparse(src, dst, NULL))
			fail_msg("copying %s to %s: %s", src, dst, jrx_diag());
	}
}

void th_file_truncate(const char *path, uint64_t size)
{
	if (truncate(path, (off_t)size)) {
		print_message("truncate(%s): %s\n", path, strerror(errno));
		fail();
	}
}

uint64_t th_file_size(const char *path)
{
	struct stat st;

	if (stat(path, &st)) {
		print_message("stat(%s): %s\n", path, strerror(errno));
		fail();
	}
	return (uint64_t)st.st_size;
}

void th_file_state(const char *path, struct th_file_state *s)
{
	XXH3_state_t *h = XXH3_createState();
	size_t cap = 1 << 20;
	char *buf = malloc(cap);
	int fd = open_or_fail(path, O_RDONLY);
	struct stat st;
	ssize_t r;

	assert_non_null(h);
	assert_non_null(buf);
	XXH3_64bits_reset(h);
	while ((r = read(fd, buf, cap)) > 0)
		XXH3_64bits_update(h, buf, (size_t)r);
	assert_int_equal(r, 0);
	assert_int_equal(fstat(fd, &st), 0);
	close(fd);
	s->hash = XXH3_64bits_digest(h);
	s->size = (uint64_t)st.st_size;
	s->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
	XXH3_freeState(h);
	free(buf);
}

void th_files_state(const char *const *paths, unsigned n,
		    struct th_file_state *st)
{
	for (unsigned i = 0; i < n; i++)
		th_file_state(paths[i], &st[i]);
}

void th_expect_unwritten(const char *const *paths, unsigned n,
			 const struct th_file_state *before, const char *what)
{
	for (unsigned i = 0; i < n; i++) {
		struct th_file_state after;

		th_file_state(paths[i], &after);
		if (after.hash != before[i].hash)
			fail_msg("%s wrote to %s", what, paths[i]);
	}
}

/* ------------------------------------------------------------ arrays */

int th_format(const char *const *paths, unsigned n, const struct th_geom *g)
{
	struct jrx_format_opts o;

	jrx_format_opts_default(&o);
	o.size = g->size;
	o.bucket_size = g->bucket_size;
	o.btree_node_size = g->node_size;
	o.replicas = g->replicas;
	o.journal_size = g->journal_size;
	o.force = g->force;
	return jrx_format(paths, n, &o);
}

const struct th_geom th_small_geom = {
	.size = 64ull << 20, .bucket_size = 128u << 10,
	.node_size = 16u << 10, .replicas = 2, .journal_size = 1u << 20,
};

void th_small_loaded_array(const struct th_dir *dir, char p[2][256],
			   const char *paths[2], uint64_t ops,
			   const char *oracle)
{
	struct jrx_load_opts o;
	struct jrx_load_result r;
	struct jrx_array a;

	th_path(p[0], dir, "d0");
	th_path(p[1], dir, "d1");
	paths[0] = p[0];
	paths[1] = p[1];
	assert_jrx_ok(th_format(paths, 2, &th_small_geom));
	jrx_load_opts_default(&o);
	o.ops = ops;
	o.seed = 42;
	o.oracle = oracle;
	assert_jrx_ok(jrx_array_open(&a, paths, 2, 0));
	assert_jrx_ok(jrx_load(&a, &o, &r));
	jrx_array_close(&a);
	assert_false(r.crashed);
}

int th_array_setup(void **state)
{
	static struct th_array e;

	th_dir_make(&e.dir);
	th_small_loaded_array(&e.dir, e.p, e.paths, 1500, NULL);
	*state = &e;
	return 0;
}

int th_array_teardown(void **state)
{
	struct th_dir *dir = *state;

	jrx_dev_crash_after_writes(0);
	th_dir_remove(dir);
	return 0;
}

/* ------------------------------------------------------------ randomness */

uint64_t th_rand(uint64_t *state)
{
	return jrx_splitmix64(state);
}

uint64_t th_rand_below(uint64_t *state, uint64_t n)
{
	return jrx_rand_mod(jrx_splitmix64(state), n);
}

void th_rand_bytes(uint64_t *state, void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len) {
		uint64_t r = th_rand(state);
		size_t n = len < 8 ? len : 8;

		memcpy(p, &r, n);
		p += n;
		len -= n;
	}
}

/* ------------------------------------------------------------ keys */

static struct jrx_bkey *key_init(uint64_t *buf, uint8_t type,
				 struct jrx_bpos p, size_t val_bytes)
{
	struct jrx_bkey *k = (struct jrx_bkey *)buf;

	jrx_bkey_init(k, type, p, val_bytes);
	memset(jrx_bkey_val(k), 0, jrx_bkey_val_bytes(k));
	return k;
}

struct jrx_bkey *th_key_whiteout(uint64_t *buf, struct jrx_bpos p)
{
	return key_init(buf, JRX_KEY_WHITEOUT, p, 0);
}

struct jrx_bkey *th_key_extent(uint64_t *buf, struct jrx_bpos p, uint32_t size,
			       uint32_t dev, uint64_t sector, uint32_t gen,
			       uint64_t tag)
{
	struct jrx_bkey *k = key_init(buf, JRX_KEY_EXTENT, p,
				      sizeof(struct jrx_extent_val));
	struct jrx_extent_val *v = jrx_bkey_val(k);

	k->size = size;
	v->sector = sector;
	v->dev = dev;
	v->gen = gen;
	v->data_tag = tag;
	return k;
}

struct jrx_bkey *th_key_inode(uint64_t *buf, struct jrx_bpos p,
			      const struct jrx_inode_val *v)
{
	struct jrx_bkey *k = key_init(buf, JRX_KEY_INODE, p, sizeof(*v));

	memcpy(jrx_bkey_val(k), v, sizeof(*v));
	return k;
}

struct jrx_bkey *th_key_dirent(uint64_t *buf, struct jrx_bpos p,
			       uint64_t target, uint8_t d_type,
			       const char *name)
{
	size_t nl = strlen(name);
	struct jrx_bkey *k = key_init(buf, JRX_KEY_DIRENT, p,
				      sizeof(struct jrx_dirent_val) + nl);
	struct jrx_dirent_val *d = jrx_bkey_val(k);

	d->target = target;
	d->d_type = d_type;
	d->name_len = (uint8_t)nl;
	memcpy(d + 1, name, nl);
	return k;
}

struct jrx_bkey *th_key_xattr(uint64_t *buf, struct jrx_bpos p,
			      const char *name, const void *value,
			      uint16_t value_len)
{
	size_t nl = strlen(name);
	struct jrx_bkey *k = key_init(buf, JRX_KEY_XATTR, p,
				      sizeof(struct jrx_xattr_val) + nl +
				      value_len);
	struct jrx_xattr_val *x = jrx_bkey_val(k);

	x->name_len = (uint8_t)nl;
	x->value_len = value_len;
	memcpy(x + 1, name, nl);
	if (value_len)
		memcpy((char *)(x + 1) + nl, value, value_len);
	return k;
}

struct jrx_bkey *th_key_alloc(uint64_t *buf, struct jrx_bpos p, uint32_t gen,
			      uint32_t dirty_sectors, uint8_t data_type)
{
	struct jrx_bkey *k = key_init(buf, JRX_KEY_ALLOC, p,
				      sizeof(struct jrx_alloc_val));
	struct jrx_alloc_val *a = jrx_bkey_val(k);

	a->gen = gen;
	a->dirty_sectors = dirty_sectors;
	a->data_type = data_type;
	return k;
}

struct jrx_bkey *th_key_accounting(uint64_t *buf, struct jrx_bpos p,
				   uint64_t version, int64_t d0, int64_t d1)
{
	struct jrx_bkey *k = key_init(buf, JRX_KEY_ACCOUNTING, p,
				      sizeof(struct jrx_accounting_val));
	struct jrx_accounting_val *a = jrx_bkey_val(k);

	k->version = version;
	a->d[0] = d0;
	a->d[1] = d1;
	return k;
}

struct jrx_bkey *th_key_btree_ptr(uint64_t *buf, struct jrx_bpos max,
				  struct jrx_bpos min, uint32_t dev,
				  uint64_t sector, uint64_t nonce)
{
	struct jrx_bkey *k = key_init(buf, JRX_KEY_BTREE_PTR, max,
				      sizeof(struct jrx_btree_ptr_val));
	struct jrx_btree_ptr_val *v = jrx_bkey_val(k);

	v->sector = sector;
	v->dev = dev;
	v->blocks = 1;
	v->nonce = nonce;
	v->min_key = min;
	return k;
}

const char *th_key_text(const struct jrx_bkey *k, char *buf, size_t len)
{
	if (!k)
		snprintf(buf, len, "(none)");
	else
		jrx_bkey_to_text(buf, len, k);
	return buf;
}

/* ------------------------------------------------------------ damage */

struct jrx_bpos th_damage_alloc_key(const char *const *paths, unsigned n)
{
	uint64_t buf[TH_KEY_WORDS];
	struct jrx_bkey *k = (struct jrx_bkey *)buf;
	struct jrx_alloc_val *v = (void *)(buf + JRX_BKEY_U64S);
	const struct jrx_bkey *old;
	struct jrx_bpos pos = jrx_bpos(0, 0, 0);
	struct jrx_array a;
	struct jrx_fs fs;

	assert_jrx_ok(jrx_array_open(&a, paths, n, 0));
	assert_jrx_ok(jrx_fs_open(&fs, &a, 0));
	for (;;) {
		assert_jrx_ok(jrx_btree_peek(&fs, JRX_BTREE_ALLOC, pos, &old));
		assert_non_null(old);
		if (((const struct jrx_alloc_val *)jrx_bkey_val(old))->data_type ==
		    JRX_DATA_USER)
			break;
		pos = jrx_bpos_successor(old->p);
	}
	memcpy(k, old, jrx_bkey_bytes(old));
	v->dirty_sectors += 1;
	pos = k->p;
	assert_jrx_ok(jrx_fs_update(&fs, JRX_BTREE_ALLOC, k));
	assert_jrx_ok(jrx_fs_commit(&fs));
	assert_jrx_ok(jrx_fs_shutdown(&fs));
	jrx_array_close(&a);
	return pos;
}

/* Cap the address space at what is mapped now plus headroom bytes. */
int th_cap_address_space(size_t headroom)
{
	char buf[128] = "";
	unsigned long pages;
	struct rlimit rl;
	ssize_t n;
	int fd;

	fd = open("/proc/self/statm", O_RDONLY);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0 || sscanf(buf, "%lu", &pages) != 1)
		return -1;
	rl.rlim_cur = rl.rlim_max =
		(rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE) + headroom;
	return setrlimit(RLIMIT_AS, &rl);
}

static int run_fsck(const char *const *paths, bool read_only,
		    enum jrx_repair_mode mode, bool json,
		    struct jrx_fsck_result *res, char **text)
{
	struct th_file_state before[2];
	struct jrx_fsck_opts o;
	size_t len = 0;
	FILE *out = NULL;
	int ret;

	th_files_state(paths, 2, before);
	jrx_fsck_opts_default(&o);
	o.read_only = read_only;
	o.repair = mode;
	o.preen = mode == JRX_REPAIR_PREEN;
	o.force = true;
	o.json = json;
	if (text) {
		out = open_memstream(text, &len);
		assert_non_null(out);
	}
	o.out = out ? out : getenv("TEST_FSCK_SHOW") ? stderr : NULL;
	ret = jrx_fsck_run(paths, 2, &o, res);
	if (out)
		fclose(out);
	if (text && getenv("TEST_FSCK_SHOW"))
		fputs(*text, stderr);
	if (ret)
		fail_msg("fsck failed: %s (%s)", jrx_diag(), th_errname(ret));
	if (read_only)
		th_expect_unwritten(paths, 2, before, "fsck -n");
	return res->exit_code;
}

int th_fsck(const char *const *paths, bool read_only,
	    enum jrx_repair_mode mode, struct jrx_fsck_result *res,
	    char **text)
{
	return run_fsck(paths, read_only, mode, false, res, text);
}

int th_fsck_json(const char *const *paths, enum jrx_repair_mode mode,
		 struct jrx_fsck_result *res, char **json)
{
	return run_fsck(paths, false, mode, true, res, json);
}

void th_flip_byte(const char *path, uint64_t off)
{
	uint8_t b;

	th_file_pread(path, &b, 1, off);
	b ^= 0x5a;
	th_file_pwrite(path, &b, 1, off);
}

uint64_t th_lose_jset(const char *const *paths)
{
	struct jrx_journal_scan scan;
	struct jrx_array a;
	uint64_t max = 0, last = 0, victim = 0;

	assert_jrx_ok(jrx_array_open(&a, paths, 2, JRX_OPEN_RDONLY));
	assert_jrx_ok(jrx_journal_read_seq(&a, &scan, 0));
	for (size_t i = 0; i < scan.nr; i++)
		if (scan.v[i].state == JRX_JSET_OK && scan.v[i].seq > max) {
			max = scan.v[i].seq;
			last = scan.v[i].last_seq;
		}
	for (uint64_t seq = max - 1; !victim && seq >= last && seq > 0; seq--) {
		bool ends = true, any = false;

		for (size_t i = 0; i < scan.nr; i++) {
			if (scan.v[i].seq != seq || scan.v[i].state != JRX_JSET_OK)
				continue;
			any = true;
			if (i + 1 < scan.nr && scan.v[i + 1].dev == scan.v[i].dev &&
			    scan.v[i + 1].bucket == scan.v[i].bucket)
				ends = false;
		}
		if (any && ends)
			victim = seq;
	}
	for (size_t i = 0; victim && i < scan.nr; i++)
		if (scan.v[i].seq == victim)
			th_flip_byte(paths[scan.v[i].dev], scan.v[i].offset +
				     sizeof(struct jrx_jset) + 8);
	jrx_journal_scan_free(&scan);
	jrx_array_close(&a);
	return victim;
}

void th_walk_nodes(const char *const *paths, unsigned id,
		   int (*cb)(void *ctx, const struct jrx_bnode *n), void *ctx)
{
	struct jrx_array a;
	struct jrx_fs fs;

	assert_jrx_ok(jrx_array_open(&a, paths, 2, JRX_OPEN_RDONLY));
	assert_jrx_ok(jrx_fs_open(&fs, &a, JRX_FS_RDONLY));
	assert_jrx_ok(jrx_btree_walk_nodes(&fs, id, cb, ctx));
	jrx_fs_abandon(&fs);
	jrx_array_close(&a);
}

int th_recover(const char *const *paths, const struct jrx_recover_opts *o,
	       struct jrx_report *r)
{
	struct jrx_array a;
	int ret;

	assert_jrx_ok(jrx_array_open(&a, paths, 2, o->dry_run ? JRX_OPEN_RDONLY : 0));
	jrx_report_init(r, o->reference ? "reference" : "accelerated");
	ret = jrx_recover(&a, o, r, NULL);
	jrx_array_close(&a);
	return ret;
}

void th_open_rw(const char *const *paths, struct jrx_array *a,
		struct jrx_fs *fs)
{
	assert_jrx_ok(jrx_array_open(a, paths, 2, 0));
	assert_jrx_ok(jrx_fs_open(fs, a, 0));
}

void th_close_rw(struct jrx_array *a, struct jrx_fs *fs)
{
	assert_jrx_ok(jrx_fs_commit(fs));
	assert_jrx_ok(jrx_fs_shutdown(fs));
	jrx_array_close(a);
}

void th_fsck_killed(const char *const *paths, uint64_t n)
{
	struct jrx_fsck_result res;
	struct jrx_fsck_opts o;

	jrx_dev_crash_after_writes(n);
	jrx_fsck_opts_default(&o);
	o.repair = JRX_REPAIR_ALL;
	o.force = true;
	assert_jrx_err(jrx_fsck_run(paths, 2, &o, &res), -JRX_ERR_CRASHED);
	assert_true(jrx_dev_crashed());
	jrx_dev_crash_after_writes(0);
}

void th_expect_one_json(const char *json)
{
	int objects = 0;

	for (const char *p = json; (p = strstr(p, "\"exit_code\"")); p++)
		objects++;
	if (objects != 1)
		fail_msg("%d JSON objects, expected 1:\n%s", objects, json);
}

void th_print_counts(const struct jrx_pr_counts *c)
{
	for (unsigned i = 0; i < JRX_PR_NR; i++)
		if (c->code[i])
			fprintf(stderr, "  %s: %llu\n", jrx_problem_table[i].name,
				(unsigned long long)c->code[i]);
}

void th_expect_repaired(const char *const *paths, enum jrx_repair_mode mode,
			int fix, const char *said)
{
	struct th_file_state before[2];
	struct jrx_fsck_result res;
	char *text = NULL;
	int got = th_fsck(paths, false, mode, &res, &text);

	if (got != 1) {
		fprintf(stderr, "%s", text);
		th_print_counts(&res.counts);
		fail_msg("fsck %s: exit %d, expected 1 (repaired)",
			 mode == JRX_REPAIR_PREEN ? "-p" : "-y", got);
	}
	if (fix >= 0 && !(res.repaired & (1u << fix)))
		fail_msg("fsck repaired %#x, not %#x:\n%s", res.repaired,
			 1u << fix, text);
	if (said && !strstr(text, said))
		fail_msg("fsck's report does not say \"%s\":\n%s", said, text);
	free(text);
	got = th_fsck(paths, true, JRX_REPAIR_NONE, &res, NULL);
	if (got) {
		th_print_counts(&res.counts);
		fail_msg("fsck -n after the repair: exit %d", got);
	}
	th_files_state(paths, 2, before);
	got = th_fsck(paths, false, JRX_REPAIR_ALL, &res, NULL);
	if (got)
		fail_msg("a second fsck -y: exit %d", got);
	th_expect_unwritten(paths, 2, before, "a second fsck -y");
}

void th_expect_oracle(const char *const *paths, const char *oracle,
		      const char *what)
{
	struct jrx_verify_opts vo = { .out = stderr, .max_diffs = 5 };
	struct jrx_verify_result vr;
	struct jrx_array a;
	struct jrx_fs fs;
	int ret;

	assert_jrx_ok(jrx_array_open(&a, paths, 2, JRX_OPEN_RDONLY));
	assert_jrx_ok(jrx_fs_open(&fs, &a, JRX_FS_RDONLY));
	ret = jrx_verify(&fs, oracle, &vo, &vr);
	jrx_fs_abandon(&fs);
	jrx_array_close(&a);
	if (ret)
		fail_msg("%s: the oracle does not match (%d)", what, ret);
}
