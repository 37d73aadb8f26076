// Human-readable renderings of exact numbers, for reports only.
//
// Owns: the compact form (14.08 T, 20.15 GB), digit grouping (124,439,808) and
// percentages. Every rendering starts from the exact value; nothing here feeds back into
// evaluation.
#pragma once

#include <string>

#include "interpreter/number.hpp"

namespace costi::report {

// 4 significant digits with an SI prefix (K, M, G, T, P, E): "14.08 T", "512 B", "1.5 GB".
// Non-integers below 1000 keep up to 4 significant decimals.
std::string compact(const interp::Number& n, const std::string& unit);

// Exact integers with thousands separators; non-integers as p/q.
std::string grouped(const interp::Number& n);

// part/whole as a percentage with one decimal ("12.5%"); "-" when whole is 0.
std::string percent(const interp::Number& part, const interp::Number& whole);

}  // namespace costi::report
