// Source files and spans: where every piece of the AST came from.
//
// Owns: the text of every loaded file (kept alive for the whole run so diagnostics can
// quote it) and the mapping from byte offsets to 1-based line and column.
// Does not own: reading files from disk (loader) or formatting messages (diagnostics).
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace costi::interp {

struct LineCol {
    int line = 1;  // 1-based
    int col = 1;   // 1-based, in bytes
};

class SourceFile {
public:
    SourceFile(std::string name, std::string text);
    const std::string& name() const { return name_; }
    const std::string& text() const { return text_; }
    LineCol line_col(std::size_t offset) const;
    // The text of a 1-based line, without its newline.
    std::string_view line_text(int line) const;

private:
    std::string name_;
    std::string text_;
    std::vector<std::size_t> line_starts_;
};

// A half-open byte range [begin, end) of one file; file == nullptr for built-in things.
struct Span {
    const SourceFile* file = nullptr;
    std::uint32_t begin = 0;
    std::uint32_t end = 0;
};

// Owns every SourceFile of a session; pointers stay valid until it is destroyed.
class SourceSet {
public:
    const SourceFile* add(std::string name, std::string text);

private:
    std::deque<std::unique_ptr<SourceFile>> files_;
};

}  // namespace costi::interp
