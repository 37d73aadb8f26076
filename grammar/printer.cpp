// The formatter's printer (printer.hpp); the rules are docs/formatting.md.
//
// The printer walks the AST in source order and builds output lines. Between two tokens it
// looks at the source in between (gap()): comments there are emitted, and a line break the
// author wrote there is kept (the next token starts a continuation line). Between
// statements and declarations (between()) comments keep their own lines and blank lines
// are kept, at most one in a row. A last pass pads the aligned columns of runs of similar
// lines and lines up trailing comments.
#include "grammar/printer.hpp"

#include <algorithm>
#include <cstddef>
#include <string_view>
#include <utility>

#include "grammar/trivia.hpp"

namespace costi::grammar {

namespace ast = interp::ast;
using ast::Expr;
using ast::ExprKind;
using ast::Op;

namespace {

constexpr int block_indent = 2;         // a block's statements, past its opening line
constexpr int continuation_indent = 2;  // a statement's continuation lines, past its first
constexpr int header_continuation = 4;  // those of a kernel's first line (its parameters), past the body
constexpr std::size_t comment_gap = 3;  // spaces before a trailing comment
constexpr std::size_t max_aligned = 100;  // longer lines do not move their run's comments
constexpr std::size_t max_cell = 60;      // a wider cell does not widen its column

// Lines of a run (consecutive, no blank line between) of the same kind align their cells.
enum class Align { none, child, assign, hardware, metric, property, alias, runtime };

struct Line {
    int indent = 0;
    std::vector<std::string> cells{std::string()};  // all but the last are padded in a run
    Align align = Align::none;
    std::string comment;  // trailing
    bool blank = false;
    bool comment_only = false;
    bool continuation = false;
    bool empty() const {
        return std::all_of(cells.begin(), cells.end(), [](const std::string& c) { return c.empty(); });
    }
};

// Display width: UTF-8 code points.
std::size_t width(std::string_view s) {
    std::size_t n = 0;
    for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0;
    return n;
}

void rtrim(std::string& s) {
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.pop_back();
}

int binary_precedence(Op op) {
    switch (op) {
        case Op::default_:
            return 1;
        case Op::or_:
            return 2;
        case Op::and_:
            return 3;
        case Op::eq:
        case Op::ne:
        case Op::lt:
        case Op::le:
        case Op::gt:
        case Op::ge:
            return 5;
        case Op::add:
        case Op::sub:
            return 6;
        case Op::mul:
        case Op::div:
        case Op::floor_div:
        case Op::mod:
            return 7;
        case Op::pow:
            return 9;
        default:
            return 10;
    }
}

constexpr int comparison_level = 5;
constexpr int unary_level = 8;
constexpr int not_level = 4;
constexpr int primary_level = 10;

const char* op_text(Op op) {
    switch (op) {
        case Op::neg:
        case Op::sub:
            return "-";
        case Op::pos:
        case Op::add:
            return "+";
        case Op::not_:
            return "not";
        case Op::mul:
            return "*";
        case Op::div:
            return "/";
        case Op::floor_div:
            return "//";
        case Op::mod:
            return "%";
        case Op::pow:
            return "^";
        case Op::eq:
            return "==";
        case Op::ne:
            return "!=";
        case Op::lt:
            return "<";
        case Op::le:
            return "<=";
        case Op::gt:
            return ">";
        case Op::ge:
            return ">=";
        case Op::and_:
            return "and";
        case Op::or_:
            return "or";
        case Op::default_:
            return "??";
    }
    return "?";
}

// The operator a regrouped chain stored in place of the one written (expression.cpp's
// balanced(): inside the right operand of '-' the signs swap; inside that of '/' the run of
// divisions is one product).
Op swapped(Op op) {
    switch (op) {
        case Op::add:
            return Op::sub;
        case Op::sub:
            return Op::add;
        case Op::mul:
            return Op::div;
        case Op::div:
            return Op::mul;
        default:
            return op;
    }
}

// The cells a line of each kind has when it is whole; a statement broken before its last
// cell begins is not aligned.
std::size_t cells_of(Align a) {
    switch (a) {
        case Align::hardware:
        case Align::metric:
        case Align::property:
            return 3;
        case Align::runtime:
            return 4;
        default:
            return 2;
    }
}

std::string escape(std::string_view s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '\t') {
            out += "\\t";
        } else {
            out += c;
        }
    }
    return out + "\"";
}

