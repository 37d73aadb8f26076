// Reading only the library a run needs (interpreter/needed.hpp): the same results and the
// same diagnostics as reading every body, with unreached kernel bodies never parsed.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <unistd.h>

#include "interpreter/diagnostics.hpp"
#include "interpreter/loader.hpp"
#include "interpreter/session.hpp"

using namespace costi::interp;
namespace fs = std::filesystem;

namespace {

const fs::path source_dir = fs::path(COSTI_TEST_DIR).parent_path();

// Two trees are the same: labels, kernels, counts and every metric, all the way down.
void expect_same(const CostNode& a, const CostNode& b, const std::string& where) {
    ASSERT_EQ(a.label, b.label) << where;
    ASSERT_EQ(a.kernel == nullptr, b.kernel == nullptr) << where;
    if (a.kernel != nullptr) {
        ASSERT_EQ(a.kernel->name, b.kernel->name) << where;
    }
    ASSERT_EQ(a.count, b.count) << where << "/" << a.label;
    ASSERT_EQ(a.cost, b.cost) << where << "/" << a.label;
    ASSERT_EQ(a.children.size(), b.children.size()) << where << "/" << a.label;
    for (std::size_t i = 0; i < a.children.size(); ++i) expect_same(a.children[i], b.children[i], where + "/" + a.label);
}

// Runs the first model of each session at `at`: the same tree, or the same error. True when
// it ran.
bool same_run_both_ways(Session& eager, Session& lazy, const Overrides& at, const std::string& where) {
    CostNode eager_tree;
    try {
        eager_tree = eager.run(eager.pick_model(""), at);
    } catch (const CostiError& e) {
        try {
            lazy.run(lazy.pick_model(""), at);
            ADD_FAILURE() << where << ": read lazily, it runs; eagerly: " << e.what();
        } catch (const CostiError& l) {
            EXPECT_EQ(std::string(l.what()), std::string(e.what())) << where;
        }
        return false;
    }
    expect_same(eager_tree, lazy.run(lazy.pick_model(""), at), where);
    return true;
}

// A scratch library folder (LIB/stdlib/…, read lazily once it is a library folder) and a
// user file beside it.
class LazyLibrary : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() / ("costi-needed-" + std::to_string(::getpid()));
        fs::create_directories(dir_ / "stdlib");
        write("stdlib/lib.cost", R"(metric flops
runtime seq_len: int >= 1 = 1
# a comment with a brace {
kernel lib.good(n) {
  doc "braces in strings: } {"
  flops = n * seq_len   # and in comments }
}
kernel lib.unused(n) {
  flops = (n +
}
kernel lib.helper(n) { flops = 2 * n }
kernel lib.outer(n) { inner: $lib.helper(n = n) }
alias lib.alias_of_helper = lib.helper
alias lib.alias_of_unused = lib.unused
kernel lib.bad_params(n = , m = "a ) in a string") { flops = n }
)");
        set_library_dir(dir_);
    }
    void TearDown() override {
        set_library_dir({});
        fs::remove_all(dir_);
    }
    void write(const std::string& name, const std::string& text) {
        std::ofstream(dir_ / name) << text;
    }
    std::string user(const std::string& body) {
        write("user.cost", "import \"stdlib/lib.cost\"\n" + body);
        return (dir_ / "user.cost").string();
    }
    // A session that read `path` lazily (kept by the fixture).
    Session& load_lazily(const std::string& path) {
        lazy_ = std::make_unique<Session>();
        lazy_->set_lazy_library(true);
        lazy_->load_file(path);
        return *lazy_;
    }
    static std::string flops(Session& s) {
        auto root = s.run(s.pick_model(""), {});
        return (root.count * root.cost[*s.program().find_metric("flops")]).to_string();
    }
    fs::path dir_;
    std::unique_ptr<Session> lazy_;
};

