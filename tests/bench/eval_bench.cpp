// Benchmarks of the interpreter (not run by ctest; run build/tests/bench/eval_bench).
// They measure what a sweep does: re-evaluate a checked model at new runtime values, and
// the one-time cost of loading and checking the library.
#include <benchmark/benchmark.h>

#include "interpreter/session.hpp"

using namespace costi::interp;

static const std::string models = std::string(COSTI_SOURCE_DIR) + "/models/";

// One model evaluation per iteration at a new seq_len: the whole tree (`costi run`), or
// only the totals (what a sweep point costs).
static void run(benchmark::State& state, const char* file, bool tree) {
    Session s;
    s.load_file(models + file);
    const Model& m = s.pick_model("");
    std::int64_t seq = 1;
    for (auto _ : state) {
        Overrides o;
        o.runtime.emplace_back("seq_len", Value::of(seq));
        seq = seq % 8192 + 1;
        benchmark::DoNotOptimize(tree ? s.run(m, o) : s.totals(m, o));
    }
}
BENCHMARK_CAPTURE(run, tree_llama_3_8b, "llama-3-8b.cost", true);
BENCHMARK_CAPTURE(run, tree_deepseek_v3, "deepseek-v3.cost", true);
BENCHMARK_CAPTURE(run, totals_llama_3_8b, "llama-3-8b.cost", false);
BENCHMARK_CAPTURE(run, totals_deepseek_v3, "deepseek-v3.cost", false);

static void load_and_check(benchmark::State& state) {
    for (auto _ : state) {
        Session s;
        s.load_file(models + "deepseek-v3.cost");
        benchmark::DoNotOptimize(s.program().kernels.size());
    }
}
BENCHMARK(load_and_check);

BENCHMARK_MAIN();
