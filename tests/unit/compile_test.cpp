// The compile stage (interpreter/compile/): small programs whose closed forms are derived by
// hand — polynomials, each non-polynomial construct as an atom, guards that fail at some
// points — checked as data, evaluated at points against hand-computed values, and compared
// with the interpreter (the reference) at every point, errors included.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>

#include "interpreter/compile/fast_eval.hpp"
#include "interpreter/session.hpp"

namespace {

using namespace costi::interp;

const char* prelude = R"(
metric flops
metric read unit "B"
metric peak combine max
runtime batch_size: int >= 1 = 1
runtime seq_len: int >= 1 = 1
runtime cache_len: int >= 0 = 0
runtime a_bytes: rational > 0 = 2
runtime kv_bytes: rational > 0 = a_bytes
)";
const int prelude_lines = 9;

struct Fixture {
    Session s;
    const Model* model = nullptr;
    std::vector<std::uint32_t> free;

    Fixture(const std::string& text, const std::vector<std::string>& free_names) {
        s.load_text("<test>", std::string(prelude) + text);
        model = &s.pick_model("m");
        for (const auto& n : free_names) free.push_back(*s.program().find_runtime(n));
    }
    Compiled compile(const Overrides& o = {}) const { return s.compile(*model, o, free); }
    std::uint32_t metric(const std::string& n) const { return *s.program().find_metric(n); }
    Var var(const std::string& n, const Compiled& f) const {
        return static_cast<Var>(f.free_index(*s.program().find_runtime(n)));
    }
};

Poly v(Var x) {
    return Poly::variable(x);
}
Poly c(std::int64_t n) {
    return Poly::constant(Number(n));
}
Number q(const char* text) {
    return *Number::parse(text);
}

// "value" or "error CODE line:col message | hint" of a diagnostic, lines of the test text.
std::string outcome_of(const CostiError& e) {
    const Diagnostic& d = e.diagnostics().front();
    std::string where = "-";
    if (d.span.file != nullptr) {
        auto lc = d.span.file->line_col(d.span.begin);
        where = std::to_string(lc.line - prelude_lines) + ":" + std::to_string(lc.col);
    }
    return "error " + d.code + " " + where + " " + d.message + " | " + d.hint;
}

// "compiled", or the outcome_of the error compiling the fixture's model raises.
std::string compile_outcome(const Fixture& f) {
    try {
        (void)f.compile();
    } catch (const CostiError& e) {
        return outcome_of(e);
    }
    return "compiled";
}

// The compiled total of `metric` at `point` (values of the free variables, in declaration order).
std::string compiled_at(const Fixture& f, const Compiled& form, const std::string& metric, const std::vector<Number>& point) {
    FastForm fast(form, {form.total(f.metric(metric))});
    std::vector<Number> out;
    try {
        fast.evaluate(point, out);
    } catch (const CostiError& e) {
        return outcome_of(e);
    }
    return out[0].to_string();
}

// The interpreter's total of `metric` at the same point.
std::string interpreted_at(const Fixture& f, const Compiled& form, const std::string& metric,
                           const std::vector<Number>& point) {
    Overrides o;
    for (std::size_t i = 0; i < form.free.size(); ++i)
        o.runtime.emplace_back(f.s.program().runtimes[form.free[i]].name, Value::of(point[i]));
    try {
        CostNode root = f.s.run(*f.model, o);
        auto m = f.metric(metric);
        return total_of(f.s.program().metrics[m], root.count, root.cost[m]).to_string();
    } catch (const CostiError& e) {
        return outcome_of(e);
    }
}

struct Expect {
    std::vector<Number> point;
    std::string value;  // derived by hand
};

// Checks the hand-derived value at each point, and that compiled form and interpreter agree.
void check_points(const Fixture& f, const Compiled& form, const std::string& metric, const std::vector<Expect>& table) {
    for (const auto& e : table) {
        std::string where;
        for (const auto& x : e.point) where += x.to_string() + " ";
        EXPECT_EQ(compiled_at(f, form, metric, e.point), e.value) << "at " << where;
        EXPECT_EQ(interpreted_at(f, form, metric, e.point), e.value) << "interpreter at " << where;
    }
}

