// The command table and the dispatch of `costi COMMAND …` through CLI11.
#include "repl/cli.hpp"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "interpreter/suggest.hpp"
#include "repl/human.hpp"

namespace costi::cli {

const char* const version = "costi 0.1.0";
const char* const tagline = "exact cost formulas for ML models";
const char* const overview =
    "A model is a .cost file, a library model's short name (costi run llama-3-8b) or its\n"
    "declared name (costi run meta-llama/Meta-Llama-3-8B); `costi list` shows the library.\n"
    "`costi COMMAND --help` explains a command; `costi --version` prints the version.\n"
    "exit status: 0 success, 1 error in the input, 2 misuse of the command line.\n";

namespace {

std::string main_help() {
    std::string out = std::string("costi — ") + tagline + "\n\nusage: costi COMMAND [options]\n\ncommands:\n";
    std::size_t w = 0;
    for (const auto& c : commands()) w = std::max(w, std::string(c.name).size());
    for (const auto& c : commands())
        out += "  " + std::string(c.name) + std::string(w - std::string(c.name).size() + 2, ' ') + c.summary + "\n";
    return out + "\n" + overview;
}

int misuse(const Misuse& m, const std::string& command) {
    std::cerr << render_misuse(m);
    std::cerr << "(see `costi " << command << (command.empty() ? "" : " ") << "--help`)\n";
    return 2;
}

// The option a CLI11 message is about: its first word when that is an option name.
std::string option_in(const std::string& message) {
    auto end = message.find_first_of(": ");
    std::string first = message.substr(0, end);
    return first.rfind('-', 0) == 0 ? first : "";
}

// CLI11's parse errors, reworded to name the option and say what it needs.
Misuse parse_misuse(const CLI::ParseError& e) {
    std::string what = e.what();
    std::string option = option_in(what);
    if (dynamic_cast<const CLI::ArgumentMismatch*>(&e) != nullptr && !option.empty())
        return {"option '" + option + "' needs a value", ""};
    return {what, ""};
}

#if defined(__SANITIZE_ADDRESS__)
#define COSTI_LEAK_CHECKED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define COSTI_LEAK_CHECKED 1
#endif
#endif

// Ends the process once a command has finished: what it built (the session with its sources,
// AST and checked program, the option table) goes back to the system at once instead of
// being freed node by node, which was a sixth of a short `costi run`. Sanitizer builds
// return instead, so that the leak checker still sees everything freed.
int leave(int status) {
#ifdef COSTI_LEAK_CHECKED
    return status;
#else
    std::cout.flush();
    std::cerr.flush();
    std::fflush(nullptr);
    std::_Exit(status);
#endif
}

int dispatch(const Command& command, const std::vector<std::string>& rest) {
    // The table chose the command; CLI11 parses its options, named as the user types them.
    CLI::App app{"", std::string("costi ") + command.name};
    app.allow_extras();
    app.get_formatter()->column_width(30);
    std::function<int()> run = command.define(app, rest);
    std::vector<std::string> argv(rest.rbegin(), rest.rend());  // CLI11 takes the arguments last first
    try {
        app.parse(argv);
    } catch (const CLI::CallForHelp&) {
        std::cout << app.help();
        return 0;
    } catch (const CLI::ParseError& e) {
        throw parse_misuse(e);
    }
    // Diagnostics quote the sources of the command's session: print them while it lives.
    try {
        return leave(run());
    } catch (const interp::CostiError& e) {
        return leave(report_errors(e));
    }
}

}  // namespace

const std::vector<Command>& commands() {
    static const std::vector<Command> table = {run_command(),  formula_command(), sweep_command(),
                                               check_command(), fmt_command(),   list_command(),
                                               repl_command(),  completion_command(), man_command(),
                                               import_command(), export_command()};
    return table;
}

std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates,
                         const std::string& otherwise) {
    auto best = interp::closest(word, candidates);
    return best ? "did you mean '" + *best + "'?" : otherwise;
}

std::vector<std::string> split_list(const std::string& text) {
    std::vector<std::string> items;
    std::size_t start = 0;
    while (start <= text.size()) {
        std::size_t comma = text.find(',', start);
        if (comma == std::string::npos) comma = text.size();
        if (comma > start) items.push_back(text.substr(start, comma - start));
        start = comma + 1;
    }
    return items;
}

void reject_leftovers(const CLI::App& app) {
    std::vector<std::string> left;
    for (const auto& a : app.remaining()) {
        if (a != "--") left.push_back(a);  // the end-of-options mark CLI11 hands back
    }
    if (left.empty()) return;
    std::vector<std::string> names;
    for (const CLI::Option* o : app.get_options()) {
        for (const auto& n : o->get_lnames()) names.push_back("--" + n);
    }
    for (const auto& a : left) {
        if (a.size() > 1 && a[0] == '-') {
            std::string name = a.substr(0, a.find('='));
            throw Misuse{"unknown option '" + name + "'", did_you_mean(name, names)};
        }
    }
    throw Misuse{"unexpected argument '" + left.front() + "'", ""};
}

std::string render_misuse(const Misuse& m) {
    std::string out = "costi: error: " + report::valid_utf8(m.message) + "\n";
    if (!m.hint.empty()) out += "hint: " + report::valid_utf8(m.hint) + "\n";
    return out;
}

std::string render_errors(const interp::CostiError& e) {
    std::string out;
    for (const auto& d : e.diagnostics()) out += report::valid_utf8(interp::render(d));
    return out;
}

int report_errors(const interp::CostiError& e) {
    std::cout.flush();
    std::cerr << render_errors(e);
    return 1;
}

int main(const std::vector<std::string>& args) {
    if (args.empty()) {
        std::cerr << main_help();
        return 2;
    }
    const std::string& first = args[0];
    if (first == "--help" || first == "-h" || first == "help") {
        std::cout << main_help();
        return 0;
    }
    if (first == "--version") {
        std::cout << version << "\n";
        return 0;
    }
    std::vector<std::string> names;
    for (const auto& c : commands()) names.emplace_back(c.name);
    auto found = std::find(names.begin(), names.end(), first);
    try {
        if (found == names.end()) {
            if (first.size() > 1 && first[0] == '-')
                throw Misuse{"unknown option '" + first + "'", "options follow a command: costi run FILE " + first};
            throw Misuse{"unknown command '" + first + "'", did_you_mean(first, names, "commands: " + interp::join(names))};
        }
        const Command& command = commands()[static_cast<std::size_t>(found - names.begin())];
        return dispatch(command, std::vector<std::string>(args.begin() + 1, args.end()));
    } catch (const Misuse& m) {
        return misuse(m, found == names.end() ? "" : first);
    } catch (const interp::CostiError& e) {
        return report_errors(e);
    }
}

}  // namespace costi::cli
