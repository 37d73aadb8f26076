// Sweeps: a grid of points in runtime variables, expression columns, and a model's totals at
// every point — what `costi sweep` (cmd_sweep.cpp) and the REPL's :sweep (sweep.cpp) share.
//
// Owns: the syntax of a variable's values on the command line (`1,8,64`, `1..4096+256`,
// `512..32768*2`), checking and counting them, iterating the grid (the product of the axes,
// the first axis outermost, the last varying fastest); the syntax and names of columns
// (`flops`, `intensity=flops/(read+write)`, parsed with the language's expression parser,
// evaluated with its operators); and evaluating the totals point by point — on the compiled
// form's fast evaluator, or on the interpreter where the compile stage refuses the model
// (E0212), a config value is swept, or the caller asks for the reference. Does not own
// printing rows (report_sweep.hpp) nor reading options (cmd_sweep.cpp, sweep.cpp).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "interpreter/compile/fast_eval.hpp"
#include "interpreter/session.hpp"

namespace costi::sweep {

// A mistake in what the user asked to sweep: the caller shows it as a misuse (exit 2) or a
// REPL usage error.
struct SpecError {
    std::string message;
    std::string hint;
};

// One piece of an axis: start, start+step, … up to end (or start, start·factor, … when
// `multiply`); a single value is start == end.
struct Segment {
    interp::Number start;
    interp::Number end;
    interp::Number step{1};
    bool multiply = false;
};

// Refuses a segment that is empty (5..1), does not advance (a step <= 0, a factor that is not
// an integer >= 2) or multiplies from a start <= 0. Throws SpecError.
void check_segment(const Segment& s);

// The values of one variable as the command line writes them: a comma-separated list of
// values (42, 0.5, 9/16, 1e6) and ranges `A..B` (step +1), `A..B+S`, `A..B*F`. Each segment
// is checked. Throws SpecError.
std::vector<Segment> parse_values(std::string_view text);

// A swept variable: a runtime variable (or, in the REPL, a config value).
struct Axis {
    std::string name;             // "seq_len", "config.num_hidden_layers"
    std::uint32_t runtime = 0;    // the runtime variable's index (not for a config value)
    bool config = false;          // a config key (evaluated on the interpreter)
    std::vector<Segment> segments;
};

// The points of a segment, or cap + 1 when there are more than cap.
std::uint64_t count(const Segment& s, std::uint64_t cap);
// The points of the grid (the product of the axes), or cap + 1 when there are more than cap.
std::uint64_t grid_size(const std::vector<Axis>& axes, std::uint64_t cap);

// The default refusal: a sweep of more points than this runs for minutes or more (about
// 10^9 rows of CSV at a few million a second) — usually a slip of a digit; --max-points
// raises it.
inline constexpr std::uint64_t default_max_points = 1'000'000'000;

// Iterates the grid: the first axis outermost, the last varying fastest.
class Grid {
public:
    explicit Grid(const std::vector<Axis>& axes);
    // Moves to the next point (the first on the first call); false when there is none left.
    bool next();
    // The current point: one value per axis.
    const std::vector<interp::Number>& point() const { return point_; }

private:
    bool start_axis(std::size_t a);  // the axis at its first value; false when it has none
    bool advance_axis(std::size_t a);

    const std::vector<Axis>& axes_;
    std::vector<std::size_t> segment_;
    std::vector<interp::Number> point_;
    bool started_ = false;
};

// What a column may read: per metric its total, and per runtime variable its value at the point.
struct ColumnNames {
    std::vector<std::string> metrics;
    std::vector<std::string> runtimes;
};

// The columns of a sweep: each a metric's name or `name=EXPR` over metric names, runtime
// variables and numbers with the language's operators and functions.
class Columns {
public:
    // Parses "flops,read,intensity=flops/(read+write)" (commas inside parentheses belong to
    // the expression). Throws SpecError for a syntax error, an unknown name (did you mean),
    // a name given twice or an empty list.
    static Columns parse(std::string_view text, const ColumnNames& names);
    // Every metric, as plain columns.
    static Columns metrics(const ColumnNames& names, const std::vector<std::uint32_t>& which);

    Columns();
    ~Columns();
    Columns(Columns&&) noexcept;
    Columns& operator=(Columns&&) noexcept;

    const std::vector<std::string>& headers() const { return headers_; }
    // The metrics the columns read (indexes into ColumnNames::metrics, ascending).
    const std::vector<std::uint32_t>& metrics_read() const { return metrics_read_; }
    // Column i is plain metric m: its value is that metric's total (for units in a table).
    std::optional<std::uint32_t> plain_metric(std::size_t i) const;
    // The columns at one point: `totals` per metric read (in metrics_read() order), `runtime`
    // every runtime variable's value. Throws CostiError for an operator that fails (a
    // division by zero, a string where a number is needed).
    void evaluate(const std::vector<interp::Number>& totals, const std::vector<interp::Value>& runtime,
                  std::vector<interp::Value>& out) const;

    struct Node;  // an expression with its names resolved (sweep_spec.cpp)

private:
    std::vector<std::string> headers_;
    std::vector<std::unique_ptr<Node>> exprs_;
    std::vector<std::uint32_t> metrics_read_;
};

// The totals of a model at the points of a grid.
class PointEvaluator {
public:
    // Compiles `model` under `base` with the axes' runtime variables free — unless
    // `interpret`, an axis is a config value, or the compile stage refuses the model (E0212:
    // fallback() says why). Other errors (the model fails at every point) are thrown.
    PointEvaluator(const interp::Session& session, const interp::Model& model, interp::Overrides base,
                   const std::vector<Axis>& axes, std::vector<std::uint32_t> metrics, bool interpret);
    ~PointEvaluator();

    // The metrics' totals at `point` (one value per axis) into `totals`, and every runtime
    // variable's value there into `runtime`. Throws CostiError: the interpreter's error there.
    void evaluate(const std::vector<interp::Number>& point, std::vector<interp::Number>& totals,
                  std::vector<interp::Value>& runtime);

    bool compiled() const { return fast_ != nullptr; }
    // Why the compile stage refused the model (its E0212 message), when it did.
    const std::optional<std::string>& fallback() const { return fallback_; }

private:
    const interp::Session& session_;
    const interp::Model& model_;
    interp::Overrides base_;
    const std::vector<Axis>& axes_;
    std::vector<std::uint32_t> metrics_;
    std::optional<std::string> fallback_;
    interp::Environment env_;                  // the environment at the base point
    std::unique_ptr<interp::Compiled> form_;
    std::unique_ptr<interp::FastForm> fast_;
    std::vector<int> order_;                   // per free variable of the form: its axis
    std::vector<interp::Number> free_point_;
};

// "E0207: message" for an error row.
std::string error_text(const interp::CostiError& e);

}  // namespace costi::sweep
