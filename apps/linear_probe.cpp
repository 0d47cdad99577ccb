// linear_probe: SLIP's main_linear.py (MoCo v3's recipe) on a catalog dataset, or with --fast the
// CLIP paper's logistic regression on cached features. Sweep-friendly: --lr/--wd set the run,
// --output gets JSON with the final and best accuracy, the exit code is 0 on success.
//   linear_probe --pretrained CKPT --catalog dataset_catalog.json --dataset imagenet --lr 0.1 --output r.json
#include <CLI/CLI.hpp>

#include <cstdlib>
#include <iostream>

#include "slipstream/core/atomic_file.h"
#include "slipstream/eval/linear_probe.h"

int main(int argc, char** argv) {
  slipstream::LinearProbeConfig c;
  std::string output;
  if (const char* home = std::getenv("HOME")) c.cache_dir = std::string(home) + "/.cache/slipstream/features";
  CLI::App app{"linear_probe: linear classification on a frozen pre-trained image tower (SLIP's main_linear.py)"};
  app.get_formatter()->column_width(32);
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app.add_option("--pretrained", c.pretrained, "Checkpoint folder, checkpoint link or .safetensors weights")->required();
  app.add_option("--model", c.model, "Model name or JSON, when the weights do not record theirs");
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
  app.add_option("-j,--workers", c.workers, "Loader threads per process (0: one per core)")->capture_default_str();
  app.add_option("--seed", c.seed, "Seed of the head, the data order and the held-out split")->capture_default_str();
  app.add_option("--device", c.device, "auto, cpu, cuda or cuda:N")->capture_default_str();
  app.add_option("--precision", c.precision, "Frozen tower forward: auto (bf16 on GPUs), bf16, fp16, fp32")
      ->capture_default_str();
  app.add_option("--output-dir", c.output_dir, "Checkpoints each epoch and log.txt here; a rerun resumes");
  app.add_option("--output", output, "Write the results (final and best accuracy, history) as JSON here");
  app.add_option("-p,--print-freq", c.print_freq, "Progress line every N steps")->capture_default_str();
  app.add_option("--dist-timeout", c.dist_timeout, "Seconds a collective waits for the other ranks")
      ->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    const slipstream::LinearProbeResult result = slipstream::run_linear_probe(c);
    if (!output.empty()) slipstream::write_file_atomically(output, slipstream::to_json(c, result));
  } catch (const std::exception& e) {
    std::cerr << "linear_probe: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
