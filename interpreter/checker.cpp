// Static checking and name resolution.
#include "interpreter/checker.hpp"

#include <algorithm>
#include <limits>
#include <unordered_map>
#include <unordered_set>

#include "interpreter/ops.hpp"
#include "interpreter/suggest.hpp"

namespace costi::interp {

namespace {

class Checker {
public:
    explicit Checker(Program& prog) : prog_(prog) {}

    std::vector<Diagnostic> diags;

    // Past this many problems the checker stops collecting (as clang's -ferror-limit): a
    // file of garbage would otherwise cost a suggestion search per error and a screenful
    // per line. The last diagnostic says that more were dropped.
    static constexpr std::size_t max_errors = 50;

    void error(const char* c, Span span, std::string message, std::string hint = "") {
        if (diags.size() > max_errors) return;
        if (diags.size() == max_errors) {
            diags.push_back(Diagnostic{code::too_many_errors, span, "too many errors; stopping here",
                                       "fix the errors above and check again", {}});
            return;
        }
        diags.push_back(Diagnostic{c, span, std::move(message), std::move(hint), {}});
    }
    bool saturated() const { return diags.size() > max_errors; }

    // Records the first definition of `name`; a second one is an error naming both places.
    bool first_definition(std::unordered_map<std::string, Span>& seen, const std::string& what, const std::string& name,
                          const Span& span) {
        auto [it, added] = seen.emplace(name, span);
        if (!added) {
            error(code::duplicate_def, span, what + " '" + name + "' is defined twice",
                  "the other definition is at " + location(it->second));
        }
        return added;
    }

    // The index of runtime variable `name`, or an error (E0110) with a suggestion.
    std::optional<std::uint32_t> runtime_named(const std::string& name, const Span& span,
                                               const std::string& fallback_hint) {
        if (auto r = visible_runtime(name)) return r;
        std::vector<std::string> names;
        for (const auto& rt : prog_.runtimes) names.push_back(rt.name);
        auto best = closest(name, names);
        error(code::not_runtime, span, "'" + name + "' is not a runtime variable",
              best ? "did you mean '" + *best + "'?" : fallback_hint + join(names));
        return std::nullopt;
    }

    // A runtime variable by name, if declared (and, while runtime defaults are being
    // compiled, declared before the one being compiled).
    std::optional<std::uint32_t> visible_runtime(const std::string& name) const {
        auto r = prog_.find_runtime(name);
        if (r && *r >= runtimes_visible_) return std::nullopt;
        return r;
    }

    // Names visible to an expression: locals[0..visible) then the runtime variables.
    // `slots` maps each local name to its (first) slot, so lookups cost O(1).
    struct Scope {
        const std::vector<std::string>* locals = nullptr;
        std::size_t visible = 0;
        bool allow_calls = false;
        const char* where = "";
        const std::unordered_map<std::string, std::uint32_t>* slots = nullptr;
        bool metrics = false;  // metric names read the current leaf call's values (`every leaf`)
    };

    std::vector<std::string> candidates(const Scope& scope) const {
        std::vector<std::string> out;
        if (scope.locals != nullptr)
            out.assign(scope.locals->begin(), scope.locals->begin() + static_cast<long>(scope.visible));
        for (std::size_t i = 0; i < prog_.runtimes.size() && i < runtimes_visible_; ++i)
            out.push_back(prog_.runtimes[i].name);
        return out;
    }

    std::vector<std::string> kernel_names() const {
        std::vector<std::string> out;
        for (const auto& [name, k] : prog_.kernel_by_name) out.push_back(name);
        return out;
    }

    CExpr compile(const ast::Expr& e, const Scope& scope) {
        CExpr c;
        c.span = e.span;
        switch (e.kind) {
            case ast::ExprKind::number:
                c.constant = Value::of(e.number);
                return c;
            case ast::ExprKind::string:
                c.constant = Value::of_string(e.text);
                return c;
            case ast::ExprKind::name: {
                if (scope.slots != nullptr) {
                    auto it = scope.slots->find(e.text);
                    if (it != scope.slots->end() && it->second < scope.visible) {
                        c.kind = CExpr::Kind::local;
                        c.index = it->second;
                        return c;
                    }
                }
                if (scope.metrics) {
                    if (auto m = prog_.find_metric(e.text)) {
                        c.kind = CExpr::Kind::metric;
                        c.index = *m;
                        return c;
                    }
                }
                if (auto r = visible_runtime(e.text)) {
                    c.kind = CExpr::Kind::runtime;
                    c.index = *r;
                    return c;
                }
                std::string hint;
                if (saturated()) return c;
                if (auto best = closest(e.text, candidates(scope))) {
                    hint = "did you mean '" + *best + "'?";
                } else if (prog_.config_id.count(e.text) != 0) {
                    hint = "config values are written config." + e.text;
                } else {
                    hint = "names in scope here: " + join(candidates(scope));
                }
                error(code::unbound_name, e.span, "unknown name '" + e.text + "'" + scope.where, hint);
                c.constant = Value::of(0);
                return c;
            }
            case ast::ExprKind::config:
                c.kind = CExpr::Kind::config;
                c.index = prog_.intern_config(e.text);
                return c;
            case ast::ExprKind::hardware: {
                auto it = prog_.property_id.find(e.text);
                if (it == prog_.property_id.end()) {
                    std::vector<std::string> names;
                    for (const auto& p : prog_.properties) names.push_back(p.name);
                    auto best = saturated() ? std::nullopt : closest(e.text, names);
                    error(code::bad_hardware, e.span, "'" + e.text + "' is not a declared hardware property",
                          best               ? "did you mean 'hw." + *best + "'?"
                          : names.empty()    ? "declare it with `property " + e.text + "` (stdlib/roofline.cost)"
                                             : "properties: " + join(names));
                    c.constant = Value::of(0);
                    return c;
                }
                c.kind = CExpr::Kind::hardware;
                c.index = it->second;
                return c;
            }
            case ast::ExprKind::unary:
            case ast::ExprKind::binary:
            case ast::ExprKind::function:
            case ast::ExprKind::cond: {
                c.kind = e.kind == ast::ExprKind::unary    ? CExpr::Kind::unary
                         : e.kind == ast::ExprKind::binary ? CExpr::Kind::binary
                         : e.kind == ast::ExprKind::cond   ? CExpr::Kind::cond
                                                           : CExpr::Kind::function;
                c.op = e.op;
                for (const auto& a : e.args) c.args.push_back(compile(*a, scope));
                if (e.kind == ast::ExprKind::function && !function_ok(e, c)) return c;
                fold(c);
                return c;
            }
            case ast::ExprKind::call: {
                if (!scope.allow_calls) {
                    error(code::type_error, e.span, "a kernel call is not a value here",
                          "call it as a child of the kernel: `label: " + e.call->kernel + "(…)`");
                    c.constant = Value::of(0);
                    return c;
                }
                c.kind = CExpr::Kind::call;
                // Arguments see the same names as the expression (REPL lets and totals).
                c.call = std::make_shared<CallSite>(
                    compile_call(*e.call, Scope{scope.locals, scope.visible, false, "", scope.slots}));
                c.call->label = e.call->kernel;
                return c;
            }
        }
        return c;
    }

