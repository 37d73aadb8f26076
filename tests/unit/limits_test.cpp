// Bounded resources: every limit of docs/language.md ("Limits") is reached by a hostile
// input and answered with its error, never a crash, a hang or unbounded memory.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <fstream>

#include "grammar/parse.hpp"
#include "interpreter/checker.hpp"
#include "interpreter/config_json.hpp"
#include "interpreter/number.hpp"
#include "interpreter/text_file.hpp"
#include "test_support.hpp"

using costi::interp::Number;
using costi::test::problems;
using costi::test::total;

namespace {

// "kernel K { flops = 1 + 1 + … }" with n terms.
std::string sum_of_ones(int n) {
    std::string s = "kernel K { flops = 1";
    for (int i = 1; i < n; ++i) s += " + 1";
    return s + " }\nmodel m = $K\n";
}

// K0 calls K1 calls … K(n-1); each adds 1 flop.
std::string chain(int n) {
    std::string s;
    for (int i = 0; i < n; ++i) {
        s += "kernel K" + std::to_string(i) + " { flops = 1";
        if (i + 1 < n) s += "\n c: $K" + std::to_string(i + 1) + "()";
        s += " }\n";
    }
    return s + "model m = $K0\n";
}

// D0 calls D1 twice, D1 calls D2 twice, …: 2^(n-1) calls of D(n-1), all identical.
std::string doubling(int n) {
    std::string s;
    for (int i = 0; i < n; ++i) {
        s += "kernel D" + std::to_string(i) + " { ";
        if (i + 1 < n) {
            s += "a: $D" + std::to_string(i + 1) + "()\n b: $D" + std::to_string(i + 1) + "() }\n";
        } else {
            s += "flops = 1 }\n";
        }
    }
    return s + "model m = $D0\n";
}

std::string first_code(const std::function<void()>& f) {
    try {
        f();
    } catch (const costi::interp::CostiError& e) {
        return e.diagnostics().front().code + (" " + e.diagnostics().front().message);
    }
    return "ok";
}

}  // namespace

TEST(Limits, LongChainsOfOperatorsParseCheckAndEvaluate) {
    // A chain is a loop in the parser and, past 32 operands, a balanced tree in the AST
    // (grammar/expression.hpp): the 16k-term sum, and far beyond, just add up.
    EXPECT_EQ(total(sum_of_ones(1000)), "1000");
    EXPECT_EQ(total(sum_of_ones(16000)), "16000");
    EXPECT_EQ(total(sum_of_ones(200000)), "200000");
    // Differences regroup with their signs: 1 - 1 - … (n terms) is 2 - n; 1 - 1 + 1 - 1 … is 0 or 1.
    std::string minus = "kernel K { flops = 1";
    std::string alternating = "kernel K { flops = 1";
    for (int i = 1; i < 50000; ++i) {
        minus += " - 1";
        alternating += i % 2 == 1 ? " - 1" : " + 1";
    }
    EXPECT_EQ(total(minus + " }\nmodel m = $K\n"), "-49998");
    EXPECT_EQ(total(alternating + " }\nmodel m = $K\n"), "0");
    // Products: each run of '*' or '/' is one balanced product. 2 * 3 * … / 3 / … is 2,
    // exactly; alternating ones nest one level per run (the limit below).
    std::string product = "kernel K { flops = 2";
    for (int i = 0; i < 40000; ++i) product += i < 20000 ? " * 3" : " / 3";
    EXPECT_EQ(total(product + " }\nmodel m = $K\n"), "2");
    // Division by zero exactly where the chain as written divides by zero: 1 / 2 * 0 * 5 …
    // is 0 (it multiplies by zero), 1 * 5 * … / 0 is an error.
    std::string times_zero = "kernel K { flops = 1 / 2 * 0";
    std::string by_zero = "kernel K { flops = 1";
    for (int i = 0; i < 100; ++i) {
        times_zero += " * 5";
        by_zero += " * 5";
    }
    EXPECT_EQ(total(times_zero + " }\nmodel m = $K\n"), "0");
    EXPECT_EQ(total(by_zero + " / 0 / 7 }\nmodel m = $K\n").substr(0, 11), "error E0201");
    // Logic: 1 and 1 and … and 0 is false; 0 or … or 1 is true.
    std::string all = "kernel K { flops = 1";
    std::string any = "kernel K { flops = 0";
    for (int i = 0; i < 5000; ++i) {
        all += " and 1";
        any += " or 0";
    }
    EXPECT_EQ(total(all + " and 0 }\nmodel m = $K\n"), "0");
    EXPECT_EQ(total(any + " or 1 }\nmodel m = $K\n"), "1");
    // The AST of a 16k-term sum is about log2(16000) = 14 levels deep.
    costi::interp::SourceFile f("<e>", sum_of_ones(16000).substr(19, sum_of_ones(16000).find(" }") - 19));
    EXPECT_LE(costi::grammar::parse_expression(f)->height, 16u);
}

