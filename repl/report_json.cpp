// The JSON report: the contract other tools and the tests rely on.
#include <nlohmann/json.hpp>
#include <optional>

#include "repl/report.hpp"

namespace costi::report {

using interp::CostNode;
using interp::Number;
using nlohmann::ordered_json;

namespace {

class Writer {
public:
    Writer(const interp::Program& program, const JsonOptions& options) : program_(program), options_(options) {
        if (options.metrics.empty()) {
            for (std::uint32_t m = 0; m < program.metrics.size(); ++m) metrics_.push_back(m);
        } else {
            metrics_ = options.metrics;
        }
    }

    ordered_json metric_names() const {
        ordered_json names = ordered_json::array();
        for (auto m : metrics_) names.push_back(program_.metrics[m].name);
        return names;
    }

    ordered_json metrics_object(const std::vector<Number>& values, const Number& factor) const {
        ordered_json o = ordered_json::object();
        for (auto m : metrics_) o[program_.metrics[m].name] = interp::total_of(program_.metrics[m], factor, values[m]).to_string();
        return o;
    }

    ordered_json node(const CostNode& node, int depth) const {
        ordered_json n = ordered_json::object();
        n["label"] = node.label;
        n["kernel"] = node.kernel->name;
        n["count"] = node.count.to_string();
        n["cost"] = metrics_object(node.cost, Number(1));
        n["total"] = metrics_object(node.cost, node.count);
        if (options_.intensity) {
            Number traffic = read_ && write_ ? node.cost[*read_] + node.cost[*write_] : Number(0);
            n["intensity"] = flops_ && !traffic.is_zero()
                                 ? ordered_json(Number::divide(node.cost[*flops_], traffic)->to_string())
                                 : ordered_json(nullptr);
        }
        ordered_json children = ordered_json::array();
        if (options_.depth < 0 || depth < options_.depth) {
            for (const auto& c : node.children) children.push_back(this->node(c, depth + 1));
        }
        n["children"] = std::move(children);
        return n;
    }

private:
    const interp::Program& program_;
    const JsonOptions& options_;
    std::vector<std::uint32_t> metrics_;
    // What intensity is made of, looked up once.
    std::optional<std::uint32_t> flops_ = program_.find_metric("flops");
    std::optional<std::uint32_t> read_ = program_.find_metric("read");
    std::optional<std::uint32_t> write_ = program_.find_metric("write");
};

}  // namespace

std::string json(const interp::Program& program, const RunInfo& info, const CostNode& root,
                 const JsonOptions& options) {
    Writer w(program, options);
    ordered_json out = ordered_json::object();
    out["model"] = info.model;
    if (!info.note.empty()) {
        out["note"] = info.note;
        out["config_defaults"] = info.note_json;
    }
    ordered_json runtime = ordered_json::object();
    for (const auto& [name, v] : info.runtime) runtime[name] = v.is_number() ? v.num.to_string() : v.str;
    out["runtime"] = std::move(runtime);
    out["metrics"] = w.metric_names();
    out["totals"] = w.metrics_object(root.cost, root.count);
    out["tree"] = w.node(root, 0);
    if (options.extend) options.extend(out);
    // Names and labels come from the input and may hold bytes that are not UTF-8: JSON
    // must be UTF-8, so such bytes are written as U+FFFD rather than failing the dump.
    return out.dump(2, ' ', false, ordered_json::error_handler_t::replace) + "\n";
}

std::string json(const interp::Program& program, const RunInfo& info, const CostNode& root, int depth) {
    return json(program, info, root, JsonOptions{depth, {}, {}});
}

}  // namespace costi::report
