// Issue 13, an encoder-decoder: T5 (kernels/t5.cost, T5ForConditionalGeneration) and its shipped
// checkpoint google-t5/t5-base (models/t5-base.cost); google-t5/t5-small through its config.json
// (tests/models/configs/t5_small.json). The exact parameter counts of both published
// checkpoints, the GEMM FLOPs of a first step (encoder + decoder) and of a decode step, the
// attention matmuls, the self- and cross-attention cache bytes, the gated feed-forward and the
// untied head, the inputs refused (encoder_len 0, bad config keys: E0207 naming the key),
// `--config` picking the class by architectures[0], and the whole-request analysis reading the
// prompt as the encoder's input.
//
// Every expected number is computed here with plain integers from the config values (the
// arithmetic is in the comments), never taken from costi's output.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "interpreter/analysis.hpp"
#include "interpreter/evaluator.hpp"
#include "model_support.hpp"

namespace costi::models_test {
namespace {

using namespace family;

// A T5 checkpoint's shapes: D = d_model, d = d_kv, h = num_heads (inner = h·d), F = d_ff,
// L = num_layers = num_decoder_layers, V = vocab_size, nb = relative_attention_num_buckets.
// No nn.Linear has a bias; each T5LayerNorm has a weight [D]; the LM head is tied to the
// shared embedding (counted once).
//   shared embedding                 V·D
//   encoder block    q, k, v, o      4·D·inner      FF (relu) wi, wo  2·D·F    2 norms  2·D
//   decoder block    self q, k, v, o 4·D·inner      cross q, k, v, o  4·D·inner
//                    FF              2·D·F          3 norms           3·D
//   each stack: block 0's relative_attention_bias nb·h, final_layer_norm D
struct T5 {
    Int D, d, h, F, L, V, nb;
    Int inner() const { return h * d; }
    Int encoder_block() const { return 4 * D * inner() + 2 * D * F + 2 * D; }
    Int decoder_block() const { return 8 * D * inner() + 2 * D * F + 3 * D; }
    Int params() const {
        return V * D + L * encoder_block() + nb * h + D + L * decoder_block() + nb * h + D;
    }
    // K·N of the GEMMs one decoder token goes through (self q, k, v, o; cross q, o; wi, wo;
    // the tied lm_head), one encoder token (q, k, v, o; wi, wo) and, on the first step, the
    // cross-attention's k and v of one encoder position in every decoder layer.
    Int decoder_token_kn() const { return L * (6 * D * inner() + 2 * D * F) + D * V; }
    Int encoder_token_kn() const { return L * (4 * D * inner() + 2 * D * F); }
    Int cross_kv_kn() const { return L * 2 * D * inner(); }
};

// google-t5/t5-base: D 768, d 64, h 12 (inner 768), F 3072, L 12, V 32128, nb 32.
//   shared 32128·768 = 24,674,304
//   encoder block 4·768·768 + 2·768·3072 + 2·768 = 2,359,296 + 4,718,592 + 1,536 = 7,079,424;
//     12 blocks 84,953,088 + bias 32·12 = 384 + final norm 768          = 84,954,240
//   decoder block 8·768·768 + 2·768·3072 + 3·768 = 4,718,592 + 4,718,592 + 2,304 = 9,439,488;
//     12 blocks 113,273,856 + 384 + 768                                   = 113,275,008
//   total 24,674,304 + 84,954,240 + 113,275,008 = 222,903,552 (the published figure).
const T5 base{768, 64, 12, 3072, 12, 32128, 32};
// google-t5/t5-small: D 512, d 64, h 8 (inner 512), F 2048, L 6, V 32128, nb 32.
//   shared 16,449,536; encoder 6·3,146,752 + 256 + 512 = 18,881,280;
//   decoder 6·4,195,840 + 256 + 512 = 25,175,808; total 60,506,624 (the published figure).
const T5 small{512, 64, 8, 2048, 6, 32128, 32};

Step step(std::int64_t batch, std::int64_t seq, std::int64_t cache, std::int64_t encoder_len) {
    Step s = steps::step(batch, seq, cache);
    s.runtime.emplace_back("encoder_len", encoder_len);
    return s;
}

TEST(FamilyT5, T5BaseIsThePublishedCount) {
    EXPECT_EQ(str(base.encoder_block()), "7079424");
    EXPECT_EQ(str(base.decoder_block()), "9439488");
    EXPECT_EQ(str(base.params()), "222903552");
    auto model = Loaded::shipped("t5-base");
    EXPECT_EQ(model->total("params"), "222903552");
    EXPECT_EQ(model->total("active_params"), "222903552");
    // The same at a decode step, when the encoder does not run: its weights still count.
    EXPECT_EQ(model->total("params", step(1, 1, 40, 512)), "222903552");
}

TEST(FamilyT5, T5SmallFromItsConfigJson) {
    EXPECT_EQ(str(small.params()), "60506624");
    auto model = Loaded::from_config_json(config("t5_small.json"));
    EXPECT_EQ(model->run(step(1, 1, 0, 16)).kernel->name, "transformers.models.t5.modeling_t5.T5ForConditionalGeneration");
    EXPECT_EQ(model->total("params", step(1, 1, 0, 16)), "60506624");
    EXPECT_EQ(model->total("params", step(2, 1, 9, 16)), "60506624");
}

// The first step: the encoder over E tokens, the decoder's cross-attention k and v over the E
// encoder positions, and the decoder over s tokens. t5-base, B 1, E 512, s 1:
//   2·(512·(84,934,656 + 14,155,776) + 123,764,736) = 101,716,131,840.
TEST(FamilyT5, GemmFlopsOfTheFirstStep) {
    EXPECT_EQ(str(base.encoder_token_kn()), "84934656");
    EXPECT_EQ(str(base.cross_kv_kn()), "14155776");
    EXPECT_EQ(str(base.decoder_token_kn()), "123764736");
    auto model = Loaded::shipped("t5-base");
    auto first = [&](Int B, Int E, Int s) {
        return str(2 * B * (E * (base.encoder_token_kn() + base.cross_kv_kn()) + s * base.decoder_token_kn()));
    };
    EXPECT_EQ(first(1, 512, 1), "101716131840");
    EXPECT_EQ(linear_flops(*model, step(1, 1, 0, 512)), first(1, 512, 1));
    EXPECT_EQ(linear_flops(*model, step(3, 4, 0, 100)), first(3, 100, 4));
}

// A decode step: only the decoder (the cross-attention reads its cached K/V), s tokens:
// 2·B·s·123,764,736, whatever cache_len and encoder_len.
TEST(FamilyT5, GemmFlopsOfADecodeStep) {
    auto model = Loaded::shipped("t5-base");
    EXPECT_EQ(linear_flops(*model, step(1, 1, 10, 512)), str(2 * base.decoder_token_kn()));
    EXPECT_EQ(linear_flops(*model, step(1, 1, 10, 512)), "247529472");
    EXPECT_EQ(linear_flops(*model, step(4, 2, 300, 64)), str(2 * 4 * 2 * base.decoder_token_kn()));
}

// The attention matmuls (q·kᵀ and weights·v, 2·B·h·S·kv·d each) per step: the encoder's E×E in
// every encoder layer on the first step; the decoder's self-attention over kv = cache_len + s
// keys and cross-attention over E keys in every decoder layer.
TEST(FamilyT5, AttentionMatmulFlops) {
    auto model = Loaded::shipped("t5-base");
    auto matmuls = [&](const Step& st) {
        return leaf_sum(model->run(st), model->metric("flops"),
                        [](const CostNode& n) { return kernel_is(n, "torch.matmul"); })
            .to_string();
    };
    const Int h = base.h, d = base.d, L = base.L;
    // first step, B 2, E 20, s 3: encoder 12·4·2·12·20·20·64, decoder 12·4·2·12·3·(3 + 20)·64
    EXPECT_EQ(matmuls(step(2, 3, 0, 20)), str(L * 4 * 2 * h * 20 * 20 * d + L * 4 * 2 * h * 3 * (3 + 20) * d));
    // decode, B 1, cache 99, E 512: 12·4·12·1·((99 + 1) + 512)·64
    EXPECT_EQ(matmuls(step(1, 1, 99, 512)), str(L * 4 * h * (100 + 512) * d));
}

// The KV cache a step leaves (kv_cache under a device): per decoder layer the self-attention's
// K and V over cache_len + s tokens and the cross-attention's over E, 2·B·h·tokens·d·kv_bytes.
// t5-base, B 1, E 512, decode at cache 99 (bf16): 12·(2·12·100·64·2 + 2·12·512·64·2)
// = 12·(307,200 + 1,572,864) = 22,560,768 bytes; the first step holds the same for its tokens.
TEST(FamilyT5, SelfAndCrossCacheBytes) {
    auto bytes = [](Int B, Int tokens, Int E) { return str(base.L * 2 * B * base.h * (tokens + E) * base.d * 2); };
    EXPECT_EQ(bytes(1, 100, 512), "22560768");
    EXPECT_EQ(kv_cache_bytes("t5-base", step(1, 1, 99, 512)), bytes(1, 100, 512));
    EXPECT_EQ(kv_cache_bytes("t5-base", step(2, 5, 0, 64)), bytes(2, 5, 64));
    EXPECT_EQ(kv_cache_bytes("t5-base", step(3, 1, 7, 30)), bytes(3, 8, 30));
}

// feed_forward_proj "gated-gelu" (T5 v1.1, flan-t5): wi_0, wi_1 and wo, gelu_new; untied: the
// head has its own V·D and the output is not rescaled. t5-base's shapes: every block gains
// D·F, and the head V·D: 222,903,552 + 24·768·3072 + 32128·768 = 304,200,960.
TEST(FamilyT5, GatedFeedForwardAndUntiedHead) {
    auto model = Loaded::shipped("t5-base");
    Step s = step(1, 1, 0, 8);
    s.config_strings.emplace_back("feed_forward_proj", "gated-gelu");
    s.config.emplace_back("tie_word_embeddings", 0);
    const Int params = base.params() + 2 * base.L * base.D * base.F + base.V * base.D;
    EXPECT_EQ(str(params), "304200960");
    EXPECT_EQ(model->total("params", s), str(params));
    // GEMMs: every FF adds D·F per token; the first step, E 8, s 1.
    const Int kn_enc = base.encoder_token_kn() + base.L * base.D * base.F;
    const Int kn_dec = base.decoder_token_kn() + base.L * base.D * base.F;
    EXPECT_EQ(linear_flops(*model, s), str(2 * (8 * (kn_enc + base.cross_kv_kn()) + kn_dec)));
    auto root = model->run(s);
    EXPECT_NE(find_kernel(root, "transformers.activations.NewGELUActivation").node, nullptr);
    EXPECT_EQ(find_kernel(root, "transformers.models.t5.modeling_t5.T5DenseActDense").node, nullptr);
}

// inner_dim = num_heads·d_kv may differ from d_model (t5-3b: 32·128 = 4096 for d_model 1024):
// no precondition ties them. t5-base with d_kv 128 (inner 1536): each attention's four
// projections hold 4·768·1536.
TEST(FamilyT5, InnerDimMayDifferFromDModel) {
    auto model = Loaded::shipped("t5-base");
    Step s = step(1, 1, 0, 8);
    s.config.emplace_back("d_kv", 128);
    T5 wide = base;
    wide.d = 128;
    EXPECT_EQ(model->total("params", s), str(wide.params()));
    EXPECT_EQ(linear_flops(*model, s), str(2 * (8 * (wide.encoder_token_kn() + wide.cross_kv_kn()) + wide.decoder_token_kn())));
}

TEST(FamilyT5, RefusedInputsNameTheKey) {
    auto model = Loaded::shipped("t5-base");
    std::string e = error_of(*model, step(1, 1, 0, 0));
    EXPECT_EQ(e.rfind("E0207: ", 0), 0u) << e;
    EXPECT_NE(e.find("encoder_len"), std::string::npos) << e;
    Step proj = step(1, 1, 0, 8);
    proj.config_strings.emplace_back("feed_forward_proj", "gated-swiglu");
    e = error_of(*model, proj);
    EXPECT_EQ(e.rfind("E0207: config.feed_forward_proj", 0), 0u) << e;
    Step heads = step(1, 1, 0, 8);
    heads.config.emplace_back("num_heads", 0);
    EXPECT_EQ(error_of(*model, heads), "E0207: config.num_heads must be a positive integer");
    Step dkv = step(1, 1, 0, 8);
    dkv.config.emplace_back("d_kv", -64);
    EXPECT_EQ(error_of(*model, dkv), "E0207: config.d_kv must be a positive integer");
    // A config.json without a default encoder_len: the run names it.
    e = error_of(config("t5_small.json"));
    EXPECT_NE(e.find("encoder_len"), std::string::npos) << e;
}

// --prompt P --generate G on an encoder-decoder: the prompt is the encoder's input, the first
// step runs the encoder over P tokens and the decoder over one, then G decode steps at
// cache_len 1 … G, each reading the cross-attention cache of P positions.
TEST(FamilyT5, RequestReadsThePromptAsTheEncoderInput) {
    interp::Session session;
    session.load_file(models_dir + "/t5-base.cost");
    session.load_file(models_dir + "/../hardware/h100-sxm.cost");
    const interp::Model& model = session.pick_model("");
    auto ids = *interp::AnalysisIds::of(session.program());
    auto totals = [&](std::int64_t enc, std::int64_t seq, std::int64_t cache) {
        interp::Overrides o = step(2, seq, cache, enc).overrides();
        o.hardware = "h100-sxm";
        o.runtime.emplace_back("logits_to_keep", Value::of(Number(1)));
        CostNode root = session.run_in(model, session.environment(model, o), 0);
        std::vector<Number> out;
        for (std::size_t m = 0; m < root.cost.size(); ++m)
            out.push_back(interp::total_of(session.program().metrics[m], root.count, root.cost[m]));
        return out;
    };
    interp::Overrides o;
    o.hardware = "h100-sxm";
    o.runtime.emplace_back("batch_size", Value::of(Number(2)));
    auto env = session.environment(model, o);
    const std::int64_t P = 40, G = 6;
    interp::Request r = interp::request(session, model, env, ids, Number(P), Number(G));
    auto prefill = totals(P, 1, 0);
    std::vector<Number> sum(prefill.size(), Number(0)), last;
    for (std::int64_t i = 1; i <= G; ++i) {
        last = totals(P, 1, i);
        for (std::size_t m = 0; m < sum.size(); ++m) {
            if (session.program().metrics[m].combine_max) {
                if (sum[m] < last[m]) sum[m] = last[m];
            } else {
                sum[m] += last[m];
            }
        }
    }
    for (std::size_t m = 0; m < sum.size(); ++m) {
        const std::string& name = session.program().metrics[m].name;
        EXPECT_EQ(r.prefill[m], prefill[m]) << "prefill " << name;
        EXPECT_EQ(r.decode[m], sum[m]) << "decode " << name;
        EXPECT_EQ(r.last_decode[m], last[m]) << "last decode " << name;
    }
    // The cache after the last step: 12 layers · 2·2·12·((G + 1) + P)·64·2 bytes.
    EXPECT_EQ(r.last_decode[ids.kv_cache], Number(std::int64_t(12 * 2 * 2 * 12 * ((G + 1) + P) * 64 * 2)));
}

}  // namespace
}  // namespace costi::models_test
