#include "slipstream/train/autocast.h"

#include "slipstream/core/error.h"

namespace slipstream {

std::string resolve_precision(const std::string& precision, const c10::Device& device, const std::string& flag) {
  if (precision == "auto") return device.is_cuda() ? "bf16" : "fp32";
  if (precision == "bf16" || precision == "fp16" || precision == "fp32") return precision;
  throw ConfigError(flag + " " + precision + ": expected auto, bf16, fp16 or fp32");
}

std::optional<at::ScalarType> autocast_dtype(const std::string& resolved_precision) {
  if (resolved_precision == "bf16") return at::kBFloat16;
  if (resolved_precision == "fp16") return at::kHalf;
  return std::nullopt;
}

}  // namespace slipstream
