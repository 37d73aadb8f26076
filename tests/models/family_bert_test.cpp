// Issue 13, beyond decoder-only: BERT (kernels/bert.cost) and its shipped checkpoint
// google-bert/bert-base-uncased (models/bert-base-uncased.cost, BertForMaskedLM). The exact
// parameter counts of BertModel (with the pooler: the published 110M) and of BertForMaskedLM
// (the class architectures[0] names), the GEMM FLOPs of one forward at 128 and 512 tokens
// (Σ 2·M·K·N over the nn.Linear shapes), the attention FLOPs of both paths, the encoder's
// preconditions (no cache, at most max_position_embeddings tokens) and bad configs (E0207
// naming the key), and `--config` picking the class by architectures[0].
//
// Every expected number is computed here with plain integers from the config values (the
// arithmetic is in the comments), never taken from costi's output.
#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include "interpreter/evaluator.hpp"
#include "model_support.hpp"

namespace costi::models_test {
namespace {

using namespace family;

using interp::CostiError;

// bert-base-uncased's config.json as BertModel (architectures[0] replaced).
std::string bert_model_json() {
    std::ifstream in(config("bert_base_uncased.json"));
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto at = text.find("\"BertForMaskedLM\"");
    EXPECT_NE(at, std::string::npos);
    text.replace(at, 17, "\"BertModel\"");
    return write_json("bert_base_uncased_bertmodel.json", text);
}

// google-bert/bert-base-uncased: H 768, 12 layers, 12 heads (d 64), I 3072, V 30522,
// P 512 positions, T 2 token types; every nn.Linear has a bias, every LayerNorm a weight
// and a bias.
//   embeddings: (30522 + 512 + 2)·768 = 23,835,648 + LayerNorm 1,536    = 23,837,184
//   per layer:  query, key, value, attention dense 4·(768·768 + 768)     =  2,362,368
//               two LayerNorms 2·2·768                                   =      3,072
//               intermediate 768·3072 + 3072                             =  2,362,368
//               output 3072·768 + 768                                    =  2,360,064
//                                                                           7,087,872
//   12 layers 85,054,464; pooler 768·768 + 768 = 590,592.
//   BertModel (with the pooler): 23,837,184 + 85,054,464 + 590,592 = 109,482,240 (the "110M").
//   BertForMaskedLM: no pooler (108,891,648), the head's transform dense 590,592 and
//   LayerNorm 1,536, the decoder's own bias 30,522 (its weight is word_embeddings'):
//   109,514,298.
namespace bb {
const Int H = 768, L = 12, h = 12, d = 64, I = 3072, V = 30522, P = 512, T = 2;
const Int embeddings = (V + P + T) * H + 2 * H;
const Int layer = 4 * (H * H + H) + 4 * H + (H * I + I) + (I * H + H);
const Int pooler = H * H + H;
const Int bert_model = embeddings + L * layer + pooler;
const Int masked_lm = embeddings + L * layer + (H * H + H) + 2 * H + V;
// K·N of the GEMMs every token goes through: query, key, value, dense, intermediate, output.
const Int layers_kn = L * (4 * H * H + 2 * H * I);
const Int head_kn = H * H + H * V;  // the MLM head: transform dense, decoder
}  // namespace bb

TEST(FamilyBert, BertModelIsThePublished110M) {
    EXPECT_EQ(str(bb::layer), "7087872");
    EXPECT_EQ(str(bb::embeddings), "23837184");
    EXPECT_EQ(str(bb::bert_model), "109482240");
    EXPECT_EQ((bb::bert_model + 5'000'000) / 10'000'000, 11);  // 110M
    auto model = Loaded::from_config_json(bert_model_json());
    EXPECT_EQ(model->total("params"), "109482240");
    EXPECT_EQ(model->total("active_params"), "109482240");
}

TEST(FamilyBert, BertForMaskedLMAddsTheHeadNotThePooler) {
    EXPECT_EQ(str(bb::masked_lm), "109514298");
    EXPECT_EQ(str(bb::masked_lm - bb::bert_model), str(bb::H * bb::H + bb::H + 2 * bb::H + bb::V - bb::pooler));
    auto model = Loaded::shipped("bert-base-uncased");
    EXPECT_EQ(model->total("params"), str(bb::masked_lm));
    auto json = Loaded::from_config_json(config("bert_base_uncased.json"));
    EXPECT_EQ(json->total("params"), str(bb::masked_lm));
    // Untied (tie_word_embeddings false), the decoder's [V, H] weight is its own.
    Step untied = with_config({{"tie_word_embeddings", 0}});
    EXPECT_EQ(model->total("params", untied), str(bb::masked_lm + bb::V * bb::H));
}

// 12·(4·768·768 + 2·768·3072) = 12·7,077,888 = 84,934,656 per token in the layers; the MLM head
// 768·768 + 768·30522 = 589,824 + 23,440,896 = 24,030,720 per token; BertModel's pooler runs
// on the first token of each sequence only: 2·B·768·768.
TEST(FamilyBert, GemmFlopsOfOneForward) {
    EXPECT_EQ(str(bb::layers_kn), "84934656");
    EXPECT_EQ(str(bb::head_kn), "24030720");
    auto mlm = Loaded::shipped("bert-base-uncased");
    auto base = Loaded::from_config_json(bert_model_json());
    for (Int s : {Int(128), Int(512)}) {
        EXPECT_EQ(linear_flops(*mlm, steps::prefill(std::int64_t(s))), str(2 * s * (bb::layers_kn + bb::head_kn)));
        EXPECT_EQ(linear_flops(*base, steps::prefill(std::int64_t(s))), str(2 * s * bb::layers_kn + 2 * bb::H * bb::H));
    }
    // 2 sequences of 128: every row doubles, the pooler runs twice
    EXPECT_EQ(linear_flops(*base, steps::prefill(128, 2)), str(2 * 256 * bb::layers_kn + 2 * 2 * bb::H * bb::H));
    // S = 128: 2·128·108,965,376 = 27,895,136,256; S = 512: 111,580,545,024
    EXPECT_EQ(str(2 * 128 * (bb::layers_kn + bb::head_kn)), "27895136256");
    EXPECT_EQ(str(2 * 512 * (bb::layers_kn + bb::head_kn)), "111580545024");
}

// Attention is bidirectional: every query sees all S keys, sdpa or eager.
//   sdpa: 2·B·h·S·S·(d + d) per layer (the fused kernel, FlopCounterMode's count).
//   eager: q@kᵀ and p@v 4·B·h·S·S·d, the scale, the mask add and the softmax one each per
//   score in the activation dtype (softmax: 3 per element under the convention of
//   stdlib/softmax.cost) — 4·B·h·S²·d + 5·B·h·S².
TEST(FamilyBert, AttentionIsBidirectional) {
    auto model = Loaded::shipped("bert-base-uncased");
    for (auto [b, s] : {std::pair<Int, Int>{1, 128}, {2, 512}}) {
        Step step = steps::prefill(std::int64_t(s), std::int64_t(b));
        CostNode root = model->run(step);
        Found sdpa = find_path(root, {"bert", "layer", "attention", "self", "sdpa_attention"});
        ASSERT_NE(sdpa.node, nullptr);
        EXPECT_EQ(sdpa.calls.to_string(), "12");
        EXPECT_EQ(sdpa.node->cost.at(model->metric("flops")).to_string(), str(4 * b * bb::h * s * s * bb::d));
        step.eager = true;
        CostNode eager_root = model->run(step);
        Found eager = find_path(eager_root, {"bert", "layer", "attention", "self", "eager_attention"});
        ASSERT_NE(eager.node, nullptr);
        EXPECT_EQ(eager.node->cost.at(model->metric("flops")).to_string(),
                  str(4 * b * bb::h * s * s * bb::d + 5 * b * bb::h * s * s));
    }
}

// An encoder: no cache, at most max_position_embeddings tokens; bad configs name their key.
TEST(FamilyBert, BadInputsNameTheirKey) {
    auto model = Loaded::shipped("bert-base-uncased");
    EXPECT_EQ(error_of(*model, steps::prefill(512)), "no error");
    EXPECT_EQ(error_of(*model, steps::step(1, 1, 5)),
              "E0207: BERT is an encoder without a KV cache: cache_len must be 0 (seq_len is the whole sequence)");
    EXPECT_EQ(error_of(*model, steps::prefill(513)),
              "E0207: BERT has config.max_position_embeddings learned positions; seq_len exceeds them");
    EXPECT_EQ(error_of(*model, with_config({{"num_attention_heads", 10}})),
              "E0207: config.hidden_size must be a multiple of config.num_attention_heads");
    EXPECT_EQ(error_of(*model, with_config({{"num_attention_heads", 0}})),
              "E0207: config.num_attention_heads must be a positive integer");
    EXPECT_EQ(error_of(*model, with_config({{"is_decoder", 1}})),
              "E0207: config.is_decoder must be false: costi models BERT as an encoder (no causal mask, no cache)");
    EXPECT_EQ(error_of(*model, with_config({{"intermediate_size", 0}})),
              "E0207: config.intermediate_size must be a positive integer");
    Step rel;
    rel.config_strings.emplace_back("position_embedding_type", "relative_key");
    EXPECT_EQ(error_of(*model, rel),
              "E0207: config.position_embedding_type must be absolute (relative_key and relative_key_query are not "
              "modelled)");
    Step act;
    act.config_strings.emplace_back("hidden_act", "quick_gelu");
    EXPECT_EQ(error_of(*model, act).substr(0, 40), "E0207: config.hidden_act must be one of ");
}

TEST(FamilyBert, ConfigJsonSelectsTheClass) {
    auto mlm = Loaded::from_config_json(config("bert_base_uncased.json"));
    EXPECT_EQ(mlm->run(steps::prefill(8)).kernel->name, "transformers.models.bert.modeling_bert.BertForMaskedLM");
    auto base = Loaded::from_config_json(bert_model_json());
    EXPECT_EQ(base->run(steps::prefill(8)).kernel->name, "transformers.models.bert.modeling_bert.BertModel");
    // Absent keys take BertConfig's defaults, which are bert-base's shapes.
    auto bare = Loaded::from_config_json(write_json("bert_defaults.json", "{\"architectures\": [\"BertModel\"]}\n"));
    EXPECT_EQ(bare->total("params"), str(bb::bert_model));
}

}  // namespace
}  // namespace costi::models_test
