// Compiled forms as text and JSON (see report_formula.hpp).
#include "repl/report_formula.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "interpreter/ops.hpp"
#include "repl/human.hpp"

namespace costi::report {

using interp::Atom;
using interp::AtomKind;
using interp::Compiled;
using interp::Guard;
using interp::Monomial;
using interp::Number;
using interp::Poly;
using interp::Term;
using interp::Var;

namespace {

// Atoms nested deeper than this inside a formula are written by name (a12) and defined
// below it: the text stays readable, and printing needs no recursion deeper than this.
constexpr int max_inline_depth = 4;
// Calls deeper than this are indented no further, so a deep tree's text grows linearly.
constexpr int max_indent_levels = 8;

std::string superscript(std::uint32_t n) {
    static const char* digits[] = {"⁰", "¹", "²", "³", "⁴", "⁵", "⁶", "⁷", "⁸", "⁹"};
    std::string out;
    for (char c : std::to_string(n)) out += digits[c - '0'];
    return out;
}

std::uint32_t degree(const Monomial& m) {
    std::uint32_t d = 0;
    for (const auto& f : m) d += f.power;
    return d;
}

// Terms by falling degree, then by their variables in order, higher powers first.
bool reads_before(const Term& a, const Term& b) {
    std::uint32_t da = degree(a.mono), db = degree(b.mono);
    if (da != db) return da > db;
    for (std::size_t i = 0; i < std::min(a.mono.size(), b.mono.size()); ++i) {
        if (a.mono[i].var != b.mono[i].var) return a.mono[i].var < b.mono[i].var;
        if (a.mono[i].power != b.mono[i].power) return a.mono[i].power > b.mono[i].power;
    }
    return a.mono.size() < b.mono.size();
}

class Printer {
public:
    explicit Printer(const Compiled& form) : form_(form) {}

    std::string poly(const Poly& p, int depth = 0) { return parts(p, depth).first; }

    // The text, and whether it is a sum (needs parentheses as a factor). Terms are grouped
    // by their atoms — has_mask·(…) + (…) — then a factor common to a group's terms is taken
    // out: batch_size·(…).
    std::pair<std::string, bool> parts(const Poly& p, int depth) {
        if (p.is_zero()) return {"0", false};
        std::vector<std::pair<Monomial, std::vector<Term>>> groups;  // atom part -> terms over free variables
        for (const Term& t : p.terms()) {
            Monomial atoms, rest;
            for (const auto& f : t.mono) (form_.is_atom(f.var) ? atoms : rest).push_back(f);
            auto it = std::find_if(groups.begin(), groups.end(), [&](const auto& g) { return g.first == atoms; });
            if (it == groups.end()) {
                groups.push_back({atoms, {}});
                it = groups.end() - 1;
            }
            it->second.push_back({rest, t.coef});
        }
        if (groups.size() == 1 && groups[0].first.empty()) return factored(groups[0].second, depth);
        // Groups with atoms first, in the order their terms read; the atom-free group last.
        std::stable_sort(groups.begin(), groups.end(), [](const auto& a, const auto& b) { return !a.first.empty() && b.first.empty(); });
        std::string out;
        for (const auto& [atoms, terms] : groups) {
            std::string text;
            bool negative = false;
            if (atoms.empty()) {
                auto [t, sum] = factored(terms, depth);
                text = t;
            } else if (terms.size() == 1) {
                negative = terms[0].coef.sign() < 0;
                Number c = negative ? -terms[0].coef : terms[0].coef;
                Monomial all = interp::monomial_product(terms[0].mono, atoms);
                text = (c == Number(1) ? "" : grouped(c) + "·") + monomial(all, depth);
            } else {
                auto [t, sum] = factored(terms, depth);
                text = monomial(atoms, depth) + "·" + (sum ? "(" + t + ")" : t);
            }
            if (out.empty()) {
                out = (negative ? "-" : "") + text;
            } else if (negative) {
                out += " - " + text;
            } else if (text[0] == '-') {
                out += " - " + text.substr(1);
            } else {
                out += " + " + text;
            }
        }
        return {out, true};
    }

