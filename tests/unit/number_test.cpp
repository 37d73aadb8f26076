// Exact rationals: parsing, arithmetic across the int64/GMP boundary, powers, printing.
#include "interpreter/number.hpp"

#include <gtest/gtest.h>

using costi::interp::Number;
using costi::interp::PowError;

static Number n(const char* text) {
    auto v = Number::parse(text);
    EXPECT_TRUE(v.has_value()) << text;
    return v.value_or(Number(0));
}

TEST(Number, ParsesLiteralsExactly) {
    struct Case {
        const char* text;
        const char* exact;
    };
    const Case cases[] = {
        {"42", "42"},
        {"0.5", "1/2"},
        {"1e12", "1000000000000"},
        {"989.4e12", "989400000000000"},
        {"2.5E-3", "1/400"},
        {"1_000_000", "1000000"},
        {"9/16", "9/16"},
        {"-3", "-3"},
        {"0.1", "1/10"},
        {"1e-05", "1/100000"},
        {"6/4", "3/2"},
        {"00012", "12"},
        {"123456789012345678901234567890", "123456789012345678901234567890"},
    };
    for (const auto& c : cases) EXPECT_EQ(n(c.text).to_string(), c.exact) << c.text;
}

TEST(Number, RejectsMalformedLiterals) {
    for (const char* bad : {"", "1.2.3", "e5", "1e", "abc", "1/0", "1/2.5", "1e100001", "--1", "1x"}) {
        EXPECT_FALSE(Number::parse(bad).has_value()) << bad;
    }
}

TEST(Number, IntegerOverflowFallsBackToGmp) {
    Number max = n("9223372036854775807");
    EXPECT_EQ((max + Number(1)).to_string(), "9223372036854775808");
    EXPECT_EQ((Number(0) - max - Number(2)).to_string(), "-9223372036854775809");
    EXPECT_EQ((max * max).to_string(), "85070591730234615847396907784232501249");
    // and back down to the fast path
    EXPECT_EQ(((max + Number(1)) - Number(1)).to_int64(), 9223372036854775807LL);
}

TEST(Number, ExactAbove2To128) {
    Number out;
    ASSERT_EQ(Number::power(Number(2), Number(200), out), PowError::none);
    // 3 * 2^200, computed independently with Python's integers
    EXPECT_EQ((out * Number(3)).to_string(), "4820814132776970826625886277023487807566608981348378505904128");
}

TEST(Number, DivisionIsExactAndFloorOperatorsFloor) {
    EXPECT_EQ(Number::divide(Number(7), Number(-2))->to_string(), "-7/2");
    EXPECT_EQ(Number::divide(Number(8), Number(2))->to_string(), "4");
    EXPECT_FALSE(Number::divide(Number(1), Number(0)).has_value());
    EXPECT_EQ(Number::floor_divide(Number(-7), Number(2))->to_string(), "-4");
    EXPECT_EQ(Number::modulo(Number(-7), Number(2))->to_string(), "1");
    EXPECT_EQ(Number::modulo(n("7/2"), Number(1))->to_string(), "1/2");
    EXPECT_EQ(n("-7/2").floor().to_string(), "-4");
    EXPECT_EQ(n("-7/2").ceil().to_string(), "-3");
    EXPECT_EQ(n("-7/2").abs().to_string(), "7/2");
}

TEST(Number, Powers) {
    struct Case {
        const char* base;
        const char* exp;
        PowError err;
        const char* exact;
    };
    const Case cases[] = {
        {"2", "-2", PowError::none, "1/4"},
        {"2/3", "3", PowError::none, "8/27"},
        {"-1", "100000000000000000001", PowError::none, "-1"},
        {"1", "1e30", PowError::none, "1"},
        {"0", "5", PowError::none, "0"},
        {"5", "0", PowError::none, "1"},
        {"3", "1000000000000000", PowError::too_large, ""},
        {"2", "1/2", PowError::non_integer_exponent, ""},
        {"0", "-1", PowError::zero_to_negative, ""},
    };
    for (const auto& c : cases) {
        Number out;
        EXPECT_EQ(Number::power(n(c.base), n(c.exp), out), c.err) << c.base << "^" << c.exp;
        if (c.err == PowError::none) {
            EXPECT_EQ(out.to_string(), c.exact) << c.base << "^" << c.exp;
        }
    }
}

TEST(Number, ComparesAcrossRepresentations) {
    EXPECT_LT(n("1/3"), n("1/2"));
    EXPECT_GT(n("1e30"), n("9223372036854775807"));
    EXPECT_EQ(n("4/2"), Number(2));
    EXPECT_TRUE(n("4/2").is_integer());
    EXPECT_FALSE(n("1/2").is_integer());
}

TEST(Number, FixedRenderingRoundsHalfAwayFromZero) {
    EXPECT_EQ(n("2/3").to_fixed(3), "0.667");
    EXPECT_EQ(n("-1/2").to_fixed(0), "-1");
    EXPECT_EQ(n("1/8").to_fixed(2), "0.13");
    EXPECT_EQ(n("-1/1000").to_fixed(2), "0.00");
    EXPECT_EQ(Number(14082).to_fixed(1), "14082.0");
}