// The first diagnostic of loading `path`, eagerly or lazily, as "CODE line:col message | hint".
std::string first_error(const std::string& path, bool lazy) {
    Session s;
    s.set_lazy_library(lazy);
    try {
        s.load_file(path);
    } catch (const CostiError& e) {
        const auto& d = e.diagnostics().front();
        auto lc = d.span.file != nullptr ? d.span.file->line_col(d.span.begin) : LineCol{};
        return std::string(d.code) + " " + std::to_string(lc.line) + ":" + std::to_string(lc.col) + " " + d.message +
               " | " + d.hint;
    }
    return "no error";
}

// The first diagnostic of loading `path` eagerly, having checked that a lazy load gives the
// same one.
std::string error_both_ways(const std::string& path) {
    std::string eager = first_error(path, false);
    EXPECT_EQ(first_error(path, true), eager) << path;
    return eager;
}

}  // namespace

TEST_F(LazyLibrary, AnUnreachedBodyIsNeverParsed) {
    std::string path = user("model m = $lib.good(n = 7)\n");
    Session& lazy = load_lazily(path);
    EXPECT_EQ(flops(lazy), "7");
    EXPECT_NE(lazy.program().find_kernel("lib.good"), nullptr);
    EXPECT_EQ(lazy.program().find_kernel("lib.unused"), nullptr);  // its body has a syntax error
    EXPECT_EQ(lazy.program().find_kernel("lib.outer"), nullptr);
    EXPECT_EQ(lazy.program().find_kernel("lib.alias_of_unused"), nullptr);
    EXPECT_EQ(lazy.program().find_kernel("lib.bad_params"), nullptr);  // nor are its parameters
    // Read eagerly, the broken body is an error (line 10: `flops = (n +` then `}`).
    EXPECT_EQ(first_error(path, false).substr(0, 11), "E0001 10:1 ");
}

TEST_F(LazyLibrary, CallsAndAliasesAreFollowed) {
    std::string path = user("model m = $lib.outer(n = 5)\nkernel mine() { a: $lib.alias_of_helper(n = 1) }\n");
    Session& lazy = load_lazily(path);
    EXPECT_EQ(flops(lazy), "10");
    EXPECT_NE(lazy.program().find_kernel("lib.helper"), nullptr);
    EXPECT_EQ(lazy.program().find_kernel("lib.alias_of_helper"), lazy.program().find_kernel("lib.helper"));
}

TEST_F(LazyLibrary, AReachedBrokenBodyFailsAsAnEagerLoadDoes) {
    EXPECT_EQ(error_both_ways(user("model m = $lib.unused(n = 1)\n")).substr(0, 6), "E0001 ");
}

TEST_F(LazyLibrary, CheckErrorsAreThoseOfAnEagerLoad) {
    // A misspelt kernel, with a broken body in the library: eagerly its syntax error comes
    // first; the lazy check fails, reads every body and reports the same.
    EXPECT_EQ(error_both_ways(user("model m = $lib.unuse(n = 1)\n")).substr(0, 6), "E0001 ");
}

TEST_F(LazyLibrary, TheSkipFindsTheEndPastEscapesStringsAndComments) {
    // Long bodies (the skip goes sixteen bytes at a time), escapes, brackets inside strings
    // and comments, a string with an escaped quote: the kernel after them is still found.
    std::string filler(100, 'x');
    write("stdlib/lib.cost", "metric flops\nkernel lib.first(n = \"(\", m = 1) {\n  doc \"" + filler +
                                 " \\\" } { ( \\\\\"\n  # } ) " + filler + "\n  flops = m\n}\n" +
                                 "kernel lib.second() { flops = 42 }   # {\n");
    std::string path = user("model m = $lib.second()\n");
    Session& lazy = load_lazily(path);
    EXPECT_EQ(flops(lazy), "42");
    EXPECT_EQ(lazy.program().find_kernel("lib.first"), nullptr);
    Session eager;
    eager.load_file(path);
    EXPECT_NE(eager.program().find_kernel("lib.first"), nullptr);  // the text is valid
}

