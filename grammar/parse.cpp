// Runs the grammar and builds the AST as it goes: PEGTL actions for declarations and
// statements, the hand-written expression parser (expression.cpp) for expressions. No
// parse tree is built: memory is the AST's alone.
#include "grammar/parse.hpp"

#include <tao/pegtl/contrib/analyze.hpp>

#include <algorithm>
#include <array>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <cassert>
#include <optional>
#include <string_view>

#include "grammar/errors.hpp"
#include "grammar/expression.hpp"
#include "grammar/grammar.hpp"
#include "interpreter/diagnostics.hpp"

namespace costi::grammar {

namespace ast = interp::ast;
using interp::Span;

namespace {

using Input = tao::pegtl::memory_input<tao::pegtl::tracking_mode::lazy>;

// The first of `# " { } ( )` at or after `i` (text.size() when none): sixteen bytes at a
// time where SSE2 is there (every x86-64), then byte by byte.
std::size_t next_bracket_or_quote(std::string_view text, std::size_t i) {
#if defined(__SSE2__)
    const __m128i pair_mask = _mm_set1_epi8(static_cast<char>(0xFE));
    const __m128i quote_or_hash = _mm_set1_epi8('"');  // '"' 0x22 and '#' 0x23
    const __m128i parens = _mm_set1_epi8('(');         // '(' 0x28 and ')' 0x29
    const __m128i open_brace = _mm_set1_epi8('{');
    const __m128i close_brace = _mm_set1_epi8('}');
    for (; i + 16 <= text.size(); i += 16) {
        __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(text.data() + i));
        __m128i paired = _mm_and_si128(v, pair_mask);
        __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(paired, quote_or_hash), _mm_cmpeq_epi8(paired, parens)),
                                   _mm_or_si128(_mm_cmpeq_epi8(v, open_brace), _mm_cmpeq_epi8(v, close_brace)));
        if (int bits = _mm_movemask_epi8(hit); bits != 0) return i + static_cast<std::size_t>(__builtin_ctz(bits));
    }
#endif
    static constexpr auto special = [] {
        std::array<bool, 256> table{};
        for (unsigned char c : {'#', '"', '{', '}', '(', ')'}) table[c] = true;
        return table;
    }();
    while (i < text.size() && !special[static_cast<unsigned char>(text[i])]) ++i;
    return i;
}

// The position just past the bracket that closes the one at `open` ('{' or '('), skipping
// strings and comments; nothing when the text ends first (or a string is left open on its
// line).
std::optional<std::size_t> closing_bracket(std::string_view text, std::size_t open) {
    if (open >= text.size() || (text[open] != '{' && text[open] != '(')) return std::nullopt;
    const char opener = text[open];
    const char closer = opener == '{' ? '}' : ')';
    std::size_t depth = 0;
    for (std::size_t i = open; i < text.size(); ++i) {
        i = next_bracket_or_quote(text, i);
        if (i >= text.size()) break;
        char c = text[i];
        if (c == '#') {
            std::size_t nl = text.find('\n', i);
            if (nl == std::string_view::npos) return std::nullopt;
            i = nl;
        } else if (c == '"') {
            auto quote = closing_quote(text, i);
            if (!quote) return std::nullopt;
            i = *quote;
        } else if (c == opener) {
            ++depth;
        } else if (c == closer && --depth == 0) {
            return i + 1;
        }
    }
    return std::nullopt;
}

// A name or a string with the span it was written at.
struct Piece {
    std::string text;
    Span span;
};

// What the actions build: the module, and the parts of the declaration being read. Each
// declaration's action takes its parts and leaves the stacks empty.
struct State {
    State(const interp::SourceFile& f, ast::Module& m, bool lazy = false) : file(f), mod(m), parser(f), lazy_bodies(lazy) {}

    const interp::SourceFile& file;
    ast::Module& mod;
    ExpressionParser parser;
    bool lazy_bodies = false;  // kernels' parameters and bodies are scanned past (skipped_kernel)

    std::vector<Piece> names;
    std::vector<Piece> strings;
    std::vector<ast::ExprPtr> exprs;
    std::optional<ast::Call> call;
    std::vector<ast::Binding> bindings;  // a `with (…)` clause
    std::vector<ast::Alias> engine_entries;

