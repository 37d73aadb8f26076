// Static checking and name resolution.
#include "interpreter/checker.hpp"

#include <functional>
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

    void error(const char* c, Span span, std::string message, std::string hint = "") {
        diags.push_back(Diagnostic{c, span, std::move(message), std::move(hint), {}});
    }

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
        if (auto r = prog_.find_runtime(name)) return r;
        std::vector<std::string> names;
        for (const auto& rt : prog_.runtimes) names.push_back(rt.name);
        auto best = closest(name, names);
        error(code::not_runtime, span, "'" + name + "' is not a runtime variable",
              best ? "did you mean '" + *best + "'?" : fallback_hint + join(names));
        return std::nullopt;
    }

    // Names visible to an expression: locals[0..visible) then the runtime variables.
    struct Scope {
        const std::vector<std::string>* locals = nullptr;
        std::size_t visible = 0;
        bool allow_calls = false;
        const char* where = "";
    };

    std::vector<std::string> candidates(const Scope& scope) const {
        std::vector<std::string> out;
        if (scope.locals != nullptr)
            out.assign(scope.locals->begin(), scope.locals->begin() + static_cast<long>(scope.visible));
        for (const auto& r : prog_.runtimes) out.push_back(r.name);
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
                if (scope.locals != nullptr) {
                    for (std::size_t i = scope.visible; i-- > 0;) {
                        if ((*scope.locals)[i] == e.text) {
                            c.kind = CExpr::Kind::local;
                            c.index = static_cast<std::uint32_t>(i);
                            return c;
                        }
                    }
                }
                if (auto r = prog_.find_runtime(e.text)) {
                    c.kind = CExpr::Kind::runtime;
                    c.index = *r;
                    return c;
                }
                std::string hint;
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
                c.call =
                    std::make_shared<CallSite>(compile_call(*e.call, Scope{scope.locals, scope.visible, false, ""}));
                c.call->label = e.call->kernel;
                return c;
            }
        }
        return c;
    }

    bool function_ok(const ast::Expr& e, CExpr& c) {
        static const std::vector<std::pair<std::string, Fn>> fns = {
            {"min", Fn::min}, {"max", Fn::max}, {"floor", Fn::floor}, {"ceil", Fn::ceil}, {"abs", Fn::abs}};
        for (const auto& [n, f] : fns) {
            if (n == e.text) c.fn = f;
        }
        bool unary = c.fn == Fn::floor || c.fn == Fn::ceil || c.fn == Fn::abs;
        if (unary && c.args.size() != 1) {
            error(code::type_error, e.span,
                  e.text + "() takes exactly one argument, got " + std::to_string(c.args.size()));
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
            auto best = closest(call.kernel, kernel_names());
            error(code::unknown_kernel, call.name_span, "unknown kernel '" + call.kernel + "'",
                  best ? "did you mean '" + *best + "'?" : "is the file that defines it imported?");
            for (const auto& b : call.args) compile(*b.value, scope);
            return site;
        }
        site.kernel = k;
        site.args.resize(k->params.size());
        std::vector<bool> bound(k->params.size(), false);
        for (const auto& b : call.args) {
            for (std::size_t i = 0; i < k->params.size(); ++i) {
                if (k->params[i].name == b.name) bound[i] = true;
            }
        }
        // A misspelt parameter most likely means a required one that is not bound.
        std::vector<std::string> unbound_required;
        for (std::size_t i = 0; i < k->params.size(); ++i) {
            if (!bound[i] && !k->params[i].default_value && !pending_default(k, i))
                unbound_required.push_back(k->params[i].name);
        }
        bool misspelt = false;
        std::fill(bound.begin(), bound.end(), false);
        for (const auto& b : call.args) {
            CExpr value = compile(*b.value, scope);
            std::size_t i = 0;
            while (i < k->params.size() && k->params[i].name != b.name) ++i;
            if (i == k->params.size()) {
                std::vector<std::string> names;
                std::vector<std::string> unbound;
                for (std::size_t j = 0; j < k->params.size(); ++j) {
                    names.push_back(k->params[j].name);
                    bool given = false;
                    for (const auto& other : call.args) given = given || other.name == k->params[j].name;
                    if (!given) unbound.push_back(k->params[j].name);
                }
                auto best = closest(b.name, unbound);
                if (!best && unbound_required.size() == 1) best = unbound_required.front();
                misspelt = true;
                std::string takes =
                    names.empty() ? "$" + k->name + " takes no parameters" : "$" + k->name + " takes " + join(names);
                error(code::unknown_param, b.name_span, "unknown parameter '" + b.name + "' for $" + call.kernel,
                      best ? "did you mean '" + *best + "'? (" + takes + ")" : takes);
                continue;
            }
            if (bound[i]) {
                error(code::duplicate_arg, b.name_span, "parameter '" + b.name + "' is bound twice in this call");
                continue;
            }
            bound[i] = true;
            site.args[i] = std::move(value);
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

    void declare(const std::vector<ast::Module>& modules) {
        std::unordered_map<std::string, Span> metric_at;
        std::unordered_map<std::string, Span> runtime_at;
        for (const auto& m : modules) {
            for (const auto& md : m.metrics) {
                if (!first_definition(metric_at, "metric", md.name, md.span)) continue;
                prog_.metrics.push_back({md.name, md.description, md.unit, md.span});
            }
        }
        for (const auto& m : modules) {
            for (const auto& rd : m.runtimes) {
                if (!first_definition(runtime_at, "runtime variable", rd.name, rd.span)) continue;
                // Only runtime variables declared before this one are in scope.
                std::vector<std::string> none;
                Runtime r{rd.name, rd.span, {}};
                std::size_t declared = prog_.runtimes.size();
                auto saved = std::move(prog_.runtimes);
                prog_.runtimes.assign(saved.begin(), saved.begin() + static_cast<long>(declared));
                r.default_value = compile(*rd.value, Scope{&none, 0, false, " in a runtime default"});
                prog_.runtimes = std::move(saved);
                prog_.runtimes.push_back(std::move(r));
            }
        }
        std::unordered_map<std::string, Span> defined;
        for (const auto& m : modules) {
            for (const auto& kd : m.kernels) {
                if (!first_definition(defined, "kernel", kd.name, kd.name_span)) continue;
                auto k = std::make_unique<Kernel>();
                k->name = kd.name;
                k->name_span = kd.name_span;
                std::unordered_set<std::string> seen;
                for (const auto& p : kd.params) {
                    if (!seen.insert(p.name).second) {
                        error(code::duplicate_local, p.span, "parameter '" + p.name + "' is declared twice");
                    }
                    k->params.push_back({p.name, p.span, std::nullopt});
                }
                prog_.kernel_by_name[k->name] = k.get();
                ast_of_[k.get()] = &kd;
                prog_.kernels.push_back(std::move(k));
            }
        }
        // Aliases may name other aliases; resolve until nothing changes.
        std::vector<const ast::Alias*> pending;
        for (const auto& m : modules) {
            for (const auto& a : m.aliases) {
                if (!first_definition(defined, "alias", a.name, a.name_span)) continue;
                pending.push_back(&a);
            }
        }
        bool progress = true;
        while (progress && !pending.empty()) {
            progress = false;
            for (auto it = pending.begin(); it != pending.end();) {
                if (const Kernel* k = prog_.find_kernel((*it)->target)) {
                    prog_.kernel_by_name[(*it)->name] = k;
                    prog_.aliases.emplace_back((*it)->name, (*it)->target);
                    it = pending.erase(it);
                    progress = true;
                } else {
                    ++it;
                }
            }
        }
        for (const auto* a : pending) {
            auto best = closest(a->target, kernel_names());
            bool is_alias = defined.count(a->target) != 0;
            error(code::unknown_kernel, a->target_span,
                  is_alias ? "alias '" + a->name + "' is part of a cycle of aliases"
                           : "alias '" + a->name + "' names unknown kernel '" + a->target + "'",
                  best && !is_alias ? "did you mean '" + *best + "'?" : "");
        }
    }

    void body(Kernel& k, const ast::Kernel& kd) {
        k.assigned.assign(prog_.metrics.size(), std::nullopt);
        k.formulas.assign(prog_.metrics.size(), nullptr);
        for (const auto& p : kd.params) {
            k.local_names.push_back(p.name);
            k.local_spans.push_back(p.span);
        }
        for (std::size_t i = 0; i < kd.params.size(); ++i) {
            if (kd.params[i].default_value) {
                k.params[i].default_value = compile(*kd.params[i].default_value, Scope{&k.local_names, i, false, ""});
            }
        }
        std::unordered_map<std::string, Span> labels;
        std::unordered_map<std::string, Span> lets;
        for (const auto& s : kd.body) {
            Scope scope{&k.local_names, k.local_names.size(), false, ""};
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
                    for (std::size_t i = 0; i < k.local_names.size(); ++i) {
                        if (k.local_names[i] == s.name) {
                            error(code::duplicate_local, s.name_span, "'" + s.name + "' is already bound in $" + k.name,
                                  "the other binding is at " + location(k.local_spans[i]));
                        }
                    }
                    auto slot = static_cast<std::uint32_t>(k.local_names.size());
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
                        auto best = closest(s.name, names);
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

    // Reports every cycle of calls once, as A -> B -> A.
    void find_recursion() {
        std::unordered_map<const Kernel*, int> state;  // 0 new, 1 on stack, 2 done
        std::vector<const Kernel*> stack;
        std::function<void(const Kernel*)> visit = [&](const Kernel* k) {
            state[k] = 1;
            stack.push_back(k);
            for (const auto& c : k->children) {
                if (c.kernel == nullptr) continue;
                int s = state[c.kernel];
                if (s == 1) {
                    std::string cycle;
                    bool on = false;
                    for (const Kernel* x : stack) {
                        if (x == c.kernel) on = true;
                        if (on) cycle += "$" + x->name + " -> ";
                    }
                    cycle += "$" + c.kernel->name;
                    error(code::recursion, c.span, "recursive kernel calls: " + cycle,
                          "a cost formula must be finite; use `repeat N` for repeated structure");
                } else if (s == 0) {
                    visit(c.kernel);
                }
            }
            stack.pop_back();
            state[k] = 2;
        };
        for (const auto& k : prog_.kernels) {
            if (state[k.get()] == 0) visit(k.get());
        }
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
        models(modules);
    }

private:
    Program& prog_;
    std::unordered_map<const Kernel*, const ast::Kernel*> ast_of_;
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
    Checker checker(program);
    CExpr c = checker.compile(expr, Checker::Scope{&extra.names, extra.names.size(), true, ""});
    if (!checker.diags.empty()) throw CostiError(std::move(checker.diags));
    return c;
}

}  // namespace costi::interp
