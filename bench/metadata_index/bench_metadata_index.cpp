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

// This process's resident set size in MiB, from /proc/self/status.
double resident_mib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  }
  return -1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Open a slipstream metadata index and measure the cost"};
  std::string path;
  int64_t reads = 100000;
  app.add_option("index", path, "Metadata index file")->required();
  app.add_option("--reads", reads, "Random entries to read after opening")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  using Clock = std::chrono::steady_clock;
  const double rss_before = resident_mib();
  const auto start = Clock::now();
  const slipstream::MetadataIndex index = slipstream::MetadataIndex::open(path);
  const double open_ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  const double rss_open = resident_mib();

  std::mt19937_64 rng(0);
  size_t bytes = 0;
  const auto read_start = Clock::now();
  for (int64_t i = 0; i < reads; ++i) {
    const slipstream::MetadataEntry entry = index.entry(static_cast<int64_t>(rng() % static_cast<uint64_t>(index.size())));
    bytes += entry.key.size();
    for (auto caption : entry.captions) bytes += caption.size();
  }
  const double read_us = std::chrono::duration<double, std::micro>(Clock::now() - read_start).count() / static_cast<double>(reads);
  nlohmann::json result = {{"entries", index.size()},       {"corpus", index.corpus()},
                           {"open_ms", open_ms},             {"rss_before_mib", rss_before},
                           {"rss_after_open_mib", rss_open}, {"random_reads", reads},
                           {"microseconds_per_read", read_us}, {"rss_after_reads_mib", resident_mib()},
                           {"bytes_read", bytes}};
  std::cout << result.dump() << "\n";
  return 0;
}
