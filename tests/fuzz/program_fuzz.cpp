// libFuzzer target: any bytes as a .cost program go through parse, check and evaluation
// of every model it declares. Any crash, sanitizer report, hang or abort is a bug: bad
// input must end in a CostiError. Built with -DCOSTI_FUZZ=ON and clang (see CMakeLists).
#include <cstddef>
#include <cstdint>
#include <string>

#include "interpreter/diagnostics.hpp"
#include "interpreter/session.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    // Inputs longer than this add nothing the fuzzer cannot find with shorter ones.
    if (size > 4096) return 0;
    std::string text(reinterpret_cast<const char*>(data), size);
    costi::interp::Session session;
    try {
        // Built-in metrics and runtime variables, so the input's kernels can be evaluated.
        session.load_text("<prelude>",
                          "metric flops\nmetric read unit \"B\"\nruntime batch_size = 1\nruntime seq_len = 3\n"
                          "runtime cache_len = 0\nruntime a_bytes = 2\nruntime w_bytes = 2\n");
        session.load_text("<fuzz>", std::move(text));
        for (const auto& model : session.program().models) {
            try {
                (void)session.run(*model, {});
            } catch (const costi::interp::CostiError& e) {
                for (const auto& d : e.diagnostics()) (void)costi::interp::render(d);
            }
        }
    } catch (const costi::interp::CostiError& e) {
        for (const auto& d : e.diagnostics()) (void)costi::interp::render(d);
    }
    return 0;
}
