// The distributed layer on CPUs (Gloo): the environment a launcher or Slurm sets, slip_run's
// process handling, and data parallelism's promise: two processes with batch B each compute the
// loss and gradients of one process with batch 2B, and stay in step.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <fstream>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "slipstream/core/error.h"
#include "slipstream/core/safetensors.h"
#include "slipstream/data/formats/tar_writer.h"
#include "slipstream/dist/environment.h"
#include "slipstream/dist/launcher.h"

namespace slipstream {
namespace {

namespace fs = std::filesystem;

TEST(DistributedEnvironment, ReadsTorchrunAndSlurmVariables) {
  const DistributedEnvironment single = detect_distributed_environment({});
  EXPECT_FALSE(single.distributed());
  const DistributedEnvironment torchrun = detect_distributed_environment(
      {{"RANK", "5"}, {"WORLD_SIZE", "8"}, {"LOCAL_RANK", "1"}, {"LOCAL_WORLD_SIZE", "4"}, {"MASTER_ADDR", "node0"},
       {"MASTER_PORT", "29400"}});
  EXPECT_EQ(torchrun.rank, 5);
  EXPECT_EQ(torchrun.world_size, 8);
  EXPECT_EQ(torchrun.local_rank, 1);
  EXPECT_EQ(torchrun.local_world_size, 4);
  EXPECT_EQ(torchrun.master_addr, "node0");
  EXPECT_EQ(torchrun.master_port, 29400);
  const DistributedEnvironment slurm = detect_distributed_environment(
      {{"SLURM_PROCID", "9"}, {"SLURM_NTASKS", "16"}, {"SLURM_LOCALID", "1"}, {"SLURM_NTASKS_PER_NODE", "8(x2)"},
       {"SLURM_JOB_NODELIST", "gpu[07-08]"}, {"SLURM_JOB_ID", "123456"}});
  EXPECT_EQ(slurm.rank, 9);
  EXPECT_EQ(slurm.world_size, 16);
  EXPECT_EQ(slurm.local_rank, 1);
  EXPECT_EQ(slurm.local_world_size, 8);
  EXPECT_EQ(slurm.master_addr, "gpu07");
  EXPECT_EQ(slurm.master_port, 20000 + 123456 % 20000);
  EXPECT_EQ(first_slurm_host("node7"), "node7");
  EXPECT_EQ(first_slurm_host("a1,b[2-3]"), "a1");
  EXPECT_EQ(first_slurm_host("gpu[3,5-9]"), "gpu3");
  EXPECT_THROW(detect_distributed_environment({{"RANK", "2"}, {"WORLD_SIZE", "2"}}), ConfigError);
  EXPECT_THROW(detect_distributed_environment({{"RANK", "x"}, {"WORLD_SIZE", "2"}}), ConfigError);
}

TEST(Launcher, PrefixesLinesAndSetsEachWorkersRank) {
  std::vector<std::string> lines;
  LaunchOptions options;
  options.nproc_per_node = 2;
  options.nnodes = 2;
  options.node_rank = 1;
  const int code = launch_workers(options, {"sh", "-c", "echo $RANK/$WORLD_SIZE/$LOCAL_RANK; printf tail"},
                                  [&](const std::string& line) { lines.push_back(line); });
  EXPECT_EQ(code, 0);
  std::sort(lines.begin(), lines.end());
  EXPECT_EQ(lines, (std::vector<std::string>{"[rank 2] 2/4/0", "[rank 2] tail", "[rank 3] 3/4/1", "[rank 3] tail"}));
}

TEST(Launcher, AFailingWorkerStopsTheOthersAndGivesItsCode) {
  std::vector<std::string> lines;
  LaunchOptions options;
  options.nproc_per_node = 3;
  options.stop_grace_seconds = 5;
  const auto start = std::chrono::steady_clock::now();
  const int code = launch_workers(options, {"sh", "-c", "if [ $RANK = 2 ]; then exit 7; fi; exec sleep 60"},
                                  [&](const std::string& line) { lines.push_back(line); });
  EXPECT_EQ(code, 7);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(4));  // SIGTERM, not the 60 s sleep
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.front(), "slip_run: rank 2 exited with code 7; stopping the other workers");
}

