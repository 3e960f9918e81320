/*
 * test_memory.c - the huge-page advice of src/util/memory.h: a big
 * block's aligned interior is advised to transparent huge pages and a
 * small one is left alone (jrx_mem_advise_huge), and node images
 * allocated after jrx_mem_large_pages() lie in memory advised to huge
 * pages, and mimalloc's settings are put back after it.  Read from the
 * kernel's own account of the mappings: the "hg" flag of VmFlags in
 * /proc/self/smaps.  Skips where the kernel has no transparent huge
 * pages (no /sys/kernel/mm/transparent_hugepage) or, for the images, in
 * a sanitizer build (blobs come from posix_memalign there, blob.c).
 */
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>
#include <mimalloc.h>
#include "helpers.h"
#include "btree/blob.h"
#include "util/memory.h"

#define MIB ((size_t)1 << 20)

static bool skipped;

static bool thp_or_skip(const char *what)
{
	if (!access("/sys/kernel/mm/transparent_hugepage/enabled", F_OK))
		return true;
	printf("[  SKIPPED ] %s: the kernel has no transparent huge pages\n",
	       what);
	skipped = true;
	return false;
}

/*
 * The VmFlags of the mapping that holds addr, in flags; false if
 * /proc/self/smaps has no mapping that holds it.
 */
static bool vm_flags(const void *addr, char *flags, size_t len)
{
	FILE *f = fopen("/proc/self/smaps", "re");
	char line[512];
	bool in = false, found = false;

	assert_non_null(f);
	while (!found && fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;

		/* a mapping's first line; its fields' names are not hex
		 * followed by '-' */
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2) {
			in = (uintptr_t)addr >= lo && (uintptr_t)addr < hi;
		} else if (in && !strncmp(line, "VmFlags:", 8)) {
			snprintf(flags, len, "%s", line + 8);
			found = true;
		}
	}
	fclose(f);
	return found;
}

/* flag is one of the two-letter words of a VmFlags line. */
static bool has_flag(const char *flags, const char *flag)
{
	char copy[512], *save = NULL;

	snprintf(copy, sizeof(copy), "%s", flags);
	for (char *w = strtok_r(copy, " \n", &save); w;
	     w = strtok_r(NULL, " \n", &save))
		if (!strcmp(w, flag))
			return true;
	return false;
}

static void test_advise_huge(void **state)
{
	size_t big = 16 * MIB, small = JRX_MEM_HUGE_MIN - MIB;
	char *a, *b, flags[512];
	uintptr_t mid;

	(void)state;
	if (!thp_or_skip("advise_huge"))
		return;
	a = mmap(NULL, big, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	b = mmap(NULL, small, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(a != MAP_FAILED && b != MAP_FAILED);
	jrx_mem_advise_huge(a, big);
	jrx_mem_advise_huge(b, small);
	/* the middle of the big block is inside its aligned interior */
	mid = ((uintptr_t)a + big / 2) & ~(uintptr_t)(2 * MIB - 1);
	assert_true(vm_flags((void *)mid, flags, sizeof(flags)));
	if (!has_flag(flags, "hg"))
		fail_msg("a %zu-byte block: VmFlags%s has no hg", big, flags);
	assert_true(vm_flags(b + small / 2, flags, sizeof(flags)));
	if (has_flag(flags, "hg"))
		fail_msg("a %zu-byte block (under %zu) was advised: VmFlags%s",
			 small, (size_t)JRX_MEM_HUGE_MIN, flags);
	munmap(a, big);
	munmap(b, small);
}

struct image_probe {
	bool	found, huge;
	char	flags[512];
};

/* On a thread of its own, as a replay worker: its heap's first memory. */
static void *alloc_image(void *arg)
{
	struct image_probe *pr = arg;
	mi_heap_t *heap = mi_heap_new();
	void *img;

	jrx_blob_use_heap(heap);
	img = jrx_blob_alloc(256 << 10);
	if (img) {
		memset(img, 1, 256 << 10);
		pr->found = vm_flags(img, pr->flags, sizeof(pr->flags));
		pr->huge = pr->found && has_flag(pr->flags, "hg");
		jrx_blob_free(img);
	}
	jrx_blob_use_heap(NULL);
	mi_heap_delete(heap);
	return NULL;
}

static void test_large_pages_images(void **state)
{
	long large = mi_option_get(mi_option_large_os_pages);
	long delay = mi_option_get(mi_option_eager_commit_delay);
	struct jrx_mem_pages was;
	struct image_probe pr = { 0 };
	pthread_t th;

	(void)state;
#ifdef JRX_TEST_SANITIZED
	printf("[  SKIPPED ] large_pages_images: a sanitizer build takes node"
	       " images from posix_memalign, not mimalloc\n");
	skipped = true;
	return;
#endif
	if (!thp_or_skip("large_pages_images"))
		return;
	jrx_mem_large_pages(&was);
	assert_int_equal(pthread_create(&th, NULL, alloc_image, &pr), 0);
	assert_int_equal(pthread_join(th, NULL), 0);
	jrx_mem_large_pages_end(&was);
	assert_true(pr.found);
	if (!pr.huge)
		fail_msg("a worker's first node image is not in memory advised"
			 " to huge pages: VmFlags%s", pr.flags);
	if (mi_option_get(mi_option_large_os_pages) != large ||
	    mi_option_get(mi_option_eager_commit_delay) != delay)
		fail_msg("mimalloc's settings not put back: large_os_pages %ld"
			 " (was %ld), eager_commit_delay %ld (was %ld)",
			 mi_option_get(mi_option_large_os_pages), large,
			 mi_option_get(mi_option_eager_commit_delay), delay);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_advise_huge),
		cmocka_unit_test(test_large_pages_images),
	};
	int failed = cmocka_run_group_tests(tests, NULL, NULL);

	return failed ? failed : skipped ? TH_EXIT_SKIP : 0;
}
