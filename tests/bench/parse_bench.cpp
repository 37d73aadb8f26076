// Benchmarks of the front end (not run by ctest; run build/tests/bench/parse_bench): parsing
// and checking the library a model imports, which is most of a short `costi run`
// (docs/performance.md, "Start-up"), and a generated file of many kernels ("Scale").
#include <benchmark/benchmark.h>

#include <string>

#include "grammar/parse.hpp"
#include "interpreter/checker.hpp"
#include "interpreter/loader.hpp"
#include "interpreter/session.hpp"

using namespace costi::interp;

static const std::string models = std::string(COSTI_SOURCE_DIR) + "/models/";

// The files `costi run models/llama-2-7b.cost` loads (the model, its kernels, the stdlib).
static const std::vector<ast::Module>& llama_modules() {
    static SourceSet sources;
    static Loader loader(sources);
    if (loader.modules().empty()) loader.load_file(models + "llama-2-7b.cost");
    return loader.modules();
}

static void parse_library(benchmark::State& state) {
    const auto& modules = llama_modules();
    std::size_t bytes = 0;
    for (const auto& m : modules) bytes += m.file->text().size();
    for (auto _ : state) {
        for (const auto& m : modules) benchmark::DoNotOptimize(costi::grammar::parse_module(*m.file));
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(bytes));
}
BENCHMARK(parse_library)->Unit(benchmark::kMicrosecond);

static void check_library(benchmark::State& state) {
    const auto& modules = llama_modules();
    for (auto _ : state) benchmark::DoNotOptimize(check(modules));
}
BENCHMARK(check_library)->Unit(benchmark::kMicrosecond);

// Reading, parsing and checking, as a Session does for `costi run models/llama-2-7b.cost`.
static void load_and_check_llama_2_7b(benchmark::State& state) {
    for (auto _ : state) {
        Session s;
        s.load_file(models + "llama-2-7b.cost");
        benchmark::DoNotOptimize(s.program().kernels.size());
    }
}
BENCHMARK(load_and_check_llama_2_7b)->Unit(benchmark::kMicrosecond);

// N kernels in chains of 250, each calling the next (as tests/bench/gen_kernels.py writes).
static std::string chains(int n) {
    std::string s;
    for (int i = 0; i < n; ++i) {
        s += "kernel K" + std::to_string(i) + "(n = 1) {\n  flops = 1";
        if (i % 250 != 249 && i + 1 < n) s += "\n  next: $K" + std::to_string(i + 1) + "(n = n + 1)";
        s += "\n}\n";
    }
    return s;
}

static void parse_and_check_kernels(benchmark::State& state) {
    std::string text = chains(static_cast<int>(state.range(0)));
    for (auto _ : state) {
        Session s;
        s.load_text("<bench>", "import \"stdlib/prelude.cost\"\n" + text);
        benchmark::DoNotOptimize(s.program().kernels.size());
    }
    state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(parse_and_check_kernels)->Arg(10000)->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
