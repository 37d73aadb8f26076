// Config preconditions (issue 7): every family kernel states with `require` what it needs of
// the config — positive integer sizes, divisibility, even head dims, supported activations,
// rope types, attention paths and options — so that a bad config stops with E0207 and a
// message naming the key, raised by the family's own kernel (not by a shared helper deep in
// transformers_common.cost), while good configs evaluate as before.
//
// Tables: one small, valid config.json per family (tests/models/configs/), whose parameter
// counts are worked out by hand below; and for each family every precondition broken in
// turn, with the key its message must name.
#include <cstdint>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "model_support.hpp"

using namespace costi::models_test;

namespace {

std::string config(const std::string& name) { return configs_dir + "/" + name; }

// ---- good configs still evaluate ----------------------------------------------------------

struct Good {
    const char* file;
    const char* params;
    const char* active_params;
};

const Good good_configs[] = {
    // GPT-2: n_embd 64, 4 heads, 2 layers, 128 positions, V 100, n_inner absent → 4·64 = 256,
    // LM head tied (GPT2Config default).
    //   wte 100·64 = 6,400; wpe 128·64 = 8,192
    //   block: ln_1 2·64 = 128; c_attn 64·192 + 192 = 12,480; c_proj 64·64 + 64 = 4,160;
    //          ln_2 128; c_fc 64·256 + 256 = 16,640; c_proj 256·64 + 64 = 16,448 → 49,984
    //   6,400 + 8,192 + 2·49,984 + ln_f 128 = 114,688
    {"tiny_gpt2.json", "114688", "114688"},
    // Phi-3: H 64, I 128, 2 layers, 4 heads, 2 KV heads, d = 16, V 100, untied.
    //   qkv_proj 64·(4 + 2·2)·16 = 8,192; o_proj 64·64 = 4,096; gate_up_proj 64·256 = 16,384;
    //   down_proj 128·64 = 8,192; norms 2·64 = 128 → layer 36,992
    //   2·36,992 + embed 6,400 + norm 64 + lm_head 6,400 = 86,848
    {"tiny_phi3.json", "86848", "86848"},
    // Mixtral: H 64, I 128, 2 layers, 4 heads, 2 KV heads, d = 16, 4 experts, top-2, V 100.
    //   attention q 4,096 + k 2,048 + v 2,048 + o 4,096 = 12,288; router 64·4 = 256;
    //   experts 4·3·64·128 = 98,304; norms 128 → layer 110,976
    //   2·110,976 + 6,400 + 64 + 6,400 = 234,816
    //   active: experts 2 of 4 → 49,152: layer 61,824; 2·61,824 + 12,864 = 136,512
    {"tiny_mixtral.json", "234816", "136512"},
    // DeepSeek-V3: H 64, 4 heads, q_lora 32, kv_lora 16, nope 8, rope 8, v 8; layer 0 dense
    // (I 128), layer 1 MoE (8 experts of width 32, top-2, one shared expert); V 100, untied.
    //   attention: q_a 64·32 = 2,048; q_a_layernorm 32; q_b 32·(4·16) = 2,048;
    //     kv_a 64·(16 + 8) = 1,536; kv_a_layernorm 16; kv_b 16·(4·(8 + 8)) = 1,024;
    //     o 4·8·64 = 2,048 → 8,752
    //   dense layer: 8,752 + 3·64·128 = 24,576 + norms 128 → 33,456
    //   MoE layer: 8,752 + router 8·64 = 512 + experts 8·3·64·32 = 49,152 + shared 3·64·32
    //     = 6,144 + norms 128 → 64,688
    //   33,456 + 64,688 + 6,400 + 64 + 6,400 = 111,008
    //   active: routed experts 2 of 8 → 12,288: MoE layer 27,824;
    //     33,456 + 27,824 + 12,864 = 74,144
    {"tiny_deepseek_v3.json", "111008", "74144"},
};

class ConfigDomainGood : public ::testing::TestWithParam<Good> {};

TEST_P(ConfigDomainGood, ParamsMatchTheHandCount) {
    auto model = Loaded::from_config_json(config(GetParam().file));
    EXPECT_EQ(model->total("params"), GetParam().params);
    EXPECT_EQ(model->total("active_params"), GetParam().active_params);
}

INSTANTIATE_TEST_SUITE_P(Configs, ConfigDomainGood, ::testing::ValuesIn(good_configs),
                         [](const ::testing::TestParamInfo<Good>& info) {
                             std::string n = info.param.file;
                             return n.substr(0, n.find('.'));
                         });

// Every family's base config passes every precondition on every path the kernels take:
// prefill, decode after a cache, batch 3, eager attention. (A require that fired on a valid
// config would throw here.)
const char* const base_configs[] = {"tiny_gpt2.json",       "llama_untied.json", "mistral_missing_keys.json",
                                    "qwen2_gqa.json",       "tiny_phi3.json",    "gemma2_head_dim.json",
                                    "tiny_mixtral.json",    "tiny_deepseek_v3.json"};

TEST(ConfigDomainGood, EveryBaseConfigRunsOnEveryPath) {
    for (const char* file : base_configs) {
        auto model = Loaded::from_config_json(config(file));
        for (bool eager : {false, true}) {
            Step prefill;
            prefill.seq = 16;
            prefill.eager = eager;
            Step decode;
            decode.cache = 100;
            decode.eager = eager;
            Step batched;
            batched.batch = 3;
            batched.seq = 5;
            batched.cache = 7;
            batched.eager = eager;
            for (const Step& s : {prefill, decode, batched}) {
                EXPECT_NO_THROW(model->run(s)) << file << (eager ? " eager" : " sdpa") << " seq " << s.seq
                                               << " cache " << s.cache;
            }
        }
    }
}

// ---- each precondition broken in turn -----------------------------------------------------

// A config value: a string, or the rational num/den.
struct Val {
    const char* str = nullptr;
    std::int64_t num = 0;
    std::int64_t den = 1;
};
Val S(const char* s) { return Val{s, 0, 1}; }
Val N(std::int64_t n, std::int64_t d = 1) { return Val{nullptr, n, d}; }

costi::interp::Value value_of(const Val& v) {
    if (v.str != nullptr) return costi::interp::Value::of_string(v.str);
    return costi::interp::Value::of(*Number::divide(Number(v.num), Number(v.den)));
}

struct Bad {
    const char* file;                               // the family's valid base config
    std::vector<std::pair<const char*, Val>> set;   // config keys overridden
    const char* message;                            // the E0207 message must contain this
    const char* family;                             // the innermost frame is a kernel of transformers.models.<family>
};

const Bad bad_configs[] = {
    // GPT-2
    {"tiny_gpt2.json", {{"n_embd", N(-64)}}, "config.n_embd must be a positive integer", "gpt2"},
    {"tiny_gpt2.json", {{"n_embd", N(66)}}, "config.n_embd must be a multiple of config.n_head", "gpt2"},
    {"tiny_gpt2.json", {{"n_head", N(0)}}, "config.n_head must be a positive integer", "gpt2"},
    {"tiny_gpt2.json", {{"n_layer", N(3, 2)}}, "config.n_layer must be a positive integer", "gpt2"},
    {"tiny_gpt2.json", {{"vocab_size", N(0)}}, "config.vocab_size must be a positive integer", "gpt2"},
    {"tiny_gpt2.json", {{"n_positions", N(0)}}, "config.n_positions must be a positive integer", "gpt2"},
    {"tiny_gpt2.json", {{"n_inner", N(0)}}, "config.n_inner must be a positive integer", "gpt2"},
    {"tiny_gpt2.json", {{"activation_function", S("swiglu")}}, "config.activation_function must be one of", "gpt2"},
    {"tiny_gpt2.json", {{"_attn_implementation", S("flash_attention_2")}}, "config._attn_implementation (or attn_implementation) must be", "gpt2"},
    {"tiny_gpt2.json", {{"tie_word_embeddings", N(2)}}, "config.tie_word_embeddings must be true or false", "gpt2"},
    {"tiny_gpt2.json", {{"scale_attn_weights", N(2)}, {"_attn_implementation", S("eager")}},
     "config.scale_attn_weights must be true or false", "gpt2"},
    {"tiny_gpt2.json", {{"reorder_and_upcast_attn", N(1)}, {"_attn_implementation", S("eager")}},
     "config.reorder_and_upcast_attn must be false", "gpt2"},
    // Llama (the four cases of issue 7 are also config.json files, below)
    {"llama_untied.json", {{"hidden_size", N(-256)}}, "config.hidden_size must be a positive integer", "llama"},
    {"llama_untied.json", {{"intermediate_size", N(0)}}, "config.intermediate_size must be a positive integer", "llama"},
    {"llama_untied.json", {{"num_hidden_layers", N(0)}}, "config.num_hidden_layers must be a positive integer", "llama"},
    {"llama_untied.json", {{"vocab_size", N(-1)}}, "config.vocab_size must be a positive integer", "llama"},
    {"llama_untied.json", {{"num_attention_heads", N(0)}}, "config.num_attention_heads must be a positive integer", "llama"},
    {"llama_untied.json", {{"num_attention_heads", N(3)}},
     "config.hidden_size must be a multiple of config.num_attention_heads", "llama"},
    {"llama_untied.json", {{"num_key_value_heads", N(0)}}, "config.num_key_value_heads must be a positive integer", "llama"},
    {"llama_untied.json", {{"num_key_value_heads", N(3)}},
     "config.num_key_value_heads must divide config.num_attention_heads", "llama"},
    {"llama_untied.json", {{"head_dim", N(63)}}, "config.head_dim (else hidden_size / num_attention_heads) must be even", "llama"},
    {"llama_untied.json", {{"head_dim", N(1, 2)}}, "must be a positive integer", "llama"},
    {"llama_untied.json", {{"hidden_act", S("swiglu")}}, "config.hidden_act must be one of", "llama"},
    {"llama_untied.json", {{"mlp_bias", N(2)}}, "config.mlp_bias must be true or false", "llama"},
    {"llama_untied.json", {{"attention_bias", N(2)}}, "config.attention_bias must be true or false", "llama"},
    {"llama_untied.json", {{"_attn_implementation", S("flex_attention")}}, "config._attn_implementation (or attn_implementation) must be", "llama"},
    {"llama_untied.json", {{"rope_scaling.rope_type", S("dynamic")}}, "config.rope_scaling type must be", "llama"},
    {"llama_untied.json", {{"rope_scaling.type", S("longrope")}}, "config.rope_scaling type must be", "llama"},
    {"llama_untied.json", {{"partial_rotary_factor", N(1, 2)}}, "config.partial_rotary_factor must be 1", "llama"},
    {"llama_untied.json", {{"tie_word_embeddings", N(3)}}, "config.tie_word_embeddings must be true or false", "llama"},
    // Mistral: num_key_value_heads absent → 8 (MistralConfig), which 4 heads cannot share
    {"mistral_missing_keys.json", {{"num_attention_heads", N(4)}},
     "config.num_key_value_heads must divide config.num_attention_heads", "mistral"},
    {"mistral_missing_keys.json", {{"hidden_size", N(0)}}, "config.hidden_size must be a positive integer", "mistral"},
    {"mistral_missing_keys.json", {{"head_dim", N(3)}}, "must be even", "mistral"},
    {"mistral_missing_keys.json", {{"sliding_window", N(0)}}, "config.sliding_window must be a positive integer", "mistral"},
    {"mistral_missing_keys.json", {{"hidden_act", S("swiglu")}}, "config.hidden_act must be one of", "mistral"},
    {"mistral_missing_keys.json", {{"rope_scaling.rope_type", S("longrope")}}, "config.rope_scaling type must be", "mistral"},
    {"mistral_missing_keys.json", {{"_attn_implementation", S("flash_attention_2")}},
     "config._attn_implementation (or attn_implementation) must be", "mistral"},
    // Qwen2: a sliding layer exists only with use_sliding_window and max_window_layers < layers
    {"qwen2_gqa.json", {{"hidden_size", N(-512)}}, "config.hidden_size must be a positive integer", "qwen2"},
    {"qwen2_gqa.json", {{"intermediate_size", N(1, 2)}}, "config.intermediate_size must be a positive integer", "qwen2"},
    {"qwen2_gqa.json", {{"num_key_value_heads", N(3)}},
     "config.num_key_value_heads must divide config.num_attention_heads", "qwen2"},
    {"qwen2_gqa.json", {{"hidden_act", S("swiglu")}}, "config.hidden_act must be one of", "qwen2"},
    {"qwen2_gqa.json", {{"use_sliding_window", N(2)}}, "config.use_sliding_window must be true or false", "qwen2"},
    {"qwen2_gqa.json", {{"use_sliding_window", N(1)}, {"max_window_layers", N(-1)}},
     "config.max_window_layers must be a non-negative integer", "qwen2"},
    {"qwen2_gqa.json", {{"use_sliding_window", N(1)}, {"max_window_layers", N(1)}, {"sliding_window", N(0)}},
     "config.sliding_window must be a positive integer", "qwen2"},
    {"qwen2_gqa.json", {{"rope_scaling.type", S("dynamic")}}, "config.rope_scaling type must be", "qwen2"},
    // Phi-3
    {"tiny_phi3.json", {{"num_key_value_heads", N(3)}},
     "config.num_key_value_heads must divide config.num_attention_heads", "phi3"},
    {"tiny_phi3.json", {{"intermediate_size", N(0)}}, "config.intermediate_size must be a positive integer", "phi3"},
    {"tiny_phi3.json", {{"hidden_act", S("gelu_fast")}}, "config.hidden_act must be one of", "phi3"},
    {"tiny_phi3.json", {{"sliding_window", N(-1)}}, "config.sliding_window must be a non-negative integer", "phi3"},
    {"tiny_phi3.json", {{"rope_scaling.type", S("longrope")}}, "config.rope_scaling type must be default", "phi3"},
    {"tiny_phi3.json", {{"partial_rotary_factor", N(3, 4)}}, "config.partial_rotary_factor must be 1", "phi3"},
    {"tiny_phi3.json", {{"vocab_size", N(0)}}, "config.vocab_size must be a positive integer", "phi3"},
    // Gemma 2: head_dim comes from the config, not from hidden_size / heads
    {"gemma2_head_dim.json", {{"head_dim", N(255)}}, "config.head_dim must be even", "gemma2"},
    {"gemma2_head_dim.json", {{"head_dim", N(0)}}, "config.head_dim must be a positive integer", "gemma2"},
    {"gemma2_head_dim.json", {{"num_key_value_heads", N(3)}},
     "config.num_key_value_heads must divide config.num_attention_heads", "gemma2"},
    {"gemma2_head_dim.json", {{"hidden_activation", S("swiglu")}}, "config.hidden_activation must be one of", "gemma2"},
    {"gemma2_head_dim.json", {{"sliding_window", N(0)}}, "config.sliding_window must be a positive integer", "gemma2"},
    {"gemma2_head_dim.json", {{"attention_bias", N(2)}}, "config.attention_bias must be true or false", "gemma2"},
    {"gemma2_head_dim.json", {{"attn_logit_softcapping", N(-1)}, {"_attn_implementation", S("eager")}},
     "config.attn_logit_softcapping must be a non-negative number", "gemma2"},
    {"gemma2_head_dim.json", {{"final_logit_softcapping", N(-30)}},
     "config.final_logit_softcapping must be a non-negative number", "gemma2"},
    {"gemma2_head_dim.json", {{"num_hidden_layers", N(0)}}, "config.num_hidden_layers must be a positive integer", "gemma2"},
    // Mixtral
    {"tiny_mixtral.json", {{"num_local_experts", N(0)}}, "config.num_local_experts must be a positive integer", "mixtral"},
    {"tiny_mixtral.json", {{"num_experts_per_tok", N(0)}}, "config.num_experts_per_tok must be a positive integer", "mixtral"},
    {"tiny_mixtral.json", {{"num_experts_per_tok", N(5)}},
     "config.num_experts_per_tok must not exceed config.num_local_experts", "mixtral"},
    {"tiny_mixtral.json", {{"sliding_window", N(-5)}}, "config.sliding_window must be a non-negative integer", "mixtral"},
    {"tiny_mixtral.json", {{"hidden_act", S("swiglu")}}, "config.hidden_act must be one of", "mixtral"},
    {"tiny_mixtral.json", {{"num_key_value_heads", N(3)}},
     "config.num_key_value_heads must divide config.num_attention_heads", "mixtral"},
    {"tiny_mixtral.json", {{"hidden_size", N(0)}}, "config.hidden_size must be a positive integer", "mixtral"},
    // DeepSeek-V3 (MLA and the group-limited router)
    {"tiny_deepseek_v3.json", {{"num_key_value_heads", N(2)}},
     "config.num_key_value_heads must equal config.num_attention_heads", "deepseek_v3"},
    {"tiny_deepseek_v3.json", {{"qk_rope_head_dim", N(7)}}, "config.qk_rope_head_dim must be even", "deepseek_v3"},
    {"tiny_deepseek_v3.json", {{"qk_nope_head_dim", N(0)}}, "config.qk_nope_head_dim must be a positive integer", "deepseek_v3"},
    {"tiny_deepseek_v3.json", {{"qk_head_dim", N(20)}}, "config.qk_head_dim must equal", "deepseek_v3"},
    {"tiny_deepseek_v3.json", {{"v_head_dim", N(0)}}, "config.v_head_dim must be a positive integer", "deepseek_v3"},
    {"tiny_deepseek_v3.json", {{"q_lora_rank", N(-1)}}, "config.q_lora_rank must be a non-negative integer", "deepseek_v3"},
    {"tiny_deepseek_v3.json", {{"kv_lora_rank", N(0)}}, "config.kv_lora_rank must be a positive integer", "deepseek_v3"},
    {"tiny_deepseek_v3.json", {{"n_routed_experts", N(0)}}, "config.n_routed_experts must be a positive integer", "deepseek_v3"},
    {"tiny_deepseek_v3.json", {{"num_experts_per_tok", N(9)}},
     "config.num_experts_per_tok must not exceed config.n_routed_experts", "deepseek_v3"},
    {"tiny_deepseek_v3.json", {{"n_group", N(3)}}, "config.n_group must divide config.n_routed_experts", "deepseek_v3"},
    {"tiny_deepseek_v3.json", {{"n_group", N(8)}}, "config.n_routed_experts / config.n_group must be at least 2", "deepseek_v3"},
    {"tiny_deepseek_v3.json", {{"topk_group", N(3)}}, "config.topk_group must not exceed config.n_group", "deepseek_v3"},
    {"tiny_deepseek_v3.json", {{"moe_intermediate_size", N(0)}},
     "config.moe_intermediate_size must be a positive integer", "deepseek_v3"},
    {"tiny_deepseek_v3.json", {{"n_shared_experts", N(0)}}, "config.n_shared_experts must be a positive integer", "deepseek_v3"},
    {"tiny_deepseek_v3.json", {{"first_k_dense_replace", N(-1)}},
     "config.first_k_dense_replace must be a non-negative integer", "deepseek_v3"},
    {"tiny_deepseek_v3.json", {{"hidden_act", S("swiglu")}}, "config.hidden_act must be one of", "deepseek_v3"},
    {"tiny_deepseek_v3.json", {{"norm_topk_prob", N(2)}}, "config.norm_topk_prob must be true or false", "deepseek_v3"},
    {"tiny_deepseek_v3.json", {{"rope_interleave", N(2)}}, "config.rope_interleave must be true or false", "deepseek_v3"},
    {"tiny_deepseek_v3.json", {{"rope_scaling.type", S("dynamic")}}, "config.rope_scaling type must be", "deepseek_v3"},
};

// What a failed run reports: the first diagnostic's code and message and the innermost frame
// of its call chain.
struct Failure {
    std::string code = "no error";
    std::string message;
    std::string innermost;
    std::string chain;  // every frame, innermost first, for failure messages
};

Failure run_config(const std::string& file, const std::vector<std::pair<const char*, Val>>& set) {
    costi::interp::Session session;
    session.load_library();
    const auto& model = session.model_from_config_json(config(file));
    costi::interp::Overrides overrides;
    for (const auto& [key, v] : set) overrides.config.emplace_back(key, value_of(v));
    Failure f;
    try {
        session.run(model, overrides);
    } catch (const costi::interp::CostiError& e) {
        const auto& d = e.diagnostics().front();
        f.code = d.code;
        f.message = d.message;
        if (!d.chain.empty()) f.innermost = d.chain.front().what;
        for (const auto& frame : d.chain) f.chain += " <- " + frame.what;
    }
    return f;
}

std::ostream& operator<<(std::ostream& os, const Bad& b) {
    os << b.file;
    for (const auto& [key, v] : b.set) {
        os << " " << key << "=";
        if (v.str != nullptr) {
            os << v.str;
        } else {
            os << v.num;
            if (v.den != 1) os << "/" << v.den;
        }
    }
    return os;
}

class ConfigDomainBad : public ::testing::TestWithParam<Bad> {};

// The run stops with E0207, the message names the key, and the require that fired is the
// family's own (transformers.models.<family>.…), not a shared kernel's.
TEST_P(ConfigDomainBad, StopsWithE0207NamingTheKey) {
    const Bad& b = GetParam();
    Failure f = run_config(b.file, b.set);
    EXPECT_EQ(f.code, "E0207") << f.message;
    EXPECT_NE(f.message.find(b.message), std::string::npos) << "message: " << f.message;
    const std::string family = std::string("$transformers.models.") + b.family + ".";
    EXPECT_EQ(f.innermost.rfind(family, 0), 0u) << "chain:" << f.chain;
}

INSTANTIATE_TEST_SUITE_P(Families, ConfigDomainBad, ::testing::ValuesIn(bad_configs));

// The same base configs with none of the keys overridden run cleanly, so each failure above
// comes from the one key the case sets.
TEST(ConfigDomainBad, BaseConfigsAloneDoNotFail) {
    for (const char* file : base_configs) EXPECT_EQ(run_config(file, {}).code, "no error") << file;
}

// Options a path does not use are not checked on it. costi evaluates every branch, also those
// with count 0, so a require in a branch not taken would still fire: Qwen2's window is
// checked only in sliding layers (Qwen2Config drops sliding_window without
// use_sliding_window), GPT-2's reorder_and_upcast_attn only on the eager path.
TEST(ConfigDomainBad, UnusedOptionsAreNotChecked) {
    EXPECT_EQ(run_config("qwen2_gqa.json", {{"sliding_window", N(0)}}).code, "no error");
    EXPECT_EQ(run_config("tiny_gpt2.json", {{"reorder_and_upcast_attn", N(1)}}).code, "no error");
}

// ---- the config.json files of issue 7 -----------------------------------------------------

struct IssueCase {
    const char* file;
    const char* message;
};

// llama_untied.json with one value broken each: hidden_size -256; num_key_value_heads 0;
// head_dim 63 (odd); hidden_act "swiglu".
const IssueCase issue_cases[] = {
    {"llama_negative_hidden_size.json", "config.hidden_size must be a positive integer"},
    {"llama_zero_kv_heads.json", "config.num_key_value_heads must be a positive integer"},
    {"llama_odd_head_dim.json", "config.head_dim (else hidden_size / num_attention_heads) must be even"},
    {"llama_swiglu.json", "config.hidden_act must be one of"},
};

class ConfigDomainIssue7 : public ::testing::TestWithParam<IssueCase> {};

TEST_P(ConfigDomainIssue7, ConfigJsonFailsAtTheLlamaKernel) {
    Failure f = run_config(GetParam().file, {});
    EXPECT_EQ(f.code, "E0207") << f.message;
    EXPECT_NE(f.message.find(GetParam().message), std::string::npos) << "message: " << f.message;
    EXPECT_EQ(f.innermost.rfind("$transformers.models.llama.modeling_llama.", 0), 0u) << f.innermost;
}

INSTANTIATE_TEST_SUITE_P(Files, ConfigDomainIssue7, ::testing::ValuesIn(issue_cases),
                         [](const ::testing::TestParamInfo<IssueCase>& info) {
                             std::string n = info.param.file;
                             return n.substr(0, n.find('.'));
                         });

}  // namespace

// The public attn_implementation key (what PretrainedConfig reads from a config.json or
// from_pretrained(attn_implementation=...)) selects the eager path as _attn_implementation
// does, in every family; without either key, SDPA runs, whose bytes differ (no score matrix).
TEST(ConfigKeys, ThePublicAttnImplementationKeySelectsEager) {
    for (const char* name : {"gpt2", "llama-3-8b", "mistral-7b-v0.1", "qwen2-7b", "phi-3-mini-4k-instruct", "gemma-2-9b",
                             "mixtral-8x7b-v0.1", "deepseek-v3", "gemma-3-1b-it", "qwen1.5-moe-a2.7b"}) {
        auto model = Loaded::shipped(name);
        Step internal;
        internal.seq = 3;
        internal.cache = 4;
        internal.eager = true;
        Step public_key = internal;
        public_key.eager = false;
        public_key.config_strings.emplace_back("attn_implementation", "eager");
        Step sdpa = public_key;
        sdpa.config_strings.clear();
        for (const char* metric : {"flops", "read", "write"}) {
            EXPECT_EQ(model->total(metric, public_key), model->total(metric, internal)) << name << " " << metric;
        }
        EXPECT_NE(model->total("read", public_key), model->total("read", sdpa)) << name;
    }
}
