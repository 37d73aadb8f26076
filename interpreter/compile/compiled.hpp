// A compiled form: a model's costs as exact expressions in its free runtime variables.
//
// Owns: the output of the compile stage (compile.hpp) — the atoms (the non-polynomial
// sub-expressions that depend on free variables: floor, ceil, abs, min, max, %, 1/x,
// comparisons, and/or/not, if/else), the guards (the errors the interpreter would raise at
// some points: a `require` that depends on free variables, a division by an expression that
// may be zero, a count or a `with` outside its domain), and the tree of calls with one
// polynomial per metric; and the exact evaluation of all that at one point (ExactPoint), the
// reference the fast evaluator (fast_eval.hpp) falls back to. Does not own how a form is
// built (compile.cpp) or printed (repl/report_formula.cpp).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "interpreter/compile/polynomial.hpp"
#include "interpreter/diagnostics.hpp"
#include "interpreter/program.hpp"

namespace costi::interp {

enum class AtomKind : unsigned char { floor, ceil, abs, min, max, mod, recip, cmp, and_, or_, not_, cond };

// One atom: a variable of the polynomials whose value is a non-polynomial function of
// earlier variables. Atoms are evaluated totally — 1/0 and x % 0 are 0 — and the guard
// registered where the interpreter would fail reports the error instead.
struct Atom {
    AtomKind kind = AtomKind::floor;
    ast::Op op = ast::Op::eq;  // cmp: eq ne lt le gt ge
    // floor, ceil, abs, recip, not: [x]; min, max: [x, y, …]; mod: [a, b] (a % b);
    // cmp: [lhs, rhs]; and, or: [a, b]; cond: [condition, then, else].
    std::vector<Poly> args;
    bool integer = false;  // an integer wherever the guards hold
    bool boolean = false;  // 0 or 1
};

// A condition an expression was compiled under: `value` is 0 or 1 and must equal `holds`.
struct PathLiteral {
    Poly value;
    bool holds = true;
};

// A value a `require` message names ("with seq_len = 4, H = 4096"): fixed text or a polynomial.
struct GuardInput {
    std::string label;  // "seq_len", "config.hidden_act", "H"
    bool fixed = true;
    std::string text;  // fixed: the value as Value::show() prints it
    Poly value;        // otherwise
};

// An error the interpreter raises at the points where this guard fails. Guards are checked
// in the order the interpreter evaluates them, so the first that fails is the error it reports.
struct Guard {
    enum class Kind : unsigned char {
        fail,     // fails wherever its path holds (an error in one branch of an if)
        nonzero,  // value must not be 0 (a divisor)
        require,  // value must not be 0; the hint names `inputs`
        count,    // value must be a non-negative integer (`repeat value`)
        domain,   // value must lie in runtime variable `runtime`'s domain
    };
    Kind kind = Kind::fail;
    std::vector<PathLiteral> path;  // the guard applies where every literal holds
    Poly value;
    std::uint32_t runtime = 0;
    Diagnostic diagnostic;  // code, span, message (fail, nonzero, require), hint, chain
    std::vector<GuardInput> inputs;
};

// One call of the cost tree: `cost` is one call's cost per metric, `count` how often the
// parent makes it (as CostNode, evaluator.hpp).
struct CompiledNode {
    std::string label;
    const Kernel* kernel = nullptr;
    Poly count;
    std::vector<Poly> cost;
    std::vector<CompiledNode> children;
};

struct Compiled {
    const Program* program = nullptr;
    // Variable i < free.size() is runtime variable free[i]; variable free.size() + j is atoms[j].
    std::vector<std::uint32_t> free;
    std::vector<Atom> atoms;  // each atom's arguments use only earlier variables
    std::vector<Guard> guards;
    CompiledNode root;

    bool is_atom(Var v) const { return v >= free.size(); }
    const Atom& atom(Var v) const { return atoms[v - free.size()]; }
    std::size_t variables() const { return free.size() + atoms.size(); }
    // The model's total in metric m (the root's count times its cost, or its cost for a
    // `combine max` metric), as total_of() computes it from a CostNode.
    Poly total(std::uint32_t m) const;
    // The position of runtime variable `runtime` among the free ones, or -1.
    int free_index(std::uint32_t runtime) const;
};

// The exact evaluation of a compiled form at one point (one Number per free variable, in the
// order of Compiled::free): every atom is computed once, in order.
class ExactPoint {
public:
    ExactPoint(const Compiled& form, std::vector<Number> point);
    // The value of a polynomial of the form at this point.
    Number value(const Poly& p) const;
    // Throws the CostiError of the first guard that fails here (the interpreter's error).
    void check_guards() const;
    // Whether guard g fails here.
    bool fails(const Guard& g) const;
    // Throws guard g's error at this point.
    [[noreturn]] void raise(const Guard& g) const;

private:
    const Compiled& form_;
    std::vector<Number> vars_;  // the free variables, then every atom
};

}  // namespace costi::interp
