// The `_costi` extension behind the Python package `costi` (python/costi/__init__.py, which
// gives it its public API; docs/python.md).
//
// Owns: turning Python calls into the command line's own steps — loading a model as
// `costi run` does (repl/run_options.hpp: load_program, check_loaded, resolve_model), sweeps
// with the grid, columns and point evaluator of `costi sweep` (repl/sweep_spec.hpp), closed
// forms from the compile stage (Session::compile) and the device and request analyses
// (interpreter/analysis.hpp) — and converting their exact numbers to Python ints and
// fractions.Fraction. Every costi error becomes costi.Error carrying the text the command line
// prints. Holds no cost logic and no formatting of its own beyond that conversion.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "interpreter/analysis.hpp"
#include "interpreter/compile/compiled.hpp"
#include "interpreter/diagnostics.hpp"
#include "interpreter/loader.hpp"
#include "interpreter/session.hpp"
#include "interpreter/suggest.hpp"
#include "repl/cli.hpp"
#include "repl/report.hpp"
#include "repl/report_analysis.hpp"
#include "repl/run_options.hpp"
#include "repl/sweep_spec.hpp"

namespace py = pybind11;

namespace costi::python {

using interp::CostiError;
using interp::Number;
using interp::Value;
using cli::Misuse;
using cli::RunState;

namespace {

// ---- numbers ----

// An exact number as a Python int, or a fractions.Fraction when it is not an integer.
py::object number(const Number& n) {
    if (auto small = n.to_int64()) return py::int_(*small);
    std::string text = n.to_string();
    if (n.is_integer()) return py::reinterpret_steal<py::object>(PyLong_FromString(text.c_str(), nullptr, 10));
    static py::object fraction = py::module_::import("fractions").attr("Fraction");
    return fraction(text);
}

py::object value(const Value& v) {
    if (v.is_number()) return number(v.num);
    if (v.is_string()) return py::str(v.str);
    return py::none();
}

// Per metric name its value (the metrics in declaration order).
py::dict metric_dict(const interp::Program& program, const std::vector<Number>& values) {
    py::dict out;
    for (std::size_t m = 0; m < program.metrics.size() && m < values.size(); ++m)
        out[py::str(program.metrics[m].name)] = number(values[m]);
    return out;
}

// An error rendered where its sources are still loaded: what a failed load throws, since the
// session holding the text its diagnostics quote goes away with the failed model.
struct Rendered {
    std::string text;
    std::string code;
};

// ---- one model, loaded once per device and engine ----

// What a Python call gives: runtime values and config overrides as the command line's texts
// (the package writes ints, Fractions and floats as exact text), the device and the engine.
struct Call {
    std::map<std::string, std::string> runtime;
    std::vector<std::pair<std::string, std::string>> config;  // KEY, VALUE as --set takes them
    std::string hw;
    std::string engine;
};

class Model {
public:
    // `what`: a file, a library model's short or declared name (empty with config_json);
    // `config_json`: a Hugging Face config.json; `name`: which model of the file.
    Model(std::string what, std::string config_json, std::string name)
        : what_(std::move(what)), config_json_(std::move(config_json)), name_(std::move(name)) {
        if (what_.empty() && config_json_.empty())
            throw Misuse{"costi.load needs a model (a file, a short or declared name) or config=\"config.json\"",
                         "costi.models() lists the library's models"};
        RunState& st = state("", "");
        try {
            resolved_ = resolve(st, Call{}).first->name;
        } catch (const CostiError& e) {
            // Rendered now: the sessions its diagnostics quote go with this unfinished model.
            throw Rendered{cli::render_errors(e), e.diagnostics().empty() ? "" : e.diagnostics().front().code};
        }
    }

    const std::string& name() const { return resolved_; }
    std::string file() {
        RunState& st = state("", "");
        return st.config_json.empty() ? st.ref.file : st.config_json;
    }

    // The config the model sees (its `config from` files, then its config block): key -> value.
    py::dict config() {
        RunState& st = state("", "");
        auto [model, overrides] = resolve(st, Call{});
        py::dict out;
        for (const auto& [key, v] : st.session->model_config(*model)) out[py::str(key)] = value(v);
        return out;
    }

