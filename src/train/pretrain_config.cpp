#include "slipstream/train/pretrain_config.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <set>

#include "slipstream/core/error.h"
#include "slipstream/core/require.h"
#include "slipstream/data/image/view_augmentation.h"

namespace slipstream {
namespace {

void require_positive(int64_t value, const char* flag) {
  require(value >= 1, std::string(flag) + " " + std::to_string(value) + ": expected at least 1");
}

void require_finite(double value, const char* flag, bool positive) {
  require(std::isfinite(value) && (positive ? value > 0.0 : value >= 0.0),
          std::string(flag) + " " + std::to_string(value) + ": expected a finite " + (positive ? "positive" : "non-negative") +
              " number");
}

}  // namespace

void validate(const PretrainConfig& c) {
  namespace fs = std::filesystem;
  validate(static_cast<const RunOptions&>(c));
  require_positive(c.epochs, "--epochs");
  require_positive(c.batch_size, "--batch-size");
  require_positive(c.update_freq, "--update-freq");
  require(c.accum_mode == "independent" || c.accum_mode == "cached-features",
          "--accum-mode " + c.accum_mode + ": expected independent or cached-features");
  require_positive(c.eval_freq, "--eval-freq");
  require_positive(c.synthetic_samples, "--synthetic-samples");
  require_positive(c.bucket_mb, "--bucket-mb");
  require(c.warmup_epochs >= 0 && c.warmup_epochs <= c.epochs,
          "--warmup-epochs " + std::to_string(c.warmup_epochs) + ": expected between 0 and --epochs (" +
              std::to_string(c.epochs) + ")");
  require(c.start_epoch >= 0 && c.start_epoch < c.epochs,
          "--start-epoch " + std::to_string(c.start_epoch) + ": expected between 0 and --epochs - 1");
  require_finite(c.lr, "--lr", true);
  require_finite(c.lr_start, "--lr-start", false);
  require_finite(c.lr_end, "--lr-end", false);
  require_finite(c.wd, "--wd", false);
  require_finite(c.eps, "--eps", true);
  require_finite(c.ssl_scale, "--ssl-scale", false);
  require_finite(c.ssl_temp, "--ssl-temp", true);
  require(c.ssl_mlp_dim >= 0, "--ssl-mlp-dim " + std::to_string(c.ssl_mlp_dim) + ": expected a width, or 0 for the model's");
  require(c.ssl_emb_dim >= 0, "--ssl-emb-dim " + std::to_string(c.ssl_emb_dim) + ": expected a width, or 0 for the model's");
  require(c.loss.empty() || c.loss == "clip" || c.loss == "siglip", "--loss " + c.loss + ": expected clip or siglip");
  require(std::isfinite(c.patch_dropout) && c.patch_dropout >= 0.0 && c.patch_dropout < 1.0,
          "--patch-dropout " + std::to_string(c.patch_dropout) + ": expected a rate in [0, 1)");
  require_positive(c.nn_queue_size, "--nn-queue-size");
  parse_aug_cfg(c.aug_cfg);  // ConfigError naming the item
  VisionConfig preprocessing_check;
  apply_preprocessing_overrides(preprocessing_check, c.preprocessing);
  require(c.lock_image || (c.lock_image_unlocked_groups == 0 && !c.lock_image_freeze_bn_stats),
          "--lock-image-unlocked-groups and --lock-image-freeze-bn-stats need --lock-image");
  require(c.lock_image_unlocked_groups >= 0,
          "--lock-image-unlocked-groups " + std::to_string(c.lock_image_unlocked_groups) + ": expected 0 or more");
  for (double beta : c.betas) {
    require(beta >= 0.0 && beta < 1.0, "--betas " + std::to_string(c.betas[0]) + " " + std::to_string(c.betas[1]) +
                                           ": expected two numbers in [0, 1)");
  }
  require(c.streaming == "auto" || c.streaming == "on" || c.streaming == "off",
          "--streaming '" + c.streaming + "': expected auto, on or off");
  const bool streaming_flags = c.streaming == "on" || c.train_num_samples > 0 || c.dataset_resampled ||
                               !c.train_data_upsampling_factors.empty();
  require(c.dataset == "webdataset" || !streaming_flags,
          "--streaming, --train-num-samples, --dataset-resampled and --train-data-upsampling-factors need --dataset webdataset");
  require(c.train_num_samples >= 0, "--train-num-samples: expected 0 (the shards' counts) or more");
  require(c.shuffle_buffer >= 0, "--shuffle-buffer: expected 0 or more samples");
  require(c.shard_readers >= 1 && c.shard_readers <= 256, "--shard-readers: expected 1 to 256");
  require(c.shard_errors == "skip" || c.shard_errors == "fail", "--shard-errors '" + c.shard_errors + "': expected skip or fail");
  require(c.shard_timeout > 0.0, "--shard-timeout: expected a positive number of seconds");
  require(c.max_failed_shards >= 0.0 && c.max_failed_shards <= 1.0, "--max-failed-shards: expected a share in [0, 1]");
  require(c.csv_separator.size() <= 1, "--csv-separator '" + c.csv_separator + "': expected one character");
  // Paths the run reads must exist now, not after the model is built.
  const auto require_path = [&](const std::string& path, const char* flag) {
    require(!path.empty() && fs::exists(path), std::string(flag) + " " + (path.empty() ? "(empty)" : path) +
                                                  ": no such file or folder");
  };
  if (c.dataset != "synthetic") {
    if (c.dataset == "webdataset") {
      require(!c.root.empty() || !c.metadata.empty(), "--root: expected the shard pattern of --dataset webdataset");
    } else {
      require_path(c.metadata, "--metadata");
      if (!c.root.empty()) require_path(c.root, "--root");
    }
  }
  if (!c.bpe.empty()) require_path(c.bpe, "--bpe");
  if (!c.eval_catalog.empty()) require_path(c.eval_catalog, "--eval-catalog");
  if (!c.eval_templates.empty()) require_path(c.eval_templates, "--eval-templates");
  if (!c.eval_labels.empty()) require_path(c.eval_labels, "--eval-labels");
  if (!c.resume.empty()) require_path(c.resume, "--resume");
  if (!c.pretrained_image.empty()) require_path(c.pretrained_image, "--pretrained-image");
  if (c.model.size() > 5 && c.model.compare(c.model.size() - 5, 5, ".json") == 0) require_path(c.model, "--model");
  require(!c.output_dir.empty(), "--output-dir: expected a folder");
  require(!fs::exists(c.output_dir) || fs::is_directory(c.output_dir),
          "--output-dir " + c.output_dir + ": exists and is not a folder");
}

std::string to_json(const PretrainConfig& c) {
  nlohmann::ordered_json j;
  j["dataset"] = c.dataset;
  j["root"] = c.root;
  j["metadata"] = c.metadata;
  j["csv-img-key"] = c.csv_img_key;
  j["csv-caption-key"] = c.csv_caption_key;
  j["csv-separator"] = c.csv_separator;
  j["bpe"] = c.bpe;
  j["synthetic-samples"] = c.synthetic_samples;
  j["streaming"] = c.streaming;
  j["train-num-samples"] = c.train_num_samples;
  j["dataset-resampled"] = c.dataset_resampled;
  j["train-data-upsampling-factors"] = c.train_data_upsampling_factors;
  j["shuffle-buffer"] = c.shuffle_buffer;
  j["shard-readers"] = c.shard_readers;
  j["shard-errors"] = c.shard_errors;
  j["shard-timeout"] = c.shard_timeout;
  j["max-failed-shards"] = c.max_failed_shards;
  j["model"] = c.model;
  j["ssl-mlp-dim"] = c.ssl_mlp_dim;
  j["ssl-emb-dim"] = c.ssl_emb_dim;
  j["ssl-scale"] = c.ssl_scale;
  j["ssl-temp"] = c.ssl_temp;
  j["gather-with-grad"] = c.gather_with_grad;
  j["loss"] = c.loss;
  j["patch-dropout"] = c.patch_dropout;
  j["grad-checkpointing"] = c.grad_checkpointing;
  j["aug-cfg"] = c.aug_cfg;
  j.update(nlohmann::ordered_json::parse(to_json(c.preprocessing)));
  j["wordnet"] = c.wordnet;
  j["nn-queue-size"] = c.nn_queue_size;
  j["pretrained-image"] = c.pretrained_image;
  j["lock-image"] = c.lock_image;
  j["lock-image-unlocked-groups"] = c.lock_image_unlocked_groups;
  j["lock-image-freeze-bn-stats"] = c.lock_image_freeze_bn_stats;
  j["epochs"] = c.epochs;
  j["warmup-epochs"] = c.warmup_epochs;
  j["start-epoch"] = c.start_epoch;
  j["batch-size"] = c.batch_size;
  j["lr"] = c.lr;
  j["lr-start"] = c.lr_start;
  j["lr-end"] = c.lr_end;
  j["update-freq"] = c.update_freq;
  j["accum-mode"] = c.accum_mode;
  j["wd"] = c.wd;
  j["betas"] = {c.betas[0], c.betas[1]};
  j["eps"] = c.eps;
  j["disable-amp"] = c.disable_amp;
  j["resume"] = c.resume;
  j["eval-freq"] = c.eval_freq;
  j["eval-catalog"] = c.eval_catalog;
  j["eval-dataset"] = c.eval_dataset;
  j["eval-templates"] = c.eval_templates;
  j["eval-labels"] = c.eval_labels;
  j["bucket-mb"] = c.bucket_mb;
  j.update(to_json(static_cast<const RunOptions&>(c)));
  return j.dump(2);
}

}  // namespace slipstream
