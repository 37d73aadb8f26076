// Issue 13: the PhiMoE family (kernels/phimoe.cost, transformers' modeling_phimoe.py @ c4cdd1a0)
// and its shipped checkpoint microsoft/Phi-3.5-MoE-instruct (models/phi-3.5-moe-instruct.cost).
//
// Every expected value is derived by hand from the checkpoint's config values (the arithmetic
// is in the comments, and redone here with 128-bit integers from the module shapes of
// modeling_phimoe.py), never taken from costi's output; the parameter counts are compared with
// the model card's published figures (41.9B total, 6.6B active).
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <tuple>
#include <utility>

#include "interpreter/evaluator.hpp"
#include "model_support.hpp"

namespace costi::models_test {
namespace {

using namespace family;

// microsoft/Phi-3.5-MoE-instruct: H 4096, L 32, 32 query heads, 8 KV heads, d = 4096/32 = 128,
// 16 experts of width 6400, top-2 (sparsemixer), router 4096 → 16 without bias, V 32064,
// untied, attention_bias and lm_head_bias true, LayerNorm (weight + bias) for every norm,
// rope_scaling longrope (d/2 = 64 factors each).
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

const char* const shipped = "phi-3.5-moe-instruct";

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
    auto model = Loaded::shipped(shipped);
    EXPECT_EQ(model->total("params"), str(params));
    EXPECT_EQ(model->total("active_params"), str(active));
}

// The biases are in: without attention_bias and lm_head_bias, 32·10,240 + 32,064 fewer.
TEST(FamilyPhimoeParams, BiasesFollowTheConfig) {
    auto model = Loaded::shipped(shipped);
    EXPECT_EQ(model->total("params", with_config({{"attention_bias", 0}, {"lm_head_bias", 0}})),
              str(params - L * attn_b - V));
    EXPECT_EQ(str(params - L * attn_b - V), "41872793600");
}

// ---- GEMM FLOPs: prefill and decode --------------------------------------------------------

// linear_kn = 32·(41,943,040 + 65,536 + 157,286,400) + 131,334,144 = 6,508,773,376.
// Prefill of 4096 tokens: 2·4096·6,508,773,376 = 53,319,871,496,192; decode 13,017,546,752.
TEST(FamilyPhimoeGemm, PrefillAndDecode) {
    auto model = Loaded::shipped(shipped);
    EXPECT_EQ(str(linear_kn), "6508773376");
    EXPECT_EQ(linear_flops(*model, 1, 4096, 0), "53319871496192");
    EXPECT_EQ(str(2 * 4096 * linear_kn), "53319871496192");
    EXPECT_EQ(linear_flops(*model, 1, 1, 4096), str(2 * linear_kn));
    EXPECT_EQ(linear_flops(*model, 3, 5, 7), str(2 * 15 * linear_kn));
    // lm_head on 1 of 5 new tokens per sequence
    EXPECT_EQ(linear_flops(*model, 3, 5, 7, 1), str(2 * 15 * (linear_kn - H * V) + 2 * 3 * H * V));
    // The experts alone, one decode step: 32 layers · 2 · 2 rows · 78,643,200 = 10,066,329,600
    CostNode root = model->run(steps::decode(4096));
    Found moe = find_path(root, {"model", "layers", "block_sparse_moe", "experts"});
    ASSERT_NE(moe.node, nullptr);
    EXPECT_EQ((moe.calls * leaf_sum_per_call(*moe.node, model->metric("flops"), is_linear)).to_string(),
              str(L * 2 * k * expert));
}

// ---- the rotary embedding (L145-175; modeling_rope_utils.py R29-68, R242-302 @ ef468064) -----

// One node's flops / read / write, as "f/r/w".
std::string frw(const Loaded& model, const CostNode& root, std::initializer_list<std::string> path) {
    Found f = find_path(root, path);
    if (f.node == nullptr) return "missing";
    auto at = [&](const char* m) { return (f.calls * f.node->cost.at(model.metric(m))).to_string(); };
    return at("flops") + "/" + at("read") + "/" + at("write");
}
std::string frw(Int flops, Int read, Int write) { return str(flops) + "/" + str(read) + "/" + str(write); }

// PhimoeRotaryEmbedding.forward(x, seq_len=cache_position[-1] + 1) takes the cos of all C + S
// positions (not only the new ones): a decode step at C = 4095 computes 4096·128 cosines.
TEST(FamilyPhimoeRope, TablesCoverEveryPosition) {
    auto model = Loaded::shipped(shipped);
    Step decode = steps::decode(4095, 3);
    CostNode root = model->run(decode);
    Found cos = find_path(root, {"model", "rotary_emb", "cos"});
    ASSERT_NE(cos.node, nullptr);
    EXPECT_EQ(cos.node->cost.at(model->metric("flops")).to_string(), str(Int(4096) * d));
}

// L172 torch.outer(t, inv_freq) is ATen's t.reshape(-1, 1) * inv_freq: one multiply per output,
// P·d/2 FLOPs (not a K = 1 matmul's 2·P·d/2), reading the P positions and the d/2 frequencies
// (float32) once: P = 4096, d/2 = 64: 262,144 FLOPs, 16,384 + 256 B read, 1,048,576 B written.
TEST(FamilyPhimoeRope, OuterIsOneMultiplyPerElement) {
    auto model = Loaded::shipped(shipped);
    CostNode root = model->run(steps::decode(4095));
    const Int P = 4096, half = d / 2;
    EXPECT_EQ(frw(*model, root, {"model", "rotary_emb", "freqs"}), frw(P * half, 4 * P + 4 * half, 4 * P * half));
    EXPECT_EQ(frw(P * half, 4 * P + 4 * half, 4 * P * half), "262144/16640/1048576");
    // L171 t = torch.arange(seq_len, dtype=float32): P floats written
    EXPECT_EQ(frw(*model, root, {"model", "rotary_emb", "positions"}), frw(0, 0, 4 * P));
}

// The whole rotary node of the shipped (longrope) config, with P = C + S positions, d/2 = 64,
// bf16 activations (a = 2). Per forward:
//   L166 and R295, two compares of the 0-d int64 seq_len: 2 FLOPs, 16 B read, 2 B written;
//   R299 arange(0, 128, 2, int64) (512 B written), .float() (512 read, 256 written), / dim
//   (64 FLOPs, 256 / 256); R300 base ** x with __rpow__'s 0-d base (64, 256 + 4 / 256),
//   ext_factors * (64, 512 / 256), 1.0 / x = reciprocal and * 1.0 (64 + 64, 512 / 512):
//   320 FLOPs, 2,308 B read, 2,048 B written;
//   L171-175: arange(P) (4P written), outer (64P FLOPs, 4P + 256 read, 256P written), cat
//   (512P / 512P), cos and sin, each with * mscale and the cast to bf16
//   (2·(128P + 128P) FLOPs, 2·(512P + 512P + 512P) read, 2·(512P + 512P + 256P) written).
// FLOPs 322 + 576P, read 2,324 + 3,588P, written 2,050 + 3,332P.
TEST(FamilyPhimoeRope, LongRopeInitEveryForward) {
    auto model = Loaded::shipped(shipped);
    for (auto [b, s, c] : {std::tuple{1, 1, 4095}, std::tuple{3, 5, 7}, std::tuple{1, 4096, 0}}) {
        const Int P = c + s;
        CostNode root = model->run(steps::step(b, s, c));
        EXPECT_EQ(frw(*model, root, {"model", "rotary_emb"}), frw(322 + 576 * P, 2324 + 3588 * P, 2050 + 3332 * P))
            << b << " " << s << " " << c;
    }
    // L1103 cache_position[-1] + 1: one add on the 0-d int64 tensor, 8 B read and written
    CostNode root = model->run(steps::decode(4095));
    EXPECT_EQ(frw(*model, root, {"model", "seq_len_add"}), "1/8/8");
    // L1415-1420 cache_position[0] == original_max_position_embeddings: 1 FLOP, 8 B read, 1 written
    EXPECT_EQ(frw(*model, root, {"rope_warning_compare"}), "1/8/1");
}

// Without rope_scaling the default init runs (R67): its arange and .float() on the host, then
// / dim, pow, reciprocal and * 1.0 on the device (4·64 FLOPs, 256 + 260 + 256 + 256 B read,
// 4·256 written), and no device compare; L171-175 as above (the outer reads the 256 B of
// inv_freq): FLOPs 256 + 576P, read 1,284 + 3,588P, written 1,024 + 3,332P; the root has no
// warning compare. Written as a config.json without the
// rope_scaling dict.
TEST(FamilyPhimoeRope, DefaultRopeWithoutScaling) {
    std::string json = write_json("phimoe_default_rope.json", R"({
        "architectures": ["PhimoeForCausalLM"], "model_type": "phimoe",
        "attention_bias": true, "lm_head_bias": true, "rope_theta": 10000.0,
        "num_local_experts": 16, "num_experts_per_tok": 2, "torch_dtype": "bfloat16"})");
    auto model = Loaded::from_config_json(json);
    const Int P = 4096;
    CostNode root = model->run(steps::decode(4095));
    EXPECT_EQ(frw(*model, root, {"model", "rotary_emb"}), frw(256 + 576 * P, 1284 + 3588 * P, 1024 + 3332 * P));
    // no rope_scaling: no compare of cache_position[0] at the root (L1417)
    EXPECT_EQ(frw(*model, root, {"rope_warning_compare"}), "0/0/0");
    // The whole model differs from the shipped longrope one by the three compares (3 FLOPs)
    // and the factor multiply (64 FLOPs); every other class default is the checkpoint's.
    auto longrope = Loaded::shipped(shipped);
    const auto fl = model->metric("flops");
    CostNode other = longrope->run(steps::decode(4095));
    EXPECT_EQ((other.count * other.cost.at(longrope->metric("flops")) - root.count * root.cost.at(fl)).to_string(), "67");
}

