#include "slipstream/data/datasets/synthetic_dataset.h"

#include <ATen/ATen.h>

#include <random>

#include "slipstream/core/error.h"

namespace slipstream {
namespace {

constexpr const char* kColours[] = {"red", "green", "blue", "yellow", "purple", "orange", "white", "black"};
constexpr const char* kPatterns[] = {"stripes", "waves", "rings", "gradient", "checks", "noise", "spots", "lines"};

}  // namespace

SyntheticDataset::SyntheticDataset(int64_t size, int64_t image_size, int64_t classes)
    : size_(size), image_size_(image_size), classes_(classes) {
  if (size <= 0 || image_size < 8 || classes <= 0) {
    throw ConfigError("synthetic dataset needs size > 0, image size >= 8 and classes > 0");
  }
}

RawSample SyntheticDataset::get(int64_t index) const {
  std::mt19937_64 rng(0x5EED0000ull + static_cast<uint64_t>(index));
  std::uniform_real_distribution<float> unit(0.f, 1.f);
  const auto options = at::TensorOptions().dtype(at::kFloat);
  const at::Tensor ys = at::arange(image_size_, options).view({image_size_, 1, 1});
  const at::Tensor xs = at::arange(image_size_, options).view({1, image_size_, 1});
  const at::Tensor fy = at::tensor({unit(rng), unit(rng), unit(rng)}, options).mul_(0.2f);
  const at::Tensor fx = at::tensor({unit(rng), unit(rng), unit(rng)}, options).mul_(0.2f);
  const at::Tensor phase = at::tensor({unit(rng), unit(rng), unit(rng)}, options).mul_(6.2832f);
  RawSample sample;
  sample.image = at::sin(ys * fy + xs * fx + phase).mul_(100.f).add_(127.5f).to(at::kByte).contiguous();  // [S, S, 3]
  sample.label = index % classes_;
  sample.source = "synthetic:" + std::to_string(index);
  sample.captions.push_back(std::string("a ") + kColours[rng() % 8] + " image with " + kPatterns[rng() % 8] +
                            " of class " + std::to_string(sample.label));
  return sample;
}

std::string SyntheticDataset::description() const {
  return "synthetic: " + std::to_string(size_) + " generated " + std::to_string(image_size_) + "x" +
         std::to_string(image_size_) + " images";
}

}  // namespace slipstream