    bool function_ok(const ast::Expr& e, CExpr& c) {
        int index = ast::function_index(e.text);
        c.fn = static_cast<Fn>(index);
        if (std::string problem = ast::function_arity_problem(index, c.args.size()); !problem.empty()) {
            error(code::type_error, e.span, problem, c.fn == Fn::one_of ? "one_of(x, a, b) is 1 when x == a or x == b" : "");
            return false;
        }
        return true;
    }

    // Replaces an operation on constant numbers by its value; errors are left for evaluation,
    // where they are reported with the chain of calls.
    static void fold(CExpr& c) {
        for (const auto& a : c.args) {
            if (a.kind != CExpr::Kind::constant || !a.constant.is_number()) return;
        }
        OpError err;
        std::optional<Value> v;
        if (c.kind == CExpr::Kind::unary) {
            v = apply_unary(c.op, c.args[0].constant, err);
        } else if (c.kind == CExpr::Kind::binary) {
            if (c.op == ast::Op::and_ || c.op == ast::Op::or_) {
                bool l = !c.args[0].constant.num.is_zero();
                bool r = !c.args[1].constant.num.is_zero();
                v = Value::of(c.op == ast::Op::and_ ? (l && r) : (l || r));
            } else if (c.op == ast::Op::default_) {
                v = c.args[0].constant;
            } else {
                v = apply_binary(c.op, c.args[0].constant, c.args[1].constant, err);
            }
        } else if (c.kind == CExpr::Kind::function) {
            std::vector<Value> args;
            for (const auto& a : c.args) args.push_back(a.constant);
            v = apply_function(c.fn, args, err);
        } else if (c.kind == CExpr::Kind::cond) {
            v = c.args[c.args[0].constant.num.is_zero() ? 2 : 1].constant;
        }
        if (v) {
            c.kind = CExpr::Kind::constant;
            c.constant = std::move(*v);
            c.args.clear();
        }
    }

    // Resolves `$Name(k = v, …)` against the callee's parameters.
    CallSite compile_call(const ast::Call& call, const Scope& scope) {
        CallSite site;
        site.span = call.span;
        const Kernel* k = prog_.find_kernel(call.kernel);
        if (k == nullptr) {
            auto best = saturated() ? std::nullopt : closest(call.kernel, kernel_names());
            error(code::unknown_kernel, call.name_span, "unknown kernel '" + call.kernel + "'",
                  best ? "did you mean '" + *best + "'?" : "is the file that defines it imported?");
            for (const auto& b : call.args) compile(*b.value, scope);
            return site;
        }
        site.kernel = k;
        site.args.resize(k->params.size());
        auto param_of = [&](const std::string& name) -> std::optional<std::size_t> {
            auto it = k->param_slot.find(name);
            if (it == k->param_slot.end()) return std::nullopt;
            return it->second;
        };
        std::vector<bool> bound(k->params.size(), false);
        for (const auto& b : call.args) {
            if (auto i = param_of(b.name)) bound[*i] = true;
        }
        bool misspelt = false;
        std::vector<bool> given = bound;
        std::fill(bound.begin(), bound.end(), false);
        for (const auto& b : call.args) {
            CExpr value = compile(*b.value, scope);
            auto i = param_of(b.name);
            if (!i) {
                misspelt = true;
                if (saturated()) continue;
                std::vector<std::string> names;
                std::vector<std::string> unbound;
                std::vector<std::string> unbound_required;
                for (std::size_t j = 0; j < k->params.size(); ++j) {
                    names.push_back(k->params[j].name);
                    if (given[j]) continue;
                    unbound.push_back(k->params[j].name);
                    // A misspelt parameter most likely means a required one that is not bound.
                    if (!k->params[j].default_value && !pending_default(k, j))
                        unbound_required.push_back(k->params[j].name);
                }
                auto best = closest(b.name, unbound);
                if (!best && unbound_required.size() == 1) best = unbound_required.front();
                std::string takes =
                    names.empty() ? "$" + k->name + " takes no parameters" : "$" + k->name + " takes " + join(names);
                error(code::unknown_param, b.name_span, "unknown parameter '" + b.name + "' for $" + call.kernel,
                      best ? "did you mean '" + *best + "'? (" + takes + ")" : takes);
                continue;
            }
            if (bound[*i]) {
                error(code::duplicate_arg, b.name_span, "parameter '" + b.name + "' is bound twice in this call");
                continue;
            }
            bound[*i] = true;
            site.args[*i] = std::move(value);
        }
        for (std::size_t i = 0; i < k->params.size(); ++i) {
            if (!bound[i] && !k->params[i].default_value && !pending_default(k, i) && !misspelt) {
                error(code::missing_arg, call.span,
                      "missing parameter '" + k->params[i].name + "' in call of $" + call.kernel,
                      "$" + k->name + " declares it at " + location(k->params[i].span) + " without a default");
            }
        }
        return site;
    }

