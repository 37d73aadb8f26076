// New families of issue 13 (branch fam3): Gemma 3 text (kernels/gemma3.cost, google/gemma-3-1b-it).
//
// Every expected number is derived by hand below from the checkpoint's config.json (the module
// shapes of modeling_gemma3.py @ 9ee3f431) and, for the parameters, compared with the published
// figure; none is pasted from costi's output.
#include <string>

#include "model_support.hpp"

using namespace costi::models_test;

namespace {

std::string config(const std::string& name) { return configs_dir + "/" + name; }

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

bool is_linear(const CostNode& n) { return kernel_is(n, "F.linear"); }

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
    auto model = Loaded::from_config_json(config("gemma-3-1b-it.json"));
    CostNode root = model->run(Step{});
    ASSERT_NE(root.kernel, nullptr);
    EXPECT_EQ(root.kernel->name, "transformers.models.gemma3.modeling_gemma3.Gemma3ForCausalLM");
    EXPECT_EQ(model->total("params"), str(g3::params));
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
    auto model = Loaded::shipped("gemma-3-1b-it");
    Step decode;
    decode.cache = 100;
    Step capped = decode;
    capped.config.emplace_back("final_logit_softcapping", 30);
    Number diff = Number(0);
    {
        auto flops = model->metric("flops");
        CostNode a = model->run(capped);
        CostNode b = model->run(decode);
        diff = a.count * a.cost.at(flops) - b.count * b.cost.at(flops);
    }
    EXPECT_EQ(diff.to_string(), str(3 * g3::V));
}

TEST(FamilyGemma3, PreconditionsNameTheKey) {
    auto model = Loaded::shipped("gemma-3-1b-it");
    struct Case {
        const char* key;
        std::int64_t value;
        const char* message;
    };
    const Case cases[] = {
        {"num_key_value_heads", 3, "config.num_key_value_heads must divide config.num_attention_heads"},
        {"head_dim", 255, "config.head_dim must be even"},
        {"sliding_window_pattern", 0, "config.sliding_window_pattern must be a positive integer"},
        {"use_bidirectional_attention", 1, "config.use_bidirectional_attention must be false"},
        {"final_logit_softcapping", -1, "config.final_logit_softcapping must be a non-negative number"},
    };
    for (const auto& c : cases) {
        Step s;
        s.config.emplace_back(c.key, c.value);
        Failure f = run_failing(*model, s);
        EXPECT_EQ(f.code, "E0207") << c.key << ": " << f.message;
        EXPECT_NE(f.message.find(c.message), std::string::npos) << c.key << ": " << f.message;
    }
}

}  // namespace
