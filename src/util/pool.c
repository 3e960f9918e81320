/*
 * pool.c - the worker pool (pool.h): thread start with the one failure
 * policy, the phase hand-off and barrier, stop.
 *
 * Locking: p->mu guards gen, fn, arg, pending, quit and the start-up
 * count; a worker reads fn/arg under it when it sees a new gen, and runs
 * fn outside it.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pool.h"
#include "diag.h"

struct slot {
	struct jrx_pool *p;
	pthread_t th;
	unsigned id;
	bool	 own;			/* a thread of its own runs it */
	bool	 started;		/* its on_start ran (successfully) */
};

struct jrx_pool {
	struct jrx_pool_opts o;
	pthread_mutex_t mu;
	pthread_cond_t	go, done;
	uint64_t gen;			/* phase number */
	jrx_pool_fn fn;
	void	*arg;
	unsigned pending;		/* own threads still in phase gen */
	unsigned up;			/* own threads past on_start */
	int	 start_err;		/* first on_start error */
	char	 start_msg[256];
	bool	 quit;
	unsigned n, threads;
	struct slot w[];
};

static _Atomic uint64_t refuse_mask;

void jrx_pool_inject_start_failure(uint64_t mask)
{
	atomic_store(&refuse_mask, mask);
}

static void note_start(struct jrx_pool *p, int err)
{
	if (err && !p->start_err) {
		p->start_err = err;
		snprintf(p->start_msg, sizeof(p->start_msg), "%s", jrx_diag());
	}
}

static void *worker_main(void *arg)
{
	struct slot *s = arg;
	struct jrx_pool *p = s->p;
	uint64_t seen = 0;
	int err = p->o.on_start ? p->o.on_start(p->o.ctx, s->id, true) : 0;

	pthread_mutex_lock(&p->mu);
	note_start(p, err);
	s->started = !err;
	p->up++;
	pthread_cond_broadcast(&p->done);
	for (;;) {
		jrx_pool_fn fn;
		void *a;

		while (!p->quit && p->gen == seen)
			pthread_cond_wait(&p->go, &p->mu);
		if (p->quit)
			break;
		seen = p->gen;
		fn = p->fn;
		a = p->arg;
		pthread_mutex_unlock(&p->mu);
		fn(a, s->id);
		pthread_mutex_lock(&p->mu);
		if (--p->pending == 0)
			pthread_cond_broadcast(&p->done);
	}
	pthread_mutex_unlock(&p->mu);
	if (s->started && p->o.on_stop)
		p->o.on_stop(p->o.ctx, s->id, true);
	return NULL;
}

static void stop_all(struct jrx_pool *p)
{
	pthread_mutex_lock(&p->mu);
	p->quit = true;
	pthread_cond_broadcast(&p->go);
	pthread_mutex_unlock(&p->mu);
	for (unsigned i = 0; i < p->n; i++) {
		struct slot *s = &p->w[i];

		if (s->own)
			pthread_join(s->th, NULL);
		else if (s->started && p->o.on_stop)
			p->o.on_stop(p->o.ctx, s->id, false);
	}
	pthread_cond_destroy(&p->go);
	pthread_cond_destroy(&p->done);
	pthread_mutex_destroy(&p->mu);
	free(p);
}

int jrx_pool_start(struct jrx_pool **out, const struct jrx_pool_opts *o)
{
	const char *name = o->name ? o->name : "pool";
	uint64_t refuse = atomic_load(&refuse_mask);
	struct jrx_pool *p;
	pthread_attr_t attr;
	bool attr_ok;
	int ret = 0;

	*out = NULL;
	if (!o->workers || o->workers > JRX_POOL_MAX)
		return jrx_fail(-EINVAL, "%s: %u workers (1 to %u)", name,
				o->workers, JRX_POOL_MAX);
	p = calloc(1, sizeof(*p) + o->workers * sizeof(p->w[0]));
	if (!p)
		return jrx_fail(-ENOMEM, "%s: allocating a pool of %u"
				" workers", name, o->workers);
	p->o = *o;
	p->o.name = name;
	p->n = o->workers;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->go, NULL);
	pthread_cond_init(&p->done, NULL);
	attr_ok = !pthread_attr_init(&attr);
	if (attr_ok)
		pthread_attr_setstacksize(&attr, o->stack_size ? o->stack_size :
					  JRX_POOL_STACK);
	for (unsigned i = 0; i < p->n; i++) {
		struct slot *s = &p->w[i];
		bool refused = refuse >> (i < 63 ? i : 63) & 1;

		s->p = p;
		s->id = i;
		s->own = !refused && !pthread_create(&s->th, attr_ok ? &attr :
						    NULL, worker_main, s);
		p->threads += s->own;
	}
	if (attr_ok)
		pthread_attr_destroy(&attr);
	/* the ids without a thread of their own set up on this one */
	for (unsigned i = 0; i < p->n; i++) {
		struct slot *s = &p->w[i];
		int err;

		if (s->own)
			continue;
		err = o->on_start ? o->on_start(o->ctx, i, false) : 0;
		s->started = !err;
		pthread_mutex_lock(&p->mu);
		note_start(p, err);
		pthread_mutex_unlock(&p->mu);
	}
	pthread_mutex_lock(&p->mu);
	while (p->up < p->threads)
		pthread_cond_wait(&p->done, &p->mu);
	ret = p->start_err;
	pthread_mutex_unlock(&p->mu);
	if (ret) {
		char msg[sizeof(p->start_msg)];

		memcpy(msg, p->start_msg, sizeof(msg));
		stop_all(p);
		return jrx_fail(ret, "%s", msg);
	}
	*out = p;
	return 0;
}

static void begin(struct jrx_pool *p, jrx_pool_fn fn, void *arg)
{
	pthread_mutex_lock(&p->mu);
	p->fn = fn;
	p->arg = arg;
	p->pending = p->threads;
	p->gen++;
	pthread_cond_broadcast(&p->go);
	pthread_mutex_unlock(&p->mu);
}

void jrx_pool_wait(struct jrx_pool *p)
{
	pthread_mutex_lock(&p->mu);
	while (p->pending)
		pthread_cond_wait(&p->done, &p->mu);
	pthread_mutex_unlock(&p->mu);
}

void jrx_pool_run(struct jrx_pool *p, jrx_pool_fn fn, void *arg)
{
	begin(p, fn, arg);
	for (unsigned i = 0; i < p->n; i++)
		if (!p->w[i].own)
			fn(arg, i);
	jrx_pool_wait(p);
}

bool jrx_pool_begin(struct jrx_pool *p, jrx_pool_fn fn, void *arg)
{
	if (p->threads < p->n)
		return false;	/* an id would need the caller */
	begin(p, fn, arg);
	return true;
}

unsigned jrx_pool_workers(const struct jrx_pool *p)
{
	return p->n;
}

unsigned jrx_pool_threads(const struct jrx_pool *p)
{
	return p->threads;
}

void jrx_pool_stop(struct jrx_pool *p)
{
	if (p)
		stop_all(p);
}
