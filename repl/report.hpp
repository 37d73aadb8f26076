// Reports of an evaluated cost tree: the table people read and the JSON tools read.
//
// Owns: layout only. Both take the exact CostNode tree from the evaluator and print it;
// neither computes a cost.
#pragma once

#include <string>
#include <vector>

#include "interpreter/evaluator.hpp"
#include "interpreter/program.hpp"

namespace costi::report {

struct RunInfo {
    std::string model;
    std::vector<std::pair<std::string, interp::Value>> runtime;  // the values the run used
};

struct TableOptions {
    int depth = -1;      // levels of children shown; -1 for all
    bool exact = false;  // exact integers instead of the compact form in the tree
};

// The breakdown tree and the totals, as text.
std::string table(const interp::Program& program, const RunInfo& info, const interp::CostNode& root,
                  const TableOptions& options);

// The JSON contract: {"model", "runtime", "metrics", "totals", "tree"}; every number an exact string.
std::string json(const interp::Program& program, const RunInfo& info, const interp::CostNode& root, int depth);

// Metric name -> exact value for one cost vector, as "name value" lines (REPL calls).
std::string metric_lines(const interp::Program& program, const std::vector<interp::Number>& cost);

}  // namespace costi::report
