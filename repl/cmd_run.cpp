// `costi run`: evaluate a model and print its breakdown.
#include <CLI/CLI.hpp>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <set>

#include "interpreter/config_json.hpp"
#include "interpreter/domain.hpp"
#include "interpreter/session.hpp"
#include "interpreter/suggest.hpp"
#include "repl/cli.hpp"
#include "repl/model_lookup.hpp"
#include "repl/report.hpp"
#include "repl/report_analysis.hpp"
#include "repl/run_options.hpp"
#include "interpreter/analysis.hpp"

namespace costi::cli {

using interp::CostiError;
using interp::Number;
using interp::Value;

namespace {

const char* description = R"(Evaluates a model exactly and prints its breakdown: every call with its kernel, its
count (how often its parent calls it), and each metric as the call's contribution to the
whole run (one call's cost x its count x the counts of the calls above it) with its share
of the total. The JSON output gives per node "cost" (one call) and "total" (count x cost).)";

const char* footer = R"(
FILE is a .cost file, a library model's short name (gpt2, llama-3-8b) or a model's declared
name (meta-llama/Meta-Llama-3-8B). Each runtime variable the program declares is a flag
(--seq_len 4096 or --seq_len=4096); VALUE is exact: 42, 0.5, 9/16, 1e6. A value outside the
variable's domain, an unknown --set key or metric is a misuse (exit status 2).
The table shows 3 levels of calls below the model (a decoder layer's modules) and leaves
out calls that cost nothing in every shown metric; --depth all and --all show everything.
The JSON keeps every call unless --depth is given.
exit status: 0 success, 1 error in the input, 2 misuse of the command line.
)";

// A library device and the engine its analyses run, loaded together: one check of the whole
// program instead of one for each (every load re-checks everything loaded). When anything
// fails nothing is loaded, and load_hardware and load_engine / load_analysis_engine below
// load them one by one and report as they always have; when it succeeds they find both
// declared.
void preload_hardware_and_engine(RunState& st) {
    if (st.hw.empty() || st.load_error) return;
    if (st.hw.size() > 5 && st.hw.compare(st.hw.size() - 5, 5, ".cost") == 0) return;  // a file: load_hardware's
    const interp::Program& program = st.session->program();
    if (program.find_hardware(st.hw) != nullptr) return;
    std::string engine = st.engine.empty() ? std::string(interp::analysis_engine) : st.engine;
    if (engine == "transformers" || program.find_engine(engine) != nullptr) return;
    try {
        std::vector<std::string> paths{find_hardware(st.hw).string()};
        for (const auto& p : engine_files_for(*st.session, engine, find_engine(engine))) paths.push_back(p.string());
        st.session->load_files(paths);
    } catch (const CostiError&) {
        // Nothing loaded: the one-by-one loads below say what is wrong.
    }
}

// --hw NAME: loads the hardware file (and with it stdlib/roofline.cost) into the session
// before the flags are made, so the roofline's runtime variables are flags too.
void load_hardware(RunState& st) {
    if (st.hw.empty() || st.load_error) return;
    // A device the loaded files declare themselves.
    if (st.session->program().find_hardware(st.hw) != nullptr) {
        st.hw_name = st.hw;
        return;
    }
    std::filesystem::path path;
    try {
        path = find_hardware(st.hw);
    } catch (const CostiError& e) {
        const auto& d = e.diagnostics().front();
        st.hw_misuse = Misuse{"option '--hw': " + d.message, d.hint};
        return;
    }
    try {
        std::size_t before = st.session->program().hardware.size();
        st.session->load_file(path.string());
        const auto& all = st.session->program().hardware;
        for (const auto& h : all) {
            if (h->name == st.hw) st.hw_name = h->name;
        }
        // A file given by path: the hardware it declares (also when it was loaded already).
        if (st.hw_name.empty() && all.size() == before + 1) st.hw_name = all.back()->name;
        if (st.hw_name.empty()) {
            std::vector<std::string> in_file;
            std::error_code ec;
            for (const auto& h : all) {
                if (h->file != nullptr && std::filesystem::equivalent(h->file->name(), path, ec)) in_file.push_back(h->name);
            }
            if (in_file.size() == 1) st.hw_name = in_file.front();
        }
        if (st.hw_name.empty())
            st.hw_misuse = Misuse{"option '--hw': '" + path.string() + "' declares no single hardware to use", ""};
    } catch (const CostiError& e) {
        st.load_error = e;
    }
}

// --engine NAME: loads the library's kernels/NAME/NAME.cost unless the loaded files declare
// the engine themselves (before the flags are made: an engine may declare runtime variables).
void load_engine(RunState& st) {
    if (st.engine.empty() || st.engine == "transformers" || st.load_error || st.hw_misuse) return;
    if (st.session->program().find_engine(st.engine) != nullptr) return;
    std::filesystem::path path;
    try {
        path = find_engine(st.engine);
    } catch (const CostiError& e) {
        const auto& d = e.diagnostics().front();
        // The engines the loaded files declare are candidates too.
        std::vector<std::string> names{"transformers"};
        for (const auto& engine : st.session->program().engines) names.push_back(engine->name);
        auto best = interp::closest(st.engine, names);
        st.hw_misuse = Misuse{"option '--engine': " + d.message, best ? "did you mean '" + *best + "'?" : d.hint};
        return;
    }
    try {
        load_engine_for(*st.session, st.engine, path);
    } catch (const CostiError& e) {
        st.load_error = e;
    }
}

}  // namespace

Number request_count(const std::string& flag, const std::string& text, std::int64_t lowest) {
    auto n = Number::parse(text);
    if (!n || !n->is_integer() || *n < Number(lowest) || *n > Number(std::int64_t{1} << 40))
        throw Misuse{"option '--" + flag + "' takes an integer >= " + std::to_string(lowest) + ", got '" + text + "'",
                     flag == "prompt" ? "the prompt's tokens: at least 1" : "the decode steps: 0 or more"};
    return *n;
}

namespace {

// FILE among the arguments, before parsing: the first argument that is neither an option
// nor the value of one. Options the table does not know are runtime flags (they take a value).
std::string find_file(const CLI::App& app, const std::vector<std::string>& args) {
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (a == "--") return i + 1 < args.size() ? args[i + 1] : "";
        if (a.size() > 1 && a[0] == '-' && !(a[1] >= '0' && a[1] <= '9')) {
            if (a.find('=') != std::string::npos) continue;
            const CLI::Option* o = app.get_option_no_throw(a);
            bool takes_value = o == nullptr || o->get_expected_min() > 0;
            if (takes_value) ++i;
            continue;
        }
        return a;
    }
    return "";
}

// The note on a config.json's absent keys (issue: "use the default, and say so"): the model
// keys the file does not have at all (a key present as null is the file's own choice) whose
// `??` fallback the run used. Not listed: keys that choose how transformers or an engine runs
// rather than what the model is (attention implementation, dtypes, is_causal), private keys
// (a leading underscore) and nested ones (rope_scaling.type, quantization_config.*): a
// complete checkpoint config leaves those out as a rule.
void note_defaults(const std::string& path, const std::vector<std::pair<std::string, Value>>& defaulted,
                   report::RunInfo& info) {
    std::ifstream in(path);
    nlohmann::json file = nlohmann::json::parse(in, nullptr, false);
    if (!file.is_object()) return;
    std::vector<std::string> keys;
    std::vector<std::string> values;
    nlohmann::ordered_json used = nlohmann::ordered_json::object();
    for (const auto& [key, v] : defaulted) {
        bool engine = key == "attn_implementation" || key == "torch_dtype" || key == "dtype" || key == "is_causal";
        if (engine || key.empty() || key.front() == '_' || key.find('.') != std::string::npos || file.contains(key)) continue;
        keys.push_back(key);
        values.push_back(v.is_number() ? v.num.to_string() : v.show());
        used[key] = v.is_number() ? v.num.to_string() : v.str;
    }
    if (keys.empty()) return;
    bool one = keys.size() == 1;
    info.note = "config.json lacks " + interp::join(keys) + "; used " + (one ? "its default (" : "their defaults (") +
                interp::join(values) + ")";
    info.note_json = std::move(used);
}

std::vector<std::uint32_t> parse_metrics(const interp::Program& program, const std::string& text) {
    std::vector<std::string> names;
    for (const auto& m : program.metrics) names.push_back(m.name);
    std::vector<std::uint32_t> chosen;
    for (const std::string& name : split_list(text)) {
        auto m = program.find_metric(name);
        if (!m) {
            throw Misuse{"option '--metrics': unknown metric '" + name + "'",
                         did_you_mean(name, names, "metrics: " + interp::join(names))};
        }
        if (std::find(chosen.begin(), chosen.end(), *m) == chosen.end()) chosen.push_back(*m);
    }
    if (chosen.empty()) throw Misuse{"option '--metrics' takes a list such as flops,read", "metrics: " + interp::join(names)};
    return chosen;
}

void load(RunState& st, const std::string& file) {
    st.loaded_file = file;
    st.session = std::make_unique<interp::Session>();
    // run, formula and sweep evaluate one model: only the library kernels it reaches are
    // read and checked (interpreter/needed.hpp, docs/performance.md "Start-up").
    st.session->set_lazy_library(true);
    try {
        if (!file.empty()) {
            st.ref = find_model(file);
            st.session->load_file(st.ref.file);
            return;
        }
        if (!st.config_json.empty()) {
            // Only the library file that models architectures[0].
            st.session->load_library_for(st.config_json);
            return;
        }
    } catch (const CostiError& e) {
        st.load_error = e;
    }
    // No program to run: the runtime variables of the prelude still make the flags.
    auto prelude = std::make_unique<interp::Session>();
    prelude->load_file("stdlib/prelude.cost");
    if (st.load_error) st.failed = std::move(st.session);
    st.session = std::move(prelude);
}

}  // namespace

