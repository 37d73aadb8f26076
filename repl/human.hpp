// Human-readable renderings of exact numbers and text, for reports only.
//
// Owns: the one number formatting every printing path of the command line uses — the
// compact form (14.08 T, 20.15 GB for measures in SI style; 8.03B, 525.3M for counts of
// things, as model cards write parameter counts), exact integers with digit grouping
// (124,439,808), percentages — and making arbitrary bytes printable as UTF-8. Every
// rendering starts from the exact value; nothing here feeds back into evaluation.
#pragma once

#include <string>
#include <string_view>

#include "interpreter/number.hpp"

namespace costi::report {

// How a compact number is scaled: SI prefixes with a space before them ("14.08 T",
// "20.15 GB"), or the K/M/B/T of counts, written without a space ("8.03B").
// Durations (seconds) are written with the unit that keeps 1-3 digits before the point:
// "812 ns", "12.35 µs", "4.2 ms", "1.3 s"; past 1000 s, in seconds ("5400 s").
enum class Style { si, count, time };

// 4 significant digits with a prefix (si: K M G T P E Z Y; count: K M B T), trailing zeros
// dropped: "14.08 T", "512 B", "1.5 GB", "8.03B". Integers below 1000 print exactly;
// non-integers below 1000 keep up to 4 significant digits. Beyond the largest prefix,
// scientific notation (1.05e32).
std::string compact(const interp::Number& n, const std::string& unit, Style style = Style::si);

// An exact number as people read it: integers with thousands separators, non-integers as p/q.
std::string grouped(const interp::Number& n);

// part/whole as a percentage with one decimal ("12.5%"); "-" when whole is 0.
std::string percent(const interp::Number& part, const interp::Number& whole);

// The text with every byte sequence that is not valid UTF-8 replaced by U+FFFD, so that
// names and labels from any input print as valid UTF-8.
std::string valid_utf8(std::string_view text);

// Display width of valid UTF-8 text: its number of code points.
std::size_t display_width(std::string_view text);

}  // namespace costi::report
