// linear_probe: SLIP's main_linear.py (MoCo v3's recipe) on a catalog dataset, or with --fast the
// CLIP paper's logistic regression on cached features. Sweep-friendly: --lr/--wd set the run,
// --output gets JSON with the final and best accuracy, the exit code is 0 on success.
//   linear_probe --pretrained CKPT --catalog dataset_catalog.json --dataset imagenet --lr 0.1 --output r.json
#include <cstdlib>

#include "app_main.h"
#include "preprocessing_flags.h"
#include "slipstream/core/atomic_file.h"
#include "slipstream/train/linear_probe.h"
#include "slipstream/train/run_flags.h"
#include "slipstream/train/stop_signals.h"

int main(int argc, char** argv) {
  slipstream::LinearProbeConfig c;
  std::string output;
  if (const char* home = std::getenv("HOME")) c.cache_dir = std::string(home) + "/.cache/slipstream/features";
  CLI::App app{"linear_probe: linear classification on a frozen pre-trained image tower (SLIP's main_linear.py)"};
  slipstream::configure_app(app, {32, /*config_file=*/true});
  slipstream::add_run_flags(app, c);
  app.add_option("--pretrained", c.pretrained, "Checkpoint folder, checkpoint link or .safetensors weights")->required();
  app.add_option("--model", c.model, "Model name or JSON, when the weights do not record theirs");
  slipstream::add_preprocessing_flags(app, c.preprocessing);
  app.add_option("--catalog", c.catalog, "SLIP's dataset_catalog.json")->capture_default_str();
  app.add_option("--dataset", c.dataset, "Catalog entry (train split trains, test split validates)")->capture_default_str();
  app.add_option("--num-classes", c.num_classes, "Classes (0: as many as the dataset lists)")->capture_default_str();
  app.add_option("--epochs", c.epochs, "Training epochs")->capture_default_str();
  app.add_option("-b,--batch-size", c.batch_size, "Images per batch per process")->capture_default_str();
  app.add_option("--lr", c.lr, "Learning rate at a total batch of 256 (scaled linearly)")->capture_default_str();
  app.add_option("--momentum", c.momentum, "SGD momentum")->capture_default_str();
  app.add_option("--wd", c.wd, "Weight decay")->capture_default_str();
  app.add_flag("--fast", c.fast, "Logistic regression (L-BFGS) on cached features with a C sweep, instead of SGD");
  app.add_option("--val-fraction", c.val_fraction, "--fast: share of the training split that chooses C")
      ->capture_default_str();
  app.add_option("--max-iterations", c.max_iterations, "--fast: L-BFGS iterations per fit")->capture_default_str();
  app.add_option("--cache-dir", c.cache_dir, "--fast: where features are cached (\"\": no cache)")->capture_default_str();
  app.add_option("--output", output, "Write the results (final and best accuracy, history) as JSON here");
  return slipstream::run_app("linear_probe", app, argc, argv, [&] {
    slipstream::install_stop_signals();  // SIGTERM/SIGUSR1: finish the step, save, exit 0
    const slipstream::LinearProbeResult result = slipstream::run_linear_probe(c);
    if (result.completed && !output.empty()) slipstream::write_file_atomically(output, slipstream::to_json(c, result));
    return 0;
  });
}
