// Finding, reading and parsing .cost files and their imports.
#include "interpreter/loader.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <dlfcn.h>
#include <sstream>

#include "grammar/parse.hpp"
#include "interpreter/diagnostics.hpp"
#include "interpreter/needed.hpp"
#include "interpreter/text_file.hpp"

namespace costi::interp {

namespace fs = std::filesystem;

// A .cost file larger than this is refused: the whole shipped library is about 200 KB, and
// the limit bounds the memory one file can take (its AST and checked program take about 70
// bytes per source byte, so under 600 MB; docs/performance.md).
static constexpr std::uintmax_t max_file_bytes = 8u << 20;

namespace {
fs::path& embedder_library_dir() {
    static fs::path dir;
    return dir;
}
}  // namespace

void set_library_dir(fs::path dir) {
    embedder_library_dir() = std::move(dir);
}

std::vector<fs::path> library_dirs() {
    std::vector<fs::path> candidates;
    std::error_code ec;
    if (!embedder_library_dir().empty()) candidates.push_back(embedder_library_dir());
    // An installed costi finds its library beside itself (PREFIX/bin/costi ->
    // PREFIX/share/costi) whatever prefix it was installed to; then the configured
    // install location; then the source tree.
    // A costi in its build tree uses the sources it was built from, never an older install.
    fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    if (!ec && exe.parent_path() == fs::path(COSTI_BUILD_DIR)) candidates.emplace_back(COSTI_SOURCE_DIR);
    if (!ec) candidates.push_back(exe.parent_path().parent_path() / "share" / "costi");
    // The interpreter as a shared object (libcosti.so, a Python extension) finds it from where
    // that was loaded: the nearest PREFIX/share/costi up to four folders above it
    // (PREFIX/lib/x86_64-linux-gnu/libcosti.so -> PREFIX/share/costi).
    static const char anchor = 0;
    Dl_info info{};
    if (dladdr(&anchor, &info) != 0 && info.dli_fname != nullptr) {
        fs::path module(info.dli_fname);
        if (module.filename().string().find(".so") != std::string::npos) {
            fs::path dir = fs::weakly_canonical(module, ec).parent_path();
            if (!ec && dir == fs::path(COSTI_BUILD_DIR)) candidates.emplace_back(COSTI_SOURCE_DIR);  // as the binary
            std::error_code absent;  // (set by each folder that is not there)
            for (int up = 0; !ec && up < 4 && !dir.empty(); ++up, dir = dir.parent_path()) {
                if (fs::is_directory(dir / "share" / "costi" / "stdlib", absent)) {
                    candidates.push_back(dir / "share" / "costi");
                    break;
                }
                if (dir == dir.parent_path()) break;
            }
            ec.clear();
        }
    }
    candidates.emplace_back(COSTI_DATA_DIR);
    candidates.emplace_back(COSTI_SOURCE_DIR);
    std::vector<fs::path> dirs;
    for (const auto& d : candidates) {
        if (fs::is_directory(d / "stdlib", ec) && std::find(dirs.begin(), dirs.end(), d) == dirs.end())
            dirs.push_back(d);
    }
    return dirs;
}

std::vector<fs::path> search_path() {
    std::vector<fs::path> dirs;
    if (const char* env = std::getenv("COSTI_PATH")) {
        std::stringstream ss(env);
        std::string part;
        while (std::getline(ss, part, ':')) {
            if (!part.empty()) dirs.emplace_back(part);
        }
    }
    for (auto& d : library_dirs()) dirs.push_back(d);
    return dirs;
}

std::vector<fs::path> library_kernel_files() {
    for (const auto& dir : library_dirs()) {
        std::vector<fs::path> files;
        std::error_code ec;
        for (const auto& entry : fs::directory_iterator(dir / "kernels", ec)) {
            if (entry.path().extension() == ".cost") files.push_back(entry.path());
        }
        std::sort(files.begin(), files.end());
        if (!files.empty()) return files;
    }
    return {};
}

std::optional<fs::path> library_file_declaring(const std::string& class_name) {
    if (class_name.empty()) return std::nullopt;
    for (const auto& f : library_kernel_files()) {
        std::string text;
        try {
            text = read_text_file(f.string(), max_file_bytes, {}, f.string(), "a .cost file");
        } catch (const CostiError&) {
            continue;  // the full load reports it
        }
        // Each line that starts with `kernel transformers.` declares a kernel of that name.
        static const std::string decl = "kernel transformers.";
        for (std::size_t at = text.rfind(decl, 0) == 0 ? 0 : text.find("\n" + decl); at != std::string::npos;
             at = text.find("\n" + decl, at + 1)) {
            std::size_t begin = text[at] == '\n' ? at + 8 : at + 7;
            std::size_t end = begin;
            while (end < text.size() && (std::isalnum(static_cast<unsigned char>(text[end])) != 0 || text[end] == '_' ||
                                         text[end] == '.'))
                ++end;
            std::size_t dot = text.rfind('.', end);
            if (dot != std::string::npos && dot >= begin && text.compare(dot + 1, end - dot - 1, class_name) == 0 &&
                end - dot - 1 == class_name.size())
                return f;
        }
    }
    return std::nullopt;
}

namespace {

bool name_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '.';
}

// The FROM names of the `engine NAME { FROM = TO … }` blocks of `text` (comments removed).
std::vector<std::string> engine_mappings(const std::string& text, const std::string& engine) {
    std::vector<std::string> maps;
    const std::string decl = "engine " + engine;
    for (std::size_t at = text.rfind(decl, 0) == 0 ? 0 : text.find("\n" + decl); at != std::string::npos;
         at = text.find("\n" + decl, at + 1)) {
        std::size_t after = at + (text[at] == '\n' ? 1 : 0) + decl.size();
        if (after < text.size() && name_char(text[after])) continue;  // `engine vllm2`
        std::size_t open = text.find('{', after);
        if (open == std::string::npos) break;
        std::string body;
        for (std::size_t i = open + 1; i < text.size() && text[i] != '}'; ++i) {
            if (text[i] == '#') {  // a comment runs to the end of its line
                while (i + 1 < text.size() && text[i + 1] != '\n') ++i;
                continue;
            }
            body += text[i];
        }
        for (std::size_t eq = body.find('='); eq != std::string::npos; eq = body.find('=', eq + 1)) {
            std::size_t end = eq;
            while (end > 0 && std::isspace(static_cast<unsigned char>(body[end - 1])) != 0) --end;
            std::size_t begin = end;
            while (begin > 0 && name_char(body[begin - 1])) --begin;
            if (begin < end) maps.push_back(body.substr(begin, end - begin));
        }
    }
    return maps;
}

}  // namespace

