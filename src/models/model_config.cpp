#include "slipstream/models/model_config.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "slipstream/core/error.h"

namespace slipstream {
namespace {

using nlohmann::json;

json vision_json(const VisionConfig& v) {
  json j = {{"type", v.type}, {"image_size", v.image_size}};
  if (v.type == "vit") {
    j.update({{"patch_size", v.patch_size}, {"width", v.width}, {"depth", v.depth}, {"heads", v.heads},
              {"mlp_ratio", v.mlp_ratio}, {"drop_path", v.drop_path}, {"pre_norm", v.pre_norm},
              {"activation", v.activation}, {"layer_norm_eps", v.layer_norm_eps}});
  } else {
    j.update({{"width", v.width}, {"heads", v.heads}, {"resnet_layers", v.resnet_layers},
              {"output_dim", v.output_dim}});
  }
  j.update({{"image_mean", v.image_mean}, {"image_std", v.image_std}, {"image_interpolation", v.image_interpolation},
            {"image_resize_mode", v.image_resize_mode}, {"image_crop_fraction", v.image_crop_fraction}});
  return j;
}

// Reads `key` from `object` into `target` when present; every key read is remembered so that
// unknown ones can be reported.
class Reader {
 public:
  Reader(const json& object, std::string where) : object_(object), where_(std::move(where)) {
    if (!object_.is_object()) throw ConfigError(where_ + ": expected a JSON object");
  }
  template <typename T>
  void read(const char* key, T& target) {
    known_.insert(key);
    if (!object_.contains(key)) return;
    try {
      target = object_.at(key).get<T>();
    } catch (const json::exception&) {
      throw ConfigError(where_ + "." + key + ": has the wrong type (" + object_.at(key).dump() + ")");
    }
  }
  const json& child(const char* key) {
    known_.insert(key);
    static const json empty = json::object();
    return object_.contains(key) ? object_.at(key) : empty;
  }
  void reject_unknown() const {
    for (const auto& item : object_.items()) {
      if (!known_.count(item.key())) throw ConfigError(where_ + ": unknown key '" + item.key() + "'");
    }
  }

