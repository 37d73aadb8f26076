// Issue 9: vLLM's execution of GPT-2 and Gemma 2 (kernels/vllm/gpt2.cost, kernels/vllm/gemma2.cost).
// The shipped models (models/gpt2.cost, models/gemma-2-9b.cost) run under the engine
// (Overrides.engine = "vllm") and, for comparison, as the transformers kernels are written.
// Every expected number is derived by hand in the comments and computed here with plain
// integers, never with the interpreter.
//
// Shapes (the checkpoints' config.json, as the model files give them):
//   gpt2:       H 768, L 12, heads 12, d 64, inner 4·768 = 3072, V 50257, n_positions 1024,
//               tied; vLLM's lm_head weight has V padded to a multiple of 64: 50304 rows
//   gemma-2-9b: H 3584, I 14336, L 42 (21 sliding, 21 full), heads 16, kv 8, d 256,
//               V 256000 (a multiple of 64), sliding_window 4096, tied, soft-caps 50 / 30
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "model_support.hpp"

namespace costi::models_test {
namespace {

using interp::CostiError;
using interp::Overrides;
using interp::Session;

const std::string root_dir = models_dir + "/..";
const std::string gpt2 = "openai-community/gpt2";
const std::string gemma = "google/gemma-2-9b";

// A session: the vLLM GPT-2 and Gemma 2 kernels (each declares its part of `engine vllm`), the
// two shipped models and, for kv_cache, a device (whose roofline then needs it on every run).
class Engines : public EngineRuns {
public:
    explicit Engines(bool device)
        : EngineRuns({root_dir + "/kernels/vllm/gpt2.cost", root_dir + "/kernels/vllm/gemma2.cost"},
                     device ? root_dir + "/hardware/h100-sxm.cost" : "", {models_dir + "/gpt2.cost", models_dir + "/gemma-2-9b.cost"}) {}

