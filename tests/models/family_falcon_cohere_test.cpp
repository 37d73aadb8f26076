// Issue 13: the Falcon and Cohere / Command-R families (kernels/falcon.cost, kernels/cohere.cost)
// and their shipped checkpoints, tiiuae/falcon-7b (models/falcon-7b.cost) and
// CohereForAI/c4ai-command-r-v01 (models/c4ai-command-r-v01.cost).
//
// Every expected value is derived by hand from the configs (the arithmetic is in the comments,
// and redone here with 128-bit integers from the module shapes of modeling_falcon.py /
// modeling_cohere.py), never taken from costi's output, and the parameter counts are compared
// with the published figures of the model cards.
#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "interpreter/evaluator.hpp"
#include "model_support.hpp"

using namespace costi::models_test;
using namespace costi::models_test::family;

namespace {

// ---- the two checkpoints' shapes (config.json values) ------------------------------------------

// tests/models/configs/falcon_7b.json and command_r_v01.json hold the config.json values the
// model files bind (their headers say where each value was read: public verbatim copies of
// falcon-7b-instruct's config.json, the same architecture, and copies of command-r-v01's).

// tiiuae/falcon-7b: hidden 4544, 32 layers, 71 query heads of head_dim 4544 / 71 = 64,
// multi_query (one K/V head), parallel attention with one LayerNorm (input_layernorm), no
// biases, ffn_hidden_size absent: 4 x 4544 = 18176, vocab 65024, lm_head tied.
namespace f7 {
const Int H = 4544, L = 32, h = 71, d = 64, F = 18176, V = 65024;
const Int qkv = H * (H + 2 * d);  // query_key_value 4544 -> 4672: 21,229,568
const Int dense = H * H;          // 20,647,936
const Int mlp = 2 * H * F;        // dense_h_to_4h + dense_4h_to_h: 165,183,488
const Int layer = qkv + dense + mlp + 2 * H;  // + input_layernorm weight and bias: 207,070,080
const Int params = L * layer + V * H + 2 * H;  // + word_embeddings 295,469,056 + ln_f 9,088
// The K·N of every GEMM one token goes through: query_key_value, dense, the two MLP matrices
// per layer, and the tied lm_head (read, not counted in params).
const Int linear_kn = L * (qkv + dense + mlp) + H * V;  // 32·207,060,992 + 295,469,056
}  // namespace f7

// CohereForAI/c4ai-command-r-v01: hidden 8192, 40 layers, 64 query heads = 64 K/V heads of
// head_dim 128, intermediate 22528, vocab 256000, no biases, no QK-norm, lm_head tied
// (tie_word_embeddings absent: CohereConfig's True).
namespace cr {
const Int H = 8192, L = 40, h = 64, kv = 64, d = 128, I = 22528, V = 256000;
const Int attn = H * h * d + 2 * H * kv * d + h * d * H;  // 4·67,108,864 = 268,435,456
const Int mlp = 3 * H * I;                                // 553,648,128
const Int layer = attn + mlp + H;                         // + input_layernorm weight (no bias): 822,091,776
const Int params = L * layer + V * H + H;                 // + embed_tokens 2,097,152,000 + norm 8,192
const Int linear_kn = L * (attn + mlp) + H * V;           // 40·822,083,584 + 2,097,152,000
}  // namespace cr

// ---- exact parameters against the published figures ----------------------------------------

// Falcon-7B model card: "Falcon-7B is a 7B parameters causal decoder-only model"; its
// architecture table: 32 layers, d_model 4544, head_dim 64, vocabulary 65024.
//   6,921,720,704 rounds to 7 B (6.92 G). A file that stores lm_head.weight besides
//   word_embeddings holds 6,921,720,704 + 295,469,056 = 7,217,189,760 tensor elements.
TEST(FamilyFalconParams, Falcon7bExactAndPublished) {
    EXPECT_EQ(str(f7::params), "6921720704");
    EXPECT_EQ(str(f7::params + f7::V * f7::H), "7217189760");
    auto model = Loaded::shipped("falcon-7b");
    EXPECT_EQ(model->total("params"), str(f7::params));
    EXPECT_EQ(model->total("active_params"), str(f7::params));
    EXPECT_EQ((f7::params + 500'000'000) / 1'000'000'000, 7);  // 7 B
}

// Command R model card: "a research release of a 35 billion parameter highly performant
// generative model". 34,980,831,232 rounds to 35 B (34.98 G).
TEST(FamilyCohereParams, CommandRExactAndPublished) {
    EXPECT_EQ(str(cr::params), "34980831232");
    auto model = Loaded::shipped("c4ai-command-r-v01");
    EXPECT_EQ(model->total("params"), str(cr::params));
    EXPECT_EQ(model->total("active_params"), str(cr::params));
    EXPECT_EQ((cr::params + 500'000'000) / 1'000'000'000, 35);  // 35 B
}

// ---- GEMM and attention FLOPs: prefill and decode --------------------------------------------

// Every token goes through every linear once (logits_to_keep 0: lm_head on every position):
// a step of T = B·S tokens does 2·T·Σ K·N, whatever the cache. FalconLinear is a GEMM
// (`input @ weight.T`) whose bias add is a separate element-wise kernel, not a GEMM FLOP.
TEST(FamilyFalconGemm, Falcon7bPrefillAndDecode) {
    auto model = Loaded::shipped("falcon-7b");
    EXPECT_EQ(str(f7::linear_kn), "6921420800");
    EXPECT_EQ(linear_flops(*model, 1, 2048, 0), str(2 * 2048 * f7::linear_kn));
    EXPECT_EQ(linear_flops(*model, 1, 1, 2047), str(2 * f7::linear_kn));
    EXPECT_EQ(linear_flops(*model, 3, 5, 7), str(2 * 15 * f7::linear_kn));
    // generate()'s decode keeps one position's logits: lm_head on 1 of 5 new tokens
    EXPECT_EQ(linear_flops(*model, 3, 5, 7, 1), str(2 * 15 * (f7::linear_kn - f7::H * f7::V) + 2 * 3 * f7::H * f7::V));
}

TEST(FamilyCohereGemm, CommandRPrefillAndDecode) {
    auto model = Loaded::shipped("c4ai-command-r-v01");
    EXPECT_EQ(str(cr::linear_kn), "34980495360");
    EXPECT_EQ(linear_flops(*model, 1, 4096, 0), str(2 * 4096 * cr::linear_kn));
    EXPECT_EQ(linear_flops(*model, 1, 1, 4096), str(2 * cr::linear_kn));
    EXPECT_EQ(linear_flops(*model, 3, 5, 7), str(2 * 15 * cr::linear_kn));
    EXPECT_EQ(linear_flops(*model, 3, 5, 7, 1), str(2 * 15 * (cr::linear_kn - cr::H * cr::V) + 2 * 3 * cr::H * cr::V));
}

// SDPA FLOPs (FlopCounterMode's full rectangle): 2·B·h·S·kv_len·(d + d) per layer, h the QUERY
// heads whatever the K/V heads (Falcon-7B reads one K/V head).
//   Falcon-7B prefill of 2048: 32·2·71·2048·2048·128 = 2,439,541,424,128; decode at C = 2047:
//   32·2·71·1·2048·128 = 1,191,182,336.
//   Command R prefill of 4096: 40·2·64·4096·4096·256 = 21,990,232,555,520; decode at 4095:
//   40·2·64·4096·256 = 5,368,709,120.
TEST(FamilyFalconCohereAttention, SdpaPrefillAndDecode) {
    auto falcon = Loaded::shipped("falcon-7b");
    EXPECT_EQ(sdpa_flops(*falcon, 1, 2048, 0), str(f7::L * 2 * f7::h * 2048 * 2048 * 2 * f7::d));
    EXPECT_EQ(sdpa_flops(*falcon, 1, 2048, 0), "2439541424128");
    EXPECT_EQ(sdpa_flops(*falcon, 1, 1, 2047), str(f7::L * 2 * f7::h * 2048 * 2 * f7::d));
    EXPECT_EQ(sdpa_flops(*falcon, 1, 1, 2047), "1191182336");
    EXPECT_EQ(sdpa_flops(*falcon, 4, 1, 2047), str(4 * f7::L * 2 * f7::h * 2048 * 2 * f7::d));
    auto command_r = Loaded::shipped("c4ai-command-r-v01");
    EXPECT_EQ(sdpa_flops(*command_r, 1, 4096, 0), str(cr::L * 2 * cr::h * 4096 * 4096 * 2 * cr::d));
    EXPECT_EQ(sdpa_flops(*command_r, 1, 4096, 0), "21990232555520");
    EXPECT_EQ(sdpa_flops(*command_r, 1, 1, 4095), "5368709120");
}

// Falcon-7B's SDPA reads one K/V head: per layer B·1·kv_len·(d + d) elements of K and V at
// kv_bytes, Q [B, 71, S, d] and O once. Decode at C = 2047, bf16: K/V 2048·128·2 = 524,288 B,
// Q 71·64·2 = 9,088 B read; O 9,088 B written.
TEST(FamilyFalconCohereAttention, Falcon7bSdpaReadsOneKvHead) {
    auto model = Loaded::shipped("falcon-7b");
    Step decode;
    decode.cache = 2047;
    CostNode root = model->run(decode);
    Found sdpa = find_path(root, {"transformer", "h", "self_attention", "sdpa"});
    ASSERT_NE(sdpa.node, nullptr);
    EXPECT_EQ(sdpa.calls.to_string(), "32");
    EXPECT_EQ(sdpa.node->cost.at(model->metric("read")).to_string(), str(Int(2048) * 2 * 64 * 2 + 71 * 64 * 2));
    EXPECT_EQ(sdpa.node->cost.at(model->metric("write")).to_string(), str(Int(71) * 64 * 2));
}

// Command R multiplies the kept logits by logit_scale: B·kept·V FLOPs, the logits read and
// written once (bf16). Prefill of 7 tokens, batch 2, all positions kept: 14·256000.
TEST(FamilyCohereLogitScale, OneMultiplyOverTheLogits) {
    auto model = Loaded::shipped("c4ai-command-r-v01");
    Step s;
    s.batch = 2;
    s.seq = 7;
    CostNode root = model->run(s);
    Found scale = find_path(root, {"logit_scale"});
    ASSERT_NE(scale.node, nullptr);
    EXPECT_EQ(scale.node->cost.at(model->metric("flops")).to_string(), str(Int(14) * cr::V));
    EXPECT_EQ(scale.node->cost.at(model->metric("write")).to_string(), str(Int(14) * cr::V * 2));
}

// ---- the KV cache --------------------------------------------------------------------------

// K and V per token, bf16: 2 · layers · cached heads · head_dim · 2 B.
//   Falcon-7B (multi-query: one K/V head): 2·32·1·64·2 = 8,192 B;
//   Command R (64 K/V heads): 2·40·64·128·2 = 1,310,720 B.

TEST(FamilyFalconCohereKvCache, BytesPerToken) {
    const Int falcon_token = Int(2) * f7::L * 1 * f7::d * 2;
    const Int command_r_token = Int(2) * cr::L * cr::kv * cr::d * 2;
    EXPECT_EQ(str(falcon_token), "8192");
    EXPECT_EQ(str(command_r_token), "1310720");
    for (std::int64_t c : {0, 2047}) {
        EXPECT_EQ(kv_cache_of("falcon-7b", c, 1).to_string(), str((c + 1) * falcon_token)) << c;
        EXPECT_EQ(kv_cache_of("c4ai-command-r-v01", c, 1).to_string(), str((c + 1) * command_r_token)) << c;
    }
    EXPECT_EQ(kv_cache_of("falcon-7b", 2047, 4).to_string(), str(4 * 2048 * falcon_token));
}

// ---- the layouts and flags of Falcon ---------------------------------------------------------

// new_decoder_architecture, Falcon-40B's shape (hidden 8192, 128 query heads in 8 groups,
// 60 layers): query_key_value 8192 -> (2·8 + 128)·64 = 9216; two LayerNorms (ln_attn,
// ln_mlp: num_ln_in_parallel_attn None -> 2).
//   layer 8192·9216 + 8192² + 2·8192·32768 + 4·8192 = 75,497,472 + 67,108,864 + 536,870,912
//   + 32,768 = 679,510,016; 60 layers 40,770,600,960 + word_embeddings 532,676,608 + ln_f
//   16,384 = 41,303,293,952.
// _split_heads gives K and V the 128 heads of the query (L247-252, L303): the cache holds 128
// heads, not 8, per token 2·60·128·64·2 = 1,966,080 B.
const std::string falcon_40b_shape = R"({
  "architectures": ["FalconForCausalLM"],
  "model_type": "falcon",
  "alibi": false,
  "bias": false,
  "hidden_size": 8192,
  "multi_query": true,
  "new_decoder_architecture": true,
  "num_attention_heads": 128,
  "num_hidden_layers": 60,
  "num_kv_heads": 8,
  "parallel_attn": true,
  "vocab_size": 65024
})";

TEST(FamilyFalconLayouts, NewDecoderArchitecture) {
    auto model = Loaded::from_config_json(write_json("falcon_40b_shape.json", falcon_40b_shape));
    const Int layer = Int(8192) * 9216 + Int(8192) * 8192 + Int(2) * 8192 * 32768 + 4 * 8192;
    EXPECT_EQ(str(layer), "679510016");
    EXPECT_EQ(model->total("params"), str(60 * layer + Int(65024) * 8192 + 2 * 8192));
    EXPECT_EQ(model->total("params"), "41303293952");
    Step decode;
    decode.cache = 99;
    CostNode root = model->run(decode);
    Found u = find_path(root, {"transformer", "h", "self_attention", "cache_update"});
    ASSERT_NE(u.node, nullptr);
    // torch.cat of 100 tokens · 128 heads · 64 for K and for V, bf16
    EXPECT_EQ(u.node->cost.at(model->metric("write")).to_string(), str(Int(2) * 100 * 128 * 64 * 2));
    // the list-indexed K and V [B, S, 8, 1, 64] and the three flatten copies to [B, S, 128, 64]
    Found key_pick = find_path(root, {"transformer", "h", "self_attention", "key_pick"});
    ASSERT_NE(key_pick.node, nullptr);
    EXPECT_EQ(key_pick.node->cost.at(model->metric("write")).to_string(), str(Int(8) * 64 * 2));
    Found key_flatten = find_path(root, {"transformer", "h", "self_attention", "key_flatten"});
    ASSERT_NE(key_flatten.node, nullptr);
    EXPECT_EQ(key_flatten.node->count.to_string(), "1");
    EXPECT_EQ(key_flatten.node->cost.at(model->metric("write")).to_string(), str(Int(128) * 64 * 2));
}

// Without multi_query or new_decoder_architecture (Falcon-RW's form), with biases and the
// sequential layer: query_key_value H -> 3H with bias; dense, the MLP and lm_head as before.
// Tiny: hidden 64, 4 heads, 2 layers, vocab 128, ffn 4·64 = 256, lm_head untied:
//   layer (64·192 + 192) + (64·64 + 64) + (64·256 + 256) + (256·64 + 64) + 2·(2·64)
//   = 12,480 + 4,160 + 16,640 + 16,448 + 256 = 49,984; 2 layers 99,968 + word_embeddings
//   8,192 + lm_head 8,192 + ln_f 128 = 116,480.
// The multi-query tiny model (falcon_plain.py's CFG): layer 64·96 + 4,096 + 2·64·256 + 128
// = 43,136; 2 layers 86,272 + 8,192 + 128 = 94,592 (tied).
TEST(FamilyFalconLayouts, TinyConfigsExactParams) {
    auto rw = Loaded::from_config_json(write_json("falcon_rw_tiny.json", R"({
  "architectures": ["FalconForCausalLM"], "hidden_size": 64, "num_attention_heads": 4,
  "num_hidden_layers": 2, "vocab_size": 128, "bias": true, "multi_query": false,
  "new_decoder_architecture": false, "parallel_attn": false, "tie_word_embeddings": false
})"));
    EXPECT_EQ(rw->total("params"),
              str(2 * (Int(64) * 192 + 192 + 64 * 64 + 64 + 64 * 256 + 256 + 256 * 64 + 64 + 2 * 128) + 2 * 8192 + 128));
    EXPECT_EQ(rw->total("params"), "116480");
    auto mq = Loaded::from_config_json(write_json("falcon_mq_tiny.json", R"({
  "architectures": ["FalconForCausalLM"], "hidden_size": 64, "num_attention_heads": 4,
  "num_hidden_layers": 2, "vocab_size": 128
})"));
    EXPECT_EQ(mq->total("params"), str(2 * (Int(64) * 96 + 64 * 64 + 2 * 64 * 256 + 128) + 8192 + 128));
    EXPECT_EQ(mq->total("params"), "94592");
}

// ALiBi (Falcon-RW's form: alibi, the per-head layout, sequential layers, biases), at a
// Falcon-RW-1B-like size (hidden 2048, 32 heads, 24 layers, vocab 50304, tied):
//   layer (2048·6144 + 6144) + (2048² + 2048) + (2048·8192 + 8192) + (8192·2048 + 2048)
//   + 2·(2·2048) = 12,589,056 + 4,196,352 + 16,785,408 + 16,779,264 + 8,192 = 50,358,272;
//   24 layers 1,208,598,528 + word_embeddings 103,022,592 + ln_f 4,096 = 1,311,625,216.
// The ALiBi bias reaches SDPA through the merged mask, [B, 32, S, kv_len] in bf16, on every
// step: a decode at C = 99 reads Q 32·64·2 + K and V 2·32·100·64·2 + the mask 32·100·2 bytes
// per layer, and copies the strided query slice first (32·64·2 B written).
TEST(FamilyFalconLayouts, AlibiPerHeadLayout) {
    auto model = Loaded::from_config_json(write_json("falcon_rw_alibi.json", R"({
  "architectures": ["FalconForCausalLM"], "hidden_size": 2048, "num_attention_heads": 32,
  "num_hidden_layers": 24, "vocab_size": 50304, "alibi": true, "bias": true, "multi_query": false,
  "new_decoder_architecture": false, "parallel_attn": false
})"));
    const Int layer = Int(2048) * 6144 + 6144 + 2048 * 2048 + 2048 + 2048 * 8192 + 8192 + 8192 * 2048 + 2048 + 4 * 2048;
    EXPECT_EQ(str(layer), "50358272");
    EXPECT_EQ(model->total("params"), str(24 * layer + Int(50304) * 2048 + 2 * 2048));
    EXPECT_EQ(model->total("params"), "1311625216");
    Step decode;
    decode.cache = 99;
    CostNode root = model->run(decode);
    Found sdpa = find_path(root, {"transformer", "h", "self_attention", "sdpa"});
    ASSERT_NE(sdpa.node, nullptr);
    EXPECT_EQ(sdpa.calls.to_string(), "24");
    EXPECT_EQ(sdpa.node->cost.at(model->metric("read")).to_string(),
              str(Int(32) * 64 * 2 + Int(2) * 32 * 100 * 64 * 2 + Int(32) * 100 * 2));
    Found copy = find_path(root, {"transformer", "h", "self_attention", "sdpa_query_copy"});
    ASSERT_NE(copy.node, nullptr);
    EXPECT_EQ(copy.node->count.to_string(), "1");
    EXPECT_EQ(copy.node->cost.at(model->metric("write")).to_string(), str(Int(32) * 64 * 2));
    // no RoPE in the attention (the tables are still built once)
    Found rope = find_path(root, {"transformer", "h", "self_attention", "rope"});
    ASSERT_NE(rope.node, nullptr);
    EXPECT_EQ(rope.node->count.to_string(), "0");
}

// Every path the kernels take runs: prefill, decode, batched, eager and sdpa, each layout.
TEST(FamilyFalconLayouts, EveryPathRuns) {
    std::vector<std::string> files{config("falcon_7b.json"), write_json("falcon_40b_shape_paths.json", falcon_40b_shape),
                                   write_json("falcon_rw_paths.json", R"({
  "architectures": ["FalconForCausalLM"], "hidden_size": 64, "num_attention_heads": 4,
  "num_hidden_layers": 2, "vocab_size": 128, "bias": true, "multi_query": false, "parallel_attn": false
})"),
                                   write_json("falcon_alibi_paths.json", R"({
  "architectures": ["FalconForCausalLM"], "hidden_size": 64, "num_attention_heads": 4, "num_hidden_layers": 2,
  "vocab_size": 128, "alibi": true, "bias": true, "multi_query": false, "parallel_attn": false
})")};
    for (const auto& file : files) {
        auto model = Loaded::from_config_json(file);
        for (bool eager : {false, true}) {
            for (auto [b, s, c] : {std::tuple{1, 5, 0}, {1, 1, 5}, {3, 5, 7}, {2, 1, 9}}) {
                Step st;
                st.batch = b;
                st.seq = s;
                st.cache = c;
                st.eager = eager;
                EXPECT_NO_THROW(model->run(st)) << file << " eager " << eager << " " << b << "/" << s << "/" << c;
            }
        }
    }
}

