// `costi sweep`: a model's totals over a grid of runtime variables, one row per point, streamed.
#include <CLI/CLI.hpp>
#include <csignal>
#include <iostream>
#include <memory>

#include "interpreter/suggest.hpp"
#include "repl/cli.hpp"
#include "repl/report.hpp"
#include "repl/report_sweep.hpp"
#include "repl/run_options.hpp"
#include "repl/sweep_spec.hpp"

namespace costi::cli {

using interp::CostiError;
using interp::Number;
using interp::Value;

namespace {

const char* description = R"(Evaluates a model at every point of a grid and prints one row per point: the swept
runtime variables under their own names, then the columns. A runtime flag given a list or a
range is swept (--seq_len 1..131072*2 --batch_size 1,8,64); one given a single value is
fixed. The grid is the product of the swept variables, the first given outermost and the
last varying fastest. Every number is exact. Rows are written as they are computed.)";

const char* footer = R"(
Values: a list 1,8,64; a range A..B (step +1), A..B+STEP (1..4096+256), A..B*FACTOR
(512..32768*2, an integer factor >= 2); lists may mix values and ranges (1,2,4..64*2).
Columns: metric names and NAME=EXPR over metric names, runtime variables and numbers with
the language's operators (intensity=flops/(read+write)); default: every metric.
CSV: a header, exact numbers as digits or p/q, and a last column `error` holding the error
of a point that fails (a require, a value outside a domain); JSON: one object per line
(JSON Lines), numbers as exact strings, "error" for a point that fails; table: the report's
compact numbers (14.08 T), widths from the first 1000 rows.
The model is compiled with the swept variables free (see `costi formula`); where the compile
stage cannot express it (E0212) every point runs on the interpreter, as --interpret asks.
Ctrl-C stops after the current row, keeps what was printed and exits with status 130.
exit status: 0 success, 1 error in the input, 2 misuse of the command line, 130 interrupted.
)";

struct SweepOptions {
    std::string columns;
    std::string format = "table";
    std::string max_points;
    bool interpret = false;
    std::vector<std::string> args;  // the command's arguments, for the order of the swept flags
};

volatile std::sig_atomic_t interrupted = 0;

extern "C" void on_interrupt(int) {
    interrupted = 1;
}

bool is_sweep(const std::string& text) {
    return text.find(',') != std::string::npos || text.find("..") != std::string::npos;
}

// Where `--name` first appears among the arguments (for the grid's order).
std::size_t position(const std::vector<std::string>& args, const std::string& name) {
    std::string flag = "--" + name;
    for (std::size_t i = 0; i < args.size(); ++i) {
        if (args[i] == flag || args[i].rfind(flag + "=", 0) == 0) return i;
    }
    return args.size();
}

std::uint64_t parse_max_points(const std::string& text) {
    if (text.empty()) return sweep::default_max_points;
    auto n = Number::parse(text);
    auto v = n ? n->to_int64() : std::nullopt;
    if (!v || *v < 1) throw Misuse{"option '--max-points' takes a positive integer, got '" + text + "'", ""};
    return static_cast<std::uint64_t>(*v);
}

