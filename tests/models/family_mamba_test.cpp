// Issue 13: the Mamba family (kernels/mamba.cost, transformers' modeling_mamba.py, the slow
// path MambaMixer.slow_forward) and its shipped checkpoints state-spaces/mamba-130m-hf
// (models/mamba-130m.cost) and state-spaces/mamba-2.8b-hf (models/mamba-2.8b.cost).
//
// Every expected value is derived by hand from the checkpoints' config.json values (the
// arithmetic is in the comments, and redone here with 128-bit integers from the module shapes
// of modeling_mamba.py @ 00328d4e), never taken from costi's output; the parameter counts are
// the published 129,135,360 and 2,768,345,600.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "interpreter/evaluator.hpp"
#include "model_support.hpp"

using namespace costi::models_test;
using namespace costi::models_test::family;

namespace {

// The shapes of one checkpoint (config.json): hidden H, layers L, vocab V, state n, conv K,
// expand 2 (I = 2H), time_step_rank R = ceil(H / 16); use_bias false, use_conv_bias true, the
// LM head tied to the embeddings (tie_word_embeddings absent: True).
struct Mamba {
    Int H, L, V, n, K, I, R;
    // Per MambaBlock (MambaMixer.__init__ L172-208, MambaBlock L490):
    Int in_proj() const { return H * 2 * I; }              // nn.Linear(H, 2I, bias=False)
    Int conv1d() const { return I * 1 * K + I; }            // depthwise Conv1d weight [I, 1, K] + bias [I]
    Int x_proj() const { return I * (R + 2 * n); }          // nn.Linear(I, R + 2n, bias=False)
    Int dt_proj() const { return R * I + I; }               // nn.Linear(R, I, bias=True)
    Int A_log() const { return I * n; }                     // [I, n]
    Int D() const { return I; }                             // [I]
    Int out_proj() const { return I * H; }                  // nn.Linear(I, H, bias=False)
    Int norm() const { return H; }                          // MambaRMSNorm weight [H]
    Int layer() const { return in_proj() + conv1d() + x_proj() + dt_proj() + A_log() + D() + out_proj() + norm(); }
    // Embeddings [V, H] (the tied lm_head adds nothing), L blocks, norm_f [H].
    Int params() const { return V * H + L * layer() + H; }
    // GEMM K·N per token: in_proj, x_proj, dt_proj, out_proj in every layer, and lm_head.
    Int linear_kn() const { return L * (H * 2 * I + I * (R + 2 * n) + R * I + I * H) + H * V; }
    // Recurrent state per sequence, in elements: conv [I, K] + ssm [I, n] per layer.
    Int state() const { return L * I * (K + n); }
};

// mamba-130m-hf: H 768, 24 layers, V 50280, n 16, K 4, I 1536, R = ceil(768 / 16) = 48.
const Mamba m130{768, 24, 50280, 16, 4, 1536, 48};
// mamba-2.8b-hf: H 2560, 64 layers, V 50280, n 16, K 4, I 5120, R = ceil(2560 / 16) = 160.
const Mamba m28{2560, 64, 50280, 16, 4, 5120, 160};

// ---- exact parameters against the published figures ----------------------------------------

// mamba-130m, per layer: in_proj 768·3072 = 2,359,296; conv1d 1536·4 + 1536 = 7,680;
// x_proj 1536·80 = 122,880; dt_proj 48·1536 + 1536 = 75,264; A_log 1536·16 = 24,576;
// D 1,536; out_proj 1536·768 = 1,179,648; norm 768: 3,771,648. 24 layers 90,519,552;
// + embeddings 50280·768 = 38,615,040 + norm_f 768 = 129,135,360.
TEST(FamilyMambaParams, Mamba130m) {
    EXPECT_EQ(str(m130.layer()), "3771648");
    EXPECT_EQ(str(m130.params()), "129135360");
    auto model = Loaded::shipped("mamba-130m");
    EXPECT_EQ(model->total("params"), "129135360");
    EXPECT_EQ(model->total("active_params"), "129135360");
    // The same from the config.json (architectures[0] MambaForCausalLM picks the family).
    EXPECT_EQ(Loaded::from_config_json(config("mamba_130m.json"))->total("params"), "129135360");
}

// mamba-2.8b, per layer: in_proj 2560·10240 = 26,214,400; conv1d 5120·4 + 5120 = 25,600;
// x_proj 5120·192 = 983,040; dt_proj 160·5120 + 5120 = 824,320; A_log 5120·16 = 81,920;
// D 5,120; out_proj 5120·2560 = 13,107,200; norm 2,560: 41,244,160. 64 layers
// 2,639,626,240; + embeddings 50280·2560 = 128,716,800 + norm_f 2,560 = 2,768,345,600.
// (The vocabulary is the config's 50280, not the tokenizer's 50277: the published count
// needs 128,716,800 = 50280·2560 embedding parameters.)
TEST(FamilyMambaParams, Mamba28b) {
    EXPECT_EQ(str(m28.layer()), "41244160");
    EXPECT_EQ(str(m28.params()), "2768345600");
    auto model = Loaded::shipped("mamba-2.8b");
    EXPECT_EQ(model->total("params"), "2768345600");
    EXPECT_EQ(Loaded::from_config_json(config("mamba_2.8b.json"))->total("params"), "2768345600");
}

// The parameters do not depend on the step: the decode path counts the conv weight and bias
// through the window product and the bias add (L395-397), the prefill path through Conv1d.
TEST(FamilyMambaParams, SameInPrefillAndDecode) {
    auto model = Loaded::shipped("mamba-130m");
    EXPECT_EQ(model->total("params", steps::prefill(7, 2)), "129135360");
    EXPECT_EQ(model->total("params", steps::decode(100, 3)), "129135360");
    // Untied, the LM head adds V·H = 38,615,040.
    Step untied = steps::decode(5);
    untied.config = {{"tie_word_embeddings", 0}};
    EXPECT_EQ(model->total("params", untied), str(m130.params() + m130.V * m130.H));
}

// ---- GEMM FLOPs: in_proj, x_proj, dt_proj, out_proj, lm_head ---------------------------------

// mamba-130m per token: 24·(768·3072 + 1536·80 + 48·1536 + 1536·768) + 768·50280
// = 24·3,735,552 + 38,615,040 = 128,268,288 multiply-adds: 256,536,576 FLOPs.
TEST(FamilyMambaGemm, Mamba130m) {
    auto model = Loaded::shipped("mamba-130m");
    EXPECT_EQ(str(m130.linear_kn()), "128268288");
    EXPECT_EQ(linear_flops(*model, 1, 1, 0), "256536576");
    EXPECT_EQ(linear_flops(*model, 1, 1, 4096), str(2 * m130.linear_kn()));
    EXPECT_EQ(linear_flops(*model, 1, 2048, 0), str(2 * 2048 * m130.linear_kn()));
    EXPECT_EQ(linear_flops(*model, 3, 5, 0), str(2 * 15 * m130.linear_kn()));
    // lm_head on 1 of 5 new tokens per sequence
    EXPECT_EQ(linear_flops(*model, 3, 5, 0, 1),
              str(2 * 15 * (m130.linear_kn() - m130.H * m130.V) + 2 * 3 * m130.H * m130.V));
}

// mamba-2.8b per token: 64·(2560·10240 + 5120·192 + 160·5120 + 5120·2560) + 2560·50280
// = 64·41,123,840 + 128,716,800 = 2,760,642,560 multiply-adds.
TEST(FamilyMambaGemm, Mamba28b) {
    auto model = Loaded::shipped("mamba-2.8b");
    EXPECT_EQ(str(m28.linear_kn()), "2760642560");
    EXPECT_EQ(linear_flops(*model, 1, 1, 100), "5521285120");
    EXPECT_EQ(linear_flops(*model, 2, 512, 0), str(2 * 1024 * m28.linear_kn()));
}

// Each projection by itself, one prefill of B·S = 2·7 = 14 rows of mamba-130m: in_proj
// 2·14·768·3072, x_proj 2·14·1536·80, dt_proj 2·14·48·1536, out_proj 2·14·1536·768 per layer.
TEST(FamilyMambaGemm, EachProjection) {
    auto model = Loaded::shipped("mamba-130m");
    CostNode root = model->run(steps::prefill(7, 2));
    auto flops = model->metric("flops");
    auto gemm = [&](const char* proj) {
        Found f = find_path(root, {"backbone", "layers", "mixer", proj, "gemm"});
        return f.node == nullptr ? std::string("absent") : (f.calls * f.node->cost.at(flops)).to_string();
    };
    const Int M = 14, Lr = m130.L - 1;  // `layers` holds blocks 1..23; block 0 is `layers_first`
    EXPECT_EQ(gemm("in_proj"), str(Lr * 2 * M * 768 * 3072));
    EXPECT_EQ(gemm("x_proj"), str(Lr * 2 * M * 1536 * 80));
    EXPECT_EQ(gemm("dt_proj"), str(Lr * 2 * M * 48 * 1536));
    EXPECT_EQ(gemm("out_proj"), str(Lr * 2 * M * 1536 * 768));
}

// ---- recurrent state: the kv_cache metric -----------------------------------------------------

// Per layer a conv state [B, I, K] and an ssm state [B, I, n] (MambaCache L101-115), at the
// activations' width (bf16: 2 bytes). mamba-130m: 24·1536·(4 + 16)·2 = 1,474,560 bytes per
// sequence; mamba-2.8b: 64·5120·20·2 = 13,107,200. The same after a prefill of any length and
// at any cache_len: the state does not grow.
TEST(FamilyMambaState, RecurrentStateBytes) {
    EXPECT_EQ(str(m130.state() * 2), "1474560");
    EXPECT_EQ(str(m28.state() * 2), "13107200");
    EXPECT_EQ(kv_cache_bytes("mamba-130m", steps::prefill(1)), "1474560");
    EXPECT_EQ(kv_cache_bytes("mamba-130m", steps::prefill(4096)), "1474560");
    EXPECT_EQ(kv_cache_bytes("mamba-130m", steps::decode(10)), "1474560");
    EXPECT_EQ(kv_cache_bytes("mamba-130m", steps::decode(100000)), "1474560");
    EXPECT_EQ(kv_cache_bytes("mamba-2.8b", steps::decode(4096, 8)), str(8 * m28.state() * 2));
    // kv_bytes is the state's width: an fp32 state (kv_bytes 4) doubles it.
    Step fp32 = steps::decode(10);
    fp32.runtime.emplace_back("kv_bytes", 4);
    EXPECT_EQ(kv_cache_bytes("mamba-130m", fp32), str(m130.state() * 4));
}

// use_cache false: no cache, no state kept (slow_forward L399-404 starts from zeros).
TEST(FamilyMambaState, NoCacheHoldsNothing) {
    Step s = steps::prefill(9);
    s.config = {{"use_cache", 0}};
    EXPECT_EQ(kv_cache_bytes("mamba-130m", s), "0");
}

// ---- the scan: one step per new token ----------------------------------------------------------

// Each scan step multiplies [B, I, n] by C [B, n, 1]: 2·B·I·n FLOPs in the bmm; a prefill of
// S tokens runs S steps per layer: 24·S·2·1536·16 for batch 1.
TEST(FamilyMambaScan, StepsPerToken) {
    auto model = Loaded::shipped("mamba-130m");
    auto bmm_flops = [&](const Step& s) {
        return leaf_sum(model->run(s), model->metric("flops"),
                        [](const CostNode& n) { return kernel_is(n, "torch.bmm"); })
            .to_string();
    };
    EXPECT_EQ(bmm_flops(steps::prefill(37)), str(Int(24) * 37 * 2 * 1536 * 16));
    EXPECT_EQ(bmm_flops(steps::decode(37, 2)), str(Int(24) * 2 * 2 * 1536 * 16));
}

// ---- bad configs and steps ----------------------------------------------------------------------

TEST(FamilyMambaConfig, PreconditionsNameTheKey) {
    auto model = Loaded::shipped("mamba-130m");
    EXPECT_NE(error_of(*model, with_config({{"state_size", 0}})).find("E0207: config.state_size must be a positive integer"),
              std::string::npos)
        << error_of(*model, with_config({{"state_size", 0}}));
    Step act;
    act.config_strings = {{"hidden_act", "mish"}};
    EXPECT_NE(error_of(*model, act).find("config.hidden_act must be one of"), std::string::npos) << error_of(*model, act);
    EXPECT_NE(error_of(*model, with_config({{"conv_kernel", 1}})).find("config.conv_kernel must be an integer >= 2"),
              std::string::npos);
    EXPECT_NE(error_of(*model, with_config({{"intermediate_size", 1000}})).find("config.intermediate_size must equal"),
              std::string::npos);
    EXPECT_NE(error_of(*model, with_config({{"time_step_rank", 0}})).find("config.time_step_rank must be a positive integer"),
              std::string::npos);
    EXPECT_NE(error_of(*model, with_config({{"use_bias", 2}})).find("config.use_bias must be true or false"),
              std::string::npos);
    // More than one new token after the cache: slow_forward's decode branch takes one.
    EXPECT_NE(error_of(*model, steps::step(1, 2, 5)).find("seq_len must be 1"), std::string::npos);
}

// time_step_rank absent ("auto"): ceil(H / 16). H = 770 gives ceil(48.125) = 49, I = 1540.
TEST(FamilyMambaConfig, TimeStepRankAuto) {
    std::string json = write_json("mamba_auto.json", R"({"architectures": ["MambaForCausalLM"], "hidden_size": 770,
        "num_hidden_layers": 2, "vocab_size": 100, "state_size": 16, "conv_kernel": 4, "expand": 2})");
    // MambaConfig defaults: use_bias true, use_conv_bias true. Per layer: in_proj 770·3080 +
    // 3080, conv1d 1540·4 + 1540, x_proj 1540·(49 + 32), dt_proj 49·1540 + 1540, A_log 1540·16,
    // D 1540, out_proj 1540·770 + 770, norm 770.
    const Int H = 770, I = 1540, R = 49, n = 16, K = 4;
    const Int layer = H * 2 * I + 2 * I + I * K + I + I * (R + 2 * n) + R * I + I + I * n + I + I * H + H + H;
    EXPECT_EQ(Loaded::from_config_json(json)->total("params"), str(100 * H + 2 * layer + H));
}

}  // namespace
