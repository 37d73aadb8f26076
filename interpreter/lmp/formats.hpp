// The predecessor's JSON formats, read into plain structures.
//
// Owns: reading a JSON file (bounded in size and nesting), recognising which format it is
// in and checking its shape against that format's schema — a leaf kernel (`kernel_name`,
// `init_params`, `forward_params`, `flops`, `memory_read`, `memory_write`), a composite
// kernel (`children` with `kernel`, `bindings`, `count`), a module analysis (`class_name`,
// `kernels[]` with `kernel_type`, `operation`, `analysis`, `flops`, `memory_access`,
// `repeat`), a model as a layer tree (`model_id`, `layers[]` with `name`, `class`,
// `repeat`, `sub_layers`) and the kernel name map. Every formula is parsed here
// (python_expr.hpp). Does not own what the definitions mean together (writer.hpp).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "interpreter/lmp/python_expr.hpp"

namespace costi::lmp {

// A formula with the place it came from.
struct Formula {
    Origin origin;
    NodePtr ast;
};

struct LeafKernel {
    std::vector<std::string> init_params, forward_params;
    Formula flops, read, write;
};

struct Child {
    std::string label, kernel;
    std::string json_path;
    std::vector<std::pair<std::string, Formula>> bindings;
    std::optional<Formula> count;  // absent: 1
};

struct CompositeKernel {
    std::vector<std::string> init_params, forward_params;
    std::vector<Child> children;
};

struct Entry {
    std::size_t index = 0;
    std::string json_path;
    std::string kernel_type, operation, analysis;
    std::optional<Formula> repeat;
    Formula flops, read, write;  // empty formulas (no ast) for an entry with sub_kernels
    // The nested form the predecessor's expansion step writes (and `costi export --format
    // lmp`): a composite entry holding its expanded kernels instead of formulas.
    std::vector<Entry> sub_kernels;
};

struct ModuleAnalysis {
    std::vector<Entry> entries;
};

struct Layer {
    std::string name, cls, json_path;
    std::optional<Formula> repeat;
    std::vector<std::size_t> sub_layers;  // indexes into ModelTree::layers
    bool container = false;               // has sub_layers (an organisational container)
};

struct ModelTree {
    std::string model_id;
    std::vector<Layer> layers;       // every layer, the roots first
    std::vector<std::size_t> roots;  // the top-level layers
};

enum class DefKind { leaf, composite, module, model };

// One definition read from one file.
struct Definition {
    DefKind kind = DefKind::leaf;
    std::string name;  // kernel_name, class_name or model_id
    std::string file;
    LeafKernel leaf;
    CompositeKernel composite;
    ModuleAnalysis module;
    ModelTree model;
};

// What the input files hold.
struct Inputs {
    std::vector<Definition> definitions;
    std::map<std::string, std::string> name_map;  // fully qualified -> short name
    std::string name_map_file;
    std::vector<std::string> skipped;  // JSON Schema files (they hold no analysis)
};

// A JSON file larger than this is refused (the predecessor's largest is under 30 KiB).
inline constexpr std::size_t max_json_bytes = 8u << 20;
// JSON nested deeper than this is refused before parsing (the parser recurses per level).
inline constexpr int max_json_nesting = 64;
// Layers of a model tree (its sub_layers are walked with an explicit stack).
inline constexpr std::size_t max_layers = 100000;

// Reads the files and the *.json files under the directories named (sorted by path).
// Throws ImportError.
Inputs read_inputs(const std::vector<std::string>& paths);

// Reads one JSON text as file `name` into `into`.
void read_json_text(const std::string& name, const std::string& text, Inputs& into);

}  // namespace costi::lmp
