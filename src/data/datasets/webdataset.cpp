#include "slipstream/data/datasets/webdataset.h"

#include <algorithm>
#include <atomic>
#include <thread>

#include "slipstream/core/error.h"
#include "slipstream/data/formats/brace_expansion.h"
#include "slipstream/data/formats/file_bytes.h"
#include "slipstream/data/formats/tar_index.h"
#include "slipstream/data/formats/webdataset_members.h"

namespace slipstream {
namespace {

constexpr uint64_t kMaxCaptionBytes = 1 << 20;

}  // namespace

WebDataset::WebDataset(const std::string& shards, int scan_threads) : pattern_(shards) {
  shard_paths_ = expand_braces(shards);
  if (shard_paths_.size() > static_cast<size_t>(INT32_MAX)) throw ConfigError("too many shards in '" + shards + "'");
  // Scan every shard's headers, a few shards at a time per thread.
  std::vector<TarIndex> indices(shard_paths_.size());
  std::vector<std::string> errors(shard_paths_.size());
  const int threads = std::max(1, std::min<int>(scan_threads > 0 ? scan_threads : static_cast<int>(std::thread::hardware_concurrency()),
                                                static_cast<int>(shard_paths_.size())));
  std::atomic<size_t> next{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      for (size_t s = next++; s < shard_paths_.size(); s = next++) {
        try {
          indices[s] = scan_tar(shard_paths_[s]);
        } catch (const std::exception& e) {
          errors[s] = e.what();
        }
      }
    });
  }
  for (auto& worker : workers) worker.join();
  for (const auto& error : errors) {
    if (!error.empty()) throw FileFormatError(shards, "shard unreadable: " + error);
  }

  stats_.shards = static_cast<int64_t>(shard_paths_.size());
  for (size_t s = 0; s < shard_paths_.size(); ++s) {
    const TarIndex& index = indices[s];
    if (!index.problem.empty()) {
      ++stats_.damaged_shards;
      stats_.problems.push_back(shard_paths_[s] + ": " + index.problem);
    }
    const size_t before = samples_.size();
    // Members of one sample are consecutive in the shard, as webdataset requires.
    Sample current;
    bool open = false;
    auto finish = [&]() {
      if (!open) return;
      if (current.image.size > 0 && (current.text.size > 0 || current.json.size > 0)) {
        samples_.push_back(std::move(current));
      } else {
        ++stats_.incomplete;
      }
      current = Sample();
      open = false;
    };
    for (const TarMember& member : index.members) {
      const MemberName name = split_member_name(member.name);
      if (!open || !member_of_sample(current.key, name.key)) {
        finish();
        current.shard = static_cast<int32_t>(s);
        current.key = name.key;
        open = true;
      }
      if (name.key != current.key) continue;  // an extra field ("000123.seg.png")
      const Part part{member.offset, member.size};
      if (name.role == MemberRole::kImage && current.image.size == 0) current.image = part;
      else if (name.role == MemberRole::kText) current.text = part;
      else if (name.role == MemberRole::kJson) current.json = part;
    }
    finish();
    shard_sizes_.push_back(static_cast<int64_t>(samples_.size() - before));
  }
  stats_.samples = static_cast<int64_t>(samples_.size());
  if (samples_.empty()) throw FileFormatError(shards, "no complete samples (an image with a .txt or .json caption)");
}

RawSample WebDataset::get(int64_t index) const {
  const Sample& entry = samples_.at(static_cast<size_t>(index));
  const std::string& shard = shard_paths_[static_cast<size_t>(entry.shard)];
  RawSample sample;
  sample.source = shard + ":" + entry.key;
  try {
    const PositionalFile file(shard);
    auto read = [&](const Part& part) {
      std::string bytes(part.size, '\0');
      if (!file.read(part.offset, bytes.data(), part.size)) throw SampleError(sample.source, "member shorter than its header says");
      return bytes;
    };
    sample.encoded = read(entry.image);
    const std::string text = entry.text.size > 0 && entry.text.size <= kMaxCaptionBytes ? read(entry.text) : "";
    const bool need_json = text.empty() && entry.json.size > 0 && entry.json.size <= kMaxCaptionBytes;
    std::string caption = sample_caption(text, need_json ? read(entry.json) : "");
    if (caption.empty()) throw SampleError(sample.source, "no caption in its .txt or .json");
    sample.captions.push_back(std::move(caption));
  } catch (const FileFormatError& e) {
    throw SampleError(sample.source, e.what());
  }
  return sample;
}

std::string WebDataset::description() const {
  std::string text = "webdataset: " + std::to_string(stats_.samples) + " samples in " + std::to_string(stats_.shards) +
                     " shards (" + pattern_ + ")";
  if (stats_.incomplete > 0) text += ", " + std::to_string(stats_.incomplete) + " incomplete samples left out";
  if (stats_.damaged_shards > 0) text += ", " + std::to_string(stats_.damaged_shards) + " damaged shards";
  return text;
}

}  // namespace slipstream
