// Operator semantics: what + - * / // % ^, comparisons, and/or/not and the functions mean.
//
// Owns: the one definition of every operator on Values, shared by constant folding in the
// checker and by the evaluator. Errors come back as (code, message) for the caller to place.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "interpreter/ast.hpp"
#include "interpreter/program.hpp"
#include "interpreter/value.hpp"

namespace costi::interp {

struct OpError {
    const char* code = nullptr;
    std::string message;
    std::string hint;
};

// True when v is a number other than 0; strings are an error.
std::optional<bool> truth(const Value& v, OpError& err);

// Applies a unary operator (neg, pos, not_).
std::optional<Value> apply_unary(ast::Op op, const Value& a, OpError& err);

// Applies a binary operator other than and_/or_/default_ (those short-circuit in the caller).
std::optional<Value> apply_binary(ast::Op op, const Value& a, const Value& b, OpError& err);

// Applies min, max, floor, ceil or abs.
std::optional<Value> apply_function(Fn fn, const std::vector<Value>& args, OpError& err);

// The operator as written, for messages.
const char* op_text(ast::Op op);

}  // namespace costi::interp
