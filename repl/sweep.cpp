// :sweep — runtime variables or config values over lists and ranges: a table of totals or of
// chosen columns, one row per point of the grid (sweep_spec.hpp, shared with `costi sweep`).
#include <iostream>

#include "interpreter/diagnostics.hpp"
#include "repl/commands.hpp"
#include "repl/human.hpp"
#include "repl/line_reader.hpp"
#include "repl/present.hpp"
#include "repl/report.hpp"
#include "repl/report_sweep.hpp"
#include "repl/sweep_spec.hpp"

namespace costi::repl {

using interp::CostiError;
using interp::Diagnostic;
using interp::Number;
using interp::Value;

namespace {

Number number_of(CommandContext& ctx, Range r) {
    if (r.empty()) ctx.usage_error(r, "expected a value");
    auto expr = ctx.ws.parse(ctx.input, r);
    Workspace::Answer a = ctx.ws.evaluate(*expr);
    if (a.call) {
        throw CostiError(Diagnostic{interp::code::type_error,
                                    ctx.span(r),
                                    "a kernel call has one value per metric, not a single value",
                                    "",
                                    {}});
    }
    if (!a.value.is_number()) {
        throw CostiError(
            Diagnostic{interp::code::type_error, ctx.span(r), "a sweep takes numbers, got " + a.value.show(), "", {}});
    }
    return a.value.num;
}

// One `NAME in VALUES` clause: the values are expressions under the current bindings, a
// list `V1, V2, …` or a range `A..B [by *F | by +S]`.
sweep::Axis axis_of(CommandContext& ctx, Range clause) {
    Workspace& ws = ctx.ws;
    std::string_view text = ctx.input.text();
    std::size_t in = find_top(text, clause, "in");
    if (in == std::string_view::npos) ctx.usage_error(clause, ":sweep needs `NAME in VALUES`");
    Range name_r = trim(text, {clause.begin, in});
    Range values_r = trim(text, {in + 2, clause.end});
    sweep::Axis axis;
    axis.name = std::string(ctx.text(name_r));
    axis.config = axis.name.rfind("config.", 0) == 0;
    if (!(axis.config ? is_qualified_name(axis.name) : is_identifier(axis.name))) {
        ctx.usage_error(name_r, "expected a runtime variable or config.KEY to sweep, got '" + axis.name + "'");
    }
    if (values_r.empty()) ctx.usage_error(values_r, "expected values after `in`");
    // A name that is neither a runtime variable nor a config key some kernel reads is refused
    // here (with_binding says which, with "did you mean").
    if (axis.config) {
        (void)ws.with_binding(axis.name, Value::of(1), ctx.span(name_r));
    } else if (auto r = ws.program().find_runtime(axis.name)) {
        axis.runtime = *r;
    } else {
        (void)ws.with_binding(axis.name, Value::of(1), ctx.span(name_r));
        ctx.usage_error(name_r, "'" + axis.name + "' is no runtime variable");
    }

    std::size_t dots = find_top(text, values_r, "..");
    if (dots != std::string_view::npos) {
        Range start_r = trim(text, {values_r.begin, dots});
        Range tail{dots + 2, values_r.end};
        std::size_t by = find_top(text, tail, "by");
        Range end_r = trim(text, {tail.begin, by == std::string_view::npos ? tail.end : by});
        sweep::Segment s;
        s.start = number_of(ctx, start_r);
        s.end = number_of(ctx, end_r);
        if (by != std::string_view::npos) {
            Range step_r = trim(text, {by + 2, tail.end});
            if (step_r.empty() || (text[step_r.begin] != '*' && text[step_r.begin] != '+')) {
                ctx.usage_error(step_r, "the step is `by *FACTOR` or `by +STEP`");
            }
            s.multiply = text[step_r.begin] == '*';
            s.step = number_of(ctx, trim(text, {step_r.begin + 1, step_r.end}));
        }
        try {
            sweep::check_segment(s);
        } catch (const sweep::SpecError& e) {
            ctx.usage_error(values_r, e.message + (e.hint.empty() ? "" : " (" + e.hint + ")"));
        }
        axis.segments.push_back(std::move(s));
    } else {
        for (Range r : split_top(text, values_r, ',')) {
            Number v = number_of(ctx, r);
            axis.segments.push_back({v, v, Number(1), false});
        }
    }
    return axis;
}

// Every value is checked before any runs: a value outside the variable's domain is refused at
// the first one, rather than after minutes of rows.
void check_domains(CommandContext& ctx, const sweep::Axis& axis, const std::vector<Range>& where) {
    if (axis.config) return;
    for (std::size_t i = 0; i < axis.segments.size(); ++i) {
        const sweep::Segment& s = axis.segments[i];
        for (Number v = s.start; v <= s.end; v = s.multiply ? v * s.step : v + s.step)
            ctx.ws.check_domain(axis.name, Value::of(v), ctx.span(where[i]));
    }
}

}  // namespace

void sweep_command(CommandContext& ctx) {
    Workspace& ws = ctx.ws;
    std::string_view text = ctx.input.text();
    if (ws.model() == nullptr) ws.no_model(ctx.span(ctx.name), ":sweep runs the model");
    const interp::Program& program = ws.program();

    // Clauses: `NAME in VALUES; NAME in VALUES; columns C1, C2, NAME = EXPR`.
    std::vector<sweep::Axis> axes;
    std::optional<Range> columns_r;
    for (Range clause : split_top(text, ctx.args, ';')) {
        clause = trim(text, clause);
        std::string_view c = ctx.text(clause);
        if (c.rfind("columns", 0) == 0 && (c.size() == 7 || c[7] == ' ')) {
            columns_r = trim(text, {clause.begin + 7, clause.end});
            continue;
        }
        sweep::Axis axis = axis_of(ctx, clause);
        for (const auto& a : axes)
            if (a.name == axis.name) ctx.usage_error(clause, "'" + axis.name + "' is swept twice");
        // A list's values were checked one by one with their own spans; a range at once.
        std::size_t in = find_top(text, clause, "in");
        Range values_r = trim(text, {in + 2, clause.end});
        std::vector<Range> where;
        if (find_top(text, values_r, "..") != std::string_view::npos) {
            where.push_back(values_r);
        } else {
            where = split_top(text, values_r, ',');
        }
        axes.push_back(std::move(axis));
        // The size first: checking the values of a slip such as 1..1e12 would not end.
        if (sweep::grid_size(axes, sweep::default_max_points) > sweep::default_max_points) {
            throw CostiError(Diagnostic{repl_code::too_long, ctx.span(values_r),
                                        "a sweep takes at most " + std::to_string(sweep::default_max_points) + " points",
                                        "use a coarser step, e.g. `by *2`", {}});
        }
        check_domains(ctx, axes.back(), where);
    }
    if (axes.empty()) ctx.usage_error(ctx.args, ":sweep needs `NAME in VALUES`");

    sweep::ColumnNames names;
    for (const auto& m : program.metrics) names.metrics.push_back(m.name);
    for (const auto& r : program.runtimes) names.runtimes.push_back(r.name);
    sweep::Columns columns;
    try {
        if (columns_r) {
            columns = sweep::Columns::parse(ctx.text(*columns_r), names);
        } else {
            std::vector<std::uint32_t> all;
            for (std::uint32_t m = 0; m < program.metrics.size(); ++m) all.push_back(m);
            columns = sweep::Columns::metrics(names, all);
        }
    } catch (const sweep::SpecError& e) {
        std::string message = e.message;
        if (message.rfind("option '--columns': ", 0) == 0) message = message.substr(20);
        throw CostiError(Diagnostic{repl_code::bad_arguments, ctx.span(columns_r.value_or(ctx.args)), message, e.hint, {}});
    }

    // The session's bindings less the swept names: those come from the grid.
    interp::Overrides base = ws.overrides();
    for (const auto& a : axes) {
        if (a.config) {
            std::string key = a.name.substr(7);
            std::erase_if(base.config, [&](const auto& kv) { return kv.first == key; });
        } else {
            std::erase_if(base.runtime, [&](const auto& kv) { return kv.first == a.name; });
        }
    }
    sweep::PointEvaluator evaluator(ws.session(), *ws.model(), base, axes, columns.metrics_read(), false);
    if (evaluator.fallback()) ctx.out << "note: every point runs on the interpreter (" << *evaluator.fallback() << ")\n";

    std::vector<std::string> axis_names;
    for (const auto& a : axes) axis_names.push_back(a.name);
    std::vector<report::SweepColumn> shown;
    for (const auto& h : columns.headers()) shown.push_back({h, false, "", report::Style::si});
    report::SweepWriter writer(ctx.out, report::SweepFormat::table, axis_names, std::move(shown));
    const volatile std::sig_atomic_t* stop = LineReader::interrupt_flag_address();
    sweep::Grid grid(axes);
    std::vector<Number> totals;
    std::vector<Value> runtime;
    std::vector<Value> cells;
    while (*stop == 0 && grid.next()) {
        try {
            evaluator.evaluate(grid.point(), totals, runtime);
            columns.evaluate(totals, runtime, cells);
        } catch (const CostiError& e) {
            if (*stop != 0) break;
            writer.error_row(grid.point(), sweep::error_text(e));
            continue;
        }
        writer.row(grid.point(), cells);
    }
    writer.flush();
    if (*stop != 0) ctx.out << "(interrupted: the rows above are complete)\n";
}

}  // namespace costi::repl
