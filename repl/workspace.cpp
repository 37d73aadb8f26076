// The REPL session's state: model, bindings, lets, inputs.
#include "repl/workspace.hpp"

#include <algorithm>

#include "grammar/parse.hpp"
#include "interpreter/checker.hpp"
#include "interpreter/diagnostics.hpp"
#include "interpreter/suggest.hpp"
#include "repl/model_lookup.hpp"
#include "repl/present.hpp"
#include "repl/report.hpp"

namespace costi::repl {

using interp::CostiError;
using interp::Diagnostic;
using interp::Span;
using interp::Value;
namespace code = interp::code;

namespace {

[[noreturn]] void fail(const char* c, const Span& span, std::string message, std::string hint = "") {
    throw CostiError(Diagnostic{c, span, std::move(message), std::move(hint), {}});
}

// Marks the local slots an expression reads; remembers where it first reads a metric.
void mark(const interp::CExpr& e, std::size_t metrics, std::vector<bool>& need, std::optional<Span>& metric_use,
          std::uint32_t& metric_index) {
    if (e.kind == interp::CExpr::Kind::local && e.index < need.size()) {
        need[e.index] = true;
        if (e.index < metrics && !metric_use) {
            metric_use = e.span;
            metric_index = e.index;
        }
    }
    for (const auto& a : e.args) mark(a, metrics, need, metric_use, metric_index);
    if (e.call) {
        for (const auto& a : e.call->args) {
            if (a) mark(*a, metrics, need, metric_use, metric_index);
        }
    }
}

// Expressions typed in the REPL are compiled against the live program, and compiling
// interns the config keys they name. They are not part of the program, so the keys an
// answer added are taken back when it is done, whether it succeeded or failed: after
// `config.nope ?? 1` (or a failed `config.nope`), `config.nope = 5` is still refused.
class TransientKeys {
public:
    explicit TransientKeys(interp::Program& p) : program_(p), before_(p.config_keys.size()) {}
    ~TransientKeys() {
        for (std::size_t i = before_; i < program_.config_keys.size(); ++i)
            program_.config_id.erase(program_.config_keys[i]);
        program_.config_keys.resize(before_);
    }
    TransientKeys(const TransientKeys&) = delete;
    TransientKeys& operator=(const TransientKeys&) = delete;

private:
    interp::Program& program_;
    std::size_t before_;
};

bool is_reserved(const std::string& name) {
    static const std::vector<std::string> words = {"and", "or", "not", "if", "then", "else", "true", "false"};
    return std::find(words.begin(), words.end(), name) != words.end();
}

}  // namespace

std::string source_text(const Span& span) {
    if (span.file == nullptr || span.end <= span.begin) return "";
    std::string_view text = std::string_view(span.file->text()).substr(span.begin, span.end - span.begin);
    std::string out;
    bool pending_space = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (c == '#') {
            while (i < text.size() && text[i] != '\n') ++i;
            pending_space = true;
            continue;
        }
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            pending_space = true;
            continue;
        }
        if (pending_space && !out.empty()) out += ' ';
        pending_space = false;
        if (c == '"') {
            std::size_t j = i + 1;
            while (j < text.size() && text[j] != '"') j += text[j] == '\\' ? 2 : 1;
            out.append(text.substr(i, std::min(j, text.size() - 1) - i + 1));
            i = j;
            continue;
        }
        out += c;
    }
    return out;
}

Workspace::Workspace() = default;

const interp::SourceFile& Workspace::add_input(std::size_t line, std::string text) {
    return *inputs_.add("<repl:" + std::to_string(line) + ">", std::move(text));
}

interp::ast::ExprPtr Workspace::parse(const interp::SourceFile& input, Range r) {
    // Parse a copy in which everything outside `r` is blank: byte offsets and lines stay
    // those of the input, and restore_spans() points diagnostics back at the input itself.
    std::string copy = input.text();
    for (std::size_t i = 0; i < copy.size(); ++i) {
        if ((i < r.begin || i >= r.end) && copy[i] != '\n') copy[i] = ' ';
    }
    const interp::SourceFile* file = inputs_.add(input.name(), std::move(copy));
    copies_[file] = &input;
    return grammar::parse_expression(*file);
}

