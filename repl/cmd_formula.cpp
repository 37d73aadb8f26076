// `costi formula`: a model's metrics as exact polynomials in the runtime variables left free.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <iostream>
#include <memory>

#include "interpreter/suggest.hpp"
#include "repl/cli.hpp"
#include "repl/report_formula.hpp"
#include "repl/run_options.hpp"

namespace costi::cli {

namespace {

const char* description = R"(Compiles a model with its config fixed and prints each metric as an exact polynomial in
the runtime variables left free (--free; default: every one the model reads), the others
fixed at their values (defaults, or the flags given). What depends on a free variable and is
not a polynomial stays inline as an atom (min, max, floor, ceil, %, if/else, comparisons);
where the model would fail at some points (a require, a division by an expression), a guard
says so. Every coefficient is exact: at any point the formula gives what `costi run` gives.)";

const char* footer = R"(
FILE, --config, --model, --set, --hw, --engine and the runtime flags are those of costi run.
--depth N also prints the calls N levels below the model, each metric per call.
The JSON gives every coefficient as an exact string (integer or p/q), each monomial as
{"variable": power}, and lists the atoms (a0, a1, …) and guards.
exit status: 0 success, 1 error in the input, 2 misuse of the command line.
)";

struct FormulaOptions {
    std::string free;
    std::string depth;
    std::string format = "text";
};

// --free a,b,c: runtime variables of the program, in declaration order.
std::vector<std::uint32_t> parse_free(const interp::Program& program, const std::string& text) {
    std::vector<std::string> names;
    for (const auto& r : program.runtimes) names.push_back(r.name);
    std::vector<std::uint32_t> chosen;
    for (const std::string& name : split_list(text)) {
        auto r = program.find_runtime(name);
        if (!r) {
            throw Misuse{"option '--free': '" + name + "' is not a runtime variable",
                         did_you_mean(name, names, "runtime variables: " + interp::join(names))};
        }
        chosen.push_back(*r);
    }
    if (chosen.empty()) throw Misuse{"option '--free' takes a list such as seq_len,cache_len", "runtime variables: " + interp::join(names)};
    std::sort(chosen.begin(), chosen.end());
    chosen.erase(std::unique(chosen.begin(), chosen.end()), chosen.end());
    return chosen;
}

int formula(RunState& st, const FormulaOptions& opt, CLI::App& app) {
    check_model_args(st, app, "formula");
    int depth = opt.depth.empty() ? 0 : parse_depth(opt.depth);
    if (opt.format != "text" && opt.format != "json")
        throw Misuse{"option '--format' takes text or json, got '" + opt.format + "'", did_you_mean(opt.format, {"text", "json"})};
    interp::Session& session = *st.session;
    const interp::Program& program = session.program();
    std::vector<std::uint32_t> free = opt.free.empty() ? std::vector<std::uint32_t>{} : parse_free(program, opt.free);
    auto [model, overrides] = resolve_model(st);
    interp::Compiled form = session.compile(*model, overrides, free, depth);
    interp::Environment env = session.environment(*model, overrides);
    report::FormulaInfo info;
    info.model = model->name;
    info.engine = env.engine != nullptr ? env.engine->name : "";
    info.hardware = env.hardware != nullptr ? env.hardware->name : "";
    info.depth = depth;
    for (auto r : session.entry_of(*model, env).kernel->reads)
        if (form.free_index(r) < 0) info.fixed.emplace_back(program.runtimes[r].name, env.runtime[r]);
    if (opt.format == "json") {
        report::formula_json(std::cout, form, info);
    } else {
        report::formula_text(std::cout, form, info);
    }
    return 0;
}

}  // namespace

Command formula_command() {
    return {"formula", "print each metric as an exact polynomial in the free runtime variables",
            [](CLI::App& app, const std::vector<std::string>& args) -> std::function<int()> {
                auto st = std::make_shared<RunState>();
                auto opt = std::make_shared<FormulaOptions>();
                app.description(description);
                app.footer(footer);
                app.add_option("FILE", st->file, "a .cost file, a library model's short or declared name")->type_name("");
                app.add_option("--config", st->config_json,
                               "take the model from a Hugging Face config.json (kernel from architectures[0])")
                    ->type_name("FILE.json");
                app.add_option("--model", st->model, "which model of FILE (when it declares several)")->type_name("NAME");
                app.add_option("--free", opt->free,
                               "the runtime variables left free (default: every one the model reads)")
                    ->type_name("V1,V2,...");
                app.add_option("--depth", opt->depth, "levels of calls printed below the model (default: 0, totals only)")
                    ->type_name("N|all");
                app.add_option("--format", opt->format, "output format: text or json (default: text)")->type_name("text|json");
                app.add_option("--hw", st->hw, "a device whose properties the formulas read (costi list hardware)")
                    ->type_name("NAME");
                app.add_option("--engine", st->engine, "the execution: transformers (default) or an engine such as vllm")
                    ->type_name("NAME");
                prepare(st, app, args);
                return [st, opt, &app]() { return formula(*st, *opt, app); };
            }};
}

}  // namespace costi::cli
