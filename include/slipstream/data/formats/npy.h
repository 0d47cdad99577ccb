// NumPy .npy arrays read natively: numeric dtypes and fixed-width strings ('<U', '|S'), as SLIP's
// filelist datasets store image paths and labels. Object arrays (pickles) are refused with a
// pointer to `slip_tools index`, which converts them.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace slipstream {

struct NpyArray {
  std::string descr;            // e.g. "<i8", "<U42"
  std::vector<int64_t> shape;
  std::vector<int64_t> integers;     // integer or boolean arrays, flattened (C order)
  std::vector<double> floats;        // floating-point arrays
  std::vector<std::string> strings;  // string arrays, as UTF-8 without trailing NULs
  int64_t size() const;              // number of elements
};

NpyArray read_npy(const std::string& path);  // throws FileFormatError naming the file and the problem

}  // namespace slipstream