void load_program(RunState& st, const std::string& file) {
    load(st, file);
    preload_hardware_and_engine(st);
    load_hardware(st);
    load_engine(st);
    // With a device and no engine named, the analyses run interp::analysis_engine.
    if (st.engine.empty() && !st.hw.empty() && !st.load_error && !st.hw_misuse) load_analysis_engine(*st.session);
}

void check_loaded(const RunState& st) {
    if (st.load_error) throw *st.load_error;
    if (!st.file.empty() && !st.config_json.empty())
        throw Misuse{"give either a FILE or --config, not both",
                     "a model file can take its config with `config from \"x.json\"`"};
    if (st.hw_misuse) throw *st.hw_misuse;
}

namespace {

int run(RunState& st, CLI::App& app) {
    check_model_args(st, app, "run");
    bool is_request = !st.prompt.empty() || !st.generate.empty();
    if (is_request && st.hw.empty())
        throw Misuse{"--prompt and --generate need a device to time the request on", "add --hw NAME (costi list hardware)"};
    if (!st.generate.empty() && st.prompt.empty()) throw Misuse{"--generate needs --prompt", "e.g. --prompt 4096 --generate 512"};
    Number prompt = st.prompt.empty() ? Number(0) : request_count("prompt", st.prompt, 1);
    Number generate = st.generate.empty() ? Number(0) : request_count("generate", st.generate, 0);
    interp::Session& session = *st.session;
    const interp::Program& program = session.program();

    int depth = st.depth.empty() ? -2 : parse_depth(st.depth);
    if (st.format != "table" && st.format != "json")
        throw Misuse{"option '--format' takes table or json, got '" + st.format + "'",
                     did_you_mean(st.format, {"table", "json"})};
    std::vector<std::uint32_t> metrics = st.metrics.empty() ? std::vector<std::uint32_t>{} : parse_metrics(program, st.metrics);

    auto [model_ptr, overrides] = resolve_model(st);
    const interp::Model& model = *model_ptr;
    interp::Environment env = session.environment(model, overrides);
    std::optional<interp::AnalysisIds> ids;
    if (env.hardware != nullptr) {
        ids = interp::AnalysisIds::of(program);
        if (!ids) throw Misuse{"the hardware file does not import stdlib/roofline.cost", "hardware/*.cost show how"};
    }
    if (is_request) {
        interp::Request r = interp::request(session, model, env, *ids, prompt, generate);
        std::cout << (st.format == "json" ? report::request_json(program, *env.hardware, r, env, model.name)
                                          : report::request_text(program, *env.hardware, r, env, model.name));
        if (auto layout = interp::layout_of(program, env); layout && st.format != "json")
            std::cout << "\n" << report::request_layout_line(*layout);
        return 0;
    }
    // The tree is kept one level below what is shown (the note counts the calls there);
    // deeper calls count in every total without being kept.
    int shown = st.format == "json" ? (depth == -2 ? -1 : depth) : (depth == -2 ? report::default_depth : depth);
    std::vector<std::pair<std::string, Value>> defaulted;
    interp::CostNode root = session.run_in(model, env, shown < 0 ? -1 : shown + 1, &defaulted);
    report::RunInfo info;
    info.model = model.name;
    if (!st.config_json.empty()) note_defaults(st.config_json, defaulted, info);
    // The JSON lists every runtime value; the table's header those the model's formulas read
    // (its entry kernel's subtree) and those the command line set.
    const std::vector<std::uint32_t> reads = session.entry_of(model, env).kernel->reads;
    for (std::uint32_t i = 0; i < program.runtimes.size(); ++i) {
        bool shown = st.format == "json" || std::find(reads.begin(), reads.end(), i) != reads.end() ||
                     st.runtime.count(program.runtimes[i].name) != 0;
        if (shown) info.runtime.emplace_back(program.runtimes[i].name, env.runtime[i]);
    }
    std::optional<interp::Layout> layout = interp::layout_of(program, env);
    std::optional<report::DeviceRun> device;
    if (env.hardware != nullptr) {
        device = interp::analyse_device(session, model, env, root);
        if (metrics.empty() && st.format != "json") {
            for (const char* name : {"flops", "read", "write", "time"}) metrics.push_back(*program.find_metric(name));
        }
        info.preamble = report::hardware_line(*env.hardware, env);
        info.appendix = report::device_text(program, *device, env);
    } else if (env.engine != nullptr) {
        info.preamble = report::execution_line(env);
    }
    // The table's default columns: every metric, less the communication one when the run has
    // none (a one-device run); --metrics shows any column.
    if (metrics.empty() && st.format != "json") {
        for (std::uint32_t m = 0; m < program.metrics.size(); ++m) {
            bool idle = program.metrics[m].name == "comm" && interp::total_of(program.metrics[m], root.count, root.cost[m]).is_zero();
            if (!idle) metrics.push_back(m);
        }
    }
    std::vector<std::vector<Number>> stages = layout ? interp::stage_totals(session, model, env) : std::vector<std::vector<Number>>{};
    if (layout) info.appendix = report::layout_text(program, *layout, root, stages) + info.appendix;
    if (st.format == "json") {
        report::JsonOptions options{depth == -2 ? -1 : depth, metrics, {}};
        options.intensity = device.has_value();
        options.extend = [&](nlohmann::ordered_json& out) {
            if (env.engine != nullptr) out["engine"] = env.engine->name;
            if (device) report::device_json(program, *device, env, out);
            if (layout) report::layout_json(program, *layout, root, out, stages);
        };
        std::cout << report::json(program, info, root, options);
    } else {
        report::TableOptions options;
        if (device) options.bound = report::TableOptions::Bound{ids->time, ids->compute_bound, *program.find_metric("flops"), *program.find_metric("read"), *program.find_metric("write")};
        options.depth = depth == -2 ? report::default_depth : depth;
        options.exact = st.exact;
        options.hide_zero = !st.all;
        options.metrics = metrics;
        std::cout << report::table(program, info, root, options);
    }
    return 0;
}

}  // namespace

