// How a caption's token ids become a model input row: start-of-text, the ids, end-of-text,
// truncated to the context as SLIP or open_clip do it, and rows zero-padded into one tensor.
#pragma once
#include <ATen/core/Tensor.h>

#include <string>
#include <vector>

namespace slipstream {

// What happens to a caption longer than the context.
enum class TruncateMode {
  kSlip,     // SLIP: keep the first context_length tokens; an over-long caption loses its EOT
  kKeepEot,  // open_clip: the last kept position holds EOT
};
TruncateMode parse_truncate_mode(const std::string& name);  // "slip" | "keep-eot"

// [sot, body..., eot], truncated to context_length (at least 2) as `mode` says.
std::vector<int64_t> frame_tokens(const std::vector<int64_t>& body, int64_t start_of_text, int64_t end_of_text,
                                  int64_t context_length, TruncateMode mode);

// Rows of at most context_length ids -> [rows, context_length] int64, zero padded.
at::Tensor pad_token_rows(const std::vector<std::vector<int64_t>>& rows, int64_t context_length);

}  // namespace slipstream
