// Runs the grammar and builds the AST from PEGTL's parse tree.
#include "grammar/parse.hpp"

#include <tao/pegtl/contrib/analyze.hpp>
#include <tao/pegtl/contrib/limit_depth.hpp>
#include <tao/pegtl/contrib/parse_tree.hpp>

#include <algorithm>
#include <cassert>
#include <optional>
#include <string_view>

#include "grammar/errors.hpp"
#include "grammar/grammar.hpp"
#include "interpreter/diagnostics.hpp"

namespace costi::grammar {

namespace pt = tao::pegtl::parse_tree;
namespace ast = interp::ast;
using interp::Span;
using Node = pt::node;

// A precedence level with a single operand is just that operand: fold it away, so a literal
// is one node, not ten. (PEGTL's own fold_one also drops the content of the nodes it keeps,
// which the spans of the AST need.)
struct fold_single : pt::apply<fold_single> {
    template <typename Node, typename... States>
    static void transform(std::unique_ptr<Node>& n, States&&... /*unused*/) noexcept {
        if (n->children.size() == 1) n = std::move(n->children.front());
    }
};

// clang-format off
template <typename Rule>
using selector = pt::selector<Rule,
  fold_single::on<power, unary, product, sum, comparison, negation, conjunction, disjunction, defaulted>,
  pt::store_content::on<
    number, string_lit, lit_true, lit_false, config_ref, hw_ref, property_name, dotted_key, fn_call, fn_name, call, qname, binding, name,
    op_pow, op_neg, op_pos, op_floor_div, op_mul, op_div, op_mod, op_add, op_sub,
    op_eq, op_ne, op_le, op_ge, op_lt, op_gt, op_not, op_and, op_or, op_default,
    paren, conditional,
    source_stmt, doc_stmt, require_stmt, let_stmt, child_stmt, count, with_clause, assign_stmt, param, param_list, kernel_decl,
    import_decl, metric_decl, metric_unit, runtime_decl, alias_decl, alias_target, model_name, model_decl,
    config_from, config_block, config_entry, default_stmt,
    domain_type, bound_ge, bound_gt, bound_le, bound_lt, domain_bound, runtime_doc, style_name,
    combine_name, property_decl, hardware_decl, hardware_name, hardware_entry, hardware_note, every_decl,
    engine_decl, engine_entry, engine_from, engine_to>>;
// clang-format on

// Deeply nested input ("((((…" or "- - - - …") would otherwise recurse until the stack
// overflows. Each level of expression nesting costs about 25 rule frames, so this allows
// well over 100 levels of parentheses, far more than any real formula.
template <typename Rule>
struct depth_limit : tao::pegtl::limit_depth<4000> {};

namespace {

struct Builder {
    const interp::SourceFile& file;

    Span span(const Node& n) const {
        // Byte offsets straight from the node: its begin()/end() would build positions naming
        // the input's source, which no longer exists once parsing has returned.
        return {&file, static_cast<std::uint32_t>(n.m_begin.byte), static_cast<std::uint32_t>(n.m_end.byte)};
    }

    static std::string unescape(std::string_view quoted) {
        std::string out;
        for (std::size_t i = 1; i + 1 < quoted.size(); ++i) {
            char c = quoted[i];
            if (c == '\\' && i + 2 < quoted.size()) {
                char e = quoted[++i];
                out.push_back(e == 'n' ? '\n' : e == 't' ? '\t' : e);
            } else {
                out.push_back(c);
            }
        }
        return out;
    }

    static ast::Op op_of(const Node& n) {
        if (n.is_type<op_pow>()) return ast::Op::pow;
        if (n.is_type<op_neg>()) return ast::Op::neg;
        if (n.is_type<op_pos>()) return ast::Op::pos;
        if (n.is_type<op_not>()) return ast::Op::not_;
        if (n.is_type<op_floor_div>()) return ast::Op::floor_div;
        if (n.is_type<op_mul>()) return ast::Op::mul;
        if (n.is_type<op_div>()) return ast::Op::div;
        if (n.is_type<op_mod>()) return ast::Op::mod;
        if (n.is_type<op_add>()) return ast::Op::add;
        if (n.is_type<op_sub>()) return ast::Op::sub;
        if (n.is_type<op_eq>()) return ast::Op::eq;
        if (n.is_type<op_ne>()) return ast::Op::ne;
        if (n.is_type<op_le>()) return ast::Op::le;
        if (n.is_type<op_ge>()) return ast::Op::ge;
        if (n.is_type<op_lt>()) return ast::Op::lt;
        if (n.is_type<op_gt>()) return ast::Op::gt;
        if (n.is_type<op_and>()) return ast::Op::and_;
        if (n.is_type<op_or>()) return ast::Op::or_;
        assert(n.is_type<op_default>());
        return ast::Op::default_;
    }