bool is_ident(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'; }

class Printer {
public:
    // `text` empty and `trivia` null: no source (print_expr).
    Printer(std::string_view text, const Trivia* trivia) : text_(text), trivia_(trivia) {}

    std::string module(const ast::Module& m);
    std::string expression(const Expr& e) {
        begin(0, Align::none);
        expr(e, false);
        end();
        return render();
    }

private:
    std::string_view text_;
    const Trivia* trivia_;
    std::size_t next_comment_ = 0;
    std::vector<Line> lines_;
    Line cur_;
    int stmt_indent_ = 0;
    int continuation_ = continuation_indent;

    bool source() const { return trivia_ != nullptr; }
    std::uint32_t skip(std::uint32_t pos) const { return trivia_->skip_blanks(pos); }
    char at(std::uint32_t pos) const { return pos < text_.size() ? text_[pos] : '\0'; }
    bool keyword_at(std::uint32_t pos, std::string_view word) const {
        return pos < text_.size() && text_.compare(pos, word.size(), word) == 0 &&
               !is_ident(at(pos + static_cast<std::uint32_t>(word.size())));
    }
    std::string_view raw(std::uint32_t b, std::uint32_t e) const {
        return b < e && b < text_.size() ? text_.substr(b, e - b) : std::string_view();
    }
    // The end of the string literal starting at `pos` (a '"').
    std::uint32_t string_end(std::uint32_t pos) const {
        std::uint32_t j = pos + 1;
        while (j < text_.size() && text_[j] != '"' && text_[j] != '\n') j += text_[j] == '\\' ? 2 : 1;
        return std::min<std::uint32_t>(j + 1, static_cast<std::uint32_t>(text_.size()));
    }
    // The end of the literal or name token starting at `pos`.
    std::uint32_t token_end(std::uint32_t pos) const {
        if (at(pos) == '"') return string_end(pos);
        std::uint32_t j = pos;
        bool number = at(pos) >= '0' && at(pos) <= '9';
        while (j < text_.size()) {
            char c = text_[j];
            if (is_ident(c) || c == '.') {
                ++j;
            } else if (number && (c == '+' || c == '-') && (at(j - 1) == 'e' || at(j - 1) == 'E')) {
                ++j;
            } else {
                break;
            }
        }
        return j;
    }

    // ---- building lines ----
    void begin(int indent, Align align) {
        cur_ = Line{};
        cur_.indent = indent;
        cur_.align = align;
        stmt_indent_ = indent;
    }
    void put(std::string_view s) {
        std::string& c = cur_.cells.back();
        if (cur_.continuation && cur_.cells.size() == 1 && c.empty()) {
            while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
        }
        c += s;
    }
    void cell() { cur_.cells.emplace_back(); }
    void push_current() {
        for (auto& c : cur_.cells) rtrim(c);
        if (!cur_.empty() || !cur_.comment.empty()) lines_.push_back(std::move(cur_));
        cur_ = Line{};
    }
    void end() { push_current(); }
    void break_line() {
        if (cur_.empty() && cur_.comment.empty()) return;
        push_current();
        cur_.indent = stmt_indent_ + continuation_;
        cur_.continuation = true;
    }
    void comment_line(int indent, const std::string& text) {
        Line l;
        l.indent = indent;
        l.comment_only = true;
        l.cells = {text};
        lines_.push_back(std::move(l));
    }
    void blank_line() {
        if (lines_.empty() || lines_.back().blank) return;
        Line l;
        l.blank = true;
        lines_.push_back(std::move(l));
    }

    // Between two tokens of one statement: the source's comments in [from, to) go out, and
    // a line break there is kept; else a space when `space`.
    void gap(std::uint32_t from, std::uint32_t to, bool space) {
        if (!source()) {
            if (space) put(" ");
            return;
        }
        const auto& comments = trivia_->comments();
        std::uint32_t pos = from;
        bool must_break = false;
        while (next_comment_ < comments.size() && comments[next_comment_].begin < to) {
            const Comment& c = comments[next_comment_++];
            if (c.trailing && cur_.comment.empty() && !cur_.empty()) {
                cur_.comment = c.text;
            } else {
                break_line();
                comment_line(stmt_indent_ + continuation_, c.text);
            }
            must_break = true;
            pos = std::max(pos, c.end);
        }
        if (must_break || trivia_->newlines(pos, to) > 0) {
            break_line();
        } else if (space) {
            put(" ");
        }
    }
    // A token between `from` and `to` (an operator, '=', ',', a keyword): printed as `tok`,
    // comments and line breaks kept on the side of it they were on.
    void around(std::uint32_t from, std::uint32_t to, std::string_view tok, bool space_before, bool space_after) {
        if (!source()) {
            if (space_before) put(" ");
            put(tok);
            if (space_after) put(" ");
            return;
        }
        std::uint32_t t = skip(from);
        if (t >= to) t = from;
        gap(from, t, space_before);
        put(tok);
        gap(std::min(to, t + static_cast<std::uint32_t>(tok.size())), to, space_after);
    }
    // Between statements or declarations of a block at `indent`: comments on their own
    // lines (or trailing the line before, where the source had them), blank lines kept (at
    // most one, none at the start or end of a block).
    void between(std::uint32_t from, std::uint32_t to, int indent, bool first, bool last) {
        const auto& comments = trivia_->comments();
        std::uint32_t pos = from;
        while (next_comment_ < comments.size() && comments[next_comment_].begin < to) {
            const Comment& c = comments[next_comment_++];
            int nl = trivia_->newlines(pos, c.begin);
            if (c.trailing && nl == 0 && !lines_.empty() && !lines_.back().blank && lines_.back().comment.empty() &&
                !lines_.back().comment_only) {
                lines_.back().comment = c.text;
            } else {
                if (nl >= 2 && !first) blank_line();
                comment_line(indent, c.text);
                first = false;
            }
            pos = std::max(pos, c.end);
        }
        if (!last && !first && trivia_->newlines(pos, to) >= 2) blank_line();
    }

    // ---- expressions ----
    bool parenthesized(const Expr& e) const {
        if (!source() || at(e.span.begin) != '(') return false;
        return !(e.kind == ExprKind::binary && !e.args.empty() && e.args[0]->span.begin == e.span.begin);
    }
    // Where a (possibly parenthesized) unary, function, cond, call or literal starts.
    std::uint32_t content_begin(const Expr& e) const {
        std::uint32_t p = e.span.begin;
        while (at(p) == '(') p = skip(p + 1);
        return p;
    }

    void expr(const Expr& e, bool parens) {
        bool written = parenthesized(e);
        if (parens || written) {
            put("(");
            if (written) gap(e.span.begin + 1, e.kind == ExprKind::binary ? e.args[0]->span.begin : content_begin(e), false);
        }
        bare(e);
        if (parens || written) {
            if (written) gap(expr_end(e), e.span.end - 1, false);
            put(")");
        }
    }
    // Where the content of `e` ends (before the closing parentheses the author wrote).
    std::uint32_t expr_end(const Expr& e) const {
        switch (e.kind) {
            case ExprKind::binary:
            case ExprKind::unary:
            case ExprKind::cond:
                return e.args.back()->span.end;
            case ExprKind::call:
                return e.call->span.end;
            case ExprKind::function: {
                // The function's ')' : the last argument's end, then blanks, then ')'.
                return skip(e.args.back()->span.end) + 1;
            }
            default:
                return token_end(content_begin(e));
        }
    }
    void operand(const Expr& e, bool parens) { expr(e, parens && !parenthesized(e)); }

    void bare(const Expr& e) {
        switch (e.kind) {
            case ExprKind::number:
                if (source()) {
                    std::uint32_t b = content_begin(e);
                    put(raw(b, token_end(b)));
                } else {
                    std::string s = e.number.to_string();
                    put(s.find('/') != std::string::npos ? "(" + s + ")" : s);
                }
                return;
            case ExprKind::string:
                if (source()) {
                    std::uint32_t b = content_begin(e);
                    put(raw(b, string_end(b)));
                } else {
                    put(escape(e.text));
                }
                return;
            case ExprKind::name:
                put(e.text);
                return;
            case ExprKind::config:
                put("config." + e.text);
                return;
            case ExprKind::hardware:
                put("hw." + e.text);
                return;
            case ExprKind::unary: {
                const Expr& a = *e.args[0];
                std::uint32_t b = source() ? content_begin(e) : 0;
                if (e.op == Op::not_) {
                    put("not");
                    gap(b + 3, a.span.begin, true);
                    operand(a, precedence(a) < not_level);
                } else {
                    put(op_text(e.op));
                    // `- -a`, not `--a`
                    gap(b + 1, a.span.begin, a.kind == ExprKind::unary && a.op != Op::not_ && !parenthesized(a));
                    operand(a, precedence(a) < unary_level);
                }
                return;
            }
            case ExprKind::binary:
                binary(e, false);
                return;
            case ExprKind::function: {
                std::uint32_t b = source() ? content_begin(e) : 0;
                put(e.text);
                std::uint32_t open = source() ? skip(b + static_cast<std::uint32_t>(e.text.size())) : 0;
                put("(");
                gap(open + 1, e.args[0]->span.begin, false);
                for (std::size_t i = 0; i < e.args.size(); ++i) {
                    expr(*e.args[i], false);
                    if (i + 1 < e.args.size()) around(e.args[i]->span.end, e.args[i + 1]->span.begin, ",", false, true);
                }
                if (source()) gap(e.args.back()->span.end, skip(e.args.back()->span.end), false);
                put(")");
                return;
            }
            case ExprKind::cond: {
                std::uint32_t b = source() ? content_begin(e) : 0;
                put("if");
                gap(b + 2, e.args[0]->span.begin, true);
                expr(*e.args[0], false);
                around(e.args[0]->span.end, e.args[1]->span.begin, "then", true, true);
                expr(*e.args[1], false);
                around(e.args[1]->span.end, e.args[2]->span.begin, "else", true, true);
                expr(*e.args[2], false);
                return;
            }
            case ExprKind::call:
                call(*e.call);
                return;
        }
    }

    // A binary operation. A chain `a + b + c` is left-nested; a chain the parser regrouped
    // (more than 32 operands) has same-level right operands without parentheses, printed
    // back as the flat chain they came from (`flip`: inside the right operand of '-' or '/').
    void binary(const Expr& e, bool flip) {
        const Expr& a = *e.args[0];
        const Expr& b = *e.args[1];
        int level = binary_precedence(e.op);
        Op shown = flip ? swapped(e.op) : e.op;
        auto same_level = [&](const Expr& x) {
            return x.kind == ExprKind::binary && binary_precedence(x.op) == level && !parenthesized(x);
        };
        if (e.op == Op::pow) {
            operand(a, precedence(a) < primary_level);
            around(a.span.end, b.span.begin, "^", true, true);
            operand(b, precedence(b) < unary_level);
            return;
        }
        if (level == comparison_level) {
            operand(a, precedence(a) <= level);
            around(a.span.end, b.span.begin, op_text(shown), true, true);
            operand(b, precedence(b) <= level);
            return;
        }
        if (same_level(a)) {
            binary(a, flip);
        } else {
            operand(a, precedence(a) < level);
        }
        around(a.span.end, b.span.begin, op_text(shown), true, true);
        if (source() && same_level(b)) {
            binary(b, flip != (e.op == Op::sub || e.op == Op::div));
        } else {
            operand(b, precedence(b) <= level);
        }
    }

    void call(const ast::Call& c) {
        put("$");
        bool braces = source() && at(c.span.begin + 1) == '{';
        put(braces ? "{" + c.kernel + "}" : c.kernel);
        bool parens = source() ? at(c.span.end - 1) == ')' : !c.args.empty();
        if (!parens) return;
        std::uint32_t open = 0;
        if (source()) {
            std::uint32_t after = c.name_span.end;
            if (braces) after = skip(after) + 1;
            open = skip(after);
            gap(after, open, false);
        }
        put("(");
        bindings(c.args, open, c.span.end - 1);
        put(")");
    }
    // `name = value, …` between the '(' at `open` and the ')' at `close`.
    void bindings(const std::vector<ast::Binding>& args, std::uint32_t open, std::uint32_t close) {
        if (args.empty()) {
            if (source()) gap(open + 1, close, false);
            return;
        }
        if (source()) gap(open + 1, args[0].name_span.begin, false);
        for (std::size_t i = 0; i < args.size(); ++i) {
            put(args[i].name);
            around(args[i].name_span.end, args[i].value->span.begin, "=", true, true);
            expr(*args[i].value, false);
            if (i + 1 < args.size()) around(args[i].value->span.end, args[i + 1].name_span.begin, ",", false, true);
        }
        if (source()) gap(args.back().value->span.end, close, false);
    }

    // ---- statements and declarations ----
    void statement(const ast::Stmt& s, int indent);
    void kernel(const ast::Kernel& k, bool every);
    void model(const ast::Model& m);
    void hardware(const ast::Hardware& h);
    void engine(const ast::Engine& e);
    void runtime(const ast::Runtime& r);
    void close_block(std::uint32_t from, std::uint32_t brace, int indent, bool first) {
        between(from, brace, indent + block_indent, first, true);
        begin(indent, Align::none);
        put("}");
        end();
    }
    // ` {` after a header's last token (ending at `after`), ending the header's line; returns
    // the position after the brace.
    std::uint32_t open_block(std::uint32_t after) {
        std::uint32_t brace = skip(after);
        gap(after, brace, true);
        put("{");
        end();
        return brace + 1;
    }
    // A block's `doc "…"` or `source "…"` line, from its keyword at `ib` to `item_end` (the
    // line already begun).
    void doc_or_source(std::uint32_t ib, std::uint32_t item_end) {
        std::string_view kw = keyword_at(ib, "doc") ? "doc" : "source";
        std::uint32_t s = skip(ib + static_cast<std::uint32_t>(kw.size()));
        keyword(kw, ib, s);
        put(raw(s, item_end));
        end();
    }
    // A keyword at `pos`, then the token that follows it (at `next`).
    void keyword(std::string_view kw, std::uint32_t pos, std::uint32_t next) {
        put(kw);
        gap(pos + static_cast<std::uint32_t>(kw.size()), next, true);
    }

    std::string render();
};

void Printer::statement(const ast::Stmt& s, int indent) {
    std::uint32_t b = s.span.begin;
    switch (s.kind) {
        case ast::StmtKind::let:
            begin(indent, Align::none);
            keyword("let", b, s.name_span.begin);
            put(s.name);
            around(s.name_span.end, s.value->span.begin, "=", true, true);
            expr(*s.value, false);
            break;
        case ast::StmtKind::assign: {
            begin(indent, Align::assign);
            put(s.name);
            std::uint32_t eq = skip(s.name_span.end);
            gap(s.name_span.end, eq, false);
            cell();
            put("=");
            gap(eq + 1, s.value->span.begin, true);
            expr(*s.value, false);
            break;
        }
        case ast::StmtKind::child: {
            begin(indent, Align::child);
            put(s.name + ":");
            cell();
            std::uint32_t p = skip(s.name_span.end) + 1;  // past the ':'
            if (s.count) {
                std::uint32_t r = skip(p);
                gap(p, r, false);
                keyword("repeat", r, s.count->span.begin);
                expr(*s.count, false);
                gap(s.count->span.end, s.call.span.begin, true);
            } else {
                gap(p, s.call.span.begin, false);
            }
            call(s.call);
            std::uint32_t w = skip(s.call.span.end);
            if (w < s.span.end && keyword_at(w, "with")) {
                gap(s.call.span.end, w, true);
                std::uint32_t open = skip(w + 4);
                keyword("with", w, open);
                put("(");
                bindings(s.with, open, s.span.end - 1);
                put(")");
            }
            break;
        }
        case ast::StmtKind::source:
        case ast::StmtKind::doc:
            begin(indent, Align::none);
            keyword(s.kind == ast::StmtKind::source ? "source" : "doc", b, s.name_span.begin);
            put(raw(s.name_span.begin, s.name_span.end));
            break;
        case ast::StmtKind::require: {
            begin(indent, Align::none);
            keyword("require", b, s.value->span.begin);
            expr(*s.value, false);
            std::uint32_t m = skip(s.value->span.end);
            gap(s.value->span.end, m, true);
            put(raw(m, s.span.end));
            break;
        }
    }
    end();
}

void Printer::kernel(const ast::Kernel& k, bool every) {
    std::uint32_t b = k.decl_span.begin;
    begin(0, Align::none);
    continuation_ = header_continuation;
    std::uint32_t after = 0;
    if (every) {
        std::uint32_t leaf = skip(b + 5);
        keyword("every", b, leaf);
        put("leaf");
        after = leaf + 4;
    } else {
        keyword("kernel", b, k.name_span.begin);
        put(k.name);
        after = k.name_span.end;
    }
    std::uint32_t p = skip(after);
    if (at(p) == '(') {
        std::uint32_t q = k.params.empty() ? skip(p + 1) : skip(k.params.back().default_value ? k.params.back().default_value->span.end : k.params.back().span.end);
        if (at(q) == ';' || at(q) == ',') q = skip(q + 1);
        std::uint32_t close = q;
        if (!k.params.empty()) {
            gap(after, p, every);  // `every leaf (…)`, `kernel K(…)`
            put("(");
            gap(p + 1, k.params[0].span.begin, false);
            for (std::size_t i = 0; i < k.params.size(); ++i) {
                const ast::Param& prm = k.params[i];
                put(prm.name);
                std::uint32_t end_of = prm.span.end;
                if (prm.default_value) {
                    around(prm.span.end, prm.default_value->span.begin, "=", true, true);
                    expr(*prm.default_value, false);
                    end_of = prm.default_value->span.end;
                }
                if (i + 1 < k.params.size()) around(end_of, k.params[i + 1].span.begin, ",", false, true);
                else gap(end_of, close, false);
            }
            put(")");
        } else {
            gap(after, close, false);
        }
        after = close + 1;
    }
    std::uint32_t pos = open_block(after);
    continuation_ = continuation_indent;
    bool first = true;
    for (const auto& s : k.body) {
        between(pos, s.span.begin, block_indent, first, false);
        statement(s, block_indent);
        pos = s.span.end;
        first = false;
    }
    close_block(pos, k.decl_span.end - 1, 0, first);
}

void Printer::model(const ast::Model& m) {
    std::uint32_t b = m.decl_span.begin;
    begin(0, Align::none);
    keyword("model", b, m.name_span.begin);
    put(raw(m.name_span.begin, m.name_span.end));
    around(m.name_span.end, m.entry.span.begin, "=", true, true);
    call(m.entry);
    std::uint32_t brace = skip(m.entry.span.end);
    if (brace >= m.decl_span.end || at(brace) != '{') {
        end();
        return;
    }
    std::uint32_t pos = open_block(m.entry.span.end);
    bool first = true;
    constexpr int in = block_indent;
    for (const auto& item : m.body) {
        between(pos, item.begin, in, first, false);
        first = false;
        std::uint32_t ib = item.begin;
        begin(in, Align::none);
        if (keyword_at(ib, "config")) {
            std::uint32_t p = skip(ib + 6);
            keyword("config", ib, p);
            if (at(p) == '{') {
                put("{");
                end();
                std::uint32_t q = p + 1;
                bool first_entry = true;
                for (const auto& c : m.config) {
                    if (c.name_span.begin < p || c.name_span.begin >= item.end) continue;
                    between(q, c.name_span.begin, in + block_indent, first_entry, false);
                    first_entry = false;
                    begin(in + block_indent, Align::none);
                    put(c.name);
                    around(c.name_span.end, c.value->span.begin, "=", true, true);
                    expr(*c.value, false);
                    end();
                    q = c.value->span.end;
                }
                close_block(q, item.end - 1, in, first_entry);
            } else {
                std::uint32_t s = skip(p + 4);
                keyword("from", p, s);
                put(raw(s, item.end));
                end();
            }
        } else if (keyword_at(ib, "source") || keyword_at(ib, "doc")) {
            doc_or_source(ib, item.end);
        } else {
            for (const auto& d : m.defaults) {
                if (d.name_span.begin != ib) continue;
                put(d.name);
                around(d.name_span.end, d.value->span.begin, "=", true, true);
                expr(*d.value, false);
            }
            end();
        }
        pos = item.end;
    }
    close_block(pos, m.decl_span.end - 1, 0, first);
}

void Printer::hardware(const ast::Hardware& h) {
    std::uint32_t b = h.decl_span.begin;
    begin(0, Align::none);
    keyword("hardware", b, h.name_span.begin);
    put(raw(h.name_span.begin, h.name_span.end));
    std::uint32_t pos = open_block(h.name_span.end);
    bool first = true;
    for (const auto& item : h.body) {
        between(pos, item.begin, block_indent, first, false);
        first = false;
        std::uint32_t ib = item.begin;
        if (keyword_at(ib, "source") || keyword_at(ib, "doc")) {
            begin(block_indent, Align::none);
            doc_or_source(ib, item.end);
        } else {
            begin(block_indent, Align::hardware);
            for (const auto& e : h.entries) {
                if (e.name_span.begin != ib) continue;
                put(e.name);
                std::uint32_t eq = skip(e.name_span.end);
                gap(e.name_span.end, eq, false);
                cell();
                put("=");
                gap(eq + 1, e.value->span.begin, true);
                expr(*e.value, false);
                cell();
                std::uint32_t n = skip(e.value->span.end);
                if (n < item.end && at(n) == '"') {
                    gap(e.value->span.end, n, false);
                    put(raw(n, item.end));
                }
            }
            end();
        }
        pos = item.end;
    }
    close_block(pos, h.decl_span.end - 1, 0, first);
}

void Printer::engine(const ast::Engine& e) {
    std::uint32_t b = e.decl_span.begin;
    begin(0, Align::none);
    keyword("engine", b, e.name_span.begin);
    put(e.name);
    std::uint32_t p = skip(e.name_span.end);
    std::uint32_t after = e.name_span.end;
    if (at(p) == '"') {
        gap(after, p, true);
        after = string_end(p);
        put(raw(p, after));
    }
    std::uint32_t pos = open_block(after);
    bool first = true;
    for (const auto& entry : e.entries) {
        between(pos, entry.name_span.begin, block_indent, first, false);
        first = false;
        begin(block_indent, Align::none);
        put(entry.name);
        around(entry.name_span.end, entry.target_span.begin, "=", true, true);
        put(entry.target);
        end();
        pos = entry.target_span.end;
    }
    close_block(pos, e.decl_span.end - 1, 0, first);
}

void Printer::runtime(const ast::Runtime& r) {
    std::uint32_t b = r.decl_span.begin;
    begin(0, Align::runtime);
    keyword("runtime", b, r.span.begin);
    put(r.name);
    std::uint32_t pos = r.span.end;
    if (!r.type.empty()) {
        std::uint32_t colon = skip(pos);
        gap(pos, colon, false);
        put(":");
        cell();
        gap(colon + 1, r.type_span.begin, false);
        put(r.type);
        pos = r.type_span.end;
        for (const auto& bound : r.bounds) {
            std::string_view op = op_text(bound.op);
            around(pos, bound.value->span.begin, op, true, true);
            expr(*bound.value, false);
            pos = bound.value->span.end;
        }
    } else {
        cell();
    }
    std::uint32_t eq = skip(pos);
    gap(pos, eq, false);
    cell();
    put("=");
    gap(eq + 1, r.value->span.begin, true);
    expr(*r.value, false);
    cell();
    std::uint32_t d = skip(r.value->span.end);
    if (d < r.decl_span.end && at(d) == '"') {
        gap(r.value->span.end, d, false);
        put(raw(d, string_end(d)));
    }
    end();
}

std::string Printer::module(const ast::Module& m) {
    // Every declaration, in source order.
    enum class Kind { import, metric, runtime, kernel, alias, model, property, hardware, every, engine };
    struct Decl {
        interp::Span span;
        Kind kind;
        std::size_t index;
    };
    std::vector<Decl> decls;
    auto add = [&](const auto& v, Kind kind) {
        for (std::size_t i = 0; i < v.size(); ++i) decls.push_back({v[i].decl_span, kind, i});
    };
    add(m.imports, Kind::import);
    add(m.metrics, Kind::metric);
    add(m.runtimes, Kind::runtime);
    add(m.kernels, Kind::kernel);
    add(m.aliases, Kind::alias);
    add(m.models, Kind::model);
    add(m.properties, Kind::property);
    add(m.hardware, Kind::hardware);
    add(m.every_leaf, Kind::every);
    add(m.engines, Kind::engine);
    std::sort(decls.begin(), decls.end(), [](const Decl& a, const Decl& b) { return a.span.begin < b.span.begin; });

    std::uint32_t pos = 0;
    bool first = true;
    for (const auto& d : decls) {
        between(pos, d.span.begin, 0, first, false);
        first = false;
        std::uint32_t b = d.span.begin;
        switch (d.kind) {
            case Kind::import: {
                const auto& x = m.imports[d.index];
                begin(0, Align::none);
                keyword("import", b, x.span.begin);
                put(raw(x.span.begin, x.span.end));
                end();
                break;
            }
            case Kind::metric: {
                const auto& x = m.metrics[d.index];
                begin(0, Align::metric);
                keyword("metric", b, x.span.begin);
                put(x.name);
                cell();
                if (!x.description.empty()) put(escape(x.description));
                cell();
                std::string rest;
                if (!x.unit.empty()) rest += " unit " + escape(x.unit);
                if (!x.style.empty()) rest += " style " + x.style;
                if (x.combine_max) rest += " combine max";
                put(rest.empty() ? rest : rest.substr(1));
                gap(x.span.end, x.decl_span.end, false);
                end();
                break;
            }
            case Kind::property: {
                const auto& x = m.properties[d.index];
                begin(0, Align::property);
                keyword("property", b, x.span.begin);
                put(x.name);
                cell();
                if (!x.description.empty()) put(escape(x.description));
                cell();
                if (!x.unit.empty()) put("unit " + escape(x.unit));
                gap(x.span.end, x.decl_span.end, false);
                end();
                break;
            }
            case Kind::alias: {
                const auto& x = m.aliases[d.index];
                begin(0, Align::alias);
                keyword("alias", b, x.name_span.begin);
                put(x.name);
                std::uint32_t eq = skip(x.name_span.end);
                gap(x.name_span.end, eq, false);
                cell();
                put("=");
                gap(eq + 1, x.target_span.begin, true);
                put(x.target);
                end();
                break;
            }
            case Kind::runtime:
                runtime(m.runtimes[d.index]);
                break;
            case Kind::kernel:
                kernel(m.kernels[d.index], false);
                break;
            case Kind::every:
                kernel(m.every_leaf[d.index], true);
                break;
            case Kind::model:
                model(m.models[d.index]);
                break;
            case Kind::hardware:
                hardware(m.hardware[d.index]);
                break;
            case Kind::engine:
                engine(m.engines[d.index]);
                break;
        }
        pos = d.span.end;
    }
    between(pos, static_cast<std::uint32_t>(text_.size()), 0, first, true);
    return render();
}

std::string Printer::render() {
    // Pad the cells of runs of lines of one kind.
    std::size_t n = lines_.size();
    for (std::size_t i = 0; i < n;) {
        const Line& head = lines_[i];
        if (head.align == Align::none || head.continuation || head.comment_only || head.blank ||
            head.cells.size() != cells_of(head.align)) {
            ++i;
            continue;
        }
        std::vector<std::size_t> run;
        std::size_t k = i;
        for (; k < n; ++k) {
            const Line& l = lines_[k];
            if (l.blank) break;
            if (l.comment_only || l.continuation) continue;
            if (l.align != head.align || l.indent != head.indent || l.cells.size() != head.cells.size()) break;
            run.push_back(k);
        }
        std::vector<std::size_t> widths(head.cells.size(), 0);
        for (std::size_t r : run) {
            for (std::size_t c = 0; c + 1 < lines_[r].cells.size(); ++c) {
                std::size_t w = width(lines_[r].cells[c]);
                if (w <= max_cell) widths[c] = std::max(widths[c], w);
            }
        }
        for (std::size_t r : run) {
            auto& cells = lines_[r].cells;
            std::string joined;
            for (std::size_t c = 0; c < cells.size(); ++c) {
                bool rest_empty = std::all_of(cells.begin() + static_cast<std::ptrdiff_t>(c) + 1, cells.end(),
                                              [](const std::string& s) { return s.empty(); });
                joined += cells[c];
                if (rest_empty) break;
                if (widths[c] == 0 && cells[c].empty()) continue;  // a column no line of the run has
                // Hardware notes and runtime docs stand 2 spaces after the widest value.
                std::size_t space = (head.align == Align::hardware && c == 1) || (head.align == Align::runtime && c == 2) ? 2 : 1;
                if (c + 1 < cells.size()) joined += std::string(std::max(widths[c], width(cells[c])) - width(cells[c]) + space, ' ');
            }
            cells = {joined};
        }
        i = std::max(k, i + 1);
    }
    // Each line's code.
    std::vector<std::string> code(n);
    for (std::size_t i = 0; i < n; ++i) {
        const Line& l = lines_[i];
        if (l.blank) continue;
        std::string joined;
        for (const auto& c : l.cells) {
            if (c.empty()) continue;
            if (!joined.empty()) joined += ' ';
            joined += c;
        }
        code[i] = std::string(static_cast<std::size_t>(l.indent), ' ') + joined;
    }
    // Trailing comments: a run of consecutive lines that carry one lines them up.
    std::vector<std::size_t> column(n, 0);
    for (std::size_t i = 0; i < n;) {
        auto joins = [&](std::size_t j) {
            return !lines_[j].comment.empty() && !lines_[j].comment_only && width(code[j]) <= max_aligned;
        };
        if (!joins(i)) {
            if (!lines_[i].comment.empty()) column[i] = width(code[i]) + comment_gap;
            ++i;
            continue;
        }
        std::size_t k = i;
        std::size_t col = 0;
        while (k < n && joins(k)) col = std::max(col, width(code[k++]) + comment_gap);
        for (std::size_t j = i; j < k; ++j) column[j] = col;
        i = k;
    }
    std::string out;
    for (std::size_t i = 0; i < n; ++i) {
        const Line& l = lines_[i];
        std::string s = code[i];
        if (!l.comment.empty()) s += std::string(column[i] - width(code[i]), ' ') + l.comment;
        rtrim(s);
        out += s;
        out += '\n';
    }
    return out;
}

bool same_call(const ast::Call& a, const ast::Call& b);

bool same_bindings(const std::vector<ast::Binding>& a, const std::vector<ast::Binding>& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (a[i].name != b[i].name || !same_expr(*a[i].value, *b[i].value)) return false;
    }
    return true;
}

