// Parsing the predecessor's Python formula strings and printing them in the cost language.
#include "interpreter/lmp/python_expr.hpp"

#include <algorithm>
#include <cctype>
#include <set>

#include "interpreter/number.hpp"

namespace costi::lmp {

namespace {

bool ident_first(char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0 || c == '_'; }
bool ident_char(char c) { return ident_first(c) || std::isdigit(static_cast<unsigned char>(c)) != 0; }
bool digit(char c) { return c >= '0' && c <= '9'; }

enum class Tok { end, number, name, placeholder, ref, op };

struct Token {
    Tok kind = Tok::end;
    std::string text;
    std::size_t col = 1;  // 1-based
};

class Parser {
public:
    explicit Parser(const Origin& o) : o_(o), s_(o.text) {}

    NodePtr parse() {
        if (s_.size() > max_formula_length)
            fail(1, "formula longer than " + std::to_string(max_formula_length) + " bytes");
        next();
        if (tok_.kind == Tok::end) fail(1, "empty formula", "write 0 for no cost");
        NodePtr n = conditional();
        if (tok_.kind != Tok::end) fail(tok_.col, "unexpected '" + tok_.text + "' after the expression");
        return n;
    }

private:
    const Origin& o_;
    const std::string& s_;
    std::size_t pos_ = 0;
    Token tok_;
    int depth_ = 0;

    [[noreturn]] void fail(std::size_t col, const std::string& msg, const std::string& hint = "") const {
        throw ImportError(o_.file, o_.json_path, col, msg, o_.text, hint);
    }

    struct Nest {
        Parser& p;
        Nest(Parser& parser, std::size_t col) : p(parser) {
            if (++p.depth_ > max_formula_nesting)
                p.fail(col, "formula nested more than " + std::to_string(max_formula_nesting) + " levels deep");
        }
        ~Nest() { --p.depth_; }
        Nest(const Nest&) = delete;
        Nest& operator=(const Nest&) = delete;
    };

    // ---- tokens ----
    std::string number_literal(std::size_t start) {
        std::size_t i = start;
        auto col = start + 1;
        auto digits = [&](auto is_digit_of_base) {
            std::string out;
            bool last_digit = false;
            while (i < s_.size()) {
                char c = s_[i];
                if (is_digit_of_base(c)) {
                    out += c;
                    last_digit = true;
                } else if (c == '_' && last_digit && i + 1 < s_.size() && is_digit_of_base(s_[i + 1])) {
                    last_digit = false;
                } else {
                    break;
                }
                ++i;
            }
            return out;
        };
        std::string result;
        if (s_[i] == '0' && i + 1 < s_.size() && std::string("xXoObB").find(s_[i + 1]) != std::string::npos) {
            char b = static_cast<char>(std::tolower(static_cast<unsigned char>(s_[i + 1])));
            int base = b == 'x' ? 16 : b == 'o' ? 8 : 2;
            i += 2;
            if (i < s_.size() && s_[i] == '_') ++i;  // 0x_1F is Python
            std::string d = digits([&](char c) {
                if (base == 16) return std::isxdigit(static_cast<unsigned char>(c)) != 0;
                return c >= '0' && c < static_cast<char>('0' + base);
            });
            if (d.empty()) fail(col, "malformed number literal");
            if (d.size() > 4096) fail(col, "number literal too long");
            interp::Number v(0);
            for (char c : d) {
                int x = digit(c) ? c - '0' : std::tolower(static_cast<unsigned char>(c)) - 'a' + 10;
                v = v * interp::Number(base) + interp::Number(x);
            }
            result = v.to_string();
        } else {
            std::string whole = digits(digit);
            std::string frac;
            bool point = false;
            if (i < s_.size() && s_[i] == '.') {
                point = true;
                ++i;
                frac = digits(digit);
            }
            if (whole.empty() && frac.empty()) fail(col, "malformed number literal");
            std::string exp;
            if (i < s_.size() && (s_[i] == 'e' || s_[i] == 'E')) {
                ++i;
                std::string sign;
                if (i < s_.size() && (s_[i] == '+' || s_[i] == '-')) sign = s_[i++];
                std::string e = digits(digit);
                if (e.empty()) fail(col, "malformed exponent in number literal");
                std::size_t nz = e.find_first_not_of('0');
                std::string trimmed = nz == std::string::npos ? "0" : e.substr(nz);
                if (trimmed.size() > 6 || std::stol(trimmed) > 100000)
                    fail(col, "number literal's exponent beyond 100000");
                exp = "e" + (sign == "-" ? std::string("-") : std::string()) + trimmed;
                point = true;
            }
            if (!point && whole.size() > 1 && whole.find_first_not_of('0') != std::string::npos && whole[0] == '0')
                fail(col, "leading zeros in a decimal integer literal are not Python",
                     "Python writes an octal number 0o17");
            if (whole.empty()) whole = "0";
            result = whole;
            if (!frac.empty()) result += "." + frac;
            result += exp;
            if (whole.size() + frac.size() > 4096) fail(col, "number literal too long");
        }
        if (i < s_.size() && (s_[i] == 'j' || s_[i] == 'J')) fail(col, "imaginary numbers have no cost meaning");
        if (i < s_.size() && ident_char(s_[i])) fail(i + 1, "malformed number literal");
        pos_ = i;
        return result;
    }

