// The formatter's printer: an AST back to .cost text in the one canonical layout
// (docs/formatting.md).
//
// Owns: the layout — indentation, spacing, the parentheses an expression needs, alignment of
// labels, assignments, table-like declarations and trailing comments — and putting every
// comment and blank line back where the source had it (trivia.hpp). A module is printed
// from its AST and its source text: literals keep their spelling (`1e-5`, `4_096`, `true`),
// line breaks inside a statement stay where the author put them, parentheses the author
// wrote stay, and everything else is re-derived.
// Does not own: parsing (parse.hpp) or meaning. Recursion follows the expression nesting,
// which the parser bounds (ast::max_expr_height, max_nesting).
#pragma once

#include <string>

#include "interpreter/ast.hpp"

namespace costi::grammar {

// The module in canonical layout. `module.file` must be the source it was parsed from.
std::string print_module(const interp::ast::Module& module);

// One expression on one line, with the fewest parentheses its precedence needs (no source:
// numbers as exact values, strings re-escaped).
std::string print_expr(const interp::ast::Expr& e);

// How tightly an expression binds: 0 (if … then … else) to 10 (a literal, a name, a call).
int precedence(const interp::ast::Expr& e);

// True when the two modules are the same program, spans aside. When not, `why` (if given)
// names the first difference. The formatter checks its output with it before writing.
bool same_module(const interp::ast::Module& a, const interp::ast::Module& b, std::string* why = nullptr);

// The same for two expressions.
bool same_expr(const interp::ast::Expr& a, const interp::ast::Expr& b);

}  // namespace costi::grammar
