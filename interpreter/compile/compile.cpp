// The compile stage: symbolic evaluation of a model's call tree (see compile.hpp).
//
// The compiler follows Evaluator (evaluator.cpp) statement by statement, with symbolic
// values in place of numbers, so that both raise the same errors in the same order. Where
// the evaluator would fail only at some points, the compiler records a guard.
#include "interpreter/compile/compile.hpp"

#include <algorithm>
#include <functional>
#include <unordered_map>

#include "interpreter/diagnostics.hpp"
#include "interpreter/domain.hpp"
#include "interpreter/ops.hpp"

namespace costi::interp {

namespace {

// A symbolic value: a polynomial, or a fixed string, or absent.
struct Sym {
    Value::Kind kind = Value::Kind::absent;
    Poly poly;
    std::string str;

    static Sym num(Poly p) { return {Value::Kind::number, std::move(p), {}}; }
    static Sym of(const Value& v) {
        if (v.is_number()) return num(Poly::constant(v.num));
        return {v.kind, {}, v.str};
    }
    bool is_num() const { return kind == Value::Kind::number; }
    bool is_fixed() const { return !is_num() || poly.is_constant(); }
    // The value of a fixed Sym.
    Value value() const {
        if (is_num()) return Value::of(poly.constant_value());
        if (kind == Value::Kind::string) return Value::of_string(str);
        return {};
    }
    bool operator==(const Sym& o) const { return kind == o.kind && str == o.str && poly == o.poly; }
    std::size_t hash() const { return is_num() ? poly.hash() : std::hash<std::string>{}(str) ^ static_cast<std::size_t>(kind); }
};

// A fixed stand-in for a symbolic number, where only the kinds of the operands decide (a
// type error names only the operand that is not a number).
Value stand_in(const Sym& s) {
    return s.is_fixed() ? s.value() : Value::of(0);
}

ast::Op negated(ast::Op op) {
    switch (op) {
        case ast::Op::eq:
            return ast::Op::ne;
        case ast::Op::ne:
            return ast::Op::eq;
        case ast::Op::lt:
            return ast::Op::ge;
        case ast::Op::le:
            return ast::Op::gt;
        case ast::Op::gt:
            return ast::Op::le;
        default:
            return ast::Op::lt;
    }
}

bool holds(ast::Op op, const Number& d) {  // d op 0
    switch (op) {
        case ast::Op::eq:
            return d.is_zero();
        case ast::Op::ne:
            return !d.is_zero();
        case ast::Op::lt:
            return d.sign() < 0;
        case ast::Op::le:
            return d.sign() <= 0;
        case ast::Op::gt:
            return d.sign() > 0;
        default:
            return d.sign() >= 0;
    }
}

class Compiler {
public:
    Compiler(const Program& program, CompileRequest request) : program_(program), req_(std::move(request)) {
        out_.program = &program_;
        out_.free = req_.free;
        std::sort(out_.free.begin(), out_.free.end());
        out_.free.erase(std::unique(out_.free.begin(), out_.free.end()), out_.free.end());
        for (auto r : out_.free) var_integer_.push_back(program_.runtimes[r].domain.integer);
    }

    Compiled run() {
        try {
            bind_runtime();
            out_.root = invoke(req_.entry, {}, req_.keep_depth);
        } catch (CostiError& e) {
            // An error on every path: the interpreter reports it wherever no earlier guard
            // fails. With no guard before it but the free variables' domains, it is the error.
            if (e.diagnostics().empty() || e.diagnostics().front().code == code::not_compilable || !has_real_guard_)
                throw;
            Guard g;
            g.kind = Guard::Kind::fail;
            g.diagnostic = e.diagnostics().front();
            out_.guards.push_back(std::move(g));
            out_.root = CompiledNode{};
            out_.root.count = Poly::constant(1);
            out_.root.cost.assign(program_.metrics.size(), Poly());
        }
        return std::move(out_);
    }

private:
    const Program& program_;
    CompileRequest req_;
    Compiled out_;
    std::vector<bool> var_integer_;  // per variable: an integer at every point
    std::vector<bool> var_boolean_;  // per atom variable (offset by free.size()): 0 or 1
    std::vector<Sym> rt_;            // the runtime variables' values
    std::vector<PathLiteral> path_;  // the conditions the expression being compiled runs under
    std::vector<ChainFrame> frames_;  // the calls being compiled, outermost first
    bool has_real_guard_ = false;     // a guard other than a free variable's domain
    std::unordered_map<std::size_t, std::vector<Var>> atom_index_;
    const std::vector<Poly>* leaf_cost_ = nullptr;
    std::uint64_t calls_ = 0;
    std::size_t nodes_ = 0;

