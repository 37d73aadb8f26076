// Pipeline parallelism (pp, pp_rank) in the vLLM execution of every family other than Llama
// (kernels/vllm/qwen2.cost, phi3.cost, mixtral.cost, gpt2.cost, gemma2.cost, deepseek_v2.cost;
// Llama's own tests are in parallel_test.cpp). Every expected number is derived by hand from
// the model's config in the comments and computed here with plain integers, never with the
// interpreter.
//
// Stages (vLLM's get_pp_indices, vllm/distributed/utils.py @ 5a6541db): L // pp layers each, the
// L % pp remaining ones one each to the stages just before the last. What a stage holds
// besides its layers is each model file's own choice:
//   - Qwen2, Phi-3 (llama.py) and DeepSeek-V3: the embedding on the first stage only, the final
//     norm and lm_head on the last only (PPMissingLayer elsewhere): the stages sum to the model;
//   - Mixtral (mixtral.py), GPT-2 (gpt2.py) and Gemma 2 (gemma2.py) build the embedding, the
//     final norm and the lm_head (GPT-2 and Gemma 2: tied to the stage's own embedding) on EVERY
//     stage: each stage holds them, so the stages sum to the model plus pp - 1 copies of them.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "model_support.hpp"

namespace costi::models_test {
namespace {

const std::string root_dir = models_dir + "/..";
const std::string qwen72 = "Qwen/Qwen2.5-72B";
const std::string phi3 = "microsoft/Phi-3-mini-4k-instruct";
const std::string mixtral = "mistralai/Mixtral-8x7B-v0.1";
const std::string gpt2 = "openai-community/gpt2";
const std::string gemma9 = "google/gemma-2-9b";
const std::string dsv3 = "deepseek-ai/DeepSeek-V3";

class Pipeline : public EngineRuns {
public:
    Pipeline()
        : EngineRuns({root_dir + "/kernels/vllm/vllm.cost"}, "",
                     {models_dir + "/qwen2.5-72b.cost", models_dir + "/phi-3-mini-4k-instruct.cost",
                      models_dir + "/mixtral-8x7b-v0.1.cost", models_dir + "/gpt2.cost", models_dir + "/gemma-2-9b.cost",
                      models_dir + "/deepseek-v3.cost"}) {}
};

const Pipeline& runs() {
    static const Pipeline p;
    return p;
}

using namespace steps;

// The helpers of parallel_test.cpp.
Step with(Step s, const std::string& name, std::int64_t value) {
    s.runtime.emplace_back(name, value);
    return s;
}
Step tp(Step s, std::int64_t degree) { return with(std::move(s), "tp", degree); }
Step stage(Step s, std::int64_t pp, std::int64_t rank) { return with(with(std::move(s), "pp", pp), "pp_rank", rank); }

std::string total(const std::string& model, const std::string& m, const Step& s, const std::string& engine = "vllm") {
    return runs().total_as(model, m, s, engine);
}
std::string leaves(const std::string& model, const std::string& kernel, const std::string& m, const Step& s) {
    return runs().leaves_as(model, kernel, m, s, "vllm");
}
std::string error_of(const std::string& model, const Step& s, const std::string& engine = "vllm") {
    try {
        runs().run_as(model, s, engine);
    } catch (const interp::CostiError& e) {
        return e.diagnostics().front().code + " " + e.diagnostics().front().message;
    }
    return "no error";
}
// How many times the call at this path of labels runs in one step.
Number calls(const std::string& model, const Step& s, std::initializer_list<std::string> labels) {
    return find_path(runs().run_as(model, s, "vllm"), labels).calls;
}

// ------------------------------------------------------------------------ Qwen2.5-72B
// H 8192, I 29568, 80 layers, 64 heads, 8 KV heads of 128, V 152064, untied. A layer: q/k/v
// (64 + 2 · 8) · 128 · 8192 with their biases (64 + 16) · 128, o_proj 64 · 128 · 8192, gate_up
// and down 3 · 29568 · 8192, two norms 2 · 8192. Over 3 stages: 26 each and the 2 remaining on
// stages 0 and 1: 27, 27, 26; the embedding on stage 0, the final norm and lm_head on stage 2.
Int qwen_layer() { return 80 * Int(128) * 8192 + 80 * 128 + 64 * Int(128) * 8192 + 3 * Int(29568) * 8192 + 2 * 8192; }

TEST(PipelineParallelFamilies, Qwen2StagesHoldTheirLayers) {
    Int layer = qwen_layer();
    Int table = Int(152064) * 8192;
    auto params = [&](std::int64_t r) { return total(qwen72, "params", stage(decode(100), 3, r)); };
    EXPECT_EQ(params(0), str(table + 27 * layer));
    EXPECT_EQ(params(1), str(27 * layer));
    EXPECT_EQ(params(2), str(26 * layer + 8192 + table));
    EXPECT_EQ(str(2 * table + 80 * layer + 8192), "72706203648");  // docs/models.md
    // pp = 1 is the unsharded run: the whole model, nothing sent.
    EXPECT_EQ(total(qwen72, "params", stage(decode(100), 1, 0)), "72706203648");
    EXPECT_EQ(total(qwen72, "comm", stage(decode(100), 1, 0)), "0");
}

// With tp 4 and pp 2 (40 layers each) a device holds its shard: q/k/v of 16 + 2 · 2 heads with
// biases, o_proj 16 · 128 · 8192, gate_up and down 3 · 7392 · 8192, two norms; the embedding
// shard 38016 · 8192 on stage 0, the norm and the lm_head shard on stage 1.
TEST(PipelineParallelFamilies, Qwen2StagesShardOverTheirTensorParallelGroup) {
    Int layer = 20 * Int(128) * 8192 + 20 * 128 + 16 * Int(128) * 8192 + 3 * Int(7392) * 8192 + 2 * 8192;
    Int shard = Int(38016) * 8192;
    EXPECT_EQ(total(qwen72, "params", tp(stage(decode(100), 2, 0), 4)), str(shard + 40 * layer));
    EXPECT_EQ(total(qwen72, "params", tp(stage(decode(100), 2, 1), 4)), str(40 * layer + 8192 + shard));
}

// IntermediateTensors {hidden_states, residual}: 2 · tokens · 8192 values at 2 B sent by every
// stage but the last, written by every stage but the first. 4 sequences of one token.
TEST(PipelineParallelFamilies, Qwen2StagesSendHiddenStatesAndResidual) {
    Int bytes = 2 * Int(4) * 8192 * 2;
    Step s = decode(100, 4);
    EXPECT_EQ(leaves(qwen72, "comm.send", "comm", stage(s, 3, 0)), str(bytes));
    EXPECT_EQ(leaves(qwen72, "comm.send", "comm", stage(s, 3, 1)), str(bytes));
    EXPECT_EQ(leaves(qwen72, "comm.send", "comm", stage(s, 3, 2)), "0");
    EXPECT_EQ(leaves(qwen72, "comm.recv", "write", stage(s, 3, 0)), "0");
    EXPECT_EQ(leaves(qwen72, "comm.recv", "write", stage(s, 3, 1)), str(bytes));
    EXPECT_EQ(leaves(qwen72, "comm.recv", "write", stage(s, 3, 2)), str(bytes));
    // Only the last stage runs the lm_head: 2 · 4 · 8192 · 152064 FLOPs of the step's GEMMs.
    Int lm_head = 2 * Int(4) * 8192 * 152064;
    Int layers_gemm = 2 * Int(4) * (80 * Int(128) * 8192 + 64 * Int(128) * 8192 + 3 * Int(29568) * 8192);
    EXPECT_EQ(leaves(qwen72, "F.linear", "flops", stage(s, 3, 1)), str(27 * layers_gemm));
    EXPECT_EQ(leaves(qwen72, "F.linear", "flops", stage(s, 3, 2)), str(26 * layers_gemm + lm_head));
}

// ------------------------------------------------------------------------ Phi-3-mini
// Phi3ForCausalLM is llama.py's LlamaForCausalLM: H 3072, I 8192, 32 layers, 32 heads (no GQA),
// V 32064, untied. A layer: q/k/v 3 · 3072², o_proj 3072², gate_up and down 3 · 8192 · 3072,
// two norms. Over 3 stages: 11, 11, 10.
TEST(PipelineParallelFamilies, Phi3RunsLlamasStages) {
    Int layer = 4 * Int(3072) * 3072 + 3 * Int(8192) * 3072 + 2 * 3072;
    Int table = Int(32064) * 3072;
    auto params = [&](std::int64_t r) { return total(phi3, "params", stage(decode(100), 3, r)); };
    EXPECT_EQ(params(0), str(table + 11 * layer));
    EXPECT_EQ(params(1), str(11 * layer));
    EXPECT_EQ(params(2), str(10 * layer + 3072 + table));
    EXPECT_EQ(str(2 * table + 32 * layer + 3072), "3821079552");  // docs/models.md
    // At tp 2 a device's GEMMs hold q/k/v of 16 + 16 heads of 96, o_proj 16 · 96 · 3072,
    // gate_up and down 3 · 4096 · 3072 per layer, and the lm_head is vocabulary-parallel as
    // Llama's: 16032 · 3072; the logits are all-gathered, (2 − 1)/2 of 32064 values at 2 B.
    EXPECT_EQ(leaves(phi3, "F.linear", "params", tp(stage(decode(100), 3, 2), 2)),
              str(10 * (Int(48) * 96 * 3072 + 16 * 96 * Int(3072) + 3 * Int(4096) * 3072) + Int(16032) * 3072));
    EXPECT_EQ(leaves(phi3, "comm.all_gather", "comm", tp(decode(100), 2)), str(Int(32064) * 2 / 2));
    EXPECT_EQ(leaves(phi3, "comm.all_gather", "comm", tp(stage(decode(100), 3, 0), 2)), "0");
}

// ------------------------------------------------------------------------ Mixtral-8x7B
// H 4096, 32 heads, 8 KV heads of 128, 8 experts of I 14336, top 2, 32 layers, V 32000, untied.
// A layer: q/k/v 48 · 128 · 4096, o_proj 32 · 128 · 4096, the router 4096 · 8, the experts
// 8 · 3 · 4096 · 14336, two norms (active: 2 of the 8 experts). mixtral.py builds embed_tokens
// (L312-315), the final norm (L332) and the lm_head (L514-519) on every stage: each of the
// stages 11, 11, 10 holds them (2 · 32000 · 4096 + 4096), and only the first looks up, only the
// last normalises and computes logits, so the stages' ACTIVE parameters sum to the model's.
TEST(PipelineParallelFamilies, MixtralStagesHoldEmbeddingNormAndLmHeadEach) {
    Int base = 48 * Int(128) * 4096 + 32 * Int(128) * 4096 + 4096 * 8 + 2 * 4096;
    Int layer = base + 8 * 3 * Int(4096) * 14336;
    Int active_layer = base + 2 * 3 * Int(4096) * 14336;
    Int table = Int(32000) * 4096;
    Int held = 2 * table + 4096;
    auto at = [&](const char* m, std::int64_t r) { return total(mixtral, m, stage(decode(100), 3, r)); };
    EXPECT_EQ(at("params", 0), str(11 * layer + held));
    EXPECT_EQ(at("params", 1), str(11 * layer + held));
    EXPECT_EQ(at("params", 2), str(10 * layer + held));
    EXPECT_EQ(str(32 * layer + held), "46702792704");  // docs/models.md: pp = 1
    EXPECT_EQ(total(mixtral, "params", stage(decode(100), 1, 0)), "46702792704");
    // The three stages hold the model and two more copies of the replicated parts.
    EXPECT_EQ(str(11 * layer + 11 * layer + 10 * layer + 3 * held), str(Int(46702792704) + 2 * held));
    EXPECT_EQ(at("active_params", 0), str(11 * active_layer + table));
    EXPECT_EQ(at("active_params", 1), str(11 * active_layer));
    EXPECT_EQ(at("active_params", 2), str(10 * active_layer + 4096 + table));
    EXPECT_EQ(str(32 * active_layer + 2 * table + 4096), "12879925248");  // docs/models.md
}

// hidden_states and residual: 2 · tokens · 4096 values at 2 B; a prefill of 512 tokens.
TEST(PipelineParallelFamilies, MixtralStagesSendHiddenStatesAndResidual) {
    Int bytes = 2 * Int(512) * 4096 * 2;
    EXPECT_EQ(leaves(mixtral, "comm.send", "comm", stage(prefill(512), 2, 0)), str(bytes));
    EXPECT_EQ(leaves(mixtral, "comm.send", "comm", stage(prefill(512), 2, 1)), "0");
    EXPECT_EQ(leaves(mixtral, "comm.recv", "write", stage(prefill(512), 2, 1)), str(bytes));
}

// ------------------------------------------------------------------------ GPT-2
// H 768, 12 blocks, V 50257, 1024 positions, lm_head tied to wte. A block: ln_1 and ln_2
// 2 · 1536, c_attn 768 · 2304 + 2304, c_proj 768² + 768, c_fc 768 · 3072 + 3072, c_proj
// 3072 · 768 + 768 = 7,087,872. gpt2.py builds wte, wpe and ln_f on every stage (L195-199,
// L205) and the lm_head tied to the stage's own wte (L250-255): over 5 stages (2 each, the 2
// remaining on stages 2 and 3: 2, 2, 3, 3, 2) each holds 50257 · 768 + 1024 · 768 + 1536.
TEST(PipelineParallelFamilies, Gpt2StagesHoldTheEmbeddingsEach) {
    Int block = 2 * 1536 + (768 * 2304 + 2304) + (768 * 768 + 768) + (768 * 3072 + 3072) + (3072 * 768 + 768);
    EXPECT_EQ(str(block), "7087872");
    Int held = Int(50257) * 768 + 1024 * 768 + 1536;
    std::vector<Int> n{2, 2, 3, 3, 2};
    for (std::int64_t r = 0; r < 5; ++r) {
        EXPECT_EQ(total(gpt2, "params", stage(decode(100), 5, r)), str(n[r] * block + held)) << "stage " << r;
    }
    EXPECT_EQ(str(12 * block + held), "124439808");  // docs/models.md: pp = 1
    EXPECT_EQ(total(gpt2, "params", stage(decode(100), 1, 0)), "124439808");
    // Only the last stage runs the lm_head, over the padded vocabulary: 2 · 50304 · 768.
    EXPECT_EQ(leaves(gpt2, "F.linear", "flops", stage(decode(100), 5, 4)),
              str(2 * 2 * (768 * 2304 + 768 * 768 + 768 * 3072 + 3072 * 768) + 2 * Int(50304) * 768));
}

// A GPT-2 block returns hidden_states alone (no residual stream): IntermediateTensors carries
// tokens · 768 values at 2 B (gpt2.py L206-208, L232-233). 3 sequences of 7 tokens.
TEST(PipelineParallelFamilies, Gpt2StagesSendHiddenStatesOnly) {
    Int bytes = Int(3) * 7 * 768 * 2;
    Step s = step(3, 7, 0);
    EXPECT_EQ(leaves(gpt2, "comm.send", "comm", stage(s, 2, 0)), str(bytes));
    EXPECT_EQ(leaves(gpt2, "comm.send", "read", stage(s, 2, 0)), str(bytes));
    EXPECT_EQ(leaves(gpt2, "comm.send", "comm", stage(s, 2, 1)), "0");
    EXPECT_EQ(leaves(gpt2, "comm.recv", "write", stage(s, 2, 1)), str(bytes));
    // The embeddings are looked up on the first stage only.
    EXPECT_EQ(leaves(gpt2, "F.embedding", "write", stage(s, 2, 1)), "0");
    EXPECT_EQ(leaves(gpt2, "F.embedding", "write", stage(s, 2, 0)), str(2 * bytes));
}

// ------------------------------------------------------------------------ Gemma-2-9B
// H 3584, 16 heads, 8 KV heads of 256, I 14336, 42 layers, V 256000, tied. A layer: q/k/v
// (16 + 2 · 8) · 256 · 3584, o_proj 16 · 256 · 3584, gate_up and down 3 · 14336 · 3584, four
// norms. gemma2.py builds embed_tokens (L266-271) and the final norm (L279) on every stage; the
// last stage's logits use its own embed_tokens (L429). Over 4 stages (10 each, the 2 remaining
// on stages 1 and 2): 10, 11, 11, 10, each holding 256000 · 3584 + 3584 besides.
TEST(PipelineParallelFamilies, Gemma2StagesHoldTheEmbeddingEach) {
    Int layer = 32 * 256 * Int(3584) + 16 * 256 * Int(3584) + 3 * Int(14336) * 3584 + 4 * 3584;
    Int held = Int(256000) * 3584 + 3584;
    std::vector<Int> n{10, 11, 11, 10};
    for (std::int64_t r = 0; r < 4; ++r) {
        EXPECT_EQ(total(gemma9, "params", stage(decode(100), 4, r)), str(n[r] * layer + held)) << "stage " << r;
    }
    EXPECT_EQ(str(42 * layer + held), "9241705984");  // docs/models.md: pp = 1
    EXPECT_EQ(total(gemma9, "params", stage(decode(100), 1, 0)), "9241705984");
    Int bytes = 2 * Int(2) * 3584 * 2;  // hidden_states and residual, 2 tokens
    EXPECT_EQ(leaves(gemma9, "comm.send", "comm", stage(decode(100, 2), 4, 2)), str(bytes));
    EXPECT_EQ(leaves(gemma9, "comm.recv", "write", stage(decode(100, 2), 4, 3)), str(bytes));
    EXPECT_EQ(leaves(gemma9, "comm.send", "comm", stage(decode(100, 2), 4, 3)), "0");
}

// Layer i is sliding when i is even, by its global index (gemma2.py L160-161): stage 1 runs
// layers 10 … 20 (sliding 10, 12, …, 20: 6; full 5), stage 2 layers 21 … 31 (sliding 22, …, 30:
// 5; full 6); stage 0 layers 0 … 9, the first of them the residual-less first layer.
TEST(PipelineParallelFamilies, Gemma2SlidingLayersFollowTheGlobalIndex) {
    Step s = decode(100);
    EXPECT_EQ(calls(gemma9, stage(s, 4, 1), {"model", "layers_sliding"}), Number(6));
    EXPECT_EQ(calls(gemma9, stage(s, 4, 1), {"model", "layers_full"}), Number(5));
    EXPECT_EQ(calls(gemma9, stage(s, 4, 1), {"model", "first_layer"}), Number(0));
    EXPECT_EQ(calls(gemma9, stage(s, 4, 2), {"model", "layers_sliding"}), Number(5));
    EXPECT_EQ(calls(gemma9, stage(s, 4, 2), {"model", "layers_full"}), Number(6));
    EXPECT_EQ(calls(gemma9, stage(s, 4, 0), {"model", "first_layer"}), Number(1));
    EXPECT_EQ(calls(gemma9, stage(s, 4, 0), {"model", "layers_sliding"}), Number(4));
    EXPECT_EQ(calls(gemma9, stage(s, 4, 0), {"model", "layers_full"}), Number(5));
}

// ------------------------------------------------------------------------ DeepSeek-V3
// H 7168, 61 layers, the first 3 dense. A layer's attention (MLA): fused_qkv_a_proj
// 7168 · (1536 + 512 + 64), q_a_layernorm 1536, q_b_proj 1536 · 128 · 192, kv_a_layernorm 512,
// kv_b_proj 512 · 128 · 256, o_proj 128 · 128 · 7168, and two norms; the dense MLP
// 3 · 7168 · 18432; the MoE block the router 7168 · 256, the shared expert 3 · 7168 · 2048 and
// 256 experts 256 · 3 · 7168 · 2048. V 129280, untied; the embedding on the first stage only,
// the norm and lm_head on the last. Over 4 stages (15 each, the remaining one on stage 2):
// 15, 15, 16, 15 — stage 0 holds the 3 dense layers and 12 MoE ones.
Int ds_attn() {
    return Int(7168) * 2112 + 1536 + Int(1536) * 128 * 192 + 512 + Int(512) * 128 * 256 + Int(128) * 128 * 7168 +
           2 * 7168;
}
Int ds_dense() { return ds_attn() + 3 * Int(7168) * 18432; }
Int ds_moe() { return ds_attn() + Int(7168) * 256 + 3 * Int(7168) * 2048 + 256 * 3 * Int(7168) * 2048; }

TEST(PipelineParallelFamilies, DeepseekStagesHoldTheirLayers) {
    Int table = Int(129280) * 7168;
    auto params = [&](std::int64_t p, std::int64_t r) { return total(dsv3, "params", stage(decode(100), p, r)); };
    EXPECT_EQ(params(4, 0), str(table + 3 * ds_dense() + 12 * ds_moe()));
    EXPECT_EQ(params(4, 1), str(15 * ds_moe()));
    EXPECT_EQ(params(4, 2), str(16 * ds_moe()));
    EXPECT_EQ(params(4, 3), str(15 * ds_moe() + 7168 + table));
    EXPECT_EQ(str(2 * table + 3 * ds_dense() + 58 * ds_moe() + 7168), "671026404352");  // docs/models.md
    EXPECT_EQ(params(1, 0), "671026404352");
}

// The dense layers counted by their global index across stages: over 32 stages (1 each, the
// 29 remaining on stages 2 … 30) stage 0 runs layer 0 (dense, residual-less), stage 1 layer 1
// (dense, with the received residual), stage 2 layers 2 and 3 (one dense, one MoE), stage 3
// layers 4 and 5 (MoE).
TEST(PipelineParallelFamilies, DeepseekDenseLayersFollowTheGlobalIndex) {
    auto params = [&](std::int64_t r) { return total(dsv3, "params", stage(decode(100), 32, r)); };
    EXPECT_EQ(params(0), str(Int(129280) * 7168 + ds_dense()));
    EXPECT_EQ(params(1), str(ds_dense()));
    EXPECT_EQ(params(2), str(ds_dense() + ds_moe()));
    EXPECT_EQ(params(3), str(2 * ds_moe()));
    EXPECT_EQ(calls(dsv3, stage(decode(100), 32, 1), {"model", "dense_layers"}), Number(1));
    EXPECT_EQ(calls(dsv3, stage(decode(100), 32, 1), {"model", "first_layer"}), Number(0));
    EXPECT_EQ(calls(dsv3, stage(decode(100), 32, 2), {"model", "moe_layers"}), Number(1));
    // hidden_states and residual of one token: 2 · 7168 values at 2 B, sent over the 32 · 8
    // devices' network (the comm metric is the bytes either way).
    EXPECT_EQ(leaves(dsv3, "comm.send", "comm", tp(stage(decode(100), 32, 1), 8)), str(2 * Int(7168) * 2));
    EXPECT_EQ(leaves(dsv3, "comm.recv", "write", tp(stage(decode(100), 32, 1), 8)), str(2 * Int(7168) * 2));
}

// ------------------------------------------------------------------------ every family

// The stages together do the unsharded step's work: the FLOPs of the pp stages add up to the
// pp = 1 run's (the held copies run nothing; send and receive compute nothing), and the
// layers run by global index (Gemma 2's sliding, DeepSeek's dense layers) do not shift work.
TEST(PipelineParallelFamilies, TheStagesFlopsAddUpToTheUnshardedStep) {
    struct Case {
        std::string model;
        std::int64_t pp;
    };
    for (const Case& c : std::vector<Case>{{qwen72, 3}, {phi3, 3}, {mixtral, 3}, {gpt2, 5}, {gemma9, 4}, {dsv3, 32}}) {
        Step s = step(2, 3, 5000);
        if (c.model == gpt2) s = step(2, 3, 900);
        Number sum(0);
        for (std::int64_t r = 0; r < c.pp; ++r) sum += *Number::parse(total(c.model, "flops", stage(s, c.pp, r)));
        EXPECT_EQ(sum.to_string(), total(c.model, "flops", s)) << c.model;
    }
}

// pp = 1 is the unsharded run exactly, in every metric the step has.
TEST(PipelineParallelFamilies, OneStageIsTheUnshardedRun) {
    for (const std::string& m : {qwen72, phi3, mixtral, gpt2, gemma9, dsv3}) {
        for (const char* metric : {"flops", "read", "write", "params", "active_params", "comm"}) {
            EXPECT_EQ(total(m, metric, stage(decode(300, 2), 1, 0)), total(m, metric, decode(300, 2))) << m << " " << metric;
        }
    }
}

TEST(PipelineParallelFamilies, BadStagesAreRefused) {
    EXPECT_EQ(error_of(qwen72, stage(decode(1), 2, 2)).rfind("E0207 pipeline parallelism: pp_rank must be below pp", 0), 0u);
    EXPECT_EQ(error_of(gpt2, stage(decode(1), 13, 0)).rfind("E0207 pipeline parallelism: pp must not exceed config.n_layer", 0), 0u);
    EXPECT_EQ(error_of(mixtral, stage(decode(1), 2, 0), "transformers").rfind("E0213 pp = 2: the transformers execution", 0), 0u);
}

}  // namespace
}  // namespace costi::models_test