    // The loaded program and model for a call, with the call's runtime values and --set
    // entries checked as the command line checks them.
    std::pair<RunState*, std::pair<const interp::Model*, interp::Overrides>> prepare(const Call& call) {
        RunState& st = state(call.hw, call.engine);
        return {&st, resolve(st, call)};
    }

    RunState& state(const std::string& hw, const std::string& engine) {
        auto key = std::make_pair(hw, engine);
        auto it = states_.find(key);
        if (it != states_.end()) return *it->second;
        auto st = std::make_unique<RunState>();
        st->file = what_;
        st->config_json = config_json_;
        st->model = name_;
        st->hw = hw;
        st->engine = engine;
        cli::load_program(*st, what_);
        try {
            cli::check_loaded(*st);
        } catch (const CostiError& e) {
            throw Rendered{cli::render_errors(e), e.diagnostics().empty() ? "" : e.diagnostics().front().code};
        }
        return *states_.emplace(key, std::move(st)).first->second;
    }

private:
    std::pair<const interp::Model*, interp::Overrides> resolve(RunState& st, const Call& call) {
        const interp::Program& program = st.session->program();
        std::vector<std::string> names;
        for (const auto& r : program.runtimes) names.push_back(r.name);
        for (const auto& [name, text] : call.runtime) {
            if (!program.find_runtime(name))
                throw Misuse{"'" + name + "' is not a runtime variable",
                             cli::did_you_mean(name, names, "runtime variables: " + interp::join(names))};
        }
        st.runtime = call.runtime;
        st.sets.clear();
        for (const auto& [key, text] : call.config) st.sets.push_back(key + "=" + text);
        return cli::resolve_model(st);
    }

    std::string what_, config_json_, name_, resolved_;
    std::map<std::pair<std::string, std::string>, std::unique_ptr<RunState>> states_;
};

// ---- a run ----

// What a run keeps alive for its tree: the loaded program (its model) and the tree.
struct RunData {
    RunState* st = nullptr;
    std::shared_ptr<Model> model;  // keeps st alive
    const interp::Model* entry = nullptr;
    interp::Environment env;
    interp::CostNode root;
    std::vector<std::pair<std::string, Value>> runtime;        // every runtime variable
    std::vector<std::pair<std::string, Value>> table_runtime;  // those the model reads or the call set
    std::optional<interp::DeviceAnalysis> device;
    const interp::Program& program() const { return st->session->program(); }
};

// One call of the tree: `multiplier` is how often the whole run makes one call of its parent.
class Node {
public:
    Node(std::shared_ptr<RunData> data, const interp::CostNode* node, Number multiplier)
        : data_(std::move(data)), node_(node), multiplier_(std::move(multiplier)) {}

    std::string label() const { return node_->label; }
    std::string kernel() const { return node_->kernel != nullptr ? node_->kernel->name : ""; }
    py::object repeat() const { return number(node_->count); }
    // One call's cost per metric.
    py::dict cost() const { return metric_dict(data_->program(), node_->cost); }
    // The call's share of the whole run (the table's numbers): one call's cost times its
    // count times the counts of the calls above it (a `combine max` metric: its cost).
    py::dict metrics() const {
        const auto& program = data_->program();
        Number times = multiplier_ * node_->count;
        std::vector<Number> share;
        for (std::size_t m = 0; m < program.metrics.size(); ++m)
            share.push_back(interp::total_of(program.metrics[m], times, node_->cost[m]));
        return metric_dict(program, share);
    }
    std::vector<Node> children() const {
        std::vector<Node> out;
        Number times = multiplier_ * node_->count;
        for (const auto& c : node_->children) out.emplace_back(data_, &c, times);
        return out;
    }

private:
    std::shared_ptr<RunData> data_;
    const interp::CostNode* node_;
    Number multiplier_;
};

py::dict footprint_dict(const interp::Footprint& f) {
    py::dict d;
    d["weights"] = number(f.weights);
    d["kv_cache"] = number(f.kv_cache);
    d["workspace"] = number(f.workspace);
    d["total"] = number(f.total);
    d["capacity"] = number(f.capacity);
    d["usable"] = number(f.usable);
    d["fits"] = f.fits;
    return d;
}

py::object largest(const interp::Largest& l) {
    if (l.unbounded) return py::str("unbounded");
    if (l.value) return number(*l.value);
    return py::none();
}

class Result {
public:
    explicit Result(std::shared_ptr<RunData> data) : data_(std::move(data)) {}

