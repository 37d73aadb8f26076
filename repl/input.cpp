// Scanning REPL input text.
#include "repl/input.hpp"

#include <array>

namespace costi::repl {

namespace {

bool ident_first(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool ident_other(char c) {
    return ident_first(c) || (c >= '0' && c <= '9');
}
bool space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

// Calls f(i, depth) for every byte of [begin, end) that is code (not in a string or a
// comment); depth counts the brackets open before byte i. Strings and comments end at a
// newline, as in the grammar (a backslash does not continue a string onto the next line),
// so no state but the depth crosses a line break: see open_brackets().
template <typename F>
void scan(std::string_view text, std::size_t begin, std::size_t end, F f) {
    int depth = 0;
    for (std::size_t i = begin; i < end; ++i) {
        char c = text[i];
        if (c == '#') {
            while (i < end && text[i] != '\n') ++i;
            continue;
        }
        if (c == '"') {
            for (++i; i < end && text[i] != '"' && text[i] != '\n'; ++i) {
                if (text[i] == '\\' && i + 1 < end && text[i + 1] != '\n') ++i;
            }
            continue;
        }
        if (c == ')' || c == '}') --depth;
        f(i, depth);
        if (c == '(' || c == '{') ++depth;
    }
}

std::size_t skip_space(std::string_view text, std::size_t i) {
    while (i < text.size() && space(text[i])) ++i;
    return i;
}

std::size_t skip_identifier(std::string_view text, std::size_t i) {
    if (i >= text.size() || !ident_first(text[i])) return i;
    while (i < text.size() && ident_other(text[i])) ++i;
    return i;
}

// The statement keywords that start a declaration of the language.
constexpr std::array<std::string_view, 6> declaration_keywords = {"kernel",  "alias",  "metric",
                                                                  "runtime", "import", "model"};

}  // namespace

long open_brackets(std::string_view text) {
    long depth = 0;
    scan(text, 0, text.size(), [&](std::size_t i, int) {
        char c = text[i];
        if (c == '(' || c == '{') ++depth;
        if (c == ')' || c == '}') --depth;
    });
    return depth;
}

bool is_blank(std::string_view text) {
    bool blank = true;
    scan(text, 0, text.size(), [&](std::size_t i, int) { blank = blank && space(text[i]); });
    // A string is not blank either: scan skips it, so look for its quote.
    for (std::size_t i = 0; i < text.size() && blank; ++i) {
        if (text[i] == '#') {
            while (i < text.size() && text[i] != '\n') ++i;
        } else if (text[i] == '"') {
            blank = false;
        }
    }
    return blank;
}

Range trim(std::string_view text, Range r) {
    while (r.begin < r.end && space(text[r.begin])) ++r.begin;
    while (r.end > r.begin && space(text[r.end - 1])) --r.end;
    return r;
}

Line classify(std::string_view text) {
    Line line;
    std::size_t start = skip_space(text, 0);
    Range all = trim(text, {start, text.size()});
    line.rest = all;
    if (start < text.size() && text[start] == ':') {
        line.kind = LineKind::command;
        std::size_t name_end = start + 1;
        while (name_end < text.size() && !space(text[name_end])) ++name_end;
        line.head = {start + 1, name_end};
        line.rest = trim(text, {name_end, text.size()});
        return line;
    }
    std::size_t word_end = skip_identifier(text, start);
    std::string_view word = text.substr(start, word_end - start);
    std::size_t after = skip_space(text, word_end);
    if (word == "let" && after > word_end) {
        line.kind = LineKind::let;
        std::size_t name_end = skip_identifier(text, after);
        std::size_t eq = skip_space(text, name_end);
        if (name_end > after && eq < text.size() && text[eq] == '=' && (eq + 1 >= text.size() || text[eq + 1] != '=')) {
            line.head = {after, name_end};
            line.rest = trim(text, {eq + 1, text.size()});
        }
        return line;
    }
    for (auto kw : declaration_keywords) {
        if (word == kw && after > word_end && after < text.size() && (ident_first(text[after]) || text[after] == '"')) {
            line.kind = LineKind::declaration;
            return line;
        }
    }
    // NAME = value or config.KEY = value (a single '=', not '==').
    std::size_t i = word_end;
    while (i > start && i < text.size() && text[i] == '.' && i + 1 < text.size() && ident_first(text[i + 1])) {
        i = skip_identifier(text, i + 1);
    }
    std::size_t eq = skip_space(text, i);
    if (i > start && eq < text.size() && text[eq] == '=' && (eq + 1 >= text.size() || text[eq + 1] != '=')) {
        line.kind = LineKind::binding;
        line.head = {start, i};
        line.rest = trim(text, {eq + 1, text.size()});
    }
    return line;
}

std::vector<Range> split_top(std::string_view text, Range r, char sep) {
    std::vector<Range> out;
    std::size_t piece = r.begin;
    scan(text, r.begin, r.end, [&](std::size_t i, int depth) {
        if (depth == 0 && text[i] == sep) {
            out.push_back(trim(text, {piece, i}));
            piece = i + 1;
        }
    });
    out.push_back(trim(text, {piece, r.end}));
    return out;
}

std::size_t find_top(std::string_view text, Range r, std::string_view token) {
    bool word = !token.empty() && ident_first(token[0]);
    std::size_t found = std::string_view::npos;
    scan(text, r.begin, r.end, [&](std::size_t i, int depth) {
        if (found != std::string_view::npos || depth != 0 || text.compare(i, token.size(), token) != 0) return;
        if (i + token.size() > r.end) return;
        if (word) {
            if (i > r.begin && ident_other(text[i - 1])) return;
            if (i + token.size() < r.end && ident_other(text[i + token.size()])) return;
            if (i > r.begin && text[i - 1] == '.') return;
        }
        found = i;
    });
    return found;
}

std::pair<Range, Range> first_word(std::string_view text, Range r) {
    r = trim(text, r);
    std::size_t i = r.begin;
    while (i < r.end && !space(text[i])) ++i;
    return {Range{r.begin, i}, trim(text, {i, r.end})};
}

bool is_identifier(std::string_view s) {
    if (s.empty() || !ident_first(s[0])) return false;
    for (char c : s) {
        if (!ident_other(c)) return false;
    }
    return true;
}

bool is_qualified_name(std::string_view s) {
    std::size_t start = 0;
    for (;;) {
        std::size_t dot = s.find('.', start);
        if (!is_identifier(s.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start)))
            return false;
        if (dot == std::string_view::npos) return true;
        start = dot + 1;
    }
}

}  // namespace costi::repl