    // Defaults are compiled with the kernel's body; before that, consult the AST.
    bool pending_default(const Kernel* k, std::size_t i) const {
        auto it = ast_of_.find(k);
        return it != ast_of_.end() && it->second->params[i].default_value != nullptr;
    }

    // A domain bound must be a constant number: `>= 1`, `> 0`, `<= 9/10`.
    std::optional<Number> constant_bound(const ast::Expr& e) {
        std::vector<std::string> none;
        CExpr c = compile(e, Scope{&none, 0, false, " in a domain bound"});
        if (c.kind != CExpr::Kind::constant || !c.constant.is_number()) {
            error(code::bad_domain_decl, e.span, "a domain bound must be a constant number", "write the number itself");
            return std::nullopt;
        }
        return c.constant.num;
    }

    Domain domain_of(const ast::Runtime& rd) {
        Domain d;
        d.integer = rd.type == "int";
        for (const auto& b : rd.bounds) {
            auto v = constant_bound(*b.value);
            if (!v) continue;
            bool lower = b.op == ast::Op::ge || b.op == ast::Op::gt;
            if (lower ? d.lower.has_value() : d.upper.has_value()) {
                error(code::bad_domain_decl, b.value->span,
                      std::string("runtime variable '") + rd.name + "' has two " + (lower ? "lower" : "upper") +
                          " bounds",
                      "a domain has at most one lower bound (>= or >) and one upper bound (<= or <)");
                continue;
            }
            if (lower) {
                d.lower = std::move(*v);
                d.lower_strict = b.op == ast::Op::gt;
            } else {
                d.upper = std::move(*v);
                d.upper_strict = b.op == ast::Op::lt;
            }
        }
        if (d.empty()) {
            error(code::bad_domain_decl, rd.type_span, "the domain of '" + rd.name + "' contains no value",
                  "its bounds exclude each other");
        }
        return d;
    }

    void declare(const std::vector<ast::Module>& modules) {
        std::unordered_map<std::string, Span> metric_at;
        std::unordered_map<std::string, Span> runtime_at;
        for (const auto& m : modules) {
            for (const auto& md : m.metrics) {
                if (!first_definition(metric_at, "metric", md.name, md.span)) continue;
                prog_.metric_id.emplace(md.name, static_cast<std::uint32_t>(prog_.metrics.size()));
                prog_.metrics.push_back(
                    {md.name, md.description, md.unit, md.span, md.style.empty() ? "si" : md.style, md.combine_max});
            }
        }
        std::unordered_map<std::string, Span> property_at;
        for (const auto& m : modules) {
            for (const auto& pd : m.properties) {
                if (!first_definition(property_at, "property", pd.name, pd.span)) continue;
                prog_.property_id.emplace(pd.name, static_cast<std::uint32_t>(prog_.properties.size()));
                prog_.properties.push_back({pd.name, pd.description, pd.unit, pd.span});
            }
        }
        for (const auto& m : modules) {
            for (const auto& rd : m.runtimes) {
                if (!first_definition(runtime_at, "runtime variable", rd.name, rd.span)) continue;
                // Only runtime variables declared before this one are in scope of its default.
                std::vector<std::string> none;
                Runtime r{rd.name, rd.span, {}, {}, rd.doc};
                r.domain = domain_of(rd);
                runtimes_visible_ = prog_.runtimes.size();
                r.default_value = compile(*rd.value, Scope{&none, 0, false, " in a runtime default"});
                runtimes_visible_ = std::numeric_limits<std::size_t>::max();
                if (r.default_value.kind == CExpr::Kind::constant && !r.domain.contains(r.default_value.constant)) {
                    error(code::bad_domain, rd.value->span,
                          "the default of '" + rd.name + "' is outside its domain: " + rd.name + " must be " +
                              r.domain.describe() + ", got " + r.default_value.constant.show());
                }
                prog_.runtime_id.emplace(rd.name, static_cast<std::uint32_t>(prog_.runtimes.size()));
                prog_.runtimes.push_back(std::move(r));
            }
        }
        std::unordered_map<std::string, Span> defined;
        for (const auto& m : modules) {
            for (const auto& kd : m.kernels) {
                if (kd.unread_body) {  // a library kernel nothing here reaches (needed.hpp)
                    unread_.insert(kd.name);
                    continue;
                }
                if (!first_definition(defined, "kernel", kd.name, kd.name_span)) continue;
                auto k = std::make_unique<Kernel>();
                k->name = kd.name;
                k->name_span = kd.name_span;
                for (const auto& p : kd.params) {
                    if (!k->param_slot.emplace(p.name, static_cast<std::uint32_t>(k->params.size())).second) {
                        error(code::duplicate_local, p.span, "parameter '" + p.name + "' is declared twice");
                    }
                    k->params.push_back({p.name, p.span, std::nullopt});
                }
                prog_.kernel_by_name[k->name] = k.get();
                ast_of_[k.get()] = &kd;
                prog_.kernels.push_back(std::move(k));
            }
        }
        declare_aliases(modules, defined);
    }