TEST_F(LazyLibrary, AnUnclosedKernelFailsAsAnEagerLoadDoes) {
    for (const char* broken : {"kernel lib.open() {\n  flops = 1\n", "kernel lib.open(n = 1 {\n  flops = 1\n}\n",
                               "kernel lib.open() {\n  doc \"no end\n}\n"}) {
        write("stdlib/lib.cost", std::string("metric flops\nkernel lib.ok() { flops = 1 }\n") + broken);
        EXPECT_EQ(error_both_ways(user("model m = $lib.ok()\n")).substr(0, 6), "E0001 ") << broken;
    }
}

TEST_F(LazyLibrary, ASuggestionIsSearchedAmongEveryKernel) {
    write("stdlib/lib.cost", "metric flops\nkernel lib.alpha() { flops = 1 }\nkernel lib.unused_kernel() { flops = 2 }\n");
    std::string error = error_both_ways(user("model m = $lib.unused_kernal()\n"));
    EXPECT_NE(error.find("did you mean 'lib.unused_kernel'?"), std::string::npos) << error;
}

TEST_F(LazyLibrary, ANameDeclaredTwiceReadsEveryBody) {
    write("stdlib/lib.cost", "metric flops\nkernel lib.a() { flops = 1 }\nkernel lib.b() { flops = 2 }\n");
    std::string error = error_both_ways(user("kernel lib.b() { flops = 3 }\nmodel m = $lib.a()\n"));
    EXPECT_EQ(error.substr(0, 6), std::string(code::duplicate_def) + " ");
}

TEST_F(LazyLibrary, AUserFileIsAlwaysReadWhole) {
    // Only the library's stdlib/ and kernels/ folders are read lazily: an error in an
    // unused kernel of the user's own file is reported either way.
    EXPECT_EQ(error_both_ways(user("kernel mine() { flops = ( }\nmodel m = $lib.good(n = 1)\n")).substr(0, 6), "E0001 ");
}

