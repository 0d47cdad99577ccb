// Small model shapes that run in milliseconds on a CPU.
#pragma once
#include "slipstream/models/model_config.h"

namespace slipstream::testing {

inline ModelConfig small_config(const std::string& family, const std::string& vision_type = "vit") {
  ModelConfig c;
  c.name = "SMALL_" + family;
  c.family = family;
  c.embed_dim = 16;
  c.vision.type = vision_type;
  c.vision.image_size = 32;
  if (vision_type == "vit") {
    c.vision.width = 32;
    c.vision.depth = 2;
    c.vision.heads = 4;
  } else {
    c.vision.width = 8;
    c.vision.heads = 4;
    c.vision.resnet_layers = {1, 1, 1, 1};
    c.vision.output_dim = 24;
  }
  c.text.context_length = 16;
  c.text.vocab_size = 100;
  c.text.width = 32;
  c.text.heads = 4;
  c.text.layers = 2;
  c.ssl.mlp_dim = 24;
  c.ssl.emb_dim = 8;
  return c;
}

}  // namespace slipstream::testing
