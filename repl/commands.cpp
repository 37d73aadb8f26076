// The command table and the dispatch of every REPL input.
#include "repl/commands.hpp"

#include <algorithm>
#include <cctype>

#include "interpreter/diagnostics.hpp"
#include "interpreter/loader.hpp"
#include "interpreter/suggest.hpp"
#include "repl/human.hpp"
#include "repl/model_lookup.hpp"
#include "repl/present.hpp"
#include "repl/report.hpp"
#include "repl/report_analysis.hpp"
#include "interpreter/analysis.hpp"

namespace costi::repl {

using interp::CostiError;
using interp::Diagnostic;
using interp::Span;
namespace code = interp::code;

interp::Span CommandContext::span(Range r) const {
    return {&input, static_cast<std::uint32_t>(r.begin), static_cast<std::uint32_t>(r.end)};
}

void CommandContext::usage_error(Range r, const std::string& message) const {
    const Command* c = find_command(command_name);
    std::string hint =
        c == nullptr ? "" : "usage: :" + std::string(c->name) + (c->usage.empty() ? "" : " " + std::string(c->usage));
    throw CostiError(
        Diagnostic{repl_code::bad_arguments, span(r.empty() ? Range{r.begin, r.begin + 1} : r), message, hint, {}});
}

namespace {

const char* intro = R"(costi repl: what-if questions about a model, one line each, exact answers.

