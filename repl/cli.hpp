// The `costi` command line: argument parsing and the run / check / repl commands.
//
// Owns: turning argv into a request, running it through a Session, printing the report or
// the diagnostics, and the exit status (0 ok, 1 bad input, 2 command-line misuse).
// Holds no cost logic.
#pragma once

#include <string>
#include <vector>

namespace costi::cli {

// Runs `costi` with the arguments after the program name; returns the exit status.
int main(const std::vector<std::string>& args);

}  // namespace costi::cli
