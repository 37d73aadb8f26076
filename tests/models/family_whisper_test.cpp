// Issue 13, an encoder-decoder: Whisper (kernels/whisper.cost) and its shipped checkpoint
// openai/whisper-small (models/whisper-small.cost, WhisperForConditionalGeneration). The exact
// parameter counts of whisper-tiny, -base and -small (the published 37,760,640, 72,593,920 and
// 241,734,912), the conv front end's FLOPs, the GEMM FLOPs of a first step (encoder, cross K/V,
// decoder) and of a decode step (decoder only), the self + cross KV cache, encoder_len's
// meaning and bad configs (E0207 naming the key), and `--config` picking the class by
// architectures[0].
//
// Every expected number is computed here with plain integers from the config values (the
// arithmetic is in the comments), never taken from costi's output.
//
// Configs: tests/models/configs/whisper_small.json transcribes openai/whisper-small's
// config.json (snapshot 973afd24, read in a public copy) without its generation lists
// (begin_suppress_tokens, forced_decoder_ids, suppress_tokens). whisper_tiny.json and
// whisper_base.json carry the same keys with the sizes of openai/whisper-tiny (d_model 384, 4 + 4
// layers, 6 heads, ffn 1536) and openai/whisper-base (512, 6 + 6, 8 heads, 2048): the sizes as
// openai's ModelDimensions list them (n_audio_state, n_audio_layer, n_audio_head, n_text_*:
// k2-fsa/sherpa-onnx scripts/whisper/model-info.md), ffn 4·d_model as every openai checkpoint;
// the other keys are whisper-small's (the same conversion, transformers 4.27.0.dev0), not read
// for tiny and base.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <tuple>

#include "interpreter/evaluator.hpp"
#include "model_support.hpp"