bool same_call(const ast::Call& a, const ast::Call& b) { return a.kernel == b.kernel && same_bindings(a.args, b.args); }

bool same_optional(const ast::ExprPtr& a, const ast::ExprPtr& b) {
    if (!a || !b) return !a && !b;
    return same_expr(*a, *b);
}

}  // namespace

int precedence(const Expr& e) {
    switch (e.kind) {
        case ExprKind::cond:
            return 0;
        case ExprKind::unary:
            return e.op == Op::not_ ? not_level : unary_level;
        case ExprKind::binary:
            return binary_precedence(e.op);
        default:
            return primary_level;
    }
}

std::string print_module(const ast::Module& module) {
    std::string_view text = module.file->text();
    Trivia trivia(text);
    Printer p(text, &trivia);
    return p.module(module);
}

std::string print_expr(const Expr& e) {
    Printer p({}, nullptr);
    std::string s = p.expression(e);
    if (!s.empty() && s.back() == '\n') s.pop_back();
    return s;
}

bool same_expr(const Expr& a, const Expr& b) {
    if (a.kind != b.kind || a.text != b.text || a.args.size() != b.args.size()) return false;
    if ((a.kind == ExprKind::unary || a.kind == ExprKind::binary) && a.op != b.op) return false;
    if (a.kind == ExprKind::number && !(a.number == b.number)) return false;
    if (a.kind == ExprKind::call && !same_call(*a.call, *b.call)) return false;
    for (std::size_t i = 0; i < a.args.size(); ++i) {
        if (!same_expr(*a.args[i], *b.args[i])) return false;
    }
    return true;
}

