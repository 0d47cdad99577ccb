// Checkpoints and the pre-training loop on a small SLIP model and the synthetic corpus: atomic
// checkpoint folders, exact resume (step for step the losses of an uninterrupted run), gradient
// accumulation, and settings refused before any work.
#include <ATen/ATen.h>
#include <ATen/record_function.h>
#include <CLI/CLI.hpp>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "models/small_configs.h"
#include "slipstream/core/error.h"
#include "slipstream/core/safetensors.h"
#include "slipstream/models/model_config.h"
#include "slipstream/models/registry.h"
#include "slipstream/train/checkpoint.h"
#include "slipstream/train/pretrainer.h"
#include "slipstream/train/run_flags.h"

namespace slipstream {
namespace {

namespace fs = std::filesystem;

fs::path fresh_folder(const std::string& name) {
  const fs::path folder = fs::temp_directory_path() / ("slipstream_test_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(folder);
  fs::create_directories(folder);
  return folder;
}

// A model small enough to train in milliseconds (tests/models/small_configs.h), with CLIP's vocabulary.
std::string write_small_model(const fs::path& folder, const std::string& family) {
  ModelConfig c = testing::small_config(family);
  c.text.vocab_size = 49408;
  if (family == "declip") {  // CLIP's vocabulary and <|mask|>
    c.text.vocab_size = 49409;
    c.text.token_layout = "declip";
  }
  const fs::path path = folder / (family + ".json");
  std::ofstream(path) << to_json(c);
  return path.string();
}

PretrainConfig small_run(const fs::path& folder, const std::string& family = "slip") {
  PretrainConfig c;
  c.dataset = "synthetic";
  c.synthetic_samples = 24;
  c.model = write_small_model(folder, family);
  c.bpe = SLIPSTREAM_TEST_BPE;
  c.ssl_mlp_dim = 32;
  c.ssl_emb_dim = 16;
  c.batch_size = 4;
  c.epochs = 2;
  c.warmup_epochs = 1;
  c.lr = 1e-3;
  c.workers = 2;
  c.print_freq = 100;
  c.output_dir = (folder / "run").string();
  c.device = "cpu";
  return c;
}

struct Recorded {
  std::vector<std::map<std::string, double>> metrics;
  std::vector<double> lrs, logit_scales, grad_norms;
  std::vector<std::string> lines;
  PretrainHooks hooks() {
    PretrainHooks h;
    h.on_step = [this](const StepReport& r) {
      metrics.push_back(r.metrics), lrs.push_back(r.lr), logit_scales.push_back(r.logit_scale);
      grad_norms.push_back(r.grad_norm);
    };
    h.print = [this](const std::string& line) { lines.push_back(line); };
    return h;
  }
};

TEST(Pretraining, ResumedRunRepeatsTheUninterruptedLosses) {
  const fs::path folder = fresh_folder("resume");
  Recorded whole;
  PretrainConfig config = small_run(folder);
  const PretrainResult done = pretrain(config, whole.hooks());
  EXPECT_TRUE(done.completed);
  ASSERT_EQ(whole.metrics.size(), 12u);  // 2 epochs x 24 / 4
  for (const char* key : {"loss", "clip_loss", "clip_acc", "ssl_loss", "ssl_acc"}) EXPECT_EQ(whole.metrics[0].count(key), 1u) << key;

  // Stopped mid-epoch after 4 steps (as SIGTERM would), then started again: it resumes.
  config.output_dir = (folder / "interrupted").string();
  Recorded first, second;
  PretrainHooks stop = first.hooks();
  stop.stop_after_steps = 4;
  const PretrainResult stopped = pretrain(config, stop);
  EXPECT_FALSE(stopped.completed);
  EXPECT_EQ(stopped.epoch, 0);
  EXPECT_EQ(stopped.batch, 4);
  ASSERT_TRUE(latest_checkpoint(config.output_dir).has_value());
  const PretrainResult resumed = pretrain(config, second.hooks());
  EXPECT_TRUE(resumed.completed);
  ASSERT_EQ(first.metrics.size() + second.metrics.size(), whole.metrics.size());
  for (size_t i = 0; i < whole.metrics.size(); ++i) {
    const auto& got = i < 4 ? first.metrics[i] : second.metrics[i - 4];
    EXPECT_EQ(got.at("loss"), whole.metrics[i].at("loss")) << "step " << i;
    EXPECT_EQ(got.at("ssl_loss"), whole.metrics[i].at("ssl_loss")) << "step " << i;
    EXPECT_EQ((i < 4 ? first.lrs[i] : second.lrs[i - 4]), whole.lrs[i]) << "step " << i;
  }
  // log.txt: one JSON line per epoch with SLIP's train_ keys, the same for both runs.
  std::ifstream whole_log(folder / "run" / "log.txt"), resumed_log(folder / "interrupted" / "log.txt");
  std::string a, b;
  int lines = 0;
  while (std::getline(whole_log, a) && std::getline(resumed_log, b)) {
    EXPECT_EQ(a, b);
    EXPECT_NE(a.find("\"train_clip_loss\""), std::string::npos);
    ++lines;
  }
  EXPECT_EQ(lines, 2);
  EXPECT_TRUE(fs::exists(folder / "run" / "config.json"));
  fs::remove_all(folder);
}

TEST(Pretraining, AccumulationStepsOncePerUpdateFreqMicroBatches) {
  const fs::path folder = fresh_folder("accumulate");
  PretrainConfig config = small_run(folder, "clip");
  config.epochs = 1;
  config.warmup_epochs = 0;
  config.update_freq = 2;
  Recorded run;
  const PretrainResult result = pretrain(config, run.hooks());
  EXPECT_TRUE(result.completed);
  EXPECT_EQ(run.metrics.size(), 3u);  // 6 micro-batches of 4, two per step
  EXPECT_EQ(result.global_step, 3);
  EXPECT_EQ(run.metrics.back().count("clip_loss"), 1u);
  EXPECT_EQ(run.metrics.back().count("ssl_loss"), 0u);  // CLIP logs no SimCLR terms
  // The logit scale (exp of the clamped log-scale) starts at 1/0.07 and stays within SLIP's clamp.
  for (double scale : run.logit_scales) EXPECT_TRUE(scale >= 1.0 && scale <= 100.0) << scale;
  EXPECT_NEAR(run.logit_scales.front(), 1.0 / 0.07, 0.1);
  fs::remove_all(folder);
}

TEST(Pretraining, SiglipWithPatchDropoutTrainsAndRecordsItsObjective) {
  const fs::path folder = fresh_folder("siglip");
  PretrainConfig config = small_run(folder, "clip");
  config.loss = "siglip";
  config.patch_dropout = 0.5;
  config.epochs = 1;
  config.warmup_epochs = 0;
  Recorded run;
  ASSERT_TRUE(pretrain(config, run.hooks()).completed);
  ASSERT_EQ(run.metrics.size(), 6u);
  EXPECT_EQ(run.metrics[0].count("siglip_loss"), 1u);
  EXPECT_EQ(run.metrics[0].count("clip_loss"), 0u);
  EXPECT_NEAR(run.logit_scales.front(), 10.0, 0.1);  // SigLIP's temperature starts at ln 10
  // At t = 10, b = -10 and unrelated embeddings (cosines near 0), each image's matching pair costs
  // -log sigmoid(10 cos - 10), about 10, and its negatives about e^{-10} each.
  EXPECT_NEAR(run.metrics[0].at("siglip_loss"), 10.0, 1.5);
  bool logged = false;
  for (const std::string& line : run.lines) logged = logged || line.find("patch dropout 0.5") != std::string::npos;
  EXPECT_TRUE(logged);
  // The checkpoint's model config says siglip, so evaluation rebuilds the bias.
  const SafetensorsFile header =
      read_safetensors_header((fs::path(latest_checkpoint(config.output_dir).value()) / "model.safetensors").string());
  const ModelConfig saved = model_config_from_json(header.metadata.at("model_config"));
  EXPECT_EQ(saved.contrastive_loss, "siglip");

  // Patch dropout needs a ViT; a bad --loss is refused.
  config = small_run(folder, "clip");
  config.patch_dropout = 0.5;
  ModelConfig resnet = testing::small_config("clip", "modified_resnet");
  resnet.text.vocab_size = 49408;
  std::ofstream(folder / "resnet.json") << to_json(resnet);
  config.model = (folder / "resnet.json").string();
  EXPECT_THROW(pretrain(config), ConfigError);
  config = small_run(folder, "clip");
  config.loss = "sigmoid";
  EXPECT_THROW(pretrain(config), ConfigError);
  fs::remove_all(folder);
}

// --aug-cfg, --grad-checkpointing and --image-* go into config.json, the preprocessing into the checkpoint's model
// config (what evaluation reads), the BPE merges the run used into the weights; bad items fail
// before any work.
TEST(Pretraining, ViewSettingsAndPreprocessingAreRecorded) {
  const fs::path folder = fresh_folder("views");
  PretrainConfig config = small_run(folder, "clip");
  config.epochs = 1;
  config.warmup_epochs = 0;
  config.aug_cfg = {"scale=(0.9,1.0)", "interpolation=bicubic"};
  config.preprocessing.image_mean = {0.5, 0.5, 0.5};
  config.preprocessing.image_interpolation = "bicubic";
  config.grad_checkpointing = true;
  Recorded run;
  ASSERT_TRUE(pretrain(config, run.hooks()).completed);
  const nlohmann::json recorded = nlohmann::json::parse(std::ifstream(folder / "run" / "config.json"));
  EXPECT_EQ(recorded.at("grad-checkpointing"), true);
  EXPECT_EQ(recorded.at("aug-cfg"), nlohmann::json({"scale=(0.9,1.0)", "interpolation=bicubic"}));
  EXPECT_EQ(recorded.at("image-mean"), nlohmann::json({0.5, 0.5, 0.5}));
  const SafetensorsFile header =
      read_safetensors_header((fs::path(latest_checkpoint(config.output_dir).value()) / "model.safetensors").string());
  const ModelConfig saved = model_config_from_json(header.metadata.at("model_config"));
  EXPECT_EQ(saved.vision.image_mean, (std::vector<double>{0.5, 0.5, 0.5}));
  EXPECT_EQ(saved.vision.image_std, (std::vector<double>{0.229, 0.224, 0.225}));  // not given: SLIP's
  EXPECT_EQ(saved.vision.image_interpolation, "bicubic");
  EXPECT_EQ(header.metadata.at("bpe"), SLIPSTREAM_TEST_BPE);
  bool logged = false;
  bool checkpointing_logged = false;
  for (const std::string& line : run.lines) {
    logged = logged || line.find("--aug-cfg scale=(0.9,1.0)") != std::string::npos;
    checkpointing_logged = checkpointing_logged || line.find("activation checkpointing") != std::string::npos;
  }
  EXPECT_TRUE(logged);
  EXPECT_TRUE(checkpointing_logged);

  config = small_run(folder, "clip");
  config.aug_cfg = {"scale=(2,3)"};
  EXPECT_THROW(pretrain(config), ConfigError);
  config = small_run(folder, "clip");
  config.preprocessing.image_std = {0.5, 0.5};
  EXPECT_THROW(pretrain(config), ConfigError);
  fs::remove_all(folder);
}

// The SimCLR head keeps the model config's sizes unless --ssl-mlp-dim / --ssl-emb-dim are given.
TEST(Pretraining, SslHeadSizesComeFromTheModelUnlessFlagsResizeThem) {
  const fs::path folder = fresh_folder("ssl_sizes");
  const auto trained_head = [&](int64_t mlp_dim, int64_t emb_dim) {
    PretrainConfig config = small_run(folder);
    config.ssl_mlp_dim = mlp_dim;
    config.ssl_emb_dim = emb_dim;
    config.epochs = 1;
    config.warmup_epochs = 0;
    config.output_dir = (folder / ("run_" + std::to_string(mlp_dim))).string();
    EXPECT_TRUE(pretrain(config).completed);
    const SafetensorsFile header =
        read_safetensors_header((fs::path(latest_checkpoint(config.output_dir).value()) / "model.safetensors").string());
    const ModelConfig saved = model_config_from_json(header.metadata.at("model_config"));
    EXPECT_EQ(header.tensors.at("image_mlp.layer1.weight").size(0), saved.ssl.mlp_dim);
    EXPECT_EQ(header.tensors.at("image_mlp.layer3.weight").size(0), saved.ssl.emb_dim);
    return std::make_pair(saved.ssl.mlp_dim, saved.ssl.emb_dim);
  };
  const ModelConfig small = testing::small_config("slip");
  EXPECT_EQ(trained_head(0, 0), std::make_pair(small.ssl.mlp_dim, small.ssl.emb_dim));
  EXPECT_EQ(trained_head(32, 16), std::make_pair(int64_t{32}, int64_t{16}));
  PretrainConfig negative = small_run(folder);
  negative.ssl_mlp_dim = -1;
  EXPECT_THROW(pretrain(negative), ConfigError);
  fs::remove_all(folder);
}

// SLIP on a modified ResNet with SimCLR views at half the side (the quickstart's DEMO_SLIP): it
// trains, and its checkpoint records the views' size.
TEST(Pretraining, SlipTrainsWithSmallerSimclrViews) {
  const fs::path folder = fresh_folder("ssl_image_size");
  ModelConfig model = testing::small_config("slip", "modified_resnet");
  model.text.vocab_size = 49408;
  model.vision.image_size = 64;
  model.ssl.image_size = 32;
  std::ofstream(folder / "slip_resnet.json") << to_json(model);
  PretrainConfig config = small_run(folder);
  config.model = (folder / "slip_resnet.json").string();
  config.epochs = 1;
  config.warmup_epochs = 0;
  Recorded recorded;
  const PretrainResult result = pretrain(config, recorded.hooks());
  EXPECT_TRUE(result.completed);
  ASSERT_EQ(recorded.metrics.size(), 6u);
  for (const auto& step : recorded.metrics) EXPECT_TRUE(std::isfinite(step.at("ssl_loss")));
  EXPECT_EQ(std::count(recorded.lines.begin(), recorded.lines.end(), "=> SimCLR views at 32 px, the CLIP view at 64 px (ssl.image_size)"), 1);
  const SafetensorsFile header =
      read_safetensors_header((fs::path(latest_checkpoint(config.output_dir).value()) / "model.safetensors").string());
  EXPECT_EQ(model_config_from_json(header.metadata.at("model_config")).ssl.image_size, 32);
  fs::remove_all(folder);
}

TEST(Pretraining, DeclipResumesWithItsNeighbourQueue) {
  // DeCLIP's step draws masks and EDA views and reads a queue that earlier steps filled: a run
  // stopped after 3 steps and resumed repeats the uninterrupted run's losses only when the
  // checkpoint carries the queue.
  const fs::path folder = fresh_folder("declip");
  PretrainConfig config = small_run(folder, "declip");
  config.epochs = 1;
  config.warmup_epochs = 0;
  config.nn_queue_size = 10;  // wraps within the run
  Recorded whole, first, second;
  ASSERT_TRUE(pretrain(config, whole.hooks()).completed);
  ASSERT_EQ(whole.metrics.size(), 6u);
  for (const char* key : {"clip_loss", "nn_loss", "simsiam_loss", "mlm_loss", "mlm_acc"}) {
    EXPECT_EQ(whole.metrics[0].count(key), 1u) << key;
  }
  EXPECT_NEAR(whole.logit_scales.front(), std::exp(3.0), 1e-3);  // DeCLIP's clamp: log-scale >= 3
  config.output_dir = (folder / "interrupted").string();
  PretrainHooks stop = first.hooks();
  stop.stop_after_steps = 3;
  EXPECT_FALSE(pretrain(config, stop).completed);
  EXPECT_TRUE(pretrain(config, second.hooks()).completed);
  ASSERT_EQ(second.metrics.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(second.metrics[i].at("loss"), whole.metrics[3 + i].at("loss")) << "step " << 3 + i;
    EXPECT_EQ(second.metrics[i].at("nn_loss"), whole.metrics[3 + i].at("nn_loss")) << "step " << 3 + i;
  }
  fs::remove_all(folder);
}

TEST(Pretraining, CachedFeatureAccumulationStepsLikeTheWholeBatch) {
  // open_clip's scheme: 2 micro-batches of 4 give the losses of one batch of 8 (same samples,
  // same views), because every micro-batch's loss sees all 8 samples' features.
  const fs::path folder = fresh_folder("cached");
  PretrainConfig whole = small_run(folder, "clip");
  whole.epochs = 1;
  whole.warmup_epochs = 0;
  whole.batch_size = 8;
  whole.output_dir = (folder / "whole").string();
  PretrainConfig cached = whole;
  cached.batch_size = 4;
  cached.update_freq = 2;
  cached.accum_mode = "cached-features";
  cached.output_dir = (folder / "cached").string();
  PretrainConfig independent = cached;
  independent.accum_mode = "independent";
  independent.output_dir = (folder / "independent").string();
  Recorded a, b, c;
  pretrain(whole, a.hooks());
  pretrain(cached, b.hooks());
  pretrain(independent, c.hooks());
  ASSERT_EQ(a.metrics.size(), 3u);
  ASSERT_EQ(b.metrics.size(), 3u);
  for (size_t i = 0; i < a.metrics.size(); ++i) {
    EXPECT_NEAR(b.metrics[i].at("clip_loss"), a.metrics[i].at("clip_loss"), 1e-4) << "step " << i;
    EXPECT_NEAR(b.grad_norms[i], a.grad_norms[i], 1e-4 * a.grad_norms[i]) << "step " << i;  // the same gradient
  }
  // SLIP's independent micro-batches average two half-batch gradients: not the same.
  EXPECT_GT(std::abs(c.grad_norms[0] - a.grad_norms[0]), 1e-3 * a.grad_norms[0]);
  // SLIP's independent micro-batches solve two 4-way problems instead: a smaller loss.
  EXPECT_LT(c.metrics[0].at("clip_loss"), a.metrics[0].at("clip_loss") - 0.1);
  fs::remove_all(folder);
}

TEST(Pretraining, BadSettingsFailBeforeAnyWork) {
  const fs::path folder = fresh_folder("refuse");
  PretrainConfig config = small_run(folder);
  config.batch_size = 0;
  EXPECT_THROW(pretrain(config), ConfigError);
  config = small_run(folder);
  config.batch_size = 100;  // more than the 24 samples
  EXPECT_THROW(pretrain(config), ConfigError);
  config = small_run(folder);
  config.dataset = "csv";
  config.metadata = (folder / "missing.csv").string();
  try {
    pretrain(config);
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("--metadata"), std::string::npos) << e.what();
  }
  config = small_run(folder);
  config.bpe = (folder / "no_such_bpe.txt.gz").string();  // given, it must exist (no fallback to a found copy)
  EXPECT_THROW(pretrain(config), ConfigError);
  EXPECT_FALSE(fs::exists(folder / "run" / "checkpoint_last"));
  fs::remove_all(folder);
}

TEST(Pretraining, ANonFiniteLossStopsTheRunAndKeepsTheLastGoodCheckpoint) {
  const fs::path folder = fresh_folder("diverge");
  PretrainConfig config = small_run(folder, "clip");
  config.warmup_epochs = 0;
  config.lr = 1e30;  // the first step wrecks the weights
  config.save_every_steps = 1;
  Recorded run;
  try {
    pretrain(config, run.hooks());
    FAIL() << "expected a TrainingError";
  } catch (const TrainingError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("non-finite loss at epoch 0 step "), std::string::npos) << message;
    EXPECT_NE(message.find("clip_loss"), std::string::npos) << message;  // each term named
  }
  ASSERT_FALSE(run.metrics.empty());
  EXPECT_TRUE(std::isfinite(run.metrics.front().at("loss")));
  // The checkpoint of the last finite step still loads.
  const std::optional<std::string> last = latest_checkpoint(config.output_dir);
  ASSERT_TRUE(last.has_value());
  ContrastiveModel model = create_model(resolve_model_config(config.model));
  EXPECT_NO_THROW(read_checkpoint(*last, *model));
  fs::remove_all(folder);
}

// Counts the reads of a tensor's value to the host that code outside ATen makes (.item(), a
// synchronisation on a GPU: aten::item or aten::_local_scalar_dense called from outside any other
// op) on the thread that made it, while it lives. Reads inside an op are the CPU kernels' own
// (the fused AdamW's step counts, one_hot's range check), which their CUDA kernels do not make.
class HostReadCounter {
 public:
  HostReadCounter() : handle_(at::addThreadLocalCallback(at::RecordFunctionCallback(&on_start, &on_end))) {
    count_ = depth_ = 0;
  }
  ~HostReadCounter() { at::removeCallback(handle_); }
  int64_t count() const { return count_; }

