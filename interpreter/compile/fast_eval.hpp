// Fast evaluation of compiled forms: chosen polynomials at many points.
//
// Owns: turning polynomials of a Compiled form (the model's totals, say) into one flat
// straight-line program — every monomial and every atom computed once and shared, each
// polynomial scaled by the common denominator of its coefficients to integer arithmetic — and
// running it point by point on 128-bit integers with every operation checked. A point the
// fast path cannot finish exactly (an input that is not a 64-bit integer, an overflow, a
// non-integer intermediate, a guard that fails) is evaluated again by ExactPoint
// (compiled.hpp) with exact rationals: results never wrap and never round.
// Does not own building forms (compile.hpp) or choosing the points (a sweep's caller).
#pragma once

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "interpreter/compile/compiled.hpp"

namespace costi::interp {

class FastForm {
public:
    // A program for `outputs`, polynomials of `form` (which must outlive this object).
    FastForm(const Compiled& form, std::vector<Poly> outputs);

    // Evaluates every output at `point` (one value per free variable, in the order of
    // Compiled::free) into `out` (resized to the outputs). Throws CostiError — the
    // interpreter's error at this point — where a guard fails, including a value outside
    // its variable's domain. One FastForm runs one point at a time (one per thread).
    void evaluate(const std::vector<Number>& point, std::vector<Number>& out);

    // Points finished on the 128-bit path and by the exact fallback.
    std::uint64_t fast_points() const { return fast_points_; }
    std::uint64_t exact_points() const { return exact_points_; }
    // Instructions of the straight-line program (for benchmarks and docs).
    std::size_t size() const { return code_.size(); }

    __extension__ typedef __int128 Int;

private:
    enum class Op : unsigned char {
        input,      // r[dst] = point[a]
        constant,   // r[dst] = k[a]
        mul,        // r[dst] = r[a] * r[b]
        fma,        // r[dst] = r[a] + r[b] * k[c]
        exact_div,  // r[dst] = r[a] / k[b], which must divide it
        floor_div,  // r[dst] = floor(r[a] / k[b])
        ceil_div,   // r[dst] = ceil(r[a] / k[b])
        abs,
        recip,   // r[dst] = 1 / r[a] where that is an integer (0 for 0)
        min,     // r[dst] = min(r[a], r[b])
        max,
        mod,     // r[dst] = r[a] mod r[b] (floored; 0 when r[b] is 0)
        cmp,     // r[dst] = (r[a] c 0) with c the comparison in `cmp`
        and_,    // r[dst] = r[a] != 0 and r[b] != 0
        or_,
        not_,
        select,  // r[dst] = r[a] != 0 ? r[b] : r[c]
        guard,   // guard a holds (see checks_)
        output,  // out[dst] = r[a] / k[b]
    };
    struct Instr {
        Op op;
        unsigned char cmp = 0;  // ast::Op for cmp
        std::uint32_t dst = 0, a = 0, b = 0, c = 0;
    };
    // A guard as the fast path checks it: every path literal (register, holds), then the value.
    struct Check {
        std::vector<std::pair<std::uint32_t, bool>> path;
        Guard::Kind kind = Guard::Kind::fail;
        std::uint32_t value = 0;      // register of the scaled value
        std::uint32_t scale = 0;      // constant index of its denominator
        bool has_lower = false, has_upper = false;  // domain: integer bounds on the value
        Int lower = 0, upper = 0;
    };
    struct Scaled {
        std::uint32_t reg;    // the polynomial times its denominator
        std::uint32_t scale;  // constant index of the denominator
        bool integer;         // the denominator is 1
    };

    std::uint32_t reg();
    std::uint32_t constant(const Number& n);
    std::uint32_t monomial(const Monomial& m);
    Scaled poly(const Poly& p);
    std::uint32_t value_of(const Poly& p);  // the polynomial's value itself (exact division)
    void emit_atom(Var v);
    bool run_fast(const std::vector<Number>& point, std::vector<Number>& out);

    const Compiled& form_;
    std::vector<Poly> outputs_;
    std::vector<Instr> code_;
    std::vector<Int> consts_;
    std::vector<Number> const_numbers_;
    bool consts_fit_ = true;  // every constant fits 128 bits; else every point is exact
    std::vector<Check> checks_;
    std::vector<std::uint32_t> var_reg_;  // per variable: its register (atoms: the value, exact)
    std::uint32_t registers_ = 0;
    std::vector<Int> regs_;
    std::vector<Int> out_scaled_;
    std::vector<std::uint32_t> out_scale_;  // per output: constant index of its denominator
    std::uint64_t fast_points_ = 0;
    std::uint64_t exact_points_ = 0;

    struct MonoHash {
        std::size_t operator()(const Monomial& m) const;
    };
    struct PolyHash {
        std::size_t operator()(const Poly& p) const { return p.hash(); }
    };
    std::unordered_map<Monomial, std::uint32_t, MonoHash> mono_reg_;
    std::unordered_map<Poly, Scaled, PolyHash> poly_reg_;
    std::unordered_map<Poly, std::uint32_t, PolyHash> value_reg_;
};

}  // namespace costi::interp