// --depth N|all: -1 for all.
int parse_depth(const std::string& text) {
    if (text == "all") return -1;
    auto n = Number::parse(text);
    auto v = n ? n->to_int64() : std::nullopt;
    // Deeper than any tree a program can build (call depth is limited to 1000).
    if (!v || *v < 0 || *v > 1000000)
        throw Misuse{"option '--depth' takes a non-negative integer or 'all', got '" + text + "'", ""};
    return static_cast<int>(*v);
}

void prepare(const std::shared_ptr<RunState>& st, CLI::App& app, const std::vector<std::string>& args) {
    app.add_option("--set", st->sets, "override a config value (number, true/false, or text); repeatable")
        ->type_name("config.KEY=VALUE")
        ->allow_extra_args(false)
        ->take_all();  // every --set counts, one value each
    // Options repeated: the last one counts, as with most command lines.
    for (CLI::Option* o : app.get_options()) {
        if (o->get_name() != "--set") o->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
    }
    // Peek at the file the arguments name to generate a flag per runtime variable.
    std::string config_json;
    for (std::size_t i = 0; i + 1 < args.size(); ++i) {
        if (args[i] == "--config") config_json = args[i + 1];
        if (args[i].rfind("--config=", 0) == 0) config_json = args[i].substr(9);
    }
    st->config_json = config_json;
    for (std::size_t i = 0; i < args.size(); ++i) {
        if (args[i] == "--hw" && i + 1 < args.size()) st->hw = args[i + 1];
        if (args[i].rfind("--hw=", 0) == 0) st->hw = args[i].substr(5);
        if (args[i] == "--engine" && i + 1 < args.size()) st->engine = args[i + 1];
        if (args[i].rfind("--engine=", 0) == 0) st->engine = args[i].substr(9);
    }
    load_program(*st, find_file(app, args));
    st->config_json.clear();
    // A flag for each runtime variable the arguments name (CLI11 checks every new option
    // against all the others: the thirty-odd flags were a tenth of a short run); every flag
    // for --help, and when some `--NAME` is no option at all, so that its "did you mean"
    // searches them all.
    const auto& runtimes = st->session->program().runtimes;
    std::set<std::string> named;
    bool every_flag = false;
    for (const auto& a : args) {
        if (a == "-h" || a == "--help") every_flag = true;
        if (a.size() <= 2 || a.rfind("--", 0) != 0) continue;
        std::string name = a.substr(2, a.find('=') - 2);
        if (app.get_option_no_throw("--" + name) != nullptr) continue;
        named.insert(name);
        every_flag = every_flag || std::none_of(runtimes.begin(), runtimes.end(),
                                                [&](const interp::Runtime& r) { return r.name == name; });
    }
    for (const auto& r : runtimes) {
        std::string flag = "--" + r.name;
        if (!every_flag && named.count(r.name) == 0) continue;
        if (app.get_option_no_throw(flag) != nullptr) continue;  // a fixed option takes precedence
        std::string help = r.doc.empty() ? "" : r.doc + "; ";
        help += r.domain.describe();
        CLI::Option* o = app.add_option_function<std::string>(
                               flag, [st, name = r.name](const std::string& v) { st->runtime[name] = v; },
                               help)
                             ->type_name("VALUE")
                             ->group("Runtime variables")
                             ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
        st->runtime_options[r.name] = o;
    }
}

