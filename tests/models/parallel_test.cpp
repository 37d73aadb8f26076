// Issue 11: tensor parallelism in the vLLM execution (kernels/vllm/llama.cost, qwen2.cost) and
// the collectives of stdlib/collectives.cost. The shipped models run with tp = 1, 4, 8, 16 and
// are checked against numbers derived by hand (in the comments), computed here with plain
// integers, never with the interpreter.
//
// Llama-3-70B: H 8192, I 28672, 80 layers, 64 heads, 8 KV heads, d 128, V 128256, untied.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "interpreter/analysis.hpp"
#include "model_support.hpp"

namespace costi::models_test {
namespace {

const std::string root_dir = models_dir + "/..";
const std::string llama70 = "meta-llama/Meta-Llama-3-70B";
const std::string qwen72 = "Qwen/Qwen2.5-72B";

// The vLLM kernels and three shipped models; with a device, the roofline too (every run then
// needs the device selected).
class Parallel : public EngineRuns {
public:
    explicit Parallel(bool device)
        : EngineRuns({root_dir + "/kernels/vllm/vllm.cost"}, device ? root_dir + "/hardware/h100-sxm.cost" : "",
                     {models_dir + "/llama-3-70b.cost", models_dir + "/qwen2.5-72b.cost", models_dir + "/gpt2.cost",
                      models_dir + "/gemma-2-9b.cost", models_dir + "/mixtral-8x7b-v0.1.cost",
                      models_dir + "/deepseek-v3.cost", models_dir + "/llama-3.1-405b.cost"}) {}
};

const Parallel& runs() {
    static const Parallel p(false);
    return p;
}
const Parallel& on_device() {
    static const Parallel p(true);
    return p;
}

using namespace steps;

Step with(Step s, const std::string& name, std::int64_t value) {
    s.runtime.emplace_back(name, value);
    return s;
}
Step tp(Step s, std::int64_t degree) { return with(std::move(s), "tp", degree); }

std::string total(const std::string& model, const std::string& m, const Step& s, const std::string& engine = "vllm") {
    return runs().total_as(model, m, s, engine);
}
std::string leaves(const std::string& model, const std::string& kernel, const std::string& m, const Step& s) {
    return runs().leaves_as(model, kernel, m, s, "vllm");
}

// Per device at degree t, Llama-3-70B holds its shard of every sharded layer and all of the
// replicated ones: embedding and lm_head 128256/t · 8192 each; per layer q/k/v of 64/t query
// heads and max(1, 8/t) KV heads (replicated when t > 8), o_proj 64/t · 128 · 8192,
// gate_up 2 · 28672/t · 8192, down 28672/t · 8192, two norms 8192; the final norm 8192.
Int llama70_params(Int t) {
    Int kv = 8 / t > 0 ? 8 / t : 1;
    Int layer = (64 / t + 2 * kv) * 128 * 8192 + (64 / t) * 128 * 8192 + 2 * (28672 / t) * 8192 + (28672 / t) * 8192 +
                2 * 8192;
    return 2 * (128256 / t) * 8192 + 80 * layer + 8192;
}

TEST(TensorParallel, DegreeOneIsTheUnshardedRunExactly) {
    for (const char* m : {"flops", "read", "write", "params"}) {
        EXPECT_EQ(total(llama70, m, tp(decode(4095), 1)), total(llama70, m, decode(4095))) << m;
    }
    EXPECT_EQ(total(llama70, "params", tp(decode(4095), 1)), "70553706496");  // docs/models.md
    EXPECT_EQ(total(llama70, "comm", decode(4095)), "0");
}

TEST(TensorParallel, EachDeviceHoldsItsShardAndTheReplicatedLayers) {
    EXPECT_EQ(str(llama70_params(4)), "17639415808");
    for (Int t : {2, 4, 8, 16}) {
        EXPECT_EQ(total(llama70, "params", tp(decode(4095), static_cast<std::int64_t>(t))), str(llama70_params(t))) << "tp " << str(t);
    }
    // Beyond 8 the KV heads are replicated: at tp 16 every device keeps one KV head, so its
    // q/k/v GEMM is (4 + 2 · 1) · 128 wide, not (4 + 2 · 0.5) · 128.
    EXPECT_EQ(str(llama70_params(16)), str(2 * Int(8016) * 8192 + 80 * (Int(6 + 4) * 128 * 8192 + 3 * Int(1792) * 8192 + 16384) + 8192));
}

// KV cache per device: 2 · 80 layers · kv_local heads · 128 · 2 B per token: 81,920 B at tp 4
// (2 KV heads), 20,480 B at tp 16 (one replicated head, the same as tp 8). 4096 tokens.
TEST(TensorParallel, EachDeviceCachesItsKvHeads) {
    const std::string hw = "h100-sxm";
    auto kv = [&](std::int64_t t) { return on_device().total_as(llama70, "kv_cache", tp(decode(4095), t), "vllm", hw); };
    EXPECT_EQ(kv(4), str(Int(4096) * 2 * 80 * 2 * 128 * 2));
    EXPECT_EQ(kv(8), str(Int(4096) * 2 * 80 * 1 * 128 * 2));
    EXPECT_EQ(kv(16), kv(8));
}

// The GEMMs of one device do 1/t of the work of each sharded layer: at tp 4 a decode token's
// linear layers take 2 · (per-layer K·N sum of the shard) FLOPs.
TEST(TensorParallel, GemmFlopsAreTheShards) {
    Int t = 4;
    Int layer = (64 / t + 2 * 2) * 128 * 8192 + (64 / t) * 128 * 8192 + 3 * (28672 / t) * 8192;
    Int expected = 2 * 80 * layer + 2 * (128256 / t) * 8192;  // + the lm_head shard
    EXPECT_EQ(leaves(llama70, "F.linear", "flops", tp(decode(4095), 4)), str(expected));
}

// Two all-reduces per layer (attention and MLP outputs) and one after the embedding, each of
// batch · seq_len · 8192 values at 2 B; a ring all-reduce sends 2(t − 1)/t of it per device.
// The logits are all-gathered: (t − 1)/t of batch · 128256 values at 2 B.
TEST(TensorParallel, AllReduceBytesFollowTheRing) {
    auto expected = [](Int t, Int tokens, Int batch) {
        Int message = tokens * 8192 * 2;
        return (2 * 80 + 1) * 2 * (t - 1) * message / t + (t - 1) * batch * 128256 * 2 / t;
    };
    EXPECT_EQ(total(llama70, "comm", tp(decode(4095), 4)), str(expected(4, 1, 1)));
    EXPECT_EQ(total(llama70, "comm", tp(decode(4095, 8), 8)), str(expected(8, 8, 8)));
    EXPECT_EQ(total(llama70, "comm", tp(prefill(512), 2)), str(expected(2, 512, 1)));
    // Per collective: 2(t-1)/t · message, as issue 11 states it.
    EXPECT_EQ(leaves(llama70, "comm.all_reduce", "comm", tp(decode(4095), 4)), str((2 * 80 + 1) * 2 * 3 * (8192 * 2) / 4));
}

// Qwen2.5-72B: H 8192, I 29568, 80 layers, 64 heads, 8 KV heads, V 152064, q/k/v biases.
// At tp 8 each device holds q/k/v of 8 + 2 heads with their biases.
TEST(TensorParallel, Qwen2ShardsTheSameWay) {
    Int t = 8;
    Int layer = (8 + 2) * 128 * 8192 + (8 + 2) * 128 + 8 * 128 * 8192 + 3 * (29568 / t) * 8192 + 2 * 8192;
    Int expected = 2 * (152064 / t) * 8192 + 80 * layer + 8192;
    EXPECT_EQ(total(qwen72, "params", tp(decode(100), 8)), str(expected));
}

// GPT-2 at tp 2: wte's shard of the padded vocabulary 50304/2 · 768 and wpe (replicated)
// 1024 · 768; per block ln_1 and ln_2 (2 · 1536), c_attn 3 · 6 heads · 64 = 1152 columns with
// bias, c_proj 384 · 768 + 768, c_fc 1536 columns of 768 with bias, c_proj 1536 · 768 + 768;
// ln_f 1536; lm_head tied to wte.
TEST(TensorParallel, Gpt2ShardsHeadsAndTheMlp) {
    Int block = 2 * 1536 + (768 * 1152 + 1152) + (384 * 768 + 768) + (768 * 1536 + 1536) + (1536 * 768 + 768);
    Int expected = Int(25152) * 768 + 1024 * 768 + 12 * block + 1536;
    EXPECT_EQ(total("openai-community/gpt2", "params", tp(decode(100), 2)), str(expected));
}

// Gemma-2-9B at tp 2 (H 3584, 16 heads, 8 KV heads of 256, I 14336, 42 layers, V 256000):
// embedding shard 128000 · 3584 (tied lm_head), per layer q/k/v (8 + 2 · 4) · 256 · 3584,
// o_proj 8 · 256 · 3584, gate_up 2 · 7168 · 3584, down 7168 · 3584, four norms 4 · 3584;
// the final norm 3584.
TEST(TensorParallel, Gemma2ShardsTheSameWay) {
    Int layer = 16 * 256 * Int(3584) + 8 * 256 * Int(3584) + 3 * Int(7168) * 3584 + 4 * 3584;
    Int expected = Int(128000) * 3584 + 42 * layer + 3584;
    EXPECT_EQ(str(expected), "4621155840");
    EXPECT_EQ(total("google/gemma-2-9b", "params", tp(decode(100), 2)), str(expected));
}

// Mixtral-8x7B at tp 2 (H 4096, 32 heads, 8 KV heads of 128, 8 experts of I 14336, 32
// layers, V 32000): embedding and lm_head shards 16000 · 4096; per layer q/k/v (16 + 2 · 4)
// · 128 · 4096, o_proj 16 · 128 · 4096, the router 4096 · 8 (replicated), every expert's
// half: 8 · 3 · 4096 · 7168, two norms; the final norm. Active: 2 of the 8 expert halves.
TEST(TensorParallel, MixtralShardsEveryExpert) {
    Int dense = 24 * 128 * Int(4096) + 16 * 128 * Int(4096) + 4096 * 8 + 2 * 4096;
    Int half_expert = 3 * Int(4096) * 7168;
    Int expected = 2 * Int(16000) * 4096 + 32 * (dense + 8 * half_expert) + 4096;
    Int active = 2 * Int(16000) * 4096 + 32 * (dense + 2 * half_expert) + 4096;
    EXPECT_EQ(total("mistralai/Mixtral-8x7B-v0.1", "params", tp(decode(100), 2)), str(expected));
    EXPECT_EQ(total("mistralai/Mixtral-8x7B-v0.1", "active_params", tp(decode(100), 2)), str(active));
    // Two all-reduces per layer (the attention output, the MoE output) plus the embedding's.
    Int message = 4096 * 2;
    EXPECT_EQ(leaves("mistralai/Mixtral-8x7B-v0.1", "comm.all_reduce", "comm", tp(decode(100), 2)),
              str((2 * 32 + 1) * 2 * 1 * message / 2));
}

// DeepSeek-V3 at tp 8, one decode step: the 128 MLA heads split 16 per device, but the latent
// cache is replicated: each device holds every token's 576-element row in all 61 layers,
// 4096 · 61 · 576 · 2 B after 4096 tokens, as at tp 1. The collectives: an all-reduce after
// each of the 61 attention outputs, the 3 dense MLPs, the 58 MoE blocks and the embedding —
// 123 all-reduces of 7168 values at 2 B, each sending 2 · 7/8 · 14,336 B — and the logits'
// all-gather, 7/8 · 129,280 · 2 B.
TEST(TensorParallel, DeepseekSplitsTheHeadsAndReplicatesTheLatent) {
    Step s = tp(decode(4095), 8);
    EXPECT_EQ(on_device().total_as("deepseek-ai/DeepSeek-V3", "kv_cache", s, "vllm", "h100-sxm"),
              str(Int(4096) * 61 * 576 * 2));
    Int expected = 123 * (2 * 7 * Int(14336) / 8) + 7 * Int(129280) * 2 / 8;
    EXPECT_EQ(total("deepseek-ai/DeepSeek-V3", "comm", s), str(expected));
    // 16 local heads: the absorbed GEMMs do 1/8 of the work of tp 1.
    EXPECT_EQ(leaves("deepseek-ai/DeepSeek-V3", "vllm.mla_weight_bmm", "flops", s), str(Int(61) * 4 * 16 * 128 * 512));
}

// ------------------------------------------------------------------------ bad layouts

std::string error_of(const std::string& model, const Step& s, const std::string& engine = "vllm") {
    try {
        runs().run_as(model, s, engine);
    } catch (const interp::CostiError& e) {
        return e.diagnostics().front().code + " " + e.diagnostics().front().message;
    }
    return "no error";
}

TEST(TensorParallel, DegreesTheShardsCannotTakeAreRefused) {
    // 64 heads do not split over 3 devices.
    EXPECT_EQ(error_of(llama70, tp(decode(1), 3)).rfind("E0207 tensor parallelism: tp must divide config.num_attention_heads", 0), 0u);
    // 64 heads split over 32 devices, 8 KV heads replicate 4 times: fine. 64 over 128: no.
    EXPECT_EQ(error_of(llama70, tp(decode(1), 32)), "no error");
    EXPECT_NE(error_of(llama70, tp(decode(1), 128)), "no error");
}

TEST(TensorParallel, AnExecutionThatDoesNotModelItRefusesIt) {
    EXPECT_EQ(error_of(llama70, tp(decode(1), 4), "transformers").rfind("E0213 tp = 4: the transformers execution", 0), 0u);
    // tp 1 is every execution's.
    EXPECT_EQ(error_of(llama70, tp(decode(1), 1), "transformers"), "no error");
}

// Expert parallelism in the tensor-parallel group (ep = tp = 2, dp = 1): each device holds 4
// whole experts instead of 8 halves — the same bytes — and under uniform routing runs a
// decode token's 2 / 2 = 1 pair on a whole expert: 2 · (4096 · 28672 + 14336 · 4096) FLOPs
// and the routing-weight multiply of its 4096 outputs, per layer; the output is all-reduced
// as under TP alone.
TEST(ExpertParallel, EachDeviceRunsWholeExperts) {
    const std::string mixtral = "mistralai/Mixtral-8x7B-v0.1";
    Step s = with(tp(decode(100), 2), "ep", 2);
    EXPECT_EQ(total(mixtral, "params", s), total(mixtral, "params", tp(decode(100), 2)));
    EXPECT_EQ(leaves(mixtral, "vllm.fused_moe_kernel", "flops", s),
              str(32 * (2 * (Int(4096) * 28672 + Int(14336) * 4096) + 4096)));
    // TP alone: 2 pairs on half experts, the same GEMM FLOPs, twice the weight multiplies.
    EXPECT_EQ(leaves(mixtral, "vllm.fused_moe_kernel", "flops", tp(decode(100), 2)),
              str(32 * (2 * 2 * (Int(4096) * 14336 + Int(7168) * 4096) + 2 * 4096)));
    EXPECT_EQ(total(mixtral, "comm", s), total(mixtral, "comm", tp(decode(100), 2)));
}

TEST(ExpertParallel, OnlyTheTensorParallelGroupAndMoeFamilies) {
    EXPECT_EQ(error_of("mistralai/Mixtral-8x7B-v0.1", with(tp(decode(1), 2), "ep", 4)).rfind("E0207 expert parallelism: ep must be 1 or tp x dp", 0), 0u);
    EXPECT_EQ(error_of(llama70, with(tp(decode(1), 2), "ep", 2)).rfind("E0213 ep = 2: the vllm execution", 0), 0u);
}

// The smallest layout on h100-sxm (80 GB, mem_util 9/10: 72 GB usable; link_domain 8) for a
// one-token decode step at 4096 tokens, found by interp::smallest_layout.
std::string smallest_on_h100(const std::string& model, const Step& s) {
    const interp::Session& session = on_device().session();
    interp::Overrides o = s.overrides();
    o.engine = "vllm";
    o.hardware = "h100-sxm";
    const interp::Model& m = session.pick_model(model);
    auto ids = interp::AnalysisIds::of(session.program());
    auto layout = interp::smallest_layout(session, m, session.environment(m, o), *ids);
    return layout ? "tp " + layout->first.to_string() + " pp " + layout->second.to_string() : "none";
}

// Llama-3-70B: one device holds 2 · 70,553,706,496 B of weights, more than 72 GB; at tp 2 a
// device holds 2 · llama70_params(2) = 70,555,025,408 B and 80 · 4096 · 2 · 4 · 128 · 2 =
// 671,088,640 B of KV cache, 71.23 GB, leaving 0.77 GB for the working set (tens of MB).
// Llama-3.1-405B (H 16384, I 53248, 126 layers, 128 heads, 8 KV heads, V 128256):
// 811.7 GB of weights need at least 12 devices (811.7 / 11 > 72); of 12, tp 8 does not divide
// 12 and tp 6 does not divide the heads, so tp 4 x pp 3, 42 layers a stage: a layer's
// (128 + 8 + 8 + 128) · 128 · 16384 + 3 · 53248 · 16384 parameters over 4, plus its two norms
// (16384 each), is 796,950,528 per device; 42 of them, the embedding's quarter
// (32064 · 16384) on the first stage, 2 B each: 67.99 GB, with 42 · 4096 · 2 · 2 · 128 · 2 B
// of KV cache 68.17 GB — under 72.
TEST(Layout, TheSmallestLayoutThatFits) {
    EXPECT_EQ(str(2 * llama70_params(2)), "70555025408");
    EXPECT_EQ(str((Int(128 + 8 + 8 + 128) * 128 * 16384 + 3 * Int(53248) * 16384) / 4 + 2 * 16384), "796950528");
    EXPECT_EQ(smallest_on_h100(llama70, decode(4095)), "tp 2 pp 1");
    EXPECT_EQ(smallest_on_h100("meta-llama/Llama-3.1-405B", decode(4095)), "tp 4 pp 3");
    // From a layout already given the search starts above it: from tp 2, at 3 devices tp 3
    // does not divide the 64 heads, so tp 1 x pp 3 (27, 27, 26 layers by get_pp_indices): the
    // fullest stage, the first, holds 27 layers of 855,654,400 parameters and the 128256 · 8192
    // embedding at 2 B (46.21 + 2.10 GB) and 0.45 GB of cache.
    EXPECT_EQ(smallest_on_h100(llama70, tp(decode(4095), 2)), "tp 1 pp 3");
}

// A whole request over pipeline stages (interp::request): each step passes through the
// stages in turn. Llama-3-70B at tp 4, prompt 100, 2 decode steps: the stages' flops add up
// to exactly those of the same request without stages (the embedding on stage 0, norm and
// lm_head on stage 1, sends computing nothing); the time is at least the unstaged one plus the
// sends; the memory is the fullest stage's (stage 1: 8,819,712,000 parameters at 2 B, see
// golden hw_pp_request).
TEST(PipelineParallel, ARequestPassesThroughEveryStage) {
    const interp::Session& session = on_device().session();
    const interp::Model& m = session.pick_model(llama70);
    auto ids = interp::AnalysisIds::of(session.program());
    auto request = [&](std::int64_t pp) {
        interp::Overrides o = tp(with(decode(0), "pp", pp), 4).overrides();
        o.engine = "vllm";
        o.hardware = "h100-sxm";
        return interp::request(session, m, session.environment(m, o), *ids, Number(100), Number(2));
    };
    interp::Request staged = request(2), whole = request(1);
    auto flops = *session.program().find_metric("flops");
    EXPECT_EQ(staged.prefill[flops].to_string(), whole.prefill[flops].to_string());
    EXPECT_EQ(staged.decode[flops].to_string(), whole.decode[flops].to_string());
    EXPECT_GT(staged.total_time, whole.total_time);
    EXPECT_EQ(staged.peak.weights.to_string(), "17639424000");
}

// Data parallelism over vLLM's MoE layers (FusedMoEParallelConfig flattens dp into the MoE
// group; the default allgather_reducescatter backend). Mixtral-8x7B (H 4096, I 14336, 8
// experts, top-2, 32 layers, 32 heads, 8 KV heads, d 128, V 32000), dp = 2, ep = 2, tp = 1,
// one decode token per replica: each MoE layer all-gathers the 2 replicas' hidden states
// (2 · 4096 values) and router logits (2 · 8), and reduce-scatters the 2 · 4096 outputs;
// a device sends half of each array at 2 B: 4096·2 + 8·2 + 4096·2 = 16,400 B per layer.
// Each device holds 4 whole experts and, under uniform routing, runs 2 tokens · 2/2 = 2 pairs.
TEST(DataParallelMoe, ReplicasDispatchToTheExpertGroup) {
    const std::string mixtral = "mistralai/Mixtral-8x7B-v0.1";
    Step s = with(with(decode(100), "dp", 2), "ep", 2);
    EXPECT_EQ(total(mixtral, "comm", s), str(32 * (Int(4096) * 2 + 8 * 2 + 4096 * 2)));
    EXPECT_EQ(leaves(mixtral, "comm.reduce_scatter", "comm", s), str(32 * Int(4096) * 2));
    // Per pair 2 · (4096 · 28672 + 14336 · 4096) FLOPs and 4096 routing-weight multiplies.
    EXPECT_EQ(leaves(mixtral, "vllm.fused_moe_kernel", "flops", s),
              str(32 * 2 * (2 * (Int(4096) * 28672 + Int(14336) * 4096) + 4096)));
    // The router runs on both replicas' tokens: softmax 3, top-k 1 per logit, renormalise 2 per kept weight.
    EXPECT_EQ(leaves(mixtral, "vllm.topk_softmax", "flops", s), str(32 * (Int(4) * 2 * 8 + 2 * 2 * 2)));
    // Attention, norms, embedding and lm_head whole on every device; 4 of the 8 experts.
    Int attention = Int(32 + 8 + 8) * 128 * 4096 + Int(32) * 128 * 4096;
    Int layer = attention + Int(4096) * 8 + 4 * 3 * Int(4096) * 14336 + 2 * 4096;
    EXPECT_EQ(total(mixtral, "params", s), str(32 * layer + 2 * Int(32000) * 4096 + 4096));
    // Without expert parallelism the 8 experts are sliced over the 2 devices (I / 2 each):
    // the same bytes held, the same collectives, every pair on half-experts.
    Step sliced = with(decode(100), "dp", 2);
    EXPECT_EQ(total(mixtral, "params", sliced), total(mixtral, "params", s));
    EXPECT_EQ(total(mixtral, "comm", sliced), total(mixtral, "comm", s));
    EXPECT_EQ(leaves(mixtral, "vllm.fused_moe_kernel", "flops", sliced),
              str(32 * (2 * 2 * 2 * (Int(4096) * 14336 + Int(7168) * 4096) + 2 * 2 * 4096)));
}

// DeepSeek-V3 on 8 devices, DP attention + EP (tp 1, dp 8, ep 8), one decode token per
// replica: the 58 MoE layers each gather 8 · 7168 hidden values and 8 · 256 router logits and
// reduce-scatter 8 · 7168 outputs, a device sending 7/8 of each at 2 B; no other collective
// runs (tp = 1). Each device runs 8 tokens · 8/8 = 8 pairs on its 32 experts.
TEST(DataParallelMoe, DeepSeekV3DataParallelAttentionWithExperts) {
    const std::string v3 = "deepseek-ai/DeepSeek-V3";
    Step s = with(with(decode(100), "dp", 8), "ep", 8);
    EXPECT_EQ(total(v3, "comm", s), str(58 * (Int(7) * 7168 * 2 + Int(7) * 256 * 2 + Int(7) * 7168 * 2)));
    // Per pair: w13 2 · 7168 · 4096, w2 2 · 2048 · 7168 and 7168 routing-weight multiplies.
    EXPECT_EQ(leaves(v3, "vllm.fused_moe_kernel", "flops", s),
              str(58 * 8 * (2 * Int(7168) * 4096 + 2 * Int(2048) * 7168 + 7168)));
    // dp = 1 runs none of it: the single-device numbers.
    EXPECT_EQ(total(v3, "comm", with(decode(100), "dp", 1)), "0");
}

TEST(DataParallelMoe, LayoutsVllmDoesNotRunAreRefused) {
    const std::string mixtral = "mistralai/Mixtral-8x7B-v0.1";
    EXPECT_EQ(error_of(mixtral, with(with(tp(decode(1), 2), "dp", 2), "ep", 2)).rfind("E0207 expert parallelism: ep must be 1 or tp x dp", 0), 0u);
    EXPECT_EQ(error_of(mixtral, with(with(tp(decode(1), 2), "dp", 2), "ep", 4))
                  .rfind("E0207 expert parallelism across data-parallel replicas with tp > 1 runs vLLM's sequence-parallel MoE", 0), 0u);
    // 2048 intermediate columns do not split over 3 replicas.
    EXPECT_EQ(error_of("deepseek-ai/DeepSeek-V3", with(decode(1), "dp", 3)).rfind("E0207 tensor parallelism: tp x dp must divide config.moe_intermediate_size", 0), 0u);
}

// Pipeline parallelism (get_pp_indices): Llama-3-70B's 80 layers over 3 stages are 26 each
// and the 2 remaining ones on the stages before the last: 27, 27, 26. A layer holds
// (64 + 16) · 128 · 8192 + 64 · 128 · 8192 + 3 · 28672 · 8192 + 2 · 8192 = 855,654,400
// parameters; the first stage adds the embedding, the last the final norm and lm_head
// (128256 · 8192 each). Together: the model's 70,553,706,496.
TEST(PipelineParallel, StagesHoldTheirLayers) {
    Int layer = 80 * Int(128) * 8192 + 64 * Int(128) * 8192 + 3 * Int(28672) * 8192 + 2 * 8192;
    EXPECT_EQ(str(layer), "855654400");
    Int table = Int(128256) * 8192;
    auto stage = [&](std::int64_t r) { return total(llama70, "params", with(with(decode(100), "pp", 3), "pp_rank", r)); };
    EXPECT_EQ(stage(0), str(table + 27 * layer));
    EXPECT_EQ(stage(1), str(27 * layer));
    EXPECT_EQ(stage(2), str(26 * layer + 8192 + table));
    EXPECT_EQ(str(2 * table + 80 * layer + 8192), "70553706496");
}

// A stage that is not the last sends hidden_states and residual, 2 · tokens · 8192 values at
// 2 B, to the next; the last sends nothing (and gathers no logits across stages).
TEST(PipelineParallel, StagesSendTheirActivations) {
    Step s = with(decode(100, 4), "pp", 2);
    EXPECT_EQ(leaves(llama70, "comm.send", "comm", with(s, "pp_rank", 0)), str(2 * Int(4) * 8192 * 2));
    EXPECT_EQ(leaves(llama70, "comm.send", "comm", with(s, "pp_rank", 1)), "0");
    EXPECT_EQ(leaves(llama70, "comm.recv", "write", with(s, "pp_rank", 1)), str(2 * Int(4) * 8192 * 2));
}

TEST(PipelineParallel, BadStagesAreRefused) {
    EXPECT_EQ(error_of(llama70, with(with(decode(1), "pp", 2), "pp_rank", 2)).rfind("E0207 pipeline parallelism: pp_rank must be below pp", 0), 0u);
    EXPECT_EQ(error_of(llama70, with(decode(1), "pp", 2), "transformers").rfind("E0213 pp = 2: the transformers execution", 0), 0u);
    EXPECT_EQ(error_of(qwen72, with(decode(1), "pp", 2), "transformers").rfind("E0213 pp = 2: the transformers execution", 0), 0u);
}

}  // namespace
}  // namespace costi::models_test
