#include "slipstream/train/linear_probe.h"

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>
#include <torch/nn/modules/linear.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <numeric>
#include <random>

#include "slipstream/core/error.h"
#include "slipstream/core/require.h"
#include "slipstream/core/text_format.h"
#include "slipstream/data/datasets/open_dataset.h"
#include "slipstream/dist/environment.h"
#include "slipstream/dist/process_group.h"
#include "slipstream/eval/embeddings.h"
#include "slipstream/eval/model_preprocessing.h"
#include "slipstream/eval/evaluation_model.h"
#include "slipstream/eval/zero_shot_metrics.h"
#include "slipstream/train/autocast.h"
#include "slipstream/train/sgd.h"
#include "slipstream/train/training_run.h"

namespace slipstream {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

int64_t class_count(const LinearProbeConfig& config, const Dataset& train) {
  if (config.num_classes > 0) return config.num_classes;
  const size_t names = train.class_names().size();
  require(names > 0, "--dataset " + config.dataset + ": " + train.description() +
                         " does not list its classes; pass --num-classes");
  return static_cast<int64_t>(names);
}

std::vector<LinearProbeEpoch> read_history(const std::string& log_file, int64_t before_epoch) {
  std::vector<LinearProbeEpoch> history;
  std::ifstream in(log_file);
  std::string line;
  while (std::getline(in, line)) {
    const nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object() || !j.contains("epoch") || j["epoch"].get<int64_t>() >= before_epoch) continue;
    history.push_back({j["epoch"].get<int64_t>(), j.value("lr", 0.0), j.value("train_loss", 0.0),
                       j.value("test_acc1", 0.0), j.value("test_acc5", 0.0)});
  }
  return history;
}

// What both protocols start from: the frozen tower on its device and the two splits.
struct ProbeSetup {
  DistributedEnvironment environment;
  at::Device device = at::kCPU;
  std::optional<at::ScalarType> dtype;  // the tower's autocast
  EvaluationModel loaded;
  VisionTowerImpl* tower = nullptr;     // frozen, in evaluation mode
  VisionConfig vision;                  // the tower's size and preprocessing
  int64_t classes = 0;
  DatasetPtr train, test;
  LinearProbeResult result;             // description, classes and split sizes filled in
};

