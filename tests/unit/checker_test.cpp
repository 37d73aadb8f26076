// The checker: every static error, with its code and position, collected all at once.
#include "test_support.hpp"

using costi::test::problems;
using V = std::vector<std::string>;

TEST(Checker, AcceptsAWellFormedProgram) {
    EXPECT_EQ(problems("kernel L(M, K = 2) { let x = M * K\n flops = x }\n"
                       "kernel T { a: repeat 3 $L(M = seq_len) with (seq_len = 2) }\n"
                       "alias LL = L\nkernel U { b: $LL(M = 1) }\nmodel m = $T"),
              V{});
}

TEST(Checker, ReportsEachErrorWithCodeAndPosition) {
    struct Case {
        const char* text;
        V expected;
    };
    const Case cases[] = {
        {"kernel A { b: $Nope() }", {"E0101 1:16"}},
        {"kernel L(M) {}\nkernel A { b: $L(M = 1, X = 2) }", {"E0102 2:25"}},
        {"kernel L(M) {}\nkernel A { b: $L(M = 1, M = 2) }", {"E0103 2:25"}},
        {"kernel L(M) {}\nkernel A { b: $L() }", {"E0104 2:15"}},
        {"kernel A { flops = nope }", {"E0105 1:20"}},
        {"kernel A {}\nkernel A {}", {"E0106 2:8"}},
        {"kernel A { b: $B() }\nkernel B { a: $A() }", {"E0107 2:15"}},
        {"kernel A { b: $A() }", {"E0107 1:15"}},
        {"kernel A { flop = 1 }", {"E0108 1:12"}},
        {"kernel A { flops = 1\n flops = 2 }", {"E0109 2:2"}},
        {"kernel A(x, x) {}", {"E0109 1:13"}},
        {"kernel A { let x = 1\n let x = 2 }", {"E0109 2:6"}},
        {"kernel L {}\nkernel A { b: $L()\n b: $L() }", {"E0109 3:2"}},
        {"kernel L {}\nkernel A { b: $L() with (seqlen = 1) }", {"E0110 2:26"}},
        {"metric flops", {"E0106 1:8"}},
        {"runtime seq_len = 2", {"E0106 1:9"}},
        {"alias X = Nope", {"E0101 1:11"}},
        {"alias X = Y\nalias Y = X", {"E0101 1:11", "E0101 2:11"}},
        {"kernel A {}\nmodel m = $A { nope = 1 }", {"E0110 2:16"}},
        {"kernel A {}\nmodel m = $A { config { x = y } }", {"E0105 2:29"}},
        {"kernel A { flops = floor(1, 2) }", {"E0204 1:20"}},
        {"kernel A { flops = $A() }", {"E0204 1:20"}},
        {"runtime z = later\nruntime later = 1", {"E0105 1:13"}},
    };
    for (const auto& c : cases) EXPECT_EQ(problems(c.text), c.expected) << c.text;
}

TEST(Checker, CollectsEveryProblemBeforeStopping) {
    EXPECT_EQ(problems("kernel A {\n flops = x\n read = y\n b: $Nope()\n}"),
              (V{"E0105 2:10", "E0105 3:9", "E0101 4:6"}));
}

TEST(Checker, LetIsVisibleOnlyAfterItsDefinition) {
    EXPECT_EQ(problems("kernel A { flops = x\n let x = 1 }"), V{"E0105 1:20"});
    EXPECT_EQ(problems("kernel A(a = b, b = 1) {}"), V{"E0105 1:14"});
}

TEST(Checker, MessagesSuggestTheLikelyName) {
    costi::interp::Session s;
    try {
        s.load_text("<test>", std::string(costi::test::prelude) +
                                  "kernel L(M, K, N) {}\nkernel A { b: $L(M = 1, kdim = 2, N = 3)\n flops = seq_lem }");
        FAIL() << "expected errors";
    } catch (const costi::interp::CostiError& e) {
        ASSERT_EQ(e.diagnostics().size(), 2U);  // the misspelt parameter stands for the missing K
        EXPECT_EQ(e.diagnostics()[0].hint, "did you mean 'K'? ($L takes M, K, N)");
        EXPECT_EQ(e.diagnostics()[1].hint, "did you mean 'seq_len'?");
    }
}
