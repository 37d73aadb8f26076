// Issue 9: vLLM's execution of DeepSeek-V3 (kernels/vllm/deepseek_v2.cost, stdlib/vllm_mla.cost).
// The shipped models/deepseek-v3.cost is run under the vllm engine and under the transformers
// execution, and checked against numbers derived by hand (in the comments), computed here
// with plain integers, never with the interpreter.
//
// DeepSeek-V3 (the checkpoint's config.json): h 7168, 128 heads, qk_nope 128, qk_rope 64,
// v 128, q_lora_rank 1536, kv_lora_rank 512, 61 layers of which the first 3 dense
// (intermediate 18432), 58 MoE (256 routed experts of 2048, top-8, 8 groups, top-4 groups,
// one shared expert of 2048), V 129280, untied.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "model_support.hpp"

namespace costi::models_test {
namespace {

const std::string root_dir = models_dir + "/..";
const std::string deepseek = "deepseek-ai/DeepSeek-V3";

class VllmDeepseek : public EngineRuns {
public:
    explicit VllmDeepseek(bool device)
        : EngineRuns({root_dir + "/kernels/vllm/deepseek_v2.cost"}, device ? root_dir + "/hardware/h100-sxm.cost" : "",
                     {models_dir + "/deepseek-v3.cost"}) {}

