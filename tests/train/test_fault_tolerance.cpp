// What a long run survives, in one process: checkpoints checked on resume (a truncated,
// bit-flipped or incomplete newest one is skipped for the one before, with a line saying why), a
// save that does not fit refused before anything is written, a write that fails (EFBIG under a
// file-size limit, as ENOSPC on a full disk) leaving nothing behind and the previous checkpoint
// the newest, the hang watchdog naming rank, phase and position, and --skip-nonfinite. The whole drill (restarts,
// SIGKILLs, hangs over two ranks) is tests/apps/test_fault_drill.sh.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <torch/nn/modules/linear.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <thread>

#include "models/small_configs.h"
#include "slipstream/core/error.h"
#include "slipstream/models/model_config.h"
#include "slipstream/train/checkpoint.h"
#include "slipstream/train/hang_watchdog.h"
#include "slipstream/train/pretrainer.h"
#include "slipstream/train/training_run.h"
#include "test_paths.h"

namespace slipstream {
namespace {

namespace fs = std::filesystem;

std::string write_at(const fs::path& folder, torch::nn::Module& model, int64_t epoch, int64_t keep = 3) {
  TrainingState state;
  state.epoch = epoch;
  state.optimizer = {{"exp_avg/weight", at::full({2, 3}, static_cast<double>(epoch))}};
  state.config_json = "{}";
  return write_checkpoint(folder.string(), model, state, /*is_best=*/false, keep);
}

TEST(CheckpointVerification, ANewestCheckpointThatFailsItsCheckIsSkippedForTheOneBefore) {
  const testing::TemporaryFolder temporary;
  const fs::path& folder = temporary.path();
  torch::nn::Linear model(3, 2);
  const std::string first = write_at(folder, *model, 1), second = write_at(folder, *model, 2);
  std::vector<std::string> lines;
  const auto collect = [&](const std::string& line) { lines.push_back(line); };
  EXPECT_EQ(verify_checkpoint(second), "");
  EXPECT_EQ(latest_valid_checkpoint(folder.string(), collect), second);
  EXPECT_TRUE(lines.empty());

  // Truncated: the size differs from what was written.
  const fs::path weights = fs::path(second) / "model.safetensors";
  const auto size = fs::file_size(weights);
  fs::resize_file(weights, size / 2);
  EXPECT_EQ(latest_valid_checkpoint(folder.string(), collect), first);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find(second), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("model.safetensors has " + std::to_string(size / 2) + " bytes, " + std::to_string(size) +
                          " were written"),
            std::string::npos)
      << lines[0];

  // Bit-flipped: the size is right, the CRC-32 is not.
  const std::string third = write_at(folder, *model, 3);
  const fs::path state = fs::path(third) / "training_state.safetensors";
  {
    std::fstream bytes(state, std::ios::in | std::ios::out | std::ios::binary);
    bytes.seekg(100);
    const char byte = static_cast<char>(bytes.get() ^ 0x01);
    bytes.seekp(100);
    bytes.put(byte);
  }
  EXPECT_NE(verify_checkpoint(third).find("training_state.safetensors has CRC-32 "), std::string::npos)
      << verify_checkpoint(third);
  EXPECT_EQ(latest_valid_checkpoint(folder.string()), first);  // 3 and 2 both fail

  // A file missing; and a checkpoint from before checksums (no checksums.json) still counts.
  fs::remove(fs::path(first) / "training_state.safetensors");
  EXPECT_EQ(verify_checkpoint(first), "training_state.safetensors is missing");
  EXPECT_EQ(latest_valid_checkpoint(folder.string()), std::nullopt);
  const std::string fourth = write_at(folder, *model, 4, /*keep=*/10);
  fs::remove(fs::path(fourth) / "checksums.json");
  EXPECT_EQ(latest_valid_checkpoint(folder.string()), fourth);
}

TEST(CheckpointVerification, ASaveThatDoesNotFitIsRefusedBeforeAnythingIsWritten) {
  const testing::TemporaryFolder temporary;
  torch::nn::Linear small(3, 2);
  const std::string kept = write_at(temporary.path(), *small, 1);
  // 4 TiB to write (a broadcast view: no memory behind it), more than any test machine has free.
  torch::nn::Module huge;
  huge.register_buffer("huge", at::zeros({1}).expand({int64_t{1} << 40}));
  try {
    write_at(temporary.path(), huge, 2);
    FAIL() << "expected a TrainingError";
  } catch (const TrainingError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("epoch_0002_step_0000000 not saved: it needs about 4194305"), std::string::npos) << message;
    EXPECT_NE(message.find(" MiB are free; the newest valid checkpoint is still " + kept), std::string::npos) << message;
  }
  EXPECT_EQ(latest_valid_checkpoint(temporary.path().string()), kept);
  EXPECT_FALSE(fs::exists(temporary.path() / "checkpoints" / "epoch_0002_step_0000000.tmp"));
  EXPECT_FALSE(fs::exists(temporary.path() / "checkpoints" / "epoch_0002_step_0000000"));
}

// Files of this process may not grow past `bytes` while it lives (writes beyond fail with EFBIG,
// as they would with ENOSPC on a full disk).
struct FileSizeLimit {
  rlimit previous{};
  void (*previous_handler)(int) = nullptr;
  explicit FileSizeLimit(rlim_t bytes) {
    ::getrlimit(RLIMIT_FSIZE, &previous);
    previous_handler = std::signal(SIGXFSZ, SIG_IGN);
    const rlimit limited{bytes, previous.rlim_max};
    ::setrlimit(RLIMIT_FSIZE, &limited);
  }
  ~FileSizeLimit() {
    ::setrlimit(RLIMIT_FSIZE, &previous);
    std::signal(SIGXFSZ, previous_handler);
  }
};