// ---- the router and sparsemixer (L601-726, L756-798) ------------------------------------------

// Per MoE layer, outside the experts' GEMMs, with T tokens, E = 16, Tk = 2T:
//   gate 2·T·H·E; two sparsemixer selections of 10·T·E each (max, abs, clamp, sub, div,
//   compare, masked_fill: one FLOP per element; softmax three); the scatter, cats, zeros,
//   one_hot and gathers none; per expert, where's nonzero over the Tk mask entries (E·Tk);
//   the routing-weight multiply and index_add_ (Tk·H each).
// T = 1: 131,072 + 320 + 32 + 16,384 = 147,808 FLOPs; linear in T.
TEST(FamilyPhimoeMoe, RouterAndSparsemixerFlops) {
    auto model = Loaded::shipped(shipped);
    for (auto [b, s] : {std::pair{1, 1}, std::pair{3, 5}}) {
        const Int T = b * s;
        CostNode root = model->run(steps::step(b, s, 7));
        Found block = find_path(root, {"model", "layers", "block_sparse_moe"});
        Found experts = find_path(root, {"model", "layers", "block_sparse_moe", "experts"});
        ASSERT_NE(block.node, nullptr);
        ASSERT_NE(experts.node, nullptr);
        const auto fl = model->metric("flops");
        Number outside = block.calls * block.node->cost.at(fl) - experts.calls * experts.node->cost.at(fl);
        EXPECT_EQ(outside.to_string(), str(L * (2 * T * H * E + 20 * T * E + E * 2 * T + 2 * 2 * T * H))) << str(T);
    }
    EXPECT_EQ(str(2 * H * E + 20 * E + E * 2 + 2 * 2 * H), "147808");
    // L669-674 torch.scatter out of place: a copy of the [T, E] logits, then one -inf per row
    // (int64 index read): T = 15, bf16: read 15·16·2 + 15·8 = 600, written 480 + 30 = 510.
    CostNode root = model->run(steps::step(3, 5, 7));
    Found copy = find_path(root, {"model", "layers", "block_sparse_moe", "scatter"});
    Found fill = find_path(root, {"model", "layers", "block_sparse_moe", "scatter_fill"});
    ASSERT_NE(copy.node, nullptr);
    ASSERT_NE(fill.node, nullptr);
    const auto rd = model->metric("read"), wr = model->metric("write");
    EXPECT_EQ((copy.node->cost.at(rd) + fill.node->cost.at(rd)).to_string(), "600");
    EXPECT_EQ((copy.node->cost.at(wr) + fill.node->cost.at(wr)).to_string(), "510");
}

