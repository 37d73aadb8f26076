// Reports of an evaluated cost tree: the table people read and the JSON tools read.
//
// Owns: layout only — which rows and columns are shown and how each number is written
// (through repl/human.hpp, the one formatting of the command line). Both take the exact
// CostNode tree from the evaluator and print it; neither computes a cost.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "interpreter/evaluator.hpp"
#include "interpreter/program.hpp"
#include "repl/human.hpp"

namespace costi::report {

struct RunInfo {
    std::string model;
    std::vector<std::pair<std::string, interp::Value>> runtime;  // the values the run used
    std::string note;      // a line on the input itself (a config.json's defaulted keys), "" for none
    nlohmann::ordered_json note_json;  // the same for the JSON (an object), null for none
    std::string preamble;  // table: lines after the model's (the hardware), already laid out
    std::string appendix;  // table: lines after the totals (time and memory on a device)
};

// The table's default depth: the model (its *ForCausalLM kernel) is level 0, the decoder
// stack level 1, the decoder layer level 2 and that layer's modules (attention, MLP, norms,
// residual adds) level 3.
inline constexpr int default_depth = 3;

// The defaults show everything; `costi run` asks for default_depth and hide_zero.
struct TableOptions {
    int depth = -1;                      // levels of calls shown below the model; -1 for all
    bool exact = false;                  // exact integers instead of the compact form in the tree
    bool hide_zero = false;              // leave out rows that are zero in every shown metric
    std::vector<std::uint32_t> metrics;  // the metrics shown, in order; empty for all
    std::string show_deeper = "--depth all";  // what the note on hidden deeper calls tells to use
    std::string show_zero = "--all";          // what the note on hidden zero rows tells to use
    // With a hardware: a "bound" column from these metrics (time, and the time of the
    // compute-bound calls): compute or memory, and the share of the time that is so bound.
    struct Bound {
        std::uint32_t time;
        std::uint32_t compute_bound;
        std::uint32_t flops, read, write;  // arithmetic intensity: flops / (read + write)
    };
    std::optional<Bound> bound;
};

struct JsonOptions {
    int depth = -1;                      // levels of children kept; -1 for all
    std::vector<std::uint32_t> metrics;  // the metrics kept, in order; empty for all
    std::function<void(nlohmann::ordered_json&)> extend;  // adds members after "tree" (a device's analyses)
    bool intensity = false;  // each node's arithmetic intensity, flops / (read + write) (with a device)
};

// How a metric's compact values are written: counts of things (params) as 8.03B, other
// measures with SI prefixes.
Style style_of(const interp::Metric& metric);

// The breakdown tree and the totals, as text.
std::string table(const interp::Program& program, const RunInfo& info, const interp::CostNode& root,
                  const TableOptions& options);

// The JSON contract: {"model", "runtime", "metrics", "totals", "tree"}; every number an
// exact string; text that is not UTF-8 has U+FFFD in place of the bad bytes.
std::string json(const interp::Program& program, const RunInfo& info, const interp::CostNode& root,
                 const JsonOptions& options);
// The same with every metric, `depth` levels of children (-1 for all).
std::string json(const interp::Program& program, const RunInfo& info, const interp::CostNode& root, int depth);


}  // namespace costi::report
