// Benchmarks of the compile stage (not run by ctest; run build/tests/bench/compile_bench).
// compile: a model's whole call tree once, symbolically, with batch_size, seq_len and
// cache_len free. points: its totals (every metric) at one new point per iteration on the
// straight-line program (fast_eval.hpp) — what a sweep pays per row; the interpreter's cost
// per point is eval_bench's totals benchmark.
#include <benchmark/benchmark.h>

#include "interpreter/compile/fast_eval.hpp"
#include "interpreter/session.hpp"

using namespace costi::interp;

static const std::string models = std::string(COSTI_SOURCE_DIR) + "/models/";

static std::vector<std::uint32_t> free_vars(const Program& p) {
    return {*p.find_runtime("batch_size"), *p.find_runtime("seq_len"), *p.find_runtime("cache_len")};
}

static void compile_model(benchmark::State& state, const char* file) {
    Session s;
    s.load_file(models + file);
    const Model& m = s.pick_model("");
    for (auto _ : state) benchmark::DoNotOptimize(s.compile(m, {}, free_vars(s.program())));
}
BENCHMARK_CAPTURE(compile_model, llama_3_8b, "llama-3-8b.cost")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(compile_model, deepseek_v3, "deepseek-v3.cost")->Unit(benchmark::kMillisecond);

// One point per iteration: seq_len walks 1..131072, batch_size 1..64, cache_len 0..8191.
static void points(benchmark::State& state, const char* file) {
    Session s;
    s.load_file(models + file);
    const Model& m = s.pick_model("");
    Compiled form = s.compile(m, {}, free_vars(s.program()));
    std::vector<Poly> totals;
    for (std::uint32_t i = 0; i < s.program().metrics.size(); ++i) totals.push_back(form.total(i));
    FastForm fast(form, totals);
    std::vector<Number> point{1, 1, 0};
    std::vector<Number> out;
    std::int64_t i = 0;
    for (auto _ : state) {
        point[0] = Number(1 + i % 64);
        point[1] = Number(1 + i % 131072);
        point[2] = Number(i % 8192);
        ++i;
        fast.evaluate(point, out);
        benchmark::DoNotOptimize(out.data());
    }
    state.SetItemsProcessed(state.iterations());
    state.counters["instructions"] = static_cast<double>(fast.size());
    state.counters["exact_fallbacks"] = static_cast<double>(fast.exact_points());
}
BENCHMARK_CAPTURE(points, llama_3_8b, "llama-3-8b.cost");
BENCHMARK_CAPTURE(points, deepseek_v3, "deepseek-v3.cost");

// Points beyond 64 bits (batch_size about 10^30): every one on the exact GMP path.
static void points_beyond_64_bits(benchmark::State& state) {
    Session s;
    s.load_file(models + "llama-3-8b.cost");
    Compiled form = s.compile(s.pick_model(""), {}, free_vars(s.program()));
    std::vector<Poly> totals;
    for (std::uint32_t i = 0; i < s.program().metrics.size(); ++i) totals.push_back(form.total(i));
    FastForm fast(form, totals);
    const Number e30 = *Number::parse("1e30");
    std::vector<Number> point{e30, 1, 0};
    std::vector<Number> out;
    std::int64_t i = 0;
    for (auto _ : state) {
        point[1] = Number(1 + i++ % 131072);
        fast.evaluate(point, out);
        benchmark::DoNotOptimize(out.data());
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(points_beyond_64_bits);

BENCHMARK_MAIN();
