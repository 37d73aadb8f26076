// The grammar: PEGTL's analyze() and accept/reject tables for every construct.
#include <gtest/gtest.h>

#include "grammar/parse.hpp"
#include "interpreter/diagnostics.hpp"

using namespace costi;

TEST(Grammar, AnalyzeFindsNoProblem) {
    EXPECT_TRUE(grammar::grammar_is_sound());
}

static bool accepts(const std::string& text) {
    interp::SourceFile f("<test>", text);
    try {
        grammar::parse_module(f);
        return true;
    } catch (const interp::CostiError&) {
        return false;
    }
}

// Where the first syntax error is, as line:col, and its message.
static std::string reject(const std::string& text) {
    interp::SourceFile f("<test>", text);
    try {
        grammar::parse_module(f);
        return "accepted";
    } catch (const interp::CostiError& e) {
        const auto& d = e.diagnostics().front();
        auto lc = f.line_col(d.span.begin);
        EXPECT_EQ(d.code, interp::code::syntax);
        return std::to_string(lc.line) + ":" + std::to_string(lc.col) + " " + d.message;
    }
}

TEST(Grammar, AcceptsEveryConstruct) {
    const char* good[] = {
        "",
        "# only a comment",
        "import \"x.cost\"",
        "metric flops",
        "metric read \"bytes read\" unit \"B\"",
        "runtime seq_len = 1\nruntime kv_bytes = a_bytes",
        "kernel A {}",
        "kernel F.linear(M, K, N, has_bias = 0) { flops = 2*M*K*N }",
        "kernel A(x,) { let y = x; flops = y, read = 1 }",
        "kernel A { source \"f.py:1-2 @ abc\" doc \"text\" }",
        "kernel A { require config.x > 0 \"x must be positive\" }",
        "kernel A { b: $B() }",
        "kernel A { b: $B }",
        "kernel A { b: ${x.y.B}(k = 1) }",
        "kernel A { b: repeat config.n $B(k = 1, j = 2,) with (seq_len = 1, batch_size = 2) }",
        "kernel A { flops = if a > 1 and not b then -x^2 else y // 3 % 2 }",
        "kernel A { flops = config.h ?? config.n_embd ?? 768 }",
        "kernel A { flops = min(1, 2, 3) + max(a) + floor(1/2) + ceil(x) + abs(-1) }",
        "kernel A { flops = a == \"silu\" or a != \"gelu\" }",
        "kernel A { flops = 1e12 + 989.4e12 + 2.5E-3 + 1_000 + true + false }",
        "kernel A { flops = a <= b; read = a >= b; write = a < b; params = a > b }",
        "kernel A { flops = \"esc \\\" \\\\ \\n \\t\" }",
        "alias torch.nn.Linear = F.linear",
        "model gpt2 = $GPT2LMHeadModel",
        "model meta-llama/Llama-2-7b-hf = $X(a = 1) { config { hidden_size = 4096 rope_scaling.factor = 8.0 act = "
        "\"silu\" } seq_len = 2048 }",
        "model \"my model\" = $X { config from \"config.json\" source \"hub\" doc \"d\" }",
    };
    for (const char* g : good) EXPECT_TRUE(accepts(g)) << g;
}

