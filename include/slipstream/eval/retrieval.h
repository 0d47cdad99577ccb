// Image-text retrieval as CLIP_benchmark measures it: every image against every caption by cosine
// similarity; image-to-text recall@k counts an image as found when any of its captions is among
// its k most similar, text-to-image recall@k a caption when its image is among its k most similar.
// The test splits are Karpathy's (dataset_coco.json: COCO's 5k test images; dataset_flickr30k.json:
// Flickr30k's 1k), five captions per image.
#pragma once
#include <ATen/core/Tensor.h>

#include <map>
#include <string>
#include <vector>

namespace slipstream {

struct RetrievalSplit {
  std::vector<std::string> image_paths;
  std::vector<std::string> captions;
  std::vector<int64_t> caption_image;  // the image each caption belongs to
};

// Karpathy's split file: images[] with filename, optional filepath (COCO: "val2014"), split and
// sentences[].raw; the images of `split` under `image_root`. FileFormatError names the file.
RetrievalSplit load_karpathy_split(const std::string& split_json, const std::string& image_root,
                                   const std::string& split = "test");

struct RetrievalRecall {
  std::map<int64_t, double> image_to_text;  // k -> percent
  std::map<int64_t, double> text_to_image;
};

// image_features [I, E] and text_features [T, E], both L2-normalised; caption_image [T] int64.
RetrievalRecall retrieval_recall(const at::Tensor& image_features, const at::Tensor& text_features,
                                 const at::Tensor& caption_image, const std::vector<int64_t>& ks = {1, 5, 10});

}  // namespace slipstream
