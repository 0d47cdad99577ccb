#include <gtest/gtest.h>

#include "parity/parity_data.h"

#include <cstdio>

namespace slipstream::testing {

std::string parity_path(const std::string& file) { return std::string(SLIPSTREAM_PARITY_DIR) + "/" + file; }

SafetensorsFile load_parity(const std::string& file) { return load_safetensors(parity_path(file)); }

const at::Tensor& parity_tensor(const SafetensorsFile& file, const std::string& name) {
  auto found = file.tensors.find(name);
  if (found == file.tensors.end()) throw std::runtime_error("reference tensor '" + name + "' is missing");
  return found->second;
}

double max_abs_difference(const at::Tensor& actual, const at::Tensor& expected) {
  return (actual.detach().to(at::kDouble) - expected.detach().to(at::kDouble)).abs().max().item<double>();
}

::testing::AssertionResult matches_reference(const std::string& what, const at::Tensor& actual,
                                             const at::Tensor& expected, double tolerance) {
  if (!actual.defined()) return ::testing::AssertionFailure() << what << ": no value computed";
  if (actual.sizes() != expected.sizes()) {
    return ::testing::AssertionFailure() << what << ": shape " << actual.sizes() << " vs reference "
                                         << expected.sizes();
  }
  const double difference = max_abs_difference(actual, expected);
  const double scale = expected.detach().abs().max().item<double>();
  std::printf("[parity] %-52s max |diff| = %.3e  (max |ref| %.3e, %lld values, tolerance %.0e)\n", what.c_str(),
              difference, scale, static_cast<long long>(expected.numel()), tolerance);
  if (difference <= tolerance) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << what << ": max |diff| " << difference << " > " << tolerance;
}

}  // namespace slipstream::testing
