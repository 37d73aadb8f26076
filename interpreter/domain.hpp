// Domains of runtime variables: which values a binding may take.
//
// Owns: the Domain record (integer or rational, optional lower and upper bounds, each
// inclusive or strict), membership, and how a domain is described in messages. The
// checker builds domains from `runtime NAME: int >= 1 = …` declarations; the session and
// the evaluator check every binding against them. Does not own where a binding comes from
// (flag, model default, `with`, REPL) or how the error is placed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "interpreter/number.hpp"
#include "interpreter/value.hpp"

namespace costi::interp {

struct Program;

struct Domain {
    bool integer = false;
    std::optional<Number> lower;
    bool lower_strict = false;  // > rather than >=
    std::optional<Number> upper;
    bool upper_strict = false;  // < rather than <=

    // "an integer >= 1", "a number > 0", "a number" (no domain declared).
    std::string describe() const;
    // True when v is a number of this domain.
    bool contains(const Value& v) const;
    // True when no number is in the domain (bounds that exclude each other).
    bool empty() const;
};

// nullopt when v lies in the domain of runtime variable `index`, else the message
// "seq_len must be an integer >= 1, got -4".
std::optional<std::string> domain_problem(const Program& program, std::uint32_t index, const Value& v);

}  // namespace costi::interp
