// Grids, columns and point evaluation for sweeps (see sweep_spec.hpp).
#include "repl/sweep_spec.hpp"

#include <algorithm>

#include "grammar/parse.hpp"
#include "interpreter/ops.hpp"
#include "interpreter/suggest.hpp"

namespace costi::sweep {

using interp::CostiError;
using interp::Diagnostic;
using interp::Number;
using interp::Value;
namespace ast = interp::ast;

namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

const char* range_help = "values are a list such as 1,8,64 and ranges A..B (step 1), A..B+STEP, A..B*FACTOR";

Number number(std::string_view text, std::string_view item) {
    auto n = Number::parse(trim(text));
    if (!n) {
        throw SpecError{"'" + std::string(trim(text)) + "' in '" + std::string(item) + "' is not a number (42, 0.5, 9/16, 1e6)",
                        range_help};
    }
    return *n;
}

// The position of a range's step operator in the text after `..`: `*`, or a `+` that is
// neither the first character nor an exponent's sign (1e+6).
std::size_t step_position(std::string_view rest) {
    if (auto star = rest.find('*'); star != std::string_view::npos) return star;
    for (std::size_t i = 1; i < rest.size(); ++i) {
        if (rest[i] == '+' && rest[i - 1] != 'e' && rest[i - 1] != 'E') return i;
    }
    return std::string_view::npos;
}

std::string show(const Segment& s) {
    return s.start.to_string() + ".." + s.end.to_string() + (s.multiply ? "*" : "+") + s.step.to_string();
}

// Splits at commas outside parentheses.
std::vector<std::string_view> split_top(std::string_view text) {
    std::vector<std::string_view> parts;
    int depth = 0;
    std::size_t start = 0;
    for (std::size_t i = 0; i <= text.size(); ++i) {
        if (i == text.size() || (text[i] == ',' && depth == 0)) {
            parts.push_back(trim(text.substr(start, i - start)));
            start = i + 1;
        } else if (text[i] == '(') {
            ++depth;
        } else if (text[i] == ')') {
            --depth;
        }
    }
    return parts;
}

bool is_identifier(std::string_view s) {
    if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
    return std::all_of(s.begin(), s.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
}

// The `=` of `name=EXPR`: the first one that is not part of ==, <=, >= or !=.
std::size_t naming_equals(std::string_view item) {
    for (std::size_t i = 0; i < item.size(); ++i) {
        if (item[i] != '=') continue;
        bool joined = (i + 1 < item.size() && item[i + 1] == '=') || (i > 0 && std::string_view("<>!=").find(item[i - 1]) != std::string_view::npos);
        if (!joined) return i;
        ++i;
    }
    return std::string_view::npos;
}

}  // namespace

void check_segment(const Segment& s) {
    if (s.start > s.end) {
        throw SpecError{"the range " + s.start.to_string() + ".." + s.end.to_string() + " is empty",
                        "a range A..B needs A <= B"};
    }
    if (s.multiply) {
        if (!s.step.is_integer() || s.step < Number(2)) {
            throw SpecError{"the factor of " + show(s) + " must be an integer of at least 2",
                            "for finer steps use A..B+STEP"};
        }
        if (s.start.sign() <= 0) throw SpecError{"the multiplying range " + show(s) + " must start above 0", ""};
    } else if (s.step.sign() <= 0) {
        throw SpecError{"the step of " + show(s) + " must be positive", "e.g. 1..4096+256"};
    }
}

std::vector<Segment> parse_values(std::string_view text) {
    std::vector<Segment> segments;
    for (std::string_view item : split_top(text)) {
        if (item.empty()) throw SpecError{"'" + std::string(text) + "' has an empty value", range_help};
        Segment s;
        std::size_t dots = item.find("..");
        if (dots == std::string_view::npos) {
            s.start = s.end = number(item, item);
        } else {
            s.start = number(item.substr(0, dots), item);
            std::string_view rest = item.substr(dots + 2);
            std::size_t op = step_position(rest);
            s.end = number(rest.substr(0, op), item);
            if (op != std::string_view::npos) {
                s.multiply = rest[op] == '*';
                s.step = number(rest.substr(op + 1), item);
            }
        }
        check_segment(s);
        segments.push_back(std::move(s));
    }
    return segments;
}

std::uint64_t count(const Segment& s, std::uint64_t cap) {
    if (!s.multiply) {
        auto steps = Number::floor_divide(s.end - s.start, s.step);
        Number n = *steps + Number(1);
        return n > Number(static_cast<std::int64_t>(cap)) ? cap + 1 : static_cast<std::uint64_t>(*n.to_int64());
    }
    // An integer factor >= 2: at most one step per bit of end / start.
    std::uint64_t n = 0;
    for (Number v = s.start; v <= s.end; v = v * s.step) {
        if (++n > cap) return cap + 1;
    }
    return n;
}

std::uint64_t grid_size(const std::vector<Axis>& axes, std::uint64_t cap) {
    std::uint64_t total = 1;
    for (const auto& a : axes) {
        std::uint64_t n = 0;
        for (const auto& s : a.segments) {
            n += count(s, cap);
            if (n > cap) return cap + 1;
        }
        if (n != 0 && total > cap / n) return cap + 1;
        total *= n;
        if (total > cap) return cap + 1;
    }
    return total;
}

// ---- Grid

Grid::Grid(const std::vector<Axis>& axes) : axes_(axes), segment_(axes.size(), 0), point_(axes.size()) {}

bool Grid::start_axis(std::size_t a) {
    segment_[a] = 0;
    if (axes_[a].segments.empty()) return false;
    point_[a] = axes_[a].segments[0].start;
    return true;
}

bool Grid::advance_axis(std::size_t a) {
    const Segment& s = axes_[a].segments[segment_[a]];
    Number next = s.multiply ? point_[a] * s.step : point_[a] + s.step;
    if (next <= s.end) {
        point_[a] = std::move(next);
        return true;
    }
    if (++segment_[a] == axes_[a].segments.size()) return false;
    point_[a] = axes_[a].segments[segment_[a]].start;
    return true;
}

bool Grid::next() {
    if (!started_) {
        started_ = true;
        if (axes_.empty()) return false;
        for (std::size_t a = 0; a < axes_.size(); ++a) {
            if (!start_axis(a)) return false;
        }
        return true;
    }
    for (std::size_t a = axes_.size(); a-- > 0;) {
        if (advance_axis(a)) {
            for (std::size_t b = a + 1; b < axes_.size(); ++b) start_axis(b);
            return true;
        }
    }
    return false;
}

// ---- Columns

struct Columns::Node {
    enum class Kind { number, metric, runtime, unary, binary, and_, or_, function, cond };
    Kind kind = Kind::number;
    ast::Op op = ast::Op::add;
    interp::Fn fn = interp::Fn::min;
    Value constant;
    std::uint32_t index = 0;  // metric: position in metrics_read_ (fixed up after parsing); runtime: its index
    std::vector<std::unique_ptr<Node>> args;
};

Columns::Columns() = default;
Columns::~Columns() = default;
Columns::Columns(Columns&&) noexcept = default;
Columns& Columns::operator=(Columns&&) noexcept = default;

namespace {

using NodePtr = std::unique_ptr<Columns::Node>;

}  // namespace

Columns Columns::metrics(const ColumnNames& names, const std::vector<std::uint32_t>& which) {
    Columns c;
    for (std::uint32_t m : which) {
        auto n = std::make_unique<Node>();
        n->kind = Node::Kind::metric;
        n->index = static_cast<std::uint32_t>(c.metrics_read_.size());
        c.metrics_read_.push_back(m);
        c.headers_.push_back(names.metrics[m]);
        c.exprs_.push_back(std::move(n));
    }
    return c;
}

Columns Columns::parse(std::string_view text, const ColumnNames& names) {
    std::vector<std::string> known = names.metrics;
    known.insert(known.end(), names.runtimes.begin(), names.runtimes.end());
    std::vector<std::uint32_t> read;  // metrics, in the order first read
    // Builds the evaluation tree of a parsed expression; names resolved once.
    struct Builder {
        const ColumnNames& names;
        const std::vector<std::string>& known;
        std::vector<std::uint32_t>& read;
        std::string item;
        NodePtr build(const ast::Expr& e) {
            auto n = std::make_unique<Node>();
            switch (e.kind) {
            case ast::ExprKind::number:
                n->kind = Node::Kind::number;
                n->constant = Value::of(e.number);
                return n;
            case ast::ExprKind::name: {
                auto m = std::find(names.metrics.begin(), names.metrics.end(), e.text);
                if (m != names.metrics.end()) {
                    n->kind = Node::Kind::metric;
                    n->index = static_cast<std::uint32_t>(m - names.metrics.begin());
                    if (std::find(read.begin(), read.end(), n->index) == read.end()) read.push_back(n->index);
                    return n;
                }
                auto r = std::find(names.runtimes.begin(), names.runtimes.end(), e.text);
                if (r != names.runtimes.end()) {
                    n->kind = Node::Kind::runtime;
                    n->index = static_cast<std::uint32_t>(r - names.runtimes.begin());
                    return n;
                }
                auto best = interp::closest(e.text, known);
                // Two letters swapped ('raed') is a typo too, however short the name.
                for (std::size_t i = 0; !best && i < known.size(); ++i) {
                    std::string a = e.text, b = known[i];
                    std::sort(a.begin(), a.end());
                    std::sort(b.begin(), b.end());
                    if (a == b) best = known[i];
                }
                throw SpecError{"option '--columns': unknown name '" + e.text + "' in '" + item + "'",
                                best ? "did you mean '" + *best + "'?" : "metrics: " + interp::join(names.metrics)};
            }
            case ast::ExprKind::unary:
                n->kind = Node::Kind::unary;
                break;
            case ast::ExprKind::binary:
                n->kind = e.op == ast::Op::and_ ? Node::Kind::and_ : e.op == ast::Op::or_ ? Node::Kind::or_ : Node::Kind::binary;
                if (e.op == ast::Op::default_) throw SpecError{"option '--columns': the default operator has nothing to default in '" + item + "'", ""};
                break;
            case ast::ExprKind::function: {
                n->kind = Node::Kind::function;
                const int index = ast::function_index(e.text);
                n->fn = static_cast<interp::Fn>(index);
                if (std::string problem = ast::function_arity_problem(index, e.args.size()); !problem.empty())
                    throw SpecError{"option '--columns': " + problem + " in '" + item + "'", ""};
                break;
            }
            case ast::ExprKind::cond:
                n->kind = Node::Kind::cond;
                break;
            default:
                throw SpecError{"option '--columns': '" + item + "' may use metric names, runtime variables and numbers only",
                                "e.g. intensity=flops/(read+write)"};
            }
            n->op = e.op;
            for (const auto& a : e.args) n->args.push_back(build(*a));
            return n;
        }
    };
    Columns c;
    for (std::string_view item : split_top(text)) {
        if (item.empty()) continue;
        std::string name;
        std::string_view expr_text = item;
        if (std::size_t eq = naming_equals(item); eq != std::string_view::npos) {
            name = std::string(trim(item.substr(0, eq)));
            expr_text = trim(item.substr(eq + 1));
            if (!is_identifier(name)) {
                throw SpecError{"option '--columns': a column's name must be an identifier, got '" + name + "'",
                                "e.g. intensity=flops/(read+write)"};
            }
            if (expr_text.empty()) throw SpecError{"option '--columns': '" + std::string(item) + "' needs an expression after '='", ""};
        } else {
            name = std::string(item);
        }
        if (std::find(c.headers_.begin(), c.headers_.end(), name) != c.headers_.end())
            throw SpecError{"option '--columns': the column '" + name + "' is given twice", ""};
        interp::SourceFile file("<--columns>", std::string(expr_text));
        ast::ExprPtr expr;
        try {
            expr = grammar::parse_expression(file);
        } catch (const CostiError& e) {
            const Diagnostic& d = e.diagnostics().front();
            throw SpecError{"option '--columns': " + d.message + " in '" + std::string(expr_text) + "' at character " +
                                std::to_string(d.span.begin + 1),
                            d.hint};
        }
        Builder b{names, known, read, std::string(item)};
        c.exprs_.push_back(b.build(*expr));
        c.headers_.push_back(std::move(name));
    }
    if (c.exprs_.empty()) throw SpecError{"option '--columns' takes a list such as flops,read,intensity=flops/(read+write)", "metrics: " + interp::join(names.metrics)};
    // Metric nodes index the totals in ascending metric order.
    std::sort(read.begin(), read.end());
    struct Fix {
        const std::vector<std::uint32_t>& read;
        void operator()(Node& n) const {
            if (n.kind == Node::Kind::metric)
                n.index = static_cast<std::uint32_t>(std::lower_bound(read.begin(), read.end(), n.index) - read.begin());
            for (auto& a : n.args) (*this)(*a);
        }
    };
    for (auto& e : c.exprs_) Fix{read}(*e);
    c.metrics_read_ = std::move(read);
    return c;
}

std::optional<std::uint32_t> Columns::plain_metric(std::size_t i) const {
    if (exprs_[i]->kind != Node::Kind::metric) return std::nullopt;
    return metrics_read_[exprs_[i]->index];
}

namespace {

[[noreturn]] void fail(const interp::OpError& err, const std::string& column) {
    throw CostiError(Diagnostic{err.code, {}, err.message + " in column " + column, err.hint, {}});
}

Value eval(const Columns::Node& n, const std::vector<Number>& totals, const std::vector<Value>& runtime,
           const std::string& column) {
    using Kind = Columns::Node::Kind;
    interp::OpError err;
    switch (n.kind) {
    case Kind::number:
        return n.constant;
    case Kind::metric:
        return Value::of(totals[n.index]);
    case Kind::runtime:
        return runtime[n.index];
    case Kind::unary: {
        auto v = interp::apply_unary(n.op, eval(*n.args[0], totals, runtime, column), err);
        if (!v) fail(err, column);
        return *v;
    }
    case Kind::binary: {
        auto v = interp::apply_binary(n.op, eval(*n.args[0], totals, runtime, column), eval(*n.args[1], totals, runtime, column), err);
        if (!v) fail(err, column);
        return *v;
    }
    case Kind::and_:
    case Kind::or_: {
        auto a = interp::truth(eval(*n.args[0], totals, runtime, column), err);
        if (!a) fail(err, column);
        if (*a == (n.kind == Kind::or_)) return Value::of(*a ? 1 : 0);
        auto b = interp::truth(eval(*n.args[1], totals, runtime, column), err);
        if (!b) fail(err, column);
        return Value::of(*b ? 1 : 0);
    }
    case Kind::function: {
        std::vector<Value> args;
        for (const auto& a : n.args) args.push_back(eval(*a, totals, runtime, column));
        auto v = interp::apply_function(n.fn, args, err);
        if (!v) fail(err, column);
        return *v;
    }
    case Kind::cond: {
        auto c = interp::truth(eval(*n.args[0], totals, runtime, column), err);
        if (!c) fail(err, column);
        return eval(*n.args[*c ? 1 : 2], totals, runtime, column);
    }
    }
    return Value::of(0);
}

}  // namespace

void Columns::evaluate(const std::vector<Number>& totals, const std::vector<Value>& runtime, std::vector<Value>& out) const {
    out.resize(exprs_.size());
    for (std::size_t i = 0; i < exprs_.size(); ++i) {
        const Node& n = *exprs_[i];
        out[i] = n.kind == Node::Kind::metric ? Value::of(totals[n.index]) : eval(n, totals, runtime, headers_[i]);
    }
}

// ---- PointEvaluator

PointEvaluator::PointEvaluator(const interp::Session& session, const interp::Model& model, interp::Overrides base,
                               const std::vector<Axis>& axes, std::vector<std::uint32_t> metrics, bool interpret)
    : session_(session), model_(model), base_(std::move(base)), axes_(axes), metrics_(std::move(metrics)) {
    env_ = session_.environment(model_, base_);
    bool config = std::any_of(axes_.begin(), axes_.end(), [](const Axis& a) { return a.config; });
    if (interpret || config) return;
    std::vector<std::uint32_t> free;
    for (const auto& a : axes_) free.push_back(a.runtime);
    std::sort(free.begin(), free.end());
    try {
        form_ = std::make_unique<interp::Compiled>(session_.compile(model_, base_, free, 0));
    } catch (const CostiError& e) {
        if (e.diagnostics().front().code != interp::code::not_compilable) throw;
        fallback_ = e.diagnostics().front().message;
        return;
    }
    std::vector<interp::Poly> outputs;
    for (std::uint32_t m : metrics_) outputs.push_back(form_->total(m));
    fast_ = std::make_unique<interp::FastForm>(*form_, std::move(outputs));
    order_.assign(form_->free.size(), -1);
    for (std::size_t a = 0; a < axes_.size(); ++a) order_[static_cast<std::size_t>(form_->free_index(axes_[a].runtime))] = static_cast<int>(a);
    free_point_.resize(form_->free.size());
}

PointEvaluator::~PointEvaluator() = default;

void PointEvaluator::evaluate(const std::vector<Number>& point, std::vector<Number>& totals, std::vector<Value>& runtime) {
    if (fast_) {
        for (std::size_t i = 0; i < order_.size(); ++i) free_point_[i] = point[static_cast<std::size_t>(order_[i])];
        fast_->evaluate(free_point_, totals);
        runtime = env_.runtime;
        for (std::size_t a = 0; a < axes_.size(); ++a) runtime[axes_[a].runtime] = Value::of(point[a]);
        return;
    }
    interp::Overrides ov = base_;
    for (std::size_t a = 0; a < axes_.size(); ++a) {
        const Axis& axis = axes_[a];
        if (axis.config) {
            std::string key = axis.name.substr(7);
            std::erase_if(ov.config, [&](const auto& kv) { return kv.first == key; });
            ov.config.emplace_back(key, Value::of(point[a]));
        } else {
            std::erase_if(ov.runtime, [&](const auto& kv) { return kv.first == axis.name; });
            ov.runtime.emplace_back(axis.name, Value::of(point[a]));
        }
    }
    interp::Environment env = session_.environment(model_, ov);
    runtime = env.runtime;
    interp::CostNode root = session_.run_in(model_, std::move(env), 0);
    totals.resize(metrics_.size());
    const auto& all = session_.program().metrics;
    for (std::size_t i = 0; i < metrics_.size(); ++i)
        totals[i] = interp::total_of(all[metrics_[i]], root.count, root.cost[metrics_[i]]);
}

std::string error_text(const CostiError& e) {
    if (e.diagnostics().empty()) return e.what();
    const Diagnostic& d = e.diagnostics().front();
    return d.code + ": " + d.message;
}

}  // namespace costi::sweep