TEST(Compile, PolynomialsWithExactCoefficients) {
    Fixture f(R"(
kernel K { flops = 2*seq_len^2 + 3*batch_size*seq_len   read = seq_len/2 + 1 }
model m = $K {}
)",
              {"batch_size", "seq_len"});
    Compiled form = f.compile();
    Poly b = v(f.var("batch_size", form)), s = v(f.var("seq_len", form));
    // By hand: 2·s² + 3·b·s, and s/2 + 1; no atoms.
    EXPECT_EQ(form.total(f.metric("flops")), c(2) * s * s + c(3) * b * s);
    EXPECT_EQ(form.total(f.metric("read")), s.scaled(q("1/2")) + c(1));
    EXPECT_TRUE(form.atoms.empty());
    check_points(f, form, "read", {{{1, 3}, "5/2"}, {{1, 4}, "3"}});
    check_points(f, form, "flops", {{{2, 3}, "36"}, {{q("1e30"), 1}, "3000000000000000000000000000002"}});
}

TEST(Compile, FixedValuesFoldAndCountsMultiply) {
    Fixture f(R"(
kernel L(n) { flops = n * seq_len * batch_size   read = if config.act == "silu" then 1 else 100 }
kernel M { layers: repeat config.layers $L(n = config.width // 2) }
model m = $M { config { layers = 32  width = 9  act = "silu" } }
)",
              {"seq_len"});
    Compiled form = f.compile();
    Poly s = v(f.var("seq_len", form));
    // batch_size fixed to 1, width // 2 = 4, 32 layers: 128·s; the string comparison folds.
    EXPECT_EQ(form.total(f.metric("flops")), c(128) * s);
    EXPECT_EQ(form.total(f.metric("read")), c(32));
    Overrides o;
    o.runtime.emplace_back("batch_size", Value::of(3));
    EXPECT_EQ(f.compile(o).total(f.metric("flops")), c(384) * s);
}

TEST(Compile, MinMaxFloorCeilModAreAtoms) {
    Fixture f(R"(
kernel K {
  flops = min(seq_len, 128) + max(cache_len, 4, 2)
  read = ceil((cache_len + seq_len)/16) + (seq_len + 1) // 2 + seq_len % 3 + floor(seq_len)
}
model m = $K {}
)",
              {"seq_len", "cache_len"});
    Compiled form = f.compile();
    Poly s = v(0), ca = v(1);
    ASSERT_EQ(form.free.size(), 2u);
    // min(s, 128) and max(c, 4) (the fixed 4 and 2 fold into 4); floor(s) is s itself.
    ASSERT_EQ(form.atoms.size(), 5u);
    EXPECT_EQ(form.atoms[0].kind, AtomKind::min);
    EXPECT_EQ(form.atoms[0].args, (std::vector<Poly>{s, c(128)}));
    EXPECT_EQ(form.atoms[1].kind, AtomKind::max);
    EXPECT_EQ(form.atoms[1].args, (std::vector<Poly>{ca, c(4)}));
    EXPECT_EQ(form.atoms[2].kind, AtomKind::ceil);
    EXPECT_EQ(form.atoms[2].args[0], (ca + s).scaled(q("1/16")));
    EXPECT_EQ(form.atoms[3].kind, AtomKind::floor);
    EXPECT_EQ(form.atoms[3].args[0], (s + c(1)).scaled(q("1/2")));
    EXPECT_EQ(form.atoms[4].kind, AtomKind::mod);
    EXPECT_EQ(form.atoms[4].args, (std::vector<Poly>{s, c(3)}));
    EXPECT_EQ(form.total(f.metric("flops")), v(2) + v(3));
    EXPECT_EQ(form.total(f.metric("read")), v(4) + v(5) + v(6) + s);
    // By hand: s=17, c=0: min 17 + max 4 = 21; ceil(17/16) 2 + 9 + 2 + 17 = 30;
    // s=16: 1 + 8 + 1 + 16 = 26; s=1, c=15: 1 + 1 + 1 + 1 = 4.
    check_points(f, form, "flops", {{{17, 0}, "21"}, {{200, 10}, "138"}, {{1, 5}, "6"}});
    check_points(f, form, "read", {{{17, 0}, "30"}, {{16, 0}, "26"}, {{1, 15}, "4"}});
}

