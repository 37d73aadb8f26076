// Messages for the grammar's commit points: when R fails inside expect<R>, this is what the user reads.
//
// Owns: the table from commit-point rule to message. Every R used as expect<R> in grammar.hpp
// must have an entry (a static_assert in must_if enforces it); the hand-written expression
// parser (expression.cpp) words its errors with the same entries.
#pragma once

#include "grammar/grammar.hpp"

namespace costi::grammar {

struct errors {
    template <typename Rule> static constexpr const char* message = nullptr;
    // Only expect<R> (must<R>) raises; a rule failing elsewhere just backtracks.
    template <typename Rule> static constexpr bool raise_on_failure = false;
};

// clang-format off
template <> inline constexpr const char* errors::message<digits> = "expected digits after the exponent 'e'";
template <> inline constexpr const char* errors::message<escaped_char> = "unknown escape in string (use \\\" \\\\ \\n or \\t)";
template <> inline constexpr const char* errors::message<string_close> = "unterminated string (strings end with '\"' on the same line)";
template <> inline constexpr const char* errors::message<equals> = "expected '='";
template <> inline constexpr const char* errors::message<expr> = "expected an expression";
template <> inline constexpr const char* errors::message<close_paren> = "expected ')'";
template <> inline constexpr const char* errors::message<close_brace> = "expected '}'";
template <> inline constexpr const char* errors::message<qname> = "expected a kernel name such as F.linear";
template <> inline constexpr const char* errors::message<kernel_name> = errors::message<qname>;
template <> inline constexpr const char* errors::message<dotted_key> = "expected a config key after 'config.'";
// After an operator, at every precedence level (expression.cpp), and a domain bound.
template <> inline constexpr const char* errors::message<sum> = "expected an operand";
template <> inline constexpr const char* errors::message<kw_then> = "expected 'then' in 'if … then … else …'";
template <> inline constexpr const char* errors::message<kw_else> = "expected 'else' in 'if … then … else …'";
template <> inline constexpr const char* errors::message<string_lit> = "expected a string in quotes: \"…\"";
template <> inline constexpr const char* errors::message<name> = "expected a name";
template <> inline constexpr const char* errors::message<call> = "expected a kernel call such as $F.linear(M = 1, K = 2, N = 3)";
template <> inline constexpr const char* errors::message<child_call> = "expected a kernel call: `$Kernel(…)` or `repeat COUNT $Kernel(…)`";
template <> inline constexpr const char* errors::message<binding_list> = "expected '(' and runtime bindings, as in `with (seq_len = 1)`";
template <> inline constexpr const char* errors::message<open_brace> = "expected '{' to open the kernel body";
template <> inline constexpr const char* errors::message<kernel_end> = "expected a statement (let, require, source, doc, METRIC = expr, label: $Kernel(…)) or '}'";
template <> inline constexpr const char* errors::message<config_end> = "expected a config entry (KEY = expr) or '}'";
template <> inline constexpr const char* errors::message<model_end> = "expected a model statement (config { … }, config from \"file\", NAME = expr) or '}'";
template <> inline constexpr const char* errors::message<config_what> = "expected '{' or 'from \"config.json\"' after 'config'";
template <> inline constexpr const char* errors::message<alias_target> = "expected the name of the kernel the alias stands for";
template <> inline constexpr const char* errors::message<model_name> = "expected a model name such as meta-llama/Llama-2-7b-hf";
template <> inline constexpr const char* errors::message<eof> = "expected a declaration (import, metric, runtime, kernel, alias, model, property, hardware, every leaf or engine)";
template <> inline constexpr const char* errors::message<domain_type> = "expected a domain type: int or rational, as in `runtime seq_len: int >= 1 = 1`";
template <> inline constexpr const char* errors::message<style_name> = "expected a metric style: si, count or time";
template <> inline constexpr const char* errors::message<property_name> = "expected a hardware property after 'hw.', such as hw.mem_bw";
template <> inline constexpr const char* errors::message<combine_name> = "expected how the metric combines: sum or max";
template <> inline constexpr const char* errors::message<hardware_end> = "expected a hardware entry (PROPERTY = number \"note\"), doc, source or '}'";
template <> inline constexpr const char* errors::message<hardware_name> = "expected a hardware name such as h100-sxm";
template <> inline constexpr const char* errors::message<hardware_body> = "expected '{' to open the hardware description";
template <> inline constexpr const char* errors::message<kw_leaf> = "expected 'leaf' in `every leaf { … }`";
template <> inline constexpr const char* errors::message<engine_to> = "expected the kernel the engine runs instead, such as vllm.model_executor.models.llama.LlamaForCausalLM";
template <> inline constexpr const char* errors::message<engine_end> = "expected an engine entry (TRANSFORMERS_KERNEL = ENGINE_KERNEL) or '}'";
template <> inline constexpr const char* errors::message<engine_body> = "expected '{' to open the engine's entries";
template <> inline constexpr const char* errors::message<end_of_expr> = "unexpected text after the expression";
// clang-format on

template <typename Rule>
using control = tao::pegtl::must_if<errors, tao::pegtl::normal, true>::control<Rule>;

}  // namespace costi::grammar
