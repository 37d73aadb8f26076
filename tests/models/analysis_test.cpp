// Issue 8's analyses on the shipped models and hardware: KV-cache bytes as each family stores
// them, weight bytes, roofline time bounds of a decode step, the memory footprint and what
// fits (interp::footprint, max_batch, max_context), and whole requests (interp::request).
//
// Expected values are derived by hand from the published configs and datasheet figures (in
// the comments), with 128-bit integers where they are integers; what fits is checked against
// runs evaluated one by one through the Session, not against the analysis' own arithmetic.
#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <vector>

#include "interpreter/analysis.hpp"
#include "interpreter/evaluator.hpp"
#include "model_support.hpp"

// gtest prints a Number as its digits (p/q), not as bytes.
namespace costi::interp {
inline void PrintTo(const Number& n, std::ostream* os) { *os << n.to_string(); }
}  // namespace costi::interp

namespace costi::models_test {
namespace {

using interp::AnalysisIds;
using interp::Environment;
using interp::Overrides;
using interp::Session;

const std::string hardware_dir = models_dir + "/../hardware";

Number num(const char* text) { return *Number::parse(text); }
Number div(const Number& a, const Number& b) { return *Number::divide(a, b); }
Number big(Int v) { return num(str(v).c_str()); }

const Number h100_bw = num("3.35e12");

using Runtime = std::vector<std::pair<std::string, Number>>;

// A session holding one shipped model (loaded first, so it is the one to run) and devices.
class Device {
public:
    Device(const std::string& model, std::initializer_list<const char*> hardware) {
        session_.load_file(models_dir + "/" + model + ".cost");
        for (const char* hw : hardware) session_.load_file(hardware_dir + "/" + hw + ".cost");
        model_ = &session_.pick_model("");
        ids_ = *AnalysisIds::of(session_.program());
    }
    // A program given as text (after stdlib and the devices), with its model m.
    Device(const std::string& text, std::initializer_list<const char*> hardware, bool) {
        session_.load_file(models_dir + "/../stdlib/all.cost");
        for (const char* hw : hardware) session_.load_file(hardware_dir + "/" + hw + ".cost");
        session_.load_text("<test>", text);
        model_ = &session_.pick_model("m");
        ids_ = *AnalysisIds::of(session_.program());
    }

    Environment env(const std::string& hw, const Runtime& runtime) const {
        Overrides o;
        o.hardware = hw;
        for (const auto& [k, v] : runtime) o.runtime.emplace_back(k, Value::of(v));
        return session_.environment(*model_, o);
    }
    // The totals of one run, per metric.
    std::vector<Number> totals(const std::string& hw, const Runtime& runtime) const {
        CostNode root = session_.run_in(*model_, env(hw, runtime), 0);
        std::vector<Number> out;
        for (std::size_t m = 0; m < root.cost.size(); ++m)
            out.push_back(interp::total_of(session_.program().metrics[m], root.count, root.cost[m]));
        return out;
    }
    Number get(const std::string& metric, const std::string& hw, const Runtime& runtime) const {
        return totals(hw, runtime)[*session_.program().find_metric(metric)];
    }
    // Whether weights + KV cache + working set of the run fit in capacity × 9/10 (vLLM's
    // default gpu_memory_utilization), summed here from the run's own totals.
    bool fits(const std::string& hw, const Runtime& runtime, const Number& capacity) const {
        auto t = totals(hw, runtime);
        return t[ids_.weight_bytes] + t[ids_.kv_cache] + t[ids_.workspace] <= capacity * div(9, 10);
    }

