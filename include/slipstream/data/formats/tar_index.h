// The members of a tar archive (POSIX ustar, GNU long names, pax path records), found by reading
// only the 512-byte headers, so a WebDataset shard is indexed without reading its images.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace slipstream {

struct TarMember {
  std::string name;     // path inside the archive
  uint64_t offset = 0;  // of the member's data in the file
  uint64_t size = 0;
};

struct TarIndex {
  std::vector<TarMember> members;  // regular files, in archive order
  // Empty for a well-formed archive; otherwise why scanning stopped early (truncated or corrupt
  // header): the members before that point are complete and listed.
  std::string problem;
};

// Throws FileFormatError only when the file cannot be opened; damage inside is reported in `problem`.
TarIndex scan_tar(const std::string& path);


}  // namespace slipstream
