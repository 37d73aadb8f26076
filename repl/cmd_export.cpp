// `costi export --format lmp`: a model's evaluated tree in the predecessor's nested format.
#include <CLI/CLI.hpp>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "interpreter/session.hpp"
#include "repl/cli.hpp"
#include "repl/human.hpp"
#include "repl/model_lookup.hpp"

namespace costi::cli {

namespace {

using nlohmann::ordered_json;
using interp::Number;

// The metrics the format has, by their costi names, and their indexes in the program.
struct Slots {
    int flops = -1, read = -1, write = -1;
};

// A node's own cost in metric `m`: its cost less its children's totals.
Number own(const interp::CostNode& n, int m) {
    if (m < 0) return Number(0);
    Number v = n.cost[static_cast<std::size_t>(m)];
    for (const auto& c : n.children) v = v - c.count * c.cost[static_cast<std::size_t>(m)];
    return v;
}

ordered_json basic(const std::string& operation, const std::string& analysis, const interp::CostNode& n, const Slots& s) {
    ordered_json e = ordered_json::object();
    e["kernel_type"] = "basic";
    e["operation"] = operation;
    e["analysis"] = analysis;
    e["flops"] = own(n, s.flops).to_string();
    ordered_json m = ordered_json::object();
    m["read"] = own(n, s.read).to_string();
    m["write"] = own(n, s.write).to_string();
    e["memory_access"] = std::move(m);
    return e;
}

bool any_own(const interp::CostNode& n, const Slots& s) {
    return !own(n, s.flops).is_zero() || !own(n, s.read).is_zero() || !own(n, s.write).is_zero();
}

// The entries of a node's children. The tree is as deep as the model's calls (at most the
// checker's call-depth limit, 256), so this recursion is bounded by the program.
ordered_json entries(const interp::CostNode& node, const Slots& s) {
    ordered_json out = ordered_json::array();
    if (!node.children.empty() && any_own(node, s))
        out.push_back(basic("own cost of $" + node.kernel->name, "what $" + node.kernel->name + " assigns itself", node, s));
    for (const auto& c : node.children) {
        if (c.count.is_zero()) continue;
        std::string operation = c.label + ": $" + c.kernel->name;
        std::string analysis = "costi's $" + c.kernel->name + ", exported by `costi export --format lmp`";
        ordered_json e;
        if (c.children.empty()) {
            e = basic(operation, analysis, c, s);
        } else {
            e = ordered_json::object();
            e["kernel_type"] = "composite";
            e["operation"] = operation;
            e["analysis"] = analysis;
            e["sub_kernels"] = entries(c, s);
        }
        if (!(c.count == Number(1))) {
            auto n = c.count.to_int64();
            if (n) e["repeat"] = *n;
            else e["repeat"] = c.count.to_string();
        }
        out.push_back(std::move(e));
    }
    return out;
}

}  // namespace

Command export_command() {
    return {"export", "write a model's evaluated tree in another tool's format (--format lmp)",
            [](CLI::App& app, const std::vector<std::string>&) -> std::function<int()> {
                struct State {
                    std::string what, model, format, out;
                    std::vector<std::string> runtime;
                };
                auto st = std::make_shared<State>();
                auto session = std::make_shared<interp::Session>();
                app.description(
                    "Evaluates MODEL (a .cost file or a library model) and writes its tree of calls in the\n"
                    "predecessor's nested format: {\"class_name\", \"kernels\": [{\"kernel_type\", \"operation\",\n"
                    "\"analysis\", \"repeat\", \"sub_kernels\" | \"flops\", \"memory_access\"}]}, each value exact\n"
                    "(an integer, or p/q). `costi import` reads it back (docs/import.md).");
                app.add_option("MODEL", st->what, "a .cost file, a library model's short or declared name")->type_name("");
                app.add_option("--format", st->format, "the format to write: lmp")->type_name("FORMAT");
                app.add_option("--model", st->model, "which model of the file (when it declares several)")->type_name("NAME");
                app.add_option("-o,--output", st->out, "the file to write (default: stdout)")->type_name("FILE");
                app.add_option("--runtime", st->runtime, "a runtime value, NAME=VALUE (repeatable): --runtime seq_len=128")
                    ->type_name("NAME=VALUE");
                return [st, session, &app]() {
                    reject_leftovers(app);
                    if (st->what.empty()) throw Misuse{"costi export needs a MODEL", ""};
                    if (st->format != "lmp")
                        throw Misuse{st->format.empty() ? "costi export needs --format lmp"
                                                        : "option '--format' takes lmp, got '" + st->format + "'",
                                     did_you_mean(st->format, {"lmp"})};
                    ModelRef ref = find_model(st->what);
                    session->load_file(ref.file);
                    const interp::Model& model = session->pick_model(st->model.empty() ? ref.model : st->model);
                    interp::Overrides overrides;
                    for (const auto& r : st->runtime) {
                        auto eq = r.find('=');
                        auto v = eq == std::string::npos ? std::nullopt : Number::parse(r.substr(eq + 1));
                        if (!v) throw Misuse{"--runtime takes NAME=VALUE with a number, got '" + r + "'", ""};
                        overrides.runtime.emplace_back(r.substr(0, eq), interp::Value::of(*v));
                    }
                    overrides.engine = "transformers";
                    interp::CostNode root = session->run(model, overrides);
                    const auto& metrics = session->program().metrics;
                    Slots s;
                    for (std::size_t i = 0; i < metrics.size(); ++i) {
                        if (metrics[i].name == "flops") s.flops = static_cast<int>(i);
                        if (metrics[i].name == "read") s.read = static_cast<int>(i);
                        if (metrics[i].name == "write") s.write = static_cast<int>(i);
                    }
                    ordered_json doc = ordered_json::object();
                    doc["class_name"] = root.kernel->name;
                    doc["kernels"] = entries(root, s);
                    if (doc["kernels"].empty() || (root.children.empty() && any_own(root, s))) {
                        if (root.children.empty()) doc["kernels"].push_back(basic("$" + root.kernel->name, "", root, s));
                    }
                    std::string text = doc.dump(2, ' ', false, ordered_json::error_handler_t::replace) + "\n";
                    if (st->out.empty()) {
                        std::cout << text;
                    } else {
                        std::ofstream o(st->out, std::ios::binary);
                        o << text;
                        o.close();
                        if (!o) throw Misuse{"cannot write '" + st->out + "'", ""};
                    }
                    return 0;
                };
            }};
}

}  // namespace costi::cli
