// The formatter's printer (grammar/printer.hpp): every shipped file survives parse → print →
// parse as the same program with the same comments, printing is idempotent, and the layout
// and parenthesisation rules hold on cases written by hand.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "grammar/parse.hpp"
#include "grammar/printer.hpp"
#include "grammar/trivia.hpp"
#include "interpreter/diagnostics.hpp"

using namespace costi;
namespace fs = std::filesystem;

namespace {

std::string read(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// The shipped library: what `costi fmt --check` keeps formatted in CI (ctest fmt.library).
std::vector<fs::path> library_files() {
    std::vector<fs::path> out;
    for (const char* dir : {"stdlib", "kernels", "models", "hardware"}) {
        for (const auto& e : fs::recursive_directory_iterator(fs::path(COSTI_TEST_DIR) / ".." / dir)) {
            if (e.is_regular_file() && e.path().extension() == ".cost") out.push_back(e.path());
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

std::string format(const std::string& text) {
    interp::SourceFile f("<test>", text);
    return grammar::print_module(grammar::parse_module(f));
}

std::vector<std::string> comments_of(const std::string& text) {
    std::vector<std::string> out;
    grammar::Trivia trivia(text);
    for (const auto& c : trivia.comments()) out.push_back(c.text);
    return out;
}

// One expression printed alone, checked to parse back to the same tree.
std::string expr(const std::string& text) {
    interp::SourceFile f("<test>", text);
    auto e = grammar::parse_expression(f);
    std::string out = grammar::print_expr(*e);
    interp::SourceFile g("<printed>", out);
    auto again = grammar::parse_expression(g);
    EXPECT_TRUE(grammar::same_expr(*e, *again)) << text << " printed as " << out;
    return out;
}

}  // namespace

TEST(Printer, EveryShippedFileRoundTrips) {
    auto files = library_files();
    ASSERT_GT(files.size(), 90u);
    for (const auto& p : files) {
        SCOPED_TRACE(p.string());
        std::string text = read(p);
        interp::SourceFile f(p.string(), text);
        auto before = grammar::parse_module(f);
        std::string out = grammar::print_module(before);
        interp::SourceFile g(p.string(), out);
        auto after = grammar::parse_module(g);
        std::string why;
        EXPECT_TRUE(grammar::same_module(before, after, &why)) << why;
        EXPECT_EQ(grammar::print_module(after), out) << "not idempotent";
        EXPECT_EQ(comments_of(out), comments_of(text)) << "comments lost or reordered";
    }
}

TEST(Printer, ShippedFilesAreFormatted) {
    for (const auto& p : library_files()) {
        std::string text = read(p);
        EXPECT_EQ(format(text), text) << p.string() << " is not formatted: run costi fmt on it";
    }
}

TEST(Printer, MinimalParentheses) {
    EXPECT_EQ(expr("(a + b) * c"), "(a + b) * c");
    EXPECT_EQ(expr("a + (b * c)"), "a + b * c");
    EXPECT_EQ(expr("(a - b) - c"), "a - b - c");
    EXPECT_EQ(expr("a - (b - c)"), "a - (b - c)");
    EXPECT_EQ(expr("a / (b * c)"), "a / (b * c)");
    EXPECT_EQ(expr("a//b%c"), "a // b % c");
    EXPECT_EQ(expr("-(a ^ 2)"), "-a ^ 2");
    EXPECT_EQ(expr("(-a) ^ 2"), "(-a) ^ 2");
    EXPECT_EQ(expr("a ^ (b ^ c)"), "a ^ b ^ c");
    EXPECT_EQ(expr("(a ^ b) ^ c"), "(a ^ b) ^ c");
    EXPECT_EQ(expr("a ^ -b"), "a ^ -b");
    EXPECT_EQ(expr("(a * b) ^ 2"), "(a * b) ^ 2");
    EXPECT_EQ(expr("not (a == b)"), "not a == b");
    EXPECT_EQ(expr("(not a) == b"), "(not a) == b");
    EXPECT_EQ(expr("not (a and b)"), "not (a and b)");
    EXPECT_EQ(expr("(a == b) == c"), "(a == b) == c");
    EXPECT_EQ(expr("a == (b < c)"), "a == (b < c)");
    EXPECT_EQ(expr("a ?? (b ?? c)"), "a ?? (b ?? c)");
    EXPECT_EQ(expr("(a ?? b) ?? c"), "a ?? b ?? c");
    EXPECT_EQ(expr("(a or b) and c"), "(a or b) and c");
    EXPECT_EQ(expr("a or (b and c)"), "a or b and c");
    EXPECT_EQ(expr("(a ?? b) + 1"), "(a ?? b) + 1");
    EXPECT_EQ(expr("(if a then b else c) + 1"), "(if a then b else c) + 1");
    EXPECT_EQ(expr("if a then (if b then 1 else 2) else 3"), "if a then if b then 1 else 2 else 3");
    EXPECT_EQ(expr("max((a), (b + 1))"), "max(a, b + 1)");
    EXPECT_EQ(expr("$F.linear(M = (1 + 2); K = 3,)"), "$F.linear(M = 1 + 2, K = 3)");
    EXPECT_EQ(expr("config.x.0 ?? hw.fp32"), "config.x.0 ?? hw.fp32");
    EXPECT_EQ(expr("\"a\\\"b\""), "\"a\\\"b\"");
    EXPECT_EQ(expr("1.5e3 * 2"), "1500 * 2");  // no source: exact values
}

TEST(Printer, KeepsSpellingAndWrittenParentheses) {
    // In a file, literals keep their spelling and parentheses the author wrote stay.
    EXPECT_EQ(format("runtime x = (1_000 + 1e-5) * (true)\n"), "runtime x = (1_000 + 1e-5) * (true)\n");
    EXPECT_EQ(format("runtime y=((2*3))+4\n"), "runtime y = (2 * 3) + 4\n");
}

TEST(Printer, Layout) {
    // Indentation, spacing, one statement a line, label and assignment alignment,
    // trailing comments lined up, blank lines kept (one at most), none at a block's edges.
    const char* in =
        "import \"a.cost\"   # why\n"
        "\n\n\n"
        "kernel K(M,N=2){\n"
        "\n"
        "    let E=M*N # elements\n"
        "  a: $x(N=E)   # first\n"
        "  long_label: repeat 2 $y(N = E) with (seq_len = 1)\n"
        "  # own line\n"
        "  b:$z ; flops=E\n"
        "  read = 2 * E      # bytes\n"
        "\n"
        "}\n"
        "# end\n";
    const char* out =
        "import \"a.cost\"   # why\n"
        "\n"
        "kernel K(M, N = 2) {\n"
        "  let E = M * N           # elements\n"
        "  a:          $x(N = E)   # first\n"
        "  long_label: repeat 2 $y(N = E) with (seq_len = 1)\n"
        "  # own line\n"
        "  b:          $z\n"
        "  flops = E\n"
        "  read  = 2 * E   # bytes\n"
        "}\n"
        "# end\n";
    EXPECT_EQ(format(in), out);
    EXPECT_EQ(format(out), out);
}

TEST(Printer, LineBreaksInsideStatementsStay) {
    const char* in =
        "kernel K {\n"
        "  require a > 0 and\n"
        "      b > 0\n"
        "          \"message\"\n"
        "  c: $x(N = 1,   # one\n"
        "     K = 2)\n"
        "  let v = if a then 1\n"
        "   else 2\n"
        "}\n";
    const char* out =
        "kernel K {\n"
        "  require a > 0 and\n"
        "    b > 0\n"
        "    \"message\"\n"
        "  c: $x(N = 1,   # one\n"
        "    K = 2)\n"
        "  let v = if a then 1\n"
        "    else 2\n"
        "}\n";
    EXPECT_EQ(format(in), out);
    EXPECT_EQ(format(out), out);
}

TEST(Printer, TablesAlign) {
    const char* in =
        "metric flops \"floating-point operations\"\n"
        "metric read \"bytes read\" unit \"B\"\n"
        "alias torch.nn.Linear = F.linear\n"
        "alias t.mm = torch.mm\n"
        "hardware h { doc \"d\" fp32 = 1e12 \"V\"\n"
        "  mem_bw=3.35e12 \"V: 3.35 TB/s\"\n"
        "  # no fp4\n"
        "  link_domain = 8 }\n"
        "model m = $K { config { a = 1; b = 2 } seq_len = 4 }\n"
        "engine vllm \"v\" { A.B = C.D }\n";
    const char* out =
        "metric flops \"floating-point operations\"\n"
        "metric read  \"bytes read\"                unit \"B\"\n"
        "alias torch.nn.Linear = F.linear\n"
        "alias t.mm            = torch.mm\n"
        "hardware h {\n"
        "  doc \"d\"\n"
        "  fp32        = 1e12     \"V\"\n"
        "  mem_bw      = 3.35e12  \"V: 3.35 TB/s\"\n"
        "  # no fp4\n"
        "  link_domain = 8\n"
        "}\n"
        "model m = $K {\n"
        "  config {\n"
        "    a = 1\n"
        "    b = 2\n"
        "  }\n"
        "  seq_len = 4\n"
        "}\n"
        "engine vllm \"v\" {\n"
        "  A.B = C.D\n"
        "}\n";
    EXPECT_EQ(format(in), out);
    EXPECT_EQ(format(out), out);
}

TEST(Printer, LongChainsKeepTheirShape) {
    // Chains of more than 32 operands are regrouped by the parser; printed back flat.
    std::string sum = "runtime s = a0";
    std::string product = "runtime p = b0";
    for (int i = 1; i < 40; ++i) {
        sum += (i % 3 == 0 ? " - a" : " + a") + std::to_string(i);
        product += (i % 4 == 0 ? " / b" : i % 7 == 0 ? " // b" : " * b") + std::to_string(i);
    }
    std::string text = sum + "\n" + product + "\n";
    EXPECT_EQ(format(text), text);
}

TEST(Printer, EveryCommentSurvives) {
    const char* in =
        "# head\n"
        "runtime q: int >= 1 # after the domain\n"
        "  = # after the equals\n"
        "  1 + # inside\n"
        "  2 \"doc\" # trailing\n"
        "kernel K # after the name\n"
        "( M # param\n"
        ") { # open\n"
        "  x: $y(N = (M # paren\n"
        "  )) # call\n"
        "  # last\n"
        "} # close\n";
    std::string out = format(in);
    EXPECT_EQ(comments_of(out), comments_of(in)) << out;
    EXPECT_EQ(format(out), out);
    interp::SourceFile a("<a>", in);
    interp::SourceFile b("<b>", out);
    EXPECT_TRUE(grammar::same_module(grammar::parse_module(a), grammar::parse_module(b)));
}

TEST(Printer, EmptyAndCommentOnlyFiles) {
    EXPECT_EQ(format(""), "");
    EXPECT_EQ(format("\n\n# only\n\n"), "# only\n");
    EXPECT_EQ(format("kernel K {}"), "kernel K {\n}\n");
}