TEST(Limits, NestingIsRefusedNotCrashed) {
    // `//` and `%` do not regroup, nor do alternations of '*' and '/': such a chain nests
    // one level per operator (per run), 1000 at most.
    std::string floor_div = "kernel K { flops = 1";
    std::string alternating = "kernel K { flops = 1";
    for (int i = 1; i < 1000; ++i) {
        floor_div += " // 1";
        alternating += i % 2 == 1 ? " * 3" : " / 3";
    }
    EXPECT_EQ(total(floor_div + " }\nmodel m = $K\n"), "1");
    EXPECT_EQ(total(floor_div + " // 1 }\nmodel m = $K\n").substr(0, 11), "error E0001");
    EXPECT_EQ(total(alternating + " }\nmodel m = $K\n"), "3");
    EXPECT_EQ(total(alternating + " / 3 * 3 }\nmodel m = $K\n").substr(0, 11), "error E0001");
    // Parentheses, prefix operators and powers nest in the parser: 256 levels at most.
    auto nested = [](int n) {
        return "kernel K { flops = " + std::string(static_cast<std::size_t>(n), '(') + "1" +
               std::string(static_cast<std::size_t>(n), ')') + " }\nmodel m = $K\n";
    };
    EXPECT_EQ(total(nested(255)), "1");
    EXPECT_EQ(total(nested(257)).substr(0, 11), "error E0001");
    EXPECT_EQ(total(nested(1000000)).substr(0, 11), "error E0001");
    std::string powers = "kernel K { flops = 1";
    for (int i = 0; i < 100000; ++i) powers += " ^ 1";
    EXPECT_EQ(total(powers + " }\nmodel m = $K\n").substr(0, 11), "error E0001");
    EXPECT_EQ(total("kernel K { flops = " + std::string(100000, '-') + "1 }\nmodel m = $K\n").substr(0, 11),
              "error E0001");
}

TEST(Limits, DeepCallChainsAreRefusedByTheChecker) {
    // Depth counts the kernels on the longest chain: K0 … K255 is 256 deep.
    EXPECT_EQ(total(chain(256)), "256");
    EXPECT_EQ(problems(chain(257)).at(0).substr(0, 5), "E0114");
    // 20,000 levels: the checker walks the chain without recursion.
    EXPECT_EQ(problems(chain(20000)).at(0).substr(0, 5), "E0114");
}

TEST(Limits, SharedSubtreesAreEvaluatedOnceForTotals) {
    // 2^65 leaf calls in 66 levels: the totals cost 66 evaluations, and the count is exact.
    costi::interp::Session s;
    s.load_text("<t>", std::string(costi::test::prelude) + doubling(66));
    const auto& m = s.pick_model("m");
    costi::interp::CostNode t = s.totals(m, {});
    EXPECT_EQ(t.cost.at(0).to_string(), "36893488147419103232");  // 2^65
    // The same evaluation keeping two levels of the tree is as cheap.
    costi::interp::CostNode shallow = s.run_in(m, s.environment(m, {}), 2);
    EXPECT_EQ(shallow.cost.at(0).to_string(), "36893488147419103232");
    EXPECT_EQ(shallow.children.size(), 2u);
    EXPECT_EQ(shallow.children[0].children.size(), 2u);
    EXPECT_TRUE(shallow.children[0].children[0].children.empty());
    // Keeping the whole tree would need 2^66 nodes: refused at the node limit.
    EXPECT_EQ(first_code([&] { s.run(m, {}); }).substr(0, 5), "E0210");
}

