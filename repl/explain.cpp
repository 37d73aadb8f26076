// :explain — one kernel: its parameters, formulas, citation, and its cost now.
#include <algorithm>

#include "interpreter/diagnostics.hpp"
#include "interpreter/suggest.hpp"
#include "repl/commands.hpp"
#include "repl/human.hpp"
#include "repl/present.hpp"
#include "repl/report.hpp"

namespace costi::repl {

using interp::CostiError;
using interp::CostNode;
using interp::Diagnostic;
using interp::Kernel;
using interp::Number;

namespace {

std::string header(const Kernel& k) {
    std::string out = "$" + k.name;
    if (k.params.empty()) return out;
    out += "(";
    for (std::size_t i = 0; i < k.params.size(); ++i) {
        const auto& p = k.params[i];
        out += (i == 0 ? "" : ", ") + p.name;
        if (p.default_value) out += " = " + source_text(p.default_value->span);
    }
    return out + ")";
}

// The body of a kernel as written: lets, metric formulas and calls, in order.
std::string body(const interp::Program& prog, const Kernel& k) {
    std::string out;
    for (const auto& step : k.steps) {
        switch (step.kind) {
            case interp::Step::Kind::let:
                out += "  let " + k.local_names[step.index] + " = " + source_text(step.value.span) + "\n";
                break;
            case interp::Step::Kind::assign:
                out += "  " + prog.metrics[step.index].name + " = " + source_text(step.value.span) + "\n";
                break;
            case interp::Step::Kind::require:
                out += "  require " + source_text(step.value.span) + " \"" + k.requirements[step.index] + "\"\n";
                break;
            case interp::Step::Kind::child: {
                const interp::CallSite& c = k.children[step.index];
                std::string line = "  " + c.label + ": ";
                if (c.count) line += "repeat " + source_text(c.count->span) + " ";
                line += source_text(c.span);
                if (!c.with.empty()) {
                    line += " with (";
                    for (std::size_t i = 0; i < c.with.size(); ++i) {
                        line += (i == 0 ? "" : ", ") + prog.runtimes[c.with[i].first].name + " = " +
                                source_text(c.with[i].second.span);
                    }
                    line += ")";
                }
                out += line + "\n";
                break;
            }
        }
    }
    return out;
}

struct Site {
    std::string path;
    Number calls;
    std::vector<Number> total;  // calls × one call's cost
};

// Every call of `k` in the tree, with how often it runs in all (the product of the counts
// above it) and its total cost.
void find_calls(const interp::Program& prog, const CostNode& node, const Kernel& k, const std::string& parent, const Number& multiplier,
                bool is_root, std::vector<Site>& out) {
    std::string path = is_root ? node.label : (parent.empty() ? node.label : parent + "." + node.label);
    Number calls = multiplier * node.count;
    if (node.kernel == &k) {
        Site s{path, calls, {}};
        for (std::size_t m = 0; m < node.cost.size(); ++m) s.total.push_back(total_of(prog.metrics[m], calls, node.cost[m]));
        out.push_back(std::move(s));
    }
    for (const auto& child : node.children) find_calls(prog, child, k, is_root ? "" : path, calls, false, out);
}

std::string sites_table(const interp::Program& prog, const std::vector<Site>& sites) {
    std::vector<std::vector<std::string>> rows;
    std::vector<std::string> head{"call", "calls"};
    for (const auto& m : prog.metrics) head.push_back(m.name);
    rows.push_back(head);
    Number all_calls(0);
    std::vector<Number> all(prog.metrics.size(), Number(0));
    for (const auto& s : sites) {
        std::vector<std::string> row{s.path, report::grouped(s.calls)};
        for (std::size_t m = 0; m < s.total.size(); ++m) {
            row.push_back(report::grouped(s.total[m]));
            all[m] += s.total[m];
        }
        all_calls += s.calls;
        rows.push_back(std::move(row));
    }
    if (sites.size() > 1) {
        std::vector<std::string> row{"all", report::grouped(all_calls)};
        for (const auto& a : all) row.push_back(report::grouped(a));
        rows.push_back(std::move(row));
    }
    std::vector<bool> right(head.size(), true);
    right[0] = false;
    return columns(rows, right, 2);
}

}  // namespace

void explain_command(CommandContext& ctx) {
    Workspace& ws = ctx.ws;
    const Kernel* k = nullptr;
    std::optional<Workspace::CallAnswer> call;
    std::string alias_note;
    if (ctx.args.empty()) {
        if (ws.model() == nullptr) ctx.usage_error(ctx.args, ":explain needs a kernel when no model is loaded");
        k = ws.model()->entry.kernel;
    } else if (ctx.text(ctx.args).find('(') != std::string_view::npos) {
        // Evaluated first, so that a call that fails prints nothing but the error.
        call = ws.evaluate_call(*ws.parse(ctx.input, ctx.args));
        k = call->kernel;
    } else {
        std::string name(ctx.text(ctx.args));
        if (name.size() > 3 && name.rfind("${", 0) == 0 && name.back() == '}') name = name.substr(2, name.size() - 3);
        if (!name.empty() && name[0] == '$') name.erase(0, 1);
        k = ws.program().find_kernel(name);
        if (k == nullptr) {
            std::vector<std::string> names;
            for (const auto& [n, kernel] : ws.program().kernel_by_name) names.push_back(n);
            auto best = interp::closest(name, names);
            throw CostiError(Diagnostic{interp::code::unknown_kernel,
                                        ctx.span(ctx.args),
                                        "unknown kernel '" + name + "'",
                                        best ? "did you mean '" + *best + "'?" : ":kernels lists the kernels known",
                                        {}});
        }
        if (k->name != name) alias_note = name + " is an alias of " + k->name + "\n";
    }
    const interp::Program& prog = ws.program();
    std::ostream& out = ctx.out;
    out << alias_note << header(*k) << "\n";
    if (!k->doc.empty()) out << "  doc     " << k->doc << "\n";
    if (!k->source.empty()) out << "  source  " << k->source << "\n";
    out << "  defined " << interp::location(k->name_span) << "\n";
    out << body(prog, *k);

    if (call) {
        std::vector<Number> total;
        for (std::size_t m = 0; m < call->node.cost.size(); ++m)
            total.push_back(total_of(prog.metrics[m], call->node.count, call->node.cost[m]));
        out << "cost of " << call->text << " with " << runtime_summary(prog, call->runtime) << ":\n";
        out << indent(metric_lines(prog, total), 2);
        return;
    }
    if (ws.model() != nullptr) {
        CostNode root = ws.run();
        std::vector<Site> sites;
        find_calls(prog, root, *k, "", Number(1), true, sites);
        if (!sites.empty()) {
            out << "in model " << ws.model()->name << " with " << runtime_summary(prog, ws.environment().runtime)
                << ":\n";
            out << sites_table(prog, sites);
            return;
        }
    }
    bool needs_arguments =
        std::any_of(k->params.begin(), k->params.end(), [](const auto& p) { return !p.default_value; });
    if (needs_arguments) {
        out << (ws.model() != nullptr ? "not called by model " + ws.model()->name + "; f" : "F")
            << "or its cost, give arguments: :explain $" << k->name << "(" << k->params.front().name << " = …, …)\n";
        return;
    }
    interp::CallSite site;
    site.kernel = k;
    site.label = k->name;
    site.args.resize(k->params.size());
    interp::Evaluator ev(prog, ws.environment(), ws.session().limits());
    CostNode node = ev.call(site, {});
    out << "cost of one call with " << runtime_summary(prog, ev.environment().runtime) << ":\n";
    out << indent(metric_lines(prog, node.cost), 2);
}

}  // namespace costi::repl