    enum class Context { kernel, model, hardware } context = Context::kernel;
    ast::Kernel kernel;
    ast::Model model;
    ast::Hardware hardware;
    ast::Runtime runtime;
    std::string unit;               // `unit "…"` of a metric or a property
    std::string style;              // a metric's `style`
    bool combine_max = false;       // a metric's `combine max`
    ast::Op bound_op = ast::Op::ge;  // the operator of the domain bound being read
    ast::ExprPtr count;             // `repeat COUNT` of the child statement being read
    bool child = false;             // the labelled statement is a child call (not `METRIC = expr`)

    std::size_t offset(const Input& in) const { return static_cast<std::size_t>(in.current() - in.begin()); }

    Span span(const char* begin, const char* end) const {
        const char* base = file.text().data();
        return {&file, static_cast<std::uint32_t>(begin - base), static_cast<std::uint32_t>(end - base)};
    }
    template <typename ActionInput>
    Span span(const ActionInput& in) const {
        return span(in.begin(), in.end());
    }

    // The hand-written rules of grammar.hpp: parse at the input's position and move past it.
    template <typename Tag>
    bool parse(Input& in) {
        std::size_t pos = offset(in);
        std::size_t start = pos;
        if constexpr (std::is_same_v<Tag, grammar::expr> || std::is_same_v<Tag, grammar::sum>) {
            ast::ExprPtr e = std::is_same_v<Tag, grammar::expr> ? parser.expr(pos) : parser.sum(pos);
            if (!e) return false;
            exprs.push_back(std::move(e));
        } else if constexpr (std::is_same_v<Tag, grammar::skipped_kernel>) {
            if (!lazy_bodies) return false;
            std::size_t open = pos;
            if (open < file.text().size() && file.text()[open] == '(') {
                auto params_end = closing_bracket(file.text(), open);
                if (!params_end) return false;  // unbalanced: kernel_rest reports where
                open = parser.skip_blanks(*params_end);
            }
            auto end = closing_bracket(file.text(), open);
            if (!end || file.text()[open] != '{') return false;
            kernel.unread_body = Span{&file, static_cast<std::uint32_t>(pos), static_cast<std::uint32_t>(*end)};
            pos = *end;
        } else if constexpr (std::is_same_v<Tag, grammar::call>) {
            call = parser.call(pos);
            if (!call) return false;
        } else {
            auto list = parser.binding_list(pos);
            if (!list) return false;
            bindings = std::move(*list);
        }
        in.bump(pos - start);
        return true;
    }

    bool string_literal(Input& in) {
        std::size_t pos = offset(in);
        std::size_t start = pos;
        auto text = parser.string_lit(pos);
        if (!text) return false;
        strings.push_back({std::move(*text), span(in.current(), in.current() + (pos - start))});
        in.bump(pos - start);
        return true;
    }

    ast::ExprPtr pop_expr() {
        assert(!exprs.empty());
        ast::ExprPtr e = std::move(exprs.back());
        exprs.pop_back();
        return e;
    }
    Piece pop(std::vector<Piece>& v) {
        assert(!v.empty());
        Piece p = std::move(v.back());
        v.pop_back();
        return p;
    }
    // A model's or a hardware's name: bare, or a string (its text unescaped).
    Piece decl_name(const std::string_view written, Span where) {
        if (!written.empty() && written.front() == '"') return {pop(strings).text, where};
        return {std::string(written), where};
    }
    void clear() {
        names.clear();
        strings.clear();
        exprs.clear();
        call.reset();
        bindings.clear();
        unit.clear();
        style.clear();
        combine_max = false;
        count.reset();
    }
};

template <typename Rule>
struct action : tao::pegtl::nothing<Rule> {};

// Names and keys: pushed, taken by the statement or declaration they belong to.
template <>
struct action<name> {
    template <typename In>
    static void apply(const In& in, State& st) {
        st.names.push_back({in.string(), st.span(in)});
    }
};
template <> struct action<qname> : action<name> {};
template <> struct action<dotted_key> : action<name> {};
template <> struct action<alias_target> : action<name> {};
template <> struct action<engine_from> : action<name> {};
template <> struct action<engine_to> : action<name> {};

