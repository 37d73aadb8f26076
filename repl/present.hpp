// How the REPL shows answers: single values and small aligned tables.
//
// Owns: layout only, on top of the exact values the interpreter returns. Every number is
// written as the reports write it (repl/human.hpp): exact integers grouped by thousands
// (5,637,144,576), other numbers exactly as p/q; a single value also gets the compact form
// beside it (5.637 G, 17.52 GB, 8.03B for counts). Does not compute anything.
#pragma once

#include <string>
#include <vector>

#include "interpreter/evaluator.hpp"
#include "interpreter/program.hpp"
#include "repl/human.hpp"

namespace costi::repl {

// "42", "1,700,379,337,088  (1.7 T)", "3/2  (1.5)", "\"silu\"": exact first, compact
// beside (in the metric's unit and style, "17.52 GB", "6.738B", when there is one).
std::string show_value(const interp::Value& v, const std::string& unit = "",
                       report::Style style = report::Style::si);

// A value in a table or a list: grouped exact digits for a number, else as the language
// writes it ("silu" in quotes, true).
std::string show_exact(const interp::Value& v);

// "batch_size=1  seq_len=4,096  …": the runtime values an answer was computed under.
std::string runtime_summary(const interp::Program& program, const std::vector<interp::Value>& runtime);

// One line per metric: its name, the exact grouped value and the compact form, aligned.
std::string metric_lines(const interp::Program& program, const std::vector<interp::Number>& cost);

// Rows laid out in columns, two spaces apart, each line indented by `indent`; a column is
// right-aligned where `right` says so. Trailing spaces are trimmed.
std::string columns(const std::vector<std::vector<std::string>>& rows, const std::vector<bool>& right,
                    std::size_t indent = 0);

// Every line of `text` indented by `n` spaces.
std::string indent(const std::string& text, std::size_t n);

}  // namespace costi::repl
