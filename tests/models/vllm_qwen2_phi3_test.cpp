// Issue 9: vLLM's execution of the Qwen2 and Phi-3 families (kernels/vllm/qwen2.cost,
// kernels/vllm/phi3.cost). The shipped models run under the engine (Overrides.engine = "vllm")
// and under the transformers kernels as written, and are checked against numbers derived by
// hand (in the comments), computed here with plain integers, never with the interpreter.
//
// Shapes used throughout (the shipped models' configs):
//   Qwen2-7B:    H 3584, I 18944, L 28, heads 28, kv 4, d = 3584/28 = 128, V 152064, untied,
//                use_sliding_window false
//   Qwen2.5-72B: H 8192, I 29568, L 80, heads 64, kv 8, d 128, V 152064, untied
//   Phi-3-mini-4k-instruct: H 3072, I 8192, L 32, heads 32, kv 32, d = 3072/32 = 96,
//                V 32064, untied, sliding_window 2047
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "model_support.hpp"

namespace costi::models_test {
namespace {

using interp::Overrides;
using interp::Session;

const std::string root_dir = models_dir + "/..";

const std::string qwen7 = "Qwen/Qwen2-7B";
const std::string qwen72 = "Qwen/Qwen2.5-72B";
const std::string phi3 = "microsoft/Phi-3-mini-4k-instruct";

// A session: the vLLM Qwen2 and Phi-3 kernels (with their engine mappings), the three shipped
// models and, for kv_cache, a device (whose roofline then needs it on every run).
class Runs : public EngineRuns {
public:
    explicit Runs(bool device)
        : EngineRuns({root_dir + "/kernels/vllm/qwen2.cost", root_dir + "/kernels/vllm/phi3.cost"},
                     device ? root_dir + "/hardware/h100-sxm.cost" : "",
                     {models_dir + "/qwen2-7b.cost", models_dir + "/qwen2.5-72b.cost",
                      models_dir + "/phi-3-mini-4k-instruct.cost"}) {}