    // Aliases may name other aliases. Each chain is followed once (linear in the number of
    // aliases); a cycle or an unknown target is reported at the alias that causes it.
    void declare_aliases(const std::vector<ast::Module>& modules, std::unordered_map<std::string, Span>& defined) {
        std::unordered_map<std::string, const ast::Alias*> alias_of;
        std::vector<const ast::Alias*> order;
        for (const auto& m : modules) {
            for (const auto& a : m.aliases) {
                // An alias of an unread kernel is left out with it (with unread kernels no name
                // is declared twice: needed.cpp reads every body otherwise).
                if (unread_.count(a.target) != 0) continue;
                if (!first_definition(defined, "alias", a.name, a.name_span)) continue;
                alias_of.emplace(a.name, &a);
                order.push_back(&a);
            }
        }
        enum class State : unsigned char { fresh, on_path, done, failed };
        std::unordered_map<const ast::Alias*, State> state;
        for (const ast::Alias* start : order) {
            if (state[start] != State::fresh) continue;
            std::vector<const ast::Alias*> path;
            const ast::Alias* cur = start;
            const Kernel* target = nullptr;
            bool failed = false;
            while (true) {
                state[cur] = State::on_path;
                path.push_back(cur);
                auto next = alias_of.find(cur->target);
                if (next == alias_of.end()) {
                    target = prog_.find_kernel(cur->target);
                    if (target == nullptr && unread_.count(cur->target) != 0) {
                        failed = true;  // an alias of an unread kernel is left out with it
                    } else if (target == nullptr) {
                        auto best = saturated() ? std::nullopt : closest(cur->target, kernel_names());
                        error(code::unknown_kernel, cur->target_span,
                              "alias '" + cur->name + "' names unknown kernel '" + cur->target + "'",
                              best ? "did you mean '" + *best + "'?" : "");
                        failed = true;
                    }
                    break;
                }
                State s = state[next->second];
                if (s == State::on_path) {
                    // Every alias of the cycle is reported, in the order the chain met them.
                    bool in_cycle = false;
                    for (const ast::Alias* a : path) {
                        in_cycle = in_cycle || a == next->second;
                        if (in_cycle)
                            error(code::unknown_kernel, a->target_span, "alias '" + a->name + "' is part of a cycle of aliases");
                    }
                    failed = true;
                    break;
                }
                if (s == State::failed) {
                    failed = true;
                    break;
                }
                if (s == State::done) {
                    target = prog_.find_kernel(next->second->name);
                    break;
                }
                cur = next->second;
            }
            for (auto it = path.rbegin(); it != path.rend(); ++it) {
                state[*it] = failed ? State::failed : State::done;
                if (!failed) {
                    prog_.kernel_by_name[(*it)->name] = target;
                    prog_.aliases.emplace_back((*it)->name, (*it)->target);
                }
            }
        }
    }

    void body(Kernel& k, const ast::Kernel& kd) {
        k.assigned.assign(prog_.metrics.size(), std::nullopt);
        k.formulas.assign(prog_.metrics.size(), nullptr);
        std::unordered_map<std::string, std::uint32_t> slots;
        for (const auto& p : kd.params) {
            slots.emplace(p.name, static_cast<std::uint32_t>(k.local_names.size()));
            k.local_names.push_back(p.name);
            k.local_spans.push_back(p.span);
        }
        for (std::size_t i = 0; i < kd.params.size(); ++i) {
            if (kd.params[i].default_value) {
                k.params[i].default_value =
                    compile(*kd.params[i].default_value, Scope{&k.local_names, i, false, "", &slots});
            }
        }
        std::unordered_map<std::string, Span> labels;
        for (const auto& s : kd.body) {
            Scope scope{&k.local_names, k.local_names.size(), false, "", &slots};
            switch (s.kind) {
                // A kernel may model code from several files: every citation is kept, in order.
                case ast::StmtKind::source:
                    k.source += (k.source.empty() ? "" : "; ") + s.text;
                    break;
                case ast::StmtKind::doc:
                    k.doc += (k.doc.empty() ? "" : " ") + s.text;
                    break;
                case ast::StmtKind::require: {
                    auto index = static_cast<std::uint32_t>(k.requirements.size());
                    k.requirements.push_back(s.text);
                    k.steps.push_back({Step::Kind::require, index, compile(*s.value, scope)});
                    break;
                }
                case ast::StmtKind::let: {
                    CExpr v = compile(*s.value, scope);
                    auto slot = static_cast<std::uint32_t>(k.local_names.size());
                    auto [it, added] = slots.emplace(s.name, slot);
                    if (!added) {
                        error(code::duplicate_local, s.name_span, "'" + s.name + "' is already bound in $" + k.name,
                              "the other binding is at " + location(k.local_spans[it->second]));
                    }
                    k.local_names.push_back(s.name);
                    k.local_spans.push_back(s.name_span);
                    k.steps.push_back({Step::Kind::let, slot, std::move(v)});
                    break;
                }
                case ast::StmtKind::assign: {
                    CExpr v = compile(*s.value, scope);
                    auto m = prog_.find_metric(s.name);
                    if (!m) {
                        std::vector<std::string> names;
                        for (const auto& md : prog_.metrics) names.push_back(md.name);
                        auto best = saturated() ? std::nullopt : closest(s.name, names);
                        error(code::unknown_metric, s.name_span, "'" + s.name + "' is not a declared metric",
                              best ? "did you mean '" + *best + "'?"
                                   : "declare it with `metric " + s.name + "`, or bind a local with `let " + s.name +
                                         " = …`");
                        break;
                    }
                    if (k.assigned[*m]) {
                        error(code::duplicate_local, s.name_span,
                              "metric '" + s.name + "' is assigned twice in $" + k.name,
                              "the other assignment is at " + location(*k.assigned[*m]));
                        break;
                    }
                    k.assigned[*m] = s.name_span;
                    k.formulas[*m] = s.value.get();
                    k.steps.push_back({Step::Kind::assign, *m, std::move(v)});
                    break;
                }
                case ast::StmtKind::child: {
                    auto [it, added] = labels.emplace(s.name, s.name_span);
                    if (!added) {
                        error(code::duplicate_local, s.name_span, "label '" + s.name + "' is used twice in $" + k.name,
                              "the other one is at " + location(it->second));
                    }
                    CallSite site = compile_call(s.call, scope);
                    site.label = s.name;
                    if (s.count) site.count = compile(*s.count, scope);
                    for (const auto& w : s.with) {
                        CExpr v = compile(*w.value, scope);
                        if (auto r = runtime_named(w.name, w.name_span, "`with` rebinds runtime variables: ")) {
                            site.with.emplace_back(*r, std::move(v));
                        }
                    }
                    auto index = static_cast<std::uint32_t>(k.children.size());
                    k.children.push_back(std::move(site));
                    k.steps.push_back({Step::Kind::child, index, {}});
                    break;
                }
            }
        }
    }

