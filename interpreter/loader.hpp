// Loading .cost files: reading, parsing and following imports.
//
// Owns: finding files (relative to the importer, then COSTI_PATH, then the built-in
// library), loading each file once (import cycles are harmless), and the list of parsed
// modules in load order. Does not own meaning: the checker takes the modules from here.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "interpreter/ast.hpp"
#include "interpreter/source.hpp"

namespace costi::interp {

// The built-in library folders (holding stdlib/, kernels/, models/), in search order.
std::vector<std::filesystem::path> library_dirs();

// Puts `dir` first among the library folders: what a program embedding the interpreter (the
// Python module) sets, since the executable the folders are otherwise found beside is not
// costi's. Empty: none.
void set_library_dir(std::filesystem::path dir);

// COSTI_PATH entries, then the library folders.
std::vector<std::filesystem::path> search_path();

// The kernels/*.cost files of the built-in library (of the first library folder that has
// any), sorted: what `--config` and the REPL load as "the library".
std::vector<std::filesystem::path> library_kernel_files();

// The library's index of model classes: the kernels/*.cost file that declares a kernel
// `transformers.….CLASS_NAME` (architectures[0] of a config.json), found by reading the
// files' declarations (`kernel NAME` at the start of a line), not from a list kept by hand.
// Nothing when no file does; the caller then loads the whole library.
std::optional<std::filesystem::path> library_file_declaring(const std::string& class_name);

// The library's index of an engine's family files: each file of kernels/ENGINE/ other than
// ENGINE.cost (which imports them all) whose `engine ENGINE { FROM = TO … }` blocks map
// kernels, with the FROM names it maps — read from the blocks' text, not from a list kept by
// hand. Empty when the library has no such folder.
struct EngineFile {
    std::filesystem::path path;
    std::vector<std::string> maps;
};
std::vector<EngineFile> library_engine_files(const std::string& engine);

class Loader {
public:
    explicit Loader(SourceSet& sources) : sources_(sources) {}

    // Loads a file named on the command line (as given, else models/NAME.cost or NAME in
    // the search path) and its imports. Throws CostiError.
    const ast::Module& load_file(const std::string& path);

    // Parses text as a module named `name` (the REPL's `<repl:N>`); imports resolve from
    // the current directory. Throws CostiError and then leaves the loader unchanged.
    const ast::Module& load_text(const std::string& name, std::string text);

    const std::vector<ast::Module>& modules() const { return modules_; }

    // Reads the kernel bodies of the built-in library's stdlib/ and kernels/ files lazily
    // from now on (needed.hpp): what `costi run` sets, since it checks only what it runs.
    void set_lazy_library(bool on);
    // Parses the unread bodies the loaded modules reach (needed.hpp); all of them.
    void read_needed_bodies(const std::function<bool(const std::string&)>& also_root = {});
    void read_all_bodies();

    // Forgets modules loaded after the first `count` (REPL rollback after a failed check).
    void truncate(std::size_t count);

private:
    const ast::Module& load_resolved(const std::filesystem::path& real, const std::string& display);
    void load_imports(std::size_t module_index, const std::filesystem::path& dir, const std::string& display_dir);

    SourceSet& sources_;
    std::vector<ast::Module> modules_;
    std::vector<std::string> keys_;  // canonical path per module, parallel to modules_
    // Each import path as written and joined (not normalised: the same string is the same
    // file) -> its module: the library's 20-odd `import "prelude.cost"` resolve without a
    // stat or a canonicalisation each (docs/performance.md, start-up).
    std::unordered_map<std::string, std::size_t> by_path_;
    std::unordered_map<std::string, std::string> dir_keys_;  // folder as written -> canonical
    std::string key_of(const std::filesystem::path& p);
    std::vector<std::string> lazy_prefixes_;  // canonical LIBRARY/stdlib/ and LIBRARY/kernels/
};

}  // namespace costi::interp
