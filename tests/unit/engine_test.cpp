// Engines in the language (issue 9): `engine NAME "doc" { FROM = TO }` maps a model's entry
// kernel to the kernel an execution runs instead; Session::environment with Overrides::engine
// selects one. The kernels below are one-line programs whose costs are read off by hand.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "interpreter/diagnostics.hpp"
#include "interpreter/loader.hpp"
#include "interpreter/session.hpp"
#include "repl/model_lookup.hpp"
#include "test_support.hpp"

using namespace costi::interp;

namespace {

// flops: A costs 1 per call, B 10, C (one parameter) 100.
const std::string program = std::string(costi::test::prelude) + R"(
kernel A() { flops = 1 }
kernel B() { flops = 10 }
kernel C(x = 1) { flops = 100 * x }
kernel D() { flops = 1000 }
model a = $A
model d = $D
engine fast "a test execution" { A = B }
)";

std::string flops_of(Session& s, const std::string& model, const std::string& engine) {
    Overrides o;
    o.engine = engine;
    const Model& m = s.pick_model(model);
    CostNode root = s.run_in(m, s.environment(m, o), 0);
    return (root.count * root.cost.at(*s.program().find_metric("flops"))).to_string();
}

std::vector<Diagnostic> check_errors(const std::string& text) {
    Session s;
    try {
        s.load_text("<test>", std::string(costi::test::prelude) + text);
    } catch (const CostiError& e) {
        return e.diagnostics();
    }
    return {};
}

TEST(Engine, RunsTheMappedKernelInPlaceOfTheEntry) {
    Session s;
    s.load_text("<test>", program);
    EXPECT_EQ(flops_of(s, "a", ""), "1");               // the kernels as written
    EXPECT_EQ(flops_of(s, "a", "transformers"), "1");   // the same, by name
    EXPECT_EQ(flops_of(s, "a", "fast"), "10");          // A replaced by B
    EXPECT_EQ(s.pick_engine("fast").doc, "a test execution");
}

TEST(Engine, BlocksOfOneEngineMerge) {
    Session s;
    s.load_text("<test>", program + "engine fast { D = B }\n");
    EXPECT_EQ(flops_of(s, "d", "fast"), "10");
    EXPECT_EQ(flops_of(s, "a", "fast"), "10");
    EXPECT_EQ(s.program().engines.size(), 1u);
}

TEST(Engine, AFamilyTheEngineDoesNotModelIsAnErrorNotAFallback) {
    Session s;
    s.load_text("<test>", program);
    try {
        flops_of(s, "d", "fast");
        FAIL() << "ran D under an engine that does not model it";
    } catch (const CostiError& e) {
        const Diagnostic& d = e.diagnostics().front();
        EXPECT_EQ(d.code, "E0118");
        EXPECT_EQ(d.message, "the fast engine does not model $D yet");
        EXPECT_NE(d.hint.find("--engine transformers"), std::string::npos);
    }
}

// A layout set for a family the chosen engine does not model: the environment is built without
// a throw (the REPL binds before it runs; found by repl_fuzz), and the run reports E0118, not
// the layout check's E0213 and not a crash.
TEST(Engine, ALayoutForAFamilyTheEngineDoesNotModelFailsAtTheRun) {
    Session s;
    s.load_text("<test>", program + "runtime tp: int >= 1 <= 4096 = 1\n");
    Overrides o;
    o.engine = "fast";
    o.runtime.emplace_back("tp", Value::of(2));
    const Model& m = s.pick_model("d");
    Environment env = s.environment(m, o);
    try {
        s.run_in(m, env, 0);
        FAIL() << "ran D under an engine that does not model it";
    } catch (const CostiError& e) {
        EXPECT_EQ(e.diagnostics().front().code, "E0118");
    }
}

TEST(Engine, AnUnknownEngineSuggestsOne) {
    Session s;
    s.load_text("<test>", program);
    try {
        s.pick_engine("fats");
        FAIL();
    } catch (const CostiError& e) {
        EXPECT_EQ(e.diagnostics().front().code, "E0118");
        EXPECT_EQ(e.diagnostics().front().message, "no engine named 'fats' is loaded");
    }
}

// With a device selected and no engine named, a model runs under analysis_engine ("vllm")
// when the session has it and it models the model's entry; the environment says why. A named
// engine, transformers included, is never replaced.
TEST(Engine, ADeviceDefaultsToTheAnalysisEngineWhereItModelsTheFamily) {
    const std::string with_device = program + R"(
property mem_bw "bandwidth" unit "B/s"
hardware dev { mem_bw = 1 "test" }
kernel E() { flops = 100 }
engine vllm "the analysis engine" { A = E }
)";
    Session s;
    s.load_text("<test>", with_device);
    auto run = [&](const std::string& model, const std::string& engine, const std::string& hw) {
        Overrides o;
        o.engine = engine;
        o.hardware = hw;
        const Model& m = s.pick_model(model);
        Environment env = s.environment(m, o);
        CostNode root = s.run_in(m, env, 0);
        return std::make_pair((root.count * root.cost.at(*s.program().find_metric("flops"))).to_string(), env.engine_note);
    };
    EXPECT_EQ(run("a", "", "").first, "1");                   // no device: the kernels as written
    auto by_default = run("a", "", "dev");
    EXPECT_EQ(by_default.first, "100");                       // A runs as E
    EXPECT_NE(by_default.second.find("the default with a device"), std::string::npos);
    EXPECT_EQ(run("a", "transformers", "dev").first, "1");    // named: kept
    EXPECT_EQ(run("a", "transformers", "dev").second, "");
    EXPECT_EQ(run("a", "fast", "dev").first, "10");
    auto unmodelled = run("d", "", "dev");                    // vllm does not map D: as written, and said
    EXPECT_EQ(unmodelled.first, "1000");
    EXPECT_EQ(unmodelled.second, "the vllm engine, the default with a device, does not model $D");
}