    struct MemoKey {
        const Kernel* kernel = nullptr;
        std::vector<Sym> values;
        std::size_t hash = 0;
        bool operator==(const MemoKey& o) const { return kernel == o.kernel && values == o.values; }
    };
    struct MemoHash {
        std::size_t operator()(const MemoKey& k) const { return k.hash; }
    };
    std::unordered_map<MemoKey, std::vector<Poly>, MemoHash> memo_;

    // ---- errors and guards ----

    std::vector<ChainFrame> chain() const {
        std::vector<ChainFrame> c(frames_.rbegin(), frames_.rend());
        if (req_.model) c.push_back(*req_.model);
        return c;
    }

    [[noreturn]] void refuse(const Span& span, const std::string& what) {
        throw CostiError(Diagnostic{code::not_compilable, span, "cannot compile: " + what,
                                    "evaluate at a point instead (costi run), or fix these variables (--free)", chain()});
    }

    // The evaluator's `fail`: raised here when it happens on every path, else a guard on the
    // current path, the compilation going on with a stand-in value of 0.
    Sym fail(const char* c, const Span& span, std::string message, std::string hint = "") {
        Diagnostic d{c, span, std::move(message), std::move(hint), chain()};
        if (path_.empty()) throw CostiError(std::move(d));
        Guard g;
        g.kind = Guard::Kind::fail;
        g.path = path_;
        g.diagnostic = std::move(d);
        add_guard(std::move(g));
        return Sym::num({});
    }

    void add_guard(Guard g) {
        has_real_guard_ = has_real_guard_ || g.kind != Guard::Kind::domain || g.diagnostic.span.file != nullptr;
        out_.guards.push_back(std::move(g));
    }

    Guard guard(Guard::Kind kind, Poly value, const char* c, const Span& span, std::string message = "",
                std::string hint = "") {
        Guard g;
        g.kind = kind;
        g.path = path_;
        g.value = std::move(value);
        g.diagnostic = Diagnostic{c, span, std::move(message), std::move(hint), chain()};
        return g;
    }

    Poly checked(Poly p, const Span& span) {
        if (p.terms().size() > max_poly_terms)
            refuse(span, "the expression grows to more than " + std::to_string(max_poly_terms) + " terms");
        if (p.degree() > max_poly_degree)
            refuse(span, "the expression has a degree above " + std::to_string(max_poly_degree));
        return p;
    }

    // ---- atoms ----

    bool integer_valued(const Poly& p) const {
        if (!p.integer_coefficients()) return false;
        for (const Term& t : p.terms())
            for (const Factor& f : t.mono)
                if (!var_integer_[f.var]) return false;
        return true;
    }

    bool boolean(const Poly& p) const {
        if (p.is_constant()) return p.is_zero() || p.constant_value() == Number(1);
        auto v = p.single_var();
        return v && out_.is_atom(*v) && var_boolean_[*v - out_.free.size()];
    }