// ---- the KV cache -----------------------------------------------------------------------------

// DynamicLayer: K and V of 8 heads · 128 per token and layer, bf16: 2·8·128·2 = 4,096 B per
// token and layer, 131,072 B per token over 32 layers; decoding at C = 4095 holds 4096 tokens:
// 536,870,912 B.
TEST(FamilyPhimoeCache, KvBytes) {
    const Int per_token = L * 2 * kv * d * 2;
    EXPECT_EQ(str(per_token), "131072");
    EXPECT_EQ(kv_cache_bytes(shipped, steps::decode(4095)), str(4096 * per_token));
    EXPECT_EQ(kv_cache_bytes(shipped, steps::decode(4095)), "536870912");
}

// ---- bad configs ------------------------------------------------------------------------

TEST(FamilyPhimoeConfig, PreconditionsNameTheKey) {
    auto model = Loaded::shipped(shipped);
    EXPECT_NE(error_of(*model, with_config({{"num_experts_per_tok", 3}}))
                  .find("E0207: config.num_experts_per_tok must be 2"),
              std::string::npos);
    EXPECT_NE(error_of(*model, with_config({{"num_key_value_heads", 0}}))
                  .find("config.num_key_value_heads must be a positive integer"),
              std::string::npos);
    EXPECT_NE(error_of(*model, with_config({{"attention_bias", 2}})).find("config.attention_bias must be true or false"),
              std::string::npos);
    EXPECT_NE(error_of(*model, with_config({{"lm_head_bias", 2}})).find("config.lm_head_bias must be true or false"),
              std::string::npos);
    // 4096 / 4 = 1024 is a whole even head, but 8 K/V heads do not divide 4 heads
    EXPECT_NE(error_of(*model, with_config({{"num_attention_heads", 4}})).find("num_key_value_heads must divide"),
              std::string::npos);
    // 4096 / 24 is no whole head
    EXPECT_NE(error_of(*model, with_config({{"num_attention_heads", 24}}))
                  .find("config.hidden_size must be a multiple of config.num_attention_heads"),
              std::string::npos);
    // a head_dim other than hidden_size / heads: RoPE's inv_freq would not match the heads
    EXPECT_NE(error_of(*model, with_config({{"head_dim", 64}})).find("config.head_dim must be absent or"),
              std::string::npos);
}

