#include "slipstream/data/text/token_framing.h"

#include <ATen/ATen.h>

#include <algorithm>

#include "slipstream/core/error.h"

namespace slipstream {

TruncateMode parse_truncate_mode(const std::string& name) {
  if (name == "slip") return TruncateMode::kSlip;
  if (name == "keep-eot") return TruncateMode::kKeepEot;
  throw ConfigError("--truncate must be slip or keep-eot (got '" + name + "')");
}

std::vector<int64_t> frame_tokens(const std::vector<int64_t>& body, int64_t start_of_text, int64_t end_of_text,
                                  int64_t context_length, TruncateMode mode) {
  if (context_length < 2) throw ConfigError("context_length must be at least 2 (got " + std::to_string(context_length) + ")");
  std::vector<int64_t> ids;
  ids.reserve(body.size() + 2);
  ids.push_back(start_of_text);
  ids.insert(ids.end(), body.begin(), body.end());
  ids.push_back(end_of_text);
  if (static_cast<int64_t>(ids.size()) > context_length) {
    ids.resize(static_cast<size_t>(context_length));
    if (mode == TruncateMode::kKeepEot) ids.back() = end_of_text;
  }
  return ids;
}

at::Tensor pad_token_rows(const std::vector<std::vector<int64_t>>& rows, int64_t context_length) {
  at::Tensor tokens = at::zeros({static_cast<int64_t>(rows.size()), context_length}, at::kLong);  // [N, L]
  auto* data = tokens.data_ptr<int64_t>();
  for (size_t row = 0; row < rows.size(); ++row) {
    if (static_cast<int64_t>(rows[row].size()) > context_length) {
      throw ShapeError("pad_token_rows: row " + std::to_string(row) + " has " + std::to_string(rows[row].size()) +
                       " ids, more than the context of " + std::to_string(context_length));
    }
    std::copy(rows[row].begin(), rows[row].end(), data + row * static_cast<size_t>(context_length));
  }
  return tokens;
}

}  // namespace slipstream