// ---- keys absent, legacy spellings -----------------------------------------------------------

// FalconConfig() is Falcon-7B's geometry (vocab 65024, hidden 4544, 32 layers, 71 heads,
// multi-query, parallel, no bias, tied), and CohereConfig() is Command R's (vocab 256000, hidden
// 8192, 22528, 40 layers, 64 heads = 64 K/V heads, tied): a config.json with only
// architectures costs as the checkpoints.
TEST(FamilyFalconCohereDefaults, AbsentKeysTakeTheClassDefaults) {
    auto falcon = Loaded::from_config_json(write_json("falcon_defaults.json", R"({"architectures": ["FalconForCausalLM"]})"));
    EXPECT_EQ(falcon->total("params"), str(f7::params));
    auto cohere = Loaded::from_config_json(write_json("cohere_defaults.json", R"({"architectures": ["CohereForCausalLM"]})"));
    EXPECT_EQ(cohere->total("params"), str(cr::params));
}

// The legacy spellings of a pre-conversion Falcon config.json: n_embed (FalconConfig pops it
// into hidden_size), n_head and n_layer (renamed by convert_custom_code_checkpoint.py; the first
// FalconConfig's attribute_map). Falcon-7B spelled so costs as Falcon-7B.
TEST(FamilyFalconDefaults, LegacyKeySpellings) {
    auto model = Loaded::from_config_json(write_json("falcon_7b_legacy.json", R"({
  "architectures": ["FalconForCausalLM"], "n_embed": 4544, "n_head": 71, "n_layer": 32,
  "vocab_size": 65024, "multi_query": true, "parallel_attn": true, "bias": false
})"));
    EXPECT_EQ(model->total("params"), str(f7::params));
    // n_head_kv is num_kv_heads: with the new layout, 2 groups of the 4 heads
    //   layer 64·(2·2 + 4)·16 + 64·64 + 2·64·256 + 4·64 = 8,192 + 4,096 + 32,768 + 256 = 45,312
    //   2 layers 90,624 + 8,192 + 128 = 98,944
    auto grouped = Loaded::from_config_json(write_json("falcon_legacy_kv.json", R"({
  "architectures": ["FalconForCausalLM"], "n_embed": 64, "n_head": 4, "n_layer": 2, "n_head_kv": 2,
  "ffn_hidden_size": 256, "vocab_size": 128, "new_decoder_architecture": true
})"));
    EXPECT_EQ(grouped->total("params"), str(2 * (Int(64) * 8 * 16 + 64 * 64 + 2 * 64 * 256 + 4 * 64) + 8192 + 128));
    EXPECT_EQ(grouped->total("params"), "98944");
}

