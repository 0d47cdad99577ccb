// Batches from a streamed WebDataset corpus (sample_stream.h): one thread takes the rank's samples
// from the stream in order and cuts them into steps; worker threads decode and augment whole
// batches ahead of the training step (a bounded number in flight), delivered in step order. The
// batches depend on the seed, the rank, the world size, the shard readers and the shuffle buffer,
// never on the number of workers; a sample's augmentations are drawn from (seed, epoch, its
// position in the rank's stream). An image that cannot be decoded is logged once, counted and
// replaced by the next decodable sample of the same batch, so batches stay full.
//
// An epoch is --train-num-samples (or the shards' counted samples) over all ranks: the stream runs
// on from one epoch into the next, passes over the shards following one another. position() is
// the stream's position after the last batch next() gave, for exact mid-epoch resume.
#pragma once
#include <atomic>
#include <condition_variable>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "slipstream/data/batch_loader.h"
#include "slipstream/data/loader.h"
#include "slipstream/data/streaming/sample_stream.h"

namespace slipstream {

struct StreamingOptions {
  int64_t samples_per_epoch = 0;  // over all ranks (--train-num-samples or the shards' counts)
  SampleStreamOptions stream;     // seed, rank and world size are taken from the LoaderOptions
};

class StreamingLoader : public BatchLoader {
 public:
  // Throws ConfigError when an epoch would hold no whole batch on each rank.
  StreamingLoader(std::shared_ptr<const ShardList> shards, std::shared_ptr<const SamplePipeline> pipeline,
                  LoaderOptions loader, StreamingOptions streaming);
  ~StreamingLoader() override;
  StreamingLoader(const StreamingLoader&) = delete;
  StreamingLoader& operator=(const StreamingLoader&) = delete;

  int64_t steps_per_epoch() const override { return steps_per_epoch_; }
  // Without a restored position, an epoch other than the first starts at the pass of its number.
  void start_epoch(int64_t epoch, int64_t start_step = 0) override;
  std::optional<Batch> next() override;
  int workers() const override { return workers_count_; }
  std::map<std::string, double> counters() const override;
  std::string position() const override;
  void restore_position(const std::string& position) override;

 private:
  struct RawBatch {
    std::vector<StreamedSample> samples;
    int64_t first_sample = 0;  // the stream position of samples[0]
    std::string position_after;
  };
  void stop();
  void pump();  // the stream into raw batches, in step order
  void work();  // raw batches into batches
  Batch build(int64_t step, RawBatch raw);

  std::shared_ptr<const SamplePipeline> pipeline_;
  LoaderOptions options_;
  std::unique_ptr<SampleStream> stream_;
  int64_t steps_per_epoch_ = 0;
  int workers_count_ = 1;
  int64_t prefetch_ = 2;
  bool pin_ = false;

  std::string delivered_position_;  // after the last batch next() gave
  bool stream_at_delivered_ = true;  // the stream has read nothing past it
  bool started_ = false;

  int64_t epoch_ = 0, end_step_ = 0;
  std::thread pump_thread_;
  std::vector<std::thread> threads_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  int64_t next_to_pump_ = 0, next_to_claim_ = 0, next_to_deliver_ = 0;
  std::map<int64_t, RawBatch> raw_;
  std::map<int64_t, std::pair<Batch, std::string>> ready_;  // the batch and the position after it
  std::exception_ptr error_;
  bool stopping_ = false;
  StreamCounters stream_counters_;  // as of the last raw batch

  std::atomic<int64_t> bad_samples_{0};
  std::mutex logged_mutex_;
  std::set<std::string> logged_sources_;
};

}  // namespace slipstream