    CostNode run(const std::string& model, const Step& step, const std::string& engine,
                 const std::string& hw = "") const {
        return run_as(model, step, engine, hw);
    }
    std::string total(const std::string& model, const std::string& m, const Step& step,
                      const std::string& engine = "vllm", const std::string& hw = "") const {
        return total_as(model, m, step, engine, hw);
    }
    std::string leaves(const std::string& model, const std::function<bool(const CostNode&)>& take,
                       const std::string& m, const Step& step, const std::string& engine = "vllm") const {
        return leaves_as(model, take, m, step, engine);
    }
    std::string leaves(const std::string& model, const std::string& kernel, const std::string& m, const Step& step,
                       const std::string& engine = "vllm") const {
        return leaves_as(model, kernel, m, step, engine);
    }
    std::string calls(const std::string& model, const std::string& kernel, const std::string& m, const Step& step,
                      const std::string& engine = "vllm") const {
        CostNode root = run(model, step, engine);
        return calls_sum(root, kernel, metric(m), Number(1)).to_string();
    }

private:
    static Number calls_sum(const CostNode& n, const std::string& kernel, std::uint32_t m, const Number& factor) {
        Number f = factor * n.count;
        if (kernel_is(n, kernel)) return f * n.cost.at(m);
        Number sum(0);
        for (const auto& c : n.children) sum += calls_sum(c, kernel, m, f);
        return sum;
    }
};

const Engines& engines() {
    static const Engines e(false);
    return e;
}
const Engines& on_device() {
    static const Engines e(true);
    return e;
}

using namespace steps;
Step keep_last(Step s) {
    s.runtime.emplace_back("logits_to_keep", 1);
    return s;
}

const std::string fa = "vllm.flash_attn_varlen";
const std::string cache_write = "vllm.reshape_and_cache_flash";

// ============================================================================ GPT-2

// wte 50257·768 = 38,597,376; wpe 1024·768 = 786,432; per layer ln_1 and ln_2 2·2·768 = 3,072,
// c_attn 768·2304 + 2304 = 1,771,776, c_proj 768·768 + 768 = 590,592, c_fc 768·3072 + 3072 =
// 2,362,368, mlp c_proj 3072·768 + 768 = 2,360,064: 7,087,872; ln_f 1,536. 12 layers:
// 38,597,376 + 786,432 + 85,054,464 + 1,536 = 124,439,808, docs/models.md's count. The tied
// lm_head (50,304 padded rows) adds nothing.
TEST(VllmGpt2, ParamsEqualTheTransformersExecution) {
    Int layer = 4 * Int(768) + (Int(768) * 2304 + 2304) + (Int(768) * 768 + 768) + (Int(768) * 3072 + 3072) +
                (Int(3072) * 768 + 768);
    EXPECT_EQ(str(layer), "7087872");
    Int expected = Int(50257) * 768 + Int(1024) * 768 + 12 * layer + 2 * 768;
    EXPECT_EQ(str(expected), "124439808");
    EXPECT_EQ(engines().total(gpt2, "params", prefill(7)), str(expected));
    EXPECT_EQ(engines().total(gpt2, "params", prefill(7), ""), str(expected));
}

// A prefill of M = 512: per layer Σ K·N = 768·2304 + 768·768 + 768·3072 + 3072·768 =
// 7,077,888, so the decoder's GEMMs are 2·512·12·7,077,888 in both executions (transformers'
// Conv1D addmm, vLLM's F.linear). The lm_head runs on the last position only: vLLM over the
// padded vocabulary, 2·768·50304; transformers with logits_to_keep = 1 over 2·768·50257 — a
// difference of 2·768·47 = 72,192 FLOPs, the padding.
TEST(VllmGpt2, GemmFlopsEqualTheTransformersExecutionUpToVocabPadding) {
    Int kn = Int(768) * 2304 + Int(768) * 768 + Int(768) * 3072 + Int(3072) * 768;
    EXPECT_EQ(str(kn), "7077888");
    Int decoder = 2 * Int(512) * 12 * kn;
    EXPECT_EQ(engines().leaves(gpt2, is_gemm, "flops", prefill(512)), str(decoder + 2 * Int(768) * 50304));
    EXPECT_EQ(engines().leaves(gpt2, is_gemm, "flops", keep_last(prefill(512)), ""), str(decoder + 2 * Int(768) * 50257));
    EXPECT_EQ(engines().leaves(gpt2, "F.linear", "flops", prefill(512)),
              str(decoder + 2 * Int(768) * 50257 + 2 * Int(768) * 47));
}

// A decode step writes only the new token's K and V: per layer 2 · 12 heads · 64 · kv_bytes;
// 12 layers at bf16: 36,864 B, whatever the cache length; batch 4: four times; fp8: half.
TEST(VllmGpt2, DecodeCacheWritesAreTheNewTokensOnly) {
    Int per_token = Int(2) * 12 * 12 * 64 * 2;
    EXPECT_EQ(str(per_token), "36864");
    EXPECT_EQ(engines().leaves(gpt2, cache_write, "write", decode(1000)), str(per_token));
    EXPECT_EQ(engines().leaves(gpt2, cache_write, "write", decode(3)), str(per_token));
    EXPECT_EQ(engines().leaves(gpt2, cache_write, "write", decode(500, 4)), str(4 * per_token));
    Step fp8 = decode(1000);
    fp8.runtime.emplace_back("kv_bytes", 1);
    EXPECT_EQ(engines().leaves(gpt2, cache_write, "write", fp8), str(per_token / 2));
}

// Every write of a GPT-2 decode step (batch 1, bf16), kernel by kernel (a row of 768 is 1,536 B):
//   wte 1,536; wpe 1,536; their sum 1,536
//   per layer: ln_1 1,536; c_attn 2304·2 = 4,608; cache write 2·12·64·2 = 3,072; FlashAttention
//   output 12·64·2 = 1,536; c_proj 1,536; residual 1,536; ln_2 1,536; c_fc 3072·2 = 6,144;
//   gelu_new 6,144; c_proj 1,536; residual 1,536: 30,720; and each LayerNorm's mean and rstd
//   (native_layer_norm's two [M] float32 outputs, 2·4 B per row): 2·8 = 16 → 30,736
//   ln_f 1,536 + 8; the gather of the sampled row 1,536; lm_head 50304·2 = 100,608
// = 3·1,536 + 12·30,736 + 2·1,536 + 8 + 100,608 = 477,128 B at any cache length (no cache copy).
TEST(VllmGpt2, DecodeWritesCarryNoCacheCopy) {
    Int layer = 7 * Int(1536) + 4608 + 3072 + 2 * 6144 + 2 * 8;
    EXPECT_EQ(str(layer), "30736");
    Int expected = 3 * Int(1536) + 12 * layer + 2 * 1536 + 8 + 100608;
    EXPECT_EQ(str(expected), "477128");
    EXPECT_EQ(engines().total(gpt2, "write", decode(1000)), str(expected));
    EXPECT_EQ(engines().total(gpt2, "write", decode(0)), str(expected));
}

// K and V of 12 layers · 12 heads · 64 at 2 B: 36,864 B per token slot, whole blocks of 16.
// Prefill 1000: ceil(1000/16) = 63 blocks; decode at cache 1007 (L = 1008): 63 blocks; at
// cache 1008 (L = 1009): 64; batch 3 of 20 tokens: 3·2 blocks.
TEST(VllmGpt2, CacheHeldIsWholeBlocks) {
    const std::string hw = "h100-sxm";
    Int slot = 36864;
    EXPECT_EQ(on_device().total(gpt2, "kv_cache", prefill(1000), "vllm", hw), str(Int(63) * 16 * slot));
    EXPECT_EQ(on_device().total(gpt2, "kv_cache", decode(1007), "vllm", hw), str(Int(63) * 16 * slot));
    EXPECT_EQ(on_device().total(gpt2, "kv_cache", decode(1008), "vllm", hw), str(Int(64) * 16 * slot));
    EXPECT_EQ(on_device().total(gpt2, "kv_cache", prefill(20, 3), "vllm", hw), str(Int(3) * 2 * 16 * slot));
}

// FlashAttention's benchmark: 4·b·s²·h·d, halved when causal. Prefill of 1024 (the whole
// context): per layer 4·1024²·12·64/2; 12 layers. Decode at cache C: the query sees C + 1 keys,
// 2·12·(C + 1)·(64 + 64) per layer.
TEST(VllmGpt2, AttentionFlopsFollowFlashAttention) {
    Int s = 1024;
    EXPECT_EQ(engines().leaves(gpt2, fa, "flops", prefill(1024)), str(12 * (4 * s * s * 12 * 64 / 2)));
    Step full = prefill(1024);
    full.runtime.emplace_back("fa_full_rectangle", 1);
    EXPECT_EQ(engines().leaves(gpt2, fa, "flops", full), str(12 * (4 * s * s * 12 * 64)));
    EXPECT_EQ(engines().leaves(gpt2, fa, "flops", decode(500)), str(12 * (2 * Int(12) * 501 * 128)));
}

// gelu_new: vLLM's custom op is one kernel over M·3072 elements, reading and writing each once
// (decode, M = 1: 3072·2 B each way per layer); its FLOPs are the eight per element that the
// transformers execution's eight eager kernels count (8·3072 per layer).
TEST(VllmGpt2, GeluNewIsOneKernelWithTheSameFlops) {
    Int n = 3072;
    EXPECT_EQ(engines().leaves(gpt2, "vllm.gelu_new", "flops", decode(10)), str(12 * 8 * n));
    EXPECT_EQ(engines().leaves(gpt2, "vllm.gelu_new", "read", decode(10)), str(12 * n * 2));
    EXPECT_EQ(engines().leaves(gpt2, "vllm.gelu_new", "write", decode(10)), str(12 * n * 2));
    EXPECT_EQ(engines().calls(gpt2, "transformers.activations.NewGELUActivation", "flops", decode(10), ""),
              str(12 * 8 * n));
}

// The lm_head multiplies by the whole padded [50304, 768] weight and writes 50304 logits per
// sequence (then sliced to 50257, a view): 2·4·768·50304 FLOPs and 4·50304·2 B for batch 4;
// with the decoder's 2·4·12·7,077,888 the F.linear leaves of a batch-4 decode step.
TEST(VllmGpt2, LmHeadRunsOnThePaddedVocabulary) {
    EXPECT_EQ(engines().leaves(gpt2, "F.linear", "flops", decode(10, 4)),
              str(2 * Int(4) * 12 * 7077888 + 2 * Int(4) * 768 * 50304));
    CostNode root = engines().run(gpt2, decode(10, 4), "vllm");
    Found head = find_path(root, {"lm_head"});
    ASSERT_NE(head.node, nullptr);
    EXPECT_EQ(head.node->cost.at(engines().metric("write")).to_string(), str(Int(4) * 50304 * 2));
    EXPECT_EQ(head.node->cost.at(engines().metric("flops")).to_string(), str(2 * Int(4) * 768 * 50304));
}

// 1024 learned positions: a step past them is refused under vLLM too (E0207).
TEST(VllmGpt2, ContextIsLimitedToItsPositions) {
    try {
        (void)engines().run(gpt2, decode(1024), "vllm");
        ADD_FAILURE() << "cache_len 1024 + seq_len 1 should exceed n_positions";
    } catch (const CostiError& e) {
        ASSERT_FALSE(e.diagnostics().empty());
        EXPECT_EQ(e.diagnostics().front().code, "E0207");
    }
}

// ============================================================================ Gemma 2

// embed 256000·3584 = 917,504,000; per layer qkv 3584·(16 + 2·8)·256 = 29,360,128,
// o 4096·3584 = 14,680,064, gate_up 3584·2·14336 = 102,760,448, down 14336·3584 = 51,380,224,
// four norms 4·3584: 198,195,200; final norm 3,584.
// 917,504,000 + 42·198,195,200 + 3,584 = 9,241,705,984, docs/models.md's count.
TEST(VllmGemma2, ParamsEqualTheTransformersExecution) {
    Int layer = Int(3584) * 32 * 256 + Int(4096) * 3584 + Int(3584) * 2 * 14336 + Int(14336) * 3584 + 4 * 3584;
    EXPECT_EQ(str(layer), "198195200");
    Int expected = Int(256000) * 3584 + 42 * layer + 3584;
    EXPECT_EQ(str(expected), "9241705984");
    EXPECT_EQ(engines().total(gemma, "params", prefill(7)), str(expected));
    EXPECT_EQ(engines().total(gemma, "params", prefill(7), ""), str(expected));
}

// Prefill of 512: per layer Σ K·N = 29,360,128 + 14,680,064 + 102,760,448 + 51,380,224 =
// 198,180,864, merged or not; the lm_head on the last position 2·3584·256000 (no padding:
// 256000 = 64·4000). transformers with logits_to_keep = 1 gives the same F.linear sum.
TEST(VllmGemma2, GemmFlopsEqualTheTransformersExecution) {
    Int kn = Int(29360128) + 14680064 + 102760448 + 51380224;
    EXPECT_EQ(str(kn), "198180864");
    Int expected = 2 * Int(512) * 42 * kn + 2 * Int(3584) * 256000;
    EXPECT_EQ(engines().leaves(gemma, "F.linear", "flops", prefill(512)), str(expected));
    EXPECT_EQ(engines().leaves(gemma, "F.linear", "flops", keep_last(prefill(512)), ""), str(expected));
}

// Decode: 42 layers · 2 · 8 kv heads · 256 · 2 B = 344,064 B of new K and V, sliding or not.
TEST(VllmGemma2, DecodeCacheWritesAreTheNewTokensOnly) {
    Int per_token = Int(42) * 2 * 8 * 256 * 2;
    EXPECT_EQ(str(per_token), "344064");
    EXPECT_EQ(engines().leaves(gemma, cache_write, "write", decode(8192)), str(per_token));
    EXPECT_EQ(engines().leaves(gemma, cache_write, "write", decode(5)), str(per_token));
    EXPECT_EQ(engines().leaves(gemma, cache_write, "write", decode(100, 2)), str(2 * per_token));
}

// Every write of a Gemma-2-9b decode step (batch 1, bf16); a row of 3584 is 7,168 B:
//   embedding 7,168; normalizer (in place) 7,168
//   per layer: input norm with the fused add (out and residual) 14,336; qkv 8192·2 = 16,384;
//   rotary in place (16 + 8)·256·2 = 12,288; cache write 2·8·256·2 = 8,192; FlashAttention
//   output 16·256·2 = 8,192; o_proj 7,168; post-attention norm 7,168; pre-feedforward norm
//   with the fused add 14,336; gate_up 28672·2 = 57,344; gelu_tanh_and_mul 14336·2 = 28,672;
//   down 7,168; post-feedforward norm 7,168: 188,416 (the first layer's plain input norm
//   writes 7,168 less: 181,248)
//   final norm with the fused add 14,336; gather 7,168; lm_head 256000·2 = 512,000; the final
//   soft-cap's divide, tanh and multiply 3·512,000
// = 7,168 + 7,168 + 181,248 + 41·188,416 + 14,336 + 7,168 + 512,000 + 1,536,000 = 9,990,144 B.
// The transformers execution's cache copy alone (torch.cat of the 21 full layers' K and V,
// 8193 tokens) is 21·2·8·256·8193·2 B.
TEST(VllmGemma2, DecodeWritesCarryNoCacheCopy) {
    Int layer = 14336 + 16384 + 12288 + 8192 + 8192 + 7168 + 7168 + 14336 + 57344 + 28672 + 7168 + 7168;
    EXPECT_EQ(str(layer), "188416");
    Int expected = 7168 + 7168 + (layer - 7168) + 41 * layer + 14336 + 7168 + 512000 + 3 * Int(512000);
    EXPECT_EQ(str(expected), "9990144");
    EXPECT_EQ(engines().total(gemma, "write", decode(8192)), str(expected));
    EXPECT_EQ(engines().total(gemma, "write", decode(0)), str(expected));
    Int cat = Int(21) * 2 * 8 * 256 * 8193 * 2;
    EXPECT_GT(*Number::parse(engines().total(gemma, "write", decode(8192), "")), *Number::parse(str(cat)));
}

// Held after a decode step at cache 8192 (L = 8193): 8,192 B per token slot per layer
// (2 · 8 · 256 · 2). A full layer holds ceil(8193/16) = 513 blocks; a sliding layer frees the
// floor((8192 - 4096 + 1)/16) = 256 blocks wholly before its window: 257. 21 layers of each.
// Inside the window (cache 1000): 63 blocks in every layer.
TEST(VllmGemma2, CacheHeldIsWholeBlocksAndSlidingLayersHoldTheirWindow) {
    const std::string hw = "h100-sxm";
    Int slot = Int(2) * 8 * 256 * 2;
    EXPECT_EQ(on_device().total(gemma, "kv_cache", decode(8192), "vllm", hw),
              str(21 * Int(513) * 16 * slot + 21 * Int(257) * 16 * slot));
    EXPECT_EQ(on_device().total(gemma, "kv_cache", decode(1000), "vllm", hw), str(42 * Int(63) * 16 * slot));
}

// Decode at cache 8192: a full layer's query sees 8193 keys, a sliding layer's its window of
// 4096 (window_size (4095, 0)); 2·16·keys·(256 + 256) per layer. The attention soft-cap rides
// inside FlashAttention: the same FLOPs with it switched off (attn_logit_softcapping 0).
// A prefill of 4096 (inside the window): FlashAttention's 4·s²·h·d/2 in all 42 layers.
TEST(VllmGemma2, AttentionFlopsFollowFlashAttentionWithWindowAndSoftcap) {
    Int expected = 21 * (2 * Int(16) * 8193 * 512) + 21 * (2 * Int(16) * 4096 * 512);
    EXPECT_EQ(engines().leaves(gemma, fa, "flops", decode(8192)), str(expected));
    Step no_cap = decode(8192);
    no_cap.config.emplace_back("attn_logit_softcapping", 0);
    EXPECT_EQ(engines().leaves(gemma, fa, "flops", no_cap), str(expected));
    // reads: Q (16·256·2 B) and the keys' K and V (8 heads · 512 · 2 B) per layer
    EXPECT_EQ(engines().leaves(gemma, fa, "read", decode(8192)),
              str(42 * (Int(16) * 256 * 2) + 21 * (Int(8) * 8193 * 1024) + 21 * (Int(8) * 4096 * 1024)));
    Int s = 4096;
    EXPECT_EQ(engines().leaves(gemma, fa, "flops", prefill(4096)), str(42 * (4 * s * s * 16 * 256 / 2)));
}

// The final logit soft-cap: logits / 30, tanh, * 30 over the batch's B·256000 kept logits,
// one FLOP each; switched off (final_logit_softcapping 0) the three kernels are gone:
// batch 2, decode: 3·2·256000 FLOPs and 3·2·256000·2 B written.
TEST(VllmGemma2, FinalLogitSoftcapOverTheSampledLogits) {
    auto capping = [](const CostNode& n) {
        return n.label == "cap_div" || n.label == "cap_tanh" || n.label == "cap_mul";
    };
    EXPECT_EQ(engines().leaves(gemma, capping, "flops", decode(100, 2)), str(3 * Int(2) * 256000));
    EXPECT_EQ(engines().leaves(gemma, capping, "write", decode(100, 2)), str(3 * Int(2) * 256000 * 2));
    Step off = decode(100, 2);
    off.config.emplace_back("final_logit_softcapping", 0);
    EXPECT_EQ(engines().leaves(gemma, capping, "flops", off), "0");
}

// GemmaRMSNorm fused: per token 169 norms (4 per layer + final) of 4·3584 + 3 + 3584 FLOPs
// each (costi's count of forward_static: pow, mean, + eps, rsqrt, · rsqrt, 1 + weight,
// · (1 + weight)) plus the 84 residual adds (3584 each) fused into 41 input norms, 42
// pre-feedforward norms and the final norm — the FLOPs the transformers execution counts for
// its 169 eager Gemma2RMSNorms and 84 residual torch.adds. Prefill of 7 tokens (M = 7).
// Bytes (decode, M = 1): 169 norms write 3584·2 B and the 84 fused ones also the residual:
// (169 + 84)·7,168 = 1,813,504 B.
TEST(VllmGemma2, GemmaRmsNormIsOneKernelWithTheSameFlops) {
    Int M = 7, H = 3584;
    Int expected = 169 * (4 * M * H + 3 * M + H) + 84 * M * H;
    const std::string norm = "vllm.gemma_rms_norm";
    EXPECT_EQ(engines().leaves(gemma, norm, "flops", prefill(7)), str(expected));
    Number hf = *Number::parse(engines().calls(gemma, "transformers.models.gemma2.modeling_gemma2.Gemma2RMSNorm",
                                               "flops", prefill(7), ""));
    hf += *Number::parse(engines().leaves(
        gemma, [](const CostNode& n) { return n.label == "residual_attn" || n.label == "residual_mlp"; }, "flops",
        prefill(7), ""));
    EXPECT_EQ(hf.to_string(), str(expected));
    EXPECT_EQ(engines().leaves(gemma, norm, "write", decode(10)), str((169 + 84) * Int(7168)));
}

// vLLM's Gemma2MLP refuses any activation but gelu_pytorch_tanh, in hidden_act too (E0207).
TEST(VllmGemma2, RefusesOtherActivations) {
    Step s = decode(10);
    Overrides o = s.overrides();
    o.engine = "vllm";
    o.config.emplace_back("hidden_act", interp::Value::of_string("gelu"));
    Session session;
    session.load_file(root_dir + "/kernels/vllm/gemma2.cost");
    session.load_file(models_dir + "/gemma-2-9b.cost");
    try {
        (void)session.run(session.pick_model(gemma), o);
        ADD_FAILURE() << "hidden_act gelu should be refused";
    } catch (const CostiError& e) {
        ASSERT_FALSE(e.diagnostics().empty());
        EXPECT_EQ(e.diagnostics().front().code, "E0207");
    }
}

}  // namespace
}  // namespace costi::models_test