// ---- kernel bodies ----
template <>
struct action<kernel_name> {
    template <typename In>
    static void apply(const In& in, State& st) {
        st.kernel = ast::Kernel{};
        st.kernel.name = in.string();
        st.kernel.name_span = st.span(in);
        st.context = State::Context::kernel;
    }
};
template <>
struct action<kw_leaf> {
    template <typename In>
    static void apply(const In& /*in*/, State& st) {
        st.kernel = ast::Kernel{};
        st.kernel.name = "every leaf";
        st.context = State::Context::kernel;
    }
};
template <>
struct action<param> {
    template <typename In>
    static void apply(const In& /*in*/, State& st) {
        Piece n = st.pop(st.names);
        st.kernel.params.push_back({std::move(n.text), n.span, st.exprs.empty() ? nullptr : st.pop_expr()});
    }
};
template <>
struct action<source_stmt> {
    template <typename In>
    static void apply(const In& in, State& st) {
        Piece text = st.pop(st.strings);
        if (st.context == State::Context::model) {
            st.model.source = std::move(text.text);
        } else if (st.context == State::Context::hardware) {
            st.hardware.sources.push_back(std::move(text.text));
            st.hardware.body.push_back(st.span(in));
        } else {
            ast::Stmt s;
            s.kind = ast::StmtKind::source;
            s.span = st.span(in);
            s.text = std::move(text.text);
            s.name_span = text.span;
            st.kernel.body.push_back(std::move(s));
        }
    }
};
template <>
struct action<doc_stmt> {
    template <typename In>
    static void apply(const In& in, State& st) {
        Piece text = st.pop(st.strings);
        if (st.context == State::Context::model) {
            st.model.doc = std::move(text.text);
        } else if (st.context == State::Context::hardware) {
            st.hardware.doc += (st.hardware.doc.empty() ? "" : " ") + text.text;
            st.hardware.body.push_back(st.span(in));
        } else {
            ast::Stmt s;
            s.kind = ast::StmtKind::doc;
            s.span = st.span(in);
            s.text = std::move(text.text);
            s.name_span = text.span;
            st.kernel.body.push_back(std::move(s));
        }
    }
};
template <>
struct action<require_stmt> {
    template <typename In>
    static void apply(const In& in, State& st) {
        ast::Stmt s;
        s.kind = ast::StmtKind::require;
        s.span = st.span(in);
        s.value = st.pop_expr();
        s.text = st.pop(st.strings).text;
        st.kernel.body.push_back(std::move(s));
    }
};
template <>
struct action<let_stmt> {
    template <typename In>
    static void apply(const In& in, State& st) {
        ast::Stmt s;
        s.kind = ast::StmtKind::let;
        s.span = st.span(in);
        Piece n = st.pop(st.names);
        s.name = std::move(n.text);
        s.name_span = n.span;
        s.value = st.pop_expr();
        st.kernel.body.push_back(std::move(s));
    }
};
template <>
struct action<count> {
    template <typename In>
    static void apply(const In& /*in*/, State& st) {
        st.count = st.pop_expr();
    }
};
template <>
struct action<child_tail> {
    template <typename In>
    static void apply(const In& /*in*/, State& st) {
        st.child = true;
    }
};
template <>
struct action<labelled_stmt> {
    template <typename In>
    static void apply(const In& in, State& st) {
        ast::Stmt s;
        s.span = st.span(in);
        Piece n = st.pop(st.names);
        s.name = std::move(n.text);
        s.name_span = n.span;
        if (st.child) {
            s.kind = ast::StmtKind::child;
            s.count = std::move(st.count);
            s.call = std::move(*st.call);
            s.with = std::move(st.bindings);
            st.call.reset();
            st.bindings.clear();
            st.child = false;
        } else {
            s.kind = ast::StmtKind::assign;
            s.value = st.pop_expr();
        }
        st.kernel.body.push_back(std::move(s));
    }
};
template <>
struct action<kernel_decl> {
    template <typename In>
    static void apply(const In& in, State& st) {
        st.kernel.span = st.span(in);
        st.kernel.decl_span = st.kernel.span;
        st.mod.kernels.push_back(std::move(st.kernel));
        st.clear();
    }
};
template <>
struct action<every_decl> {
    template <typename In>
    static void apply(const In& in, State& st) {
        st.kernel.span = st.span(in);
        st.kernel.name_span = st.kernel.span;
        st.kernel.decl_span = st.kernel.span;
        st.mod.every_leaf.push_back(std::move(st.kernel));
        st.clear();
    }
};