void check_model_args(RunState& st, CLI::App& app, const std::string& command) {
    reject_leftovers(app);
    if (st.load_error) throw *st.load_error;
    if (st.file.empty() && st.config_json.empty())
        throw Misuse{"costi " + command + " needs a FILE or --config config.json",
                     "costi list models shows the library's models"};
    check_loaded(st);
    if (st.file != st.loaded_file)
        throw Misuse{"cannot tell which argument is FILE", "put FILE first: costi " + command + " FILE [options]"};
}

std::pair<const interp::Model*, interp::Overrides> resolve_model(RunState& st) {
    interp::Session& session = *st.session;
    const interp::Program& program = session.program();
    interp::Overrides overrides;
    for (const auto& [name, text] : st.runtime) {
        auto index = program.find_runtime(name);
        auto n = Number::parse(text);
        if (!n) throw Misuse{"option '--" + name + "' takes a number (42, 0.5, 9/16, 1e6), got '" + text + "'", ""};
        Value v = Value::of(*n);
        if (auto problem = interp::domain_problem(program, *index, v)) {
            const std::string& doc = program.runtimes[*index].doc;
            throw Misuse{"option '--" + name + "': " + *problem, doc.empty() ? "" : name + ": " + doc};
        }
        overrides.runtime.emplace_back(name, v);
    }
    for (const auto& kv : st.sets) {
        auto eq = kv.find('=');
        std::string key = eq == std::string::npos ? "" : kv.substr(0, eq);
        if (key.rfind("config.", 0) == 0) key = key.substr(7);
        if (key.empty()) throw Misuse{"option '--set' takes config.KEY=VALUE, got '" + kv + "'", ""};
        overrides.config.emplace_back(key, interp::config_override_value(kv.substr(eq + 1)));
    }

    std::string model_name = st.model;
    if (!st.ref.model.empty()) {
        if (!model_name.empty() && model_name != st.ref.model)
            throw Misuse{"'" + st.file + "' names model '" + st.ref.model + "', --model names '" + model_name + "'", ""};
        model_name = st.ref.model;
    }
    const interp::Model& model =
        st.config_json.empty() ? session.pick_model(model_name) : session.model_from_config_json(st.config_json);
    for (const auto& [key, value] : overrides.config) {
        try {
            session.check_config_key(&model, key);
        } catch (const CostiError& e) {
            const auto& d = e.diagnostics().front();
            throw Misuse{"option '--set': " + d.message, d.hint};
        }
    }
    overrides.hardware = st.hw_name;
    overrides.engine = st.engine;
    return {&model, std::move(overrides)};
}

