// Model configs: JSON round trips, strictness about unknown keys and bad values, and the files
// under configs/models agreeing with the registry.
#include <gtest/gtest.h>

#include <filesystem>

#include "models/small_configs.h"
#include "slipstream/core/error.h"
#include "slipstream/core/state_dict.h"
#include "slipstream/models/contrastive_models.h"
#include "slipstream/models/registry.h"

namespace slipstream {
namespace {

// The ConfigError a model config in JSON gives, or "no error".
std::string message_of(const std::string& json) {
  try {
    model_config_from_json(json, "cfg.json");
  } catch (const ConfigError& e) {
    return std::string(e.what());
  }
  return std::string("no error");
}

TEST(ModelConfig, JsonRoundTripsEveryRegisteredModel) {
  for (const auto& name : registered_models()) {
    const ModelConfig config = model_config(name);
    EXPECT_EQ(model_config_from_json(to_json(config)), config) << name;
  }
}

TEST(ModelConfig, ConfigFilesMatchTheRegistry) {
  const std::filesystem::path folder = std::filesystem::path(SLIPSTREAM_SOURCE_DIR) / "configs" / "models";
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(folder)) {
    if (entry.path().extension() != ".json") continue;
    const ModelConfig from_file = load_model_config(entry.path().string());
    EXPECT_EQ(from_file, model_config(from_file.name)) << entry.path();
    EXPECT_EQ(entry.path().stem().string(), from_file.name);
    ++files;
  }
  EXPECT_EQ(files, static_cast<int>(registered_models().size()));
}

TEST(ModelConfig, UnknownKeysAndBadValuesAreNamed) {
  EXPECT_NE(message_of(R"({"family":"clip","vision":{"widht":3}})").find("cfg.json:vision: unknown key 'widht'"),
            std::string::npos);
  EXPECT_NE(message_of(R"({"family":"dino"})").find("family must be clip, simclr, slip or declip"), std::string::npos);
  EXPECT_NE(message_of(R"({"vision":{"width":770}})").find("vision.width must be divisible by vision.heads"),
            std::string::npos);
  EXPECT_NE(message_of(R"({"vision":{"image_size":"big"}})").find("cfg.json:vision.image_size: has the wrong type"),
            std::string::npos);
  EXPECT_NE(message_of("{oops").find("cfg.json: not valid JSON"), std::string::npos);
  EXPECT_NE(message_of(R"({"vision":{"activation":"relu"}})").find("vision.activation"), std::string::npos);
}

TEST(ModelConfig, SslImageSizeIsReadWrittenAndChecked) {
  const std::string path = (std::filesystem::path(SLIPSTREAM_SOURCE_DIR) / "configs" / "demo" / "demo_slip.json").string();
  const ModelConfig demo = resolve_model_config(path);
  EXPECT_EQ(demo.ssl.image_size, 32);
  EXPECT_EQ(model_config_from_json(to_json(demo), "round trip"), demo);
  EXPECT_EQ(model_config("SLIP_VITB16").ssl.image_size, 0);
  EXPECT_EQ(to_json(model_config("SLIP_VITB16")).find("image_size\": 0"), std::string::npos);
  const std::string resnet = R"("vision":{"type":"modified_resnet","image_size":64,"width":16,"heads":8,"output_dim":32})";
  EXPECT_EQ(message_of(R"({"family":"slip",)" + resnet + R"(,"ssl":{"image_size":32}})"), "no error");
  EXPECT_NE(message_of(R"({"family":"slip",)" + resnet + R"(,"ssl":{"image_size":48}})").find("ssl.image_size must be a multiple of 32"),
            std::string::npos);
  EXPECT_NE(message_of(R"({"family":"slip",)" + resnet + R"(,"ssl":{"image_size":96}})").find("at most vision.image_size"),
            std::string::npos);
  EXPECT_NE(message_of(R"({"family":"simclr",)" + resnet + R"(,"ssl":{"image_size":32}})").find("family slip"),
            std::string::npos);
  EXPECT_NE(message_of(R"({"family":"slip","ssl":{"image_size":112}})").find("needs a modified_resnet tower"),
            std::string::npos);
}

// "image_projection": false (the demo configs): no second projection over the attention pool, whose
// own output projection maps to the embedding as in OpenAI's and open_clip's ResNets; the image
// embedding is the tower's output itself. Only such towers may leave it out.
TEST(ModelConfig, ImageProjectionCanBeLeftOutOverTheAttentionPool) {
  const std::string path = (std::filesystem::path(SLIPSTREAM_SOURCE_DIR) / "configs" / "demo" / "demo_clip.json").string();
  const ModelConfig demo = resolve_model_config(path);
  EXPECT_FALSE(demo.image_projection);
  EXPECT_EQ(model_config_from_json(to_json(demo), "round trip"), demo);
  EXPECT_TRUE(model_config("CLIP_RN50").image_projection);  // registered models keep SLIP's
  EXPECT_EQ(to_json(model_config("CLIP_RN50")).find("image_projection"), std::string::npos);

  ModelConfig projected = demo;
  projected.image_projection = true;
  at::manual_seed(0);
  auto without = std::dynamic_pointer_cast<ClipModelImpl>(create_model(demo));
  at::manual_seed(0);
  auto with = std::dynamic_pointer_cast<ClipModelImpl>(create_model(projected));
  ASSERT_TRUE(without && with);
  EXPECT_EQ(state_dict(*without).count("image_projection"), 0u);
  EXPECT_EQ(state_dict(*with).count("image_projection"), 1u);
  EXPECT_EQ(state_dict(*with).size(), state_dict(*without).size() + 1);
  without->eval();
  const at::Tensor images = at::randn({2, 3, 64, 64});
  const at::Tensor embed = without->encode_image(images);  // [2, 128]
  EXPECT_EQ(embed.sizes(), (std::vector<int64_t>{2, 128}));
  EXPECT_TRUE(at::equal(embed, without->visual()->forward(images)));

  const std::string text = R"("text":{"context_length":16,"width":32,"heads":2,"layers":1})";
  const std::string resnet = R"("vision":{"type":"modified_resnet","image_size":64,"width":16,"heads":8,"output_dim":32})";
  EXPECT_EQ(message_of(R"({"family":"clip","embed_dim":32,"image_projection":false,)" + resnet + "," + text + "}"), "no error");
  EXPECT_NE(message_of(R"({"family":"clip","embed_dim":64,"image_projection":false,)" + resnet + "," + text + "}")
                .find("image_projection false needs"),
            std::string::npos);  // the pool's output width is not the embedding's
  EXPECT_NE(message_of(R"({"family":"clip","embed_dim":32,"image_projection":false,"vision":{"type":"vit"},)" + text + "}")
                .find("image_projection"),
            std::string::npos);  // a ViT's projection is CLIP's own
}

TEST(ModelConfig, CreateModelFromJsonPath) {
  const std::string path =
      (std::filesystem::path(SLIPSTREAM_SOURCE_DIR) / "configs" / "models" / "CLIP_VITT16.json").string();
  EXPECT_EQ(resolve_model_config(path), model_config("CLIP_VITT16"));
  EXPECT_THROW(resolve_model_config("/nonexistent/model.json"), FileFormatError);
}

}  // namespace
}  // namespace slipstream

