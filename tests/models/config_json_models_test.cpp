// Models made from Hugging Face config.json files (`costi run --config`): the files in
// tests/models/configs/ are small configs written for these tests, each with its parameter
// count worked out by hand below from the architecture's weights; and files that cannot make
// a model give a clear error with a stable code.
#include <ostream>

#include "model_support.hpp"

using namespace costi::models_test;

namespace {

std::string config(const std::string& name) { return configs_dir + "/" + name; }

struct JsonCase {
    const char* file;
    const char* params;
    Int linear_weights;  // weight elements of the GEMMs (all nn.Linear weights, lm_head included, no biases)
    Int rope_dim;        // head_dim: the RoPE table inv_freq[d/2] @ position_ids
};

// Weights per decoder layer (h heads, kv KV heads, head_dim d):
//   q_proj H·h·d, k_proj and v_proj H·kv·d each, o_proj h·d·H, MLP 3·H·I, RMSNorms H each;
// plus embed_tokens V·H, the final norm H, and lm_head V·H unless tied.
// linear_weights: the K·N of every GEMM of one token: the layers' projections and MLP, and
// lm_head H·V (run also when tied).
const JsonCase json_cases[] = {
    // Llama, tied: H 256, I 688, 2 layers, 4 heads = 4 KV heads, d = 256/4 = 64, V 1000.
    //   layer: 4·256·256 + 3·256·688 + 2·256 = 262,144 + 528,384 + 512 = 791,040
    //   1000·256 + 2·791,040 + 256 = 256,000 + 1,582,080 + 256 = 1,838,336 (lm_head shares embed_tokens)
    //   linear: 2·(262,144 + 528,384) + 256,000 = 1,837,056
    {"llama_tied.json", "1838336", 1837056, 64},
    // The same config untied: + lm_head 1000·256 = 256,000 parameters; the same GEMMs.
    {"llama_untied.json", "2094336", 1837056, 64},
    // Gemma 2 with head_dim 256 where hidden/heads = 512/4 = 128: H 512, I 1024, 2 layers,
    // 4 heads, 2 KV heads, V 1000, tie_word_embeddings absent (Gemma2Config default: tied).
    //   q 512·(4·256) = 524,288; k, v 512·(2·256) = 262,144 each; o (4·256)·512 = 524,288;
    //   MLP 3·512·1024 = 1,572,864; four norms 4·512 = 2,048: layer 3,147,776
    //   1000·512 + 2·3,147,776 + 512 = 512,000 + 6,295,552 + 512 = 6,808,064
    //   (with head_dim = 128 the attention would be half: 5,235,200)
    //   linear: 2·(1,572,864 + 1,572,864) + 512,000 = 6,803,456
    {"gemma2_head_dim.json", "6808064", 6803456, 256},
    // Qwen2 with GQA: H 512, I 1536, 3 layers, 8 heads, 2 KV heads, d = 64, V 2000, untied.
    // q/k/v carry biases (Qwen2Attention: bias=True), o_proj none.
    //   q 512·512 + 512 = 262,656; k, v 512·128 + 128 = 65,664 each; o 262,144;
    //   MLP 3·512·1536 = 2,359,296; norms 1,024: layer 3,016,448
    //   2·2000·512 + 3·3,016,448 + 512 = 2,048,000 + 9,049,344 + 512 = 11,097,856
    //   linear: 3·(262,144 + 2·65,536 + 262,144 + 2,359,296) + 1,024,000 = 10,067,968
    {"qwen2_gqa.json", "11097856", 10067968, 64},
    // Mistral with only the required keys: num_key_value_heads absent → MistralConfig's
    // default 8 (not the head count), head_dim → 1024/16 = 64, untied (default False).
    //   H 1024, I 2048, 2 layers, 16 heads, V 3000.
    //   q 1024·1024 = 1,048,576; k, v 1024·(8·64) = 524,288 each; o 1,048,576;
    //   MLP 3·1024·2048 = 6,291,456; norms 2,048: layer 9,439,232
    //   2·3000·1024 + 2·9,439,232 + 1024 = 6,144,000 + 18,878,464 + 1,024 = 25,023,488
    //   linear: 2·(3,145,728 + 6,291,456) + 3,072,000 = 21,946,368
    {"mistral_missing_keys.json", "25023488", 21946368, 64},
    // The same keys as a Llama: num_key_value_heads absent → num_attention_heads (16), so
    // k, v are 1024·1024 each: layer 4·1,048,576 + 6,291,456 + 2,048 = 10,487,808
    //   6,144,000 + 2·10,487,808 + 1,024 = 27,120,640
    //   linear: 2·(4,194,304 + 6,291,456) + 3,072,000 = 24,043,520
    {"llama_missing_keys.json", "27120640", 24043520, 64},
};

class ConfigJsonModels : public ::testing::TestWithParam<JsonCase> {};

TEST_P(ConfigJsonModels, ParamsMatchTheHandCount) {
    auto model = Loaded::from_config_json(config(GetParam().file));
    EXPECT_EQ(model->total("params"), GetParam().params);
}

// A config.json model runs like a shipped one. Every token goes through every linear once,
// so the matmul leaves of a 16-token prefill do 2·16·linear_weights FLOPs, plus the RoPE
// table 2·(d/2)·1·16; a decode step after 16 tokens 2·1·linear_weights + 2·(d/2)·1·1.
TEST_P(ConfigJsonModels, GemmFlopsAreTwiceTokensTimesLinearWeights) {
    const JsonCase& c = GetParam();
    auto model = Loaded::from_config_json(config(c.file));
    auto flops = model->metric("flops");
    Step prefill;
    prefill.seq = 16;
    Step decode;
    decode.cache = 16;
    EXPECT_EQ(leaf_sum(model->run(prefill), flops, is_gemm).to_string(),
              str(2 * 16 * c.linear_weights + c.rope_dim * 16));
    EXPECT_EQ(leaf_sum(model->run(decode), flops, is_gemm).to_string(), str(2 * c.linear_weights + c.rope_dim));
    EXPECT_EQ(model->total("params", decode), c.params);
}

INSTANTIATE_TEST_SUITE_P(Configs, ConfigJsonModels, ::testing::ValuesIn(json_cases),
                         [](const ::testing::TestParamInfo<JsonCase>& info) {
                             std::string n = info.param.file;
                             return n.substr(0, n.find('.'));
                         });

// The K/V projections of a config.json model follow its num_key_value_heads·head_dim.
// qwen2_gqa.json: k_proj 512 → 2·64 = 128 with a bias: 512·128 + 128 = 65,664 weights and
// 2·1·512·128 = 131,072 FLOPs for one token (the bias add is not counted).
TEST(ConfigJsonModelsShapes, Qwen2GqaKeyProjection) {
    auto model = Loaded::from_config_json(config("qwen2_gqa.json"));
    CostNode root = model->run(Step{});
    Found k = find_path(root, {"model", "layers_full", "self_attn", "k_proj"});
    ASSERT_NE(k.node, nullptr);
    EXPECT_EQ(k.calls.to_string(), "3");
    EXPECT_EQ(k.node->cost.at(model->metric("params")).to_string(), "65664");
    EXPECT_EQ(k.node->cost.at(model->metric("flops")).to_string(), "131072");
}

// gemma2_head_dim.json: q_proj maps 512 to heads·head_dim = 4·256 = 1024, not 512.
TEST(ConfigJsonModelsShapes, Gemma2ExplicitHeadDim) {
    auto model = Loaded::from_config_json(config("gemma2_head_dim.json"));
    CostNode root = model->run(Step{});
    Found q = find_path(root, {"model", "layers_sliding", "self_attn", "q_proj"});
    ASSERT_NE(q.node, nullptr);
    EXPECT_EQ(q.node->cost.at(model->metric("params")).to_string(), "524288");  // 512·1024
    EXPECT_EQ(q.node->cost.at(model->metric("flops")).to_string(), "1048576");  // 2·1·512·1024
}

// ---- files that make no model ------------------------------------------------------------------

std::string error_code_of(const std::string& file, std::string* message = nullptr, std::string* hint = nullptr) {
    costi::interp::Session s;
    s.load_library();
    try {
        s.model_from_config_json(config(file));
    } catch (const costi::interp::CostiError& e) {
        const auto& d = e.diagnostics().front();
        if (message != nullptr) *message = d.message;
        if (hint != nullptr) *hint = d.hint;
        return d.code;
    }
    return "no error";
}

TEST(ConfigJsonModelsErrors, UnknownArchitectureIsE0111WithASuggestion) {
    std::string message, hint;
    EXPECT_EQ(error_code_of("unknown_architecture.json", &message, &hint), "E0111");
    EXPECT_NE(message.find("unknown architecture 'LlamaForCasualLM'"), std::string::npos) << message;
    EXPECT_EQ(hint, "did you mean 'LlamaForCausalLM'?");
}

TEST(ConfigJsonModelsErrors, MalformedJsonIsE0301) {
    std::string message;
    EXPECT_EQ(error_code_of("malformed.json", &message), "E0301");
    EXPECT_NE(message.find("malformed.json"), std::string::npos) << message;
}

TEST(ConfigJsonModelsErrors, MissingArchitecturesIsE0301) {
    std::string message, hint;
    EXPECT_EQ(error_code_of("no_architectures.json", &message, &hint), "E0301");
    EXPECT_NE(message.find("architectures"), std::string::npos) << message;
}

TEST(ConfigJsonModelsErrors, MissingFileIsE0002) { EXPECT_EQ(error_code_of("does_not_exist.json"), "E0002"); }

}  // namespace
