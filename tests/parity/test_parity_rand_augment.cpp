// RandAugment and bicubic parity: slipstream's apply_rand_augment_op, rotate, affine_transform and
// resized_crop(kBicubic) against timm's op functions and Pillow on the references
// make_rand_augment_references.py writes. Every comparison asserts exact equality.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "slipstream/core/safetensors.h"
#include "slipstream/data/image/affine_transform.h"
#include "slipstream/data/image/geometric_transforms.h"
#include "slipstream/data/image/rand_augment.h"

namespace slipstream {
namespace {

const SafetensorsFile& references() {
  static const SafetensorsFile file = load_safetensors(std::string(SLIPSTREAM_RAND_AUGMENT_PARITY_DIR) +
                                                       "/rand_augment_references.safetensors");
  return file;
}

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  std::stringstream stream(text);
  std::string part;
  while (std::getline(stream, part, separator)) parts.push_back(part);
  return parts;
}

// Reference tensors whose key starts with `prefix` + "|", split at "|".
std::vector<std::pair<std::vector<std::string>, at::Tensor>> group(const std::string& prefix) {
  std::vector<std::pair<std::vector<std::string>, at::Tensor>> out;
  for (const auto& [name, tensor] : references().tensors) {
    if (name.rfind(prefix + "|", 0) == 0) out.emplace_back(split(name, '|'), tensor);
  }
  return out;
}

const at::Tensor& input(const std::string& image) { return references().tensors.at("input|" + image); }

struct Summary {
  int compared = 0, max = 0;
  int64_t differing = 0, values = 0;
};

// Compares value by value, records the result, and returns the largest |difference|.
int compare(const std::string& what, const Image& actual, const at::Tensor& expected, Summary& summary) {
  EXPECT_EQ(actual.sizes(), expected.sizes()) << what;
  if (actual.sizes() != expected.sizes()) return 255;
  const at::Tensor want = expected.contiguous();
  const uint8_t* a = actual.data_ptr<uint8_t>();
  const uint8_t* b = want.data_ptr<uint8_t>();
  int max = 0;
  for (int64_t i = 0; i < actual.numel(); ++i) {
    const int diff = std::abs(static_cast<int>(a[i]) - static_cast<int>(b[i]));
    max = std::max(max, diff);
    summary.differing += diff != 0;
  }
  summary.values += actual.numel();
  summary.max = std::max(summary.max, max);
  ++summary.compared;
  EXPECT_EQ(max, 0) << what;
  return max;
}

void print(const std::string& what, const Summary& s) {
  std::printf("[parity] %-44s %3d images, %lld of %lld values differ, max |diff| %d\n", what.c_str(), s.compared,
              static_cast<long long>(s.differing), static_cast<long long>(s.values), s.max);
}

// timm's op names -> (op, increasing).
const std::map<std::string, std::pair<RandAugmentOp, bool>>& ops_by_name() {
  static const std::map<std::string, std::pair<RandAugmentOp, bool>> table = [] {
    std::map<std::string, std::pair<RandAugmentOp, bool>> t;
    for (int i = 0; i < kRandAugmentOpCount; ++i) {
      for (bool increasing : {false, true}) {
        const auto op = static_cast<RandAugmentOp>(i);
        t.emplace(rand_augment_op_name(op, increasing), std::make_pair(op, increasing));
      }
    }
    return t;
  }();
  return table;
}

TEST(ParityRandAugment, EveryOpEqualsTimm) {
  std::map<std::string, Summary> by_op;
  const auto references = group("ra");
  for (const auto& [key, expected] : references) {
    ASSERT_EQ(key.size(), 5u);
    const std::string &image = key[1], &name = key[2];
    const double magnitude = std::atof(key[3].c_str());
    const bool negate = key[4] == "1";
    ASSERT_TRUE(ops_by_name().count(name)) << "unknown op " << name;
    const auto [op, increasing] = ops_by_name().at(name);
    RandAugmentOptions options;  // SLIP's hparams: fill (124, 116, 104), bicubic, translate_pct 0.45
    options.increasing = increasing;
    const std::string what = name + "(m " + key[3] + (negate ? ", negated" : "") + ") on " + image;
    compare(what, apply_rand_augment_op(input(image), op, magnitude, negate, options), expected, by_op[name]);
  }
  for (const auto& [name, summary] : by_op) print(name, summary);
  // 21 timm op names (15 ops, 6 of them in two variants), every one present for both images
  EXPECT_EQ(by_op.size(), 21u);
  EXPECT_GE(references.size(), 200u);
}

TEST(ParityRandAugment, RotateEqualsImageRotate) {
  Summary summary;
  for (const auto& [key, expected] : group("rotate")) {
    const double degrees = std::atof(key[2].c_str());
    compare("rotate " + key[2] + " on " + key[1], rotate(input(key[1]), degrees, Resampling::kBicubic, {124, 116, 104}),
            expected, summary);
  }
  print("rotate (bicubic, fast paths too)", summary);
  EXPECT_EQ(summary.compared, 12);
}

TEST(ParityRandAugment, BilinearAffineEqualsImageTransform) {
  Summary summary;
  for (const auto& [key, expected] : group("affine_bilinear")) {
    const std::vector<std::string> values = split(key[2], ',');
    ASSERT_EQ(values.size(), 6u);
    std::array<double, 6> matrix{};
    for (size_t i = 0; i < 6; ++i) matrix[i] = std::atof(values[i].c_str());
    compare("affine bilinear on " + key[1], affine_transform(input(key[1]), matrix, Resampling::kBilinear, {124, 116, 104}),
            expected, summary);
  }
  print("affine_transform (bilinear)", summary);
  EXPECT_EQ(summary.compared, 2);
}

TEST(ParityRandAugment, BicubicResizeEqualsPillow) {
  Summary summary;
  for (const auto& [key, expected] : group("resize")) {
    const std::vector<std::string> box = split(key[2], ',');  // left, top, right, bottom
    ASSERT_EQ(box.size(), 4u);
    const int64_t left = std::atoll(box[0].c_str()), top = std::atoll(box[1].c_str());
    const CropBox crop{top, left, std::atoll(box[3].c_str()) - top, std::atoll(box[2].c_str()) - left};
    const std::vector<std::string> size = split(key[3], 'x');  // width x height
    const Image out = resized_crop(input(key[1]), crop, std::atoll(size[1].c_str()), std::atoll(size[0].c_str()),
                                   Resampling::kBicubic);
    compare("resize " + key[2] + " -> " + key[3] + " on " + key[1], out, expected, summary);
  }
  print("resized_crop (bicubic, down and up)", summary);
  EXPECT_EQ(summary.compared, 6);
}

}  // namespace
}  // namespace slipstream