    Poly atom(AtomKind kind, std::vector<Poly> args, ast::Op op = ast::Op::eq) {
        std::size_t h = static_cast<std::size_t>(kind) * 131 + static_cast<std::size_t>(op);
        for (const auto& a : args) h ^= a.hash() + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
        auto& bucket = atom_index_[h];
        for (Var v : bucket) {
            const Atom& a = out_.atom(v);
            if (a.kind == kind && a.op == op && a.args == args) return Poly::variable(v);
        }
        // Atom variables follow the free ones; the limit keeps the table and its evaluation bounded.
        if (out_.atoms.size() >= 1'000'000) refuse({}, "the model needs more than 1,000,000 atoms");
        Atom a;
        a.kind = kind;
        a.op = op;
        a.args = std::move(args);
        switch (kind) {
            case AtomKind::cmp:
            case AtomKind::and_:
            case AtomKind::or_:
            case AtomKind::not_:
                a.boolean = a.integer = true;
                break;
            case AtomKind::floor:
            case AtomKind::ceil:
                a.integer = true;
                break;
            case AtomKind::abs:
            case AtomKind::min:
            case AtomKind::max:
                a.integer = std::all_of(a.args.begin(), a.args.end(), [&](const Poly& p) { return integer_valued(p); });
                break;
            case AtomKind::mod:
                a.integer = integer_valued(a.args[0]) && integer_valued(a.args[1]);
                break;
            case AtomKind::recip:
                break;
            case AtomKind::cond:
                a.integer = integer_valued(a.args[1]) && integer_valued(a.args[2]);
                a.boolean = boolean(a.args[1]) && boolean(a.args[2]);
                break;
        }
        Var v = static_cast<Var>(out_.variables());
        var_integer_.push_back(a.integer);
        var_boolean_.push_back(a.boolean);
        out_.atoms.push_back(std::move(a));
        bucket.push_back(v);
        return Poly::variable(v);
    }

    Poly compare(ast::Op op, const Poly& a, const Poly& b) {
        Poly d = a - b;
        if (d.is_constant()) return Poly::constant(holds(op, d.constant_value()) ? 1 : 0);
        return atom(AtomKind::cmp, {a, b}, op);
    }

    Poly negate(const Poly& b) {  // not b, for a boolean b
        if (b.is_constant()) return Poly::constant(b.is_zero() ? 1 : 0);
        const Atom& a = out_.atom(*b.single_var());
        if (a.kind == AtomKind::not_) return a.args[0];
        if (a.kind == AtomKind::cmp) return atom(AtomKind::cmp, a.args, negated(a.op));
        return atom(AtomKind::not_, {b});
    }

    // truth(v) as a 0/1 polynomial.
    Poly truth(const Sym& s, const Span& span) {
        if (!s.is_num()) {
            OpError err;
            (void)interp::truth(s.value(), err);
            fail(err.code, span, err.message, err.hint);
            return {};
        }
        if (s.poly.is_constant()) return Poly::constant(s.poly.is_zero() ? 0 : 1);
        if (boolean(s.poly)) return s.poly;
        return compare(ast::Op::ne, s.poly, {});
    }

    Poly cond(const Poly& c, const Poly& a, const Poly& b) {
        if (a == b) return a;
        if (boolean(c) && a.is_constant() && b.is_constant()) {
            // (if c then 1 else 0) is c, (if c then 0 else 1) is not c.
            if (a.constant_value() == Number(1) && b.is_zero()) return c;
            if (a.is_zero() && b.constant_value() == Number(1)) return negate(c);
        }
        return atom(AtomKind::cond, {c, a, b});
    }

    Poly floor_of(const Poly& p, bool up) {
        if (integer_valued(p)) return p;
        return atom(up ? AtomKind::ceil : AtomKind::floor, {p});
    }

    Poly recip(const Poly& b, const Span& span, const char* message) {
        Guard g = guard(Guard::Kind::nonzero, b, code::division_by_zero, span, message);
        add_guard(std::move(g));
        return atom(AtomKind::recip, {b});
    }

    // ---- expressions (Evaluator::eval) ----

    Sym fold(const std::function<std::optional<Value>(OpError&)>& op, const Span& span) {
        OpError err;
        auto r = op(err);
        if (!r) return fail(err.code, span, err.message, err.hint);
        return Sym::of(*r);
    }

