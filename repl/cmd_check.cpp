// `costi check`: parse and check files without evaluating them.
#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>

#include "interpreter/session.hpp"
#include "repl/cli.hpp"
#include "repl/human.hpp"

namespace costi::cli {

Command check_command() {
    return {"check", "parse and check .cost files without evaluating them",
            [](CLI::App& app, const std::vector<std::string>&) -> std::function<int()> {
                auto files = std::make_shared<std::vector<std::string>>();
                app.description(
                    "Parses and checks each file (and its imports) without evaluating: syntax, unknown\n"
                    "kernels and names, parameters, duplicate definitions, recursion. Prints every problem.");
                app.footer("\nexit status: 0 all files are well-formed, 1 otherwise, 2 misuse.\n");
                app.add_option("FILE", *files, "the .cost files to check")->type_name("");
                // Each file's session lives as long as the command: the process ends with it
                // (cli.cpp), and freeing a large program node by node took a sixth of a check.
                auto sessions = std::make_shared<std::vector<std::unique_ptr<interp::Session>>>();
                return [files, sessions, &app]() {
                    reject_leftovers(app);
                    if (files->empty()) throw Misuse{"costi check needs at least one FILE", ""};
                    int status = 0;
                    for (const auto& f : *files) {
                        interp::Session& session = *sessions->emplace_back(std::make_unique<interp::Session>());
                        try {
                            session.load_file(f);
                            const auto& p = session.program();
                            std::cout << report::valid_utf8(f) << ": ok (" << p.kernels.size() << " kernels, "
                                      << p.models.size() << " models)\n";
                        } catch (const interp::CostiError& e) {
                            status = report_errors(e);
                        }
                    }
                    return status;
                };
            }};
}

}  // namespace costi::cli
