// Issue 13's families OPT and BLOOM: each shipped checkpoint's exact parameter count (derived
// by hand from the module shapes and checked against the published figure), the GEMM FLOPs of
// a prefill and of a decode step (Σ 2·M·K·N over the nn.Linear shapes), OPT's learned
// positions with their two extra rows, opt-350m's projections and post-norm layers, BLOOM's
// ALiBi tensor and baddbmm scores, the legacy BloomConfig spellings, configs the families
// cannot run (E0207 naming the key), keys absent from a config.json taking the config class's
// default, and `--config` picking the family by architectures[0].
//
// Every expected number is computed here with plain integers from the published config
// values (the arithmetic is written out in the comments), never taken from costi's output.
#include <cstdint>
#include <string>
#include <vector>

#include "interpreter/evaluator.hpp"
#include "model_support.hpp"

namespace costi::models_test {
namespace {

using namespace family;

using interp::CostiError;

// One metric of the node at `labels` below the root, all its calls (count × cost).
std::string node_total(const Loaded& model, const CostNode& root, std::initializer_list<std::string> labels,
                       const std::string& metric) {
    Found f = find_path(root, labels);
    if (f.node == nullptr) return "not found";
    return (f.calls * f.node->cost.at(model.metric(metric))).to_string();
}

// `costi run --config`: architectures[0] selects the family's *ForCausalLM kernel, and the
// checkpoint's config.json gives the shipped model's parameters.
void expect_selected(const std::string& json, const std::string& kernel, Int params) {
    auto model = Loaded::from_config_json(config(json));
    CostNode root = model->run(Step{});
    ASSERT_NE(root.kernel, nullptr);
    EXPECT_EQ(root.kernel->name, kernel);
    EXPECT_EQ(model->total("params"), str(params));
}

// ============================================================================ OPT
//
// facebook/opt-6.7b: H 4096, F (ffn_dim) 16384, L 32, h 32, V 50272, P 2048,
// word_embed_proj_dim 4096 (no projections), do_layer_norm_before true, enable_bias and
// layer_norm_elementwise_affine true (OPTConfig defaults), lm_head tied (PretrainedConfig).
//   per layer: q, k, v, out_proj 4·(4096·4096 + 4096)     =  67,125,248
//              two LayerNorms with weight and bias 2·2·4096 =      16,384
//              fc1 4096·16384 + 16384                      =  67,125,248
//              fc2 16384·4096 + 4096                       =  67,112,960
//              layer                                       = 201,379,840
//   32 layers 6,444,154,880 + embed_tokens 50272·4096 = 205,914,112
//   + embed_positions (2048 + 2)·4096 = 8,396,800 + final_layer_norm 2·4096 = 8,192
//   = 6,658,473,984 (lm_head tied: counted once, by embed_tokens).
// Published: 6,658,473,984 parameters for facebook/opt-6.7b (the hub's safetensors total; the
// OPT paper, arXiv 2205.01068, Table 1, "6.7B"): equal.
const Int opt67_layer = Int(4) * (4096 * 4096 + 4096) + 4 * 4096 + (Int(4096) * 16384 + 16384) + (Int(16384) * 4096 + 4096);
const Int opt67_params = 32 * opt67_layer + Int(50272) * 4096 + Int(2050) * 4096 + 2 * 4096;

// facebook/opt-350m: H 1024, F 4096, L 24, h 16, V 50272, P 2048, word_embed_proj_dim 512,
// do_layer_norm_before false (no final LayerNorm), biases and affine LayerNorms, tied.
//   per layer: 4·(1024·1024 + 1024) = 4,198,400; LayerNorms 2·2·1024 = 4,096;
//              fc1 1024·4096 + 4096 = 4,198,400; fc2 4096·1024 + 1024 = 4,195,328: 12,596,224
//   24 layers 302,309,376 + embed_tokens 50272·512 = 25,739,264 + embed_positions
//   2050·1024 = 2,099,200 + project_in 512·1024 = 524,288 + project_out 1024·512 = 524,288
//   = 331,196,416.
// Published: 331,196,416 parameters for facebook/opt-350m (the hub's total, "350M" in the
// paper): equal.
const Int opt350_layer = Int(4) * (1024 * 1024 + 1024) + 4 * 1024 + (Int(1024) * 4096 + 4096) + (Int(4096) * 1024 + 1024);
const Int opt350_params = 24 * opt350_layer + Int(50272) * 512 + Int(2050) * 1024 + 2 * Int(512) * 1024;

TEST(FamilyOpt, ExactParamsOfTheShippedCheckpoints) {
    EXPECT_EQ(str(opt67_layer), "201379840");
    EXPECT_EQ(str(opt67_params), "6658473984");
    auto big = Loaded::shipped("opt-6.7b");
    EXPECT_EQ(big->total("params"), str(opt67_params));
    EXPECT_EQ(big->total("active_params"), str(opt67_params));
    EXPECT_EQ(str(opt350_layer), "12596224");
    EXPECT_EQ(str(opt350_params), "331196416");
    auto small = Loaded::shipped("opt-350m");
    EXPECT_EQ(small->total("params"), str(opt350_params));
}

// The position table has max_position_embeddings + 2 rows: (2048 + 2)·4096 = 8,396,800
// parameters. The lookup adds the offset to the [B, S] int64 ids: at B 2, S 5 that add is
// 10 FLOPs, reads 10·8 = 80 bytes and writes 80; the lookup reads the 10 ids (80 bytes) and
// 10 rows of 4096 at w_bytes 2 (81,920 bytes).
TEST(FamilyOpt, LearnedPositionsWithOffsetTwo) {
    auto model = Loaded::shipped("opt-6.7b");
    Step step;
    step.batch = 2;
    step.seq = 5;
    CostNode root = model->run(step);
    EXPECT_EQ(node_total(*model, root, {"decoder", "embed_positions", "lookup"}, "params"), "8396800");
    EXPECT_EQ(node_total(*model, root, {"decoder", "embed_positions", "add_offset"}, "flops"), "10");
    EXPECT_EQ(node_total(*model, root, {"decoder", "embed_positions", "add_offset"}, "read"), "80");
    EXPECT_EQ(node_total(*model, root, {"decoder", "embed_positions", "lookup"}, "read"), str(80 + Int(10) * 4096 * 2));
}

// opt-350m: project_in and project_out run (D 512 != H 1024), the final LayerNorm does not
// (do_layer_norm_before false); the layer still has its two LayerNorms, after the adds.
TEST(FamilyOpt, ProjectionsAndPostNormOf350m) {
    auto model = Loaded::shipped("opt-350m");
    CostNode root = model->run(Step{});
    EXPECT_EQ(node_total(*model, root, {"decoder", "project_in"}, "params"), "524288");
    EXPECT_EQ(node_total(*model, root, {"decoder", "project_out"}, "params"), "524288");
    EXPECT_EQ(node_total(*model, root, {"decoder", "final_layer_norm"}, "params"), "0");
    // 24 layers × 2 LayerNorms × (weight + bias) 2·1024
    EXPECT_EQ(node_total(*model, root, {"decoder", "layers", "self_attn_layer_norm"}, "params"), str(24 * 2 * 1024));
    auto big = Loaded::shipped("opt-6.7b");
    CostNode b = big->run(Step{});
    EXPECT_EQ(node_total(*big, b, {"decoder", "project_in"}, "params"), "0");
    EXPECT_EQ(node_total(*big, b, {"decoder", "final_layer_norm"}, "params"), "8192");
}

// GEMM FLOPs. opt-6.7b, K·N of one token's nn.Linear modules: 32·(4·4096·4096 + 2·4096·16384)
// + lm_head 4096·50272 = 32·201,326,592 + 205,914,112 = 6,648,365,056.
//   prefill of 128 tokens (all positions through lm_head): 2·128·6,648,365,056 = 1,701,981,454,336
//   decode at cache_len 2000: 2·6,648,365,056 = 13,296,730,112
//   generate()'s prefill (logits_to_keep 1): 2·128·6,442,450,944 + 2·205,914,112 = 1,649,267,441,664 + 411,828,224 = 1,649,679,269,888
// opt-350m: 24·(4·1024·1024 + 2·1024·4096) + project_in 512·1024 + project_out 1024·512
// + lm_head 512·50272 = 301,989,888 + 1,048,576 + 25,739,264 = 328,777,728.
TEST(FamilyOpt, GemmFlopsOfPrefillAndDecode) {
    const Int body = Int(32) * (Int(4) * 4096 * 4096 + Int(2) * 4096 * 16384);
    const Int kn = body + Int(4096) * 50272;
    EXPECT_EQ(str(kn), "6648365056");
    EXPECT_EQ(str(2 * 128 * kn), "1701981454336");
    auto model = Loaded::shipped("opt-6.7b");
    Step prefill;
    prefill.seq = 128;
    EXPECT_EQ(linear_flops(*model, prefill), str(2 * 128 * kn));
    Step decode;
    decode.cache = 2000;
    EXPECT_EQ(linear_flops(*model, decode), str(2 * kn));
    Step keep1 = prefill;
    keep1.runtime = {{"logits_to_keep", 1}};
    EXPECT_EQ(linear_flops(*model, keep1), str(2 * 128 * body + 2 * Int(4096) * 50272));
    EXPECT_EQ(str(2 * 128 * body + 2 * Int(4096) * 50272), "1649679269888");

    const Int kn350 = Int(24) * (Int(4) * 1024 * 1024 + Int(2) * 1024 * 4096) + 2 * Int(512) * 1024 + Int(512) * 50272;
    EXPECT_EQ(str(kn350), "328777728");
    auto small = Loaded::shipped("opt-350m");
    EXPECT_EQ(linear_flops(*small, prefill), str(2 * 128 * kn350));
}

// The learned table ends at max_position_embeddings: cache_len + seq_len = 2049 > 2048 stops.
// A head count that does not divide hidden_size, an activation no kernel models and a
// non-boolean flag stop with E0207 naming the key.
TEST(FamilyOpt, PreconditionsNameTheKey) {
    auto model = Loaded::shipped("opt-6.7b");
    Step past;
    past.cache = 2048;
    EXPECT_EQ(error_of(*model, past),
              "E0207: OPT has config.max_position_embeddings learned positions; cache_len + seq_len exceeds them");
    Step at;
    at.cache = 2047;
    EXPECT_EQ(error_of(*model, at), "no error");
    Step heads;
    heads.config = {{"num_attention_heads", 30}};
    EXPECT_EQ(error_of(*model, heads), "E0207: config.hidden_size must be a multiple of config.num_attention_heads");
    Step act;
    act.config_strings = {{"activation_function", "swiglu"}};
    EXPECT_NE(error_of(*model, act).find("E0207: config.activation_function must be one of"), std::string::npos);
    Step bias;
    bias.config = {{"enable_bias", 2}};
    EXPECT_EQ(error_of(*model, bias), "E0207: config.enable_bias must be true or false");
}

TEST(FamilyOpt, ConfigJsonSelectsTheFamily) {
    expect_selected("opt_6.7b.json", "transformers.models.opt.modeling_opt.OPTForCausalLM", opt67_params);
    expect_selected("opt_350m.json", "transformers.models.opt.modeling_opt.OPTForCausalLM", opt350_params);
}

// opt_missing_keys.json gives H 256, ffn_dim 1024, 2 layers, 4 heads, V 1000 only: OPTConfig's
// max_position_embeddings 2048, word_embed_proj_dim = hidden_size, do_layer_norm_before,
// enable_bias and layer_norm_elementwise_affine true, and PretrainedConfig's tied lm_head.
//   layer: 4·(256·256 + 256) = 263,168; LayerNorms 2·2·256 = 1,024; fc1 256·1024 + 1024 =
//   263,168; fc2 1024·256 + 256 = 262,400: 789,760
//   2 layers 1,579,520 + embed_tokens 1000·256 = 256,000 + positions 2050·256 = 524,800
//   + final LayerNorm 512 = 2,360,832.
TEST(FamilyOpt, AbsentKeysTakeTheClassDefaults) {
    auto model = Loaded::from_config_json(config("opt_missing_keys.json"));
    const Int layer = Int(4) * (256 * 256 + 256) + 4 * 256 + (256 * 1024 + 1024) + (1024 * 256 + 256);
    EXPECT_EQ(str(layer), "789760");
    EXPECT_EQ(str(2 * layer + 1000 * 256 + 2050 * 256 + 512), "2360832");
    EXPECT_EQ(model->total("params"), "2360832");
}

// ============================================================================ BLOOM
//
// bigscience/bloom-560m: H 1024, L 24, h 16 (d 64), V 250880, MLP 4·H, every linear with
// bias, lm_head tied (PretrainedConfig's default; the config has no tie_word_embeddings).
//   per layer: input_layernorm 2·1024 = 2,048; query_key_value 1024·3072 + 3072 = 3,148,800;
//              dense 1024·1024 + 1024 = 1,049,600; post_attention_layernorm 2,048;
//              dense_h_to_4h 1024·4096 + 4096 = 4,198,400; dense_4h_to_h 4096·1024 + 1024 =
//              4,195,328: 12,596,224
//   24 layers 302,309,376 + word_embeddings 250880·1024 = 256,901,120
//   + word_embeddings_layernorm 2,048 + ln_f 2,048 = 559,214,592.
// Published: "559,214,592 parameters" (the bigscience/bloom-560m model card): equal.
const Int bloom_layer = Int(2) * 1024 + (Int(1024) * 3072 + 3072) + (Int(1024) * 1024 + 1024) + 2 * 1024 +
                        (Int(1024) * 4096 + 4096) + (Int(4096) * 1024 + 1024);
const Int bloom_params = 24 * bloom_layer + Int(250880) * 1024 + 2 * 1024 + 2 * 1024;

TEST(FamilyBloom, ExactParamsOfTheShippedCheckpoint) {
    EXPECT_EQ(str(bloom_layer), "12596224");
    EXPECT_EQ(str(bloom_params), "559214592");
    auto model = Loaded::shipped("bloom-560m");
    EXPECT_EQ(model->total("params"), str(bloom_params));
    EXPECT_EQ(model->total("active_params"), str(bloom_params));
}

// K·N of one token's nn.Linear modules: 24·(1024·3072 + 1024·1024 + 2·1024·4096) + lm_head
// 1024·250880 = 301,989,888 + 256,901,120 = 558,891,008. BloomForCausalLM has no
// logits_to_keep: lm_head runs over all 128 positions also when logits_to_keep is 1.
//   prefill of 128: 2·128·558,891,008 = 143,076,098,048; decode: 1,117,782,016
TEST(FamilyBloom, GemmFlopsOfPrefillAndDecode) {
    const Int kn = Int(24) * (Int(1024) * 3072 + Int(1024) * 1024 + Int(2) * 1024 * 4096) + Int(1024) * 250880;
    EXPECT_EQ(str(kn), "558891008");
    EXPECT_EQ(str(2 * 128 * kn), "143076098048");
    auto model = Loaded::shipped("bloom-560m");
    Step prefill;
    prefill.seq = 128;
    EXPECT_EQ(linear_flops(*model, prefill), str(2 * 128 * kn));
    prefill.runtime = {{"logits_to_keep", 1}};
    EXPECT_EQ(linear_flops(*model, prefill), str(2 * 128 * kn));
    Step decode;
    decode.cache = 300;
    EXPECT_EQ(linear_flops(*model, decode), str(2 * kn));
}

// The ALiBi tensor of a prefill of B 2 × S 128 (C 0: T = 128 key positions, E = B·T = 256
// mask elements), 16 heads (a power of two: no second set of slopes), a_bytes 2:
//   arange of 16 int32 powers: writes 64 B
//   pow(base, powers): 16 FLOPs, reads 4 + 64 B, writes 64 B
//   cumsum, - 1, * mask over the int64 mask: 3·256 FLOPs; reads 2048 + 2048 + 4096 B, writes 3·2048 B
//   slopes [16, 1] · positions [2, 1, 128] → [2, 16, 128] float32: 4096 FLOPs, reads 64 + 2048 B,
//     writes 16,384 B
//   .to(bf16): reads 16,384 B, writes 8,192 B
//   flops 16 + 768 + 4096 = 4,880; read 68 + 8,192 + 2,112 + 16,384 = 26,756;
//   write 64 + 64 + 6,144 + 16,384 + 8,192 = 30,848
// Each layer's scores: alibi.baddbmm over 32 batches of [128, 64] @ [64, 128]:
//   flops 2·32·128·64·128 = 67,108,864; reads (32·(128·64 + 64·128) + alibi 32·128)·2 = 1,056,768 B
TEST(FamilyBloom, AlibiTensorAndBaddbmmScores) {
    auto model = Loaded::shipped("bloom-560m");
    Step step;
    step.batch = 2;
    step.seq = 128;
    CostNode root = model->run(step);
    EXPECT_EQ(node_total(*model, root, {"transformer", "alibi"}, "flops"), "4880");
    EXPECT_EQ(node_total(*model, root, {"transformer", "alibi"}, "read"), "26756");
    EXPECT_EQ(node_total(*model, root, {"transformer", "alibi"}, "write"), "30848");
    Found scores = find_path(root, {"transformer", "h", "self_attention", "baddbmm"});
    ASSERT_NE(scores.node, nullptr);
    EXPECT_EQ(scores.calls.to_string(), "24");
    EXPECT_EQ(scores.node->cost.at(model->metric("flops")).to_string(), str(Int(2) * 32 * 128 * 64 * 128));
    EXPECT_EQ(scores.node->cost.at(model->metric("read")).to_string(), "1056768");
}

// Batch scaling with weights free (w_bytes 0, as tests/models/structure_test.cpp: 2·cost(w 1)
// − cost(w 2)): every cost is affine in the batch from B 2 on (the query copy of the baddbmm
// starts at B 2 when S > 1), and its constant, the line through B 2 and 3 at B 0
// (3·cost(2) − 2·cost(3)), is what build_alibi_tensor does once whatever the batch: the
// arange of 16 int32 powers (64 B written), pow(base, powers) (16 FLOPs, reads 4 + 64 B,
// writes 64 B), and the [16, 1] slopes read once by the product with the positions (64 B).
//   flops 16, read 4 + 64 + 64 = 132, write 64 + 64 = 128.
TEST(FamilyBloom, BatchScalingHasTheSlopesAsItsConstant) {
    auto model = Loaded::shipped("bloom-560m");
    for (auto [seq, cache] : {std::pair<std::int64_t, std::int64_t>{5, 0}, {1, 9}, {3, 6}}) {
        auto at = [&](std::int64_t batch, const char* metric) {
            auto with_w = [&](std::int64_t w) {
                Step s;
                s.batch = batch;
                s.seq = seq;
                s.cache = cache;
                s.runtime = {{"w_bytes", w}};
                CostNode root = model->run(s);
                return root.count * root.cost.at(model->metric(metric));
            };
            return interp::Number(2) * with_w(1) - with_w(2);
        };
        for (auto [metric, constant] : {std::pair<const char*, const char*>{"flops", "16"}, {"read", "132"}, {"write", "128"}}) {
            EXPECT_EQ((interp::Number(3) * at(2, metric) - interp::Number(2) * at(3, metric)).to_string(), constant)
                << metric << " seq " << seq << " cache " << cache;
        }
    }
}

// A head count that is not a power of two takes a second set of slopes (L80-86): 12 heads
// (hidden_size 240, d 20): closest power of two 8, 4 extra heads. At B 1, S 1 (T = 1):
// pow 8 + pow 4 + cumsum, - 1, * mask 3·1 + slopes · positions 12 = 27 FLOPs, and the cat
// of the two slope vectors writes 12 float32 (48 B).
TEST(FamilyBloom, SlopesForAHeadCountThatIsNotAPowerOfTwo) {
    auto model = Loaded::from_config_json(config("bloom_missing_keys.json"));
    Step step;
    step.config = {{"hidden_size", 240}, {"n_head", 12}};
    CostNode root = model->run(step);
    EXPECT_EQ(node_total(*model, root, {"transformer", "alibi"}, "flops"), "27");
    EXPECT_EQ(node_total(*model, root, {"transformer", "alibi", "slopes_cat"}, "write"), "48");
}

// The legacy spellings: a config.json with n_embed and num_attention_heads (the form another
// public copy of bloom-560m's config has) names the same model.
TEST(FamilyBloom, ConfigJsonSelectsTheFamily) {
    expect_selected("bloom_560m.json", "transformers.models.bloom.modeling_bloom.BloomForCausalLM", bloom_params);
    expect_selected("bloom_560m_legacy_keys.json", "transformers.models.bloom.modeling_bloom.BloomForCausalLM",
                    bloom_params);
}

TEST(FamilyBloom, PreconditionsNameTheKey) {
    auto model = Loaded::shipped("bloom-560m");
    Step heads;
    heads.config = {{"n_head", 24}};
    EXPECT_EQ(error_of(*model, heads),
              "E0207: config.hidden_size (n_embed) must be a multiple of config.n_head (num_attention_heads)");
    Step sdpa;
    sdpa.config_strings = {{"attn_implementation", "sdpa"}};
    EXPECT_NE(error_of(*model, sdpa).find("E0207: config._attn_implementation (or attn_implementation) must be eager"),
              std::string::npos);
    Step tp;
    tp.config = {{"pretraining_tp", 2}, {"slow_but_exact", 1}};
    EXPECT_NE(error_of(*model, tp).find("E0207: config.slow_but_exact with config.pretraining_tp > 1"), std::string::npos);
}

// bloom_missing_keys.json gives H 256, n_layer 2, n_head 4, V 1000 only; the lm_head is tied
// (PretrainedConfig).
//   layer: LayerNorms 2·2·256 = 1,024; query_key_value 256·768 + 768 = 197,376; dense
//   256·256 + 256 = 65,792; h_to_4h 256·1024 + 1024 = 263,168; 4h_to_h 1024·256 + 256 =
//   262,400: 789,760
//   2 layers 1,579,520 + word_embeddings 256,000 + two LayerNorms 2·512 = 1,836,544.
TEST(FamilyBloom, AbsentKeysTakeTheClassDefaults) {
    auto model = Loaded::from_config_json(config("bloom_missing_keys.json"));
    const Int layer = Int(4) * 256 + (256 * 768 + 768) + (256 * 256 + 256) + (256 * 1024 + 1024) + (1024 * 256 + 256);
    EXPECT_EQ(str(layer), "789760");
    EXPECT_EQ(str(2 * layer + 1000 * 256 + 2 * 512), "1836544");
    EXPECT_EQ(model->total("params"), "1836544");
}

}  // namespace
}  // namespace costi::models_test