    Sym eval(const CExpr& e, const std::vector<Sym>& locals, bool allow_absent) {
        switch (e.kind) {
            case CExpr::Kind::constant:
                return Sym::of(e.constant);
            case CExpr::Kind::local:
                return locals[e.index];
            case CExpr::Kind::runtime:
                return rt_[e.index];
            case CExpr::Kind::config: {
                const Value& v = req_.env.config[e.index];
                if (v.is_absent() && !allow_absent) {
                    const std::string& key = program_.config_keys[e.index];
                    return fail(code::absent_config, e.span, "config." + key + " is not set by this model",
                                "set it in the model's config { … }, with --set config." + key +
                                    "=VALUE, or give a default: config." + key + " ?? VALUE");
                }
                return Sym::of(v);
            }
            case CExpr::Kind::hardware: {
                const Property& p = program_.properties[e.index];
                if (req_.env.hardware == nullptr) {
                    if (allow_absent) return {};
                    return fail(code::absent_hardware, e.span,
                                "hw." + p.name + " needs a hardware, and none is selected",
                                "choose one with --hw NAME (costi list hardware shows them)");
                }
                const Value& v = req_.env.hardware->values[e.index];
                if (v.is_absent() && !allow_absent) {
                    return fail(code::absent_hardware, e.span,
                                "hardware '" + req_.env.hardware->name + "' gives no " + p.name +
                                    (p.description.empty() ? "" : " (" + p.description + ")"),
                                "the device lacks it or no source gives it: choose another device (costi list "
                                "hardware), add " +
                                    p.name + " = VALUE \"source\" to its description, or give the formula a fallback (hw." +
                                    p.name + " ?? …)");
                }
                return Sym::of(v);
            }
            case CExpr::Kind::metric:
                return Sym::num(leaf_cost_ == nullptr ? Poly() : (*leaf_cost_)[e.index]);
            case CExpr::Kind::unary:
                return unary(e, eval(e.args[0], locals, false));
            case CExpr::Kind::binary: {
                if (e.op == ast::Op::default_) {
                    Sym a = eval(e.args[0], locals, true);
                    return a.kind == Value::Kind::absent ? eval(e.args[1], locals, allow_absent) : a;
                }
                if (e.op == ast::Op::and_ || e.op == ast::Op::or_) return logical(e, locals);
                Sym a = eval(e.args[0], locals, false);
                Sym b = eval(e.args[1], locals, false);
                return binary(e.op, a, b, e.span);
            }
            case CExpr::Kind::function: {
                std::vector<Sym> args;
                args.reserve(e.args.size());
                for (const auto& a : e.args) args.push_back(eval(a, locals, false));
                return function(e.fn, args, e.span);
            }
            case CExpr::Kind::cond: {
                Poly c = truth(eval(e.args[0], locals, false), e.args[0].span);
                if (c.is_constant()) return eval(e.args[c.is_zero() ? 2 : 1], locals, allow_absent);
                path_.push_back({c, true});
                Sym a = eval(e.args[1], locals, allow_absent);
                path_.back().holds = false;
                Sym b = eval(e.args[2], locals, allow_absent);
                path_.pop_back();
                if (a.is_num() && b.is_num()) return Sym::num(cond(c, a.poly, b.poly));
                if (a == b) return a;
                refuse(e.span, "this if/else gives a text or an absent value chosen by a free variable");
            }
            case CExpr::Kind::call:
                return fail(code::type_error, e.span, "a kernel call has one value per metric, not a single value",
                            "evaluate the call on its own to see its metrics");
        }
        return {};
    }

    Sym unary(const CExpr& e, const Sym& a) {
        if (a.is_fixed()) return fold([&](OpError& err) { return apply_unary(e.op, a.value(), err); }, e.span);
        if (e.op == ast::Op::not_) return Sym::num(negate(truth(a, e.span)));
        return Sym::num(e.op == ast::Op::neg ? -a.poly : a.poly);
    }

    Sym logical(const CExpr& e, const std::vector<Sym>& locals) {
        bool is_or = e.op == ast::Op::or_;
        Poly l = truth(eval(e.args[0], locals, false), e.args[0].span);
        if (l.is_constant()) {
            if (!l.is_zero() == is_or) return Sym::num(l);
            return Sym::num(truth(eval(e.args[1], locals, false), e.args[1].span));
        }
        path_.push_back({l, !is_or});
        Poly r = truth(eval(e.args[1], locals, false), e.args[1].span);
        path_.pop_back();
        if (r.is_constant()) {
            if (r.is_zero()) return Sym::num(is_or ? l : Poly());
            return Sym::num(is_or ? Poly::constant(1) : l);
        }
        return Sym::num(atom(is_or ? AtomKind::or_ : AtomKind::and_, {l, r}));
    }

