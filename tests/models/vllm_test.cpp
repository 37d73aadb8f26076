// Issue 9: vLLM's execution of the Llama family (kernels/vllm/). Scratch models bind the
// published Llama-3-8B, Llama-3-70B and Mistral-7B-v0.1 configs to
// $vllm.model_executor.models.llama.LlamaForCausalLM and are checked against numbers derived
// by hand (in the comments), computed here with plain integers, never with the interpreter.
//
// Shapes used throughout (the checkpoints' config.json):
//   Llama-3-8B:  H 4096, I 14336, L 32, heads 32, kv 8, d 128, V 128256, untied
//   Llama-3-70B: H 8192, I 28672, L 80, heads 64, kv 8, d 128, V 128256, untied
//   Mistral-7B-v0.1: as Llama-3-8B but V 32000, sliding_window 4096, model_type mistral
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "model_support.hpp"

namespace costi::models_test {
namespace {

using interp::Overrides;
using interp::Session;

const std::string root_dir = models_dir + "/..";

const char* const scratch_models = R"(
model vllm-llama-3-8b = $vllm.model_executor.models.llama.LlamaForCausalLM {
  config {
    model_type = "llama"  hidden_act = "silu"  hidden_size = 4096  intermediate_size = 14336
    num_hidden_layers = 32  num_attention_heads = 32  num_key_value_heads = 8
    vocab_size = 128256  rms_norm_eps = 1e-05  rope_theta = 500000.0
    attention_bias = false  tie_word_embeddings = false
  }
}
model vllm-llama-3-70b = $vllm.model_executor.models.llama.LlamaForCausalLM {
  config {
    model_type = "llama"  hidden_act = "silu"  hidden_size = 8192  intermediate_size = 28672
    num_hidden_layers = 80  num_attention_heads = 64  num_key_value_heads = 8
    vocab_size = 128256  rms_norm_eps = 1e-05  rope_theta = 500000.0
    attention_bias = false  tie_word_embeddings = false
  }
}
model vllm-mistral-7b = $vllm.model_executor.models.llama.LlamaForCausalLM {
  config {
    model_type = "mistral"  hidden_act = "silu"  hidden_size = 4096  intermediate_size = 14336
    num_hidden_layers = 32  num_attention_heads = 32  num_key_value_heads = 8
    vocab_size = 32000  rms_norm_eps = 1e-05  rope_theta = 10000.0  sliding_window = 4096
    tie_word_embeddings = false
  }
}
)";

// A session: the vLLM Llama kernels, the shipped transformers Llama-3-8B for comparison, the
// scratch models above and, for kv_cache, a device (whose roofline then needs it on every run).
class Vllm : public EngineRuns {
public:
    explicit Vllm(bool device)
        : EngineRuns({root_dir + "/kernels/vllm/llama.cost"}, device ? root_dir + "/hardware/h100-sxm.cost" : "",
                     {models_dir + "/llama-3-8b.cost"}) {
        session_.load_text("<vllm_test>", scratch_models);
    }

