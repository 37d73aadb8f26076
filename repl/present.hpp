// How the REPL shows answers: single values and small aligned tables.
//
// Owns: layout only, on top of the exact values the interpreter returns (exact digits
// first, a human-readable form beside them). Does not compute anything.
#pragma once

#include <string>
#include <vector>

#include "interpreter/evaluator.hpp"
#include "interpreter/program.hpp"

namespace costi::repl {

// "42", "1700379337088  (1.7 T)", "3/2  (1.5)", "\"silu\"": exact first, compact beside
// (with the metric's unit, "17.52 GB", when there is one).
std::string show_value(const interp::Value& v, const std::string& unit = "");

// "batch_size=1  seq_len=4  …": the runtime values an answer was computed under.
std::string runtime_summary(const interp::Program& program, const interp::Environment& env);

// Rows laid out in columns, two spaces apart, each line indented by `indent`; a column is
// right-aligned where `right` says so. Trailing spaces are trimmed.
std::string columns(const std::vector<std::vector<std::string>>& rows, const std::vector<bool>& right,
                    std::size_t indent = 0);

// Every line of `text` indented by `n` spaces.
std::string indent(const std::string& text, std::size_t n);

}  // namespace costi::repl