    Sym binary(ast::Op op, const Sym& a, const Sym& b, const Span& span) {
        if (a.is_fixed() && b.is_fixed())
            return fold([&](OpError& err) { return apply_binary(op, a.value(), b.value(), err); }, span);
        if (!a.is_num() || !b.is_num()) {
            if ((op == ast::Op::eq || op == ast::Op::ne) && (a.kind == Value::Kind::string || b.kind == Value::Kind::string))
                refuse(span, "a text is compared with a value that depends on free variables");
            // A type error names only the operand that is not a number: the same at every point.
            return fold([&](OpError& err) { return apply_binary(op, stand_in(a), stand_in(b), err); }, span);
        }
        const Poly& x = a.poly;
        const Poly& y = b.poly;
        auto division_by_zero = [&] { return "division by zero in '" + std::string(op_text(op)) + "'"; };
        switch (op) {
            case ast::Op::add:
                return Sym::num(checked(x + y, span));
            case ast::Op::sub:
                return Sym::num(checked(x - y, span));
            case ast::Op::mul:
                return Sym::num(checked(x * y, span));
            case ast::Op::div:
            case ast::Op::floor_div: {
                Poly q;
                if (y.is_constant()) {
                    if (y.is_zero()) return fail(code::division_by_zero, span, division_by_zero());
                    q = x.scaled(*Number::divide(Number(1), y.constant_value()));
                } else {
                    q = checked(x * recip(y, span, division_by_zero().c_str()), span);
                }
                return Sym::num(op == ast::Op::div ? q : floor_of(q, false));
            }
            case ast::Op::mod:
                if (y.is_constant() && y.is_zero()) return fail(code::division_by_zero, span, division_by_zero());
                if (!y.is_constant()) add_guard(guard(Guard::Kind::nonzero, y, code::division_by_zero, span, division_by_zero()));
                return Sym::num(atom(AtomKind::mod, {x, y}));
            case ast::Op::pow:
                return power(x, y, span);
            case ast::Op::eq:
            case ast::Op::ne:
            case ast::Op::lt:
            case ast::Op::le:
            case ast::Op::gt:
            case ast::Op::ge:
                return Sym::num(compare(op, x, y));
            default:
                break;
        }
        return fold([&](OpError& err) { return apply_binary(op, stand_in(a), stand_in(b), err); }, span);
    }

    Sym power(const Poly& x, const Poly& y, const Span& span) {
        if (!y.is_constant()) refuse(span, "the exponent of '^' depends on free variables");
        const Number e = y.constant_value();
        if (!e.is_integer())
            return fail(code::bad_power, span, "the exponent of '^' must be an integer, got " + e.to_string(),
                        "roots are not exact rationals");
        auto n = e.to_int64();
        if (!n || *n > static_cast<std::int64_t>(max_poly_degree) || *n < -static_cast<std::int64_t>(max_poly_degree))
            refuse(span, "the power " + e.to_string() + " of an expression in free variables is too large");
        if (*n == 0) return Sym::num(Poly::constant(1));
        Poly base = x;
        if (*n < 0) {
            std::string message = "0 raised to the negative power " + e.to_string();
            base = recip(x, span, message.c_str());
        }
        Poly r = Poly::constant(1);
        for (std::int64_t i = 0; i < (*n < 0 ? -*n : *n); ++i) r = checked(r * base, span);
        return Sym::num(r);
    }

