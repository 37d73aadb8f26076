// Rendering of diagnostics with source line, caret and call chain.
#include "interpreter/diagnostics.hpp"

#include <algorithm>

namespace costi::interp {

std::string location(const Span& s) {
    if (s.file == nullptr) return "<built-in>";
    LineCol lc = s.file->line_col(s.begin);
    return s.file->name() + ":" + std::to_string(lc.line) + ":" + std::to_string(lc.col);
}

std::string render(const Diagnostic& d) {
    std::string out = (d.span.file != nullptr ? location(d.span) + ": " : std::string("costi: ")) +
                      "error: " + d.message + " [" + d.code + "]\n";
    if (d.span.file != nullptr) {
        LineCol lc = d.span.file->line_col(d.span.begin);
        std::string_view line = d.span.file->line_text(lc.line);
        std::string num = std::to_string(lc.line);
        std::string pad(std::max<std::size_t>(num.size(), 4), ' ');
        std::string gutter = pad.substr(num.size()) + num;
        out += " " + gutter + " | " + std::string(line) + "\n";
        // Underline the span on this line: a caret, then tildes to the span's end.
        std::size_t col = static_cast<std::size_t>(lc.col) - 1;
        std::size_t len = d.span.end > d.span.begin ? d.span.end - d.span.begin : 1;
        len = std::min(len, line.size() > col ? line.size() - col : std::size_t{1});
        std::string marker;
        for (std::size_t i = 0; i < col && i < line.size(); ++i) marker += line[i] == '\t' ? '\t' : ' ';
        marker += '^';
        if (len > 1) marker += std::string(len - 1, '~');
        out += " " + std::string(gutter.size(), ' ') + " | " + marker + "\n";
    }
    if (!d.hint.empty()) out += "hint: " + d.hint + "\n";
    std::size_t width = 0;
    for (const auto& f : d.chain) width = std::max(width, f.what.size());
    for (const auto& f : d.chain) {
        out += "  in " + f.what;
        if (f.span.file != nullptr) out += std::string(width - f.what.size() + 2, ' ') + location(f.span);
        out += "\n";
    }
    return out;
}

}  // namespace costi::interp
