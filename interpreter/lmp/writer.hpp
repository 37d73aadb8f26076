// Turning the predecessor's definitions into reviewable .cost files.
//
// Owns: what the formats mean together — resolving `${Class}(…)` references, composite
// children and model layers to the definitions that define them (directly or through the
// kernel name map), binding arguments to parameters, finding reference cycles, and writing
// one .cost file per definition with its formulas translated (python_expr.hpp), its
// operation and analysis text kept as comments and `doc`, its line references as
// `source`, and imports between the written files. Does not own reading the JSON
// (formats.hpp) nor the files on disk (the caller writes what it returns).
//
// Meaning, as docs/import.md states it:
// - A leaf kernel's parameters are its init_params then forward_params; a composite binds
//   each child's parameters by name and must bind all of them.
// - A module analysis's parameters are the names its formulas use, in order of first use
//   (entries in order; in each, repeat, flops, read, write), the runtime variables
//   (batch_size, seq_len, cache_len, w_bytes, a_bytes, kv_bytes and the predecessor's
//   `bytes`) among them for positional binding; those stay runtime variables, rebound with
//   `with (…)` when a reference binds them to something else. A reference binds positional
//   arguments in that order, then keywords by name; a parameter it leaves unbound takes the
//   caller's value of the same name (the predecessor's names are global), which makes it a
//   parameter of the caller too (reported as a warning).
// - A reference's value in a flops formula is the module's flops (read in read, write in
//   write): so references may only be added, or multiplied or divided by factors without
//   references, and the three formulas of an entry must make the same references with the
//   same factors (one call counts all metrics).
// - A model's layer with sub_layers is a container: its cost is the sum of its sub-layers
//   (times repeat); a layer without is its class's definition, all parameters by name.
// - A class no input defines (directly or through the name map) is costi's library kernel of
//   that name, alias, name-map value or (undotted) last part (library.hpp), with a warning; a
//   container whose class only the library defines, as a composite, is a call of it (its
//   sub_layers checked against its calls, with warnings, not summed). An input definition the
//   library also names is written as lmp.NAME when the import calls the library.
#pragma once

#include <string>
#include <vector>

#include "interpreter/lmp/formats.hpp"

namespace costi::lmp {

struct WrittenFile {
    std::string name;  // file name inside the output directory
    std::string text;
};

struct WriteResult {
    std::vector<WrittenFile> files;
    std::vector<std::string> warnings;  // "FILE: JSON_PATH: message"
    // Each definition's kernel in the written files and its parameters, in order.
    struct Kernel {
        std::string definition, kernel, file, kind;
        std::vector<std::string> params;  // cost-language names
        std::vector<std::string> original_params;  // the predecessor's names, same order
    };
    std::vector<Kernel> kernels;
};

// The runtime variables a formula may use without a parameter.
bool is_runtime_name(const std::string& name);

// The cost-language kernel name of a predecessor name (each dotted part an identifier).
std::string kernel_name_for(const std::string& name);

struct WriteOptions {
    // A reference with more positional arguments than its callee has names: drop the extra
    // ones with a warning instead of refusing it (the predecessor's GPT2MLP passes three
    // shape values to NewGELUActivation, which takes num_elements).
    bool drop_extra_arguments = false;
};

// Resolves, checks and translates everything. Throws ImportError.
WriteResult write_cost_files(const Inputs& in, const WriteOptions& options = {});

}  // namespace costi::lmp
