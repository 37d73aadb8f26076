// The matrix products of every shipped model, checked against 2·M·K·N summed over the GEMMs
// of its Hugging Face architecture.
//
// The GEMM lists below are written from the modules' __init__ / forward in transformers
// (q/k/v/o or fused qkv, the MLP, lm_head, MoE routers and experts, MLA projections), with
// the dimensions taken from each checkpoint's published config.json. They are compared with
// the sum, over the cost tree, of the FLOPs of the leaves FlopCounterMode counts as matrix
// products (F.linear, torch.matmul, torch.mm, torch.bmm, torch.addmm, torch.baddbmm), each
// multiplied by the counts on its path. On the default SDPA path the attention scores are
// not a GEMM leaf (F.scaled_dot_product_attention, checked separately); on the eager path
// the two score products count: batch·heads × (S×d×keys) and (S×keys×d_v).
//
// RoPE tables: inv_freq[d/2, 1] @ position_ids[1, S] is a matmul too. Its batch is 1 in a
// plain forward (position_ids [1, S]) and B under generate() ([B, S]), a modelling choice
// the families make differently; the test counts it only at batch 1, where both agree, and
// leaves the RotaryEmbedding subtree out of the walk otherwise.
#include <algorithm>
#include <cctype>
#include <functional>
#include <ostream>
#include <tuple>

#include "model_support.hpp"

using namespace costi::models_test;

