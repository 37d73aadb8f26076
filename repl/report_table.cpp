// The breakdown table: one row per call, indented as a tree, then the totals.
#include <algorithm>

#include "repl/human.hpp"
#include "repl/report.hpp"

namespace costi::report {

using interp::CostNode;
using interp::Number;

namespace {

// transformers.models.llama.modeling_llama.LlamaMLP -> LlamaMLP (and vLLM's
// vllm.model_executor.models.llama.LlamaMLP): the class name is enough in a table (the JSON
// keeps the full name).
std::string short_kernel(const std::string& name) {
    if (name.rfind("transformers.", 0) != 0 && name.rfind("torch.nn.modules.", 0) != 0 &&
        name.rfind("vllm.model_executor.", 0) != 0)
        return name;
    auto dot = name.rfind('.');
    return dot == std::string::npos ? name : name.substr(dot + 1);
}

struct Row {
    std::string tree;
    std::string kernel;
    std::string count;
    std::vector<std::string> cells;
};

std::string pad_right(const std::string& s, std::size_t w) {
    return s + std::string(w > display_width(s) ? w - display_width(s) : 0, ' ');
}
std::string pad_left(const std::string& s, std::size_t w) {
    return std::string(w > display_width(s) ? w - display_width(s) : 0, ' ') + s;
}

std::vector<std::uint32_t> shown_metrics(const interp::Program& program, const std::vector<std::uint32_t>& chosen) {
    if (!chosen.empty()) return chosen;
    std::vector<std::uint32_t> all;
    for (std::uint32_t m = 0; m < program.metrics.size(); ++m) all.push_back(m);
    return all;
}

// Walks the tree once and lays out the rows; counts what the options leave out.
class Layout {
public:
    Layout(const interp::Program& program, const TableOptions& opt, std::vector<std::uint32_t> metrics,
           std::vector<Number> root_total)
        : program_(program), opt_(opt), metrics_(std::move(metrics)), root_total_(std::move(root_total)) {}

    // True when the call contributes nothing to any shown metric, nor does anything below it.
    bool all_zero(const CostNode& node) const {
        for (auto m : metrics_) {
            if (!node.cost[m].is_zero()) return false;
        }
        for (const auto& c : node.children) {
            if (!c.count.is_zero() && !all_zero(c)) return false;
        }
        return true;
    }

    void add(const CostNode& node, const Number& multiplier, const std::string& prefix, const std::string& branch,
             int depth) {
        Row row;
        row.tree = prefix + branch + valid_utf8(node.label);
        row.kernel = valid_utf8(short_kernel(node.kernel->name));
        row.count = grouped(node.count);
        // A row shows what the call contributes to the whole run: its count times one call's
        // cost, times the counts of every call above it. Rows then add up to their parent's row
        // and the share column agrees with the value beside it.
        for (std::size_t i = 0; i < metrics_.size(); ++i) {
            const auto& metric = program_.metrics[metrics_[i]];
            Number overall = interp::total_of(metric, multiplier * node.count, node.cost[metrics_[i]]);
            row.cells.push_back(opt_.exact ? grouped(overall) : compact(overall, metric.unit, style_of(metric)));
            row.cells.push_back(percent(overall, root_total_[i]));
        }
        if (opt_.bound) {
            Number time = multiplier * node.count * node.cost[opt_.bound->time];
            Number compute = multiplier * node.count * node.cost[opt_.bound->compute_bound];
            if (time.is_zero()) {
                row.cells.push_back("-");
                row.cells.push_back("");
            } else {
                bool by_compute = compute + compute >= time;
                row.cells.push_back(by_compute ? "compute" : "memory");
                row.cells.push_back(percent(by_compute ? compute : time - compute, time));
            }
            // Intensity is a ratio of one call's own totals: the counts cancel.
            Number traffic = node.cost[opt_.bound->read] + node.cost[opt_.bound->write];
            row.cells.push_back(traffic.is_zero() ? "-"
                                                  : compact(*Number::divide(node.cost[opt_.bound->flops], traffic), ""));
            row.cells.push_back("");
        }
        rows.push_back(std::move(row));
        bool at_limit = opt_.depth >= 0 && depth >= opt_.depth;
        std::vector<const CostNode*> visible;
        for (const auto& c : node.children) {
            if (opt_.hide_zero && (c.count.is_zero() || all_zero(c))) {
                // Counted where it would have been shown; below the depth it would not be anyway.
                if (!at_limit) ++zero_rows;
                continue;
            }
            visible.push_back(&c);
        }
        if (at_limit) {
            deeper_rows += visible.size();
            return;
        }
        std::string child_prefix = prefix + (branch.empty() ? "" : (branch == "└─ " ? "   " : "│  "));
        Number next = multiplier * node.count;
        for (std::size_t i = 0; i < visible.size(); ++i) {
            bool last = i + 1 == visible.size();
            add(*visible[i], next, child_prefix, last ? "└─ " : "├─ ", depth + 1);
        }
    }

