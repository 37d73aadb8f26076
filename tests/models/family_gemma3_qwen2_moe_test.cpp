// New families of issue 13: Gemma 3 text (kernels/gemma3.cost, google/gemma-3-1b-it)
// and Qwen2-MoE (kernels/qwen2_moe.cost, Qwen/Qwen1.5-MoE-A2.7B).
//
// Every expected number is derived by hand below from the checkpoint's config.json (the module
// shapes of modeling_gemma3.py @ 9ee3f431, modeling_qwen2_moe.py @ 5dd4a635) and, for the parameters, compared with the published
// figure; none is pasted from costi's output.
#include <string>
#include <vector>

#include "model_support.hpp"

using namespace costi::models_test;
using namespace costi::models_test::family;

namespace {

// Σ over the nodes below `node` (itself included) that `take` accepts of (product of the counts
// on the path) × the node's one-call cost in `metric`; a taken node's subtree is not entered.
Number node_sum(const CostNode& node, std::uint32_t metric, const std::function<bool(const CostNode&)>& take,
                const Number& factor = Number(1)) {
    Number f = factor * node.count;
    if (take(node)) return f * node.cost.at(metric);
    Number sum(0);
    for (const auto& c : node.children) sum += node_sum(c, metric, take, f);
    return sum;
}

// What a run that must fail reports: the first diagnostic's code and message.
struct Failure {
    std::string code = "no error";
    std::string message;
};

Failure run_failing(const Loaded& model, const Step& step) {
    Failure f;
    try {
        model.run(step);
    } catch (const costi::interp::CostiError& e) {
        f.code = e.diagnostics().front().code;
        f.message = e.diagnostics().front().message;
    }
    return f;
}

// `costi run --config FILE` picks the entry kernel from architectures[0]; the model it makes has
// the shipped model's parameters.
void expect_config_json_model(const std::string& file, const std::string& entry, Int params, Int active) {
    auto model = Loaded::from_config_json(config(file));
    CostNode root = model->run(Step{});
    ASSERT_NE(root.kernel, nullptr);
    EXPECT_EQ(root.kernel->name, entry);
    EXPECT_EQ(model->total("params"), str(params));
    EXPECT_EQ(model->total("active_params"), str(active));
}

// The FLOPs one decode step (batch 1, after `cache` tokens) gains when config `key` is `value`.
std::string flops_added_by(const std::string& model_file, const char* key, std::int64_t value, std::int64_t cache) {
    auto model = Loaded::shipped(model_file);
    Step decode;
    decode.cache = cache;
    Step changed = decode;
    changed.config.emplace_back(key, value);
    auto flops = model->metric("flops");
    CostNode a = model->run(changed);
    CostNode b = model->run(decode);
    return (a.count * a.cost.at(flops) - b.count * b.cost.at(flops)).to_string();
}

// A config key set to a value the family cannot run: the run stops with E0207 and a message
// naming the key.
struct Refusal {
    const char* key;
    std::int64_t value;
    const char* message;
};

void expect_refusals(const std::string& model_file, const std::vector<Refusal>& cases) {
    auto model = Loaded::shipped(model_file);
    for (const auto& c : cases) {
        Step s;
        s.config.emplace_back(c.key, c.value);
        Failure f = run_failing(*model, s);
        EXPECT_EQ(f.code, "E0207") << c.key << ": " << f.message;
        EXPECT_NE(f.message.find(c.message), std::string::npos) << c.key << ": " << f.message;
    }
}

// ---- Gemma 3: google/gemma-3-1b-it ---------------------------------------------------------
//
// config.json: H 1152, I 6912, L 26, 4 heads, 1 KV head, head_dim 256 (H/heads would be 288),
// V 262144, sliding_window 512, sliding_window_pattern 6, tie_word_embeddings absent → True
// (Gemma3TextConfig), no biases (attention_bias false), soft-caps null.
namespace g3 {
constexpr Int H = 1152, I = 6912, L = 26, heads = 4, kv = 1, d = 256, V = 262144, W = 512;
constexpr Int n_full = L / 6;          // layers 5, 11, 17, 23: (i + 1) % 6 == 0
constexpr Int n_sliding = L - n_full;  // 22
// Weight elements of one decoder layer's linears (K·N each):
//   q 1152·(4·256) = 1,179,648; k, v 1152·256 = 294,912 each; o (4·256)·1152 = 1,179,648;
//   gate, up 1152·6912 = 7,962,624 each; down 6912·1152 = 7,962,624 → 26,836,992
constexpr Int layer_linear = H * heads * d + 2 * H * kv * d + heads * d * H + 3 * H * I;
// Per layer: four RMSNorms of H and the QK-norms of head_dim (q_norm, k_norm): 4·1152 + 2·256 = 5,120
constexpr Int layer_norms = 4 * H + 2 * d;
// embed_tokens 262,144·1152 = 301,989,888; 26 layers · (26,836,992 + 5,120) = 697,894,912;
// final norm 1,152; lm_head tied (counted by the embedding): 999,885,952.
constexpr Int params = V * H + L * (layer_linear + layer_norms) + H;
// The GEMMs one token goes through: every layer's linears and the lm_head (run also when tied):
// 26·26,836,992 + 1152·262,144 = 697,761,792 + 301,989,888 = 999,751,680.
constexpr Int linear_per_token = L * layer_linear + H * V;
}  // namespace g3

TEST(FamilyGemma3, ParamsAreTheHandCountAndThePublishedFigure) {
    static_assert(g3::layer_linear == 26836992);
    static_assert(g3::params == 999885952);
    auto model = Loaded::shipped("gemma-3-1b-it");
    EXPECT_EQ(model->total("params"), str(g3::params));
    EXPECT_EQ(model->total("active_params"), str(g3::params));  // dense
    // Published (Gemma 3 technical report, https://arxiv.org/abs/2503.19786, Table 1: 1B =
    // 302M embedding + 698M non-embedding parameters): the embedding 301,989,888 ≈ 302M and the
    // rest 697,896,064 ≈ 698M, to the report's rounding; together "1B" (999,885,952).
    EXPECT_EQ(str(g3::V * g3::H), "301989888");
    EXPECT_EQ(str(g3::params - g3::V * g3::H), "697896064");
}

TEST(FamilyGemma3, ConfigJsonSelectsTheFamily) {
    expect_config_json_model("gemma-3-1b-it.json", "transformers.models.gemma3.modeling_gemma3.Gemma3ForCausalLM",
                             g3::params, g3::params);
}

TEST(FamilyGemma3, FivePatternOfSlidingAndFullLayers) {
    auto model = Loaded::shipped("gemma-3-1b-it");
    CostNode root = model->run(Step{});
    EXPECT_EQ(find_path(root, {"model", "layers_sliding"}).calls.to_string(), str(g3::n_sliding));
    EXPECT_EQ(find_path(root, {"model", "layers_full"}).calls.to_string(), str(g3::n_full));
}

// Σ 2·M·K·N over the linear layers: 2 · tokens · 999,751,680 (logits_to_keep 0: the lm_head
// runs on every position).
TEST(FamilyGemma3, LinearFlopsPrefillAndDecode) {
    auto model = Loaded::shipped("gemma-3-1b-it");
    auto flops = model->metric("flops");
    Step prefill;
    prefill.seq = 128;
    // 2·128·999,751,680 = 255,936,430,080
    EXPECT_EQ(leaf_sum(model->run(prefill), flops, is_linear).to_string(), str(2 * 128 * g3::linear_per_token));
    EXPECT_EQ(str(2 * 128 * g3::linear_per_token), "255936430080");
    Step decode;
    decode.cache = 4096;
    // 2·1·999,751,680 = 1,999,503,360
    EXPECT_EQ(leaf_sum(model->run(decode), flops, is_linear).to_string(), str(2 * g3::linear_per_token));
    // All matrix products of the sdpa path: the linears plus the two RoPE tables (global and
    // local), each [B, d/2, 1] @ [B, 1, S]: 2·128·1·S FLOPs.
    EXPECT_EQ(leaf_sum(model->run(prefill), flops, is_gemm).to_string(),
              str(2 * 128 * g3::linear_per_token + 2 * (2 * (g3::d / 2) * 128)));
}

// DynamicCache bytes written by one decode step at cache_len 4096 (bf16): the full layers'
// DynamicLayer re-concatenates all 4097 tokens, the sliding layers' DynamicSlidingWindowLayer
// its W − 1 = 511 kept tokens plus the new one:
//   full:    4 · 2 (K, V) · 1 KV head · 4097 · 256 · 2 B = 16,781,312
//   sliding: 22 · 2 · 1 · 512 · 256 · 2 B                = 11,534,336   → 28,315,648
TEST(FamilyGemma3, KvCacheBytesOfADecodeStep) {
    auto model = Loaded::shipped("gemma-3-1b-it");
    Step decode;
    decode.cache = 4096;
    CostNode root = model->run(decode);
    auto write = model->metric("write");
    Number cache = node_sum(root, write, [](const CostNode& n) {
        return kernel_is(n, "transformers.cache_utils.DynamicLayer.update") ||
               kernel_is(n, "transformers.cache_utils.DynamicSlidingWindowLayer.update");
    });
    constexpr Int full = g3::n_full * 2 * g3::kv * (4096 + 1) * g3::d * 2;
    constexpr Int sliding = g3::n_sliding * 2 * g3::kv * ((g3::W - 1) + 1) * g3::d * 2;
    static_assert(full + sliding == 28315648);
    EXPECT_EQ(cache.to_string(), str(full + sliding));
}

// final_logit_softcapping is null in the checkpoint (no soft-cap); set, it adds three
// element-wise kernels (/ cap, tanh, * cap) over the B·S·V logits: 3·262,144 FLOPs at decode.
TEST(FamilyGemma3, FinalSoftCapOnlyWhenSet) {
    EXPECT_EQ(flops_added_by("gemma-3-1b-it", "final_logit_softcapping", 30, 100), str(3 * g3::V));
}

TEST(FamilyGemma3, PreconditionsNameTheKey) {
    expect_refusals("gemma-3-1b-it", {
        {"num_key_value_heads", 3, "config.num_key_value_heads must divide config.num_attention_heads"},
        {"head_dim", 255, "config.head_dim must be even"},
        {"sliding_window_pattern", 0, "config.sliding_window_pattern must be a positive integer"},
        {"use_bidirectional_attention", 1, "config.use_bidirectional_attention must be false"},
        {"final_logit_softcapping", -1, "config.final_logit_softcapping must be a non-negative number"},
    });
}

// ---- Qwen2-MoE: Qwen/Qwen1.5-MoE-A2.7B -------------------------------------------------------
//
// config.json: H 2048, 24 layers, 16 heads = 16 KV heads (d = 2048/16 = 128), V 151936, untied;
// 60 experts of width 1408, top-4, norm_topk_prob false; a shared expert of width 5632 with a
// [2048 -> 1] sigmoid gate; decoder_sparse_step 1 (every layer sparse); q/k/v with biases
// (Qwen2MoeAttention: bias=True), o_proj without.
namespace q2 {
constexpr Int H = 2048, V = 151936, L = 24, heads = 16, kv = 16, d = 128, E = 60, k = 4, I_moe = 1408,
              I_shared = 5632, I_dense = 5632;
// q 2048·2048 + 2048 = 4,196,352; k, v the same; o 2048·2048 = 4,194,304 → 16,783,360
constexpr Int attention = H * heads * d + heads * d + 2 * (H * kv * d + kv * d) + heads * d * H;
constexpr Int expert = 3 * H * I_moe;           // 8,650,752
constexpr Int shared = 3 * H * I_shared + H;    // 34,603,008 + the gate's 2,048
constexpr Int router = H * E;                   // 122,880
constexpr Int norms = 2 * H;                    // 4,096
// sparse layer: 16,783,360 + 122,880 + 60·8,650,752 + 34,605,056 + 4,096 = 570,560,512
constexpr Int sparse_layer = attention + router + E * expert + shared + norms;
// embed_tokens and lm_head 151,936·2048 = 311,164,928 each, final norm 2,048
constexpr Int outer = 2 * V * H + H;
constexpr Int params = L * sparse_layer + outer;  // 14,315,784,192
// active: 4 of 60 experts: 16,783,360 + 122,880 + 4·8,650,752 + 34,605,056 + 4,096 = 86,118,400
constexpr Int active = L * (attention + router + k * expert + shared + norms) + outer;  // 2,689,173,504
// GEMM weights one token goes through (K·N, no biases): q, k, v, o 4·2048·2048; router; 4 experts;
// the shared expert and its gate: 86,108,160 per layer; 24 layers + lm_head 311,164,928
constexpr Int linear_per_token = L * (4 * H * H + H * E + k * expert + 3 * H * I_shared + H) + H * V;
}  // namespace q2

TEST(FamilyQwen2Moe, ParamsAndActiveParamsAreTheHandCountAndThePublishedFigures) {
    static_assert(q2::attention == 16783360);
    static_assert(q2::sparse_layer == 570560512);
    static_assert(q2::params == 14315784192);
    static_assert(q2::active == 2689173504);
    auto model = Loaded::shipped("qwen1.5-moe-a2.7b");
    EXPECT_EQ(model->total("params"), str(q2::params));
    EXPECT_EQ(model->total("active_params"), str(q2::active));
    // Published (model card, https://huggingface.co/Qwen/Qwen1.5-MoE-A2.7B: "14.3B parameters in
    // total and 2.7B activated parameters during runtime"): 14,315,784,192 ≈ 14.3B and
    // 2,689,173,504 ≈ 2.7B; without the embedding and lm_head the activated count is
    // 2,066,843,648 ≈ 2.0B, the non-embedding figure of the Qwen1.5-MoE announcement.
    EXPECT_EQ(str(q2::active - 2 * q2::V * q2::H), "2066843648");
}

TEST(FamilyQwen2Moe, ConfigJsonSelectsTheFamily) {
    expect_config_json_model("qwen1.5-moe-a2.7b.json",
                             "transformers.models.qwen2_moe.modeling_qwen2_moe.Qwen2MoeForCausalLM", q2::params,
                             q2::active);
}

// Σ 2·M·K·N over the linear layers: the experts see T·k rows in all (T·k/E each), so the
// FLOPs are those of k experts per token: 2 · tokens · 2,377,760,768.
TEST(FamilyQwen2Moe, LinearFlopsPrefillAndDecode) {
    static_assert(q2::linear_per_token == 2377760768);
    auto model = Loaded::shipped("qwen1.5-moe-a2.7b");
    auto flops = model->metric("flops");
    Step prefill;
    prefill.seq = 64;
    EXPECT_EQ(leaf_sum(model->run(prefill), flops, is_linear).to_string(), str(2 * 64 * q2::linear_per_token));
    Step decode;
    decode.cache = 4096;
    EXPECT_EQ(leaf_sum(model->run(decode), flops, is_linear).to_string(), str(2 * q2::linear_per_token));
}

// DynamicCache bytes written by one decode step at cache_len 4096 (bf16): every layer
// re-concatenates 4097 tokens of K and V: 24 · 2 · 16 · 4097 · 128 · 2 B = 805,502,976.
TEST(FamilyQwen2Moe, KvCacheBytesOfADecodeStep) {
    auto model = Loaded::shipped("qwen1.5-moe-a2.7b");
    Step decode;
    decode.cache = 4096;
    CostNode root = model->run(decode);
    Number cache = node_sum(root, model->metric("write"), [](const CostNode& n) {
        return kernel_is(n, "transformers.cache_utils.DynamicLayer.update");
    });
    constexpr Int expected = q2::L * 2 * q2::kv * (4096 + 1) * q2::d * 2;
    static_assert(expected == 805502976);
    EXPECT_EQ(cache.to_string(), str(expected));
}

// decoder_sparse_step 2: layers 1, 3, …, 23 sparse, the other 12 dense MLPs of intermediate_size:
// dense layer 16,783,360 + 3·2048·5632 + 4,096 = 51,390,464;
// 12·(570,560,512 + 51,390,464) + 622,331,904 = 8,085,743,616.
TEST(FamilyQwen2Moe, DecoderSparseStepMakesDenseLayers) {
    auto model = Loaded::shipped("qwen1.5-moe-a2.7b");
    Step s;
    s.config.emplace_back("decoder_sparse_step", 2);
    constexpr Int dense_layer = q2::attention + 3 * q2::H * q2::I_dense + q2::norms;
    static_assert(dense_layer == 51390464);
    EXPECT_EQ(model->total("params", s), str(12 * (q2::sparse_layer + dense_layer) + q2::outer));
    EXPECT_EQ(str(12 * (q2::sparse_layer + dense_layer) + q2::outer), "8085743616");
    // num_experts 0 (Qwen2MoeConfig allows it, L677): every layer dense:
    // 24·51,390,464 + 622,331,904 = 1,855,703,040, and active = params.
    Step dense;
    dense.config.emplace_back("num_experts", 0);
    EXPECT_EQ(model->total("params", dense), str(q2::L * dense_layer + q2::outer));
    EXPECT_EQ(model->total("active_params", dense), "1855703040");
}

// norm_topk_prob (false in the checkpoint) adds the renormalisation: a sum and a divide over the
// T·k routing weights per sparse layer: at decode (T = 1) 24 · 2 · 4 = 192 FLOPs.
TEST(FamilyQwen2Moe, NormTopkProbAddsTheRenormalisation) {
    EXPECT_EQ(flops_added_by("qwen1.5-moe-a2.7b", "norm_topk_prob", 1, 10), str(q2::L * 2 * q2::k));
}

TEST(FamilyQwen2Moe, PreconditionsNameTheKey) {
    expect_refusals("qwen1.5-moe-a2.7b", {
        {"num_experts_per_tok", 61, "config.num_experts_per_tok must not exceed config.num_experts"},
        {"num_key_value_heads", 3, "config.num_key_value_heads must divide config.num_attention_heads"},
        {"head_dim", 64, "config.head_dim must equal hidden_size / num_attention_heads"},
        {"decoder_sparse_step", 0, "config.decoder_sparse_step must be a positive integer"},
        {"norm_topk_prob", 2, "config.norm_topk_prob must be true or false"},
        {"mlp_only_layers.0", 3, "config.mlp_only_layers must be empty"},
    });
}

}  // namespace
