// Hardware in the language (issue 8): `property` and `hardware` declarations, hw.KEY,
// `every leaf`, `metric … combine max`, `style time`, their errors; and the roofline of
// stdlib/roofline.cost on single leaf calls against the shipped hardware files.
//
// Expected values are derived by hand in the comments: from the leaf formulas of stdlib/
// (F.linear: flops 2·M·K·N, reads M·K·a_bytes + K·N·w_bytes, writes M·N·a_bytes) and from the
// datasheet figures the hardware files quote (H100 SXM: bf16 989.4e12, fp8 1978.9e12,
// mem_bw 3.35e12; A100 80 GB SXM: int8 624e12, no fp8; TPU v5e: bf16 197e12, no fp32).
#include <gtest/gtest.h>

#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

#include "interpreter/diagnostics.hpp"
#include "interpreter/evaluator.hpp"
#include "interpreter/session.hpp"
#include "test_support.hpp"

using namespace costi::interp;

// gtest prints a Number as its digits (p/q), not as bytes.
namespace costi::interp {
inline void PrintTo(const Number& n, std::ostream* os) { *os << n.to_string(); }
}  // namespace costi::interp

namespace {

Number num(const char* text) {
    auto n = Number::parse(text);
    EXPECT_TRUE(n.has_value()) << text;
    return n.value_or(Number(0));
}

Number div(const Number& a, const Number& b) { return *Number::divide(a, b); }

// The test prelude (costi::test::prelude) and two properties, so the programs below need no files.
const std::string prelude = std::string(costi::test::prelude) + R"(
property bf16 "dense BF16 rate" unit "FLOP/s"
property mem_bw "memory bandwidth" unit "B/s"
)";

int prelude_lines() {
    int n = 0;
    for (char c : prelude) n += c == '\n';
    return n;
}

struct Run {
    Session session;
    CostNode root;
};

// Loads prelude + text and runs model m on `hardware` (empty: none).
Number total(const std::string& text, const std::string& metric, const std::string& hardware = "",
             std::vector<std::pair<std::string, Number>> runtime = {}) {
    Session s;
    s.load_text("<test>", prelude + text);
    Overrides o;
    o.hardware = hardware;
    for (auto& [k, v] : runtime) o.runtime.emplace_back(k, Value::of(v));
    CostNode root = s.run(s.pick_model("m"), o);
    auto m = s.program().find_metric(metric);
    EXPECT_TRUE(m.has_value()) << metric;
    return total_of(s.program().metrics[*m], root.count, root.cost[*m]);
}

// The first diagnostic of loading (or, if loading succeeds, of running m on `hardware`).
struct Problem {
    std::string code;
    int line = 0, col = 0;  // lines of `text`
    std::string message, hint;
    std::string where() const { return code + " " + std::to_string(line) + ":" + std::to_string(col); }
};

Problem problem(const std::string& text, const std::string& hardware = "", bool run = true) {
    Session s;
    try {
        s.load_text("<test>", prelude + text);
        if (run) {
            Overrides o;
            o.hardware = hardware;
            s.run(s.pick_model("m"), o);
        }
    } catch (const CostiError& e) {
        const Diagnostic& d = e.diagnostics().front();
        Problem p{d.code, 0, 0, d.message, d.hint};
        if (d.span.file != nullptr) {
            auto lc = d.span.file->line_col(d.span.begin);
            p.line = static_cast<int>(lc.line) - prelude_lines();
            p.col = static_cast<int>(lc.col);
        }
        return p;
    }
    ADD_FAILURE() << "no error for:\n" << text;
    return {};
}

}  // namespace

// ---------------------------------------------------------------- property, hardware, hw.KEY

TEST(HardwareLang, HwReadsTheSelectedDevicesValue) {
    const std::string text = R"(
hardware dev-a { doc "a" source "s" bf16 = 2e3 "note"  mem_bw = 12 * 4800e6 * 8 }
hardware dev-b { bf16 = 5  mem_bw = 1 }
kernel k { flops = 3 * hw.bf16  read = hw.mem_bw }
model m = $k
)";
    EXPECT_EQ(total(text, "flops", "dev-a"), Number(6000));  // 3 × 2e3
    EXPECT_EQ(total(text, "flops", "dev-b"), Number(15));    // 3 × 5
    // A constant expression is folded: 12 × 4800e6 × 8 = 460,800,000,000.
    EXPECT_EQ(total(text, "read", "dev-a"), num("460800000000"));
}

