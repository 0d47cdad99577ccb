#include "slipstream/models/flop_count.h"

#include "slipstream/core/error.h"

namespace slipstream {
namespace {

// A matrix product [m, k] x [k, n].
double matmul(double m, double k, double n) { return 2.0 * m * k * n; }
// A k x k convolution from `in` to `out` channels producing an `side` x `side` map.
double convolution(double in, double out, double k, double side) { return 2.0 * in * out * k * k * side * side; }

// Forward FLOPs of a pre-norm transformer block over `tokens` tokens of width `width`.
double transformer_block(double tokens, double width, double mlp_width) {
  return matmul(tokens, width, 3 * width)              // qkv
         + 2 * matmul(tokens, width, tokens)           // q k^T and attention x v
         + matmul(tokens, width, width)                // output projection
         + 2 * matmul(tokens, width, mlp_width);       // fc1, fc2
}

// A forward pass whose first layer (`first`) reads inputs that need no gradient.
FlopCount with_backward(double forward, double first) { return {forward, 2 * forward - first}; }

}  // namespace

FlopCount& FlopCount::operator+=(const FlopCount& other) {
  forward += other.forward;
  backward += other.backward;
  return *this;
}

FlopCount TrainingStepFlops::total() const {
  FlopCount sum = vision;
  sum += text;
  sum += heads;
  sum += loss;
  return sum;
}

FlopCount vision_tower_flops(const VisionConfig& v, int64_t batch, int64_t image_size) {
  const double size = static_cast<double>(image_size > 0 ? image_size : v.image_size);
  const double b = static_cast<double>(batch);
  if (v.type == "vit") {
    const double grid = size / static_cast<double>(v.patch_size);
    const double tokens = grid * grid + 1;
    const double width = static_cast<double>(v.width);
    const double patch_embed = convolution(3, width, static_cast<double>(v.patch_size), grid);
    const double mlp_width = static_cast<double>(static_cast<int64_t>(v.width * v.mlp_ratio));  // as VitMlp's
    const double blocks = static_cast<double>(v.depth) * transformer_block(tokens, width, mlp_width);
    return with_backward(b * (patch_embed + blocks), b * patch_embed);
  }
  // CLIP's modified ResNet: a 3-conv stem at 1/2 resolution, an average pool, four Bottleneck
  // stages (the stride as an average pool after conv2 and on the shortcut), the attention pool.
  const double w = static_cast<double>(v.width);
  double side = size / 2;
  const double first = convolution(3, w / 2, 3, side);
  double forward = first + convolution(w / 2, w / 2, 3, side) + convolution(w / 2, w, 3, side);
  side /= 2;
  double in = w;
  for (int stage = 0; stage < 4; ++stage) {
    const double planes = w * static_cast<double>(1 << stage);
    for (int64_t block = 0; block < v.resnet_layers[static_cast<size_t>(stage)]; ++block) {
      const double stride = (stage > 0 && block == 0) ? 2 : 1;
      const double out_side = side / stride;
      forward += convolution(in, planes, 1, side) + convolution(planes, planes, 3, side) +
                 convolution(planes, 4 * planes, 1, out_side);
      if (stride > 1 || in != 4 * planes) forward += convolution(in, 4 * planes, 1, out_side);  // the shortcut
      in = 4 * planes;
      side = out_side;
    }
  }
  const double tokens = side * side + 1, embed = 32 * w;
  forward += 3 * matmul(tokens, embed, embed) + 2 * matmul(tokens, embed, tokens) +
             matmul(tokens, embed, static_cast<double>(v.output_dim));
  return with_backward(b * forward, b * first);
}

FlopCount text_tower_flops(const TextConfig& t, int64_t batch) {
  const double width = static_cast<double>(t.width);
  const double forward = static_cast<double>(batch) * static_cast<double>(t.layers) *
                         transformer_block(static_cast<double>(t.context_length), width, 4 * width);
  return with_backward(forward, 0.0);  // token embeddings are lookups
}

TrainingStepFlops training_step_flops(const ModelConfig& c, int64_t batch, int64_t world_size) {
  if (c.family == "declip") throw ConfigError("FLOP count: " + c.name + ": DeCLIP's step is not counted");
  const double b = static_cast<double>(batch), gathered = b * static_cast<double>(world_size);
  const double vision_width = static_cast<double>(c.vision.output_width());
  const double embed = static_cast<double>(c.embed_dim);
  TrainingStepFlops out;
  if (c.has_text()) {
    out.vision += vision_tower_flops(c.vision, batch);
    out.text += text_tower_flops(c.text, batch);
    const double text_width = static_cast<double>(c.text.width);
    const double image_projection = c.image_projection ? matmul(b, vision_width, embed) : 0.0;
    out.heads += with_backward(image_projection + matmul(b, text_width, embed), 0.0);
    // CLIP: image x texts and text x images; SigLIP: one product of the images with every text.
    const double products = c.contrastive_loss == "siglip" ? 1.0 : 2.0;
    out.loss += with_backward(products * matmul(b, embed, gathered), 0.0);
  }
  if (c.has_ssl_head()) {  // two SimCLR views through the tower and the MLP
    const int64_t side = c.ssl.image_size > 0 ? c.ssl.image_size : c.vision.image_size;
    FlopCount views = vision_tower_flops(c.vision, batch, side);
    views.forward *= 2;
    views.backward *= 2;
    out.vision += views;
    const double mlp = static_cast<double>(c.ssl.mlp_dim), emb = static_cast<double>(c.ssl.emb_dim);
    const double per_view = matmul(b, vision_width, mlp) + matmul(b, mlp, mlp) + matmul(b, mlp, emb);
    out.heads += with_backward(2 * per_view, 0.0);
    out.loss += with_backward(4 * matmul(b, emb, gathered), 0.0);  // SimCLR's aa, bb, ab, ba logits
  }
  return out;
}

}  // namespace slipstream
