// What every slipstream app's main shares: CLI11 set up the same way (argparse's "the last one
// counts", --config files for the training apps), and one way to end: a parse error or --help
// through CLI11, any other error as one line "APP: what went wrong" and exit code 1.
#pragma once
#include <CLI/CLI.hpp>

#include <exception>
#include <iostream>
#include <memory>
#include <string>

#include "json_or_toml_config.h"

namespace slipstream {

struct AppStyle {
  int column_width = 32;     // of the flag column in --help
  bool config_file = false;  // --config FILE (JSON or TOML) may set any flag; the command line wins
};

inline void configure_app(CLI::App& app, const AppStyle& style = {}) {
  app.get_formatter()->column_width(style.column_width);
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);  // argparse: the last one counts
  if (style.config_file) {
    app.config_formatter(std::make_shared<JsonOrTomlConfig>());
    app.set_config("--config", "", "JSON or TOML file that may set any flag (the command line wins)");
  }
}

// Parses the command line, then runs `body` (which returns the exit code).
template <typename Body>
int run_app(const std::string& name, CLI::App& app, int argc, char** argv, Body&& body) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    return body();
  } catch (const std::exception& e) {
    std::cerr << name << ": " << e.what() << "\n";
    return 1;
  }
}

}  // namespace slipstream
