// The sweep grid and column parsers (repl/sweep_spec.hpp): tables of {input, expected}.
#include "repl/sweep_spec.hpp"

#include <gtest/gtest.h>

namespace costi::sweep {
namespace {

using interp::Number;
using interp::Value;

// Every value of an axis given as text, in grid order, as the language writes numbers.
std::string values(const std::string& text) {
    std::vector<Axis> axes{{"x", 0, false, parse_values(text)}};
    Grid g(axes);
    std::string out;
    while (g.next()) out += (out.empty() ? "" : " ") + g.point()[0].to_string();
    return out;
}

TEST(SweepSpec, Values) {
    struct Case {
        const char* text;
        const char* expected;
    };
    for (const Case& c : std::vector<Case>{
             {"1,8,64", "1 8 64"},
             {"4", "4"},
             {"1..4", "1 2 3 4"},
             {"1..10+3", "1 4 7 10"},
             {"1..11+3", "1 4 7 10"},
             {"512..4096*2", "512 1024 2048 4096"},
             {"3..100*3", "3 9 27 81"},
             {"1/2..2+1/2", "1/2 1 3/2 2"},
             {"1e3..3e3+1e3", "1000 2000 3000"},
             {"1..1", "1"},
             {" 1 , 2..4*2 , 10 ", "1 2 4 10"},
             {"0..2", "0 1 2"},
         }) {
        EXPECT_EQ(values(c.text), c.expected) << c.text;
    }
}

TEST(SweepSpec, BadValues) {
    struct Case {
        const char* text;
        const char* message;  // a part of the message
    };
    for (const Case& c : std::vector<Case>{
             {"5..1", "the range 5..1 is empty"},
             {"1..10+0", "must be positive"},
             {"1..10+-2", "must be positive"},
             {"1..10*1", "an integer of at least 2"},
             {"1..10*3/2", "an integer of at least 2"},
             {"0..10*2", "must start above 0"},
             {"1..x", "'x' in '1..x' is not a number"},
             {"1,,2", "has an empty value"},
             {"", "has an empty value"},
             {"1..10-1", "is not a number"},
         }) {
        try {
            (void)parse_values(c.text);
            ADD_FAILURE() << c.text << " was accepted";
        } catch (const SpecError& e) {
            EXPECT_NE(e.message.find(c.message), std::string::npos) << c.text << ": " << e.message;
        }
    }
}

TEST(SweepSpec, Counts) {
    auto axis = [](const char* text) { return Axis{"x", 0, false, parse_values(text)}; };
    EXPECT_EQ(grid_size({axis("1..1000000")}, 1'000'000'000), 1'000'000u);
    EXPECT_EQ(grid_size({axis("1..4096*2"), axis("1,8,64")}, 1000), 39u);  // 13 × 3
    EXPECT_EQ(grid_size({axis("1..1e12")}, 1'000'000'000), 1'000'000'001u);  // refused: cap + 1
    EXPECT_EQ(grid_size({axis("1..100000"), axis("1..100000")}, 1'000'000'000), 1'000'000'001u);
    EXPECT_EQ(grid_size({axis("1..1e30*2")}, 1000), 100u);  // 2^99 <= 10^30 < 2^100
    EXPECT_EQ(count(Segment{Number(1), Number(10), Number(4), false}, 100), 3u);
}

TEST(SweepSpec, GridOrder) {
    // The first axis outermost, the last fastest.
    std::vector<Axis> axes{{"a", 0, false, parse_values("1,2")}, {"b", 1, false, parse_values("10..30+10")}};
    Grid g(axes);
    std::string out;
    while (g.next()) out += g.point()[0].to_string() + ":" + g.point()[1].to_string() + " ";
    EXPECT_EQ(out, "1:10 1:20 1:30 2:10 2:20 2:30 ");
}

TEST(SweepSpec, Columns) {
    ColumnNames names{{"flops", "read", "write"}, {"batch_size", "seq_len"}};
    Columns c = Columns::parse("write, intensity=flops/(read+write), per_token = flops // seq_len, m=max(read, 2*write)", names);
    EXPECT_EQ(c.headers(), (std::vector<std::string>{"write", "intensity", "per_token", "m"}));
    EXPECT_EQ(c.metrics_read(), (std::vector<std::uint32_t>{0, 1, 2}));
    EXPECT_EQ(c.plain_metric(0), std::optional<std::uint32_t>(2));
    EXPECT_FALSE(c.plain_metric(1).has_value());
    std::vector<Value> out;
    // flops 100, read 30, write 20 at seq_len 7: 100/50 = 2, 100 // 7 = 14, max(30, 40) = 40.
    c.evaluate({Number(100), Number(30), Number(20)}, {Value::of(1), Value::of(7)}, out);
    ASSERT_EQ(out.size(), 4u);
    EXPECT_EQ(out[0].num.to_string(), "20");
    EXPECT_EQ(out[1].num.to_string(), "2");
    EXPECT_EQ(out[2].num.to_string(), "14");
    EXPECT_EQ(out[3].num.to_string(), "40");
    // Exact: 100 / 70 = 10/7.
    c.evaluate({Number(100), Number(30), Number(40)}, {Value::of(1), Value::of(7)}, out);
    EXPECT_EQ(out[1].num.to_string(), "10/7");
    // one_of: seq_len 7 is one of 1, 7; batch_size 1 is not one of 2, 4.
    Columns o = Columns::parse("a=one_of(seq_len, 1, 7), b=one_of(batch_size, 2, 4)", names);
    o.evaluate({Number(100), Number(30), Number(40)}, {Value::of(1), Value::of(7)}, out);
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[0].num.to_string(), "1");
    EXPECT_EQ(out[1].num.to_string(), "0");
    // A division by zero is an error of that point.
    EXPECT_THROW(c.evaluate({Number(1), Number(0), Number(0)}, {Value::of(1), Value::of(7)}, out), interp::CostiError);
}

TEST(SweepSpec, BadColumns) {
    ColumnNames names{{"flops", "read", "write"}, {"batch_size", "seq_len"}};
    struct Case {
        const char* text;
        const char* message;
        const char* hint;
    };
    for (const Case& c : std::vector<Case>{
             {"flop", "unknown name 'flop'", "did you mean 'flops'?"},
             {"x=flops/raed", "unknown name 'raed'", "did you mean 'read'?"},
             {"x=flops/", "", ""},
             {"1x=flops", "must be an identifier", ""},
             {"flops,flops", "given twice", ""},
             {"x=config.a", "metric names, runtime variables and numbers only", ""},
             {"", "takes a list", ""},
             {"x=floor(flops, read)", "floor() takes exactly one argument, got 2", ""},
             {"x=one_of(flops)", "one_of() takes a value and at least one value", ""},
         }) {
        try {
            (void)Columns::parse(c.text, names);
            ADD_FAILURE() << c.text << " was accepted";
        } catch (const SpecError& e) {
            EXPECT_NE(e.message.find(c.message), std::string::npos) << c.text << ": " << e.message;
            EXPECT_NE(e.hint.find(c.hint), std::string::npos) << c.text << ": " << e.hint;
        }
    }
}

}  // namespace
}  // namespace costi::sweep
