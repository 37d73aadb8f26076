// Prefill / decode structure of the shipped models: batch scaling, decode against prefill,
// the KV cache's bytes, and GQA's effect on the K/V projections.
#include <cctype>
#include <functional>
#include <ostream>
#include <tuple>

#include "model_support.hpp"

using namespace costi::models_test;

namespace {

std::string file_name(const char* file) {
    std::string n;
    for (const char* p = file; *p != '\0'; ++p) n += std::isalnum(static_cast<unsigned char>(*p)) ? *p : '_';
    return n;
}

// ---- batch scaling -----------------------------------------------------------------------------
//
// With w_bytes = 0 (weights cost nothing to read), every cost left is activation work, and
// each sequence of the batch does the same work: cost(B) is linear in B. A family may add a
// batch-independent constant; the ones the HF code has:
//  * Gemma 2: Gemma2RMSNorm computes (1.0 + self.weight.float()) on every call: the weight
//    cast writes N fp32 values, the add reads and writes N fp32 values (N FLOPs), and the
//    multiply reads that [N] operand once (N fp32 values). Per norm: N FLOPs, 8N bytes read
//    (4N + 4N), 8N bytes written (4N + 4N), with N = hidden_size and 4 norms per layer plus
//    the final one: (4·42 + 1)·3584 = 605,696 FLOPs, 8·605,696 = 4,845,568 bytes each way.
//  * DeepSeek-V3: the router runs F.linear(x.float(), self.weight.float()): every MoE layer
//    writes an fp32 copy of the [E, h] weight and the linear reads it at 4 bytes:
//    58 layers · 256 · 7168 · 4 = 425,721,856 bytes read and as many written; no FLOPs.
//  * GPT-2, eager path only: per layer, attn_weights / torch.full([], sqrt(d)) and
//    torch.where(causal_mask, attn_weights, torch.full([], finfo.min)) create two 0-d tensors
//    (2 elements written at a_bytes = 2, each read once) and read the causal slice of the
//    bool `bias` buffer, [1, 1, S, S + C], once whatever the batch: per layer
//    S·(S + C)·1 + 2·2 bytes read and 2·2 written; 12 layers.
//  * Every RoPE family: inv_freq[None, :, None].float().expand(B, -1, 1) @ position_ids is a
//    batched matmul whose first operand is a view holding d/2 fp32 values, read once whatever
//    the batch: 4·d/2 = 2·d bytes read (d the rotary dimension: 128, Phi-3 96, Gemma 2 256,
//    DeepSeek-V3 qk_rope_head_dim 64) — the torch trace's count (tests/torch/crosscheck.py).
// And one step that is affine only from batch 2 on: on the eager path, torch.matmul(query,
// key^T) reshapes the query, a [B, heads, S, d] view in [B, S, heads, d] layout, into
// [B·heads, S, d]: a copy when B > 1 and S > 1 (at B = 1 the view folds). So the line is
// taken through batches 2, 3, 4 and 8, and batch 1 lies below it by that copy:
// B·heads·S·d elements read and written at a_bytes = 2 (DeepSeek-V3's query is contiguous when
// it reaches the matmul: no copy; GPT-2's is a view of c_attn's [B, S, 3H] output, copied for
// every B > 1 — at S = 1 too, but the only eager mode here has S = 3 — found by the torch
// trace: 12 layers · 12 heads · 64 = 9216 elements per sequence and token).
struct Constant {
    std::string flops, read, write;  // cost extrapolated to batch 0
};

struct BatchCase {
    const char* file;
    std::function<Constant(std::int64_t seq, std::int64_t cache, bool eager)> constant;
    std::int64_t query_copy_per_sequence = 0;  // layers·heads·d: the eager query copies' elements per sequence and token
};

// A RoPE family with nothing else batch-independent: inv_freq read once, 2·d bytes.
std::function<Constant(std::int64_t, std::int64_t, bool)> rope(std::int64_t d) {
    return [d](std::int64_t, std::int64_t, bool) -> Constant { return {"0", str(Int(2) * d), "0"}; };
}

const std::vector<BatchCase>& batch_cases() {
    static const std::vector<BatchCase> all{
        {"gpt2",
         [](std::int64_t seq, std::int64_t cache, bool eager) -> Constant {
             if (!eager) return {"0", "0", "0"};
             return {"0", str(12 * (Int(seq) * (seq + cache) + 2 * 2)), str(12 * 2 * 2)};
         },
         12 * 12 * 64},
        {"llama-2-7b", rope(128), 32 * 32 * 128},
        {"llama-2-13b", rope(128), 40 * 40 * 128},
        {"llama-2-70b", rope(128), 80 * 64 * 128},
        {"llama-3-8b", rope(128), 32 * 32 * 128},
        {"llama-3-70b", rope(128), 80 * 64 * 128},
        {"llama-3.1-405b", rope(128), 126 * 128 * 128},
        {"mistral-7b-v0.1", rope(128), 32 * 32 * 128},
        {"mixtral-8x7b-v0.1", rope(128), 32 * 32 * 128},
        {"qwen2-7b", rope(128), 28 * 28 * 128},
        {"qwen2.5-72b", rope(128), 80 * 64 * 128},
        {"phi-3-mini-4k-instruct", rope(96), 32 * 32 * 96},
        {"gemma-2-9b",
         [](std::int64_t, std::int64_t, bool) -> Constant {
             return {"605696", str(Int(4845568) + 2 * 256), "4845568"};
         },
         42 * 16 * 256},
        {"deepseek-v3",
         [](std::int64_t, std::int64_t, bool) -> Constant {
             return {"0", str(Int(425721856) + 2 * 64), "425721856"};
         }},
    };
    return all;
}

struct Mode {
    const char* name;
    std::int64_t seq, cache;
    bool eager;
};

const Mode modes[] = {
    {"Prefill", 5, 0, false},
    {"Decode", 1, 9, false},
    {"ChunkWithMask", 3, 6, false},
    {"EagerChunk", 3, 6, true},
};

void PrintTo(const BatchCase& c, std::ostream* os) { *os << c.file; }
void PrintTo(const Mode& m, std::ostream* os) { *os << m.name; }

class StructureBatch : public ::testing::TestWithParam<std::tuple<BatchCase, Mode>> {};

TEST_P(StructureBatch, CostIsAffineInBatchWithTheDocumentedConstant) {
    const auto& [c, mode] = GetParam();
    auto model = Loaded::shipped(c.file);
    // The cost at w_bytes = 0, outside its domain (> 0): every cost is affine in w_bytes, so
    // 2·cost(w_bytes = 1) − cost(w_bytes = 2) removes the weight bytes exactly.
    auto at = [&](std::int64_t batch, const char* metric) {
        auto with_w = [&](std::int64_t w) {
            Step s;
            s.batch = batch;
            s.seq = mode.seq;
            s.cache = mode.cache;
            s.eager = mode.eager;
            s.runtime.emplace_back("w_bytes", w);
            // DeepSeek-V3's config is fp8-quantized (linear_w_bytes 1 + block scales, whatever
            // w_bytes is); as unquantized, every weight is w_bytes wide and drops out below.
            s.runtime.emplace_back("quant_bits", 0);
            CostNode root = model->run(s);
            return root.count * root.cost.at(model->metric(metric));
        };
        return Number(2) * with_w(1) - with_w(2);
    };
    Constant k = c.constant(mode.seq, mode.cache, mode.eager);
    const std::pair<const char*, std::string> metrics[] = {{"flops", k.flops}, {"read", k.read}, {"write", k.write}};
    for (const auto& [metric, constant] : metrics) {
        // batch_size >= 1 (its domain): the constant is the line through batches 2..8 at 0.
        Number c1 = at(1, metric), c2 = at(2, metric), c3 = at(3, metric), c4 = at(4, metric), c8 = at(8, metric);
        Number step = c3 - c2;
        EXPECT_EQ((c4 - c3).to_string(), step.to_string()) << metric;
        EXPECT_EQ(c8.to_string(), (c2 + Number(6) * step).to_string()) << metric;
        EXPECT_EQ((c2 - Number(2) * step).to_string(), constant) << metric << " extrapolated to batch 0";
        EXPECT_GT(step.sign(), 0) << metric;
        // Batch 1: on the line, less the eager query copy (2 bytes per element) where it runs.
        std::int64_t copy = (mode.eager && mode.seq > 1 && std::string(metric) != "flops") ? c.query_copy_per_sequence * mode.seq * 2 : 0;
        EXPECT_EQ(c1.to_string(), (c2 - step - Number(copy)).to_string()) << metric << " at batch 1";
    }
}

INSTANTIATE_TEST_SUITE_P(Shipped, StructureBatch,
                         ::testing::Combine(::testing::ValuesIn(batch_cases()), ::testing::ValuesIn(modes)),
                         [](const ::testing::TestParamInfo<std::tuple<BatchCase, Mode>>& info) {
                             return file_name(std::get<0>(info.param).file) + "_" + std::get<1>(info.param).name;
                         });

// ---- decode against prefill --------------------------------------------------------------------
//
// A decode step (one new token, c cached) runs the same projections, MLP / experts and
// lm_head as a one-token prefill: only attention sees the cache. So the matmul-leaf FLOPs
// (default SDPA path, batch 1) are equal.
const char* const all_models[] = {"gpt2",
                                  "llama-2-7b",
                                  "llama-2-13b",
                                  "llama-2-70b",
                                  "llama-3-8b",
                                  "llama-3-70b",
                                  "llama-3.1-405b",
                                  "mistral-7b-v0.1",
                                  "mixtral-8x7b-v0.1",
                                  "qwen2-7b",
                                  "qwen2.5-72b",
                                  "gemma-2-9b",
                                  "phi-3-mini-4k-instruct",
                                  "deepseek-v3"};

class StructureDecode : public ::testing::TestWithParam<const char*> {};

TEST_P(StructureDecode, GemmFlopsEqualAOneTokenPrefill) {
    auto model = Loaded::shipped(GetParam());
    auto flops = model->metric("flops");
    Step prefill;  // batch 1, one token, empty cache
    Step decode;
    decode.cache = 777;
    EXPECT_EQ(leaf_sum(model->run(decode), flops, is_gemm).to_string(),
              leaf_sum(model->run(prefill), flops, is_gemm).to_string());
}

INSTANTIATE_TEST_SUITE_P(Shipped, StructureDecode, ::testing::ValuesIn(all_models),
                         [](const ::testing::TestParamInfo<const char*>& info) { return file_name(info.param); });

// Llama-3-8B (32 layers, 32 query heads, 8 KV heads, head_dim 128), one decode step with
// c = 1023 cached tokens: the SDPA leaf of each layer attends one query over c + 1 = 1024
// keys. From the leaf formula (conventions.md, SDPA):
//   flops = 2·batch·heads·q_len·kv_len·(d + d_v) = 2·1·32·1·1024·256 = 16,777,216
//   read  = batch·heads·q_len·d·a_bytes + batch·kv_heads·kv_len·(d + d_v)·kv_bytes
//         = 32·128·2 + 8·1024·256·kv_bytes = 8,192 + 2,097,152·kv_bytes
//   write = batch·heads·q_len·d_v·a_bytes = 32·128·2 = 8,192
TEST(StructureDecodeLlama3, SdpaSeesCachePlusOneKeys) {
    auto model = Loaded::shipped("llama-3-8b");
    for (std::int64_t kv_bytes : {2, 1}) {
        Step decode;
        decode.cache = 1023;
        decode.runtime.emplace_back("kv_bytes", kv_bytes);
        CostNode root = model->run(decode);
        Found sdpa = find_kernel(root, "F.scaled_dot_product_attention");
        ASSERT_NE(sdpa.node, nullptr);
        EXPECT_EQ(sdpa.calls.to_string(), "32");
        EXPECT_EQ(sdpa.node->cost.at(model->metric("flops")).to_string(), "16777216");
        EXPECT_EQ(sdpa.node->cost.at(model->metric("read")).to_string(), str(8192 + 2097152 * Int(kv_bytes)));
        EXPECT_EQ(sdpa.node->cost.at(model->metric("write")).to_string(), "8192");
    }
}

// ---- the KV cache --------------------------------------------------------------------------------
//
// Llama's DynamicLayer.update (kernels/gpt2.cost, used by LlamaAttention as cache_update)
// concatenates past and new keys, and past and new values, with torch.cat of
// N = batch·kv_heads·(c + s)·head_dim elements at kv_bytes; torch.cat reads N and writes N
// (stdlib/memory.cost). Per layer, for Llama-3-8B (kv_heads 8, head_dim 128):
//   read = write = 2·batch·8·(c + s)·128·kv_bytes.
// Cases with c > 0 only: what the first fill (c = 0) copies is being settled.
struct CacheCase {
    std::int64_t batch, seq, cache, kv_bytes;
    const char* bytes;  // per layer, each of read and write
};

const CacheCase cache_cases[] = {
    {1, 16, 100, 1, "237568"},    // 2·1·8·116·128·1
    {1, 16, 100, 2, "475136"},    // 2·1·8·116·128·2
    {2, 16, 100, 1, "475136"},    // 2·2·8·116·128·1
    {1, 1, 1023, 1, "2097152"},   // 2·1·8·1024·128·1
    {1, 1, 1023, 2, "4194304"},   // 2·1·8·1024·128·2
    {3, 1, 1023, 2, "12582912"},  // 2·3·8·1024·128·2
};

void PrintTo(const CacheCase& c, std::ostream* os) {
    *os << "batch " << c.batch << ", seq_len " << c.seq << ", cache_len " << c.cache << ", kv_bytes " << c.kv_bytes;
}

class StructureKvCache : public ::testing::TestWithParam<CacheCase> {};

TEST_P(StructureKvCache, Llama3_8bCacheUpdateBytesPerLayer) {
    const CacheCase& c = GetParam();
    auto model = Loaded::shipped("llama-3-8b");
    Step s;
    s.batch = c.batch;
    s.seq = c.seq;
    s.cache = c.cache;
    s.runtime.emplace_back("kv_bytes", c.kv_bytes);
    CostNode root = model->run(s);
    Found update = find_path(root, {"model", "layers", "self_attn", "cache_update"});
    ASSERT_NE(update.node, nullptr);
    EXPECT_EQ(update.calls.to_string(), "32");
    EXPECT_EQ(update.node->cost.at(model->metric("write")).to_string(), c.bytes);
    EXPECT_EQ(update.node->cost.at(model->metric("read")).to_string(), c.bytes);
    EXPECT_EQ(update.node->cost.at(model->metric("flops")).to_string(), "0");
}

INSTANTIATE_TEST_SUITE_P(Llama3_8b, StructureKvCache, ::testing::ValuesIn(cache_cases),
                         [](const ::testing::TestParamInfo<CacheCase>& info) {
                             const CacheCase& c = info.param;
                             return "B" + std::to_string(c.batch) + "_S" + std::to_string(c.seq) + "_C" +
                                    std::to_string(c.cache) + "_kv" + std::to_string(c.kv_bytes);
                         });

// Without looking at labels: in a decode step on the SDPA path (no mask, so no repeat_kv
// copy) the only tensors written at kv_bytes are the cache's, so the model's bytes written
// at kv_bytes = 2 and at kv_bytes = 1 differ by the cache writes at one byte per element:
// 32 layers · 2·8·1024·128 = 67,108,864.
TEST(StructureKvCacheTotal, Llama3_8bDecodeWritesDifferByTheCache) {
    auto model = Loaded::shipped("llama-3-8b");
    auto written = [&](std::int64_t kv_bytes) {
        Step s;
        s.cache = 1023;
        s.runtime.emplace_back("kv_bytes", kv_bytes);
        CostNode root = model->run(s);
        return root.count * root.cost.at(model->metric("write"));
    };
    EXPECT_EQ((written(2) - written(1)).to_string(), "67108864");
}

// ---- GQA -----------------------------------------------------------------------------------------
//
// Llama-3-8B: k_proj and v_proj map hidden_size 4096 to num_key_value_heads·head_dim =
// 8·128 = 1024: 4096·1024 = 4,194,304 weights each, 2·1·4096·1024 = 8,388,608 FLOPs for one
// token. With num_key_value_heads = 4 they are 4096·512 = 2,097,152 weights and the model
// loses 32 layers · 2 · 4096·512 = 134,217,728 parameters: 8,030,261,248 − 134,217,728 =
// 7,896,043,520. With 32 KV heads (plain MHA) it gains 32·2·4096·3072 = 805,306,368:
// 8,835,567,616. q_proj (4096 → 4096) does not change.
struct GqaCase {
    std::int64_t kv_heads;  // 0: the checkpoint's own 8
    const char* kv_proj_params;
    const char* kv_proj_flops;
    const char* model_params;
};

const GqaCase gqa_cases[] = {
    {0, "4194304", "8388608", "8030261248"},
    {4, "2097152", "4194304", "7896043520"},
    {32, "16777216", "33554432", "8835567616"},
};

void PrintTo(const GqaCase& c, std::ostream* os) { *os << "num_key_value_heads " << c.kv_heads; }

class StructureGqa : public ::testing::TestWithParam<GqaCase> {};

TEST_P(StructureGqa, Llama3_8bKeyValueProjectionsFollowNumKeyValueHeads) {
    const GqaCase& c = GetParam();
    auto model = Loaded::shipped("llama-3-8b");
    Step s;
    if (c.kv_heads != 0) s.config.emplace_back("num_key_value_heads", c.kv_heads);
    CostNode root = model->run(s);
    for (const char* proj : {"k_proj", "v_proj"}) {
        Found p = find_path(root, {"model", "layers", "self_attn", proj});
        ASSERT_NE(p.node, nullptr);
        EXPECT_EQ(p.calls.to_string(), "32");
        EXPECT_EQ(p.node->cost.at(model->metric("params")).to_string(), c.kv_proj_params) << proj;
        EXPECT_EQ(p.node->cost.at(model->metric("flops")).to_string(), c.kv_proj_flops) << proj;
    }
    Found q = find_path(root, {"model", "layers", "self_attn", "q_proj"});
    ASSERT_NE(q.node, nullptr);
    EXPECT_EQ(q.node->cost.at(model->metric("params")).to_string(), "16777216");  // 4096·4096
    EXPECT_EQ((root.count * root.cost.at(model->metric("params"))).to_string(), c.model_params);
}

INSTANTIATE_TEST_SUITE_P(Llama3_8b, StructureGqa, ::testing::ValuesIn(gqa_cases),
                         [](const ::testing::TestParamInfo<GqaCase>& info) {
                             return info.param.kv_heads == 0 ? std::string("checkpoint")
                                                             : "kv_heads_" + std::to_string(info.param.kv_heads);
                         });

}  // namespace

// Causal attention as a user choice (--causal_flops 1): Llama-3-8B, prefill of 4096 (SDPA with
// is_causal, no mask). Per layer the full rectangle is 2·32 heads·4096²·(128 + 128) =
// 274,877,906,944 FLOPs; the causal count keeps 4096·4097/2 = 8,390,656 of the 16,777,216
// pairs: 137,472,507,904. Over 32 layers the total drops by 32·(274,877,906,944 −
// 137,472,507,904) = 4,396,972,769,280, from 70,285,801,041,920 (docs/models.md) to
// 65,888,828,272,640. Bytes do not change.
TEST(StructureCausal, CausalFlopsCountsTheKeptPairs) {
    auto model = Loaded::shipped("llama-3-8b");
    Step full;
    full.seq = 4096;
    Step causal = full;
    causal.runtime.emplace_back("causal_flops", 1);
    EXPECT_EQ(model->total("flops", full), "70285801041920");
    EXPECT_EQ(model->total("flops", causal), "65888828272640");
    EXPECT_EQ(model->total("read", causal), model->total("read", full));
    EXPECT_EQ(model->total("write", causal), model->total("write", full));
}