LinearProbeResult run_sgd(const LinearProbeConfig& config, TrainingRun& run, ProbeSetup& setup) {
  const at::Device device = setup.device;
  const std::optional<at::ScalarType> dtype = setup.dtype;
  VisionTowerImpl& tower = *setup.tower;
  const DatasetPtr& train = setup.train;
  const DatasetPtr& test = setup.test;
  const VisionConfig& vision = setup.vision;
  const int64_t classes = setup.classes;
  const std::shared_ptr<ProcessGroup>& group = run.group();

  // The head: N(0, 0.01) weights and zero bias (MoCo v3), the same on every rank.
  at::manual_seed(static_cast<uint64_t>(config.seed));
  torch::nn::Linear head(tower.output_width(), classes);
  {
    at::NoGradGuard no_grad;
    head->weight.normal_(0.0, 0.01);
    head->bias.zero_();
  }
  head->to(device);
  const int64_t world = run.world_size();
  const double init_lr = config.lr * static_cast<double>(config.batch_size * world) / 256.0;
  Sgd optimizer({ParameterGroup{{"weight", "bias"}, {head->weight, head->bias}, config.wd}},
                SgdOptions{init_lr, config.momentum, false});

  PipelineOptions pipeline;
  pipeline.views = {ViewRecipe::kLinearTrain};
  pipeline.image_size = vision.image_size;
  pipeline.view_settings.preprocessing = model_preprocessing(vision);
  LoaderOptions loader_options = run.loader_options(config.batch_size);
  loader_options.drop_last = false;  // every training image, every epoch
  Loader loader(train, std::make_shared<const SamplePipeline>(pipeline), loader_options);
  const int64_t steps = loader.steps_per_epoch();

  run.track(*head, {{[&] { return optimizer.state(); }, [&](const StateDict& s) { optimizer.load_state(s); }}});
  RunPosition at = run.resume(steps, /*update_freq=*/1);
  run.broadcast_from_lead(*head);
  LinearProbeResult result = setup.result;
  result.mode = "sgd";
  result.best_acc1 = std::max(0.0, run.best_acc1());
  const std::string log_file = config.output_dir.empty() ? "" : (fs::path(config.output_dir) / "log.txt").string();
  for (const LinearProbeEpoch& e : log_file.empty() ? std::vector<LinearProbeEpoch>{} : read_history(log_file, at.epoch)) {
    if (e.acc1 >= result.best_acc1) result.best_epoch = e.epoch;
  }
  run.log("linear probe of " + result.description + " on " + config.dataset + ": " + std::to_string(train->size()) +
          " training and " + std::to_string(test->size()) + " test images, " + std::to_string(classes) + " classes, " +
          std::to_string(world) + " process(es), lr " + format_text("%g", init_lr) + " (" + format_text("%g", config.lr) +
          " x " + std::to_string(config.batch_size * world) + " / 256)");

  // The tower is frozen and the validation view deterministic: the validation features once.
  ImageFeatures validation;
  {
    AutocastScope autocast(device.type(), dtype);
    validation = extract_image_features(tower, test, ViewRecipe::kEvalLinear, vision, device, config.batch_size,
                                        static_cast<int>(config.workers), group);
  }
  const at::Tensor validation_features = validation.features.to(device);  // [N_rank, D]

  run.begin(config.epochs, steps, steps);
  for (; at.epoch < config.epochs; ++at.epoch, at.batch = 0) {
    const auto started = Clock::now();
    const double lr = init_lr * 0.5 * (1.0 + std::cos(M_PI * static_cast<double>(at.epoch) / config.epochs));
    optimizer.set_lr(lr);
    head->train();
    loader.start_epoch(at.epoch, at.batch);
    for (; at.batch < steps; ++at.batch) {
      const Batch batch = run.next_batch(loader, at);
      at::Tensor features;  // [B, D]
      run.enter(RunPhase::kForward);
      {
        at::NoGradGuard no_grad;
        AutocastScope autocast(device.type(), dtype);
        features = tower.forward(batch.views[0].to(device, /*non_blocking=*/true)).to(at::kFloat);
      }
      const at::Tensor loss = at::cross_entropy_loss(head->forward(features), batch.labels.to(device));
      const bool skip = run.skip_nonfinite_step(loss, {}, at);  // --skip-nonfinite: no update this step
      if (!skip) {
        run.enter(RunPhase::kBackward);
        optimizer.zero_grad();
        loss.backward();
        if (group) {
          std::vector<at::Tensor> grads = {head->weight.grad(), head->bias.grad()};
          group->all_reduce_sum(grads);  // each in place
          for (at::Tensor& grad : grads) grad.div_(static_cast<double>(world));
        }
        optimizer.step();
      }
      StepLog step;
      step.after = {at.epoch, at.batch + 1};
      step.global_step = at.epoch * steps + at.batch + 1;
      step.step_in_epoch = at.batch;
      step.lr = lr;
      if (!skip) step.metrics["loss"] = loss.detach();
      if (skip) step.note = " (step skipped: non-finite loss)";
      if (run.end_step(step).stopped) return result;
    }
    TopHits hits;
    run.enter(RunPhase::kEvaluation);
    {
      at::NoGradGuard no_grad;
      head->eval();
      hits = count_top_hits(head->forward(validation_features), validation.labels);
    }
    const auto totals = sum_over_ranks({hits.top1, hits.top5, hits.samples}, group.get(), device);
    LinearProbeEpoch record;
    record.epoch = at.epoch;
    record.lr = lr;
    record.loss = run.meters().averages()["loss"];
    record.acc1 = totals[2] > 0 ? 100.0 * totals[0] / totals[2] : 0.0;
    record.acc5 = totals[2] > 0 ? 100.0 * totals[1] / totals[2] : 0.0;
    const bool is_best = run.record_accuracy(record.acc1);
    if (is_best) result.best_epoch = at.epoch;
    result.best_acc1 = run.best_acc1();
    result.history.push_back(record);
    result.acc1 = record.acc1;
    result.acc5 = record.acc5;
    const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
    run.log("epoch " + std::to_string(at.epoch) + "/" + std::to_string(config.epochs) +
            format_text(" lr %.5f loss %.4f acc1 %.2f acc5 %.2f best %.2f (%.1f s)", lr, record.loss, record.acc1,
                        record.acc5, result.best_acc1, seconds));
    const nlohmann::ordered_json line = {{"epoch", at.epoch},
                                         {"lr", lr},
                                         {"train_loss", record.loss},
                                         {"test_acc1", record.acc1},
                                         {"test_acc5", record.acc5}};
    if (run.end_epoch(at.epoch, line, is_best)) return result;
  }
  result.completed = true;
  return result;
}

