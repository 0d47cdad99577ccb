// What a training loop reads batches from: the random-access Loader (loader.h) or the
// StreamingLoader over WebDataset shards (streaming/streaming_loader.h).
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "slipstream/data/batch.h"

namespace slipstream {

class BatchLoader {
 public:
  virtual ~BatchLoader() = default;
  virtual int64_t steps_per_epoch() const = 0;
  // Starts `epoch` at loader step `start_step`: the batches from there are those an uninterrupted
  // run reads (a streaming loader also needs its position restored first).
  virtual void start_epoch(int64_t epoch, int64_t start_step = 0) = 0;
  // The next batch in step order; nullopt when the epoch is over. Rethrows a worker's error.
  virtual std::optional<Batch> next() = 0;
  virtual int workers() const = 0;
  // Samples replaced since construction (bad images), and for streaming the shards that failed
  // and the keys skipped: summed over the ranks in the progress line and log.txt.
  virtual std::map<std::string, double> counters() const = 0;

  // Where the reading stands after the last batch next() gave, beyond (epoch, step): a streaming
  // loader's stream position, "" for random access. Recorded per rank in checkpoints.
  virtual std::string position() const { return ""; }
  // Takes a position() back; before start_epoch. Throws ConfigError when it is another loader's.
  virtual void restore_position(const std::string& position) {}
};

}  // namespace slipstream
