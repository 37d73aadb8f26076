// Benchmarks of the interpreter (not run by ctest; run build/tests/bench/eval_bench).
// They measure what a sweep does: re-evaluate a checked model at new runtime values, and
// the one-time cost of loading and checking the library.
#include <benchmark/benchmark.h>

#include "interpreter/session.hpp"

using namespace costi::interp;

static const std::string models = std::string(COSTI_SOURCE_DIR) + "/models/";

static void evaluate(benchmark::State& state, const char* file) {
    Session s;
    s.load_file(models + file);
    const Model& m = s.pick_model("");
    std::int64_t seq = 1;
    for (auto _ : state) {
        Overrides o;
        o.runtime.emplace_back("seq_len", Value::of(seq));
        seq = seq % 8192 + 1;
        benchmark::DoNotOptimize(s.run(m, o));
    }
}
BENCHMARK_CAPTURE(evaluate, llama_3_8b, "llama-3-8b.cost");

// What a sweep point costs: the totals only, no tree.
static void totals(benchmark::State& state, const char* file) {
    Session s;
    s.load_file(models + file);
    const Model& m = s.pick_model("");
    std::int64_t seq = 1;
    for (auto _ : state) {
        Overrides o;
        o.runtime.emplace_back("seq_len", Value::of(seq));
        seq = seq % 8192 + 1;
        benchmark::DoNotOptimize(s.totals(m, o));
    }
}
BENCHMARK_CAPTURE(totals, llama_3_8b, "llama-3-8b.cost");
BENCHMARK_CAPTURE(totals, deepseek_v3, "deepseek-v3.cost");
BENCHMARK_CAPTURE(evaluate, deepseek_v3, "deepseek-v3.cost");

static void load_and_check(benchmark::State& state) {
    for (auto _ : state) {
        Session s;
        s.load_file(models + "deepseek-v3.cost");
        benchmark::DoNotOptimize(s.program().kernels.size());
    }
}
BENCHMARK(load_and_check);

BENCHMARK_MAIN();
