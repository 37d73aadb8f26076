// Issue 13, a vision encoder: ViT (kernels/vit.cost) and its shipped checkpoint
// google/vit-base-patch16-224 (models/vit-base-patch16-224.cost, ViTForImageClassification).
// The exact parameter counts of ViTForImageClassification (the class architectures[0] names)
// and of ViTModel (with its default pooler), the FLOPs of the patch embedding's convolution,
// the GEMM FLOPs of one layer and of the whole forward (Σ 2·M·K·N over the nn.Linear shapes,
// M = images · 197 positions), the attention FLOPs of both paths, the sequence the image fixes
// (seq_len not read, cache_len 0), num_labels against id2label, and bad configs (E0207 naming
// the key).
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

#include "model_support.hpp"

namespace costi::models_test {
namespace {

using namespace family;

// vit-base-patch16-224's config.json with architectures[0] replaced by `cls`.
std::string vit_json_as(const std::string& cls) {
    std::ifstream in(config("vit_base_patch16_224.json"));
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto at = text.find("\"ViTForImageClassification\"");
    EXPECT_NE(at, std::string::npos);
    text.replace(at, 27, "\"" + cls + "\"");
    return write_json("vit_base_patch16_224_" + cls + ".json", text);
}

// google/vit-base-patch16-224: H 768, 12 layers, 12 heads (d 64), I 3072, 3 channels,
// 224 x 224 images in 16 x 16 patches: n = (224 / 16)^2 = 14 · 14 = 196 patches, S = 197
// positions with the [CLS] token; 1000 labels (ImageNet-1k). Every nn.Linear and the Conv2d
// have a bias (qkv_bias true), every LayerNorm a weight and a bias.
//   patch embedding Conv2d(3, 768, 16, 16): 768·3·16·16 + 768 = 589,824 + 768 =    590,592
//   [CLS] token [1, 1, 768]                                                    =        768
//   position embeddings [1, 197, 768]: 197·768                                 =    151,296
//   embeddings                                                                 =    742,656
//   per layer: query, key, value, attention output dense 4·(768·768 + 768)     =  2,362,368
//              layernorm_before, layernorm_after 2·2·768                       =      3,072
//              intermediate 768·3072 + 3072                                    =  2,362,368
//              output 3072·768 + 768                                           =  2,360,064
//                                                                                 7,087,872
//   12 layers 85,054,464; final LayerNorm 1,536; pooler 768·768 + 768 = 590,592.
//   ViTModel without the pooler: 742,656 + 85,054,464 + 1,536 = 85,798,656.
//   ViTModel (add_pooling_layer=True, its default): 85,798,656 + 590,592 = 86,389,248.
//   ViTForImageClassification: no pooler, classifier 768·1000 + 1000 = 769,000: 86,567,656
//   (the model card's 86.6M).
namespace vb {
const Int H = 768, L = 12, h = 12, d = 64, I = 3072, C = 3, image = 224, patch = 16, labels = 1000;
const Int n = (image / patch) * (image / patch);
const Int S = n + 1;
const Int patch_embedding = H * C * patch * patch + H;
const Int embeddings = patch_embedding + H + S * H;
const Int layer = 4 * (H * H + H) + 4 * H + (H * I + I) + (I * H + H);
const Int no_pooler = embeddings + L * layer + 2 * H;
const Int vit_model = no_pooler + (H * H + H);
const Int classification = no_pooler + (H * labels + labels);
// K·N of the GEMMs every position goes through in one layer: query, key, value, dense,
// intermediate, output.
const Int layer_kn = 4 * H * H + 2 * H * I;
}  // namespace vb

TEST(FamilyVit, ParamsOfBothClasses) {
    EXPECT_EQ(str(vb::n), "196");
    EXPECT_EQ(str(vb::patch_embedding), "590592");
    EXPECT_EQ(str(vb::embeddings), "742656");
    EXPECT_EQ(str(vb::layer), "7087872");
    EXPECT_EQ(str(vb::no_pooler), "85798656");
    EXPECT_EQ(str(vb::vit_model), "86389248");
    EXPECT_EQ(str(vb::classification), "86567656");
    auto shipped = Loaded::shipped("vit-base-patch16-224");
    EXPECT_EQ(shipped->total("params"), "86567656");
    EXPECT_EQ(shipped->total("active_params"), "86567656");
    auto json = Loaded::from_config_json(config("vit_base_patch16_224.json"));
    EXPECT_EQ(json->total("params"), str(vb::classification));
    auto base = Loaded::from_config_json(vit_json_as("ViTModel"));
    EXPECT_EQ(base->total("params"), "86389248");
    // The parameters do not depend on the batch (weights are counted once).
    EXPECT_EQ(shipped->total("params", steps::prefill(1, 8)), str(vb::classification));
    // qkv_bias false: the query, key and value lose their 3·768 biases in each of 12 layers.
    EXPECT_EQ(shipped->total("params", with_config({{"qkv_bias", 0}})), str(vb::classification - vb::L * 3 * vb::H));
}

// Conv2d(3, 768, kernel_size=16, stride=16) over B images of 3 x 224 x 224: 14 x 14 outputs,
// each a 3·16·16 dot product per output channel. FlopCounterMode's conv count:
//   2 · B · C_out · C_in · k_h · k_w · H_out · W_out = 2 · B · 768 · 3 · 16 · 16 · 14 · 14
//   = 2 · B · 115,605,504 = B · 231,211,008 (the bias not counted).
// Reads the image (B·3·224·224 at a_bytes 2) and the weights (590,592 at w_bytes 2); writes
// [B, 768, 14, 14] at 2 bytes.
TEST(FamilyVit, PatchEmbeddingConvolution) {
    EXPECT_EQ(str(2 * vb::H * vb::C * vb::patch * vb::patch * vb::n), "231211008");
    auto model = Loaded::shipped("vit-base-patch16-224");
    for (Int b : {Int(1), Int(4)}) {
        CostNode root = model->run(steps::prefill(1, std::int64_t(b)));
        Found conv = find_path(root, {"vit", "embeddings", "patch_embeddings", "projection"});
        ASSERT_NE(conv.node, nullptr);
        EXPECT_EQ(conv.node->kernel->name, "F.conv2d");
        EXPECT_EQ(conv.node->cost.at(model->metric("flops")).to_string(), str(b * 231211008));
        EXPECT_EQ(conv.node->cost.at(model->metric("read")).to_string(),
                  str(b * vb::C * vb::image * vb::image * 2 + vb::patch_embedding * 2));
        EXPECT_EQ(conv.node->cost.at(model->metric("write")).to_string(), str(b * vb::H * vb::n * 2));
    }
}

// One layer over M = B·197 rows: 2·M·(4·768·768 + 2·768·3072) = 2·M·7,077,888; B = 1:
// 2·197·7,077,888 = 2,788,687,872. The whole forward: 12 layers, then the classifier on the
// [CLS] row of each image, 2·B·768·1000 (ViTModel: the pooler's 2·B·768·768 instead).
//   B = 1: 12·2,788,687,872 + 1,536,000 = 33,465,790,464.
TEST(FamilyVit, GemmFlopsOfOneLayerAndTheForward) {
    EXPECT_EQ(str(vb::layer_kn), "7077888");
    EXPECT_EQ(str(2 * vb::S * vb::layer_kn), "2788687872");
    auto model = Loaded::shipped("vit-base-patch16-224");
    auto base = Loaded::from_config_json(vit_json_as("ViTModel"));
    for (Int b : {Int(1), Int(3)}) {
        Step step = steps::prefill(1, std::int64_t(b));
        CostNode root = model->run(step);
        Found layer = find_path(root, {"vit", "encoder", "layer"});
        ASSERT_NE(layer.node, nullptr);
        EXPECT_EQ(layer.calls.to_string(), "12");
        EXPECT_EQ(leaf_sum_per_call(*layer.node, model->metric("flops"), is_linear).to_string(),
                  str(2 * b * vb::S * vb::layer_kn));
        EXPECT_EQ(linear_flops(*model, step), str(vb::L * 2 * b * vb::S * vb::layer_kn + 2 * b * vb::H * vb::labels));
        EXPECT_EQ(linear_flops(*base, step), str(vb::L * 2 * b * vb::S * vb::layer_kn + 2 * b * vb::H * vb::H));
    }
    EXPECT_EQ(str(vb::L * 2 * vb::S * vb::layer_kn + 2 * vb::H * vb::labels), "33465790464");
}

// Attention is bidirectional over the 197 positions of each image, sdpa or eager:
//   sdpa: 2·B·h·S·S·(d + d) per layer (the fused kernel, FlopCounterMode's count); B = 1:
//   4·12·197·197·64 = 119,221,248.
//   eager: q@kᵀ and p@v 4·B·h·S²·d, the scale and the float32 softmax (3 per element under
//   stdlib/softmax.cost's convention) 4·B·h·S²; no mask add.
TEST(FamilyVit, AttentionIsBidirectionalOverTheImage) {
    EXPECT_EQ(str(4 * vb::h * vb::S * vb::S * vb::d), "119221248");
    auto model = Loaded::shipped("vit-base-patch16-224");
    for (Int b : {Int(1), Int(2)}) {
        Step step = steps::prefill(1, std::int64_t(b));
        CostNode root = model->run(step);
        Found sdpa = find_path(root, {"vit", "encoder", "layer", "attention", "attention", "sdpa_attention"});
        ASSERT_NE(sdpa.node, nullptr);
        EXPECT_EQ(sdpa.calls.to_string(), "12");
        EXPECT_EQ(sdpa.node->cost.at(model->metric("flops")).to_string(), str(4 * b * vb::h * vb::S * vb::S * vb::d));
        step.eager = true;
        CostNode eager_root = model->run(step);
        Found eager = find_path(eager_root, {"vit", "encoder", "layer", "attention", "attention", "eager_attention"});
        ASSERT_NE(eager.node, nullptr);
        EXPECT_EQ(eager.node->cost.at(model->metric("flops")).to_string(),
                  str(4 * b * vb::h * vb::S * vb::S * vb::d + 4 * b * vb::h * vb::S * vb::S));
    }
}

// The image fixes the sequence: seq_len is not read (any value costs the same), cache_len
// must be 0 (no KV cache).
TEST(FamilyVit, TheImageFixesTheSequence) {
    auto model = Loaded::shipped("vit-base-patch16-224");
    for (const char* metric : {"flops", "read", "write"})
        EXPECT_EQ(model->total(metric, steps::prefill(1, 2)), model->total(metric, steps::prefill(500, 2))) << metric;
    EXPECT_EQ(error_of(*model, steps::step(1, 1, 5)),
              "E0207: ViT is an encoder without a KV cache: cache_len must be 0 (the image fixes the sequence)");
    // A 384 x 384 image (config.image_size, as a checkpoint trained at that size): 24·24 = 576
    // patches, 577 positions, and a position table of 577 rows.
    Step big = with_config({{"image_size", 384}});
    EXPECT_EQ(model->total("params", big), str(vb::classification + (577 - vb::S) * vb::H));
    CostNode big_root = model->run(big);
    Found layer = find_path(big_root, {"vit", "encoder", "layer"});
    ASSERT_NE(layer.node, nullptr);
    EXPECT_EQ(leaf_sum_per_call(*layer.node, model->metric("flops"), is_linear).to_string(), str(2 * 577 * vb::layer_kn));
    // An image size the patch size does not divide is accepted, as transformers accepts it:
    // 230 // 16 = 14 patches a side, as at 224; the convolution reads the whole image.
    Step odd = with_config({{"image_size", 230}});
    EXPECT_EQ(model->total("params", odd), str(vb::classification));
    CostNode odd_root = model->run(odd);
    Found conv = find_path(odd_root, {"vit", "embeddings", "patch_embeddings", "projection"});
    ASSERT_NE(conv.node, nullptr);
    EXPECT_EQ(conv.node->cost.at(model->metric("read")).to_string(), str(3 * 230 * 230 * 2 + vb::patch_embedding * 2));
}

// num_labels is len(id2label) in transformers; costi cannot count a JSON object's entries, so
// a config with id2label must give num_labels. Without id2label, PretrainedConfig's default 2.
TEST(FamilyVit, NumLabelsAgainstId2label) {
    std::string labelled = write_json("vit_id2label.json",
                                      "{\"architectures\": [\"ViTForImageClassification\"], "
                                      "\"id2label\": {\"0\": \"cat\", \"1\": \"dog\", \"2\": \"bird\"}}\n");
    EXPECT_EQ(error_of(labelled),
              "E0207: config.num_labels is required with config.id2label: give the number of id2label entries (costi "
              "cannot count a JSON object's entries)");
    std::string counted = write_json("vit_id2label_counted.json",
                                     "{\"architectures\": [\"ViTForImageClassification\"], \"num_labels\": 3, "
                                     "\"id2label\": {\"0\": \"cat\", \"1\": \"dog\", \"2\": \"bird\"}}\n");
    EXPECT_EQ(Loaded::from_config_json(counted)->total("params"), str(vb::no_pooler + 3 * vb::H + 3));
    // Absent keys take ViTConfig's defaults, which are vit-base-patch16-224's shapes; 2 labels.
    std::string bare = write_json("vit_defaults.json", "{\"architectures\": [\"ViTForImageClassification\"]}\n");
    EXPECT_EQ(Loaded::from_config_json(bare)->total("params"), str(vb::no_pooler + 2 * vb::H + 2));
    // num_labels 0: the head is nn.Identity.
    auto model = Loaded::shipped("vit-base-patch16-224");
    EXPECT_EQ(model->total("params", with_config({{"num_labels", 0}})), str(vb::no_pooler));
}

TEST(FamilyVit, BadConfigsNameTheirKey) {
    auto model = Loaded::shipped("vit-base-patch16-224");
    EXPECT_EQ(error_of(*model), "no error");
    EXPECT_EQ(error_of(*model, with_config({{"patch_size", 256}})),
              "E0207: config.patch_size must not exceed config.image_size: no patch fits in the image");
    EXPECT_EQ(error_of(*model, with_config({{"patch_size", 0}})),
              "E0207: config.patch_size must be a positive integer (or a [height, width] pair of them)");
    EXPECT_EQ(error_of(*model, with_config({{"image_size", -224}})),
              "E0207: config.image_size must be a positive integer (or a [height, width] pair of them)");
    EXPECT_EQ(error_of(*model, with_config({{"num_channels", 0}})), "E0207: config.num_channels must be a positive integer");
    EXPECT_EQ(error_of(*model, with_config({{"num_attention_heads", 10}})),
              "E0207: config.hidden_size must be a multiple of config.num_attention_heads");
    EXPECT_EQ(error_of(*model, with_config({{"num_labels", -1}})),
              "E0207: config.num_labels must be a non-negative integer");
    EXPECT_EQ(error_of(*model, with_config({{"intermediate_size", 0}})),
              "E0207: config.intermediate_size must be a positive integer");
    Step act;
    act.config_strings.emplace_back("hidden_act", "quick_gelu");
    EXPECT_EQ(error_of(*model, act).substr(0, 40), "E0207: config.hidden_act must be one of ");
    Step flash;
    flash.config_strings.emplace_back("_attn_implementation", "flash_attention_2");
    EXPECT_EQ(error_of(*model, flash),
              "E0207: config._attn_implementation (or attn_implementation) must be sdpa or eager (the attention paths "
              "costi models)");
}

TEST(FamilyVit, ConfigJsonSelectsTheClass) {
    auto cls = Loaded::from_config_json(config("vit_base_patch16_224.json"));
    EXPECT_EQ(cls->run(steps::prefill(1)).kernel->name, "transformers.models.vit.modeling_vit.ViTForImageClassification");
    auto base = Loaded::from_config_json(vit_json_as("ViTModel"));
    EXPECT_EQ(base->run(steps::prefill(1)).kernel->name, "transformers.models.vit.modeling_vit.ViTModel");
}

}  // namespace
}  // namespace costi::models_test
