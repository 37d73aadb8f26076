// The trivia of a .cost file: what the AST does not hold (comments, line breaks, blank
// lines), by source position, for the formatter (printer.hpp).
//
// Owns: finding every `#` comment of a well-formed file (outside strings) and answering
// where the line breaks fall between two positions. A comment belongs to the place the
// printer reaches it: the printer walks the AST in source order and emits each comment when
// it passes the comment's offset, on the same line as the code before it when the source
// had it there (a trailing comment), else on a line of its own.
// Does not own: layout (printer.cpp) or parsing (the file must have parsed: a `#` inside a
// string is text, and strings are read as the grammar reads them).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace costi::grammar {

struct Comment {
    std::uint32_t begin = 0;  // the '#'
    std::uint32_t end = 0;    // the end of its line (the '\n' or the end of the file)
    bool trailing = false;    // code stands before it on its line
    std::string text;         // from '#' to the end of the line, trailing blanks removed
};

class Trivia {
public:
    explicit Trivia(std::string_view text);

    const std::vector<Comment>& comments() const { return comments_; }
    // Line breaks in [begin, end) (those ending comments included).
    int newlines(std::uint32_t begin, std::uint32_t end) const;
    // The first offset at or after `pos` that is neither a blank nor in a comment.
    std::uint32_t skip_blanks(std::uint32_t pos) const;
    std::string_view text() const { return text_; }

private:
    std::string_view text_;
    std::vector<Comment> comments_;
    std::vector<std::uint32_t> newline_at_;  // offsets of every '\n', ascending
};

}  // namespace costi::grammar
