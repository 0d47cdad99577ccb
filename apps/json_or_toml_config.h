// The --config file of the training apps: CLI11's TOML/INI reader, plus JSON objects
// ({"lr": 5e-4, "batch-size": 32, "betas": [0.9, 0.98]}). Keys are flag names without the leading
// dashes; underscores may stand for dashes (SLIP's and BEiT's argparse names).
#pragma once
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <sstream>
#include <string>
#include <vector>

namespace slipstream {

// CLI11's TOML/INI reader, plus JSON objects ({"lr": 5e-4, "batch-size": 32, "betas": [0.9, 0.98]}).
// Keys are flag names without the leading dashes; underscores may stand for dashes (SLIP's args).
class JsonOrTomlConfig : public CLI::ConfigTOML {
 public:
  std::vector<CLI::ConfigItem> from_config(std::istream& input) const override {
    std::stringstream buffer;
    buffer << input.rdbuf();
    const std::string text = buffer.str();
    const size_t first = text.find_first_not_of(" \t\r\n");
    if (first == std::string::npos || text[first] != '{') {
      std::istringstream toml(text);
      return CLI::ConfigTOML::from_config(toml);
    }
    const nlohmann::json object = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (!object.is_object()) throw CLI::ConversionError("--config: the file is not a valid JSON object");
    std::vector<CLI::ConfigItem> items;
    for (const auto& [key, value] : object.items()) {
      CLI::ConfigItem item;
      item.name = key;
      for (char& c : item.name) c = c == '_' ? '-' : c;
      const auto text_of = [](const nlohmann::json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); };
      if (value.is_array()) {
        for (const auto& element : value) item.inputs.push_back(text_of(element));
      } else {
        item.inputs.push_back(text_of(value));
      }
      items.push_back(std::move(item));
    }
    return items;
  }
};

}  // namespace slipstream
