#include "slipstream/data/image/view_augmentation.h"

#include <cstdio>
#include <cstdlib>

#include "slipstream/core/error.h"
#include "slipstream/data/image/preprocessing.h"

namespace slipstream {
namespace {

// "(a, b, ...)", "[a, b]" or "a": the numbers, as Python's literal_eval reads them.
std::vector<double> parse_numbers(const std::string& item, const std::string& value) {
  std::string text = value;
  if (!text.empty() && (text.front() == '(' || text.front() == '[')) {
    const char close = text.front() == '(' ? ')' : ']';
    if (text.back() != close) throw ConfigError("--aug-cfg " + item + ": unbalanced brackets");
    text = text.substr(1, text.size() - 2);
  }
  std::vector<double> numbers;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t comma = text.find(',', start);
    std::string part = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    part.erase(0, part.find_first_not_of(' '));
    part.erase(part.find_last_not_of(' ') + 1);
    if (!part.empty()) {
      char* end = nullptr;
      const double number = std::strtod(part.c_str(), &end);
      if (end == part.c_str() || *end != '\0') throw ConfigError("--aug-cfg " + item + ": '" + part + "' is not a number");
      numbers.push_back(number);
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (numbers.empty()) throw ConfigError("--aug-cfg " + item + ": expected a number or a tuple of numbers");
  return numbers;
}

std::pair<double, double> parse_range(const std::string& item, const std::string& value, double low, double high) {
  const std::vector<double> numbers = parse_numbers(item, value);
  if (numbers.size() != 2 || !(numbers[0] > low && numbers[0] <= numbers[1] && numbers[1] <= high)) {
    throw ConfigError("--aug-cfg " + item + ": expected (min,max) with " + std::to_string(low) + " < min <= max <= " +
                      std::to_string(high));
  }
  return {numbers[0], numbers[1]};
}

double parse_probability(const std::string& item, const std::string& value) {
  const std::vector<double> numbers = parse_numbers(item, value);
  if (numbers.size() != 1 || !(numbers[0] >= 0.0 && numbers[0] <= 1.0)) {
    throw ConfigError("--aug-cfg " + item + ": expected a probability in [0, 1]");
  }
  return numbers[0];
}

std::string number_text(double value) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.17g", value);
  return text;
}

}  // namespace

bool ViewAugmentation::empty() const { return *this == ViewAugmentation{}; }

bool ViewAugmentation::operator==(const ViewAugmentation& other) const {
  return scale == other.scale && ratio == other.ratio && interpolation == other.interpolation &&
         color_jitter == other.color_jitter && color_jitter_prob == other.color_jitter_prob &&
         gray_scale_prob == other.gray_scale_prob;
}

ViewAugmentation parse_aug_cfg(const std::vector<std::string>& items) {
  ViewAugmentation augmentation;
  for (const std::string& item : items) {
    const size_t equals = item.find('=');
    if (equals == std::string::npos || equals == 0) {
      throw ConfigError("--aug-cfg " + item + ": expected KEY=VALUE (e.g. scale=(0.9,1.0))");
    }
    const std::string key = item.substr(0, equals), value = item.substr(equals + 1);
    if (key == "scale") {
      augmentation.scale = parse_range(item, value, 0.0, 1.0);
    } else if (key == "ratio") {
      augmentation.ratio = parse_range(item, value, 0.0, 1e9);
    } else if (key == "interpolation") {
      augmentation.interpolation = parse_resampling(value, "--aug-cfg " + item);
    } else if (key == "color_jitter") {
      // open_clip: one number (brightness, contrast and saturation; hue 0), three, or four
      const std::vector<double> numbers = parse_numbers(item, value);
      if (numbers.size() == 1) {
        augmentation.color_jitter = {numbers[0], numbers[0], numbers[0], 0.0};
      } else if (numbers.size() == 3 || numbers.size() == 4) {
        augmentation.color_jitter = {numbers[0], numbers[1], numbers[2], numbers.size() == 4 ? numbers[3] : 0.0};
      } else {
        throw ConfigError("--aug-cfg " + item + ": expected 1, 3 or 4 numbers (brightness, contrast, saturation, hue)");
      }
      for (int i = 0; i < 3; ++i) {
        if (augmentation.color_jitter[i] < 0) throw ConfigError("--aug-cfg " + item + ": factors must be >= 0");
      }
      if (augmentation.color_jitter[3] < 0 || augmentation.color_jitter[3] > 0.5) {
        throw ConfigError("--aug-cfg " + item + ": hue must be in [0, 0.5]");
      }
    } else if (key == "color_jitter_prob") {
      augmentation.color_jitter_prob = parse_probability(item, value);
    } else if (key == "gray_scale_prob") {
      augmentation.gray_scale_prob = parse_probability(item, value);
    } else if (key == "re_prob" || key == "re_count" || key == "use_timm") {
      throw ConfigError("--aug-cfg " + item + ": open_clip's timm train transform (" + key +
                        ") is not available; slipstream's timm-style view is --view finetune");
    } else {
      throw ConfigError("--aug-cfg " + item + ": unknown key '" + key +
                        "' (expected scale, ratio, interpolation, color_jitter, color_jitter_prob or gray_scale_prob)");
    }
  }
  if (augmentation.color_jitter_prob > 0 && augmentation.color_jitter == std::array<double, 4>{0, 0, 0, 0}) {
    throw ConfigError("--aug-cfg color_jitter_prob is set but color_jitter is not (e.g. color_jitter=(0.4,0.4,0.4,0.1))");
  }
  return augmentation;
}

std::vector<std::string> aug_cfg_items(const ViewAugmentation& a) {
  std::vector<std::string> items;
  auto pair = [](const std::pair<double, double>& p) { return "(" + number_text(p.first) + "," + number_text(p.second) + ")"; };
  if (a.scale) items.push_back("scale=" + pair(*a.scale));
  if (a.ratio) items.push_back("ratio=" + pair(*a.ratio));
  if (a.interpolation) items.push_back("interpolation=" + resampling_name(*a.interpolation));
  if (a.color_jitter != std::array<double, 4>{0, 0, 0, 0}) {
    items.push_back("color_jitter=(" + number_text(a.color_jitter[0]) + "," + number_text(a.color_jitter[1]) + "," +
                    number_text(a.color_jitter[2]) + "," + number_text(a.color_jitter[3]) + ")");
  }
  if (a.color_jitter_prob > 0) items.push_back("color_jitter_prob=" + number_text(a.color_jitter_prob));
  if (a.gray_scale_prob > 0) items.push_back("gray_scale_prob=" + number_text(a.gray_scale_prob));
  return items;
}

}  // namespace slipstream
