// YFCC15M as SLIP stores it: photo NNNNNNNN (zero-padded to 8 digits) is member NNN.jpg (its last
// three digits) of root/images/NN/NNN.zip (its first two, then the next three), read without
// extracting; and SLIP's make_dataset.py caption cleaning of YFCC100M's title and description.
#pragma once
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>

#include "slipstream/data/formats/zip_archive.h"

namespace slipstream {

// {zip path relative to root, member name} of a photo index.
std::pair<std::string, std::string> yfcc_image_location(int64_t photo_index);

// SLIP's cleaning: unquote (percent-decoding as UTF-8, invalid bytes replaced by U+FFFD), '+' to
// space, then remove the tags `<a...>`, `</a>`, `<b>`, `</b>`, `<i>`, `</i>` and then every URL
// (`http` or `www` and the non-space characters after it).
std::string clean_yfcc_caption(const std::string& raw);

// The photos of one YFCC15M root, with the central directories of recently used zips cached.
class Yfcc15mImages {
 public:
  explicit Yfcc15mImages(std::string root, size_t cached_archives = 256);
  // The JPEG bytes of a photo; throws SampleError naming the zip and member when it is missing or corrupt.
  std::string read(int64_t photo_index) const;

 private:
  std::shared_ptr<const ZipArchive> archive(const std::string& relative_path) const;

  std::string root_;
  size_t capacity_;
  mutable std::mutex mutex_;
  mutable std::list<std::pair<std::string, std::shared_ptr<const ZipArchive>>> recent_;  // most recent first
  mutable std::unordered_map<std::string, decltype(recent_)::iterator> by_path_;
};

}  // namespace slipstream