    std::string model() const { return data_->entry->name; }
    py::dict totals() const {
        const auto& program = data_->program();
        std::vector<Number> totals;
        for (std::size_t m = 0; m < program.metrics.size(); ++m)
            totals.push_back(interp::total_of(program.metrics[m], data_->root.count, data_->root.cost[m]));
        return metric_dict(program, totals);
    }
    py::dict runtime() const {
        py::dict out;
        for (const auto& [name, v] : data_->runtime) out[py::str(name)] = value(v);
        return out;
    }
    Node root() const { return Node(data_, &data_->root, Number(1)); }
    std::string hardware() const { return data_->env.hardware != nullptr ? data_->env.hardware->name : ""; }
    std::string engine() const { return data_->env.engine != nullptr ? data_->env.engine->name : "transformers"; }

    // The device analysis: memory held, what fits, the largest batch and context.
    py::object device() const {
        if (!data_->device) return py::none();
        const interp::DeviceAnalysis& d = *data_->device;
        py::dict out;
        out["hardware"] = d.hardware->name;
        out["batch"] = number(d.batch);
        out["context"] = number(d.context);
        if (d.has_memory) {
            out["memory"] = footprint_dict(d.footprint);
            out["max_batch"] = largest(d.max_batch);
            out["max_context"] = largest(d.max_context);
        } else {
            out["memory"] = py::none();
        }
        return out;
    }

    // The breakdown table `costi run` prints (its default depth and columns).
    std::string table(int depth, bool exact) const {
        const auto& program = data_->program();
        report::RunInfo info;
        info.model = data_->entry->name;
        info.runtime = data_->table_runtime;
        report::TableOptions options;
        options.depth = depth;
        options.exact = exact;
        options.hide_zero = true;
        options.show_deeper = "table(depth=-1)";
        options.show_zero = "";
        if (data_->device) {
            info.preamble = report::hardware_line(*data_->env.hardware, data_->env);
            info.appendix = report::device_text(program, *data_->device, data_->env);
        } else if (data_->env.engine != nullptr) {
            info.preamble = report::execution_line(data_->env);
        }
        return report::table(program, info, data_->root, options);
    }