LinearProbeResult run_fast(const LinearProbeConfig& config, ProbeSetup& setup,
                           const std::function<void(const std::string&)>& print) {
  const at::Device device = setup.device;
  VisionTowerImpl& tower = *setup.tower;
  const VisionConfig& vision = setup.vision;
  const int64_t classes = setup.classes;
  LinearProbeResult result = setup.result;
  result.mode = "logistic_regression";
  ImageFeatures train_features, test_features;
  bool train_cached = false, test_cached = false;
  {
    AutocastScope autocast(device.type(), setup.dtype);
    const int workers = static_cast<int>(config.workers);
    train_features = cached_image_features(tower, setup.train, ViewRecipe::kEvalLinear, vision, device, config.batch_size,
                                           workers, setup.loaded.weights_path, config.dataset + "/train", config.cache_dir,
                                           &train_cached);
    test_features = cached_image_features(tower, setup.test, ViewRecipe::kEvalLinear, vision, device, config.batch_size,
                                          workers, setup.loaded.weights_path, config.dataset + "/test", config.cache_dir,
                                          &test_cached);
  }
  result.features_from_cache = train_cached && test_cached;
  print("features of " + config.dataset + (result.features_from_cache ? " read from the cache" : " computed") + ": " +
        std::to_string(train_features.features.size(0)) + " training, " +
        std::to_string(test_features.features.size(0)) + " test, width " +
        std::to_string(train_features.features.size(1)));

  // A seeded split of the training features: the held-out part chooses C.
  const int64_t n = train_features.features.size(0);
  const int64_t held_out = std::llround(static_cast<double>(n) * config.val_fraction);
  require(held_out >= 1 && held_out < n, "--val-fraction " + format_text("%g", config.val_fraction) + " of " +
                                             std::to_string(n) + " training images leaves an empty part");
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  std::mt19937_64 rng(static_cast<uint64_t>(config.seed));
  std::shuffle(order.begin(), order.end(), rng);
  const at::Tensor permutation = at::tensor(order, at::kLong);
  const at::Tensor fit_rows = permutation.narrow(0, held_out, n - held_out), held_rows = permutation.narrow(0, 0, held_out);
  LogisticRegressionOptions options;
  options.max_iterations = config.max_iterations;
  result.sweep = sweep_regularisation(train_features.features.index_select(0, fit_rows),
                                      train_features.labels.index_select(0, fit_rows),
                                      train_features.features.index_select(0, held_rows),
                                      train_features.labels.index_select(0, held_rows), classes, {}, options);
  for (size_t i = 0; i < result.sweep.cs.size(); ++i) {
    print(format_text("C %-8g held-out acc1 %6.2f", result.sweep.cs[i], result.sweep.validation_accuracies[i]));
  }
  options.c = result.sweep.best_c;
  const LogisticRegression fitted = fit_logistic_regression(train_features.features, train_features.labels, classes, options);
  const TopHits hits = count_top_hits(fitted.logits(test_features.features), test_features.labels);
  result.acc1 = hits.samples > 0 ? 100.0 * hits.top1 / hits.samples : 0.0;
  result.acc5 = hits.samples > 0 ? 100.0 * hits.top5 / hits.samples : 0.0;
  result.best_acc1 = result.acc1;
  result.completed = true;
  print(format_text("C %g refit on all %lld training images: test acc1 %.2f acc5 %.2f", result.sweep.best_c,
               static_cast<long long>(n), result.acc1, result.acc5));
  return result;
}

}  // namespace

void validate(const LinearProbeConfig& c) {
  validate(static_cast<const RunOptions&>(c));
  require(!c.gpu.cuda_graphs, "--cuda-graphs: slip_pretrain and slip_bench capture their step; linear_probe does not");
  require(!c.pretrained.empty(), "--pretrained: a checkpoint is required");
  require(fs::is_regular_file(c.catalog), "--catalog " + c.catalog + ": no such file");
  require(!c.dataset.empty(), "--dataset: a catalog entry is required");
  require(c.num_classes >= 0, "--num-classes must not be negative");
  require(c.epochs > 0, "--epochs must be positive");
  require(c.batch_size > 0, "--batch-size must be positive");
  require(c.lr > 0 && std::isfinite(c.lr), "--lr must be positive");
  require(c.momentum >= 0 && c.momentum < 1, "--momentum must be in [0, 1)");
  require(c.wd >= 0 && std::isfinite(c.wd), "--wd must not be negative");
  require(c.val_fraction > 0 && c.val_fraction < 1, "--val-fraction must be in (0, 1)");
  require(c.max_iterations > 0, "--max-iterations must be positive");
}

