// `costi man`: the manual page costi(1), in roff, from the command table's help texts.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <memory>
#include <sstream>

#include "repl/cli.hpp"

namespace costi::cli {

namespace {

// Text for roff: backslashes escaped, characters beyond ASCII as \[uXXXX] (groff reads its
// input as Latin-1), a line that would start with a control character ('.' or ''') guarded.
std::string roff_text(const std::string& text) {
    std::string out;
    bool line_start = true;
    for (std::size_t i = 0; i < text.size(); ++i) {
        auto c = static_cast<unsigned char>(text[i]);
        if (line_start && (c == '.' || c == '\'')) out += "\\&";
        line_start = c == '\n';
        if (c == '\\') {
            out += "\\e";
        } else if (c == '-') {
            out += "\\-";
        } else if (c < 0x80) {
            out += static_cast<char>(c);
        } else {
            // A UTF-8 sequence; a stray byte is U+FFFD.
            std::size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;
            std::uint32_t cp = len == 4 ? c & 0x07u : len == 3 ? c & 0x0Fu : c & 0x1Fu;
            bool ok = len != 0 && i + len <= text.size();
            for (std::size_t k = 1; ok && k < len; ++k) {
                auto cc = static_cast<unsigned char>(text[i + k]);
                ok = (cc & 0xC0u) == 0x80u;
                cp = (cp << 6) | (cc & 0x3Fu);
            }
            if (!ok) {
                cp = 0xFFFD;
                len = 1;
            }
            char buf[16];
            std::snprintf(buf, sizeof buf, "\\[u%04X]", static_cast<unsigned>(cp));
            out += buf;
            i += len - 1;
        }
    }
    return out;
}

// A help text as roff paragraphs: its blank lines start new paragraphs; a line indented by
// spaces starts on a line of its own, as in the terminal help.
std::string paragraphs(const std::string& text) {
    std::string out;
    std::istringstream in(text);
    std::string line;
    bool open = false;
    while (std::getline(in, line)) {
        if (line.find_first_not_of(' ') == std::string::npos) {
            if (open) out += ".PP\n";
            open = false;
            continue;
        }
        if (line[0] == ' ') out += ".br\n";
        if (open && line.rfind("exit status", 0) == 0) out += ".PP\n";  // the help's last line
        out += roff_text(line) + "\n";
        open = true;
    }
    while (out.size() >= 4 && out.compare(out.size() - 4, 4, ".PP\n") == 0) out.erase(out.size() - 4);
    return out;
}

// One option as a tagged paragraph: its names in bold, its value's name in italics.
std::string option_entry(const CLI::Option& o) {
    std::string names;
    for (const auto& s : o.get_snames()) names += std::string(names.empty() ? "" : ", ") + "\\fB\\-" + roff_text(s) + "\\fR";
    for (const auto& l : o.get_lnames())
        names += std::string(names.empty() ? "" : ", ") + "\\fB\\-\\-" + roff_text(l) + "\\fR";
    std::string value = o.get_type_name();
    if (o.get_expected_min() > 0 && !value.empty()) names += " \\fI" + roff_text(value) + "\\fR";
    return ".TP\n" + names + "\n" + roff_text(o.get_description()) + "\n";
}

// The section of one command: synopsis, description, arguments and options in their groups.
std::string command_section(const Command& c) {
    CLI::App app{"", std::string("costi ") + c.name};
    (void)c.define(app, {"--help"});  // the table --help shows, every runtime flag included
    std::string synopsis = "\\fBcosti " + roff_text(c.name) + "\\fR";
    std::string arguments;
    for (const CLI::Option* o : app.get_options()) {
        if (!o->get_positional()) continue;
        const std::string name = o->get_name();
        synopsis += " [\\fI" + roff_text(name) + "\\fR" + (o->get_items_expected_max() > 1 ? "\\&...]" : "]");
        arguments += ".TP\n\\fI" + roff_text(name) + "\\fR\n" + roff_text(o->get_description()) + "\n";
    }
    synopsis += " [\\fIoptions\\fR]";
    std::string out = ".SS \"costi " + roff_text(c.name) + "\"\n" + synopsis + "\n.PP\n" + roff_text(c.summary) + ".\n";
    if (!app.get_description().empty()) out += ".PP\n" + paragraphs(app.get_description());
    out += arguments;
    // Options by their group, in the order the command defines them ("Options" first).
    std::vector<std::string> groups;
    for (const CLI::Option* o : app.get_options()) {
        if (o->get_positional() || o->get_group().empty()) continue;
        if (std::find(groups.begin(), groups.end(), o->get_group()) == groups.end()) groups.push_back(o->get_group());
    }
    for (const auto& g : groups) {
        if (g == "Runtime variables")
            out += ".PP\nRuntime variables (a flag for each one the program declares; here the standard "
                   "prelude's):\n";
        else if (g != "Options")
            out += ".PP\n" + roff_text(g) + ":\n";
        for (const CLI::Option* o : app.get_options()) {
            if (!o->get_positional() && o->get_group() == g) out += option_entry(*o);
        }
    }
    if (!app.get_footer().empty()) out += ".PP\n" + paragraphs(app.get_footer());
    return out;
}

std::string manual() {
    std::string out;
    out += ".\\\" The manual page of costi, generated by `costi man` from the command table's help texts.\n";
    out += ".TH COSTI 1 \"\" \"" + roff_text(version) + "\" \"User Commands\"\n";
    out += ".SH NAME\ncosti \\- " + roff_text(tagline) + "\n";
    out += ".SH SYNOPSIS\n\\fBcosti\\fR \\fICOMMAND\\fR [\\fIoptions\\fR]\n.br\n\\fBcosti \\-\\-help\\fR | "
           "\\fB\\-\\-version\\fR\n";
    out += ".SH DESCRIPTION\n"
           "costi evaluates the cost of ML models written in .cost files (FLOPs, bytes moved, "
           "parameters, memory, time on a device) exactly, as rational numbers.\n.PP\n";
    out += paragraphs(overview);
    out += ".SH COMMANDS\n";
    for (const auto& c : commands()) out += ".TP\n\\fB" + roff_text(c.name) + "\\fR\n" + roff_text(c.summary) + "\n";
    for (const auto& c : commands()) out += command_section(c);
    out += ".SH ENVIRONMENT\n"
           ".TP\n\\fBCOSTI_PATH\\fR\n"
           "Colon-separated folders searched for imports (after the importing file's folder) and "
           "models, before the built-in library.\n"
           ".TP\n\\fBCOSTI_HISTORY\\fR\n"
           "The history file of \\fBcosti repl\\fR (default: ~/.costi_history).\n";
    out += ".SH FILES\n"
           ".TP\n\\fIPREFIX/share/costi/\\fR\n"
           "The built-in library: stdlib/, kernels/, models/ and hardware/, found beside the installed "
           "binary (PREFIX/bin/costi).\n";
    out += ".SH EXIT STATUS\n0 success, 1 error in the input, 2 misuse of the command line.\n";
    return out;
}

}  // namespace

Command man_command() {
    return {"man", "print the manual page costi(1) in roff (costi man | man -l -)",
            [](CLI::App& app, const std::vector<std::string>&) -> std::function<int()> {
                app.description(
                    "Prints the manual page costi(1), made from the same help texts as --help: view it\n"
                    "with `costi man | man -l -`. An installed costi has it in share/man/man1.");
                return [&app]() {
                    reject_leftovers(app);
                    std::cout << manual();
                    return 0;
                };
            }};
}

}  // namespace costi::cli
