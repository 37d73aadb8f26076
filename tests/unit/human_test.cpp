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

TEST(Human, GroupedAndPercent) {
    EXPECT_EQ(grouped(n("124439808")), "124,439,808");
    EXPECT_EQ(grouped(n("-1000")), "-1,000");
    EXPECT_EQ(grouped(n("999")), "999");
    EXPECT_EQ(grouped(n("7/2")), "7/2");
    EXPECT_EQ(percent(n("1"), n("3")), "33.3%");
    EXPECT_EQ(percent(n("1"), n("0")), "-");
}
