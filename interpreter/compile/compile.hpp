// The compile stage: a checked model with its config fixed becomes exact expressions in the
// runtime variables left free.
//
// Owns: evaluating a model's call tree once, symbolically — the way the evaluator does at a
// point, with the same memoisation by (kernel, arguments, runtime values read) — into a
// Compiled form (compiled.hpp): per call and per metric a polynomial with exact rational
// coefficients over the free variables and atoms; everything that depends only on fixed
// values folded to a constant; guards where the interpreter would fail at some points.
// Does not own evaluating a form fast (fast_eval.hpp) or printing it (repl/).
//
// The interpreter stays the reference: at every point in the free variables' domains, the
// compiled form gives the interpreter's exact values, or its error (same code, message,
// span, hint and call chain). What the stage cannot express — a string or an absent value
// chosen by a free variable, a power whose exponent depends on one, a polynomial beyond
// max_poly_terms or max_poly_degree — is refused with E0212, and the interpreter remains.
#pragma once

#include <optional>
#include <vector>

#include "interpreter/compile/compiled.hpp"
#include "interpreter/evaluator.hpp"

namespace costi::interp {

// Where a runtime variable's value came from when the command line did not give it.
struct RuntimeSource {
    const CExpr* expr = nullptr;  // the default evaluated (null: the value was given)
    bool from_model = false;      // the model's default rather than the declared one
};

struct CompileRequest {
    CallSite entry;   // Session::entry_of(model, env)
    Environment env;  // config, hardware, engine and every runtime variable's value
    // The runtime variables left free, each an independent variable of the form (its value
    // in env is ignored). The others keep their value in env, except that one whose default
    // reads a free variable (kv_bytes = a_bytes with a_bytes free) follows it, as a run that
    // sets only the free variables would compute it.
    std::vector<std::uint32_t> free;
    std::vector<RuntimeSource> sources;  // per runtime variable; empty: all given
    int keep_depth = 0;                  // levels of calls kept below the entry (-1: all)
    std::optional<ChainFrame> model;     // "model NAME", ending every error's chain
    EvalLimits limits;
};

// Compiles the entry call. Throws CostiError: the interpreter's error when it fails at every
// point (before any guard could fail), or E0212 for what the stage cannot express.
Compiled compile(const Program& program, CompileRequest request);

// Per runtime variable, where a run of `model` takes its value from when `given` (indexes of
// the variables set on the command line) does not set it: the model's or the declared default.
std::vector<RuntimeSource> runtime_sources(const Program& program, const Model& model,
                                           const std::vector<std::uint32_t>& given);

}  // namespace costi::interp
