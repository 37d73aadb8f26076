// Exact polynomials: the values of the compile stage.
//
// Owns: polynomials with exact rational coefficients (Number) over numbered variables —
// the free runtime variables and the atoms of a compiled form (compiled.hpp) — in a
// canonical form (terms sorted by monomial, no zero coefficients), so equal polynomials are
// equal as data and hash equally; their ring arithmetic. Does not own what a variable
// stands for (compiled.hpp) or how a polynomial is printed (repl/report_formula.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "interpreter/number.hpp"

namespace costi::interp {

using Var = std::uint32_t;

// var^power, power >= 1.
struct Factor {
    Var var = 0;
    std::uint32_t power = 1;
    bool operator==(const Factor&) const = default;
};

// A product of factors sorted by variable, each variable once; empty is the constant 1.
using Monomial = std::vector<Factor>;

struct Term {
    Monomial mono;
    Number coef;  // never zero
};

// A polynomial's terms grow with every product, so the compile stage refuses (E0212) a
// polynomial of more terms or a higher degree than these: real models have tens of terms
// of degree under 6, and the limits keep every operation's memory and time bounded.
inline constexpr std::size_t max_poly_terms = 20000;
inline constexpr std::uint32_t max_poly_degree = 64;

class Poly {
public:
    Poly() = default;  // zero
    static Poly constant(Number c);
    static Poly variable(Var v);

    bool is_zero() const { return terms_.empty(); }
    bool is_constant() const { return terms_.empty() || (terms_.size() == 1 && terms_[0].mono.empty()); }
    // The value of a constant polynomial (0 for zero); only meaningful when is_constant().
    Number constant_value() const { return terms_.empty() ? Number(0) : terms_[0].coef; }
    // v when the polynomial is exactly 1·v.
    std::optional<Var> single_var() const;
    const std::vector<Term>& terms() const { return terms_; }
    // The highest total degree of a term (0 for constants).
    std::uint32_t degree() const;
    // The least common multiple of the coefficients' denominators (1 when all are integers).
    Number denominator() const;
    // True when every coefficient is an integer.
    bool integer_coefficients() const;

    friend Poly operator+(const Poly& a, const Poly& b);
    friend Poly operator-(const Poly& a, const Poly& b);
    friend Poly operator*(const Poly& a, const Poly& b);
    Poly operator-() const;
    Poly scaled(const Number& c) const;

    bool operator==(const Poly& o) const;
    std::size_t hash() const;

private:
    std::vector<Term> terms_;  // sorted by monomial (lexicographic over (var, power)), coefs non-zero
    static Poly normalise(std::vector<Term> terms);
};

// The lexicographic order of monomials the canonical form sorts terms in.
bool monomial_less(const Monomial& a, const Monomial& b);
// a·b.
Monomial monomial_product(const Monomial& a, const Monomial& b);

}  // namespace costi::interp