void Workspace::restore_spans(CostiError& e) const {
    auto fix = [&](Span& s) {
        auto it = copies_.find(s.file);
        if (it != copies_.end()) s.file = it->second;
    };
    for (auto& d : e.diagnostics()) {
        fix(d.span);
        for (auto& f : d.chain) fix(f.span);
    }
}

void Workspace::refresh_model() {
    // A model of a .cost file lives in the Program a load replaces: find it again by name.
    // A config.json model belongs to the Session, which points it at the new Program.
    if (json_path_.empty()) model_ = model_name_.empty() ? nullptr : &session_.pick_model(model_name_);
}

std::vector<std::string> Workspace::load_file(const std::string& path) {
    std::vector<std::string> before;
    for (const auto& m : program().models) before.push_back(m->name);
    session_.load_file(path);
    refresh_model();
    std::vector<std::string> added;
    for (const auto& m : program().models) {
        if (std::find(before.begin(), before.end(), m->name) == before.end()) added.push_back(m->name);
    }
    if (model_ == nullptr && added.size() == 1) select_if_evaluable(added.front());
    return added;
}

void Workspace::load_text(const interp::SourceFile& input) {
    std::size_t before = program().models.size();
    session_.load_text(input.name(), input.text());
    refresh_model();
    if (model_ == nullptr && program().models.size() == before + 1) select_if_evaluable(program().models.back()->name);
}

void Workspace::select_if_evaluable(const std::string& name) {
    try {
        select_model(name);
    } catch (const CostiError&) {
        // The load stands; the model stays a choice (`:model NAME` reports why it cannot run).
    }
}

void Workspace::use_config_json(const std::string& path) {
    Selection before = selection();
    session_.load_library();
    refresh_model();
    model_ = &session_.model_from_config_json(path);
    json_path_ = path;
    model_name_.clear();
    keep_if_evaluable(before);
}

void Workspace::select_model(const std::string& name) {
    const interp::Model& m = session_.pick_model(name);
    Selection before = selection();
    model_ = &m;
    model_name_ = m.name;
    json_path_.clear();
    keep_if_evaluable(before);
}

void Workspace::keep_if_evaluable(const Selection& before) {
    try {
        (void)environment();
    } catch (CostiError& e) {
        overrides_ = before.overrides;
        model_name_ = before.model_name;
        json_path_ = before.json_path;
        model_ = before.model;
        refresh_model();  // a .cost model is found again in the Program a load may have replaced
        for (auto& d : e.diagnostics()) {
            if (d.code == code::unmodelled_layout)
                d.hint = "the session is unchanged; :unset that variable first, or keep the execution that models it";
        }
        throw;
    }
}

void Workspace::no_model(const Span& at, const std::string& what) const {
    std::vector<std::string> names;
    for (const auto& m : program().models) names.push_back(m->name);
    fail(code::bad_model, at, what + ", but no model is loaded",
         names.empty() ? "load one with :load FILE (e.g. :load gpt2)"
                       : "choose one with :model NAME (models known here: " + interp::join(names) + ")");
}

void Workspace::use_hardware(const std::string& name) {
    Selection before = selection();
    if (name.empty()) {
        overrides_.hardware.clear();  // with no engine named, the execution becomes transformers
        keep_if_evaluable(before);
        return;
    }
    std::string declared;
    for (const auto& h : program().hardware) {
        if (h->name == name) declared = name;
    }
    if (declared.empty()) {
        std::filesystem::path path = cli::find_hardware(name);
        std::size_t before = program().hardware.size();
        session_.load_file(path.string());
        refresh_model();
        for (const auto& h : program().hardware) {
            if (h->name == name) declared = name;
        }
        if (declared.empty() && program().hardware.size() == before + 1) declared = program().hardware.back()->name;
        if (declared.empty()) {
            throw interp::CostiError(interp::Diagnostic{interp::code::bad_hardware, {},
                                                        "'" + name + "' declares no single hardware to use", "", {}});
        }
    }
    if (overrides_.engine.empty()) {
        cli::load_analysis_engine(session_);
        refresh_model();
    }
    overrides_.hardware = declared;
    keep_if_evaluable(before);
}