    Sym function(Fn fn, const std::vector<Sym>& args, const Span& span) {
        bool fixed = std::all_of(args.begin(), args.end(), [](const Sym& s) { return s.is_fixed(); });
        bool numbers = std::all_of(args.begin(), args.end(), [](const Sym& s) { return s.is_num(); });
        if (fn == Fn::one_of && !fixed) return one_of(args, span);
        if (fixed || !numbers) {
            return fold(
                [&](OpError& err) {
                    std::vector<Value> values;
                    for (const auto& s : args) values.push_back(stand_in(s));
                    return apply_function(fn, values, err);
                },
                span);
        }
        switch (fn) {
            case Fn::min:
            case Fn::max: {
                // The fixed arguments fold into one; equal ones count once.
                std::vector<Poly> kept;
                std::optional<Number> best;
                for (const auto& s : args) {
                    if (s.poly.is_constant()) {
                        Number c = s.poly.constant_value();
                        if (!best || (fn == Fn::min ? c < *best : c > *best)) best = c;
                        continue;
                    }
                    if (std::find(kept.begin(), kept.end(), s.poly) == kept.end()) kept.push_back(s.poly);
                }
                if (best) kept.push_back(Poly::constant(*best));
                if (kept.size() == 1) return Sym::num(kept[0]);
                return Sym::num(atom(fn == Fn::min ? AtomKind::min : AtomKind::max, std::move(kept)));
            }
            case Fn::floor:
                return Sym::num(floor_of(args[0].poly, false));
            case Fn::ceil:
                return Sym::num(floor_of(args[0].poly, true));
            case Fn::abs:
                return Sym::num(atom(AtomKind::abs, {args[0].poly}));
            case Fn::one_of:
                break;
        }
        return {};
    }

    // one_of(x, a, …) over free variables: (x == a) or (x == b) …, each comparison made as
    // binary() makes it (a text against a free value is refused there). Every comparison is
    // made, as the evaluator makes every one, so the same inputs fail the same way.
    Sym one_of(const std::vector<Sym>& args, const Span& span) {
        bool found = false;
        std::optional<Poly> any;
        for (std::size_t i = 1; i < args.size(); ++i) {
            Poly eq = truth(binary(ast::Op::eq, args[0], args[i], span), span);
            if (eq.is_constant()) {
                found = found || !eq.is_zero();
            } else {
                any = any ? atom(AtomKind::or_, {*any, eq}) : eq;
            }
        }
        if (found) return Sym::num(Poly::constant(1));
        return Sym::num(any ? *any : Poly());
    }

    // ---- runtime variables (model_environment) ----

    static bool reads_any(const CExpr& e, const std::vector<bool>& symbolic) {
        std::vector<const CExpr*> todo{&e};
        while (!todo.empty()) {
            const CExpr* x = todo.back();
            todo.pop_back();
            if (x->kind == CExpr::Kind::runtime && symbolic[x->index]) return true;
            for (const auto& a : x->args) todo.push_back(&a);
        }
        return false;
    }

    void bind_runtime() {
        std::size_t n = program_.runtimes.size();
        rt_.assign(n, Sym{});
        std::vector<bool> symbolic(n, false);
        for (std::uint32_t i = 0; i < n; ++i) {
            int f = out_.free_index(i);
            const RuntimeSource source = i < req_.sources.size() ? req_.sources[i] : RuntimeSource{};
            if (f >= 0) {
                rt_[i] = Sym::num(Poly::variable(static_cast<Var>(f)));
                symbolic[i] = true;
                // A free variable's value is checked as a flag's is (no span, no hint).
                add_guard(guard(Guard::Kind::domain, rt_[i].poly, code::bad_domain, {}));
                out_.guards.back().runtime = i;
                continue;
            }
            if (source.expr == nullptr || !reads_any(*source.expr, symbolic)) {
                rt_[i] = Sym::of(req_.env.runtime[i]);
                continue;
            }
            Sym v = eval(*source.expr, {}, false);
            std::string hint = source.from_model ? "this is the model's default" : "this is the declared default";
            if (v.is_fixed()) {
                if (auto problem = domain_problem(program_, i, v.value()))
                    throw CostiError(Diagnostic{code::bad_domain, source.expr->span, *problem, hint, chain()});
            } else {
                add_guard(guard(Guard::Kind::domain, v.poly, code::bad_domain, source.expr->span, "", hint));
                out_.guards.back().runtime = i;
                symbolic[i] = true;
            }
            rt_[i] = std::move(v);
        }
    }

    // ---- calls (Evaluator::invoke, run_body) ----

