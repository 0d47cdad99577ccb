// finetune: BEiT's run_class_finetuning.py as SLIP uses it, on a catalog dataset. Flags keep BEiT's
// names (dashes for underscores) and the ViT-B/16 recipe's values; configs/finetune/*.json hold
// the ViT-S/B/L recipes (--config, the command line wins). Everything else is the library's finetune().
//   finetune --config configs/finetune/vit_b16.json --finetune runs/slip/checkpoint_best \
//            --model-prefix visual. --catalog dataset_catalog.json --dataset imagenet --output-dir out
#include "app_main.h"
#include "preprocessing_flags.h"
#include "slipstream/train/finetune.h"
#include "slipstream/train/run_flags.h"
#include "slipstream/train/stop_signals.h"

int main(int argc, char** argv) {
  slipstream::FinetuneConfig c;
  std::vector<double> betas = {c.opt_betas[0], c.opt_betas[1]};
  CLI::App app{"finetune: end-to-end finetuning of a pre-trained image tower (BEiT's recipe, as SLIP uses it)"};
  slipstream::configure_app(app, {34, /*config_file=*/true});
  slipstream::add_run_flags(app, c);
  app.add_option("--finetune", c.finetune, "Pre-trained weights: checkpoint folder or link, or .safetensors");
  app.add_option("--model-prefix", c.model_prefix, "Key prefix of the image tower in them (default: visual. or "
                                                   "module.visual.)");
  app.add_option("--model", c.model, "Model name or JSON (default: the one the weights record)");
  slipstream::add_preprocessing_flags(app, c.preprocessing);
  app.add_option("--drop-path", c.drop_path, "Stochastic depth rate at the last block")->capture_default_str();
  app.add_flag("--grad-checkpointing", c.grad_checkpointing,
               "Recompute each block's activations in the backward pass: less memory, one more forward");
  app.add_option("--catalog", c.catalog, "SLIP's dataset_catalog.json")->capture_default_str();
  app.add_option("--dataset", c.dataset, "Catalog entry (train split trains, test split evaluates)")->capture_default_str();
  app.add_option("--nb-classes", c.nb_classes, "Classes (0: as many as the dataset lists)")->capture_default_str();
  app.add_option("--aa", c.aa, "RandAugment policy (timm's spec; none: off)")->capture_default_str();
  app.add_option("--reprob", c.reprob, "Random erasing probability")->capture_default_str();
  app.add_option("--remode", c.remode, "Random erasing fill: pixel, rand or const")->capture_default_str();
  app.add_option("--mixup", c.mixup, "Mixup alpha (0: off)")->capture_default_str();
  app.add_option("--cutmix", c.cutmix, "CutMix alpha (0: off)")->capture_default_str();
  app.add_option("--mixup-prob", c.mixup_prob, "Chance a batch is mixed")->capture_default_str();
  app.add_option("--mixup-switch-prob", c.mixup_switch_prob, "Chance of CutMix when both are on")->capture_default_str();
  app.add_option("--smoothing", c.smoothing, "Label smoothing")->capture_default_str();
  app.add_option("--epochs", c.epochs)->capture_default_str();
  app.add_option("--warmup-epochs", c.warmup_epochs, "Epochs of linear warmup from 0")->capture_default_str();
  app.add_option("--batch-size", c.batch_size, "Images per batch per process")->capture_default_str();
  app.add_option("--update-freq", c.update_freq, "Micro-batches per optimizer step")->capture_default_str();
  app.add_option("--lr", c.lr, "Peak learning rate (of the head; lower layers x layer-decay^depth)")->capture_default_str();
  app.add_option("--min-lr", c.min_lr, "Learning rate at the end of the cosine")->capture_default_str();
  app.add_option("--weight-decay", c.weight_decay)->capture_default_str();
  app.add_option("--layer-decay", c.layer_decay, "Layer-wise lr decay (1: off)")->capture_default_str();
  app.add_option("--opt-betas", betas, "AdamW betas")->expected(2)->capture_default_str();
  app.add_option("--opt-eps", c.opt_eps, "AdamW epsilon")->capture_default_str();
  app.add_flag("--eval", c.eval, "Only evaluate (the output folder's last checkpoint, else --finetune's tower)");
  return slipstream::run_app("finetune", app, argc, argv, [&] {
    c.opt_betas = {betas.at(0), betas.at(1)};
    slipstream::FinetuneHooks hooks;
    hooks.stop_requested = &slipstream::install_stop_signals();
    slipstream::finetune(c, hooks);
    return 0;
  });
}
