// Rendering of diagnostics with source line, caret and call chain.
#include "interpreter/diagnostics.hpp"

#include <algorithm>

namespace costi::interp {

std::string location(const Span& s) {
    if (s.file == nullptr) return "<built-in>";
    LineCol lc = s.file->line_col(s.begin);
    return s.file->name() + ":" + std::to_string(lc.line) + ":" + std::to_string(lc.col);
}

// A quoted source line longer than this is cut to a window around the caret, so one error
// in a generated file of very long lines stays one screen.
static constexpr std::size_t max_quoted_columns = 160;
// A call chain longer than this shows its innermost and outermost frames only.
static constexpr std::size_t max_chain_frames = 12;

std::string render(const Diagnostic& d) {
    std::string out = (d.span.file != nullptr ? location(d.span) + ": " : std::string("costi: ")) +
                      "error: " + d.message + " [" + d.code + "]\n";
    if (d.span.file != nullptr) {
        LineCol lc = d.span.file->line_col(d.span.begin);
        std::string_view line = d.span.file->line_text(lc.line);
        std::string num = std::to_string(lc.line);
        std::string pad(std::max<std::size_t>(num.size(), 4), ' ');
        std::string gutter = pad.substr(num.size()) + num;
        std::size_t col = static_cast<std::size_t>(lc.col) - 1;
        std::size_t len = d.span.end > d.span.begin ? d.span.end - d.span.begin : 1;
        len = std::min(len, line.size() > col ? line.size() - col : std::size_t{1});
        // Window: the caret's neighbourhood of a long line, marked with "…" where cut.
        std::string prefix;
        std::string suffix;
        if (line.size() > max_quoted_columns) {
            std::size_t from = col > max_quoted_columns / 2 ? col - max_quoted_columns / 2 : 0;
            // Do not start inside a UTF-8 sequence.
            while (from > 0 && (static_cast<unsigned char>(line[from]) & 0xC0) == 0x80) --from;
            std::size_t to = std::min(line.size(), from + max_quoted_columns);
            while (to < line.size() && (static_cast<unsigned char>(line[to]) & 0xC0) == 0x80) ++to;
            if (from > 0) prefix = "…";
            if (to < line.size()) suffix = "…";
            line = line.substr(from, to - from);
            col -= from;
            len = std::min(len, line.size() > col ? line.size() - col : std::size_t{1});
        }
        out += " " + gutter + " | " + prefix + std::string(line) + suffix + "\n";
        // Underline the span on this line: a caret, then tildes to the span's end.
        std::string marker = prefix.empty() ? "" : " ";
        for (std::size_t i = 0; i < col && i < line.size(); ++i) marker += line[i] == '\t' ? '\t' : ' ';
        marker += '^';
        if (len > 1) marker += std::string(len - 1, '~');
        out += " " + std::string(gutter.size(), ' ') + " | " + marker + "\n";
    }
    if (!d.hint.empty()) out += "hint: " + d.hint + "\n";
    std::size_t width = 0;
    for (const auto& f : d.chain) width = std::max(width, f.what.size());
    std::size_t n = d.chain.size();
    std::size_t head = n > max_chain_frames ? max_chain_frames - 2 : n;  // innermost frames shown
    for (std::size_t i = 0; i < n; ++i) {
        if (i == head && n > max_chain_frames) {
            out += "  … " + std::to_string(n - max_chain_frames) + " more calls\n";
            i = n - 2;  // the two outermost frames: the entry kernel and the model
        }
        const auto& f = d.chain[i];
        out += "  in " + f.what;
        if (f.span.file != nullptr) out += std::string(width - f.what.size() + 2, ' ') + location(f.span);
        out += "\n";
    }
    return out;
}

}  // namespace costi::interp
