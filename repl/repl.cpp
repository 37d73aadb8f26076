// `costi repl`: the read-evaluate-print loop.
#include "repl/repl.hpp"

#include <iostream>
#include <sstream>

#include "interpreter/diagnostics.hpp"
#include "repl/commands.hpp"
#include "repl/completion.hpp"
#include "repl/human.hpp"
#include "repl/input.hpp"
#include "repl/line_reader.hpp"
#include "repl/workspace.hpp"

namespace costi::repl {

namespace {

const char* usage = R"(usage: costi repl [FILE | --config config.json] [--model NAME] [--echo]

An interactive what-if session over a model: bind runtime variables and config values,
evaluate expressions exactly, explain kernels, sweep a variable. Type :help inside.

  FILE                 a .cost file, or a library model by name (costi repl gpt2)
  --config FILE.json   take the model from a Hugging Face config.json
  --model NAME         which model of FILE to start with (when it declares several)
  --echo               print each input after the prompt (transcripts of scripted sessions)
  --help               this text

On a terminal: line editing, history ($COSTI_HISTORY or ~/.costi_history), Tab completion.
Otherwise lines are read plainly from stdin:  costi repl model.cost < session.txt
exit status: 0; 1 when FILE does not load or, reading from a file or pipe, when any input
had an error; 2 misuse of the command line.
)";

const char* primary_prompt = "costi> ";
const char* continuation_prompt = "   ...> ";

// An input (its lines together) larger than this is dropped: no formula or kernel comes
// near it, and the limit keeps lines of open brackets from growing one input without end.
// One line is bounded by max_line_bytes while it is read (line_reader.hpp).
constexpr std::size_t max_input_bytes = std::size_t{1} << 20;

// E0403 for a line or an input beyond the limits; `what` ends with "is".
void report_too_long(const std::string& what, const std::string& hint) {
    std::cout.flush();
    std::cerr << interp::render({repl_code::too_long, {}, what + " longer than 1 MiB; it was dropped", hint, {}});
}

struct Args {
    std::string file;
    std::string config_json;
    std::string model;
    bool echo = false;
};

int misuse(const std::string& message) {
    std::cerr << "costi: error: " << message << "\n(see `costi repl --help`)\n";
    return 2;
}

void print_errors(Workspace& ws, interp::CostiError& e) {
    std::cout.flush();
    ws.restore_spans(e);
    for (const auto& d : e.diagnostics()) std::cerr << report::valid_utf8(interp::render(d));
}

// Loads what the command line names; false (after printing why) when it cannot be loaded.
bool start(Workspace& ws, const Args& args) {
    try {
        if (!args.config_json.empty()) {
            ws.use_config_json(args.config_json);
            return true;
        }
        if (args.file.empty()) {
            // No model: the standard library, so its kernels, metrics and runtime variables are there.
            ws.load_file("stdlib/all.cost");
            return true;
        }
        ws.load_file(args.file);
        if (!args.model.empty()) {
            ws.select_model(args.model);
        } else if (ws.model() == nullptr) {
            try {
                ws.select_model("");
            } catch (const interp::CostiError& e) {
                const auto& d = e.diagnostics().front();
                std::cout << "note: " << args.file << ": " << d.message << (d.hint.empty() ? "" : "; " + d.hint)
                          << "\n";
            }
        }
        return true;
    } catch (interp::CostiError& e) {
        print_errors(ws, e);
        return false;
    }
}

// Runs one complete input; false when it failed.
bool handle(Workspace& ws, std::size_t line, std::string text, bool& quit) {
    // The last newline ends the input; without it an error at the end points at its last line.
    if (!text.empty() && text.back() == '\n') text.pop_back();
    const interp::SourceFile& input = ws.add_input(line, std::move(text));
    bool ok = true;
    // The answer is printed as valid UTF-8 whatever bytes the input held (they may come
    // back in names and strings); what an input printed before it failed comes first.
    std::ostringstream answer;
    auto flush = [&answer] {
        std::cout << report::valid_utf8(answer.str());
        answer.str("");
    };
    try {
        quit = run_input(ws, input, answer);
        flush();
    } catch (interp::CostiError& e) {
        flush();
        print_errors(ws, e);
        ok = false;
    } catch (const std::bad_alloc&) {
        std::cout.flush();
        std::cerr << "costi: error: out of memory; the session is as it was before this input\n";
        ok = false;
    } catch (const std::exception& e) {
        std::cout.flush();
        std::cerr << "costi: error: " << report::valid_utf8(e.what()) << "\n";
        ok = false;
    }
    std::cout.flush();
    // A Ctrl-C after the evaluation's last look at the flag was for this input, not the next.
    (void)LineReader::take_interrupt();
    return ok;
}

}  // namespace

