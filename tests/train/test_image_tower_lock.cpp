// LiT's locked image tower: which parameters freeze for each --lock-image-unlocked-groups, which
// modules stay in eval mode, and a pre-training run that starts the image side from safetensors
// and trains only the text side (the tower's weights and BatchNorm statistics stay bit-identical).
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "models/small_configs.h"
#include "slipstream/core/error.h"
#include "slipstream/core/safetensors.h"
#include "slipstream/core/state_dict.h"
#include "slipstream/train/checkpoint.h"
#include "slipstream/models/registry.h"
#include "slipstream/train/image_tower_lock.h"
#include "slipstream/train/pretrainer.h"

namespace slipstream {
namespace {

namespace fs = std::filesystem;

std::shared_ptr<ClipModelImpl> small_clip(const std::string& vision_type) {
  return std::dynamic_pointer_cast<ClipModelImpl>(create_model(testing::small_config("clip", vision_type)));
}

bool starts_with(const std::string& name, const std::string& prefix) { return name.rfind(prefix, 0) == 0; }

TEST(ImageTowerLock, FreezesTheWholeImageSideAndKeepsItInEvalMode) {
  auto model = small_clip("vit");
  const ImageTowerLock lock(*model, {});
  for (const auto& item : model->named_parameters()) {
    const bool image_side = starts_with(item.key(), "visual.") || item.key() == "image_projection";
    EXPECT_EQ(item.value().requires_grad(), !image_side) << item.key();
  }
  lock.train(*model);
  EXPECT_TRUE(model->is_training());
  for (const auto& item : model->named_modules()) {
    if (starts_with(item.key(), "visual")) EXPECT_FALSE(item.value()->is_training()) << item.key();
    if (starts_with(item.key(), "transformer")) EXPECT_TRUE(item.value()->is_training()) << item.key();
  }
  EXPECT_NE(lock.summary().find("5 of 5 groups"), std::string::npos) << lock.summary();
}

TEST(ImageTowerLock, UnlockedGroupsAreTheLastOnes) {
  auto model = small_clip("vit");  // groups: stem, blocks.0, blocks.1, norm, image_projection
  ASSERT_EQ(image_tower_groups(*model).size(), 5u);
  const ImageTowerLock lock(*model, {/*unlocked_groups=*/3, /*freeze_bn_stats=*/false});
  for (const auto& item : model->named_parameters()) {
    const std::string& name = item.key();
    const bool locked = starts_with(name, "visual.patch_embed") || name == "visual.cls_token" ||
                        name == "visual.pos_embed" || starts_with(name, "visual.blocks.0.");
    EXPECT_EQ(item.value().requires_grad(), !locked) << name;
  }
  lock.train(*model);
  EXPECT_FALSE(model->visual()->named_modules()["blocks.0"]->is_training());
  EXPECT_TRUE(model->visual()->named_modules()["blocks.1"]->is_training());
  EXPECT_THROW(ImageTowerLock(*small_clip("vit"), {5, false}), ConfigError);
  EXPECT_THROW(ImageTowerLock(*small_clip("vit"), {-1, false}), ConfigError);
}

TEST(ImageTowerLock, FrozenBatchNormStatisticsReachTheUnlockedResNetStages) {
  auto model = small_clip("modified_resnet");  // stem, layer1-4, attnpool, image_projection
  ASSERT_EQ(image_tower_groups(*model).size(), 7u);
  const ImageTowerLock plain(*model, {/*unlocked_groups=*/3, /*freeze_bn_stats=*/false});
  plain.train(*model);
  auto modules = model->visual()->named_modules();
  EXPECT_FALSE(modules["layer3"]->is_training());
  EXPECT_TRUE(modules["layer4.0.bn1"]->is_training());  // unlocked: its statistics update

  auto frozen_model = small_clip("modified_resnet");
  const ImageTowerLock frozen(*frozen_model, {3, true});
  frozen.train(*frozen_model);
  modules = frozen_model->visual()->named_modules();
  EXPECT_FALSE(modules["layer4.0.bn1"]->is_training());
  EXPECT_TRUE(modules["layer4.0.conv1"]->is_training());
  EXPECT_TRUE(frozen_model->visual()->named_parameters()["layer4.0.conv1.weight"].requires_grad());
}

TEST(ImageTowerLock, PretrainTrainsOnlyTheTextSideFromThePretrainedImageWeights) {
  const fs::path folder = fs::temp_directory_path() / ("slipstream_test_lit_" + std::to_string(::getpid()));
  fs::remove_all(folder);
  fs::create_directories(folder);
  ModelConfig c = testing::small_config("clip", "modified_resnet");  // BatchNorms: their statistics must hold
  c.text.vocab_size = 49408;
  const std::string model_path = (folder / "model.json").string();
  std::ofstream(model_path) << to_json(c);
  // "Pretrained" image weights: another initialisation, saved as the converter writes a tower.
  at::manual_seed(99);
  const ContrastiveModel donor = create_model(c);
  {
    at::NoGradGuard no_grad;
    for (auto& item : donor->named_buffers()) {
      if (item.key().find("running_mean") != std::string::npos) item.value().normal_(0.0, 0.1);
    }
  }
  StateDict image_side;
  for (const auto& [name, tensor] : state_dict(*donor)) {
    if (starts_with(name, "visual.") || name == "image_projection") image_side[name] = tensor;
  }
  const std::string weights_path = (folder / "tower.safetensors").string();
  save_safetensors(weights_path, image_side);

  PretrainConfig config;
  config.dataset = "synthetic";
  config.synthetic_samples = 16;
  config.model = model_path;
  config.bpe = SLIPSTREAM_TEST_BPE;
  config.batch_size = 4;
  config.epochs = 1;
  config.warmup_epochs = 0;
  config.lr = 1e-2;
  config.workers = 1;
  config.device = "cpu";
  config.output_dir = (folder / "run").string();
  config.pretrained_image = weights_path;
  config.lock_image = true;
  std::vector<std::string> lines;
  PretrainHooks hooks;
  hooks.print = [&](const std::string& line) { lines.push_back(line); };
  ASSERT_TRUE(pretrain(config, hooks).completed);

  const ContrastiveModel trained = create_model(c);
  load_weights(*trained, (fs::path(latest_checkpoint(config.output_dir).value()) / "model.safetensors").string());
  const StateDict after = state_dict(*trained);
  int text_changed = 0;
  for (const auto& [name, tensor] : state_dict(*donor)) {
    const bool image = starts_with(name, "visual.") || name == "image_projection";
    if (image) EXPECT_TRUE(at::equal(after.at(name), tensor)) << name << " changed under --lock-image";
    if (!image && name != "logit_scale" && !at::equal(after.at(name), tensor)) ++text_changed;
  }
  EXPECT_GT(text_changed, 5);
  bool logged = false;
  for (const std::string& line : lines) logged = logged || line.find("image tower locked") != std::string::npos;
  EXPECT_TRUE(logged);

  // A file without the tower's tensors is refused before training, naming the flag.
  config.output_dir = (folder / "refused").string();
  save_safetensors((folder / "text_only.safetensors").string(), {{"logit_scale", at::zeros({})}});
  config.pretrained_image = (folder / "text_only.safetensors").string();
  try {
    pretrain(config, hooks);
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("--pretrained-image"), std::string::npos) << e.what();
  }
  fs::remove_all(folder);
}

}  // namespace
}  // namespace slipstream
