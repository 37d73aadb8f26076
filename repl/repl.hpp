// The interactive REPL (`costi repl`).
//
// Owns: reading lines (libedit on a terminal, plain lines otherwise), the command table,
// session bindings and printing answers. Costs come from the same Session as `costi run`.
#pragma once

#include <string>
#include <vector>

namespace costi::repl {

// Runs `costi repl` with its arguments; returns the exit status.
int main(const std::vector<std::string>& args);

}  // namespace costi::repl
