// The evaluator: runs a checked Program and returns the exact cost tree.
//
// Owns: evaluating expressions over resolved slots, calling kernels (binding arguments
// and defaults, rebinding runtime variables for a subtree), multiplying by counts (a
// count is a multiplication, never a loop), and reporting evaluation errors with the chain
// of calls. Does not own names (resolved by the checker) or formatting (repl/ reports).
#pragma once

#include <csignal>
#include <string>
#include <unordered_map>
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

// A call's total in one metric: count × cost for a summed metric; for a `combine max`
// metric (a peak) its cost, whatever the count (0 when the call is made 0 times).
inline Number total_of(const Metric& metric, const Number& count, const Number& cost) {
    if (metric.combine_max) return count.is_zero() ? Number(0) : cost;
    return count * cost;
}

// The values a run sees: one per runtime variable and one per interned config key
// (absent where the model does not set the key).
struct Environment {
    std::vector<Value> runtime;
    std::vector<Value> config;
    const Hardware* hardware = nullptr;  // what hw.PROPERTY reads; none when no hardware is selected
    const Engine* engine = nullptr;      // the execution a model runs under; none: its kernels as written
    // How the execution was chosen when the run named none: "" (named, or no device), else a
    // note for the report ("the default with a device", or why the default could not run).
    std::string engine_note;
};

// Bounds on one evaluation, each refused with a clear error (E0210) rather than left to run
// out of time or memory. Calls with identical arguments and runtime values are evaluated
// once (memoised) wherever their subtree is not kept, so shared structure is cheap: the
// limits bite only on inputs that really make that many distinct calls or rows.
struct EvalLimits {
    std::uint64_t max_calls = 10'000'000;  // kernel bodies evaluated (memo hits are free)
    std::size_t max_nodes = 1'000'000;     // calls kept in the cost tree for the reports
    // Arithmetic on numbers beyond 64 bits costs time in their size: the operands' sizes,
    // in 64-bit words, summed over the evaluation (a few seconds of the largest numbers).
    std::uint64_t max_big_words = 10'000'000;
};

class Evaluator {
public:
    // Evaluation polls this flag (set by a SIGINT handler) at every call and stops with
    // "interrupted" when it is non-zero; null (the default) never interrupts.
    static void set_interrupt_flag(const volatile std::sig_atomic_t* flag) { interrupt_ = flag; }

    Evaluator(const Program& program, Environment env, EvalLimits limits = {})
        : program_(program), env_(std::move(env)), limits_(limits) {}

    // Evaluates one call site (arguments in `caller` slots) into a cost tree, keeping
    // `keep_depth` levels of calls below it (-1: all). Deeper calls still count in every
    // total; they are only not kept as nodes. Throws CostiError.
    CostNode call(const CallSite& site, const std::vector<Value>& caller, int keep_depth = -1);

    // The same evaluation keeping only the root's cost (no children): what sweeps and
    // expressions on totals need. Throws CostiError.
    CostNode totals(const CallSite& site, const std::vector<Value>& caller);

    // Evaluates an expression over `locals`. Throws CostiError.
    Value value(const CExpr& e, const std::vector<Value>& locals);

    const Environment& environment() const { return env_; }

    // The config keys the model does not set whose literal default `config.KEY ?? VALUE` the
    // evaluation used, each once with the value, in order of first use: the last key of a
    // chain (`config.n_embed ?? (config.hidden_size ?? 64)` notes hidden_size when both are
    // absent), not a default derived from other values (`config.head_dim ?? H // heads`), and
    // only in calls made at least once (a branch evaluated with count 0 uses no default),
    // outside `require` conditions (`(config.head_dim ?? 0) != 0` checks, it uses nothing).
    // `costi run --config` reports them. Recorded only after note_defaults(): the bookkeeping
    // (a scope around every comparison, no memo inside calls made 0 times) stays off the
    // path of every other evaluation.
    const std::vector<std::pair<std::uint32_t, Value>>& defaulted() const { return defaulted_; }
    void note_defaults() { note_defaults_ = true; }

    // Binds a runtime variable for the evaluations that follow (the caller checks its
    // domain). Memoised results stay valid: each is keyed by the values its subtree reads.
    void rebind(std::uint32_t runtime, Value v) { env_.runtime[runtime] = std::move(v); }

private:
    struct MemoKey {
        const Kernel* kernel = nullptr;
        std::vector<Value> values;  // the parameters, then every runtime variable
        std::size_t hash = 0;
        bool operator==(const MemoKey& o) const;
    };
    struct MemoHash {
        std::size_t operator()(const MemoKey& k) const { return k.hash; }
    };

    CostNode invoke(const CallSite& site, const std::vector<Value>& caller, int keep_depth);
    void run_body(const Kernel& k, std::vector<Value>& locals, CostNode& node, int keep_depth);
    Value eval(const CExpr& e, const std::vector<Value>& locals, bool allow_absent);
    std::string inputs_of(const CExpr& cond, const Kernel& k, const std::vector<Value>& locals) const;
    [[noreturn]] void fail(const char* code, const Span& span, std::string message, std::string hint = "");

    const Program& program_;
    Environment env_;
    EvalLimits limits_;
    void charge(const Number& a, const Number& b, const Span& span);
    std::uint64_t calls_ = 0;
    std::uint64_t big_words_ = 0;
    std::size_t nodes_ = 0;
    std::unordered_map<MemoKey, std::vector<Number>, MemoHash> memo_;
    std::vector<std::pair<std::uint32_t, Value>> defaulted_;  // see defaulted()
    bool note_defaults_ = false;  // see note_defaults()
    int zero_depth_ = 0;       // > 0 inside a call made 0 times: its defaults are not noted
    bool in_require_ = false;  // evaluating a require: its fallbacks are sentinels, not noted
    void note_default(const CExpr& e, const Value& used);
    const std::vector<Number>* leaf_cost_ = nullptr;  // the leaf call being run: what metric names read
    static inline const volatile std::sig_atomic_t* interrupt_ = nullptr;
};

// Builds the environment of a model: runtime values from `overrides`, else the model's
// defaults, else the declared defaults (in declaration order, so kv_bytes follows
// a_bytes); config from the model's entries then `config_overrides`. Throws CostiError.
Environment model_environment(const Program& program, const Model& model,
                              const std::vector<std::pair<std::string, Value>>& model_config,
                              const std::vector<std::pair<std::uint32_t, Value>>& runtime_overrides);

}  // namespace costi::interp