    // Sets e's height from its operands and refuses nesting beyond ast::max_expr_height.
    void finish(ast::Expr& e) const {
        std::uint32_t h = 0;
        for (const auto& a : e.args) h = std::max(h, a->height);
        if (e.call) {
            for (const auto& b : e.call->args) h = std::max(h, b.value->height);
        }
        e.height = h + 1;
        if (e.height > ast::max_expr_height) {
            throw interp::CostiError(interp::Diagnostic{
                interp::code::syntax, e.args.empty() ? e.span : e.args.back()->span,
                "expression nested too deeply (more than " + std::to_string(ast::max_expr_height) +
                    " levels, or a chain of more than " + std::to_string(ast::max_expr_height) + " terms)",
                "split it with `let` bindings", {}});
        }
    }

    ast::ExprPtr make(ast::ExprKind kind, const Node& n) const {
        auto e = std::make_unique<ast::Expr>();
        e->kind = kind;
        e->span = span(n);
        return e;
    }

    // Folds [x, op, y, op, z] left-associatively; power folds right.
    ast::ExprPtr fold(const Node& n, bool right) {
        const auto& c = n.children;
        if (c.size() == 1) return expr(*c[0]);
        if (right) {
            auto e = make(ast::ExprKind::binary, n);
            e->op = op_of(*c[1]);
            e->args.push_back(expr(*c[0]));
            e->args.push_back(expr(*c[2]));
            return e;
        }
        ast::ExprPtr acc = expr(*c[0]);
        for (std::size_t i = 1; i + 1 < c.size(); i += 2) {
            auto e = std::make_unique<ast::Expr>();
            e->kind = ast::ExprKind::binary;
            e->op = op_of(*c[i]);
            e->span = {&file, acc->span.begin, static_cast<std::uint32_t>(c[i + 1]->m_end.byte)};
            e->args.push_back(std::move(acc));
            e->args.push_back(expr(*c[i + 1]));
            finish(*e);
            acc = std::move(e);
        }
        return acc;
    }

    ast::ExprPtr expr(const Node& n) {
        ast::ExprPtr e = build(n);
        finish(*e);
        return e;
    }

    ast::ExprPtr build(const Node& n) {
        if (n.is_type<number>()) {
            auto e = make(ast::ExprKind::number, n);
            auto v = interp::Number::parse(n.string_view());
            if (!v) {
                throw interp::CostiError(interp::Diagnostic{
                    interp::code::syntax, span(n), "number literal '" + n.string() + "' is out of range", "", {}});
            }
            e->number = std::move(*v);
            return e;
        }
        if (n.is_type<string_lit>()) {
            auto e = make(ast::ExprKind::string, n);
            e->text = unescape(n.string_view());
            return e;
        }
        if (n.is_type<lit_true>() || n.is_type<lit_false>()) {
            auto e = make(ast::ExprKind::number, n);
            e->number = n.is_type<lit_true>() ? 1 : 0;
            return e;
        }
        if (n.is_type<name>()) {
            auto e = make(ast::ExprKind::name, n);
            e->text = n.string();
            return e;
        }
        if (n.is_type<config_ref>()) {
            auto e = make(ast::ExprKind::config, n);
            e->text = n.children.at(0)->string();
            return e;
        }
        if (n.is_type<hw_ref>()) {
            auto e = make(ast::ExprKind::hardware, n);
            e->text = n.children.at(0)->string();
            return e;
        }
        if (n.is_type<fn_call>()) {
            auto e = make(ast::ExprKind::function, n);
            e->text = n.children.at(0)->string();
            for (std::size_t i = 1; i < n.children.size(); ++i) e->args.push_back(expr(*n.children[i]));
            return e;
        }
        if (n.is_type<call>()) {
            auto e = make(ast::ExprKind::call, n);
            e->call = std::make_shared<ast::Call>(build_call(n));
            return e;
        }
        if (n.is_type<unary>()) {
            if (n.children.size() == 1) return expr(*n.children[0]);
            auto e = make(ast::ExprKind::unary, n);
            e->op = op_of(*n.children[0]);
            e->args.push_back(expr(*n.children[1]));
            return e;
        }
        if (n.is_type<negation>()) {
            if (n.children.size() == 1) return expr(*n.children[0]);
            auto e = make(ast::ExprKind::unary, n);
            e->op = ast::Op::not_;
            e->args.push_back(expr(*n.children[1]));
            return e;
        }
        if (n.is_type<paren>()) {
            // The parentheses belong to the operand: carets and quoted formulas include them.
            auto e = expr(*n.children.at(0));
            e->span = span(n);
            return e;
        }
        if (n.is_type<power>()) return fold(n, true);
        if (n.is_type<conditional>()) {
            auto e = make(ast::ExprKind::cond, n);
            for (const auto& c : n.children) e->args.push_back(expr(*c));
            return e;
        }
        // product, sum, comparison, conjunction, disjunction, defaulted
        return fold(n, false);
    }