// Every model of the library gives the same whole tree read lazily as eagerly.
// An engine's entry is followed only from a kernel something reaches: mapping lib.unused does
// not read eng.unused (whose body would not parse), and the entry for lib.good runs.
TEST_F(LazyLibrary, AnEngineEntryIsReadOnlyForAReachedKernel) {
    write("stdlib/eng.cost", R"(import "lib.cost"
kernel eng.good(n) { flops = 100 * n }
kernel eng.unused(n) { flops = (n + }
engine fast {
  lib.good = eng.good
  lib.unused = eng.unused
}
)");
    std::string path = user("import \"stdlib/eng.cost\"\nmodel m = $lib.good(n = 7)\n");
    Session& lazy = load_lazily(path);
    EXPECT_EQ(lazy.program().find_kernel("eng.unused"), nullptr);
    const Engine* fast = lazy.program().find_engine("fast");
    ASSERT_NE(fast, nullptr);
    ASSERT_EQ(fast->runs.size(), 1u);
    EXPECT_EQ(fast->runs.begin()->second->name, "eng.good");
    Overrides on_fast;
    on_fast.engine = "fast";
    auto root = lazy.run(lazy.pick_model(""), on_fast);
    EXPECT_EQ((root.count * root.cost[*lazy.program().find_metric("flops")]).to_string(), "700");  // 100 · 7
    EXPECT_EQ(flops(lazy), "7");
    // Read eagerly, the broken bodies are errors (lib.unused's, at line 10 of lib.cost, first).
    EXPECT_EQ(first_error(path, false).substr(0, 6), "E0001 ");
}

TEST(Needed, EveryLibraryModelRunsTheSameReadLazily) {
    std::vector<fs::path> models;
    for (const auto& entry : fs::directory_iterator(source_dir / "models"))
        if (entry.path().extension() == ".cost") models.push_back(entry.path());
    std::sort(models.begin(), models.end());
    ASSERT_GE(models.size(), 14u);
    for (const auto& path : models) {
        Session eager;
        eager.load_file(path.string());
        Session lazy;
        lazy.set_lazy_library(true);
        lazy.load_file(path.string());
        for (int cache_len : {0, 1000}) {  // a prefill, and a step with a cache (an error for encoders)
            Overrides at;
            at.runtime.emplace_back("seq_len", Value::of(Number(128)));
            at.runtime.emplace_back("cache_len", Value::of(Number(cache_len)));
            (void)same_run_both_ways(eager, lazy, at, path.filename().string());
        }
        // The lazy session holds fewer kernels: the library's unused ones were never read.
        EXPECT_LT(lazy.program().kernels.size(), eager.program().kernels.size()) << path;
    }
}

// Under the vLLM engine, with every engine file of the library loaded (each imports the
// families it maps), a lazy read gives every library model the tree, or the error, an eager
// read gives: the engine's entries for the families no model reaches are left unread.
TEST(Needed, EveryLibraryModelRunsTheSameUnderTheEngineReadLazily) {
    std::vector<std::string> engine_files;
    for (const auto& f : library_engine_files("vllm")) engine_files.push_back(f.path.string());
    ASSERT_GE(engine_files.size(), 10u);
    std::vector<fs::path> models;
    for (const auto& entry : fs::directory_iterator(source_dir / "models"))
        if (entry.path().extension() == ".cost") models.push_back(entry.path());
    std::sort(models.begin(), models.end());
    int mapped = 0;
    for (const auto& path : models) {
        Session eager;
        eager.load_file(path.string());
        eager.load_files(engine_files);
        Session lazy;
        lazy.set_lazy_library(true);
        lazy.load_file(path.string());
        lazy.load_files(engine_files);
        Overrides at;
        at.runtime.emplace_back("seq_len", Value::of(Number(128)));
        at.engine = "vllm";
        if (!same_run_both_ways(eager, lazy, at, path.filename().string())) continue;
        ++mapped;
        EXPECT_LT(lazy.program().kernels.size(), eager.program().kernels.size()) << path;
    }
    EXPECT_GE(mapped, 8) << "the vLLM engine models most library families";
}

// `costi run --config FILE`: the library of architectures[0], read lazily from the kernels of
// that class name, gives every test config the tree or the error an eager read gives —
// unknown and misspelt architectures (whose suggestions list every declared model class)
// included.
TEST(Needed, EveryConfigJsonRunsTheSameReadLazily) {
    std::vector<fs::path> configs;
    for (const auto& entry : fs::directory_iterator(source_dir / "tests" / "models" / "configs"))
        if (entry.path().extension() == ".json") configs.push_back(entry.path());
    std::sort(configs.begin(), configs.end());
    ASSERT_GE(configs.size(), 30u);
    fs::path misspelt = fs::temp_directory_path() / ("costi_arch_" + std::to_string(::getpid()) + ".json");
    {
        std::ofstream out(misspelt);
        out << R"({"architectures": ["LlamaForCausalLm"], "hidden_size": 8})";
    }
    configs.push_back(misspelt);
    // The tree points into its session's program: the session outlives the comparison.
    auto outcome = [](Session& s, const fs::path& config, bool lazy, CostNode& tree) {
        s.set_lazy_library(lazy);
        try {
            s.load_library_for(config.string());
            Overrides at;
            at.runtime.emplace_back("seq_len", Value::of(Number(128)));
            tree = s.run(s.model_from_config_json(config.string()), at);
        } catch (const CostiError& e) {
            return std::string(e.what());
        }
        return std::string();
    };
    for (const auto& config : configs) {
        Session eager, lazy;
        CostNode eager_tree, lazy_tree;
        std::string eager_error = outcome(eager, config, false, eager_tree);
        std::string lazy_error = outcome(lazy, config, true, lazy_tree);
        EXPECT_EQ(lazy_error, eager_error) << config;
        if (eager_error.empty() && lazy_error.empty()) expect_same(eager_tree, lazy_tree, config.filename().string());
    }
    fs::remove(misspelt);
}
