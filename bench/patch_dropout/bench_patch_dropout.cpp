// FLIP's patch dropout, measured: one training step of SLIP's ViT-S/16 image tower (forward of a
// batch of 224 px images, backward of the CLS outputs' sum) at patch dropout 0, 0.5 and 0.75.
// Prints one JSON object; bench/patch_dropout/run.sh runs it beside timm's VisionTransformer with
// the same patch_drop_rate.
//   bench_patch_dropout [--batch 16] [--seconds 10] [--threads 2]
#include <ATen/ATen.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <iostream>

#include "slipstream/models/registry.h"
#include "slipstream/models/vision_transformer.h"

int main(int argc, char** argv) {
  int64_t batch = 16, threads = 2;
  double seconds = 10.0;
  CLI::App app{"bench_patch_dropout: ViT-S/16 training steps at patch dropout 0, 0.5 and 0.75"};
  app.add_option("--batch", batch)->capture_default_str();
  app.add_option("--seconds", seconds, "Time per setting (after one warm-up step)")->capture_default_str();
  app.add_option("--threads", threads)->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  at::set_num_threads(static_cast<int>(threads));
  at::manual_seed(0);
  slipstream::VisionTransformer vit(slipstream::model_config("SLIP_VITS16").vision);
  vit->train();
  const at::Tensor images = at::randn({batch, 3, 224, 224});
  nlohmann::json rows = nlohmann::json::array();
  for (const double prob : {0.0, 0.5, 0.75}) {
    vit->set_patch_dropout(prob);
    const auto step = [&] {
      vit->zero_grad();
      vit->forward(images).sum().backward();  // [B, 384] -> []
    };
    step();  // warm-up
    int64_t steps = 0;
    const auto start = std::chrono::steady_clock::now();
    double elapsed = 0.0;
    while (elapsed < seconds) {
      step();
      ++steps;
      elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    }
    rows.push_back({{"patch_dropout", prob}, {"steps", steps}, {"seconds", elapsed},
                    {"images_per_second", static_cast<double>(steps * batch) / elapsed}});
  }
  std::cout << nlohmann::json{{"implementation", "slipstream"}, {"batch", batch}, {"threads", threads},
                              {"results", rows}}.dump() << std::endl;
  return 0;
}