// ---- other declarations ----
template <>
struct action<import_decl> {
    template <typename In>
    static void apply(const In& in, State& st) {
        Piece p = st.pop(st.strings);
        st.mod.imports.push_back({std::move(p.text), p.span, st.span(in)});
        st.clear();
    }
};
template <>
struct action<metric_unit> {
    template <typename In>
    static void apply(const In& /*in*/, State& st) {
        st.unit = st.pop(st.strings).text;
    }
};
template <>
struct action<style_name> {
    template <typename In>
    static void apply(const In& in, State& st) {
        st.style = in.string();
    }
};
template <>
struct action<combine_name> {
    template <typename In>
    static void apply(const In& in, State& st) {
        st.combine_max = in.string_view() == "max";
    }
};
template <>
struct action<metric_decl> {
    template <typename In>
    static void apply(const In& in, State& st) {
        Piece n = st.pop(st.names);
        ast::Metric m{std::move(n.text), n.span, st.strings.empty() ? "" : st.pop(st.strings).text, st.unit, st.style,
                      st.combine_max, st.span(in)};
        st.mod.metrics.push_back(std::move(m));
        st.clear();
    }
};
template <>
struct action<property_decl> {
    template <typename In>
    static void apply(const In& in, State& st) {
        Piece n = st.pop(st.names);
        st.mod.properties.push_back(
            {std::move(n.text), n.span, st.strings.empty() ? "" : st.pop(st.strings).text, st.unit, st.span(in)});
        st.clear();
    }
};
template <>
struct action<domain_type> {
    template <typename In>
    static void apply(const In& in, State& st) {
        st.runtime.type = in.string();
        st.runtime.type_span = st.span(in);
    }
};
template <ast::Op O>
struct bound_action {
    template <typename In>
    static void apply(const In& /*in*/, State& st) {
        st.bound_op = O;
    }
};
template <> struct action<bound_ge> : bound_action<ast::Op::ge> {};
template <> struct action<bound_gt> : bound_action<ast::Op::gt> {};
template <> struct action<bound_le> : bound_action<ast::Op::le> {};
template <> struct action<bound_lt> : bound_action<ast::Op::lt> {};
template <>
struct action<domain_bound> {
    template <typename In>
    static void apply(const In& /*in*/, State& st) {
        st.runtime.bounds.push_back({st.bound_op, st.pop_expr()});
    }
};
template <>
struct action<runtime_decl> {
    template <typename In>
    static void apply(const In& in, State& st) {
        ast::Runtime r = std::move(st.runtime);
        st.runtime = ast::Runtime{};
        Piece n = st.pop(st.names);
        r.name = std::move(n.text);
        r.span = n.span;
        r.value = st.pop_expr();
        if (!st.strings.empty()) r.doc = st.pop(st.strings).text;
        r.decl_span = st.span(in);
        st.mod.runtimes.push_back(std::move(r));
        st.clear();
    }
};
template <>
struct action<alias_decl> {
    template <typename In>
    static void apply(const In& in, State& st) {
        Piece target = st.pop(st.names);
        Piece n = st.pop(st.names);
        st.mod.aliases.push_back({std::move(n.text), n.span, std::move(target.text), target.span, st.span(in)});
        st.clear();
    }
};
template <>
struct action<model_name> {
    template <typename In>
    static void apply(const In& in, State& st) {
        st.model = ast::Model{};
        Piece n = st.decl_name(in.string_view(), st.span(in));
        st.model.name = std::move(n.text);
        st.model.name_span = n.span;
        st.context = State::Context::model;
    }
};
template <>
struct action<config_from> {
    template <typename In>
    static void apply(const In& /*in*/, State& st) {
        Piece p = st.pop(st.strings);
        st.model.config_files.push_back({std::move(p.text), p.span});
    }
};
template <>
struct action<config_entry> {
    template <typename In>
    static void apply(const In& /*in*/, State& st) {
        Piece key = st.pop(st.names);
        st.model.config.push_back({std::move(key.text), key.span, st.pop_expr()});
    }
};
template <>
struct action<default_stmt> {
    template <typename In>
    static void apply(const In& /*in*/, State& st) {
        Piece n = st.pop(st.names);
        st.model.defaults.push_back({std::move(n.text), n.span, st.pop_expr()});
    }
};
// Each model statement but a separator, in source order (the formatter prints them so).
template <>
struct action<model_stmt> {
    template <typename In>
    static void apply(const In& in, State& st) {
        if (in.size() == 1 && (*in.begin() == ';' || *in.begin() == ',')) return;
        st.model.body.push_back(st.span(in));
    }
};
template <>
struct action<model_decl> {
    template <typename In>
    static void apply(const In& in, State& st) {
        st.model.entry = std::move(*st.call);
        st.model.decl_span = st.span(in);
        st.mod.models.push_back(std::move(st.model));
        st.model = ast::Model{};
        st.context = State::Context::kernel;
        st.clear();
    }
};
template <>
struct action<hardware_name> {
    template <typename In>
    static void apply(const In& in, State& st) {
        st.hardware = ast::Hardware{};
        Piece n = st.decl_name(in.string_view(), st.span(in));
        st.hardware.name = std::move(n.text);
        st.hardware.name_span = n.span;
        st.context = State::Context::hardware;
    }
};
template <>
struct action<hardware_entry> {
    template <typename In>
    static void apply(const In& in, State& st) {
        std::string note = st.strings.empty() ? "" : st.pop(st.strings).text;
        Piece n = st.pop(st.names);
        st.hardware.entries.push_back({std::move(n.text), n.span, st.pop_expr(), std::move(note)});
        st.hardware.body.push_back(st.span(in));
    }
};
template <>
struct action<hardware_decl> {
    template <typename In>
    static void apply(const In& in, State& st) {
        st.hardware.decl_span = st.span(in);
        st.mod.hardware.push_back(std::move(st.hardware));
        st.hardware = ast::Hardware{};
        st.context = State::Context::kernel;
        st.clear();
    }
};
template <>
struct action<engine_entry> {
    template <typename In>
    static void apply(const In& /*in*/, State& st) {
        Piece to = st.pop(st.names);
        Piece from = st.pop(st.names);
        st.engine_entries.push_back({std::move(from.text), from.span, std::move(to.text), to.span, {}});
    }
};
template <>
struct action<engine_decl> {
    template <typename In>
    static void apply(const In& in, State& st) {
        Piece n = st.pop(st.names);
        ast::Engine e{std::move(n.text), n.span, st.strings.empty() ? "" : st.pop(st.strings).text,
                      std::move(st.engine_entries), st.span(in)};
        st.engine_entries.clear();
        st.mod.engines.push_back(std::move(e));
        st.clear();
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

[[noreturn]] void raise(const interp::SourceFile& file, std::size_t at, std::string message, std::string hint) {
    auto offset = static_cast<std::uint32_t>(at);
    if (message == errors::message<close_paren>) {
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
    throw interp::CostiError(
        interp::Diagnostic{interp::code::syntax, {&file, offset, offset + 1}, std::move(message), std::move(hint), {}});
}

// Parses `file` with Rule into `mod`, turning every syntax error into a CostiError.
template <typename Rule>
void run(const interp::SourceFile& file, State& st, std::size_t from = 0) {
    Input in(file.text().data(), file.text().size(), file.name());
    in.bump(from);  // positions stay counted from the start of the file
    try {
        tao::pegtl::parse<Rule, action, control>(in, st);
    } catch (const tao::pegtl::parse_error& e) {
        raise(file, e.positions().empty() ? 0 : e.positions().front().byte, std::string(e.message()), "");
    } catch (const SyntaxError& e) {
        raise(file, e.offset, e.message, e.hint);
    }
}

}  // namespace

interp::ast::Module parse_module(const interp::SourceFile& file, bool lazy_bodies) {
    interp::ast::Module mod;
    mod.file = &file;
    State st(file, mod, lazy_bodies);
    run<grammar::file>(file, st);
    return mod;
}

void parse_body(interp::ast::Kernel& kernel) {
    if (!kernel.unread_body) return;
    const interp::SourceFile& file = *kernel.unread_body->file;
    interp::ast::Module none;
    State st(file, none);
    run<kernel_rest>(file, st, kernel.unread_body->begin);
    kernel.params = std::move(st.kernel.params);
    kernel.body = std::move(st.kernel.body);
    kernel.unread_body.reset();
}

interp::ast::ExprPtr parse_expression(const interp::SourceFile& file) {
    interp::ast::Module none;
    State st(file, none);
    run<expr_only>(file, st);
    return st.pop_expr();
}

bool grammar_is_sound() {
    return tao::pegtl::analyze<grammar::file>() == 0 && tao::pegtl::analyze<expr_only>() == 0;
}

}  // namespace costi::grammar
