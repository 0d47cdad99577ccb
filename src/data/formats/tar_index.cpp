#include "slipstream/data/formats/tar_index.h"

#include "slipstream/core/error.h"
#include "slipstream/data/formats/file_bytes.h"
#include "slipstream/data/formats/tar_header.h"

namespace slipstream {

TarIndex scan_tar(const std::string& path) {
  const PositionalFile file(path);
  const uint64_t archive_size = file.size();
  TarIndex index;
  std::string long_name;  // from a GNU 'L' entry or a pax 'x' header, for the next member
  unsigned char block[kTarBlock];
  uint64_t offset = 0;
  while (true) {
    if (offset + kTarBlock > archive_size) {
      if (offset < archive_size) index.problem = "archive ends inside a header (truncated)";
      if (archive_size == 0) index.problem = "empty file";
      break;
    }
    if (!file.read(offset, block, kTarBlock)) {
      index.problem = "read error at offset " + std::to_string(offset);
      break;
    }
    const TarHeader header = parse_tar_header(block);
    if (header.end_marker) break;
    if (!header.problem.empty()) {
      index.problem = "corrupt header at offset " + std::to_string(offset) + " (" + header.problem + ")";
      break;
    }
    const uint64_t data = offset + kTarBlock;
    if (header.size > archive_size - data) {
      index.problem = "member at offset " + std::to_string(offset) + " extends past the end (truncated)";
      break;
    }
    if (header.long_name_record()) {
      std::string payload(header.size, '\0');
      if (header.size > (1u << 20) || !file.read(data, payload.data(), header.size)) {
        index.problem = "unreadable extended header at offset " + std::to_string(offset);
        break;
      }
      long_name = tar_long_name(header.type, payload);
    } else {
      if (header.regular_file()) index.members.push_back({long_name.empty() ? header.name : long_name, data, header.size});
      long_name.clear();
    }
    offset = data + tar_padded_size(header.size);
  }
  return index;
}

}  // namespace slipstream
