#include "slipstream/data/formats/delimited_text.h"

#include <fstream>

#include "slipstream/core/error.h"

namespace slipstream {

void read_delimited_text(const std::string& path, char separator,
                         const std::function<void(const std::vector<std::string>&)>& header,
                         const std::function<void(const std::vector<std::string>&, int64_t)>& row) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw FileFormatError(path, "cannot open");
  std::vector<std::string> fields;
  std::string field, line;
  int64_t line_number = 0, row_start = 0;
  bool quoted = false, header_done = false;
  while (std::getline(in, line)) {
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.pop_back();  // CRLF line ends (Python's csv writes them)
    if (!quoted) {
      row_start = line_number;
      if (line.empty()) continue;
    } else {
      field += '\n';  // a newline inside a quoted field
    }
    for (size_t i = 0; i < line.size(); ++i) {
      const char c = line[i];
      if (quoted) {
        if (c != '"') {
          field += c;
        } else if (i + 1 < line.size() && line[i + 1] == '"') {
          field += '"';
          ++i;
        } else {
          quoted = false;
        }
      } else if (c == '"' && field.empty()) {
        quoted = true;
      } else if (c == separator) {
        fields.push_back(std::move(field));
        field.clear();
      } else {
        field += c;
      }
    }
    if (quoted) continue;
    fields.push_back(std::move(field));
    field.clear();
    if (!header_done) {
      header(fields);
      header_done = true;
    } else {
      row(fields, row_start);
    }
    fields.clear();
  }
  if (quoted) throw FileFormatError(path, "line " + std::to_string(row_start) + ": unterminated quoted field");
  if (!header_done) throw FileFormatError(path, "empty table (no header row)");
}

}  // namespace slipstream