    void collect_inputs(const CExpr& cond, const Kernel& k, const std::vector<Sym>& locals, Guard& g) const {
        std::vector<const CExpr*> todo{&cond};
        while (!todo.empty()) {
            const CExpr* e = todo.back();
            todo.pop_back();
            GuardInput in;
            const Sym* s = nullptr;
            Sym config;
            if (e->kind == CExpr::Kind::config) {
                const Value& v = req_.env.config[e->index];
                in.label = "config." + program_.config_keys[e->index];
                config = Sym::of(v);
                s = &config;
            } else if (e->kind == CExpr::Kind::runtime) {
                in.label = program_.runtimes[e->index].name;
                s = &rt_[e->index];
            } else if (e->kind == CExpr::Kind::local && e->index < locals.size()) {
                in.label = k.local_names[e->index];
                s = &locals[e->index];
            }
            if (s != nullptr) {
                in.fixed = s->is_fixed();
                if (in.fixed) {
                    in.text = s->value().show();
                } else {
                    in.value = s->poly;
                }
                g.inputs.push_back(std::move(in));
            }
            for (auto it = e->args.rbegin(); it != e->args.rend(); ++it) todo.push_back(&*it);
        }
    }

    CompiledNode invoke(const CallSite& site, const std::vector<Sym>& caller, int keep_depth) {
        const Kernel& k = *site.kernel;
        CompiledNode node;
        node.label = site.label;
        node.kernel = &k;
        node.count = Poly::constant(1);
        if (site.count) {
            Sym c = eval(*site.count, caller, false);
            const Span& at = site.count->span;
            if (c.is_fixed()) {
                Value v = c.value();
                if (!v.is_number() || !v.num.is_integer() || v.num.sign() < 0)
                    fail(code::bad_count, at, "repeat count must be a non-negative integer, got " + v.show());
            } else if (!boolean(c.poly)) {
                add_guard(guard(Guard::Kind::count, c.poly, code::bad_count, at));
            }
            node.count = c.is_num() ? c.poly : Poly();
        }
        std::vector<Sym> locals(k.local_names.size());
        for (std::size_t i = 0; i < site.args.size(); ++i) {
            if (site.args[i]) locals[i] = eval(*site.args[i], caller, false);
        }
        std::vector<std::pair<std::uint32_t, Sym>> saved;
        const std::string with_hint = "`with` may rebind a runtime variable only within its domain";
        for (const auto& [index, expr] : site.with) {
            Sym v = eval(expr, caller, false);
            if (v.is_fixed()) {
                if (auto problem = domain_problem(program_, index, v.value())) fail(code::bad_domain, expr.span, *problem, with_hint);
            } else {
                add_guard(guard(Guard::Kind::domain, v.poly, code::bad_domain, expr.span, "", with_hint));
                out_.guards.back().runtime = index;
            }
            saved.emplace_back(index, std::move(rt_[index]));
            rt_[index] = std::move(v);
        }
        frames_.push_back({"$" + k.name, site.span});
        struct Restore {
            Compiler& c;
            std::vector<std::pair<std::uint32_t, Sym>>& saved;
            ~Restore() {
                c.frames_.pop_back();
                for (auto it = saved.rbegin(); it != saved.rend(); ++it) c.rt_[it->first] = std::move(it->second);
            }
        } restore{*this, saved};
        for (std::size_t i = 0; i < site.args.size(); ++i) {
            if (!site.args[i]) locals[i] = eval(*k.params[i].default_value, locals, false);
        }
        bool memoise = keep_depth == 0;
        MemoKey key;
        if (memoise) {
            key.kernel = &k;
            key.values.assign(locals.begin(), locals.begin() + static_cast<long>(k.params.size()));
            for (auto r : k.reads) key.values.push_back(rt_[r]);
            std::size_t h = std::hash<const void*>{}(&k);
            for (const auto& v : key.values) h ^= v.hash() + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
            key.hash = h;
            if (auto it = memo_.find(key); it != memo_.end()) {
                node.cost = it->second;
                return node;
            }
        }
        if (++calls_ > req_.limits.max_calls) {
            fail(code::too_large, site.span,
                 "evaluation needs more than " + std::to_string(req_.limits.max_calls) + " distinct kernel calls",
                 "calls with the same arguments are evaluated once; this input makes more distinct calls than "
                 "costi evaluates");
        }
        run_body(k, locals, node, keep_depth);
        if (memoise && memo_.size() < req_.limits.max_nodes) memo_.emplace(std::move(key), node.cost);
        return node;
    }