TEST(HardwareLang, HardwareDeclarationIsKept) {
    Session s;
    s.load_text("<test>", prelude + R"(
hardware "my gpu" { doc "one line" source "url1" source "url2" bf16 = 1/2 "V: half" }
)");
    const Hardware& h = s.pick_hardware("my gpu");
    EXPECT_EQ(h.doc, "one line");
    EXPECT_EQ(h.sources, (std::vector<std::string>{"url1", "url2"}));
    auto bf16 = s.program().property_id.at("bf16");
    auto mem_bw = s.program().property_id.at("mem_bw");
    EXPECT_EQ(h.values[bf16].num, div(Number(1), Number(2)));
    EXPECT_EQ(h.notes[bf16], "V: half");
    EXPECT_TRUE(h.values[mem_bw].is_absent());  // not given: absent, not 0
}

TEST(HardwareLang, DefaultOperatorSuppliesAMissingProperty) {
    const std::string text = R"(
hardware dev { bf16 = 7 }
kernel k { flops = hw.mem_bw ?? hw.bf16 }
model m = $k
)";
    EXPECT_EQ(total(text, "flops", "dev"), Number(7));
}

// ---------------------------------------------------------------- every leaf

// every leaf (w = 3): time = flops × w, extra = read + 1, appended to every leaf (a kernel
// without children), after the leaf's own statements.
//   a: flops 10, read 4            -> time 30, extra 5     (called twice)
//   b: own `let w = 7`, flops 2    -> time 14, extra 1     (its w overrides the default)
//   c: flops 5, assigns time = 100 -> time 100, extra 1    (its own time stands)
//   d(w): called with w = 5, flops 1 -> time 5, extra 1    (a parameter named w is the leaf's own)
//   p: has a child (a) and its own flops 1000: not a leaf, gets nothing appended;
//      its time is a's 30 alone.
// Totals: time = 2·30 + 14 + 100 + 5 + 30 = 209; extra = 2·5 + 1 + 1 + 1 + 5 = 18;
// flops = 2·10 + 2 + 5 + 1 + (1000 + 10) = 1038.
const char* every_leaf_program = R"(
metric time unit "s" style time
metric extra
every leaf (w = 3) {
  let t = flops * w
  time = t
  extra = read + 1
}
kernel a { flops = 10  read = 4 }
kernel b { let w = 7  flops = 2 }
kernel c { flops = 5  time = 100 }
kernel d(w) { flops = 1 }
kernel p { flops = 1000  x: $a() }
kernel top { x: repeat 2 $a()  y: $b()  z: $c()  v: $d(w = 5)  q: $p() }
model m = $top
)";

TEST(HardwareLang, EveryLeafIsAppendedToEveryLeaf) {
    EXPECT_EQ(total(every_leaf_program, "time"), Number(209));
    EXPECT_EQ(total(every_leaf_program, "extra"), Number(18));
    EXPECT_EQ(total(every_leaf_program, "flops"), Number(1038));
}

// The block's defaults and lets read the leaf's own locals of the parameters' names, where
// the leaf has them, however many locals and requirements of its own come before:
// every leaf (w = 3, v = w + 1) { let u = v * 2  extra = u + w  require u < 1000 "u small" }
//   a: no locals              -> w 3,  v 4,   u 8,   extra 11
//   b: own a0..a2, w = 10     -> w 10, v 11,  u 22,  extra 32
//   c: own v = 100, require   -> w 3,  v 100, u 200, extra 203
// Total extra = 11 + 32 + 203 = 246. With c's own v = 600, u = 1200 fails the block's
// requirement, reported in c.
TEST(HardwareLang, EveryLeafDefaultsReadTheLeafsOwnParameters) {
    const std::string text = R"(
metric extra
every leaf (w = 3, v = w + 1) {
  let u = v * 2
  extra = u + w
  require u < 1000 "u small"
}
kernel a { flops = 1 }
kernel b { let a0 = 1  let a1 = 2  let a2 = 3  let w = 10  flops = a0 + a1 + a2 }
kernel c(v = 100) { require v > 0 "v positive"  flops = v }
kernel top { x: $a()  y: $b()  z: $c() }
kernel top2 { z: $c(v = 600) }
model m = $top
)";
    EXPECT_EQ(total(text, "extra"), Number(246));
    EXPECT_EQ(total(text, "flops"), Number(1 + 6 + 100));
    Session s;
    s.load_text("<test>", prelude + text + "model m2 = $top2\n");
    try {
        s.run(s.pick_model("m2"), Overrides{});
        ADD_FAILURE() << "u = 1200 passed `require u < 1000`";
    } catch (const costi::interp::CostiError& e) {
        EXPECT_NE(e.diagnostics().front().message.find("u small"), std::string::npos) << e.diagnostics().front().message;
    }
}

