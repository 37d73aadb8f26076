// Helpers shared by the unit tests: evaluate cost-language text in a fresh session.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "interpreter/diagnostics.hpp"
#include "interpreter/session.hpp"

namespace costi::test {

// The metrics and runtime variables of the prelude, inline so tests need no files.
inline const char* prelude = R"(
metric flops
metric read unit "B"
runtime batch_size = 1
runtime seq_len = 1
runtime cache_len = 0
runtime w_bytes = 2
runtime a_bytes = 2
runtime kv_bytes = a_bytes
)";

// Evaluates model `m` declared in `text` (after the prelude) and returns the total of
// `metric` as an exact string, or "error CODE line:col" for the first diagnostic.
inline std::string total(const std::string& text, const std::string& metric = "flops",
                         const interp::Overrides& overrides = {}) {
    interp::Session s;
    try {
        s.load_text("<test>", std::string(prelude) + text);
        interp::CostNode root = s.run(s.pick_model("m"), overrides);
        auto m = s.program().find_metric(metric);
        return (root.count * root.cost.at(*m)).to_string();
    } catch (const interp::CostiError& e) {
        const auto& d = e.diagnostics().front();
        if (d.span.file == nullptr) return std::string("error ") + d.code;
        auto lc = d.span.file->line_col(d.span.begin);
        // The prelude takes the first 9 lines; report lines of `text`.
        return std::string("error ") + d.code + " " + std::to_string(lc.line - 9) + ":" + std::to_string(lc.col);
    }
}

// All diagnostics of checking `text` as "CODE line:col" strings (lines of `text`).
inline std::vector<std::string> problems(const std::string& text) {
    interp::Session s;
    std::vector<std::string> out;
    try {
        s.load_text("<test>", std::string(prelude) + text);
    } catch (const interp::CostiError& e) {
        for (const auto& d : e.diagnostics()) {
            auto lc = d.span.file != nullptr ? d.span.file->line_col(d.span.begin) : interp::LineCol{10, 0};
            out.push_back(std::string(d.code) + " " + std::to_string(lc.line - 9) + ":" + std::to_string(lc.col));
        }
    }
    return out;
}

}  // namespace costi::test
