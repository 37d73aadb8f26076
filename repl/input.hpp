// REPL input as text, before any parsing.
//
// Owns: whether an input is complete (no `(` or `{` left open), which kind of line it is
// (a :command, a binding, a let, a declaration or an expression), and finding top-level
// separators in argument text. Everything here skips strings and `#` comments, so a
// bracket in a string never keeps the input open. Does not own parsing (grammar/) or
// meaning (commands).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace costi::repl {

// A byte range [begin, end) of one input.
struct Range {
    std::size_t begin = 0;
    std::size_t end = 0;
    bool empty() const { return begin >= end; }
    std::string_view of(std::string_view text) const { return text.substr(begin, end - begin); }
};

// Open `(` and `{` minus their closers in `text`, outside strings and comments. Strings
// and comments end at a newline, so the count of several lines is the sum of their
// counts: the REPL adds each line's as it arrives, and the work stays linear in the input
// however many lines an open bracket keeps together.
long open_brackets(std::string_view text);

// True when `text` holds nothing but white space and comments.
bool is_blank(std::string_view text);

enum class LineKind { command, let, declaration, binding, expression };

// One input, classified. command: `head` is the name after ':' and `rest` its arguments;
// let and binding: `head` is the name (`config.KEY` for config) and `rest` the value;
// declaration and expression: `rest` is the whole text.
struct Line {
    LineKind kind = LineKind::expression;
    Range head;
    Range rest;
};

// Classifies an input; `let` without `NAME =` comes back as a let with an empty head.
Line classify(std::string_view text);

// `r` without white space at either end.
Range trim(std::string_view text, Range r);

// `r` cut at each top-level `sep` (outside brackets, strings and comments), pieces trimmed.
std::vector<Range> split_top(std::string_view text, Range r, char sep);

// Where `token` first occurs at top level in `r` (as a whole word when it is a word);
// std::string_view::npos when it does not.
std::size_t find_top(std::string_view text, Range r, std::string_view token);

// The first word of `r` (up to white space) and what follows it, both trimmed.
std::pair<Range, Range> first_word(std::string_view text, Range r);

// True for a name of the language: [A-Za-z_][A-Za-z0-9_]*.
bool is_identifier(std::string_view s);

// True for NAME(.NAME)*.
bool is_qualified_name(std::string_view s);

}  // namespace costi::repl