    // Reports every cycle of calls once, as A -> B -> A, and measures each kernel's call
    // depth (the longest chain of calls below it, itself included). Iterative, so a chain of
    // any length costs no stack; evaluation and reports recurse along calls, so a depth
    // beyond max_call_depth is refused here.
    void find_recursion() {
        enum : unsigned char { fresh, on_stack, done };
        std::unordered_map<const Kernel*, unsigned char> state;
        std::unordered_map<const Kernel*, std::size_t> depth;
        struct Frame {
            const Kernel* kernel;
            std::size_t next_child;
        };
        std::vector<Frame> stack;
        for (const auto& root : prog_.kernels) {
            if (state[root.get()] != fresh) continue;
            stack.push_back({root.get(), 0});
            state[root.get()] = on_stack;
            while (!stack.empty()) {
                Frame& f = stack.back();
                if (f.next_child < f.kernel->children.size()) {
                    const CallSite& c = f.kernel->children[f.next_child++];
                    if (c.kernel == nullptr) continue;
                    unsigned char s = state[c.kernel];
                    if (s == on_stack) {
                        std::string cycle;
                        bool on = false;
                        std::size_t shown = 0;
                        for (const Frame& x : stack) {
                            if (x.kernel == c.kernel) on = true;
                            if (on && ++shown <= 20) cycle += "$" + x.kernel->name + " -> ";
                        }
                        if (shown > 20) cycle += "… -> ";
                        cycle += "$" + c.kernel->name;
                        error(code::recursion, c.span, "recursive kernel calls: " + cycle,
                              "a cost formula must be finite; use `repeat N` for repeated structure");
                    } else if (s == fresh) {
                        state[c.kernel] = on_stack;
                        stack.push_back({c.kernel, 0});
                    }
                    continue;
                }
                std::size_t d = 1;
                for (const auto& c : f.kernel->children) {
                    if (c.kernel != nullptr && state[c.kernel] == done) d = std::max(d, depth[c.kernel] + 1);
                }
                depth[f.kernel] = d;
                state[f.kernel] = done;
                stack.pop_back();
            }
        }
        for (const auto& k : prog_.kernels) {
            if (depth[k.get()] > max_call_depth) {
                error(code::too_deep, k->name_span,
                      "$" + k->name + " calls kernels " + std::to_string(depth[k.get()]) +
                          " levels deep; the limit is " + std::to_string(max_call_depth),
                      "evaluation and reports follow calls level by level; flatten the chain or use `repeat`");
                break;  // every kernel above it is deeper still: one report is enough
            }
        }
    }

