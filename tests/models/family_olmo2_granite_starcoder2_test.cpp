// Issue 13's families OLMo 2, Granite and StarCoder2: each shipped checkpoint's exact
// parameter count (derived by hand from the module shapes and checked against the published
// figure), the GEMM FLOPs of a prefill and of a decode step (Σ 2·M·K·N over the nn.Linear
// shapes), the KV-cache bytes a step leaves, a config the family cannot run (E0207 naming
// the key), keys absent from a config.json taking the config class's default, and
// `--config` picking the family by architectures[0].
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
using interp::Overrides;
using interp::Session;

// Under both executions (vLLM and the kernels as written) the model holds the same weights.
void expect_params_under_both_executions(const EngineRuns& runs, const std::string& name, const Int& params) {
    for (const std::string engine : {"vllm", ""}) {
        EXPECT_EQ(runs.total_as(name, "params", steps::prefill(7), engine), str(params)) << engine;
    }
}

// A vLLM decode step writes only the new tokens' K and V (reshape_and_cache_flash): per_token
// bytes per sequence at every cache length in `caches`, `batch` times that for a batch.
void expect_decode_cache_writes(const EngineRuns& runs, const std::string& name, const Int& per_token,
                                std::initializer_list<std::int64_t> caches, std::int64_t batch_cache,
                                std::int64_t batch) {
    const std::string w = "vllm.reshape_and_cache_flash";
    for (std::int64_t c : caches) {
        EXPECT_EQ(runs.leaves_as(name, w, "write", steps::decode(c), "vllm"), str(per_token)) << "cache_len " << c;
    }
    if (batch > 1) {
        EXPECT_EQ(runs.leaves_as(name, w, "write", steps::decode(batch_cache, batch), "vllm"), str(batch * per_token));
    }
}

// The code and message of the error a shipped model stops with under these config overrides.
struct Stop {
    std::string code = "no error";
    std::string message;
};
Stop stop_of(const std::string& model_file, const Step& step) {
    auto model = Loaded::shipped(model_file);
    Stop s;
    try {
        model->run(step);
    } catch (const CostiError& e) {
        s.code = e.diagnostics().front().code;
        s.message = e.diagnostics().front().message;
    }
    return s;
}

// A config value the family cannot run stops the shipped model with E0207 naming the key.
void expect_stop(const std::string& model_file, const char* key, std::int64_t value, const std::string& message) {
    Step step;
    step.config = {{key, value}};
    Stop s = stop_of(model_file, step);
    EXPECT_EQ(s.code, "E0207") << key << "=" << value;
    EXPECT_NE(s.message.find(message), std::string::npos) << "message: " << s.message;
}

