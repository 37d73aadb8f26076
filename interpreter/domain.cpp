// Domains of runtime variables (see domain.hpp).
#include "interpreter/domain.hpp"

#include "interpreter/program.hpp"

namespace costi::interp {

std::string Domain::describe() const {
    std::string out = integer ? "an integer" : "a number";
    if (lower) out += std::string(lower_strict ? " > " : " >= ") + lower->to_string();
    if (lower && upper) out += " and";
    if (upper) out += std::string(upper_strict ? " < " : " <= ") + upper->to_string();
    return out;
}

bool Domain::contains(const Value& v) const {
    if (!v.is_number()) return false;
    if (integer && !v.num.is_integer()) return false;
    if (lower && (lower_strict ? !(v.num > *lower) : !(v.num >= *lower))) return false;
    if (upper && (upper_strict ? !(v.num < *upper) : !(v.num <= *upper))) return false;
    return true;
}

bool Domain::empty() const {
    if (!lower || !upper) return false;
    if (*lower > *upper) return true;
    if (*lower == *upper) return lower_strict || upper_strict || (integer && !lower->is_integer());
    if (!integer) return false;
    // The integers strictly inside (lower, upper) may be none: (1, 2) has none.
    Number lo = lower_strict ? lower->floor() + 1 : lower->ceil();
    Number hi = upper_strict ? upper->ceil() - 1 : upper->floor();
    return lo > hi;
}

std::optional<std::string> domain_problem(const Program& program, std::uint32_t index, const Value& v) {
    const Runtime& r = program.runtimes.at(index);
    if (r.domain.contains(v)) return std::nullopt;
    return r.name + " must be " + r.domain.describe() + ", got " + v.show();
}

}  // namespace costi::interp