TEST(CheckpointVerification, AWriteThatFailsLeavesNothingAndThePreviousCheckpointStaysTheNewest) {
  const testing::TemporaryFolder temporary;
  torch::nn::Linear small(3, 2);
  const std::string kept = write_at(temporary.path(), *small, 1);
  torch::nn::Linear large(1024, 1024);  // 4 MiB of weights
  {
    const FileSizeLimit limit(1 << 20);  // the write fails after 1 MiB
    try {
      write_at(temporary.path(), *large, 2);
      FAIL() << "expected a TrainingError";
    } catch (const TrainingError& e) {
      const std::string message = e.what();
      EXPECT_NE(message.find("epoch_0002_step_0000000 not saved: "), std::string::npos) << message;
      EXPECT_NE(message.find("write failed: File too large"), std::string::npos) << message;
      EXPECT_NE(message.find("the newest valid checkpoint is still " + kept), std::string::npos) << message;
    }
  }
  EXPECT_EQ(latest_valid_checkpoint(temporary.path().string()), kept);
  EXPECT_FALSE(fs::exists(temporary.path() / "checkpoints" / "epoch_0002_step_0000000.tmp"));
  EXPECT_FALSE(fs::exists(temporary.path() / "checkpoints" / "epoch_0002_step_0000000"));
}

TEST(HangWatchdog, NamesRankPhaseAndPositionWhenNoProgressComes) {
  std::vector<std::string> hangs;
  std::mutex mutex;
  const auto record = [&](const std::string& line) {
    std::lock_guard<std::mutex> lock(mutex);
    hangs.push_back(line);
  };
  {
    HangWatchdog setup_only(0.2, 3, record);  // before the first mark: setup, not watched
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  {
    HangWatchdog marked(0.3, 3, record);  // marks every 50 ms: progress
    for (int i = 0; i < 12; ++i) {
      marked.enter(RunPhase::kForward, 0, i);
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  EXPECT_TRUE(hangs.empty());
  {
    HangWatchdog stuck(0.3, 3, record);
    stuck.enter(RunPhase::kCollective, 1, 5);
    std::this_thread::sleep_for(std::chrono::milliseconds(800));
  }
  ASSERT_EQ(hangs.size(), 1u);
  EXPECT_NE(hangs[0].find("rank 3 made no progress for "), std::string::npos) << hangs[0];
  EXPECT_NE(hangs[0].find("in the collective phase at epoch 1 step 5 (--hang-timeout 0.3)"), std::string::npos) << hangs[0];
}

TEST(SkipNonFinite, SkipsUpToKStepsThenStopsNamingThem) {
  const testing::TemporaryFolder temporary;
  const fs::path& folder = temporary.path();
  RunOptions options;
  options.device = "cpu";
  options.output_dir = folder.string();
  options.skip_nonfinite = 2;
  std::vector<std::string> lines;
  RunHooks hooks;
  hooks.print = [&](const std::string& line) { lines.push_back(line); };
  TrainingRun run(options, "{}", hooks);
  const double nan = std::nan("");
  EXPECT_FALSE(run.skip_nonfinite_step(at::scalar_tensor(1.5), {}, {0, 0}));
  EXPECT_TRUE(run.skip_nonfinite_step(at::scalar_tensor(nan), {{"clip_loss", at::full({}, nan)}}, {0, 1}));
  EXPECT_TRUE(run.skip_nonfinite_step(at::scalar_tensor(nan), {}, {0, 2}));
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], "=> non-finite loss at epoch 0 step 1: clip_loss nan loss nan; step skipped (1 of --skip-nonfinite 2)");
  try {
    run.skip_nonfinite_step(at::scalar_tensor(nan), {}, {0, 3});
    FAIL() << "expected a TrainingError";
  } catch (const TrainingError& e) {
    EXPECT_NE(std::string(e.what()).find("non-finite loss at epoch 0 step 3: loss nan after 2 skipped steps"),
              std::string::npos)
        << e.what();
  }
}

TEST(SkipNonFinite, PretrainingSkipsTheStepsWithoutAnUpdateThenStops) {
  const testing::TemporaryFolder temporary;
  const fs::path& folder = temporary.path();
  ModelConfig model = testing::small_config("clip");
  model.text.vocab_size = 49408;
  std::ofstream(folder / "clip.json") << to_json(model);
  PretrainConfig config;
  config.dataset = "synthetic";
  config.synthetic_samples = 24;
  config.model = (folder / "clip.json").string();
  config.bpe = SLIPSTREAM_TEST_BPE;
  config.batch_size = 4;
  config.epochs = 2;
  config.warmup_epochs = 0;
  config.lr = 1e30;  // the first step wrecks the weights: every later loss is NaN
  config.workers = 2;
  config.device = "cpu";
  config.output_dir = (folder / "run").string();
  config.skip_nonfinite = 3;
  std::vector<std::string> lines;
  std::vector<bool> skipped;
  PretrainHooks hooks;
  hooks.print = [&](const std::string& line) { lines.push_back(line); };
  hooks.on_step = [&](const StepReport& report) { skipped.push_back(report.skipped); };
  EXPECT_THROW(pretrain(config, hooks), TrainingError);
  EXPECT_EQ(skipped, (std::vector<bool>{false, true, true, true}));  // one update, three skipped steps
  int skip_lines = 0;
  for (const std::string& line : lines) skip_lines += line.find("; step skipped (") != std::string::npos;
  EXPECT_EQ(skip_lines, 3);
}

}  // namespace
}  // namespace slipstream