TEST(Grammar, RejectsWithPositionAndMessage) {
    struct Case {
        const char* text;
        const char* expected;
    };
    const Case bad[] = {
        {"kernel {", "1:8 expected a kernel name such as F.linear"},
        {"kernel A { flops = }", "1:20 expected an expression"},
        {"kernel A { flops = (1 + 2 }", "1:27 expected ')'"},
        {"kernel A { flops = 1 + }", "1:24 expected an operand"},
        {"kernel A { flops = 1e }", "1:22 expected digits after the exponent 'e'"},
        {"kernel A { flops = \"abc\n}", "1:24 unterminated string (strings end with '\"' on the same line)"},
        {"kernel A { flops = \"\\q\" }", "1:22 unknown escape in string (use \\\" \\\\ \\n or \\t)"},
        {"kernel A { x: }", "1:15 expected a kernel call such as $F.linear(M = 1, K = 2, N = 3)"},
        {"kernel A { x: $B(k) }", "1:19 expected '='"},
        {"kernel A { x: $B(k = 1 }", "1:24 expected ')'"},
        {"kernel A { x: $B() with seq_len = 1 }", "1:25 expected '(' and runtime bindings, as in `with (seq_len = 1)`"},
        {"kernel A { 42 }",
         "1:12 expected a statement (let, require, source, doc, METRIC = expr, label: $Kernel(…)) or '}'"},
        {"kernel A  flops = 1", "1:11 expected '{' to open the kernel body"},
        {"kernel A { flops = if 1 2 else 3 }", "1:25 expected 'then' in 'if … then … else …'"},
        {"kernel A { flops = if 1 then 2 }", "1:32 expected 'else' in 'if … then … else …'"},
        {"kernel A { flops = config. }", "1:27 expected a config key after 'config.'"},
        {"kernel A { flops = 2x }", "1:20 expected an expression"},
        {"kernel A { let = 1 }", "1:16 expected a name"},
        {"flops = 1", "1:1 expected a declaration (import, metric, runtime, kernel, alias, model, property, hardware, every leaf or engine)"},
        {"import x", "1:8 expected a string in quotes: \"…\""},
        {"alias a.b =", "1:12 expected the name of the kernel the alias stands for"},
        {"model = $X", "1:7 expected a model name such as meta-llama/Llama-2-7b-hf"},
        {"model m = X", "1:11 expected a kernel call such as $F.linear(M = 1, K = 2, N = 3)"},
        {"model m = $X { config }", "1:23 expected '{' or 'from \"config.json\"' after 'config'"},
        {"model m = $X { config { a 1 } }", "1:27 expected '='"},
        {"model m = $X { config { 1 } }", "1:25 expected a config entry (KEY = expr) or '}'"},
        {"model m = $X { 1 }",
         "1:16 expected a model statement (config { … }, config from \"file\", NAME = expr) or '}'"},
    };
    for (const auto& c : bad) EXPECT_EQ(reject(c.text), c.expected) << c.text;
}

TEST(Grammar, DeepNestingIsAnErrorNotACrash) {
    std::string deep = "kernel A { flops = " + std::string(100000, '(') + "1" + std::string(100000, ')') + " }";
    EXPECT_EQ(reject(deep).substr(reject(deep).find(' ') + 1), "expression nested too deeply");
    std::string minus = "kernel A { flops = " + std::string(100000, '-') + "1 }";
    EXPECT_NE(reject(minus), "accepted");
}

TEST(Grammar, ExpressionEntryPoint) {
    interp::SourceFile ok("<e>", " 1 + 2 * x ");
    EXPECT_NO_THROW(grammar::parse_expression(ok));
    interp::SourceFile bad("<e>", "1 + 2 )");
    EXPECT_THROW(grammar::parse_expression(bad), interp::CostiError);
}

// Strings: escapes decoded, the plain runs between them kept, a string ends on its line —
// even when the file has no closing quote at all, and however many escapes it holds (the
// scan is linear: 200,000 escapes parse at once).
TEST(Grammar, StringsDecodeEscapesAndEndOnTheirLine) {
    interp::SourceFile f("<test>", "kernel A { doc \"a\\\"b\\\\c\\nd\\te\" }");
    const auto module = grammar::parse_module(f);
    ASSERT_EQ(module.kernels.size(), 1u);
    ASSERT_EQ(module.kernels[0].body.size(), 1u);
    EXPECT_EQ(module.kernels[0].body[0].text, "a\"b\\c\nd\te");

    EXPECT_EQ(reject("kernel A { doc \"abc"), "1:20 unterminated string (strings end with '\"' on the same line)");
    EXPECT_EQ(reject("kernel A { doc \"abc\n\" }"), "1:20 unterminated string (strings end with '\"' on the same line)");

    std::string many;
    for (int i = 0; i < 200000; ++i) many += "\\\\x";
    interp::SourceFile g("<test>", "kernel A { doc \"" + many + "\" }");
    const auto long_doc = grammar::parse_module(g);
    EXPECT_EQ(long_doc.kernels[0].body[0].text.size(), 400000u);
    EXPECT_EQ(reject("kernel A { doc \"" + many), "1:" + std::to_string(16 + 1 + 600000) +
                                                     " unterminated string (strings end with '\"' on the same line)");
}
