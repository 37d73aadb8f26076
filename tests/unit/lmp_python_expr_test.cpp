// interpreter/lmp/python_expr: the predecessor's Python formulas printed in the cost
// language (the numbers they give are checked by tests/import/run_equality.py), and the
// column of each refusal.
#include <gtest/gtest.h>

#include "interpreter/lmp/python_expr.hpp"

namespace {

using costi::lmp::ImportError;
using costi::lmp::Origin;

std::string cost(const std::string& python) {
    Origin o{"f.json", "$.flops", python};
    auto n = costi::lmp::parse_formula(o);
    std::vector<std::pair<std::string, std::string>> lets;
    int counter = 0;
    costi::lmp::Translation tr;
    tr.resolve = [](const std::string& name, std::size_t) { return name; };
    tr.lets = &lets;
    tr.let_counter = &counter;
    std::string out = costi::lmp::translate(*n, o, tr);
    for (const auto& [name, value] : lets) out = "let " + name + " = " + value + "; " + out;
    return out;
}

TEST(LmpPythonExpr, Translations) {
    struct Case {
        const char* python;
        const char* cost;
    };
    const Case cases[] = {
        {"2 * {batch_size} * seq_len", "2 * batch_size * seq_len"},
        {"a - (b - c)", "a - (b - c)"},
        {"(a - b) - c", "a - b - c"},
        {"a / (b * c)", "a / (b * c)"},
        {"a // -4 % 3", "a // -4 % 3"},
        {"-x ** 2", "-x ^ 2"},
        {"(-2) ** 3", "(-2) ^ 3"},
        {"2 ** -2", "2 ^ -2"},
        {"a ** b ** c", "a ^ b ^ c"},
        {"x if c > 3 else y", "if c > 3 then x else y"},
        {"(x if c else y) + 1", "(if c then x else y) + 1"},
        {"1 if a < b <= 9 else 0", "if a < b and b <= 9 then 1 else 0"},
        {"a < b + 1 < c", "let _t1 = b + 1; a < _t1 and _t1 < c"},
        {"a > 1 and b > 1", "a > 1 and b > 1"},
        {"a and b", "if a then b else 0"},
        {"a or b", "if a then a else b"},
        {"(a - 1) or b", "let _t1 = a - 1; if _t1 then _t1 else b"},
        {"not a == b", "not a == b"},
        {"(not a) + 1", "(not a) + 1"},
        {"min(a, b, 3) + max(a, 2) + abs(a - 9)", "min(a, b, 3) + max(a, 2) + abs(a - 9)"},
        {"math.ceil(a / 3) + math.floor(-b / 4)", "ceil(a / 3) + floor(-b / 4)"},
        {"int(x)", "(if x >= 0 then floor(x) else ceil(x))"},
        {"round(x)", "(floor(x) + (if x - floor(x) > 1/2 then 1 else if x - floor(x) == 1/2 then floor(x) % 2 else 0))"},
        {"True + False", "1 + 0"},
        {"1_000 + 0x1F + 0o17 + 0b101 + 0xAB_CD", "1000 + 31 + 15 + 5 + 43981"},
        {".5 + 5. + 1e3 + 2.5E-3 + 1_0.0_1 + 5.e2", "0.5 + 5 + 1e3 + 2.5e-3 + 10.01 + 5e2"},
        {"{config.hidden_size} + config.rope_scaling.factor", "config.hidden_size + config.rope_scaling.factor"},
    };
    for (const auto& c : cases) EXPECT_EQ(cost(c.python), c.cost) << c.python;
}

TEST(LmpPythonExpr, Refusals) {
    struct Case {
        const char* python;
        std::size_t column;
        const char* message;
    };
    const Case cases[] = {
        {"2 * sqrt(x)", 5, "unknown function 'sqrt'"},
        {"self.hidden * 2", 1, "unknown attribute 'self.hidden'"},
        {"x.shape", 1, "unknown attribute"},
        {"'abc'", 1, "unexpected '''"},
        {"a[0]", 2, "unexpected '['"},
        {"a & b", 3, "unexpected '&'"},
        {"017", 1, "leading zeros"},
        {"2j", 1, "imaginary"},
        {"min(a)", 1, "min() takes at least 2 arguments"},
        {"round(x, y)", 10, "integer literal"},
        {"x if c", 7, "expected 'else'"},
        {"(a + b", 7, "expected ')'"},
        {"a in b", 3, "'in' has no cost meaning"},
        {"None", 1, "'None' where an operand is expected"},
        {"${A.B} + 1", 8, "expected '(' after ${A.B}"},
        {"$A(1)", 1, "'$' must open a module reference"},
        {"{a.b}", 1, "only config.KEY may be dotted"},
        {"", 1, "empty formula"},
        {"1e100001", 1, "exponent beyond 100000"},
        {"(a, b)", 3, "tuples"},
    };
    for (const auto& c : cases) {
        try {
            cost(c.python);
            ADD_FAILURE() << c.python << " was accepted";
        } catch (const ImportError& e) {
            EXPECT_EQ(e.column, c.column) << c.python << ": " << e.message;
            EXPECT_NE(e.message.find(c.message), std::string::npos) << c.python << ": " << e.message;
            EXPECT_EQ(e.json_path, "$.flops");
        }
    }
}

TEST(LmpPythonExpr, DepthIsBounded) {
    std::string deep(100, '(');
    deep += "1" + std::string(100, ')');
    EXPECT_THROW(cost(deep), ImportError);
    std::string chain = "1";
    for (int i = 0; i < 1000; ++i) chain += " + 1";
    EXPECT_THROW(cost(chain), ImportError);  // a tree deeper than max_formula_depth
    std::string fine = "1";
    for (int i = 0; i < 300; ++i) fine += " + 1";
    EXPECT_NO_THROW(cost(fine));
}

TEST(LmpPythonExpr, ReferencesAreParsed) {
    Origin o{"f.json", "$.flops", "{n} * ${torch.nn.Linear}(in_features={h}, 3, has_bias=False)"};
    try {
        costi::lmp::parse_formula(o);
        ADD_FAILURE() << "a positional argument after a keyword was accepted";
    } catch (const ImportError& e) {
        EXPECT_EQ(e.column, 43u);
    }
    Origin ok{"f.json", "$.flops", "{n} * ${torch.nn.Linear}(h, out_features={h} * 3, has_bias=False)"};
    auto n = costi::lmp::parse_formula(ok);
    ASSERT_EQ(n->kids.size(), 2u);
    const auto& ref = *n->kids[1];
    EXPECT_EQ(ref.kind, costi::lmp::Kind::ref);
    EXPECT_EQ(ref.text, "torch.nn.Linear");
    EXPECT_EQ(ref.keywords, (std::vector<std::string>{"", "out_features", "has_bias"}));
    EXPECT_TRUE(costi::lmp::has_ref(*n));
}

}  // namespace