// Cohere's q_norm / k_norm (use_qk_norm) hold a [heads, d] weight each, no bias; tied by
// default, untied adds lm_head. Command R with QK-norm: 40·(64·128 + 64·128) = 655,360 more.
TEST(FamilyCohereDefaults, QkNormAndTying) {
    auto model = Loaded::shipped("c4ai-command-r-v01");
    Step qk;
    qk.config.emplace_back("use_qk_norm", 1);
    EXPECT_EQ(model->total("params", qk), str(cr::params + cr::L * (cr::h * cr::d + cr::kv * cr::d)));
    Step untied;
    untied.config.emplace_back("tie_word_embeddings", 0);
    EXPECT_EQ(model->total("params", untied), str(cr::params + cr::V * cr::H));
    // cohere_plain.py's tiny model: hidden 64, 4 heads, 2 K/V heads, head_dim 16, 96, QK-norm:
    //   layer 64·64 + 2·64·32 + 64·64 + (4 + 2)·16 + 3·64·96 + 64 = 12,288 + 96 + 18,432 + 64
    //   = 30,880; 2 layers 61,760 + embed_tokens 8,192 + norm 64 = 70,016
    auto tiny = Loaded::from_config_json(write_json("cohere_tiny.json", R"({
  "architectures": ["CohereForCausalLM"], "hidden_size": 64, "intermediate_size": 96,
  "num_attention_heads": 4, "num_key_value_heads": 2, "num_hidden_layers": 2, "vocab_size": 128,
  "use_qk_norm": true
})"));
    EXPECT_EQ(tiny->total("params"), "70016");
}

