// costi's own library, as `costi import` sees it: the fallback for a class no input defines.
//
// Owns: loading the built-in library once (every kernels/*.cost and, through their imports,
// stdlib/all.cost with its aliases), and answering, for a predecessor class name, which
// library kernel it is — by its full name, an alias, or (for a name without dots) a unique
// last dotted part — with that kernel's parameters (required and defaulted), the file to
// import it from (relative to the library folder, as the written files import it) and, for a
// composite, its calls (label and callee). Does not own binding or writing (writer.hpp).
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace costi::lmp {

struct LibraryKernel {
    std::string name;                    // the kernel's name (an alias resolved to its target)
    std::string file;                    // the import path: "kernels/llama.cost", "stdlib/matmul.cost"
    std::vector<std::string> required;   // parameters without a default, in order
    std::vector<std::string> optional;   // parameters with a default, in order
    struct Call {
        std::string label, kernel;  // the callee's name
        bool counted = false;       // `repeat COUNT`
    };
    std::vector<Call> calls;  // empty: a leaf
};

// How a name was found in the library.
struct LibraryMatch {
    const LibraryKernel* kernel = nullptr;
    std::string how;  // "", "through the alias X", "by its short name"
};

class Library {
public:
    // The built-in library, loaded on first use. A library that cannot be loaded is empty
    // (load_error() says why): every name then stays unresolved.
    static const Library& get();

    std::optional<LibraryMatch> find(const std::string& name) const;
    const LibraryKernel* kernel(const std::string& name) const;  // exact kernel name, no alias
    bool defines(const std::string& name) const;                 // a kernel or an alias of exactly this name
    // The library names (kernels and aliases) nearest to `name`, nearest first.
    std::vector<std::string> nearest(const std::string& name, std::size_t count = 3) const;
    const std::string& load_error() const { return error_; }

private:
    std::vector<LibraryKernel> kernels_;
    std::vector<std::pair<std::string, std::string>> aliases_;  // name -> target kernel
    std::string error_;
    void load();
};

}  // namespace costi::lmp
