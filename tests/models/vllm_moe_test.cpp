// Issue 9: vLLM's execution of the Mixtral family (kernels/vllm/mixtral.cost). The shipped
// models/mixtral-8x7b-v0.1.cost is run under the vllm engine (Overrides.engine = "vllm") and
// under the transformers execution, and checked against numbers derived by hand (in the
// comments), computed here with plain integers, never with the interpreter.
//
// Mixtral-8x7B-v0.1 (the checkpoint's config.json): H 4096, I 14336, L 32, heads 32, kv 8,
// d 4096/32 = 128, V 32000, E 8 experts, top-2, untied, no sliding window.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "model_support.hpp"

namespace costi::models_test {
namespace {

using interp::Overrides;
using interp::Session;

const std::string root_dir = models_dir + "/..";
const std::string mixtral = "mistralai/Mixtral-8x7B-v0.1";

// A session: the vLLM Mixtral kernels (with their engine block), the shipped Mixtral model and,
// for kv_cache, a device.
class VllmMoe : public EngineRuns {
public:
    explicit VllmMoe(bool device)
        : EngineRuns({root_dir + "/kernels/vllm/mixtral.cost"}, device ? root_dir + "/hardware/h100-sxm.cost" : "",
                     {models_dir + "/mixtral-8x7b-v0.1.cost"}) {}

