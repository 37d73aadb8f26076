// Compact, grouped and percentage renderings of exact numbers.
#include "repl/human.hpp"

namespace costi::report {

using interp::Number;

std::string compact(const Number& n, const std::string& unit) {
    static const char* prefixes[] = {"", "K", "M", "G", "T", "P", "E", "Z", "Y"};
    Number mag = n.abs();
    Number scale(1);
    int p = 0;
    while (p < 8 && mag >= scale * Number(1000)) {
        scale *= Number(1000);
        ++p;
    }
    Number scaled = *Number::divide(n, scale);
    // digits before the point in |scaled|: 1..3; keep 4 significant digits in all.
    Number a = scaled.abs();
    int decimals = a >= Number(100) ? 1 : (a >= Number(10) ? 2 : 3);
    if (p == 0 && n.is_integer()) decimals = 0;
    std::string s = scaled.to_fixed(decimals);
    if (decimals > 0) {
        while (s.back() == '0') s.pop_back();
        if (s.back() == '.') s.pop_back();
    }
    std::string suffix = std::string(prefixes[p]) + unit;
    return suffix.empty() ? s : s + " " + suffix;
}

std::string grouped(const Number& n) {
    if (!n.is_integer()) return n.to_string();
    std::string digits = n.to_string();
    bool negative = !digits.empty() && digits[0] == '-';
    if (negative) digits.erase(0, 1);
    std::string out;
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
        out += digits[i];
    }
    return negative ? "-" + out : out;
}

std::string percent(const Number& part, const Number& whole) {
    if (whole.is_zero()) return "-";
    Number ratio = *Number::divide(part * Number(100), whole);
    return ratio.to_fixed(1) + "%";
}

}  // namespace costi::report