std::vector<EngineFile> library_engine_files(const std::string& engine) {
    for (const auto& dir : library_dirs()) {
        std::vector<EngineFile> files;
        std::error_code ec;
        for (const auto& entry : fs::directory_iterator(dir / "kernels" / engine, ec)) {
            const fs::path& p = entry.path();
            if (p.extension() != ".cost" || p.stem() == engine) continue;
            std::string text;
            try {
                text = read_text_file(p.string(), max_file_bytes, {}, p.string(), "a .cost file");
            } catch (const CostiError&) {
                continue;  // the full load reports it
            }
            auto maps = engine_mappings(text, engine);
            if (!maps.empty()) files.push_back({p, std::move(maps)});
        }
        std::sort(files.begin(), files.end(), [](const EngineFile& a, const EngineFile& b) { return a.path < b.path; });
        if (!files.empty()) return files;
    }
    return {};
}

static std::string read_file(const fs::path& p, const Span& site, const std::string& display) {
    std::string text = read_text_file(p.string(), max_file_bytes, site, display, "a .cost file");
    if (text.find('\0') != std::string::npos) {
        throw CostiError(Diagnostic{code::io, site, "'" + display + "' is not a text file", "", {}});
    }
    return text;
}

// The canonical path that identifies a file: its folder canonicalised once per folder (a
// canonicalisation is a readlink per path component), the file name kept unless the file
// is itself a symbolic link.
std::string Loader::key_of(const fs::path& p) {
    std::error_code ec;
    auto whole = [&] {
        auto c = fs::weakly_canonical(p, ec);
        return ec ? p.lexically_normal().string() : c.string();
    };
    if (!p.has_filename() || fs::is_symlink(p, ec) || ec) return whole();
    std::string parent = p.parent_path().string();
    auto it = dir_keys_.find(parent);
    if (it == dir_keys_.end()) {
        auto c = fs::weakly_canonical(p.parent_path().empty() ? fs::path(".") : p.parent_path(), ec);
        if (ec) return whole();
        it = dir_keys_.emplace(parent, c.string()).first;
    }
    return (fs::path(it->second) / p.filename()).string();
}

