// Evaluation of kernels and expressions over resolved slots.
#include "interpreter/evaluator.hpp"

#include <algorithm>
#include <optional>

#include "interpreter/diagnostics.hpp"
#include "interpreter/domain.hpp"
#include "interpreter/ops.hpp"

namespace costi::interp {

namespace {

// While a require or a comparison is evaluated, the `??` fallbacks in it are sentinels of a
// check (`(config.head_dim ?? 0) != 0`), not defaults the model uses (Evaluator::defaulted).
// Sets the flag for its lifetime and restores what it was.
struct CheckScope {
    bool& flag;
    bool saved;
    explicit CheckScope(bool& f) : flag(f), saved(f) { flag = true; }
    ~CheckScope() { flag = saved; }
    CheckScope(const CheckScope&) = delete;
    CheckScope& operator=(const CheckScope&) = delete;
};

}  // namespace

void Evaluator::fail(const char* c, const Span& span, std::string message, std::string hint) {
    throw CostiError(Diagnostic{c, span, std::move(message), std::move(hint), {}});
}

void Evaluator::charge(const Number& a, const Number& b, const Span& span) {
    if (a.is_small() && b.is_small()) return;  // the machine-integer path costs nothing extra
    std::size_t bits = a.bit_size() + b.bit_size();
    if (bits <= 128) return;  // small rationals such as 1/3 are as cheap
    big_words_ += bits / 64;
    if (big_words_ > limits_.max_big_words) {
        fail(code::too_large, span, "evaluation needs too much arithmetic on very large numbers",
             "the numbers here have " + std::to_string(bits) + " bits; real costs need under 200");
    }
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
        case CExpr::Kind::hardware: {
            const Property& p = program_.properties[e.index];
            if (env_.hardware == nullptr) {
                if (allow_absent) return {};
                fail(code::absent_hardware, e.span, "hw." + p.name + " needs a hardware, and none is selected",
                     "choose one with --hw NAME (costi list hardware shows them)");
            }
            const Value& v = env_.hardware->values[e.index];
            if (v.is_absent() && !allow_absent) {
                fail(code::absent_hardware, e.span,
                     "hardware '" + env_.hardware->name + "' gives no " + p.name +
                         (p.description.empty() ? "" : " (" + p.description + ")"),
                     "the device lacks it or no source gives it: choose another device (costi list hardware), add " +
                         p.name + " = VALUE \"source\" to its description, or give the formula a fallback (hw." +
                         p.name + " ?? …)");
            }
            return v;
        }
        case CExpr::Kind::metric:
            return leaf_cost_ == nullptr ? Value::of(0) : Value::of((*leaf_cost_)[e.index]);
        case CExpr::Kind::unary: {
            Value a = eval(e.args[0], locals, false);
            OpError err;
            auto r = apply_unary(e.op, a, err);
            if (!r) fail(err.code, e.span, err.message, err.hint);
            return std::move(*r);
        }
        case CExpr::Kind::binary: {
            if (e.op == ast::Op::default_) {
                // `a ?? b ?? c` is `(a ?? b) ?? c`: the inner fallback may be absent too.
                Value a = eval(e.args[0], locals, true);
                if (!a.is_absent()) return a;
                Value b = eval(e.args[1], locals, allow_absent);
                if (note_defaults_ && zero_depth_ == 0 && !in_require_ && !b.is_absent()) note_default(e, b);
                return b;
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
            // A compared value is a check (`if (config.head_dim ?? 0) == 0 then …`): a fallback
            // in it is a sentinel, not a default the model uses.
            bool compare = e.op == ast::Op::eq || e.op == ast::Op::ne || e.op == ast::Op::lt ||
                           e.op == ast::Op::le || e.op == ast::Op::gt || e.op == ast::Op::ge;
            std::optional<CheckScope> check;
            if (compare && note_defaults_) check.emplace(in_require_);
            Value a = eval(e.args[0], locals, false);
            Value b = eval(e.args[1], locals, false);
            check.reset();
            charge(a.num, b.num, e.span);
            OpError err;
            auto r = apply_binary(e.op, a, b, err);
            if (!r) fail(err.code, e.span, err.message, err.hint);
            return std::move(*r);
        }
        case CExpr::Kind::function: {
            std::vector<Value> args;
            args.reserve(e.args.size());
            for (const auto& a : e.args) {
                args.push_back(eval(a, locals, false));
                charge(args.back().num, Number(0), e.span);
            }
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

// `LEFT ?? FALLBACK` gave FALLBACK's value: when FALLBACK is a literal (a class's declared
// default), note the config key LEFT ends in (the last of a chain `config.a ?? config.b`, all
// absent). A fallback that is another config key or chain (another spelling of the key: the
// inner chain notes its own default) or an expression (a default derived from other keys,
// `config.head_dim ?? H // heads`) is not noted.
void Evaluator::note_default(const CExpr& e, const Value& used) {
    if (e.args[1].kind != CExpr::Kind::constant) return;
    const CExpr* left = &e.args[0];
    while (left->kind == CExpr::Kind::binary && left->op == ast::Op::default_) left = &left->args[1];
    if (left->kind != CExpr::Kind::config) return;
    for (const auto& d : defaulted_)
        if (d.first == left->index) return;
    defaulted_.emplace_back(left->index, used);
}

// "config.hidden_act = "swiglu", H = 4096": the values a failed condition read, so the
// message says which value broke the rule. Each name once, in order of appearance.
std::string Evaluator::inputs_of(const CExpr& cond, const Kernel& k, const std::vector<Value>& locals) const {
    std::vector<std::string> parts;
    std::vector<const CExpr*> todo{&cond};
    while (!todo.empty() && parts.size() < 6) {
        const CExpr* e = todo.back();
        todo.pop_back();
        std::string part;
        if (e->kind == CExpr::Kind::config) {
            const Value& v = env_.config[e->index];
            part = "config." + program_.config_keys[e->index] + " = " + (v.is_absent() ? "absent" : v.show());
        } else if (e->kind == CExpr::Kind::runtime) {
            part = program_.runtimes[e->index].name + " = " + env_.runtime[e->index].show();
        } else if (e->kind == CExpr::Kind::local && e->index < locals.size()) {
            part = k.local_names[e->index] + " = " + locals[e->index].show();
        }
        if (!part.empty() && std::find(parts.begin(), parts.end(), part) == parts.end()) parts.push_back(part);
        for (auto it = e->args.rbegin(); it != e->args.rend(); ++it) todo.push_back(&*it);
    }
    std::string out;
    for (const auto& p : parts) out += (out.empty() ? "with " : ", ") + p;
    return out;
}

bool Evaluator::MemoKey::operator==(const MemoKey& o) const {
    if (kernel != o.kernel || values.size() != o.values.size()) return false;
    for (std::size_t i = 0; i < values.size(); ++i) {
        const Value& a = values[i];
        const Value& b = o.values[i];
        if (a.kind != b.kind || !(a.num == b.num) || a.str != b.str) return false;
    }
    return true;
}

CostNode Evaluator::call(const CallSite& site, const std::vector<Value>& caller, int keep_depth) {
    nodes_ = 0;
    calls_ = 0;
    big_words_ = 0;
    return invoke(site, caller, keep_depth);
}

CostNode Evaluator::totals(const CallSite& site, const std::vector<Value>& caller) {
    calls_ = 0;
    big_words_ = 0;
    return invoke(site, caller, 0);
}

CostNode Evaluator::invoke(const CallSite& site, const std::vector<Value>& caller, int keep_depth) {
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
    // A call made 0 times (a branch not taken) is still evaluated, but uses no default.
    struct ZeroScope {
        int& depth;
        bool on;
        ~ZeroScope() {
            if (on) --depth;
        }
    } zero{zero_depth_, node.count.is_zero()};
    if (zero.on) ++zero_depth_;
    // Arguments are evaluated in the caller, before any rebinding takes effect.
    std::vector<Value> locals(k.local_names.size());
    for (std::size_t i = 0; i < site.args.size(); ++i) {
        if (site.args[i]) locals[i] = eval(*site.args[i], caller, false);
    }
    std::vector<std::pair<std::uint32_t, Value>> saved;
    for (const auto& [index, expr] : site.with) {
        Value v = eval(expr, caller, false);
        if (auto problem = domain_problem(program_, index, v)) {
            fail(code::bad_domain, expr.span, *problem, "`with` may rebind a runtime variable only within its domain");
        }
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
        // A subtree that is not kept is a function of the parameters and the runtime
        // values alone (config is fixed for the evaluation): evaluate it once.
        bool memoise = keep_depth == 0 && !k.is_leaf();
        MemoKey key;
        if (memoise) {
            key.kernel = &k;
            key.values.reserve(k.params.size() + k.reads.size());
            key.values.assign(locals.begin(), locals.begin() + static_cast<long>(k.params.size()));
            for (auto r : k.reads) key.values.push_back(env_.runtime[r]);
            std::size_t h = std::hash<const void*>{}(&k);
            for (const auto& v : key.values) {
                std::size_t x = v.is_string() ? std::hash<std::string>{}(v.str) : v.num.hash();
                h ^= x + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
            }
            key.hash = h;
            if (auto it = memo_.find(key); it != memo_.end()) {
                node.cost = it->second;
                return node;
            }
        }
        if (++calls_ > limits_.max_calls) {
            fail(code::too_large, site.span,
                 "evaluation needs more than " + std::to_string(limits_.max_calls) + " distinct kernel calls",
                 "calls with the same arguments are evaluated once; this input makes more distinct calls than "
                 "costi evaluates");
        }
        run_body(k, locals, node, keep_depth);
        // Bounded like the tree: past this many entries the memo stops growing.
        // Not from inside a call made 0 times: a later call made in earnest must run (and
        // note the defaults it uses) rather than find it.
        if (memoise && (!note_defaults_ || zero_depth_ == 0) && memo_.size() < limits_.max_nodes) memo_.emplace(std::move(key), node.cost);
    } catch (CostiError& e) {
        for (auto& d : e.diagnostics()) d.chain.push_back({"$" + k.name, site.span});
        throw;
    }
    return node;
}

void Evaluator::run_body(const Kernel& k, std::vector<Value>& locals, CostNode& node, int keep_depth) {
    node.cost.assign(program_.metrics.size(), Number(0));
    if (k.is_leaf()) leaf_cost_ = &node.cost;  // `every leaf` reads the values assigned so far
    int child_depth = keep_depth < 0 ? -1 : (keep_depth == 0 ? 0 : keep_depth - 1);
    for (const auto& step : k.steps) {
        switch (step.kind) {
            case Step::Kind::let:
                locals[step.index] = eval(step.value, locals, false);
                break;
            case Step::Kind::require: {
                // A require checks a key (`(config.head_dim ?? 0) != 0`): a fallback there is a
                // sentinel, not a default the model uses.
                std::optional<CheckScope> check;
                if (note_defaults_) check.emplace(in_require_);
                OpError err;
                auto holds = truth(eval(step.value, locals, false), err);
                if (!holds) fail(err.code, step.value.span, err.message, err.hint);
                if (!*holds) fail(code::requirement, step.value.span, k.requirements[step.index], inputs_of(step.value, k, locals));
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
                const CallSite& site = k.children[step.index];
                CostNode child = invoke(site, locals, child_depth);
                for (std::size_t m = 0; m < node.cost.size(); ++m) {
                    if (program_.metrics[m].combine_max) {
                        // A peak: the largest of any one child call (a call made 0 times has none).
                        if (!child.count.is_zero() && node.cost[m] < child.cost[m]) node.cost[m] = child.cost[m];
                        continue;
                    }
                    charge(child.count, child.cost[m], site.span);
                    Number add = child.count * child.cost[m];
                    Number sum = node.cost[m] + add;
                    if (!sum.is_small() && sum.bit_size() > Number::max_bits) {
                        fail(code::too_large, site.span,
                             "the cost of this call in '" + program_.metrics[m].name + "' is too large to keep exactly",
                             "numbers are limited to " + std::to_string(Number::max_bits) + " bits");
                    }
                    node.cost[m] = std::move(sum);
                }
                if (keep_depth != 0) {
                    if (++nodes_ > limits_.max_nodes) {
                        fail(code::too_large, site.span,
                             "the cost tree has more than " + std::to_string(limits_.max_nodes) + " calls to show",
                             "show fewer levels (--depth N); totals need no tree");
                    }
                    node.children.push_back(std::move(child));
                }
                break;
            }
        }
    }
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
        // Every value a run sees lies in its variable's domain, wherever it came from: a
        // flag or REPL binding (no span), the model's default, or the declared default.
        if (auto problem = domain_problem(program, i, v)) {
            Span at = overridden ? Span{} : chosen->span;
            std::string hint = overridden                                   ? ""
                               : chosen == &program.runtimes[i].default_value ? "this is the declared default"
                                                                              : "this is the model's default";
            throw CostiError(Diagnostic{code::bad_domain, at, *problem, hint, {}});
        }
        env.runtime[i] = std::move(v);
    }
    return env;
}

}  // namespace costi::interp