// rope_scaling: "su" is no key of ROPE_INIT_FUNCTIONS (R351-358): transformers raises in
// PhimoeRotaryEmbedding.__init__ (L159); the other registered types are not modelled. Both are
// refused naming rope_scaling; so is a rope_scaling without its mscales or
// original_max_position_embeddings (PhimoeConfig and L166 fail on them).
TEST(FamilyPhimoeConfig, RopeScalingTypes) {
    auto model = Loaded::shipped(shipped);
    for (const char* type : {"su", "dynamic", "yarn"}) {
        Step s;
        s.config_strings = {{"rope_scaling.rope_type", type}};
        EXPECT_NE(error_of(*model, s).find("E0207: config.rope_scaling type must be default or longrope"),
                  std::string::npos)
            << type << ": " << error_of(*model, s);
    }
    std::string no_mscale = write_json("phimoe_no_mscale.json", R"({
        "architectures": ["PhimoeForCausalLM"],
        "rope_scaling": {"type": "longrope", "original_max_position_embeddings": 4096}})");
    EXPECT_NE(error_of(no_mscale).find("config.rope_scaling must give short_mscale and long_mscale"),
              std::string::npos)
        << error_of(no_mscale);
    std::string no_omp = write_json("phimoe_no_omp.json", R"({
        "architectures": ["PhimoeForCausalLM"],
        "rope_scaling": {"type": "longrope", "short_mscale": 1.2, "long_mscale": 1.2}})");
    EXPECT_NE(error_of(no_omp).find("config.rope_scaling must give original_max_position_embeddings"),
              std::string::npos)
        << error_of(no_omp);
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
}  // namespace costi::models_test