    CostNode run(const std::string& model, const Step& step, const std::string& hw = "") const {
        return run_as(model, step, "", hw);
    }
    std::string total(const std::string& model, const std::string& m, const Step& step,
                      const std::string& hw = "") const {
        return total_as(model, m, step, "", hw);
    }
    // Σ over the leaves of kernel `kernel` of metric `m`, for one step.
    std::string leaves(const std::string& model, const std::string& kernel, const std::string& m,
                       const Step& step) const {
        return leaves_as(model, kernel, m, step, "");
    }
};

const Vllm& vllm() {
    static const Vllm v(false);
    return v;
}
const Vllm& on_device() {
    static const Vllm v(true);
    return v;
}

const std::string l8 = "vllm-llama-3-8b";
const std::string l70 = "vllm-llama-3-70b";
const std::string mistral = "vllm-mistral-7b";
const std::string hf8 = "meta-llama/Meta-Llama-3-8B";

using namespace steps;

// ------------------------------------------------------------------------ parameters

// Llama-3-8B: embedding and lm_head 128256·4096 = 525,336,576 each; per layer qkv
// 4096·(32 + 2·8)·128 = 25,165,824, o 4096·4096 = 16,777,216, gate_up 4096·2·14336 =
// 117,440,512, down 14336·4096 = 58,720,256, two norms 2·4096: 218,112,000; final norm 4096.
// 2·525,336,576 + 32·218,112,000 + 4096 = 8,030,261,248 — the transformers execution's count.
TEST(VllmLlama, ParamsEqualTheTransformersExecution) {
    Int per_layer = Int(4096) * 48 * 128 + Int(4096) * 4096 + Int(4096) * 2 * 14336 + Int(14336) * 4096 + 2 * 4096;
    Int expected = 2 * Int(128256) * 4096 + 32 * per_layer + 4096;
    EXPECT_EQ(str(expected), "8030261248");
    EXPECT_EQ(vllm().total(l8, "params", prefill(7)), str(expected));
    EXPECT_EQ(vllm().total(hf8, "params", prefill(7)), str(expected));
}

// ------------------------------------------------------------------------ GEMM FLOPs

// A prefill of M = 512 tokens: the linear layers do 2·M·K·N each, whatever the merging:
// Σ K·N per layer = 4096·6144 + 4096·4096 + 4096·28672 + 14336·4096 = 218,103,808, so the
// decoder's GEMMs are 2·512·32·218,103,808; the lm_head runs on the last position only:
// 2·1·4096·128256. The transformers execution with logits_to_keep = 1 (generate()'s choice)
// gives the same sum over its F.linear leaves.
TEST(VllmLlama, GemmFlopsEqualTheTransformersExecution) {
    Int M = 512;
    Int kn = Int(4096) * 6144 + Int(4096) * 4096 + Int(4096) * 28672 + Int(14336) * 4096;
    Int expected = 2 * M * 32 * kn + 2 * Int(4096) * 128256;
    EXPECT_EQ(vllm().leaves(l8, "F.linear", "flops", prefill(512)), str(expected));
    Step hf = prefill(512);
    hf.runtime.emplace_back("logits_to_keep", 1);
    EXPECT_EQ(vllm().leaves(hf8, "F.linear", "flops", hf), str(expected));
}

// ------------------------------------------------------------------------ KV-cache writes

// A decode step writes only the new token's K and V into the paged cache: per layer
// 2 (K, V) · 8 kv heads · 128 · kv_bytes. Llama-3-8B bf16: 2·32·8·128·2 = 131,072 B;
// Llama-3-70B with a fp8 cache: 2·80·8·128·1 = 163,840 B. Independent of the cache length.
TEST(VllmLlama, DecodeCacheWritesAreTheNewTokensOnly) {
    EXPECT_EQ(vllm().leaves(l8, "vllm.reshape_and_cache_flash", "write", decode(32768)), str(Int(2) * 32 * 8 * 128 * 2));
    EXPECT_EQ(vllm().leaves(l8, "vllm.reshape_and_cache_flash", "write", decode(7)), "131072");
    Step fp8 = decode(32768);
    fp8.runtime.emplace_back("kv_bytes", 1);
    EXPECT_EQ(vllm().leaves(l70, "vllm.reshape_and_cache_flash", "write", fp8), str(Int(2) * 80 * 8 * 128 * 1));
    EXPECT_EQ(vllm().leaves(l70, "vllm.reshape_and_cache_flash", "write", fp8), "163840");
    // batch 4: four tokens' K and V
    EXPECT_EQ(vllm().leaves(l8, "vllm.reshape_and_cache_flash", "write", decode(100, 4)), str(Int(4) * 131072));
}

// All writes of a Llama-3-8B decode step (batch 1, bf16, cache 32768), kernel by kernel:
//   embedding 4096·2 = 8,192
//   per layer: input norm (fused add: residual and x) 2·4096·2 = 16,384 (the first layer's
//   plain rms_norm: 8,192), qkv 6144·2 = 12,288, rotary in place on q and k (32 + 8)·128·2 =
//   10,240, cache write 2·8·128·2 = 4,096, FlashAttention output 32·128·2 = 8,192, o_proj
//   8,192, post-attention fused norm 16,384, gate_up 2·14336·2 = 57,344, silu_and_mul
//   14336·2 = 28,672, down 8,192: 169,984 (first layer 161,792)
//   final fused norm 16,384; the gather of the sampled row 8,192; lm_head 128256·2 = 256,512
// = 8,192 + 161,792 + 31·169,984 + 16,384 + 8,192 + 256,512 = 5,720,576 B, whatever the cache
// length. The transformers execution re-concatenates the whole cache every step (torch.cat
// of 32 layers · 2 · 8 · 128 · 32,769 elements at 2 B alone is 4,295,098,368 B).
TEST(VllmLlama, DecodeWritesCarryNoCacheCopy) {
    Int layer = 16384 + 12288 + 10240 + 4096 + 8192 + 8192 + 16384 + 57344 + 28672 + 8192;
    EXPECT_EQ(str(layer), "169984");
    Int expected = 8192 + (layer - 8192) + 31 * layer + 16384 + 8192 + 256512;
    EXPECT_EQ(str(expected), "5720576");
    EXPECT_EQ(vllm().total(l8, "write", decode(32768)), str(expected));
    EXPECT_EQ(vllm().total(l8, "write", decode(0)), str(expected));
    Int cat = Int(32) * 2 * 8 * 128 * 32769 * 2;
    EXPECT_GT(*Number::parse(vllm().total(hf8, "write", decode(32768))), *Number::parse(str(cat)));
}

// ------------------------------------------------------------------------ KV cache held

// Blocks of 16 tokens, K and V of every layer: 131,072 B per token for Llama-3-8B; a sequence
// of L tokens holds ceil(L/16) blocks. Prefill of 1000: 63 blocks = 1008 token slots;
// decode after 32768 cached: L = 32769, 2049 blocks = 32784 slots; three sequences of 20:
// 3·2 blocks; --block_size 32 with L = 1000: 32 blocks = 1024 slots.
TEST(VllmLlama, CacheHeldIsWholeBlocks) {
    const std::string hw = "h100-sxm";
    EXPECT_EQ(on_device().total(l8, "kv_cache", prefill(1000), hw), str(Int(63) * 16 * 131072));
    EXPECT_EQ(on_device().total(l8, "kv_cache", decode(32768), hw), str(Int(2049) * 16 * 131072));
    EXPECT_EQ(on_device().total(l8, "kv_cache", prefill(20, 3), hw), str(Int(3) * 2 * 16 * 131072));
    Step b32 = prefill(1000);
    b32.runtime.emplace_back("block_size", 32);
    EXPECT_EQ(on_device().total(l8, "kv_cache", b32, hw), str(Int(32) * 32 * 131072));
}

// ------------------------------------------------------------------------ attention FLOPs

// FlashAttention's benchmark (benchmarks/benchmark_flash_attention.py L27-30): forward
// 4·b·s²·h·d, halved when causal. Prefill of 4096, per layer 4·1·4096²·32·128/2, 32 layers.
// With --fa_full_rectangle 1 the full 4·b·s²·h·d. A decode step at cache C: the query sees
// C + 1 keys: 2·heads·(C + 1)·(d + d) per layer.
TEST(VllmLlama, AttentionFlopsFollowFlashAttention) {
    const std::string fa = "vllm.flash_attn_varlen";
    Int s = 4096;
    EXPECT_EQ(vllm().leaves(l8, fa, "flops", prefill(4096)), str(32 * (4 * 1 * s * s * 32 * 128 / 2)));
    Step full = prefill(4096);
    full.runtime.emplace_back("fa_full_rectangle", 1);
    EXPECT_EQ(vllm().leaves(l8, fa, "flops", full), str(32 * (4 * 1 * s * s * 32 * 128)));
    Int C = 1000;
    EXPECT_EQ(vllm().leaves(l8, fa, "flops", decode(1000)), str(32 * (2 * Int(32) * (C + 1) * 256)));
    // A chunk of 10 tokens after 100 cached: queries see 101 .. 110 keys: 1055 pairs.
    Step chunk = step(1, 10, 100);
    EXPECT_EQ(vllm().leaves(l8, fa, "flops", chunk), str(32 * (2 * Int(32) * 1055 * 256)));
    // Reads: Q (32·128·2 B) and the 1001 keys' K and V (8 heads · 256 · 2 B) per layer.
    EXPECT_EQ(vllm().leaves(l8, fa, "read", decode(1000)), str(32 * (Int(32) * 128 * 2 + Int(8) * 1001 * 256 * 2)));
}

// ------------------------------------------------------------------------ Mistral's window

// Mistral-7B-v0.1 through llama.py with sliding_window 4096: window_size (4095, 0). A decode
// step at cache 8192 sees 4096 keys; before it, max(0, 8192 - 4096 + 1) = 4097 tokens are
// skipped, so floor(4097/16) = 256 blocks are freed of ceil(8193/16) = 513: 257 blocks held,
// at 131,072 B per token (32 layers · 2 · 8 · 128 · 2).
TEST(VllmMistral, SlidingWindowAttendsAndHoldsTheWindow) {
    const std::string fa = "vllm.flash_attn_varlen";
    EXPECT_EQ(vllm().leaves(mistral, fa, "flops", decode(8192)), str(32 * (2 * Int(32) * 4096 * 256)));
    EXPECT_EQ(vllm().leaves(mistral, fa, "read", decode(8192)), str(32 * (Int(32) * 128 * 2 + Int(8) * 4096 * 256 * 2)));
    EXPECT_EQ(on_device().total(mistral, "kv_cache", decode(8192), "h100-sxm"), str(Int(257) * 16 * 131072));
    // Inside the window nothing is freed: cache 1000 -> ceil(1001/16) = 63 blocks.
    EXPECT_EQ(on_device().total(mistral, "kv_cache", decode(1000), "h100-sxm"), str(Int(63) * 16 * 131072));
    // A prefill of 6000 (past the window): query p sees min(p + 1, 4096) keys:
    // 4096·4097/2 + (6000 - 4096)·4096 pairs per head.
    Int pairs = Int(4096) * 4097 / 2 + Int(6000 - 4096) * 4096;
    EXPECT_EQ(vllm().leaves(mistral, fa, "flops", prefill(6000)), str(32 * (2 * Int(32) * pairs * 256)));
}

}  // namespace
}  // namespace costi::models_test