namespace costi::models_test {
namespace {

using namespace family;

// A checkpoint's shapes: D = d_model, L = encoder_layers = decoder_layers, F = ffn dims,
// mel = num_mel_bins 80, V = 51865, Ps = max_source_positions 1500, Pt = max_target_positions 448.
struct Shapes {
    Int D, L, h, F;
    Int mel = 80, V = 51865, Ps = 1500, Pt = 448;
    // q, v, out_proj with bias, k_proj without: 4·D² + 3·D
    Int attention() const { return 4 * D * D + 3 * D; }
    // attention, two LayerNorms (weight + bias), fc1 D·F + F, fc2 F·D + D
    Int encoder_layer() const { return attention() + 2 * 2 * D + (D * F + F) + (F * D + D); }
    // self and cross attention, three LayerNorms, fc1, fc2
    Int decoder_layer() const { return 2 * attention() + 3 * 2 * D + (D * F + F) + (F * D + D); }
    // conv1 [D, mel, 3] + bias, conv2 [D, D, 3] + bias, the frozen [Ps, D] position table,
    // the layers, the final LayerNorm
    Int encoder() const { return (D * mel * 3 + D) + (D * D * 3 + D) + Ps * D + L * encoder_layer() + 2 * D; }
    // embed_tokens [V, D], the learned [Pt, D] positions, the layers, the final LayerNorm;
    // proj_out is tied to embed_tokens
    Int decoder() const { return V * D + Pt * D + L * decoder_layer() + 2 * D; }
    Int total() const { return encoder() + decoder(); }
};

// whisper-tiny: D 384, 4 layers, 6 heads, F 1536
//   encoder layer: 4·147,456 + 3·384 = 590,976 attention; LayerNorms 1,536; fc1 589,824 + 1,536;
//                  fc2 589,824 + 384: 1,774,080; 4 layers 7,096,320
//   conv1 384·80·3 + 384 = 92,544; conv2 384·384·3 + 384 = 442,752; positions 1500·384 = 576,000;
//   LayerNorm 768: encoder 8,208,384
//   decoder layer: 2·590,976 + 2,304 + 591,360 + 590,208 = 2,365,824; 4 layers 9,463,296
//   embed_tokens 51865·384 = 19,916,160; positions 448·384 = 172,032; LayerNorm 768:
//   decoder 29,552,256. Total 37,760,640.
const Shapes tiny{384, 4, 6, 1536};
// whisper-base: D 512, 6 layers, 8 heads, F 2048
//   encoder layer 3,151,872 (·6 = 18,911,232); conv1 123,392; conv2 786,944; positions 768,000;
//   LayerNorm 1,024: encoder 20,590,592
//   decoder layer 4,203,008 (·6 = 25,218,048); embed_tokens 26,554,880; positions 229,376;
//   LayerNorm 1,024: decoder 52,003,328. Total 72,593,920.
const Shapes base{512, 6, 8, 2048};
// whisper-small: D 768, 12 layers, 12 heads, F 3072
//   encoder layer 7,087,104 (·12 = 85,045,248); conv1 185,088; conv2 1,770,240; positions
//   1,152,000; LayerNorm 1,536: encoder 88,154,112
//   decoder layer 9,450,240 (·12 = 113,402,880); embed_tokens 39,832,320; positions 344,064;
//   LayerNorm 1,536: decoder 153,580,800. Total 241,734,912.
const Shapes small{768, 12, 12, 3072};

TEST(FamilyWhisper, ParametersAreThePublishedCounts) {
    EXPECT_EQ(str(tiny.encoder()), "8208384");
    EXPECT_EQ(str(tiny.total()), "37760640");
    EXPECT_EQ(str(base.encoder()), "20590592");
    EXPECT_EQ(str(base.total()), "72593920");
    EXPECT_EQ(str(small.encoder_layer()), "7087104");
    EXPECT_EQ(str(small.decoder_layer()), "9450240");
    EXPECT_EQ(str(small.encoder()), "88154112");
    EXPECT_EQ(str(small.decoder()), "153580800");
    EXPECT_EQ(str(small.total()), "241734912");
    for (const auto& [file, shapes] : {std::pair<std::string, Shapes>{"whisper_tiny.json", tiny},
                                       {"whisper_base.json", base},
                                       {"whisper_small.json", small}}) {
        auto model = Loaded::from_config_json(config(file));
        EXPECT_EQ(model->total("params"), str(shapes.total())) << file;
        EXPECT_EQ(model->total("active_params"), str(shapes.total())) << file;
    }
    // The encoder's weights (its frozen position table included) are the model's on every
    // step, also a decode step where the encoder does not run.
    auto shipped = Loaded::shipped("whisper-small");
    EXPECT_EQ(shipped->total("params", steps::step(1, 4, 0)), "241734912");
    EXPECT_EQ(shipped->total("params", steps::decode(20)), "241734912");
    EXPECT_EQ(shipped->total("params", steps::decode(100, 3)), "241734912");
    // Untied, proj_out's [V, D] weight is its own.
    Step untied = with_config({{"tie_word_embeddings", 0}});
    EXPECT_EQ(shipped->total("params", untied), str(small.total() + small.V * small.D));
}

// The conv front end of the first step, B sequences of 2·1500 = 3000 mel frames:
//   conv1 (80 -> 768, k 3, pad 1): 3000 outputs per channel, 2·B·768·80·3·3000 FLOPs
//     = B·1,105,920,000
//   conv2 (768 -> 768, k 3, stride 2, pad 1): (3000 + 2 - 2 - 1)//2 + 1 = 1500 outputs,
//     2·B·768·768·3·1500 = B·5,308,416,000
// (torch.utils.flop_counter's conv count; the bias adds are not counted). A decode step runs no
// convolution.
TEST(FamilyWhisper, ConvFrontEndFlops) {
    EXPECT_EQ(str(2 * small.D * small.mel * 3 * 3000), "1105920000");
    EXPECT_EQ(str(2 * small.D * small.D * 3 * 1500), "5308416000");
    auto model = Loaded::shipped("whisper-small");
    for (Int b : {Int(1), Int(2)}) {
        CostNode root = model->run(steps::step(std::int64_t(b), 3, 0));
        Found conv1 = find_path(root, {"model", "encoder", "conv1"});
        Found conv2 = find_path(root, {"model", "encoder", "conv2"});
        ASSERT_NE(conv1.node, nullptr);
        ASSERT_NE(conv2.node, nullptr);
        EXPECT_EQ(conv1.node->cost.at(model->metric("flops")).to_string(), str(b * 1105920000));
        EXPECT_EQ(conv2.node->cost.at(model->metric("flops")).to_string(), str(b * 5308416000));
        // conv1 reads the [B, 80, 3000] mel input and its 185,088 weights, writes [B, 768, 3000]
        // (bf16 activations and weights: 2 bytes each)
        EXPECT_EQ(conv1.node->cost.at(model->metric("read")).to_string(), str(2 * (b * 80 * 3000 + 185088)));
        EXPECT_EQ(conv1.node->cost.at(model->metric("write")).to_string(), str(2 * b * 768 * 3000));
    }
    CostNode decode = model->run(steps::decode(10));
    Found conv1 = find_path(decode, {"model", "encoder", "conv1"});
    ASSERT_NE(conv1.node, nullptr);
    EXPECT_EQ(conv1.node->cost.at(model->metric("flops")).to_string(), "0");
    EXPECT_EQ(conv1.node->cost.at(model->metric("read")).to_string(), "0");
    EXPECT_EQ(conv1.node->cost.at(model->metric("params")).to_string(), "185088");
}

// GEMM FLOPs (Σ 2·M·K·N over the nn.Linear modules), whisper-small, D 768, F 3072, V 51865:
//   per new decoder token: each layer's self q/k/v/out 4·D², cross q/out 2·D², fc1 + fc2 2·D·F
//     = 3,538,944 + 4,718,592 = 8,257,536; 12 layers 99,090,432; proj_out D·V = 39,832,320:
//     138,922,752, so 2·138,922,752 = 277,845,504 per token
//   the first step adds, per encoder position (1500 per sequence): each encoder layer's
//     4·D² + 2·D·F = 7,077,888 (12 layers: 84,934,656) and each decoder layer's cross k/v_proj
//     over the encoder output 2·D² = 1,179,648 (12 layers: 14,155,776): 99,090,432, so
//     2·1500·99,090,432 = 297,271,296,000 per sequence
TEST(FamilyWhisper, GemmFlopsOfTheFirstAndLaterSteps) {
    const Int D = small.D, F = small.F, V = small.V, L = small.L;
    const Int per_token = L * (6 * D * D + 2 * D * F) + D * V;
    const Int per_position = L * (4 * D * D + 2 * D * F) + L * 2 * D * D;
    EXPECT_EQ(str(2 * per_token), "277845504");
    EXPECT_EQ(str(2 * 1500 * per_position), "297271296000");
    auto model = Loaded::shipped("whisper-small");
    // decode steps: the decoder alone, whatever the cache
    EXPECT_EQ(linear_flops(*model, steps::decode(1)), str(2 * per_token));
    EXPECT_EQ(linear_flops(*model, steps::decode(200, 4)), str(2 * 4 * per_token));
    EXPECT_EQ(linear_flops(*model, steps::step(2, 3, 7)), str(2 * 2 * 3 * per_token));
    // first steps: + the encoder and the cross K/V
    EXPECT_EQ(linear_flops(*model, steps::step(1, 4, 0)), str(2 * 4 * per_token + 2 * 1500 * per_position));
    EXPECT_EQ(linear_flops(*model, steps::step(3, 1, 0)), str(2 * 3 * per_token + 2 * 3 * 1500 * per_position));
}

// Attention FLOPs on the default SDPA path (2·B·h·q·kv·(d + d) per call, FlopCounterMode's
// count, the full rectangle): a decode step after C tokens, d = 64, h = 12, 12 decoder layers:
//   self  2·B·12·1·(C + 1)·128 per layer, cross 2·B·12·1·1500·128 per layer.
TEST(FamilyWhisper, DecodeStepAttentionReadsSelfAndCrossCaches) {
    auto model = Loaded::shipped("whisper-small");
    for (auto [b, c] : {std::pair<Int, Int>{1, 10}, {3, 99}}) {
        const Int self = 2 * b * 12 * (c + 1) * 128, cross = 2 * b * 12 * 1500 * 128;
        EXPECT_EQ(sdpa_flops(*model, std::int64_t(b), 1, std::int64_t(c)), str(12 * (self + cross)));
    }
}

// The decoder's self-attention on the eager path (a decoder layer's core, d = 64, h = 12):
// q@kᵀ and p@v 4·B·h·S·kv·d, softmax 3 per score (in the activation dtype), and the float
// causal mask's add 1 per score only for more than one query (to_causal_4d makes no mask for
// one): S = 4 after C = 0 (kv 4): 4·12·4·4·64 + 4·12·4·4 = 49,152 + 768 = 49,920;
// S = 1 after C = 9 (kv 10): 4·12·1·10·64 + 3·12·1·10 = 30,720 + 360 = 31,080.
TEST(FamilyWhisper, EagerDecoderMaskOnlyForSeveralQueries) {
    EXPECT_EQ(str(4 * 12 * 4 * 4 * 64 + 4 * 12 * 4 * 4), "49920");
    EXPECT_EQ(str(4 * 12 * 1 * 10 * 64 + 3 * 12 * 1 * 10), "31080");
    auto model = Loaded::shipped("whisper-small");
    for (auto [s, c, want] : {std::tuple<std::int64_t, std::int64_t, std::string>{4, 0, "49920"}, {1, 9, "31080"}}) {
        Step step = steps::step(1, s, c);
        step.eager = true;
        CostNode root = model->run(step);
        Found core = find_path(root, {"model", "decoder", "layers", "self_attn", "attention"});
        ASSERT_NE(core.node, nullptr);
        EXPECT_EQ(core.node->cost.at(model->metric("flops")).to_string(), want) << s << " " << c;
    }
}

// The cache a step leaves (kv_cache under a device, bf16: kv_bytes 2), per decoder layer:
//   self-attention K and V: 2·B·(C + S)·D·2 bytes; cross-attention K and V: 2·B·1500·D·2 bytes.
//   whisper-small, decode at C = 10 (S = 1), B = 1: 12·2·11·768·2 = 405,504 self and
//   12·2·1500·768·2 = 55,296,000 cross: 55,701,504 bytes. The first step (C = 0, S = 4,
//   B = 2): 12·2·2·4·768·2 = 294,912 self and 2·12·2·1500·768·2 = 110,592,000 cross:
//   110,886,912 bytes.
TEST(FamilyWhisper, KvCacheHoldsSelfAndCross) {
    EXPECT_EQ(str(12 * 2 * 11 * 768 * 2 + 12 * 2 * 1500 * 768 * 2), "55701504");
    EXPECT_EQ(kv_cache_bytes("whisper-small", steps::decode(10)), "55701504");
    EXPECT_EQ(str(12 * 2 * 2 * 4 * 768 * 2 + 2 * 12 * 2 * 1500 * 768 * 2), "110886912");
    EXPECT_EQ(kv_cache_bytes("whisper-small", steps::step(2, 4, 0)), "110886912");
}

// encoder_len is the encoder's positions after conv2's stride (the mel input has twice as
// many frames); this release accepts only max_source_positions of them (L1164-1168), and 0,
// the prelude's default a --config run keeps, stands for them.
TEST(FamilyWhisper, EncoderLenIsMaxSourcePositions) {
    auto shipped = Loaded::shipped("whisper-small");
    auto json = Loaded::from_config_json(config("whisper_small.json"));
    Step first = steps::step(1, 4, 0);
    EXPECT_EQ(json->total("flops", first), shipped->total("flops", first));
    Step explicit_len = first;
    explicit_len.runtime.emplace_back("encoder_len", 1500);
    EXPECT_EQ(json->total("flops", explicit_len), shipped->total("flops", first));
    Step other = first;
    other.runtime.emplace_back("encoder_len", 750);
    EXPECT_EQ(error_of(*shipped, other),
              "E0207: encoder_len must be config.max_source_positions (or 0, which stands for it): WhisperEncoder "
              "accepts exactly 2 * max_source_positions mel frames");
}

TEST(FamilyWhisper, BadInputsNameTheirKey) {
    auto model = Loaded::shipped("whisper-small");
    EXPECT_EQ(error_of(*model, steps::decode(447)), "no error");
    EXPECT_EQ(error_of(*model, steps::decode(448)),
              "E0207: Whisper's decoder has config.max_target_positions learned positions; cache_len + seq_len "
              "exceeds them");
    EXPECT_EQ(error_of(*model, with_config({{"decoder_attention_heads", 10}})),
              "E0207: config.d_model must be a multiple of config.decoder_attention_heads");
    EXPECT_EQ(error_of(*model, with_config({{"encoder_attention_heads", 0}})),
              "E0207: config.encoder_attention_heads must be a positive integer");
    EXPECT_EQ(error_of(*model, with_config({{"num_mel_bins", 0}})),
              "E0207: config.num_mel_bins must be a positive integer");
    EXPECT_EQ(error_of(*model, with_config({{"encoder_ffn_dim", -1}})),
              "E0207: config.encoder_ffn_dim must be a positive integer");
    Step fp16;
    fp16.config_strings.emplace_back("torch_dtype", "float16");
    EXPECT_EQ(error_of(*model, fp16),
              "E0207: config.torch_dtype float16 is not modelled (WhisperEncoderLayer's inf/nan clamp, L788-792)");
    Step fa2;
    fa2.config_strings.emplace_back("_attn_implementation", "flash_attention_2");
    EXPECT_EQ(error_of(*model, fa2).substr(0, 41), "E0207: config._attn_implementation (or at");
}

TEST(FamilyWhisper, ConfigJsonSelectsTheClass) {
    auto model = Loaded::from_config_json(config("whisper_small.json"));
    EXPECT_EQ(model->run(steps::decode(3)).kernel->name,
              "transformers.models.whisper.modeling_whisper.WhisperForConditionalGeneration");
}

}  // namespace
}  // namespace costi::models_test