TEST(Compile, IfElseIsAConditionAtom) {
    Fixture f(R"(
kernel K { flops = if seq_len > 1 then seq_len * seq_len else 7 }
model m = $K {}
)",
              {"seq_len"});
    Compiled form = f.compile();
    Poly s = v(0);
    ASSERT_EQ(form.atoms.size(), 2u);
    EXPECT_EQ(form.atoms[0].kind, AtomKind::cmp);
    EXPECT_EQ(form.atoms[0].op, ast::Op::gt);
    EXPECT_EQ(form.atoms[1].kind, AtomKind::cond);
    EXPECT_EQ(form.atoms[1].args, (std::vector<Poly>{v(1), s * s, c(7)}));
    check_points(f, form, "flops", {{{1}, "7"}, {{2}, "4"}, {{Number(INT64_MAX)}, "85070591730234615847396907784232501249"}});
}

TEST(Compile, RequireBecomesAGuard) {
    Fixture f(R"(
kernel K {
  let n = seq_len + cache_len
  require n <= 100 "too long"
  flops = n
}
model m = $K {}
)",
              {"seq_len", "cache_len"});
    Compiled form = f.compile();
    // Two domain guards (the free variables), then the requirement.
    ASSERT_EQ(form.guards.size(), 3u);
    EXPECT_EQ(form.guards[2].kind, Guard::Kind::require);
    check_points(f, form, "flops",
                 {{{60, 40}, "100"},
                  {{60, 50}, "error E0207 4:11 too long | with n = 110"},
                  {{0, 0}, "error E0209 - seq_len must be an integer >= 1, got 0 | "}});
}

TEST(Compile, DivisionByAFreeVariable) {
    Fixture f(R"(
kernel K { flops = 1000 / seq_len   read = 7 // (cache_len - 2) }
model m = $K {}
)",
              {"seq_len", "cache_len"});
    Compiled form = f.compile();
    check_points(f, form, "flops", {{{8, 0}, "125"}, {{3, 0}, "1000/3"}});
    check_points(f, form, "read", {{{1, 9}, "1"}, {{1, 0}, "-4"}, {{1, 2}, "error E0201 2:44 division by zero in '//' | "}});
}

TEST(Compile, ErrorsInOneBranchOnlyFailThere) {
    Fixture f(R"(
kernel K {
  flops = if cache_len == 0 then 1 else config.missing
  read = if seq_len > 1 then 10 // (seq_len - 2) else 0
}
model m = $K {}
)",
              {"seq_len", "cache_len"});
    Compiled form = f.compile();
    check_points(f, form, "flops",
                 {{{1, 0}, "1"},
                  {{1, 1},
                   "error E0205 3:41 config.missing is not set by this model | set it in the model's config { … }, with "
                   "--set config.missing=VALUE, or give a default: config.missing ?? VALUE"}});
    check_points(f, form, "read", {{{1, 0}, "0"}, {{4, 0}, "5"}, {{2, 0}, "error E0201 4:30 division by zero in '//' | "}});
}

TEST(Compile, AndOrShortCircuit) {
    Fixture f(R"(
kernel K { flops = if cache_len == 0 or 10 // cache_len > 2 then 1 else 2 }
model m = $K {}
)",
              {"cache_len"});
    Compiled form = f.compile();
    // cache_len = 0: the division is never made.
    check_points(f, form, "flops", {{{0}, "1"}, {{5}, "2"}, {{3}, "1"}});
}

