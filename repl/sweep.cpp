// :sweep — one runtime variable or config value over a list or a range: a table of totals.
#include "interpreter/diagnostics.hpp"
#include "repl/commands.hpp"
#include "repl/human.hpp"
#include "repl/present.hpp"

namespace costi::repl {

using interp::CostiError;
using interp::Diagnostic;
using interp::Number;
using interp::Value;

namespace {

// A sweep of more values than this is no quick sweep, and a slip such as 1..1e9 would
// otherwise run the model a billion times before printing anything.
constexpr std::size_t max_points = 1000;

Value value_of(CommandContext& ctx, Range r, bool number) {
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
    if (number && !a.value.is_number()) {
        throw CostiError(
            Diagnostic{interp::code::type_error, ctx.span(r), "expected a number, got " + a.value.show(), "", {}});
    }
    return a.value;
}

[[noreturn]] void too_many(const CommandContext& ctx, Range r) {
    throw CostiError(Diagnostic{repl_code::too_long,
                                ctx.span(r),
                                "a sweep takes at most " + std::to_string(max_points) + " values",
                                "use a coarser step, e.g. `by *2`",
                                {}});
}

}  // namespace

void sweep_command(CommandContext& ctx) {
    Workspace& ws = ctx.ws;
    std::string_view text = ctx.input.text();
    std::size_t in = find_top(text, ctx.args, "in");
    if (in == std::string_view::npos) ctx.usage_error(ctx.args, ":sweep needs `NAME in VALUES`");
    Range name_r = trim(text, {ctx.args.begin, in});
    Range values_r = trim(text, {in + 2, ctx.args.end});
    std::string name(ctx.text(name_r));
    bool is_config = name.rfind("config.", 0) == 0;
    if (!(is_config ? is_qualified_name(name) : is_identifier(name))) {
        ctx.usage_error(name_r, "expected a runtime variable or config.KEY to sweep, got '" + name + "'");
    }
    if (values_r.empty()) ctx.usage_error(values_r, "expected values after `in`");
    if (ws.model() == nullptr) ws.no_model(ctx.span(ctx.name), ":sweep runs the model");

    std::vector<std::pair<Value, Range>> points;
    std::size_t dots = find_top(text, values_r, "..");
    if (dots != std::string_view::npos) {
        Range start_r = trim(text, {values_r.begin, dots});
        Range tail{dots + 2, values_r.end};
        std::size_t by = find_top(text, tail, "by");
        Range end_r = trim(text, {tail.begin, by == std::string_view::npos ? tail.end : by});
        Number start = value_of(ctx, start_r, true).num;
        Number end = value_of(ctx, end_r, true).num;
        char op = '+';
        Number step(1);
        Range step_r = end_r;
        if (by != std::string_view::npos) {
            step_r = trim(text, {by + 2, tail.end});
            if (step_r.empty() || (text[step_r.begin] != '*' && text[step_r.begin] != '+')) {
                ctx.usage_error(step_r, "the step is `by *FACTOR` or `by +STEP`");
            }
            op = text[step_r.begin];
            step = value_of(ctx, trim(text, {step_r.begin + 1, step_r.end}), true).num;
        }
        if (op == '+' && step.sign() <= 0)
            ctx.usage_error(step_r, "the step must be positive, got " + step.to_string());
        if (op == '*' && (step <= Number(1) || start.sign() <= 0)) {
            ctx.usage_error(step_r, "a multiplying range needs a factor above 1 and a start above 0");
        }
        for (Number v = start; v <= end; v = op == '*' ? v * step : v + step) {
            if (points.size() == max_points) too_many(ctx, values_r);
            points.emplace_back(Value::of(v), values_r);
        }
        if (points.empty()) ctx.usage_error(values_r, "the range is empty: A..B needs A <= B");
    } else {
        for (Range r : split_top(text, values_r, ',')) {
            if (points.size() == max_points) too_many(ctx, values_r);
            points.emplace_back(value_of(ctx, r, !is_config), r);
        }
    }

    // Every value is checked before any runs: a range that leaves the variable's domain is
    // refused at its first value outside it, rather than after minutes of rows.
    if (!is_config) {
        for (const auto& [v, r] : points) ws.check_domain(name, v, ctx.span(r));
    }

    const interp::Program& prog = ws.program();
    std::vector<std::vector<std::string>> rows;
    std::vector<std::string> head{name};
    for (const auto& m : prog.metrics) head.push_back(m.name);
    rows.push_back(head);
    for (const auto& [v, r] : points) {
        interp::Overrides ov = ws.with_binding(name, v, ctx.span(name_r));
        interp::CostNode root;
        try {
            root = ws.totals(ov);
        } catch (CostiError& e) {
            for (auto& d : e.diagnostics()) d.chain.push_back({"sweep " + name + " = " + v.show(), ctx.span(r)});
            throw;
        }
        std::vector<std::string> row{show_exact(v)};
        for (std::size_t m = 0; m < root.cost.size(); ++m)
            row.push_back(report::grouped(interp::total_of(ws.program().metrics[m], root.count, root.cost[m])));
        rows.push_back(std::move(row));
    }
    ctx.out << columns(rows, std::vector<bool>(head.size(), true));
}

}  // namespace costi::repl