    std::string dotted_name(std::size_t& i, std::size_t col) {
        std::string out;
        for (;;) {
            if (i >= s_.size() || !ident_first(s_[i])) fail(i + 1, "expected a name", "");
            while (i < s_.size() && ident_char(s_[i])) out += s_[i++];
            if (i < s_.size() && s_[i] == '.') {
                out += s_[i++];
                continue;
            }
            break;
        }
        (void)col;
        return out;
    }

    void next() {
        while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r'))
            ++pos_;
        tok_ = Token{};
        tok_.col = pos_ + 1;
        if (pos_ >= s_.size()) return;
        char c = s_[pos_];
        if (digit(c) || (c == '.' && pos_ + 1 < s_.size() && digit(s_[pos_ + 1]))) {
            tok_.kind = Tok::number;
            tok_.text = number_literal(pos_);
            return;
        }
        if (ident_first(c)) {
            std::size_t i = pos_;
            while (i < s_.size() && ident_char(s_[i])) ++i;
            tok_.kind = Tok::name;
            tok_.text = s_.substr(pos_, i - pos_);
            pos_ = i;
            return;
        }
        if (c == '{') {
            std::size_t i = pos_ + 1;
            while (i < s_.size() && s_[i] == ' ') ++i;
            std::string name = dotted_name(i, tok_.col);
            while (i < s_.size() && s_[i] == ' ') ++i;
            if (i >= s_.size() || s_[i] != '}') fail(i + 1, "expected '}' closing the placeholder {" + name);
            tok_.kind = Tok::placeholder;
            tok_.text = name;
            pos_ = i + 1;
            return;
        }
        if (c == '$') {
            std::size_t i = pos_ + 1;
            if (i >= s_.size() || s_[i] != '{')
                fail(tok_.col, "'$' must open a module reference ${fully.qualified.Class}(…)");
            ++i;
            while (i < s_.size() && s_[i] == ' ') ++i;
            std::string name = dotted_name(i, tok_.col);
            while (i < s_.size() && s_[i] == ' ') ++i;
            if (i >= s_.size() || s_[i] != '}') fail(i + 1, "expected '}' closing the reference ${" + name);
            tok_.kind = Tok::ref;
            tok_.text = name;
            pos_ = i + 1;
            return;
        }
        static const char* ops[] = {"**", "//", "<=", ">=", "==", "!=", "+", "-", "*", "/", "%",
                                    "(", ")", ",", "<", ">", "=", "."};
        for (const char* op : ops) {
            std::string_view v(op);
            if (s_.compare(pos_, v.size(), v) == 0) {
                tok_.kind = Tok::op;
                tok_.text = std::string(v);
                pos_ += v.size();
                return;
            }
        }
        std::string what(1, c);
        std::string hint;
        if (c == '"' || c == '\'') hint = "strings have no cost meaning in a formula";
        else if (c == '[' || c == ']') hint = "indexing and lists are not part of the formula language";
        else if (c == '&' || c == '|' || c == '^' || c == '~') hint = "bitwise operators are not supported; `**` is power";
        else if (static_cast<unsigned char>(c) >= 0x80) what = "non-ASCII character";
        fail(tok_.col, "unexpected " + (what.size() == 1 ? "'" + what + "'" : what) + " in a formula", hint);
    }