    std::string total(const std::string& m, const Step& step, const std::string& engine = "vllm",
                      const std::string& hw = "") const {
        return total_as(deepseek, m, step, engine, hw);
    }
    std::string leaves(const std::string& kernel, const std::string& m, const Step& step,
                       const std::string& engine = "vllm") const {
        return leaves_as(deepseek, kernel, m, step, engine);
    }
};

const VllmDeepseek& vllm() {
    static const VllmDeepseek v(false);
    return v;
}
const VllmDeepseek& on_device() {
    static const VllmDeepseek v(true);
    return v;
}

using namespace steps;

Step with(Step s, const std::string& name, std::int64_t value) {
    s.runtime.emplace_back(name, value);
    return s;
}

const Int layers = 61, moe_layers = 58, dense_layers = 3;
const Int heads = 128, latent = 512 + 64;  // the MLA cache row: kv_lora_rank + qk_rope_head_dim

// ------------------------------------------------------------------------ parameters

// 671,026,404,352 parameters and 37,552,282,624 active (docs/models.md, derived from the
// checkpoint's tensor shapes there); vLLM's fused projections, its bias Parameter (held, not
// counted) and the MLA weight copies (not parameters) change neither count.
TEST(VllmDeepseek, ParamsEqualTheTransformersExecution) {
    for (const Step& s : {prefill(7), decode(4095), prefill(1024)}) {
        EXPECT_EQ(vllm().total("params", s), "671026404352");
        EXPECT_EQ(vllm().total("active_params", s), "37552282624");
    }
    EXPECT_EQ(vllm().total("params", prefill(7), "transformers"), "671026404352");
}

// ------------------------------------------------------------------------ the latent cache

// Issue 9's figure: the MLA cache holds 61 · 576 · kv_bytes per token (no per-head K or V);
// a decode step writes the new token's row in every layer: 61 · 576 · 2 = 70,272 B, 35,136 B
// in an fp8 cache, four times that for four sequences.
TEST(VllmDeepseek, DecodeWritesOneLatentRowPerLayer) {
    const std::string w = "vllm.concat_and_cache_mla";
    EXPECT_EQ(str(layers * latent * 2), "70272");
    EXPECT_EQ(vllm().leaves(w, "write", decode(4095)), "70272");
    EXPECT_EQ(vllm().leaves(w, "write", decode(100000)), "70272");
    EXPECT_EQ(vllm().leaves(w, "write", with(decode(4095), "kv_bytes", 1)), "35136");
    EXPECT_EQ(vllm().leaves(w, "write", decode(4095, 4)), str(4 * layers * latent * 2));
}

// Blocks of 64 tokens (vLLM forces a multiple of 64 for MLA on Hopper, whatever block_size
// says): after 4095 cached tokens, L = 4096 = 64 full blocks: 4096 · 70,272 = 287,834,112 B;
// L = 4097 needs a 65th block: 65 · 64 · 70,272. block_size 128 (a multiple of 64) is kept:
// 33 blocks of 128. The transformers execution caches decompressed K (192) and V (128) per
// head: 61 · 128 · 320 · 2 = 4,997,120 B per token, 71x more.
TEST(VllmDeepseek, CacheHeldIsWholeBlocksOfLatentRows) {
    const std::string hw = "h100-sxm";
    const Int row = layers * latent * 2;
    EXPECT_EQ(on_device().total("kv_cache", decode(4095), "vllm", hw), "287834112");
    EXPECT_EQ(on_device().total("kv_cache", decode(4096), "vllm", hw), str(65 * 64 * row));
    EXPECT_EQ(on_device().total("kv_cache", with(decode(4096), "block_size", 128), "vllm", hw), str(33 * 128 * row));
    EXPECT_EQ(on_device().total("kv_cache", decode(4095), "transformers", hw), str(Int(4096) * layers * heads * 320 * 2));
}

// ------------------------------------------------------------------------ GEMM FLOPs

// Linear layers per token (K·N): attention h·(1536 + 512 + 64) (q_a and kv_a, one GEMM under
// vLLM) + 1536·128·192 (q_b) + 512·128·256 (kv_b) + 128·128·7168 (o) = 187,105,280; a dense
// MLP 3·7168·18432 = 396,361,728; per MoE layer the router 7168·256 = 1,835,008 and the
// shared expert 3·7168·2048 = 44,040,192; each routed (token, expert) pair 44,040,192.
const Int attn = Int(7168) * 2112 + Int(1536) * 128 * 192 + Int(512) * 128 * 256 + Int(128) * 128 * 7168;
const Int kv_b = Int(512) * 128 * 256;
const Int mlp = 3 * Int(7168) * 18432;
const Int moe_dense = Int(7168) * 256 + 3 * Int(7168) * 2048;
const Int expert = 3 * Int(7168) * 2048;
const Int lm_head = 2 * Int(7168) * 129280;  // one sampled position

// A prefill of 1024 tokens (above FLASH_ATTN_MLA's 512: the MHA path, kv_b_proj runs on every
// token) does the same products in both executions: vLLM's F.linear leaves plus its grouped
// expert GEMMs (whose w2 kernel also multiplies each output row by its routing weight,
// 7168 per pair) equal transformers' F.linear leaves (logits_to_keep = 1).
TEST(VllmDeepseek, PrefillGemmFlopsEqualTheTransformersExecution) {
    Int M = 1024, pairs = 8 * M;
    EXPECT_EQ(str(attn), "187105280");
    Int dense = 2 * M * (layers * attn + dense_layers * mlp + moe_layers * moe_dense) + lm_head;
    Int experts = 2 * pairs * moe_layers * expert;
    EXPECT_EQ(vllm().leaves("F.linear", "flops", prefill(1024)), str(dense));
    EXPECT_EQ(vllm().leaves("vllm.fused_moe_kernel", "flops", prefill(1024)), str(experts + moe_layers * pairs * 7168));
    EXPECT_EQ(vllm().leaves("F.linear", "flops", with(prefill(1024), "logits_to_keep", 1), "transformers"),
              str(dense + experts));
}

// A decode step runs the absorbed path: kv_b_proj does not run (its 2·512·32768 FLOPs per
// layer are gone), two bf16 batched GEMMs over the heads take its place: q_nope @ W_UK_T
// 2·128·128·512 and out @ W_UV 2·128·512·128 per layer and token.
TEST(VllmDeepseek, DecodeRunsTheAbsorbedPath) {
    Int dense = 2 * (layers * (attn - kv_b) + dense_layers * mlp + moe_layers * moe_dense) + lm_head;
    EXPECT_EQ(vllm().leaves("F.linear", "flops", decode(4095)), str(dense));
    EXPECT_EQ(vllm().leaves("vllm.mla_weight_bmm", "flops", decode(4095)), str(layers * 2 * (2 * heads * 128 * 512)));
    EXPECT_EQ(vllm().leaves("vllm.mla_weight_bmm", "flops", decode(4095, 8)), str(8 * layers * 4 * heads * 128 * 512));
}

// reorder_batch_threshold: 512 new tokens still take FLASH_ATTN_MLA's decode path, 513 the
// prefill path; with an fp8 cache the backend is FLASHMLA, whose threshold is 128.
TEST(VllmDeepseek, TheBackendThresholdSplitsDecodeFromPrefill) {
    const std::string bmm = "vllm.mla_weight_bmm";
    EXPECT_EQ(vllm().leaves(bmm, "flops", prefill(512)), str(512 * layers * 4 * heads * 128 * 512));
    EXPECT_EQ(vllm().leaves(bmm, "flops", prefill(513)), "0");
    Step fp8 = with(prefill(128), "kv_bytes", 1);
    EXPECT_EQ(vllm().leaves(bmm, "flops", fp8), str(128 * layers * 4 * heads * 128 * 512));
    EXPECT_EQ(vllm().leaves(bmm, "flops", with(prefill(129), "kv_bytes", 1)), "0");
}

// ------------------------------------------------------------------------ attention

// Decode at cache C: multi-query FlashAttention over the latent, one KV head of 576 whose
// first 512 elements are V: 2·128·(C + 1)·(576 + 512) FLOPs per layer; it reads the query
// (128·576) and each of the C + 1 cached rows once (576), all at 2 B, and writes 128·512.
TEST(VllmDeepseek, DecodeAttentionReadsEachLatentRowOnce) {
    const std::string fa = "vllm.flash_attn_varlen";
    Int C = 4095;
    EXPECT_EQ(vllm().leaves(fa, "flops", decode(4095)), str(layers * 2 * heads * (C + 1) * (576 + 512)));
    EXPECT_EQ(vllm().leaves(fa, "read", decode(4095)), str(layers * (heads * 576 * 2 + (C + 1) * 576 * 2)));
    EXPECT_EQ(vllm().leaves(fa, "write", decode(4095)), str(layers * heads * 512 * 2));
}

// A prefill of 4096 fresh tokens (MHA path): causal FlashAttention with queries and keys of
// 192, values of 128, counted as FlashAttention's benchmark does: 4·b·s²·h·d / 2 with the
// two products' widths, 2·128·(4096²/2)·(192 + 128) per layer.
TEST(VllmDeepseek, PrefillAttentionFollowsFlashAttention) {
    Int s = 4096;
    EXPECT_EQ(vllm().leaves("vllm.flash_attn_varlen", "flops", prefill(4096)),
              str(layers * 2 * heads * (s * s / 2) * 320));
}

// A prefill of 1024 tokens after 100,000 cached: the context goes through the 65,536-token
// workspace: batch 1 gives chunks of 65,536, two chunks; every cached row is gathered once
// (576 at 2 B plus its int32 sequence index), the queries attend all 100,000 context tokens
// without a mask, 2·128·1024·100,000·(192 + 128) FLOPs per layer, and two merges per layer
// (one between the chunks, one with the new tokens' output). Batch 4 shares the workspace:
// chunks of 16,384 tokens, seven of them, six merges between chunks.
TEST(VllmDeepseek, PrefillContextRunsInWorkspaceChunks) {
    Step s = step(1, 1024, 100000);
    EXPECT_EQ(vllm().leaves("vllm.gather_and_maybe_dequant_cache", "read", s),
              str(layers * (Int(100000) * 576 * 2 + Int(100000) * 4)));
    EXPECT_EQ(vllm().leaves("vllm.flash_attn_context", "flops", s), str(layers * 2 * heads * 1024 * 100000 * 320));
    // merge_attn_states writes [T, 128, 128] at 2 B, plus the fp32 LSE between chunks.
    Int out = Int(1024) * 128 * 128 * 2, lse = Int(1024) * 128 * 4;
    EXPECT_EQ(vllm().leaves("vllm.merge_attn_states", "write", s), str(layers * (2 * out + lse)));
    Step s4 = step(4, 1024, 100000);
    EXPECT_EQ(vllm().leaves("vllm.merge_attn_states", "write", s4), str(layers * (7 * 4 * out + 6 * 4 * lse)));
}

// ------------------------------------------------------------------------ MoE routing

// The fused grouped top-k for one token: sigmoid, bias add and group top-2 over 256 logits
// (768), 8 group sums of 2 (16), top-4 of 8 groups (8), top-8 over 256 (256), renormalisation
// 2·8 (16): 1,064 FLOPs per MoE layer; it writes 8 fp32 weights and 8 int32 ids (64 B).
TEST(VllmDeepseek, GroupedTopkRoutesEachToken) {
    EXPECT_EQ(vllm().leaves("vllm.grouped_topk", "flops", decode(10)), str(moe_layers * 1064));
    EXPECT_EQ(vllm().leaves("vllm.grouped_topk", "write", decode(10)), str(moe_layers * 64));
}

// ------------------------------------------------------------------------ decode step

// No cache copy: every write of a decode step is the new token's (activations, its cache row),
// so the step writes the same bytes at cache 100 as at cache 100,000.
TEST(VllmDeepseek, DecodeWritesDoNotGrowWithTheCache) {
    EXPECT_EQ(vllm().total("write", decode(100)), vllm().total("write", decode(100000)));
}

// The device holds bf16 weights (--quant_bits 0) for 671,026,404,352 parameters, plus the
// MLA weight copies, 128·512·(128 + 128)·2 = 33,554,432 B per layer, and the fp32 routing
// bias, 256·4 B per MoE layer: 1,342,052,808,704 + 2,046,820,352 + 59,392 B.
TEST(VllmDeepseek, WeightBytesIncludeTheMlaCopies) {
    Int params = Int(671026404352);
    Int expected = params * 2 + layers * heads * 512 * 256 * 2 + moe_layers * 256 * 4;
    EXPECT_EQ(str(expected), "1344099688448");
    Step s = with(decode(4095), "quant_bits", 0);
    EXPECT_EQ(on_device().total("weight_bytes", s, "vllm", "h100-sxm"), str(expected));
}

}  // namespace
}  // namespace costi::models_test
