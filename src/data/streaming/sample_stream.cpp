#include "slipstream/data/streaming/sample_stream.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <iostream>
#include <map>
#include <numeric>
#include <sstream>

#include "slipstream/core/error.h"
#include "slipstream/data/image/augmentation.h"

namespace slipstream {
namespace {

// Streams of sample_rng(seed, pass, index, stream) that the plan and the buffer draw from.
constexpr uint64_t kShardOrderStream = 0x5A4D0001u, kResampleStream = 0x5A4D0002u, kShuffleStream = 0x5A4D0003u;
constexpr uint64_t kWholeCorpus = ~uint64_t{0};

double unit_interval(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

}  // namespace

SampleStream::SampleStream(std::shared_ptr<const ShardList> shards, SampleStreamOptions options)
    : shards_(std::move(shards)), options_(std::move(options)) {
  if (!shards_ || shards_->urls.empty()) throw ConfigError("streaming: no shards");
  if (options_.world_size < 1 || options_.rank < 0 || options_.rank >= options_.world_size) {
    throw ConfigError("streaming: rank " + std::to_string(options_.rank) + " outside world size " +
                      std::to_string(options_.world_size));
  }
  const auto count = static_cast<int64_t>(shards_->urls.size());
  if (!options_.resampled && count < options_.world_size) {
    throw ConfigError("--root: " + std::to_string(count) + " shards cannot give each of " +
                      std::to_string(options_.world_size) + " ranks one (use more shards, or --dataset-resampled)");
  }
  if (options_.readers < 1) throw ConfigError("--shard-readers: expected at least 1, got " + std::to_string(options_.readers));
  if (options_.shuffle_buffer < 0) throw ConfigError("--shuffle-buffer: expected 0 or more samples");
  if (!(options_.max_failed_share >= 0.0 && options_.max_failed_share <= 1.0)) {
    throw ConfigError("--max-failed-shards: expected a share in [0, 1]");
  }
  if (!options_.warn) options_.warn = [](const std::string& line) { std::cerr << line << "\n"; };
  capacity_ = std::max<int64_t>(1, options_.shuffle_buffer);
  initial_ = std::max<int64_t>(1, capacity_ / 5);
}

SampleStream::~SampleStream() = default;

std::vector<int64_t> SampleStream::sequence_of_pass(int64_t pass) const {
  const auto count = static_cast<int64_t>(shards_->urls.size());
  std::vector<int64_t> sequence;
  if (options_.resampled) {
    std::vector<double> cumulative(shards_->weights.size());
    std::partial_sum(shards_->weights.begin(), shards_->weights.end(), cumulative.begin());
    std::mt19937_64 rng = sample_rng(options_.seed, static_cast<uint64_t>(pass), static_cast<uint64_t>(options_.rank), kResampleStream);
    const int64_t draws = (count + options_.world_size - 1) / options_.world_size;
    for (int64_t i = 0; i < draws; ++i) {
      const double at = unit_interval(rng) * cumulative.back();
      const auto chosen = std::upper_bound(cumulative.begin(), cumulative.end(), at) - cumulative.begin();
      sequence.push_back(std::min<int64_t>(chosen, count - 1));
    }
    return sequence;
  }
  std::vector<int64_t> order(static_cast<size_t>(count));
  std::iota(order.begin(), order.end(), 0);
  std::mt19937_64 rng = sample_rng(options_.seed, static_cast<uint64_t>(pass), kWholeCorpus, kShardOrderStream);
  std::shuffle(order.begin(), order.end(), rng);
  for (int64_t i = options_.rank; i < count; i += options_.world_size) sequence.push_back(order[static_cast<size_t>(i)]);
  return sequence;
}

std::unique_ptr<ShardReaderThread> SampleStream::open_reader(int64_t sequence_index) const {
  const std::string& url = shards_->urls[static_cast<size_t>(sequence_[static_cast<size_t>(sequence_index)])];
  return std::make_unique<ShardReaderThread>(url, options_.read_ahead, options_.source);
}

void SampleStream::prefetch() {
  prefetched_.reset();
  if (next_in_sequence_ < static_cast<int64_t>(sequence_.size())) prefetched_ = open_reader(next_in_sequence_);
}

void SampleStream::open_slot(Slot& slot) {
  slot.sequence_index = next_in_sequence_++;
  slot.taken = 0;
  slot.reader = prefetched_ ? std::move(prefetched_) : open_reader(slot.sequence_index);
  ++counters_.shards_opened;
  prefetch();
}

void SampleStream::reset_pass(int64_t pass) {
  slots_.clear();
  prefetched_.reset();
  buffer_.clear();
  pass_ = pass;
  sequence_ = sequence_of_pass(pass);
  next_in_sequence_ = 0;
  turn_ = 0;
  pass_read_ = false;
  failed_this_pass_ = 0;
  given_this_pass_ = 0;
  rng_ = sample_rng(options_.seed, static_cast<uint64_t>(pass), static_cast<uint64_t>(options_.rank), kShuffleStream);
  slots_.resize(static_cast<size_t>(options_.readers));
  started_ = true;
}

void SampleStream::start_pass(int64_t pass) {
  reset_pass(pass);
  prefetch();
  for (Slot& slot : slots_) {
    if (next_in_sequence_ < static_cast<int64_t>(sequence_.size())) open_slot(slot);
  }
}

void SampleStream::shard_ended(Slot& slot) {
  counters_.incomplete_samples += slot.reader->incomplete();
  const std::string problem = slot.reader->problem();
  const std::string url = slot.reader->url();
  slot.reader.reset();
  slot.sequence_index = -1;
  if (problem.empty()) return;
  ++counters_.shards_failed;
  ++failed_this_pass_;
  if (options_.fail_on_shard_error) throw ShardError(url, problem + " (--shard-errors fail)");
  if (logged_.insert(url).second) {
    options_.warn("[data] skipped shard " + url + ": " + problem + " (" + std::to_string(counters_.shards_failed) +
                  " failed so far)");
  }
  if (static_cast<double>(failed_this_pass_) > options_.max_failed_share * static_cast<double>(sequence_.size())) {
    throw Error("streaming: " + std::to_string(failed_this_pass_) + " of rank " + std::to_string(options_.rank) + "'s " +
                std::to_string(sequence_.size()) + " shards in pass " + std::to_string(pass_) +
                " failed, more than --max-failed-shards " + std::to_string(options_.max_failed_share) +
                " of them: stopping rather than training on what is left (the last: " + url + ": " + problem + ")");
  }
}

bool SampleStream::take_from_readers(Buffered& out) {
  while (true) {
    bool any_open = false;
    for (const Slot& slot : slots_) any_open = any_open || slot.sequence_index >= 0;
    if (!any_open && next_in_sequence_ >= static_cast<int64_t>(sequence_.size())) return false;
    Slot& slot = slots_[turn_];
    if (slot.sequence_index < 0) {
      if (next_in_sequence_ >= static_cast<int64_t>(sequence_.size())) {
        turn_ = (turn_ + 1) % slots_.size();
        continue;
      }
      open_slot(slot);
    }
    std::optional<ShardSample> sample = slot.reader->take();
    if (!sample) {
      shard_ended(slot);  // the turn stays: the next shard takes it
      continue;
    }
    out.sequence_index = slot.sequence_index;
    out.ordinal = slot.taken++;
    out.sample.source = slot.reader->url() + ":" + sample->key;
    out.sample.image = std::move(sample->image);
    out.sample.caption = std::move(sample->caption);
    turn_ = (turn_ + 1) % slots_.size();
    return true;
  }
}

SampleStream::Buffered SampleStream::pick() {
  const size_t k = static_cast<size_t>(rng_() % buffer_.size());
  std::swap(buffer_[k], buffer_.back());
  Buffered out = std::move(buffer_.back());
  buffer_.pop_back();
  return out;
}

StreamedSample SampleStream::next() {
  if (!started_) throw Error("SampleStream::next: start_pass() or restore() first");
  while (true) {
    // webdataset's shuffle: one sample in (two while the buffer is below its size), one out once
    // the buffer holds its initial share; at the pass's end the buffer drains.
    for (int in = 0; in < 2 && !pass_read_; ++in) {
      if (in == 1 && static_cast<int64_t>(buffer_.size()) >= capacity_) break;
      Buffered taken;
      if (!take_from_readers(taken)) {
        pass_read_ = true;
        break;
      }
      buffer_.push_back(std::move(taken));
    }
    if (!buffer_.empty() && (static_cast<int64_t>(buffer_.size()) >= initial_ || pass_read_)) {
      ++counters_.samples;
      ++given_this_pass_;
      return pick().sample;
    }
    if (buffer_.empty() && pass_read_) {
      if (given_this_pass_ == 0) {
        throw Error("streaming: rank " + std::to_string(options_.rank) + "'s " + std::to_string(sequence_.size()) +
                    " shards gave no sample in pass " + std::to_string(pass_) + " (" + std::to_string(failed_this_pass_) +
                    " failed; keys without an image or a caption so far: " + std::to_string(counters_.incomplete_samples) + ")");
      }
      start_pass(pass_ + 1);
    }
  }
}

std::string SampleStream::state() const {
  nlohmann::json state;
  state["world_size"] = options_.world_size;
  state["rank"] = options_.rank;
  state["shards"] = shards_->urls.size();
  state["readers"] = options_.readers;
  state["shuffle_buffer"] = options_.shuffle_buffer;
  state["resampled"] = options_.resampled;
  state["seed"] = options_.seed;
  state["pass"] = pass_;
  state["next_in_sequence"] = next_in_sequence_;
  state["turn"] = turn_;
  state["pass_read"] = pass_read_;
  state["failed_this_pass"] = failed_this_pass_;
  state["given_this_pass"] = given_this_pass_;
  nlohmann::json slots = nlohmann::json::array(), buffer = nlohmann::json::array();
  for (const Slot& slot : slots_) slots.push_back({slot.sequence_index, slot.taken});
  for (const Buffered& item : buffer_) buffer.push_back({item.sequence_index, item.ordinal});
  state["slots"] = slots;
  state["buffer"] = buffer;
  std::ostringstream rng;
  rng << rng_;
  state["rng"] = rng.str();
  state["counters"] = {counters_.shards_opened, counters_.shards_failed, counters_.incomplete_samples, counters_.samples};
  return state.dump();
}

void SampleStream::restore(const std::string& state_json) {
  const nlohmann::json state = nlohmann::json::parse(state_json, nullptr, /*allow_exceptions=*/false);
  if (!state.is_object() || !state.contains("slots")) throw ConfigError("streaming: an unreadable stream position");
  const auto differs = [&](const char* key, const nlohmann::json& ours) { return state.value(key, nlohmann::json()) != ours; };
  for (const auto& [key, ours] : std::vector<std::pair<const char*, nlohmann::json>>{
           {"world_size", options_.world_size}, {"rank", options_.rank}, {"shards", shards_->urls.size()},
           {"readers", options_.readers}, {"shuffle_buffer", options_.shuffle_buffer},
           {"resampled", options_.resampled}, {"seed", options_.seed}}) {
    if (differs(key, ours)) {
      throw ConfigError("streaming: the checkpoint's stream position was written with " + std::string(key) + " " +
                        state.value(key, nlohmann::json()).dump() + ", this run has " + ours.dump());
    }
  }
  reset_pass(state["pass"].get<int64_t>());
  next_in_sequence_ = state["next_in_sequence"].get<int64_t>();
  turn_ = state["turn"].get<size_t>();
  pass_read_ = state["pass_read"].get<bool>();
  failed_this_pass_ = state["failed_this_pass"].get<int64_t>();
  given_this_pass_ = state["given_this_pass"].get<int64_t>();
  std::istringstream rng(state["rng"].get<std::string>());
  rng >> rng_;
  const auto& counters = state["counters"];
  counters_ = {counters[0].get<int64_t>(), counters[1].get<int64_t>(), counters[2].get<int64_t>(), counters[3].get<int64_t>()};

  // Re-read the shards in flight up to where they were taken, and those the buffer refers to up
  // to its samples, keeping the buffered samples and leaving the slots' readers where they were.
  std::map<int64_t, std::set<int64_t>> wanted;  // sequence index: buffered ordinals
  for (const auto& item : state["buffer"]) wanted[item[0].get<int64_t>()].insert(item[1].get<int64_t>());
  std::map<int64_t, size_t> slot_of;
  for (size_t i = 0; i < slots_.size(); ++i) {
    const auto& saved = state["slots"][i];
    slots_[i].sequence_index = saved[0].get<int64_t>();
    slots_[i].taken = saved[1].get<int64_t>();
    if (slots_[i].sequence_index < 0) continue;
    slot_of[slots_[i].sequence_index] = i;
    wanted[slots_[i].sequence_index];  // read up to where it was taken, even with nothing buffered
  }
  std::map<std::pair<int64_t, int64_t>, StreamedSample> found;
  for (const auto& [sequence_index, ordinals] : wanted) {
    auto reader = open_reader(sequence_index);
    const auto live = slot_of.find(sequence_index);
    const int64_t until = live != slot_of.end() ? slots_[live->second].taken : (ordinals.empty() ? 0 : *ordinals.rbegin() + 1);
    bool ended = false;
    for (int64_t ordinal = 0; ordinal < until; ++ordinal) {
      std::optional<ShardSample> sample = reader->take();
      if (!sample) {
        ended = true;
        break;
      }
      if (ordinals.count(ordinal)) found[{sequence_index, ordinal}] = {reader->url() + ":" + sample->key, std::move(sample->image), std::move(sample->caption)};
    }
    if (live == slot_of.end()) continue;
    Slot& slot = slots_[live->second];
    slot.reader = std::move(reader);
    if (ended) shard_ended(slot);  // it now ends sooner than it did: what it lacks is lost
  }
  buffer_.clear();
  int64_t lost = 0;
  for (const auto& item : state["buffer"]) {
    const std::pair<int64_t, int64_t> at{item[0].get<int64_t>(), item[1].get<int64_t>()};
    auto sample = found.find(at);
    if (sample == found.end()) {
      ++lost;
      continue;
    }
    buffer_.push_back({at.first, at.second, std::move(sample->second)});
  }
  if (lost > 0) options_.warn("[data] " + std::to_string(lost) + " buffered samples could not be read again on resume");
  prefetch();
}

}  // namespace slipstream