    bool is_op(const char* op) const { return tok_.kind == Tok::op && tok_.text == op; }
    bool is_kw(const char* kw) const { return tok_.kind == Tok::name && tok_.text == kw; }

    void expect_op(const char* op, const std::string& what) {
        if (!is_op(op))
            fail(tok_.col, "expected '" + std::string(op) + "' " + what +
                               (tok_.kind == Tok::end ? ", found the end of the formula" : ", found '" + tok_.text + "'"));
        next();
    }

    // Records the depth of `n` from its children; refuses a tree deeper than the limit.
    NodePtr seal(NodePtr n) const {
        int d = 0;
        for (const auto& k : n->kids) d = std::max(d, k->depth);
        n->depth = d + 1;
        if (n->depth > max_formula_depth)
            fail(n->column, "formula deeper than " + std::to_string(max_formula_depth) + " levels",
                 "split a very long chain of operators");
        return n;
    }

    static NodePtr make(Kind k, std::string text, std::size_t col) {
        auto n = std::make_unique<Node>();
        n->kind = k;
        n->text = std::move(text);
        n->column = col;
        return n;
    }

    // ---- grammar (Python's precedence) ----
    NodePtr conditional() {
        Nest nest(*this, tok_.col);
        std::size_t col = tok_.col;
        NodePtr value = disjunction();
        if (!is_kw("if")) return value;
        next();
        NodePtr cond = disjunction();
        if (!is_kw("else")) fail(tok_.col, "expected 'else' in 'a if c else b'");
        next();
        NodePtr other = conditional();
        auto n = make(Kind::cond, "", col);
        n->kids.push_back(std::move(value));
        n->kids.push_back(std::move(cond));
        n->kids.push_back(std::move(other));
        return seal(std::move(n));
    }

    NodePtr disjunction() {
        NodePtr left = conjunction();
        while (is_kw("or")) {
            std::size_t col = tok_.col;
            next();
            auto n = make(Kind::boolean, "or", col);
            n->kids.push_back(std::move(left));
            n->kids.push_back(conjunction());
            left = seal(std::move(n));
        }
        return left;
    }

    NodePtr conjunction() {
        NodePtr left = negation();
        while (is_kw("and")) {
            std::size_t col = tok_.col;
            next();
            auto n = make(Kind::boolean, "and", col);
            n->kids.push_back(std::move(left));
            n->kids.push_back(negation());
            left = seal(std::move(n));
        }
        return left;
    }

    NodePtr negation() {
        if (is_kw("not")) {
            Nest nest(*this, tok_.col);
            auto n = make(Kind::negation, "not", tok_.col);
            next();
            n->kids.push_back(negation());
            return seal(std::move(n));
        }
        return comparison();
    }

    bool comparison_op() const {
        return tok_.kind == Tok::op && (tok_.text == "<" || tok_.text == ">" || tok_.text == "<=" ||
                                        tok_.text == ">=" || tok_.text == "==" || tok_.text == "!=");
    }

    NodePtr comparison() {
        std::size_t col = tok_.col;
        NodePtr first = sum();
        if (is_kw("in") || is_kw("is")) fail(tok_.col, "'" + tok_.text + "' has no cost meaning in a formula");
        if (!comparison_op()) return first;
        auto n = make(Kind::compare, "", col);
        n->kids.push_back(std::move(first));
        while (comparison_op()) {
            n->ops.push_back(tok_.text);
            next();
            n->kids.push_back(sum());
            if (n->kids.size() > 32) fail(col, "comparison chain longer than 32 operands");
        }
        if (is_kw("in") || is_kw("is")) fail(tok_.col, "'" + tok_.text + "' has no cost meaning in a formula");
        return seal(std::move(n));
    }

    NodePtr sum() {
        NodePtr left = product();
        while (is_op("+") || is_op("-")) {
            auto n = make(Kind::binary, tok_.text, tok_.col);
            next();
            n->kids.push_back(std::move(left));
            n->kids.push_back(product());
            left = seal(std::move(n));
        }
        return left;
    }

    NodePtr product() {
        NodePtr left = unary();
        while (is_op("*") || is_op("/") || is_op("//") || is_op("%")) {
            auto n = make(Kind::binary, tok_.text, tok_.col);
            next();
            n->kids.push_back(std::move(left));
            n->kids.push_back(unary());
            left = seal(std::move(n));
        }
        return left;
    }