namespace {

struct Gemm {
    const char* what;
    Int batch, M, K, N;
    Int count;  // calls per forward (layers)
};

Int flops_of(const std::vector<Gemm>& gemms) {
    Int sum = 0;
    for (const auto& g : gemms) sum += 2 * g.batch * g.M * g.K * g.N * g.count;
    return sum;
}

// What a case runs: batch B, S new tokens, C cached, lm_head rows kept per sequence.
struct Shape {
    Int B, S, C, kept;
    bool eager;
    bool rope;  // count the RoPE table matmul (batch 1 only, see the header)
};

// ---- families ------------------------------------------------------------------------------

// GPT2LMHeadModel: Conv1D c_attn H -> 3H, c_proj H -> H, mlp c_fc H -> 4H (n_inner absent),
// c_proj 4H -> H; lm_head H -> V (tied; FLOPs count all the same).
struct Gpt2 {
    Int H, L, h, V;
};

std::vector<Gemm> gemms(const Gpt2& c, const Shape& s) {
    Int M = s.B * s.S, d = c.H / c.h, kv = s.C + s.S;
    std::vector<Gemm> g{
        {"attn.c_attn", 1, M, c.H, 3 * c.H, c.L},
        {"attn.c_proj", 1, M, c.H, c.H, c.L},
        {"mlp.c_fc", 1, M, c.H, 4 * c.H, c.L},
        {"mlp.c_proj", 1, M, 4 * c.H, c.H, c.L},
        {"lm_head", 1, s.B * s.kept, c.H, c.V, 1},
    };
    if (s.eager) {
        g.push_back({"Q·Kᵀ", s.B * c.h, s.S, d, kv, c.L});
        g.push_back({"P·V", s.B * c.h, s.S, kv, d, c.L});
    }
    return g;
}

Int sdpa_flops(const Gpt2& c, const Shape& s) {
    Int d = c.H / c.h;
    return s.eager ? 0 : c.L * 2 * s.B * c.h * s.S * (s.C + s.S) * (d + d);
}

// Llama / Mistral / Qwen2 / Gemma 2 (q/k/v/o, gate/up/down) and Phi-3 (fused qkv_proj and
// gate_up_proj). `windowed` layers attend over min(C, W − 1) + S keys (the sliding-window
// cache keeps W − 1 past tokens), the others over C + S.
struct Decoder {
    Int H, I, L, h, kv, d, V;
    bool fused = false;
    Int W = 0;
    Int windowed = 0;
};

Int keys(const Decoder& c, const Shape& s, bool windowed) {
    return windowed ? std::min(s.C, c.W - 1) + s.S : s.C + s.S;
}

std::vector<Gemm> gemms(const Decoder& c, const Shape& s) {
    Int M = s.B * s.S;
    std::vector<Gemm> g;
    if (c.fused) {
        g.push_back({"self_attn.qkv_proj", 1, M, c.H, (c.h + 2 * c.kv) * c.d, c.L});
    } else {
        g.push_back({"self_attn.q_proj", 1, M, c.H, c.h * c.d, c.L});
        g.push_back({"self_attn.k_proj", 1, M, c.H, c.kv * c.d, c.L});
        g.push_back({"self_attn.v_proj", 1, M, c.H, c.kv * c.d, c.L});
    }
    g.push_back({"self_attn.o_proj", 1, M, c.h * c.d, c.H, c.L});
    if (c.fused) {
        g.push_back({"mlp.gate_up_proj", 1, M, c.H, 2 * c.I, c.L});
    } else {
        g.push_back({"mlp.gate_proj", 1, M, c.H, c.I, c.L});
        g.push_back({"mlp.up_proj", 1, M, c.H, c.I, c.L});
    }
    g.push_back({"mlp.down_proj", 1, M, c.I, c.H, c.L});
    g.push_back({"lm_head", 1, s.B * s.kept, c.H, c.V, 1});
    if (s.rope) g.push_back({"rotary inv_freq @ position_ids", 1, c.d / 2, 1, s.S, 1});
    if (s.eager) {
        for (bool w : {true, false}) {
            Int n = w ? c.windowed : c.L - c.windowed;
            Int kv = keys(c, s, w);
            g.push_back({"Q·Kᵀ", s.B * c.h, s.S, c.d, kv, n});
            g.push_back({"P·V", s.B * c.h, s.S, kv, c.d, n});
        }
    }
    return g;
}

Int sdpa_flops(const Decoder& c, const Shape& s) {
    if (s.eager) return 0;
    Int sum = 0;
    for (bool w : {true, false}) {
        Int n = w ? c.windowed : c.L - c.windowed;
        sum += n * 2 * s.B * c.h * s.S * keys(c, s, w) * (c.d + c.d);
    }
    return sum;
}

// MixtralForCausalLM: Llama-style attention; per layer the router gate H -> E and the E
// experts w1, w3 (H -> I) and w2 (I -> H), which together see T·k token rows.
struct Mixtral {
    Decoder attn;
    Int E, k;
};

std::vector<Gemm> gemms(const Mixtral& c, const Shape& s) {
    const Decoder& a = c.attn;
    Int T = s.B * s.S, kv = s.C + s.S;
    std::vector<Gemm> g{
        {"self_attn.q_proj", 1, T, a.H, a.h * a.d, a.L},
        {"self_attn.k_proj", 1, T, a.H, a.kv * a.d, a.L},
        {"self_attn.v_proj", 1, T, a.H, a.kv * a.d, a.L},
        {"self_attn.o_proj", 1, T, a.h * a.d, a.H, a.L},
        {"block_sparse_moe.gate", 1, T, a.H, c.E, a.L},
        {"experts.w1 (T·k rows)", 1, T * c.k, a.H, a.I, a.L},
        {"experts.w3 (T·k rows)", 1, T * c.k, a.H, a.I, a.L},
        {"experts.w2 (T·k rows)", 1, T * c.k, a.I, a.H, a.L},
        {"lm_head", 1, s.B * s.kept, a.H, a.V, 1},
    };
    if (s.rope) g.push_back({"rotary inv_freq @ position_ids", 1, a.d / 2, 1, s.S, 1});
    if (s.eager) {
        g.push_back({"Q·Kᵀ", s.B * a.h, s.S, a.d, kv, a.L});
        g.push_back({"P·V", s.B * a.h, s.S, kv, a.d, a.L});
    }
    return g;
}

Int sdpa_flops(const Mixtral& c, const Shape& s) {
    const Decoder& a = c.attn;
    return s.eager ? 0 : a.L * 2 * s.B * a.h * s.S * (s.C + s.S) * (a.d + a.d);
}

// DeepseekV3ForCausalLM: MLA (q_a_proj, q_b_proj, kv_a_proj_with_mqa, kv_b_proj, o_proj) in
// every layer; the first `dense` layers a SwiGLU MLP of width I, the others the fp32 router
// (H -> E), one shared expert of width I_moe and E routed experts of width I_moe that
// together see T·k token rows.
struct DeepSeek {
    Int H, L, dense, h, r_q, r_kv, d_nope, d_rope, d_v, I, I_moe, E, k, shared, V;
};

std::vector<Gemm> gemms(const DeepSeek& c, const Shape& s) {
    Int T = s.B * s.S, kv = s.C + s.S, d_qk = c.d_nope + c.d_rope, moe = c.L - c.dense;
    Int I_sh = c.I_moe * c.shared;
    std::vector<Gemm> g{
        {"self_attn.q_a_proj", 1, T, c.H, c.r_q, c.L},
        {"self_attn.q_b_proj", 1, T, c.r_q, c.h * d_qk, c.L},
        {"self_attn.kv_a_proj_with_mqa", 1, T, c.H, c.r_kv + c.d_rope, c.L},
        {"self_attn.kv_b_proj", 1, T, c.r_kv, c.h * (c.d_nope + c.d_v), c.L},
        {"self_attn.o_proj", 1, T, c.h * c.d_v, c.H, c.L},
        {"mlp.gate_proj (dense)", 1, T, c.H, c.I, c.dense},
        {"mlp.up_proj (dense)", 1, T, c.H, c.I, c.dense},
        {"mlp.down_proj (dense)", 1, T, c.I, c.H, c.dense},
        {"mlp.gate (router)", 1, T, c.H, c.E, moe},
        {"shared_experts.gate_proj", 1, T, c.H, I_sh, moe},
        {"shared_experts.up_proj", 1, T, c.H, I_sh, moe},
        {"shared_experts.down_proj", 1, T, I_sh, c.H, moe},
        {"experts.gate_proj (T·k rows)", 1, T * c.k, c.H, c.I_moe, moe},
        {"experts.up_proj (T·k rows)", 1, T * c.k, c.H, c.I_moe, moe},
        {"experts.down_proj (T·k rows)", 1, T * c.k, c.I_moe, c.H, moe},
        {"lm_head", 1, s.B * s.kept, c.H, c.V, 1},
    };
    if (s.rope) g.push_back({"rotary inv_freq @ position_ids", 1, c.d_rope / 2, 1, s.S, 1});
    if (s.eager) {
        g.push_back({"Q·Kᵀ", s.B * c.h, s.S, d_qk, kv, c.L});
        g.push_back({"P·V", s.B * c.h, s.S, kv, c.d_v, c.L});
    }
    return g;
}

Int sdpa_flops(const DeepSeek& c, const Shape& s) {
    return s.eager ? 0 : c.L * 2 * s.B * c.h * s.S * (s.C + s.S) * (c.d_nope + c.d_rope + c.d_v);
}

// ---- the checkpoints (values as their config.json files give them) --------------------------

const Gpt2 gpt2{768, 12, 12, 50257};
const Decoder llama_2_7b{4096, 11008, 32, 32, 32, 4096 / 32, 32000};
const Decoder llama_2_13b{5120, 13824, 40, 40, 40, 5120 / 40, 32000};
const Decoder llama_2_70b{8192, 28672, 80, 64, 8, 8192 / 64, 32000};
const Decoder llama_3_8b{4096, 14336, 32, 32, 8, 4096 / 32, 128256};
const Decoder llama_3_70b{8192, 28672, 80, 64, 8, 8192 / 64, 128256};
const Decoder llama_3_1_405b{16384, 53248, 126, 128, 8, 128, 128256};  // head_dim 128 in the config
// sliding_window 4096 applies to every layer
const Decoder mistral_7b{4096, 14336, 32, 32, 8, 4096 / 32, 32000, false, 4096, 32};
const Decoder qwen2_7b{3584, 18944, 28, 28, 4, 3584 / 28, 152064};  // use_sliding_window false
const Decoder qwen2_5_72b{8192, 29568, 80, 64, 8, 8192 / 64, 152064};
const Decoder phi_3_mini{3072, 8192, 32, 32, 32, 3072 / 32, 32064, true};
// head_dim 256 (not 3584 / 16 = 224); layer_types alternate sliding (even) / full: 21 sliding
const Decoder gemma_2_9b{3584, 14336, 42, 16, 8, 256, 256000, false, 4096, 21};
const Mixtral mixtral_8x7b{{4096, 14336, 32, 32, 8, 4096 / 32, 32000}, 8, 2};
const DeepSeek deepseek_v3{7168, 61, 3, 128, 1536, 512, 128, 64, 128, 18432, 2048, 256, 8, 1, 129280};

struct ModelCase {
    const char* file;
    Int max_positions;  // config.json max_position_embeddings (GPT-2: n_positions)
    std::function<Int(const Shape&)> gemm;
    std::function<Int(const Shape&)> sdpa;
};

template <class C>
ModelCase model(const char* file, Int max_positions, const C& c) {
    return {file, max_positions, [c](const Shape& s) { return flops_of(gemms(c, s)); },
            [c](const Shape& s) { return sdpa_flops(c, s); }};
}

const std::vector<ModelCase>& models() {
    static const std::vector<ModelCase> all{
        model("gpt2", 1024, gpt2),
        model("llama-2-7b", 4096, llama_2_7b),
        model("llama-2-13b", 4096, llama_2_13b),
        model("llama-2-70b", 4096, llama_2_70b),
        model("llama-3-8b", 8192, llama_3_8b),
        model("llama-3-70b", 8192, llama_3_70b),
        model("llama-3.1-405b", 131072, llama_3_1_405b),
        model("mistral-7b-v0.1", 32768, mistral_7b),
        model("mixtral-8x7b-v0.1", 32768, mixtral_8x7b),
        model("qwen2-7b", 131072, qwen2_7b),
        model("qwen2.5-72b", 131072, qwen2_5_72b),
        model("gemma-2-9b", 8192, gemma_2_9b),
        model("phi-3-mini-4k-instruct", 4096, phi_3_mini),
        model("deepseek-v3", 163840, deepseek_v3),
    };
    return all;
}

// ---- the steps ---------------------------------------------------------------------------------

struct StepCase {
    const char* name;
    Int B, S, C, logits_to_keep;
    bool eager;
};

const StepCase steps[] = {
    {"SdpaPrefill", 1, 1000, 0, 0, false},
    {"SdpaDecodeBatch4", 4, 1, 300, 0, false},
    {"SdpaChunkAfterCache", 1, 9, 20, 0, false},
    {"EagerChunkBatch2KeepLast", 2, 7, 50, 1, true},
    // past the 4096-token window: Mistral's and Gemma 2's sliding layers see 4095 + S keys
    // (models with a shorter context run at their last positions instead: see within())
    {"EagerPastTheWindow", 1, 4, 5000, 0, true},
};

// The case moved inside the model's context: cache_len + seq_len <= max_positions.
StepCase within(StepCase c, const ModelCase& m) {
    c.C = std::min(c.C, m.max_positions - c.S);
    return c;
}

Shape shape_of(const StepCase& c) {
    Int kept = c.logits_to_keep == 0 ? c.S : std::min(c.logits_to_keep, c.S);
    return {c.B, c.S, c.C, kept, c.eager, c.B == 1};
}

Step step_of(const StepCase& c) {
    Step s;
    s.batch = static_cast<std::int64_t>(c.B);
    s.seq = static_cast<std::int64_t>(c.S);
    s.cache = static_cast<std::int64_t>(c.C);
    s.eager = c.eager;
    s.runtime.emplace_back("logits_to_keep", static_cast<std::int64_t>(c.logits_to_keep));
    return s;
}

bool is_rope_table(const CostNode& n) { return kernel_ends_with(n, "RotaryEmbedding"); }

void PrintTo(const ModelCase& m, std::ostream* os) { *os << m.file; }
void PrintTo(const StepCase& c, std::ostream* os) {
    *os << c.name << " (batch " << static_cast<long long>(c.B) << ", seq_len " << static_cast<long long>(c.S)
        << ", cache_len " << static_cast<long long>(c.C) << ", logits_to_keep "
        << static_cast<long long>(c.logits_to_keep) << (c.eager ? ", eager)" : ", sdpa)");
}

class GemmFlops : public ::testing::TestWithParam<std::tuple<ModelCase, StepCase>> {};

TEST_P(GemmFlops, MatmulLeavesSumTo2MKNOverTheArchitecture) {
    const auto& m = std::get<0>(GetParam());
    const StepCase c = within(std::get<1>(GetParam()), m);
    Shape s = shape_of(c);
    auto loaded = Loaded::shipped(m.file);
    CostNode root = loaded->run(step_of(c));
    auto flops = loaded->metric("flops");
    std::function<bool(const CostNode&)> skip = nullptr;
    if (!s.rope) skip = is_rope_table;
    EXPECT_EQ(leaf_sum(root, flops, is_gemm, skip).to_string(), str(m.gemm(s)));
}

TEST_P(GemmFlops, SdpaLeavesCountEveryQueryKeyPair) {
    const auto& m = std::get<0>(GetParam());
    const StepCase c = within(std::get<1>(GetParam()), m);
    Shape s = shape_of(c);
    auto loaded = Loaded::shipped(m.file);
    CostNode root = loaded->run(step_of(c));
    auto sdpa = [](const CostNode& n) { return kernel_is(n, "F.scaled_dot_product_attention"); };
    EXPECT_EQ(leaf_sum(root, loaded->metric("flops"), sdpa).to_string(), str(m.sdpa(s)));
}

std::string case_name(const ::testing::TestParamInfo<std::tuple<ModelCase, StepCase>>& info) {
    std::string n;
    for (const char* p = std::get<0>(info.param).file; *p != '\0'; ++p)
        n += std::isalnum(static_cast<unsigned char>(*p)) ? *p : '_';
    return n + "_" + std::get<1>(info.param).name;
}

INSTANTIATE_TEST_SUITE_P(Shipped, GemmFlops,
                         ::testing::Combine(::testing::ValuesIn(models()), ::testing::ValuesIn(steps)), case_name);

// The walk itself: summing every leaf with the counts on its path gives the root's totals
// for flops, read and write. (Composite kernels assign only params / active_params of their
// own, e.g. an RMSNorm weight or a tied lm_head; a composite assigning FLOPs would be missed
// by the GEMM sum above, so this also guards that.)
class GemmFlopsWalk : public ::testing::TestWithParam<ModelCase> {};

TEST_P(GemmFlopsWalk, LeafSumEqualsTheRootTotal) {
    auto loaded = Loaded::shipped(GetParam().file);
    for (bool eager : {false, true}) {
        Step step;
        step.batch = 2;
        step.seq = 5;
        step.cache = 3;
        step.eager = eager;
        CostNode root = loaded->run(step);
        for (const char* metric : {"flops", "read", "write"}) {
            auto m = loaded->metric(metric);
            EXPECT_EQ(leaf_sum(root, m, [](const CostNode&) { return true; }).to_string(),
                      (root.count * root.cost.at(m)).to_string())
                << metric << (eager ? " eager" : " sdpa");
        }
    }
}

INSTANTIATE_TEST_SUITE_P(Shipped, GemmFlopsWalk, ::testing::ValuesIn(models()),
                         [](const ::testing::TestParamInfo<ModelCase>& info) {
                             std::string n;
                             for (const char* p = info.param.file; *p != '\0'; ++p)
                                 n += std::isalnum(static_cast<unsigned char>(*p)) ? *p : '_';
                             return n;
                         });

// Cross-check with a published figure: Llama-2-7B, batch 1, a 1024-token prefill. The seven
// linear layers of ONE decoder layer do 2·1024·(4·4096·4096 + 3·4096·11008) =
// 414,464,344,064 FLOPs, the per-layer linear figure LLM-Viewer and llm-analysis both give.
TEST(GemmFlopsPublished, Llama2_7bOneDecoderLayerAt1024Tokens) {
    auto loaded = Loaded::shipped("llama-2-7b");
    Step step;
    step.seq = 1024;
    CostNode root = loaded->run(step);
    Found layers = find_path(root, {"model", "layers"});
    ASSERT_NE(layers.node, nullptr);
    EXPECT_EQ(layers.calls.to_string(), "32");
    EXPECT_EQ(leaf_sum_per_call(*layers.node, loaded->metric("flops"), is_gemm).to_string(), "414464344064");
}

}  // namespace
