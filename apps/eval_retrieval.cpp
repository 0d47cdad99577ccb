// eval_retrieval: image-text retrieval recall@1/5/10 in both directions on a Karpathy test split
// (COCO's 5k images with dataset_coco.json, Flickr30k's 1k with dataset_flickr30k.json).
//   eval_retrieval --resume CKPT --bpe BPE --split-json dataset_coco.json --images /data/coco [--output r.json]
#include "app_main.h"
#include "preprocessing_flags.h"
#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>

#include "slipstream/core/atomic_file.h"
#include "slipstream/core/error.h"
#include "slipstream/data/text/bpe_location.h"
#include "slipstream/dist/environment.h"
#include "slipstream/data/datasets/labelled_datasets.h"
#include "slipstream/eval/embeddings.h"
#include "slipstream/eval/evaluation_model.h"
#include "slipstream/eval/model_preprocessing.h"
#include "slipstream/eval/retrieval.h"

int main(int argc, char** argv) {
  std::string resume, model_name, split_json, images_root, split = "test", bpe, output, device_name = "auto";
  int64_t batch_size = 256;
  int workers = 0;
  CLI::App app{"eval_retrieval: image-text retrieval recall@k on a Karpathy split (COCO 5k, Flickr30k 1k)"};
  slipstream::configure_app(app);
  app.add_option("--resume", resume, "Checkpoint folder, checkpoint link or .safetensors weights")->required();
  app.add_option("--model", model_name, "Model name or JSON, when the weights do not record theirs");
  app.add_option("--split-json", split_json, "Karpathy's dataset_coco.json or dataset_flickr30k.json")->required();
  app.add_option("--images", images_root, "Folder the split's image paths are relative to")->required();
  app.add_option("--split", split, "Which split")->capture_default_str();
  app.add_option("--bpe", bpe, "CLIP's bpe_simple_vocab_16e6.txt.gz (default: the checkpoint's, assets/ or open_clip's)");
  slipstream::PreprocessingOverrides preprocessing;
  slipstream::add_preprocessing_flags(app, preprocessing);
  app.add_option("--output", output, "Write the recalls as JSON here");
  app.add_option("--batch-size", batch_size, "Images or captions per batch")->capture_default_str();
  app.add_option("-j,--workers", workers, "Loader threads (0: one per core)")->capture_default_str();
  app.add_option("--device", device_name, "auto, cpu, cuda or cuda:N")->capture_default_str();
  return slipstream::run_app("eval_retrieval", app, argc, argv, [&]() -> int {
    using namespace slipstream;
    const at::Device device = select_device(device_name);
    const RetrievalSplit data = load_karpathy_split(split_json, images_root, split);
    EvaluationModel loaded = load_evaluation_model(resume, model_name, preprocessing);
    ClipModelImpl* model = &require_text_tower(loaded, "image-text retrieval");
    model->to(device);
    const BpeLocation merges = find_clip_bpe(bpe, loaded.recorded_bpe);
    const ClipTokenizer tokenizer(merges.path);
    std::vector<int64_t> index(data.image_paths.size());
    for (size_t i = 0; i < index.size(); ++i) index[i] = static_cast<int64_t>(i);
    const auto images = std::make_shared<LabelledFilesDataset>(split, data.image_paths, index, std::vector<std::string>{});
    const ImageEmbeddings image_embeddings = embed_images(*model, images, device, batch_size, workers);
    if (!at::equal(image_embeddings.labels, at::tensor(index))) {
      throw TrainingError(split_json + ": some images could not be read (see the lines above); recall needs every one");
    }
    const at::Tensor text_features = embed_captions(*model, tokenizer, data.captions, device, batch_size);
    const RetrievalRecall recall =
        retrieval_recall(image_embeddings.features, text_features, at::tensor(data.caption_image));
    std::printf("%s\nimages: %s\nCLIP BPE merges: %s\n", loaded.description.c_str(),
                describe_preprocessing(model->config().vision).c_str(), merges.describe().c_str());
    std::printf("%zu images, %zu captions (%s split of %s)\n%-16s %8s %8s %8s\n", data.image_paths.size(),
                data.captions.size(), split.c_str(), split_json.c_str(), "direction", "R@1", "R@5", "R@10");
    nlohmann::ordered_json report = {{"checkpoint", loaded.weights_path}, {"model", model->config().name},
                                     {"split_json", split_json}, {"split", split},
                                     {"images", data.image_paths.size()}, {"captions", data.captions.size()}};
    for (const auto& [direction, values] : {std::pair<std::string, std::map<int64_t, double>>{"image_to_text", recall.image_to_text},
                                            {"text_to_image", recall.text_to_image}}) {
      std::printf("%-16s %8.2f %8.2f %8.2f\n", direction.c_str(), values.at(1), values.at(5), values.at(10));
      for (const auto& [k, value] : values) report[direction]["R@" + std::to_string(k)] = value;
    }
    if (!output.empty()) {
      write_file_atomically(output, report.dump(2) + "\n");
    }
    return 0;
  });
}