    ast::Binding binding_of(const Node& n) {
        return {n.children.at(0)->string(), span(*n.children[0]), expr(*n.children.at(1))};
    }

    ast::Call build_call(const Node& n) {
        ast::Call c;
        c.span = span(n);
        for (const auto& ch : n.children) {
            if (ch->is_type<qname>()) {
                c.kernel = ch->string();
                c.name_span = span(*ch);
            } else {
                c.args.push_back(binding_of(*ch));
            }
        }
        return c;
    }

    ast::Stmt stmt(const Node& n) {
        ast::Stmt s;
        s.span = span(n);
        if (n.is_type<source_stmt>() || n.is_type<doc_stmt>()) {
            s.kind = n.is_type<source_stmt>() ? ast::StmtKind::source : ast::StmtKind::doc;
            s.text = unescape(n.children.at(0)->string_view());
            s.name_span = span(*n.children[0]);
            return s;
        }
        if (n.is_type<require_stmt>()) {
            s.kind = ast::StmtKind::require;
            s.value = expr(*n.children.at(0));
            s.text = unescape(n.children.at(1)->string_view());
            return s;
        }
        s.name = n.children.at(0)->string();
        s.name_span = span(*n.children[0]);
        if (n.is_type<let_stmt>() || n.is_type<assign_stmt>()) {
            s.kind = n.is_type<let_stmt>() ? ast::StmtKind::let : ast::StmtKind::assign;
            s.value = expr(*n.children.at(1));
            return s;
        }
        assert(n.is_type<child_stmt>());
        s.kind = ast::StmtKind::child;
        for (std::size_t i = 1; i < n.children.size(); ++i) {
            const Node& c = *n.children[i];
            if (c.is_type<count>()) {
                s.count = expr(*c.children.at(0));
            } else if (c.is_type<call>()) {
                s.call = build_call(c);
            } else {
                assert(c.is_type<with_clause>());
                for (const auto& b : c.children) s.with.push_back(binding_of(*b));
            }
        }
        return s;
    }

    ast::Kernel kernel(const Node& n) {
        ast::Kernel k = kernel_parts(n, 1);
        k.name = n.children.at(0)->string();
        k.name_span = span(*n.children[0]);
        return k;
    }

    // The parameters and statements of a kernel (or an `every leaf` block) from child `first` on.
    ast::Kernel kernel_parts(const Node& n, std::size_t first) {
        ast::Kernel k;
        k.span = span(n);
        for (std::size_t i = first; i < n.children.size(); ++i) {
            const Node& c = *n.children[i];
            if (c.is_type<param_list>()) {
                for (const auto& p : c.children) {
                    ast::Param param{p->children.at(0)->string(), span(*p->children[0]), nullptr};
                    if (p->children.size() > 1) param.default_value = expr(*p->children[1]);
                    k.params.push_back(std::move(param));
                }
            } else {
                k.body.push_back(stmt(c));
            }
        }
        return k;
    }

    ast::Model model(const Node& n) {
        ast::Model m;
        const Node& nm = *n.children.at(0);
        m.name = nm.string_view().front() == '"' ? unescape(nm.string_view()) : nm.string();
        m.name_span = span(nm);
        m.entry = build_call(*n.children.at(1));
        for (std::size_t i = 2; i < n.children.size(); ++i) {
            const Node& c = *n.children[i];
            if (c.is_type<config_from>()) {
                m.config_files.push_back({unescape(c.children.at(0)->string_view()), span(*c.children[0])});
            } else if (c.is_type<config_block>()) {
                for (const auto& entry : c.children) m.config.push_back(binding_of(*entry));
            } else if (c.is_type<default_stmt>()) {
                m.defaults.push_back(binding_of(c));
            } else if (c.is_type<source_stmt>()) {
                m.source = unescape(c.children.at(0)->string_view());
            } else {
                assert(c.is_type<doc_stmt>());
                m.doc = unescape(c.children.at(0)->string_view());
            }
        }
        return m;
    }

