#include "slipstream/train/finetune.h"

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <set>

#include "slipstream/core/error.h"
#include "slipstream/core/require.h"
#include "slipstream/core/text_format.h"
#include "slipstream/data/datasets/open_dataset.h"
#include "slipstream/data/loader.h"
#include "slipstream/dist/gradient_sync.h"
#include "slipstream/dist/process_group.h"
#include "slipstream/eval/embeddings.h"
#include "slipstream/eval/model_preprocessing.h"
#include "slipstream/eval/evaluation_model.h"
#include "slipstream/eval/zero_shot_metrics.h"
#include "slipstream/models/image_classifier.h"
#include "slipstream/models/registry.h"
#include "slipstream/train/autocast.h"
#include "slipstream/train/gpu_settings.h"
#include "slipstream/train/grad_scaler.h"
#include "slipstream/train/layer_decay.h"
#include "slipstream/train/lr_schedule.h"
#include "slipstream/train/mixup.h"
#include "slipstream/train/training_run.h"

namespace slipstream {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// The RNG stream of a batch's mixup draw: one per (epoch, step, rank), so a resumed run draws the same.
constexpr uint64_t kMixupStream = 1000;

struct Evaluation {
  double loss = 0.0, acc1 = 0.0, acc5 = 0.0;
  int64_t samples = 0;
};

// Cross-entropy, top-1 and top-5 over the test split (each rank its part, sums over ranks).
Evaluation evaluate(ImageClassifierImpl& model, const DatasetPtr& test, const at::Device& device,
                    std::optional<at::ScalarType> dtype, int64_t batch_size, int workers,
                    const std::shared_ptr<ProcessGroup>& group) {
  EvaluationMode evaluation(model);
  at::NoGradGuard no_grad;
  const auto loader = make_evaluation_loader(test, ViewRecipe::kEvalLinear, model.config(), batch_size,
                                             workers, group);
  std::vector<double> sums = {0.0, 0.0, 0.0, 0.0};  // loss, top-1 hits, top-5 hits, samples
  while (std::optional<Batch> batch = loader->next()) {
    at::Tensor logits;
    {
      AutocastScope autocast(device.type(), dtype);
      logits = model.forward(batch->views[0].to(device)).to(at::kFloat);  // [B, classes]
    }
    const at::Tensor labels = batch->labels.to(device);
    const TopHits hits = count_top_hits(logits, labels);
    sums[0] += at::cross_entropy_loss(logits, labels).item<double>() * hits.samples;
    sums[1] += hits.top1;
    sums[2] += hits.top5;
    sums[3] += hits.samples;
  }
  sums = sum_over_ranks(sums, group.get(), device);
  Evaluation out;
  out.samples = static_cast<int64_t>(sums[3]);
  if (sums[3] > 0) {
    out.loss = sums[0] / sums[3];
    out.acc1 = 100.0 * sums[1] / sums[3];
    out.acc5 = 100.0 * sums[2] / sums[3];
  }
  return out;
}

}  // namespace

void validate(const FinetuneConfig& c) {
  validate(static_cast<const RunOptions&>(c));
  require(!c.gpu.cuda_graphs, "--cuda-graphs: slip_pretrain and slip_bench capture their step; finetune does not");
  require(!c.output_dir.empty(), "--output-dir: expected a folder");
  require(!c.finetune.empty() || !c.model.empty(), "--finetune: pre-trained weights are required (or --model to train from scratch)");
  require(fs::is_regular_file(c.catalog), "--catalog " + c.catalog + ": no such file");
  require(!c.dataset.empty(), "--dataset: a catalog entry is required");
  require(c.nb_classes >= 0, "--nb-classes must not be negative");
  require(c.drop_path >= 0 && c.drop_path < 1, "--drop-path must be in [0, 1)");
  require(c.reprob >= 0 && c.reprob <= 1, "--reprob must be in [0, 1]");
  require(c.remode == "pixel" || c.remode == "rand" || c.remode == "const", "--remode " + c.remode + ": expected pixel, rand or const");
  require(c.mixup >= 0 && c.cutmix >= 0, "--mixup and --cutmix must not be negative");
  require(c.mixup_prob >= 0 && c.mixup_prob <= 1, "--mixup-prob must be in [0, 1]");
  require(c.mixup_switch_prob >= 0 && c.mixup_switch_prob <= 1, "--mixup-switch-prob must be in [0, 1]");
  require(c.smoothing >= 0 && c.smoothing < 1, "--smoothing must be in [0, 1)");
  require(c.epochs > 0, "--epochs must be positive");
  require(c.warmup_epochs >= 0 && c.warmup_epochs < c.epochs, "--warmup-epochs must be in [0, --epochs)");
  require(c.batch_size > 0, "--batch-size must be positive");
  require(c.update_freq > 0, "--update-freq must be positive");
  require(c.lr > 0 && std::isfinite(c.lr), "--lr must be positive");
  require(c.min_lr >= 0 && c.min_lr <= c.lr, "--min-lr must be in [0, --lr]");
  require(c.weight_decay >= 0, "--weight-decay must not be negative");
  require(c.layer_decay > 0 && c.layer_decay <= 1, "--layer-decay must be in (0, 1]");
  require(c.opt_betas[0] >= 0 && c.opt_betas[0] < 1 && c.opt_betas[1] >= 0 && c.opt_betas[1] < 1,
          "--opt-betas must be in [0, 1)");
  require(c.opt_eps > 0, "--opt-eps must be positive");
  if (c.mixup > 0 || c.cutmix > 0) require(c.batch_size % 2 == 0, "--batch-size must be even with --mixup/--cutmix");
}