    // The exact JSON of `costi run --format json` (every number a string).
    std::string json() const {
        report::RunInfo info;
        info.model = data_->entry->name;
        info.runtime = data_->runtime;
        return report::json(data_->program(), info, data_->root, -1);
    }

private:
    std::shared_ptr<RunData> data_;
};

Result run(const std::shared_ptr<Model>& model, const Call& call, int depth) {
    auto [st, resolved] = model->prepare(call);
    auto [entry, overrides] = std::move(resolved);
    interp::Session& session = *st->session;
    const interp::Program& program = session.program();
    auto data = std::make_shared<RunData>();
    data->st = st;
    data->model = model;
    data->entry = entry;
    data->env = session.environment(*entry, overrides);
    if (data->env.hardware != nullptr && !interp::AnalysisIds::of(program))
        throw Misuse{"the hardware file does not import stdlib/roofline.cost", "hardware/*.cost show how"};
    data->root = session.run_in(*entry, data->env, depth);
    const std::vector<std::uint32_t>& reads = session.entry_of(*entry, data->env).kernel->reads;
    for (std::uint32_t i = 0; i < program.runtimes.size(); ++i) {
        data->runtime.emplace_back(program.runtimes[i].name, data->env.runtime[i]);
        if (std::find(reads.begin(), reads.end(), i) != reads.end() || call.runtime.count(program.runtimes[i].name) != 0)
            data->table_runtime.emplace_back(program.runtimes[i].name, data->env.runtime[i]);
    }
    if (data->env.hardware != nullptr) data->device = interp::analyse_device(session, *entry, data->env, data->root);
    return Result(std::move(data));
}

// A request: a prefill of `prompt` tokens and `generate` decode steps (`costi run --prompt
// P --generate G`).
py::dict request(const std::shared_ptr<Model>& model, const Call& call, const std::string& prompt_text,
                 const std::string& generate_text) {
    if (call.hw.empty())
        throw Misuse{"a request needs a device to time it on", "give hw=NAME (costi.hardware() lists them)"};
    Number prompt = cli::request_count("prompt", prompt_text, 1);
    Number generate = cli::request_count("generate", generate_text, 0);
    auto [st, resolved] = model->prepare(call);
    auto [entry, overrides] = std::move(resolved);
    interp::Session& session = *st->session;
    const interp::Program& program = session.program();
    interp::Environment env = session.environment(*entry, overrides);
    auto ids = interp::AnalysisIds::of(program);
    if (!ids) throw Misuse{"the hardware file does not import stdlib/roofline.cost", "hardware/*.cost show how"};
    interp::Request r = interp::request(session, *entry, env, *ids, prompt, generate);
    py::dict out;
    out["model"] = entry->name;
    out["hardware"] = env.hardware->name;
    out["prompt"] = number(r.prompt);
    out["generate"] = number(r.generate);
    out["batch"] = number(r.batch);
    out["ttft"] = number(r.ttft);
    out["decode_time"] = number(r.decode_time);
    out["total_time"] = number(r.total_time);
    out["prefill"] = metric_dict(program, r.prefill);
    out["decode"] = metric_dict(program, r.decode);
    out["last_decode"] = metric_dict(program, r.last_decode);
    out["peak_memory"] = r.has_memory ? py::object(footprint_dict(r.peak)) : py::none();
    return out;
}

// ---- sweeps ----

// A sweep as columns: the swept variables under their own names, then the columns; with
// `error_column`, a last column "error" (None, or the error of a point that fails) instead
// of raising at the first failing point.
py::dict sweep(const std::shared_ptr<Model>& model, const Call& call,
               const std::vector<std::pair<std::string, std::string>>& swept, const std::string& columns_text,
               bool interpret, bool error_column, std::uint64_t max_points) {
    auto [st, resolved] = model->prepare(call);
    auto [entry, overrides] = std::move(resolved);
    interp::Session& session = *st->session;
    const interp::Program& program = session.program();
    std::vector<std::string> names;
    for (const auto& r : program.runtimes) names.push_back(r.name);

    std::vector<sweep::Axis> axes;
    for (const auto& [name, text] : swept) {
        auto index = program.find_runtime(name);
        if (!index)
            throw Misuse{"'" + name + "' is not a runtime variable",
                         cli::did_you_mean(name, names, "runtime variables: " + interp::join(names))};
        if (call.runtime.count(name) != 0) throw Misuse{"'" + name + "' is both swept and fixed", ""};
        sweep::Axis axis;
        axis.name = name;
        axis.runtime = *index;
        try {
            axis.segments = sweep::parse_values(text);
        } catch (const sweep::SpecError& e) {
            throw Misuse{"'" + name + "': " + e.message, e.hint};
        }
        axes.push_back(std::move(axis));
    }
    if (axes.empty())
        throw Misuse{"a sweep needs a runtime variable with several values", "e.g. seq_len=range(1, 4097), batch_size=[1, 8, 64]"};
    if (sweep::grid_size(axes, max_points) > max_points)
        throw Misuse{"the sweep has more than " + std::to_string(max_points) + " points",
                     "use coarser steps, or raise the limit with max_points=N"};

    sweep::ColumnNames column_names;
    for (const auto& m : program.metrics) column_names.metrics.push_back(m.name);
    column_names.runtimes = names;
    sweep::Columns columns;
    try {
        if (columns_text.empty()) {
            std::vector<std::uint32_t> all;
            for (std::uint32_t m = 0; m < program.metrics.size(); ++m) all.push_back(m);
            columns = sweep::Columns::metrics(column_names, all);
        } else {
            columns = sweep::Columns::parse(columns_text, column_names);
        }
    } catch (const sweep::SpecError& e) {
        std::string message = e.message;
        if (message.rfind("option '--columns': ", 0) == 0) message = "columns: " + message.substr(20);
        throw Misuse{message, e.hint};
    }

    sweep::PointEvaluator evaluator(session, *entry, overrides, axes, columns.metrics_read(), interpret);
    std::vector<py::list> axis_values(axes.size());
    std::vector<py::list> column_values(columns.headers().size());
    py::list errors;
    sweep::Grid grid(axes);
    std::vector<Number> totals;
    std::vector<Value> runtime;
    std::vector<Value> cells;
    while (grid.next()) {
        if (PyErr_CheckSignals() != 0) throw py::error_already_set();
        for (std::size_t a = 0; a < axes.size(); ++a) axis_values[a].append(number(grid.point()[a]));
        try {
            evaluator.evaluate(grid.point(), totals, runtime);
            columns.evaluate(totals, runtime, cells);
        } catch (const CostiError& e) {
            if (!error_column) throw;
            for (auto& c : column_values) c.append(py::none());
            errors.append(sweep::error_text(e));
            continue;
        }
        for (std::size_t c = 0; c < cells.size(); ++c) column_values[c].append(value(cells[c]));
        if (error_column) errors.append(py::none());
    }
    py::dict out;
    for (std::size_t a = 0; a < axes.size(); ++a) out[py::str(axes[a].name)] = axis_values[a];
    for (std::size_t c = 0; c < column_values.size(); ++c) out[py::str(columns.headers()[c])] = column_values[c];
    if (error_column) out["error"] = errors;
    return out;
}

// ---- closed forms ----

py::list poly(const interp::Poly& p) {
    py::list terms;
    for (const auto& t : p.terms()) {
        py::list factors;
        for (const auto& f : t.mono) factors.append(py::make_tuple(f.var, f.power));
        terms.append(py::make_tuple(number(t.coef), factors));
    }
    return terms;
}

const char* atom_kind(interp::AtomKind k) {
    using K = interp::AtomKind;
    switch (k) {
    case K::floor: return "floor";
    case K::ceil: return "ceil";
    case K::abs: return "abs";
    case K::min: return "min";
    case K::max: return "max";
    case K::mod: return "mod";
    case K::recip: return "recip";
    case K::cmp: return "cmp";
    case K::and_: return "and";
    case K::or_: return "or";
    case K::not_: return "not";
    case K::cond: return "cond";
    }
    return "?";
}

const char* cmp_op(interp::ast::Op op) {
    using O = interp::ast::Op;
    switch (op) {
    case O::eq: return "==";
    case O::ne: return "!=";
    case O::lt: return "<";
    case O::le: return "<=";
    case O::gt: return ">";
    case O::ge: return ">=";
    default: return "";
    }
}

// The compiled form of `costi formula`: variables (the free runtime variables, then the
// atoms), each metric's total as terms (coefficient, [(variable, power)]), the guards' texts.
py::dict formula(const std::shared_ptr<Model>& model, const Call& call, const std::vector<std::string>& free_names) {
    auto [st, resolved] = model->prepare(call);
    auto [entry, overrides] = std::move(resolved);
    interp::Session& session = *st->session;
    const interp::Program& program = session.program();
    std::vector<std::string> names;
    for (const auto& r : program.runtimes) names.push_back(r.name);
    std::vector<std::uint32_t> free;
    for (const auto& name : free_names) {
        auto index = program.find_runtime(name);
        if (!index)
            throw Misuse{"free: '" + name + "' is not a runtime variable",
                         cli::did_you_mean(name, names, "runtime variables: " + interp::join(names))};
        if (std::find(free.begin(), free.end(), *index) == free.end()) free.push_back(*index);
    }
    std::sort(free.begin(), free.end());
    interp::Compiled form = session.compile(*entry, overrides, free, 0);
    py::dict out;
    py::list free_out;
    for (auto r : form.free) free_out.append(program.runtimes[r].name);
    out["free"] = free_out;
    py::list atoms;
    for (const auto& a : form.atoms) {
        py::list args;
        for (const auto& p : a.args) args.append(poly(p));
        atoms.append(py::make_tuple(atom_kind(a.kind), cmp_op(a.op), args));
    }
    out["atoms"] = atoms;
    py::dict totals;
    for (std::uint32_t m = 0; m < program.metrics.size(); ++m) totals[py::str(program.metrics[m].name)] = poly(form.total(m));
    out["totals"] = totals;
    py::list guards;
    for (const auto& g : form.guards) guards.append(interp::render(g.diagnostic));
    out["guards"] = guards;
    return out;
}

// ---- the library ----

py::list library_models() {
    py::list out;
    for (const auto& f : cli::library_models()) {
        py::dict d;
        d["name"] = f.short_name;
        d["path"] = f.path.string();
        d["declares"] = f.names;
        out.append(d);
    }
    return out;
}

py::list library_hardware() {
    py::list out;
    for (const auto& f : cli::library_hardware()) out.append(f.short_name);
    return out;
}

Call make_call(const std::map<std::string, std::string>& runtime,
               const std::vector<std::pair<std::string, std::string>>& config, const std::string& hw,
               const std::string& engine) {
    return Call{runtime, config, hw, engine};
}

}  // namespace
}  // namespace costi::python