 private:
  static std::unique_ptr<at::ObserverContext> on_start(const at::RecordFunction& fn) {
    if (depth_++ == 0 && (std::strcmp(fn.name(), "aten::item") == 0 || std::strcmp(fn.name(), "aten::_local_scalar_dense") == 0)) {
      ++count_;
    }
    return nullptr;
  }
  static void on_end(const at::RecordFunction&, at::ObserverContext*) { --depth_; }
  static thread_local int64_t count_, depth_;
  at::CallbackHandle handle_;
};
thread_local int64_t HostReadCounter::count_ = 0;
thread_local int64_t HostReadCounter::depth_ = 0;

// No host synchronisation inside a step: the loop leaves each step's values on the device and the
// run reads them at read points only, so the training thread's reads do not grow with the steps
// between read points (a hook that watches every step, which reads the gradient norm, shows that
// the count would), and steps.jsonl equals that of a run read after every step.
TEST(Pretraining, HostReadsDoNotGrowWithTheStepsBetweenReadPoints) {
  const fs::path folder = fresh_folder("host_reads");
  const auto run = [&](int64_t samples, const std::string& name, bool read_every_step, bool watched) {
    PretrainConfig config = small_run(folder, "slip");
    config.synthetic_samples = samples;
    config.epochs = 1;
    config.warmup_epochs = 0;
    config.print_freq = 1000;  // read points: the epoch's first and last steps
    config.output_dir = (folder / name).string();
    PretrainHooks hooks;
    hooks.print = [](const std::string&) {};
    hooks.read_every_step = read_every_step;
    if (watched) hooks.on_step = [](const StepReport&) {};
    const HostReadCounter counter;
    EXPECT_TRUE(pretrain(config, hooks).completed);
    return counter.count();
  };
  const int64_t six_steps = run(24, "six", false, false);
  const int64_t twelve_steps = run(48, "twelve", false, false);
  EXPECT_EQ(twelve_steps, six_steps);
  EXPECT_GT(run(48, "twelve_watched", false, true), run(24, "six_watched", false, true));
  run(48, "twelve_every_step", true, false);
  const auto text = [&](const std::string& name) {
    std::ifstream in(folder / name / "steps.jsonl");
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  };
  const std::string deferred = text("twelve");
  EXPECT_EQ(std::count(deferred.begin(), deferred.end(), '\n'), 12);
  EXPECT_EQ(deferred, text("twelve_every_step"));
  EXPECT_EQ(deferred, text("twelve_watched"));
  fs::remove_all(folder);
}

TEST(Checkpoints, AnInterruptedWriteLeavesThePreviousOneLoadable) {
  const fs::path folder = fresh_folder("checkpoint");
  const ModelConfig config = resolve_model_config(write_small_model(folder, "clip"));
  ContrastiveModel model = create_model(config);
  TrainingState state;
  state.epoch = 1;
  state.optimizer = {{"exp_avg/logit_scale", at::ones({})}};
  state.config_json = "{}";
  const std::string first = write_checkpoint(folder.string(), *model, state);
  // A kill while the next one is written leaves a temporary folder with a partial file.
  fs::create_directories(folder / "checkpoints" / "epoch_0002_step_0000000.tmp");
  std::ofstream(folder / "checkpoints" / "epoch_0002_step_0000000.tmp" / "model.safetensors") << "partial";
  ASSERT_EQ(latest_checkpoint(folder.string()), first);
  ContrastiveModel reloaded = create_model(config);
  const TrainingState read = read_checkpoint(first, *reloaded);
  EXPECT_EQ(read.epoch, 1);
  EXPECT_TRUE(at::equal(read.optimizer.at("exp_avg/logit_scale"), at::ones({})));
  EXPECT_TRUE(at::equal(std::dynamic_pointer_cast<ClipModelImpl>(reloaded)->logit_scale,
                        std::dynamic_pointer_cast<ClipModelImpl>(model)->logit_scale));
  // Newer checkpoints replace it; only the newest `keep` folders remain.
  for (int64_t epoch = 2; epoch <= 4; ++epoch) {
    state.epoch = epoch;
    write_checkpoint(folder.string(), *model, state, /*is_best=*/epoch == 2, /*keep=*/2);
  }
  EXPECT_FALSE(fs::exists(first));
  EXPECT_TRUE(fs::exists(folder / "checkpoints" / "epoch_0002_step_0000000"));  // the best
  EXPECT_TRUE(fs::exists(folder / "checkpoints" / "epoch_0003_step_0000000"));
  EXPECT_NE(latest_checkpoint(folder.string())->find("epoch_0004"), std::string::npos);
  // A damaged checkpoint is refused with its file named.
  std::ofstream(fs::path(*latest_checkpoint(folder.string())) / "training_state.safetensors") << "garbage";
  try {
    read_checkpoint(*latest_checkpoint(folder.string()), *reloaded);
    FAIL() << "expected a FileFormatError";
  } catch (const FileFormatError& e) {
    EXPECT_NE(std::string(e.what()).find("training_state.safetensors"), std::string::npos) << e.what();
  }
  fs::remove_all(folder);
}

}  // namespace
}  // namespace slipstream