void Workspace::use_engine(const std::string& name) {
    Selection before = selection();
    if (name.empty() || name == "transformers") {
        overrides_.engine = "transformers";  // named: a device no longer picks the default
        keep_if_evaluable(before);
        return;
    }
    if (program().find_engine(name) == nullptr) {
        session_.load_file(cli::find_engine(name).string());
        refresh_model();
    }
    session_.pick_engine(name);  // the file declares it (else E0118)
    overrides_.engine = name;
    keep_if_evaluable(before);
}

interp::Environment Workspace::environment() const {
    return model_ != nullptr ? session_.environment(*model_, overrides_) : session_.base_environment(overrides_);
}

interp::CostNode Workspace::run(const interp::Overrides& overrides) const {
    if (model_ == nullptr) no_model({}, "this needs a model to run");
    return session_.run(*model_, overrides);
}

interp::CostNode Workspace::totals(const interp::Overrides& overrides) const {
    if (model_ == nullptr) no_model({}, "this needs a model to run");
    return session_.totals(*model_, overrides);
}

interp::Overrides Workspace::with_binding(const std::string& name, const Value& value, const Span& at) const {
    interp::Overrides ov = overrides_;
    const interp::Program& prog = program();
    if (name.rfind("config.", 0) == 0) {
        std::string key = name.substr(7);
        // The same check as `costi run --set`: a key some kernel reads or the model sets.
        try {
            session_.check_config_key(model_, key);
        } catch (CostiError& e) {
            for (auto& d : e.diagnostics()) {
                if (d.span.file == nullptr) d.span = at;
            }
            throw;
        }
        std::erase_if(ov.config, [&](const auto& e) { return e.first == key; });
        ov.config.emplace_back(key, value);
    } else {
        if (!prog.find_runtime(name)) {
            std::vector<std::string> names;
            for (const auto& r : prog.runtimes) names.push_back(r.name);
            std::string hint;
            bool is_let = std::any_of(lets_.begin(), lets_.end(), [&](const Let& l) { return l.name == name; });
            if (prog.find_metric(name)) {
                hint = "'" + name +
                       "' is a metric: the model computes it; bind runtime variables or config values instead";
            } else if (is_let) {
                hint = "'" + name + "' is a let of this session: redefine it with `let " + name + " = …`";
            } else if (auto best = interp::closest(name, names)) {
                hint = "did you mean '" + *best + "'?";
            } else if (prog.config_id.count(name) != 0) {
                hint = "config values are bound as config." + name + " = …";
            } else {
                hint = "runtime variables: " + interp::join(names) + "; to name a value of your own, write `let " +
                       name + " = …`";
            }
            fail(code::not_runtime, at, "'" + name + "' is not a runtime variable", hint);
        }
        if (!value.is_number())
            fail(code::type_error, at, "runtime variable '" + name + "' must be a number, got " + value.show());
        check_domain(name, value, at);
        std::erase_if(ov.runtime, [&](const auto& e) { return e.first == name; });
        ov.runtime.emplace_back(name, value);
    }
    // The model's own defaults are evaluated under the new value: check they still work.
    if (model_ != nullptr) {
        (void)session_.environment(*model_, ov);
    } else {
        (void)session_.base_environment(ov);
    }
    return ov;
}

void Workspace::check_domain(const std::string& name, const Value& value, const Span& at) const {
    auto index = program().find_runtime(name);
    if (!index) return;
    if (auto problem = interp::domain_problem(program(), *index, value)) {
        const interp::Runtime& r = program().runtimes[*index];
        fail(code::bad_domain, at, *problem, r.doc.empty() ? "" : name + ": " + r.doc);
    }
}

void Workspace::bind(const std::string& name, const Value& value, const Span& at) {
    overrides_ = with_binding(name, value, at);
}

void Workspace::unset_all_bindings() {
    Selection before = selection();
    overrides_ = interp::Overrides{{}, {}, overrides_.hardware, overrides_.engine};
    keep_if_evaluable(before);
}

