// Showing values and aligned tables.
#include "repl/present.hpp"

#include <algorithm>

#include "repl/human.hpp"
#include "repl/report.hpp"

namespace costi::repl {

namespace {

// Beyond this size a number is shown by its exact digits alone: a compact form such as
// "1.2e3000" says little more, and producing it costs time proportional to the digits.
constexpr std::size_t max_compact_bits = 1024;

std::size_t width(const std::string& s) {
    std::size_t n = 0;
    for (unsigned char c : s) n += (c & 0xC0) != 0x80 ? 1 : 0;
    return n;
}

}  // namespace

std::string show_value(const interp::Value& v, const std::string& unit, report::Style style) {
    if (!v.is_number()) return v.show();
    std::string exact = report::grouped(v.num);
    if (v.num.bit_size() > max_compact_bits) return exact;
    bool small_integer = v.num.is_integer() && v.num.abs() < interp::Number(10000);
    if (small_integer) return exact;
    std::string approx = report::compact(v.num, unit, style);
    return approx == exact ? exact : exact + "  (" + approx + ")";
}

std::string show_exact(const interp::Value& v) {
    return v.is_number() ? report::grouped(v.num) : v.show();
}

std::string runtime_summary(const interp::Program& program, const std::vector<interp::Value>& runtime) {
    std::string out;
    for (std::size_t i = 0; i < program.runtimes.size() && i < runtime.size(); ++i) {
        out += (out.empty() ? "" : "  ") + program.runtimes[i].name + "=" + show_exact(runtime[i]);
    }
    return out;
}

std::string metric_lines(const interp::Program& program, const std::vector<interp::Number>& cost) {
    std::vector<std::vector<std::string>> rows;
    for (std::size_t m = 0; m < program.metrics.size() && m < cost.size(); ++m) {
        const interp::Metric& metric = program.metrics[m];
        std::string exact = report::grouped(cost[m]);
        std::string approx = cost[m].bit_size() > max_compact_bits
                                 ? ""
                                 : report::compact(cost[m], metric.unit, report::style_of(metric));
        rows.push_back({metric.name, exact, approx.empty() || approx == exact ? "" : "(" + approx + ")"});
    }
    return columns(rows, {false, true, false});
}

std::string columns(const std::vector<std::vector<std::string>>& rows, const std::vector<bool>& right,
                    std::size_t indent) {
    std::vector<std::size_t> w;
    for (const auto& r : rows) {
        if (w.size() < r.size()) w.resize(r.size(), 0);
        for (std::size_t i = 0; i < r.size(); ++i) w[i] = std::max(w[i], width(r[i]));
    }
    std::string out;
    for (const auto& r : rows) {
        std::string line(indent, ' ');
        for (std::size_t i = 0; i < r.size(); ++i) {
            std::string pad(w[i] - width(r[i]), ' ');
            bool to_right = i < right.size() && right[i];
            line += (i == 0 ? "" : "  ") + (to_right ? pad + r[i] : r[i] + pad);
        }
        while (!line.empty() && line.back() == ' ') line.pop_back();
        out += line + "\n";
    }
    return out;
}

std::string indent(const std::string& text, std::size_t n) {
    std::string out;
    bool at_start = true;
    for (char c : text) {
        if (at_start && c != '\n') out += std::string(n, ' ');
        out += c;
        at_start = c == '\n';
    }
    return out;
}

}  // namespace costi::repl
