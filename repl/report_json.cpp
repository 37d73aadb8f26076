// The JSON report: the contract other tools and the tests rely on.
#include <nlohmann/json.hpp>

#include "repl/report.hpp"

namespace costi::report {

using interp::CostNode;
using interp::Number;
using nlohmann::ordered_json;

namespace {

ordered_json metrics_object(const interp::Program& program, const std::vector<Number>& values, const Number& factor) {
    ordered_json o = ordered_json::object();
    for (std::size_t m = 0; m < program.metrics.size(); ++m)
        o[program.metrics[m].name] = (factor * values[m]).to_string();
    return o;
}

ordered_json node_json(const interp::Program& program, const CostNode& node, int depth, int max_depth) {
    ordered_json n = ordered_json::object();
    n["label"] = node.label;
    n["kernel"] = node.kernel->name;
    n["count"] = node.count.to_string();
    n["cost"] = metrics_object(program, node.cost, Number(1));
    n["total"] = metrics_object(program, node.cost, node.count);
    ordered_json children = ordered_json::array();
    if (max_depth < 0 || depth < max_depth) {
        for (const auto& c : node.children) children.push_back(node_json(program, c, depth + 1, max_depth));
    }
    n["children"] = std::move(children);
    return n;
}

}  // namespace

std::string json(const interp::Program& program, const RunInfo& info, const CostNode& root, int depth) {
    ordered_json out = ordered_json::object();
    out["model"] = info.model;
    ordered_json runtime = ordered_json::object();
    for (const auto& [name, v] : info.runtime) runtime[name] = v.is_number() ? v.num.to_string() : v.str;
    out["runtime"] = std::move(runtime);
    ordered_json metrics = ordered_json::array();
    for (const auto& m : program.metrics) metrics.push_back(m.name);
    out["metrics"] = std::move(metrics);
    out["totals"] = metrics_object(program, root.cost, root.count);
    out["tree"] = node_json(program, root, 0, depth);
    return out.dump(2) + "\n";
}

}  // namespace costi::report
