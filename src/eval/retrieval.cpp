#include "slipstream/eval/retrieval.h"

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

#include "slipstream/core/error.h"

namespace slipstream {

RetrievalSplit load_karpathy_split(const std::string& split_json, const std::string& image_root, const std::string& split) {
  std::ifstream in(split_json);
  if (!in) throw FileFormatError(split_json, "cannot open");
  const nlohmann::json j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("images") || !j["images"].is_array()) {
    throw FileFormatError(split_json, "expected Karpathy's split format: an object with an 'images' list");
  }
  RetrievalSplit out;
  for (const auto& image : j["images"]) {
    if (!image.is_object() || !image.contains("filename") || !image.contains("sentences") || !image.contains("split")) {
      throw FileFormatError(split_json, "image " + std::to_string(out.image_paths.size()) +
                                            " lacks filename, split or sentences");
    }
    if (image["split"] != split) continue;
    const int64_t index = static_cast<int64_t>(out.image_paths.size());
    std::filesystem::path path(image_root);
    if (image.contains("filepath") && image["filepath"].is_string()) path /= image["filepath"].get<std::string>();
    out.image_paths.push_back((path / image["filename"].get<std::string>()).string());
    for (const auto& sentence : image["sentences"]) {
      if (!sentence.contains("raw")) throw FileFormatError(split_json, "a sentence of " + out.image_paths.back() + " has no 'raw'");
      out.captions.push_back(sentence["raw"].get<std::string>());
      out.caption_image.push_back(index);
    }
  }
  if (out.image_paths.empty()) throw FileFormatError(split_json, "no image in split '" + split + "'");
  return out;
}

RetrievalRecall retrieval_recall(const at::Tensor& image_features, const at::Tensor& text_features,
                                 const at::Tensor& caption_image, const std::vector<int64_t>& ks) {
  const at::Tensor similarity = at::matmul(text_features.to(at::kFloat), image_features.to(at::kFloat).t());  // [T, I]
  const int64_t images = similarity.size(1), texts = similarity.size(0);
  // positives [T, I]: caption t describes image i
  const at::Tensor positive = at::zeros({texts, images}, at::kBool).index_put_(
      {at::arange(texts, at::kLong), caption_image.to(at::kLong).cpu()}, at::ones({}, at::kBool));
  RetrievalRecall recall;
  for (int64_t k : ks) {
    const int64_t kt = std::min(k, images), ki = std::min(k, texts);
    // text -> image: the caption's image among the k most similar images
    const at::Tensor top_images = std::get<1>(similarity.cpu().topk(kt, 1));  // [T, k]
    const at::Tensor text_hits = positive.gather(1, top_images).any(1);
    recall.text_to_image[k] = 100.0 * text_hits.to(at::kDouble).mean().item<double>();
    // image -> text: any of the image's captions among its k most similar captions
    const at::Tensor top_texts = std::get<1>(similarity.cpu().t().topk(ki, 1));  // [I, k]
    const at::Tensor image_hits = positive.t().gather(1, top_texts).any(1);
    recall.image_to_text[k] = 100.0 * image_hits.to(at::kDouble).mean().item<double>();
  }
  return recall;
}

}  // namespace slipstream
