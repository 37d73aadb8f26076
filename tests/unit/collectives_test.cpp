// The collectives of stdlib/collectives.cost (issue 11): each leaf is what one device of a
// group of n does, with NCCL's ring volumes (nccl-tests doc/PERFORMANCE.md). Every expected
// value below is worked out by hand in its comment for n = 4 devices and an array of 1000
// elements at a_bytes = 2 (S = 2000 B).
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "interpreter/diagnostics.hpp"
#include "interpreter/evaluator.hpp"
#include "interpreter/session.hpp"

using namespace costi::interp;

namespace {

const std::filesystem::path root_dir = std::filesystem::weakly_canonical(std::string(COSTI_TEST_DIR) + "/..");

// A device whose links are easy to divide by: 10^11 B/s within a domain of 8, 10^10 across.
const char* device = R"(
hardware t {
  doc "a test device"
  source "tests/unit/collectives_test.cpp"
  memory = 80e9        "U: test"
  bf16 = 1e15          "U: test"
  mem_bw = 1e12        "U: test"
  link_bw = 1e11       "U: test"
  link_domain = 8      "U: test"
  net_bw = 1e10        "U: test"
}
)";

std::string metric_of(const std::string& call, const std::string& metric, const std::string& hardware = "") {
    Session s;
    // With a device, the roofline (whose every leaf then needs the device selected); else the
    // collectives alone.
    s.load_file((root_dir / (hardware.empty() ? "stdlib/collectives.cost" : "stdlib/roofline.cost")).string());
    s.load_text("<test>", (hardware.empty() ? std::string() : std::string(device)) + "model m = " + call + "\n");
    Overrides o;
    o.hardware = hardware;
    CostNode root = s.run(s.pick_model("m"), o);
    auto m = s.program().find_metric(metric);
    EXPECT_TRUE(m.has_value()) << metric;
    return total_of(s.program().metrics[*m], root.count, root.cost[*m]).to_string();
}

std::string error_of(const std::string& call) {
    try {
        metric_of(call, "comm");
    } catch (const CostiError& e) {
        return e.diagnostics().front().code + " " + e.diagnostics().front().message;
    }
    return "no error";
}

// All-reduce: 2 · 3/4 · 2000 = 3000 B sent; 3/4 · 1000 = 750 additions; reads and writes S.
TEST(Collectives, AllReduce) {
    const std::string c = "$comm.all_reduce(n = 4, elements = 1000)";
    EXPECT_EQ(metric_of(c, "comm"), "3000");
    EXPECT_EQ(metric_of(c, "flops"), "750");
    EXPECT_EQ(metric_of(c, "read"), "2000");
    EXPECT_EQ(metric_of(c, "write"), "2000");
}

// All-gather: 3/4 · 2000 = 1500 B sent; reads its 1/4 (500 B), writes the whole array.
TEST(Collectives, AllGather) {
    const std::string c = "$comm.all_gather(n = 4, elements = 1000)";
    EXPECT_EQ(metric_of(c, "comm"), "1500");
    EXPECT_EQ(metric_of(c, "flops"), "0");
    EXPECT_EQ(metric_of(c, "read"), "500");
    EXPECT_EQ(metric_of(c, "write"), "2000");
}

// Reduce-scatter: 1500 B sent; 750 additions; reads the whole array, writes its 1/4.
TEST(Collectives, ReduceScatter) {
    const std::string c = "$comm.reduce_scatter(n = 4, elements = 1000)";
    EXPECT_EQ(metric_of(c, "comm"), "1500");
    EXPECT_EQ(metric_of(c, "flops"), "750");
    EXPECT_EQ(metric_of(c, "read"), "2000");
    EXPECT_EQ(metric_of(c, "write"), "500");
}

// All-to-all in equal parts: keeps 1/4, sends and receives 3/4 each (1500 B).
TEST(Collectives, AllToAll) {
    const std::string c = "$comm.all_to_all(n = 4, elements = 1000)";
    EXPECT_EQ(metric_of(c, "comm"), "1500");
    EXPECT_EQ(metric_of(c, "read"), "1500");
    EXPECT_EQ(metric_of(c, "write"), "1500");
}

TEST(Collectives, OneDeviceRunsNothing) {
    for (const char* k : {"all_reduce", "all_gather", "reduce_scatter", "all_to_all"}) {
        const std::string c = std::string("$comm.") + k + "(n = 1, elements = 1000)";
        for (const char* m : {"comm", "flops", "read", "write"}) EXPECT_EQ(metric_of(c, m), "0") << k << " " << m;
    }
}

// Time: 8 µs of latency plus the bytes over the link. Within the domain (span 4 <= 8):
// 1/125000 + 1500/10^11 = 801.5/10^8 s; spread over 16 devices, the network:
// 1/125000 + 1500/10^10 = 815/10^8 s.
TEST(Collectives, TheSpanChoosesTheLink) {
    EXPECT_EQ(metric_of("$comm.reduce_scatter(n = 4, elements = 1000)", "comm_time", "t"), "1603/200000000");
    EXPECT_EQ(metric_of("$comm.reduce_scatter(n = 4, elements = 1000, span = 16)", "comm_time", "t"), "163/20000000");
    EXPECT_EQ(metric_of("$comm.all_gather(n = 2, elements = 1000, span = 16)", "comm_time", "t"),
              "81/10000000");  // 1/125000 + 1000/10^10 = 810/10^8
}

TEST(Collectives, BadGroupsAreRefused) {
    EXPECT_EQ(error_of("$comm.all_to_all(n = 4, elements = 1000, span = 2)"),
              "E0207 span: a group's members are spread over at least its n devices");
    EXPECT_EQ(error_of("$comm.reduce_scatter(n = 3/2, elements = 1000)"),
              "E0207 a group has a positive whole number of devices");
}

}  // namespace
