// One rank's endless stream of samples from a streamed WebDataset corpus, in an order fixed by
// (seed, rank, world size, readers, shuffle buffer) alone, whatever the timing of the reads:
//   - passes: in pass p the shards are permuted by (seed, p) and rank r takes every world_size-th
//     one from position r (resampled: it draws ceil(shards / world_size) shards with replacement,
//     weighted by their list's upsampling factor, from (seed, p, r));
//   - `readers` shards of the rank's sequence are read at once, each front to back on its own
//     thread (shard_reader_thread.h), and taken from in turn, one sample each; a shard that ends
//     hands its turn to the next shard of the sequence (the one after that is already opening);
//   - the samples pass through a shuffle buffer (webdataset's: it fills to a fifth of its size,
//     then gives a random sample for every one or two it takes in), drained at each pass's end;
//   - a shard that fails is logged once with its URL and why, counted and skipped (the samples it
//     gave before stay); --shard-errors fail makes it fatal, and so does a failed share of the
//     pass's shards above `max_failed_share`.
// state() records the position (pass, the shards in flight and how far each was taken, the buffer
// as shard/sample references, the RNG), and restore() rebuilds it by reading only the shards in
// flight and those the buffer refers to, so the stream goes on with exactly the samples it would
// have given.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "slipstream/data/streaming/byte_stream.h"
#include "slipstream/data/streaming/shard_list.h"
#include "slipstream/data/streaming/shard_reader_thread.h"

namespace slipstream {

struct SampleStreamOptions {
  uint64_t seed = 0;
  int64_t rank = 0;
  int64_t world_size = 1;
  int readers = 4;                 // shards read at once by this rank (--shard-readers)
  int64_t shuffle_buffer = 5000;   // samples (--shuffle-buffer); 0 or 1: in the order read
  bool resampled = false;          // draw shards with replacement (--dataset-resampled)
  bool fail_on_shard_error = false;  // --shard-errors fail
  double max_failed_share = 0.5;   // of this rank's shards in one pass (--max-failed-shards)
  int64_t read_ahead = 64;         // samples each reader holds ready
  ShardSourceOptions source;
  std::function<void(const std::string&)> warn;  // a failed shard's line; default: standard error
};

struct StreamedSample {
  std::string source;   // "URL:key"
  std::string image;    // encoded
  std::string caption;
};

struct StreamCounters {
  int64_t shards_opened = 0;
  int64_t shards_failed = 0;
  int64_t incomplete_samples = 0;  // keys without an image or a caption, skipped
  int64_t samples = 0;             // given by next() since the start of training
};

class SampleStream {
 public:
  // Throws ConfigError when the shards cannot give every rank one per pass (and not resampled).
  // Nothing is read before start_pass() or restore().
  SampleStream(std::shared_ptr<const ShardList> shards, SampleStreamOptions options);
  ~SampleStream();
  SampleStream(const SampleStream&) = delete;
  SampleStream& operator=(const SampleStream&) = delete;

  void start_pass(int64_t pass);               // the stream from the start of pass `pass`
  void restore(const std::string& state_json);  // throws ConfigError if it is another stream's
  std::string state() const;                    // JSON

  // The next sample. Throws ShardError under --shard-errors fail, Error when too many shards of a
  // pass failed or a whole pass gave no sample.
  StreamedSample next();
  StreamCounters counters() const { return counters_; }
  int64_t pass() const { return pass_; }

 private:
  struct Buffered {
    int64_t sequence_index = 0;  // the shard's position in this pass's sequence
    int64_t ordinal = 0;         // the sample's position in its shard
    StreamedSample sample;
  };
  struct Slot {
    int64_t sequence_index = -1;  // -1: empty
    int64_t taken = 0;
    std::unique_ptr<ShardReaderThread> reader;
  };

  std::vector<int64_t> sequence_of_pass(int64_t pass) const;
  void reset_pass(int64_t pass);     // the pass's sequence and RNG, no reader started
  std::unique_ptr<ShardReaderThread> open_reader(int64_t sequence_index) const;
  void open_slot(Slot& slot);        // the sequence's next shard (the prefetched reader)
  void prefetch();                   // starts the reader of the sequence's next shard
  bool take_from_readers(Buffered& out);  // false when the pass's shards are all read
  void shard_ended(Slot& slot);      // counts and reports a failure; empties the slot
  Buffered pick();                   // a random sample out of the buffer

  std::shared_ptr<const ShardList> shards_;
  SampleStreamOptions options_;
  int64_t capacity_ = 1, initial_ = 1;

  int64_t pass_ = 0;
  std::vector<int64_t> sequence_;  // this rank's shards (indices into the list) in this pass
  int64_t next_in_sequence_ = 0;
  std::vector<Slot> slots_;
  size_t turn_ = 0;
  std::unique_ptr<ShardReaderThread> prefetched_;  // the reader of sequence_[next_in_sequence_]
  std::vector<Buffered> buffer_;
  bool pass_read_ = false;  // every shard of the pass was read: the buffer drains
  int64_t failed_this_pass_ = 0;
  int64_t given_this_pass_ = 0;
  std::mt19937_64 rng_;
  StreamCounters counters_;
  std::set<std::string> logged_;
  bool started_ = false;
};

}  // namespace slipstream
