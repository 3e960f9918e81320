// shim.cc - the C++ side of cbench.h: C benchmark functions registered
// with Google Benchmark, and main().

#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "cbench.h"

struct cb_state {
	benchmark::State *st;
};

// struct cb_bench is never defined: a handle is the Benchmark itself.
static benchmark::internal::Benchmark *bench(struct cb_bench *b)
{
	return reinterpret_cast<benchmark::internal::Benchmark *>(b);
}

extern "C" {

bool cb_keep_running(struct cb_state *s)
{
	return s->st->KeepRunning();
}

int64_t cb_arg(const struct cb_state *s, unsigned i)
{
	return s->st->range(i);
}

int64_t cb_iterations(const struct cb_state *s)
{
	return static_cast<int64_t>(s->st->iterations());
}

void cb_pause(struct cb_state *s)
{
	s->st->PauseTiming();
}

void cb_resume(struct cb_state *s)
{
	s->st->ResumeTiming();
}

void cb_items(struct cb_state *s, int64_t items)
{
	s->st->SetItemsProcessed(items);
}

void cb_bytes(struct cb_state *s, int64_t bytes)
{
	s->st->SetBytesProcessed(bytes);
}

void cb_counter(struct cb_state *s, const char *name, double v, unsigned flags)
{
	int f = benchmark::Counter::kDefaults;

	if (flags & CB_RATE)
		f |= benchmark::Counter::kIsRate;
	if (flags & CB_AVG)
		f |= benchmark::Counter::kAvgIterations;
	s->st->counters[name] =
		benchmark::Counter(v, static_cast<benchmark::Counter::Flags>(f));
}

void cb_label(struct cb_state *s, const char *label)
{
	s->st->SetLabel(label);
}

void cb_error(struct cb_state *s, const char *msg)
{
	s->st->SkipWithError(msg);
}

struct cb_bench *cb_register(const char *name, cb_fn fn)
{
	benchmark::internal::Benchmark *b =
		benchmark::RegisterBenchmark(name, [fn](benchmark::State &st) {
			struct cb_state s = { &st };

			fn(&s);
		});

	return reinterpret_cast<struct cb_bench *>(b);
}

void cb_args(struct cb_bench *b, const int64_t *args, unsigned n)
{
	bench(b)->Args(std::vector<int64_t>(args, args + n));
}

void cb_arg_names(struct cb_bench *b, const char *const *names, unsigned n)
{
	bench(b)->ArgNames(std::vector<std::string>(names, names + n));
}

void cb_real_time(struct cb_bench *b)
{
	bench(b)->UseRealTime();
}

void cb_unit_ms(struct cb_bench *b)
{
	bench(b)->Unit(benchmark::kMillisecond);
}

} // extern "C"

int main(int argc, char **argv)
{
	cb_register_all();
	benchmark::Initialize(&argc, argv);
	if (benchmark::ReportUnrecognizedArguments(argc, argv))
		return 1;
	benchmark::RunSpecifiedBenchmarks();
	benchmark::Shutdown();
	return 0;
}
