// The idx format of MNIST (train-images-idx3-ubyte, ...; gzip-compressed or not): a big-endian
// magic giving the element type and rank, the dimensions, then the data. Only unsigned bytes are
// used by the datasets slipstream reads.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace slipstream {

struct IdxArray {
  std::vector<int64_t> shape;
  std::vector<uint8_t> data;  // C order
};

// Reads an idx file of unsigned bytes, gunzipping it when it starts with the gzip magic; throws
// FileFormatError naming the file when the header, type or length is wrong.
IdxArray read_idx_ubyte(const std::string& path);
// The bytes of a file, inflated if it is gzip-compressed.
std::string read_maybe_gzipped(const std::string& path);

}  // namespace slipstream
