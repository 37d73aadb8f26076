// Argument parsing and the costi commands.
#include "repl/cli.hpp"

#include <iostream>
#include <optional>

#include "interpreter/diagnostics.hpp"
#include "interpreter/session.hpp"
#include "interpreter/suggest.hpp"
#include "repl/repl.hpp"
#include "repl/report.hpp"

namespace costi::cli {

using interp::CostiError;
using interp::Number;
using interp::Value;

namespace {

const char* main_help = R"(costi — exact cost formulas for ML models

usage:
  costi run FILE [options]          evaluate a model file and print its breakdown
  costi run --config config.json    evaluate any Hugging Face config.json
  costi check FILE...               parse and check files without evaluating
  costi repl [FILE | --config F]    interactive what-if session
  costi --help | COMMAND --help     explain everything
  costi --version

FILE may also name a model of the built-in library: `costi run gpt2`.
Run `costi run --help` for the options.
)";

const char* run_help = R"(usage: costi run FILE [options]
       costi run --config config.json [options]

Evaluates a model exactly and prints its breakdown: every call with its kernel, its
count (how often its parent calls it), and each metric as the call's contribution to the
whole run (one call's cost × its count × the counts of the calls above it) with its share
of the total. The JSON output gives per node "cost" (one call) and "total" (count × cost).

options:
  --NAME VALUE            set a runtime variable: --batch_size 8 --seq_len 4096
                          --cache_len 0 --w_bytes 0.5 --a_bytes 2 --kv_bytes 1
                          --logits_to_keep 1 (VALUE: 42, 0.5, 9/16, 1e6)
  --set config.KEY=VALUE  override a config value (number, true/false, or text)
  --config FILE.json      take the model from a Hugging Face config.json
                          (the kernel comes from its architectures[0])
  --model NAME            which model of FILE to run (when it declares several)
  --depth N               show N levels of calls below the model (default: all)
  --format table|json     output format (default: table)
  --exact                 exact integers in the table instead of 14.08 T
  --help                  this text

exit status: 0 success, 1 error in the input, 2 misuse of the command line.
)";

const char* check_help = R"(usage: costi check FILE...

Parses and checks each file (and its imports) without evaluating: syntax, unknown
kernels and names, parameters, duplicate definitions, recursion. Prints every problem.
exit status: 0 all files are well-formed, 1 otherwise, 2 misuse.
)";

struct Misuse {
    std::string message;
    std::string hint;
};

int misuse(const Misuse& m, const char* help_for) {
    std::cerr << "costi: error: " << m.message << "\n";
    if (!m.hint.empty()) std::cerr << "hint: " << m.hint << "\n";
    std::cerr << "(see `costi " << help_for << (*help_for != 0 ? " " : "") << "--help`)\n";
    return 2;
}

int report_errors(const CostiError& e) {
    for (const auto& d : e.diagnostics()) std::cerr << interp::render(d);
    return 1;
}

// Parses a command-line value as an exact number.
std::optional<Number> number_arg(const std::string& text) {
    return Number::parse(text);
}

Value config_value(const std::string& text) {
    if (auto n = Number::parse(text)) return Value::of(*n);
    if (text == "true") return Value::of(1);
    if (text == "false") return Value::of(0);
    if (text.size() >= 2 && text.front() == '"' && text.back() == '"')
        return Value::of_string(text.substr(1, text.size() - 2));
    return Value::of_string(text);
}

struct RunArgs {
    std::string file;
    std::string config_json;
    std::string model;
    int depth = -1;
    std::string format = "table";
    bool exact = false;
    interp::Overrides overrides;
};

