// Issue 13: the PhiMoE family (kernels/phimoe.cost, transformers' modeling_phimoe.py) and its
// shipped checkpoint microsoft/Phi-3.5-MoE-instruct (models/phi-3.5-moe-instruct.cost).
//
// Every expected value is derived by hand from the checkpoint's config values (the arithmetic
// is in the comments, and redone here with 128-bit integers from the module shapes of
// modeling_phimoe.py), never taken from costi's output; the parameter counts are compared with
// the model card's published figures (41.9B total, 6.6B active).
#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "interpreter/evaluator.hpp"
#include "model_support.hpp"

using namespace costi::models_test;

namespace {

std::string config(const std::string& name) { return configs_dir + "/" + name; }

bool is_linear(const CostNode& n) { return kernel_is(n, "F.linear"); }

// microsoft/Phi-3.5-MoE-instruct: H 4096, L 32, 32 query heads, 8 KV heads, d = 4096/32 = 128,
// 16 experts of width 6400, top-2 (sparsemixer), router 4096 → 16 without bias, V 32064,
// untied, attention_bias and lm_head_bias true, LayerNorm (weight + bias) for every norm.
const Int H = 4096, L = 32, h = 32, kv = 8, d = 128, E = 16, k = 2, I = 6400, V = 32064;
// q_proj H·h·d + h·d, k_proj and v_proj H·kv·d + kv·d, o_proj h·d·H + H (bias=attention_bias)
const Int attn_w = H * h * d + 2 * H * kv * d + h * d * H;  // 16,777,216 + 2·4,194,304 + 16,777,216 = 41,943,040
const Int attn_b = h * d + 2 * kv * d + H;                  // 4,096 + 2,048 + 4,096 = 10,240
const Int norms = 2 * 2 * H;                                // two nn.LayerNorm, weight + bias: 16,384
const Int router = H * E;                                   // 65,536
const Int expert = 3 * H * I;                               // w1, w3, w2: 78,643,200
const Int dense = attn_w + attn_b + norms + router;         // everything of a layer but the experts: 42,035,200
const Int embed = V * H;                                    // 131,334,144
const Int head = V * H + V;                                 // lm_head with its bias: 131,366,208
const Int final_norm = 2 * H;                               // 8,192
const Int params = embed + L * (dense + E * expert) + final_norm + head;
const Int active = embed + L * (dense + k * expert) + final_norm + head;
// GEMM K·N per token: q, k, v, o, router, k experts' w1/w3/w2, lm_head.
const Int linear_kn = L * (attn_w + router + k * expert) + H * V;

// ---- exact parameters against the published figures ----------------------------------------

// Per layer 42,035,200 + 16·78,643,200 = 1,300,326,400; 32 layers 41,610,444,800;
// + 131,334,144 + 8,192 + 131,366,208 = 41,873,153,344 ≈ 41.9B.
// Active: per layer 42,035,200 + 2·78,643,200 = 199,321,600; 32 layers 6,378,291,200;
// + 262,708,544 = 6,640,999,744 ≈ 6.6B.
TEST(FamilyPhimoeParams, ExactAndPublished) {
    EXPECT_EQ(str(dense), "42035200");
    EXPECT_EQ(str(params), "41873153344");
    EXPECT_EQ(str(active), "6640999744");
    EXPECT_EQ((params + 50'000'000) / 100'000'000, 419);  // 41.9 B
    EXPECT_EQ((active + 50'000'000) / 100'000'000, 66);   // 6.6 B
    auto model = Loaded::shipped("phi-3.5-moe-instruct");
    EXPECT_EQ(model->total("params"), str(params));
    EXPECT_EQ(model->total("active_params"), str(active));
}

// The biases are in: without attention_bias and lm_head_bias, 32·10,240 + 32,064 fewer.
TEST(FamilyPhimoeParams, BiasesFollowTheConfig) {
    auto model = Loaded::shipped("phi-3.5-moe-instruct");
    Step no_bias;
    no_bias.config = {{"attention_bias", 0}, {"lm_head_bias", 0}};
    EXPECT_EQ(model->total("params", no_bias), str(params - L * attn_b - V));
    EXPECT_EQ(str(params - L * attn_b - V), "41872793600");
}

// ---- GEMM FLOPs: prefill and decode --------------------------------------------------------

std::string linear_flops(const Loaded& model, std::int64_t batch, std::int64_t seq, std::int64_t cache,
                         std::int64_t logits_to_keep = 0) {
    Step s;
    s.batch = batch;
    s.seq = seq;
    s.cache = cache;
    s.runtime.emplace_back("logits_to_keep", logits_to_keep);
    return leaf_sum(model.run(s), model.metric("flops"), is_linear).to_string();
}

// linear_kn = 32·(41,943,040 + 65,536 + 157,286,400) + 131,334,144 = 6,508,773,376.
// Prefill of 4096 tokens: 2·4096·6,508,773,376 = 53,319,871,496,192; decode 13,017,546,752.
TEST(FamilyPhimoeGemm, PrefillAndDecode) {
    auto model = Loaded::shipped("phi-3.5-moe-instruct");
    EXPECT_EQ(str(linear_kn), "6508773376");
    EXPECT_EQ(linear_flops(*model, 1, 4096, 0), "53319871496192");
    EXPECT_EQ(str(2 * 4096 * linear_kn), "53319871496192");
    EXPECT_EQ(linear_flops(*model, 1, 1, 4096), str(2 * linear_kn));
    EXPECT_EQ(linear_flops(*model, 3, 5, 7), str(2 * 15 * linear_kn));
    // lm_head on 1 of 5 new tokens per sequence
    EXPECT_EQ(linear_flops(*model, 3, 5, 7, 1), str(2 * 15 * (linear_kn - H * V) + 2 * 3 * H * V));
    // The experts alone, one decode step: 32 layers · 2 · 2 rows · 78,643,200 = 10,066,329,600
    Step decode;
    decode.cache = 4096;
    CostNode root = model->run(decode);
    Found moe = find_path(root, {"model", "layers", "block_sparse_moe", "experts"});
    ASSERT_NE(moe.node, nullptr);
    EXPECT_EQ((moe.calls * leaf_sum_per_call(*moe.node, model->metric("flops"), is_linear)).to_string(),
              str(L * 2 * k * expert));
}

// PhimoeRotaryEmbedding.forward(x, seq_len=cache_position[-1] + 1) takes the cos of all C + S
// positions (not only the new ones): a decode step at C = 4095 computes 4096·128 cosines.
TEST(FamilyPhimoeRope, TablesCoverEveryPosition) {
    auto model = Loaded::shipped("phi-3.5-moe-instruct");
    Step decode;
    decode.cache = 4095;
    decode.batch = 3;
    CostNode root = model->run(decode);
    Found cos = find_path(root, {"model", "rotary_emb", "cos"});
    ASSERT_NE(cos.node, nullptr);
    EXPECT_EQ(cos.node->cost.at(model->metric("flops")).to_string(), str(Int(4096) * d));
}

// ---- bad configs ------------------------------------------------------------------------

std::string stop_message(const Step& step) {
    auto model = Loaded::shipped("phi-3.5-moe-instruct");
    try {
        model->run(step);
    } catch (const costi::interp::CostiError& e) {
        return e.diagnostics().front().code + ": " + e.diagnostics().front().message;
    }
    return "no error";
}

TEST(FamilyPhimoeConfig, PreconditionsNameTheKey) {
    Step top3;
    top3.config = {{"num_experts_per_tok", 3}};
    EXPECT_NE(stop_message(top3).find("E0207: config.num_experts_per_tok must be 2"), std::string::npos)
        << stop_message(top3);
    Step kv0;
    kv0.config = {{"num_key_value_heads", 0}};
    EXPECT_NE(stop_message(kv0).find("config.num_key_value_heads must be a positive integer"), std::string::npos)
        << stop_message(kv0);
    Step bias;
    bias.config = {{"attention_bias", 2}};
    EXPECT_NE(stop_message(bias).find("config.attention_bias must be true or false"), std::string::npos)
        << stop_message(bias);
    Step head_bias;
    head_bias.config = {{"lm_head_bias", 2}};
    EXPECT_NE(stop_message(head_bias).find("config.lm_head_bias must be true or false"), std::string::npos)
        << stop_message(head_bias);
    Step rope;
    rope.config_strings = {{"rope_scaling.rope_type", "dynamic"}};
    EXPECT_NE(stop_message(rope).find("config.rope_scaling type must be default or longrope"), std::string::npos)
        << stop_message(rope);
    Step heads;  // 4096 / 4 = 1024 is a whole even head, but 8 K/V heads do not divide 4 heads
    heads.config = {{"num_attention_heads", 4}};
    EXPECT_NE(stop_message(heads).find("num_key_value_heads must divide"), std::string::npos) << stop_message(heads);
    Step odd;  // 4096 / 24 is no whole head
    odd.config = {{"num_attention_heads", 24}};
    EXPECT_NE(stop_message(odd).find("config.hidden_size must be a multiple of config.num_attention_heads"),
              std::string::npos)
        << stop_message(odd);
}

// `costi run --config`: the hub config.json's architectures[0] "PhiMoEForCausalLM" selects the
// family and gives the shipped model's parameters.
TEST(FamilyPhimoeConfig, ConfigJsonSelectsTheFamily) {
    auto model = Loaded::from_config_json(config("phi_3_5_moe.json"));
    CostNode root = model->run(Step{});
    ASSERT_NE(root.kernel, nullptr);
    EXPECT_EQ(root.kernel->name, "transformers.models.phimoe.modeling_phimoe.PhiMoEForCausalLM");
    EXPECT_EQ(model->total("params"), str(params));
    EXPECT_EQ(model->total("active_params"), str(active));
}

}  // namespace