    const Session& session() const { return session_; }
    const interp::Model& model() const { return *model_; }
    const AnalysisIds& ids() const { return ids_; }

private:
    Session session_;
    const interp::Model* model_ = nullptr;
    AnalysisIds ids_{};
};

Runtime decode(std::int64_t cache, std::int64_t batch = 1) {
    return {{"batch_size", Number(batch)}, {"seq_len", Number(1)}, {"cache_len", Number(cache)}};
}

// ---------------------------------------------------------------- KV cache and weights

// Llama-3-8B: 32 layers, 8 KV heads, head_dim 4096/32 = 128. K and V per token:
// 2 · 32 · 8 · 128 · 2 B = 131,072 B in bf16. After a decode step at cache_len C the cache
// holds C + 1 tokens.
TEST(Analysis, Llama3KvCacheBytesPerToken) {
    Device d("llama-3-8b", {"h100-sxm"});
    const Int per_token = Int(2) * 32 * 8 * 128 * 2;
    EXPECT_EQ(str(per_token), "131072");
    for (std::int64_t c : {0, 1, 4095, 100000}) {
        EXPECT_EQ(d.get("kv_cache", "h100-sxm", decode(c)), big((c + 1) * per_token)) << "cache_len " << c;
    }
    // batch 4, prefill of 512 tokens: 4 · 512 tokens.
    EXPECT_EQ(d.get("kv_cache", "h100-sxm",
                    {{"batch_size", Number(4)}, {"seq_len", Number(512)}, {"cache_len", Number(0)}}),
              big(Int(4) * 512 * per_token));
    // An fp8 cache (kv_bytes 1) holds half.
    auto fp8 = decode(4095);
    fp8.emplace_back("kv_bytes", Number(1));
    EXPECT_EQ(d.get("kv_cache", "h100-sxm", fp8), big(4096 * per_token / 2));
}

// Weight bytes = params × w_bytes: 8,030,261,248 (the published count of Meta-Llama-3-8B)
// × 2 in bf16, × 1/2 at 4 bits.
TEST(Analysis, Llama3WeightBytes) {
    Device d("llama-3-8b", {"h100-sxm"});
    const Int params = 8030261248;
    EXPECT_EQ(d.get("weight_bytes", "h100-sxm", decode(0)), big(params * 2));
    auto int4 = decode(0);
    int4.emplace_back("w_bytes", div(1, 2));
    EXPECT_EQ(d.get("weight_bytes", "h100-sxm", int4), big(params / 2));
}

// Mistral-7B keeps at most W - 1 = 4095 past tokens per layer (DynamicSlidingWindowLayer):
// at cache_len 10,000 the step's cache is min(10000, 4095) + 1 = 4096 tokens of
// 2 · 32 layers · 8 KV heads · 128 · 2 B = 131,072 B.
TEST(Analysis, MistralSlidingWindowCapsTheCache) {
    Device d("mistral-7b-v0.1", {"h100-sxm"});
    EXPECT_EQ(d.get("kv_cache", "h100-sxm", decode(10000)), big(Int(4096) * 131072));
    EXPECT_EQ(d.get("kv_cache", "h100-sxm", decode(100)), big(Int(101) * 131072));  // below the window
}

// Gemma-2-9B: 42 layers alternating sliding (even index, 21) and full (odd index, 21)
// attention; 8 KV heads of head_dim 256: 2 · 8 · 256 · 2 B = 8192 B per token per layer.
// At cache_len 10,000: 21 sliding layers × (4095 + 1) tokens + 21 full layers × 10,001.
TEST(Analysis, Gemma2AlternatesSlidingAndFullLayers) {
    Device d("gemma-2-9b", {"h100-sxm"});
    const Int per_layer_token = Int(2) * 8 * 256 * 2;
    EXPECT_EQ(d.get("kv_cache", "h100-sxm", decode(10000)),
              big(21 * per_layer_token * 4096 + 21 * per_layer_token * 10001));
    EXPECT_EQ(d.get("kv_cache", "h100-sxm", decode(100)), big(42 * per_layer_token * 101));
}

// DeepSeek-V3 under transformers: DynamicLayer caches the decompressed per-head K (qk_nope
// 128 + qk_rope 64 = 192) and V (128) of all 128 heads, not the 512 + 64 latent:
// 61 layers · 128 heads · (192 + 128) · 2 B = 4,997,120 B per token.
TEST(Analysis, DeepSeekV3CachesDecompressedHeads) {
    Device d("deepseek-v3", {"h200-sxm"});
    const Int per_token = Int(61) * 128 * (192 + 128) * 2;
    EXPECT_EQ(str(per_token), "4997120");
    EXPECT_EQ(d.get("kv_cache", "h200-sxm", decode(1000)), big(1001 * per_token));
    EXPECT_EQ(d.get("kv_cache", "h200-sxm", decode(1000, 2)), big(2 * 1001 * per_token));
}

// ---------------------------------------------------------------- roofline time of a step

// A decode step at batch 1 reads every weight once except the embedding table, which is
// gathered (one row per token): its lower bound is the other weights' bytes over the
// bandwidth, (8,030,261,248 − 128,256 · 4096) · 2 B / 3.35e12 B/s = 4.480 ms. Decode at batch
// 1 is weight-bandwidth bound: every GEMM does 2 FLOP per 2-byte weight (1 FLOP/B, against
// the H100's ridge of 989.4e12 / 3.35e12 = 295 FLOP/B), and at cache_len 0 the KV cache
// (131 KB) and the activations (a few KB per layer) are tiny next to 15 GB of weights; so
// the step's time is within 5% of the bound.
// (weight_bytes / bandwidth itself, 4.794 ms, is NOT a lower bound: the 1.05 GB embedding
// table is held but not read.)
TEST(Analysis, Llama3DecodeApproachesTheWeightBandwidthBound) {
    Device d("llama-3-8b", {"h100-sxm"});
    auto ids = d.ids();
    auto t = d.totals("h100-sxm", decode(0));
    const Int read_weights = (Int(8030261248) - Int(128256) * 4096) * 2;
    Number bound = div(big(read_weights), h100_bw);
    EXPECT_GE(t[ids.time], bound);
    EXPECT_LE(t[ids.time], bound * div(105, 100));
    // Every call memory-bound: the time is the memory time, and no call is compute-bound.
    EXPECT_EQ(t[ids.compute_bound], Number(0));
    EXPECT_EQ(t[ids.time], t[ids.memory_time]);
}

// For any run: compute_time <= time <= compute_time + memory_time (per call
// max(c, m) lies between c and c + m), memory_time <= time, and memory_time is the run's
// bytes over the bandwidth (each leaf's (read + write) / bw, summed).
TEST(Analysis, TimeLiesBetweenItsParts) {
    Device d("llama-3-8b", {"h100-sxm"});
    auto ids = d.ids();
    auto read = *d.session().program().find_metric("read");
    auto write = *d.session().program().find_metric("write");
    for (const Runtime& r : {decode(0), decode(8191, 64),
                             Runtime{{"batch_size", Number(1)}, {"seq_len", Number(4096)}, {"cache_len", Number(0)}}}) {
        auto t = d.totals("h100-sxm", r);
        EXPECT_LE(t[ids.compute_time], t[ids.time]);
        EXPECT_LE(t[ids.memory_time], t[ids.time]);
        EXPECT_LE(t[ids.time], t[ids.compute_time] + t[ids.memory_time]);
        EXPECT_LE(t[ids.compute_bound], t[ids.time]);
        EXPECT_EQ(t[ids.memory_time], div(t[read] + t[write], h100_bw));
    }
    // A 4096-token prefill is mostly compute-bound: its GEMMs have M = 4096 (intensity
    // about 2·4096·K·N / (2·(4096·K + K·N + 4096·N)) ~ 1000+ FLOP/B > 295).
    auto prefill = d.totals("h100-sxm", {{"seq_len", Number(4096)}});
    EXPECT_GT(prefill[ids.compute_bound] * Number(2), prefill[ids.time]);
}

// ---------------------------------------------------------------- footprint and what fits

// A model small enough to solve by hand: one 4096 × 4096 bf16 linear over
// M = batch · seq_len rows, and a KV-cache concatenation of batch · ctx · 4096 elements
// (ctx = cache_len + seq_len) at kv_bytes.
//   weights   = 4096 · 4096 · 2 = 33,554,432 B
//   kv_cache  = b · ctx · 4096 · 2 = 8192 · b · ctx
//   workspace = max(linear: M·4096·2 + M·4096·2 = 16384 · b · seq_len,
//                   cat:    read + write = 2 · 8192 · b · ctx = 16384 · b · ctx)
//             = 16384 · b · ctx
//   total     = 33,554,432 + 24,576 · b · ctx   against 80e9 · 9/10 = 72e9 on the H100.
const char* tiny = R"(
kernel Tiny {
  proj:  $F.linear(M = batch_size * seq_len, K = 4096, N = 4096)
  cache: $torch.cat(N = batch_size * (cache_len + seq_len) * 4096, bytes = kv_bytes, cache = 1)
}
model m = $Tiny
)";

TEST(AnalysisFits, FootprintOfTheTinyModel) {
    Device d(tiny, {"h100-sxm"}, true);
    auto env = d.env("h100-sxm", decode(4095, 3));  // b = 3, ctx = 4096
    auto totals = d.totals("h100-sxm", decode(4095, 3));
    interp::Footprint f = interp::footprint(d.session().program(), d.ids(), env, totals);
    EXPECT_EQ(f.weights, Number(33554432));
    EXPECT_EQ(f.kv_cache, Number(8192 * 3 * 4096));
    EXPECT_EQ(f.workspace, Number(16384 * 3 * 4096));
    EXPECT_EQ(f.total, Number(33554432) + Number(24576 * 3 * 4096));
    EXPECT_EQ(f.capacity, num("80e9"));
    EXPECT_EQ(f.usable, num("72e9"));
    EXPECT_TRUE(f.fits);
}

// Largest b with 33,554,432 + 24,576 · b · 4096 <= 72e9:
// b <= (72,000,000,000 − 33,554,432) / 100,663,296 = 714.92…  ->  714.
// At mem_util 1/2 (40e9): (40e9 − 33,554,432) / 100,663,296 = 397.03…  ->  397.
TEST(AnalysisFits, MaxBatchOfTheTinyModel) {
    Device d(tiny, {"h100-sxm"}, true);
    auto at = decode(4095);
    auto b = interp::max_batch(d.session(), d.model(), d.env("h100-sxm", at), d.ids());
    ASSERT_TRUE(b.value.has_value());
    EXPECT_EQ(*b.value, Number(714));
    EXPECT_FALSE(b.unbounded);
    EXPECT_TRUE(b.limit.empty()) << b.limit;
    at.emplace_back("mem_util", div(1, 2));
    auto half = interp::max_batch(d.session(), d.model(), d.env("h100-sxm", at), d.ids());
    ASSERT_TRUE(half.value.has_value());
    EXPECT_EQ(*half.value, Number(397));
}

// Longest ctx at batch 1 with 33,554,432 + 24,576 · ctx <= 72e9:
// ctx <= (72,000,000,000 − 33,554,432) / 24,576 = 2,928,322.17…  ->  2,928,322.
// At batch 4: (72e9 − 33,554,432) / 98,304 = 732,080.54…  ->  732,080.
TEST(AnalysisFits, MaxContextOfTheTinyModel) {
    Device d(tiny, {"h100-sxm"}, true);
    auto c = interp::max_context(d.session(), d.model(), d.env("h100-sxm", decode(0)), d.ids(),
                                 Number(std::int64_t{1} << 30));
    ASSERT_TRUE(c.value.has_value());
    EXPECT_EQ(*c.value, Number(2928322));
    auto c4 = interp::max_context(d.session(), d.model(), d.env("h100-sxm", decode(0, 4)), d.ids(),
                                  Number(std::int64_t{1} << 30));
    ASSERT_TRUE(c4.value.has_value());
    EXPECT_EQ(*c4.value, Number(732080));
    // A cap below the answer: the cap, marked unbounded.
    auto capped = interp::max_context(d.session(), d.model(), d.env("h100-sxm", decode(0)), d.ids(), Number(1000));
    ASSERT_TRUE(capped.value.has_value());
    EXPECT_EQ(*capped.value, Number(1000));
    EXPECT_TRUE(capped.unbounded);
}

// A model's own rule stops the batch before memory does: the tiny model with
// `require batch_size <= 8` fits 714 in memory (above), so the answer is 8, the rule's
// message the limit.
TEST(AnalysisFits, MaxBatchStopsAtTheModelsRule) {
    Device d(R"(
kernel Limited {
  require batch_size <= 8 "at most 8 sequences"
  proj:  $F.linear(M = batch_size * seq_len, K = 4096, N = 4096)
  cache: $torch.cat(N = batch_size * (cache_len + seq_len) * 4096, bytes = kv_bytes, cache = 1)
}
model m = $Limited
)",
             {"h100-sxm"}, true);
    auto b = interp::max_batch(d.session(), d.model(), d.env("h100-sxm", decode(4095)), d.ids());
    ASSERT_TRUE(b.value.has_value());
    EXPECT_EQ(*b.value, Number(8));
    EXPECT_EQ(b.limit, "at most 8 sequences");
}

