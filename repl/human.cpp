// Compact, grouped and percentage renderings of exact numbers; UTF-8 repair.
#include "repl/human.hpp"

#include <algorithm>
#include <cstdint>
#include <optional>

namespace costi::report {

using interp::Number;

namespace {

__extension__ using Wide = unsigned __int128;  // GCC and Clang: 128-bit integers for the fast path

// |a| * 10^decimals / b rounded half away from zero, written with `decimals` places and the
// sign of a (no sign when it rounds to 0), decimals <= 18: what Number::divide(a, b)->to_fixed(decimals)
// prints, for 0 < b and |a| below 2^63, in integers. A table prints hundreds of these.
std::string fixed_quotient(std::int64_t a, std::uint64_t b, int decimals) {
    Wide mag = a < 0 ? Wide(0) - Wide(static_cast<std::uint64_t>(a)) : Wide(static_cast<std::uint64_t>(a));
    mag &= ~std::uint64_t{0};  // |a| of int64 fits 64 bits (INT64_MIN included)
    for (int i = 0; i < decimals; ++i) mag *= 10;
    // Rounded half away from zero: (2·mag + b) / 2b, in 64 bits when that cannot overflow
    // (every table number), else in 128.
    constexpr std::uint64_t limit = std::uint64_t{1} << 62;
    Wide whole = mag < limit && b < limit
                     ? Wide((2 * static_cast<std::uint64_t>(mag) + b) / (2 * b))
                     : (2 * mag + b) / (2 * Wide(b));
    char digits[48];  // whole < 2^127: at most 39 digits, and the leading zeros below
    int n = 0;
    if (whole >> 64 == 0) {
        for (std::uint64_t w = static_cast<std::uint64_t>(whole); w != 0 || n == 0; w /= 10) digits[n++] = char('0' + w % 10);
    } else {
        for (Wide w = whole; w != 0; w /= 10) digits[n++] = static_cast<char>('0' + int(w % 10));
    }
    while (n <= decimals && decimals > 0) digits[n++] = '0';
    std::string out;
    out.reserve(static_cast<std::size_t>(n) + 2);
    if (a < 0 && whole != 0) out.push_back('-');
    for (int i = n; i-- > 0;) {
        out.push_back(digits[i]);
        if (decimals > 0 && i == decimals) out.push_back('.');
    }
    return out;
}

// compact() of an integer below 2^63 in SI or count style, without rational arithmetic;
// nothing above the largest prefix (scientific notation is left to the general path).
std::optional<std::string> compact_small(std::int64_t v, const std::string& unit, Style style) {
    static const char* si[] = {"", "K", "M", "G", "T", "P", "E", "Z", "Y"};
    static const char* count[] = {"", "K", "M", "B", "T"};
    const char* const* prefixes = style == Style::si ? si : count;
    const int last = style == Style::si ? 8 : 4;
    std::uint64_t mag = v < 0 ? 0 - static_cast<std::uint64_t>(v) : static_cast<std::uint64_t>(v);
    std::uint64_t scale = 1;
    int p = 0;
    while (p < last && mag / 1000 >= scale) {
        scale *= 1000;
        ++p;
    }
    if (p == last && mag / 1000 >= scale) return std::nullopt;
    // 999,999 rounds to 1000 K at 4 digits: move up a prefix instead (counts stop at T).
    if (p < last && fixed_quotient(static_cast<std::int64_t>(mag), scale, 1) == "1000.0") {
        scale *= 1000;
        ++p;
    }
    std::uint64_t whole = mag / scale;
    int decimals = whole >= 100 ? 1 : (whole >= 10 ? 2 : 3);
    if (p == 0) decimals = 0;
    std::string s = fixed_quotient(v, scale, decimals);
    if (decimals > 0) {
        while (s.back() == '0') s.pop_back();
        if (s.back() == '.') s.pop_back();
    }
    std::string suffix = std::string(prefixes[p]) + unit;
    if (suffix.empty()) return s;
    if (style == Style::count && unit.empty()) return s + suffix;
    return s + " " + suffix;
}

// Above the largest prefix, scientific notation: 1.05e32.
std::string scientific(const Number& n, const std::string& unit) {
    Number mag = n.abs().floor();
    int exp = static_cast<int>(mag.to_string().size()) - 1;
    Number p10;
    Number::power(Number(10), Number(exp), p10);
    std::string m = Number::divide(n, p10)->to_fixed(3);
    while (m.back() == '0') m.pop_back();
    if (m.back() == '.') m.pop_back();
    return m + "e" + std::to_string(exp) + (unit.empty() ? "" : " " + unit);
}

// Seconds with the submultiple that keeps 1-3 digits before the point, 4 significant digits.
std::string duration(const Number& n, const std::string& unit) {
    if (n.is_zero()) return "0 " + unit;
    static const char* prefixes[] = {"", "m", "µ", "n", "p"};
    Number mag = n.abs();
    Number scale(1);
    int p = 0;
    while (p < 4 && mag * scale < Number(1)) {
        scale *= Number(1000);
        ++p;
    }
    Number scaled = n * scale;
    Number a = scaled.abs();
    if (p == 0 && a >= Number(1000000)) return scientific(n, unit);
    int decimals = a >= Number(1000) ? 0 : a >= Number(100) ? 1 : (a >= Number(10) ? 2 : 3);
    std::string s = scaled.to_fixed(decimals);
    if (s == "1000.0" && p > 0) {  // 999.96 µs rounds to 1 ms
        s = "1";
        --p;
    } else if (decimals > 0) {
        while (s.back() == '0') s.pop_back();
        if (s.back() == '.') s.pop_back();
    }
    return s + " " + prefixes[p] + unit;
}

}  // namespace

std::string compact(const Number& n, const std::string& unit, Style style) {
    if (style == Style::time) return duration(n, unit);
    if (auto v = n.to_int64(); v && *v != INT64_MIN) {
        if (auto s = compact_small(*v, unit, style)) return *s;
    }
    static const char* si[] = {"", "K", "M", "G", "T", "P", "E", "Z", "Y"};
    static const char* count[] = {"", "K", "M", "B", "T"};
    const char* const* prefixes = style == Style::si ? si : count;
    const int last = style == Style::si ? 8 : 4;
    Number mag = n.abs();
    Number limit(1);
    for (int i = 0; i <= last; ++i) limit *= Number(1000);
    if (mag >= limit) return scientific(n, unit);
    Number scale(1);
    int p = 0;
    while (p < last && mag >= scale * Number(1000)) {
        scale *= Number(1000);
        ++p;
    }
    // 999,999 rounds to 1000 K at 4 digits: move up a prefix instead.
    if (p < last && Number::divide(mag, scale)->to_fixed(1) == "1000.0") {
        scale *= Number(1000);
        ++p;
    }
    Number scaled = *Number::divide(n, scale);
    // digits before the point in |scaled|: 1..3; keep 4 significant digits in all.
    Number a = scaled.abs();
    int decimals = a >= Number(100) ? 1 : (a >= Number(10) ? 2 : 3);
    // Below 1 (only without a prefix): 4 significant digits after the leading zeros (0.004794).
    for (Number x = a; p == 0 && !a.is_zero() && x < Number(1) && decimals < 40; x = x * Number(10))
        ++decimals;
    if (p == 0 && n.is_integer()) decimals = 0;
    std::string s = scaled.to_fixed(decimals);
    if (decimals > 0) {
        while (s.back() == '0') s.pop_back();
        if (s.back() == '.') s.pop_back();
    }
    std::string suffix = std::string(prefixes[p]) + unit;
    if (suffix.empty()) return s;
    // Counts of things are written as model cards write them: 8.03B, 525.3M.
    if (style == Style::count && unit.empty()) return s + suffix;
    return s + " " + suffix;
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
    auto p = part.to_int64();
    auto w = whole.to_int64();
    if (p && w && *p != INT64_MIN && *w != INT64_MIN && *p <= INT64_MAX / 100 && *p >= -(INT64_MAX / 100)) {
        // part * 100 / whole, its sign on the numerator.
        std::int64_t num = (*w < 0 ? -*p : *p) * 100;
        return fixed_quotient(num, static_cast<std::uint64_t>(*w < 0 ? -*w : *w), 1) + "%";
    }
    Number ratio = *Number::divide(part * Number(100), whole);
    return ratio.to_fixed(1) + "%";
}

std::string valid_utf8(std::string_view text) {
    static const std::string replacement = "\xEF\xBF\xBD";  // U+FFFD
    std::string out;
    out.reserve(text.size());
    std::size_t i = 0;
    while (i < text.size()) {
        auto c = static_cast<unsigned char>(text[i]);
        // The length of the sequence c starts and the range its second byte must lie in
        // (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF).
        std::size_t len = 0;
        unsigned char lo = 0x80;
        unsigned char hi = 0xBF;
        if (c < 0x80) {
            len = 1;
        } else if (c >= 0xC2 && c <= 0xDF) {
            len = 2;
        } else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            if (c == 0xE0) lo = 0xA0;
            if (c == 0xED) hi = 0x9F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            if (c == 0xF0) lo = 0x90;
            if (c == 0xF4) hi = 0x8F;
        }
        std::size_t good = len == 0 ? 0 : 1;
        while (good > 0 && good < len && i + good < text.size()) {
            auto b = static_cast<unsigned char>(text[i + good]);
            if (good == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF)) break;
            ++good;
        }
        if (len > 0 && good == len) {
            out.append(text.substr(i, len));
            i += len;
        } else {
            // One U+FFFD per maximal invalid prefix (the Unicode "substitution of maximal subparts").
            out += replacement;
            i += good == 0 ? 1 : good;
        }
    }
    return out;
}

std::size_t display_width(std::string_view text) {
    // ASCII (almost every label) is one column a byte.
    if (std::all_of(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; }))
        return text.size();
    std::size_t n = 0;
    for (unsigned char c : text) n += (c & 0xC0) != 0x80 ? 1 : 0;
    return n;
}

}  // namespace costi::report