TEST(Engine, WithoutTheAnalysisEngineLoadedADeviceRunsTheKernelsAsWritten) {
    Session s;
    s.load_text("<test>", program + R"(
property mem_bw "bandwidth" unit "B/s"
hardware dev { mem_bw = 1 "test" }
)");
    Overrides o;
    o.hardware = "dev";
    const Model& m = s.pick_model("a");
    Environment env = s.environment(m, o);
    EXPECT_EQ(env.engine, nullptr);
    EXPECT_EQ(env.engine_note, "the vllm engine, the default with a device, is not loaded");
}

TEST(EngineErrors, CheckedWhenDeclared) {
    // An unknown kernel on either side, with a suggestion.
    auto e = check_errors("kernel A() { flops = 1 }\nengine x { A = Bee }\n");
    ASSERT_EQ(e.size(), 1u);
    EXPECT_EQ(e[0].code, "E0101");
    // Different parameters: the model's arguments could not bind.
    e = check_errors("kernel A() { flops = 1 }\nkernel C(x = 1) { flops = x }\nengine x { A = C }\n");
    ASSERT_EQ(e.size(), 1u);
    EXPECT_EQ(e[0].code, "E0118");
    EXPECT_EQ(e[0].message, "$C does not take the parameters of $A");
    // The same kernel mapped twice, across blocks too.
    e = check_errors("kernel A() { flops = 1 }\nkernel B() { flops = 2 }\nengine x { A = B }\nengine x { A = B }\n");
    ASSERT_EQ(e.size(), 1u);
    EXPECT_EQ(e[0].code, "E0106");
    // "transformers" names the built-in execution.
    e = check_errors("kernel A() { flops = 1 }\nengine transformers { A = A }\n");
    ASSERT_EQ(e.size(), 1u);
    EXPECT_EQ(e[0].code, "E0118");
    // Syntax: an entry needs its '='.
    e = check_errors("kernel A() { flops = 1 }\nengine x { A B }\n");
    ASSERT_EQ(e.size(), 1u);
    EXPECT_EQ(e[0].code, "E0001");
}

}  // namespace

// The library's index of the vLLM engine's family files (interp::library_engine_files): read
// from the files' `engine vllm { … }` blocks. Each shipped family is mapped by the file named
// after its vLLM model file; vllm.cost (which imports them all) and engine.cost (the
// declaration, no mapping) are not family files.
TEST(EngineIndex, EachFamilyFileMapsItsTransformersKernels) {
    auto files = costi::interp::library_engine_files("vllm");
    auto maps_of = [&](const std::string& stem) {
        for (const auto& f : files)
            if (f.path.stem() == stem) return f.maps;
        return std::vector<std::string>{};
    };
    EXPECT_EQ(maps_of("qwen2"), std::vector<std::string>{"transformers.models.qwen2.modeling_qwen2.Qwen2ForCausalLM"});
    EXPECT_EQ(maps_of("qwen3"), std::vector<std::string>{"transformers.models.qwen3.modeling_qwen3.Qwen3ForCausalLM"});
    EXPECT_EQ(maps_of("qwen3_moe"),
              std::vector<std::string>{"transformers.models.qwen3_moe.modeling_qwen3_moe.Qwen3MoeForCausalLM"});
    EXPECT_EQ(maps_of("llama_engine"),
              (std::vector<std::string>{"transformers.models.llama.modeling_llama.LlamaForCausalLM",
                                        "transformers.models.mistral.modeling_mistral.MistralForCausalLM"}));
    EXPECT_EQ(maps_of("gpt2"), std::vector<std::string>{"transformers.models.gpt2.modeling_gpt2.GPT2LMHeadModel"});
    for (const char* stem : {"vllm", "engine", "ops", "fused_moe"}) EXPECT_TRUE(maps_of(stem).empty()) << stem;
    EXPECT_EQ(maps_of("olmo2"), std::vector<std::string>{"transformers.models.olmo2.modeling_olmo2.Olmo2ForCausalLM"});
    EXPECT_EQ(maps_of("granite"),
              std::vector<std::string>{"transformers.models.granite.modeling_granite.GraniteForCausalLM"});
    EXPECT_EQ(maps_of("starcoder2"),
              std::vector<std::string>{"transformers.models.starcoder2.modeling_starcoder2.Starcoder2ForCausalLM"});
    EXPECT_EQ(files.size(), 12u);  // deepseek_v2, gemma2, gpt2, granite, llama_engine, mixtral, olmo2, phi3, qwen2, qwen3, qwen3_moe, starcoder2
    EXPECT_TRUE(costi::interp::library_engine_files("no-such-engine").empty());
}

// Loading the engine for a GPT-2 program loads GPT-2's family file (and the engine's
// declaration with its doc), not the other families'.
TEST(EngineIndex, ARunLoadsOnlyItsFamily) {
    Session s;
    s.load_file(std::string(COSTI_TEST_DIR) + "/../models/gpt2.cost");
    costi::cli::load_engine_for(s, "vllm", costi::cli::find_engine("vllm"));
    EXPECT_NE(s.program().find_kernel("vllm.model_executor.models.gpt2.GPT2LMHeadModel"), nullptr);
    EXPECT_EQ(s.program().find_kernel("vllm.model_executor.models.llama.LlamaForCausalLM"), nullptr);
    ASSERT_NE(s.program().find_engine("vllm"), nullptr);
    EXPECT_EQ(s.program().find_engine("vllm")->doc, "vLLM V1 engine: FlashAttention backend, paged KV cache, fused custom ops");
}