TEST(Compile, OneOfIsAnOrOfComparisons) {
    Fixture f(R"(
kernel K {
  flops = one_of(seq_len, 1, 2, 4) * 10 + one_of(config.act, "silu", "gelu") + one_of(seq_len, seq_len + 1)
  read = one_of(seq_len, 3, 3) + one_of(2, 1, 2)
}
model m = $K { config { act = "gelu" } }
)",
              {"seq_len"});
    Compiled form = f.compile();
    // The texts fold to 1 and seq_len == seq_len + 1 to 0: flops is 10·(s == 1 or s == 2 or
    // s == 4) + 1. By hand: s = 1, 2, 4 give 11; s = 3, 5, 2^70 give 1.
    check_points(f, form, "flops", {{{1}, "11"}, {{2}, "11"}, {{3}, "1"}, {{4}, "11"}, {{5}, "1"},
                                    {{q("1180591620717411303424")}, "1"}});
    check_points(f, form, "read", {{{3}, "2"}, {{4}, "1"}});
    // A text compared with a free value is refused, as == is.
    Fixture t(R"(
kernel K { flops = one_of("a", seq_len, "b") }
model m = $K {}
)",
              {"seq_len"});
    EXPECT_EQ(compile_outcome(t).substr(0, 16), "error E0212 2:20");
}

TEST(Compile, CountsAndRebindingsAreChecked) {
    Fixture f(R"(
kernel L { flops = seq_len }
kernel M {
  a: repeat (seq_len - 2) $L()
  b: $L() with (seq_len = seq_len - 5)
}
model m = $M {}
)",
              {"seq_len"});
    Compiled form = f.compile();
    Poly s = v(0);
    // By hand: (s - 2)·s + (s - 5).
    EXPECT_EQ(form.total(f.metric("flops")), (s - c(2)) * s + s - c(5));
    check_points(f, form, "flops",
                 {{{10}, "85"},
                  {{1}, "error E0202 4:13 repeat count must be a non-negative integer, got -1 | "},
                  {{5}, "error E0209 5:27 seq_len must be an integer >= 1, got 0 | `with` may rebind a runtime variable "
                        "only within its domain"}});
}

TEST(Compile, CombineMaxIsAMaxAtom) {
    Fixture f(R"(
kernel A { peak = seq_len  flops = 1 }
kernel B { peak = 100 }
kernel M { a: $A()  b: repeat cache_len $B() }
model m = $M {}
)",
              {"seq_len", "cache_len"});
    Compiled form = f.compile();
    // By hand: max(s, 100) where cache_len > 0, else s.
    check_points(f, form, "peak", {{{7, 0}, "7"}, {{7, 1}, "100"}, {{700, 3}, "700"}});
}

TEST(Compile, DerivedDefaultsFollowTheirFreeVariable) {
    Fixture f(R"(
kernel K { flops = kv_bytes * seq_len }
model m = $K {}
)",
              {"seq_len", "a_bytes"});
    Compiled form = f.compile();
    // kv_bytes defaults to a_bytes, which is free: a·s.
    EXPECT_EQ(form.total(f.metric("flops")), v(0) * v(1));
    Overrides o;
    o.runtime.emplace_back("kv_bytes", Value::of(q("1/2")));
    EXPECT_EQ(f.compile(o).total(f.metric("flops")), v(0).scaled(q("1/2")));
}

TEST(Compile, ErrorsOnEveryPathAreTheInterpretersAndTextChosenByAFreeVariableIsRefused) {
    Fixture a(R"(
kernel K { flops = seq_len * config.missing }
model m = $K {}
)",
              {"seq_len"});
    EXPECT_EQ(compile_outcome(a).substr(0, 11), "error E0205");
    Fixture b(R"(
kernel K {
  let t = if seq_len > 1 then "a" else "b"
  flops = if t == "a" then 1 else 0
}
model m = $K {}
)",
              {"seq_len"});
    EXPECT_EQ(compile_outcome(b).substr(0, 16), "error E0212 3:11");
}