    ast::Hardware hardware(const Node& n) {
        ast::Hardware h;
        const Node& nm = *n.children.at(0);
        h.name = nm.string_view().front() == '"' ? unescape(nm.string_view()) : nm.string();
        h.name_span = span(nm);
        for (std::size_t i = 1; i < n.children.size(); ++i) {
            const Node& c = *n.children[i];
            if (c.is_type<source_stmt>()) {
                h.sources.push_back(unescape(c.children.at(0)->string_view()));
            } else if (c.is_type<doc_stmt>()) {
                h.doc += (h.doc.empty() ? "" : " ") + unescape(c.children.at(0)->string_view());
            } else {
                assert(c.is_type<hardware_entry>());
                ast::HardwareEntry e{c.children.at(0)->string(), span(*c.children[0]), expr(*c.children.at(1)), ""};
                if (c.children.size() > 2) e.note = unescape(c.children[2]->string_view());
                h.entries.push_back(std::move(e));
            }
        }
        return h;
    }

    ast::Runtime runtime(const Node& n) {
        ast::Runtime r;
        r.name = n.children.at(0)->string();
        r.span = span(*n.children[0]);
        for (std::size_t i = 1; i < n.children.size(); ++i) {
            const Node& c = *n.children[i];
            if (c.is_type<domain_type>()) {
                r.type = c.string();
                r.type_span = span(c);
            } else if (c.is_type<domain_bound>()) {
                const Node& op = *c.children.at(0);
                ast::Op o = op.is_type<bound_ge>() ? ast::Op::ge
                            : op.is_type<bound_gt>() ? ast::Op::gt
                            : op.is_type<bound_le>() ? ast::Op::le
                                                     : ast::Op::lt;
                r.bounds.push_back({o, expr(*c.children.at(1))});
            } else if (c.is_type<runtime_doc>()) {
                r.doc = unescape(c.string_view());
            } else {
                r.value = expr(c);
            }
        }
        return r;
    }