// The same rule on a model whose footprint does not grow with the batch (one fixed-size
// linear, 33,554,432 B of weights + 16,384 B of working set at every batch): memory never
// stops it, the rule does, at 8.
TEST(AnalysisFits, MaxBatchStopsAtTheModelsRuleWhenNothingGrows) {
    Device d(R"(
kernel Fixed {
  require batch_size <= 8 "at most 8 sequences"
  proj:  $F.linear(M = 1, K = 4096, N = 4096)
}
model m = $Fixed
)",
             {"h100-sxm"}, true);
    auto b = interp::max_batch(d.session(), d.model(), d.env("h100-sxm", decode(0)), d.ids());
    ASSERT_TRUE(b.value.has_value());
    EXPECT_EQ(*b.value, Number(8));
    EXPECT_EQ(b.limit, "at most 8 sequences");
}

// Llama-3-8B on an L4 (24e9 B, usable 21.6e9) at context 4096 (a decode step at cache_len
// 4095): weights 16,060,522,496 B; KV per sequence 4096 · 131,072 = 536,870,912 B.
//   upper bound: b <= (21.6e9 − 16,060,522,496) / 536,870,912 = 10.3  ->  b <= 10
//   lower bound: the working set of one call is at most one layer's K and V cache read and
//   written by torch.cat (2 · 2 · 4096 · 8 · 128 · 2 B = 33,554,432 B per sequence) plus
//   activations far below another 33.5 MB (the largest, the logits, 128,256 · 2 B); so per
//   sequence at most 536,870,912 + 67,108,864 = 603,979,776 B:
//   b >= (21.6e9 − 16,060,522,496) / 603,979,776 = 9.17  ->  b >= 9.
// And b is exactly the largest that fits: it fits, b + 1 does not (each run evaluated here).
TEST(AnalysisFits, Llama3MaxBatchOnL4) {
    Device d("llama-3-8b", {"l4"});
    const Number l4 = num("24e9");
    auto b = interp::max_batch(d.session(), d.model(), d.env("l4", decode(4095)), d.ids());
    ASSERT_TRUE(b.value.has_value());
    EXPECT_GE(*b.value, Number(9));
    EXPECT_LE(*b.value, Number(10));
    auto n = b.value->to_int64().value_or(0);
    EXPECT_TRUE(d.fits("l4", decode(4095, n), l4));
    EXPECT_FALSE(d.fits("l4", decode(4095, n + 1), l4));
}

