// Finding models by file, short name or declared name; listing the library.
#include "repl/model_lookup.hpp"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <set>

#include "grammar/parse.hpp"
#include "interpreter/diagnostics.hpp"
#include "interpreter/loader.hpp"
#include "interpreter/suggest.hpp"

namespace costi::cli {

namespace fs = std::filesystem;
using interp::CostiError;
using interp::Diagnostic;

namespace {

// Library files are read whole to find the names they declare; a file larger than this is
// not a model of the library and is left to the loader (which reports it) instead.
constexpr std::uintmax_t max_scanned_bytes = 1u << 20;

std::vector<LibraryFile> library_files(const std::string& folder) {
    std::vector<LibraryFile> files;
    std::set<std::string> seen;
    for (const auto& dir : interp::library_dirs()) {
        std::error_code ec;
        fs::directory_iterator it(dir / folder, ec);
        if (ec) continue;
        for (const auto& entry : it) {
            const fs::path& p = entry.path();
            if (p.extension() != ".cost" || !entry.is_regular_file(ec)) continue;
            std::string short_name = p.stem().string();
            if (!seen.insert(short_name).second) continue;
            files.push_back({short_name, p, {}});
        }
    }
    std::sort(files.begin(), files.end(),
              [](const LibraryFile& a, const LibraryFile& b) { return a.short_name < b.short_name; });
    return files;
}

// The models a file declares, from its own text (imports are not followed).
std::vector<std::string> declared_models(const fs::path& p) {
    std::error_code ec;
    auto size = fs::file_size(p, ec);
    if (ec || size > max_scanned_bytes) return {};
    std::ifstream in(p, std::ios::binary);
    std::string text(std::istreambuf_iterator<char>(in), {});
    interp::SourceSet sources;
    try {
        auto module = grammar::parse_module(*sources.add(p.string(), std::move(text)));
        std::vector<std::string> names;
        for (const auto& m : module.models) names.push_back(m.name);
        return names;
    } catch (const CostiError&) {
        return {};
    }
}

// How a library file is named in diagnostics: relative to the working directory when that is
// inside the library (a user in a checkout sees ../../kernels/vllm/gpt2.cost, as for the files
// the user named), else absolute.
fs::path shown(const fs::path& root, const fs::path& file) {
    std::error_code ec;
    fs::path cwd = fs::current_path(ec);
    if (ec) return file;
    fs::path inside = fs::relative(cwd, root, ec);
    if (ec || inside.empty() || *inside.begin() == "..") return file;
    fs::path rel = fs::relative(file, cwd, ec);
    return ec || rel.empty() ? file : rel;
}

}  // namespace

std::vector<LibraryFile> library_models() {
    auto files = library_files("models");
    for (auto& f : files) f.names = declared_models(f.path);
    return files;
}

std::vector<LibraryFile> library_hardware() {
    return library_files("hardware");
}

fs::path find_hardware(const std::string& what) {
    std::error_code ec;
    if (what.size() > 5 && what.compare(what.size() - 5, 5, ".cost") == 0 && fs::is_regular_file(fs::path(what), ec))
        return what;
    std::vector<LibraryFile> files = library_hardware();
    std::vector<std::string> names;
    for (const auto& f : files) {
        if (f.short_name == what) return f.path;
        names.push_back(f.short_name);
    }
    auto best = interp::closest(what, names);
    // `--hw h100`: the devices whose name starts with it.
    std::vector<std::string> starting;
    for (const auto& n : names) {
        if (!what.empty() && n.rfind(what, 0) == 0) starting.push_back(n);
    }
    std::string hint = best               ? "did you mean '" + *best + "'?"
                       : !starting.empty() ? "did you mean one of " + interp::join(starting) + "?"
                                           : "`costi list hardware` lists the library's devices";
    throw CostiError(Diagnostic{interp::code::bad_hardware, {}, "no hardware named '" + what + "' (and no such .cost file)",
                                hint, {}});
}

std::vector<std::string> library_engines() {
    std::vector<std::string> names;
    for (const auto& dir : interp::library_dirs()) {
        std::error_code ec;
        fs::directory_iterator it(dir / "kernels", ec);
        if (ec) continue;
        for (const auto& entry : it) {
            std::string engine = entry.path().filename().string();
            if (entry.is_directory(ec) && fs::is_regular_file(entry.path() / (engine + ".cost"), ec) &&
                std::find(names.begin(), names.end(), engine) == names.end())
                names.push_back(engine);
        }
    }
    std::sort(names.begin(), names.end());
    names.insert(names.begin(), "transformers");
    return names;
}

fs::path find_engine(const std::string& name) {
    std::vector<std::string> names{"transformers"};
    for (const auto& dir : interp::library_dirs()) {
        std::error_code ec;
        fs::directory_iterator it(dir / "kernels", ec);
        if (ec) continue;
        for (const auto& entry : it) {
            if (!entry.is_directory(ec)) continue;
            std::string engine = entry.path().filename().string();
            fs::path root = entry.path() / (engine + ".cost");
            if (!fs::is_regular_file(root, ec)) continue;
            if (engine == name) return shown(dir, root);
            names.push_back(engine);
        }
    }
    auto best = interp::closest(name, names);
    throw CostiError(Diagnostic{interp::code::bad_engine, {}, "no engine named '" + name + "'",
                                best ? "did you mean '" + *best + "'?" : "engines: " + interp::join(names), {}});
}

ModelRef find_model(const std::string& what) {
    std::error_code ec;
    if (fs::exists(fs::path(what), ec)) return {what, ""};
    // The loader finds library paths and short names itself; hand it what it will find.
    for (const auto& dir : interp::search_path()) {
        for (const fs::path& candidate : {dir / what, dir / "models" / (what + ".cost")}) {
            if (fs::is_regular_file(candidate, ec)) return {what, ""};
        }
    }
    std::vector<LibraryFile> models = library_models();
    for (const auto& f : models) {
        for (const auto& name : f.names) {
            if (name == what) return {f.path.string(), name};
        }
    }
    std::vector<std::string> candidates;
    for (const auto& f : models) {
        candidates.push_back(f.short_name);
        candidates.push_back("models/" + f.short_name + ".cost");
        for (const auto& name : f.names) candidates.push_back(name);
    }
    // A misspelt path: its neighbours in the folder it names.
    fs::path parent = fs::path(what).parent_path();
    if (!parent.empty()) {
        fs::directory_iterator it(parent, ec);
        if (!ec) {
            for (const auto& entry : it) {
                if (entry.path().extension() == ".cost") candidates.push_back((parent / entry.path().filename()).string());
            }
        }
    }
    auto best = interp::closest(what, candidates);
    throw CostiError(Diagnostic{interp::code::io,
                                {},
                                "cannot read '" + what + "': no such file, and no library model of that name",
                                best ? "did you mean '" + *best + "'?" : "`costi list models` lists the library's models",
                                {}});
}

std::vector<fs::path> engine_files_for(const interp::Session& session, const std::string& name, const fs::path& root) {
    std::vector<fs::path> needed;
    for (const auto& f : interp::library_engine_files(name)) {
        for (const auto& kernel : f.maps) {
            if (session.program().find_kernel(kernel) != nullptr) {
                // Named as find_engine names the root: kernels/NAME/FILE.cost.
                needed.push_back(shown(f.path.parent_path().parent_path().parent_path(), f.path));
                break;
            }
        }
    }
    if (needed.empty()) needed.push_back(root);
    return needed;
}

void load_engine_for(interp::Session& session, const std::string& name, const fs::path& root) {
    std::vector<std::string> paths;
    for (const auto& p : engine_files_for(session, name, root)) paths.push_back(p.string());
    session.load_files(paths);
}

void load_analysis_engine(interp::Session& session) {
    if (session.program().find_engine(interp::analysis_engine) != nullptr) return;
    try {
        load_engine_for(session, interp::analysis_engine, find_engine(interp::analysis_engine));
    } catch (const CostiError&) {
        // The session is unchanged; Session::environment notes that the default is not loaded.
    }
}

}  // namespace costi::cli
