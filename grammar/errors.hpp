// Messages for the grammar's commit points: when expect<R> fails, this is what the user reads.
//
// Owns: the table from commit-point rule to message. Every expect<R> used in grammar.hpp
// must have an entry (a static_assert in must_if enforces it).
#pragma once

#include "grammar/grammar.hpp"

namespace costi::grammar {

struct errors {
    template <typename Rule> static constexpr const char* message = nullptr;
};

// clang-format off
template <> inline constexpr const char* errors::message<expect<digits>> = "expected digits after the exponent 'e'";
template <> inline constexpr const char* errors::message<expect<escaped_char>> = "unknown escape in string (use \\\" \\\\ \\n or \\t)";
template <> inline constexpr const char* errors::message<expect<string_close>> = "unterminated string (strings end with '\"' on the same line)";
template <> inline constexpr const char* errors::message<expect<equals>> = "expected '='";
template <> inline constexpr const char* errors::message<expect<expr>> = "expected an expression";
template <> inline constexpr const char* errors::message<expect<close_paren>> = "expected ')'";
template <> inline constexpr const char* errors::message<expect<close_brace>> = "expected '}'";
template <> inline constexpr const char* errors::message<expect<qname>> = "expected a kernel name such as F.linear";
template <> inline constexpr const char* errors::message<expect<dotted_key>> = "expected a config key after 'config.'";
template <> inline constexpr const char* errors::message<expect<unary>> = "expected an operand";
template <> inline constexpr const char* errors::message<expect<product>> = "expected an operand";
template <> inline constexpr const char* errors::message<expect<sum>> = "expected an operand";
template <> inline constexpr const char* errors::message<expect<negation>> = "expected an operand";
template <> inline constexpr const char* errors::message<expect<conjunction>> = "expected an operand";
template <> inline constexpr const char* errors::message<expect<disjunction>> = "expected an operand";
template <> inline constexpr const char* errors::message<expect<kw_then>> = "expected 'then' in 'if … then … else …'";
template <> inline constexpr const char* errors::message<expect<kw_else>> = "expected 'else' in 'if … then … else …'";
template <> inline constexpr const char* errors::message<expect<string_lit>> = "expected a string in double quotes";
template <> inline constexpr const char* errors::message<expect<name>> = "expected a name";
template <> inline constexpr const char* errors::message<expect<call>> = "expected a kernel call such as $F.linear(M = 1, K = 2, N = 3)";
template <> inline constexpr const char* errors::message<expect<child_call>> = "expected a kernel call: `$Kernel(…)` or `repeat COUNT $Kernel(…)`";
template <> inline constexpr const char* errors::message<expect<binding_list>> = "expected '(' and runtime bindings, as in `with (seq_len = 1)`";
template <> inline constexpr const char* errors::message<expect<open_brace>> = "expected '{' to open the kernel body";
template <> inline constexpr const char* errors::message<expect<kernel_end>> = "expected a statement (let, source, doc, METRIC = expr, label: $Kernel(…)) or '}'";
template <> inline constexpr const char* errors::message<expect<config_end>> = "expected a config entry (KEY = expr) or '}'";
template <> inline constexpr const char* errors::message<expect<model_end>> = "expected a model statement (config { … }, config from \"file\", NAME = expr) or '}'";
template <> inline constexpr const char* errors::message<expect<config_what>> = "expected '{' or 'from \"config.json\"' after 'config'";
template <> inline constexpr const char* errors::message<expect<alias_target>> = "expected the name of the kernel the alias stands for";
template <> inline constexpr const char* errors::message<expect<model_name>> = "expected a model name such as meta-llama/Llama-2-7b-hf";
template <> inline constexpr const char* errors::message<expect<eof>> = "expected a declaration (import, metric, runtime, kernel, alias or model)";
template <> inline constexpr const char* errors::message<expect<end_of_expr>> = "unexpected text after the expression";
// clang-format on

template <typename Rule>
using control = tao::pegtl::must_if<errors, tao::pegtl::normal, true>::control<Rule>;

}  // namespace costi::grammar
