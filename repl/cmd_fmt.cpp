// `costi fmt`: rewrite .cost files in the canonical layout (docs/formatting.md).
//
// Owns: the command — reading each file, printing it (grammar/printer.hpp), refusing to
// write anything that does not parse back to the same program, the --check report, and
// replacing a file atomically (a temporary file in the same directory, then rename()).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstring>
#include <iostream>
#include <iterator>
#include <memory>

#include "grammar/parse.hpp"
#include "grammar/printer.hpp"
#include "interpreter/diagnostics.hpp"
#include "interpreter/text_file.hpp"
#include "repl/cli.hpp"
#include "repl/human.hpp"

namespace costi::cli {

namespace {

constexpr std::uintmax_t max_file_bytes = 8u << 20;  // as the loader reads .cost files

[[noreturn]] void io_error(const std::string& message) {
    throw interp::CostiError(interp::Diagnostic{interp::code::io, {}, message, "", {}});
}

// The text in canonical layout; throws CostiError for a file that does not parse, and
// refuses (E0002) output that would not parse back to the same program.
std::string formatted(const interp::SourceFile& file) {
    interp::ast::Module before = grammar::parse_module(file);
    std::string out = grammar::print_module(before);
    interp::SourceFile again(file.name(), out);
    std::string why;
    bool same = false;
    try {
        same = grammar::same_module(before, grammar::parse_module(again), &why);
    } catch (const interp::CostiError&) {
        why = "the output does not parse";
    }
    if (!same)
        io_error("costi fmt cannot format '" + file.name() + "' without changing it (" + why +
                 "); the file is left as it is. Please report this.");
    return out;
}

// "line N" and the first line that differs, as `- old` / `+ new`.
std::string first_difference(const std::string& a, const std::string& b) {
    std::size_t line = 1;
    std::size_t i = 0;
    std::size_t start = 0;
    while (i < a.size() && i < b.size() && a[i] == b[i]) {
        if (a[i] == '\n') {
            ++line;
            start = i + 1;
        }
        ++i;
    }
    auto line_at = [&](const std::string& s) {
        if (start >= s.size()) return std::string("(end of file)");
        std::size_t e = s.find('\n', start);
        return s.substr(start, e == std::string::npos ? std::string::npos : e - start);
    };
    return "  line " + std::to_string(line) + ":\n  - " + report::valid_utf8(line_at(a)) + "\n  + " +
           report::valid_utf8(line_at(b)) + "\n";
}

// Replaces `path` with `text`: a temporary file beside it, written and synced, given the
// original's permissions, renamed over it. An interruption leaves the old file whole.
void write_atomically(const std::string& path, const std::string& text) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) io_error("cannot read '" + path + "': " + std::strerror(errno));
    std::string tmp = path + ".costi-fmt-XXXXXX";
    int fd = ::mkstemp(tmp.data());
    if (fd < 0) io_error("cannot write beside '" + path + "': " + std::strerror(errno));
    bool ok = true;
    std::size_t done = 0;
    while (ok && done < text.size()) {
        ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR) continue;
        ok = n > 0;
        if (ok) done += static_cast<std::size_t>(n);
    }
    int saved = errno;
    ok = ok && ::fchmod(fd, st.st_mode & 07777) == 0 && ::fsync(fd) == 0;
    if (!ok) saved = errno;
    ok = ::close(fd) == 0 && ok;
    if (ok && ::rename(tmp.c_str(), path.c_str()) != 0) {
        ok = false;
        saved = errno;
    }
    if (!ok) {
        ::unlink(tmp.c_str());
        io_error("cannot write '" + path + "': " + std::strerror(saved) + " (the file is unchanged)");
    }
}

}  // namespace

Command fmt_command() {
    return {"fmt", "rewrite .cost files in the canonical layout (--check: report, change nothing)",
            [](CLI::App& app, const std::vector<std::string>&) -> std::function<int()> {
                auto files = std::make_shared<std::vector<std::string>>();
                auto check = std::make_shared<bool>(false);
                app.description(
                    "Rewrites each file in costi's one layout (docs/formatting.md): indentation, spacing,\n"
                    "aligned labels, assignments and trailing comments. Every comment, blank line (at most one\n"
                    "in a row) and line break inside a statement is kept; the program is unchanged, and\n"
                    "formatting twice changes nothing. A file that does not parse is reported and left as is.\n"
                    "FILE `-` reads standard input and writes the result to standard output.");
                app.footer(
                    "\nexit status: 0 done (with --check: every file is formatted), 1 a file does not parse\n"
                    "(with --check: or would change; each is listed with its first differing line),\n"
                    "2 misuse.\n");
                app.add_option("FILE", *files, "the .cost files to format, or - for standard input")->type_name("");
                app.add_flag("--check", *check, "change nothing; list the files that are not formatted");
                return [files, check, &app]() {
                    reject_leftovers(app);
                    if (files->empty()) throw Misuse{"costi fmt needs at least one FILE (or - for standard input)", ""};
                    int status = 0;
                    // Diagnostics point into their file's text: keep every file until the end.
                    std::vector<std::unique_ptr<interp::SourceFile>> sources;
                    for (const auto& f : *files) {
                        const interp::SourceFile* read = nullptr;
                        try {
                            std::string text;
                            if (f == "-") {
                                text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
                            } else {
                                text = interp::read_text_file(f, max_file_bytes, {}, f, "a .cost file");
                            }
                            const auto& file = *sources.emplace_back(
                                std::make_unique<interp::SourceFile>(f == "-" ? "<stdin>" : f, std::move(text)));
                            read = &file;
                            std::string out = formatted(file);
                            bool differs = out != file.text();
                            if (*check) {
                                if (differs) {
                                    std::cout << report::valid_utf8(file.name()) << ": not formatted\n"
                                              << first_difference(file.text(), out);
                                    status = 1;
                                }
                            } else if (f == "-") {
                                std::cout << out;
                            } else if (differs) {
                                write_atomically(f, out);
                                std::cout << report::valid_utf8(f) << ": formatted\n";
                            }
                        } catch (const interp::CostiError& e) {
                            // A filter (`:%!costi fmt -`) gets its input back unchanged.
                            if (f == "-" && !*check && read != nullptr) std::cout << read->text();
                            status = report_errors(e);
                        }
                    }
                    return status;
                };
            }};
}

}  // namespace costi::cli
