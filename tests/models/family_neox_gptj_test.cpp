// Issue 13's families GPT-NeoX (kernels/gpt_neox.cost, models/pythia-6.9b.cost) and GPT-J
// (kernels/gptj.cost, models/gpt-j-6b.cost): each shipped checkpoint's exact parameter count
// (derived by hand from the module shapes and compared with the published figure), the GEMM
// FLOPs of a prefill and of a decode step (Σ 2·M·K·N over the nn.Linear shapes), the
// attention and rotary FLOPs of a step written out from the forward code, the KV-cache
// bytes, configs the classes cannot run (E0207 naming the key), keys absent from a
// config.json taking the config class's default (and GPT-J's legacy key names), and
// `--config` picking the family by architectures[0].
//
// Every expected number is computed here with plain integers from the config values (the
// arithmetic is in the comments), never taken from costi's output.
#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "interpreter/evaluator.hpp"
#include "model_support.hpp"

namespace costi::models_test {
namespace {

using namespace family;

using interp::CostiError;
using interp::Overrides;
using interp::Session;

// ============================================================================ GPT-NeoX
//
// EleutherAI/pythia-6.9b: H 4096, I 16384, L 32, h 32, d 4096/32 = 128, rotary_pct 0.25 →
// r = 32, V 50432, untied embed_out, biases on every linear but embed_out (attention_bias
// absent: True).
//   per layer: input/post_attention LayerNorms 2·2·4096            =      16,384
//              query_key_value 4096·12288 + 12288                  =  50,343,936
//              dense 4096·4096 + 4096                              =  16,781,312
//              dense_h_to_4h 4096·16384 + 16384                    =  67,125,248
//              dense_4h_to_h 16384·4096 + 4096                     =  67,112,960
//                                                                    201,379,840
//   32 layers 6,444,154,880 + embed_in 50432·4096 = 206,569,472 + final LayerNorm 8,192
//   + embed_out 206,569,472 = 6,857,302,016.
namespace pythia {
const Int H = 4096, I = 16384, L = 32, h = 32, d = 128, r = 32, V = 50432;
const Int layer = 4 * H + (H * 3 * H + 3 * H) + (H * H + H) + (H * I + I) + (I * H + H);
const Int embed = V * H;
const Int params = L * layer + embed + 2 * H + embed;
// K·N of the GEMMs one token goes through: query_key_value, dense, the two MLP layers, embed_out.
const Int linear_kn = L * (H * 3 * H + H * H + 2 * H * I) + H * V;
}  // namespace pythia

// The Pythia model card's table: 6.9B, total params 6,857,302,016, non-embedding params
// 6,444,163,072 (the total without embed_in and embed_out: 6,857,302,016 − 2·206,569,472).
TEST(FamilyGptNeox, Pythia6_9bExactAndPublished) {
    EXPECT_EQ(str(pythia::layer), "201379840");
    EXPECT_EQ(str(pythia::params), "6857302016");
    EXPECT_EQ(str(pythia::params - 2 * pythia::embed), "6444163072");
    auto model = Loaded::shipped("pythia-6.9b");
    EXPECT_EQ(model->total("params"), str(pythia::params));
    EXPECT_EQ(model->total("active_params"), str(pythia::params));
}

// 32·(50,331,648 + 16,777,216 + 2·67,108,864) + 206,569,472 = 6,649,020,416 per token.
TEST(FamilyGptNeox, GemmFlopsPrefillAndDecode) {
    EXPECT_EQ(str(pythia::linear_kn), "6649020416");
    auto model = Loaded::shipped("pythia-6.9b");
    EXPECT_EQ(linear_flops(*model, steps::prefill(128)), str(2 * 128 * pythia::linear_kn));
    EXPECT_EQ(linear_flops(*model, steps::decode(2047)), str(2 * pythia::linear_kn));
    EXPECT_EQ(linear_flops(*model, steps::step(3, 5, 7)), str(2 * 15 * pythia::linear_kn));
    // logits_to_keep 1 (generate()): embed_out on the last of the 5 new tokens only
    Step keep = steps::step(3, 5, 7);
    keep.runtime.emplace_back("logits_to_keep", 1);
    EXPECT_EQ(linear_flops(*model, keep),
              str(2 * 15 * (pythia::linear_kn - pythia::H * pythia::V) + 2 * 3 * pythia::H * pythia::V));
}

// Eager attention (L97-126): per layer the scores [B, h, S, C+S] (2·B·h·S·(C+S)·d), the
// weighted sum (the same), the scale (one mul per score), the mask add (one per score), the
// float32 softmax (three per score) — 4·B·h·S·kv·d + 5·B·h·S·kv in all.
//   decode at C = 2047, B = 2: kv 2048; 4·2·32·1·2048·128 + 5·2·32·2048 = 67,108,864 + 655,360
TEST(FamilyGptNeox, EagerAttentionFlops) {
    auto model = Loaded::shipped("pythia-6.9b");
    for (auto [b, s, c] : {std::tuple<Int, Int, Int>{2, 1, 2047}, {1, 7, 5}}) {
        Step step = steps::step(std::int64_t(b), std::int64_t(s), std::int64_t(c));
        step.eager = true;
        CostNode root = model->run(step);
        Found a = find_path(root, {"gpt_neox", "layers", "attention", "eager_attention"});
        ASSERT_NE(a.node, nullptr);
        EXPECT_EQ(a.calls.to_string(), "32");
        const Int kv = c + s;
        EXPECT_EQ(a.node->cost.at(model->metric("flops")).to_string(),
                  str(4 * b * pythia::h * s * kv * pythia::d + 5 * b * pythia::h * s * kv));
    }
}

// Partial rotary: apply_rotary_pos_emb (L59-94) touches r = int(128·0.25) = 32 of each head's
// 128 values: per q and per k, q_rot·cos, rotate_half's neg of half, ·sin, + → 3.5·B·h·S·r
// FLOPs; 7·B·h·S·r for both. The final cats move the whole head (no FLOPs).
//   B 2, S 3: 7·2·32·3·32 = 43,008 per layer. With rotary_pct 1 (r = 128): 172,032.
TEST(FamilyGptNeox, PartialRotaryTouchesRotaryPctOfEachHead) {
    auto model = Loaded::shipped("pythia-6.9b");
    auto rope_flops = [&](const Step& step) {
        CostNode root = model->run(step);
        Found f = find_path(root, {"gpt_neox", "layers", "attention", "rope"});
        return f.node == nullptr ? std::string("none") : f.node->cost.at(model->metric("flops")).to_string();
    };
    Step step = steps::step(2, 3, 4);
    EXPECT_EQ(rope_flops(step), str(7 * 2 * pythia::h * 3 * pythia::r));
    EXPECT_EQ(str(7 * 2 * pythia::h * 3 * pythia::r), "43008");
    // The RoPE tables are r wide: cos and sin [B, S, r] (one FLOP per element for each of cos,
    // sin and their two scalings) and the [B, r/2, 1] @ [B, 1, S] product (2·B·(r/2)·S).
    CostNode root = model->run(step);
    Found t = find_path(root, {"gpt_neox", "rotary_emb"});
    ASSERT_NE(t.node, nullptr);
    EXPECT_EQ(t.node->cost.at(model->metric("flops")).to_string(), str(4 * 2 * 3 * pythia::r + 2 * 2 * (pythia::r / 2) * 3));
}

// rotary_pct enters through a config.json: a pythia config with rotary_pct 1 rotates all 128.
TEST(FamilyGptNeox, FullRotaryFromConfigJson) {
    std::ifstream in(config("pythia_6.9b.json"));
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto at = text.find("\"rotary_pct\": 0.25");
    ASSERT_NE(at, std::string::npos);
    text.replace(at, std::string("\"rotary_pct\": 0.25").size(), "\"rotary_pct\": 1.0");
    auto model = Loaded::from_config_json(write_json("pythia_full_rotary.json", text));
    CostNode root = model->run(steps::step(2, 3, 4));
    Found f = find_path(root, {"gpt_neox", "layers", "attention", "rope"});
    ASSERT_NE(f.node, nullptr);
    EXPECT_EQ(f.node->cost.at(model->metric("flops")).to_string(), str(7 * 2 * pythia::h * 3 * 128));
    EXPECT_EQ(model->total("params"), str(pythia::params));  // rotary has no parameters
}

// The parallel residual and the sequential one run the same kernels (two LayerNorms, the
// attention, the MLP, two adds): every metric is the same for both settings.
TEST(FamilyGptNeox, ParallelAndSequentialResidualCostTheSame) {
    auto model = Loaded::shipped("pythia-6.9b");
    for (const char* m : {"flops", "read", "write", "params"}) {
        Step par = steps::step(2, 5, 3);
        Step seq = par;
        seq.config.emplace_back("use_parallel_residual", 0);
        EXPECT_EQ(model->total(m, par), model->total(m, seq)) << m;
    }
}

// K and V per token, bf16: 2 · 32 layers · 32 heads · 128 · 2 B = 524,288 B; after a step at
// cache_len C the cache holds C + 1 tokens.
TEST(FamilyGptNeox, KvCacheBytes) {
    const Int per_token = Int(2) * pythia::L * pythia::h * pythia::d * 2;
    EXPECT_EQ(str(per_token), "524288");
    for (std::int64_t c : {0, 100, 2047}) {
        EXPECT_EQ(kv_cache_bytes("pythia-6.9b", steps::decode(c)), str((c + 1) * per_token)) << c;
    }
}

// Tied: embed_out shares embed_in's weight, 206,569,472 parameters fewer.
TEST(FamilyGptNeox, TiedEmbedOut) {
    auto model = Loaded::shipped("pythia-6.9b");
    EXPECT_EQ(model->total("params", with_config({{"tie_word_embeddings", 1}})), str(pythia::params - pythia::embed));
    // attention_bias false drops the query_key_value and dense biases: 32·(12288 + 4096)
    EXPECT_EQ(model->total("params", with_config({{"attention_bias", 0}})),
              str(pythia::params - pythia::L * (3 * pythia::H + pythia::H)));
}

// Keys absent from config.json take GPTNeoXConfig's defaults: neox_missing_keys.json gives
// H 256, I 512, 2 layers, 4 heads, V 1000 only, so attention_bias → True, rotary_pct → 0.25,
// tie_word_embeddings → False, use_parallel_residual → True.
//   layer: LayerNorms 4·256 = 1,024; query_key_value 256·768 + 768 = 197,376; dense
//   256·256 + 256 = 65,792; MLP 256·512 + 512 + 512·256 + 256 = 262,912: 527,104
//   2 layers 1,054,208 + embed_in 256,000 + final LayerNorm 512 + embed_out 256,000 = 1,566,720
TEST(FamilyGptNeox, AbsentKeysTakeTheClassDefaults) {
    auto model = Loaded::from_config_json(config("neox_missing_keys.json"));
    const Int layer = Int(4) * 256 + (256 * 768 + 768) + (256 * 256 + 256) + (256 * 512 + 512) + (512 * 256 + 256);
    EXPECT_EQ(str(layer), "527104");
    EXPECT_EQ(model->total("params"), str(2 * layer + 1000 * 256 + 512 + 1000 * 256));
    EXPECT_EQ(model->total("params"), "1566720");
    // d = 64, r = int(64·0.25) = 16: rope 7·1·4·1·16 = 448 FLOPs per layer at decode
    CostNode root = model->run(steps::decode(9));
    Found f = find_path(root, {"gpt_neox", "layers", "attention", "rope"});
    ASSERT_NE(f.node, nullptr);
    EXPECT_EQ(f.node->cost.at(model->metric("flops")).to_string(), "448");
    // A config.json with only architectures is GPTNeoXConfig(): the 20B shape (H 6144, 44 layers,
    // 64 heads, I 24576, V 50432): 44·(4·6144 + 6144·18432 + 18432 + 6144² + 6144 +
    // 6144·24576 + 24576 + 24576·6144 + 6144) + 2·50432·6144 + 2·6144 = 20,554,567,680
    auto bare = Loaded::from_config_json(write_json("neox_defaults.json", "{\"architectures\": [\"GPTNeoXForCausalLM\"]}\n"));
    const Int H = 6144, I = 24576, V = 50432;
    EXPECT_EQ(bare->total("params"),
              str(44 * (4 * H + H * 3 * H + 3 * H + H * H + H + H * I + I + I * H + H) + 2 * V * H + 2 * H));
    EXPECT_EQ(bare->total("params"), "20554567680");
}

// A config the class cannot run stops with E0207 naming the key.
TEST(FamilyGptNeox, BadConfigsNameTheirKey) {
    auto model = Loaded::shipped("pythia-6.9b");
    EXPECT_EQ(error_of(*model, with_config({{"num_attention_heads", 30}})),
              "E0207: config.hidden_size must be a multiple of config.num_attention_heads");
    EXPECT_EQ(error_of(*model, with_config({{"num_attention_heads", 0}})),
              "E0207: config.num_attention_heads must be a positive integer");
    EXPECT_EQ(error_of(*model, with_config({{"use_parallel_residual", 2}})),
              "E0207: config.use_parallel_residual must be true or false");
    EXPECT_EQ(error_of(*model, with_config({{"attention_bias", 2}})), "E0207: config.attention_bias must be true or false");
    EXPECT_EQ(error_of(*model, with_config({{"intermediate_size", 0}})),
              "E0207: config.intermediate_size must be a positive integer");
    EXPECT_EQ(error_of(*model, with_config({{"rotary_pct", 2}})),
              "E0207: config.rotary_pct must be in (0, 1]: the share of each head's dimensions RoPE rotates");
    Step act;
    act.config_strings.emplace_back("hidden_act", "relu6");
    EXPECT_EQ(error_of(*model, act).substr(0, 40), "E0207: config.hidden_act must be one of ");
    // rotary_pct 65/128 of a 128-wide head: int(128·0.5078125) = 65 rotary dimensions, odd
    std::ifstream in(config("pythia_6.9b.json"));
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto at = text.find("\"rotary_pct\": 0.25");
    ASSERT_NE(at, std::string::npos);
    text.replace(at, std::string("\"rotary_pct\": 0.25").size(), "\"rotary_pct\": 0.5078125");
    auto odd = Loaded::from_config_json(write_json("pythia_odd_rotary.json", text));
    EXPECT_EQ(error_of(*odd),
              "E0207: config.rotary_pct must give an even number of rotary dimensions, "
              "int(hidden_size / num_attention_heads * rotary_pct) >= 2: RoPE rotates two halves");
    EXPECT_EQ(error_of(*model), "no error");
}

TEST(FamilyGptNeox, ConfigJsonSelectsTheFamily) {
    auto model = Loaded::from_config_json(config("pythia_6.9b.json"));
    CostNode root = model->run(Step{});
    ASSERT_NE(root.kernel, nullptr);
    EXPECT_EQ(root.kernel->name, "transformers.models.gpt_neox.modeling_gpt_neox.GPTNeoXForCausalLM");
    EXPECT_EQ(model->total("params"), str(pythia::params));
    Step prefill = steps::step(1, 100, 20);
    EXPECT_EQ(model->total("flops", prefill), Loaded::shipped("pythia-6.9b")->total("flops", prefill));
    EXPECT_EQ(model->total("read", prefill), Loaded::shipped("pythia-6.9b")->total("read", prefill));
}

TEST(FamilyGptNeox, EveryPathRuns) {
    auto model = Loaded::from_config_json(config("pythia_6.9b.json"));
    for (bool eager : {false, true}) {
        for (std::int64_t parallel : {0, 1}) {
            for (auto [b, s, c] : {std::tuple<std::int64_t, std::int64_t, std::int64_t>{1, 1, 0}, {3, 5, 7}, {2, 1, 9}}) {
                Step step = steps::step(b, s, c);
                step.eager = eager;
                step.config.emplace_back("use_parallel_residual", parallel);
                EXPECT_EQ(error_of(*model, step), "no error") << eager << parallel << b << s << c;
            }
        }
    }
}

// ============================================================================ GPT-J
//
// EleutherAI/gpt-j-6b: n_embd 4096, n_layer 28, n_head 16, d 256, rotary_dim 64, n_inner
// None → 4·4096 = 16384, V 50400, n_positions 2048; q/k/v/out_proj without bias, fc_in and
// fc_out with bias, one LayerNorm per block, lm_head with bias, untied.
//   per layer: ln_1 2·4096                                 =       8,192
//              q, k, v, out_proj 4·4096·4096               =  67,108,864
//              fc_in 4096·16384 + 16384                    =  67,125,248
//              fc_out 16384·4096 + 4096                    =  67,112,960
//                                                            201,355,264
//   28 layers 5,637,947,392 + wte 50400·4096 = 206,438,400 + ln_f 8,192
//   + lm_head 206,438,400 + 50,400 = 6,050,882,784.
namespace gptj {
const Int H = 4096, L = 28, h = 16, d = 256, r = 64, I = 16384, V = 50400, P = 2048;
const Int layer = 2 * H + 4 * H * H + (H * I + I) + (I * H + H);
const Int embed = V * H;
const Int params = L * layer + embed + 2 * H + embed + V;
const Int linear_kn = L * (4 * H * H + 2 * H * I) + H * V;
}  // namespace gptj

// The model card publishes n_parameters 6,053,381,344 (mesh-transformer-jax's count);
// transformers' GPTJForCausalLM holds 2,498,560 = 610·4096 fewer — the 6,050,882,784 a public
// run of the loaded model prints and the hand count above.
TEST(FamilyGptJ, GptJ6bExactAndPublished) {
    EXPECT_EQ(str(gptj::layer), "201355264");
    EXPECT_EQ(str(gptj::params), "6050882784");
    EXPECT_EQ(str(Int(6053381344) - gptj::params), "2498560");
    EXPECT_EQ(Int(2498560), Int(610) * 4096);
    auto model = Loaded::shipped("gpt-j-6b");
    EXPECT_EQ(model->total("params"), str(gptj::params));
}

// 28·(67,108,864 + 134,217,728) + 206,438,400 = 5,843,582,976 per token; lm_head runs on every
// position (GPTJForCausalLM.forward takes no logits_to_keep: the runtime variable changes nothing).
TEST(FamilyGptJ, GemmFlopsPrefillAndDecode) {
    EXPECT_EQ(str(gptj::linear_kn), "5843582976");
    auto model = Loaded::shipped("gpt-j-6b");
    EXPECT_EQ(linear_flops(*model, steps::prefill(128)), str(2 * 128 * gptj::linear_kn));
    EXPECT_EQ(linear_flops(*model, steps::decode(2047)), str(2 * gptj::linear_kn));
    Step keep = steps::step(3, 5, 7);
    keep.runtime.emplace_back("logits_to_keep", 1);
    EXPECT_EQ(linear_flops(*model, keep), str(2 * 15 * gptj::linear_kn));
}

// _attn (L151-180) in float32: scores and weighted sum 4·B·h·S·kv·d, the division by
// scale_attn, the mask add, the softmax (3): 5·B·h·S·kv more. The rotary (L74-84) on the first
// 64 of each head's 256 values, for k and for q: x·cos, neg of half, ·sin, + → 3.5·B·S·h·r
// each; the per-layer table repeat, position repeat and gather compute nothing.
//   decode at C 2047, B 2: 4·2·16·2048·256 + 5·2·16·2048 = 67,108,864 + 327,680 = 67,436,544
//   plus the rotary 7·2·1·16·64 = 14,336, and nothing else in the attention but its
//   four projections (2·2·4·4096·4096 = 268,435,456).
TEST(FamilyGptJ, AttentionAndRotaryFlops) {
    auto model = Loaded::shipped("gpt-j-6b");
    for (auto [b, s, c] : {std::tuple<Int, Int, Int>{2, 1, 2047}, {1, 7, 5}}) {
        CostNode root = model->run(steps::step(std::int64_t(b), std::int64_t(s), std::int64_t(c)));
        Found a = find_path(root, {"transformer", "h", "attn"});
        ASSERT_NE(a.node, nullptr);
        EXPECT_EQ(a.calls.to_string(), "28");
        const Int kv = c + s;
        const Int M = b * s;
        EXPECT_EQ(a.node->cost.at(model->metric("flops")).to_string(),
                  str(4 * b * gptj::h * s * kv * gptj::d + 5 * b * gptj::h * s * kv + 7 * M * gptj::h * gptj::r +
                      2 * M * 4 * gptj::H * gptj::H));
    }
}

// The cache: the rotated keys are float32 (q_rot·cos with the float32 sinusoid table), the
// values bf16: per token 28·4096·(4 + 2) = 688,128 B (a bf16 key cache would be 458,752).
TEST(FamilyGptJ, KvCacheKeysAreFloat32) {
    const Int per_token = gptj::L * gptj::H * (4 + 2);
    EXPECT_EQ(str(per_token), "688128");
    for (std::int64_t c : {0, 100, 2047}) {
        EXPECT_EQ(kv_cache_bytes("gpt-j-6b", steps::decode(c)), str((c + 1) * per_token)) << c;
    }
}

// Every layer repeats the float32 sinusoid table [2048, 64] over the batch (L187):
// B·2048·64·4 bytes written, 2048·64·4 read, whatever the step's length.
TEST(FamilyGptJ, SinusoidTableRepeatedPerLayer) {
    auto model = Loaded::shipped("gpt-j-6b");
    CostNode root = model->run(steps::decode(10, 3));
    Found e = find_path(root, {"transformer", "h", "attn", "embed_positions"});
    ASSERT_NE(e.node, nullptr);
    EXPECT_EQ(e.node->cost.at(model->metric("write")).to_string(), str(3 * gptj::P * gptj::r * 4));
    EXPECT_EQ(e.node->cost.at(model->metric("read")).to_string(), str(gptj::P * gptj::r * 4));
}

// Batch: FLOPs and bytes written are linear in the batch (the table repeat writes B copies);
// bytes read are affine — the weights and GPT-J's sinusoid table [2048, 64] are read once per
// layer whatever the batch — so their second difference cost(3) − 2·cost(2) + cost(1) is 0.
// GPT-NeoX's RoPE tables are per position: linear too. The exception, as on Llama's eager
// path: for B > 1 and S > 1, GPT-J's batched torch.matmul copies the permuted float32 query
// (L163), B·h·S·d·4 bytes read and written per layer, absent at B = 1: writes
// cost(3) − 3·cost(1) = 28·3·16·S·256·4, reads' second difference −28·16·S·256·4
// (S = 5: 6,881,280 and −2,293,760).
TEST(FamilyGptJ, BatchLinearAndAffine) {
    for (const char* file : {"gpt-j-6b", "pythia-6.9b"}) {
        auto model = Loaded::shipped(file);
        for (auto [s, c] : {std::pair<std::int64_t, std::int64_t>{5, 0}, {1, 9}, {3, 5}}) {
            auto at = [&](const char* m, std::int64_t b) {
                Step step = steps::step(b, s, c);
                step.eager = std::string(file) == "pythia-6.9b" && s == 3;   // NeoX's eager path too
                return *Number::parse(model->total(m, step));
            };
            const Int copy = std::string(file) == "gpt-j-6b" && s > 1 ? gptj::L * gptj::h * s * gptj::d * 4 : 0;
            EXPECT_EQ((at("flops", 3) - Number(3) * at("flops", 1)).to_string(), "0") << file << " S " << s;
            EXPECT_EQ((at("write", 3) - Number(3) * at("write", 1)).to_string(), str(3 * copy)) << file << " S " << s;
            EXPECT_EQ((at("read", 3) - Number(2) * at("read", 2) + at("read", 1)).to_string(), str(-copy))
                << file << " S " << s;
        }
    }
}

// Tied: only lm_head's weight is shared with wte; its bias [50400] stays a parameter.
TEST(FamilyGptJ, TiedKeepsTheLmHeadBias) {
    auto model = Loaded::shipped("gpt-j-6b");
    EXPECT_EQ(model->total("params", with_config({{"tie_word_embeddings", 1}})), str(gptj::params - gptj::embed));
}

// Keys absent from config.json take GPTJConfig's defaults: gptj_missing_keys.json gives n_embd
// 256, n_head 4, n_layer 2, V 1000 only, so n_inner → 4·256 = 1024, rotary_dim → 64 (= the
// head dimension 256/4), tie_word_embeddings → False, activation gelu_new.
//   layer: ln_1 512; q, k, v, out_proj 4·256·256 = 262,144; fc_in 256·1024 + 1024 = 263,168;
//   fc_out 1024·256 + 256 = 262,400: 788,224
//   2 layers 1,576,448 + wte 256,000 + ln_f 512 + lm_head 256,000 + 1,000 = 2,089,960
TEST(FamilyGptJ, AbsentKeysTakeTheClassDefaults) {
    auto model = Loaded::from_config_json(config("gptj_missing_keys.json"));
    const Int layer = Int(512) + 4 * 256 * 256 + (256 * 1024 + 1024) + (1024 * 256 + 256);
    EXPECT_EQ(str(layer), "788224");
    EXPECT_EQ(model->total("params"), str(2 * layer + 256000 + 512 + 256000 + 1000));
    EXPECT_EQ(model->total("params"), "2089960");
    // A config.json with only architectures is GPTJConfig(): the 6B shape.
    auto bare = Loaded::from_config_json(write_json("gptj_defaults.json", "{\"architectures\": [\"GPTJForCausalLM\"]}\n"));
    EXPECT_EQ(bare->total("params"), str(gptj::params));
}

// GPTJConfig's attribute_map: hidden_size, num_attention_heads, num_hidden_layers and
// max_position_embeddings name n_embd, n_head, n_layer and n_positions. A config.json written
// with the mapped names is the same model.
TEST(FamilyGptJ, MappedKeyNamesAreTheLegacyOnes) {
    auto mapped = Loaded::from_config_json(write_json(
        "gptj_mapped_names.json",
        "{\"architectures\": [\"GPTJForCausalLM\"], \"hidden_size\": 256, \"num_attention_heads\": 4,"
        " \"num_hidden_layers\": 2, \"max_position_embeddings\": 512, \"vocab_size\": 1000}\n"));
    auto legacy = Loaded::from_config_json(config("gptj_missing_keys.json"));
    EXPECT_EQ(mapped->total("params"), "2089960");
    Step step = steps::step(2, 3, 4);
    EXPECT_EQ(mapped->total("flops", step), legacy->total("flops", step));
    // max_position_embeddings 512 is n_positions: the table holds 512 rows
    EXPECT_EQ(error_of(*mapped, steps::step(1, 1, 512)),
              "E0207: GPT-J's sinusoidal table has config.n_positions rows; cache_len + seq_len exceeds them");
}

TEST(FamilyGptJ, BadConfigsNameTheirKey) {
    auto model = Loaded::shipped("gpt-j-6b");
    EXPECT_EQ(error_of(*model, with_config({{"n_head", 30}})), "E0207: config.n_embd must be a multiple of config.n_head");
    EXPECT_EQ(error_of(*model, with_config({{"n_head", 0}})), "E0207: config.n_head must be a positive integer");
    EXPECT_EQ(error_of(*model, with_config({{"rotary_dim", 63}})),
              "E0207: config.rotary_dim must be a positive even integer: rotate_every_two rotates pairs");
    EXPECT_EQ(error_of(*model, with_config({{"rotary_dim", 512}})),
              "E0207: config.rotary_dim must not exceed the head dimension config.n_embd / config.n_head");
    EXPECT_EQ(error_of(*model, with_config({{"n_inner", 0}})),
              "E0207: config.n_inner must be a positive integer (or null: 4 * n_embd)");
    EXPECT_EQ(error_of(*model, steps::step(1, 2, 2047)),
              "E0207: GPT-J's sinusoidal table has config.n_positions rows; cache_len + seq_len exceeds them");
    Step sdpa;
    sdpa.config_strings.emplace_back("_attn_implementation", "sdpa");
    EXPECT_EQ(error_of(*model, sdpa),
              "E0207: config._attn_implementation (or attn_implementation) must be eager: GPT-J's attention classes "
              "are eager and flash_attention_2 (L404-407), costi models eager");
    EXPECT_EQ(error_of(*model), "no error");
}

TEST(FamilyGptJ, ConfigJsonSelectsTheFamily) {
    auto model = Loaded::from_config_json(config("gpt_j_6b.json"));
    CostNode root = model->run(Step{});
    ASSERT_NE(root.kernel, nullptr);
    EXPECT_EQ(root.kernel->name, "transformers.models.gptj.modeling_gptj.GPTJForCausalLM");
    EXPECT_EQ(model->total("params"), str(gptj::params));  // n_inner null reads as absent: 4·n_embd
    Step prefill = steps::step(2, 100, 20);
    EXPECT_EQ(model->total("flops", prefill), Loaded::shipped("gpt-j-6b")->total("flops", prefill));
    EXPECT_EQ(model->total("write", prefill), Loaded::shipped("gpt-j-6b")->total("write", prefill));
}

}  // namespace
}  // namespace costi::models_test
