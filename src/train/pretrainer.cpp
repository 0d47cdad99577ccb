#include "slipstream/train/pretrainer.h"

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>
#include <torch/nn/module.h>

#include <cstdio>
#include <filesystem>
#include <optional>

#include "slipstream/core/error.h"
#include "slipstream/core/text_format.h"
#include "slipstream/core/safetensors.h"
#include "slipstream/core/state_dict.h"
#include "slipstream/data/text/bpe_location.h"
#include "slipstream/data/text/clip_tokenizer.h"
#include "slipstream/data/datasets/open_dataset.h"
#include "slipstream/data/text/easy_data_augmentation.h"
#include "slipstream/data/loader.h"
#include "slipstream/dist/collectives.h"
#include "slipstream/dist/environment.h"
#include "slipstream/dist/gradient_sync.h"
#include "slipstream/dist/process_group.h"
#include "slipstream/eval/model_preprocessing.h"
#include "slipstream/eval/zero_shot.h"
#include "slipstream/losses/slip_loss.h"
#include "slipstream/models/registry.h"
#include "slipstream/models/vision_transformer.h"
#include "slipstream/train/adamw.h"
#include "slipstream/train/autocast.h"
#include "slipstream/train/cuda_graph_step.h"
#include "slipstream/train/gpu_settings.h"
#include "slipstream/train/grad_scaler.h"
#include "slipstream/train/image_tower_lock.h"
#include "slipstream/train/lr_schedule.h"
#include "slipstream/train/pretraining_data.h"
#include "slipstream/train/training_run.h"