    // Hardware descriptions: every entry a declared property, given once, as a positive
    // constant number.
    void hardware(const std::vector<ast::Module>& modules) {
        std::unordered_map<std::string, Span> seen;
        std::vector<std::string> names;
        for (const auto& p : prog_.properties) names.push_back(p.name);
        for (const auto& m : modules) {
            for (const auto& hd : m.hardware) {
                if (!first_definition(seen, "hardware", hd.name, hd.name_span)) continue;
                auto h = std::make_unique<Hardware>();
                h->name = hd.name;
                h->name_span = hd.name_span;
                h->doc = hd.doc;
                h->sources = hd.sources;
                h->file = m.file;
                h->values.assign(prog_.properties.size(), Value{});
                h->notes.assign(prog_.properties.size(), "");
                h->spans.assign(prog_.properties.size(), Span{});
                for (const auto& e : hd.entries) {
                    auto it = prog_.property_id.find(e.name);
                    if (it == prog_.property_id.end()) {
                        auto best = saturated() ? std::nullopt : closest(e.name, names);
                        error(code::bad_hardware, e.name_span, "'" + e.name + "' is not a declared hardware property",
                              best            ? "did you mean '" + *best + "'?"
                              : names.empty() ? "import stdlib/roofline.cost, which declares them (from hardware/: import \"../stdlib/roofline.cost\")"
                                              : "properties: " + join(names));
                        continue;
                    }
                    std::uint32_t i = it->second;
                    if (!h->values[i].is_absent()) {
                        error(code::duplicate_def, e.name_span, "hardware '" + hd.name + "' gives '" + e.name + "' twice",
                              "the other value is at " + location(h->spans[i]));
                        continue;
                    }
                    std::vector<std::string> none;
                    CExpr v = compile(*e.value, Scope{&none, 0, false, " in a hardware description"});
                    if (v.kind != CExpr::Kind::constant || !v.constant.is_number() || v.constant.num.sign() <= 0) {
                        error(code::bad_hardware, e.value->span,
                              "hardware values must be positive constant numbers" +
                                  (v.kind == CExpr::Kind::constant ? ", got " + v.constant.show() : std::string()),
                              "leave out a property the device does not have");
                        continue;
                    }
                    h->values[i] = v.constant;
                    h->notes[i] = e.note;
                    h->spans[i] = e.name_span;
                }
                prog_.hardware.push_back(std::move(h));
            }
        }
    }

    // `every leaf (p = default, …) { … }`: its statements are appended to every leaf kernel,
    // compiled in a scope of their own: the block's lets, its parameters (the leaf's own
    // local of that name where the leaf has one, else the default), the metrics (the values
    // the leaf assigned), the runtime variables. A metric the leaf assigns itself is left as
    // the leaf wrote it.
    void every_leaf(const std::vector<ast::Module>& modules) {
        const ast::Kernel* block = nullptr;
        for (const auto& m : modules) {
            for (const auto& b : m.every_leaf) {
                if (block != nullptr) {
                    error(code::bad_every_leaf, b.name_span, "a second `every leaf` block",
                          "the first is at " + location(block->name_span) + "; a program has at most one");
                    continue;
                }
                block = &b;
            }
        }
        if (block == nullptr) return;
        for (const auto& s : block->body) {
            if (s.kind == ast::StmtKind::child) {
                error(code::bad_every_leaf, s.name_span, "`every leaf` cannot call kernels",
                      "it runs inside every leaf; a leaf has no children");
                return;
            }
        }
        // Errors are reported once, for a leaf with none of the parameters; each real leaf
        // then compiles silently (its own locals change no name's meaning but the parameters').
        Kernel probe;
        probe.name = "every leaf";
        probe.assigned.assign(prog_.metrics.size(), std::nullopt);
        probe.formulas.assign(prog_.metrics.size(), nullptr);
        std::size_t before = diags.size();
        compile_every_leaf(probe, *block);
        if (diags.size() != before) return;
        // The probe's compiled statements serve every leaf, their local slots renumbered (the
        // names they read mean the same in every leaf but the parameters').
        for (auto& k : prog_.kernels) {
            if (!k->is_leaf()) continue;
            std::unordered_map<std::string, std::uint32_t> own;
            for (std::uint32_t i = 0; i < k->local_names.size(); ++i) own.emplace(k->local_names[i], i);
            copy_every_leaf(*k, probe, *block, own);
        }
        prog_.has_every_leaf = true;
    }

    // `e` with each local slot s read as remap[s].
    static CExpr renumbered(const CExpr& e, const std::vector<std::uint32_t>& remap) {
        CExpr c;
        c.kind = e.kind;
        c.op = e.op;
        c.fn = e.fn;
        c.index = e.kind == CExpr::Kind::local ? remap[e.index] : e.index;
        c.constant = e.constant;
        c.call = e.call;  // (none: `every leaf` cannot call kernels)
        c.span = e.span;
        c.args.reserve(e.args.size());
        for (const auto& a : e.args) c.args.push_back(renumbered(a, remap));
        return c;
    }

    // The block appended to leaf `k`, copied from the probe (compile_every_leaf, which
    // reported no error): a parameter the leaf has a local of reads that local, the others
    // get a `let` of their default; an assignment to a metric the leaf assigns is left out.
    void copy_every_leaf(Kernel& k, const Kernel& probe, const ast::Kernel& block,
                         const std::unordered_map<std::string, std::uint32_t>& own) {
        std::vector<std::uint32_t> remap(probe.local_names.size(), 0);
        auto add_local = [&](std::uint32_t probe_slot) {
            auto slot = static_cast<std::uint32_t>(k.local_names.size());
            k.local_names.push_back(probe.local_names[probe_slot]);
            k.local_spans.push_back(probe.local_spans[probe_slot]);
            remap[probe_slot] = slot;
            return slot;
        };
        std::size_t step = 0;
        for (std::uint32_t p = 0; p < block.params.size(); ++p, ++step) {
            if (auto it = own.find(block.params[p].name); it != own.end()) {
                remap[p] = it->second;
                continue;
            }
            CExpr v = renumbered(probe.steps[step].value, remap);
            k.steps.push_back({Step::Kind::let, add_local(p), std::move(v)});
        }
        for (const auto& s : block.body) {
            if (s.kind != ast::StmtKind::require && s.kind != ast::StmtKind::let && s.kind != ast::StmtKind::assign)
                continue;
            const Step& from = probe.steps[step++];
            CExpr v = renumbered(from.value, remap);
            switch (s.kind) {
                case ast::StmtKind::require: {
                    auto index = static_cast<std::uint32_t>(k.requirements.size());
                    k.requirements.push_back(s.text);
                    k.steps.push_back({Step::Kind::require, index, std::move(v)});
                    break;
                }
                case ast::StmtKind::let:
                    k.steps.push_back({Step::Kind::let, add_local(from.index), std::move(v)});
                    break;
                default:  // an assignment (the probe refused a metric assigned twice in the block)
                    if (k.assigned[from.index]) break;  // the leaf's own formula stands
                    k.assigned[from.index] = s.name_span;
                    k.formulas[from.index] = s.value.get();
                    k.steps.push_back({Step::Kind::assign, from.index, std::move(v)});
                    break;
            }
        }
    }

