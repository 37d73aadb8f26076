// libFuzzer target: any bytes as a .cost program go through parse, check, evaluation of
// every model it declares and both reports (table and JSON) of each run; and, as a library
// file would be, through the lazy read, which must agree with the whole read. Any crash,
// sanitizer report, hang or abort is a bug: bad input must end in a CostiError. The JSON
// report must be valid JSON whatever bytes the input holds (names that are not UTF-8).
// Built with -DCOSTI_FUZZ=ON and clang; see docs/fuzzing.md.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>

#include "grammar/parse.hpp"
#include "grammar/printer.hpp"
#include "interpreter/analysis.hpp"
#include "interpreter/diagnostics.hpp"
#include "interpreter/needed.hpp"
#include "interpreter/session.hpp"
#include "repl/report.hpp"

namespace {

// Inputs longer than this add nothing the fuzzer cannot find with shorter ones (the seed
// pieces are at most 4000 bytes, see make_corpus.cmake); run with -max_len=4096.
constexpr std::size_t max_input = 4096;

void render_all(const costi::interp::CostiError& e) {
    for (const auto& d : e.diagnostics()) (void)costi::interp::render(d);
}

// The lazy read of a library file (docs/performance.md, "Reading only what a run needs"):
// kernel bodies skipped to their closing brace, then read one by one. Read in full that way,
// it must accept exactly the inputs the whole read accepts and build the same module;
// anything else is a bug in the skip (a brace inside a string or comment, an unclosed body).
void check_lazy_read(const std::string& text) {
    costi::interp::SourceSet sources;
    const costi::interp::SourceFile* file = sources.add("<fuzz>", text);
    std::vector<costi::interp::ast::Module> eager;
    std::vector<costi::interp::ast::Module> lazy;
    bool eager_ok = true;
    bool lazy_ok = true;
    try {
        eager.push_back(costi::grammar::parse_module(*file));
    } catch (const costi::interp::CostiError&) {
        eager_ok = false;
    }
    try {
        lazy.push_back(costi::grammar::parse_module(*file, true));
        costi::interp::read_all_bodies(lazy);
    } catch (const costi::interp::CostiError&) {
        lazy_ok = false;
    }
    if (eager_ok != lazy_ok) std::abort();
    if (eager_ok && !costi::grammar::same_module(eager.front(), lazy.front())) std::abort();
}

}  // namespace

// Tighter than the command line's limits (docs/language.md), so one input stays well under
// libFuzzer's timeout even with sanitizers: the same code paths, smaller bounds.
const costi::interp::EvalLimits fuzz_limits{100'000, 20'000, 200'000};

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    // Imports such as "stdlib/all.cost" resolve in this source tree, never in an install.
    setenv("COSTI_PATH", COSTI_SOURCE_DIR, 1);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size > max_input) return 0;
    std::string text(reinterpret_cast<const char*>(data), size);
    check_lazy_read(text);
    costi::interp::Session session;
    session.set_limits(fuzz_limits);
    try {
        // The real prelude (metrics, runtime variables and their domains), as every library
        // file imports it; an input that imports it too gets the same module once.
        session.load_file(COSTI_SOURCE_DIR "/stdlib/prelude.cost");
        session.load_text("<fuzz>", std::move(text));
    } catch (const costi::interp::CostiError& e) {
        render_all(e);
        return 0;
    }
    const auto& program = session.program();
    for (const auto& model : program.models) {
        try {
            costi::interp::CostNode root = session.run(*model, {});
            costi::report::RunInfo info{model->name, {}};
            (void)costi::report::table(program, info, root, costi::report::TableOptions{});
            std::string json = costi::report::json(program, info, root, -1);
            // The JSON report is a contract for tools: it must parse, whatever the names hold.
            if (!nlohmann::json::accept(json)) std::abort();
        } catch (const costi::interp::CostiError& e) {
            render_all(e);
        }
        // On the first device the input declares: the roofline, the footprint with its
        // searches for the largest batch and context, and a short request.
        if (program.hardware.empty()) continue;
        try {
            costi::interp::Overrides overrides;
            overrides.hardware = program.hardware.front()->name;
            costi::interp::Environment env = session.environment(*model, overrides);
            costi::interp::CostNode root = session.run_in(*model, env, 0);
            (void)costi::interp::analyse_device(session, *model, env, root);
            if (auto ids = costi::interp::AnalysisIds::of(program)) {
                (void)costi::interp::request(session, *model, env, *ids, costi::interp::Number(3),
                                             costi::interp::Number(2));
            }
        } catch (const costi::interp::CostiError& e) {
            render_all(e);
        }
    }
    return 0;
}
