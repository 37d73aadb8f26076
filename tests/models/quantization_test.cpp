// Quantized checkpoints (issue 8): a config.json's quantization_config sets the width of the
// linear layers (bits plus the per-group scale and zero-point bytes), lm_head stays at the
// model's width unless the config quantizes it, and an unknown method is refused.
//
// The configs are llama_untied.json (hidden 256, intermediate 688, 4 heads of 64, 4 KV heads,
// 2 layers, vocabulary 1000) with a quantization_config added. Its linear layers per layer:
// q, k, v, o 4 x 256 x 256 = 262,144 and gate, up, down 3 x 256 x 688 = 528,384, so
// 790,528 per layer and 1,581,056 in the two layers; lm_head 1000 x 256 = 256,000.
#include <gtest/gtest.h>

#include "model_support.hpp"

namespace costi::models_test {
namespace {

using interp::CostiError;

const std::string configs = COSTI_MODEL_CONFIGS_DIR;

// The value a runtime variable takes for the config's model (its default: nothing overridden).
Number width(const std::string& config, const std::string& name) {
    interp::Session session;
    session.load_library();
    const interp::Model& model = session.model_from_config_json(configs + "/" + config);
    interp::Environment env = session.environment(model, {});
    auto id = session.program().find_runtime(name);
    EXPECT_TRUE(id.has_value()) << name;
    return env.runtime.at(*id).num;
}

// A decode step's read bytes (seq_len 1, cache 0) of the config's model.
Number decode_read(const std::string& config, std::vector<std::pair<std::string, std::int64_t>> runtime = {}) {
    auto m = Loaded::from_config_json(configs + "/" + config);
    Step s;
    s.runtime = std::move(runtime);
    CostNode root = m->run(s);
    return root.count * root.cost.at(m->metric("read"));
}

TEST(Quantization, AwqIsFourBitsPlusAnFp16ScaleAndAZeroPointPerGroup) {
    // bits 4, group 128, zero point: 4/8 + (2 + 4/8)/128 = 1/2 + 5/256 = 133/256 bytes (4.156 bits).
    EXPECT_EQ(width("llama_awq.json", "linear_w_bytes").to_string(), "133/256");
    EXPECT_EQ(width("llama_awq.json", "w_bytes").to_string(), "2");  // embeddings and norms
    EXPECT_EQ(width("llama_awq.json", "lm_head_w_bytes").to_string(), "2");
}

TEST(Quantization, AutoAwqKeyNamesAreRead) {
    // w_bit 4, q_group_size 64: 1/2 + (5/2)/64 = 1/2 + 5/128 = 69/128.
    EXPECT_EQ(width("llama_autoawq_names.json", "linear_w_bytes").to_string(), "69/128");
}

TEST(Quantization, GptqPerColumnScalesAreNotCountedAndLmHeadFollowsTheConfig) {
    // group_size -1: one scale per output column, not counted: 4/8 = 1/2; "lm_head": true.
    EXPECT_EQ(width("llama_gptq_lm_head.json", "quant_group").to_string(), "0");
    EXPECT_EQ(width("llama_gptq_lm_head.json", "linear_w_bytes").to_string(), "1/2");
    EXPECT_EQ(width("llama_gptq_lm_head.json", "lm_head_w_bytes").to_string(), "1/2");
}

TEST(Quantization, BitsAndBytesBlocksOf64) {
    // 4-bit: 1/2 + 4/64 (an fp32 absmax per 64) = 9/16 (4.5 bits).
    EXPECT_EQ(width("llama_bnb4.json", "linear_w_bytes").to_string(), "9/16");
    // double quantization: 1/2 + 1/64 + 4/(64*256) = (8192 + 256 + 4)/16384 = 2113/4096 (4.127 bits).
    EXPECT_EQ(width("llama_bnb4_double.json", "linear_w_bytes").to_string(), "2113/4096");
    // 8-bit: 1 byte, row scales not counted.
    EXPECT_EQ(width("llama_bnb8.json", "linear_w_bytes").to_string(), "1");
}

TEST(Quantization, Fp8WithBlockScales) {
    // 1 byte and an fp32 scale per 128 x 128 block: 1 + 4/16384 = 4097/4096.
    EXPECT_EQ(width("llama_fp8_block.json", "quant_group").to_string(), "16384");
    EXPECT_EQ(width("llama_fp8_block.json", "linear_w_bytes").to_string(), "4097/4096");
}

TEST(Quantization, OnlyTheLinearLayersReadLess) {
    // Decode at batch 1: every linear weight is read once. The unquantized model reads the
    // 1,581,056 decoder-block linear weights at 2 bytes, the AWQ one at 133/256:
    // 1,581,056 x (2 - 133/256) = 6,176 x 379 = 2,340,704 bytes less; lm_head stays 2 bytes.
    Number plain = decode_read("llama_untied.json");
    Number awq = decode_read("llama_awq.json");
    EXPECT_EQ((plain - awq).to_string(), "2340704");
    // GPTQ with lm_head quantized too: the 1,837,056 linear weights (lm_head's 256,000 added)
    // at 1/2 instead of 2: 1,837,056 x 3/2 = 2,755,584 bytes less.
    Number gptq = decode_read("llama_gptq_lm_head.json");
    EXPECT_EQ((plain - gptq).to_string(), "2755584");
}

TEST(Quantization, TheFlagsOverrideTheConfig) {
    // --quant_bits 0: the model as if unquantized.
    EXPECT_EQ(decode_read("llama_awq.json", {{"quant_bits", 0}}).to_string(),
              decode_read("llama_untied.json").to_string());
}

TEST(Quantization, AnUnknownMethodIsRefused) {
    interp::Session session;
    session.load_library();
    const interp::Model& model = session.model_from_config_json(configs + "/llama_hqq.json");
    try {
        session.environment(model, {});
        FAIL() << "hqq accepted";
    } catch (const CostiError& e) {
        const auto& d = e.diagnostics().front();
        EXPECT_EQ(d.code, "E0209");
        EXPECT_NE(d.message.find("quant_bits"), std::string::npos) << d.message;
        EXPECT_NE(d.message.find("awq, gptq, bitsandbytes"), std::string::npos) << d.message;
    }
}

TEST(Quantization, ModulesToNotConvertKeepsTheMixtralRouter) {
    // tiny_mixtral.json: hidden 64, 4 experts, 2 layers; the router (gate) is an nn.Linear of
    // 64 x 4 = 256 weights per layer, 512 in all, read once per decode step. Listed in
    // modules_to_not_convert it stays at 2 bytes instead of 133/256: 512 x (2 - 133/256) =
    // 2 x 379 = 758 bytes more read.
    EXPECT_EQ(width("mixtral_awq_keep_gate.json", "router_w_bytes").to_string(), "2");
    EXPECT_EQ(width("mixtral_awq.json", "router_w_bytes").to_string(), "133/256");
    Number kept = decode_read("mixtral_awq_keep_gate.json");
    Number converted = decode_read("mixtral_awq.json");
    EXPECT_EQ((kept - converted).to_string(), "758");
}

TEST(Quantization, AModuleCostiCannotTellApartIsRefused) {
    interp::Session session;
    session.load_library();
    const interp::Model& model = session.model_from_config_json(configs + "/mixtral_awq_unknown_skip.json");
    try {
        session.environment(model, {});
        FAIL() << "vision_tower accepted";
    } catch (const CostiError& e) {
        const auto& d = e.diagnostics().front();
        EXPECT_EQ(d.code, "E0209");
        EXPECT_NE(d.message.find("modules_to_not_convert"), std::string::npos) << d.message;
    }
}

}  // namespace
}  // namespace costi::models_test