    CostNode run(const Step& step, const std::string& engine, const std::string& hw = "") const {
        return run_as(mixtral, step, engine, hw);
    }
    std::string total(const std::string& m, const Step& step, const std::string& engine = "vllm",
                      const std::string& hw = "") const {
        return total_as(mixtral, m, step, engine, hw);
    }
    // Σ over the leaves of kernel `kernel` of metric `m`, for one step.
    std::string leaves(const std::string& kernel, const std::string& m, const Step& step,
                       const std::string& engine = "vllm") const {
        return leaves_as(mixtral, kernel, m, step, engine);
    }
};

const VllmMoe& vllm() {
    static const VllmMoe v(false);
    return v;
}
const VllmMoe& on_device() {
    static const VllmMoe v(true);
    return v;
}

using namespace steps;

// One expert's weights: w1, w3 [I, H] and w2 [H, I]: 3·4096·14336 = 176,160,768 elements.
const Int expert = Int(3) * 4096 * 14336;

// ------------------------------------------------------------------------ parameters

// Embedding and lm_head 32000·4096 = 131,072,000 each. Per layer: qkv 4096·(32 + 2·8)·128 =
// 25,165,824, o 4096·4096 = 16,777,216, router 4096·8 = 32,768, 8 experts 1,409,286,144, two
// norms 8,192: 1,451,270,144. 32 layers + final norm 4096 + embedding + lm_head =
// 46,702,792,704 (docs/models.md). Active: 2 experts instead of 8 per layer: 394,305,536 per
// layer, 12,879,925,248 in all. Both executions count the same.
TEST(VllmMixtral, ParamsEqualTheTransformersExecution) {
    Int dense = Int(4096) * 48 * 128 + Int(4096) * 4096 + Int(4096) * 8 + 2 * 4096;
    Int expected = 2 * Int(32000) * 4096 + 32 * (dense + 8 * expert) + 4096;
    Int active = 2 * Int(32000) * 4096 + 32 * (dense + 2 * expert) + 4096;
    EXPECT_EQ(str(expected), "46702792704");
    EXPECT_EQ(str(active), "12879925248");
    EXPECT_EQ(vllm().total("params", prefill(7)), str(expected));
    EXPECT_EQ(vllm().total("active_params", prefill(7)), str(active));
    EXPECT_EQ(vllm().total("params", prefill(7), "transformers"), str(expected));
    EXPECT_EQ(vllm().total("active_params", prefill(7), "transformers"), str(active));
    // Chunked (20000 tokens > the 16384-token fused-MoE chunk): the weights are still counted once.
    EXPECT_EQ(vllm().total("params", prefill(20000)), str(expected));
}

// ------------------------------------------------------------------------ GEMM FLOPs

// A prefill of M = 512 tokens, 1024 (token, expert) pairs. Dense GEMMs per token and layer:
// qkv 4096·6144 + o 4096·4096 + router 4096·8 = 41,975,808 (K·N); per pair the expert GEMMs
// 4096·28672 (w13, gate and up merged) + 14336·4096 (w2) = 176,160,768. vLLM's F.linear leaves:
// 2·512·32·41,975,808 + the lm_head on the last position 2·4096·32000. Its fused_moe_kernel
// leaves: 2·1024·32·176,160,768 plus the routing-weight multiply of the w2 kernel, one per
// output element: 32·1024·4096. transformers (logits_to_keep = 1) does the same products as
// F.linear leaves (w1, w3, w2 on the same 1024 rows).
TEST(VllmMixtral, GemmFlopsEqualTheTransformersExecution) {
    Int M = 512, pairs = 1024;
    Int dense = 2 * M * 32 * (Int(4096) * 6144 + Int(4096) * 4096 + Int(4096) * 8) + 2 * Int(4096) * 32000;
    Int experts = 2 * pairs * 32 * expert;
    EXPECT_EQ(vllm().leaves("F.linear", "flops", prefill(512)), str(dense));
    EXPECT_EQ(vllm().leaves("vllm.fused_moe_kernel", "flops", prefill(512)), str(experts + 32 * pairs * 4096));
    Step hf = prefill(512);
    hf.runtime.emplace_back("logits_to_keep", 1);
    EXPECT_EQ(vllm().leaves("F.linear", "flops", hf, "transformers"), str(dense + experts));
}

// ------------------------------------------------------------------------ KV-cache writes

// A decode step writes only the new token's K and V: 2·32 layers·8 kv heads·128·2 B = 131,072 B,
// whatever the cache length; a fp8 cache halves it; batch 4 writes four tokens'.
TEST(VllmMixtral, DecodeCacheWritesAreTheNewTokensOnly) {
    const std::string w = "vllm.reshape_and_cache_flash";
    EXPECT_EQ(vllm().leaves(w, "write", decode(32000)), str(Int(2) * 32 * 8 * 128 * 2));
    EXPECT_EQ(vllm().leaves(w, "write", decode(7)), "131072");
    Step fp8 = decode(32000);
    fp8.runtime.emplace_back("kv_bytes", 1);
    EXPECT_EQ(vllm().leaves(w, "write", fp8), "65536");
    EXPECT_EQ(vllm().leaves(w, "write", decode(100, 4)), str(Int(4) * 131072));
}

// One decode step's MoE block (batch 1, bf16), kernel by kernel:
//   router gate [4096 -> 8]: 8·2 = 16 B
//   topk_softmax: topk_weights fp32 + topk_ids int32 + token_expert_indices int32, 2 each: 24 B
//   moe_align_block_size (BLOCK_SIZE_M 16: 1 token <= 8 experts): 2 + 8·15 = 122 padded slots,
//     ceil(122/16) = 8 blocks: fill 488 + zeros 32 + the op's 2 slots 8 + 8 blocks 32 + count 4 = 564 B
//   w13 grouped GEMM: 2 pairs · 28672 · 2 = 114,688 B; silu_and_mul: 2 · 14336 · 2 = 57,344 B
//   w2 grouped GEMM: 2 · 4096 · 2 = 16,384 B; moe_sum into the output: 4096 · 2 = 8,192 B
// = 197,212 B per layer, 32 layers.
TEST(VllmMixtral, DecodeMoeWrites) {
    Int layer = 16 + 24 + 564 + 114688 + 57344 + 16384 + 8192;
    EXPECT_EQ(str(layer), "197212");
    CostNode root = vllm().run(decode(4096), "vllm");
    Number moe = leaf_sum(root, vllm().metric("write"), [&](const CostNode& n) {
        return kernel_is(n, "F.linear") || kernel_is(n, "vllm.topk_softmax") || kernel_is(n, "vllm.moe_align_block_size") ||
               kernel_is(n, "vllm.fused_moe_kernel") || kernel_is(n, "vllm.moe_sum") || kernel_is(n, "vllm.silu_and_mul");
    });
    // F.linear also covers qkv (6144·2), o_proj (4096·2) per layer and the lm_head (32000·2).
    Int expected = 32 * (layer + 6144 * 2 + 4096 * 2) + 32000 * 2;
    EXPECT_EQ(moe.to_string(), str(expected));
}

// ------------------------------------------------------------------------ expert weight reads

// The routed experts' weights are read once per chunk: min(8, T·2) experts' w13 and w2 at 2 B.
// Decode batch 1: 2 experts, 2·176,160,768·2 = 704,643,072 B per layer; batch 8: 16 pairs >= 8,
// every expert. A prefill of 20000 tokens runs two chunks (16384 + 3616 tokens), each reading
// all 8 experts. The w13 and w2 kernels' reads also carry their A rows (H or I per pair at 2 B),
// the pairs' int32 sorted ids and, for w2, their fp32 routing weights.
TEST(VllmMixtral, ExpertWeightsReadAreTheRoutedExperts) {
    auto moe_read = [](Int tokens, Int experts_read) {
        Int pairs = 2 * tokens;
        return 32 * (experts_read * expert * 2 + pairs * 4096 * 2 + pairs * 4 + pairs * 14336 * 2 + pairs * 4 + pairs * 4);
    };
    EXPECT_EQ(vllm().leaves("vllm.fused_moe_kernel", "read", decode(4096)), str(moe_read(1, 2)));
    EXPECT_EQ(vllm().leaves("vllm.fused_moe_kernel", "read", decode(4096, 8)), str(moe_read(8, 8)));
    EXPECT_EQ(vllm().leaves("vllm.fused_moe_kernel", "read", prefill(20000)), str(moe_read(20000, 16)));
    // The same prefill below the chunk size reads each expert once.
    EXPECT_EQ(vllm().leaves("vllm.fused_moe_kernel", "read", prefill(16384)), str(moe_read(16384, 8)));
}

// ------------------------------------------------------------------------ KV cache held

// Blocks of 16 tokens, K and V of every layer: 131,072 B per token. Prefill of 1000: 63 blocks;
// decode after 4096 cached: L = 4097, 257 blocks.
TEST(VllmMixtral, CacheHeldIsWholeBlocks) {
    const std::string hw = "h100-sxm";
    EXPECT_EQ(on_device().total("kv_cache", prefill(1000), "vllm", hw), str(Int(63) * 16 * 131072));
    EXPECT_EQ(on_device().total("kv_cache", decode(4096), "vllm", hw), str(Int(257) * 16 * 131072));
}

// ------------------------------------------------------------------------ attention FLOPs

// FlashAttention's benchmark convention: causal prefill 4·b·s²·h·d / 2 per layer; a decode
// query at cache C sees C + 1 keys: 2·heads·(C + 1)·(d + d) per layer.
TEST(VllmMixtral, AttentionFlopsFollowFlashAttention) {
    const std::string fa = "vllm.flash_attn_varlen";
    Int s = 4096;
    EXPECT_EQ(vllm().leaves(fa, "flops", prefill(4096)), str(32 * (4 * s * s * 32 * 128 / 2)));
    EXPECT_EQ(vllm().leaves(fa, "flops", decode(1000)), str(32 * (2 * Int(32) * 1001 * 256)));
}

}  // namespace
}  // namespace costi::models_test
