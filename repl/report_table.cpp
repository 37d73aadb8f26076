// The breakdown table: one row per call, indented as a tree, then the totals.
#include <algorithm>

#include "repl/human.hpp"
#include "repl/report.hpp"

namespace costi::report {

using interp::CostNode;
using interp::Number;

namespace {

// transformers.models.llama.modeling_llama.LlamaMLP -> LlamaMLP: the class name is enough in
// a table (the JSON keeps the full name).
std::string short_kernel(const std::string& name) {
    if (name.rfind("transformers.", 0) != 0 && name.rfind("torch.nn.modules.", 0) != 0) return name;
    auto dot = name.rfind('.');
    return dot == std::string::npos ? name : name.substr(dot + 1);
}

struct Row {
    std::string tree;
    std::string kernel;
    std::string count;
    std::vector<std::string> cells;
};

std::size_t width(const std::string& s) {
    // Count UTF-8 code points so box-drawing characters line up.
    std::size_t n = 0;
    for (unsigned char c : s) n += (c & 0xC0) != 0x80 ? 1 : 0;
    return n;
}

std::string pad_right(const std::string& s, std::size_t w) {
    return s + std::string(w > width(s) ? w - width(s) : 0, ' ');
}
std::string pad_left(const std::string& s, std::size_t w) {
    return std::string(w > width(s) ? w - width(s) : 0, ' ') + s;
}

void collect(const interp::Program& program, const CostNode& node, const Number& multiplier,
             const std::vector<Number>& root_total, const std::string& prefix, const std::string& branch, int depth,
             const TableOptions& opt, std::vector<Row>& rows) {
    Row row;
    row.tree = prefix + branch + node.label;
    row.kernel = short_kernel(node.kernel->name);
    row.count = interp::Number(node.count).to_string();
    // A row shows what the call contributes to the whole run: its count times one call's
    // cost, times the counts of every call above it. Rows then add up to their parent's row
    // and the share column agrees with the value beside it.
    for (std::size_t m = 0; m < program.metrics.size(); ++m) {
        Number overall = multiplier * node.count * node.cost[m];
        row.cells.push_back(opt.exact ? grouped(overall) : compact(overall, program.metrics[m].unit));
        row.cells.push_back(percent(overall, root_total[m]));
    }
    rows.push_back(std::move(row));
    if (opt.depth >= 0 && depth >= opt.depth) return;
    std::string child_prefix = prefix + (branch.empty() ? "" : (branch == "└─ " ? "   " : "│  "));
    Number next = multiplier * node.count;
    for (std::size_t i = 0; i < node.children.size(); ++i) {
        bool last = i + 1 == node.children.size();
        collect(program, node.children[i], next, root_total, child_prefix, last ? "└─ " : "├─ ", depth + 1, opt, rows);
    }
}

}  // namespace

std::string table(const interp::Program& program, const RunInfo& info, const CostNode& root, const TableOptions& opt) {
    std::vector<Number> root_total;
    for (const auto& c : root.cost) root_total.push_back(root.count * c);
    std::vector<Row> rows;
    Row head{"call", "kernel", "count", {}};
    for (const auto& m : program.metrics) {
        head.cells.push_back(m.name);
        head.cells.push_back("%");
    }
    rows.push_back(head);
    collect(program, root, Number(1), root_total, "", "", 0, opt, rows);

    std::size_t wt = 0;
    std::size_t wk = 0;
    std::size_t wc = 0;
    std::vector<std::size_t> wcell(head.cells.size(), 0);
    for (const auto& r : rows) {
        wt = std::max(wt, width(r.tree));
        wk = std::max(wk, width(r.kernel));
        wc = std::max(wc, width(r.count));
        for (std::size_t i = 0; i < r.cells.size(); ++i) wcell[i] = std::max(wcell[i], width(r.cells[i]));
    }
    std::string out = "model " + info.model + "\n";
    std::string runtime;
    for (const auto& [name, v] : info.runtime) runtime += (runtime.empty() ? "" : "  ") + name + "=" + v.show();
    out += runtime + "\n\n";
    for (const auto& r : rows) {
        std::string line = pad_right(r.tree, wt) + "  " + pad_right(r.kernel, wk) + "  " + pad_left(r.count, wc);
        for (std::size_t i = 0; i < r.cells.size(); ++i)
            line += (i % 2 == 0 ? "  " : " ") + pad_left(r.cells[i], wcell[i]);
        while (!line.empty() && line.back() == ' ') line.pop_back();
        out += line + "\n";
    }
    out += "\ntotals\n";
    std::size_t wn = 0;
    std::size_t we = 0;
    for (std::size_t m = 0; m < program.metrics.size(); ++m) {
        wn = std::max(wn, program.metrics[m].name.size());
        we = std::max(we, grouped(root_total[m]).size());
    }
    for (std::size_t m = 0; m < program.metrics.size(); ++m) {
        out += "  " + pad_right(program.metrics[m].name, wn) + "  " + pad_left(grouped(root_total[m]), we) + "  (" +
               compact(root_total[m], program.metrics[m].unit) + ")\n";
    }
    return out;
}

std::string metric_lines(const interp::Program& program, const std::vector<Number>& cost) {
    std::size_t wn = 0;
    for (const auto& m : program.metrics) wn = std::max(wn, m.name.size());
    std::string out;
    for (std::size_t m = 0; m < program.metrics.size(); ++m) {
        out += pad_right(program.metrics[m].name, wn) + "  " + cost[m].to_string() + "  (" +
               compact(cost[m], program.metrics[m].unit) + ")\n";
    }
    return out;
}

}  // namespace costi::report