// Llama-3-70B holds about 70.6e9 params · 2 B = 141 GB of weights: no batch fits on one L4
// (21.6e9 usable). That is a result (no value), not an error, and memory, not a rule, stops it.
TEST(AnalysisFits, Llama3_70BDoesNotFitOnL4) {
    Device d("llama-3-70b", {"l4"});
    auto env = d.env("l4", decode(4095));
    auto b = interp::max_batch(d.session(), d.model(), env, d.ids());
    EXPECT_FALSE(b.value.has_value());
    EXPECT_TRUE(b.limit.empty()) << b.limit;
    interp::Footprint f = interp::footprint(d.session().program(), d.ids(), env, d.totals("l4", decode(4095)));
    EXPECT_FALSE(f.fits);
    EXPECT_GT(f.weights, num("140e9"));
}

// GPT-2 has n_positions = 1024 learned positions, so no step beyond 1024 tokens is allowed;
// memory does not stop it first (weights ~0.25 GB, KV 2 · 12 · 768 · 2 = 36,864 B per token:
// 37.7 MB at 1024). The longest context is 1024, and the model's own rule is the limit.
TEST(AnalysisFits, Gpt2ContextStopsAtNPositions) {
    Device d("gpt2", {"h100-sxm"});
    auto c = interp::max_context(d.session(), d.model(), d.env("h100-sxm", decode(0)), d.ids(),
                                 Number(std::int64_t{1} << 30));
    ASSERT_TRUE(c.value.has_value());
    EXPECT_EQ(*c.value, Number(1024));
    EXPECT_FALSE(c.unbounded);
    EXPECT_FALSE(c.limit.empty());
    EXPECT_EQ(d.get("kv_cache", "h100-sxm", decode(1023)), big(Int(1024) * 2 * 12 * 768 * 2));
}