const ast::Module& Loader::load_file(const std::string& path) {
    std::error_code ec;
    fs::path given(path);
    if (!fs::exists(given, ec)) {
        // `costi run gpt2` or `costi run models/gpt2.cost` from anywhere: try the library.
        for (const auto& dir : search_path()) {
            for (const fs::path& candidate : {dir / given, dir / "models" / (path + ".cost")}) {
                if (fs::is_regular_file(candidate, ec)) {
                    return load_resolved(candidate, candidate.lexically_normal().string());
                }
            }
        }
        throw CostiError(Diagnostic{code::io, {}, "cannot read '" + path + "': no such file", "", {}});
    }
    return load_resolved(given, given.lexically_normal().string());
}

const ast::Module& Loader::load_resolved(const fs::path& real, const std::string& display) {
    std::string key = key_of(real);
    for (std::size_t i = 0; i < keys_.size(); ++i) {
        if (keys_[i] == key) {
            by_path_.emplace(real.string(), i);
            return modules_[i];
        }
    }
    const SourceFile* file = sources_.add(display, read_file(real, {}, display));
    bool lazy = std::any_of(lazy_prefixes_.begin(), lazy_prefixes_.end(),
                            [&](const std::string& prefix) { return key.rfind(prefix, 0) == 0; });
    modules_.push_back(grammar::parse_module(*file, lazy));
    keys_.push_back(key);
    std::size_t index = modules_.size() - 1;
    by_path_.emplace(real.string(), index);
    load_imports(index, real.parent_path(), fs::path(display).parent_path().string());
    return modules_[index];
}

const ast::Module& Loader::load_text(const std::string& name, std::string text) {
    std::size_t before = modules_.size();
    try {
        const SourceFile* file = sources_.add(name, std::move(text));
        modules_.push_back(grammar::parse_module(*file));
        keys_.push_back(name);
        load_imports(modules_.size() - 1, fs::current_path(), "");
    } catch (...) {
        truncate(before);
        throw;
    }
    return modules_[before];
}

void Loader::load_imports(std::size_t module_index, const fs::path& dir, const std::string& display_dir) {
    // Copy: loading imports appends to modules_, which may move the vector.
    std::vector<ast::Import> imports = modules_[module_index].imports;
    for (const auto& imp : imports) {
        std::error_code ec;
        fs::path relative = dir / imp.path;
        if (by_path_.count(relative.string()) != 0) continue;  // loaded: the same path string
        if (fs::is_regular_file(relative, ec)) {
            load_resolved(relative, (fs::path(display_dir) / imp.path).lexically_normal().string());
            continue;
        }
        bool found = false;
        for (const auto& d : search_path()) {
            fs::path candidate = d / imp.path;
            if (fs::is_regular_file(candidate, ec)) {
                load_resolved(candidate, candidate.lexically_normal().string());
                found = true;
                break;
            }
        }
        if (!found) {
            throw CostiError(Diagnostic{code::io,
                                        imp.span,
                                        "cannot find import '" + imp.path + "'",
                                        "imports resolve relative to the importing file, then along COSTI_PATH, "
                                        "then in the built-in library",
                                        {}});
        }
    }
}

void Loader::set_lazy_library(bool on) {
    lazy_prefixes_.clear();
    if (!on) return;
    for (const auto& dir : library_dirs()) {
        for (const char* sub : {"stdlib", "kernels"}) {
            std::error_code ec;
            auto c = fs::weakly_canonical(dir / sub, ec);
            if (!ec) lazy_prefixes_.push_back(c.string() + "/");
        }
    }
}

void Loader::read_needed_bodies(const std::function<bool(const std::string&)>& also_root) {
    interp::read_needed_bodies(modules_, also_root);
}

void Loader::read_all_bodies() { interp::read_all_bodies(modules_); }

void Loader::truncate(std::size_t count) {
    if (modules_.size() > count) {
        modules_.resize(count);
        keys_.resize(count);
        std::erase_if(by_path_, [count](const auto& entry) { return entry.second >= count; });
    }
}

}  // namespace costi::interp