  NAME = EXPR          bind a runtime variable: seq_len = 32768, w_bytes = 1, …
  config.KEY = EXPR    override a config value: config.num_hidden_layers = 48
  let NAME = EXPR      name a formula; it follows every later binding
  EXPR                 evaluate exactly; flops, read, … are the model's totals
  $KERNEL(k = v, …)    one call of a kernel: its metrics
  kernel NAME { … }    define a kernel (also alias, metric, runtime, model, import)

)";

const char* outro = R"(
Input continues on the next line while a ( or { is open; Ctrl-C clears it.
Ctrl-C during an evaluation stops it (E0208); the session stays as it was.
Tab completes commands, names, config.KEYs and kernel names after $.
)";

std::string join(const std::vector<std::string>& xs, const char* sep = ", ") {
    std::string out;
    for (const auto& x : xs) out += (out.empty() ? "" : sep) + x;
    return out;
}

// "Did you mean" for a command: the closest name, else the one command that the typed
// text begins (":expl") or that has the same letters (":hlep").
std::optional<std::string> suggest_command(const std::string& typed) {
    std::vector<std::string> names;
    for (const auto& c : command_table()) names.emplace_back(c.name);
    if (auto best = interp::closest(typed, names)) return best;
    std::string letters = typed;
    std::sort(letters.begin(), letters.end());
    std::optional<std::string> found;
    for (const auto& n : names) {
        std::string sorted = n;
        std::sort(sorted.begin(), sorted.end());
        if ((!typed.empty() && n.rfind(typed, 0) == 0) || sorted == letters) {
            if (found) return std::nullopt;
            found = n;
        }
    }
    return found;
}

std::string command_list() {
    std::vector<std::string> names;
    for (const auto& c : command_table()) names.push_back(":" + std::string(c.name));
    return join(names);
}

// Errors without a place (a file that cannot be read, an unknown model) point at the
// argument that named it.
void point_at(CostiError& e, const Span& span) {
    for (auto& d : e.diagnostics()) {
        if (d.span.file == nullptr) d.span = span;
    }
}

std::string origin_name(Origin o) {
    switch (o) {
        case Origin::declared:
            return "default";
        case Origin::model:
            return "model";
        case Origin::file:
            return "file";
        case Origin::session:
            return "session";
    }
    return "";
}

// Reads a depth argument (a non-negative integer); `also` names what else the command takes.
int depth_argument(const CommandContext& ctx, Range word, const std::string& also = "") {
    auto n = interp::Number::parse(ctx.text(word));
    auto v = n ? n->to_int64() : std::nullopt;
    // Deeper than any model nests; the bound only keeps the int conversion safe.
    if (!v || *v < 0 || *v > 1000000) {
        ctx.usage_error(word, "expected a depth (0, 1, 2, …)" + also + ", got '" + std::string(ctx.text(word)) + "'");
    }
    return static_cast<int>(*v);
}

std::vector<Range> words(const CommandContext& ctx) {
    std::vector<Range> out;
    Range rest = ctx.args;
    while (!rest.empty()) {
        auto [word, after] = first_word(ctx.input.text(), rest);
        if (word.empty()) break;
        out.push_back(word);
        rest = after;
    }
    return out;
}

report::RunInfo run_info(const Workspace& ws, bool every_runtime = false) {
    report::RunInfo info;
    info.model = ws.model()->name;
    interp::Environment env = ws.environment();
    // As `costi run`: the values the model's formulas read, and those bound in the session.
    const std::vector<std::uint32_t> reads = ws.session().entry_of(*ws.model(), env).kernel->reads;
    for (std::uint32_t i = 0; i < ws.program().runtimes.size(); ++i) {
        const std::string& name = ws.program().runtimes[i].name;
        bool bound = false;
        for (const auto& [n, v] : ws.overrides().runtime) bound = bound || n == name;
        if (every_runtime || bound || std::find(reads.begin(), reads.end(), i) != reads.end())
            info.runtime.emplace_back(name, env.runtime[i]);
    }
    return info;
}

// ---- the commands

void help_command(CommandContext& ctx) {
    if (!ctx.args.empty()) {
        std::string name(ctx.text(ctx.args));
        if (!name.empty() && name[0] == ':') name.erase(0, 1);
        const Command* c = find_command(name);
        if (c == nullptr) {
            auto best = suggest_command(name);
            throw CostiError(Diagnostic{repl_code::unknown_command,
                                        ctx.span(ctx.args),
                                        "no command ':" + name + "'",
                                        best ? "did you mean ':" + *best + "'?" : "commands: " + command_list(),
                                        {}});
        }
        ctx.out << ":" << c->name << (c->usage.empty() ? "" : " ") << c->usage << "\n  " << c->summary << "\n";
        if (!c->details.empty()) ctx.out << c->details;
        if (!c->alias.empty()) ctx.out << "  (also :" << c->alias << ")\n";
        return;
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& c : command_table()) {
        rows.push_back(
            {":" + std::string(c.name) + (c.usage.empty() ? "" : " " + std::string(c.usage)), std::string(c.summary)});
    }
    ctx.out << intro << columns(rows, {}, 2) << outro;
}

void quit_command(CommandContext& ctx) {
    if (!ctx.args.empty()) ctx.usage_error(ctx.args, ":quit takes no arguments");
    ctx.quit = true;
}

void load_command(CommandContext& ctx) {
    if (ctx.args.empty()) ctx.usage_error(ctx.args, ":load needs a file");
    std::string path(ctx.text(ctx.args));
    if (path.size() >= 2 && path.front() == '"' && path.back() == '"') path = path.substr(1, path.size() - 2);
    const interp::Model* before = ctx.ws.model();
    std::string before_name = before != nullptr ? before->name : "";
    std::vector<std::string> added;
    cli::ModelRef ref;
    try {
        // Found as `costi run` and `costi repl NAME` find models: a file, a library model's
        // short name, or a model's declared name (which then becomes current).
        ref = cli::find_model(path);
        added = ctx.ws.load_file(ref.file);
    } catch (CostiError& e) {
        point_at(e, ctx.span(ctx.args));
        throw;
    }
    // The file is loaded whatever follows: a model that cannot be made current under the
    // session's bindings (tp = 4 that its execution does not model) is said so, not an error
    // that would leave the load behind a failed input.
    std::string not_current;
    if (!ref.model.empty()) {
        try {
            ctx.ws.select_model(ref.model);
        } catch (const CostiError& e) {
            const auto& d = e.diagnostics().front();
            not_current = d.message + " [" + d.code + "]";
        }
    }
    ctx.out << "loaded " << path << "\n";
    if (!not_current.empty())
        ctx.out << "model " << ref.model << " is not current: " << not_current << "\n";
    const interp::Model* now = ctx.ws.model();
    if (now != nullptr && now->name != before_name) ctx.out << "model " << now->name << "\n";
    std::erase_if(added, [&](const std::string& n) { return now != nullptr && n == now->name; });
    if (!added.empty()) ctx.out << "models added: " << join(added) << " (switch with :model NAME)\n";
}

void model_command(CommandContext& ctx) {
    if (!ctx.args.empty()) {
        try {
            ctx.ws.select_model(std::string(ctx.text(ctx.args)));
        } catch (CostiError& e) {
            point_at(e, ctx.span(ctx.args));
            throw;
        }
        ctx.out << "model " << ctx.ws.model()->name << "\n";
        return;
    }
    const interp::Model* m = ctx.ws.model();
    if (m == nullptr) {
        ctx.out << "no model\n";
    } else {
        ctx.out << "model " << m->name;
        if (!ctx.ws.config_json().empty()) {
            ctx.out << " (from " << ctx.ws.config_json() << ")";
        } else if (m->name_span.file != nullptr) {
            ctx.out << " (" << interp::location(m->name_span) << ")";
        }
        ctx.out << "\n  entry $" << m->entry.kernel->name << "\n";
    }
    std::vector<std::string> names;
    for (const auto& other : ctx.ws.program().models) {
        if (m == nullptr || other->name != m->name) names.push_back(other->name);
    }
    if (!names.empty()) ctx.out << (m == nullptr ? "models known: " : "other models: ") << join(names) << "\n";
}

// With a hardware selected (:hw), the table's time and bound columns and the time and
// memory sections, as `costi run --hw` prints them.
void add_device(const Workspace& ws, const interp::CostNode& root, report::RunInfo& info, report::TableOptions& options) {
    interp::Environment env = ws.environment();
    std::optional<interp::Layout> layout = interp::layout_of(ws.program(), env);
    std::vector<std::vector<interp::Number>> stages =
        layout ? interp::stage_totals(ws.session(), *ws.model(), env) : std::vector<std::vector<interp::Number>>{};
    if (env.hardware == nullptr) {
        if (env.engine != nullptr) info.preamble = report::execution_line(env);
        if (layout) info.appendix = report::layout_text(ws.program(), *layout, root, stages);
        return;
    }
    report::DeviceRun d = interp::analyse_device(ws.session(), *ws.model(), env, root);
    if (options.metrics.empty()) {
        for (const char* name : {"flops", "read", "write", "time"}) options.metrics.push_back(*ws.program().find_metric(name));
    }
    options.bound = report::TableOptions::Bound{d.ids.time, d.ids.compute_bound, *ws.program().find_metric("flops"), *ws.program().find_metric("read"), *ws.program().find_metric("write")};
    info.preamble = report::hardware_line(*env.hardware, env);
    info.appendix = (layout ? report::layout_text(ws.program(), *layout, root, stages) : std::string()) +
                    report::device_text(ws.program(), d, env);
}

void show_command(CommandContext& ctx) {
    report::TableOptions options;
    options.show_deeper = ":show";  // with no depth, :show shows every level
    for (Range w : words(ctx)) {
        if (ctx.text(w) == "exact") {
            options.exact = true;
        } else if (options.depth >= 0) {
            ctx.usage_error(w, ":show takes one depth");
        } else {
            options.depth = depth_argument(ctx, w, " or 'exact'");
        }
    }
    if (ctx.ws.model() == nullptr) ctx.ws.no_model(ctx.span(ctx.name), ":show runs the model");
    interp::CostNode root = ctx.ws.run();
    report::RunInfo info = run_info(ctx.ws);
    add_device(ctx.ws, root, info, options);
    ctx.out << report::table(ctx.ws.program(), info, root, options);
}

void json_command(CommandContext& ctx) {
    int depth = -1;
    for (Range w : words(ctx)) {
        if (depth >= 0) ctx.usage_error(w, ":json takes one depth");
        depth = depth_argument(ctx, w);
    }
    if (ctx.ws.model() == nullptr) ctx.ws.no_model(ctx.span(ctx.name), ":json runs the model");
    interp::CostNode root = ctx.ws.run();
    report::JsonOptions options{depth, {}, {}};
    interp::Environment env = ctx.ws.environment();
    std::optional<report::DeviceRun> device;
    if (env.hardware != nullptr) device = interp::analyse_device(ctx.ws.session(), *ctx.ws.model(), env, root);
    options.intensity = device.has_value();
    options.extend = [&](nlohmann::ordered_json& out) {
        if (env.engine != nullptr) out["engine"] = env.engine->name;
        if (device) report::device_json(ctx.ws.program(), *device, env, out);
    };
    ctx.out << report::json(ctx.ws.program(), run_info(ctx.ws, true), root, options);
}

// :hw [NAME | none]: the device time and memory are computed on.
void hw_command(CommandContext& ctx) {
    Workspace& ws = ctx.ws;
    if (ctx.args.empty()) {
        const std::string& now = ws.overrides().hardware;
        ctx.out << (now.empty() ? std::string("no hardware (:hw NAME selects one; costi list hardware lists them)")
                                : "hardware " + now)
                << "\n";
        return;
    }
    std::string name(ctx.text(ctx.args));
    if (name == "none") {
        ws.use_hardware("");
        ctx.out << "no hardware\n";
        return;
    }
    try {
        ws.use_hardware(name);
    } catch (CostiError& e) {
        point_at(e, ctx.span(ctx.args));
        throw;
    }
    const interp::Hardware& hw = ws.session().pick_hardware(ws.overrides().hardware);
    ctx.out << "hardware " << hw.name << (hw.doc.empty() ? "" : ": " + hw.doc) << "\n";
}

// :engine [NAME]: the execution :show, :json, :sweep and :request run.
void engine_command(CommandContext& ctx) {
    Workspace& ws = ctx.ws;
    if (ctx.args.empty()) {
        ctx.out << report::execution_line(ws.environment());
        return;
    }
    try {
        ws.use_engine(std::string(ctx.text(ctx.args)));
    } catch (CostiError& e) {
        point_at(e, ctx.span(ctx.args));
        throw;
    }
    ctx.out << report::execution_line(ws.environment());
}

// :request P G: a whole request on the selected hardware.
void request_command(CommandContext& ctx) {
    std::vector<Range> w = words(ctx);
    if (w.size() != 2) ctx.usage_error(ctx.args, ":request takes the prompt and generated tokens: :request 4096 512");
    auto count = [&](Range r, std::int64_t lowest, const char* what) {
        auto n = interp::Number::parse(ctx.text(r));
        if (!n || !n->is_integer() || *n < interp::Number(lowest) || *n > interp::Number(std::int64_t{1} << 40))
            ctx.usage_error(r, std::string(what) + " must be an integer >= " + std::to_string(lowest) + ", got '" +
                                   std::string(ctx.text(r)) + "'");
        return *n;
    };
    interp::Number prompt = count(w[0], 1, "the prompt's tokens");
    interp::Number generate = count(w[1], 0, "the generated tokens");
    Workspace& ws = ctx.ws;
    if (ws.model() == nullptr) ws.no_model(ctx.span(ctx.name), ":request runs the model");
    interp::Environment env = ws.environment();
    auto ids = interp::AnalysisIds::of(ws.program());
    if (env.hardware == nullptr || !ids) {
        throw CostiError(Diagnostic{interp::code::absent_hardware, ctx.span(ctx.name), ":request needs a hardware",
                                    "select one with :hw NAME", {}});
    }
    interp::Request r = interp::request(ws.session(), *ws.model(), env, *ids, prompt, generate);
    ctx.out << report::request_text(ws.program(), *env.hardware, r, env, ws.model()->name);
    if (auto layout = interp::layout_of(ws.program(), env)) ctx.out << "\n" << report::request_layout_line(*layout);
}

std::string signature(const interp::Kernel& k) {
    std::vector<std::string> required;
    std::vector<std::string> optional;
    for (const auto& p : k.params) (p.default_value ? optional : required).push_back(p.name);
    if (k.params.empty()) return "";
    std::string out = "(" + join(required);
    if (!optional.empty()) out += std::string(required.empty() ? "" : ", ") + "[" + join(optional) + "]";
    return out + ")";
}

void kernels_command(CommandContext& ctx) {
    std::string filter(ctx.text(ctx.args));
    auto lower = [](std::string s) {
        std::transform(s.begin(), s.end(), s.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        return s;
    };
    std::string needle = lower(filter);
    std::vector<std::vector<std::string>> rows;
    std::vector<std::string> all;
    const interp::Program& prog = ctx.ws.program();
    for (const auto& k : prog.kernels) {
        all.push_back(k->name);
        if (lower(k->name).find(needle) != std::string::npos) rows.push_back({k->name + signature(*k), ""});
    }
    for (const auto& [name, target] : prog.aliases) {
        all.push_back(name);
        if (lower(name).find(needle) != std::string::npos) rows.push_back({name, "alias of " + target});
    }
    std::sort(rows.begin(), rows.end());
    if (rows.empty()) {
        auto best = interp::closest(filter, all);
        throw CostiError(Diagnostic{code::unknown_kernel,
                                    ctx.span(ctx.args),
                                    "no kernel name contains '" + filter + "'",
                                    best ? "did you mean '" + *best + "'?" : "",
                                    {}});
    }
    ctx.out << columns(rows, {}, 0);
    ctx.out << rows.size() << (rows.size() == 1 ? " kernel" : " kernels")
            << (filter.empty() ? "" : " matching '" + filter + "'") << "; [optional parameters]\n";
}

void bindings_command(CommandContext& ctx) {
    if (!ctx.args.empty()) ctx.usage_error(ctx.args, ":bindings takes no arguments");
    const Workspace& ws = ctx.ws;
    std::vector<BoundValue> values = ws.bound_values();
    ctx.out << (ws.model() != nullptr ? "model " + ws.model()->name : std::string("no model")) << "\n";
    std::vector<std::vector<std::string>> runtime;
    std::vector<std::vector<std::string>> config;
    for (const auto& b : values) {
        std::vector<std::string> row{b.name, show_exact(b.value), origin_name(b.origin)};
        // A default's formula when it fits on the line; long ones (the quantization defaults)
        // are in the prelude, where :explain and the docs point.
        constexpr std::size_t longest_formula = 60;
        if (!b.detail.empty()) {
            bool formula = b.origin == Origin::declared || b.origin == Origin::model;
            std::string detail = b.detail;
            auto r = ws.program().find_runtime(b.name);
            if (formula && detail.size() > longest_formula && r) {
                // Where to read it, relative to the library (the same text wherever costi is installed).
                std::string at = interp::location(ws.program().runtimes[*r].span);
                for (const auto& dir : interp::library_dirs()) {
                    std::string prefix = dir.string() + "/";
                    if (at.rfind(prefix, 0) == 0) at = at.substr(prefix.size());
                }
                detail = "= the formula at " + at;
            } else if (formula) {
                detail = "= " + detail;
            }
            row.push_back(detail);
        }
        (b.name.rfind("config.", 0) == 0 ? config : runtime).push_back(std::move(row));
    }
    ctx.out << "runtime variables\n" << columns(runtime, {false, true}, 2);
    if (!config.empty()) ctx.out << "config\n" << columns(config, {false, true}, 2);
    if (!ws.lets().empty()) {
        ctx.out << "lets\n";
        for (const auto& l : ws.lets()) ctx.out << "  " << l.name << " = " << source_text(l.expr->span) << "\n";
    }
}

void unset_command(CommandContext& ctx) {
    std::vector<Range> names = words(ctx);
    if (names.empty()) ctx.usage_error(ctx.args, ":unset needs a name");
    if (names.size() == 1 && ctx.text(names[0]) == "all") {
        ctx.ws.unset_all_bindings();
        ctx.out << "every runtime variable and config value is back to the model's\n";
        return;
    }
    // Check every name first, so a typo in the third leaves the first two bound.
    Workspace& ws = ctx.ws;
    for (Range r : names) {
        std::string name(ctx.text(r));
        bool bound = false;
        for (const auto& [n, v] : ws.overrides().runtime) bound = bound || n == name;
        for (const auto& [k, v] : ws.overrides().config) bound = bound || "config." + k == name;
        for (const auto& l : ws.lets()) bound = bound || l.name == name;
        if (!bound && !ws.program().find_runtime(name) &&
            !(name.rfind("config.", 0) == 0 && ws.program().config_id.count(name.substr(7)) != 0)) {
            (void)ws.unset(name, ctx.span(r));  // throws the "did you mean" diagnostic
        }
    }
    for (Range r : names) {
        std::string name(ctx.text(r));
        bool was_let = std::any_of(ws.lets().begin(), ws.lets().end(), [&](const Let& l) { return l.name == name; });
        bool removed = ws.unset(name, ctx.span(r));
        if (was_let) {
            ctx.out << "let " << name << " removed\n";
            continue;
        }
        std::string now = "absent";
        std::string origin;
        for (const auto& b : ws.bound_values()) {
            if (b.name == name) {
                now = show_value(b.value);
                origin = origin_name(b.origin);
            }
        }
        ctx.out << name << " = " << now << (origin.empty() ? "" : "  (" + origin + ")")
                << (removed ? "" : "  — was not bound in this session") << "\n";
    }
}

}  // namespace

const std::vector<Command>& command_table() {
    static const std::vector<Command> table = {
        {"help", "?", "[COMMAND]", "this list, or more about one command", "", ArgumentKind::command, help_command},
        {"quit", "q", "", "leave the REPL (so does Ctrl-D on an empty line)", "", ArgumentKind::none, quit_command},
        {"load", "", "FILE", "load a .cost file, or a library model by name (:load gpt2, :load openai-community/gpt2)",
         "  Its kernels and models join the session. The first model loaded becomes current.\n", ArgumentKind::file,
         load_command},
        {"model", "", "[NAME]", "the current model and the others known; or switch to NAME",
         "  Bindings stay when the model changes; :unset all drops them.\n", ArgumentKind::model, model_command},
        {"show", "", "[DEPTH] [exact]", "the model's breakdown under the current bindings",
         "  DEPTH levels of calls below the model (default: all); exact prints exact integers in the tree.\n",
         ArgumentKind::none, show_command},
        {"json", "", "[DEPTH]", "the breakdown as JSON (as `costi run --format json`)", "", ArgumentKind::none,
         json_command},
        {"explain", "", "[KERNEL | $KERNEL(ARGS)]", "a kernel's parameters, formulas, citation and cost",
         "  :explain F.linear                 its formulas, and its calls in the current model\n"
         "  :explain $F.linear(M = 1, K = 4096, N = 4096)   the cost of that call\n"
         "  :explain                          the model's entry kernel\n",
         ArgumentKind::kernel, explain_command},
        {"kernels", "", "[FILTER]", "the kernels and aliases whose name contains FILTER", "", ArgumentKind::none,
         kernels_command},
        {"bindings", "", "", "every runtime variable and config value with where it comes from; the lets",
         "  Origins: default (declared with `runtime`), model (the model file), file (a config.json),\n"
         "  session (bound here; :unset returns it to the model's value).\n",
         ArgumentKind::none, bindings_command},
        {"unset", "", "NAME… | all", "drop session bindings or lets: back to the model's values",
         "  :unset seq_len config.num_hidden_layers    :unset all (runtime and config; lets stay)\n",
         ArgumentKind::bound, unset_command},
        {"hw", "", "[NAME | none]", "the device :show, :json and :request time and size on",
         "  :hw h100-sxm      a library device (costi list hardware), or a .cost file declaring one\n"
         "  :hw none          back to counts only\n"
         "  With a device, the metrics time, compute_time, memory_time, kv_cache, weight_bytes and\n"
         "  workspace join flops and read in expressions; compute_eff, memory_eff, mem_util and\n"
         "  price are runtime variables to bind.\n",
         ArgumentKind::none, hw_command},
        {"engine", "", "[NAME]", "the execution: transformers (the kernels as written) or an engine such as vllm",
         "  :engine vllm          the library's kernels/vllm/vllm.cost, loaded if new\n"
         "  :engine transformers  back to the kernels as written\n",
         ArgumentKind::none, engine_command},
        {"request", "", "PROMPT GENERATE", "a whole request on the selected device: time to first token, per token, cost",
         "  :request 4096 512   a prefill of 4096 tokens and 512 decode steps (cache 4096 … 4607), summed exactly\n",
         ArgumentKind::none, request_command},
        {"sweep", "", "NAME in VALUES[; …]",
         "totals for each point of a grid of runtime variables or config.KEYs",
         "  VALUES is a list (V1, V2, …) or a range (A..B, A..B by *F, A..B by +S):\n"
         "  :sweep seq_len in 512, 1024, 2048\n"
         "  :sweep seq_len in 512..32768 by *2           doubling: 512, 1024, …, 32768\n"
         "  :sweep batch_size in 8..64 by +8             (the step is +1 when no `by` is given)\n"
         "  :sweep config.num_hidden_layers in 24, 32, 48\n"
         "  :sweep seq_len in 1..4096 by *4; batch_size in 1, 8; columns flops, ai = flops/(read + write)\n"
         "  The grid is the product, the first variable outermost; columns are metrics and\n"
         "  NAME = EXPR over metrics, runtime variables and numbers (default: every metric).\n"
         "  Values are expressions under the current bindings; the sweep binds nothing.\n"
         "  A point that fails is a row with its error; Ctrl-C stops after the current row.\n",
         ArgumentKind::variable, sweep_command},
    };
    return table;
}

const Command* find_command(std::string_view name) {
    for (const auto& c : command_table()) {
        if (c.name == name || (!c.alias.empty() && c.alias == name)) return &c;
    }
    return nullptr;
}

namespace {

void unknown_command(const interp::SourceFile& input, Range head) {
    std::string name(head.of(input.text()));
    auto best = suggest_command(name);
    Span span{&input, static_cast<std::uint32_t>(head.begin - 1), static_cast<std::uint32_t>(head.end)};
    throw CostiError(
        Diagnostic{repl_code::unknown_command,
                   span,
                   "unknown command ':" + name + "'",
                   best ? "did you mean ':" + *best + "'?" : "commands: " + command_list() + " (:help explains them)",
                   {}});
}

// What a declaration added, for the echo: new kernels, aliases, models, metrics, runtimes.
struct Inventory {
    std::vector<std::string> kernels, aliases, models, metrics, runtimes;
    explicit Inventory(const interp::Program& p) {
        for (const auto& k : p.kernels) kernels.push_back(k->name);
        for (const auto& [a, t] : p.aliases) aliases.push_back(a);
        for (const auto& m : p.models) models.push_back(m->name);
        for (const auto& m : p.metrics) metrics.push_back(m.name);
        for (const auto& r : p.runtimes) runtimes.push_back(r.name);
    }
};

std::vector<std::string> added(const std::vector<std::string>& before, const std::vector<std::string>& after) {
    std::vector<std::string> out;
    for (const auto& n : after) {
        if (std::find(before.begin(), before.end(), n) == before.end()) out.push_back(n);
    }
    return out;
}

// A few new names are listed; an import that brings a library is summarised.
constexpr std::size_t max_listed_definitions = 8;

void report_definitions(const Inventory& before, const Workspace& ws, std::ostream& out) {
    const interp::Program& p = ws.program();
    Inventory after(p);
    auto kernels = added(before.kernels, after.kernels);
    auto aliases = added(before.aliases, after.aliases);
    auto models = added(before.models, after.models);
    auto metrics = added(before.metrics, after.metrics);
    auto runtimes = added(before.runtimes, after.runtimes);
    std::size_t total = kernels.size() + aliases.size() + models.size() + metrics.size() + runtimes.size();
    if (total > max_listed_definitions) {
        out << "added " << kernels.size() << " kernels, " << aliases.size() << " aliases, " << models.size()
            << " models, " << metrics.size() << " metrics, " << runtimes.size() << " runtime variables\n";
    } else {
        for (const auto& n : metrics) out << "metric " << n << "\n";
        for (const auto& n : runtimes) out << "runtime " << n << "\n";
        for (const auto& n : kernels) out << "kernel " << n << signature(*p.find_kernel(n)) << "\n";
        for (const auto& n : aliases) {
            for (const auto& [a, t] : p.aliases) {
                if (a == n) out << "alias " << a << " = " << t << "\n";
            }
        }
        for (const auto& n : models) out << "model " << n << "\n";
        if (total == 0) out << "nothing new\n";
    }
    if (ws.model() != nullptr && std::find(models.begin(), models.end(), ws.model()->name) != models.end()) {
        out << "model " << ws.model()->name << " is current\n";
    }
}

}  // namespace

bool run_input(Workspace& ws, const interp::SourceFile& input, std::ostream& out) {
    const std::string& text = input.text();
    Line line = classify(text);
    auto span = [&](Range r) {
        return Span{&input, static_cast<std::uint32_t>(r.begin), static_cast<std::uint32_t>(r.end)};
    };
    switch (line.kind) {
        case LineKind::command: {
            const Command* c = find_command(line.head.of(text));
            if (c == nullptr) unknown_command(input, line.head);
            CommandContext ctx{ws, input, line.rest, out, c->name, Range{line.head.begin - 1, line.head.end}};
            c->run(ctx);
            return ctx.quit;
        }
        case LineKind::let: {
            if (line.head.empty()) {
                throw CostiError(Diagnostic{code::syntax, span(line.rest), "expected `let NAME = expression`", "", {}});
            }
            std::string name(line.head.of(text));
            interp::Value v = ws.define_let(name, ws.parse(input, line.rest), span(line.head));
            out << name << " = " << show_value(v) << "\n";
            return false;
        }
        case LineKind::binding: {
            std::string name(line.head.of(text));
            auto expr = ws.parse(input, line.rest);
            Workspace::Answer a = ws.evaluate(*expr);
            if (a.call) {
                throw CostiError(Diagnostic{code::type_error,
                                            expr->span,
                                            "a kernel call has one value per metric, not a single value",
                                            "evaluate the call on its own line to see its metrics",
                                            {}});
            }
            ws.bind(name, a.value, span(line.head));
            out << name << " = " << show_value(a.value) << "\n";
            return false;
        }
        case LineKind::declaration: {
            Inventory before(ws.program());
            ws.load_text(input);
            report_definitions(before, ws, out);
            return false;
        }
        case LineKind::expression: {
            auto expr = ws.parse(input, line.rest);
            Workspace::Answer a = ws.evaluate(*expr);
            if (a.call) {
                std::vector<interp::Number> total;
                for (std::size_t m = 0; m < a.call->cost.size(); ++m)
                    total.push_back(interp::total_of(ws.program().metrics[m], a.call->count, a.call->cost[m]));
                out << metric_lines(ws.program(), total);
            } else {
                out << show_value(a.value, a.unit, a.style) << "\n";
            }
            return false;
        }
    }
    return false;
}

}  // namespace costi::repl
