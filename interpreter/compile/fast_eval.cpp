// The straight-line program of a compiled form and its checked 128-bit run (see fast_eval.hpp).
#include "interpreter/compile/fast_eval.hpp"

#include <algorithm>

namespace costi::interp {

namespace {

using Int = FastForm::Int;

// The exact Number of a 128-bit integer.
Number to_number(Int v) {
    if (v >= INT64_MIN && v <= INT64_MAX) return Number(static_cast<std::int64_t>(v));
    __extension__ typedef unsigned __int128 UInt;
    bool negative = v < 0;
    UInt u = negative ? static_cast<UInt>(-(v + 1)) + 1 : static_cast<UInt>(v);
    Number r(0);
    const Number base(std::int64_t{1} << 32);
    for (int shift = 96; shift >= 0; shift -= 32) r = r * base + Number(static_cast<std::int64_t>((u >> shift) & 0xffffffffU));
    return negative ? -r : r;
}

// The 128-bit integer of an integer Number, if it fits.
std::optional<Int> to_int(const Number& n) {
    if (auto v = n.to_int64()) return *v;
    if (!n.is_integer()) return std::nullopt;
    std::string digits = n.to_string();
    bool negative = digits[0] == '-';
    Int v = 0;
    for (std::size_t i = negative ? 1 : 0; i < digits.size(); ++i) {
        if (__builtin_mul_overflow(v, Int(10), &v) || __builtin_add_overflow(v, Int(digits[i] - '0'), &v)) return std::nullopt;
    }
    return negative ? -v : v;
}

Int floor_div(Int a, Int d) {  // d > 0
    Int q = a / d;
    return (a % d != 0 && a < 0) ? q - 1 : q;
}

}  // namespace

std::size_t FastForm::MonoHash::operator()(const Monomial& m) const {
    std::size_t h = 0x84222325ULL;
    for (const auto& f : m) h ^= ((static_cast<std::size_t>(f.var) << 8) ^ f.power) + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    return h;
}

std::uint32_t FastForm::reg() {
    return registers_++;
}

std::uint32_t FastForm::constant(const Number& n) {
    for (std::size_t i = 0; i < const_numbers_.size(); ++i)
        if (const_numbers_[i] == n) return static_cast<std::uint32_t>(i);
    auto v = to_int(n);
    if (!v) consts_fit_ = false;
    consts_.push_back(v.value_or(0));
    const_numbers_.push_back(n);
    return static_cast<std::uint32_t>(consts_.size() - 1);
}

std::uint32_t FastForm::monomial(const Monomial& m) {
    if (auto it = mono_reg_.find(m); it != mono_reg_.end()) return it->second;
    std::uint32_t r = reg();
    if (m.empty()) {
        code_.push_back({Op::constant, 0, r, constant(Number(1)), 0, 0});
    } else if (m.size() == 1 && m[0].power == 1) {
        r = var_reg_[m[0].var];
        --registers_;
    } else {
        // m = prefix · v, the prefix (one power of its last variable less) shared.
        Monomial prefix = m;
        Var v = prefix.back().var;
        if (--prefix.back().power == 0) prefix.pop_back();
        std::uint32_t p = prefix.empty() ? var_reg_[v] : monomial(prefix);
        if (prefix.empty()) {
            --registers_;
            r = p;
        } else {
            code_.push_back({Op::mul, 0, r, p, var_reg_[v], 0});
        }
    }
    mono_reg_.emplace(m, r);
    return r;
}

FastForm::Scaled FastForm::poly(const Poly& p) {
    if (auto it = poly_reg_.find(p); it != poly_reg_.end()) return it->second;
    Number d = p.denominator();
    Scaled s{0, constant(d), d == Number(1)};
    if (p.terms().size() == 1 && p.terms()[0].coef == Number(1) && !p.terms()[0].mono.empty()) {
        s.reg = monomial(p.terms()[0].mono);
    } else {
        s.reg = reg();
        code_.push_back({Op::constant, 0, s.reg, constant(Number(0)), 0, 0});
        for (const Term& t : p.terms()) {
            std::uint32_t m = monomial(t.mono);
            code_.push_back({Op::fma, 0, s.reg, s.reg, m, constant(t.coef * d)});
        }
    }
    poly_reg_.emplace(p, s);
    return s;
}

std::uint32_t FastForm::value_of(const Poly& p) {
    Scaled s = poly(p);
    if (s.integer) return s.reg;
    if (auto it = value_reg_.find(p); it != value_reg_.end()) return it->second;
    std::uint32_t r = reg();
    code_.push_back({Op::exact_div, 0, r, s.reg, s.scale, 0});
    value_reg_.emplace(p, r);
    return r;
}

void FastForm::emit_atom(Var v) {
    const Atom& a = form_.atom(v);
    std::uint32_t r = 0;
    auto unary = [&](Op op, std::uint32_t x) {
        r = reg();
        code_.push_back({op, 0, r, x, 0, 0});
    };
    switch (a.kind) {
        case AtomKind::floor:
        case AtomKind::ceil: {
            Scaled s = poly(a.args[0]);
            if (s.integer) {
                r = s.reg;
            } else {
                r = reg();
                code_.push_back({a.kind == AtomKind::floor ? Op::floor_div : Op::ceil_div, 0, r, s.reg, s.scale, 0});
            }
            break;
        }
        case AtomKind::abs:
            unary(Op::abs, value_of(a.args[0]));
            break;
        case AtomKind::recip:
            unary(Op::recip, value_of(a.args[0]));
            break;
        case AtomKind::min:
        case AtomKind::max: {
            r = value_of(a.args[0]);
            for (std::size_t i = 1; i < a.args.size(); ++i) {
                std::uint32_t x = value_of(a.args[i]);
                std::uint32_t next = reg();
                code_.push_back({a.kind == AtomKind::min ? Op::min : Op::max, 0, next, r, x, 0});
                r = next;
            }
            break;
        }
        case AtomKind::mod: {
            std::uint32_t x = value_of(a.args[0]);
            std::uint32_t y = value_of(a.args[1]);
            r = reg();
            code_.push_back({Op::mod, 0, r, x, y, 0});
            break;
        }
        case AtomKind::cmp: {
            Scaled d = poly(a.args[0] - a.args[1]);  // its sign is the difference's: the scale is positive
            r = reg();
            code_.push_back({Op::cmp, static_cast<unsigned char>(a.op), r, d.reg, 0, 0});
            break;
        }
        case AtomKind::and_:
        case AtomKind::or_: {
            std::uint32_t x = poly(a.args[0]).reg;
            std::uint32_t y = poly(a.args[1]).reg;
            r = reg();
            code_.push_back({a.kind == AtomKind::and_ ? Op::and_ : Op::or_, 0, r, x, y, 0});
            break;
        }
        case AtomKind::not_:
            unary(Op::not_, poly(a.args[0]).reg);
            break;
        case AtomKind::cond: {
            std::uint32_t c = poly(a.args[0]).reg;
            std::uint32_t x = value_of(a.args[1]);
            std::uint32_t y = value_of(a.args[2]);
            r = reg();
            code_.push_back({Op::select, 0, r, c, x, y});
            break;
        }
    }
    var_reg_[v] = r;
}

FastForm::FastForm(const Compiled& form, std::vector<Poly> outputs) : form_(form), outputs_(std::move(outputs)) {
    var_reg_.assign(form.variables(), 0);
    for (std::uint32_t i = 0; i < form.free.size(); ++i) {
        var_reg_[i] = reg();
        code_.push_back({Op::input, 0, var_reg_[i], i, 0, 0});
    }
    // The atoms the outputs and the guards need, found from the last one down (an atom's
    // arguments use only earlier variables), then computed in order.
    std::vector<bool> needed(form.variables(), false);
    auto mark = [&](const Poly& p) {
        for (const Term& t : p.terms())
            for (const Factor& f : t.mono) needed[f.var] = true;
    };
    for (const auto& p : outputs_) mark(p);
    for (const Guard& g : form.guards) {
        mark(g.value);
        for (const auto& l : g.path) mark(l.value);
    }
    for (std::size_t v = form.variables(); v-- > form.free.size();) {
        if (!needed[v]) continue;
        for (const auto& p : form.atom(static_cast<Var>(v)).args) mark(p);
    }
    for (std::size_t v = form.free.size(); v < form.variables(); ++v)
        if (needed[v]) emit_atom(static_cast<Var>(v));
    // Every guard: the fast path only tells whether one fails; the exact path says which.
    for (const Guard& g : form.guards) {
        Check c;
        c.kind = g.kind;
        for (const auto& l : g.path) c.path.emplace_back(poly(l.value).reg, l.holds);
        switch (g.kind) {
            case Guard::Kind::fail:
                break;
            case Guard::Kind::nonzero:
            case Guard::Kind::require:
                c.value = poly(g.value).reg;
                break;
            case Guard::Kind::count:
                c.value = value_of(g.value);
                break;
            case Guard::Kind::domain: {
                c.value = value_of(g.value);  // a value that is not an integer is checked exactly
                const Domain& d = form.program->runtimes[g.runtime].domain;
                if (d.lower) {
                    auto lo = to_int(d.lower_strict ? d.lower->floor() + 1 : d.lower->ceil());
                    consts_fit_ = consts_fit_ && lo.has_value();
                    c.has_lower = true;
                    c.lower = lo.value_or(0);
                }
                if (d.upper) {
                    auto hi = to_int(d.upper_strict ? d.upper->ceil() - 1 : d.upper->floor());
                    consts_fit_ = consts_fit_ && hi.has_value();
                    c.has_upper = true;
                    c.upper = hi.value_or(0);
                }
                break;
            }
        }
        code_.push_back({Op::guard, 0, 0, static_cast<std::uint32_t>(checks_.size()), 0, 0});
        checks_.push_back(std::move(c));
    }
    for (std::uint32_t i = 0; i < outputs_.size(); ++i) {
        Scaled s = poly(outputs_[i]);
        code_.push_back({Op::output, 0, i, s.reg, s.scale, 0});
        out_scale_.push_back(s.scale);
    }
    regs_.assign(registers_, 0);
    out_scaled_.assign(outputs_.size(), 0);
}

bool FastForm::run_fast(const std::vector<Number>& point, std::vector<Number>& out) {
    if (!consts_fit_) return false;
    Int* r = regs_.data();
    const Int* k = consts_.data();
    for (const Instr& in : code_) {
        switch (in.op) {
            case Op::input: {
                auto v = point[in.a].to_int64();
                if (!v) return false;
                r[in.dst] = *v;
                break;
            }
            case Op::constant:
                r[in.dst] = k[in.a];
                break;
            case Op::mul:
                if (__builtin_mul_overflow(r[in.a], r[in.b], &r[in.dst])) return false;
                break;
            case Op::fma: {
                Int t;
                if (__builtin_mul_overflow(r[in.b], k[in.c], &t) || __builtin_add_overflow(r[in.a], t, &r[in.dst])) return false;
                break;
            }
            case Op::exact_div: {
                Int d = k[in.b];
                if (r[in.a] % d != 0) return false;
                r[in.dst] = r[in.a] / d;
                break;
            }
            case Op::floor_div:
                r[in.dst] = floor_div(r[in.a], k[in.b]);
                break;
            case Op::ceil_div:
                r[in.dst] = -floor_div(-r[in.a], k[in.b]);
                break;
            case Op::abs:
                r[in.dst] = r[in.a] < 0 ? -r[in.a] : r[in.a];
                break;
            case Op::recip: {
                Int x = r[in.a];
                if (x != 0 && x != 1 && x != -1) return false;
                r[in.dst] = x;
                break;
            }
            case Op::min:
                r[in.dst] = std::min(r[in.a], r[in.b]);
                break;
            case Op::max:
                r[in.dst] = std::max(r[in.a], r[in.b]);
                break;
            case Op::mod: {
                Int a = r[in.a], b = r[in.b];
                if (b == 0) {
                    r[in.dst] = 0;
                } else {
                    Int m = a % b;
                    if (m != 0 && ((m < 0) != (b < 0))) m += b;
                    r[in.dst] = m;
                }
                break;
            }
            case Op::cmp: {
                Int x = r[in.a];
                bool v = false;
                switch (static_cast<ast::Op>(in.cmp)) {
                    case ast::Op::eq:
                        v = x == 0;
                        break;
                    case ast::Op::ne:
                        v = x != 0;
                        break;
                    case ast::Op::lt:
                        v = x < 0;
                        break;
                    case ast::Op::le:
                        v = x <= 0;
                        break;
                    case ast::Op::gt:
                        v = x > 0;
                        break;
                    default:
                        v = x >= 0;
                        break;
                }
                r[in.dst] = v ? 1 : 0;
                break;
            }
            case Op::and_:
                r[in.dst] = (r[in.a] != 0 && r[in.b] != 0) ? 1 : 0;
                break;
            case Op::or_:
                r[in.dst] = (r[in.a] != 0 || r[in.b] != 0) ? 1 : 0;
                break;
            case Op::not_:
                r[in.dst] = r[in.a] == 0 ? 1 : 0;
                break;
            case Op::select:
                r[in.dst] = r[in.a] != 0 ? r[in.b] : r[in.c];
                break;
            case Op::guard: {
                const Check& c = checks_[in.a];
                bool applies = true;
                for (const auto& [reg, holds] : c.path) applies = applies && ((r[reg] != 0) == holds);
                if (!applies) break;
                switch (c.kind) {
                    case Guard::Kind::fail:
                        return false;
                    case Guard::Kind::nonzero:
                    case Guard::Kind::require:
                        if (r[c.value] == 0) return false;
                        break;
                    case Guard::Kind::count:
                        if (r[c.value] < 0) return false;
                        break;
                    case Guard::Kind::domain:
                        if ((c.has_lower && r[c.value] < c.lower) || (c.has_upper && r[c.value] > c.upper)) return false;
                        break;
                }
                break;
            }
            case Op::output:
                out_scaled_[in.dst] = r[in.a];
                break;
        }
    }
    out.resize(outputs_.size());
    for (std::size_t i = 0; i < outputs_.size(); ++i) {
        Int s = out_scaled_[i];
        Int d = k[out_scale_[i]];
        if (d == 1) {
            out[i] = to_number(s);
        } else if (s % d == 0) {
            out[i] = to_number(s / d);
        } else {
            out[i] = *Number::divide(to_number(s), to_number(d));
        }
    }
    return true;
}

void FastForm::evaluate(const std::vector<Number>& point, std::vector<Number>& out) {
    if (run_fast(point, out)) {
        ++fast_points_;
        return;
    }
    ++exact_points_;
    ExactPoint exact(form_, point);
    exact.check_guards();
    out.resize(outputs_.size());
    for (std::size_t i = 0; i < outputs_.size(); ++i) out[i] = exact.value(outputs_[i]);
}

}  // namespace costi::interp