    NodePtr unary() {
        if (is_op("-") || is_op("+")) {
            Nest nest(*this, tok_.col);
            auto n = make(Kind::unary, tok_.text, tok_.col);
            next();
            n->kids.push_back(unary());
            return seal(std::move(n));
        }
        return power();
    }

    NodePtr power() {
        NodePtr base = atom();
        if (!is_op("**")) return base;
        Nest nest(*this, tok_.col);
        auto n = make(Kind::binary, "**", tok_.col);
        next();
        n->kids.push_back(std::move(base));
        n->kids.push_back(unary());
        return seal(std::move(n));
    }

    // Arguments of a call: positional, then keyword (`name=value`), as Python requires.
    void arguments(Node& call, bool keywords_allowed) {
        expect_op("(", "opening the arguments");
        while (!is_op(")")) {
            std::size_t col = tok_.col;
            std::string keyword;
            if (tok_.kind == Tok::name || tok_.kind == Tok::placeholder) {
                // Look ahead for `name =` (not `==`).
                std::size_t save_pos = pos_;
                Token save = tok_;
                next();
                if (is_op("=")) {
                    if (!keywords_allowed) fail(col, "'" + call.text + "' takes no keyword arguments");
                    keyword = save.text;
                    next();
                } else {
                    pos_ = save_pos;
                    tok_ = save;
                }
            }
            if (keyword.empty() && !call.keywords.empty() && !call.keywords.back().empty())
                fail(col, "positional argument after a keyword argument");
            for (const auto& k : call.keywords)
                if (!keyword.empty() && k == keyword) fail(col, "argument '" + keyword + "' given twice");
            if (call.kids.size() >= 256) fail(col, "more than 256 arguments");
            call.kids.push_back(conditional());
            call.keywords.push_back(keyword);
            if (!is_op(",")) break;
            next();
        }
        expect_op(")", "closing the arguments");
    }

    NodePtr function(const std::string& name, std::size_t col) {
        Nest nest(*this, col);
        auto n = make(Kind::func, name, col);
        arguments(*n, false);
        std::size_t count = n->kids.size();
        bool ok = (name == "min" || name == "max") ? count >= 2
                  : name == "round"                 ? count == 1 || count == 2
                                                    : count == 1;
        if (!ok) {
            std::string want = (name == "min" || name == "max") ? "at least 2 arguments"
                               : name == "round"                 ? "1 or 2 arguments"
                                                                 : "1 argument";
            fail(col, name + "() takes " + want + ", got " + std::to_string(count),
                 name == "min" || name == "max" ? "min/max of a list is not a formula" : "");
        }
        if (name == "round" && count == 2) {
            const Node* d = n->kids[1].get();
            bool neg = false;
            if (d->kind == Kind::unary && d->text == "-") {
                neg = true;
                d = d->kids[0].get();
            }
            if (d->kind != Kind::number || d->text.find_first_not_of("0123456789") != std::string::npos ||
                d->text.size() > 4)
                fail(n->kids[1]->column, "round()'s digits must be an integer literal below 10000");
            (void)neg;
        }
        return seal(std::move(n));
    }

