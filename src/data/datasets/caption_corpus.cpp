#include "slipstream/data/datasets/caption_corpus.h"

#include "slipstream/core/error.h"
#include "slipstream/data/datasets/yfcc15m.h"
#include "slipstream/data/formats/file_bytes.h"

namespace slipstream {
namespace {

std::string join_path(const std::string& root, std::string_view key) {
  if (root.empty() || (!key.empty() && key.front() == '/')) return std::string(key);
  return root.back() == '/' ? root + std::string(key) : root + "/" + std::string(key);
}

int64_t parse_photo_index(std::string_view key, const std::string& metadata_path, int64_t entry) {
  int64_t value = 0;
  if (key.empty() || key.size() > 12) throw SampleError(metadata_path, "entry " + std::to_string(entry) + ": bad photo index");
  for (char c : key) {
    if (c < '0' || c > '9') {
      throw SampleError(metadata_path, "entry " + std::to_string(entry) + ": photo index '" + std::string(key) + "' is not a number");
    }
    value = value * 10 + (c - '0');
  }
  return value;
}

}  // namespace

CaptionCorpusDataset::CaptionCorpusDataset(MetadataIndex metadata, std::string root)
    : metadata_(std::move(metadata)), root_(std::move(root)) {
  if (metadata_.corpus() == "yfcc15m") {
    if (root_.empty()) throw ConfigError("--root: yfcc15m needs the folder holding images/NN/NNN.zip");
    yfcc_ = std::make_unique<Yfcc15mImages>(root_);
  }
}

CaptionCorpusDataset::~CaptionCorpusDataset() = default;

RawSample CaptionCorpusDataset::get(int64_t index) const {
  const MetadataEntry entry = metadata_.entry(index);
  RawSample sample;
  sample.captions.assign(entry.captions.begin(), entry.captions.end());
  if (yfcc_) {
    const int64_t photo = parse_photo_index(entry.key, metadata_.path(), index);
    const auto [zip, member] = yfcc_image_location(photo);
    sample.source = join_path(root_, zip) + ":" + member;
    sample.encoded = yfcc_->read(photo);
  } else {
    sample.source = join_path(root_, entry.key);
    try {
      sample.encoded = read_whole_file(sample.source);
    } catch (const FileFormatError& e) {
      throw SampleError(sample.source, "cannot read image file");
    }
  }
  if (sample.captions.empty()) throw SampleError(sample.source, "sample has no caption");
  return sample;
}

std::string CaptionCorpusDataset::description() const {
  return metadata_.corpus() + ": " + std::to_string(size()) + " samples from " + (root_.empty() ? "." : root_) +
         " (metadata " + metadata_.path() + ")";
}

}  // namespace slipstream