TEST(HardwareLang, EveryLeafMetricsReadTheLeafsValuesPerCall) {
    // The leaf's arguments differ per call: time = flops × w with flops = 2·n.
    // calls n = 1, 2, 3 (×4) -> 2·3·(1 + 2 + 4·3) = 90.
    const std::string text = R"(
metric time
every leaf (w = 3) { time = flops * w }
kernel leafy(n) { flops = 2 * n }
kernel top { a: $leafy(n = 1)  b: $leafy(n = 2)  c: repeat 4 $leafy(n = 3) }
model m = $top
)";
    EXPECT_EQ(total(text, "time"), Number(90));
}

TEST(HardwareLang, EveryLeafReadsRuntimeVariablesAndHardware) {
    // time = flops / hw.bf16 per leaf: flops = 2·seq_len; at seq_len 5 on bf16 = 4: 10/4 = 5/2.
    const std::string text = R"(
metric time
hardware dev { bf16 = 4 }
every leaf { time = flops / hw.bf16 }
kernel leafy { flops = 2 * seq_len }
model m = $leafy
)";
    EXPECT_EQ(total(text, "time", "dev", {{"seq_len", Number(5)}}), div(Number(5), Number(2)));
}

// ---------------------------------------------------------------- combine max, style time

// peak is combine max: a call's value is the largest of its children's (times nothing),
// whatever their repeat counts; a call made 0 times contributes nothing.
//   mid = max(l1 ×1000: 5, l2: 9, l0 ×0: (100, not counted), l0 ×(seq_len - 1) = ×0 at seq_len 1) = 9
//   top = max(mid ×3: 9, l1: 5) = 9
// The same children summed (flops, each leaf flops = its peak): mid = 5000 + 9 = 5009,
// top = 3·5009 + 5 = 15032.
const char* max_program = R"(
metric peak combine max
kernel l0 { peak = 100  flops = 100 }
kernel l1 { peak = 5  flops = 5 }
kernel l2 { peak = 9  flops = 9 }
kernel mid { a: repeat 1000 $l1()  b: $l2()  z: repeat 0 $l0()  y: repeat (seq_len - 1) $l0() }
kernel top { m: repeat 3 $mid()  n: $l1() }
model m = $top
)";

TEST(HardwareLang, CombineMaxTakesTheLargestChild) {
    EXPECT_EQ(total(max_program, "peak"), Number(9));
    EXPECT_EQ(total(max_program, "flops"), Number(15032));
    // At seq_len 2 the l0 call is made once: mid = max(5, 9, 100) = 100.
    EXPECT_EQ(total(max_program, "peak", "", {{"seq_len", Number(2)}}), Number(100));
}

TEST(HardwareLang, CombineMaxAndStyleAreDeclared) {
    Session s;
    s.load_text("<test>", prelude + R"(
metric t "a time" unit "s" style time
metric peak unit "B" combine max
metric plain combine sum
)");
    const auto& metrics = s.program().metrics;
    const Metric& t = metrics[*s.program().find_metric("t")];
    const Metric& peak = metrics[*s.program().find_metric("peak")];
    const Metric& plain = metrics[*s.program().find_metric("plain")];
    EXPECT_EQ(t.style, "time");
    EXPECT_FALSE(t.combine_max);
    EXPECT_TRUE(peak.combine_max);
    EXPECT_EQ(peak.style, "si");
    EXPECT_FALSE(plain.combine_max);
    // A peak's total is its cost (no count), a sum's is count × cost.
    EXPECT_EQ(total_of(peak, Number(3), Number(7)), Number(7));
    EXPECT_EQ(total_of(plain, Number(3), Number(7)), Number(21));
}

