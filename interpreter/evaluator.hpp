// The evaluator: runs a checked Program and returns the exact cost tree.
//
// Owns: evaluating expressions over resolved slots, calling kernels (binding arguments
// and defaults, rebinding runtime variables for a subtree), multiplying by counts (a
// count is a multiplication, never a loop), and reporting evaluation errors with the chain
// of calls. Does not own names (resolved by the checker) or formatting (repl/ reports).
#pragma once

#include <csignal>
#include <string>
#include <vector>

#include "interpreter/program.hpp"

namespace costi::interp {

// One call in the cost tree. `cost` is one call's cost per metric (its own formulas plus
// its children's totals); the node's total is count × cost.
struct CostNode {
    std::string label;
    const Kernel* kernel = nullptr;
    Number count{1};
    std::vector<Number> cost;
    std::vector<CostNode> children;
};

// The values a run sees: one per runtime variable and one per interned config key
// (absent where the model does not set the key).
struct Environment {
    std::vector<Value> runtime;
    std::vector<Value> config;
};

class Evaluator {
public:
    // Evaluation polls this flag (set by a SIGINT handler) at every call and stops with
    // "interrupted" when it is non-zero; null (the default) never interrupts.
    static void set_interrupt_flag(const volatile std::sig_atomic_t* flag) { interrupt_ = flag; }

    Evaluator(const Program& program, Environment env) : program_(program), env_(std::move(env)) {}

    // Evaluates one call site (arguments in `caller` slots) into a cost tree. Throws CostiError.
    CostNode call(const CallSite& site, const std::vector<Value>& caller);

    // The same evaluation keeping only the root's cost (no children): what sweeps and
    // expressions on totals need. Throws CostiError.
    CostNode totals(const CallSite& site, const std::vector<Value>& caller);

    // Evaluates an expression over `locals`. Throws CostiError.
    Value value(const CExpr& e, const std::vector<Value>& locals);

    const Environment& environment() const { return env_; }

private:
    CostNode invoke(const CallSite& site, const std::vector<Value>& caller);
    Value eval(const CExpr& e, const std::vector<Value>& locals, bool allow_absent);
    [[noreturn]] void fail(const char* code, const Span& span, std::string message, std::string hint = "");

    const Program& program_;
    Environment env_;
    bool keep_tree_ = true;
    static inline const volatile std::sig_atomic_t* interrupt_ = nullptr;
};

// Builds the environment of a model: runtime values from `overrides`, else the model's
// defaults, else the declared defaults (in declaration order, so kv_bytes follows
// a_bytes); config from the model's entries then `config_overrides`. Throws CostiError.
Environment model_environment(const Program& program, const Model& model,
                              const std::vector<std::pair<std::string, Value>>& model_config,
                              const std::vector<std::pair<std::uint32_t, Value>>& runtime_overrides);

}  // namespace costi::interp
