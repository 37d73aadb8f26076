// Loading: imports relative to the importer, cycles, COSTI_PATH, duplicates across files,
// config from JSON, and the session staying unchanged after failed input.
#include <gtest/gtest.h>

#include <cstdlib>

#include "interpreter/diagnostics.hpp"
#include "interpreter/session.hpp"

using namespace costi::interp;

static const std::string fixtures = std::string(COSTI_TEST_DIR) + "/unit/fixtures/";

static std::string flops(Session& s, const std::string& model = "m") {
    auto root = s.run(s.pick_model(model), {});
    return (root.count * root.cost[*s.program().find_metric("flops")]).to_string();
}

TEST(Session, ImportsResolveRelativeAndCyclesAreHarmless) {
    Session s;
    s.load_file(fixtures + "imports/main.cost");
    EXPECT_EQ(flops(s), "11");
}

TEST(Session, AKernelDefinedTwiceNamesBothPlaces) {
    Session s;
    try {
        s.load_file(fixtures + "imports/twice.cost");
        FAIL();
    } catch (const CostiError& e) {
        const auto& d = e.diagnostics().front();
        EXPECT_EQ(d.code, code::duplicate_def);
        // both places: the diagnostic points at one definition, the hint names the other
        EXPECT_NE(d.span.file->name().find("sub/a.cost"), std::string::npos);
        EXPECT_NE(d.hint.find("twice.cost:2:8"), std::string::npos) << d.hint;
    }
}

TEST(Session, MissingImportIsAnErrorAtTheImport) {
    Session s;
    try {
        s.load_file(fixtures + "imports/missing.cost");
        FAIL();
    } catch (const CostiError& e) {
        const auto& d = e.diagnostics().front();
        EXPECT_EQ(d.code, code::io);
        EXPECT_EQ(d.span.file->line_col(d.span.begin).col, 8);
    }
}

TEST(Session, CostiPathIsSearched) {
    Session without;
    EXPECT_THROW(without.load_file(fixtures + "uses_path.cost"), CostiError);
    setenv("COSTI_PATH", (fixtures + "path").c_str(), 1);
    Session with;
    with.load_file(fixtures + "uses_path.cost");
    unsetenv("COSTI_PATH");
    EXPECT_EQ(flops(with), "5");
}

TEST(Session, ModelTakesConfigFromJson) {
    Session s;
    s.load_file(fixtures + "from_json.cost");
    EXPECT_EQ(flops(s), "65537/2");  // 4096 * 8 + 1/2 (the block overrides the file's 0.125)
}

TEST(Session, FailedInputLeavesTheSessionUnchanged) {
    Session s;
    s.load_file(fixtures + "imports/main.cost");
    EXPECT_THROW(s.load_text("<repl:1>", "kernel Main {}"), CostiError);             // duplicate
    EXPECT_THROW(s.load_text("<repl:2>", "kernel Broken { flops = }"), CostiError);  // syntax
    EXPECT_EQ(flops(s), "11");
    s.load_text("<repl:3>", "kernel Extra { a: repeat 5 $A() }\nmodel e = $Extra");
    EXPECT_EQ(flops(s, "e"), "5");
}

TEST(Session, SeveralFilesLoadTogetherOrNotAtAll) {
    Session s;
    // The second file fails (a missing import): the first, which alone would load, is not kept.
    EXPECT_THROW(s.load_files({fixtures + "imports/sub/a.cost", fixtures + "imports/missing.cost"}), CostiError);
    EXPECT_EQ(s.program().find_kernel("A"), nullptr);
    s.load_files({fixtures + "imports/sub/a.cost", fixtures + "imports/main.cost"});
    EXPECT_NE(s.program().find_kernel("A"), nullptr);
    EXPECT_EQ(flops(s), "11");
}

TEST(Session, UnknownModelSuggestsOne) {
    Session s;
    s.load_file(fixtures + "imports/main.cost");
    try {
        s.pick_model("n");
        FAIL();
    } catch (const CostiError& e) {
        EXPECT_EQ(e.diagnostics().front().code, code::bad_model);
        EXPECT_EQ(e.diagnostics().front().hint, "did you mean 'm'?");
    }
}

TEST(Session, TheLibraryIndexFindsTheFileOfAnArchitecture) {
    // Read from the kernel declarations of kernels/*.cost, not from a list.
    auto llama = costi::interp::library_file_declaring("LlamaForCausalLM");
    ASSERT_TRUE(llama.has_value());
    EXPECT_EQ(llama->filename().string(), "llama.cost");
    EXPECT_EQ(costi::interp::library_file_declaring("MixtralForCausalLM")->filename().string(), "mixtral.cost");
    EXPECT_FALSE(costi::interp::library_file_declaring("NoSuchForCausalLM").has_value());
    EXPECT_FALSE(costi::interp::library_file_declaring("").has_value());
    // Loading by architecture loads that file and its imports, not the other families.
    costi::interp::Session s;
    s.load_library("LlamaForCausalLM");
    EXPECT_NE(s.program().find_kernel("transformers.models.llama.modeling_llama.LlamaForCausalLM"), nullptr);
    EXPECT_EQ(s.program().find_kernel("transformers.models.mixtral.modeling_mixtral.MixtralForCausalLM"), nullptr);
    // An unknown one loads the whole library (the run then names the known architectures).
    costi::interp::Session all;
    all.load_library("NoSuchForCausalLM");
    EXPECT_NE(all.program().find_kernel("transformers.models.mixtral.modeling_mixtral.MixtralForCausalLM"), nullptr);
}
