// libFuzzer target: any bytes as a Hugging Face config.json. interp::parse_config_json reads
// them exactly or refuses them with a CostiError; when they name an architecture the shipped
// kernels model, the model is run on the library loaded once at start (as `costi run
// --config` does). Any crash, sanitizer report, hang or abort is a bug. Built with
// -DCOSTI_FUZZ=ON and clang; see docs/fuzzing.md.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "interpreter/config_json.hpp"
#include "interpreter/diagnostics.hpp"
#include "interpreter/session.hpp"

namespace {

namespace fs = std::filesystem;
using costi::interp::CostiError;

// Shipped configs are under 2 KB; larger inputs only slow the fuzzer (run with -max_len=4096).
constexpr std::size_t max_input = 4096;

costi::interp::Session* library = nullptr;

void render_all(const CostiError& e) {
    for (const auto& d : e.diagnostics()) (void)costi::interp::render(d);
}

// The kernel whose last name part is `arch`, as Session::model_from_config_json picks it.
const costi::interp::Kernel* entry_for(const std::string& arch) {
    for (const auto& k : library->program().kernels) {
        auto dot = k->name.rfind('.');
        std::string tail = dot == std::string::npos ? k->name : k->name.substr(dot + 1);
        if (tail == arch) return k.get();
    }
    return nullptr;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    setenv("COSTI_PATH", COSTI_SOURCE_DIR, 1);
    // The kernels of this source tree, loaded and checked once; runs never change them.
    static costi::interp::Session session;
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(COSTI_SOURCE_DIR "/kernels")) {
        if (entry.path().extension() == ".cost") files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    for (const auto& f : files) session.load_file(f.string());
    // Tighter than the command line's limits, so one input stays under libFuzzer's timeout.
    session.set_limits(costi::interp::EvalLimits{100'000, 20'000, 200'000});
    library = &session;
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size > max_input) return 0;
    std::string text(reinterpret_cast<const char*>(data), size);
    try {
        costi::interp::ConfigEntries entries = costi::interp::parse_config_json(text, "<fuzz>.json", {});
        std::string arch;
        for (const auto& [key, value] : entries) {
            if (key == "architectures.0" && value.is_string()) arch = value.str;
        }
        const costi::interp::Kernel* entry = entry_for(arch);
        if (entry == nullptr) return 0;
        // A model for a config.json binds no parameter: kernels whose parameters all have
        // defaults can be run, as Session::model_from_config_json requires.
        for (const auto& p : entry->params) {
            if (!p.default_value) return 0;
        }
        costi::interp::Model model;
        model.name = "<fuzz>.json";
        model.entry.kernel = entry;
        model.entry.label = model.name;
        model.entry.args.resize(entry->params.size());
        model.config = std::move(entries);
        (void)library->run(model, {});
    } catch (const CostiError& e) {
        render_all(e);
    }
    return 0;
}