// ---- config preconditions ------------------------------------------------------------------

TEST(FamilyFalconCoherePreconditions, BadConfigsNameTheirKey) {
    auto bad = [](const char* file, std::vector<std::pair<const char*, std::int64_t>> set,
                  std::vector<std::pair<const char*, const char*>> strings = {}) {
        Step s;
        for (const auto& [k, v] : set) s.config.emplace_back(k, v);
        for (const auto& [k, v] : strings) s.config_strings.emplace_back(k, v);
        return error_of(config(file), s);
    };
    EXPECT_EQ(bad("falcon_7b.json", {{"alibi", 1}}),
              "E0207: config.alibi is modelled only with the per-head layout of Falcon-RW: multi_query and "
              "new_decoder_architecture must be false");
    EXPECT_EQ(bad("falcon_7b.json", {{"alibi", 2}}), "E0207: config.alibi must be true or false");
    EXPECT_EQ(bad("falcon_7b.json", {{"num_attention_heads", 70}}),
              "E0207: config.hidden_size must be a multiple of config.num_attention_heads (FalconAttention.__init__ "
              "raises otherwise)");
    EXPECT_EQ(bad("falcon_7b.json", {{"multi_query", 0}, {"num_kv_heads", 1}}),
              "E0207: config.num_kv_heads must equal config.num_attention_heads without multi_query or "
              "new_decoder_architecture (the fused projection has one K/V head per query head)");
    EXPECT_EQ(bad("falcon_7b.json", {{"new_decoder_architecture", 1}, {"num_kv_heads", 3}}),
              "E0207: config.num_kv_heads must be a positive integer that divides config.num_attention_heads with "
              "new_decoder_architecture");
    EXPECT_EQ(bad("falcon_7b.json", {{"new_decoder_architecture", 1}, {"parallel_attn", 0}}),
              "E0207: config.parallel_attn must be true with new_decoder_architecture (__init__ L570-580 builds "
              "ln_attn / ln_mlp only for parallel attention, which the forward L598-600 calls)");
    EXPECT_EQ(bad("falcon_7b.json", {{"num_ln_in_parallel_attn", 2}}),
              "E0207: config.num_ln_in_parallel_attn must not be 2 without new_decoder_architecture (the forward "
              "L601-602 then calls the input_layernorm __init__ did not build)");
    EXPECT_EQ(bad("falcon_7b.json", {{"bias", 2}}), "E0207: config.bias must be true or false");
    EXPECT_EQ(bad("falcon_7b.json", {}, {{"activation", "quick_gelu"}}),
              "E0207: config.activation must be one of gelu_new, gelu, gelu_pytorch_tanh, relu, silu, swish, tanh "
              "(the ACT2FN entries costi models)");
    EXPECT_EQ(error_of(write_json("falcon_n_embed.json", R"({"architectures": ["FalconForCausalLM"], "n_embed": 64,
  "n_head": 4, "n_layer": 2, "vocab_size": 128})")),
              "E0207: config.ffn_hidden_size must be given with config.n_embed: FalconConfig releases disagree on its "
              "default (4 x the hidden_size argument, or 4 x n_embed)");
    EXPECT_EQ(bad("command_r_v01.json", {{"num_key_value_heads", 3}}),
              "E0207: config.num_key_value_heads must divide config.num_attention_heads");
    EXPECT_EQ(bad("command_r_v01.json", {{"use_qk_norm", 2}}), "E0207: config.use_qk_norm must be true or false");
    EXPECT_EQ(bad("command_r_v01.json", {{"head_dim", 63}}),
              "E0207: config.head_dim (else hidden_size / num_attention_heads) must be even: RoPE rotates pairs of "
              "each head");
    EXPECT_EQ(bad("command_r_v01.json", {{"tie_word_embeddings", 2}}),
              "E0207: config.tie_word_embeddings must be true or false");
    EXPECT_EQ(error_of(config("falcon_7b.json")), "no error");
    EXPECT_EQ(error_of(config("command_r_v01.json")), "no error");
}

