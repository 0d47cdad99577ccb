// Everything a pre-training run is told: SLIP's main.py flags under their names and defaults,
// plus slipstream's own (tokenizer, CSV columns), over the run flags every training app shares
// (RunOptions: device, seed, workers, precision, output folder, checkpoint cadence). slip_pretrain
// fills it from the command line and a config file; tests fill it directly.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "slipstream/models/model_config.h"
#include "slipstream/train/run_options.h"

namespace slipstream {

struct PretrainConfig : RunOptions {
  // Data (SLIP: --dataset --root --metadata; open_clip: --csv-*)
  std::string dataset = "yfcc15m";
  std::string root;
  std::string metadata = "yfcc15m.pkl";
  std::string csv_img_key = "filepath";
  std::string csv_caption_key = "title";
  std::string csv_separator;  // "" : ',' for csv, tab for tsv
  std::string bpe;            // CLIP's bpe_simple_vocab_16e6.txt.gz (models with a text tower)
  int64_t synthetic_samples = 100000;  // --dataset synthetic: corpus size
  // Streamed WebDataset shards (data/streaming/; open_clip's names where it has them): local
  // paths, pipe:COMMAND or http(s) URLs, read front to back through a shuffle buffer.
  std::string streaming = "auto";      // auto (a pipe:/http(s) shard, --train-num-samples or
                                       // --dataset-resampled: streamed; else random access) | on | off
  int64_t train_num_samples = 0;       // samples per epoch over all ranks (0: the shards' counts)
  bool dataset_resampled = false;      // shards drawn with replacement
  std::string train_data_upsampling_factors;  // "1::2": a weight per '::'-joined list (resampled)
  int64_t shuffle_buffer = 5000;       // samples
  int64_t shard_readers = 4;           // shards read at once per rank
  std::string shard_errors = "skip";   // skip (log, count, go on) | fail
  double shard_timeout = 60.0;         // seconds without a byte before a shard fails
  double max_failed_shards = 0.5;      // share of a pass's shards (per rank) that may fail before the run stops
  // Model and loss
  std::string model = "SLIP_VITB16";  // registered name or model JSON
  int64_t ssl_mlp_dim = 0;  // SimCLR head sizes; 0 keeps the model config's (4096 and 256 in SLIP's models)
  int64_t ssl_emb_dim = 0;
  double ssl_scale = 1.0;
  double ssl_temp = 0.1;
  bool gather_with_grad = true;  // ClipLoss gathers with gradient; false: SLIP's gradient-free gather
  std::string loss;              // "": the model's contrastive_loss; clip | siglip (SigLIP's sigmoid loss)
  double patch_dropout = 0.0;    // FLIP: share of image patches dropped in training (ViT towers)
  bool grad_checkpointing = false;  // open_clip's: recompute each block's activations in the backward pass
  // Views and preprocessing (open_clip's names): --aug-cfg KEY=VALUE ... reshapes the image-text
  // view (data/image/view_augmentation.h); --image-mean etc. replace the model's recorded
  // preprocessing, and the checkpoint records the result.
  std::vector<std::string> aug_cfg;
  PreprocessingOverrides preprocessing;
  // DeCLIP
  std::string wordnet = "/usr/share/wordnet";  // WordNet's database, for EDA's synonym replacement
  int64_t nn_queue_size = 65536;               // nearest-neighbour queue of text embeddings, per rank
  // LiT (open_clip's --lock-image*): start the image side from pretrained weights and freeze it
  std::string pretrained_image;  // safetensors with visual.* (and image_projection), e.g. a converted timm ViT
  bool lock_image = false;
  int64_t lock_image_unlocked_groups = 0;   // the last K groups of the image side train
  bool lock_image_freeze_bn_stats = false;  // BatchNorm statistics stay fixed in unlocked groups too
  // Optimisation
  int64_t epochs = 25;
  int64_t warmup_epochs = 1;
  int64_t start_epoch = 0;
  int64_t batch_size = 64;  // per process
  double lr = 3e-3;
  double lr_start = 1e-6;
  double lr_end = 1e-5;
  int64_t update_freq = 1;  // gradient accumulation: micro-batches per optimizer step
  // independent: SLIP's (each micro-batch its own negatives, loss / update_freq); cached-features:
  // open_clip's (every micro-batch's loss sees the whole accumulated batch's negatives)
  std::string accum_mode = "independent";
  double wd = 0.1;
  std::array<double, 2> betas{0.9, 0.98};
  double eps = 1e-8;
  bool disable_amp = false;
  // Run
  std::string resume;  // a checkpoint folder, or a .safetensors file of weights only
  int64_t eval_freq = 1;
  // Zero-shot validation every eval_freq epochs (SLIP: ImageNet val with its 7 templates), run when
  // eval_catalog names SLIP's dataset_catalog.json; templates.json and labels.json beside it by default.
  std::string eval_catalog;
  std::string eval_dataset = "imagenet";
  std::string eval_templates;  // "": templates.json next to the catalog
  std::string eval_labels;     // "": labels.json next to the catalog
  // Distributed (ranks from slip_run/torchrun's variables or Slurm's)
  int64_t bucket_mb = 25;      // gradient all-reduce bucket size
};

// Checks every value and path (the run flags too) before any work; throws ConfigError with one line naming the flag.
void validate(const PretrainConfig& config);

// The config as pretty-printed JSON (keys are the flag names without dashes, e.g. "batch-size").
std::string to_json(const PretrainConfig& config);

}  // namespace slipstream
