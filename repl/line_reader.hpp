// Reading the REPL's input lines.
//
// Owns: the terminal side of the REPL. On a terminal (stdin and stdout both ttys) it edits
// lines with libedit (BSD editline; never GNU readline): prompts, persistent bounded
// history, tab completion through a callback, and Ctrl-C clearing the line instead of
// ending the process. Otherwise it reads plain lines with no prompt, so sessions can be
// scripted. Either way a line is bounded while it is read (max_line_bytes). Does not own
// what a line means (commands) or what completes (completion).
#pragma once

#include <csignal>
#include <cstddef>
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

// The longest line read, in bytes (without its newline). No formula comes near it; the
// bound keeps a newline-free stream (a binary file piped in, a runaway paste) from
// growing one line without end. The bytes of a longer line are read and dropped up to its
// newline, so the next line is read as usual.
inline constexpr std::size_t max_line_bytes = std::size_t{1} << 20;

// History keeps lines up to this many bytes: a pasted kernel fits, while the file, written
// after every line, stays small (1000 lines of at most 4 KiB).
inline constexpr std::size_t max_history_line_bytes = 4096;

class LineReader {
public:
    enum class Status { line, interrupted, end, too_long };

    // Decides between libedit and plain reading by whether stdin and stdout are terminals.
    // `history_path` empty: no history file.
    LineReader(Completer completer, const std::string& history_path);
    ~LineReader();
    LineReader(const LineReader&) = delete;
    LineReader& operator=(const LineReader&) = delete;

    // True when lines come from a person at a terminal (libedit is in use).
    bool interactive() const;

    // Reads one line (without its newline). `interrupted`: Ctrl-C at the prompt; `end`: end
    // of input (Ctrl-D on an empty line at a terminal); `too_long`: a line of more than
    // max_line_bytes, read to its end and dropped (`line` is left empty).
    Status read(const std::string& prompt, std::string& line);

    // Adds a line to the history (and its file), when interactive and the line is at most
    // max_history_line_bytes long.
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