// ---- `--config` selects the family by architectures[0] --------------------------------------

TEST(FamilyFalconCohereConfigJson, ArchitectureSelectsTheFamily) {
    auto falcon = Loaded::from_config_json(config("falcon_7b.json"));
    CostNode root = falcon->run(Step{});
    ASSERT_NE(root.kernel, nullptr);
    EXPECT_EQ(root.kernel->name, "transformers.models.falcon.modeling_falcon.FalconForCausalLM");
    EXPECT_EQ(falcon->total("params"), str(f7::params));
    auto cohere = Loaded::from_config_json(config("command_r_v01.json"));
    CostNode cohere_root = cohere->run(Step{});
    ASSERT_NE(cohere_root.kernel, nullptr);
    EXPECT_EQ(cohere_root.kernel->name, "transformers.models.cohere.modeling_cohere.CohereForCausalLM");
    EXPECT_EQ(cohere->total("params"), str(cr::params));
    // The config.json and the shipped model file agree on every step.
    Step prefill;
    prefill.seq = 100;
    prefill.cache = 20;
    for (bool eager : {false, true}) {
        prefill.eager = eager;
        for (const char* metric : {"flops", "read", "write"}) {
            EXPECT_EQ(falcon->total(metric, prefill), Loaded::shipped("falcon-7b")->total(metric, prefill)) << metric;
            EXPECT_EQ(cohere->total(metric, prefill), Loaded::shipped("c4ai-command-r-v01")->total(metric, prefill))
                << metric;
        }
    }
}

}  // namespace
