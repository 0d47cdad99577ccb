// One rank of the streaming split check: a StreamingLoader with several workers over the shards
// given, one epoch, in a Gloo group of the ranks slip_run started. Writes the source of every
// sample it read, one a line, to OUT_rankR.txt, and checks with an all-reduce that the ranks
// together read the epoch's samples.
//   slip_run --nproc-per-node 2 streaming_worker SHARDS SAMPLES_PER_EPOCH OUT
#include <ATen/ATen.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "slipstream/data/streaming/streaming_loader.h"
#include "slipstream/dist/environment.h"
#include "slipstream/dist/process_group.h"

int main(int argc, char** argv) try {
  using namespace slipstream;
  if (argc != 4) {
    std::fprintf(stderr, "usage: streaming_worker SHARDS SAMPLES_PER_EPOCH OUT\n");
    return 2;
  }
  const DistributedEnvironment env = detect_distributed_environment(current_environment());
  const auto group = ProcessGroup::connect(env, at::Device(at::kCPU), std::chrono::seconds(60));
  PipelineOptions pipeline;  // no views: the images are not decoded, the sources are what is checked
  pipeline.image_size = 8;
  LoaderOptions loader;
  loader.batch_size = 4;
  loader.workers = 3;
  loader.seed = 5;
  loader.rank = env.rank;
  loader.world_size = env.world_size;
  loader.pin_memory = false;
  StreamingOptions streaming;
  streaming.samples_per_epoch = std::stoll(argv[2]);
  streaming.stream.readers = 2;
  streaming.stream.shuffle_buffer = 10;
  StreamingLoader reader(std::make_shared<const ShardList>(parse_shard_list(argv[1])),
                         std::make_shared<const SamplePipeline>(pipeline), loader, streaming);
  reader.start_epoch(0);
  std::ofstream out(std::string(argv[3]) + "_rank" + std::to_string(env.rank) + ".txt");
  double samples = 0;
  while (auto batch = reader.next()) {
    for (const std::string& source : batch->sources) out << source << "\n";
    samples += static_cast<double>(batch->size());
  }
  std::vector<at::Tensor> total = {at::full({1}, samples, at::kDouble)};
  group->all_reduce_sum(total);
  if (total[0].item<double>() != static_cast<double>(streaming.samples_per_epoch)) {
    std::fprintf(stderr, "streaming_worker: the ranks read %g samples, expected %s\n", total[0].item<double>(), argv[2]);
    return 1;
  }
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "streaming_worker: %s\n", e.what());
  return 1;
}
