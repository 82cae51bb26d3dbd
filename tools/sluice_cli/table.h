// A plain-text table: left-aligned columns separated by two spaces, widths taken
// from the widest cell, like `kafka-topics --describe` or `kubectl get`.
// Thread-safety: value type.
#pragma once

#include <algorithm>
#include <ostream>
#include <string>
#include <vector>

namespace sluice::tools {

class Table {
 public:
  explicit Table(std::vector<std::string> header) { rows_.push_back(std::move(header)); }

  void add_row(std::vector<std::string> cells) { rows_.push_back(std::move(cells)); }

  // Every row, each line prefixed by `indent`; trailing spaces are never printed.
  void print(std::ostream& out, const std::string& indent = "") const {
    std::vector<size_t> widths;
    for (const auto& row : rows_) {
      if (widths.size() < row.size()) widths.resize(row.size(), 0);
      for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
    }
    for (const auto& row : rows_) {
      std::string line = indent;
      for (size_t i = 0; i < row.size(); ++i) {
        line += row[i];
        if (i + 1 < row.size()) line.append(widths[i] - row[i].size() + 2, ' ');
      }
      out << line << "\n";
    }
  }

 private:
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace sluice::tools
