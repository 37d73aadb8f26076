// Evaluation: exact values, counts, bindings, defaults, runtime rebinding and errors.
#include "test_support.hpp"

using costi::interp::Number;
using costi::interp::Value;
using costi::test::total;

TEST(Evaluator, ExpressionsAreExact) {
    struct Case {
        const char* expr;
        const char* exact;
    };
    const Case cases[] = {
        {"2^200 * 3", "4820814132776970826625886277023487807566608981348378505904128"},
        {"7 / 2", "7/2"},
        {"1/3 + 1/6", "1/2"},
        {"0.1 + 0.2", "3/10"},
        {"989.4e12 / 1e12", "4947/5"},
        {"-7 // 2", "-4"},
        {"-7 % 2", "1"},
        {"-2^2", "-4"},
        {"2^3^2", "512"},
        {"2^-3", "1/8"},
        {"(1 + 2) * 3 - 4 / 2", "7"},
        {"min(3, 1/2, 2) + max(1, 4)", "9/2"},
        {"floor(-7/2) + ceil(7/2) + abs(-5)", "5"},
        {"one_of(3, 1, 2, 3) + one_of(3, 1, 2) + one_of(1/2, 0.5) + one_of(\"b\", \"a\", \"b\") * 10", "12"},
        {"(1 < 2) + (2 <= 2) + (3 > 4) + (4 >= 5) + (1 == 1) + (1 != 1)", "3"},
        {"(1 and 0) + (1 or 0) + (not 0) + (not 3)", "2"},
        {"if 2 > 1 then 10 else 20", "10"},
        {"if 0 then 1/0 else 5", "5"},
        {"0 and 1/0", "0"},
        {"1 or 1/0", "1"},
        {"true + true + false", "2"},
        {"seq_len + batch_size + cache_len", "2"},
        {"kv_bytes", "2"},
    };
    for (const auto& c : cases) {
        EXPECT_EQ(total(std::string("kernel K { flops = ") + c.expr + " }\nmodel m = $K"), c.exact) << c.expr;
    }
}

TEST(Evaluator, CostIsOwnPlusChildrenTimesCount) {
    const char* lib = "kernel L(a, b = a * 2) { flops = a + b\n read = 1 }\n";
    EXPECT_EQ(total(std::string(lib) + "kernel T { x: $L(a = 5) }\nmodel m = $T"), "15");
    EXPECT_EQ(total(std::string(lib) + "kernel T { x: $L(a = 5, b = 1) }\nmodel m = $T"), "6");
    EXPECT_EQ(total(std::string(lib) +
                    "kernel T { flops = 100\n x: repeat 3 $L(a = 1)\n y: repeat 0 $L(a = 9) }\nmodel m = $T"),
              "109");
    // A count of 10^30 is a multiplication, not a loop.
    EXPECT_EQ(total(std::string(lib) + "kernel T { x: repeat 10^30 $L(a = 1) }\nmodel m = $T", "read"),
              "1000000000000000000000000000000");
    EXPECT_EQ(total(std::string(lib) +
                        "kernel T { x: repeat 10^30 $L(a = 1) }\nkernel U { t: repeat 10^30 $T() }\nmodel m = $U",
                    "read"),
              "1000000000000000000000000000000000000000000000000000000000000");
}

TEST(Evaluator, RuntimeVariablesCanBeRebound) {
    const char* lib = "kernel P { flops = seq_len * batch_size }\n";
    EXPECT_EQ(
        total(std::string(lib) + "kernel Q { x: $P() with (seq_len = 7)\n y: $P() }\nmodel m = $Q { seq_len = 3 }"),
        "10");
    // nested: the inner rebinding sees the outer one; siblings see the original
    EXPECT_EQ(
        total(std::string(lib) + "kernel R { p: $P() with (batch_size = seq_len * 2) }\n"
                                 "kernel Q { r: $R() with (seq_len = 5)\n p: $P() }\nmodel m = $Q { seq_len = 3 }"),
        "53");  // 5 * 10 + 3 * 1
    // arguments are evaluated in the caller, before the rebinding
    EXPECT_EQ(total("kernel A(x) { flops = x + seq_len }\nkernel Q { a: $A(x = seq_len) with (seq_len = 10) }\n"
                    "model m = $Q { seq_len = 1 }"),
              "11");
}

TEST(Evaluator, RuntimeDefaultsFollowEachOther) {
    const char* k = "kernel K { flops = kv_bytes }\n";
    EXPECT_EQ(total(std::string(k) + "model m = $K"), "2");
    EXPECT_EQ(total(std::string(k) + "model m = $K { a_bytes = 1 }"), "1");
    costi::interp::Overrides o;
    o.runtime.emplace_back("a_bytes", Value::of(*Number::parse("1/2")));
    EXPECT_EQ(total(std::string(k) + "model m = $K", "flops", o), "1/2");
    o.runtime.emplace_back("kv_bytes", Value::of(4));
    EXPECT_EQ(total(std::string(k) + "model m = $K", "flops", o), "4");
}

TEST(Evaluator, ConfigValuesDefaultsAndStrings) {
    const char* k =
        "kernel K { flops = (config.head_dim ?? config.hidden // config.heads) + "
        "(if config.act == \"silu\" then 1000 else 2000) + config.rope.factor }\n";
    EXPECT_EQ(
        total(std::string(k) + "model m = $K { config { hidden = 4096 heads = 32 act = \"silu\" rope.factor = 8 } }"),
        "1136");
    EXPECT_EQ(total(std::string(k) +
                    "model m = $K { config { head_dim = 256 hidden = 1 heads = 1 act = \"gelu\" rope.factor = 0.5 } }"),
              "4513/2");
    costi::interp::Overrides o;
    o.config.emplace_back("act", Value::of_string("gelu"));
    EXPECT_EQ(total(std::string(k) + "model m = $K { config { hidden = 64 heads = 1 act = \"silu\" rope.factor = 0 } }",
                    "flops", o),
              "2064");
}

