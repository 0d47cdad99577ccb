// A compact, memory-mapped index of a corpus's samples: for each sample a key (where its image
// is: a path relative to the corpus root, or a YFCC100M photo index) and its candidate captions.
// Built once from a corpus's own metadata (pickle, numpy, JSON, CSV) by `slip_tools index`, or in
// memory from the formats C++ reads directly; opening a 15M-entry file maps it without reading it.
//
// Layout (little-endian):
//   0   "SLIPIDX1"
//   8   uint64 entry count N
//   16  uint64 blob offset (= 64 + 8 (N + 1))
//   24  uint64 blob size
//   32  char[32] corpus name, NUL padded (yfcc15m, cc3m, ...)
//   64  uint64 entry offsets[N + 1] into the blob, offsets[0] = 0, offsets[N] = blob size
//   blob: per entry: uint32 key length, key, uint32 caption count, then (uint32 length, bytes) each
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace slipstream {

struct MetadataEntry {
  std::string_view key;
  std::vector<std::string_view> captions;
};

class MetadataIndex {
 public:
  // Maps the file; throws FileFormatError if it is not a metadata index or its header is inconsistent.
  static MetadataIndex open(const std::string& path);
  // An index over bytes in the file layout (what MetadataIndexBuilder::serialize returns).
  static MetadataIndex from_bytes(std::string bytes, const std::string& name);

  int64_t size() const { return count_; }
  const std::string& corpus() const { return corpus_; }
  const std::string& path() const { return path_; }
  // Entry `index` (0 <= index < size()); throws FileFormatError naming the entry if it is corrupt.
  // The views point into the index and live as long as it does.
  MetadataEntry entry(int64_t index) const;
  // Writes the index (as mapped or built) to `path`, atomically.
  void save(const std::string& path) const;

 private:
  MetadataIndex() = default;
  void parse_header(size_t total_size);

  std::string path_;
  std::string corpus_;
  std::shared_ptr<const void> storage_;  // the mapping or the owned bytes
  const uint8_t* data_ = nullptr;
  size_t byte_size_ = 0;
  int64_t count_ = 0;
  uint64_t blob_offset_ = 0;
  uint64_t blob_size_ = 0;
};

// Collects entries in memory and writes them in the layout above.
class MetadataIndexBuilder {
 public:
  explicit MetadataIndexBuilder(std::string corpus);
  void add(std::string_view key, const std::vector<std::string_view>& captions);
  int64_t size() const { return static_cast<int64_t>(offsets_.size()) - 1; }
  std::string serialize() const;
  MetadataIndex build() const { return MetadataIndex::from_bytes(serialize(), "<" + corpus_ + " metadata>"); }
  void write(const std::string& path) const;  // atomically

 private:
  std::string corpus_;
  std::string blob_;
  std::vector<uint64_t> offsets_{0};
};

}  // namespace slipstream
