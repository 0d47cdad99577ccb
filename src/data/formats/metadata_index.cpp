#include "slipstream/data/formats/metadata_index.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "slipstream/core/atomic_file.h"
#include "slipstream/core/error.h"

namespace slipstream {
namespace {

constexpr char kMagic[8] = {'S', 'L', 'I', 'P', 'I', 'D', 'X', '1'};
constexpr uint64_t kHeaderSize = 64;
constexpr size_t kCorpusNameSize = 32;

uint64_t load_u64(const uint8_t* p) {
  uint64_t value;
  std::memcpy(&value, p, sizeof(value));
  return value;
}

uint32_t load_u32(const uint8_t* p) {
  uint32_t value;
  std::memcpy(&value, p, sizeof(value));
  return value;
}

void append_u32(std::string& out, uint32_t value) { out.append(reinterpret_cast<const char*>(&value), sizeof(value)); }
void append_u64(std::string& out, uint64_t value) { out.append(reinterpret_cast<const char*>(&value), sizeof(value)); }

}  // namespace

MetadataIndex MetadataIndex::open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw FileFormatError(path, std::string("cannot open metadata index: ") + std::strerror(errno));
  struct stat info {};
  if (::fstat(fd, &info) != 0) {
    ::close(fd);
    throw FileFormatError(path, "cannot stat metadata index");
  }
  const size_t size = static_cast<size_t>(info.st_size);
  if (size < kHeaderSize) {
    ::close(fd);
    throw FileFormatError(path, "not a slipstream metadata index (file shorter than its header)");
  }
  void* mapping = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
  ::close(fd);
  if (mapping == MAP_FAILED) throw FileFormatError(path, std::string("cannot map metadata index: ") + std::strerror(errno));
  ::madvise(mapping, size, MADV_RANDOM);  // training reads entries in random order: no read-ahead
  MetadataIndex index;
  index.path_ = path;
  index.storage_ = std::shared_ptr<const void>(mapping, [size](const void* p) { ::munmap(const_cast<void*>(p), size); });
  index.data_ = static_cast<const uint8_t*>(mapping);
  index.parse_header(size);
  return index;
}

MetadataIndex MetadataIndex::from_bytes(std::string bytes, const std::string& name) {
  auto owned = std::make_shared<std::string>(std::move(bytes));
  MetadataIndex index;
  index.path_ = name;
  index.data_ = reinterpret_cast<const uint8_t*>(owned->data());
  const size_t size = owned->size();
  index.storage_ = std::shared_ptr<const void>(owned, owned->data());
  if (size < kHeaderSize) throw FileFormatError(name, "not a slipstream metadata index (shorter than its header)");
  index.parse_header(size);
  return index;
}

void MetadataIndex::parse_header(size_t total_size) {
  byte_size_ = total_size;
  if (std::memcmp(data_, kMagic, sizeof(kMagic)) != 0) {
    throw FileFormatError(path_, "not a slipstream metadata index (bad magic; build one with slip_tools index)");
  }
  const uint64_t count = load_u64(data_ + 8);
  blob_offset_ = load_u64(data_ + 16);
  blob_size_ = load_u64(data_ + 24);
  const char* name = reinterpret_cast<const char*>(data_ + 32);
  corpus_.assign(name, strnlen(name, kCorpusNameSize));
  // The offsets table must fit between the header and the blob, and the blob must end the file.
  if (count > (total_size - kHeaderSize) / 8 - 1 || blob_offset_ != kHeaderSize + 8 * (count + 1) ||
      blob_offset_ > total_size || blob_size_ != total_size - blob_offset_) {
    throw FileFormatError(path_, "metadata index header does not match the file size (truncated or corrupt)");
  }
  count_ = static_cast<int64_t>(count);
  if (load_u64(data_ + kHeaderSize) != 0 || load_u64(data_ + kHeaderSize + 8 * count) != blob_size_) {
    throw FileFormatError(path_, "metadata index offsets table is corrupt");
  }
}

MetadataEntry MetadataIndex::entry(int64_t index) const {
  if (index < 0 || index >= count_) {
    throw FileFormatError(path_, "entry " + std::to_string(index) + " out of range (" + std::to_string(count_) + " entries)");
  }
  const uint64_t begin = load_u64(data_ + kHeaderSize + 8 * static_cast<uint64_t>(index));
  const uint64_t end = load_u64(data_ + kHeaderSize + 8 * static_cast<uint64_t>(index + 1));
  auto corrupt = [&](const char* what) {
    return FileFormatError(path_, "entry " + std::to_string(index) + " is corrupt (" + what + ")");
  };
  if (begin > end || end > blob_size_) throw corrupt("offsets out of order");
  const uint8_t* blob = data_ + blob_offset_;
  uint64_t at = begin;
  auto read_string = [&]() {
    if (end - at < 4) throw corrupt("length past the entry's end");
    const uint32_t length = load_u32(blob + at);
    at += 4;
    if (end - at < length) throw corrupt("string past the entry's end");
    std::string_view text(reinterpret_cast<const char*>(blob + at), length);
    at += length;
    return text;
  };
  MetadataEntry entry;
  entry.key = read_string();
  if (end - at < 4) throw corrupt("missing caption count");
  const uint32_t captions = load_u32(blob + at);
  at += 4;
  if (captions > (end - at) / 4) throw corrupt("caption count past the entry's end");
  entry.captions.reserve(captions);
  for (uint32_t c = 0; c < captions; ++c) entry.captions.push_back(read_string());
  if (at != end) throw corrupt("bytes after its last caption");
  return entry;
}

void MetadataIndex::save(const std::string& path) const {
  AtomicFileWriter writer(path);
  writer.write(reinterpret_cast<const char*>(data_), byte_size_);
  writer.commit();
}

MetadataIndexBuilder::MetadataIndexBuilder(std::string corpus) : corpus_(std::move(corpus)) {
  if (corpus_.size() >= kCorpusNameSize) throw ConfigError("corpus name '" + corpus_ + "' is too long for an index");
}

void MetadataIndexBuilder::add(std::string_view key, const std::vector<std::string_view>& captions) {
  auto append_string = [&](std::string_view text) {
    if (text.size() > UINT32_MAX) throw ConfigError("metadata string longer than 4 GiB");
    append_u32(blob_, static_cast<uint32_t>(text.size()));
    blob_.append(text.data(), text.size());
  };
  append_string(key);
  append_u32(blob_, static_cast<uint32_t>(captions.size()));
  for (std::string_view caption : captions) append_string(caption);
  offsets_.push_back(blob_.size());
}

std::string MetadataIndexBuilder::serialize() const {
  const uint64_t count = offsets_.size() - 1;
  std::string out;
  out.reserve(kHeaderSize + 8 * offsets_.size() + blob_.size());
  out.append(kMagic, sizeof(kMagic));
  append_u64(out, count);
  append_u64(out, kHeaderSize + 8 * (count + 1));
  append_u64(out, blob_.size());
  std::string name = corpus_;
  name.resize(kCorpusNameSize, '\0');
  out += name;
  for (uint64_t offset : offsets_) append_u64(out, offset);
  out += blob_;
  return out;
}

void MetadataIndexBuilder::write(const std::string& path) const {
  const std::string bytes = serialize();
  AtomicFileWriter writer(path);
  writer.write(bytes.data(), bytes.size());
  writer.commit();
}

}  // namespace slipstream
