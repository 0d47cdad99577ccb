#include "slipstream/train/run_meters.h"

#include <nlohmann/json.hpp>

namespace slipstream {

void RunMeters::add(const std::map<std::string, double>& values) {
  for (const auto& [name, value] : values) sums_[name] += value;
  ++count_;
}

std::map<std::string, double> RunMeters::averages() const {
  std::map<std::string, double> out;
  for (const auto& [name, sum] : sums_) out[name] = count_ > 0 ? sum / static_cast<double>(count_) : 0.0;
  return out;
}

std::string RunMeters::to_json() const { return nlohmann::json{{"sums", sums_}, {"count", count_}}.dump(); }

RunMeters RunMeters::from_json(const std::string& text) {
  RunMeters meters;
  if (text.empty()) return meters;
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_object() && j.contains("sums") && j.contains("count")) {
    meters.sums_ = j["sums"].get<std::map<std::string, double>>();
    meters.count_ = j["count"].get<int64_t>();
  }
  return meters;
}

}  // namespace slipstream
