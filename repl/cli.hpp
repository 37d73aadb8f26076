// The `costi` command line: one table of commands (run, formula, sweep, check, fmt, list, repl,
// completion, man, import, export), parsed with CLI11, from which help, option errors, shell
// completion and the manual page all come.
//
// Owns: turning argv into a command, the command table and what its commands share —
// misuse messages with "did you mean", printing diagnostics, the exit status (0 ok, 1 bad
// input, 2 command-line misuse). Each command lives in its own file (repl/cmd_*.cpp).
// Holds no cost logic.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "interpreter/diagnostics.hpp"

namespace CLI {
class App;
}

namespace costi::cli {

// Runs `costi` with the arguments after the program name; returns the exit status.
int main(const std::vector<std::string>& args);

// A mistake on the command line: printed as "costi: error: MESSAGE", a hint, exit status 2.
struct Misuse {
    std::string message;
    std::string hint;
};

// One command of the table. `define` adds the command's options to its CLI11 subcommand,
// given the arguments that follow the command's name (so `run` can add one flag per
// runtime variable of the file they name), and returns what runs the command once they
// are parsed. It may throw Misuse; the runner may throw Misuse or interp::CostiError.
struct Command {
    const char* name;
    const char* summary;
    std::function<std::function<int()>(CLI::App& app, const std::vector<std::string>& args)> define;
};

Command run_command();
Command formula_command();
Command sweep_command();
Command check_command();
Command fmt_command();
Command list_command();
Command repl_command();
Command completion_command();
Command import_command();
Command export_command();
Command man_command();

// What `costi --help` and the manual page (costi man) say around the table: "costi 0.1.0",
// the one-line summary, and the paragraph after the list of commands.
extern const char* const version;
extern const char* const tagline;
extern const char* const overview;

// The table, in the order help lists it.
const std::vector<Command>& commands();

// "did you mean 'x'?" for the candidate closest to `word`, else `otherwise`.
std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates,
                         const std::string& otherwise = "");

// The non-empty items of a comma-separated option value ("flops,,read" gives flops, read).
std::vector<std::string> split_list(const std::string& text);

// Misuse for the arguments CLI11 left over: the first unknown option (with "did you mean"
// over the options `app` defines) or unexpected argument. Does nothing when none is left.
void reject_leftovers(const CLI::App& app);

// A misuse as the command line prints it: "costi: error: MESSAGE\n" and "hint: HINT\n".
std::string render_misuse(const Misuse& m);
// A CostiError's diagnostics as the command line prints them, as valid UTF-8.
std::string render_errors(const interp::CostiError& e);

// Prints a CostiError's diagnostics to stderr as valid UTF-8; returns 1.
int report_errors(const interp::CostiError& e);

}  // namespace costi::cli