    std::vector<Row> rows;
    std::size_t zero_rows = 0;    // calls left out (with what is below them) for being all zero
    std::size_t deeper_rows = 0;  // calls left out (with what is below them) for being too deep

private:
    const interp::Program& program_;
    const TableOptions& opt_;
    std::vector<std::uint32_t> metrics_;
    std::vector<Number> root_total_;
};

}  // namespace

Style style_of(const interp::Metric& metric) {
    if (metric.style == "time") return Style::time;
    return metric.style == "count" ? Style::count : Style::si;
}

std::string table(const interp::Program& program, const RunInfo& info, const CostNode& root, const TableOptions& opt) {
    std::vector<std::uint32_t> metrics = shown_metrics(program, opt.metrics);
    std::vector<Number> root_total;
    for (auto m : metrics) root_total.push_back(interp::total_of(program.metrics[m], root.count, root.cost[m]));
    Layout layout(program, opt, metrics, root_total);
    Row head{"call", "kernel", "count", {}};
    for (auto m : metrics) {
        head.cells.push_back(program.metrics[m].name);
        head.cells.push_back("%");
    }
    if (opt.bound) {
        head.cells.push_back("bound");
        head.cells.push_back("");
        head.cells.push_back("FLOP/B");
        head.cells.push_back("");
    }
    layout.rows.push_back(head);
    layout.add(root, Number(1), "", "", 0);

    std::size_t wt = 0;
    std::size_t wk = 0;
    std::size_t wc = 0;
    std::vector<std::size_t> wcell(head.cells.size(), 0);
    for (const auto& r : layout.rows) {
        wt = std::max(wt, display_width(r.tree));
        wk = std::max(wk, display_width(r.kernel));
        wc = std::max(wc, display_width(r.count));
        for (std::size_t i = 0; i < r.cells.size(); ++i) wcell[i] = std::max(wcell[i], display_width(r.cells[i]));
    }
    std::string out = "model " + valid_utf8(info.model) + "\n" +
                      (info.note.empty() ? "" : "note: " + valid_utf8(info.note) + "\n") + info.preamble;
    std::string runtime;
    for (const auto& [name, v] : info.runtime) {
        runtime += (runtime.empty() ? "" : "  ") + valid_utf8(name) + "=" + (v.is_number() ? grouped(v.num) : valid_utf8(v.show()));
    }
    out += runtime + "\n\n";
    for (const auto& r : layout.rows) {
        std::string line = pad_right(r.tree, wt) + "  " + pad_right(r.kernel, wk) + "  " + pad_left(r.count, wc);
        for (std::size_t i = 0; i < r.cells.size(); ++i)
            line += (i % 2 == 0 ? "  " : " ") + pad_left(r.cells[i], wcell[i]);
        while (!line.empty() && line.back() == ' ') line.pop_back();
        out += line + "\n";
    }
    auto calls = [](std::size_t n) {
        return grouped(Number(static_cast<std::int64_t>(n))) + (n == 1 ? " call" : " calls");
    };
    std::vector<std::string> notes;
    if (layout.deeper_rows > 0) {
        notes.push_back(calls(layout.deeper_rows) + " below depth " + std::to_string(opt.depth) +
                        " not shown; see " + opt.show_deeper);
    }
    if (layout.zero_rows > 0) notes.push_back(calls(layout.zero_rows) + " that cost nothing not shown; see " + opt.show_zero);
    for (const auto& n : notes) out += "(" + n + ")\n";
    out += "\ntotals\n";
    std::size_t wn = 0;
    std::size_t we = 0;
    for (std::size_t i = 0; i < metrics.size(); ++i) {
        wn = std::max(wn, display_width(program.metrics[metrics[i]].name));
        we = std::max(we, grouped(root_total[i]).size());
    }
    for (std::size_t i = 0; i < metrics.size(); ++i) {
        const auto& metric = program.metrics[metrics[i]];
        // The compact form only where it says something the digits do not (as REPL answers).
        std::string exact = grouped(root_total[i]);
        std::string brief = compact(root_total[i], metric.unit, style_of(metric));
        out += "  " + pad_right(metric.name, wn) + "  " + pad_left(exact, we);
        out += (brief == exact ? std::string() : "  (" + brief + ")") + "\n";
    }
    out += info.appendix;
    return out;
}

}  // namespace costi::report