Command run_command() {
    return {"run", "evaluate a model and print its breakdown (table or JSON)",
            [](CLI::App& app, const std::vector<std::string>& args) -> std::function<int()> {
                auto st = std::make_shared<RunState>();
                app.description(description);
                app.footer(footer);
                app.add_option("FILE", st->file, "a .cost file, a library model's short or declared name")
                    ->type_name("");
                app.add_option("--config", st->config_json,
                               "take the model from a Hugging Face config.json (kernel from architectures[0])")
                    ->type_name("FILE.json");
                app.add_option("--model", st->model, "which model of FILE to run (when it declares several)")
                    ->type_name("NAME");
                app.add_option("--depth", st->depth,
                               "levels of calls shown below the model (table default: " +
                                   std::to_string(report::default_depth) + "; JSON: all)")
                    ->type_name("N|all");
                app.add_flag("--all", st->all, "also show calls that cost nothing in every shown metric");
                app.add_option("--metrics", st->metrics, "the metrics shown, in order (default: all)")
                    ->type_name("M1,M2,...");
                app.add_option("--format", st->format, "output format: table or json (default: table)")
                    ->type_name("table|json");
                app.add_flag("--exact", st->exact, "exact integers in the table instead of 14.08 T");
                app.add_option("--hw", st->hw,
                               "time, memory and what fits on this device (costi list hardware; or a .cost file)")
                    ->type_name("NAME");
                app.add_option("--engine", st->engine,
                               "the execution: transformers (the library's kernels as written; the default without "
                               "--hw) or an engine such as vllm (the default with --hw)")
                    ->type_name("NAME");
                app.add_option("--prompt", st->prompt, "a whole request: prompt tokens (needs --hw)")->type_name("P");
                app.add_option("--generate", st->generate, "a whole request: decode steps after the prompt")
                    ->type_name("G");
                prepare(st, app, args);
                return [st, &app]() { return run(*st, app); };
            }};
}

}  // namespace costi::cli