bool Workspace::unset(const std::string& name, const Span& at) {
    Selection before = selection();
    bool removed = false;
    if (name.rfind("config.", 0) == 0) {
        std::string key = name.substr(7);
        removed = std::erase_if(overrides_.config, [&](const auto& e) { return e.first == key; }) > 0;
    } else {
        removed = std::erase_if(overrides_.runtime, [&](const auto& e) { return e.first == name; }) > 0;
    }
    if (removed) {
        // A model's defaults may have needed the value (a config key its own config lacks).
        keep_if_evaluable(before);
        return true;
    }
    auto let = std::find_if(lets_.begin(), lets_.end(), [&](const Let& l) { return l.name == name; });
    if (let != lets_.end()) {
        lets_.erase(let);
        return true;
    }
    if (program().find_runtime(name)) return false;
    if (name.rfind("config.", 0) == 0 && program().config_id.count(name.substr(7)) != 0) return false;
    std::vector<std::string> bound;
    for (const auto& [n, v] : overrides_.runtime) bound.push_back(n);
    for (const auto& [k, v] : overrides_.config) bound.push_back("config." + k);
    for (const auto& l : lets_) bound.push_back(l.name);
    auto best = interp::closest(name, bound);
    fail(code::unbound_name, at, "nothing named '" + name + "' is bound in this session",
         best ? "did you mean '" + *best + "'?"
              : (bound.empty() ? "nothing is bound yet; :bindings lists every value and where it comes from"
                               : "bound now: " + interp::join(bound)));
}

Value Workspace::define_let(const std::string& name, interp::ast::ExprPtr expr, const Span& at) {
    const interp::Program& prog = program();
    if (prog.find_runtime(name)) {
        fail(code::duplicate_local, at, "'" + name + "' is a runtime variable",
             "bind it with `" + name + " = …`; a let names a value of its own");
    }
    if (prog.find_metric(name)) {
        fail(code::duplicate_local, at, "'" + name + "' is a metric: it names the model's total",
             "choose another name for the let");
    }
    if (is_reserved(name)) fail(code::syntax, at, "'" + name + "' is a keyword and cannot name a let");
    auto saved = lets_;
    auto it = std::find_if(lets_.begin(), lets_.end(), [&](const Let& l) { return l.name == name; });
    std::size_t pos = static_cast<std::size_t>(it - lets_.begin());
    Let let{name, std::shared_ptr<const interp::ast::Expr>(std::move(expr))};
    if (it != lets_.end()) {
        *it = let;
    } else {
        lets_.push_back(let);
    }
    try {
        Answer a = evaluate(*let.expr, pos);
        if (a.call) {
            fail(code::type_error, let.expr->span, "a let names one value, but a kernel call has one value per metric",
                 "evaluate the call on its own line to see its metrics");
        }
        return a.value;
    } catch (...) {
        lets_ = std::move(saved);
        throw;
    }
}

std::vector<std::string> Workspace::scope_names(std::size_t visible_lets) const {
    std::vector<std::string> names;
    for (const auto& m : program().metrics) names.push_back(m.name);
    for (std::size_t i = 0; i < visible_lets && i < lets_.size(); ++i) names.push_back(lets_[i].name);
    return names;
}