LinearProbeResult run_linear_probe(const LinearProbeConfig& config,
                                   const std::function<void(const std::string&)>& print) {
  validate(config);
  // The SGD loop runs inside a TrainingRun (ranks, device, checkpoints, the agreed stop); --fast
  // is one process's closed-form fit.
  std::unique_ptr<TrainingRun> run;
  ProbeSetup setup;
  if (config.fast) {
    setup.environment = detect_distributed_environment(current_environment());
    require(!setup.environment.distributed(), "--fast runs in one process; launch it without slip_run, torchrun or srun");
    setup.device = select_device(config.device, setup.environment.local_rank);
  } else {
    RunHooks hooks;
    hooks.print = print;
    run = std::make_unique<TrainingRun>(config, to_json(config), hooks);
    setup.environment = run->environment();
    setup.device = run->device();
  }
  setup.dtype = autocast_dtype(resolve_precision(config.precision, setup.device, "--precision"));
  setup.loaded = load_evaluation_model(config.pretrained, config.model, config.preprocessing);
  setup.tower = setup.loaded.model->visual().get();
  setup.tower->to(setup.device);
  for (at::Tensor& parameter : setup.tower->parameters()) parameter.requires_grad_(false);
  setup.tower->eval();
  setup.vision = setup.loaded.model->config().vision;
  setup.train = open_catalog_dataset(config.catalog, config.dataset, /*train=*/true);
  setup.test = open_catalog_dataset(config.catalog, config.dataset, /*train=*/false);
  setup.classes = class_count(config, *setup.train);
  setup.result.description = setup.loaded.description;
  setup.result.classes = setup.classes;
  setup.result.train_samples = setup.train->size();
  setup.result.test_samples = setup.test->size();
  if (config.fast) return run_fast(config, setup, print ? print : [](const std::string& line) { std::cout << line << std::endl; });
  return run_sgd(config, *run, setup);
}

std::string to_json(const LinearProbeConfig& c) {
  nlohmann::ordered_json j = {{"pretrained", c.pretrained}, {"model", c.model}, {"catalog", c.catalog},
                              {"dataset", c.dataset}, {"num-classes", c.num_classes}, {"epochs", c.epochs},
                              {"batch-size", c.batch_size}, {"lr", c.lr}, {"momentum", c.momentum}, {"wd", c.wd},
                              {"fast", c.fast}, {"val-fraction", c.val_fraction}, {"cache-dir", c.cache_dir},
                              {"max-iterations", c.max_iterations}};
  j.update(nlohmann::ordered_json::parse(to_json(c.preprocessing)));
  j.update(to_json(static_cast<const RunOptions&>(c)));
  return j.dump(2);
}

std::string to_json(const LinearProbeConfig& c, const LinearProbeResult& r) {
  nlohmann::ordered_json settings = {{"pretrained", c.pretrained}, {"dataset", c.dataset}, {"catalog", c.catalog},
                                     {"fast", c.fast}, {"seed", c.seed}};
  if (c.fast) {
    settings["val-fraction"] = c.val_fraction;
    settings["max-iterations"] = c.max_iterations;
  } else {
    settings["lr"] = c.lr;
    settings["wd"] = c.wd;
    settings["momentum"] = c.momentum;
    settings["epochs"] = c.epochs;
    settings["batch-size"] = c.batch_size;
  }
  nlohmann::ordered_json j = {{"config", settings},     {"mode", r.mode},
                              {"model", r.description}, {"classes", r.classes},
                              {"train_samples", r.train_samples}, {"test_samples", r.test_samples},
                              {"acc1", r.acc1},         {"acc5", r.acc5},
                              {"best_acc1", r.best_acc1}};
  if (r.mode == "sgd") {
    j["best_epoch"] = r.best_epoch;
    nlohmann::ordered_json history = nlohmann::ordered_json::array();
    for (const LinearProbeEpoch& e : r.history) {
      history.push_back({{"epoch", e.epoch}, {"lr", e.lr}, {"train_loss", e.loss}, {"acc1", e.acc1}, {"acc5", e.acc5}});
    }
    j["history"] = history;
  } else if (r.mode == "logistic_regression") {
    j["c"] = r.sweep.best_c;
    nlohmann::ordered_json sweep = nlohmann::ordered_json::array();
    for (size_t i = 0; i < r.sweep.cs.size(); ++i) {
      sweep.push_back({{"c", r.sweep.cs[i]}, {"held_out_acc1", r.sweep.validation_accuracies[i]}});
    }
    j["sweep"] = sweep;
    j["features_from_cache"] = r.features_from_cache;
  }
  return j.dump(2) + "\n";
}

}  // namespace slipstream
