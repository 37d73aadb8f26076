// Compact, grouped and percentage renderings of exact numbers.
#include "repl/human.hpp"

namespace costi::report {

using interp::Number;

// Above the largest SI prefix, scientific notation: 1.05e32.
static std::string scientific(const Number& n, const std::string& unit) {
    Number mag = n.abs().floor();
    int exp = static_cast<int>(mag.to_string().size()) - 1;
    Number p10;
    Number::power(Number(10), Number(exp), p10);
    std::string m = Number::divide(n, p10)->to_fixed(3);
    while (m.back() == '0') m.pop_back();
    if (m.back() == '.') m.pop_back();
    return m + "e" + std::to_string(exp) + (unit.empty() ? "" : " " + unit);
}

std::string compact(const Number& n, const std::string& unit) {
    static const char* prefixes[] = {"", "K", "M", "G", "T", "P", "E", "Z", "Y"};
    Number mag = n.abs();
    if (mag >= *Number::parse("1e27")) return scientific(n, unit);
    Number scale(1);
    int p = 0;
    while (p < 8 && mag >= scale * Number(1000)) {
        scale *= Number(1000);
        ++p;
    }
    // 999,999 rounds to 1000 K at 4 digits: move up a prefix instead.
    if (p < 8 && Number::divide(mag, scale)->to_fixed(1) == "1000.0") {
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
