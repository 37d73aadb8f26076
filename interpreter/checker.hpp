// The checker: from parsed modules to a Program the evaluator can run.
//
// Owns: every static rule of the language — declarations unique, names bound, calls
// matching their kernel's parameters, metrics declared, runtime rebindings valid, no
// recursion — and resolving each name once into an index. It collects every problem it
// can find before reporting. Folds constant sub-expressions.
// Does not own evaluation (evaluator) or loading files (loader).
#pragma once

#include <string>
#include <vector>

#include "interpreter/ast.hpp"
#include "interpreter/diagnostics.hpp"
#include "interpreter/program.hpp"

namespace costi::interp {

// Checks all modules together (in load order). Throws CostiError with every diagnostic.
Program check(const std::vector<ast::Module>& modules);

// Extra names an expression may use beyond runtime variables and config (REPL lets).
struct ExtraScope {
    std::vector<std::string> names;  // resolved to local slots 0..n-1
};

// Compiles a free-standing expression (REPL, model values): runtime variables, config.*,
// the extra names and kernel calls are in scope. Throws CostiError.
CExpr compile_expression(Program& program, const ast::Expr& expr, const ExtraScope& extra);

}  // namespace costi::interp