namespace slipstream {
namespace {

// Preprocessing belongs to the model: SLIP's by default, read and written with the config (so a
// checkpoint records it), checked, and replaced field by field by the --image-* overrides.
TEST(ModelConfig, PreprocessingIsRecordedCheckedAndOverridden) {
  const ModelConfig slip = model_config("SLIP_VITB16");
  EXPECT_EQ(slip.vision.image_mean, (std::vector<double>{0.485, 0.456, 0.406}));
  EXPECT_EQ(slip.vision.image_interpolation, "bilinear");
  EXPECT_EQ(slip.vision.image_resize_mode, "shortest");
  EXPECT_EQ(slip.text.activation, "quick_gelu");
  ModelConfig openai = slip;
  openai.vision.image_mean = {0.48145466, 0.4578275, 0.40821073};
  openai.vision.image_std = {0.26862954, 0.26130258, 0.27577711};
  openai.vision.image_interpolation = "bicubic";
  openai.vision.image_crop_fraction = 0.875;
  openai.text.activation = "gelu";
  const ModelConfig back = model_config_from_json(to_json(openai), "round trip");
  EXPECT_EQ(back, openai);
  EXPECT_NE(back, slip);
  EXPECT_EQ(back.vision.image_std[2], 0.27577711);

  EXPECT_NE(message_of(R"({"vision":{"image_mean":[0.5,0.5]}})").find("vision.image_mean must hold 3 values"),
            std::string::npos);
  EXPECT_NE(message_of(R"({"vision":{"image_std":[0.5,0,0.5]}})").find("vision.image_std must be positive"),
            std::string::npos);
  EXPECT_NE(message_of(R"({"vision":{"image_interpolation":"lanczos"}})").find("must be bilinear or bicubic"),
            std::string::npos);
  EXPECT_NE(message_of(R"({"vision":{"image_resize_mode":"longest"}})").find("must be shortest or squash"),
            std::string::npos);
  EXPECT_NE(message_of(R"({"vision":{"image_crop_fraction":1.5}})").find("image_crop_fraction must be in (0, 1]"),
            std::string::npos);
  EXPECT_NE(message_of(R"({"text":{"activation":"relu"}})").find("text.activation must be gelu or quick_gelu"),
            std::string::npos);

  VisionConfig vision = slip.vision;
  PreprocessingOverrides overrides;
  EXPECT_TRUE(overrides.empty());
  apply_preprocessing_overrides(vision, overrides);
  EXPECT_EQ(vision.image_mean, slip.vision.image_mean);  // nothing given: nothing changes
  overrides.image_std = {0.5, 0.5, 0.5};
  overrides.image_interpolation = "bicubic";
  apply_preprocessing_overrides(vision, overrides);
  EXPECT_EQ(vision.image_std, (std::vector<double>{0.5, 0.5, 0.5}));
  EXPECT_EQ(vision.image_interpolation, "bicubic");
  EXPECT_EQ(vision.image_mean, slip.vision.image_mean);
  overrides.image_resize_mode = "sideways";
  EXPECT_THROW(apply_preprocessing_overrides(vision, overrides), ConfigError);
}

}  // namespace
}  // namespace slipstream