    // Adds the declarations under `root` (a parse tree of file_step) to `mod`.
    void add_items(const Node& root, ast::Module& mod) {
        for (const auto& c : root.children) {
            const Node& n = *c;
            if (n.is_type<import_decl>()) {
                mod.imports.push_back({unescape(n.children.at(0)->string_view()), span(*n.children[0])});
            } else if (n.is_type<metric_decl>()) {
                ast::Metric m{n.children.at(0)->string(), span(*n.children[0]), "", "", ""};
                for (std::size_t i = 1; i < n.children.size(); ++i) {
                    const Node& c = *n.children[i];
                    if (c.is_type<metric_unit>()) {
                        m.unit = unescape(c.children.at(0)->string_view());
                    } else if (c.is_type<style_name>()) {
                        m.style = c.string();
                    } else if (c.is_type<combine_name>()) {
                        m.combine_max = c.string() == "max";
                    } else {
                        m.description = unescape(c.string_view());
                    }
                }
                mod.metrics.push_back(std::move(m));
            } else if (n.is_type<runtime_decl>()) {
                mod.runtimes.push_back(runtime(n));
            } else if (n.is_type<kernel_decl>()) {
                mod.kernels.push_back(kernel(n));
            } else if (n.is_type<property_decl>()) {
                ast::Property p{n.children.at(0)->string(), span(*n.children[0]), "", ""};
                for (std::size_t i = 1; i < n.children.size(); ++i) {
                    const Node& c = *n.children[i];
                    if (c.is_type<metric_unit>()) {
                        p.unit = unescape(c.children.at(0)->string_view());
                    } else {
                        p.description = unescape(c.string_view());
                    }
                }
                mod.properties.push_back(std::move(p));
            } else if (n.is_type<hardware_decl>()) {
                mod.hardware.push_back(hardware(n));
            } else if (n.is_type<every_decl>()) {
                ast::Kernel k = kernel_parts(n, 0);
                k.name = "every leaf";
                k.name_span = span(n);
                mod.every_leaf.push_back(std::move(k));
            } else if (n.is_type<engine_decl>()) {
                ast::Engine e{n.children.at(0)->string(), span(*n.children[0]), "", {}};
                for (std::size_t i = 1; i < n.children.size(); ++i) {
                    const Node& c = *n.children[i];
                    if (c.is_type<string_lit>()) {
                        e.doc = unescape(c.string_view());
                    } else {
                        e.entries.push_back({c.children.at(0)->string(), span(*c.children[0]), c.children.at(1)->string(),
                                             span(*c.children[1])});
                    }
                }
                mod.engines.push_back(std::move(e));
            } else if (n.is_type<alias_decl>()) {
                mod.aliases.push_back({n.children.at(0)->string(), span(*n.children[0]), n.children.at(1)->string(),
                                       span(*n.children[1])});
            } else {
                assert(n.is_type<model_decl>());
                mod.models.push_back(model(n));
            }
        }
    }
};

// Where an "expected ')'" error belongs: just after the last token before the parser's
// position (not at the next line's first token), with the unclosed '(' named in the hint.
// One forward scan from the start of the file, skipping strings and comments.
struct Unclosed {
    std::size_t after_last_token = 0;
    std::optional<std::size_t> opener;
};

Unclosed find_unclosed(std::string_view text, std::size_t upto) {
    Unclosed u;
    std::vector<std::size_t> opens;
    for (std::size_t i = 0; i < upto && i < text.size(); ++i) {
        char c = text[i];
        if (c == '#') {
            while (i < upto && i < text.size() && text[i] != '\n') ++i;
            continue;
        }
        if (c == '"') {
            std::size_t j = i + 1;
            while (j < upto && j < text.size() && text[j] != '"' && text[j] != '\n') j += text[j] == '\\' ? 2 : 1;
            i = std::min(j, upto);
            u.after_last_token = i + 1;
            continue;
        }
        if (c == '(') opens.push_back(i);
        if (c == ')' && !opens.empty()) opens.pop_back();
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') u.after_last_token = i + 1;
    }
    if (!opens.empty()) u.opener = opens.back();
    u.after_last_token = std::min(u.after_last_token, upto);
    return u;
}

[[noreturn]] void raise(const interp::SourceFile& file, const tao::pegtl::parse_error& e) {
    auto offset = static_cast<std::uint32_t>(e.positions().empty() ? 0 : e.positions().front().byte);
    std::string message(e.message());
    std::string hint;
    if (message.find("nesting depth") != std::string::npos) {
        message = "expression nested too deeply";
        hint = "split it with `let` bindings";
    } else if (message == errors::message<close_paren>) {
        Unclosed u = find_unclosed(file.text(), offset);
        // On the same line the parser's position (the token found instead) is right; past a
        // line break, the ')' is missing where the last line ended.
        if (file.text().substr(u.after_last_token, offset - u.after_last_token).find('\n') != std::string::npos)
            offset = static_cast<std::uint32_t>(u.after_last_token);
        if (u.opener) {
            interp::LineCol lc = file.line_col(*u.opener);
            hint = "to close the '(' opened at line " + std::to_string(lc.line) + ", column " + std::to_string(lc.col);
        }
    }
    throw interp::CostiError(interp::Diagnostic{interp::code::syntax, {&file, offset, offset + 1}, message, hint, {}});
}

template <typename Rule>
std::unique_ptr<Node> run(const interp::SourceFile& file) {
    tao::pegtl::memory_input in(file.text().data(), file.text().size(), file.name());
    try {
        auto root = pt::parse<Rule, selector, depth_limit, control>(in);
        assert(root);
        return root;
    } catch (const tao::pegtl::parse_error& e) {
        raise(file, e);
    }
}

}  // namespace

interp::ast::Module parse_module(const interp::SourceFile& file) {
    // Declaration by declaration: the parse tree of one declaration is built, turned into
    // AST and dropped before the next, so parsing needs memory for the AST and one tree.
    tao::pegtl::memory_input in(file.text().data(), file.text().size(), file.name());
    Builder builder{file};
    interp::ast::Module mod;
    mod.file = &file;
    try {
        tao::pegtl::parse<ws>(in);
        while (!in.empty()) {
            auto root = pt::parse<file_step, selector, depth_limit, control>(in);
            assert(root);
            builder.add_items(*root, mod);
        }
    } catch (const tao::pegtl::parse_error& e) {
        raise(file, e);
    }
    return mod;
}

interp::ast::ExprPtr parse_expression(const interp::SourceFile& file) {
    auto root = run<expr_only>(file);
    return Builder{file}.expr(*root->children.at(0));
}

bool grammar_is_sound() {
    return tao::pegtl::analyze<grammar::file>() == 0 && tao::pegtl::analyze<expr_only>() == 0;
}

}  // namespace costi::grammar
