// The hand-written expression parser (grammar in expression.hpp).
#include "grammar/expression.hpp"

#include <algorithm>

#include "grammar/errors.hpp"
#include "interpreter/diagnostics.hpp"

namespace costi::grammar {

namespace ast = interp::ast;
using ast::ExprKind;
using ast::ExprPtr;
using ast::Op;

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_ident_first(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_ident_other(char c) { return is_ident_first(c) || is_digit(c); }
bool is_space(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\v' || c == '\f'; }
bool is_sep(char c) { return c == ';' || c == ','; }

// The message for a missing operand after an operator (every level words it the same).
const char* const operand_message = errors::message<sum>;

}  // namespace

ExpressionParser::Nest::Nest(ExpressionParser& p, std::size_t pos) : p_(p) {
    if (++p_.depth_ > max_nesting) {
        --p_.depth_;
        throw SyntaxError{pos, "expression nested too deeply", "split it with `let` bindings"};
    }
}

std::size_t ExpressionParser::skip_blanks(std::size_t pos) const {
    while (pos < text_.size()) {
        char c = text_[pos];
        if (is_space(c)) {
            ++pos;
        } else if (c == '#') {
            std::size_t nl = text_.find('\n', pos);
            pos = nl == std::string_view::npos ? text_.size() : nl + 1;
        } else {
            break;
        }
    }
    return pos;
}

bool ExpressionParser::keyword_at(std::size_t pos, std::string_view word) const {
    return text_.compare(pos, word.size(), word) == 0 &&
           !(pos + word.size() < text_.size() && is_ident_other(text_[pos + word.size()]));
}

std::size_t ExpressionParser::identifier_end(std::size_t pos) const {
    if (pos >= text_.size() || !is_ident_first(text_[pos])) return pos;
    ++pos;
    while (pos < text_.size() && is_ident_other(text_[pos])) ++pos;
    return pos;
}

std::size_t ExpressionParser::qname_end(std::size_t pos) const {
    std::size_t end = identifier_end(pos);
    if (end == pos) return pos;
    while (end < text_.size() && text_[end] == '.') {
        std::size_t next = identifier_end(end + 1);
        if (next == end + 1) break;
        end = next;
    }
    return end;
}

bool ExpressionParser::reserved(std::string_view w) const {
    return w == "and" || w == "or" || w == "not" || w == "if" || w == "then" || w == "else" || w == "true" ||
           w == "false";
}

void ExpressionParser::fail(std::size_t pos, const char* message) const {
    throw SyntaxError{pos, message, ""};
}

ExprPtr ExpressionParser::make(ExprKind kind, std::size_t begin, std::size_t end) const {
    auto e = std::make_unique<ast::Expr>();
    e->kind = kind;
    e->span = {&file_, static_cast<std::uint32_t>(begin), static_cast<std::uint32_t>(end)};
    return e;
}

// Sets e's height from its operands and refuses nesting beyond ast::max_expr_height.
void ExpressionParser::finish(ast::Expr& e) const {
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

std::optional<std::size_t> closing_quote(std::string_view text, std::size_t open) {
    std::size_t quote = text.find('"', open + 1);
    if (quote == std::string_view::npos) return std::nullopt;
    std::string_view inside = text.substr(open + 1, quote - open - 1);
    if (inside.find('\n') != std::string_view::npos) return std::nullopt;
    if (inside.find('\\') == std::string_view::npos) return quote;
    std::size_t i = open + 1;
    for (; i < text.size() && text[i] != '"'; ++i) {
        if (text[i] == '\n') return std::nullopt;
        if (text[i] == '\\') ++i;
    }
    if (i >= text.size()) return std::nullopt;
    return i;
}

std::optional<std::string> ExpressionParser::string_lit(std::size_t& pos) const {
    if (pos >= text_.size() || text_[pos] != '"') return std::nullopt;
    // A string without escapes is copied whole; the loop below unescapes the others and
    // reports where a string goes wrong.
    if (auto quote = closing_quote(text_, pos)) {
        std::string_view inside = text_.substr(pos + 1, *quote - pos - 1);
        if (inside.find('\\') == std::string_view::npos) {
            pos = *quote + 1;
            return std::string(inside);
        }
    }
    std::string out;
    std::size_t i = pos + 1;
    for (;;) {
        // The run of plain characters up to the closing quote, a newline or an escape (a
        // plain loop: linear however many strings share a line or escapes a string holds).
        std::size_t plain = i;
        while (plain < text_.size() && text_[plain] != '"' && text_[plain] != '\n' && text_[plain] != '\\') ++plain;
        out.append(text_.substr(i, plain - i));
        i = plain;
        if (i >= text_.size() || text_[i] == '\n') fail(i, errors::message<string_close>);
        char c = text_[i];
        if (c == '"') break;
        if (c == '\\') {
            char e = i + 1 < text_.size() ? text_[i + 1] : '\0';
            if (e != '"' && e != '\\' && e != 'n' && e != 't') fail(i + 1, errors::message<escaped_char>);
            out.push_back(e == 'n' ? '\n' : e == 't' ? '\t' : e);
            i += 2;
            continue;
        }
        out.push_back(c);
        ++i;
    }
    pos = i + 1;
    return out;
}

ExprPtr ExpressionParser::expr(std::size_t& pos) { return expr_at(pos); }

ExprPtr ExpressionParser::sum(std::size_t& pos) { return chain(Level::sum, pos); }

ExprPtr ExpressionParser::expr_at(std::size_t& pos) {
    if (!keyword_at(pos, "if")) return chain(Level::defaulted, pos);
    Nest nest(*this, pos);
    auto e = make(ExprKind::cond, pos, pos);
    std::size_t q = skip_blanks(pos + 2);
    const char* const words[] = {"then", "else"};
    const char* const missing[] = {errors::message<kw_then>, errors::message<kw_else>};
    for (int part = 0; part < 3; ++part) {
        auto a = expr_at(q);
        if (!a) fail(q, errors::message<grammar::expr>);
        e->args.push_back(std::move(a));
        if (part == 2) break;
        q = skip_blanks(q);
        if (!keyword_at(q, words[part])) fail(q, missing[part]);
        q = skip_blanks(q + 4);
    }
    e->span.end = static_cast<std::uint32_t>(q);
    finish(*e);
    pos = q;
    return e;
}

std::optional<Op> ExpressionParser::op_at(Level level, std::size_t s, std::size_t& len) const {
    char c = s < text_.size() ? text_[s] : '\0';
    char d = s + 1 < text_.size() ? text_[s + 1] : '\0';
    len = 1;
    switch (level) {
        case Level::defaulted:
            len = 2;
            if (c == '?' && d == '?') return Op::default_;
            return std::nullopt;
        case Level::disjunction:
            len = 2;
            if (keyword_at(s, "or")) return Op::or_;
            return std::nullopt;
        case Level::conjunction:
            len = 3;
            if (keyword_at(s, "and")) return Op::and_;
            return std::nullopt;
        case Level::comparison:
            if (d == '=') {
                len = 2;
                if (c == '=') return Op::eq;
                if (c == '!') return Op::ne;
                if (c == '<') return Op::le;
                if (c == '>') return Op::ge;
            }
            len = 1;
            if (c == '<') return Op::lt;
            if (c == '>') return Op::gt;
            return std::nullopt;
        case Level::sum:
            if (c == '+') return Op::add;
            if (c == '-') return Op::sub;
            return std::nullopt;
        case Level::product:
            if (c == '/' && d == '/') {
                len = 2;
                return Op::floor_div;
            }
            if (c == '*') return Op::mul;
            if (c == '/') return Op::div;
            if (c == '%') return Op::mod;
            return std::nullopt;
    }
    return std::nullopt;
}

const ExpressionParser::NextOp& ExpressionParser::next_op(std::size_t pos) {
    if (pos == next_op_pos_) return next_op_;
    next_op_ = NextOp{};
    next_op_.at = skip_blanks(pos);
    // The one level whose operators can start with this character (op_at tells the rest).
    std::optional<Level> level;
    switch (next_op_.at < text_.size() ? text_[next_op_.at] : '\0') {
        case '?': level = Level::defaulted; break;
        case 'o': level = Level::disjunction; break;
        case 'a': level = Level::conjunction; break;
        case '=': case '!': case '<': case '>': level = Level::comparison; break;
        case '+': case '-': level = Level::sum; break;
        case '*': case '/': case '%': level = Level::product; break;
        default: break;
    }
    if (level) {
        if (auto op = op_at(*level, next_op_.at, next_op_.len)) {
            next_op_.level = level;
            next_op_.op = *op;
        }
    }
    next_op_pos_ = pos;
    return next_op_;
}

// The operand of an operator of `level`: what binds tighter.
ExprPtr ExpressionParser::operand(Level level, std::size_t& pos) {
    switch (level) {
        case Level::conjunction:
            return negation(pos);
        case Level::product:
            return unary(pos);
        default:
            return chain(static_cast<Level>(static_cast<int>(level) + 1), pos);
    }
}

// The operators of `level` and tighter, by precedence climbing: an operand, then each run of
// operators of one level (a op b op c, operands parsed at the levels above it) collected as
// written and joined by combine() — the trees one function per level would build, without
// descending through every level for each operand. `ceiling`: the levels the operand so far
// has already taken every operator of (the comparisons and up, after negation(); none, after
// unary(); a closed run's own level and up). That is also what stops `a < b < c` after
// `a < b`: comparisons do not chain.
ExprPtr ExpressionParser::chain(Level level, std::size_t& pos) {
    const bool negated = level <= Level::conjunction;
    ExprPtr lhs = negated ? negation(pos) : unary(pos);
    if (!lhs) return nullptr;
    int ceiling = negated ? static_cast<int>(Level::comparison) : static_cast<int>(Level::product) + 1;
    for (;;) {
        const NextOp& next = next_op(pos);
        if (!next.level || *next.level < level || static_cast<int>(*next.level) >= ceiling) return lhs;
        const Level run = *next.level;
        std::vector<ExprPtr> terms;
        std::vector<Op> ops;
        terms.push_back(std::move(lhs));
        for (;;) {
            const NextOp& at = next_op(pos);
            if (at.level != run) break;
            Op op = at.op;  // (copied: parsing the operand asks next_op again)
            std::size_t q = skip_blanks(at.at + at.len);
            ExprPtr operand_after = operand(run, q);
            if (!operand_after) fail(q, operand_message);
            terms.push_back(std::move(operand_after));
            ops.push_back(op);
            pos = q;
            if (run == Level::comparison) break;  // comparisons do not chain
        }
        lhs = combine(run, terms, ops);
        ceiling = static_cast<int>(run);
    }
}

ExprPtr ExpressionParser::binary(Op op, ExprPtr a, ExprPtr b) const {
    auto e = make(ExprKind::binary, a->span.begin, b->span.end);
    e->op = op;
    e->args.reserve(2);
    e->args.push_back(std::move(a));
    e->args.push_back(std::move(b));
    finish(*e);
    return e;
}

// terms[lo..hi] joined by ops (ops[k - 1] stands between terms[k - 1] and terms[k]), as a
// balanced tree. With `flip`, + and - are swapped: the range is the right operand of a '-'.
ExprPtr ExpressionParser::balanced(std::vector<ExprPtr>& terms, const std::vector<Op>& ops, std::size_t lo,
                                   std::size_t hi, bool flip) {
    if (lo == hi) return std::move(terms[lo]);
    std::size_t mid = lo + (hi - lo + 1) / 2;
    Op op = ops[mid - 1];
    if (flip) op = op == Op::add ? Op::sub : op == Op::sub ? Op::add : op;
    ExprPtr left = balanced(terms, ops, lo, mid - 1, flip);
    // a - (b op c): the operators inside the right group change sign.
    ExprPtr right = balanced(terms, ops, mid, hi, flip != (op == Op::sub));
    return binary(op, std::move(left), std::move(right));
}

// A chain as written, ((a op b) op c) …; a longer one regrouped with the same exact value:
// sums (with differences) and chains of `and`, `or`, `??` as balanced trees; in a product,
// each run of '*' (or of '/') as one balanced product: x / a / b = x / (a * b), which is
// zero, and so a division by zero, exactly when one of a, b is. `//` and `%` stay in order.
ExprPtr ExpressionParser::combine(Level level, std::vector<ExprPtr>& terms, std::vector<Op>& ops) {
    std::size_t n = terms.size();
    if (n <= max_written_chain) {
        ExprPtr acc = std::move(terms[0]);
        for (std::size_t i = 1; i < n; ++i) acc = binary(ops[i - 1], std::move(acc), std::move(terms[i]));
        return acc;
    }
    if (level != Level::product) return balanced(terms, ops, 0, n - 1, false);
    ExprPtr acc = std::move(terms[0]);
    std::vector<Op> all_mul(n, Op::mul);
    for (std::size_t i = 1; i < n;) {
        Op op = ops[i - 1];
        std::size_t j = i;
        if (op == Op::mul || op == Op::div) {
            while (j + 1 < n && ops[j] == op) ++j;
        }
        acc = binary(op, std::move(acc), balanced(terms, all_mul, i, j, false));
        i = j + 1;
    }
    return acc;
}

ExprPtr ExpressionParser::negation(std::size_t& pos) {
    if (!keyword_at(pos, "not")) return chain(Level::comparison, pos);
    Nest nest(*this, pos);
    std::size_t q = skip_blanks(pos + 3);
    ExprPtr inner = negation(q);
    if (!inner) fail(q, operand_message);
    auto e = make(ExprKind::unary, pos, q);
    e->op = Op::not_;
    e->args.push_back(std::move(inner));
    finish(*e);
    pos = q;
    return e;
}

ExprPtr ExpressionParser::unary(std::size_t& pos) {
    char c = pos < text_.size() ? text_[pos] : '\0';
    if (c == '-' || c == '+') {
        Nest nest(*this, pos);
        std::size_t q = skip_blanks(pos + 1);
        ExprPtr inner = unary(q);
        if (!inner) fail(q, operand_message);
        auto e = make(ExprKind::unary, pos, q);
        e->op = c == '-' ? Op::neg : Op::pos;
        e->args.push_back(std::move(inner));
        finish(*e);
        pos = q;
        return e;
    }
    std::size_t begin = pos;
    ExprPtr base = primary(pos);
    if (!base) return nullptr;
    std::size_t s = skip_blanks(pos);
    if (s >= text_.size() || text_[s] != '^') return base;
    Nest nest(*this, s);
    std::size_t q = skip_blanks(s + 1);
    ExprPtr exponent = unary(q);
    if (!exponent) fail(q, operand_message);
    auto e = make(ExprKind::binary, begin, q);
    e->op = Op::pow;
    e->args.push_back(std::move(base));
    e->args.push_back(std::move(exponent));
    finish(*e);
    pos = q;
    return e;
}

ExprPtr ExpressionParser::number(std::size_t& pos) {
    auto digit_run = [&](std::size_t i) {
        ++i;
        while (i < text_.size()) {
            if (is_digit(text_[i])) {
                ++i;
            } else if (text_[i] == '_' && i + 1 < text_.size() && is_digit(text_[i + 1])) {
                i += 2;
            } else {
                break;
            }
        }
        return i;
    };
    std::size_t i = digit_run(pos);
    if (i + 1 < text_.size() && text_[i] == '.' && is_digit(text_[i + 1])) i = digit_run(i + 1);
    if (i < text_.size() && (text_[i] == 'e' || text_[i] == 'E')) {
        std::size_t k = i + 1;
        if (k < text_.size() && (text_[k] == '+' || text_[k] == '-')) ++k;
        if (k >= text_.size() || !is_digit(text_[k])) fail(k, errors::message<grammar::digits>);
        i = digit_run(k);
    }
    if (i < text_.size() && is_ident_first(text_[i])) return nullptr;  // `2x` is no number
    auto e = make(ExprKind::number, pos, i);
    std::string_view literal = text_.substr(pos, i - pos);
    if (literal.size() <= 18 && std::all_of(literal.begin(), literal.end(), is_digit)) {
        // Plain integers (most literals) need no rational parsing.
        std::int64_t v = 0;
        for (char c : literal) v = v * 10 + (c - '0');
        e->number = v;
        finish(*e);
        pos = i;
        return e;
    }
    auto v = interp::Number::parse(literal);
    if (!v) {
        throw interp::CostiError(interp::Diagnostic{interp::code::syntax, e->span,
                                                    "number literal '" + std::string(literal) + "' is out of range",
                                                    "", {}});
    }
    e->number = std::move(*v);
    finish(*e);
    pos = i;
    return e;
}

ExprPtr ExpressionParser::primary(std::size_t& pos) {
    if (pos >= text_.size()) return nullptr;
    char c = text_[pos];
    if (is_digit(c)) return number(pos);
    if (c == '"') {
        std::size_t q = pos;
        std::string s = *string_lit(q);
        auto e = make(ExprKind::string, pos, q);
        e->text = std::move(s);
        finish(*e);
        pos = q;
        return e;
    }
    if (c == '$') {
        std::size_t q = pos;
        auto site = call(q);
        auto e = make(ExprKind::call, pos, q);
        e->call = std::make_shared<ast::Call>(std::move(*site));
        finish(*e);
        pos = q;
        return e;
    }
    if (c == '(') {
        Nest nest(*this, pos);
        std::size_t q = skip_blanks(pos + 1);
        ExprPtr inner = expr_at(q);
        if (!inner) fail(q, errors::message<grammar::expr>);
        q = skip_blanks(q);
        if (q >= text_.size() || text_[q] != ')') fail(q, errors::message<close_paren>);
        ++q;
        // The parentheses belong to the operand: carets and quoted formulas include them.
        inner->span = {&file_, static_cast<std::uint32_t>(pos), static_cast<std::uint32_t>(q)};
        pos = q;
        return inner;
    }
    std::size_t end = identifier_end(pos);
    if (end == pos) return nullptr;
    std::string_view word = text_.substr(pos, end - pos);
    if (word == "true" || word == "false") {
        auto e = make(ExprKind::number, pos, end);
        e->number = word == "true" ? 1 : 0;
        finish(*e);
        pos = end;
        return e;
    }
    bool dotted = end < text_.size() && text_[end] == '.';
    if (dotted && (word == "config" || word == "hw")) {
        std::size_t k = end + 1;
        std::size_t key_end = word == "hw" ? identifier_end(k) : k;
        if (word == "config") {
            // Config keys follow the JSON: objects by name, lists by index (weight_block_size.0).
            key_end = identifier_end(k);
            while (key_end > k && key_end + 1 < text_.size() && text_[key_end] == '.') {
                std::size_t next = identifier_end(key_end + 1);
                if (next == key_end + 1) {
                    while (next < text_.size() && is_digit(text_[next])) ++next;
                    if (next == key_end + 1) break;
                }
                key_end = next;
            }
        }
        if (key_end == k) fail(k, word == "hw" ? errors::message<property_name> : errors::message<dotted_key>);
        auto e = make(word == "hw" ? ExprKind::hardware : ExprKind::config, pos, key_end);
        e->text = std::string(text_.substr(k, key_end - k));
        finish(*e);
        pos = key_end;
        return e;
    }
    if (ast::function_index(word) >= 0) {
        std::size_t q = skip_blanks(end);
        if (q < text_.size() && text_[q] == '(') {
            Nest nest(*this, q);
            auto e = make(ExprKind::function, pos, pos);
            e->text = std::string(word);
            q = skip_blanks(q + 1);
            for (;;) {
                ExprPtr arg = expr_at(q);
                if (!arg) fail(q, errors::message<grammar::expr>);
                e->args.push_back(std::move(arg));
                std::size_t s = skip_blanks(q);
                if (s >= text_.size() || !is_sep(text_[s])) break;
                q = skip_blanks(s + 1);
            }
            q = skip_blanks(q);
            if (q >= text_.size() || text_[q] != ')') fail(q, errors::message<close_paren>);
            ++q;
            e->span.end = static_cast<std::uint32_t>(q);
            finish(*e);
            pos = q;
            return e;
        }
    }
    if (reserved(word)) return nullptr;
    auto e = make(ExprKind::name, pos, end);
    e->text = std::string(word);
    finish(*e);
    pos = end;
    return e;
}

std::optional<ast::Call> ExpressionParser::call(std::size_t& pos) {
    if (pos >= text_.size() || text_[pos] != '$') return std::nullopt;
    ast::Call c;
    std::size_t j = pos + 1;
    std::size_t name_begin = j;
    if (j < text_.size() && text_[j] == '{') {
        name_begin = skip_blanks(j + 1);
        j = qname_end(name_begin);
        if (j == name_begin) fail(name_begin, errors::message<qname>);
        c.name_span = {&file_, static_cast<std::uint32_t>(name_begin), static_cast<std::uint32_t>(j)};
        j = skip_blanks(j);
        if (j >= text_.size() || text_[j] != '}') fail(j, errors::message<close_brace>);
        ++j;
    } else {
        j = qname_end(name_begin);
        if (j == name_begin) fail(name_begin, errors::message<qname>);
        c.name_span = {&file_, static_cast<std::uint32_t>(name_begin), static_cast<std::uint32_t>(j)};
    }
    c.kernel = std::string(text_.substr(c.name_span.begin, c.name_span.end - c.name_span.begin));
    std::size_t q = skip_blanks(j);
    if (auto args = binding_list(q)) {
        c.args = std::move(*args);
        j = q;
    }
    c.span = {&file_, static_cast<std::uint32_t>(pos), static_cast<std::uint32_t>(j)};
    pos = j;
    return c;
}

std::optional<std::vector<ast::Binding>> ExpressionParser::binding_list(std::size_t& pos) {
    if (pos >= text_.size() || text_[pos] != '(') return std::nullopt;
    Nest nest(*this, pos);
    std::vector<ast::Binding> out;
    // `name = expr` at p: false (p unchanged) when no name starts there.
    auto binding = [&](std::size_t& p) {
        std::size_t end = identifier_end(p);
        if (end == p || reserved(text_.substr(p, end - p))) return false;
        ast::Binding b;
        b.name = std::string(text_.substr(p, end - p));
        b.name_span = {&file_, static_cast<std::uint32_t>(p), static_cast<std::uint32_t>(end)};
        std::size_t q = skip_blanks(end);
        if (q >= text_.size() || text_[q] != '=' || (q + 1 < text_.size() && text_[q + 1] == '='))
            fail(q, errors::message<equals>);
        q = skip_blanks(q + 1);
        b.value = expr_at(q);
        if (!b.value) fail(q, errors::message<grammar::expr>);
        out.push_back(std::move(b));
        p = q;
        return true;
    };
    std::size_t p = skip_blanks(pos + 1);
    if (binding(p)) {
        for (;;) {
            std::size_t s = skip_blanks(p);
            if (s >= text_.size() || !is_sep(text_[s])) break;
            std::size_t q = skip_blanks(s + 1);
            if (!binding(q)) break;
            p = q;
        }
        std::size_t s = skip_blanks(p);
        if (s < text_.size() && is_sep(text_[s])) p = s + 1;  // a trailing separator
    }
    p = skip_blanks(p);
    if (p >= text_.size() || text_[p] != ')') fail(p, errors::message<close_paren>);
    pos = p + 1;
    return out;
}

}  // namespace costi::grammar
