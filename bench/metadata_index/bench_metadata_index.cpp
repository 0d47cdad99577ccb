// Opens a metadata index the way a training run does and reports what that costs: wall time of
// the open, resident memory before and after, and the time and memory of reading random entries.
// Prints one JSON object.   bench_metadata_index INDEX [--reads N]
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <fstream>
#include <iostream>
#include <random>
#include <string>

#include "slipstream/data/formats/metadata_index.h"

namespace {

// A line of /proc/self/status in MiB: VmRSS (all resident memory), RssAnon (the process's own
// memory) or RssFile (pages of mapped files, shared with the page cache and reclaimable).
double status_mib(const std::string& field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::stod(line.substr(field.size() + 1)) / 1024.0;
  }
  return -1;
}

nlohmann::json resident() { return {{"rss_mib", status_mib("VmRSS")}, {"anon_mib", status_mib("RssAnon")}, {"file_mib", status_mib("RssFile")}}; }

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Open a slipstream metadata index and measure the cost"};
  std::string path;
  int64_t reads = 100000;
  app.add_option("index", path, "Metadata index file")->required();
  app.add_option("--reads", reads, "Random entries to read after opening")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  using Clock = std::chrono::steady_clock;
  const nlohmann::json before = resident();
  const auto start = Clock::now();
  const slipstream::MetadataIndex index = slipstream::MetadataIndex::open(path);
  const double open_ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  const nlohmann::json after_open = resident();

  std::mt19937_64 rng(0);
  size_t bytes = 0;
  const auto read_start = Clock::now();
  for (int64_t i = 0; i < reads; ++i) {
    const slipstream::MetadataEntry entry = index.entry(static_cast<int64_t>(rng() % static_cast<uint64_t>(index.size())));
    bytes += entry.key.size();
    for (auto caption : entry.captions) bytes += caption.size();
  }
  const double read_us = std::chrono::duration<double, std::micro>(Clock::now() - read_start).count() / static_cast<double>(reads);
  nlohmann::json result = {{"entries", index.size()},   {"corpus", index.corpus()},
                           {"open_ms", open_ms},         {"resident_before", before},
                           {"resident_after_open", after_open}, {"random_reads", reads},
                           {"microseconds_per_read", read_us}, {"resident_after_reads", resident()},
                           {"bytes_read", bytes}};
  std::cout << result.dump() << "\n";
  return 0;
}
