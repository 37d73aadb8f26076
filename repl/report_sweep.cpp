// Sweep rows as CSV, JSON Lines or a table (see report_sweep.hpp).
#include "repl/report_sweep.hpp"

#include <algorithm>
#include <charconv>
#include <nlohmann/json.hpp>

namespace costi::report {

using interp::Number;
using interp::Value;

namespace {

// A table lays out its column widths from this many rows; later rows keep those widths (a
// wider value pushes the rest of its line right) so that no sweep is held in memory.
constexpr std::size_t table_layout_rows = 1000;
// Rows are written to the stream in blocks of about this size.
constexpr std::size_t block = 1 << 16;

void exact(std::string& out, const Number& n) {
    if (auto v = n.to_int64()) {
        char digits[24];
        auto r = std::to_chars(digits, digits + sizeof digits, *v);
        out.append(digits, r.ptr);
        return;
    }
    out += n.to_string();
}

void csv_text(std::string& out, const std::string& text) {
    out += '"';
    for (char c : text) {
        if (c == '"') out += '"';
        out += c;
    }
    out += '"';
}

void json_text(std::string& out, const std::string& text) {
    out += nlohmann::json(valid_utf8(text)).dump();
}

}  // namespace

SweepWriter::SweepWriter(std::ostream& out, SweepFormat format, std::vector<std::string> axes, std::vector<SweepColumn> columns)
    : out_(out), format_(format), axes_(std::move(axes)), columns_(std::move(columns)) {
    for (const auto& a : axes_) keys_.push_back(nlohmann::json(valid_utf8(a)).dump() + ":");
    for (const auto& c : columns_) keys_.push_back(nlohmann::json(valid_utf8(c.header)).dump() + ":");
    if (format_ == SweepFormat::csv) {
        for (const auto& a : axes_) buf_ += a + ",";
        for (const auto& c : columns_) buf_ += c.header + ",";
        buf_ += "error\n";
    } else if (format_ == SweepFormat::table) {
        std::vector<std::string> head = axes_;
        for (const auto& c : columns_) head.push_back(c.header);
        pending_.push_back(std::move(head));
        pending_tail_.emplace_back();
    }
}

void SweepWriter::axis_cells(const std::vector<Number>& point) {
    cells_.clear();
    for (const auto& v : point) cells_.push_back(grouped(v));
}

void SweepWriter::row(const std::vector<Number>& point, const std::vector<Value>& cells) {
    switch (format_) {
    case SweepFormat::csv:
        for (const auto& v : point) {
            exact(buf_, v);
            buf_ += ',';
        }
        for (const auto& c : cells) {
            if (c.is_number()) {
                exact(buf_, c.num);
            } else {
                csv_text(buf_, c.show());
            }
            buf_ += ',';
        }
        buf_ += '\n';
        break;
    case SweepFormat::json: {
        char sep = '{';
        for (std::size_t i = 0; i < point.size(); ++i) {
            buf_ += sep;
            buf_ += keys_[i];
            buf_ += '"';
            exact(buf_, point[i]);
            buf_ += '"';
            sep = ',';
        }
        for (std::size_t i = 0; i < cells.size(); ++i) {
            buf_ += sep;
            buf_ += keys_[point.size() + i];
            if (cells[i].is_number()) {
                buf_ += '"';
                exact(buf_, cells[i].num);
                buf_ += '"';
            } else {
                json_text(buf_, cells[i].show());
            }
        }
        buf_ += "}\n";
        break;
    }
    case SweepFormat::table:
        axis_cells(point);
        for (std::size_t i = 0; i < cells.size(); ++i) {
            const SweepColumn& c = columns_[i];
            if (!cells[i].is_number()) {
                cells_.push_back(cells[i].show());
            } else {
                cells_.push_back(c.compact ? compact(cells[i].num, c.unit, c.style) : grouped(cells[i].num));
            }
        }
        table_line(cells_, "");
        break;
    }
    spill();
}

void SweepWriter::error_row(const std::vector<Number>& point, const std::string& error) {
    switch (format_) {
    case SweepFormat::csv:
        for (const auto& v : point) {
            exact(buf_, v);
            buf_ += ',';
        }
        buf_ += std::string(columns_.size(), ',');
        csv_text(buf_, valid_utf8(error));
        buf_ += '\n';
        break;
    case SweepFormat::json: {
        char sep = '{';
        for (std::size_t i = 0; i < point.size(); ++i) {
            buf_ += sep;
            buf_ += keys_[i];
            buf_ += '"';
            exact(buf_, point[i]);
            buf_ += '"';
            sep = ',';
        }
        buf_ += ",\"error\":";
        json_text(buf_, error);
        buf_ += "}\n";
        break;
    }
    case SweepFormat::table:
        axis_cells(point);
        table_line(cells_, "error: " + valid_utf8(error));
        break;
    }
    spill();
}

void SweepWriter::table_line(const std::vector<std::string>& cells, const std::string& tail) {
    if (widths_.empty()) {
        pending_.push_back(cells);
        pending_tail_.push_back(tail);
        if (pending_.size() <= table_layout_rows) return;
        flush();
        return;
    }
    std::string line;
    for (std::size_t i = 0; i < cells.size(); ++i) {
        std::size_t w = display_width(cells[i]);
        if (i != 0) line += "  ";
        if (w < widths_[i]) line.append(widths_[i] - w, ' ');
        line += cells[i];
    }
    if (!tail.empty()) line += "  " + tail;
    buf_ += line;
    buf_ += '\n';
}

void SweepWriter::spill() {
    if (buf_.size() < block) return;
    out_.write(buf_.data(), static_cast<std::streamsize>(buf_.size()));
    buf_.clear();
}

void SweepWriter::flush() {
    if (format_ == SweepFormat::table && widths_.empty()) {
        widths_.assign(axes_.size() + columns_.size(), 1);
        for (const auto& r : pending_)
            for (std::size_t i = 0; i < r.size(); ++i) widths_[i] = std::max(widths_[i], display_width(r[i]));
        for (std::size_t i = 0; i < pending_.size(); ++i) table_line(pending_[i], pending_tail_[i]);
        pending_.clear();
        pending_tail_.clear();
    }
    out_.write(buf_.data(), static_cast<std::streamsize>(buf_.size()));
    buf_.clear();
    out_.flush();
}

}  // namespace costi::report