namespace slipstream {
namespace {

// The GPU switches on the CPU: they parse as run flags, config.json records them, and a run with
// every one of them set computes what a run without them does (on a CPU they change nothing; a
// line says so). A modified-ResNet model, so --channels-last has convolution weights to convert.
TEST(Pretraining, GpuSwitchesParseAreRecordedAndLeaveTheCpuStepUnchanged) {
  const fs::path folder = fresh_folder("gpu_switches");
  CLI::App app;
  RunOptions parsed;
  add_run_flags(app, parsed);
  const char* argv[] = {"app", "--cudnn-benchmark", "--tf32", "--channels-last", "--cuda-graphs", "--pin-memory", "false"};
  app.parse(7, const_cast<char**>(argv));
  EXPECT_TRUE(parsed.gpu.cudnn_benchmark && parsed.gpu.tf32 && parsed.gpu.channels_last && parsed.gpu.cuda_graphs);
  EXPECT_FALSE(parsed.gpu.pin_memory);

  PretrainConfig plain = small_run(folder, "clip");
  ModelConfig resnet = testing::small_config("clip", "modified_resnet");
  resnet.text.vocab_size = 49408;
  std::ofstream(folder / "resnet.json") << to_json(resnet);
  plain.model = (folder / "resnet.json").string();
  PretrainConfig switched = plain;
  switched.gpu = parsed.gpu;
  switched.output_dir = (folder / "switched").string();
  Recorded a, b;
  pretrain(plain, a.hooks());
  pretrain(switched, b.hooks());
  ASSERT_EQ(a.metrics.size(), b.metrics.size());
  for (size_t i = 0; i < a.metrics.size(); ++i) {
    EXPECT_NEAR(a.metrics[i].at("loss"), b.metrics[i].at("loss"), 1e-6) << "step " << i;
  }
  const bool told = std::any_of(b.lines.begin(), b.lines.end(), [](const std::string& line) {
    return line.find("=> GPU switches (cuDNN benchmark, TF32, channels-last weights, CUDA graphs): not applied on cpu") == 0;
  });
  EXPECT_TRUE(told) << "no line said the switches do nothing on the CPU";
  const nlohmann::json recorded = nlohmann::json::parse(std::ifstream(folder / "switched" / "config.json"));
  for (const char* flag : {"cudnn-benchmark", "tf32", "channels-last", "cuda-graphs"}) EXPECT_TRUE(recorded.at(flag).get<bool>()) << flag;
  EXPECT_FALSE(recorded.at("pin-memory").get<bool>());
  fs::remove_all(folder);
}

}  // namespace
}  // namespace slipstream