TEST(Launcher, MaxRestartsStartsTheGroupAgainAfterAFailure) {
  std::vector<std::string> lines;
  LaunchOptions options;
  options.nproc_per_node = 2;
  options.max_restarts = 2;
  options.stop_grace_seconds = 5;
  // Rank 1 fails on the first start only; the second start (TORCHELASTIC_RESTART_COUNT 1) succeeds.
  const int code = launch_workers(
      options, {"sh", "-c", "if [ $TORCHELASTIC_RESTART_COUNT = 0 ] && [ $RANK = 1 ]; then exit 3; fi; "
                            "if [ $TORCHELASTIC_RESTART_COUNT = 0 ]; then exec sleep 60; fi; echo start $TORCHELASTIC_RESTART_COUNT of $TORCHELASTIC_MAX_RESTARTS"},
      [&](const std::string& line) { lines.push_back(line); });
  EXPECT_EQ(code, 0);
  const auto has = [&](const std::string& text) { return std::find(lines.begin(), lines.end(), text) != lines.end(); };
  EXPECT_TRUE(has("slip_run: restarting the workers (restart 1 of --max-restarts 2) after rank 1 exited with code 3"));
  EXPECT_TRUE(has("[rank 0] start 1 of 2"));
  EXPECT_TRUE(has("[rank 1] start 1 of 2"));
  EXPECT_EQ(lines.back(), "slip_run: 1 restart (rank 1 exited with code 3), then the workers finished");

  // A worker that always fails: the restarts are spent, then its code is returned.
  lines.clear();
  options.max_restarts = 1;
  EXPECT_EQ(launch_workers(options, {"sh", "-c", "exit 5"}, [&](const std::string& line) { lines.push_back(line); }), 5);
  EXPECT_NE(lines.back().find("slip_run: 1 restart (rank "), std::string::npos) << lines.back();
  EXPECT_NE(lines.back().find("then gave up: rank "), std::string::npos) << lines.back();

  // Across nodes the launchers do not agree on restarts: refused with one line.
  options.nnodes = 2;
  EXPECT_THROW(launch_workers(options, {"true"}), ConfigError);
}

// TrainingRun over two Gloo ranks where only one is asked to stop: both stop at the next read
// point (the stop rides its all-reduce with the metrics), rank 0 saves there, the metrics are
// averaged and the counters summed. tests/dist/training_run_worker.cpp is one rank.
TEST(TrainingRun, AStopOnOneRankStopsEveryRankAtTheSameStep) {
  const fs::path folder = fs::temp_directory_path() / ("slipstream_agreed_stop_" + std::to_string(::getpid()));
  fs::remove_all(folder);
  fs::create_directories(folder);
  const std::string run = (folder / "run").string();
  for (const char* stopping : {"1", "0"}) {
    fs::remove_all(run);
    const std::string command = std::string(SLIPSTREAM_SLIP_RUN) + " --nproc-per-node 2 --master-port " +
                                std::to_string(29950 + ::getpid() % 20 * 2 + (stopping[0] - '0')) + " " + SLIPSTREAM_TRAINING_RUN_WORKER + " " +
                                run + " " + stopping + " > " + (folder / "log.txt").string() + " 2>&1";
    ASSERT_EQ(std::system(command.c_str()), 0) << "see " << (folder / "log.txt");
    for (const char* rank : {"0", "1"}) {
      std::ifstream result(run + "_rank" + rank + ".txt");
      std::string text((std::istreambuf_iterator<char>(result)), std::istreambuf_iterator<char>());
      EXPECT_EQ(text, "stopped 4 loss 0.5 samples 8\n") << "rank " << rank << ", stop asked of rank " << stopping;
    }
    EXPECT_TRUE(fs::exists(fs::path(run) / "checkpoints" / "epoch_0000_step_0000004")) << "stop asked of rank " << stopping;
  }
  fs::remove_all(folder);
}

// Streamed shards over two Gloo ranks, each with three loader workers: the ranks read disjoint
// shards, and together every sample of the epoch once (tests/dist/streaming_worker.cpp is one rank).
TEST(Streaming, TwoRanksReadDisjointShardsAndTogetherEverySampleOnce) {
  const fs::path folder = fs::temp_directory_path() / ("slipstream_streaming_" + std::to_string(::getpid()));
  fs::remove_all(folder);
  fs::create_directories(folder);
  const int shards = 6, per_shard = 8;  // 48 samples: 6 steps of 4 on each of 2 ranks
  for (int s = 0; s < shards; ++s) {
    TarWriter tar((folder / ("shard-" + std::to_string(s) + ".tar")).string());
    for (int i = 0; i < per_shard; ++i) {
      const std::string key = "k" + std::to_string(s * per_shard + i);
      tar.add(key + ".jpg", "image " + key);
      tar.add(key + ".txt", "caption " + key);
    }
    tar.finish();
  }
  const std::string out = (folder / "seen").string();
  const std::string command = std::string(SLIPSTREAM_SLIP_RUN) + " --nproc-per-node 2 --master-port " +
                              std::to_string(25000 + ::getpid() % 500) + " " + SLIPSTREAM_STREAMING_WORKER + " '" +
                              (folder / "shard-{0..5}.tar").string() + "' 48 " + out + " > " +
                              (folder / "log.txt").string() + " 2>&1";
  ASSERT_EQ(std::system(command.c_str()), 0) << "see " << (folder / "log.txt");
  std::map<std::string, int> times;
  std::set<std::string> shards_of[2];
  for (int rank = 0; rank < 2; ++rank) {
    std::ifstream in(out + "_rank" + std::to_string(rank) + ".txt");
    for (std::string source; std::getline(in, source);) {
      ++times[source.substr(source.rfind(':') + 1)];
      shards_of[rank].insert(source.substr(0, source.rfind(':')));
    }
  }
  EXPECT_EQ(times.size(), static_cast<size_t>(shards * per_shard));
  for (const auto& [key, count] : times) EXPECT_EQ(count, 1) << key;
  EXPECT_EQ(shards_of[0].size() + shards_of[1].size(), static_cast<size_t>(shards));
  for (const std::string& shard : shards_of[0]) EXPECT_EQ(shards_of[1].count(shard), 0u) << shard << " read by both ranks";
  fs::remove_all(folder);
}

