// The grammar's entry points: text in, AST out.
//
// Owns: running the PEGTL grammar and turning its parse tree into ast::Module / ast::Expr.
// Throws interp::CostiError (code E0001) with the position of the first syntax error.
#pragma once

#include "interpreter/ast.hpp"
#include "interpreter/source.hpp"

namespace costi::grammar {

// Parses a whole .cost file.
interp::ast::Module parse_module(const interp::SourceFile& file);

// Parses a file's text as one expression (command-line values, REPL input).
interp::ast::ExprPtr parse_expression(const interp::SourceFile& file);

// True when PEGTL's analyze() finds no problem (no left recursion, no empty loops).
bool grammar_is_sound();

}  // namespace costi::grammar