Workspace::Answer Workspace::evaluate(const interp::ast::Expr& expr, std::optional<std::size_t> visible_lets) {
    std::size_t visible = std::min(visible_lets.value_or(lets_.size()), lets_.size());
    interp::Program& prog = session_.program();
    TransientKeys keys(prog);
    interp::CExpr c = interp::compile_expression(prog, expr, {scope_names(visible)});
    // Only what the expression reads is computed: the lets it uses (and theirs), and the
    // model's totals when it names a metric.
    std::size_t metrics = prog.metrics.size();
    std::vector<bool> need(metrics + visible, false);
    std::optional<Span> metric_use;
    std::uint32_t metric_index = 0;
    mark(c, metrics, need, metric_use, metric_index);
    std::vector<std::optional<interp::CExpr>> compiled(visible);
    for (std::size_t i = visible; i-- > 0;) {
        if (!need[metrics + i]) continue;
        compiled[i] = interp::compile_expression(prog, *lets_[i].expr, {scope_names(i)});
        mark(*compiled[i], metrics, need, metric_use, metric_index);
    }
    // Compiling may intern config keys, so the environment is built after it.
    interp::Environment env = environment();
    std::vector<Value> locals(metrics + visible);
    if (metric_use) {
        if (model_ == nullptr)
            no_model(*metric_use, "'" + prog.metrics[metric_index].name + "' is the current model's total");
        interp::CostNode root = session_.totals(*model_, overrides_);
        for (std::size_t m = 0; m < metrics; ++m)
            locals[m] = Value::of(interp::total_of(prog.metrics[m], root.count, root.cost[m]));
    }
    interp::Evaluator ev(prog, std::move(env), session_.limits());
    for (std::size_t i = 0; i < visible; ++i) {
        if (compiled[i]) locals[metrics + i] = ev.value(*compiled[i], locals);
    }
    if (c.kind == interp::CExpr::Kind::call) return {{}, ev.call(*c.call, locals), "", report::Style::si};
    if (c.kind == interp::CExpr::Kind::local && c.index < metrics) {
        const interp::Metric& m = prog.metrics[c.index];
        return {ev.value(c, locals), std::nullopt, m.unit, report::style_of(m)};
    }
    return {ev.value(c, locals), std::nullopt, "", report::Style::si};
}

Workspace::CallAnswer Workspace::evaluate_call(const interp::ast::Expr& call) {
    TransientKeys keys(session_.program());
    interp::CExpr c = interp::compile_expression(session_.program(), call, {scope_names(lets_.size())});
    if (c.kind != interp::CExpr::Kind::call) {
        fail(code::type_error, call.span, "expected a kernel call such as $F.linear(M = 1, K = 4096, N = 4096)");
    }
    interp::Evaluator ev(program(), environment(), session_.limits());
    interp::CostNode node = ev.call(*c.call, {});
    return {c.call->kernel, std::move(node), ev.environment().runtime, source_text(c.call->span)};
}

std::vector<BoundValue> Workspace::bound_values() const {
    const interp::Program& prog = program();
    interp::Environment env = environment();
    std::vector<BoundValue> out;
    for (std::uint32_t i = 0; i < prog.runtimes.size(); ++i) {
        const auto& r = prog.runtimes[i];
        BoundValue b{r.name, env.runtime[i], Origin::declared, source_text(r.default_value.span)};
        if (model_ != nullptr) {
            for (const auto& [index, e] : model_->defaults) {
                if (index == i) {
                    b.origin = Origin::model;
                    b.detail = source_text(e.span);
                }
            }
        }
        for (const auto& [name, v] : overrides_.runtime) {
            if (name == r.name) {
                b.origin = Origin::session;
                b.detail.clear();
            }
        }
        if (b.detail == b.value.show()) b.detail.clear();
        out.push_back(std::move(b));
    }
    // Config keys in the order the model sets them, then those only the session sets.
    std::vector<BoundValue> config;
    auto slot = [&](const std::string& key) -> BoundValue& {
        for (auto& b : config) {
            if (b.name == "config." + key) return b;
        }
        config.push_back({"config." + key, {}, Origin::model, ""});
        return config.back();
    };
    if (model_ != nullptr) {
        std::string files;
        for (const auto& [path, span] : model_->config_files) files += (files.empty() ? "" : ", ") + path;
        bool from_json = !json_path_.empty();
        for (const auto& entry : session_.model_config(*model_)) {
            const std::string& key = entry.first;
            BoundValue& b = slot(key);
            b.value = entry.second;
            bool in_block = !from_json && std::any_of(model_->config.begin(), model_->config.end(),
                                                      [&](const auto& e) { return e.first == key; });
            b.origin = in_block ? Origin::model : Origin::file;
            b.detail = in_block ? "" : (from_json ? json_path_ : files);
        }
    }
    for (const auto& [key, v] : overrides_.config) {
        BoundValue& b = slot(key);
        b.detail = b.value.is_absent() ? "" : "replaces " + show_exact(b.value);
        b.value = v;
        b.origin = Origin::session;
    }
    out.insert(out.end(), config.begin(), config.end());
    return out;
}

}  // namespace costi::repl
