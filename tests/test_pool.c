/*
 * test_pool.c - the worker pool (src/util/pool.h): every id once per
 * phase, the barrier between phases, hooks on the thread that runs the
 * id, the policy for threads that cannot be started (their ids run on the
 * caller, nothing is lost), and set-up errors.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <string.h>
#include <cmocka.h>
#include "util/diag.h"
#include "util/pool.h"

#define N 6

struct ctx {
	atomic_int runs[N];		/* phase calls per id */
	atomic_int starts, stops;
	int	   seen[N];		/* phase 1 wrote it, phase 2 reads all */
	int	   bad_barrier;
	pthread_t  start_th[N], run_th[N];
	bool	   start_own[N];
	int	   th_mismatch;
	int	   fail_id;		/* on_start fails for it (-1: none) */
};

static int on_start(void *arg, unsigned id, bool own)
{
	struct ctx *c = arg;

	c->start_th[id] = pthread_self();
	c->start_own[id] = own;
	if ((int)id == c->fail_id)
		return jrx_fail(-EIO, "worker %u: cannot set up its ring", id);
	atomic_fetch_add(&c->starts, 1);
	return 0;
}

static void on_stop(void *arg, unsigned id, bool own)
{
	struct ctx *c = arg;

	(void)own;
	if (!pthread_equal(c->start_th[id], pthread_self()))
		c->th_mismatch++;
	atomic_fetch_add(&c->stops, 1);
}

static void phase1(void *arg, unsigned id)
{
	struct ctx *c = arg;

	atomic_fetch_add(&c->runs[id], 1);
	c->run_th[id] = pthread_self();
	c->seen[id] = 1;
}

static void phase2(void *arg, unsigned id)
{
	struct ctx *c = arg;

	atomic_fetch_add(&c->runs[id], 1);
	if (!pthread_equal(c->run_th[id], pthread_self()))
		c->th_mismatch++;
	for (unsigned i = 0; i < N; i++)
		if (!c->seen[i])
			c->bad_barrier++;	/* only this id's writer: no race */
}

static void run(struct ctx *c, uint64_t fail_mask, unsigned want_threads)
{
	struct jrx_pool *p;

	memset(c, 0, sizeof(*c));
	c->fail_id = -1;
	jrx_pool_inject_start_failure(fail_mask);
	assert_int_equal(jrx_pool_start(&p, &(struct jrx_pool_opts){
		.workers = N, .on_start = on_start, .on_stop = on_stop,
		.ctx = c, .name = "test" }), 0);
	assert_int_equal(jrx_pool_workers(p), N);
	assert_int_equal(jrx_pool_threads(p), want_threads);
	jrx_pool_run(p, phase1, c);
	jrx_pool_run(p, phase2, c);
	jrx_pool_run(p, phase1, c);
	jrx_pool_stop(p);
	jrx_pool_inject_start_failure(0);
	for (unsigned i = 0; i < N; i++) {
		if (atomic_load(&c->runs[i]) != 3)
			fail_msg("id %u ran %d times in 3 phases", i,
				 atomic_load(&c->runs[i]));
		if (!pthread_equal(c->start_th[i], c->run_th[i]))
			fail_msg("id %u: on_start and its phases ran on different"
				 " threads", i);
		assert_int_equal(c->start_own[i], !(fail_mask >> i & 1));
		if (fail_mask >> i & 1)
			assert_true(pthread_equal(c->run_th[i], pthread_self()));
		else
			assert_false(pthread_equal(c->run_th[i], pthread_self()));
	}
	assert_int_equal(c->bad_barrier, 0);
	assert_int_equal(c->th_mismatch, 0);
	assert_int_equal(atomic_load(&c->starts), N);
	assert_int_equal(atomic_load(&c->stops), N);
}

static void test_every_id_every_phase(void **state)
{
	static struct ctx c;

	(void)state;
	run(&c, 0, N);
}

static void test_some_threads_refused(void **state)
{
	static struct ctx c;

	(void)state;
	run(&c, 0x15, N - 3);		/* ids 0, 2, 4 on the caller */
}

static void test_no_thread_started(void **state)
{
	static struct ctx c;

	(void)state;
	run(&c, (1u << N) - 1, 0);
}

static void test_setup_error(void **state)
{
	static struct ctx c;
	struct jrx_pool *p = (void *)&c;

	(void)state;
	for (int refused = 0; refused < 2; refused++) {
		memset(&c, 0, sizeof(c));
		c.fail_id = 3;
		jrx_diag_clear();
		/* refused: id 3 has no thread, its on_start fails on ours */
		jrx_pool_inject_start_failure(refused ? 1u << 3 : 0);
		assert_int_equal(jrx_pool_start(&p, &(struct jrx_pool_opts){
			.workers = N, .on_start = on_start, .on_stop = on_stop,
			.ctx = &c }), -EIO);
		jrx_pool_inject_start_failure(0);
		assert_null(p);
		assert_non_null(strstr(jrx_diag(), "worker 3: cannot set up"));
		/* every worker that did set up was torn down */
		assert_int_equal(atomic_load(&c.starts), N - 1);
		assert_int_equal(atomic_load(&c.stops), N - 1);
	}
}

static void test_bad_sizes(void **state)
{
	struct jrx_pool *p;

	(void)state;
	assert_int_equal(jrx_pool_start(&p, &(struct jrx_pool_opts){
		.workers = 0 }), -EINVAL);
	assert_int_equal(jrx_pool_start(&p, &(struct jrx_pool_opts){
		.workers = JRX_POOL_MAX + 1 }), -EINVAL);
	jrx_pool_stop(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_id_every_phase),
		cmocka_unit_test(test_some_threads_refused),
		cmocka_unit_test(test_no_thread_started),
		cmocka_unit_test(test_setup_error),
		cmocka_unit_test(test_bad_sizes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
