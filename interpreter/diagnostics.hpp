// Diagnostics: errors as people read them.
//
// Owns: the Diagnostic record (stable code, span, message, hint, call chain) and its
// rendering in the clang/rustc style:
//   file:line:col: error: message [E0102]
//      12 |   up: $F.linear(M = B*S, kdim = H, N = I)
//         |                          ^~~~
//   hint: did you mean 'K'?
//     in $LlamaMLP  kernels/llama.cost:8:3
// Does not own: deciding what is an error (grammar, checker, evaluator do that).
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "interpreter/source.hpp"

namespace costi::interp {

// Stable error codes; tests assert these, golden files hold the full text.
namespace code {
inline constexpr const char* syntax = "E0001";           // text does not parse
inline constexpr const char* io = "E0002";               // a file cannot be read / import not found
inline constexpr const char* unknown_kernel = "E0101";   // $Name of no kernel
inline constexpr const char* unknown_param = "E0102";    // k = v for no parameter k
inline constexpr const char* duplicate_arg = "E0103";    // the same parameter bound twice
inline constexpr const char* missing_arg = "E0104";      // a required parameter not bound
inline constexpr const char* unbound_name = "E0105";     // a name with no binding in scope
inline constexpr const char* duplicate_def = "E0106";    // a kernel, alias, metric, ... defined twice
inline constexpr const char* recursion = "E0107";        // kernels that call themselves
inline constexpr const char* unknown_metric = "E0108";   // an assignment to an undeclared name
inline constexpr const char* duplicate_local = "E0109";  // label, let, parameter or assignment twice
inline constexpr const char* not_runtime = "E0110";      // `with (x = …)` for a non-runtime x
inline constexpr const char* bad_model = "E0111";        // model problems (no model, unknown one, …)
inline constexpr const char* unknown_config_key = "E0112";  // --set / REPL binding of a key nothing reads
inline constexpr const char* bad_domain_decl = "E0113";  // a domain declaration that is malformed
inline constexpr const char* too_deep = "E0114";         // calls nested beyond the documented limit
inline constexpr const char* too_many_errors = "E0115";  // the checker stopped collecting
inline constexpr const char* bad_hardware = "E0116";     // hardware: unknown property, bad value, unknown name
inline constexpr const char* bad_every_leaf = "E0117";   // `every leaf` problems (two blocks, a child call)
inline constexpr const char* bad_engine = "E0118";       // engines: unknown name, a family it does not model, a mismatch
inline constexpr const char* division_by_zero = "E0201";
inline constexpr const char* bad_count = "E0202";      // a count that is no non-negative integer
inline constexpr const char* bad_power = "E0203";      // a power that cannot be computed
inline constexpr const char* type_error = "E0204";     // a string where a number is needed, …
inline constexpr const char* absent_config = "E0205";  // config.KEY not set by the model
inline constexpr const char* bad_value = "E0206";      // a non-integer where an integer is needed, …
inline constexpr const char* requirement = "E0207";    // a kernel's `require` does not hold
inline constexpr const char* interrupted = "E0208";    // Ctrl-C during an evaluation
inline constexpr const char* bad_domain = "E0209";     // a runtime value outside its variable's domain
inline constexpr const char* too_large = "E0210";      // a number or an evaluation beyond the limits
inline constexpr const char* absent_hardware = "E0211";  // hw.PROPERTY with no hardware selected, or one that lacks it
inline constexpr const char* not_compilable = "E0212";   // what the compile stage cannot express in closed form
inline constexpr const char* unmodelled_layout = "E0213";  // a parallel degree the model's execution does not model
inline constexpr const char* bad_json = "E0301";       // config.json problems
}  // namespace code

// One entry of an evaluation error's call chain, innermost first.
struct ChainFrame {
    std::string what;  // "$transformers.models.llama.modeling_llama.LlamaMLP" or "model gpt2"
    Span span;         // where that call is written
};

struct Diagnostic {
    std::string code;
    Span span;
    std::string message;
    std::string hint;  // at most one; empty for none
    std::vector<ChainFrame> chain;
};

// "file:line:col" of a span's start ("<built-in>" for spans without a file).
std::string location(const Span& s);

// Renders one diagnostic (with a trailing newline). The file name is as the user gave it.
std::string render(const Diagnostic& d);

// Thrown by parsing, loading and evaluation; the checker collects a vector instead.
class CostiError : public std::runtime_error {
public:
    explicit CostiError(Diagnostic d) : std::runtime_error(d.message), diags_{std::move(d)} {}
    explicit CostiError(std::vector<Diagnostic> ds)
        : std::runtime_error(ds.empty() ? "error" : ds.front().message), diags_(std::move(ds)) {}
    const std::vector<Diagnostic>& diagnostics() const { return diags_; }
    std::vector<Diagnostic>& diagnostics() { return diags_; }

private:
    std::vector<Diagnostic> diags_;
};

}  // namespace costi::interp
