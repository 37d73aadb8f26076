// Domains of runtime variables: declaration, description, and every kind of binding
// checked against them (overrides, model defaults, declared defaults, `with`).
#include "interpreter/domain.hpp"

#include "test_support.hpp"

using costi::interp::Domain;
using costi::interp::Number;
using costi::interp::Overrides;
using costi::interp::Value;
using costi::test::problems;
using costi::test::total;

namespace {

// A prelude-like head with domains, then a kernel that reads seq_len and w_bytes.
const char* lib = R"(runtime steps: int >= 1 = 1 "decode steps"
runtime width: rational > 0 <= 8 = 2
kernel K { flops = steps * width }
)";

Overrides runtime(const char* name, Number v) {
    Overrides o;
    o.runtime.emplace_back(name, Value::of(std::move(v)));
    return o;
}

}  // namespace

TEST(Domain, DescribesAndContains) {
    Domain d;
    d.integer = true;
    d.lower = Number(1);
    EXPECT_EQ(d.describe(), "an integer >= 1");
    EXPECT_TRUE(d.contains(Value::of(1)));
    EXPECT_TRUE(d.contains(Value::of(*Number::parse("1e30"))));
    EXPECT_FALSE(d.contains(Value::of(0)));
    EXPECT_FALSE(d.contains(Value::of(*Number::parse("3/2"))));
    EXPECT_FALSE(d.contains(Value::of_string("1")));
    EXPECT_FALSE(d.contains(Value{}));

    Domain r;
    r.lower = Number(0);
    r.lower_strict = true;
    r.upper = Number(1);
    EXPECT_EQ(r.describe(), "a number > 0 and <= 1");
    EXPECT_TRUE(r.contains(Value::of(*Number::parse("9/10"))));
    EXPECT_TRUE(r.contains(Value::of(1)));
    EXPECT_FALSE(r.contains(Value::of(0)));
    EXPECT_FALSE(r.contains(Value::of(*Number::parse("1.0001"))));
    EXPECT_EQ(Domain{}.describe(), "a number");
}

TEST(Domain, EmptyDomains) {
    Domain d;
    d.integer = true;
    d.lower = Number(1);
    d.lower_strict = true;
    d.upper = Number(2);
    d.upper_strict = true;
    EXPECT_TRUE(d.empty());  // no integer strictly between 1 and 2
    d.integer = false;
    EXPECT_FALSE(d.empty());  // 3/2 is
    d.lower = Number(2);
    EXPECT_TRUE(d.empty());
}

TEST(Domain, OverridesAreChecked) {
    std::string m = std::string(lib) + "model m = $K\n";
    EXPECT_EQ(total(m), "2");
    EXPECT_EQ(total(m, "flops", runtime("steps", 5)), "10");
    EXPECT_EQ(total(m, "flops", runtime("width", *Number::parse("1/2"))), "1/2");
    EXPECT_EQ(total(m, "flops", runtime("steps", -4)), "error E0209");
    EXPECT_EQ(total(m, "flops", runtime("steps", 0)), "error E0209");
    EXPECT_EQ(total(m, "flops", runtime("steps", *Number::parse("1/2"))), "error E0209");
    EXPECT_EQ(total(m, "flops", runtime("width", 0)), "error E0209");
    EXPECT_EQ(total(m, "flops", runtime("width", 9)), "error E0209");
    EXPECT_EQ(total(m, "flops", runtime("width", 8)), "8");
}

TEST(Domain, TheMessageNamesVariableDomainAndValue) {
    costi::interp::Session s;
    s.load_text("<t>", std::string(costi::test::prelude) + lib + "model m = $K\n");
    try {
        s.run(s.pick_model("m"), runtime("steps", -4));
        FAIL() << "expected E0209";
    } catch (const costi::interp::CostiError& e) {
        EXPECT_EQ(e.diagnostics().front().message, "steps must be an integer >= 1, got -4");
    }
    auto index = s.program().find_runtime("width");
    ASSERT_TRUE(index);
    EXPECT_EQ(costi::interp::domain_problem(s.program(), *index, Value::of(0)),
              "width must be a number > 0 and <= 8, got 0");
    EXPECT_EQ(costi::interp::domain_problem(s.program(), *index, Value::of(3)), std::nullopt);
    EXPECT_EQ(s.program().runtimes[*s.program().find_runtime("steps")].doc, "decode steps");
}

TEST(Domain, ModelDefaultsAndWithAreChecked) {
    // The model's default is placed at its expression (line 4 of the text, column 24).
    EXPECT_EQ(total(std::string(lib) + "model m = $K { steps = 0 }\n"), "error E0209 4:24");
    EXPECT_EQ(total(std::string(lib) + "model m = $K { steps = 3 }\n"), "6");
    // `with` rebinding inside a kernel: the value is checked where it is written.
    std::string with = std::string(lib) + "kernel T { k: $K() with (steps = 2 - 3) }\nmodel m = $T\n";
    EXPECT_EQ(total(with), "error E0209 4:34");
    EXPECT_EQ(total(std::string(lib) + "kernel T { k: $K() with (steps = 7) }\nmodel m = $T\n"), "14");
    // A rebinding that depends on a runtime value is checked at evaluation.
    std::string dep = std::string(lib) + "kernel T { k: $K() with (width = width * 2) }\nmodel m = $T\n";
    EXPECT_EQ(total(dep), "4");
    EXPECT_EQ(total(dep, "flops", runtime("width", 5)), "error E0209 4:34");
}

TEST(Domain, DeclarationsAreChecked) {
    // A constant default outside the domain.
    EXPECT_EQ(problems("runtime r: int >= 1 = 0\n"), std::vector<std::string>{"E0209 1:23"});
    // A bound that is no constant, two lower bounds, an empty domain.
    EXPECT_EQ(problems("runtime r: int >= seq_len = 1\n"), std::vector<std::string>{"E0113 1:19"});
    EXPECT_EQ(problems("runtime r: int >= 1 > 2 = 3\n"), std::vector<std::string>{"E0113 1:23"});
    EXPECT_EQ(problems("runtime r: int > 1 < 2 = 1\n"),
              (std::vector<std::string>{"E0113 1:12", "E0209 1:26"}));
    // Bounds may be any constant: negative, fractions, expressions of literals.
    EXPECT_EQ(problems("runtime r: rational >= -1/2 <= 2^10 = 0\n"), std::vector<std::string>{});
    // A bad type is a syntax error at the type.
    EXPECT_EQ(problems("runtime r: float = 1\n"), std::vector<std::string>{"E0001 1:12"});
}

TEST(Domain, DerivedDefaultsAreChecked) {
    // kv_bytes follows a_bytes; a derived default that leaves the domain is reported.
    std::string text = "runtime base: int >= 0 = 1\nruntime derived: int >= 1 = base\nkernel K { flops = derived }\n"
                       "model m = $K\n";
    EXPECT_EQ(total(text), "1");
    EXPECT_EQ(total(text, "flops", runtime("base", 0)), "error E0209 2:29");
}