    // The block compiled into `k`, a kernel with no locals and no metrics of its own (the
    // probe), reporting its errors: one `let` per parameter, then one step per require, let
    // and assignment, in order (copy_every_leaf relies on that order).
    void compile_every_leaf(Kernel& k, const ast::Kernel& block) {
        std::unordered_map<std::string, std::uint32_t> slots;
        auto add_local = [&](const std::string& name, const Span& span) {
            auto slot = static_cast<std::uint32_t>(k.local_names.size());
            k.local_names.push_back(name);
            k.local_spans.push_back(span);
            slots[name] = slot;
            return slot;
        };
        auto scope = [&]() {
            Scope sc{&k.local_names, k.local_names.size(), false, " in `every leaf`", &slots};
            sc.metrics = true;
            return sc;
        };
        for (const auto& p : block.params) {
            CExpr v = p.default_value ? compile(*p.default_value, scope()) : CExpr{};
            if (!p.default_value) {
                error(code::bad_every_leaf, p.span, "`every leaf` parameter '" + p.name + "' needs a default",
                      "write " + p.name + " = VALUE: leaves that do not bind it get the default");
                v.constant = Value::of(0);
            }
            std::uint32_t slot = add_local(p.name, p.span);
            k.steps.push_back({Step::Kind::let, slot, std::move(v)});
        }
        for (const auto& s : block.body) {
            switch (s.kind) {
                case ast::StmtKind::source:
                case ast::StmtKind::doc:
                case ast::StmtKind::child:
                    break;
                case ast::StmtKind::require: {
                    auto index = static_cast<std::uint32_t>(k.requirements.size());
                    k.requirements.push_back(s.text);
                    k.steps.push_back({Step::Kind::require, index, compile(*s.value, scope())});
                    break;
                }
                case ast::StmtKind::let: {
                    CExpr v = compile(*s.value, scope());
                    if (slots.count(s.name) != 0) {
                        error(code::duplicate_local, s.name_span, "'" + s.name + "' is already bound in `every leaf`");
                    }
                    std::uint32_t slot = add_local(s.name, s.name_span);
                    k.steps.push_back({Step::Kind::let, slot, std::move(v)});
                    break;
                }
                case ast::StmtKind::assign: {
                    CExpr v = compile(*s.value, scope());
                    auto m = prog_.find_metric(s.name);
                    if (!m) {
                        error(code::unknown_metric, s.name_span, "'" + s.name + "' is not a declared metric",
                              "declare it with `metric " + s.name + "`");
                        break;
                    }
                    if (k.assigned[*m]) {
                        error(code::duplicate_local, s.name_span, "metric '" + s.name + "' is assigned twice in `every leaf`");
                        break;
                    }
                    k.assigned[*m] = s.name_span;
                    k.formulas[*m] = s.value.get();
                    k.steps.push_back({Step::Kind::assign, *m, std::move(v)});
                    break;
                }
            }
        }
    }

    static void runtime_reads(const CExpr& e, std::vector<bool>& out) {
        if (e.kind == CExpr::Kind::runtime) out[e.index] = true;
        for (const auto& a : e.args) runtime_reads(a, out);
    }

    // Kernel::reads for every kernel, callees first (calls form a DAG once recursion is refused).
    void compute_reads() {
        std::unordered_map<const Kernel*, bool> done;
        std::vector<std::pair<Kernel*, std::size_t>> stack;
        for (auto& root : prog_.kernels) {
            if (done[root.get()]) continue;
            stack.emplace_back(root.get(), 0);
            while (!stack.empty()) {
                auto& [k, next] = stack.back();
                if (next < k->children.size()) {
                    const Kernel* c = k->children[next++].kernel;
                    if (c != nullptr && !done[c]) stack.emplace_back(const_cast<Kernel*>(c), 0);
                    continue;
                }
                std::vector<bool> reads(prog_.runtimes.size(), false);
                for (const auto& p : k->params)
                    if (p.default_value) runtime_reads(*p.default_value, reads);
                for (const auto& s : k->steps) runtime_reads(s.value, reads);
                for (const auto& site : k->children) {
                    if (site.count) runtime_reads(*site.count, reads);
                    for (const auto& a : site.args)
                        if (a) runtime_reads(*a, reads);
                    std::vector<bool> rebound(prog_.runtimes.size(), false);
                    for (const auto& [index, expr] : site.with) {
                        runtime_reads(expr, reads);
                        rebound[index] = true;
                    }
                    if (site.kernel == nullptr) continue;
                    for (auto r : site.kernel->reads)
                        if (!rebound[r]) reads[r] = true;
                }
                for (std::uint32_t r = 0; r < reads.size(); ++r)
                    if (reads[r]) k->reads.push_back(r);
                done[k] = true;
                stack.pop_back();
            }
        }
    }