    // Terms over free variables, a factor every term shares taken out.
    std::pair<std::string, bool> factored(std::vector<Term> terms, int depth) {
        Monomial common;
        if (terms.size() > 1) {
            common = terms[0].mono;
            for (const auto& t : terms) {
                Monomial keep;
                for (const auto& f : common) {
                    for (const auto& g : t.mono)
                        if (g.var == f.var) keep.push_back({f.var, std::min(f.power, g.power)});
                }
                common = keep;
            }
        }
        if (common.empty()) return {sum(terms, depth), terms.size() > 1};
        for (auto& t : terms) {
            Monomial rest;
            for (const auto& f : t.mono) {
                std::uint32_t power = f.power;
                for (const auto& g : common)
                    if (g.var == f.var) power -= g.power;
                if (power > 0) rest.push_back({f.var, power});
            }
            t.mono = rest;
        }
        return {monomial(common, depth) + "·(" + sum(terms, depth) + ")", false};
    }

    // p with its denominator shown once: (cache_len + seq_len)/16.
    std::string fraction(const Poly& p, int depth) {
        Number d = p.denominator();
        if (d == Number(1)) return poly(p, depth);
        Poly n = p.scaled(d);
        std::string text = poly(n, depth);
        return (n.terms().size() > 1 ? "(" + text + ")" : text) + "/" + grouped(d);
    }

    std::string atom(Var v, int depth) {
        const Atom& a = form_.atom(v);
        auto arg = [&](std::size_t i) { return fraction(a.args[i], depth + 1); };
        // An operand: an atom as variable() writes it (parenthesised unless call-like), a
        // comparison bare inside and/or/not/if, other expressions parenthesised when compound.
        auto wrapped = [&](std::size_t i) {
            auto v = a.args[i].single_var();
            if (v && form_.is_atom(*v)) {
                bool logical = a.kind == AtomKind::and_ || a.kind == AtomKind::or_ || a.kind == AtomKind::not_;
                if (logical && form_.atom(*v).kind == AtomKind::cmp && depth + 1 < max_inline_depth) return atom(*v, depth + 1);
                return variable(*v, depth + 1);
            }
            std::string t = arg(i);
            return t.find_first_of(" ·") != std::string::npos ? "(" + t + ")" : t;
        };
        auto condition = [&](std::size_t i) {
            auto v = a.args[i].single_var();
            if (v && form_.is_atom(*v) && depth + 1 < max_inline_depth) return atom(*v, depth + 1);
            return arg(i);
        };
        switch (a.kind) {
            case AtomKind::floor:
                return "floor(" + arg(0) + ")";
            case AtomKind::ceil:
                return "ceil(" + arg(0) + ")";
            case AtomKind::abs:
                return "abs(" + arg(0) + ")";
            case AtomKind::min:
            case AtomKind::max: {
                std::string out = a.kind == AtomKind::min ? "min(" : "max(";
                for (std::size_t i = 0; i < a.args.size(); ++i) out += (i ? ", " : "") + arg(i);
                return out + ")";
            }
            case AtomKind::mod:
                return wrapped(0) + " % " + wrapped(1);
            case AtomKind::recip:
                return "1/" + wrapped(0);
            case AtomKind::cmp:
                return arg(0) + " " + interp::op_text(a.op) + " " + arg(1);
            case AtomKind::and_:
                return wrapped(0) + " and " + wrapped(1);
            case AtomKind::or_:
                return wrapped(0) + " or " + wrapped(1);
            case AtomKind::not_:
                return "not " + wrapped(0);
            case AtomKind::cond:
                return "if " + condition(0) + " then " + arg(1) + " else " + arg(2);
        }
        return "?";
    }

    std::string name(Var v) const {
        return form_.is_atom(v) ? "a" + std::to_string(v - form_.free.size())
                                : form_.program->runtimes[form_.free[v]].name;
    }

    // The atoms named so far and not yet defined, last first (their definitions may name more).
    std::optional<Var> next_named() {
        for (auto it = named_.rbegin(); it != named_.rend(); ++it)
            if (defined_.count(*it) == 0) {
                defined_.insert(*it);
                return *it;
            }
        return std::nullopt;
    }

private:
    std::string variable(Var v, int depth) {
        if (!form_.is_atom(v)) return name(v);
        if (depth >= max_inline_depth) {
            named_.insert(v);
            return name(v);
        }
        std::string text = atom(v, depth);
        AtomKind k = form_.atom(v).kind;
        bool call_like = k == AtomKind::floor || k == AtomKind::ceil || k == AtomKind::abs || k == AtomKind::min ||
                         k == AtomKind::max;
        return call_like ? text : "(" + text + ")";
    }