    void run_body(const Kernel& k, std::vector<Sym>& locals, CompiledNode& node, int keep_depth) {
        node.cost.assign(program_.metrics.size(), Poly());
        if (k.is_leaf()) leaf_cost_ = &node.cost;
        int child_depth = keep_depth < 0 ? -1 : (keep_depth == 0 ? 0 : keep_depth - 1);
        for (const auto& step : k.steps) {
            switch (step.kind) {
                case Step::Kind::let:
                    locals[step.index] = eval(step.value, locals, false);
                    break;
                case Step::Kind::require: {
                    Poly h = truth(eval(step.value, locals, false), step.value.span);
                    if (h.is_constant() && !h.is_zero()) break;
                    Guard g = guard(Guard::Kind::require, h, code::requirement, step.value.span, k.requirements[step.index]);
                    collect_inputs(step.value, k, locals, g);
                    bool fixed_inputs = std::all_of(g.inputs.begin(), g.inputs.end(), [](const GuardInput& in) { return in.fixed; });
                    if (h.is_constant() && fixed_inputs) {
                        // Fails at every point, with the same message: the interpreter's error.
                        std::vector<std::string> parts;
                        for (const GuardInput& in : g.inputs) {
                            if (parts.size() >= 6) break;
                            std::string part = in.label + " = " + in.text;
                            if (std::find(parts.begin(), parts.end(), part) == parts.end()) parts.push_back(std::move(part));
                        }
                        for (const auto& p : parts) g.diagnostic.hint += (g.diagnostic.hint.empty() ? "with " : ", ") + p;
                        throw CostiError(std::move(g.diagnostic));
                    }
                    add_guard(std::move(g));
                    break;
                }
                case Step::Kind::assign: {
                    Sym v = eval(step.value, locals, false);
                    if (!v.is_num()) {
                        fail(code::type_error, step.value.span,
                             "metric '" + program_.metrics[step.index].name + "' must be a number, got " + v.value().show());
                        break;
                    }
                    node.cost[step.index] = checked(node.cost[step.index] + v.poly, step.value.span);
                    break;
                }
                case Step::Kind::child: {
                    const CallSite& site = k.children[step.index];
                    CompiledNode child = invoke(site, locals, child_depth);
                    for (std::size_t m = 0; m < node.cost.size(); ++m) {
                        if (program_.metrics[m].combine_max) {
                            // A peak: the largest of any one child call (a call made 0 times has none).
                            if (child.count.is_constant() && child.count.is_zero()) continue;
                            Poly larger = max_of(node.cost[m], child.cost[m]);
                            node.cost[m] = child.count.is_constant() ? larger
                                                                     : cond(compare(ast::Op::ne, child.count, {}), larger, node.cost[m]);
                            continue;
                        }
                        node.cost[m] = checked(node.cost[m] + child.count * child.cost[m], site.span);
                    }
                    if (keep_depth != 0) {
                        if (++nodes_ > req_.limits.max_nodes) {
                            fail(code::too_large, site.span,
                                 "the cost tree has more than " + std::to_string(req_.limits.max_nodes) + " calls to show",
                                 "show fewer levels (--depth N); totals need no tree");
                        }
                        node.children.push_back(std::move(child));
                    }
                    break;
                }
            }
        }
    }

    Poly max_of(const Poly& a, const Poly& b) {
        Poly d = a - b;
        if (d.is_constant()) return d.constant_value().sign() < 0 ? b : a;
        return atom(AtomKind::max, {a, b});
    }
};

}  // namespace

Compiled compile(const Program& program, CompileRequest request) {
    return Compiler(program, std::move(request)).run();
}

std::vector<RuntimeSource> runtime_sources(const Program& program, const Model& model,
                                           const std::vector<std::uint32_t>& given) {
    std::vector<RuntimeSource> out(program.runtimes.size());
    for (std::uint32_t i = 0; i < program.runtimes.size(); ++i) {
        if (std::find(given.begin(), given.end(), i) != given.end()) continue;
        out[i].expr = &program.runtimes[i].default_value;
        for (const auto& [index, expr] : model.defaults) {
            if (index == i) {
                out[i].expr = &expr;
                out[i].from_model = true;
            }
        }
    }
    return out;
}

}  // namespace costi::interp