int main(const std::vector<std::string>& argv) {
    Args args;
    for (std::size_t i = 0; i < argv.size(); ++i) {
        const std::string& a = argv[i];
        if (a == "--help" || a == "-h") {
            std::cout << usage;
            return 0;
        }
        if (a == "--echo") {
            args.echo = true;
        } else if (a == "--config" || a == "--model") {
            if (i + 1 >= argv.size())
                return misuse(a + (a == "--config" ? " needs a config.json path" : " needs a model name"));
            (a == "--config" ? args.config_json : args.model) = argv[++i];
        } else if (a.rfind('-', 0) == 0 && a.size() > 1) {
            return misuse("unknown option '" + a + "'");
        } else if (args.file.empty()) {
            args.file = a;
        } else {
            return misuse("unexpected argument '" + a + "': costi repl takes one FILE (load more with :load)");
        }
    }
    if (!args.file.empty() && !args.config_json.empty()) return misuse("give either a FILE or --config, not both");
    if (!args.model.empty() && args.file.empty())
        return misuse("--model chooses among the models of FILE; give a FILE");

    Workspace ws;
    if (!start(ws, args)) return 1;
    LineReader reader([&ws](const std::string& before) { return complete(ws, before); }, default_history_path());
    // Ctrl-C during an evaluation stops it with "interrupted"; the session stays as it was.
    if (reader.interactive()) interp::Evaluator::set_interrupt_flag(LineReader::interrupt_flag_address());
    if (reader.interactive()) {
        std::cout << "costi repl — " << (ws.model() != nullptr ? "model " + ws.model()->name : std::string("no model"))
                  << ". :help lists the commands, :quit leaves.\n";
    }

    std::string pending;
    long depth = 0;  // brackets left open by the lines in `pending`
    std::size_t line_no = 0;
    std::size_t input_start = 0;
    bool had_error = false;
    bool quit = false;
    while (!quit) {
        std::string line;
        const char* prompt = pending.empty() ? primary_prompt : continuation_prompt;
        LineReader::Status status = reader.read(prompt, line);
        if (status == LineReader::Status::interrupted) {
            pending.clear();
            depth = 0;
            continue;
        }
        if (status == LineReader::Status::too_long) {
            // The line was read to its end and dropped; so is an input it would have continued.
            ++line_no;
            if (args.echo && !reader.interactive()) std::cout << prompt << "…\n";
            report_too_long(pending.empty() ? "line " + std::to_string(line_no) + " is"
                                            : "line " + std::to_string(line_no) + ", in the input that began on line " +
                                                  std::to_string(input_start) + ", is",
                            "the rest of the input is read as usual");
            pending.clear();
            depth = 0;
            had_error = true;
            continue;
        }
        if (status == LineReader::Status::end) {
            if (pending.empty()) break;
            if (reader.interactive()) {
                // Ctrl-D inside an open ( or {: drop the unfinished input, keep the session.
                std::cout << "(unfinished input dropped)\n";
                pending.clear();
                depth = 0;
                continue;
            }
            had_error |= !handle(ws, input_start, std::move(pending), quit);  // reports what is unclosed
            break;
        }
        ++line_no;
        if (args.echo && !reader.interactive()) std::cout << prompt << report::valid_utf8(line) << "\n";
        // A :command never continues an expression or a declaration, so it ends an input
        // left open (which then reports what is unclosed): `:quit` always works.
        if (!pending.empty() && line.find_first_not_of(" \t") != std::string::npos &&
            line[line.find_first_not_of(" \t")] == ':') {
            had_error |= !handle(ws, input_start, std::move(pending), quit);
            pending.clear();
            depth = 0;
            if (quit) break;
        }
        if (pending.empty()) input_start = line_no;
        reader.remember(line);
        pending += line;
        pending += '\n';
        if (pending.size() - 1 > max_input_bytes) {  // its lines and the newlines between them
            report_too_long("the input that began on line " + std::to_string(input_start) + " is",
                            "is a ( or { left open?");
            pending.clear();
            depth = 0;
            had_error = true;
            continue;
        }
        // Only the new line is scanned: the work stays linear however long the input grows.
        depth += open_brackets(line);
        if (depth > 0) continue;
        depth = 0;
        std::string input = std::move(pending);
        pending.clear();
        if (is_blank(input)) continue;
        (void)LineReader::take_interrupt();  // a Ctrl-C typed before now is not for this input
        had_error |= !handle(ws, input_start, std::move(input), quit);
    }
    std::cout.flush();
    return had_error && !reader.interactive() ? 1 : 0;
}

}  // namespace costi::repl
