// What tab completion offers.
//
// Owns: choosing candidates for the word left of the cursor — commands after ':' (from the
// command table), each command's kind of argument (files, models, kernels, bound names),
// kernel names after '$', config.KEYs, and the names in scope (runtime variables, metrics,
// lets). Does not own the terminal (line_reader) or what the words mean (commands).
#pragma once

#include <string>

#include "repl/line_reader.hpp"
#include "repl/workspace.hpp"

namespace costi::repl {

// The candidates for the word that ends at the end of `before_cursor`.
Completion complete(const Workspace& ws, const std::string& before_cursor);

}  // namespace costi::repl
