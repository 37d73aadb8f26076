// `costi check`: parse and check files without evaluating them.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "interpreter/session.hpp"
#include "repl/cli.hpp"
#include "repl/human.hpp"

namespace costi::cli {

namespace {

using nlohmann::ordered_json;

// "file", "line", "column" (and with `end`, "end_line", "end_column") of a span: 1-based, columns
// in bytes, the end exclusive (the position after the span's last byte). A span in no file (a
// file that cannot be read) has null positions and names `file` (the FILE argument), or null.
void put_place(ordered_json& out, const interp::Span& s, bool end, const std::string* file = nullptr) {
    if (s.file == nullptr) {
        out["file"] = file != nullptr ? ordered_json(report::valid_utf8(*file)) : ordered_json(nullptr);
        out["line"] = nullptr;
        out["column"] = nullptr;
        if (end) {
            out["end_line"] = nullptr;
            out["end_column"] = nullptr;
        }
        return;
    }
    interp::LineCol b = s.file->line_col(s.begin);
    out["file"] = report::valid_utf8(s.file->name());
    out["line"] = b.line;
    out["column"] = b.col;
    if (end) {
        interp::LineCol e = s.file->line_col(std::max(s.end, s.begin));
        out["end_line"] = e.line;
        out["end_column"] = e.col;
    }
}

// One diagnostic of checking `file`, as editors and CI annotators read it (docs/editors.md).
ordered_json diagnostic_json(const interp::Diagnostic& d, const std::string& file) {
    ordered_json out = ordered_json::object();
    put_place(out, d.span, true, &file);
    out["severity"] = "error";
    out["code"] = d.code;
    out["message"] = report::valid_utf8(d.message);
    out["hint"] = d.hint.empty() ? ordered_json(nullptr) : ordered_json(report::valid_utf8(d.hint));
    ordered_json calls = ordered_json::array();
    for (const auto& f : d.chain) {
        ordered_json c = ordered_json::object();
        c["what"] = report::valid_utf8(f.what);
        put_place(c, f.span, false);
        calls.push_back(std::move(c));
    }
    out["calls"] = std::move(calls);
    return out;
}

}  // namespace

Command check_command() {
    return {"check", "parse and check .cost files without evaluating them",
            [](CLI::App& app, const std::vector<std::string>&) -> std::function<int()> {
                auto files = std::make_shared<std::vector<std::string>>();
                auto format = std::make_shared<std::string>("text");
                app.description(
                    "Parses and checks each file (and its imports) without evaluating: syntax, unknown\n"
                    "kernels and names, parameters, duplicate definitions, recursion. Prints every problem.");
                app.footer(
                    "\n--format json prints one JSON object on stdout, for editors and CI annotators:\n"
                    "  {\"diagnostics\": [{\"file\", \"line\", \"column\", \"end_line\", \"end_column\", \"severity\",\n"
                    "    \"code\", \"message\", \"hint\", \"calls\": [{\"what\", \"file\", \"line\", \"column\"}]}],\n"
                    "   \"files_checked\": N}\n"
                    "  (lines and columns 1-based, columns in bytes, the end exclusive; docs/editors.md).\n"
                    "\nexit status: 0 all files are well-formed, 1 otherwise, 2 misuse.\n");
                app.add_option("FILE", *files, "the .cost files to check")->type_name("");
                app.add_option("--format", *format, "output format: text or json (default: text)")->type_name("FORMAT");
                // Each file's session lives as long as the command: the process ends with it
                // (cli.cpp), and freeing a large program node by node took a sixth of a check.
                auto sessions = std::make_shared<std::vector<std::unique_ptr<interp::Session>>>();
                return [files, format, sessions, &app]() {
                    reject_leftovers(app);
                    if (*format != "text" && *format != "json")
                        throw Misuse{"option '--format' takes text or json, got '" + *format + "'",
                                     did_you_mean(*format, {"text", "json"})};
                    if (files->empty()) throw Misuse{"costi check needs at least one FILE", ""};
                    bool json = *format == "json";
                    ordered_json diagnostics = ordered_json::array();
                    int status = 0;
                    for (const auto& f : *files) {
                        interp::Session& session = *sessions->emplace_back(std::make_unique<interp::Session>());
                        try {
                            session.load_file(f);
                            const auto& p = session.program();
                            if (!json)
                                std::cout << report::valid_utf8(f) << ": ok (" << p.kernels.size() << " kernels, "
                                          << p.models.size() << " models)\n";
                        } catch (const interp::CostiError& e) {
                            if (json) {
                                for (const auto& d : e.diagnostics()) diagnostics.push_back(diagnostic_json(d, f));
                                status = 1;
                            } else {
                                status = report_errors(e);
                            }
                        }
                    }
                    if (json) {
                        ordered_json out = ordered_json::object();
                        out["diagnostics"] = std::move(diagnostics);
                        out["files_checked"] = files->size();
                        std::cout << out.dump(2, ' ', false, ordered_json::error_handler_t::replace) << "\n";
                    }
                    return status;
                };
            }};
}

}  // namespace costi::cli
