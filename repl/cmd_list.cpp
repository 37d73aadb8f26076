// `costi list`: what the built-in library holds.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <iostream>
#include <memory>

#include "interpreter/loader.hpp"
#include "interpreter/session.hpp"
#include "repl/cli.hpp"
#include "repl/human.hpp"
#include "repl/model_lookup.hpp"
#include "repl/report.hpp"

namespace costi::cli {

namespace {

const std::vector<std::string> kinds = {"models", "kernels", "hardware"};

std::string pad(const std::string& s, std::size_t w) {
    std::size_t n = report::display_width(s);
    return s + std::string(w > n ? w - n : 0, ' ');
}

// The weights of a model at its defaults, compact; "-" when it does not evaluate.
std::string params_in(const interp::Session& session, const std::string& name) {
    try {
        const interp::Program& program = session.program();
        auto m = program.find_metric("params");
        if (!m) return "-";
        interp::CostNode root = session.totals(session.pick_model(name), {});
        return report::compact(interp::total_of(program.metrics[*m], root.count, root.cost[*m]), program.metrics[*m].unit,
                               report::style_of(program.metrics[*m]));
    } catch (const interp::CostiError&) {
        return "-";
    }
}

// The same, from a session of its own: the file alone, its library read lazily (only what it
// reaches is read and checked, as for `costi run`).
std::string params_of(const LibraryFile& file, const std::string& name) {
    try {
        interp::Session session;
        session.set_lazy_library(true);
        session.load_file(file.path.string());
        return params_in(session, name);
    } catch (const interp::CostiError&) {
        return "-";
    }
}

// Every one of the files in one session, the library read once and lazily for all of them;
// null when they do not load together (each is then read in a session of its own).
std::unique_ptr<interp::Session> load_together(const std::vector<LibraryFile>& files) {
    std::vector<std::string> paths;
    for (const auto& f : files) paths.push_back(f.path.string());
    auto session = std::make_unique<interp::Session>();
    session->set_lazy_library(true);
    try {
        session->load_files(paths);
    } catch (const interp::CostiError&) {
        return nullptr;
    }
    return session;
}

int list_models(bool names_only) {
    struct Line {
        std::string name;
        std::string file;
        std::string params;
    };
    std::vector<Line> lines;
    const std::vector<LibraryFile> files = library_models();
    // One session for all, when it gives each model what its own session would: an `every
    // leaf` block in one file would change every leaf of the others.
    std::unique_ptr<interp::Session> shared = names_only ? nullptr : load_together(files);
    if (shared && shared->program().has_every_leaf) shared.reset();
    for (const auto& f : files) {
        if (f.names.empty()) lines.push_back({f.short_name, f.short_name, "-"});
        for (const auto& n : f.names) {
            std::string params = names_only ? "" : shared ? params_in(*shared, n) : params_of(f, n);
            lines.push_back({report::valid_utf8(n), f.short_name, params});
        }
    }
    std::size_t wn = 0;
    std::size_t wf = 0;
    for (const auto& l : lines) {
        wn = std::max(wn, report::display_width(l.name));
        wf = std::max(wf, report::display_width(l.file));
    }
    for (const auto& l : lines) {
        if (names_only) {
            std::cout << l.name << "\n";
        } else {
            std::cout << pad(l.name, wn) << "  " << pad(l.file, wf) << "  " << l.params << "\n";
        }
    }
    return 0;
}

int list_kernels() {
    interp::Session session;
    session.load_file("stdlib/all.cost");
    session.load_library();
    std::vector<std::string> names;
    for (const auto& [name, kernel] : session.program().kernel_by_name) names.push_back(name);
    std::sort(names.begin(), names.end());
    for (const auto& n : names) std::cout << report::valid_utf8(n) << "\n";
    return 0;
}

// One device's line from a program holding it: bf16 peak, memory, bandwidth and its
// description; "-" for what it lacks.
std::vector<std::string> hardware_cells(const interp::Program& program, const std::string& short_name) {
    std::vector<std::string> cells{report::valid_utf8(short_name), "-", "-", "-", ""};
    const interp::Hardware* hw = program.find_hardware(short_name);
    if (hw == nullptr) return cells;
    auto value = [&](const char* name, const char* unit) {
        auto it = program.property_id.find(name);
        if (it == program.property_id.end() || hw->values[it->second].is_absent()) return std::string("-");
        return report::compact(hw->values[it->second].num, unit);
    };
    return {report::valid_utf8(hw->name), value("bf16", "FLOP/s"), value("memory", "B"), value("mem_bw", "B/s"),
            report::valid_utf8(hw->doc)};
}

// The same from a session of the file alone (a device file reaches no kernel, so a lazy read
// leaves the library's bodies unread), or what stops it from loading.
std::vector<std::string> hardware_line(const LibraryFile& file) {
    try {
        interp::Session session;
        session.set_lazy_library(true);
        session.load_file(file.path.string());
        return hardware_cells(session.program(), file.short_name);
    } catch (const interp::CostiError&) {
        return {report::valid_utf8(file.short_name), "-", "-", "-",
                "(does not load: costi check " + file.path.string() + ")"};
    }
}

int list_hardware(bool names_only) {
    auto files = library_hardware();
    if (files.empty()) {
        std::string where;
        for (const auto& d : interp::library_dirs()) where += (where.empty() ? "" : ", ") + (d / "hardware").string();
        std::cerr << "costi: the library has no hardware files yet (looked for hardware/*.cost in " << where << ")\n";
    }
    if (names_only) {
        for (const auto& f : files) std::cout << report::valid_utf8(f.short_name) << "\n";
        return 0;
    }
    std::vector<std::vector<std::string>> rows{{"name", "bf16", "memory", "mem_bw", "device"}};
    // Device names are unique in a program, so each line reads from the shared session as
    // from the device's own file.
    std::unique_ptr<interp::Session> shared = load_together(files);
    for (const auto& f : files) rows.push_back(shared ? hardware_cells(shared->program(), f.short_name) : hardware_line(f));
    std::vector<std::size_t> w(5, 0);
    for (const auto& r : rows)
        for (std::size_t i = 0; i < r.size(); ++i) w[i] = std::max(w[i], report::display_width(r[i]));
    for (const auto& r : rows) {
        std::string line = pad(r[0], w[0]);
        for (std::size_t i = 1; i < 4; ++i)
            line += "  " + std::string(w[i] - report::display_width(r[i]), ' ') + r[i];
        line += "  " + r[4];
        while (!line.empty() && line.back() == ' ') line.pop_back();
        std::cout << line << "\n";
    }
    return 0;
}

}  // namespace

Command list_command() {
    return {"list", "list the library's models, kernels or hardware",
            [](CLI::App& app, const std::vector<std::string>&) -> std::function<int()> {
                struct State {
                    std::string what = "models";
                    bool names = false;
                };
                auto st = std::make_shared<State>();
                app.description(
                    "Lists what the built-in library holds. models: one line per model — its declared name\n"
                    "(what `costi run` accepts), its file's short name (also accepted) and its parameter\n"
                    "count at the defaults. kernels: every kernel and alias name a formula can call.\n"
                    "hardware: one line per device of hardware/*.cost — the name `--hw` takes, its dense\n"
                    "bf16 peak, memory and memory bandwidth (docs/hardware.md has every value and its source).");
                app.add_option("WHAT", st->what, "models (default), kernels or hardware")->type_name("");
                app.add_flag("--names", st->names, "models, hardware: only the names, one per line");
                return [st, &app]() {
                    reject_leftovers(app);
                    if (st->what == "models") return list_models(st->names);
                    if (st->what == "hardware") return list_hardware(st->names);
                    if (st->names) throw Misuse{"option '--names' goes with `costi list models` or `hardware`", ""};
                    if (st->what == "kernels") return list_kernels();
                    throw Misuse{"costi list takes models, kernels or hardware, got '" + st->what + "'",
                                 did_you_mean(st->what, kinds)};
                };
            }};
}

}  // namespace costi::cli