TEST(Evaluator, ErrorsCarryPositionAndCode) {
    struct Case {
        const char* text;
        const char* expected;
    };
    const Case cases[] = {
        {"kernel K(n) { flops = 1 / (n - 2) }\nkernel T { k: $K(n = 2) }\nmodel m = $T", "error E0201 1:23"},
        {"kernel K { flops = 1 }\nkernel T { k: repeat 3/2 $K() }\nmodel m = $T", "error E0202 2:22"},
        {"kernel K { flops = 1 }\nkernel T { k: repeat -1 $K() }\nmodel m = $T", "error E0202 2:22"},
        {"kernel K { flops = 1 }\nkernel T { k: repeat \"x\" $K() }\nmodel m = $T", "error E0202 2:22"},
        {"kernel K { flops = 3 ^ (10^15) }\nmodel m = $K", "error E0203 1:20"},
        {"kernel K { flops = 2 ^ (1/2) }\nmodel m = $K", "error E0203 1:20"},
        {"kernel K { flops = config.x + 1 }\nmodel m = $K", "error E0205 1:20"},
        {"kernel K { flops = config.x * 2 }\nmodel m = $K { config { x = \"silu\" } }", "error E0204 1:20"},
        {"kernel K { flops = config.x }\nmodel m = $K { config { x = \"silu\" } }", "error E0204 1:20"},
        {"kernel K { flops = config.x == 1 }\nmodel m = $K { config { x = \"silu\" } }", "error E0204 1:20"},
        {"kernel K { flops = 1 }\nmodel m = $K { seq_len = 1/0 }", "error E0201 2:26"},
        {"kernel K { require config.act == \"silu\" \"only silu is modelled\" }\nmodel m = $K { config { act = "
         "\"relu\" } }",
         "error E0207 1:20"},
        {"kernel K { require 1 \"fine\"\n flops = 4 }\nmodel m = $K", "4"},
        // one_of compares as == does: a text with a number is an error whatever the order.
        {"kernel K { flops = one_of(config.x, \"silu\", 1) }\nmodel m = $K { config { x = \"silu\" } }",
         "error E0204 1:20"},
        {"kernel K { flops = one_of(config.x, 1, 2) }\nmodel m = $K { config { x = \"silu\" } }",
         "error E0204 1:20"},
        {"kernel K { flops = one_of(config.x, 1) }\nmodel m = $K", "error E0205 1:27"},
        {"kernel K { flops = one_of(config.x ?? 2, 1, 2) }\nmodel m = $K", "1"},
        {"kernel K { flops = one_of(1) }\nmodel m = $K", "error E0204 1:20"},
        {"kernel K { flops = floor(1, 2) }\nmodel m = $K", "error E0204 1:20"},
    };
    for (const auto& c : cases) EXPECT_EQ(total(c.text), c.expected) << c.text;
}

TEST(Evaluator, EvaluationErrorsListTheCallChainInnermostFirst) {
    costi::interp::Session s;
    s.load_text("<chain>",
                std::string(costi::test::prelude) +
                    "kernel K(n) { flops = 1 / n }\nkernel T { k: $K(n = 0) }\nkernel U { t: repeat 2 $T() }\n"
                    "model m = $U");
    try {
        s.run(s.pick_model("m"), {});
        FAIL() << "expected a division by zero";
    } catch (const costi::interp::CostiError& e) {
        const auto& chain = e.diagnostics().front().chain;
        ASSERT_EQ(chain.size(), 4U);
        EXPECT_EQ(chain[0].what, "$K");
        EXPECT_EQ(chain[1].what, "$T");
        EXPECT_EQ(chain[2].what, "$U");
        EXPECT_EQ(chain[3].what, "model m");
        EXPECT_EQ(chain[0].span.file->line_col(chain[0].span.begin).line, 11);  // `$K(n = 0)` in T
    }
}

TEST(Evaluator, EverySourceCitationIsKept) {
    costi::interp::Session s;
    s.load_text("<src>", std::string(costi::test::prelude) +
                             "kernel K { source \"a.py:1-2 @ x\"\n source \"b.py:3-4 @ y\"\n doc \"one\"\n doc \"two\" }");
    const auto* k = s.program().find_kernel("K");
    ASSERT_NE(k, nullptr);
    EXPECT_EQ(k->source, "a.py:1-2 @ x; b.py:3-4 @ y");
    EXPECT_EQ(k->doc, "one two");
}

TEST(Evaluator, TreeKeepsChildrenInSourceOrderWithCounts) {
    costi::interp::Session s;
    s.load_text(
        "<tree>",
        std::string(costi::test::prelude) +
            "kernel L(a) { flops = a }\nkernel T { first: repeat 4 $L(a = 1)\n second: $L(a = 2) }\nmodel m = $T");
    auto root = s.run(s.pick_model("m"), {});
    ASSERT_EQ(root.children.size(), 2U);
    EXPECT_EQ(root.children[0].label, "first");
    EXPECT_EQ(root.children[0].count.to_string(), "4");
    EXPECT_EQ(root.children[0].cost[0].to_string(), "1");
    EXPECT_EQ(root.children[1].label, "second");
    EXPECT_EQ(root.cost[0].to_string(), "6");
}
