// Tab completion candidates.
#include "repl/completion.hpp"

#include <algorithm>
#include <filesystem>
#include <set>

#include "interpreter/diagnostics.hpp"
#include "repl/commands.hpp"

namespace costi::repl {

namespace {

namespace fs = std::filesystem;

bool name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.';
}

// Keeps the candidates that start with `word`, sorted and without repeats.
std::vector<std::string> matching(const std::vector<std::string>& all, const std::string& word) {
    std::set<std::string> out;
    for (const auto& c : all) {
        if (c.size() >= word.size() && c.compare(0, word.size(), word) == 0) out.insert(c);
    }
    return {out.begin(), out.end()};
}

std::vector<std::string> kernel_names(const Workspace& ws) {
    std::vector<std::string> out;
    for (const auto& [name, k] : ws.program().kernel_by_name) out.push_back(name);
    return out;
}

std::vector<std::string> config_names(const Workspace& ws) {
    std::vector<std::string> out;
    for (const auto& k : ws.program().config_keys) out.push_back("config." + k);
    if (ws.model() != nullptr) {
        try {
            for (const auto& [k, v] : ws.session().model_config(*ws.model())) out.push_back("config." + k);
        } catch (const interp::CostiError&) {
            // A config file that cannot be read now: complete from what the kernels read.
        }
    }
    for (const auto& [k, v] : ws.overrides().config) out.push_back("config." + k);
    return out;
}

std::vector<std::string> scope_names(const Workspace& ws) {
    std::vector<std::string> out;
    for (const auto& r : ws.program().runtimes) out.push_back(r.name);
    for (const auto& m : ws.program().metrics) out.push_back(m.name);
    for (const auto& l : ws.lets()) out.push_back(l.name);
    for (std::string_view f : interp::ast::function_names) out.emplace_back(f);
    return out;
}

std::vector<std::string> files(const std::string& word) {
    std::vector<std::string> out;
    auto slash = word.rfind('/');
    std::string dir = slash == std::string::npos ? "" : word.substr(0, slash + 1);
    std::error_code ec;
    fs::directory_iterator it(dir.empty() ? fs::path(".") : fs::path(dir), ec);
    for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
        std::string name = it->path().filename().string();
        if (!name.empty() && name[0] == '.') continue;
        bool is_dir = it->is_directory(ec);
        auto ext = it->path().extension();
        if (is_dir || ext == ".cost") out.push_back(dir + name + (is_dir ? "/" : ""));
    }
    return out;
}

}  // namespace

Completion complete(const Workspace& ws, const std::string& before) {
    Completion c;
    std::size_t start = before.find_first_not_of(" \t");
    // A command name.
    if (start != std::string::npos && before[start] == ':') {
        std::size_t name_end = before.find_first_of(" \t", start);
        if (name_end == std::string::npos) {
            std::vector<std::string> names;
            for (const auto& cmd : command_table()) names.push_back(":" + std::string(cmd.name));
            c.word_begin = start;
            c.candidates = matching(names, before.substr(start));
            c.space_after = true;
            return c;
        }
        const Command* cmd = find_command(before.substr(start + 1, name_end - start - 1));
        std::size_t word_begin = before.find_last_of(" \t") + 1;
        std::string word = before.substr(word_begin);
        bool first_argument = before.find_first_not_of(" \t", name_end) >= word_begin;
        c.word_begin = word_begin;
        ArgumentKind kind = cmd == nullptr ? ArgumentKind::none : cmd->argument;
        switch (kind) {
            case ArgumentKind::command: {
                std::vector<std::string> names;
                for (const auto& other : command_table()) names.emplace_back(other.name);
                c.candidates = matching(names, word);
                return c;
            }
            case ArgumentKind::file:
                c.candidates = matching(files(word), word);
                return c;
            case ArgumentKind::model: {
                std::vector<std::string> names;
                for (const auto& m : ws.program().models) names.push_back(m->name);
                c.candidates = matching(names, word);
                return c;
            }
            case ArgumentKind::bound: {
                std::vector<std::string> names{"all"};
                for (const auto& [n, v] : ws.overrides().runtime) names.push_back(n);
                for (const auto& [k, v] : ws.overrides().config) names.push_back("config." + k);
                for (const auto& l : ws.lets()) names.push_back(l.name);
                c.candidates = matching(names, word);
                c.space_after = true;
                return c;
            }
            case ArgumentKind::variable:
                if (first_argument) {
                    std::vector<std::string> names = config_names(ws);
                    for (const auto& r : ws.program().runtimes) names.push_back(r.name);
                    c.candidates = matching(names, word);
                    c.space_after = c.candidates.size() == 1;
                    return c;
                }
                break;  // the values are expressions
            case ArgumentKind::kernel:
                if (first_argument && word.find('(') == std::string::npos) {
                    bool dollar = !word.empty() && word[0] == '$';
                    c.word_begin = word_begin + (dollar ? 1 : 0);
                    c.candidates = matching(kernel_names(ws), word.substr(dollar ? 1 : 0));
                    return c;
                }
                break;
            case ArgumentKind::none:
                break;
        }
    }
    // A name in an expression: $kernel, config.KEY, or a name in scope.
    std::size_t word_begin = before.size();
    while (word_begin > 0 && name_char(before[word_begin - 1])) --word_begin;
    std::string word = before.substr(word_begin);
    c.word_begin = word_begin;
    bool after_dollar = word_begin > 0 && (before[word_begin - 1] == '$' || before[word_begin - 1] == '{') &&
                        (before[word_begin - 1] == '$' || (word_begin > 1 && before[word_begin - 2] == '$'));
    if (after_dollar) {
        c.candidates = matching(kernel_names(ws), word);
        return c;
    }
    if (word.rfind("config.", 0) == 0) {
        c.candidates = matching(config_names(ws), word);
        return c;
    }
    static const std::vector<std::string> keywords = {"let", "kernel", "alias", "metric", "runtime", "model", "import"};
    std::vector<std::string> names = scope_names(ws);
    names.emplace_back("config.");
    bool line_start = before.find_first_not_of(" \t") >= word_begin;
    if (line_start) names.insert(names.end(), keywords.begin(), keywords.end());
    c.candidates = matching(names, word);
    c.space_after = c.candidates.size() == 1 && line_start &&
                    std::find(keywords.begin(), keywords.end(), c.candidates[0]) != keywords.end();
    return c;
}

}  // namespace costi::repl