// ---------------------------------------------------------------- whole requests

// interp::request(P, G) against the same steps run one at a time through the Session:
// the prefill (seq_len P, cache_len 0) and G decode steps (seq_len 1, cache_len P … P+G−1),
// all with logits_to_keep 1. Sums for summed metrics, maxima for peaks (workspace).
// G >= 256 takes the threaded path.
void check_request(const Device& d, const std::string& hw, std::int64_t P, std::int64_t G) {
    const auto& program = d.session().program();
    const auto& ids = d.ids();
    Runtime base{{"batch_size", Number(2)}, {"logits_to_keep", Number(1)}};
    auto env = d.env(hw, base);
    interp::Request r = interp::request(d.session(), d.model(), env, ids, Number(P), Number(G));

    Runtime pre = base;
    pre.emplace_back("seq_len", Number(P));
    pre.emplace_back("cache_len", Number(0));
    auto prefill = d.totals(hw, pre);
    std::vector<Number> sum(program.metrics.size(), Number(0)), last;
    for (std::int64_t i = 0; i < G; ++i) {
        Runtime step = base;
        step.emplace_back("seq_len", Number(1));
        step.emplace_back("cache_len", Number(P + i));
        last = d.totals(hw, step);
        for (std::size_t m = 0; m < sum.size(); ++m) {
            if (program.metrics[m].combine_max) {
                if (sum[m] < last[m]) sum[m] = last[m];
            } else {
                sum[m] += last[m];
            }
        }
    }
    for (std::size_t m = 0; m < sum.size(); ++m) {
        const std::string& name = program.metrics[m].name;
        EXPECT_EQ(r.prefill[m], prefill[m]) << "prefill " << name;
        EXPECT_EQ(r.decode[m], sum[m]) << "decode " << name;
        EXPECT_EQ(r.last_decode[m], last[m]) << "last decode " << name;
    }
    EXPECT_EQ(r.ttft, prefill[ids.time]);
    EXPECT_EQ(r.decode_time, sum[ids.time]);
    EXPECT_EQ(r.total_time, prefill[ids.time] + sum[ids.time]);
    EXPECT_EQ(r.batch, Number(2));
    // The peak footprint: the cache after the last step, the largest working set of any step.
    ASSERT_TRUE(r.has_memory);
    EXPECT_EQ(r.peak.kv_cache, last[ids.kv_cache]);
    Number ws = prefill[ids.workspace] < sum[ids.workspace] ? sum[ids.workspace] : prefill[ids.workspace];
    EXPECT_EQ(r.peak.workspace, ws);
}

