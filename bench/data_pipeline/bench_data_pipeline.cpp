// Benchmark (not a test): SLIP's per-sample data work on one thread — decode an image (JPEG, PNG,
// ...), make the CLIP view and the two SimCLR views, tokenize the caption — over the given image
// files through the loader's SamplePipeline, reporting images per second as one JSON line. bench/data_pipeline/run.sh runs it beside
// the two Python references (PIL + torchvision.transforms, and torchvision.io + transforms.v2 on
// uint8 tensors, each with open_clip's tokenizer) on the same files.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <fstream>
#include <iostream>

#include <ATen/Parallel.h>

#include "slipstream/core/error.h"
#include "slipstream/data/sample_pipeline.h"
#include "slipstream/data/text/clip_tokenizer.h"

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
    std::vector<slipstream::RawSample> samples_in;
    for (const auto& file : files) {
      std::ifstream in(file, std::ios::binary);
      if (!in) throw slipstream::FileFormatError(file, "cannot open");
      slipstream::RawSample sample;
      sample.source = file;
      sample.encoded.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
      sample.captions = {caption};
      samples_in.push_back(std::move(sample));
    }
    const auto tokenizer = std::make_shared<const slipstream::ClipTokenizer>(bpe_path);
    slipstream::PipelineOptions options;
    options.views = {slipstream::ViewRecipe::kClip, slipstream::ViewRecipe::kSimclr, slipstream::ViewRecipe::kSimclr};
    options.image_size = 224;
    options.tokenizer = [tokenizer](const std::string& text) { return tokenizer->frame(text, 77); };
    options.reduced_decode = reduced_decode;  // JPEGs decoded as small as each sample's three crops allow
    const slipstream::SamplePipeline pipeline(options);
    auto one_sample = [&](int64_t index) {
      const slipstream::Example example = pipeline(samples_in[static_cast<size_t>(index) % samples_in.size()], 0, 0, index);
      int64_t sizes = static_cast<int64_t>(example.tokens.size());
      for (const at::Tensor& view : example.views) sizes += view.size(0);
      return sizes;
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