// The GEMM FLOPs of a prefill of 128 tokens (2·128·kn, every position through lm_head) and of
// a decode step at cache_len `cache` (2·kn), where kn = Σ K·N of one token's nn.Linear layers.
void expect_gemm_flops(const std::string& model_file, Int kn, std::int64_t cache) {
    auto model = Loaded::shipped(model_file);
    Step prefill;
    prefill.seq = 128;
    EXPECT_EQ(linear_flops(*model, prefill), str(2 * 128 * kn)) << "prefill";
    Step decode;
    decode.cache = cache;
    EXPECT_EQ(linear_flops(*model, decode), str(2 * kn)) << "decode";
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

// ============================================================================ OLMo 2
//
// allenai/OLMo-2-1124-7B: H 4096, I 11008, L 32, h 32, kv 32, d 4096/32 = 128, V 100352,
// untied, no biases (attention_bias false).
//   per layer: q, k, v, o 4·4096·4096                   = 67,108,864
//              q_norm h·d 4096 + k_norm kv·d 4096        =      8,192   (QK-norm over the whole projections)
//              MLP 3·4096·11008                          = 135,266,304
//              post_attention + post_feedforward 2·4096  =      8,192
//              layer                                     = 202,391,552
//   32 layers 6,476,529,664 + embed_tokens 100352·4096 = 411,041,792 + lm_head 411,041,792
//   + final norm 4,096 = 7,298,617,344.
// Published: the hub's safetensors total for allenai/OLMo-2-1124-7B, 7,298,617,344 parameters
// ("7.3B params" on the model page): equal.
const Int olmo2_params = Int(32) * (Int(4) * 4096 * 4096 + 2 * 4096 + Int(3) * 4096 * 11008 + 2 * 4096) +
                         Int(2) * 100352 * 4096 + 4096;

TEST(FamilyOlmo2, ExactParamsOfTheShippedCheckpoint) {
    EXPECT_EQ(str(olmo2_params), "7298617344");
    auto model = Loaded::shipped("olmo-2-1124-7b");
    EXPECT_EQ(model->total("params"), str(olmo2_params));
    EXPECT_EQ(model->total("active_params"), str(olmo2_params));
}

// The QK-norm weights span the whole q and k projections: h·d = 4096 and kv·d = 4096
// elements, once per layer (32 calls); the layer has no input_layernorm.
TEST(FamilyOlmo2, QkNormOverTheWholeProjections) {
    auto model = Loaded::shipped("olmo-2-1124-7b");
    CostNode root = model->run(Step{});
    for (const char* norm : {"q_norm", "k_norm"}) {
        Found n = find_path(root, {"model", "layers", "self_attn", norm});
        ASSERT_NE(n.node, nullptr);
        EXPECT_EQ(n.calls.to_string(), "32");
        EXPECT_EQ(n.node->cost.at(model->metric("params")).to_string(), "4096") << norm;
    }
    Found layer = find_path(root, {"model", "layers"});
    ASSERT_NE(layer.node, nullptr);
    for (const auto& c : layer.node->children) EXPECT_NE(c.label, "input_layernorm");
}

// GEMM FLOPs: K·N of one token's nn.Linear modules = 32·(4·4096·4096 + 3·4096·11008)
// + lm_head 4096·100352 = 32·202,375,168 + 411,041,792 = 6,887,047,168 weights, and each of
// the M tokens costs 2·K·N.
//   prefill of 128 tokens (all positions through lm_head): 2·128·6,887,047,168 = 1,763,084,075,008
//   decode of one token at cache_len 4000:                 2·1·6,887,047,168   = 13,774,094,336
TEST(FamilyOlmo2, GemmFlopsOfPrefillAndDecode) {
    const Int kn = Int(32) * (Int(4) * 4096 * 4096 + Int(3) * 4096 * 11008) + Int(4096) * 100352;
    EXPECT_EQ(str(kn), "6887047168");
    EXPECT_EQ(str(2 * 128 * kn), "1763084075008");
    expect_gemm_flops("olmo-2-1124-7b", kn, 4000);
}

// KV cache: K and V of 32 layers × 32 KV heads × 128 per token, bf16 (kv_bytes 2):
// 2·32·32·128·2 = 524,288 bytes a token. A decode step at cache_len 4000 leaves 4001 tokens:
// 2,097,676,288 bytes; a prefill of 2 × 512 tokens leaves 1024 tokens: 536,870,912 bytes.
TEST(FamilyOlmo2, KvCacheBytes) {
    const Int per_token = Int(2) * 32 * 32 * 128 * 2;
    EXPECT_EQ(str(per_token), "524288");
    Step decode;
    decode.cache = 4000;
    EXPECT_EQ(kv_cache_bytes("olmo-2-1124-7b", decode), str(4001 * per_token));
    Step prefill;
    prefill.batch = 2;
    prefill.seq = 512;
    EXPECT_EQ(kv_cache_bytes("olmo-2-1124-7b", prefill), str(1024 * per_token));
}

// A config the class cannot run stops with E0207 naming the key: 30 heads do not divide
// hidden_size 4096 (no head_dim in the config); zero KV heads.
TEST(FamilyOlmo2, PreconditionsNameTheKey) {
    Step heads;
    heads.config = {{"num_attention_heads", 30}, {"num_key_value_heads", 30}};
    Stop s = stop_of("olmo-2-1124-7b", heads);
    EXPECT_EQ(s.code, "E0207");
    EXPECT_NE(s.message.find("config.hidden_size must be a multiple of config.num_attention_heads"), std::string::npos)
        << s.message;
    expect_stop("olmo-2-1124-7b", "num_key_value_heads", 0, "config.num_key_value_heads must be a positive integer");
}

// `costi run --config` with the checkpoint's config.json: "Olmo2ForCausalLM".
TEST(FamilyOlmo2, ConfigJsonSelectsTheFamily) {
    expect_selected("olmo2_1124_7b.json", "transformers.models.olmo2.modeling_olmo2.Olmo2ForCausalLM", olmo2_params);
}

// Keys absent from config.json take Olmo2Config's defaults: olmo2_missing_keys.json gives
// H 256, I 512, 2 layers, 4 heads and V 1000 only, so num_key_value_heads → 4 (the heads),
// tie_word_embeddings → False, attention_bias → False, head_dim → 256/4 = 64.
//   layer: q, k, v, o 4·256·256 = 262,144; q_norm + k_norm 2·256 = 512; MLP 3·256·512 = 393,216;
//   post norms 2·256 = 512: 656,384
//   2 layers 1,312,768 + embed_tokens 1000·256 = 256,000 + lm_head 256,000 + norm 256 = 1,825,024
TEST(FamilyOlmo2, AbsentKeysTakeTheClassDefaults) {
    auto model = Loaded::from_config_json(config("olmo2_missing_keys.json"));
    const Int layer = Int(4) * 256 * 256 + 2 * 256 + Int(3) * 256 * 512 + 2 * 256;
    EXPECT_EQ(str(layer), "656384");
    EXPECT_EQ(model->total("params"), str(2 * layer + 2 * 1000 * 256 + 256));
    EXPECT_EQ(str(2 * layer + 2 * 1000 * 256 + 256), "1825024");
}


// ---------------------------------------------------------------------------- OLMo 2 under vLLM
//
// kernels/vllm/olmo2.cost (vllm/model_executor/models/olmo2.py @ 52e9d6f2): the same weights,
// merged into qkv_proj and gate_up_proj, so the same parameter count under both executions.
const EngineRuns& olmo2_engines() {
    static const EngineRuns r({models_dir + "/../kernels/vllm/olmo2.cost"}, "", {models_dir + "/olmo-2-1124-7b.cost"});
    return r;
}

TEST(FamilyOlmo2Vllm, ParamsEqualUnderBothExecutions) {
    expect_params_under_both_executions(olmo2_engines(), "allenai/OLMo-2-1124-7B", olmo2_params);
}

// A decode step writes only the new token's K and V into the paged cache: per layer
// 2 (K, V) · 32 KV heads · 128 · 2 B = 16,384 B, 32 layers: 524,288 B — whatever the cache
// length (the transformers execution re-concatenates the whole cache instead); batch 3:
// three tokens' worth.
TEST(FamilyOlmo2Vllm, DecodeCacheWritesAreTheNewTokensOnly) {
    const Int per_token = Int(32) * 2 * 32 * 128 * 2;
    EXPECT_EQ(str(per_token), "524288");
    expect_decode_cache_writes(olmo2_engines(), "allenai/OLMo-2-1124-7B", per_token, {0, 100, 4095}, 100, 3);
}

// The QK-norm under tensor parallelism (olmo2.py L139-151): each device all-gathers q and k
// and normalises them whole, so with tp 2 q_norm still covers H = 4096 features and the
// gathers carry M·h·d and M·kv·d elements (4096 each for one token).
TEST(FamilyOlmo2Vllm, QkNormGathersUnderTensorParallelism) {
    Step step = steps::decode(10);
    step.runtime.emplace_back("tp", 2);
    CostNode root = olmo2_engines().run_as("allenai/OLMo-2-1124-7B", step, "vllm");
    Found q = find_path(root, {"model", "layers", "self_attn", "q_norm"});
    ASSERT_NE(q.node, nullptr);
    EXPECT_EQ(q.node->cost.at(olmo2_engines().metric("params")).to_string(), "4096");
    Found g = find_path(root, {"model", "layers", "self_attn", "q_all_gather"});
    ASSERT_NE(g.node, nullptr);
    EXPECT_EQ(g.node->cost.at(olmo2_engines().metric("write")).to_string(), str(Int(4096) * 2));
}

// ============================================================================ Granite
//
// ibm-granite/granite-3.3-8b-instruct: H 4096, I 12800, L 40, h 32, kv 8, d 4096/32 = 128,
// V 49159, tied (tie_word_embeddings true), no biases.
//   per layer: q, o 2·4096·4096 = 33,554,432; k, v 2·4096·(8·128) = 8,388,608;
//              MLP 3·4096·12800 = 157,286,400; input + post_attention norms 2·4096 = 8,192
//              layer = 199,237,632
//   40 layers 7,969,505,280 + embed_tokens 49159·4096 = 201,355,264 (lm_head shares it)
//   + final norm 4,096 = 8,170,864,640.
// Published: "8.17B" on the model page (hub safetensors total); the checkpoint's parameter
// shapes, listed with the config.json copy the model file cites, give the same sum with
// lm_head (49159, 4096) tied to embed_tokens.
const Int granite_params =
    Int(40) * (Int(2) * 4096 * 4096 + Int(2) * 4096 * 1024 + Int(3) * 4096 * 12800 + 2 * 4096) + Int(49159) * 4096 +
    4096;

TEST(FamilyGranite, ExactParamsOfTheShippedCheckpoint) {
    EXPECT_EQ(str(granite_params), "8170864640");
    auto model = Loaded::shipped("granite-3.3-8b-instruct");
    EXPECT_EQ(model->total("params"), str(granite_params));
}

// GEMM FLOPs: K·N of one token = 40·(2·4096·4096 + 2·4096·1024 + 3·4096·12800)
// + lm_head 4096·49159 (run although tied) = 40·199,229,440 + 201,355,264 = 8,170,532,864.
//   prefill of 128 tokens: 2·128·8,170,532,864 = 2,091,656,413,184; decode: 2·8,170,532,864.
TEST(FamilyGranite, GemmFlopsOfPrefillAndDecode) {
    const Int kn = Int(40) * (Int(2) * 4096 * 4096 + Int(2) * 4096 * 1024 + Int(3) * 4096 * 12800) + Int(4096) * 49159;
    EXPECT_EQ(str(kn), "8170532864");
    EXPECT_EQ(str(2 * 128 * kn), "2091656413184");
    expect_gemm_flops("granite-3.3-8b-instruct", kn, 8191);
}

// The multipliers as the forward runs them, for a prefill of 16 tokens (M = 16 rows):
//   embedding_multiplier once:             M·H = 16·4096 = 65,536 FLOPs
//   residual_multiplier twice per layer:   2·40 calls of M·H (plus the 2·40 residual adds)
//   logits / logits_scaling once:          M·V = 16·49159 = 786,544 FLOPs (logits_to_keep 0)
TEST(FamilyGranite, MultipliersRunAsTheForwardRunsThem) {
    auto model = Loaded::shipped("granite-3.3-8b-instruct");
    Step step;
    step.seq = 16;
    CostNode root = model->run(step);
    const auto flops = model->metric("flops");
    Found emb = find_path(root, {"model", "embedding_multiplier"});
    ASSERT_NE(emb.node, nullptr);
    EXPECT_EQ((emb.calls * emb.node->cost.at(flops)).to_string(), "65536");
    for (const char* scale : {"scale_attn", "scale_mlp"}) {
        Found s = find_path(root, {"model", "layers", scale});
        ASSERT_NE(s.node, nullptr);
        EXPECT_EQ(s.calls.to_string(), "40") << scale;
        EXPECT_EQ(s.node->cost.at(flops).to_string(), "65536") << scale;
    }
    Found logits = find_path(root, {"logits_scaling"});
    ASSERT_NE(logits.node, nullptr);
    EXPECT_EQ(logits.node->cost.at(flops).to_string(), str(Int(16) * 49159));
    EXPECT_EQ(str(Int(16) * 49159), "786544");
}

// KV cache: 40 layers × 8 KV heads × 128, K and V, bf16: 2·40·8·128·2 = 163,840 bytes a
// token; a decode step at cache_len 8191 leaves 8192 tokens: 1,342,177,280 bytes.
TEST(FamilyGranite, KvCacheBytes) {
    const Int per_token = Int(2) * 40 * 8 * 128 * 2;
    EXPECT_EQ(str(per_token), "163840");
    Step decode;
    decode.cache = 8191;
    EXPECT_EQ(kv_cache_bytes("granite-3.3-8b-instruct", decode), str(8192 * per_token));
    EXPECT_EQ(str(8192 * per_token), "1342177280");
}

// 5 KV heads do not divide 32 query heads; a flag that is not true or false.
TEST(FamilyGranite, PreconditionsNameTheKey) {
    expect_stop("granite-3.3-8b-instruct", "num_key_value_heads", 5,
                "config.num_key_value_heads must divide config.num_attention_heads");
    expect_stop("granite-3.3-8b-instruct", "mlp_bias", 2, "config.mlp_bias must be true or false");
}

TEST(FamilyGranite, ConfigJsonSelectsTheFamily) {
    expect_selected("granite_3.3_8b_instruct.json", "transformers.models.granite.modeling_granite.GraniteForCausalLM", granite_params);
}

// granite_missing_keys.json: H 256, I 512, 2 layers, 4 heads, V 1000 only. GraniteConfig's
// defaults: num_key_value_heads → 4, tie_word_embeddings → False (the checkpoint ties, the
// class does not), attention_bias, mlp_bias → False.
//   layer: 4·256·256 = 262,144 + MLP 3·256·512 = 393,216 + norms 512 = 655,872
//   2·655,872 + embed_tokens 256,000 + lm_head 256,000 + norm 256 = 1,824,000
TEST(FamilyGranite, AbsentKeysTakeTheClassDefaults) {
    auto model = Loaded::from_config_json(config("granite_missing_keys.json"));
    const Int layer = Int(4) * 256 * 256 + Int(3) * 256 * 512 + 2 * 256;
    EXPECT_EQ(str(2 * layer + 2 * 1000 * 256 + 256), "1824000");
    EXPECT_EQ(model->total("params"), str(2 * layer + 2 * 1000 * 256 + 256));
}


// ---------------------------------------------------------------------------- Granite under vLLM
//
// kernels/vllm/granite.cost (vllm/model_executor/models/granite.py @ 68f442eb): the same
// weights (lm_head tied to the embedding), so the same parameter count under both executions.
const EngineRuns& granite_engines() {
    static const EngineRuns r({models_dir + "/../kernels/vllm/granite.cost"}, "",
                              {models_dir + "/granite-3.3-8b-instruct.cost"});
    return r;
}
const std::string granite_name = "ibm-granite/granite-3.3-8b-instruct";

TEST(FamilyGraniteVllm, ParamsEqualUnderBothExecutions) {
    expect_params_under_both_executions(granite_engines(), granite_name, granite_params);
}

// A decode step writes only the new token's K and V: 40 layers · 2 · 8 KV heads · 128 · 2 B
// = 163,840 B, at any cache length; batch 2: twice that.
TEST(FamilyGraniteVllm, DecodeCacheWritesAreTheNewTokensOnly) {
    const Int per_token = Int(40) * 2 * 8 * 128 * 2;
    EXPECT_EQ(str(per_token), "163840");
    expect_decode_cache_writes(granite_engines(), granite_name, per_token, {0, 8191}, 10, 2);
}

// Decode, batch 3 (M = 3): the lm_head runs on the 3 sampled rows over the vocabulary padded to
// a multiple of 64, 49159 -> 49216: 2·3·4096·49216 FLOPs; the logits are then scaled by
// 1 / logits_scaling in place over the 3·49159 kept logits; the embedding multiply covers
// 3·4096 elements and the residual multiplier 2·40 multiplies of 3·4096.
TEST(FamilyGraniteVllm, MultipliersAndThePaddedLmHead) {
    CostNode root = granite_engines().run_as(granite_name, steps::decode(100, 3), "vllm");
    const auto flops = granite_engines().metric("flops");
    Found lm = find_path(root, {"lm_head"});
    ASSERT_NE(lm.node, nullptr);
    EXPECT_EQ(lm.node->cost.at(flops).to_string(), str(Int(2) * 3 * 4096 * 49216));
    Found scale = find_path(root, {"logits_scale"});
    ASSERT_NE(scale.node, nullptr);
    EXPECT_EQ(scale.calls.to_string(), "1");
    EXPECT_EQ(scale.node->cost.at(flops).to_string(), str(Int(3) * 49159));
    Found emb = find_path(root, {"model", "embedding_multiplier"});
    ASSERT_NE(emb.node, nullptr);
    EXPECT_EQ(emb.node->cost.at(flops).to_string(), str(Int(3) * 4096));
    Found res = find_path(root, {"model", "layers", "scale_mlp"});
    ASSERT_NE(res.node, nullptr);
    EXPECT_EQ(res.calls.to_string(), "40");
}

// ============================================================================ StarCoder2
//
// bigcode/starcoder2-7b: H 4608, I 18432, L 32, h 36, kv 4, d 4608/36 = 128, V 49152, tied
// (Starcoder2Config default), use_bias true: every linear layer of a block has a bias.
//   per layer: q, o 4608·4608 + 4608 each            = 21,238,272 × 2 = 42,476,544
//              k, v 4608·(4·128) + 512 each           =  2,359,808 × 2 =  4,719,616
//              c_fc 4608·18432 + 18432                =                  84,953,088
//              c_proj 18432·4608 + 4608               =                  84,939,264
//              two LayerNorms, weight and bias, 2·2·4608 =                   18,432
//              layer                                                 = 217,106,944
//   32 layers 6,947,422,208 + embed_tokens 49152·4608 = 226,492,416 (lm_head shares it)
//   + final LayerNorm 2·4608 = 9,216  →  7,173,923,840.
// Published: "7.17B" on the model page (hub safetensors total); untied it would be 7.40B.
const Int starcoder2_params = Int(32) * (Int(2) * (4608 * 4608 + 4608) + Int(2) * (4608 * 512 + 512) +
                                         (Int(4608) * 18432 + 18432) + (Int(18432) * 4608 + 4608) + 4 * 4608) +
                              Int(49152) * 4608 + 2 * 4608;

TEST(FamilyStarcoder2, ExactParamsOfTheShippedCheckpoint) {
    EXPECT_EQ(str(starcoder2_params), "7173923840");
    auto model = Loaded::shipped("starcoder2-7b");
    EXPECT_EQ(model->total("params"), str(starcoder2_params));
}

// GEMM FLOPs (biases not counted, as FlopCounterMode): K·N of one token =
// 32·(2·4608·4608 + 2·4608·512 + 2·4608·18432) + lm_head 4608·49152 (run although tied)
// = 32·217,055,232 + 226,492,416 = 7,172,259,840.
//   prefill of 128 tokens: 2·128·7,172,259,840 = 1,836,098,519,040; decode: 2·7,172,259,840.
TEST(FamilyStarcoder2, GemmFlopsOfPrefillAndDecode) {
    const Int kn = Int(32) * (Int(2) * 4608 * 4608 + Int(2) * 4608 * 512 + Int(2) * 4608 * 18432) + Int(4608) * 49152;
    EXPECT_EQ(str(kn), "7172259840");
    EXPECT_EQ(str(2 * 128 * kn), "1836098519040");
    expect_gemm_flops("starcoder2-7b", kn, 8191);
}

// KV cache: the v4.48 DynamicCache keeps every token (the window acts through the mask), so
// 2·32 layers·4 KV heads·128·2 B = 65,536 bytes a token for all of them: a decode step at
// cache_len 8191 (twice the window) leaves 8192 tokens, 536,870,912 bytes.
TEST(FamilyStarcoder2, KvCacheBytes) {
    const Int per_token = Int(2) * 32 * 4 * 128 * 2;
    EXPECT_EQ(str(per_token), "65536");
    Step decode;
    decode.cache = 8191;
    EXPECT_EQ(kv_cache_bytes("starcoder2-7b", decode), str(8192 * per_token));
    EXPECT_EQ(str(8192 * per_token), "536870912");
}

// The sliding window (4096) reaches the SDPA path through the mask: a decode step attends
// over kv_len = C + 1 keys; below the window (C = 4094, kv_len 4095) there is no mask and SDPA
// runs with enable_gqa; at C = 4095 (kv_len 4096 = W) _update_causal_mask builds the mask, so
// sdpa_attention_forward repeats K and V from 4 to 36 heads in every layer: each copy writes
// 36·4096·128·2 = 37,748,736 bytes and reads the 4 KV heads its expand holds, 4·4096·128·2 =
// 4,194,304 bytes.
TEST(FamilyStarcoder2, TheWindowMaterialisesTheMask) {
    auto model = Loaded::shipped("starcoder2-7b");
    for (std::int64_t c : {4094, 4095}) {
        Step decode;
        decode.cache = c;
        CostNode root = model->run(decode);
        Found k = find_path(root, {"model", "layers", "self_attn", "sdpa_attention", "repeat_k"});
        ASSERT_NE(k.node, nullptr);
        EXPECT_EQ(k.calls.to_string(), c == 4095 ? "32" : "0") << "cache_len " << c;
        if (c == 4095) {
            EXPECT_EQ(k.node->cost.at(model->metric("write")).to_string(), str(Int(36) * 4096 * 128 * 2));
            EXPECT_EQ(k.node->cost.at(model->metric("read")).to_string(), str(Int(4) * 4096 * 128 * 2));
        }
    }
}

// The MLP's nodes carry Starcoder2MLP's module names (modeling_starcoder2.py L66-68 @ 73faa33f:
// c_fc, act, c_proj), so the tree lines up with a trace of the modules (tests/torch/
// starcoder2_plain.py, which found the activation labelled act_fn): one activation per layer,
// over the M·I = 5·18432 = 92,160 outputs of c_fc for a prefill of 5 tokens, 32 layers.
TEST(FamilyStarcoder2, MlpNodesAreTheModuleNames) {
    auto model = Loaded::shipped("starcoder2-7b");
    CostNode root = model->run(steps::prefill(5));
    Found mlp = find_path(root, {"model", "layers", "mlp"});
    ASSERT_NE(mlp.node, nullptr);
    std::vector<std::string> labels;
    for (const auto& c : mlp.node->children) labels.push_back(c.label);
    EXPECT_EQ(labels, (std::vector<std::string>{"c_fc", "act", "c_proj"}));
    Found act = find_path(root, {"model", "layers", "mlp", "act"});
    ASSERT_NE(act.node, nullptr);
    EXPECT_EQ(act.calls.to_string(), "32");
    // gelu_pytorch_tanh writes one output per element, at a_bytes = 2 (bfloat16)
    EXPECT_EQ(leaf_sum_per_call(*act.node, model->metric("write"), [](const CostNode&) { return true; }).to_string(),
              str(Int(5) * 18432 * 2));
}

// A negative window; a bias flag that is not true or false.
TEST(FamilyStarcoder2, PreconditionsNameTheKey) {
    expect_stop("starcoder2-7b", "sliding_window", -1, "config.sliding_window must be a non-negative integer");
    expect_stop("starcoder2-7b", "use_bias", 2, "config.use_bias must be true or false");
}

TEST(FamilyStarcoder2, ConfigJsonSelectsTheFamily) {
    expect_selected("starcoder2_7b.json", "transformers.models.starcoder2.modeling_starcoder2.Starcoder2ForCausalLM", starcoder2_params);
}

// starcoder2_missing_keys.json: H 256, I 1024, 2 layers, 4 heads, V 1000 only. Starcoder2Config's
// defaults: num_key_value_heads → 2 (the class default, NOT the head count), use_bias → True,
// tie_word_embeddings → True; head_dim 256/4 = 64.
//   layer: q, o 256·256 + 256 = 65,792 each; k, v 256·128 + 128 = 32,896 each;
//   c_fc 256·1024 + 1024 = 263,168; c_proj 1024·256 + 256 = 262,400; LayerNorms 4·256 = 1,024
//   = 723,968;  2 layers 1,447,936 + embed_tokens 256,000 + final LayerNorm 512 = 1,704,448
TEST(FamilyStarcoder2, AbsentKeysTakeTheClassDefaults) {
    auto model = Loaded::from_config_json(config("starcoder2_missing_keys.json"));
    const Int layer = Int(2) * (256 * 256 + 256) + Int(2) * (256 * 128 + 128) + (256 * 1024 + 1024) +
                      (1024 * 256 + 256) + 4 * 256;
    EXPECT_EQ(str(layer), "723968");
    EXPECT_EQ(model->total("params"), str(2 * layer + 1000 * 256 + 2 * 256));
    EXPECT_EQ(str(2 * layer + 1000 * 256 + 2 * 256), "1704448");
}

// ---------------------------------------------------------------------------- StarCoder2 under vLLM
//
// kernels/vllm/starcoder2.cost (vllm/model_executor/models/starcoder2.py @ b4e69e0a): the same
// weights and biases (lm_head tied), so the same parameter count under both executions.
const EngineRuns& starcoder2_engines() {
    static const EngineRuns r({models_dir + "/../kernels/vllm/starcoder2.cost"}, "", {models_dir + "/starcoder2-7b.cost"});
    return r;
}

TEST(FamilyStarcoder2Vllm, ParamsEqualUnderBothExecutions) {
    expect_params_under_both_executions(starcoder2_engines(), "bigcode/starcoder2-7b", starcoder2_params);
}

// A decode step writes only the new token's K and V: 32 layers · 2 · 4 KV heads · 128 · 2 B =
// 65,536 B, also past the window (cache_len 8191), where transformers' execution re-copies
// 8192 tokens.
TEST(FamilyStarcoder2Vllm, DecodeCacheWritesAreTheNewTokensOnly) {
    const Int per_token = Int(32) * 2 * 4 * 128 * 2;
    EXPECT_EQ(str(per_token), "65536");
    expect_decode_cache_writes(starcoder2_engines(), "bigcode/starcoder2-7b", per_token, {0, 4095, 8191}, 0, 1);
}

}  // namespace
}  // namespace costi::models_test
