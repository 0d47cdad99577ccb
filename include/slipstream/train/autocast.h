// Mixed precision as torch.autocast does it: a scope in which the device's autocast is on with a
// chosen dtype, and the precision names the training apps accept.
#pragma once
#include <ATen/autocast_mode.h>
#include <c10/core/Device.h>

#include <optional>
#include <string>

namespace slipstream {

// "auto" (bf16 on GPUs, fp32 on CPUs), "bf16", "fp16" or "fp32" -> the resolved name; ConfigError
// naming `flag` for anything else.
std::string resolve_precision(const std::string& precision, const c10::Device& device, const std::string& flag);
// The autocast dtype of a resolved precision: bf16, fp16, or none for fp32.
std::optional<at::ScalarType> autocast_dtype(const std::string& resolved_precision);

// Autocast on the device for a scope (nothing when dtype is empty), restoring the previous state.
class AutocastScope {
 public:
  AutocastScope(at::DeviceType type, std::optional<at::ScalarType> dtype) : type_(type), enabled_(dtype.has_value()) {
    if (!enabled_) return;
    was_enabled_ = at::autocast::is_autocast_enabled(type_);
    previous_dtype_ = at::autocast::get_autocast_dtype(type_);
    at::autocast::set_autocast_enabled(type_, true);
    at::autocast::set_autocast_dtype(type_, *dtype);
    at::autocast::increment_nesting();
  }
  ~AutocastScope() {
    if (!enabled_) return;
    if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
    at::autocast::set_autocast_enabled(type_, was_enabled_);
    at::autocast::set_autocast_dtype(type_, previous_dtype_);
  }
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  at::DeviceType type_;
  bool enabled_;
  bool was_enabled_ = false;
  at::ScalarType previous_dtype_ = at::kFloat;
};

}  // namespace slipstream