TEST(Compile, KeepsTheTreeToTheRequestedDepth) {
    Fixture f(R"(
kernel L { flops = seq_len }
kernel B { x: $L()  y: repeat 2 $L() }
kernel M { blocks: repeat 3 $B() }
model m = $M {}
)",
              {"seq_len"});
    Compiled form = f.s.compile(*f.model, {}, f.free, 2);
    Poly s = v(0);
    ASSERT_EQ(form.root.children.size(), 1u);
    const CompiledNode& blocks = form.root.children[0];
    EXPECT_EQ(blocks.count, c(3));
    EXPECT_EQ(blocks.cost[f.metric("flops")], c(3) * s);
    ASSERT_EQ(blocks.children.size(), 2u);
    EXPECT_EQ(blocks.children[1].label, "y");
    EXPECT_EQ(blocks.children[1].count, c(2));
    EXPECT_TRUE(blocks.children[1].children.empty());
    EXPECT_EQ(form.total(f.metric("flops")), c(9) * s);
}

}  // namespace

namespace {

// tests/golden/formula_llama.expected holds `costi formula llama-3-8b --free batch_size
// --seq_len 4096`: each total "name = A·batch_size + B". Read back here, each formula is
// evaluated at several batch sizes and must equal the interpreter's total there.
TEST(Compile, FormulaGoldenOfAShippedModel) {
    std::ifstream in(std::string(COSTI_TEST_DIR) + "/golden/formula_llama.expected");
    ASSERT_TRUE(in.good());
    std::string line;
    bool totals = false;
    std::vector<std::pair<std::string, std::string>> formulas;
    while (std::getline(in, line)) {
        if (line == "totals") {
            totals = true;
            continue;
        }
        if (totals && line.rfind("  ", 0) != 0) break;
        if (totals) {
            auto eq = line.find(" = ");
            formulas.emplace_back(line.substr(2, eq - 2), line.substr(eq + 3));
        }
    }
    ASSERT_EQ(formulas.size(), 5u);
    // "57,328,926,976·batch_size + 15,009,849,344" at batch_size = b.
    auto evaluate = [](std::string text, const Number& b) {
        Number sum(0);
        int sign = 1;
        std::size_t start = 0;
        while (start < text.size()) {
            std::size_t end = text.find(' ', start);
            std::string term = text.substr(start, end == std::string::npos ? std::string::npos : end - start);
            start = end == std::string::npos ? text.size() : end + 1;
            if (term == "+" || term == "-") {
                sign = term == "+" ? 1 : -1;
                continue;
            }
            Number value(1);
            std::size_t dot = term.find("·batch_size");
            bool has_b = dot != std::string::npos || term == "batch_size";
            std::string digits = term == "batch_size" ? "1" : term.substr(0, dot);
            digits.erase(std::remove(digits.begin(), digits.end(), ','), digits.end());
            value = *Number::parse(digits);
            sum += Number(sign) * value * (has_b ? b : Number(1));
        }
        return sum;
    };
    Session s;
    s.load_file(std::string(COSTI_TEST_DIR) + "/../models/llama-3-8b.cost");
    const Model& m = s.pick_model("");
    for (const Number& b : {Number(1), Number(3), Number(1000), Number(std::int64_t{1} << 40), *Number::parse("1e20")}) {
        Overrides o;
        o.runtime.emplace_back("seq_len", Value::of(4096));
        o.runtime.emplace_back("batch_size", Value::of(b));
        CostNode root = s.totals(m, o);
        for (const auto& [name, text] : formulas) {
            auto metric = *s.program().find_metric(name);
            EXPECT_EQ(evaluate(text, b).to_string(), (root.count * root.cost[metric]).to_string()) << name << " at " << b.to_string();
        }
    }
}

}  // namespace