int run_command(const std::vector<std::string>& args) {
    RunArgs ra;
    std::vector<std::pair<std::string, std::string>> runtime_flags;
    static const std::vector<std::string> known = {"--set",    "--config", "--model", "--depth",
                                                   "--format", "--exact",  "--help"};
    for (std::size_t i = 0; i < args.size(); ++i) {
        std::string a = args[i];
        std::optional<std::string> inline_value;
        if (a.rfind("--", 0) == 0) {
            if (auto eq = a.find('='); eq != std::string::npos && a.rfind("--set", 0) != 0) {
                inline_value = a.substr(eq + 1);
                a = a.substr(0, eq);
            }
        }
        auto value = [&](const char* what) -> std::string {
            if (inline_value) return *inline_value;
            if (i + 1 >= args.size()) throw Misuse{std::string(a) + " needs " + what, ""};
            return args[++i];
        };
        if (a == "--help" || a == "-h") {
            std::cout << run_help;
            return 0;
        }
        if (a == "--exact") {
            ra.exact = true;
        } else if (a == "--set") {
            std::string kv = value("config.KEY=VALUE");
            auto eq = kv.find('=');
            if (eq == std::string::npos || eq == 0) throw Misuse{"--set takes config.KEY=VALUE, got '" + kv + "'", ""};
            std::string key = kv.substr(0, eq);
            if (key.rfind("config.", 0) == 0) key = key.substr(7);
            if (key.empty()) throw Misuse{"--set takes config.KEY=VALUE, got '" + kv + "'", ""};
            ra.overrides.config.emplace_back(key, config_value(kv.substr(eq + 1)));
        } else if (a == "--config") {
            ra.config_json = value("a config.json path");
        } else if (a == "--model") {
            ra.model = value("a model name");
        } else if (a == "--depth") {
            std::string d = value("a number");
            auto n = number_arg(d);
            auto v = n ? n->to_int64() : std::nullopt;
            if (!v || *v < 0 || *v > 1000000) throw Misuse{"--depth takes a non-negative integer, got '" + d + "'", ""};
            ra.depth = static_cast<int>(*v);
        } else if (a == "--format") {
            ra.format = value("table or json");
            if (ra.format != "table" && ra.format != "json") {
                throw Misuse{"--format takes table or json, got '" + ra.format + "'", ""};
            }
        } else if (a.rfind("--", 0) == 0 && a.size() > 2) {
            runtime_flags.emplace_back(a.substr(2), value("a value"));
        } else if (a.rfind("-", 0) == 0 && a.size() > 1) {
            throw Misuse{"unknown option '" + a + "'", ""};
        } else if (ra.file.empty()) {
            ra.file = a;
        } else {
            throw Misuse{"unexpected argument '" + a + "'", "costi run takes one FILE"};
        }
    }
    if (ra.file.empty() && ra.config_json.empty()) throw Misuse{"costi run needs a FILE or --config config.json", ""};
    if (!ra.file.empty() && !ra.config_json.empty()) {
        throw Misuse{"give either a FILE or --config, not both",
                     "a model file can take its config with `config from \"x.json\"`"};
    }

    interp::Session session;
    try {
        if (!ra.file.empty()) {
            session.load_file(ra.file);
        } else {
            session.load_library();
        }
    } catch (const CostiError& e) {
        return report_errors(e);
    }
    // Runtime flags are checked against the runtime variables the program declares.
    std::vector<std::string> names;
    for (const auto& r : session.program().runtimes) names.push_back(r.name);
    for (const auto& [name, text] : runtime_flags) {
        if (!session.program().find_runtime(name)) {
            std::vector<std::string> flags = known;
            for (const auto& n : names) flags.push_back("--" + n);
            auto best = interp::closest("--" + name, flags);
            throw Misuse{"unknown option '--" + name + "'", best ? "did you mean '" + *best + "'?" : ""};
        }
        auto n = number_arg(text);
        if (!n) throw Misuse{"--" + name + " takes a number (42, 0.5, 9/16, 1e6), got '" + text + "'", ""};
        ra.overrides.runtime.emplace_back(name, Value::of(*n));
    }
    try {
        const interp::Model& model =
            ra.config_json.empty() ? session.pick_model(ra.model) : session.model_from_config_json(ra.config_json);
        interp::Environment env = session.environment(model, ra.overrides);
        interp::CostNode root = session.run_in(model, env);
        report::RunInfo info;
        info.model = model.name;
        for (std::size_t i = 0; i < session.program().runtimes.size(); ++i) {
            info.runtime.emplace_back(session.program().runtimes[i].name, env.runtime[i]);
        }
        if (ra.format == "json") {
            std::cout << report::json(session.program(), info, root, ra.depth);
        } else {
            std::cout << report::table(session.program(), info, root, {ra.depth, ra.exact});
        }
    } catch (const CostiError& e) {
        return report_errors(e);
    }
    return 0;
}

int check_command(const std::vector<std::string>& args) {
    std::vector<std::string> files;
    for (const auto& a : args) {
        if (a == "--help" || a == "-h") {
            std::cout << check_help;
            return 0;
        }
        if (a.rfind("-", 0) == 0 && a.size() > 1) throw Misuse{"unknown option '" + a + "'", ""};
        files.push_back(a);
    }
    if (files.empty()) throw Misuse{"costi check needs at least one FILE", ""};
    int status = 0;
    for (const auto& f : files) {
        interp::Session session;
        try {
            session.load_file(f);
            const auto& p = session.program();
            std::cout << f << ": ok (" << p.kernels.size() << " kernels, " << p.models.size() << " models)\n";
        } catch (const CostiError& e) {
            status = report_errors(e);
        }
    }
    return status;
}

}  // namespace

int main(const std::vector<std::string>& args) {
    try {
        if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
            if (args.empty()) {
                std::cerr << main_help;
                return 2;
            }
            std::cout << main_help;
            return 0;
        }
        if (args[0] == "--version") {
            std::cout << "costi 0.1.0\n";
            return 0;
        }
        std::vector<std::string> rest(args.begin() + 1, args.end());
        if (args[0] == "run") return run_command(rest);
        if (args[0] == "check") return check_command(rest);
        if (args[0] == "repl") return repl::main(rest);
        auto best = interp::closest(args[0], {"run", "check", "repl"});
        throw Misuse{"unknown command '" + args[0] + "'",
                     best ? "did you mean '" + *best + "'?" : "commands: run, check, repl"};
    } catch (const Misuse& m) {
        bool known_command = !args.empty() && (args[0] == "run" || args[0] == "check" || args[0] == "repl");
        return misuse(m, known_command ? args[0].c_str() : "");
    }
}

}  // namespace costi::cli