    NodePtr atom() {
        std::size_t col = tok_.col;
        switch (tok_.kind) {
            case Tok::end:
                fail(col, "the formula ends where an operand is expected");
            case Tok::number: {
                auto n = make(Kind::number, tok_.text, col);
                next();
                return n;
            }
            case Tok::placeholder: {
                std::string name = tok_.text;
                next();
                if (name.rfind("config.", 0) == 0) return make(Kind::config, name.substr(7), col);
                if (name.find('.') != std::string::npos)
                    fail(col, "placeholder {" + name + "}: only config.KEY may be dotted");
                return make(Kind::name, name, col);
            }
            case Tok::ref: {
                Nest nest(*this, col);
                auto n = make(Kind::ref, tok_.text, col);
                next();
                if (!is_op("("))
                    fail(tok_.col, "expected '(' after ${" + n->text + "}", "a reference is called: ${Class}(name=value, …)");
                arguments(*n, true);
                return seal(std::move(n));
            }
            case Tok::op: {
                if (is_op("(")) {
                    Nest nest(*this, col);
                    next();
                    if (is_op(")")) fail(col, "empty parentheses (tuples have no cost meaning)");
                    NodePtr inner = conditional();
                    if (is_op(",")) fail(tok_.col, "tuples have no cost meaning in a formula");
                    expect_op(")", "closing the parenthesis opened at column " + std::to_string(col));
                    return inner;
                }
                fail(col, "unexpected '" + tok_.text + "' where an operand is expected");
            }
            case Tok::name:
                break;
        }
        std::string name = tok_.text;
        next();
        static const std::set<std::string> reserved = {"if", "else", "and", "or", "not", "in", "is",
                                                       "lambda", "for", "None", "await", "yield"};
        if (name == "True" || name == "False") return make(Kind::number, name == "True" ? "1" : "0", col);
        if (reserved.count(name) != 0) fail(col, "'" + name + "' where an operand is expected");
        if (is_op(".")) {
            std::string path = name;
            while (is_op(".")) {
                next();
                if (tok_.kind != Tok::name) fail(tok_.col, "expected a name after '.'");
                path += "." + tok_.text;
                next();
            }
            if (name == "config") {
                if (is_op("(")) fail(tok_.col, "config." + path.substr(7) + " is a value, not a function");
                return make(Kind::config, path.substr(7), col);
            }
            if (path == "math.ceil" || path == "math.floor") {
                if (!is_op("(")) fail(tok_.col, path + " must be called");
                return function(path.substr(5), col);
            }
            fail(col, "unknown attribute '" + path + "'",
                 "a formula may read config.KEY and call math.ceil, math.floor");
        }
        if (is_op("(")) {
            if (name == "min" || name == "max" || name == "abs" || name == "int" || name == "round")
                return function(name, col);
            fail(col, "unknown function '" + name + "'",
                 "the formula language has min, max, abs, int, round, math.ceil, math.floor");
        }
        return make(Kind::name, name, col);
    }
};

// ---- printing ----
// Levels of the cost language (low → high): 0 if-then-else, 2 or, 3 and, 4 not,
// 5 comparison, 6 sum, 7 product, 8 unary, 9 power, 10 primary.

bool boolean_valued(const Node& n) {
    switch (n.kind) {
        case Kind::compare:
        case Kind::negation:
            return true;
        case Kind::number:
            return n.text == "0" || n.text == "1";
        case Kind::boolean:
            return boolean_valued(*n.kids[0]) && boolean_valued(*n.kids[1]);
        default:
            return false;
    }
}

bool atomic(const Node& n) { return n.kind == Kind::name || n.kind == Kind::config || n.kind == Kind::number; }

std::string paren(const std::string& s, int have, int want) { return have < want ? "(" + s + ")" : s; }

}  // namespace

NodePtr parse_formula(const Origin& origin) { return Parser(origin).parse(); }

bool has_ref(const Node& n) {
    // An explicit stack: the tree is at most max_formula_nesting deep, but no recursion is needed.
    std::vector<const Node*> todo{&n};
    while (!todo.empty()) {
        const Node* x = todo.back();
        todo.pop_back();
        if (x->kind == Kind::ref) return true;
        for (const auto& k : x->kids) todo.push_back(k.get());
    }
    return false;
}

int level_of(const Node& n) {
    switch (n.kind) {
        case Kind::number:
            return n.text.find('/') != std::string::npos ? 7 : 10;
        case Kind::name:
        case Kind::config:
        case Kind::ref:
        case Kind::func:
            return 10;
        case Kind::unary:
            return 8;
        case Kind::binary:
            if (n.text == "+" || n.text == "-") return 6;
            if (n.text == "**") return 9;
            return 7;
        case Kind::compare:
            return n.kids.size() == 2 ? 5 : 3;
        case Kind::boolean:
            if (boolean_valued(n)) return n.text == "and" ? 3 : 2;
            return 0;
        case Kind::negation:
            return 4;
        case Kind::cond:
            return 0;
    }
    return 0;
}

std::string translate_at(const Node& n, int level, const Origin& o, Translation& tr) {
    return paren(translate(n, o, tr), level_of(n), level);
}

std::string translate(const Node& n, const Origin& o, Translation& tr) {
    auto at = [&](const Node& k, int level) { return translate_at(k, level, o, tr); };
    // An operand evaluated once: itself when atomic, else a hoisted let.
    auto once = [&](const Node& k) -> std::string {
        std::string t = translate(k, o, tr);
        if (atomic(k) && k.text.find('/') == std::string::npos) return t;
        if (tr.lets == nullptr || tr.let_counter == nullptr) return "(" + t + ")";
        std::string name = tr.let_prefix + std::to_string(++*tr.let_counter);
        tr.lets->emplace_back(name, t);
        return name;
    };
    switch (n.kind) {
        case Kind::number:
            return n.text;
        case Kind::name:
            return tr.resolve(n.text, n.column);
        case Kind::config:
            return "config." + n.text;
        case Kind::ref:
            throw ImportError(o.file, o.json_path, n.column,
                              "${" + n.text + "}(…) may only be added, or multiplied by a factor without references",
                              o.text, "a reference is a call: its cost is added count times");
        case Kind::unary:
            return n.text + at(*n.kids[0], 8);
        case Kind::binary: {
            if (n.text == "**") return at(*n.kids[0], 10) + " ^ " + at(*n.kids[1], 8);
            int l = level_of(n);
            return at(*n.kids[0], l) + " " + n.text + " " + at(*n.kids[1], l + 1);
        }
        case Kind::compare: {
            if (n.kids.size() == 2) return at(*n.kids[0], 6) + " " + n.ops[0] + " " + at(*n.kids[1], 6);
            // a < b < c is a < b and b < c, b evaluated once.
            std::vector<std::string> operands;
            for (std::size_t i = 0; i < n.kids.size(); ++i)
                operands.push_back(i == 0 || i + 1 == n.kids.size() ? at(*n.kids[i], 6) : paren(once(*n.kids[i]), 10, 6));
            std::string out;
            for (std::size_t i = 0; i + 1 < operands.size(); ++i)
                out += (i ? " and " : "") + operands[i] + " " + n.ops[i] + " " + operands[i + 1];
            return out;
        }
        case Kind::boolean: {
            if (boolean_valued(n)) {
                int l = level_of(n);
                return at(*n.kids[0], l) + " " + n.text + " " + at(*n.kids[1], l + 1);
            }
            // Python returns an operand: `a and b` is b when a is true, else a (which is 0);
            // `a or b` is a when a is true, else b.
            if (n.text == "and") return "if " + at(*n.kids[0], 0) + " then " + at(*n.kids[1], 0) + " else 0";
            std::string a = once(*n.kids[0]);
            return "if " + a + " then " + a + " else " + at(*n.kids[1], 0);
        }
        case Kind::negation:
            return "not " + at(*n.kids[0], 4);
        case Kind::cond:
            return "if " + at(*n.kids[1], 0) + " then " + at(*n.kids[0], 0) + " else " + at(*n.kids[2], 0);
        case Kind::func: {
            const std::string& f = n.text;
            if (f == "min" || f == "max" || f == "abs" || f == "ceil" || f == "floor") {
                std::string out = f + "(";
                for (std::size_t i = 0; i < n.kids.size(); ++i) out += (i ? ", " : "") + at(*n.kids[i], 0);
                return out + ")";
            }
            if (f == "int") {
                std::string x = once(*n.kids[0]);
                return "(if " + x + " >= 0 then floor(" + x + ") else ceil(" + x + "))";
            }
            // round: half to even, on x · 10^d for round(x, d).
            std::string x;
            std::string scale;
            if (n.kids.size() == 2) {
                const Node* d = n.kids[1].get();
                bool neg = d->kind == Kind::unary;
                if (neg) d = d->kids[0].get();
                scale = "10 ^ " + std::string(neg ? "-" : "") + d->text;
                std::string scaled = at(*n.kids[0], 7) + " * " + scale;
                if (tr.lets == nullptr || tr.let_counter == nullptr) {
                    x = "(" + scaled + ")";
                } else {
                    x = tr.let_prefix + std::to_string(++*tr.let_counter);
                    tr.lets->emplace_back(x, scaled);
                }
            } else {
                x = once(*n.kids[0]);
            }
            std::string r = "(floor(" + x + ") + (if " + x + " - floor(" + x + ") > 1/2 then 1 else if " + x +
                            " - floor(" + x + ") == 1/2 then floor(" + x + ") % 2 else 0))";
            return scale.empty() ? r : "(" + r + " / " + scale + ")";
        }
    }
    return "0";
}

}  // namespace costi::lmp