std::string to_json(const FinetuneConfig& c) {
  const nlohmann::ordered_json j = {
      {"finetune", c.finetune}, {"model-prefix", c.model_prefix}, {"model", c.model},
      {"drop-path", c.drop_path}, {"grad-checkpointing", c.grad_checkpointing}, {"catalog", c.catalog},
      {"dataset", c.dataset},
      {"nb-classes", c.nb_classes}, {"aa", c.aa}, {"reprob", c.reprob}, {"remode", c.remode},
      {"mixup", c.mixup}, {"cutmix", c.cutmix}, {"mixup-prob", c.mixup_prob},
      {"mixup-switch-prob", c.mixup_switch_prob}, {"smoothing", c.smoothing}, {"epochs", c.epochs},
      {"warmup-epochs", c.warmup_epochs}, {"batch-size", c.batch_size}, {"update-freq", c.update_freq},
      {"lr", c.lr}, {"min-lr", c.min_lr}, {"weight-decay", c.weight_decay}, {"layer-decay", c.layer_decay},
      {"opt-betas", c.opt_betas}, {"opt-eps", c.opt_eps}, {"eval", c.eval}};
  nlohmann::ordered_json all = j;
  all.update(nlohmann::ordered_json::parse(to_json(c.preprocessing)));
  all.update(to_json(static_cast<const RunOptions&>(c)));
  return all.dump(2);
}

