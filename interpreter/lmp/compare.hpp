// Imported leaf kernels against costi's library: the same operation at representative
// shapes, evaluated both ways.
//
// Owns: the table of the predecessor's leaf kernels and their library counterparts (each
// with a few shapes of real models: the predecessor's arguments and the library call that
// describes the same operation), and evaluating both through a Session. Does not own the
// report (repl/cmd_import.cpp) nor importing (writer.hpp).
#pragma once

#include <string>
#include <vector>

#include "interpreter/lmp/writer.hpp"
#include "interpreter/number.hpp"

namespace costi::lmp {

struct CompareRow {
    std::string kernel;   // the imported leaf (the predecessor's name)
    std::string library;  // the library call
    std::string shape;    // what the shape is
    std::string metric;   // flops, read or write
    interp::Number imported, costi;
};

struct Comparison {
    std::vector<CompareRow> rows;
    std::vector<std::string> unmatched;  // imported leaves with no library counterpart
};

// The runtime values both sides are evaluated at.
inline constexpr const char* compare_runtime = "batch_size = 1, seq_len = 1, cache_len = 0, a_bytes = 2, w_bytes = 2, bytes = 2";

// Compares each leaf kernel of `written` (whose files are in `dir`) with its library
// counterpart. Throws interp::CostiError when a side cannot be evaluated.
Comparison compare_with_library(const WriteResult& written, const std::string& dir);

}  // namespace costi::lmp
