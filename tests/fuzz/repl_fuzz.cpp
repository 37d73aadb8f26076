// libFuzzer target: any bytes as lines typed into `costi repl` on the tiny model of the REPL
// tests (tests/repl/tiny.cost). Inputs are cut into lines and gathered while a ( or { is
// open, as the REPL does, and each runs through the REPL's own dispatch (run_input):
// bindings, config overrides, lets, declarations, expressions, :commands. Three oracles
// besides crashes and sanitizer reports: an input that fails leaves the session exactly as
// it was (Workspace's contract), no input leaves bindings that no longer evaluate, and
// no answer is an exception other than CostiError.
// Built with -DCOSTI_FUZZ=ON and clang; see docs/fuzzing.md.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <string_view>

#include "interpreter/diagnostics.hpp"
#include "repl/commands.hpp"
#include "repl/input.hpp"
#include "repl/workspace.hpp"

namespace {

using costi::interp::CostiError;
using costi::repl::Workspace;

// A few lines are enough to reach every command; longer inputs only slow the fuzzer.
constexpr std::size_t max_input = 2048;

// Marks a state whose bindings no longer evaluate: no input may lead there.
constexpr std::string_view unevaluable = "bindings not evaluable: ";

// What a failed input must leave unchanged: bindings with their values and origins, lets,
// the model, and the size of everything the program interns or declares.
std::string state_of(const Workspace& ws) {
    std::ostringstream s;
    try {
        for (const auto& b : ws.bound_values()) {
            s << b.name << '=' << b.value.show() << '@' << static_cast<int>(b.origin) << ';';
        }
    } catch (const CostiError& e) {
        s << unevaluable << e.diagnostics().front().message << ';';
    }
    for (const auto& l : ws.lets()) s << "let " << l.name << ';';
    const auto& p = ws.program();
    s << "model " << (ws.model() != nullptr ? ws.model()->name : "-") << "; kernels " << p.kernels.size()
      << "; models " << p.models.size() << "; metrics " << p.metrics.size() << "; runtimes " << p.runtimes.size()
      << "; config keys " << p.config_keys.size();
    return s.str();
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    setenv("COSTI_PATH", COSTI_SOURCE_DIR, 1);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size > max_input) return 0;
    std::string_view bytes(reinterpret_cast<const char*>(data), size);
    Workspace ws;
    // Tighter than the command line's limits, so one input stays under libFuzzer's timeout.
    ws.session().set_limits(costi::interp::EvalLimits{100'000, 20'000, 200'000});
    try {
        ws.load_file(COSTI_SOURCE_DIR "/tests/repl/tiny.cost");
    } catch (const CostiError&) {
        std::abort();  // the shipped test model must load
    }
    std::ostringstream out;
    std::string pending;
    long depth = 0;
    std::size_t line_no = 0;
    std::size_t start = 0;
    while (start <= bytes.size()) {
        std::size_t end = bytes.find('\n', start);
        if (end == std::string_view::npos) end = bytes.size();
        std::string_view line = bytes.substr(start, end - start);
        start = end + 1;
        ++line_no;
        pending.append(line);
        pending += '\n';
        depth += costi::repl::open_brackets(line);
        if (depth > 0 && start <= bytes.size()) continue;
        depth = 0;
        if (costi::repl::is_blank(pending)) {
            pending.clear();
            continue;
        }
        std::string before = state_of(ws);
        const costi::interp::SourceFile& input = ws.add_input(line_no, std::move(pending));
        pending.clear();
        try {
            if (costi::repl::run_input(ws, input, out)) break;  // :quit
        } catch (CostiError& e) {
            ws.restore_spans(e);
            for (const auto& d : e.diagnostics()) (void)costi::interp::render(d);
            std::string after = state_of(ws);
            if (after != before) {  // a failed input changed the session
                std::fprintf(stderr, "failed input changed the session\nbefore: %s\nafter:  %s\n", before.c_str(),
                             after.c_str());
                std::abort();
            }
        }
        if (std::string now = state_of(ws); now.find(unevaluable) != std::string::npos) {
            std::fprintf(stderr, "the session can no longer evaluate its bindings\nbefore: %s\nafter:  %s\n",
                         before.c_str(), now.c_str());
            std::abort();
        }
        out.str({});
    }
    return 0;
}
