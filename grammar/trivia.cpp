// Finds the comments and line breaks of a well-formed .cost file (trivia.hpp).
#include "grammar/trivia.hpp"

#include <algorithm>

namespace costi::grammar {

Trivia::Trivia(std::string_view text) : text_(text) {
    bool code_on_line = false;
    auto n = static_cast<std::uint32_t>(text.size());
    for (std::uint32_t i = 0; i < n; ++i) {
        char c = text[i];
        if (c == '\n') {
            newline_at_.push_back(i);
            code_on_line = false;
        } else if (c == '"') {
            // A string ends at its closing quote; escapes are two characters.
            std::uint32_t j = i + 1;
            while (j < n && text[j] != '"' && text[j] != '\n') j += text[j] == '\\' ? 2 : 1;
            i = std::min(j, n - 1);
            if (j < n && text[j] == '\n') --i;  // malformed: let the loop see the '\n'
            code_on_line = true;
        } else if (c == '#') {
            std::uint32_t j = i;
            while (j < n && text[j] != '\n') ++j;
            std::uint32_t k = j;
            while (k > i && (text[k - 1] == ' ' || text[k - 1] == '\t' || text[k - 1] == '\r')) --k;
            comments_.push_back({i, j, code_on_line, std::string(text.substr(i, k - i))});
            i = j - 1;  // the loop's ++i lands on the '\n'
        } else if (c != ' ' && c != '\t' && c != '\r' && c != '\v' && c != '\f') {
            code_on_line = true;
        }
    }
}

int Trivia::newlines(std::uint32_t begin, std::uint32_t end) const {
    if (end <= begin) return 0;
    auto lo = std::lower_bound(newline_at_.begin(), newline_at_.end(), begin);
    auto hi = std::lower_bound(newline_at_.begin(), newline_at_.end(), end);
    return static_cast<int>(hi - lo);
}

std::uint32_t Trivia::skip_blanks(std::uint32_t pos) const {
    auto n = static_cast<std::uint32_t>(text_.size());
    while (pos < n) {
        char c = text_[pos];
        if (c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\v' || c == '\f') {
            ++pos;
        } else if (c == '#') {
            while (pos < n && text_[pos] != '\n') ++pos;
        } else {
            break;
        }
    }
    return pos;
}

}  // namespace costi::grammar