    // Engines: blocks of one name merge; each entry maps a kernel to one with the same
    // parameters (the model's arguments bind to it unchanged).
    void engines(const std::vector<ast::Module>& modules) {
        for (const auto& m : modules) {
            for (const auto& ed : m.engines) {
                if (ed.name == "transformers") {
                    error(code::bad_engine, ed.name_span, "'transformers' is the built-in execution",
                          "name the engine otherwise (vllm, …)");
                    continue;
                }
                Engine* engine = nullptr;
                for (auto& e : prog_.engines)
                    if (e->name == ed.name) engine = e.get();
                if (engine == nullptr) {
                    prog_.engines.push_back(std::make_unique<Engine>());
                    engine = prog_.engines.back().get();
                    engine->name = ed.name;
                    engine->span = ed.name_span;
                }
                if (engine->doc.empty()) engine->doc = ed.doc;
                for (const auto& entry : ed.entries) {
                    // A lazy read leaves the kernels nothing reaches unread, and with them
                    // the entries that replace them (needed.cpp): no run can use those.
                    if (unread_.count(entry.name) != 0) continue;
                    const Kernel* from = kernel_named(entry.name, entry.name_span);
                    const Kernel* to = kernel_named(entry.target, entry.target_span);
                    if (from == nullptr || to == nullptr) continue;
                    if (auto it = engine->where.find(from); it != engine->where.end()) {
                        error(code::duplicate_def, entry.name_span,
                              "engine '" + ed.name + "' maps $" + entry.name + " twice",
                              "the other entry is at " + location(it->second));
                        continue;
                    }
                    bool same = from->params.size() == to->params.size();
                    for (std::size_t i = 0; same && i < from->params.size(); ++i)
                        same = from->params[i].name == to->params[i].name;
                    if (!same) {
                        error(code::bad_engine, entry.target_span,
                              "$" + entry.target + " does not take the parameters of $" + entry.name,
                              "an engine's kernel takes the same parameters, in the same order, as the kernel it replaces");
                        continue;
                    }
                    engine->runs[from] = to;
                    engine->where[from] = entry.name_span;
                }
            }
        }
    }

    const Kernel* kernel_named(const std::string& name, const Span& span) {
        if (const Kernel* k = prog_.find_kernel(name)) return k;
        auto best = saturated() ? std::nullopt : closest(name, kernel_names());
        error(code::unknown_kernel, span, "unknown kernel '" + name + "'", best ? "did you mean '" + *best + "'?" : "");
        return nullptr;
    }

    void models(const std::vector<ast::Module>& modules) {
        std::unordered_map<std::string, Span> seen;
        for (const auto& m : modules) {
            for (const auto& md : m.models) {
                if (!first_definition(seen, "model", md.name, md.name_span)) continue;
                auto model = std::make_unique<Model>();
                model->name = md.name;
                model->name_span = md.name_span;
                model->file = m.file;
                model->doc = md.doc;
                model->source = md.source;
                Scope scope{nullptr, 0, false, ""};
                model->entry = compile_call(md.entry, scope);
                model->entry.label = md.name;
                for (const auto& cf : md.config_files) model->config_files.emplace_back(cf.path, cf.span);
                for (const auto& b : md.config) {
                    CExpr v = compile(*b.value, scope);
                    if (v.kind != CExpr::Kind::constant) {
                        error(code::bad_model, b.value->span, "config values must be constants",
                              "write the number or string itself");
                        continue;
                    }
                    model->config.emplace_back(b.name, v.constant);
                    model->config_spans.emplace_back(b.name, b.name_span);
                }
                for (const auto& b : md.defaults) {
                    CExpr v = compile(*b.value, scope);
                    if (auto r = runtime_named(b.name, b.name_span,
                                               "config values go in `config { … }`; runtime variables: ")) {
                        model->defaults.emplace_back(*r, std::move(v));
                    }
                }
                prog_.models.push_back(std::move(model));
            }
        }
    }

    void run(const std::vector<ast::Module>& modules) {
        declare(modules);
        for (auto& k : prog_.kernels) body(*k, *ast_of_.at(k.get()));
        find_recursion();
        every_leaf(modules);
        if (diags.empty()) compute_reads();
        hardware(modules);
        engines(modules);
        models(modules);
    }

private:
    Program& prog_;
    std::unordered_map<const Kernel*, const ast::Kernel*> ast_of_;
    std::unordered_set<std::string_view> unread_;  // kernels left out (their bodies are unread): names in the AST
    std::size_t runtimes_visible_ = std::numeric_limits<std::size_t>::max();
};

}  // namespace

Program check(const std::vector<ast::Module>& modules) {
    Program prog;
    Checker checker(prog);
    checker.run(modules);
    if (!checker.diags.empty()) throw CostiError(std::move(checker.diags));
    return prog;
}

CExpr compile_expression(Program& program, const ast::Expr& expr, const ExtraScope& extra) {
    // Compiling interns the config keys the expression names; a failed expression must leave
    // the program as it was (the REPL keeps using it), so those keys are taken back.
    std::size_t keys_before = program.config_keys.size();
    std::unordered_map<std::string, std::uint32_t> slots;
    // A name bound again later shadows the earlier binding.
    for (std::size_t i = 0; i < extra.names.size(); ++i) slots[extra.names[i]] = static_cast<std::uint32_t>(i);
    Checker checker(program);
    CExpr c = checker.compile(expr, Checker::Scope{&extra.names, extra.names.size(), true, "", &slots});
    if (!checker.diags.empty()) {
        for (std::size_t i = keys_before; i < program.config_keys.size(); ++i)
            program.config_id.erase(program.config_keys[i]);
        program.config_keys.resize(keys_before);
        throw CostiError(std::move(checker.diags));
    }
    return c;
}

}  // namespace costi::interp