TEST(Limits, DistinctCallsHaveABudget) {
    // Each level calls the next with two different arguments: 2^40 distinct calls.
    std::string text;
    for (int i = 0; i < 40; ++i) {
        text += "kernel E" + std::to_string(i) + "(n) { ";
        text += "a: $E" + std::to_string(i + 1) + "(n = 2 * n)\n b: $E" + std::to_string(i + 1) + "(n = 2 * n + 1) }\n";
    }
    text += "kernel E40(n) { flops = n }\nmodel m = $E0(n = 0)\n";
    costi::interp::Session s;
    s.load_text("<t>", std::string(costi::test::prelude) + text);
    const auto& m = s.pick_model("m");
    costi::interp::EvalLimits limits;
    limits.max_calls = 10000;
    costi::interp::Evaluator ev(s.program(), s.environment(m, {}), limits);
    EXPECT_EQ(first_code([&] { ev.totals(m.entry, {}); }).substr(0, 5), "E0210");
}

TEST(Limits, NumbersHaveASizeLimit) {
    // 2^1000000 is within the limit (1,000,001 bits); its square is not.
    EXPECT_EQ(total("kernel K { let x = 2^1000000\n flops = x // x }\nmodel m = $K"), "1");
    EXPECT_EQ(total("kernel K { let x = 2^1000000\n flops = x * x }\nmodel m = $K").substr(0, 11), "error E0210");
    EXPECT_EQ(total("kernel K { flops = 3^(10^15) }\nmodel m = $K").substr(0, 11), "error E0203");
    // Sums of child costs are checked too: 2^1000000 counted 2^100000 times.
    EXPECT_EQ(total("kernel L { flops = 2^1000000 }\nkernel K { c: repeat 2^100000 $L() }\nmodel m = $K")
                  .substr(0, 11),
              "error E0210");
}

TEST(Limits, CheckerStopsAfterFiftyErrors) {
    std::string text;
    for (int i = 0; i < 500; ++i) text += "kernel K" + std::to_string(i) + " { flops = nope" + std::to_string(i) + " }\n";
    auto p = problems(text);
    ASSERT_EQ(p.size(), 51u);
    EXPECT_EQ(p[0].substr(0, 5), "E0105");
    EXPECT_EQ(p[50].substr(0, 5), "E0115");
}

TEST(Limits, ManyLetsAndAliasesCheckInLinearTime) {
    // 50,000 lets in one kernel and a chain of 20,000 aliases (before: quadratic).
    std::string text = "kernel K { let v0 = 1\n";
    for (int i = 1; i < 50000; ++i) text += " let v" + std::to_string(i) + " = v" + std::to_string(i - 1) + " + 1\n";
    text += " flops = v49999 }\n";
    for (int i = 0; i < 20000; ++i)
        text += "alias A" + std::to_string(i) + " = " + (i == 0 ? std::string("K") : "A" + std::to_string(i - 1)) + "\n";
    text += "model m = $A19999\n";
    EXPECT_EQ(total(text), "50000");
    // A cycle of aliases and an alias of an unknown kernel are each reported once.
    EXPECT_EQ(problems("alias X = Y\nalias Y = X\nalias Z = Nope\n"),
              (std::vector<std::string>{"E0101 1:11", "E0101 2:11", "E0101 3:11"}));
}