// ---------------------------------------------------------------- errors

TEST(HardwareLangErrors, UnknownPropertySuggestsOne) {
    Problem p = problem("hardware dev {\n  mem_bv = 1\n}\n", "", false);
    EXPECT_EQ(p.where(), "E0116 2:3");
    EXPECT_EQ(p.hint, "did you mean 'mem_bw'?");
    // Nothing close: the hint lists the declared properties.
    Problem far = problem("hardware dev {\n  tensor_rate = 1\n}\n", "", false);
    EXPECT_EQ(far.where(), "E0116 2:3");
    EXPECT_EQ(far.hint, "properties: bf16, mem_bw");
}

TEST(HardwareLangErrors, PropertyGivenTwice) {
    Problem p = problem("hardware dev {\n  bf16 = 1\n  bf16 = 2\n}\n", "", false);
    EXPECT_EQ(p.where(), "E0106 3:3");
    EXPECT_NE(p.message.find("twice"), std::string::npos) << p.message;
}

TEST(HardwareLangErrors, ValuesMustBePositiveConstants) {
    for (const char* value : {"0", "-1", "1 - 1", "seq_len", "config.x", "\"fast\""}) {
        Problem p = problem(std::string("hardware dev {\n  bf16 = ") + value + "\n}\n", "", false);
        EXPECT_EQ(p.code, "E0116") << value << ": " << p.message;
        EXPECT_EQ(p.line, 2) << value;
        EXPECT_EQ(p.col, 10) << value;  // the value
    }
}

TEST(HardwareLangErrors, UnknownHwPropertyInAFormula) {
    Problem p = problem("kernel k {\n  flops = hw.mem_bv\n}\nmodel m = $k\n", "", false);
    EXPECT_EQ(p.code, "E0116");
    EXPECT_EQ(p.line, 2);
    EXPECT_EQ(p.hint, "did you mean 'hw.mem_bw'?");
}

TEST(HardwareLangErrors, HwWithoutHardwareFailsAtEvaluation) {
    const std::string text = "kernel k {\n  flops = hw.bf16\n}\nmodel m = $k\n";
    Problem p = problem(text);  // loads fine, fails when run with no hardware
    EXPECT_EQ(p.where(), "E0211 2:11");
}

TEST(HardwareLangErrors, DeviceLackingThePropertyIsNamed) {
    const std::string text = "hardware dev-x { bf16 = 1 }\nkernel k {\n  read = hw.mem_bw\n}\nmodel m = $k\n";
    Problem p = problem(text, "dev-x");
    EXPECT_EQ(p.where(), "E0211 3:10");
    EXPECT_NE(p.message.find("dev-x"), std::string::npos) << p.message;
    EXPECT_NE(p.message.find("mem_bw"), std::string::npos) << p.message;
}

TEST(HardwareLangErrors, TwoEveryLeafBlocks) {
    Problem p = problem("every leaf { }\nevery leaf { }\n", "", false);
    EXPECT_EQ(p.code, "E0117");
    EXPECT_EQ(p.line, 2);
}

TEST(HardwareLangErrors, EveryLeafCannotCallKernels) {
    Problem p = problem("kernel a { flops = 1 }\nevery leaf {\n  x: $a()\n}\n", "", false);
    EXPECT_EQ(p.where(), "E0117 3:3");
}

TEST(HardwareLangErrors, PickHardwareSuggestsOne) {
    Session s;
    s.load_text("<test>", prelude + "hardware h100-sxm { bf16 = 1 }\nhardware a100 { bf16 = 2 }\n");
    try {
        s.pick_hardware("h100-sxn");
        FAIL();
    } catch (const CostiError& e) {
        EXPECT_EQ(e.diagnostics().front().code, std::string(code::bad_hardware));
        EXPECT_EQ(e.diagnostics().front().hint, "did you mean 'h100-sxm'?");
    }
}

