// Reading the REPL's input lines.
//
// Owns: the terminal side of the REPL. On a terminal (stdin and stdout both ttys) it edits
// lines with libedit (BSD editline; never GNU readline): prompts, persistent bounded
// history, tab completion through a callback, and Ctrl-C clearing the line instead of
// ending the process. Otherwise it reads plain lines with no prompt, so sessions can be
// scripted. Does not own what a line means (commands) or what completes (completion).
#pragma once

#include <csignal>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace costi::repl {

// What tab completion offers for the text left of the cursor: the candidates replace the
// word that starts at `word_begin`.
struct Completion {
    std::size_t word_begin = 0;
    std::vector<std::string> candidates;
    bool space_after = false;  // add a space after a unique candidate (commands, keywords)
};

using Completer = std::function<Completion(const std::string& before_cursor)>;

class LineReader {
public:
    enum class Status { line, interrupted, end };

    // Decides between libedit and plain reading by whether stdin and stdout are terminals.
    // `history_path` empty: no history file.
    LineReader(Completer completer, const std::string& history_path);
    ~LineReader();
    LineReader(const LineReader&) = delete;
    LineReader& operator=(const LineReader&) = delete;

    // True when lines come from a person at a terminal (libedit is in use).
    bool interactive() const;

    // Reads one line (without its newline). `interrupted`: Ctrl-C at the prompt; `end`: end
    // of input (Ctrl-D on an empty line at a terminal).
    Status read(const std::string& prompt, std::string& line);

    // Adds a line to the history (and its file), when interactive.
    void remember(const std::string& line);

    // Set by SIGINT (installed for interactive sessions); cleared before each read.
    static bool take_interrupt();
    // The flag itself, for the evaluator to poll during a long evaluation.
    static const volatile std::sig_atomic_t* interrupt_flag_address();

private:
    struct Editor;
    std::unique_ptr<Editor> editor_;  // null when reading plain lines
};

// The history file: $COSTI_HISTORY, else ~/.costi_history; empty if neither can be found.
std::string default_history_path();

}  // namespace costi::repl
