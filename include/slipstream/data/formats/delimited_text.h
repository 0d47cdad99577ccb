// CSV and TSV tables as pandas' read_csv reads open_clip's caption files: a header row naming the
// columns, fields optionally double-quoted (quotes doubled inside, separators and newlines
// allowed in quotes).
#pragma once
#include <functional>
#include <string>
#include <vector>

namespace slipstream {

// Calls `row(fields, line_number)` for each data row after the header, whose fields are passed to
// `header(fields)` first. Throws FileFormatError naming the file and line for an unterminated quote.
void read_delimited_text(const std::string& path, char separator,
                         const std::function<void(const std::vector<std::string>&)>& header,
                         const std::function<void(const std::vector<std::string>&, int64_t)>& row);

}  // namespace slipstream
