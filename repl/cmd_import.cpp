// `costi import`: the predecessor's JSON analyses as reviewable .cost files.
#include <CLI/CLI.hpp>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <random>

#include "interpreter/lmp/compare.hpp"
#include "interpreter/lmp/formats.hpp"
#include "interpreter/lmp/writer.hpp"
#include "repl/cli.hpp"
#include "repl/human.hpp"

namespace costi::cli {

namespace {

namespace fs = std::filesystem;

// Import errors have their own codes, beside the interpreter's.
constexpr const char* import_error_code = "E0501";

int report_import_error(const lmp::ImportError& e) {
    std::cout.flush();
    std::string where = e.file.empty() ? "costi" : e.file;
    std::cerr << report::valid_utf8(where) << ": error: " << report::valid_utf8(e.message) << " [" << import_error_code
              << "]\n";
    if (!e.json_path.empty()) {
        std::cerr << "  at " << report::valid_utf8(e.json_path);
        if (e.column > 0) std::cerr << ", column " << e.column;
        std::cerr << "\n";
    }
    if (e.column > 0 && !e.formula.empty() && e.formula.size() <= 400 && e.formula.find('\n') == std::string::npos) {
        std::cerr << "    " << report::valid_utf8(e.formula) << "\n";
        std::cerr << "    " << std::string(e.column - 1, ' ') << "^\n";
    }
    if (!e.hint.empty()) std::cerr << "hint: " << report::valid_utf8(e.hint) << "\n";
    return 1;
}

// A fresh directory beside `target` (same file system, so that renaming it is atomic).
fs::path temp_beside(const fs::path& target) {
    std::random_device rd;
    fs::path parent = target.parent_path().empty() ? fs::path(".") : target.parent_path();
    for (int attempt = 0; attempt < 100; ++attempt) {
        fs::path p = parent / ("." + target.filename().string() + ".import-" + std::to_string(rd() % 1000000));
        std::error_code ec;
        if (fs::create_directory(p, ec)) return p;
    }
    throw lmp::ImportError(target.string(), "", 0, "cannot create a temporary directory beside the output");
}

// "+1,234 (+12.5%)": the imported value less the library's, exact, and relative to the library's.
std::string difference(const interp::Number& imported, const interp::Number& library) {
    interp::Number d = imported - library;
    std::string out = (d.sign() > 0 ? "+" : "") + report::grouped(d);
    if (d.is_zero()) return "0";
    if (library.is_zero()) return out + " (library 0)";
    auto pct = interp::Number::divide(d * interp::Number(100), library);
    if (pct->abs() < *interp::Number::parse("0.01")) return out + (d.sign() > 0 ? " (< +0.01%)" : " (> -0.01%)");
    return out + " (" + (d.sign() > 0 ? "+" : "") + pct->to_fixed(2) + "%)";
}

void print_comparison(const lmp::Comparison& c) {
    std::cout << "\nimported leaf kernels against costi's library, at " << lmp::compare_runtime << ":\n";
    std::vector<std::vector<std::string>> rows = {{"kernel", "shape", "metric", "imported", "library", "difference"}};
    std::string last;
    for (const auto& r : c.rows) {
        std::string key = r.kernel + "|" + r.shape;
        rows.push_back({key == last ? "" : r.kernel, key == last ? "" : r.shape, r.metric, report::grouped(r.imported),
                        report::grouped(r.costi), difference(r.imported, r.costi)});
        last = key;
    }
    std::vector<std::size_t> w(rows[0].size(), 0);
    for (const auto& row : rows)
        for (std::size_t i = 0; i < row.size(); ++i) w[i] = std::max(w[i], report::display_width(row[i]));
    for (const auto& row : rows) {
        std::string line;
        for (std::size_t i = 0; i < row.size(); ++i) {
            std::string pad(w[i] - report::display_width(row[i]), ' ');
            line += (i ? "  " : "  ") + (i >= 3 ? pad + row[i] : row[i] + pad);
        }
        while (!line.empty() && line.back() == ' ') line.pop_back();
        std::cout << report::valid_utf8(line) << "\n";
    }
    std::size_t differ = 0;
    for (const auto& r : c.rows)
        if (!(r.imported == r.costi)) ++differ;
    std::cout << differ << " of " << c.rows.size() << " values differ.\n";
    for (const auto& u : c.unmatched) std::cout << "no library counterpart: " << report::valid_utf8(u) << "\n";
}

int run_import(const std::vector<std::string>& paths, const std::string& out_dir, bool force, bool compare,
               const lmp::WriteOptions& options) {
    lmp::Inputs in = lmp::read_inputs(paths);
    if (in.definitions.empty())
        throw lmp::ImportError(paths.front(), "", 0, "nothing to import: no kernel, module analysis or model in the inputs");
    lmp::WriteResult result = lmp::write_cost_files(in, options);
    fs::path target(out_dir.empty() ? "costi-import" : out_dir);
    std::error_code ec;
    bool existed = !out_dir.empty() && fs::exists(target, ec);
    if (existed && !force)
        throw Misuse{"the output directory '" + out_dir + "' exists", "choose a new directory, or add --force to replace it"};
    if (existed && !fs::is_directory(target, ec)) throw Misuse{"'" + out_dir + "' exists and is not a directory", ""};
    fs::path tmp = temp_beside(target);
    try {
        for (const auto& f : result.files) {
            std::ofstream o(tmp / f.name, std::ios::binary);
            o << f.text;
            o.close();
            if (!o) throw lmp::ImportError((tmp / f.name).string(), "", 0, "cannot write");
        }
        if (compare) print_comparison(lmp::compare_with_library(result, tmp.string()));
        if (out_dir.empty()) {
            fs::remove_all(tmp, ec);
        } else if (existed) {
            fs::path old = temp_beside(target);
            fs::remove(old);
            fs::rename(target, old);
            fs::rename(tmp, target);
            fs::remove_all(old);
        } else {
            fs::rename(tmp, target);
        }
    } catch (...) {
        fs::remove_all(tmp, ec);
        throw;
    }
    for (const auto& w : result.warnings) std::cerr << "warning: " << report::valid_utf8(w) << "\n";
    for (const auto& s : in.skipped) std::cerr << "note: skipped " << report::valid_utf8(s) << " (a JSON Schema)\n";
    if (out_dir.empty()) return 0;
    std::size_t kernels = 0;
    for (const auto& k : result.kernels)
        if (k.kind != "layer") ++kernels;
    std::cout << "imported " << kernels << " definition" << (kernels == 1 ? "" : "s") << " into "
              << report::valid_utf8(out_dir) << " (" << result.files.size() << " files)\n";
    for (const auto& k : result.kernels) {
        if (k.kind == "layer") continue;
        std::cout << "  " << k.file << ": $" << k.kernel << "(" << [&] {
            std::string s;
            for (std::size_t i = 0; i < k.params.size(); ++i) s += (i ? ", " : "") + k.params[i];
            return s;
        }() << ")  [" << k.kind << "]\n";
    }
    return 0;
}

}  // namespace

Command import_command() {
    return {"import", "translate the predecessor's JSON analyses into .cost files",
            [](CLI::App& app, const std::vector<std::string>&) -> std::function<int()> {
                struct State {
                    std::vector<std::string> paths;
                    std::string out;
                    bool force = false;
                    bool compare = false;
                    lmp::WriteOptions options;
                };
                auto st = std::make_shared<State>();
                app.description(
                    "Reads the predecessor's JSON files — leaf and composite kernels, module analyses, models\n"
                    "as layer trees, kernel_name_map.json — (a directory: every *.json under it) and writes\n"
                    "one .cost file per definition into DIR, formulas translated exactly (docs/import.md).\n"
                    "A class no input defines resolves to costi's library, with a warning.\n"
                    "Nothing is written unless everything imports.");
                app.add_option("PATH", st->paths, "JSON files, or directories of them")->type_name("");
                app.add_option("-o,--output", st->out, "the directory to write (must not exist, unless --force)")
                    ->type_name("DIR");
                app.add_flag("--force", st->force, "replace DIR if it exists");
                app.add_flag("--drop-extra-arguments", st->options.drop_extra_arguments,
                             "drop (with a warning) positional arguments a reference's callee has no parameter for, "
                             "instead of refusing the input");
                app.add_flag("--compare-library", st->compare,
                             "evaluate each imported leaf kernel against costi's library kernel for the same operation at "
                             "representative shapes, and report the differences (-o then optional)");
                app.footer("\nexit status: 0 imported, 1 an input cannot be imported (nothing written), 2 misuse.\n");
                return [st, &app]() {
                    reject_leftovers(app);
                    if (st->paths.empty()) throw Misuse{"costi import needs at least one PATH", ""};
                    if (st->out.empty() && !st->compare)
                        throw Misuse{"costi import needs -o DIR, the directory to write", ""};
                    try {
                        return run_import(st->paths, st->out, st->force, st->compare, st->options);
                    } catch (const lmp::ImportError& e) {
                        return report_import_error(e);
                    }
                };
            }};
}

}  // namespace costi::cli
