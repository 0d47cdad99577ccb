// Reading members of a zip archive in place (stored or deflated, zip64 aware), as SLIP reads
// YFCC15M's images from images/NN/NNN.zip without extracting them. The central directory is read
// once when the archive is opened; reading a member is one pread (and an inflate), checked by CRC-32.
#pragma once
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace slipstream {

class ZipArchive {
 public:
  struct Member {
    uint64_t local_header_offset = 0;
    uint64_t compressed_size = 0;
    uint64_t size = 0;
    uint32_t crc32 = 0;
    uint16_t method = 0;  // 0 stored, 8 deflate
    uint16_t flags = 0;
  };

  // Reads the central directory; throws FileFormatError if the file is missing or not a zip.
  explicit ZipArchive(std::string path);

  const std::string& path() const { return path_; }
  bool contains(const std::string& name) const { return members_.count(name) > 0; }
  std::vector<std::string> names() const;  // sorted
  // The member's bytes; throws FileFormatError naming the archive and member if it is absent,
  // encrypted, compressed with another method, or fails its CRC.
  std::string read(const std::string& name) const;

 private:
  std::string path_;
  std::unordered_map<std::string, Member> members_;
};

}  // namespace slipstream
