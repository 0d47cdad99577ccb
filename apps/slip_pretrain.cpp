// slip_pretrain: SLIP's main.py in C++. Flags keep SLIP's names and defaults; --config FILE (JSON
// or TOML) may set any of them, the command line winning. Everything else is the library's
// pretrain(); this file only turns flags into a PretrainConfig.
#include "app_main.h"
#include "preprocessing_flags.h"
#include "slipstream/train/pretrainer.h"
#include "slipstream/train/run_flags.h"
#include "slipstream/train/stop_signals.h"

int main(int argc, char** argv) {
  slipstream::PretrainConfig c;
  CLI::App app{"slip_pretrain: CLIP, SimCLR and SLIP pre-training (SLIP's main.py flags)"};
  slipstream::configure_app(app, {34, /*config_file=*/true});
  slipstream::add_run_flags(app, c);

  app.add_option("--dataset", c.dataset, "yfcc15m cc3m cc12m coco redcaps csv tsv webdataset synthetic")->capture_default_str();
  app.add_option("--root", c.root, "Image folder (webdataset: the shard pattern)");
  app.add_option("--metadata", c.metadata, "Metadata: an index from slip_tools index, COCO/RedCaps JSON, CSV")->capture_default_str();
  app.add_option("--csv-img-key", c.csv_img_key, "CSV column of image paths")->capture_default_str();
  app.add_option("--csv-caption-key", c.csv_caption_key, "CSV column of captions")->capture_default_str();
  app.add_option("--csv-separator", c.csv_separator, "CSV separator (default: ',' for csv, tab for tsv)");
  app.add_option("--bpe", c.bpe, "CLIP's bpe_simple_vocab_16e6.txt.gz (default: assets/ or open_clip's package)");
  app.add_option("--synthetic-samples", c.synthetic_samples, "Corpus size of --dataset synthetic")->capture_default_str();
  const char* streaming = "Streamed WebDataset shards (--root: paths, pipe:COMMAND or http(s) URLs)";
  app.add_option("--streaming", c.streaming,
                 "auto: streamed when a shard is pipe:/http(s) or --train-num-samples/--dataset-resampled is given; on; off")
      ->capture_default_str()->group(streaming);
  app.add_option("--train-num-samples", c.train_num_samples, "Samples per epoch over all ranks (0: the shards' counts)")
      ->capture_default_str()->group(streaming);
  app.add_flag("--dataset-resampled", c.dataset_resampled, "Draw shards with replacement")->group(streaming);
  app.add_option("--train-data-upsampling-factors", c.train_data_upsampling_factors,
                 "A weight per '::'-joined shard list, e.g. 1::2 (with --dataset-resampled)")->group(streaming);
  app.add_option("--shuffle-buffer", c.shuffle_buffer, "Samples in the shuffle buffer")->capture_default_str()->group(streaming);
  app.add_option("--shard-readers", c.shard_readers, "Shards read at once per process")->capture_default_str()->group(streaming);
  app.add_option("--shard-errors", c.shard_errors, "skip (log, count and go on) or fail")->capture_default_str()->group(streaming);
  app.add_option("--shard-timeout", c.shard_timeout, "Seconds without a byte before a shard fails")
      ->capture_default_str()->group(streaming);
  app.add_option("--max-failed-shards", c.max_failed_shards,
                 "Share of a pass's shards that may fail (per process) before the run stops")->capture_default_str()->group(streaming);
  app.add_option("--model", c.model, "Registered model name or a model JSON")->capture_default_str();
  app.add_option("--ssl-mlp-dim", c.ssl_mlp_dim, "Hidden width of the SimCLR head (0: the model's, 4096 in SLIP's)")->capture_default_str();
  app.add_option("--ssl-emb-dim", c.ssl_emb_dim, "Output width of the SimCLR head (0: the model's, 256 in SLIP's)")->capture_default_str();
  app.add_option("--ssl-scale", c.ssl_scale, "Weight of the SimCLR loss in SLIP")->capture_default_str();
  app.add_option("--ssl-temp", c.ssl_temp, "SimCLR softmax temperature")->capture_default_str();
  app.add_option("--gather-with-grad", c.gather_with_grad,
                 "CLIP loss gathers features with gradient (false: SLIP's gradient-free gather)")->capture_default_str();
  app.add_option("--loss", c.loss, "Image-text loss: clip or siglip (default: the model's)");
  app.add_option("--patch-dropout", c.patch_dropout, "FLIP: share of image patches dropped in training (ViT)")
      ->capture_default_str();
  app.add_flag("--grad-checkpointing", c.grad_checkpointing,
               "Recompute each transformer block's (and ResNet stage's) activations in the backward pass: less memory, "
               "one more forward");
  app.add_option("--aug-cfg", c.aug_cfg,
                 "open_clip's image-text view settings, KEY=VALUE ...: scale=(0.9,1.0) ratio=(0.75,1.333) "
                 "interpolation=bicubic color_jitter=(0.4,0.4,0.4,0.1) color_jitter_prob=0.8 gray_scale_prob=0.2")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  slipstream::add_preprocessing_flags(app, c.preprocessing);
  app.add_option("--wordnet", c.wordnet, "DeCLIP: WordNet's database folder (EDA's synonyms)")->capture_default_str();
  app.add_option("--nn-queue-size", c.nn_queue_size, "DeCLIP: nearest-neighbour queue of text embeddings per process")
      ->capture_default_str();
  app.add_option("--pretrained-image", c.pretrained_image,
                 "Safetensors weights of the image side (visual.*, image_projection), e.g. a converted timm ViT");
  app.add_flag("--lock-image", c.lock_image, "LiT: freeze the image tower (eval mode, no gradients)");
  app.add_option("--lock-image-unlocked-groups", c.lock_image_unlocked_groups,
                 "Leave the last K groups of the locked image side trainable")->capture_default_str();
  app.add_flag("--lock-image-freeze-bn-stats", c.lock_image_freeze_bn_stats,
               "Keep BatchNorm statistics of the image tower fixed, unlocked groups included");
  app.add_option("--epochs", c.epochs)->capture_default_str();
  app.add_option("--warmup-epochs", c.warmup_epochs)->capture_default_str();
  app.add_option("--start-epoch", c.start_epoch)->capture_default_str();
  app.add_option("--batch-size", c.batch_size, "Samples per process per micro-batch")->capture_default_str();
  app.add_option("--lr", c.lr, "Peak learning rate")->capture_default_str();
  app.add_option("--lr-start", c.lr_start, "Learning rate at the start of the warmup")->capture_default_str();
  app.add_option("--lr-end", c.lr_end, "Learning rate at the end of the cosine")->capture_default_str();
  app.add_option("--update-freq", c.update_freq, "Micro-batches per optimizer step (gradient accumulation)")->capture_default_str();
  app.add_option("--accum-mode", c.accum_mode,
                 "independent (SLIP: each micro-batch its own negatives) or cached-features (open_clip: the whole "
                 "accumulated batch's negatives)")->capture_default_str();
  app.add_option("--wd", c.wd, "Weight decay")->capture_default_str();
  std::vector<double> betas(c.betas.begin(), c.betas.end());
  app.add_option("--betas", betas, "AdamW betas (two numbers)")->expected(2)->capture_default_str();
  app.add_option("--eps", c.eps, "AdamW epsilon")->capture_default_str();
  app.add_flag("--disable-amp", c.disable_amp, "Train in fp32");
  app.add_option("--resume", c.resume, "Checkpoint folder, or weights (.safetensors) to start from")->capture_default_str();
  app.add_option("--eval-freq", c.eval_freq, "Epochs between zero-shot validations")->capture_default_str();
  app.add_option("--eval-catalog", c.eval_catalog,
                 "SLIP's dataset_catalog.json: zero-shot validation on --eval-dataset every --eval-freq epochs");
  app.add_option("--eval-dataset", c.eval_dataset, "Catalog entry to validate on")->capture_default_str();
  app.add_option("--eval-templates", c.eval_templates, "SLIP's templates.json (default: next to the catalog)");
  app.add_option("--eval-labels", c.eval_labels, "SLIP's labels.json (default: next to the catalog)");
  app.add_option("--bucket-mb", c.bucket_mb, "Gradient all-reduce bucket size (MB)")->capture_default_str();

  return slipstream::run_app("slip_pretrain", app, argc, argv, [&] {
    c.betas = {betas.at(0), betas.at(1)};
    slipstream::PretrainHooks hooks;
    hooks.stop_requested = &slipstream::install_stop_signals();
    slipstream::pretrain(c, hooks);
    return 0;
  });
}