 private:
  const json& object_;
  std::string where_;
  std::set<std::string> known_;
};

void require(bool ok, const std::string& name, const std::string& field, const std::string& expectation) {
  if (!ok) throw ConfigError("model config " + name + ": " + field + " " + expectation);
}

}  // namespace

bool operator==(const ModelConfig& a, const ModelConfig& b) { return to_json(a) == to_json(b); }

void validate_preprocessing(const VisionConfig& v, const std::string& where) {
  auto check = [&](bool ok, const std::string& field, const std::string& expectation) {
    if (!ok) throw ConfigError(where + ": " + field + " " + expectation);
  };
  check(v.image_mean.size() == 3, "vision.image_mean", "must hold 3 values (R, G, B)");
  check(v.image_std.size() == 3, "vision.image_std", "must hold 3 values (R, G, B)");
  for (double s : v.image_std) check(s > 0, "vision.image_std", "must be positive");
  check(v.image_interpolation == "bilinear" || v.image_interpolation == "bicubic", "vision.image_interpolation",
        "must be bilinear or bicubic (got '" + v.image_interpolation + "')");
  check(v.image_resize_mode == "shortest" || v.image_resize_mode == "squash", "vision.image_resize_mode",
        "must be shortest or squash (got '" + v.image_resize_mode + "')");
  check(v.image_crop_fraction > 0 && v.image_crop_fraction <= 1, "vision.image_crop_fraction", "must be in (0, 1]");
}

bool PreprocessingOverrides::empty() const {
  return image_mean.empty() && image_std.empty() && image_interpolation.empty() && image_resize_mode.empty() &&
         image_crop_fraction == 0.0;
}

std::string to_json(const PreprocessingOverrides& o) {
  return json{{"image-mean", o.image_mean}, {"image-std", o.image_std}, {"image-interpolation", o.image_interpolation},
              {"image-resize-mode", o.image_resize_mode}, {"image-crop-fraction", o.image_crop_fraction}}
      .dump();
}

void apply_preprocessing_overrides(VisionConfig& vision, const PreprocessingOverrides& o) {
  if (!o.image_mean.empty()) vision.image_mean = o.image_mean;
  if (!o.image_std.empty()) vision.image_std = o.image_std;
  if (!o.image_interpolation.empty()) vision.image_interpolation = o.image_interpolation;
  if (!o.image_resize_mode.empty()) vision.image_resize_mode = o.image_resize_mode;
  if (o.image_crop_fraction != 0.0) vision.image_crop_fraction = o.image_crop_fraction;
  validate_preprocessing(vision, "--image-mean/--image-std/--image-interpolation/--image-resize-mode/--image-crop-fraction");
}

void validate(const ModelConfig& c) {
  const std::string& n = c.name.empty() ? std::string("<unnamed>") : c.name;
  require(c.family == "clip" || c.family == "simclr" || c.family == "slip" || c.family == "declip", n, "family",
          "must be clip, simclr, slip or declip (got '" + c.family + "')");
  require(c.embed_dim > 0, n, "embed_dim", "must be positive");
  require(c.contrastive_loss == "clip" || c.contrastive_loss == "siglip", n, "contrastive_loss",
          "must be clip or siglip (got '" + c.contrastive_loss + "')");
  require(c.contrastive_loss == "clip" || c.family == "clip" || c.family == "slip", n, "contrastive_loss",
          "siglip applies to the clip and slip families (got '" + c.family + "')");
  const VisionConfig& v = c.vision;
  if (!c.image_projection) {
    require(c.has_text() && v.type == "modified_resnet" && v.output_dim == c.embed_dim, n, "image_projection",
            "false needs an image-text model with a modified_resnet tower whose vision.output_dim equals embed_dim");
  }
  require(v.type == "vit" || v.type == "modified_resnet", n, "vision.type",
          "must be vit or modified_resnet (got '" + v.type + "')");
  require(v.image_size > 0 && v.width > 0 && v.heads > 0, n, "vision", "sizes must be positive");
  if (v.type == "vit") {
    require(v.patch_size > 0 && v.image_size % v.patch_size == 0, n, "vision.image_size",
            "must be a multiple of patch_size");
    require(v.depth > 0, n, "vision.depth", "must be positive");
    require(v.width % v.heads == 0, n, "vision.width", "must be divisible by vision.heads");
    require(v.mlp_ratio > 0, n, "vision.mlp_ratio", "must be positive");
    require(v.drop_path >= 0 && v.drop_path < 1, n, "vision.drop_path", "must be in [0, 1)");
    require(v.layer_norm_eps > 0, n, "vision.layer_norm_eps", "must be positive");
    require(v.activation == "gelu" || v.activation == "quick_gelu", n, "vision.activation",
            "must be gelu or quick_gelu (got '" + v.activation + "')");
  } else {
    require(v.resnet_layers.size() == 4, n, "vision.resnet_layers", "must list 4 stage depths");
    require(v.image_size % 32 == 0, n, "vision.image_size", "must be a multiple of 32 for the modified ResNet");
    require((v.width * 32) % v.heads == 0, n, "vision.heads", "must divide the attention-pool width (32 x width)");
    require(v.output_dim > 0, n, "vision.output_dim", "must be positive");
  }
  validate_preprocessing(v, "model config " + n);
  if (c.has_text()) {
    const TextConfig& t = c.text;
    require(t.context_length > 0 && t.vocab_size > 0 && t.layers > 0, n, "text", "sizes must be positive");
    require(t.width > 0 && t.heads > 0 && t.width % t.heads == 0, n, "text.width", "must be divisible by text.heads");
    require(t.activation == "gelu" || t.activation == "quick_gelu", n, "text.activation",
            "must be gelu or quick_gelu (got '" + t.activation + "')");
    require(t.token_layout == "clip" || t.token_layout == "declip", n, "text.token_layout",
            "must be clip or declip (got '" + t.token_layout + "')");
    require(t.token_layout == "clip" || t.vocab_size == 49409, n, "text.vocab_size",
            "must be 49409 with token_layout declip (CLIP's 49408 and <|mask|>)");
    require(c.family != "declip" || t.token_layout == "declip", n, "text.token_layout",
            "must be declip for the declip family (masked language modelling needs <|mask|>)");
  }
  if (c.has_ssl_head()) require(c.ssl.mlp_dim > 0 && c.ssl.emb_dim > 0, n, "ssl", "sizes must be positive");
  if (c.ssl.image_size != 0) {
    require(c.family == "slip", n, "ssl.image_size", "applies to SLIP's SimCLR views (family slip) only");
    require(v.type == "modified_resnet", n, "ssl.image_size", "needs a modified_resnet tower (a ViT's views keep vision.image_size)");
    require(c.ssl.image_size > 0 && c.ssl.image_size % 32 == 0 && c.ssl.image_size <= v.image_size, n, "ssl.image_size",
            "must be a multiple of 32 and at most vision.image_size (got " + std::to_string(c.ssl.image_size) + ")");
  }
}

std::string to_json(const ModelConfig& c) {
  json j = {{"name", c.name}, {"family", c.family}, {"embed_dim", c.embed_dim}, {"vision", vision_json(c.vision)}};
  if (c.has_text()) {
    j["text"] = {{"context_length", c.text.context_length}, {"vocab_size", c.text.vocab_size},
                 {"width", c.text.width}, {"heads", c.text.heads}, {"layers", c.text.layers},
                 {"activation", c.text.activation}};
    if (c.text.token_layout != "clip") j["text"]["token_layout"] = c.text.token_layout;
  }
  if (c.has_ssl_head()) j["ssl"] = {{"mlp_dim", c.ssl.mlp_dim}, {"emb_dim", c.ssl.emb_dim}};
  if (c.ssl.image_size != 0) j["ssl"]["image_size"] = c.ssl.image_size;
  if (c.contrastive_loss != "clip") j["contrastive_loss"] = c.contrastive_loss;  // older configs stay byte-identical
  if (!c.image_projection) j["image_projection"] = false;
  return j.dump(2);
}

ModelConfig model_config_from_json(const std::string& text, const std::string& source) {
  json root;
  try {
    root = json::parse(text);
  } catch (const json::exception& e) {
    throw ConfigError(source + ": not valid JSON: " + e.what());
  }
  ModelConfig c;
  Reader top(root, source);
  top.read("name", c.name);
  top.read("family", c.family);
  top.read("embed_dim", c.embed_dim);
  top.read("contrastive_loss", c.contrastive_loss);
  top.read("image_projection", c.image_projection);
  Reader vision(top.child("vision"), source + ":vision");
  vision.read("type", c.vision.type);
  vision.read("image_size", c.vision.image_size);
  vision.read("patch_size", c.vision.patch_size);
  vision.read("width", c.vision.width);
  vision.read("depth", c.vision.depth);
  vision.read("heads", c.vision.heads);
  vision.read("mlp_ratio", c.vision.mlp_ratio);
  vision.read("drop_path", c.vision.drop_path);
  vision.read("pre_norm", c.vision.pre_norm);
  vision.read("activation", c.vision.activation);
  vision.read("layer_norm_eps", c.vision.layer_norm_eps);
  vision.read("resnet_layers", c.vision.resnet_layers);
  vision.read("output_dim", c.vision.output_dim);
  vision.read("image_mean", c.vision.image_mean);
  vision.read("image_std", c.vision.image_std);
  vision.read("image_interpolation", c.vision.image_interpolation);
  vision.read("image_resize_mode", c.vision.image_resize_mode);
  vision.read("image_crop_fraction", c.vision.image_crop_fraction);
  vision.reject_unknown();
  Reader text_reader(top.child("text"), source + ":text");
  text_reader.read("context_length", c.text.context_length);
  text_reader.read("vocab_size", c.text.vocab_size);
  text_reader.read("width", c.text.width);
  text_reader.read("heads", c.text.heads);
  text_reader.read("layers", c.text.layers);
  text_reader.read("activation", c.text.activation);
  text_reader.read("token_layout", c.text.token_layout);
  text_reader.reject_unknown();
  Reader ssl(top.child("ssl"), source + ":ssl");
  ssl.read("mlp_dim", c.ssl.mlp_dim);
  ssl.read("emb_dim", c.ssl.emb_dim);
  ssl.read("image_size", c.ssl.image_size);
  ssl.reject_unknown();
  top.reject_unknown();
  validate(c);
  return c;
}

ModelConfig load_model_config(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw FileFormatError(path, "cannot open model config");
  std::stringstream buffer;
  buffer << in.rdbuf();
  return model_config_from_json(buffer.str(), path);
}

}  // namespace slipstream
