#include "slipstream/data/streaming/shard_list.h"

#include <nlohmann/json.hpp>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "slipstream/core/error.h"
#include "slipstream/data/formats/brace_expansion.h"
#include "slipstream/data/streaming/byte_stream.h"
#include "slipstream/data/streaming/shard_sample_reader.h"

namespace slipstream {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> split_lists(const std::string& spec) {
  std::vector<std::string> lists;
  size_t start = 0;
  while (true) {
    const size_t end = spec.find("::", start);
    lists.push_back(spec.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) break;
    start = end + 2;
  }
  return lists;
}

// The folder part of a URL or path ("" for pipe: shards) and the shard's file name.
std::pair<std::string, std::string> folder_and_name(const std::string& url) {
  if (shard_source_kind(url) == ShardSourceKind::kPipe) return {"", ""};
  const size_t slash = url.rfind('/');
  if (slash == std::string::npos) return {".", url};
  return {url.substr(0, slash), url.substr(slash + 1)};
}

std::optional<std::string> fetch_text(const std::string& url) {
  try {
    ShardSourceOptions options;
    options.retries = 0;
    options.stall_timeout_seconds = 10;
    options.connect_timeout_seconds = 10;
    auto stream = open_shard(url, options);
    std::string text;
    char buffer[1 << 14];
    while (size_t got = stream->read(buffer, sizeof(buffer))) {
      text.append(buffer, got);
      if (text.size() > (size_t{1} << 30)) return std::nullopt;
    }
    return text;
  } catch (const Error&) {
    return std::nullopt;  // no sizes there
  }
}

std::optional<nlohmann::json> parse_object(const std::optional<std::string>& text) {
  if (!text) return std::nullopt;
  nlohmann::json value = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (!value.is_object()) return std::nullopt;
  return value;
}

}  // namespace

int64_t ShardList::known_samples() const {
  int64_t total = 0;
  for (int64_t size : sizes) {
    if (size < 0) return -1;
    total += size;
  }
  return total;
}

ShardList parse_shard_list(const std::string& spec, const std::vector<double>& upsampling_factors) {
  if (spec.empty()) throw ConfigError("--root: expected the shards, e.g. shards/{00000..00099}.tar or pipe:aws s3 cp s3://bucket/{00000..00099}.tar -");
  const std::vector<std::string> lists = split_lists(spec);
  if (!upsampling_factors.empty() && upsampling_factors.size() != lists.size()) {
    throw ConfigError("--train-data-upsampling-factors: " + std::to_string(upsampling_factors.size()) + " factors for " +
                      std::to_string(lists.size()) + " '::'-joined shard lists");
  }
  ShardList list;
  for (size_t i = 0; i < lists.size(); ++i) {
    if (lists[i].empty()) throw ConfigError("--root '" + spec + "': an empty shard list between '::'");
    const double weight = upsampling_factors.empty() ? 1.0 : upsampling_factors[i];
    if (!(weight > 0.0)) throw ConfigError("--train-data-upsampling-factors: expected positive factors, got " + std::to_string(weight));
    for (std::string& url : expand_braces(lists[i])) {
      list.urls.push_back(std::move(url));
      list.weights.push_back(weight);
    }
  }
  list.sizes.assign(list.urls.size(), -1);
  return list;
}

std::vector<int64_t> count_shard_samples(const ShardList& list, int threads, std::vector<std::string>& problems) {
  std::vector<int64_t> counts(list.urls.size(), 0);
  std::atomic<size_t> next{0};
  std::mutex mutex;
  std::vector<std::thread> pool;
  for (int t = 0; t < std::max(1, threads); ++t) {
    pool.emplace_back([&] {
      for (size_t i = next++; i < list.urls.size(); i = next++) {
        try {
          ShardSampleReader reader(open_shard(list.urls[i], ShardSourceOptions{}), list.urls[i]);
          ShardSample sample;
          while (reader.next(sample)) ++counts[i];
        } catch (const Error& e) {
          std::lock_guard<std::mutex> lock(mutex);
          problems.push_back(std::string(e.what()) + " (counted " + std::to_string(counts[i]) + " samples before)");
        }
      }
    });
  }
  for (std::thread& thread : pool) thread.join();
  return counts;
}

std::string sizes_json(const ShardList& list, const std::vector<int64_t>& counts) {
  nlohmann::ordered_json sizes = nlohmann::ordered_json::object();
  for (size_t i = 0; i < list.urls.size(); ++i) {
    const std::string name = folder_and_name(list.urls[i]).second;
    if (!name.empty()) sizes[name] = counts[i];
  }
  return sizes.dump(1) + "\n";
}

std::string read_shard_sizes(ShardList& list) {
  std::map<std::string, std::optional<nlohmann::json>> sizes_files;  // folder: its sizes.json
  int64_t from_sizes = 0, from_stats = 0;
  for (size_t i = 0; i < list.urls.size(); ++i) {
    const auto [folder, name] = folder_and_name(list.urls[i]);
    if (folder.empty()) continue;
    const bool http = shard_source_kind(list.urls[i]) == ShardSourceKind::kHttp;
    auto found = sizes_files.find(folder);
    if (found == sizes_files.end()) {
      const std::string path = folder + "/sizes.json";
      std::optional<std::string> text;
      if (http) {
        text = fetch_text(path);
      } else if (fs::exists(path)) {
        std::ifstream in(path);
        text = std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      }
      found = sizes_files.emplace(folder, parse_object(text)).first;
    }
    if (found->second && found->second->contains(name) && (*found->second)[name].is_number_integer()) {
      list.sizes[i] = (*found->second)[name].get<int64_t>();
      ++from_sizes;
      continue;
    }
    if (http) continue;
    const size_t dot = name.rfind('.');
    const std::string stats = folder + "/" + name.substr(0, dot) + "_stats.json";  // img2dataset's
    std::error_code error;
    if (!fs::exists(stats, error)) continue;
    std::ifstream in(stats);
    const auto record = parse_object(std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>()));
    if (record && record->contains("successes") && (*record)["successes"].is_number_integer()) {
      list.sizes[i] = (*record)["successes"].get<int64_t>();
      ++from_stats;
    }
  }
  if (from_sizes + from_stats == 0) return "";
  std::string line = "sample counts of " + std::to_string(from_sizes + from_stats) + " of " + std::to_string(list.urls.size()) + " shards";
  if (from_sizes > 0) line += ", " + std::to_string(from_sizes) + " from sizes.json";
  if (from_stats > 0) line += ", " + std::to_string(from_stats) + " from img2dataset's _stats.json";
  return line;
}

}  // namespace slipstream
