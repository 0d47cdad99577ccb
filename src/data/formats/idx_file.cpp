#include "slipstream/data/formats/idx_file.h"

#include <zlib.h>

#include "slipstream/core/error.h"
#include "slipstream/data/formats/file_bytes.h"

namespace slipstream {

std::string read_maybe_gzipped(const std::string& path) {
  std::string bytes = read_whole_file(path);
  if (bytes.size() < 2 || static_cast<uint8_t>(bytes[0]) != 0x1f || static_cast<uint8_t>(bytes[1]) != 0x8b) return bytes;
  z_stream stream{};
  if (inflateInit2(&stream, 16 + MAX_WBITS) != Z_OK) throw FileFormatError(path, "cannot initialise gunzip");
  stream.next_in = reinterpret_cast<Bytef*>(bytes.data());
  stream.avail_in = static_cast<uInt>(bytes.size());
  std::string out;
  char buffer[1 << 16];
  int status = Z_OK;
  while (status == Z_OK) {
    stream.next_out = reinterpret_cast<Bytef*>(buffer);
    stream.avail_out = sizeof(buffer);
    status = inflate(&stream, Z_NO_FLUSH);
    out.append(buffer, sizeof(buffer) - stream.avail_out);
    if (out.size() > (size_t{1} << 32)) status = Z_MEM_ERROR;
  }
  inflateEnd(&stream);
  if (status != Z_STREAM_END) throw FileFormatError(path, "corrupt or truncated gzip data");
  return out;
}

IdxArray read_idx_ubyte(const std::string& path) {
  const std::string bytes = read_maybe_gzipped(path);
  auto byte = [&](size_t i) { return static_cast<uint8_t>(bytes[i]); };
  if (bytes.size() < 4 || byte(0) != 0 || byte(1) != 0) throw FileFormatError(path, "not an idx file (bad magic)");
  if (byte(2) != 0x08) throw FileFormatError(path, "idx element type is not unsigned byte (0x08)");
  const size_t rank = byte(3);
  if (rank == 0 || bytes.size() < 4 + 4 * rank) throw FileFormatError(path, "truncated idx header");
  IdxArray array;
  uint64_t count = 1;
  for (size_t d = 0; d < rank; ++d) {
    const uint64_t dimension = uint64_t{byte(4 + 4 * d)} << 24 | uint64_t{byte(5 + 4 * d)} << 16 |
                               uint64_t{byte(6 + 4 * d)} << 8 | byte(7 + 4 * d);
    count *= dimension;
    if (count > bytes.size()) throw FileFormatError(path, "idx dimensions exceed the file's length");
    array.shape.push_back(static_cast<int64_t>(dimension));
  }
  if (bytes.size() - 4 - 4 * rank != count) {
    throw FileFormatError(path, "idx data length " + std::to_string(bytes.size() - 4 - 4 * rank) +
                                    " does not match its dimensions (" + std::to_string(count) + ")");
  }
  array.data.assign(bytes.begin() + static_cast<std::ptrdiff_t>(4 + 4 * rank), bytes.end());
  return array;
}

}  // namespace slipstream
