// The grammar's entry points: text in, AST out.
//
// Owns: running the PEGTL grammar and turning its parse tree into ast::Module / ast::Expr.
// Throws interp::CostiError (code E0001) with the position of the first syntax error.
#pragma once

#include "interpreter/ast.hpp"
#include "interpreter/source.hpp"

namespace costi::grammar {

// Parses a whole .cost file. With `lazy_bodies`, each kernel's parameters and body are only
// scanned to their closing brace and kept as text (ast::Kernel::unread_body) for parse_body
// to read if needed.
interp::ast::Module parse_module(const interp::SourceFile& file, bool lazy_bodies = false);

// Parses the unread parameters and body of a kernel of a lazily read file (nothing when it
// has none).
// Throws interp::CostiError (E0001) as parse_module would at the same place.
void parse_body(interp::ast::Kernel& kernel);

// Parses a file's text as one expression (command-line values, REPL input).
interp::ast::ExprPtr parse_expression(const interp::SourceFile& file);

// True when PEGTL's analyze() finds no problem (no left recursion, no empty loops).
bool grammar_is_sound();

}  // namespace costi::grammar