// ---------------------------------------------------------------- the roofline on one leaf

namespace {

const std::filesystem::path root_dir = std::filesystem::weakly_canonical(std::string(COSTI_TEST_DIR) + "/..");

// stdlib, the shipped hardware files and a kernel of one call.
struct Roofline {
    Session s;
    explicit Roofline(const std::string& call) {
        s.load_file((root_dir / "stdlib/all.cost").string());
        for (const char* hw : {"h100-sxm", "a100-80gb-sxm", "tpu-v5e"})
            s.load_file((root_dir / "hardware" / (std::string(hw) + ".cost")).string());
        s.load_text("<test>", "kernel one { x: " + call + " }\nmodel m = $one\n");
    }
    Number get(const std::string& metric, const std::string& hw,
               const std::vector<std::pair<std::string, Number>>& runtime = {}) const {
        Overrides o;
        o.hardware = hw;
        for (const auto& [k, v] : runtime) o.runtime.emplace_back(k, Value::of(v));
        CostNode root = s.run(s.pick_model("m"), o);
        auto m = *s.program().find_metric(metric);
        return total_of(s.program().metrics[m], root.count, root.cost[m]);
    }
};

const Number h100_bf16 = num("989.4e12"), h100_fp8 = num("1978.9e12"), h100_bw = num("3.35e12");

}  // namespace

TEST(HardwareLangRoofline, DecodeGemmIsMemoryBound) {
    // M = 1, K = N = 4096, bf16: flops 2·4096·4096 = 33,554,432 -> 33.9 ns at 989.4e12;
    // bytes 4096·2 (x) + 4096·4096·2 (W) + 4096·2 (y) = 33,570,816 -> 10.02 µs at 3.35e12.
    Roofline r("$F.linear(M = seq_len, K = 4096, N = 4096)");
    Number bytes = Number(4096 * 2) + Number(4096) * Number(4096) * Number(2) + Number(4096 * 2);
    Number memory = div(bytes, h100_bw);
    Number compute = div(Number(2) * Number(4096) * Number(4096), h100_bf16);
    EXPECT_EQ(r.get("time", "h100-sxm"), memory);
    EXPECT_EQ(r.get("memory_time", "h100-sxm"), memory);
    EXPECT_EQ(r.get("compute_time", "h100-sxm"), compute);
    EXPECT_EQ(r.get("compute_bound", "h100-sxm"), Number(0));
    EXPECT_EQ(r.get("weight_bytes", "h100-sxm"), Number(4096) * Number(4096) * Number(2));
    // working set: the input and output activations, not the weights: 4096·2 + 4096·2
    EXPECT_EQ(r.get("workspace", "h100-sxm"), Number(16384));
}

TEST(HardwareLangRoofline, PrefillGemmIsComputeBound) {
    // M = 8192: flops 2·8192·4096·4096 = 274,877,906,944 -> 277.8 µs at 989.4e12;
    // bytes 8192·4096·2·2 + 4096·4096·2 = 167,772,160 -> 50.1 µs.
    Roofline r("$F.linear(M = seq_len, K = 4096, N = 4096)");
    std::vector<std::pair<std::string, Number>> at{{"seq_len", Number(8192)}};
    Number flops = Number(2) * Number(8192) * Number(4096) * Number(4096);
    Number compute = div(flops, h100_bf16);
    EXPECT_EQ(r.get("time", "h100-sxm", at), compute);
    EXPECT_EQ(r.get("compute_bound", "h100-sxm", at), compute);
    EXPECT_EQ(r.get("memory_time", "h100-sxm", at), div(Number(167772160), h100_bw));
    // At half the peak compute the compute time (and so the time) doubles.
    at.emplace_back("compute_eff", div(Number(1), Number(2)));
    EXPECT_EQ(r.get("compute_time", "h100-sxm", at), Number(2) * compute);
    EXPECT_EQ(r.get("time", "h100-sxm", at), Number(2) * compute);
}