TEST(Limits, FailedExpressionsLeaveNoConfigKeysBehind) {
    costi::interp::Session s;
    s.load_text("<t>", std::string(costi::test::prelude) + "kernel K { flops = 1 }\n");
    std::size_t before = s.program().config_keys.size();
    costi::interp::SourceFile f("<repl>", "config.no_such_key + unknown_name");
    auto e = costi::grammar::parse_expression(f);
    EXPECT_THROW(costi::interp::compile_expression(s.program(), *e, {}), costi::interp::CostiError);
    EXPECT_EQ(s.program().config_keys.size(), before);
    EXPECT_EQ(s.program().config_id.count("no_such_key"), 0u);
}

TEST(Limits, OnlyRegularFilesAreRead) {
    namespace fs = std::filesystem;
    costi::interp::Session s;
    // A device that never ends, a directory, and a FIFO with no writer (which would block
    // a plain open forever).
    EXPECT_EQ(first_code([&] { s.load_file("/dev/zero"); }).substr(0, 5), "E0002");
    EXPECT_EQ(first_code([&] { s.load_file("/"); }).substr(0, 5), "E0002");
    fs::path fifo = fs::temp_directory_path() / ("costi_fifo_" + std::to_string(::getpid()));
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    EXPECT_EQ(first_code([&] { s.load_file(fifo.string()); }).substr(0, 5), "E0002");
    EXPECT_EQ(first_code([&] { costi::interp::read_config_json(fifo.string(), {}); }).substr(0, 5), "E0002");
    EXPECT_EQ(first_code([&] { costi::interp::read_config_json("/dev/zero", {}); }).substr(0, 5), "E0002");
    fs::remove(fifo);
    // A regular file over the limit is refused by size (8 MiB for .cost files).
    fs::path big = fs::temp_directory_path() / ("costi_big_" + std::to_string(::getpid()) + ".cost");
    {
        std::ofstream out(big);
        std::string line(1023, '#');
        for (int i = 0; i < 9 * 1024; ++i) out << line << '\n';
    }
    EXPECT_EQ(first_code([&] { s.load_file(big.string()); }),
              "E0002 '" + big.string() + "' is larger than 8 MiB, the limit for a .cost file");
    fs::remove(big);
}

TEST(Limits, AFileIsReadWholeAndNotPastItsLimit) {
    namespace fs = std::filesystem;
    using costi::interp::read_text_file;
    fs::path f = fs::temp_directory_path() / ("costi_exact_" + std::to_string(::getpid()) + ".cost");
    {
        std::ofstream out(f);
        out << std::string(100, 'x');
    }
    // Exactly the limit is read whole; one byte over it is refused.
    EXPECT_EQ(read_text_file(f.string(), 100, {}, "f", "a .cost file"), std::string(100, 'x'));
    EXPECT_EQ(first_code([&] { (void)read_text_file(f.string(), 99, {}, "f", "a .cost file"); }).substr(0, 5), "E0002");
    fs::remove(f);
    // A regular file whose size stat does not know (procfs says 0) is read to its end, and
    // refused once it passes the limit.
    std::string status = read_text_file("/proc/self/status", 1 << 20, {}, "status", "a file");
    EXPECT_EQ(status.substr(0, 5), "Name:");
    EXPECT_GT(status.size(), 200u);
    EXPECT_EQ(first_code([&] { (void)read_text_file("/proc/self/status", 16, {}, "status", "a file"); }).substr(0, 30),
              "E0002 'status' is larger than ");
}

TEST(Limits, AnUnclosedParenthesisIsReportedWhereItIsMissing) {
    costi::interp::Session s;
    try {
        s.load_text("<t>", "kernel K {\n  flops = (1 + 2\n}\n");
        FAIL();
    } catch (const costi::interp::CostiError& e) {
        const auto& d = e.diagnostics().front();
        auto lc = d.span.file->line_col(d.span.begin);
        EXPECT_EQ(lc.line, 2);  // right after `2`, not at the `}` of the next line
        EXPECT_EQ(lc.col, 17);
        EXPECT_EQ(d.hint, "to close the '(' opened at line 2, column 11");
    }
}
