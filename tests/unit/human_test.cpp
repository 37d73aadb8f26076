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