namespace slipstream {
namespace {

namespace fs = std::filesystem;
std::vector<ViewRecipe> views_of(const std::string& family) {
  if (family == "clip") return {ViewRecipe::kClip};
  if (family == "declip") return {ViewRecipe::kMocoV2, ViewRecipe::kMocoV2};
  if (family == "simclr") return {ViewRecipe::kSimclr, ViewRecipe::kSimclr};
  return {ViewRecipe::kClip, ViewRecipe::kSimclr, ViewRecipe::kSimclr};  // slip
}

ModelInputs inputs_of(const Batch& batch, const std::string& family, const at::Device& device) {
  const auto move = [&](const at::Tensor& t) { return t.to(device, /*non_blocking=*/true); };
  ModelInputs inputs;
  if (family == "simclr") {
    inputs.aug1 = move(batch.views[0]);
    inputs.aug2 = move(batch.views[1]);
    return inputs;
  }
  if (family == "declip") {
    inputs.aug1 = move(batch.views[0]);
    inputs.aug2 = move(batch.views[1]);
    inputs.text = move(batch.tokens);
    inputs.text_aug = move(batch.tokens_aug);
    return inputs;
  }
  inputs.image = move(batch.views[0]);
  inputs.text = move(batch.tokens);
  if (family == "slip") {
    inputs.aug1 = move(batch.views[1]);
    inputs.aug2 = move(batch.views[2]);
  }
  return inputs;
}

// The L2 norm of all the optimizer's gradients together (as scaled by the loss scaler), read on
// the host: for the on_step hook only.
double gradient_norm(const AdamW& optimizer) {
  std::vector<at::Tensor> grads;
  for (const ParameterGroup& group : optimizer.groups()) {
    for (const at::Tensor& parameter : group.parameters) {
      if (parameter.grad().defined()) grads.push_back(parameter.grad());
    }
  }
  if (grads.empty()) return 0.0;
  std::vector<at::Tensor> norms = at::_foreach_norm(grads, 2);
  return at::stack(norms).to(at::kDouble).norm().item<double>();
}

// Adds a micro-batch's metrics, each / `parts`, to the step's: 0-dim double tensors on the device,
// each a new tensor (a CUDA graph's outputs are overwritten by its next replay).
void add_metrics(std::map<std::string, at::Tensor>& step, const std::map<std::string, at::Tensor>& metrics, int64_t parts) {
  for (const auto& [name, value] : metrics) {
    const at::Tensor share = value.detach().to(at::kDouble) / static_cast<double>(parts);
    at::Tensor& sum = step[name];
    sum = sum.defined() ? sum + share : share;
  }
}

// The cached features of an accumulated batch with micro-batch j's replaced by `fresh` (which
// carries the gradient), each field concatenated over the micro-batches in order.
ModelOutputs with_fresh_features(const std::vector<ModelOutputs>& cached, size_t j, const ModelOutputs& fresh) {
  const auto combine = [&](at::Tensor ModelOutputs::*field) {
    if (!(fresh.*field).defined()) return at::Tensor();
    std::vector<at::Tensor> parts;
    for (size_t k = 0; k < cached.size(); ++k) parts.push_back(k == j ? fresh.*field : cached[k].*field);
    return at::cat(parts, 0);
  };
  ModelOutputs out;
  out.image_embed = combine(&ModelOutputs::image_embed);
  out.text_embed = combine(&ModelOutputs::text_embed);
  out.aug1_embed = combine(&ModelOutputs::aug1_embed);
  out.aug2_embed = combine(&ModelOutputs::aug2_embed);
  // The temperature's gradient from one recompute only: it reaches the whole batch's loss once,
  // as in one large batch (open_clip lets every recompute add it, counting it update_freq times).
  out.logit_scale = j + 1 == cached.size() || !fresh.logit_scale.defined() ? fresh.logit_scale : fresh.logit_scale.detach();
  return out;
}

// LiT's start: the image side (visual.*, and image_projection when the file has it) from a
// safetensors file; every tensor of the tower must be there. Returns the line for the log.
std::string load_pretrained_image(ContrastiveModelImpl& model, const std::string& path) {
  SafetensorsFile file;
  try {
    file = load_safetensors(path);
  } catch (const FileFormatError& e) {
    throw ConfigError(std::string("--pretrained-image: ") + e.what());
  }
  StateDict image_side;
  for (const auto& [name, tensor] : file.tensors) {
    if (name.rfind("visual.", 0) == 0 || name == "image_projection") image_side[name] = tensor;
  }
  if (image_side.empty()) {
    throw ConfigError("--pretrained-image " + path + ": no visual.* tensors (convert timm or open_clip weights with "
                      "scripts/convert_checkpoint.py)");
  }
  const LoadReport report = load_state_dict(model, image_side, /*strict=*/false);
  std::vector<std::string> missing;
  for (const std::string& name : report.missing) {
    if (name.rfind("visual.", 0) == 0) missing.push_back(name);
  }
  if (!missing.empty() || !report.unexpected.empty() || !report.mismatched.empty()) {
    LoadReport image_report = report;
    image_report.missing = missing;
    throw ConfigError("--pretrained-image " + path + " does not fit " + model.config().name + "'s image tower: " +
                      image_report.summary());
  }
  return "=> image side initialised from " + path + " (" + std::to_string(image_side.size()) + " tensors" +
         (image_side.count("image_projection") ? ", image_projection included)" : "; image_projection from the init)");
}

// The run's changes to a freshly built model: LiT's pretrained image side and lock, FLIP's patch
// dropout. Appends a log line for each; returns the lock when the image side is locked.
std::optional<ImageTowerLock> adapt_model(ContrastiveModelImpl& model, const PretrainConfig& config,
                                          std::vector<std::string>& lines) {
  const std::string& name = model.config().name;
  if (!config.pretrained_image.empty()) lines.push_back(load_pretrained_image(model, config.pretrained_image));
  if (config.grad_checkpointing) {
    model.set_grad_checkpointing(true);
    lines.push_back("=> activation checkpointing: each transformer block and ResNet stage recomputed in the backward pass");
  }
  if (config.patch_dropout > 0.0) {
    auto* vit = dynamic_cast<VisionTransformerImpl*>(model.visual().get());
    if (!vit) throw ConfigError("--patch-dropout: " + name + "'s image tower is not a ViT");
    vit->set_patch_dropout(config.patch_dropout);
    char line[64];
    std::snprintf(line, sizeof(line), "=> patch dropout %g in training", config.patch_dropout);
    lines.push_back(line);
  }
  if (!config.lock_image) return std::nullopt;
  auto* clip = dynamic_cast<ClipModelImpl*>(&model);
  if (!clip) throw ConfigError("--lock-image: " + name + " has no text tower to train");
  ImageTowerLock lock(*clip, ImageTowerLockOptions{config.lock_image_unlocked_groups, config.lock_image_freeze_bn_stats});
  lines.push_back("=> " + lock.summary());
  return lock;
}

}  // namespace

PretrainResult pretrain(const PretrainConfig& given, const PretrainHooks& hooks) {
  validate(given);
  // The model, and CLIP's BPE merges for one with a text tower: --bpe, else found (and then
  // recorded in config.json and with the weights, so evaluation finds them too).
  ModelConfig model_config = resolve_model_config(given.model);
  PretrainConfig config = given;
  std::optional<BpeLocation> bpe;
  if (model_config.has_text()) {
    bpe = find_clip_bpe(given.bpe);
    config.bpe = bpe->path;
  }
  RunHooks run_hooks = hooks;  // a hook that watches each step has every step's values read on the host
  run_hooks.read_every_step = hooks.read_every_step || static_cast<bool>(hooks.on_step);
  TrainingRun run(config, to_json(config), run_hooks);
  if (bpe) run.record_with_weights("bpe", bpe->path);
  const DistributedEnvironment& environment = run.environment();
  const std::shared_ptr<ProcessGroup>& group = run.group();
  const at::Device device = run.device();

  // Precision: SLIP's AMP is on unless --disable-amp; bf16 on GPUs needs no loss scaling.
  const std::string precision =
      config.disable_amp ? "fp32" : resolve_precision(config.precision, device, "--precision");
  const std::optional<at::ScalarType> autocast_dtype = slipstream::autocast_dtype(precision);

  // Model and loss.
  if (model_config.has_ssl_head()) {  // SLIP's flags resize the SimCLR head only when given
    if (config.ssl_mlp_dim > 0) model_config.ssl.mlp_dim = config.ssl_mlp_dim;
    if (config.ssl_emb_dim > 0) model_config.ssl.emb_dim = config.ssl_emb_dim;
  }
  if (!config.loss.empty()) model_config.contrastive_loss = config.loss;
  apply_preprocessing_overrides(model_config.vision, config.preprocessing);
  validate(model_config);
  at::manual_seed(static_cast<uint64_t>(config.seed));
  ContrastiveModel model = create_model(model_config);
  std::vector<std::string> setup_lines;  // printed once the run's header is out
  const std::optional<ImageTowerLock> image_lock = adapt_model(*model, config, setup_lines);
  // Train mode, with a locked image side kept in eval mode (again after every validation).
  const auto set_train_mode = [&] { image_lock ? image_lock->train(*model) : model->train(); };
  model->to(device);
  if (config.gpu.channels_last) to_channels_last(*model);
  set_train_mode();
  // Training-time draws (drop path) differ per rank, as SLIP's seed + rank.
  at::manual_seed(static_cast<uint64_t>(config.seed + environment.rank));
  LossOptions loss_options;
  loss_options.ssl_scale = config.ssl_scale;
  loss_options.ssl_temperature = config.ssl_temp;
  loss_options.gather_with_grad = config.gather_with_grad;
  loss_options.contrastive = model_config.contrastive_loss;
  loss_options.nn_queue_size = config.nn_queue_size;
  if (model_config.family == "declip" && config.accum_mode == "cached-features" && config.update_freq > 1) {
    throw ConfigError("--accum-mode cached-features: not available for DeCLIP (its queue and masking are per step)");
  }
  run.broadcast_from_lead(*model);  // every rank starts from rank 0's weights
  if (group) {
    // Features are gathered over ranks; the SimCLR head's BatchNorm sees every rank's batch.
    loss_options.gather = std::make_shared<DistributedFeatureGather>(group);
    if (auto* slip = dynamic_cast<SlipModelImpl*>(model.get())) slip->image_mlp->set_batch_norm(sync_batch_norm(group));
    if (auto* simclr = dynamic_cast<SimclrModelImpl*>(model.get())) simclr->image_mlp->set_batch_norm(sync_batch_norm(group));
  }
  const std::unique_ptr<ContrastiveLoss> loss_function = create_loss(model_config.family, loss_options);

  // Data.
  PipelineOptions pipeline_options;
  pipeline_options.views = views_of(model_config.family);
  pipeline_options.image_size = model_config.vision.image_size;
  pipeline_options.view_settings.preprocessing = model_preprocessing(model_config.vision);
  pipeline_options.view_settings.clip = parse_aug_cfg(config.aug_cfg);
  std::string aug_cfg_text;
  for (const std::string& item : config.aug_cfg) aug_cfg_text += " " + item;
  setup_lines.push_back("=> images: " + describe_preprocessing(model_config.vision) +
                        (aug_cfg_text.empty() ? "" : "; --aug-cfg" + aug_cfg_text));
  if (model_config.ssl.image_size != 0) {  // SLIP's SimCLR views at their own side
    for (ViewRecipe recipe : pipeline_options.views) {
      pipeline_options.view_sizes.push_back(recipe == ViewRecipe::kSimclr ? model_config.ssl.image_size
                                                                          : model_config.vision.image_size);
    }
    setup_lines.push_back("=> SimCLR views at " + std::to_string(model_config.ssl.image_size) + " px, the CLIP view at " +
                          std::to_string(model_config.vision.image_size) + " px (ssl.image_size)");
  }
  pipeline_options.context_length = model_config.text.context_length;
  std::shared_ptr<const ClipTokenizer> tokenizer;
  if (model_config.has_text()) {
    tokenizer = std::make_shared<const ClipTokenizer>(config.bpe);
    setup_lines.push_back("=> CLIP BPE merges: " + bpe->describe());
    const int64_t context = model_config.text.context_length;
    pipeline_options.tokenizer = [tokenizer, context](const std::string& text) { return tokenizer->frame(text, context); };
  }
  if (model_config.family == "declip") {  // the EDA view of every caption
    auto eda = std::make_shared<const EasyDataAugmentation>(std::make_shared<const WordNet>(config.wordnet));
    pipeline_options.caption_view = [eda](const std::string& caption, std::mt19937_64& rng) { return (*eda)(caption, rng); };
  }
  PretrainingData data = open_pretraining_data(config, std::make_shared<const SamplePipeline>(pipeline_options),
                                               run.loader_options(config.batch_size), model_config.vision.image_size);
  BatchLoader& loader = *data.loader;
  const int64_t steps_per_epoch = loader.steps_per_epoch() / config.update_freq;  // optimizer steps
  if (steps_per_epoch < 1) {
    throw ConfigError("--batch-size " + std::to_string(config.batch_size) + " x --update-freq " +
                      std::to_string(config.update_freq) + ": more than the " + std::to_string(data.samples_per_epoch) +
                      " samples of --dataset " + config.dataset + " (one optimizer step needs that many)");
  }
  const int64_t batches_per_epoch = steps_per_epoch * config.update_freq;  // a remainder is not trained on

  // Zero-shot validation: the catalog's dataset (its test split), templates and class names, read now
  // so a wrong path fails before training.
  DatasetPtr validation;
  std::vector<std::string> templates;
  std::vector<std::vector<std::string>> class_names;
  if (!config.eval_catalog.empty() && model_config.has_text()) {
    const fs::path folder = fs::path(config.eval_catalog).parent_path();
    const std::string templates_path = config.eval_templates.empty() ? (folder / "templates.json").string() : config.eval_templates;
    const std::string labels_path = config.eval_labels.empty() ? (folder / "labels.json").string() : config.eval_labels;
    templates = load_prompt_templates(templates_path, config.eval_dataset);
    class_names = load_class_names(labels_path, config.eval_dataset);
    validation = open_catalog_dataset(config.eval_catalog, config.eval_dataset, /*train=*/false);
  }
  const std::vector<double> schedule =
      cosine_schedule(config.lr, config.lr_end, config.epochs, steps_per_epoch, config.warmup_epochs, config.lr_start);

  // Optimizer and loss scaler.
  AdamWOptions adamw_options;
  adamw_options.lr = config.lr;
  adamw_options.beta1 = config.betas[0];
  adamw_options.beta2 = config.betas[1];
  adamw_options.eps = config.eps;
  AdamW optimizer(slip_parameter_groups(*model, config.wd), adamw_options);
  std::unique_ptr<GradientSynchronizer> synchronizer;
  if (group) {
    std::vector<at::Tensor> trained;  // registration order: backward produces their gradients in reverse
    for (const at::Tensor& parameter : model->parameters()) {
      if (parameter.requires_grad()) trained.push_back(parameter);
    }
    synchronizer = std::make_unique<GradientSynchronizer>(group, trained, config.bucket_mb << 20);
  }
  GradScalerOptions scaler_options;
  scaler_options.enabled = precision == "fp16";
  GradScaler scaler(scaler_options);

  // Resume: the output folder's last checkpoint, else --resume (a checkpoint folder, or weights).
  run.track(*model,
            {{[&] { return optimizer.state(); }, [&](const StateDict& s) { optimizer.load_state(s); }},
             {[&] { return scaler.state(); }, [&](const StateDict& s) { scaler.load_state(s); }},
             {[&] { return loss_function->state(); }, [&](const StateDict& s) { loss_function->load_state(s); }},
             &loader},
            to_json(model_config));
  RunPosition at = run.resume(batches_per_epoch, config.update_freq, config.resume, {config.start_epoch, 0});

  run.log("=> config " + nlohmann::json::parse(to_json(config)).dump());
  run.log("=> " + model_config.name + " (" + std::to_string(count_parameters(*model).total()) + " parameters) on " +
          device.str() + (group ? " x " + std::to_string(environment.world_size) + " processes (" + group->backend_name() +
                           ", " + environment.source + ")" : std::string()) +
          ", " + precision + ", " + std::to_string(data.samples_per_epoch) + " samples, " +
          std::to_string(steps_per_epoch) + " optimizer steps per epoch of " + std::to_string(config.batch_size) + " x " +
          std::to_string(config.update_freq) + ", " + std::to_string(loader.workers()) + " loader threads");
  run.log("=> data: " + data.description);
  for (const std::string& line : setup_lines) run.log(line);
  run.begin(config.epochs, steps_per_epoch, batches_per_epoch);

  // --cuda-graphs on a GPU: each step's forward and backward replayed from a graph.
  std::unique_ptr<CudaGraphStep> graph_step;
  if (config.gpu.cuda_graphs && device.is_cuda()) {
    if (group) throw ConfigError("--cuda-graphs: one process only for now (the feature gathers are not captured)");
    if (config.update_freq != 1) throw ConfigError("--cuda-graphs: needs --update-freq 1 (one micro-batch a step)");
    if (precision == "fp16") throw ConfigError("--cuda-graphs: bf16 or fp32 (fp16's loss scale is a host number)");
    if (model_config.family == "declip") throw ConfigError("--cuda-graphs: DeCLIP's queue and masking change every step");
    std::vector<at::Tensor> trained;
    for (const at::Tensor& parameter : model->parameters()) {
      if (parameter.requires_grad()) trained.push_back(parameter);
    }
    graph_step = std::make_unique<CudaGraphStep>(
        [&](const ModelInputs& in) {
          AutocastScope autocast(device.type(), autocast_dtype);
          return loss_function->forward(model->forward(in));
        },
        trained);
  }

  PretrainResult result;
  result.global_step = at.epoch * steps_per_epoch + at.batch / config.update_freq;
  double last_lr = 0.0, last_logit_scale = 0.0;
  std::map<std::string, double> last_counters;  // summed over the ranks
  const bool cached_features = config.accum_mode == "cached-features" && config.update_freq > 1;
  std::vector<ModelInputs> cached_inputs;    // --accum-mode cached-features: this step's micro-batches
  std::vector<ModelOutputs> cached_outputs;  // and their features, computed without gradient
  bool skip_step = false;                     // --skip-nonfinite: this step's loss was not finite
  for (; at.epoch < config.epochs; ++at.epoch, at.batch = 0) {
    loader.start_epoch(at.epoch, at.batch);
    std::map<std::string, at::Tensor> step_metrics;  // 0-dim, on the device until the run reads them
    for (; at.batch < batches_per_epoch; ++at.batch) {
      const Batch batch = run.next_batch(loader, at);
      const int64_t global_step = at.epoch * steps_per_epoch + at.batch / config.update_freq;  // SLIP's `it`
      optimizer.set_lr(schedule[static_cast<size_t>(global_step)]);

      const bool last_micro_batch = (at.batch + 1) % config.update_freq == 0;
      ModelInputs inputs = inputs_of(batch, model_config.family, device);
      run.enter(RunPhase::kForward);
      if (graph_step) {
        // --cuda-graphs: the forward and backward replayed (the graph writes the gradients).
        const LossOutput& output = graph_step->run(inputs);
        if (run.skip_nonfinite_step(output.loss, output.metrics, at)) {
          skip_step = true;  // the gradients exist, but no update is made from them
        } else {
          add_metrics(step_metrics, output.metrics, 1);
        }
      } else if (!cached_features) {
        // SLIP's accumulation: each micro-batch its own contrastive problem, loss / update_freq.
        LossOutput output;
        {
          AutocastScope autocast(device.type(), autocast_dtype);
          output = loss_function->forward(model->forward(inputs));
        }
        if (run.skip_nonfinite_step(output.loss, output.metrics, at)) {
          skip_step = true;  // --skip-nonfinite: no backward, and the step's gradients are dropped
        } else if (!skip_step) {
          run.enter(RunPhase::kBackward);
          if (synchronizer) synchronizer->set_enabled(last_micro_batch);
          scaler.scale(output.loss / static_cast<double>(config.update_freq)).backward();
          if (synchronizer && last_micro_batch) synchronizer->finish();
          add_metrics(step_metrics, output.metrics, config.update_freq);
        }
      } else {
        // open_clip's: cache every micro-batch's features without gradient; at the last one,
        // recompute each with gradient against the cached others, so every loss sees the
        // negatives of the whole accumulated batch and the summed gradient is the large batch's.
        {
          at::NoGradGuard no_grad;
          AutocastScope autocast(device.type(), autocast_dtype);
          cached_outputs.push_back(model->forward(inputs));
        }
        cached_inputs.push_back(std::move(inputs));
        for (size_t j = 0; last_micro_batch && j < cached_inputs.size(); ++j) {
          LossOutput output;
          {
            AutocastScope autocast(device.type(), autocast_dtype);
            output = loss_function->forward(with_fresh_features(cached_outputs, j, model->forward(cached_inputs[j])));
          }
          if (run.skip_nonfinite_step(output.loss, output.metrics, at)) {
            skip_step = true;
            break;
          }
          run.enter(RunPhase::kBackward);
          const bool last_recompute = j + 1 == cached_inputs.size();
          if (synchronizer) synchronizer->set_enabled(last_recompute);
          scaler.scale(output.loss).backward();
          if (last_recompute) {
            if (synchronizer) synchronizer->finish();
            add_metrics(step_metrics, output.metrics, 1);
          }
        }
        if (last_micro_batch) {
          cached_inputs.clear();
          cached_outputs.clear();
        }
      }
      if (!last_micro_batch) continue;

      // The optimizer step (none for a step skipped for a non-finite loss).
      const double grad_norm = hooks.on_step && !skip_step ? gradient_norm(optimizer) / scaler.current_scale() : 0.0;
      const bool stepped = !skip_step && scaler.step(optimizer);  // fp16 reads whether it found inf/NaN
      if (!graph_step) optimizer.zero_grad();  // a graph zeroes its gradients itself, in place
      StepLog step;
      if (auto* clip = dynamic_cast<ClipModelImpl*>(model.get())) {
        clip->clamp_logit_scale();
        step.scalars["logit_scale"] = clip->logit_scale.detach().exp();
      }
      step.after = {at.epoch, at.batch + 1};
      step.global_step = global_step + 1;
      step.step_in_epoch = at.batch / config.update_freq;
      step.lr = last_lr = optimizer.lr();
      if (skip_step) step_metrics.clear();  // a skipped step's earlier micro-batches are not its metrics
      step.metrics = std::move(step_metrics);
      step.counters = loader.counters();  // replaced samples (and failed shards, skipped keys), summed over ranks
      if (scaler.enabled()) step.scalars["loss_scale"] = at::scalar_tensor(scaler.current_scale(), at::kDouble);
      if (!stepped) step.note = skip_step ? " (step skipped: non-finite loss)" : " (step skipped: inf/NaN gradient)";
      skip_step = false;
      const StepVerdict verdict = run.end_step(std::move(step));
      step_metrics.clear();
      if (!verdict.read.empty()) {  // a read point: the values of the steps since the last one
        last_counters = verdict.counters;
        const auto scale = verdict.read.back().scalars.find("logit_scale");
        if (scale != verdict.read.back().scalars.end()) last_logit_scale = scale->second;
      }
      if (hooks.on_step) {  // every step is read then: verdict.read holds this one
        for (const StepValues& values : verdict.read) {
          const auto scale = values.scalars.find("logit_scale");
          hooks.on_step({values.after.epoch, values.after.batch - 1, values.global_step, values.lr, values.metrics,
                         scale == values.scalars.end() ? 0.0 : scale->second, grad_norm, !stepped});
        }
      }
      if (verdict.stopped) {
        result.epoch = at.epoch;
        result.batch = at.batch + 1;
        result.global_step = global_step + 1;
        result.last_checkpoint = run.last_checkpoint();
        return result;
      }
    }

    // Epoch end: zero-shot validation, log.txt (SLIP's keys), checkpoint.
    nlohmann::ordered_json log_line;
    for (const auto& [name, value] : run.meters().averages()) log_line["train_" + name] = value;
    log_line["train_lr"] = last_lr;  // SLIP: the last step's lr and logit scale, the other metrics averaged
    log_line["train_logit_scale"] = last_logit_scale;
    if (data.streamed) {  // the stream's faults so far: failed shards, skipped keys, replaced images
      for (const auto& [name, value] : last_counters) log_line[name] = value;
    }
    bool is_best = false;
    if ((at.epoch + 1) % config.eval_freq == 0) {
      auto* clip = dynamic_cast<ClipModelImpl*>(model.get());
      if (validation && clip) {
        run.enter(RunPhase::kEvaluation);
        const at::Tensor classifier = zero_shot_classifier(*clip, *tokenizer, class_names, templates, device);
        const ZeroShotAccuracy accuracy = evaluate_zero_shot(*clip, classifier, validation, device, config.batch_size,
                                                             static_cast<int>(config.workers), group);
        set_train_mode();
        log_line["test_acc1"] = accuracy.top1;
        log_line["test_acc5"] = accuracy.top5;
        run.add_scalar("test/acc1", accuracy.top1, (at.epoch + 1) * steps_per_epoch);
        run.add_scalar("test/acc5", accuracy.top5, (at.epoch + 1) * steps_per_epoch);
        run.flush_scalars();
        is_best = run.record_accuracy(accuracy.top1);
        run.log(format_text("=> epoch %lld: zero-shot %s top-1 %.2f%% top-5 %.2f%% (%lld images)%s",
                            static_cast<long long>(at.epoch), config.eval_dataset.c_str(), accuracy.top1, accuracy.top5,
                            static_cast<long long>(accuracy.samples), is_best ? ", best so far" : ""));
      } else if (!clip) {
        run.log("=> epoch " + std::to_string(at.epoch) + ": " + model_config.name + " has no text tower, so no zero-shot validation");
      } else {
        run.log("=> epoch " + std::to_string(at.epoch) + ": zero-shot validation not configured (--eval-catalog)");
      }
    }
    log_line["epoch"] = at.epoch;
    const bool stopped = run.end_epoch(at.epoch, log_line, is_best);
    result.global_step = (at.epoch + 1) * steps_per_epoch;
    result.last_checkpoint = run.last_checkpoint();
    if (stopped) {
      result.epoch = at.epoch + 1;
      return result;
    }
  }
  result.completed = true;
  result.epoch = config.epochs;
  run.log("=> training done: " + std::to_string(result.global_step) + " optimizer steps; last checkpoint " +
          result.last_checkpoint);
  return result;
}

}  // namespace slipstream
