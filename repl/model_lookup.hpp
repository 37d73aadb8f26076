// Finding the model a user names on the command line: `costi run` and `costi repl` take a
// file path, a library model's short name (`llama-3-8b`: models/llama-3-8b.cost of the
// built-in library) or a model's declared name (`meta-llama/Meta-Llama-3-8B`).
//
// Owns: the lookup order, listing the library's models and hardware files, and the
// "did you mean" across all three kinds of name. Does not own loading or checking (the
// Session does that with what this returns).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "interpreter/session.hpp"

namespace costi::cli {

// A .cost file of the built-in library.
struct LibraryFile {
    std::string short_name;          // "llama-3-8b": the file name without .cost
    std::filesystem::path path;      // where it is
    std::vector<std::string> names;  // the models it declares ("meta-llama/Meta-Llama-3-8B")
};

// The library's models/*.cost files (the first library folder holding a name wins, as the
// loader searches), sorted by short name, with the model names each declares. A file
// that does not parse is listed without names; loading it reports why.
std::vector<LibraryFile> library_models();

// The library's hardware/*.cost files, sorted by short name (names are not read).
std::vector<LibraryFile> library_hardware();

// The hardware file `what` names: an existing .cost file, or NAME of the library's
// hardware/NAME.cost. Throws interp::CostiError (E0116) with "did you mean" otherwise.
std::filesystem::path find_hardware(const std::string& what);

// The library's engines: "transformers" and each kernels/NAME/ holding NAME.cost, sorted.
std::vector<std::string> library_engines();

// The file that declares engine `name` in the library: kernels/NAME/NAME.cost. Throws
// interp::CostiError (E0118) with "did you mean" over "transformers" and the library's engines.
std::filesystem::path find_engine(const std::string& name);

// Loads engine `name` (whose library root is `root`, from find_engine) for the program
// `session` holds: only the family files of kernels/NAME/ that map a kernel the program
// declares (interp::library_engine_files), or `root` — every family — when none does.
// Throws interp::CostiError; on error the session is unchanged.
void load_engine_for(interp::Session& session, const std::string& name, const std::filesystem::path& root);
// The files load_engine_for loads, named as find_engine names the root.
std::vector<std::filesystem::path> engine_files_for(const interp::Session& session, const std::string& name,
                                                    const std::filesystem::path& root);

// With a device selected and no engine named, the analyses run interp::analysis_engine: loads
// it for the session's program (load_engine_for) unless the session declares it already. A file that
// cannot be loaded (not installed, or clashing with the user's definitions) leaves the session
// unchanged: the run then says, in its execution line, that the default is not loaded.
void load_analysis_engine(interp::Session& session);

// What to load for `what`, and which of its models to run ("" when the file decides).
struct ModelRef {
    std::string file;
    std::string model;
};

// Resolves `what`, trying in order: an existing file; a path or short name in the library
// (as Loader::load_file does: DIR/what, DIR/models/what.cost along the search path); the
// declared name of a library model. Throws interp::CostiError (E0002) otherwise, with
// "did you mean" over short names, declared names and nearby file names.
ModelRef find_model(const std::string& what);

}  // namespace costi::cli
