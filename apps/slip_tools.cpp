// slip_tools: the small jobs. `slip_tools models` lists every registered model with its
// parameter count per tower; `slip_tools config NAME` prints a model's JSON config;
// `slip_tools info` prints what this build was compiled with.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>

#include "slipstream/core/build_info.h"
#include "slipstream/core/error.h"
#include "slipstream/models/registry.h"

namespace {

std::string millions(int64_t count) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.2fM", static_cast<double>(count) / 1e6);
  return text;
}

void list_models(const std::vector<std::string>& names, bool as_json) {
  if (!as_json) {
    std::printf("%-16s %-7s %-16s %10s %10s %10s %10s\n", "model", "family", "vision tower", "vision", "text",
                "heads", "total");
  }
  for (const auto& name : names) {
    const slipstream::ModelConfig config = slipstream::resolve_model_config(name);
    const auto counts = slipstream::count_parameters(*slipstream::create_model(config));
    const std::string tower = config.vision.type == "vit"
                                  ? "ViT " + std::to_string(config.vision.width) + "/" + std::to_string(config.vision.depth) +
                                        "/" + std::to_string(config.vision.heads)
                                  : "ModifiedResNet";
    if (as_json) {
      nlohmann::json row = {{"model", config.name}, {"family", config.family}, {"vision", counts.vision},
                            {"text", counts.text},  {"heads", counts.heads},   {"total", counts.total()}};
      std::cout << row.dump() << "\n" << std::flush;
    } else {
      std::printf("%-16s %-7s %-16s %10s %10s %10s %10s\n", config.name.c_str(), config.family.c_str(), tower.c_str(),
                  millions(counts.vision).c_str(), millions(counts.text).c_str(), millions(counts.heads).c_str(),
                  millions(counts.total()).c_str());
      std::fflush(stdout);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"slip_tools: model listing and small jobs for slipstream"};
  app.require_subcommand(1);

  auto* models = app.add_subcommand("models", "List registered models with parameter counts per tower");
  std::vector<std::string> model_names;
  bool as_json = false;
  models->add_option("names", model_names, "Models to list (registered names or .json configs; default: all)");
  models->add_flag("--json", as_json, "One JSON object per line instead of a table");

  auto* config = app.add_subcommand("config", "Print a model's config as JSON (a starting point for a custom shape)");
  std::string config_name;
  config->add_option("name", config_name, "Registered model name or .json config")->required();

  auto* info = app.add_subcommand("info", "Print the LibTorch, CUDA, cuDNN and NCCL this build uses");

  CLI11_PARSE(app, argc, argv);
  try {
    if (models->parsed()) {
      list_models(model_names.empty() ? slipstream::registered_models() : model_names, as_json);
    } else if (config->parsed()) {
      std::cout << slipstream::to_json(slipstream::resolve_model_config(config_name)) << "\n";
    } else if (info->parsed()) {
      std::cout << slipstream::describe(slipstream::build_info());
    }
  } catch (const std::exception& e) {
    std::cerr << "slip_tools: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
