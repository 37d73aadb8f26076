// What the commands that take a model share with `costi run`: FILE (or --config), --model,
// --set, --hw, --engine and one flag per runtime variable of the program FILE names.
//
// Owns: the state those options fill, loading the program before the flags are made, the
// checks every such command makes after parsing, and turning the options into a model and
// its Overrides. Does not own what a command then does with the model (cmd_run.cpp,
// cmd_formula.cpp).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "interpreter/session.hpp"
#include "repl/cli.hpp"
#include "repl/model_lookup.hpp"

namespace CLI {
class Option;
}

namespace costi::cli {

// Everything the options hold; the runner reads it after parsing.
struct RunState {
    std::string file;
    std::string config_json;
    std::string model;
    std::string depth;
    bool all = false;
    std::string metrics;
    std::string format = "table";
    bool exact = false;
    std::vector<std::string> sets;
    std::map<std::string, std::string> runtime;  // flag name -> text, for flags given
    std::map<std::string, CLI::Option*> runtime_options;
    std::string hw;        // --hw NAME
    std::string prompt;    // --prompt P
    std::string generate;  // --generate G
    std::string hw_name;   // the hardware declaration --hw loaded
    std::string engine;    // --engine NAME
    std::optional<Misuse> hw_misuse;  // --hw named no hardware

    std::string loaded_file;  // what define() found as FILE
    ModelRef ref;
    std::unique_ptr<interp::Session> session;  // the program FILE (or the library) makes
    std::optional<interp::CostiError> load_error;      // why it could not be loaded
    std::unique_ptr<interp::Session> failed;   // keeps the sources load_error quotes
};

// Before parsing, after the command's own options: adds --set, makes every option so far
// last-wins, peeks at `args` for FILE, --config, --hw and --engine, loads the program they
// name into st->session, and adds one flag per runtime variable it declares.
void prepare(const std::shared_ptr<RunState>& st, CLI::App& app, const std::vector<std::string>& args);

// Loads the program FILE names (or, with st.config_json set and FILE empty, the library
// files that model its architecture) and the device and engine st.hw and st.engine name, as
// `prepare` does before the flags are made: what the Python module calls for a model. A
// failure is kept in st.load_error or st.hw_misuse (check_loaded throws it).
void load_program(RunState& st, const std::string& file);

// The misuses of what load_program was given (FILE and --config both, an unknown --hw or
// --engine) and the error loading FILE. Throws Misuse or CostiError.
void check_loaded(const RunState& st);

// --prompt P / --generate G: exact integers in their domains (P >= 1, G >= 0). Throws Misuse.
interp::Number request_count(const std::string& flag, const std::string& text, std::int64_t lowest);

// After parsing: the misuses every model command refuses (leftover arguments, no FILE or
// both FILE and --config, an unknown --hw or --engine) and the error loading FILE. Throws.
void check_model_args(RunState& st, CLI::App& app, const std::string& command);

// The model the options name and what they set (runtime flags, --set, --hw, --engine).
// Throws Misuse for a bad flag value or --set key, CostiError for an unknown model.
std::pair<const interp::Model*, interp::Overrides> resolve_model(RunState& st);

// --depth N|all: -1 for all. Throws Misuse.
int parse_depth(const std::string& text);

}  // namespace costi::cli