    std::string monomial(const Monomial& m, int depth) {
        std::string out;
        for (const auto& f : m) {
            if (!out.empty()) out += "·";
            out += variable(f.var, depth) + (f.power > 1 ? superscript(f.power) : "");
        }
        return out;
    }

    std::string sum(std::vector<Term> terms, int depth) {
        std::sort(terms.begin(), terms.end(), reads_before);
        std::string out;
        for (const auto& t : terms) {
            bool negative = t.coef.sign() < 0;
            Number c = negative ? -t.coef : t.coef;
            std::string text;
            if (t.mono.empty()) {
                text = grouped(c);
            } else {
                text = (c == Number(1) ? "" : grouped(c) + "·") + monomial(t.mono, depth);
            }
            if (out.empty()) {
                out = (negative ? "-" : "") + text;
            } else {
                out += (negative ? " - " : " + ") + text;
            }
        }
        return out;
    }

    const Compiled& form_;
    std::set<Var> named_;
    std::set<Var> defined_;
};

nlohmann::ordered_json poly_json(const Compiled& form, Printer& printer, const Poly& p) {
    nlohmann::ordered_json terms = nlohmann::ordered_json::array();
    for (const auto& t : p.terms()) {
        nlohmann::ordered_json mono = nlohmann::ordered_json::object();
        for (const auto& f : t.mono) mono[printer.name(f.var)] = f.power;
        terms.push_back({{"coefficient", t.coef.to_string()}, {"monomial", mono}});
    }
    (void)form;
    return {{"text", valid_utf8(printer.poly(p))}, {"terms", terms}};
}

const char* kind_name(AtomKind k) {
    switch (k) {
        case AtomKind::floor:
            return "floor";
        case AtomKind::ceil:
            return "ceil";
        case AtomKind::abs:
            return "abs";
        case AtomKind::min:
            return "min";
        case AtomKind::max:
            return "max";
        case AtomKind::mod:
            return "mod";
        case AtomKind::recip:
            return "reciprocal";
        case AtomKind::cmp:
            return "compare";
        case AtomKind::and_:
            return "and";
        case AtomKind::or_:
            return "or";
        case AtomKind::not_:
            return "not";
        case AtomKind::cond:
            return "if";
    }
    return "?";
}

const char* guard_kind(Guard::Kind k) {
    switch (k) {
        case Guard::Kind::fail:
            return "fails";
        case Guard::Kind::nonzero:
            return "nonzero";
        case Guard::Kind::require:
            return "require";
        case Guard::Kind::count:
            return "count";
        case Guard::Kind::domain:
            return "domain";
    }
    return "?";
}

// A guard as people read it: "cache_len + seq_len <= 1024", "seq_len - 2 != 0".
std::string guard_text(const Compiled& form, Printer& printer, const Guard& g) {
    std::string condition;
    switch (g.kind) {
        case Guard::Kind::fail:
            condition = "never";
            break;
        case Guard::Kind::nonzero:
        case Guard::Kind::require:
            if (auto v = g.value.single_var(); v && form.is_atom(*v) && form.atom(*v).boolean) {
                condition = printer.atom(*v, 0);
            } else {
                condition = printer.poly(g.value) + " != 0";
            }
            break;
        case Guard::Kind::count:
            condition = printer.poly(g.value) + " is an integer >= 0";
            break;
        case Guard::Kind::domain:
            condition = printer.poly(g.value) + " is " + form.program->runtimes[g.runtime].domain.describe();
            break;
    }
    std::string where;
    for (const auto& l : g.path) where += (where.empty() ? "" : " and ") + std::string(l.holds ? "" : "not ") + printer.poly(l.value);
    std::string message = g.diagnostic.message.empty() ? "" : ": " + g.diagnostic.message;
    return (where.empty() ? "" : "where " + where + ", ") + condition + "  [" + g.diagnostic.code + message + "]";
}

bool shown_guard(const Guard& g) {
    return !(g.kind == Guard::Kind::domain && g.diagnostic.span.file == nullptr);  // a free variable's own domain
}

}  // namespace

std::string poly_text(const Compiled& form, const Poly& p) {
    Printer printer(form);
    return printer.poly(p);
}

void formula_text(std::ostream& out, const Compiled& form, const FormulaInfo& info) {
    const interp::Program& program = *form.program;
    Printer printer(form);
    out << "model " << valid_utf8(info.model) << "\n";
    if (!info.engine.empty()) out << "engine " << valid_utf8(info.engine) << "\n";
    if (!info.hardware.empty()) out << "hardware " << valid_utf8(info.hardware) << "\n";
    out << "free:";
    if (form.free.empty()) out << " none";
    for (std::size_t i = 0; i < form.free.size(); ++i)
        out << (i ? ", " : " ") << program.runtimes[form.free[i]].name << " ("
            << program.runtimes[form.free[i]].domain.describe() << ")";
    out << "\n";
    if (!info.fixed.empty()) {
        out << "fixed:";
        for (std::size_t i = 0; i < info.fixed.size(); ++i)
            out << (i ? ", " : " ") << info.fixed[i].first << " = " << valid_utf8(info.fixed[i].second.show());
        out << "\n";
    }
    out << "\ntotals\n";
    for (std::uint32_t m = 0; m < program.metrics.size(); ++m)
        out << "  " << program.metrics[m].name << " = " << valid_utf8(printer.poly(form.total(m))) << "\n";
    if (info.depth != 0 && !form.root.children.empty()) {
        out << "\ncalls (each metric per call; ×count: calls per parent call)\n";
        // Depth-first with an explicit stack: the tree is as deep as the kernels' calls nest.
        std::vector<std::pair<const interp::CompiledNode*, int>> stack;
        for (auto it = form.root.children.rbegin(); it != form.root.children.rend(); ++it) stack.emplace_back(&*it, 1);
        while (!stack.empty()) {
            auto [node, level] = stack.back();
            stack.pop_back();
            std::string indent(2 * static_cast<std::size_t>(std::min(level, max_indent_levels)), ' ');
            std::string count;
            if (!(node->count == Poly::constant(Number(1)))) {
                std::string c = printer.poly(node->count);
                count = node->count.terms().size() > 1 ? " ×(" + c + ")" : " ×" + c;
            }
            out << indent << valid_utf8(node->label) << count << "  $" << valid_utf8(node->kernel->name) << "\n";
            bool any = false;
            for (std::uint32_t m = 0; m < program.metrics.size(); ++m) {
                if (node->cost[m].is_zero()) continue;
                any = true;
                out << indent << "    " << program.metrics[m].name << " = " << valid_utf8(printer.poly(node->cost[m]))
                    << "\n";
            }
            if (!any) out << indent << "    (no cost)\n";
            for (auto it = node->children.rbegin(); it != node->children.rend(); ++it) stack.emplace_back(&*it, level + 1);
        }
    }
    bool header = false;
    for (const Guard& g : form.guards) {
        if (!shown_guard(g)) continue;
        if (!header) out << "\nguards: where one fails, so does the model (as `costi run` at that point)\n";
        header = true;
        out << "  " << valid_utf8(guard_text(form, printer, g)) << "\n";
    }
    bool where = false;
    while (auto v = printer.next_named()) {
        if (!where) out << "\nwhere\n";
        where = true;
        out << "  " << printer.name(*v) << " = " << valid_utf8(printer.atom(*v, 0)) << "\n";
    }
}

void formula_json(std::ostream& out, const Compiled& form, const FormulaInfo& info) {
    const interp::Program& program = *form.program;
    Printer printer(form);
    nlohmann::ordered_json doc;
    doc["model"] = valid_utf8(info.model);
    if (!info.engine.empty()) doc["engine"] = valid_utf8(info.engine);
    if (!info.hardware.empty()) doc["hardware"] = valid_utf8(info.hardware);
    nlohmann::ordered_json free = nlohmann::ordered_json::array();
    for (auto r : form.free) free.push_back({{"name", program.runtimes[r].name}, {"domain", program.runtimes[r].domain.describe()}});
    doc["free"] = free;
    nlohmann::ordered_json fixed = nlohmann::ordered_json::object();
    for (const auto& [name, v] : info.fixed) fixed[name] = v.is_number() ? v.num.to_string() : valid_utf8(v.str);
    doc["fixed"] = fixed;
    nlohmann::ordered_json totals = nlohmann::ordered_json::object();
    for (std::uint32_t m = 0; m < program.metrics.size(); ++m)
        totals[program.metrics[m].name] = poly_json(form, printer, form.total(m));
    doc["totals"] = totals;
    if (info.depth != 0) {
        // Built bottom-up with an explicit stack (post-order), as deep as the calls nest.
        struct Frame {
            const interp::CompiledNode* node;
            std::size_t next = 0;
            nlohmann::ordered_json calls = nlohmann::ordered_json::array();
        };
        auto make = [&](const interp::CompiledNode& n, nlohmann::ordered_json calls) {
            nlohmann::ordered_json j;
            j["label"] = valid_utf8(n.label);
            j["kernel"] = valid_utf8(n.kernel->name);
            j["count"] = poly_json(form, printer, n.count);
            nlohmann::ordered_json cost = nlohmann::ordered_json::object();
            for (std::uint32_t m = 0; m < program.metrics.size(); ++m)
                cost[program.metrics[m].name] = poly_json(form, printer, n.cost[m]);
            j["cost"] = cost;
            if (!calls.empty()) j["calls"] = std::move(calls);
            return j;
        };
        std::vector<Frame> stack;
        stack.push_back({&form.root});
        nlohmann::ordered_json root;
        while (!stack.empty()) {
            Frame& f = stack.back();
            if (f.next < f.node->children.size()) {
                const interp::CompiledNode* child = &f.node->children[f.next++];
                stack.push_back({child});
                continue;
            }
            nlohmann::ordered_json done = make(*f.node, std::move(f.calls));
            stack.pop_back();
            if (stack.empty()) {
                root = std::move(done);
            } else {
                stack.back().calls.push_back(std::move(done));
            }
        }
        doc["calls"] = root.contains("calls") ? root["calls"] : nlohmann::ordered_json::array();
    }
    nlohmann::ordered_json guards = nlohmann::ordered_json::array();
    for (const Guard& g : form.guards) {
        if (!shown_guard(g)) continue;
        nlohmann::ordered_json j;
        j["kind"] = guard_kind(g.kind);
        j["value"] = poly_json(form, printer, g.value);
        nlohmann::ordered_json path = nlohmann::ordered_json::array();
        for (const auto& l : g.path) path.push_back({{"value", poly_json(form, printer, l.value)}, {"holds", l.holds}});
        j["where"] = path;
        if (g.kind == Guard::Kind::domain) j["variable"] = program.runtimes[g.runtime].name;
        j["code"] = g.diagnostic.code;
        j["message"] = valid_utf8(g.diagnostic.message);
        j["at"] = valid_utf8(interp::location(g.diagnostic.span));
        j["text"] = valid_utf8(guard_text(form, printer, g));
        guards.push_back(std::move(j));
    }
    doc["guards"] = guards;
    // Every atom the formulas use, each defined over earlier variables.
    nlohmann::ordered_json atoms = nlohmann::ordered_json::array();
    for (std::size_t i = 0; i < form.atoms.size(); ++i) {
        const Atom& a = form.atoms[i];
        Var v = static_cast<Var>(form.free.size() + i);
        nlohmann::ordered_json j;
        j["name"] = printer.name(v);
        j["kind"] = kind_name(a.kind);
        if (a.kind == AtomKind::cmp) j["op"] = interp::op_text(a.op);
        nlohmann::ordered_json args = nlohmann::ordered_json::array();
        for (const auto& p : a.args) args.push_back(poly_json(form, printer, p));
        j["args"] = args;
        j["text"] = valid_utf8(printer.atom(v, 0));
        atoms.push_back(std::move(j));
    }
    doc["atoms"] = atoms;
    out << doc.dump(2) << "\n";
}

}  // namespace costi::report
