// The checked program: what the evaluator runs.
//
// Owns: kernels, models, metrics and runtime variables with every name already resolved
// to an index (a local slot, a runtime variable, a config key, a kernel, a metric), so
// evaluation never looks a name up by string. Built by the checker, read by the evaluator
// and the reports. Does not own the AST it came from (spans point into SourceFiles).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "interpreter/ast.hpp"
#include "interpreter/domain.hpp"
#include "interpreter/value.hpp"

namespace costi::interp {

// A built-in function, in the order of ast::function_names. one_of(x, a, …) is 1 when x
// equals (==) one of a, …, else 0.
enum class Fn : unsigned char { min, max, floor, ceil, abs, one_of };
static_assert(ast::function_names.size() == static_cast<std::size_t>(Fn::one_of) + 1);

struct CallSite;

// A compiled expression. `index` means: the local slot (local), the runtime variable
// (runtime), the config key (config), the hardware property (hardware: hw.PROPERTY) or
// the metric (metric: the value the current leaf call has so far, in `every leaf`), as
// resolved by the checker.
struct CExpr {
    enum class Kind : unsigned char { constant, local, runtime, config, hardware, metric, unary, binary, function, cond, call };
    Kind kind = Kind::constant;
    ast::Op op = ast::Op::add;
    Fn fn = Fn::min;
    std::uint32_t index = 0;
    Value constant;
    std::vector<CExpr> args;
    std::shared_ptr<CallSite> call;  // kind == call (REPL: a kernel call as a value)
    Span span;
};

struct Kernel;

// A call of a kernel with its arguments resolved to the callee's parameter slots.
struct CallSite {
    const Kernel* kernel = nullptr;
    std::string label;
    Span span;                                          // the call text `$Name(…)`
    std::optional<CExpr> count;                         // `repeat count`; none means 1
    std::vector<std::optional<CExpr>> args;             // per callee parameter; none: use its default
    std::vector<std::pair<std::uint32_t, CExpr>> with;  // runtime variable -> value
};

struct Param {
    std::string name;
    Span span;
    std::optional<CExpr> default_value;  // evaluated in the callee, after earlier parameters
};

// One statement of a kernel body, in source order.
struct Step {
    enum class Kind : unsigned char { let, assign, child, require };
    Kind kind = Kind::let;
    std::uint32_t index = 0;  // let: local slot; assign: metric; child: index into children;
                              // require: index into Kernel::requirements
    CExpr value;              // let / assign / require (the condition)
};

// Evaluation and the reports follow calls recursively, one stack frame per level, so the
// checker refuses kernels whose calls nest deeper than this (real models nest under 10).
inline constexpr std::size_t max_call_depth = 256;

struct Kernel {
    std::string name;
    Span name_span;
    std::vector<Param> params;
    std::unordered_map<std::string, std::uint32_t> param_slot;  // parameter name -> index
    std::vector<std::string> local_names;  // parameters first, then lets
    std::vector<Span> local_spans;
    std::vector<Step> steps;
    std::vector<CallSite> children;
    std::vector<std::string> requirements;      // messages of `require COND "message"`
    std::vector<std::optional<Span>> assigned;  // per metric: where this kernel assigns it
    std::vector<const ast::Expr*> formulas;     // per metric: the assignment's AST (for explain)
    std::string source;
    std::string doc;
    // The runtime variables a call's cost can depend on (read here or anywhere below, less
    // what a `with` rebinds for a subtree), sorted: memoisation keys on these alone, so a
    // subtree that ignores cache_len is evaluated once across a request's decode steps.
    std::vector<std::uint32_t> reads;
    bool is_leaf() const { return children.empty(); }
};

struct Metric {
    std::string name;
    std::string description;
    std::string unit;
    Span span;
    std::string style = "si";  // how reports abbreviate: "si" (K M G T P E), "count" (K M B T), "time" (ms µs)
    bool combine_max = false;  // a call's value is the largest of its children's, not their sum
};

// A value hardware descriptions may give (`property`), read as hw.NAME.
struct Property {
    std::string name;
    std::string description;
    std::string unit;
    Span span;
};

// A `hardware` description: one value (or absent) per property, each with its note.
struct Hardware {
    std::string name;
    Span name_span;
    std::string doc;
    std::vector<std::string> sources;
    std::vector<Value> values;       // per property; absent where the description gives none
    std::vector<std::string> notes;  // per property: where the value comes from
    std::vector<Span> spans;         // per property: where it was written
    const SourceFile* file = nullptr;
};

// An execution other than the kernels' own (`engine vllm { … }`): for each model entry kernel
// it models, the kernel it runs instead (same parameters). "transformers" — the library's
// kernels as they are — is the built-in execution and has no declaration.
struct Engine {
    std::string name;
    std::string doc;
    Span span;  // the first declaration
    std::unordered_map<const Kernel*, const Kernel*> runs;
    std::unordered_map<const Kernel*, Span> where;  // where each entry was written
};

struct Runtime {
    std::string name;
    Span span;
    CExpr default_value;  // may use runtime variables declared before it
    Domain domain;        // every binding is checked against it
    std::string doc;
};

struct Model {
    std::string name;
    Span name_span;
    CallSite entry;
    std::vector<std::pair<std::string, Span>> config_files;  // `config from "x.json"`, in order
    std::vector<std::pair<std::string, Value>> config;       // `config { … }` entries, in order
    std::vector<std::pair<std::string, Span>> config_spans;  // where each block entry was written
    std::vector<std::pair<std::uint32_t, CExpr>> defaults;   // runtime variable -> value
    std::string doc;
    std::string source;
    const SourceFile* file = nullptr;
};

struct Program {
    std::vector<Metric> metrics;
    std::vector<Runtime> runtimes;
    std::vector<std::unique_ptr<Kernel>> kernels;                   // stable addresses
    std::unordered_map<std::string, const Kernel*> kernel_by_name;  // kernels and aliases
    std::vector<std::pair<std::string, std::string>> aliases;       // name -> target
    std::vector<std::unique_ptr<Model>> models;
    std::vector<std::string> config_keys;  // config key id -> "hidden_size" / "rope_scaling.factor"
    std::unordered_map<std::string, std::uint32_t> config_id;
    std::unordered_map<std::string, std::uint32_t> runtime_id;  // name -> index into runtimes
    std::unordered_map<std::string, std::uint32_t> metric_id;   // name -> index into metrics
    std::vector<Property> properties;
    std::unordered_map<std::string, std::uint32_t> property_id;  // name -> index into properties
    std::vector<std::unique_ptr<Hardware>> hardware;              // stable addresses
    bool has_every_leaf = false;
    std::vector<std::unique_ptr<Engine>> engines;  // an `every leaf` block was appended to every leaf kernel

    const Kernel* find_kernel(const std::string& name) const {
        auto it = kernel_by_name.find(name);
        return it == kernel_by_name.end() ? nullptr : it->second;
    }
    std::optional<std::uint32_t> find_runtime(const std::string& name) const {
        auto it = runtime_id.find(name);
        if (it == runtime_id.end()) return std::nullopt;
        return it->second;
    }
    std::optional<std::uint32_t> find_metric(const std::string& name) const {
        auto it = metric_id.find(name);
        if (it == metric_id.end()) return std::nullopt;
        return it->second;
    }
    const Engine* find_engine(const std::string& name) const {
        for (const auto& e : engines)
            if (e->name == name) return e.get();
        return nullptr;
    }
    const Hardware* find_hardware(const std::string& name) const {
        for (const auto& h : hardware)
            if (h->name == name) return h.get();
        return nullptr;
    }
    // The id of a config key, adding it if new (keys are interned once, at check time).
    std::uint32_t intern_config(const std::string& key) {
        auto [it, added] = config_id.emplace(key, static_cast<std::uint32_t>(config_keys.size()));
        if (added) config_keys.push_back(key);
        return it->second;
    }
};

}  // namespace costi::interp
