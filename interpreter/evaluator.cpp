// Evaluation of kernels and expressions over resolved slots.
#include "interpreter/evaluator.hpp"

#include "interpreter/diagnostics.hpp"
#include "interpreter/ops.hpp"

namespace costi::interp {

void Evaluator::fail(const char* c, const Span& span, std::string message, std::string hint) {
    throw CostiError(Diagnostic{c, span, std::move(message), std::move(hint), {}});
}

Value Evaluator::value(const CExpr& e, const std::vector<Value>& locals) {
    return eval(e, locals, false);
}

Value Evaluator::eval(const CExpr& e, const std::vector<Value>& locals, bool allow_absent) {
    switch (e.kind) {
        case CExpr::Kind::constant:
            return e.constant;
        case CExpr::Kind::local:
            return locals[e.index];
        case CExpr::Kind::runtime:
            return env_.runtime[e.index];
        case CExpr::Kind::config: {
            const Value& v = env_.config[e.index];
            if (v.is_absent() && !allow_absent) {
                const std::string& key = program_.config_keys[e.index];
                fail(code::absent_config, e.span, "config." + key + " is not set by this model",
                     "set it in the model's config { … }, with --set config." + key +
                         "=VALUE, or give a default: config." + key + " ?? VALUE");
            }
            return v;
        }
        case CExpr::Kind::unary: {
            Value a = eval(e.args[0], locals, false);
            OpError err;
            auto r = apply_unary(e.op, a, err);
            if (!r) fail(err.code, e.span, err.message, err.hint);
            return std::move(*r);
        }
        case CExpr::Kind::binary: {
            if (e.op == ast::Op::default_) {
                Value a = eval(e.args[0], locals, true);
                return a.is_absent() ? eval(e.args[1], locals, false) : a;
            }
            if (e.op == ast::Op::and_ || e.op == ast::Op::or_) {
                OpError err;
                auto l = truth(eval(e.args[0], locals, false), err);
                if (!l) fail(err.code, e.args[0].span, err.message, err.hint);
                if (*l == (e.op == ast::Op::or_)) return Value::of(*l ? 1 : 0);
                auto r = truth(eval(e.args[1], locals, false), err);
                if (!r) fail(err.code, e.args[1].span, err.message, err.hint);
                return Value::of(*r ? 1 : 0);
            }
            Value a = eval(e.args[0], locals, false);
            Value b = eval(e.args[1], locals, false);
            OpError err;
            auto r = apply_binary(e.op, a, b, err);
            if (!r) fail(err.code, e.span, err.message, err.hint);
            return std::move(*r);
        }
        case CExpr::Kind::function: {
            std::vector<Value> args;
            args.reserve(e.args.size());
            for (const auto& a : e.args) args.push_back(eval(a, locals, false));
            OpError err;
            auto r = apply_function(e.fn, args, err);
            if (!r) fail(err.code, e.span, err.message, err.hint);
            return std::move(*r);
        }
        case CExpr::Kind::cond: {
            OpError err;
            auto c = truth(eval(e.args[0], locals, false), err);
            if (!c) fail(err.code, e.args[0].span, err.message, err.hint);
            return eval(e.args[*c ? 1 : 2], locals, allow_absent);
        }
        case CExpr::Kind::call:
            fail(code::type_error, e.span, "a kernel call has one value per metric, not a single value",
                 "evaluate the call on its own to see its metrics");
    }
    return {};
}

CostNode Evaluator::call(const CallSite& site, const std::vector<Value>& caller) {
    keep_tree_ = true;
    return invoke(site, caller);
}

CostNode Evaluator::totals(const CallSite& site, const std::vector<Value>& caller) {
    keep_tree_ = false;
    CostNode root = invoke(site, caller);
    keep_tree_ = true;
    return root;
}

CostNode Evaluator::invoke(const CallSite& site, const std::vector<Value>& caller) {
    const Kernel& k = *site.kernel;
    if (interrupt_ != nullptr && *interrupt_ != 0) {
        fail(code::interrupted, site.span, "interrupted", "the session and its bindings are as they were");
    }
    CostNode node;
    node.label = site.label;
    node.kernel = &k;
    if (site.count) {
        Value c = eval(*site.count, caller, false);
        if (!c.is_number() || !c.num.is_integer() || c.num.sign() < 0) {
            fail(code::bad_count, site.count->span, "repeat count must be a non-negative integer, got " + c.show());
        }
        node.count = std::move(c.num);
    }
    // Arguments are evaluated in the caller, before any rebinding takes effect.
    std::vector<Value> locals(k.local_names.size());
    for (std::size_t i = 0; i < site.args.size(); ++i) {
        if (site.args[i]) locals[i] = eval(*site.args[i], caller, false);
    }
    std::vector<std::pair<std::uint32_t, Value>> saved;
    for (const auto& [index, expr] : site.with) {
        Value v = eval(expr, caller, false);
        saved.emplace_back(index, std::move(env_.runtime[index]));
        env_.runtime[index] = std::move(v);
    }
    // Restores rebound runtime variables however this call ends.
    struct Restore {
        Environment& env;
        std::vector<std::pair<std::uint32_t, Value>>& saved;
        ~Restore() {
            for (auto it = saved.rbegin(); it != saved.rend(); ++it) env.runtime[it->first] = std::move(it->second);
        }
    } restore{env_, saved};
    try {
        for (std::size_t i = 0; i < site.args.size(); ++i) {
            if (!site.args[i]) locals[i] = eval(*k.params[i].default_value, locals, false);
        }
        node.cost.assign(program_.metrics.size(), Number(0));
        for (const auto& step : k.steps) {
            switch (step.kind) {
                case Step::Kind::let:
                    locals[step.index] = eval(step.value, locals, false);
                    break;
                case Step::Kind::require: {
                    OpError err;
                    auto holds = truth(eval(step.value, locals, false), err);
                    if (!holds) fail(err.code, step.value.span, err.message, err.hint);
                    if (!*holds) fail(code::requirement, step.value.span, k.requirements[step.index]);
                    break;
                }
                case Step::Kind::assign: {
                    Value v = eval(step.value, locals, false);
                    if (!v.is_number()) {
                        fail(code::type_error, step.value.span,
                             "metric '" + program_.metrics[step.index].name + "' must be a number, got " + v.show());
                    }
                    node.cost[step.index] += v.num;
                    break;
                }
                case Step::Kind::child: {
                    CostNode child = invoke(k.children[step.index], locals);
                    for (std::size_t m = 0; m < node.cost.size(); ++m) node.cost[m] += child.count * child.cost[m];
                    if (keep_tree_) node.children.push_back(std::move(child));
                    break;
                }
            }
        }
    } catch (CostiError& e) {
        for (auto& d : e.diagnostics()) d.chain.push_back({"$" + k.name, site.span});
        throw;
    }
    return node;
}

Environment model_environment(const Program& program, const Model& model,
                              const std::vector<std::pair<std::string, Value>>& model_config,
                              const std::vector<std::pair<std::uint32_t, Value>>& runtime_overrides) {
    Environment env;
    env.config.assign(program.config_keys.size(), Value{});
    for (const auto& [key, v] : model_config) {
        auto it = program.config_id.find(key);
        if (it != program.config_id.end()) env.config[it->second] = v;
    }
    env.runtime.assign(program.runtimes.size(), Value{});
    std::vector<Value> none;
    for (std::uint32_t i = 0; i < program.runtimes.size(); ++i) {
        const CExpr* chosen = &program.runtimes[i].default_value;
        for (const auto& [index, expr] : model.defaults) {
            if (index == i) chosen = &expr;
        }
        Value v;
        bool overridden = false;
        for (const auto& [index, value] : runtime_overrides) {
            if (index == i) {
                v = value;
                overridden = true;
            }
        }
        if (!overridden) {
            Evaluator step(program, env);
            v = step.value(*chosen, none);
        }
        env.runtime[i] = std::move(v);
    }
    return env;
}

}  // namespace costi::interp