PYBIND11_MODULE(_costi, m) {
    using namespace costi::python;
    namespace cli = costi::cli;
    m.doc() = "The costi interpreter (use the package `costi`, not this module)";

    static py::exception<std::runtime_error> error(m, "Error");
    // Every error the command line reports: the text it prints, and the code of the first
    // diagnostic (E0207, …; "usage" for a misuse of the API).
    py::register_exception_translator([](std::exception_ptr p) {
        auto raise = [](const std::string& text, const std::string& code) {
            py::object type = py::reinterpret_borrow<py::object>(error.ptr());
            py::object e = type(py::str(text));
            e.attr("code") = py::str(code);
            PyErr_SetObject(error.ptr(), e.ptr());
        };
        try {
            if (p) std::rethrow_exception(p);
        } catch (const costi::interp::CostiError& e) {
            raise(cli::render_errors(e), e.diagnostics().empty() ? "" : e.diagnostics().front().code);
        } catch (const cli::Misuse& e) {
            raise(cli::render_misuse(e), "usage");
        } catch (const Rendered& e) {
            raise(e.text, e.code);
        } catch (const costi::sweep::SpecError& e) {
            raise(cli::render_misuse(cli::Misuse{e.message, e.hint}), "usage");
        }
    });

    m.def("set_library", [](const std::string& dir) { costi::interp::set_library_dir(dir); });
    m.def("library_dirs", [] {
        std::vector<std::string> out;
        for (const auto& d : costi::interp::library_dirs()) out.push_back(d.string());
        return out;
    });
    m.def("models", &library_models);
    m.def("hardware", &library_hardware);

    py::class_<Call>(m, "Call")
        .def(py::init(&make_call), py::arg("runtime"), py::arg("config"), py::arg("hw"), py::arg("engine"));

    py::class_<Node>(m, "Node")
        .def_property_readonly("label", &Node::label)
        .def_property_readonly("kernel", &Node::kernel)
        .def_property_readonly("name", &Node::kernel)
        .def("__repr__", [](const Node& n) {
            return "<costi.Node " + n.label() + ": " + n.kernel() + " x" + py::str(n.repeat()).cast<std::string>() + ">";
        })
        .def_property_readonly("repeat", &Node::repeat)
        .def_property_readonly("cost", &Node::cost)
        .def_property_readonly("metrics", &Node::metrics)
        .def_property_readonly("children", &Node::children);

    py::class_<Result>(m, "Result")
        .def_property_readonly("model", &Result::model)
        .def_property_readonly("totals", &Result::totals)
        .def_property_readonly("runtime", &Result::runtime)
        .def_property_readonly("root", &Result::root)
        .def_property_readonly("hardware", &Result::hardware)
        .def_property_readonly("engine", &Result::engine)
        .def_property_readonly("device", &Result::device)
        .def("table", &Result::table, py::arg("depth") = costi::report::default_depth, py::arg("exact") = false)
        .def("json", &Result::json);

    py::class_<Model, std::shared_ptr<Model>>(m, "Model")
        .def(py::init<std::string, std::string, std::string>(), py::arg("what"), py::arg("config_json"),
             py::arg("name"))
        .def_property_readonly("name", &Model::name)
        .def_property_readonly("file", &Model::file)
        .def_property_readonly("config", &Model::config)
        .def("run", &run, py::arg("call"), py::arg("depth"))
        .def("request", &request, py::arg("call"), py::arg("prompt"), py::arg("generate"))
        .def("sweep", &sweep, py::arg("call"), py::arg("swept"), py::arg("columns"), py::arg("interpret"),
             py::arg("error_column"), py::arg("max_points"))
        .def("formula", &formula, py::arg("call"), py::arg("free"));
}
