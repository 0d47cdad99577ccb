// TrainingRun on its own, in one process: the one resume rule (the output folder's last
// checkpoint, else the fallback, else nothing), what a checkpoint restores, the agreed stop and
// the mid-epoch saves of end_step, and a non-finite loss that names its terms and leaves the last
// checkpoint loadable. The stop agreed over two Gloo ranks is in tests/dist/test_distributed.cpp.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/nn/modules/linear.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "slipstream/core/error.h"
#include "slipstream/core/safetensors.h"
#include "slipstream/core/state_dict.h"
#include "slipstream/train/checkpoint.h"
#include "slipstream/train/training_run.h"
#include "test_paths.h"

namespace slipstream {
namespace {

namespace fs = std::filesystem;

RunOptions options_in(const fs::path& folder) {
  RunOptions options;
  options.device = "cpu";
  options.output_dir = folder.string();
  options.print_freq = 0;
  return options;
}

// A model and one tracked part: a counter the "optimizer" keeps.
struct Tracked {
  torch::nn::Linear model{3, 2};
  at::Tensor counter = at::zeros({1});
  TrackedParts parts() {
    return {{[this] { return StateDict{{"counter", counter.clone()}}; },
             [this](const StateDict& s) { counter = s.at("counter").clone(); }}};
  }
};

// The log of the first epoch's step `step` (0-based), one micro-batch a step.
StepLog first_epoch_step(int64_t step) {
  StepLog log;
  log.after = {0, step + 1};
  log.global_step = step + 1;
  log.step_in_epoch = step;
  return log;
}

// A run that tracks `t` in `folder`, with its lines collected.
struct QuietRun {
  std::vector<std::string> lines;
  std::unique_ptr<TrainingRun> run;
  QuietRun(const fs::path& folder, Tracked& t, RunHooks hooks = {}) {
    hooks.print = [this](const std::string& line) { lines.push_back(line); };
    run = std::make_unique<TrainingRun>(options_in(folder), "{\"test\": true}", hooks);
    run->track(*t.model, t.parts(), "");
  }
  bool said(const std::string& text) const {
    for (const std::string& line : lines) {
      if (line.find(text) != std::string::npos) return true;
    }
    return false;
  }
};

TEST(TrainingRun, ResumePicksTheOutputFolderThenTheFallbackThenNothing) {
  const testing::TemporaryFolder temporary;
  const fs::path& folder = temporary.path();
  // Nothing to resume: the start position, nothing said.
  Tracked fresh;
  QuietRun nothing(folder / "empty", fresh);
  const RunPosition start = nothing.run->resume(10, 1, "", {3, 0});
  EXPECT_EQ(start.epoch, 3);
  EXPECT_EQ(start.batch, 0);
  EXPECT_TRUE(nothing.lines.empty());

  // Two earlier runs: A stopped at epoch 1 step 4, B at epoch 2's start.
  Tracked a, b;
  a.counter.fill_(7.0);
  b.counter.fill_(9.0);
  QuietRun(folder / "a", a).run->save({1, 4}, false);
  const std::string b_checkpoint = QuietRun(folder / "b", b).run->save({2, 0}, false);
  ASSERT_FALSE(b_checkpoint.empty());

  // The output folder's own checkpoint wins over the fallback.
  Tracked again_a;
  QuietRun in_a(folder / "a", again_a);
  const RunPosition at_a = in_a.run->resume(10, 1, b_checkpoint);
  EXPECT_EQ(at_a.epoch, 1);
  EXPECT_EQ(at_a.batch, 4);
  EXPECT_EQ(again_a.counter.item<double>(), 7.0);
  EXPECT_TRUE(at::equal(again_a.model->weight, a.model->weight));
  EXPECT_TRUE(in_a.said("=> resumed from " + (folder / "a").string()));

  // A folder without checkpoints takes the fallback's whole state.
  Tracked from_b;
  QuietRun in_c(folder / "c", from_b);
  const RunPosition at_b = in_c.run->resume(10, 1, b_checkpoint);
  EXPECT_EQ(at_b.epoch, 2);
  EXPECT_EQ(at_b.batch, 0);
  EXPECT_EQ(from_b.counter.item<double>(), 9.0);
  EXPECT_TRUE(at::equal(from_b.model->weight, b.model->weight));

  // A weights file as the fallback: the weights only, from the start position.
  Tracked weights_only;
  QuietRun in_d(folder / "d", weights_only);
  const RunPosition at_d = in_d.run->resume(10, 1, (fs::path(b_checkpoint) / "model.safetensors").string(), {0, 0});
  EXPECT_EQ(at_d.epoch, 0);
  EXPECT_EQ(weights_only.counter.item<double>(), 0.0);
  EXPECT_TRUE(at::equal(weights_only.model->weight, b.model->weight));
  EXPECT_TRUE(in_d.said("=> initialised from the weights of "));

  // A position that does not fit the settings it is resumed with is refused.
  Tracked misfit;
  QuietRun in_a_again(folder / "a", misfit);
  EXPECT_THROW(in_a_again.run->resume(10, /*update_freq=*/3), ConfigError);  // step 4 is not a multiple of 3
  EXPECT_THROW(in_a_again.run->resume(2, 1), ConfigError);                   // step 4 of a 2-step epoch
}

TEST(TrainingRun, AStopEndsTheStepWithASaveAndSavesComeEverySaveEverySteps) {
  const testing::TemporaryFolder temporary;
  const fs::path& folder = temporary.path();
  Tracked t;
  RunHooks hooks;
  hooks.stop_after_steps = 3;
  std::vector<std::string> lines;
  hooks.print = [&](const std::string& line) { lines.push_back(line); };
  RunOptions options = options_in(folder);
  options.save_every_steps = 2;
  TrainingRun run(options, "{}", hooks);
  run.track(*t.model, t.parts());
  run.begin(/*epochs=*/2, /*steps_per_epoch=*/5, /*batches_per_epoch=*/5);
  std::vector<bool> stopped;
  for (int64_t step = 0; step < 3; ++step) {
    StepLog log = first_epoch_step(step);
    log.metrics["loss"] = at::scalar_tensor(static_cast<double>(step));
    const StepVerdict verdict = run.end_step(log);
    stopped.push_back(verdict.stopped);
    // Every step here is a read point (the first, a save's, the stop's); one rank: its own values.
    ASSERT_EQ(verdict.read.size(), 1u);
    EXPECT_EQ(verdict.read.back().metrics.at("loss"), static_cast<double>(step));
  }
  EXPECT_EQ(stopped, (std::vector<bool>{false, false, true}));
  EXPECT_TRUE(fs::exists(folder / "checkpoints" / "epoch_0000_step_0000002"));  // --save-every-steps 2
  ASSERT_TRUE(latest_checkpoint(folder.string()).has_value());
  EXPECT_NE(latest_checkpoint(folder.string())->find("epoch_0000_step_0000003"), std::string::npos);  // the stop's
  EXPECT_EQ(lines.back(), "=> stopped at epoch 0 step 3; saved " + *latest_checkpoint(folder.string()));
  // The mid-epoch checkpoint carries the epoch's meters, so the resumed epoch logs whole averages.
  Tracked resumed;
  QuietRun again(folder, resumed);
  again.run->resume(5, 1);
  EXPECT_EQ(again.run->meters().count(), 3);
  EXPECT_DOUBLE_EQ(again.run->meters().averages().at("loss"), 1.0);
  // The run's files: config.json, steps.jsonl (one line a step), out.log (what was said).
  std::ifstream steps(folder / "steps.jsonl");
  std::string line;
  int count = 0;
  while (std::getline(steps, line)) ++count;
  EXPECT_EQ(count, 3);
  EXPECT_TRUE(fs::exists(folder / "config.json"));
  std::ifstream out_log(folder / "out.log");
  std::string first;
  std::getline(out_log, first);
  EXPECT_EQ(first, lines.front());
}

// A step's values stay on the device until a read point: every --print-freq steps within the
// epoch, the epoch's last step and a save's; there all the unread steps are read at once, logged
// in order, and their meters kept.
TEST(TrainingRun, StepsAreReadOnlyAtReadPointsAndLoggedInOrder) {
  const testing::TemporaryFolder temporary;
  const fs::path& folder = temporary.path();
  Tracked t;
  RunOptions options = options_in(folder);
  options.print_freq = 4;
  options.save_every_steps = 7;
  std::vector<std::string> lines;
  RunHooks hooks;
  hooks.print = [&](const std::string& line) { lines.push_back(line); };
  TrainingRun run(options, "{}", hooks);
  run.track(*t.model, t.parts());
  run.begin(/*epochs=*/1, /*steps_per_epoch=*/10, /*batches_per_epoch=*/10);
  std::vector<size_t> read_sizes;
  std::vector<int64_t> reads_after;
  for (int64_t step = 0; step < 10; ++step) {
    StepLog log = first_epoch_step(step);
    log.lr = 0.1 * static_cast<double>(step);
    log.metrics["loss"] = at::scalar_tensor(static_cast<float>(step) + 0.5f);
    log.scalars["logit_scale"] = at::scalar_tensor(10.0 + static_cast<double>(step));
    const StepVerdict verdict = run.end_step(log);
    read_sizes.push_back(verdict.read.size());
    reads_after.push_back(run.host_reads());
    for (size_t i = 0; i < verdict.read.size(); ++i) {  // oldest first, each with its own values
      const StepValues& read = verdict.read[i];
      const auto expected = static_cast<double>(step + 1 - static_cast<int64_t>(verdict.read.size() - i));
      EXPECT_EQ(read.global_step, static_cast<int64_t>(expected) + 1);
      EXPECT_EQ(read.metrics.at("loss"), expected + 0.5);
      EXPECT_EQ(read.scalars.at("logit_scale"), 10.0 + expected);
    }
  }
  // Read after steps 1, 5 and 9 (the progress lines), 7 (the save) and 10 (the epoch's last).
  EXPECT_EQ(read_sizes, (std::vector<size_t>{1, 0, 0, 0, 4, 0, 2, 0, 2, 1}));
  EXPECT_EQ(reads_after, (std::vector<int64_t>{1, 1, 1, 1, 2, 2, 3, 3, 4, 5}));
  EXPECT_EQ(lines.size(), 4u);  // progress lines after steps 1, 5, 9, 10
  EXPECT_EQ(run.meters().count(), 10);
  EXPECT_DOUBLE_EQ(run.meters().averages().at("loss"), 5.0);
  // The mid-epoch save after step 7 carries the meters of steps 1-7.
  Tracked resumed;
  QuietRun again(folder, resumed);
  ASSERT_TRUE(latest_checkpoint(folder.string()).has_value());
  again.run->resume(10, 1);
  EXPECT_EQ(again.run->meters().count(), 7);
  // steps.jsonl: a line a step, in order, with the step's own lr and values.
  std::ifstream steps(folder / "steps.jsonl");
  std::string line;
  int64_t count = 0;
  while (std::getline(steps, line)) {
    const nlohmann::json j = nlohmann::json::parse(line);
    EXPECT_EQ(j.at("step").get<int64_t>(), count + 1);
    EXPECT_DOUBLE_EQ(j.at("lr").get<double>(), 0.1 * static_cast<double>(count));
    EXPECT_EQ(j.at("loss").get<double>(), static_cast<double>(count) + 0.5);
    ++count;
  }
  EXPECT_EQ(count, 10);
}

// A non-finite loss is found at the read point after it, which throws naming its step and each
// metric before the save that was due there: the checkpoint before stays the last, and loads.
TEST(TrainingRun, ANonFiniteLossFoundAtTheReadPointStopsBeforeTheSave) {
  const testing::TemporaryFolder temporary;
  const fs::path& folder = temporary.path();
  Tracked t;
  RunOptions options = options_in(folder);
  options.save_every_steps = 2;
  TrainingRun run(options, "{}");
  run.track(*t.model, t.parts());
  run.begin(/*epochs=*/1, /*steps_per_epoch=*/10, /*batches_per_epoch=*/10);
  const auto step_log = [](int64_t step, double loss) {
    StepLog log = first_epoch_step(step);
    log.metrics["loss"] = at::scalar_tensor(loss);
    log.metrics["clip_loss"] = at::scalar_tensor(loss);
    log.metrics["ssl_loss"] = at::scalar_tensor(0.25);
    return log;
  };
  run.end_step(step_log(0, 0.5));
  run.end_step(step_log(1, 0.5));  // saved: epoch_0000_step_0000002
  const std::optional<std::string> saved = latest_checkpoint(folder.string());
  ASSERT_TRUE(saved.has_value());
  EXPECT_NE(saved->find("epoch_0000_step_0000002"), std::string::npos);
  EXPECT_TRUE(run.end_step(step_log(2, std::nan(""))).read.empty());  // not a read point: nothing known yet
  try {
    run.end_step(step_log(3, 0.5));  // the read point of the save after step 4
    FAIL() << "expected a TrainingError";
  } catch (const TrainingError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("non-finite loss at epoch 0 step 2:"), std::string::npos) << message;
    EXPECT_NE(message.find("clip_loss nan"), std::string::npos) << message;
    EXPECT_NE(message.find("ssl_loss 0.2500"), std::string::npos) << message;
    EXPECT_NE(message.find("is the last good state"), std::string::npos) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;  // one line
  }
  EXPECT_EQ(latest_checkpoint(folder.string()), saved);
  Tracked reloaded;
  const TrainingState state = read_checkpoint(*saved, *reloaded.model);
  EXPECT_EQ(state.batch, 2);
  EXPECT_TRUE(at::equal(reloaded.model->weight, t.model->weight));
}

TEST(TrainingRun, TheRunFlagsAreCheckedWithOneLineNamingTheFlag) {
  RunOptions options;
  options.device = "cpu";
  options.output_dir = "";
  options.keep_checkpoints = 0;
  try {
    TrainingRun run(options, "{}");
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("--keep-checkpoints 0"), std::string::npos) << e.what();
  }
  options.keep_checkpoints = 2;
  options.precision = "fp8";
  EXPECT_THROW(TrainingRun(options, "{}"), ConfigError);
  // Every flag is recorded under its name.
  const nlohmann::ordered_json j = to_json(RunOptions{});
  for (const char* key : {"device", "seed", "workers", "precision", "output-dir", "print-freq", "save-every-steps",
                          "keep-checkpoints", "dist-timeout", "log-all-ranks"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
}

}  // namespace
}  // namespace slipstream
