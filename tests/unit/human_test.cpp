// Compact, grouped and percentage renderings (display only).
#include "repl/human.hpp"

#include <gtest/gtest.h>

using costi::interp::Number;
using namespace costi::report;

static Number n(const char* t) {
    return *Number::parse(t);
}

TEST(Human, Compact) {
    struct Case {
        const char* value;
        const char* unit;
        const char* shown;
    };
    const Case cases[] = {
        {"14082858024960", "", "14.08 T"},
        {"20150000000", "B", "20.15 GB"},
        {"512", "B", "512 B"},
        {"999999", "", "1 M"},
        {"1000", "", "1 K"},
        {"0", "", "0"},
        {"7/2", "", "3.5"},
        {"-2500", "", "-2.5 K"},
        {"124439808", "", "124.4 M"},
        {"1.05e32", "", "1.05e32"},
    };
    for (const auto& c : cases) EXPECT_EQ(compact(n(c.value), c.unit), c.shown) << c.value;
}

TEST(Human, CompactCounts) {
    // Parameter counts as model cards write them: Llama-3-8B's 8,030,261,248 weights are
    // "8.03B"; 4 significant digits, trailing zeros dropped, no space before the letter.
    struct Case {
        const char* value;
        const char* shown;
    };
    const Case cases[] = {
        {"8030261248", "8.03B"},
        {"525300000", "525.3M"},
        {"124439808", "124.4M"},
        {"2336", "2.336K"},
        {"800", "800"},
        {"0", "0"},
        {"999999", "1M"},
        {"999950000000", "1T"},  // 999.95 B rounds to 1000.0 B: the next letter
        {"405000000000000", "405T"},
        {"1e15", "1e15"},  // beyond T: scientific
        {"-1500000000", "-1.5B"},
    };
    for (const auto& c : cases) EXPECT_EQ(compact(n(c.value), "", Style::count), c.shown) << c.value;
    // The SI style is unchanged by the count style's existence.
    EXPECT_EQ(compact(n("8030261248"), "", Style::si), "8.03 G");
}

TEST(Human, ValidUtf8) {
    struct Case {
        std::string in;
        std::string out;
    };
    const std::string fffd = "\xEF\xBF\xBD";
    const Case cases[] = {
        {"plain", "plain"},
        {"caf\xC3\xA9", "caf\xC3\xA9"},                   // é, two bytes
        {"\xE2\x94\x9C\xE2\x94\x80 ", "\xE2\x94\x9C\xE2\x94\x80 "},  // ├─ of the tree
        {"\xF0\x9F\x98\x80", "\xF0\x9F\x98\x80"},         // U+1F600, four bytes
        {"a\xFF" "b", "a" + fffd + "b"},                      // never valid
        {"a\xC3", "a" + fffd},                             // truncated at the end
        {"\xC3(", fffd + "("},                             // bad continuation: one U+FFFD
        {"\xC0\xAF", fffd + fffd},                         // overlong '/'
        {"\xED\xA0\x80", fffd + fffd + fffd},              // a surrogate (U+D800)
        {"\xF4\x90\x80\x80", fffd + fffd + fffd + fffd},    // above U+10FFFF
        {"\xE2\x94", fffd},                                // maximal subpart: one U+FFFD
    };
    for (const auto& c : cases) EXPECT_EQ(valid_utf8(c.in), c.out) << c.in;
    EXPECT_EQ(display_width("\xE2\x94\x9C\xE2\x94\x80 x"), 4u);
}

TEST(Human, GroupedAndPercent) {
    EXPECT_EQ(grouped(n("124439808")), "124,439,808");
    EXPECT_EQ(grouped(n("-1000")), "-1,000");
    EXPECT_EQ(grouped(n("999")), "999");
    EXPECT_EQ(grouped(n("7/2")), "7/2");
    EXPECT_EQ(percent(n("1"), n("3")), "33.3%");
    EXPECT_EQ(percent(n("1"), n("0")), "-");
}

TEST(Human, PercentInIntegersIsTheRationalOne) {
    // percent() of integers below 2^63 is computed in 64- and 128-bit integers; it must print
    // what the exact rational part·100/whole rounded to one place prints, at every size
    // (both integer paths, and the sign and rounding of each).
    std::vector<std::int64_t> values = {1, 2, 3, 7, 99, 100, 999, 1000, 123456789, 4611686018427387903LL,
                                        4611686018427387904LL, 92233720368547758LL, INT64_MAX / 100,
                                        INT64_MAX - 1, INT64_MAX};
    std::uint64_t x = 0x9E3779B97F4A7C15ULL;  // a fixed pseudo-random sequence (xorshift)
    for (int i = 0; i < 300; ++i) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        values.push_back(static_cast<std::int64_t>(x >> (1 + i % 63)));
    }
    for (std::int64_t p : values) {
        for (std::int64_t w : values) {
            if (w == 0) continue;  // "-": no share of nothing
            for (std::int64_t sp : {1, -1}) {
                for (std::int64_t sw : {1, -1}) {
                    Number part(p * sp), whole(w * sw);
                    std::string exact = Number::divide(part * Number(100), whole)->to_fixed(1) + "%";
                    ASSERT_EQ(percent(part, whole), exact) << p * sp << " / " << w * sw;
                }
            }
        }
    }
}
