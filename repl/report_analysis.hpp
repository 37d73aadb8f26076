// Reports of the analyses on a device: the hardware line, the time summary, the memory
// footprint with the largest batch and context, and whole requests — as text and as JSON.
//
// Owns: layout only. The numbers come from interpreter/analysis.hpp (which evaluates the
// program's own formulas); nothing here computes a cost. Derived figures a report states
// (tokens per second, cost per million tokens, shares) are exact divisions of those numbers.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "interpreter/analysis.hpp"
#include "interpreter/program.hpp"

namespace costi::report {

using DeviceRun = interp::DeviceAnalysis;

// "execution: vllm (…)" or "execution: transformers (…)": what a run's counts are of.
std::string execution_line(const interp::Environment& env);
// "hardware h100-sxm: NVIDIA H100 SXM5 …" and the execution the times are for.
std::string hardware_line(const interp::Hardware& hw, const interp::Environment& env);

// The time summary and the memory section under the table.
std::string device_text(const interp::Program& program, const DeviceRun& run, const interp::Environment& env);
// The same as JSON: {"hardware": {…}, "memory": {…}} added to the run's document (the times
// are metrics: "time" in every node's cost and total and in the totals).
void device_json(const interp::Program& program, const DeviceRun& run, const interp::Environment& env,
                 nlohmann::ordered_json& out);

// A parallel layout's line and the totals across its devices (each summed metric times the
// devices; times and maxima are per device): text under the totals, and JSON ("layout").
// `stages`: each pipeline stage's totals (interp::stage_totals), empty without stages.
std::string layout_line(const interp::Layout& layout);
// The layout line under a whole request: with pipeline stages, what the request's numbers add
// up (interp::request); else layout_line.
std::string request_layout_line(const interp::Layout& layout);
std::string layout_text(const interp::Program& program, const interp::Layout& layout, const interp::CostNode& root,
                        const std::vector<std::vector<interp::Number>>& stages = {});
void layout_json(const interp::Program& program, const interp::Layout& layout, const interp::CostNode& root,
                 nlohmann::ordered_json& out, const std::vector<std::vector<interp::Number>>& stages = {});

// A whole request: text, and JSON.
std::string request_text(const interp::Program& program, const interp::Hardware& hw, const interp::Request& r,
                         const interp::Environment& env, const std::string& model);
std::string request_json(const interp::Program& program, const interp::Hardware& hw, const interp::Request& r,
                         const interp::Environment& env, const std::string& model);

}  // namespace costi::report
