// Closed forms for people and tools: a compiled form (interpreter/compile/) as text and JSON.
//
// Owns: writing polynomials readably — terms by falling degree, a factor common to every
// term taken out, digits grouped (4,194,304), `·` between factors and superscript powers
// (seq_len²), atoms inline (ceil((cache_len + seq_len)/16)), atoms nested deeper than a few
// levels named (a12) and defined after — and the JSON contract of `costi formula`. Holds no
// cost logic: every coefficient is the compiled form's, exactly.
#pragma once

#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "interpreter/compile/compiled.hpp"

namespace costi::report {

struct FormulaInfo {
    std::string model;
    std::string engine;  // empty for the kernels as written
    std::string hardware;
    // The runtime variables the model reads that are not free, with their fixed values.
    std::vector<std::pair<std::string, interp::Value>> fixed;
    int depth = 0;  // levels of calls shown below the model
};

// A polynomial of `form` as text: "4,194,304·seq_len² + 8·seq_len·cache_len + 12".
std::string poly_text(const interp::Compiled& form, const interp::Poly& p);

// The model's formulas as text: free and fixed variables, totals, calls to info.depth
// (indentation capped, so deep trees do not grow quadratically), guards, named atoms.
void formula_text(std::ostream& out, const interp::Compiled& form, const FormulaInfo& info);

// The same as JSON: every coefficient an exact string ("4194304", "1/16"), monomials as
// {"variable": power}, atoms and guards listed with their arguments.
void formula_json(std::ostream& out, const interp::Compiled& form, const FormulaInfo& info);

}  // namespace costi::report