// Rendezvous ports stay below 32768, out of Linux's ephemeral range (32768-60999), where an
// outgoing connection of an earlier test may still hold one; each test has a range of its own.

// Runs the equivalence worker alone (batch 2B) and as two ranks under slip_run (B each).
void expect_data_parallel_equivalence(const std::string& family, int port) {
  const fs::path folder = fs::temp_directory_path() / ("slipstream_ddp_" + family + "_" + std::to_string(::getpid()));
  fs::remove_all(folder);
  fs::create_directories(folder);
  const std::string worker = SLIPSTREAM_DIST_WORKER, launcher = SLIPSTREAM_SLIP_RUN;
  const std::string one = (folder / "one").string(), two = (folder / "two").string();
  ASSERT_EQ(std::system((worker + " " + family + " 8 " + one + " > /dev/null").c_str()), 0);
  ASSERT_EQ(std::system((launcher + " --nproc-per-node 2 --master-port " + std::to_string(port) + " " + worker + " " +
                         family + " 8 " + two + " > " + (folder / "log.txt").string() + " 2>&1")
                            .c_str()),
            0)
      << "see " << (folder / "log.txt");
  const SafetensorsFile single = load_safetensors(one + "_rank0.safetensors");
  const SafetensorsFile rank0 = load_safetensors(two + "_rank0.safetensors");
  const SafetensorsFile rank1 = load_safetensors(two + "_rank1.safetensors");
  EXPECT_NEAR(rank0.tensors.at("loss").item<double>(), single.tensors.at("loss").item<double>(), 1e-5) << family;
  int64_t gradients = 0;
  for (const auto& [name, expected] : single.tensors) {
    if (name.rfind("grad/", 0) == 0) {
      ++gradients;
      for (const SafetensorsFile* rank : {&rank0, &rank1}) {
        // fp32 sums in another order: within 1e-5 of the gradient's scale (its largest magnitude, at least 1)
        const at::Tensor& got = rank->tensors.at(name);
        const double scale = std::max(1.0, expected.abs().max().item<double>());
        EXPECT_LE((got - expected).abs().max().item<double>(), 1e-5 * scale) << family << " " << name;
      }
    }
    // After three AdamW steps on averaged gradients the ranks hold the same weights, bit for bit
    // (Adam's normalised update magnifies fp32 noise where a gradient is near zero, so the
    // single-process weights are compared through the gradients above instead).
    if (name.rfind("weight/", 0) == 0 || name.rfind("buffer/", 0) == 0) {
      EXPECT_TRUE(at::equal(rank0.tensors.at(name), rank1.tensors.at(name))) << family << " ranks differ: " << name;
    }
  }
  EXPECT_GT(gradients, 10);
  fs::remove_all(folder);
}

TEST(DataParallel, TwoRanksEqualOneRankWithTheWholeBatchForClip) {
  expect_data_parallel_equivalence("clip", 20000 + ::getpid() % 2000);
}
TEST(DataParallel, TwoRanksEqualOneRankWithTheWholeBatchForSimclr) {
  expect_data_parallel_equivalence("simclr", 22000 + ::getpid() % 2000);
}
TEST(DataParallel, TwoRanksEqualOneRankWithTheWholeBatchForSlip) {
  expect_data_parallel_equivalence("slip", 24000 + ::getpid() % 2000);
}
TEST(DataParallel, DeclipNearestNeighboursComeFromEachRanksOwnQueue) {
  // Two Gloo ranks, four steps, a 6-entry queue that wraps: each rank's loss and queue equal its
  // own simulation of both ranks' queues (the worker checks; see its output on failure).
  const fs::path log = fs::temp_directory_path() / ("slipstream_declip_queue_" + std::to_string(::getpid()) + ".txt");
  const std::string command = std::string(SLIPSTREAM_SLIP_RUN) + " --nproc-per-node 2 --master-port " +
                              std::to_string(26000 + ::getpid() % 2000) + " " + SLIPSTREAM_DECLIP_QUEUE_WORKER + " > " +
                              log.string() + " 2>&1";
  EXPECT_EQ(std::system(command.c_str()), 0) << "see " << log;
  std::ifstream in(log);
  int steps = 0;
  for (std::string line; std::getline(in, line);) steps += line.find("nn_loss") != std::string::npos;
  EXPECT_EQ(steps, 8);  // 2 ranks x 4 steps
  fs::remove(log);
}

TEST(DataParallel, TwoRanksEqualOneRankWithTheWholeBatchForSiglip) {
  // SigLIP's chunked loss: each rank scores its images against every rank's texts, chunk by chunk.
  expect_data_parallel_equivalence("siglip", 28000 + ::getpid() % 1900);
}

}  // namespace
}  // namespace slipstream
