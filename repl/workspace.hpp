// The state of one REPL session and the operations that change it.
//
// Owns: the interpreter Session, the chosen model, the session's bindings (runtime
// variables and config values, kept as interp::Overrides exactly as `costi run` takes
// them), the session's lets, and the `<repl:N>` source file of every input. Every
// operation either succeeds or throws CostiError and leaves this state as it was. Costs
// come only from Session and Evaluator, the same code path as `costi run`.
// Does not own reading lines (line_reader) or printing (commands, explain, sweep).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "interpreter/diagnostics.hpp"
#include "interpreter/session.hpp"
#include "repl/human.hpp"
#include "repl/input.hpp"

namespace costi::repl {

// A session name: `let NAME = expr`. A let is a formula, evaluated under the bindings in
// force each time it is used (like a kernel's let), so `let ai = flops / (read + write)`
// follows every rebinding.
struct Let {
    std::string name;
    std::shared_ptr<const interp::ast::Expr> expr;
};

// Where a value listed by :bindings comes from.
enum class Origin { declared, model, file, session };

struct BoundValue {
    std::string name;     // "seq_len", "config.hidden_size"
    interp::Value value;  // absent for a config key no one sets
    Origin origin = Origin::declared;
    std::string detail;  // the default's formula, the file a config value comes from, …
};

class Workspace {
public:
    Workspace();

    interp::Session& session() { return session_; }
    const interp::Session& session() const { return session_; }
    const interp::Program& program() const { return session_.program(); }

    // ---- inputs
    // Keeps the text of an input that began on session line `line` as source `<repl:line>`.
    const interp::SourceFile& add_input(std::size_t line, std::string text);
    // Parses `r` of an input as one expression. Throws CostiError (spans point into the input).
    interp::ast::ExprPtr parse(const interp::SourceFile& input, Range r);
    // Points the spans of diagnostics at the inputs the user typed (parse() works on copies).
    void restore_spans(interp::CostiError& e) const;

    // ---- files and the model
    // Loads a file; keeps the current model, or picks the file's only model when there is none.
    // Returns the names of the models the file added.
    std::vector<std::string> load_file(const std::string& path);
    // Loads declarations typed in the REPL (kernel, alias, metric, runtime, model, import).
    void load_text(const interp::SourceFile& input);
    // Loads the built-in kernels and takes the model from a Hugging Face config.json.
    void use_config_json(const std::string& path);
    // Chooses the model by name (empty: the only model of the first file loaded).
    void select_model(const std::string& name);
    const interp::Model* model() const { return model_; }
    // The config.json the model came from (--config), or empty.
    const std::string& config_json() const { return json_path_; }

    // ---- bindings
    const interp::Overrides& overrides() const { return overrides_; }
    // The overrides with `name` (a runtime variable or config.KEY) bound to `value`, checked
    // like a binding: a runtime variable's value must lie in its domain (E0209), a config
    // key must be one some kernel reads or the model sets (E0112, as `costi run --set`).
    // Throws CostiError at `where`.
    interp::Overrides with_binding(const std::string& name, const interp::Value& value,
                                   const interp::Span& where) const;
    void bind(const std::string& name, const interp::Value& value, const interp::Span& where);
    // Removes a session binding or let; false when `name` is valid but not bound.
    bool unset(const std::string& name, const interp::Span& where);
    void unset_all_bindings();
    // Selects the execution: "transformers" (or empty) for the kernels as written, else an
    // engine the files declare or the library's kernels/NAME/NAME.cost. Throws CostiError (E0118).
    void use_engine(const std::string& name);
    // Selects the hardware (a library name or a .cost file declaring one; loaded if new);
    // empty for none. Throws CostiError (E0116) with "did you mean".
    void use_hardware(const std::string& name);
    const std::vector<Let>& lets() const { return lets_; }
    // Defines or redefines a let (a redefinition keeps its place). Returns its value now.
    interp::Value define_let(const std::string& name, interp::ast::ExprPtr expr, const interp::Span& where);

    // Every runtime variable, then every config key the model or session sets, with origins.
    std::vector<BoundValue> bound_values() const;

    // ---- evaluation
    // The environment the current bindings give (with the model's config and defaults).
    interp::Environment environment() const;
    // Runs the model under the current bindings (or `overrides`). Throws CostiError.
    interp::CostNode run() const { return run(overrides_); }
    // The current model's totals only (no tree): sweeps and expressions on totals.
    interp::CostNode totals(const interp::Overrides& overrides) const;
    interp::CostNode run(const interp::Overrides& overrides) const;

    // An evaluated input: a value, or a kernel call's cost tree.
    struct Answer {
        interp::Value value;
        std::optional<interp::CostNode> call;
        std::string unit;  // the metric's unit ("B") when the expression is just a metric's name
        report::Style style = report::Style::si;  // and how its compact form is written
    };
    // Evaluates an expression with the metrics (the model's totals) and the first
    // `visible_lets` lets in scope (all when omitted). Throws CostiError.
    Answer evaluate(const interp::ast::Expr& expr, std::optional<std::size_t> visible_lets = std::nullopt);
    // One kernel call evaluated under the current bindings.
    struct CallAnswer {
        const interp::Kernel* kernel = nullptr;
        interp::CostNode node;
        std::vector<interp::Value> runtime;  // the runtime values it ran with
        std::string text;                    // the call as written, on one line
    };
    // Compiles and evaluates `$Kernel(args)` of an input. Throws CostiError.
    CallAnswer evaluate_call(const interp::ast::Expr& call);

    // Refuses (E0209) a value outside the domain of runtime variable `name`; the hint says
    // what the variable is. Does nothing for a name that is no runtime variable.
    void check_domain(const std::string& name, const interp::Value& value, const interp::Span& where) const;

    // "no model is loaded" with a hint naming the models known; `what` says what needed one.
    [[noreturn]] void no_model(const interp::Span& where, const std::string& what) const;

private:
    std::vector<std::string> scope_names(std::size_t visible_lets) const;
    std::vector<interp::Value> locals_for(const interp::CExpr& expr, std::size_t visible_lets);
    void refresh_model();
    // What :model, :hw, :engine and :unset change. Each keeps its change only when the
    // bindings still evaluate under it (environment()): `tp = 4` bound under the vLLM
    // execution makes `:engine transformers` fail (E0213) and leaves the session as it was,
    // so every state a session reaches can run.
    struct Selection {
        interp::Overrides overrides;
        const interp::Model* model = nullptr;
        std::string model_name;
        std::string json_path;
    };
    Selection selection() const { return {overrides_, model_, model_name_, json_path_}; }
    void keep_if_evaluable(const Selection& before);
    // After a load that brought the only model of a session without one: makes it current
    // when its bindings evaluate, else leaves no model current (the load itself succeeded).
    void select_if_evaluable(const std::string& name);

    interp::Session session_;
    interp::SourceSet inputs_;
    std::unordered_map<const interp::SourceFile*, const interp::SourceFile*> copies_;  // parse copy -> input
    std::string model_name_;  // empty: no model, or the config.json model
    std::string json_path_;
    const interp::Model* model_ = nullptr;  // re-found after every load (a load rechecks)
    interp::Overrides overrides_;
    std::vector<Let> lets_;
};

// The text of a span as written, on one line (comments dropped, white space collapsed).
std::string source_text(const interp::Span& span);

}  // namespace costi::repl