int sweep_run(RunState& st, const SweepOptions& opt, CLI::App& app) {
    check_model_args(st, app, "sweep");
    report::SweepFormat format = report::SweepFormat::table;
    if (opt.format == "csv") {
        format = report::SweepFormat::csv;
    } else if (opt.format == "json") {
        format = report::SweepFormat::json;
    } else if (opt.format != "table") {
        throw Misuse{"option '--format' takes csv, json or table, got '" + opt.format + "'",
                     did_you_mean(opt.format, {"csv", "json", "table"})};
    }
    std::uint64_t max_points = parse_max_points(opt.max_points);
    interp::Session& session = *st.session;
    const interp::Program& program = session.program();

    // The swept flags leave st.runtime; the fixed ones stay for resolve_model.
    std::vector<sweep::Axis> axes;
    for (auto it = st.runtime.begin(); it != st.runtime.end();) {
        if (!is_sweep(it->second)) {
            ++it;
            continue;
        }
        sweep::Axis axis;
        axis.name = it->first;
        axis.runtime = *program.find_runtime(it->first);
        try {
            axis.segments = sweep::parse_values(it->second);
        } catch (const sweep::SpecError& e) {
            throw Misuse{"option '--" + it->first + "': " + e.message, e.hint};
        }
        axes.push_back(std::move(axis));
        it = st.runtime.erase(it);
    }
    if (axes.empty()) {
        throw Misuse{"costi sweep needs a runtime variable with a list or a range of values",
                     "e.g. --seq_len 1..4096*2 --batch_size 1,8,64"};
    }
    std::stable_sort(axes.begin(), axes.end(), [&](const sweep::Axis& a, const sweep::Axis& b) {
        return position(opt.args, a.name) < position(opt.args, b.name);
    });
    std::uint64_t points = sweep::grid_size(axes, max_points);
    if (points > max_points) {
        throw Misuse{"the sweep has more than " + std::to_string(max_points) + " points",
                     "use coarser steps (A..B*2, A..B+256), or raise the limit with --max-points N"};
    }

    sweep::ColumnNames names;
    for (const auto& m : program.metrics) names.metrics.push_back(m.name);
    for (const auto& r : program.runtimes) names.runtimes.push_back(r.name);
    sweep::Columns columns;
    try {
        if (opt.columns.empty()) {
            std::vector<std::uint32_t> all;
            for (std::uint32_t m = 0; m < program.metrics.size(); ++m) all.push_back(m);
            columns = sweep::Columns::metrics(names, all);
        } else {
            columns = sweep::Columns::parse(opt.columns, names);
        }
    } catch (const sweep::SpecError& e) {
        throw Misuse{e.message, e.hint};
    }

    auto [model, overrides] = resolve_model(st);
    sweep::PointEvaluator evaluator(session, *model, overrides, axes, columns.metrics_read(), opt.interpret);
    if (evaluator.fallback()) {
        std::cerr << "costi: note: the compile stage cannot express this model (" << *evaluator.fallback()
                  << "); every point runs on the interpreter\n";
    }

    std::vector<std::string> axis_names;
    for (const auto& a : axes) axis_names.push_back(a.name);
    std::vector<report::SweepColumn> shown;
    for (std::size_t i = 0; i < columns.headers().size(); ++i) {
        report::SweepColumn c{columns.headers()[i], true, "", report::Style::si};
        if (auto m = columns.plain_metric(i)) {
            c.unit = program.metrics[*m].unit;
            c.style = report::style_of(program.metrics[*m]);
        }
        shown.push_back(std::move(c));
    }
    report::SweepWriter writer(std::cout, format, axis_names, std::move(shown));

    struct sigaction sa {};
    sa.sa_handler = on_interrupt;
    sigemptyset(&sa.sa_mask);
    struct sigaction old {};
    sigaction(SIGINT, &sa, &old);
    interp::Evaluator::set_interrupt_flag(&interrupted);

    sweep::Grid grid(axes);
    std::vector<Number> totals;
    std::vector<Value> runtime;
    std::vector<Value> cells;
    std::uint64_t rows = 0;
    while (interrupted == 0 && grid.next()) {
        try {
            evaluator.evaluate(grid.point(), totals, runtime);
            columns.evaluate(totals, runtime, cells);
        } catch (const CostiError& e) {
            if (interrupted != 0) break;  // an interpreter run stopped by Ctrl-C: no row
            writer.error_row(grid.point(), sweep::error_text(e));
            ++rows;
            continue;
        }
        writer.row(grid.point(), cells);
        ++rows;
    }
    writer.flush();
    interp::Evaluator::set_interrupt_flag(nullptr);
    sigaction(SIGINT, &old, nullptr);
    if (interrupted != 0) {
        std::cerr << "costi: interrupted after " << rows << " of " << points << " rows\n";
        return 130;
    }
    return 0;
}

}  // namespace

Command sweep_command() {
    return {"sweep", "evaluate a model over a grid of runtime variables (CSV, JSON Lines or a table)",
            [](CLI::App& app, const std::vector<std::string>& args) -> std::function<int()> {
                auto st = std::make_shared<RunState>();
                auto opt = std::make_shared<SweepOptions>();
                opt->args = args;
                app.description(description);
                app.footer(footer);
                app.add_option("FILE", st->file, "a .cost file, a library model's short or declared name")->type_name("");
                app.add_option("--config", st->config_json,
                               "take the model from a Hugging Face config.json (kernel from architectures[0])")
                    ->type_name("FILE.json");
                app.add_option("--model", st->model, "which model of FILE (when it declares several)")->type_name("NAME");
                app.add_option("--columns", opt->columns,
                               "the columns after the swept variables: metrics and NAME=EXPR (default: every metric)")
                    ->type_name("C1,C2,...");
                app.add_option("--format", opt->format, "output format: csv, json (JSON Lines) or table (default: table)")
                    ->type_name("csv|json|table");
                app.add_option("--max-points", opt->max_points,
                               "refuse a grid of more points than this (default: 1000000000)")
                    ->type_name("N");
                app.add_flag("--interpret", opt->interpret,
                             "evaluate every point on the interpreter (the reference) instead of the compiled form");
                app.add_option("--hw", st->hw, "a device whose properties the formulas read (costi list hardware)")
                    ->type_name("NAME");
                app.add_option("--engine", st->engine, "the execution: transformers (default) or an engine such as vllm")
                    ->type_name("NAME");
                prepare(st, app, args);
                return [st, opt, &app]() { return sweep_run(*st, *opt, app); };
            }};
}

}  // namespace costi::cli
