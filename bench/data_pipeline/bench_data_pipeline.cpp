// Benchmark (not a test): SLIP's per-sample data work on one thread — decode an image (JPEG, PNG,
// ...), make the CLIP view and the two SimCLR views, tokenize the caption — over the given image
// files, reporting images per second as one JSON line. bench/data_pipeline/run.sh runs it beside
// the two Python references (PIL + torchvision.transforms, and torchvision.io + transforms.v2 on
// uint8 tensors, each with open_clip's tokenizer) on the same files.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <fstream>
#include <iostream>

#include <ATen/Parallel.h>

#include "slipstream/core/error.h"
#include "slipstream/data/image/augmentation.h"
#include "slipstream/data/text/clip_tokenizer.h"
#include "slipstream/data/image/image_decode.h"

int main(int argc, char** argv) {
  CLI::App app{"bench_data_pipeline: decode + SLIP's three views + tokenize, images/s on one thread"};
  std::vector<std::string> files;
  std::string bpe_path, caption = "a photograph of a street with people and shops in the evening";
  double seconds = 10.0;
  bool reduced_decode = true;
  app.add_option("files", files, "Image files (JPEG, PNG, ...)")->required();
  app.add_option("--bpe", bpe_path, "CLIP's bpe_simple_vocab_16e6.txt.gz")->required();
  app.add_option("--seconds", seconds, "Measuring time")->capture_default_str();
  app.add_option("--reduced-decode", reduced_decode, "Decode JPEGs at reduced size when the crops allow")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  try {
    at::set_num_threads(1);
    std::vector<std::string> encoded;
    for (const auto& file : files) {
      std::ifstream in(file, std::ios::binary);
      if (!in) throw slipstream::FileFormatError(file, "cannot open");
      encoded.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    const slipstream::ClipTokenizer tokenizer(bpe_path);
    slipstream::DecodeOptions options;
    if (reduced_decode) {
      options.target_size = 224;
      options.min_crop_scale = slipstream::min_crop_scale(slipstream::ViewRecipe::kSimclr);  // the smallest crop
    }
    auto one_sample = [&](int64_t index) {
      const std::string& bytes = encoded[static_cast<size_t>(index) % encoded.size()];
      const slipstream::Image image =
          slipstream::decode_image(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), "bench", options);
      std::mt19937_64 rng = slipstream::sample_rng(0, 0, static_cast<uint64_t>(index), 0);
      const at::Tensor clip = slipstream::make_view(image, slipstream::ViewRecipe::kClip, rng);
      const at::Tensor a = slipstream::make_view(image, slipstream::ViewRecipe::kSimclr, rng);
      const at::Tensor b = slipstream::make_view(image, slipstream::ViewRecipe::kSimclr, rng);
      const at::Tensor tokens = tokenizer.tokenize({caption});
      return clip.size(0) + a.size(0) + b.size(0) + tokens.size(1);
    };
    for (int64_t i = 0; i < 5; ++i) one_sample(i);  // warm-up
    int64_t samples = 0, checksum = 0;
    const auto start = std::chrono::steady_clock::now();
    double elapsed = 0.0;
    while (elapsed < seconds) {
      checksum += one_sample(samples++);
      elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    }
    std::cout << nlohmann::json{{"implementation", "slipstream"}, {"images", samples}, {"seconds", elapsed},
                                {"images_per_second", samples / elapsed}, {"threads", 1},
                                {"reduced_decode", reduced_decode}, {"checksum", checksum}}
                     .dump()
              << "\n";
  } catch (const std::exception& e) {
    std::cerr << "bench_data_pipeline: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
