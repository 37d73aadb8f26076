// The REPL's commands and what each kind of input does.
//
// Owns: the one table of :commands that drives dispatch, :help, tab completion and
// "did you mean"; and the meaning of every other input — NAME = expr (bind a runtime
// variable), config.KEY = expr (override a config value), let NAME = expr, a declaration
// (kernel, alias, metric, runtime, model, import) and an expression. Answers are printed
// to the given stream; errors are thrown as CostiError for the caller to render the way
// `costi run` does. No cost logic: costs come from the Workspace's Session.
#pragma once

#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "interpreter/source.hpp"
#include "repl/input.hpp"
#include "repl/workspace.hpp"

namespace costi::repl {

// Errors only the REPL can make, with stable codes like the interpreter's.
namespace repl_code {
inline constexpr const char* unknown_command = "E0401";  // :name of no command
inline constexpr const char* bad_arguments = "E0402";    // arguments that do not fit the command's usage
inline constexpr const char* too_long = "E0403";         // an input or a sweep beyond the REPL's limits
}  // namespace repl_code

// What a command runs with.
struct CommandContext {
    Workspace& ws;
    const interp::SourceFile& input;
    Range args;  // the text after the command's name, trimmed
    std::ostream& out;
    std::string_view command_name;
    Range name;  // ":show" as typed, for errors about the command as a whole
    bool quit = false;

    std::string_view text(Range r) const { return r.of(input.text()); }
    interp::Span span(Range r) const;
    // Throws E0402 at `r` with the command's usage as the hint.
    [[noreturn]] void usage_error(Range r, const std::string& message) const;
};

// What tab completion offers for a command's arguments.
enum class ArgumentKind { none, command, file, model, kernel, bound, variable };

struct Command {
    std::string_view name;     // without the ':'
    std::string_view alias;    // a short form ("q" for quit), or empty
    std::string_view usage;    // the arguments, for :help
    std::string_view summary;  // one line for :help
    std::string_view details;  // more, for :help NAME
    ArgumentKind argument;
    void (*run)(CommandContext&);
};

// Every command, in the order :help lists them.
const std::vector<Command>& command_table();

// The command named `name` (or its alias), or null.
const Command* find_command(std::string_view name);

// Runs one complete input; returns true when it asks to quit. Throws CostiError.
bool run_input(Workspace& ws, const interp::SourceFile& input, std::ostream& out);

// :explain (explain.cpp) and :sweep (sweep.cpp).
void explain_command(CommandContext& ctx);
void sweep_command(CommandContext& ctx);

}  // namespace costi::repl