FinetuneResult finetune(const FinetuneConfig& config, const FinetuneHooks& hooks) {
  validate(config);
  RunHooks run_hooks = hooks;  // a hook that watches each step has every step's values read on the host
  run_hooks.read_every_step = hooks.read_every_step || static_cast<bool>(hooks.on_step);
  TrainingRun run(config, to_json(config), run_hooks);
  const at::Device device = run.device();
  const std::shared_ptr<ProcessGroup>& group = run.group();
  const int64_t world = run.world_size();
  const std::string precision = resolve_precision(config.precision, device, "--precision");
  const std::optional<at::ScalarType> dtype = autocast_dtype(precision);

  // The model: the pre-training model's image tower (its recorded config, drop path set) and a head.
  const std::string weights = config.finetune.empty() ? "" : weights_file(config.finetune, "--finetune");
  ModelConfig model_config =
      weights.empty() ? resolve_model_config(config.model) : recorded_model_config(weights, config.model);
  apply_preprocessing_overrides(model_config.vision, config.preprocessing);  // recorded with the weights
  VisionConfig vision = model_config.vision;
  vision.drop_path = config.drop_path;
  const DatasetPtr train = open_catalog_dataset(config.catalog, config.dataset, /*train=*/true);
  const DatasetPtr test = open_catalog_dataset(config.catalog, config.dataset, /*train=*/false);
  int64_t classes = config.nb_classes;
  if (classes == 0) {
    classes = static_cast<int64_t>(train->class_names().size());
    require(classes > 0, "--dataset " + config.dataset + ": " + train->description() +
                             " does not list its classes; pass --nb-classes");
  }
  at::manual_seed(static_cast<uint64_t>(config.seed));
  ImageClassifier model(vision, classes);
  if (!weights.empty()) {
    load_image_tower(*model, weights, config.model_prefix);
    run.log("=> image tower of " + model_config.name + " loaded from " + weights);
  }
  model->visual->set_grad_checkpointing(config.grad_checkpointing);
  model->to(device);
  if (config.gpu.channels_last) to_channels_last(*model);
  run.broadcast_from_lead(*model);  // every rank starts from rank 0's weights
  at::manual_seed(static_cast<uint64_t>(config.seed) + static_cast<uint64_t>(run.environment().rank));  // drop path per rank

  AdamWOptions adamw_options;
  adamw_options.lr = config.lr;
  adamw_options.beta1 = config.opt_betas[0];
  adamw_options.beta2 = config.opt_betas[1];
  adamw_options.eps = config.opt_eps;
  AdamW optimizer(layer_decay_parameter_groups(*model, config.weight_decay, config.layer_decay, vision.depth),
                  adamw_options);
  std::unique_ptr<GradientSynchronizer> synchronizer;
  if (group) {
    std::vector<at::Tensor> trained;
    for (const at::Tensor& parameter : model->parameters()) trained.push_back(parameter);
    synchronizer = std::make_unique<GradientSynchronizer>(group, trained);
  }
  GradScalerOptions scaler_options;
  scaler_options.enabled = precision == "fp16";
  GradScaler scaler(scaler_options);

  // Data: BEiT's training views, batches of a fixed size.
  PipelineOptions pipeline;
  pipeline.views = {ViewRecipe::kFinetune};
  pipeline.image_size = vision.image_size;
  pipeline.view_settings.preprocessing = model_preprocessing(vision);
  pipeline.view_settings.finetune.auto_augment = config.aa == "none" ? "" : config.aa;
  pipeline.view_settings.finetune.random_erasing = config.reprob;
  pipeline.view_settings.finetune.random_erasing_mode = config.remode;
  Loader loader(train, std::make_shared<const SamplePipeline>(pipeline), run.loader_options(config.batch_size));
  const int64_t batches_per_epoch = loader.steps_per_epoch();
  const int64_t steps_per_epoch = batches_per_epoch / config.update_freq;
  require(steps_per_epoch > 0, "--batch-size " + std::to_string(config.batch_size) + " x --update-freq " +
                                   std::to_string(config.update_freq) + " x " + std::to_string(world) +
                                   " processes is more than the " + std::to_string(train->size()) +
                                   " training images of " + config.dataset);
  const std::vector<double> schedule =
      cosine_schedule(config.lr, config.min_lr, config.epochs, steps_per_epoch, config.warmup_epochs, 0.0);
  MixupOptions mixup;
  mixup.mixup_alpha = config.mixup;
  mixup.cutmix_alpha = config.cutmix;
  mixup.prob = config.mixup_prob;
  mixup.switch_prob = config.mixup_switch_prob;
  mixup.label_smoothing = config.smoothing;

  run.track(*model,
            {{[&] { return optimizer.state(); }, [&](const StateDict& s) { optimizer.load_state(s); }},
             {[&] { return scaler.state(); }, [&](const StateDict& s) { scaler.load_state(s); }}},
            to_json(model_config));  // the tower's shape and preprocessing, so --finetune can read these weights
  RunPosition at = run.resume(batches_per_epoch, config.update_freq);
  FinetuneResult result;
  result.best_acc1 = run.best_acc1();
  result.last_checkpoint = run.last_checkpoint();
  const int workers = static_cast<int>(config.workers);
  if (config.eval) {
    const Evaluation e = evaluate(*model, test, device, dtype, config.batch_size, workers, group);
    run.log(format_text("* Acc@1 %.3f Acc@5 %.3f loss %.3f on %lld test images", e.acc1, e.acc5, e.loss,
                        static_cast<long long>(e.samples)));
    result.acc1 = e.acc1;
    result.acc5 = e.acc5;
    result.best_acc1 = std::max(result.best_acc1, e.acc1);
    result.completed = true;
    return result;
  }
  int64_t parameters = 0;
  for (const at::Tensor& p : model->parameters()) parameters += p.numel();
  run.log("=> finetuning " + model_config.name + "'s image tower (" + std::to_string(parameters) + " parameters, " +
          std::to_string(classes) + " classes) on " + config.dataset + ": " + std::to_string(train->size()) +
          " training, " + std::to_string(test->size()) + " test images; " + device.str() + " x " +
          std::to_string(world) + ", " + precision + ", " + std::to_string(steps_per_epoch) +
          " optimizer steps per epoch of " + std::to_string(config.batch_size * world) + " x " +
          std::to_string(config.update_freq));
  run.begin(config.epochs, steps_per_epoch, batches_per_epoch);

  for (; at.epoch < config.epochs; ++at.epoch, at.batch = 0) {
    const Clock::time_point started = Clock::now();
    model->train();
    loader.start_epoch(at.epoch, at.batch);
    double last_lr = 0.0;
    at::Tensor step_loss;                   // the step's loss, the mean of its micro-batches' (on the device)
    bool skip_step = false;                 // --skip-nonfinite: this step's loss was not finite
    for (; at.batch < batches_per_epoch; ++at.batch) {
      const Batch batch = run.next_batch(loader, at);
      const int64_t global_step = at.epoch * steps_per_epoch + at.batch / config.update_freq;
      last_lr = schedule[static_cast<size_t>(global_step)];
      optimizer.set_lr(last_lr);
      const bool last_micro_batch = (at.batch + 1) % config.update_freq == 0;

      std::mt19937_64 rng = sample_rng(static_cast<uint64_t>(config.seed), static_cast<uint64_t>(at.epoch),
                                       static_cast<uint64_t>(at.batch),
                                       kMixupStream + static_cast<uint64_t>(run.environment().rank));
      const at::Tensor images = batch.views[0].to(device, /*non_blocking=*/true);  // [B, 3, S, S]
      const MixDraw draw = sample_mix(mixup, images.size(2), images.size(3), rng);
      const MixedBatch mixed = mix_batch(images, batch.labels.to(device), draw, classes, config.smoothing);
      at::Tensor loss;
      run.enter(RunPhase::kForward);
      {
        AutocastScope autocast(device.type(), dtype);
        loss = soft_target_cross_entropy(model->forward(mixed.images).to(at::kFloat), mixed.targets);
      }
      if (run.skip_nonfinite_step(loss, {}, at)) {
        skip_step = true;  // --skip-nonfinite: no backward, and the step's gradients are dropped
      } else if (!skip_step) {
        run.enter(RunPhase::kBackward);
        if (synchronizer) synchronizer->set_enabled(last_micro_batch);
        scaler.scale(loss / static_cast<double>(config.update_freq)).backward();
        if (synchronizer && last_micro_batch) synchronizer->finish();
        const at::Tensor share = loss.detach().to(at::kDouble) / static_cast<double>(config.update_freq);
        step_loss = step_loss.defined() ? step_loss + share : share;
      }
      if (!last_micro_batch) continue;
      if (!skip_step) scaler.step(optimizer);
      optimizer.zero_grad();
      StepLog step;
      step.after = {at.epoch, at.batch + 1};
      step.global_step = global_step + 1;
      step.step_in_epoch = at.batch / config.update_freq;
      step.lr = last_lr;
      if (!skip_step) step.metrics["loss"] = step_loss;
      if (skip_step) step.note = " (step skipped: non-finite loss)";
      step_loss = at::Tensor();
      skip_step = false;
      const StepVerdict verdict = run.end_step(std::move(step));
      if (hooks.on_step) {  // every step is read then: verdict.read holds this one
        for (const StepValues& values : verdict.read) {
          const auto loss_read = values.metrics.find("loss");
          hooks.on_step(values.global_step - 1, values.lr, loss_read == values.metrics.end() ? std::nan("") : loss_read->second);
        }
      }
      if (verdict.stopped) {
        result.last_checkpoint = run.last_checkpoint();
        return result;
      }
    }
    run.enter(RunPhase::kEvaluation);
    const Evaluation e = evaluate(*model, test, device, dtype, config.batch_size, workers, group);
    const double train_loss = run.meters().averages()["loss"];
    const bool is_best = run.record_accuracy(e.acc1);
    result.best_acc1 = run.best_acc1();
    result.acc1 = e.acc1;
    result.acc5 = e.acc5;
    result.history.push_back({at.epoch, last_lr, train_loss, e.loss, e.acc1, e.acc5});
    const nlohmann::ordered_json line = {{"train_lr", last_lr}, {"train_loss", train_loss}, {"test_loss", e.loss},
                                         {"test_acc1", e.acc1},  {"test_acc5", e.acc5},      {"epoch", at.epoch},
                                         {"n_parameters", parameters}};
    run.log(format_text("* epoch %lld/%lld train loss %.4f test Acc@1 %.3f Acc@5 %.3f loss %.4f (max %.2f%%, %.1f s)",
                        static_cast<long long>(at.epoch), static_cast<long long>(config.epochs), train_loss, e.acc1,
                        e.acc5, e.loss, result.best_acc1, std::chrono::duration<double>(Clock::now() - started).count()));
    const bool stopped = run.end_epoch(at.epoch, line, is_best);
    result.last_checkpoint = run.last_checkpoint();
    if (stopped) return result;
  }
  result.completed = true;
  return result;
}

}  // namespace slipstream
