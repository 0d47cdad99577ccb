// Access to the reference files tests/parity/make_references.py writes, and a comparison that
// prints how far slipstream is from the Python packages.
#pragma once
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <string>

#include "slipstream/core/safetensors.h"

namespace slipstream::testing {

constexpr double kParityTolerance = 1e-4;  // max |difference| in fp32 on the CPU

std::string parity_path(const std::string& file);  // <build>/parity/<file>
SafetensorsFile load_parity(const std::string& file);
const at::Tensor& parity_tensor(const SafetensorsFile& file, const std::string& name);

double max_abs_difference(const at::Tensor& actual, const at::Tensor& expected);

// Prints "[parity] what: max |diff| = ... (n values, tolerance ...)" and returns whether it is within.
::testing::AssertionResult matches_reference(const std::string& what, const at::Tensor& actual,
                                             const at::Tensor& expected, double tolerance = kParityTolerance);

}  // namespace slipstream::testing
