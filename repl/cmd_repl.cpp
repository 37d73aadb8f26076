// `costi repl`: its options go through the command table; the session is repl::main's.
#include <CLI/CLI.hpp>
#include <memory>

#include "repl/cli.hpp"
#include "repl/model_lookup.hpp"
#include "repl/repl.hpp"

namespace costi::cli {

Command repl_command() {
    return {"repl", "interactive what-if session over a model",
            [](CLI::App& app, const std::vector<std::string>&) -> std::function<int()> {
                struct State {
                    std::string file;
                    std::string config_json;
                    std::string model;
                    bool echo = false;
                };
                auto st = std::make_shared<State>();
                app.description(
                    "An interactive what-if session over a model: bind runtime variables and config values,\n"
                    "evaluate expressions exactly, explain kernels, sweep a variable. Type :help inside.");
                app.footer(
                    "\nFILE is a .cost file, a library model's short name (costi repl gpt2) or a model's declared\n"
                    "name (costi repl meta-llama/Meta-Llama-3-8B); without one the standard library is loaded.\n"
                    "On a terminal: line editing, history ($COSTI_HISTORY or ~/.costi_history), Tab completion.\n"
                    "Otherwise lines are read plainly from stdin:  costi repl model.cost < session.txt\n"
                    "exit status: 0; 1 when FILE does not load or, reading from a file or pipe, when any input\n"
                    "had an error; 2 misuse of the command line.\n");
                app.add_option("FILE", st->file, "the model to start with")->type_name("");
                app.add_option("--config", st->config_json, "take the model from a Hugging Face config.json")
                    ->type_name("FILE.json");
                app.add_option("--model", st->model, "which model of FILE to start with (when it declares several)")
                    ->type_name("NAME");
                app.add_flag("--echo", st->echo, "print each input after the prompt (transcripts of scripted sessions)");
                return [st, &app]() {
                    reject_leftovers(app);
                    if (!st->file.empty() && !st->config_json.empty())
                        throw Misuse{"give either a FILE or --config, not both", ""};
                    if (!st->model.empty() && st->file.empty())
                        throw Misuse{"--model chooses among the models of FILE; give a FILE", ""};
                    std::vector<std::string> args;
                    if (!st->file.empty()) {
                        ModelRef ref = find_model(st->file);
                        std::string model = st->model.empty() ? ref.model : st->model;
                        if (!ref.model.empty() && model != ref.model)
                            throw Misuse{"'" + st->file + "' names model '" + ref.model + "', --model names '" +
                                             st->model + "'",
                                         ""};
                        args.push_back(ref.file);
                        if (!model.empty()) args.insert(args.end(), {"--model", model});
                    }
                    if (!st->config_json.empty()) args.insert(args.end(), {"--config", st->config_json});
                    if (st->echo) args.emplace_back("--echo");
                    return repl::main(args);
                };
            }};
}

}  // namespace costi::cli