TEST(HardwareLangRoofline, MemoryEfficiencyScalesTheMemoryTime) {
    // memory_eff 4/5: 33,570,816 B at 0.8 × 3.35e12.
    Roofline r("$F.linear(M = seq_len, K = 4096, N = 4096)");
    Number bytes(33570816);
    EXPECT_EQ(r.get("time", "h100-sxm", {{"memory_eff", div(Number(4), Number(5))}}),
              div(bytes, div(Number(4), Number(5)) * h100_bw));
}

TEST(HardwareLangRoofline, OneByteOperandsUseFp8OrInt8) {
    // w_bytes = a_bytes = 1 at M = 8192: flops 274,877,906,944 at fp8 1978.9e12 = 138.9 µs,
    // bytes 83,886,080 at 3.35e12 = 25.0 µs: compute-bound, on the fp8 peak.
    Roofline r("$F.linear(M = seq_len, K = 4096, N = 4096)");
    Number flops = Number(2) * Number(8192) * Number(4096) * Number(4096);
    std::vector<std::pair<std::string, Number>> fp8{
        {"seq_len", Number(8192)}, {"w_bytes", Number(1)}, {"a_bytes", Number(1)}};
    EXPECT_EQ(r.get("compute_time", "h100-sxm", fp8), div(flops, h100_fp8));
    EXPECT_EQ(r.get("time", "h100-sxm", fp8), div(flops, h100_fp8));
    // int8_math = 1: the int8 peak. The A100 has int8 (624e12) and no fp8, so the two differ.
    auto int8 = fp8;
    int8.emplace_back("int8_math", Number(1));
    EXPECT_EQ(r.get("compute_time", "a100-80gb-sxm", int8), div(flops, num("624e12")));
    // ... and without int8_math the A100 has no fp8 peak: an error naming device and property.
    try {
        r.get("time", "a100-80gb-sxm", fp8);
        FAIL() << "a100-80gb-sxm has no fp8";
    } catch (const CostiError& e) {
        const Diagnostic& d = e.diagnostics().front();
        EXPECT_EQ(d.code, std::string(code::absent_hardware));
        EXPECT_NE(d.message.find("a100-80gb-sxm"), std::string::npos) << d.message;
        EXPECT_NE(d.message.find("fp8"), std::string::npos) << d.message;
    }
}

TEST(HardwareLangRoofline, FourByteOperandsUseFp32) {
    // a_bytes = w_bytes = 4 at M = 8192: math 4 -> hw.fp32 = 67e12 (no TF32).
    Roofline r("$F.linear(M = seq_len, K = 4096, N = 4096)");
    Number flops = Number(2) * Number(8192) * Number(4096) * Number(4096);
    EXPECT_EQ(r.get("compute_time", "h100-sxm",
                    {{"seq_len", Number(8192)}, {"w_bytes", Number(4)}, {"a_bytes", Number(4)}}),
              div(flops, num("67e12")));
}

TEST(HardwareLangRoofline, ElementwiseUsesFp32AndFallsBackToBf16) {
    // torch.mul of N = 2^20 elements: flops N; reads 2N·2 B, writes N·2 B.
    Roofline r("$torch.mul(N = 1048576)");
    Number n(1048576);
    EXPECT_EQ(r.get("compute_time", "h100-sxm"), div(n, num("67e12")));    // hw.fp32
    EXPECT_EQ(r.get("compute_time", "tpu-v5e"), div(n, num("197e12")));    // no fp32: hw.bf16
    EXPECT_EQ(r.get("memory_time", "tpu-v5e"), div(Number(6) * n, num("819e9")));
    EXPECT_EQ(r.get("time", "h100-sxm"), div(Number(6) * n, h100_bw));     // 1/6 FLOP/B: memory-bound
}

TEST(HardwareLangRoofline, KvCacheIsTheCacheConcatenation) {
    // torch.cat with cache = 1 holds its output: N·bytes; with cache = 0 nothing.
    Roofline held("$torch.cat(N = 1000, bytes = kv_bytes, cache = 1)");
    EXPECT_EQ(held.get("kv_cache", "h100-sxm"), Number(2000));
    EXPECT_EQ(held.get("kv_cache", "h100-sxm", {{"kv_bytes", Number(1)}}), Number(1000));
    Roofline plain("$torch.cat(N = 1000)");
    EXPECT_EQ(plain.get("kv_cache", "h100-sxm"), Number(0));
}