TEST(AnalysisRequest, Gpt2RequestIsTheSumOfItsSteps) {
    Device d("gpt2", {"h100-sxm"});
    check_request(d, "h100-sxm", 8, 300);
}

// Mistral's steps cross the sliding window (cache_len 3950 … 4249 passes W − 1 = 4095), so
// the sum also checks that steps sharing memoised subtrees still see their own cache_len.
TEST(AnalysisRequest, MistralRequestAcrossTheWindowIsTheSumOfItsSteps) {
    Device d("mistral-7b-v0.1", {"h100-sxm"});
    check_request(d, "h100-sxm", 3950, 300);
}

// G = 0: the prefill alone; the decode sums are zero.
TEST(AnalysisRequest, NoDecodeSteps) {
    Device d("gpt2", {"h100-sxm"});
    auto env = d.env("h100-sxm", {});
    interp::Request r = interp::request(d.session(), d.model(), env, d.ids(), Number(16), Number(0));
    auto prefill = d.totals("h100-sxm", {{"seq_len", Number(16)}, {"cache_len", Number(0)}, {"logits_to_keep", Number(1)}});
    EXPECT_EQ(r.ttft, prefill[d.ids().time]);
    EXPECT_EQ(r.decode_time, Number(0));
    EXPECT_EQ(r.total_time, r.ttft);
}

}  // namespace
}  // namespace costi::models_test
