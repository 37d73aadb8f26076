// Exact evaluation of a compiled form at one point (see compiled.hpp).
#include "interpreter/compile/compiled.hpp"

#include <algorithm>

#include "interpreter/domain.hpp"
#include "interpreter/evaluator.hpp"

namespace costi::interp {

Poly Compiled::total(std::uint32_t m) const {
    const Metric& metric = program->metrics[m];
    if (!metric.combine_max) return root.count * root.cost[m];
    // The entry is called once; a form whose root count is not 1 is not a model's.
    return root.count.is_constant() && root.count.constant_value().is_zero() ? Poly() : root.cost[m];
}

int Compiled::free_index(std::uint32_t runtime) const {
    for (std::size_t i = 0; i < free.size(); ++i)
        if (free[i] == runtime) return static_cast<int>(i);
    return -1;
}

namespace {

bool truth(const Number& n) {
    return !n.is_zero();
}

bool compare(ast::Op op, const Number& a, const Number& b) {
    switch (op) {
        case ast::Op::eq:
            return a == b;
        case ast::Op::ne:
            return !(a == b);
        case ast::Op::lt:
            return a < b;
        case ast::Op::le:
            return a <= b;
        case ast::Op::gt:
            return a > b;
        default:
            return a >= b;
    }
}

}  // namespace

ExactPoint::ExactPoint(const Compiled& form, std::vector<Number> point) : form_(form), vars_(std::move(point)) {
    vars_.resize(form.free.size());
    vars_.reserve(form.variables());
    for (const Atom& a : form.atoms) {
        auto arg = [&](std::size_t i) { return value(a.args[i]); };
        Number v;
        switch (a.kind) {
            case AtomKind::floor:
                v = arg(0).floor();
                break;
            case AtomKind::ceil:
                v = arg(0).ceil();
                break;
            case AtomKind::abs:
                v = arg(0).abs();
                break;
            case AtomKind::min:
            case AtomKind::max: {
                v = arg(0);
                for (std::size_t i = 1; i < a.args.size(); ++i) {
                    Number x = arg(i);
                    if (a.kind == AtomKind::min ? x < v : x > v) v = std::move(x);
                }
                break;
            }
            case AtomKind::mod: {
                auto r = Number::modulo(arg(0), arg(1));
                v = r ? std::move(*r) : Number(0);
                break;
            }
            case AtomKind::recip: {
                auto r = Number::divide(Number(1), arg(0));
                v = r ? std::move(*r) : Number(0);
                break;
            }
            case AtomKind::cmp:
                v = compare(a.op, arg(0), arg(1)) ? 1 : 0;
                break;
            case AtomKind::and_:
                v = truth(arg(0)) && truth(arg(1)) ? 1 : 0;
                break;
            case AtomKind::or_:
                v = truth(arg(0)) || truth(arg(1)) ? 1 : 0;
                break;
            case AtomKind::not_:
                v = truth(arg(0)) ? 0 : 1;
                break;
            case AtomKind::cond:
                v = truth(arg(0)) ? arg(1) : arg(2);
                break;
        }
        vars_.push_back(std::move(v));
    }
}

Number ExactPoint::value(const Poly& p) const {
    Number sum(0);
    for (const Term& t : p.terms()) {
        Number x = t.coef;
        for (const Factor& f : t.mono)
            for (std::uint32_t i = 0; i < f.power; ++i) x = x * vars_[f.var];
        sum += x;
    }
    return sum;
}

bool ExactPoint::fails(const Guard& g) const {
    for (const PathLiteral& l : g.path)
        if (truth(value(l.value)) != l.holds) return false;
    switch (g.kind) {
        case Guard::Kind::fail:
            return true;
        case Guard::Kind::nonzero:
        case Guard::Kind::require:
            return value(g.value).is_zero();
        case Guard::Kind::count: {
            Number v = value(g.value);
            return !v.is_integer() || v.sign() < 0;
        }
        case Guard::Kind::domain:
            return !form_.program->runtimes[g.runtime].domain.contains(Value::of(value(g.value)));
    }
    return false;
}

void ExactPoint::raise(const Guard& g) const {
    Diagnostic d = g.diagnostic;
    switch (g.kind) {
        case Guard::Kind::fail:
        case Guard::Kind::nonzero:
            break;
        case Guard::Kind::require: {
            // As Evaluator::inputs_of: each name once, in order, at most 6.
            std::vector<std::string> parts;
            for (const GuardInput& in : g.inputs) {
                if (parts.size() >= 6) break;
                std::string part = in.label + " = " + (in.fixed ? in.text : value(in.value).to_string());
                if (std::find(parts.begin(), parts.end(), part) == parts.end()) parts.push_back(std::move(part));
            }
            std::string hint;
            for (const auto& p : parts) hint += (hint.empty() ? "with " : ", ") + p;
            d.hint = hint;
            break;
        }
        case Guard::Kind::count:
            d.message = "repeat count must be a non-negative integer, got " + value(g.value).to_string();
            break;
        case Guard::Kind::domain:
            d.message = *domain_problem(*form_.program, g.runtime, Value::of(value(g.value)));
            break;
    }
    throw CostiError(std::move(d));
}

void ExactPoint::check_guards() const {
    for (const Guard& g : form_.guards)
        if (fails(g)) raise(g);
}

}  // namespace costi::interp