bool same_module(const ast::Module& a, const ast::Module& b, std::string* why) {
    auto differ = [&](const std::string& what, const std::string& name) {
        if (why != nullptr) *why = what + " '" + name + "'";
        return false;
    };
    auto count = [&](std::size_t x, std::size_t y, const char* what) {
        if (x != y && why != nullptr) *why = std::string("the number of ") + what;
        return x == y;
    };
    if (!count(a.imports.size(), b.imports.size(), "imports") || !count(a.metrics.size(), b.metrics.size(), "metrics") ||
        !count(a.runtimes.size(), b.runtimes.size(), "runtimes") || !count(a.kernels.size(), b.kernels.size(), "kernels") ||
        !count(a.aliases.size(), b.aliases.size(), "aliases") || !count(a.models.size(), b.models.size(), "models") ||
        !count(a.properties.size(), b.properties.size(), "properties") ||
        !count(a.hardware.size(), b.hardware.size(), "hardware") ||
        !count(a.every_leaf.size(), b.every_leaf.size(), "every leaf blocks") ||
        !count(a.engines.size(), b.engines.size(), "engines"))
        return false;
    for (std::size_t i = 0; i < a.imports.size(); ++i)
        if (a.imports[i].path != b.imports[i].path) return differ("import", a.imports[i].path);
    for (std::size_t i = 0; i < a.metrics.size(); ++i) {
        const auto& x = a.metrics[i];
        const auto& y = b.metrics[i];
        if (x.name != y.name || x.description != y.description || x.unit != y.unit || x.style != y.style ||
            x.combine_max != y.combine_max)
            return differ("metric", x.name);
    }
    for (std::size_t i = 0; i < a.properties.size(); ++i) {
        const auto& x = a.properties[i];
        const auto& y = b.properties[i];
        if (x.name != y.name || x.description != y.description || x.unit != y.unit) return differ("property", x.name);
    }
    for (std::size_t i = 0; i < a.runtimes.size(); ++i) {
        const auto& x = a.runtimes[i];
        const auto& y = b.runtimes[i];
        bool same = x.name == y.name && x.type == y.type && x.doc == y.doc && same_expr(*x.value, *y.value) &&
                    x.bounds.size() == y.bounds.size();
        for (std::size_t j = 0; same && j < x.bounds.size(); ++j)
            same = x.bounds[j].op == y.bounds[j].op && same_expr(*x.bounds[j].value, *y.bounds[j].value);
        if (!same) return differ("runtime", x.name);
    }
    auto same_kernel = [](const ast::Kernel& x, const ast::Kernel& y) {
        if (x.name != y.name || x.params.size() != y.params.size() || x.body.size() != y.body.size()) return false;
        for (std::size_t j = 0; j < x.params.size(); ++j) {
            if (x.params[j].name != y.params[j].name ||
                !same_optional(x.params[j].default_value, y.params[j].default_value))
                return false;
        }
        for (std::size_t j = 0; j < x.body.size(); ++j) {
            const auto& s = x.body[j];
            const auto& t = y.body[j];
            if (s.kind != t.kind || s.name != t.name || s.text != t.text || !same_optional(s.value, t.value) ||
                !same_optional(s.count, t.count) || !same_bindings(s.with, t.with))
                return false;
            if (s.kind == ast::StmtKind::child && !same_call(s.call, t.call)) return false;
        }
        return true;
    };
    for (std::size_t i = 0; i < a.kernels.size(); ++i)
        if (!same_kernel(a.kernels[i], b.kernels[i])) return differ("kernel", a.kernels[i].name);
    for (std::size_t i = 0; i < a.every_leaf.size(); ++i)
        if (!same_kernel(a.every_leaf[i], b.every_leaf[i])) return differ("block", "every leaf");
    for (std::size_t i = 0; i < a.aliases.size(); ++i)
        if (a.aliases[i].name != b.aliases[i].name || a.aliases[i].target != b.aliases[i].target)
            return differ("alias", a.aliases[i].name);
    for (std::size_t i = 0; i < a.models.size(); ++i) {
        const auto& x = a.models[i];
        const auto& y = b.models[i];
        bool same = x.name == y.name && same_call(x.entry, y.entry) && same_bindings(x.config, y.config) &&
                    same_bindings(x.defaults, y.defaults) && x.doc == y.doc && x.source == y.source &&
                    x.config_files.size() == y.config_files.size();
        for (std::size_t j = 0; same && j < x.config_files.size(); ++j)
            same = x.config_files[j].path == y.config_files[j].path;
        if (!same) return differ("model", x.name);
    }
    for (std::size_t i = 0; i < a.hardware.size(); ++i) {
        const auto& x = a.hardware[i];
        const auto& y = b.hardware[i];
        bool same = x.name == y.name && x.doc == y.doc && x.sources == y.sources && x.entries.size() == y.entries.size();
        for (std::size_t j = 0; same && j < x.entries.size(); ++j)
            same = x.entries[j].name == y.entries[j].name && x.entries[j].note == y.entries[j].note &&
                   same_expr(*x.entries[j].value, *y.entries[j].value);
        if (!same) return differ("hardware", x.name);
    }
    for (std::size_t i = 0; i < a.engines.size(); ++i) {
        const auto& x = a.engines[i];
        const auto& y = b.engines[i];
        bool same = x.name == y.name && x.doc == y.doc && x.entries.size() == y.entries.size();
        for (std::size_t j = 0; same && j < x.entries.size(); ++j)
            same = x.entries[j].name == y.entries[j].name && x.entries[j].target == y.entries[j].target;
        if (!same) return differ("engine", x.name);
    }
    return true;
}

}  // namespace costi::grammar
