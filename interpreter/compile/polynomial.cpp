// Exact polynomials in canonical form (see polynomial.hpp).
#include "interpreter/compile/polynomial.hpp"

#include <algorithm>
#include <functional>

namespace costi::interp {

bool monomial_less(const Monomial& a, const Monomial& b) {
    std::size_t n = std::min(a.size(), b.size());
    for (std::size_t i = 0; i < n; ++i) {
        if (a[i].var != b[i].var) return a[i].var < b[i].var;
        if (a[i].power != b[i].power) return a[i].power < b[i].power;
    }
    return a.size() < b.size();
}

Monomial monomial_product(const Monomial& a, const Monomial& b) {
    Monomial out;
    out.reserve(a.size() + b.size());
    std::size_t i = 0, j = 0;
    while (i < a.size() || j < b.size()) {
        if (j == b.size() || (i < a.size() && a[i].var < b[j].var)) {
            out.push_back(a[i++]);
        } else if (i == a.size() || b[j].var < a[i].var) {
            out.push_back(b[j++]);
        } else {
            out.push_back({a[i].var, a[i].power + b[j].power});
            ++i;
            ++j;
        }
    }
    return out;
}

Poly Poly::constant(Number c) {
    Poly p;
    if (!c.is_zero()) p.terms_.push_back({{}, std::move(c)});
    return p;
}

Poly Poly::variable(Var v) {
    Poly p;
    p.terms_.push_back({{{v, 1}}, Number(1)});
    return p;
}

std::optional<Var> Poly::single_var() const {
    if (terms_.size() != 1) return std::nullopt;
    const Term& t = terms_[0];
    if (t.mono.size() != 1 || t.mono[0].power != 1 || !(t.coef == Number(1))) return std::nullopt;
    return t.mono[0].var;
}

std::uint32_t Poly::degree() const {
    std::uint32_t best = 0;
    for (const auto& t : terms_) {
        std::uint32_t d = 0;
        for (const auto& f : t.mono) d += f.power;
        best = std::max(best, d);
    }
    return best;
}

Number Poly::denominator() const {
    Number d(1);
    for (const auto& t : terms_) {
        if (!t.coef.is_integer()) d = Number::lcm(d, t.coef.denominator());
    }
    return d;
}

bool Poly::integer_coefficients() const {
    for (const auto& t : terms_)
        if (!t.coef.is_integer()) return false;
    return true;
}

Poly Poly::normalise(std::vector<Term> terms) {
    std::sort(terms.begin(), terms.end(), [](const Term& a, const Term& b) { return monomial_less(a.mono, b.mono); });
    Poly p;
    p.terms_.reserve(terms.size());
    for (auto& t : terms) {
        if (!p.terms_.empty() && p.terms_.back().mono == t.mono) {
            p.terms_.back().coef += t.coef;
            if (p.terms_.back().coef.is_zero()) p.terms_.pop_back();
            continue;
        }
        if (!t.coef.is_zero()) p.terms_.push_back(std::move(t));
    }
    return p;
}

Poly operator+(const Poly& a, const Poly& b) {
    if (a.is_zero()) return b;
    if (b.is_zero()) return a;
    // Both are sorted: merge.
    Poly p;
    p.terms_.reserve(a.terms_.size() + b.terms_.size());
    std::size_t i = 0, j = 0;
    while (i < a.terms_.size() || j < b.terms_.size()) {
        if (j == b.terms_.size() || (i < a.terms_.size() && monomial_less(a.terms_[i].mono, b.terms_[j].mono))) {
            p.terms_.push_back(a.terms_[i++]);
        } else if (i == a.terms_.size() || monomial_less(b.terms_[j].mono, a.terms_[i].mono)) {
            p.terms_.push_back(b.terms_[j++]);
        } else {
            Number c = a.terms_[i].coef + b.terms_[j].coef;
            if (!c.is_zero()) p.terms_.push_back({a.terms_[i].mono, std::move(c)});
            ++i;
            ++j;
        }
    }
    return p;
}

Poly Poly::operator-() const {
    Poly p = *this;
    for (auto& t : p.terms_) t.coef = -t.coef;
    return p;
}

Poly operator-(const Poly& a, const Poly& b) {
    return a + (-b);
}

Poly Poly::scaled(const Number& c) const {
    if (c.is_zero()) return {};
    Poly p = *this;
    for (auto& t : p.terms_) t.coef = t.coef * c;
    return p;
}

Poly operator*(const Poly& a, const Poly& b) {
    if (a.is_zero() || b.is_zero()) return {};
    if (a.is_constant()) return b.scaled(a.constant_value());
    if (b.is_constant()) return a.scaled(b.constant_value());
    std::vector<Term> terms;
    terms.reserve(a.terms_.size() * b.terms_.size());
    for (const auto& x : a.terms_)
        for (const auto& y : b.terms_) terms.push_back({monomial_product(x.mono, y.mono), x.coef * y.coef});
    return Poly::normalise(std::move(terms));
}

bool Poly::operator==(const Poly& o) const {
    if (terms_.size() != o.terms_.size()) return false;
    for (std::size_t i = 0; i < terms_.size(); ++i) {
        if (!(terms_[i].mono == o.terms_[i].mono) || !(terms_[i].coef == o.terms_[i].coef)) return false;
    }
    return true;
}

std::size_t Poly::hash() const {
    std::size_t h = 0xcbf29ce484222325ULL;
    auto mix = [&h](std::size_t x) { h ^= x + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2); };
    for (const auto& t : terms_) {
        for (const auto& f : t.mono) mix((static_cast<std::size_t>(f.var) << 8) ^ f.power);
        mix(t.coef.hash());
        mix(0x51);
    }
    return h;
}

}  // namespace costi::interp
