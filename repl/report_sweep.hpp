// The rows of a sweep as CSV, JSON Lines or a table, written as they come.
//
// Owns: the layout of sweep rows — each row the swept variables under their own names, then
// the columns, then (CSV, JSON) the error of a point that fails; exact numbers as digits or
// p/q (CSV, JSON), the report's compact numbers (14.08 T) or grouped exact digits (table).
// Rows are buffered in 64 KiB blocks and never all held: a table lays out its widths from
// its first 1,000 rows. Does not own computing the rows (sweep_spec.hpp).
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "interpreter/value.hpp"
#include "repl/human.hpp"

namespace costi::report {

enum class SweepFormat { csv, json, table };

// How a table shows one column's numbers: compact in a unit and style, or exact and grouped.
struct SweepColumn {
    std::string header;
    bool compact = false;
    std::string unit;
    Style style = Style::si;
};

class SweepWriter {
public:
    // `axes` name the swept variables; `columns` the columns after them.
    SweepWriter(std::ostream& out, SweepFormat format, std::vector<std::string> axes, std::vector<SweepColumn> columns);
    // A row: the point (one value per axis) and its columns.
    void row(const std::vector<interp::Number>& point, const std::vector<interp::Value>& cells);
    // A point whose evaluation failed: its values and the error ("E0207: …").
    void error_row(const std::vector<interp::Number>& point, const std::string& error);
    // Writes every row given so far (a table lays out what it holds) and flushes the stream.
    void flush();

private:
    void axis_cells(const std::vector<interp::Number>& point);
    void table_line(const std::vector<std::string>& cells, const std::string& tail);
    void spill();  // writes the buffer when it is large

    std::ostream& out_;
    SweepFormat format_;
    std::vector<std::string> axes_;
    std::vector<SweepColumn> columns_;
    std::vector<std::string> keys_;  // JSON: `"name":` per axis, then per column
    std::string buf_;
    // Table: rows held until the widths are known, then the widths.
    std::vector<std::vector<std::string>> pending_;
    std::vector<std::string> pending_tail_;
    std::vector<std::size_t> widths_;
    std::vector<std::string> cells_;
};

}  // namespace costi::report