    // engine "vllm", or "" for the transformers kernels as written.
    CostNode run(const std::string& model, const Step& step, const std::string& engine = "vllm",
                 const std::string& hw = "") const {
        return run_as(model, step, engine, hw);
    }
    std::string total(const std::string& model, const std::string& m, const Step& step,
                      const std::string& engine = "vllm", const std::string& hw = "") const {
        return total_as(model, m, step, engine, hw);
    }
    // Σ over the leaves of kernel `kernel` of metric `m`, for one step.
    std::string leaves(const std::string& model, const std::string& kernel, const std::string& m,
                       const Step& step, const std::string& engine = "vllm") const {
        return leaves_as(model, kernel, m, step, engine);
    }
    // The E-code and message a run stops with ("no error" when it does not).
    std::pair<std::string, std::string> failure(const std::string& model, const Step& step) const {
        try {
            run(model, step);
        } catch (const interp::CostiError& e) {
            const auto& d = e.diagnostics().front();
            return {d.code, d.message};
        }
        return {"no error", ""};
    }
};

const Runs& runs() {
    static const Runs r(false);
    return r;
}
const Runs& on_device() {
    static const Runs r(true);
    return r;
}

using namespace steps;

// Per-layer weight elements K·N of the linear layers (the q/k/v biases apart):
//   Qwen2-7B:    qkv 3584·(28 + 2·4)·128 = 3584·4608, o 3584·3584, gate_up 3584·2·18944,
//                down 18944·3584
//   Qwen2.5-72B: qkv 8192·(64 + 2·8)·128 = 8192·10240, o 8192·8192, gate_up 8192·2·29568,
//                down 29568·8192
//   Phi-3-mini:  qkv 3072·(32 + 2·32)·96 = 3072·9216, o 3072·3072, gate_up 3072·2·8192,
//                down 8192·3072
const Int qwen7_kn = Int(3584) * 4608 + Int(3584) * 3584 + Int(3584) * 2 * 18944 + Int(18944) * 3584;
const Int qwen72_kn = Int(8192) * 10240 + Int(8192) * 8192 + Int(8192) * 2 * 29568 + Int(29568) * 8192;
const Int phi3_kn = Int(3072) * 9216 + Int(3072) * 3072 + Int(3072) * 2 * 8192 + Int(8192) * 3072;

// ------------------------------------------------------------------------ parameters

// Per layer: the linear weights above, the q/k/v biases ((heads + 2·kv)·d: 4608, 10240; none
// for Phi-3), two RMSNorm weights (2·H); plus the embedding and the untied lm_head (V·H each)
// and the final norm (H):
//   Qwen2-7B:    28·(233,046,016 + 4,608 + 7,168) + 2·152064·3584 + 3584 = 7,615,616,512
//   Qwen2.5-72B: 80·(877,658,112 + 10,240 + 16,384) + 2·152064·8192 + 8192 = 72,706,203,648
//   Phi-3-mini:  32·(113,246,208 + 6,144) + 2·32064·3072 + 3072 = 3,821,079,552
// — the counts of docs/models.md; both executions give them.
TEST(VllmQwen2Phi3, ParamsEqualTheTransformersExecution) {
    Int q7 = 28 * (qwen7_kn + 4608 + 2 * 3584) + 2 * Int(152064) * 3584 + 3584;
    Int q72 = 80 * (qwen72_kn + 10240 + 2 * 8192) + 2 * Int(152064) * 8192 + 8192;
    Int p3 = 32 * (phi3_kn + 2 * 3072) + 2 * Int(32064) * 3072 + 3072;
    EXPECT_EQ(str(q7), "7615616512");
    EXPECT_EQ(str(q72), "72706203648");
    EXPECT_EQ(str(p3), "3821079552");
    for (const std::string engine : {"vllm", ""}) {
        EXPECT_EQ(runs().total(qwen7, "params", prefill(7), engine), str(q7)) << engine;
        EXPECT_EQ(runs().total(qwen72, "params", prefill(7), engine), str(q72)) << engine;
        EXPECT_EQ(runs().total(phi3, "params", prefill(7), engine), str(p3)) << engine;
    }
}

// ------------------------------------------------------------------------ GEMM FLOPs

// A prefill of M = 512 tokens: the linear layers do 2·M·K·N each (the bias add is not counted),
// merged or not: 2·512·L·Σ K·N, plus the lm_head on the last position only: 2·1·H·V. The
// transformers execution with logits_to_keep = 1 gives the same sum over its F.linear leaves
// (Qwen2: q, k, v and gate, up as separate GEMMs; Phi-3: the same fused GEMMs).
TEST(VllmQwen2Phi3, GemmFlopsEqualTheTransformersExecution) {
    Step hf = prefill(512);
    hf.runtime.emplace_back("logits_to_keep", 1);
    Int q7 = 2 * Int(512) * 28 * qwen7_kn + 2 * Int(3584) * 152064;
    EXPECT_EQ(runs().leaves(qwen7, "F.linear", "flops", prefill(512)), str(q7));
    EXPECT_EQ(runs().leaves(qwen7, "F.linear", "flops", hf, ""), str(q7));
    Int q72 = 2 * Int(512) * 80 * qwen72_kn + 2 * Int(8192) * 152064;
    EXPECT_EQ(runs().leaves(qwen72, "F.linear", "flops", prefill(512)), str(q72));
    EXPECT_EQ(runs().leaves(qwen72, "F.linear", "flops", hf, ""), str(q72));
    Int p3 = 2 * Int(512) * 32 * phi3_kn + 2 * Int(3072) * 32064;
    EXPECT_EQ(runs().leaves(phi3, "F.linear", "flops", prefill(512)), str(p3));
    EXPECT_EQ(runs().leaves(phi3, "F.linear", "flops", hf, ""), str(p3));
}

// ------------------------------------------------------------------------ Qwen2's fused QKV with biases

// vLLM's Qwen2 qkv_proj is ONE GEMM 3584 -> 4608 carrying the three biases (bias=True,
// qwen2.py L136-144): per call 3584·4608 weights + 4608 bias elements; a decode step (M = 1,
// bf16) reads the token's 3584 activations and all of them: (3584 + 3584·4608 + 4608)·2 B,
// writes 4608·2 B, and does 2·1·3584·4608 FLOPs.
TEST(VllmQwen2, QkvProjIsOneGemmWithTheBiases) {
    CostNode root = runs().run(qwen7, decode(100));
    Found qkv = find_path(root, {"model", "layers", "self_attn", "qkv_proj"});
    ASSERT_NE(qkv.node, nullptr);
    EXPECT_EQ(qkv.node->kernel->name, "F.linear");
    auto per_call = [&](const std::string& m) { return qkv.node->cost.at(runs().metric(m)).to_string(); };
    EXPECT_EQ(per_call("params"), str(Int(3584) * 4608 + 4608));
    EXPECT_EQ(per_call("read"), str((Int(3584) + Int(3584) * 4608 + 4608) * 2));
    EXPECT_EQ(per_call("write"), str(Int(4608) * 2));
    EXPECT_EQ(per_call("flops"), str(2 * Int(3584) * 4608));
    // 27 layers after the first: the first layer is its own call (residual None)
    EXPECT_EQ(qkv.calls.to_string(), "27");
}

// ------------------------------------------------------------------------ KV-cache writes

// A decode step writes only the new token's K and V into the paged cache: per layer
// 2 (K, V) · kv heads · d · kv_bytes. Qwen2-7B bf16: 2·28·4·128·2 = 57,344 B; Qwen2.5-72B with
// a fp8 cache: 2·80·8·128·1 = 163,840 B; Phi-3-mini bf16 (no GQA): 2·32·32·96·2 = 393,216 B.
// Independent of the cache length; batch 4: four tokens' K and V.
TEST(VllmQwen2Phi3, DecodeCacheWritesAreTheNewTokensOnly) {
    const std::string w = "vllm.reshape_and_cache_flash";
    EXPECT_EQ(runs().leaves(qwen7, w, "write", decode(32768)), str(Int(2) * 28 * 4 * 128 * 2));
    EXPECT_EQ(runs().leaves(qwen7, w, "write", decode(7)), "57344");
    Step fp8 = decode(32768);
    fp8.runtime.emplace_back("kv_bytes", 1);
    EXPECT_EQ(runs().leaves(qwen72, w, "write", fp8), str(Int(2) * 80 * 8 * 128 * 1));
    EXPECT_EQ(runs().leaves(qwen72, w, "write", fp8), "163840");
    EXPECT_EQ(runs().leaves(phi3, w, "write", decode(4000)), str(Int(2) * 32 * 32 * 96 * 2));
    EXPECT_EQ(runs().leaves(phi3, w, "write", decode(4000)), "393216");
    EXPECT_EQ(runs().leaves(qwen7, w, "write", decode(100, 4)), str(Int(4) * 57344));
}

// All writes of a Qwen2-7B decode step (batch 1, bf16), kernel by kernel:
//   embedding 3584·2 = 7,168
//   per layer: input norm (fused add: residual and x) 2·3584·2 = 14,336 (the first layer's
//   plain rms_norm: 7,168), qkv 4608·2 = 9,216, rotary in place on q and k (28 + 4)·128·2 =
//   8,192, cache write 2·4·128·2 = 2,048, FlashAttention output 28·128·2 = 7,168, o_proj 7,168,
//   post-attention fused norm 14,336, gate_up 2·18944·2 = 75,776, silu_and_mul 18944·2 =
//   37,888, down 7,168: 183,296 (first layer 176,128)
//   final fused norm 14,336; the gather of the sampled row 7,168; lm_head 152064·2 = 304,128
// = 7,168 + 176,128 + 27·183,296 + 14,336 + 7,168 + 304,128 = 5,457,920 B, whatever the cache
// length. The transformers execution re-concatenates the cache (torch.cat of 28 layers · 2 ·
// 4 · 128 · 32,769 elements at 2 B alone is 1,879,105,536 B).
TEST(VllmQwen2, DecodeWritesCarryNoCacheCopy) {
    Int layer = 14336 + 9216 + 8192 + 2048 + 7168 + 7168 + 14336 + 75776 + 37888 + 7168;
    EXPECT_EQ(str(layer), "183296");
    Int expected = 7168 + (layer - 7168) + 27 * layer + 14336 + 7168 + 304128;
    EXPECT_EQ(str(expected), "5457920");
    EXPECT_EQ(runs().total(qwen7, "write", decode(32768)), str(expected));
    EXPECT_EQ(runs().total(qwen7, "write", decode(0)), str(expected));
    Int cat = Int(28) * 2 * 4 * 128 * 32769 * 2;
    EXPECT_GT(*Number::parse(runs().total(qwen7, "write", decode(32768), "")), *Number::parse(str(cat)));
}

// ------------------------------------------------------------------------ KV cache held

// Blocks of 16 tokens, K and V of every layer: 57,344 B per token for Qwen2-7B (no window).
// Prefill of 1000: ceil(1000/16) = 63 blocks = 1008 token slots; decode after 32768 cached:
// L = 32769, 2049 blocks; three sequences of 20: 3·2 blocks; --block_size 32 with L = 1000:
// 32 blocks = 1024 slots. Phi-3-mini, 393,216 B per token, decode at cache 1000 (inside its
// window, nothing freed): ceil(1001/16) = 63 blocks.
TEST(VllmQwen2Phi3, CacheHeldIsWholeBlocks) {
    const std::string hw = "h100-sxm";
    EXPECT_EQ(on_device().total(qwen7, "kv_cache", prefill(1000), "vllm", hw), str(Int(63) * 16 * 57344));
    EXPECT_EQ(on_device().total(qwen7, "kv_cache", decode(32768), "vllm", hw), str(Int(2049) * 16 * 57344));
    EXPECT_EQ(on_device().total(qwen7, "kv_cache", prefill(20, 3), "vllm", hw), str(Int(3) * 2 * 16 * 57344));
    Step b32 = prefill(1000);
    b32.runtime.emplace_back("block_size", 32);
    EXPECT_EQ(on_device().total(qwen7, "kv_cache", b32, "vllm", hw), str(Int(32) * 32 * 57344));
    EXPECT_EQ(on_device().total(phi3, "kv_cache", decode(1000), "vllm", hw), str(Int(63) * 16 * 393216));
}

// ------------------------------------------------------------------------ attention FLOPs

// FlashAttention's benchmark (benchmarks/benchmark_flash_attention.py L27-30): forward
// 4·b·s²·h·d, halved when causal. Qwen2-7B prefill of 4096: per layer 4·1·4096²·28·128/2, 28
// layers; --fa_full_rectangle 1: the full 4·b·s²·h·d. A decode step at cache C: the query sees
// C + 1 keys: 2·heads·(C + 1)·(d + d) per layer; FlashAttention reads Q (28·128·2 B) and the
// C + 1 keys' K and V (4 kv heads · 256 · 2 B) per layer.
TEST(VllmQwen2, AttentionFlopsFollowFlashAttention) {
    const std::string fa = "vllm.flash_attn_varlen";
    Int s = 4096;
    EXPECT_EQ(runs().leaves(qwen7, fa, "flops", prefill(4096)), str(28 * (4 * 1 * s * s * 28 * 128 / 2)));
    Step full = prefill(4096);
    full.runtime.emplace_back("fa_full_rectangle", 1);
    EXPECT_EQ(runs().leaves(qwen7, fa, "flops", full), str(28 * (4 * 1 * s * s * 28 * 128)));
    Int C = 1000;
    EXPECT_EQ(runs().leaves(qwen7, fa, "flops", decode(1000)), str(28 * (2 * Int(28) * (C + 1) * 256)));
    EXPECT_EQ(runs().leaves(qwen7, fa, "read", decode(1000)), str(28 * (Int(28) * 128 * 2 + Int(4) * (C + 1) * 256 * 2)));
    // No window for Qwen2 (use_sliding_window false): at cache 200,000 the query still sees all
    // 200,001 keys.
    EXPECT_EQ(runs().leaves(qwen7, fa, "flops", decode(200000)), str(28 * (2 * Int(28) * 200001 * 256)));
}

// ------------------------------------------------------------------------ Phi-3's window

// Phi-3-mini-4k through llama.py with sliding_window 2047: FlashAttention window_size
// (2046, 0), a query sees at most 2047 keys.
//   Decode at cache 4000: 2047 keys; FLOPs 32·(2·32·2047·192); reads 32·(32·96·2 +
//   32·2047·192·2). Before the step max(0, 4000 − 2047 + 1) = 1954 tokens are skipped, so
//   floor(1954/16) = 122 blocks are freed of ceil(4001/16) = 251: 129 blocks held.
//   Prefill of 1500 (inside the window): FlashAttention's causal count 4·1·1500²·32·96/2 per
//   layer. Prefill of 3000 (past it): query p sees min(p + 1, 2047) keys:
//   2047·2048/2 + (3000 − 2047)·2047 = 4,046,919 pairs per head.
// The transformers execution (v4.48 Phi-3) attends all 4001 keys at cache 4000.
TEST(VllmPhi3, SlidingWindowAttendsAndHoldsTheWindow) {
    const std::string fa = "vllm.flash_attn_varlen";
    EXPECT_EQ(runs().leaves(phi3, fa, "flops", decode(4000)), str(32 * (2 * Int(32) * 2047 * 192)));
    EXPECT_EQ(runs().leaves(phi3, fa, "read", decode(4000)), str(32 * (Int(32) * 96 * 2 + Int(32) * 2047 * 192 * 2)));
    EXPECT_EQ(on_device().total(phi3, "kv_cache", decode(4000), "vllm", "h100-sxm"), str(Int(129) * 16 * 393216));
    Int s = 1500;
    EXPECT_EQ(runs().leaves(phi3, fa, "flops", prefill(1500)), str(32 * (4 * 1 * s * s * 32 * 96 / 2)));
    Int pairs = Int(2047) * 2048 / 2 + Int(3000 - 2047) * 2047;
    EXPECT_EQ(str(pairs), "4046919");
    EXPECT_EQ(runs().leaves(phi3, fa, "flops", prefill(3000)), str(32 * (2 * Int(32) * pairs * 192)));
    // transformers: 2·b·h·s_q·s_k·(d + d) over all 4001 keys, per layer (SDPA leaf)
    EXPECT_EQ(runs().leaves(phi3, "F.scaled_dot_product_attention", "flops", decode(4000), ""),
              str(32 * (2 * Int(32) * 4001 * 192)));
}

// Phi-3's vLLM execution is llama.py's modules (Phi3ForCausalLM(LlamaForCausalLM)): the fused
// qkv_proj of the checkpoint is llama.py's QKVParallelLinear 3072 -> 9216, without bias
// (Phi3Config has no attention_bias).
TEST(VllmPhi3, RunsLlamaModules) {
    CostNode root = runs().run(phi3, decode(10));
    Found attn = find_kernel(root, "vllm.model_executor.models.llama.LlamaAttention");
    ASSERT_NE(attn.node, nullptr);
    Found qkv = find_path(*attn.node, {"qkv_proj"});
    ASSERT_NE(qkv.node, nullptr);
    EXPECT_EQ(qkv.node->cost.at(runs().metric("params")).to_string(), str(Int(3072) * 9216));
}

// ------------------------------------------------------------------------ refusals

// vLLM's Qwen2Model raises when the model has a sliding window (use_sliding_window true) and
// max_window_layers (qwen2.py L273-283); its Qwen2Attention builds head_dim = H // heads and
// never reads config.head_dim (L130), so another head_dim cannot be run.
TEST(VllmQwen2, RefusesWhatVllmRefuses) {
    Step sliding = decode(10);
    sliding.config.emplace_back("use_sliding_window", 1);
    auto f = runs().failure(qwen7, sliding);
    EXPECT_EQ(f.first, "E0207") << f.second;
    EXPECT_NE(f.second.find("use_sliding_window"), std::string::npos) << f.second;
    Step head_dim = decode(10);
    head_dim.config.emplace_back("head_dim", 64);
    f = runs().failure(qwen7, head_dim);
    EXPECT_EQ(f.first, "E0207") << f.second;
    EXPECT_NE(f.second.find("head_dim"), std::string::npos) << f.second;
    // the same head_dim as H // heads is accepted
    Step same = decode(10);
    same.config.emplace_back("head_dim", 128);
    EXPECT_EQ(runs().failure(qwen7, same).first, "no error");
}

}  // namespace
}  // namespace costi::models_test
