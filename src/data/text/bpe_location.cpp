#include "slipstream/data/text/bpe_location.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <system_error>
#include <vector>

#include "slipstream/core/error.h"

namespace slipstream {
namespace {

namespace fs = std::filesystem;
constexpr const char* kBpeName = "bpe_simple_vocab_16e6.txt.gz";

bool is_file(const fs::path& path) {
  std::error_code error;
  return fs::is_regular_file(path, error);
}

std::string environment(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

fs::path executable_folder() {
  std::error_code error;
  const fs::path self = fs::read_symlink("/proc/self/exe", error);
  return error ? fs::path() : self.parent_path();
}

// The site-packages folders of a Python prefix (lib/python3.*/site-packages, dist-packages).
std::vector<fs::path> site_packages(const fs::path& prefix) {
  std::vector<fs::path> folders;
  std::error_code error;
  const fs::path lib = prefix / "lib";
  if (!fs::is_directory(lib, error)) return folders;
  for (const auto& entry : fs::directory_iterator(lib, error)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("python3", 0) != 0) continue;
    for (const char* leaf : {"site-packages", "dist-packages"}) {
      if (fs::is_directory(entry.path() / leaf, error)) folders.push_back(entry.path() / leaf);
    }
  }
  if (fs::is_directory(lib / "python3" / "dist-packages", error)) folders.push_back(lib / "python3" / "dist-packages");
  std::sort(folders.begin(), folders.end());
  return folders;
}

}  // namespace

BpeLocation find_clip_bpe(const std::string& flag_value, const std::string& recorded) {
  if (!flag_value.empty()) {
    if (!is_file(flag_value)) throw ConfigError("--bpe " + flag_value + ": no such file");
    return {flag_value, "--bpe"};
  }
  if (!recorded.empty() && is_file(recorded)) return {recorded, "the checkpoint's record"};

  std::vector<fs::path> asset_folders;
  if (!environment("SLIPSTREAM_ASSETS").empty()) asset_folders.push_back(environment("SLIPSTREAM_ASSETS"));
  asset_folders.push_back("assets");
#ifdef SLIPSTREAM_SOURCE_DIR
  asset_folders.push_back(fs::path(SLIPSTREAM_SOURCE_DIR) / "assets");
#endif
  const fs::path exe = executable_folder();
  if (!exe.empty()) {
    for (fs::path up = exe; !up.empty() && up != up.root_path(); up = up.parent_path()) {
      asset_folders.push_back(up / "assets");
      if (asset_folders.size() > 8) break;
    }
  }
  for (const fs::path& folder : asset_folders) {
    if (is_file(folder / kBpeName)) return {(folder / kBpeName).string(), "assets/"};
  }

  std::vector<fs::path> prefixes;
  for (const char* variable : {"VIRTUAL_ENV", "CONDA_PREFIX"}) {
    if (!environment(variable).empty()) prefixes.push_back(environment(variable));
  }
  if (!environment("HOME").empty()) prefixes.push_back(fs::path(environment("HOME")) / ".cache/slipstream/venv");
  prefixes.push_back("/usr/local");
  prefixes.push_back("/usr");
  for (const fs::path& prefix : prefixes) {
    for (const fs::path& packages : site_packages(prefix)) {
      for (const char* package : {"open_clip", "clip"}) {
        if (is_file(packages / package / kBpeName)) {
          return {(packages / package / kBpeName).string(), std::string(package) + "'s package"};
        }
      }
    }
  }
  throw ConfigError(std::string("CLIP's BPE merges (") + kBpeName +
                    ") not found: pass --bpe PATH, run scripts/download_assets.sh (assets/), set SLIPSTREAM_ASSETS, "
                    "or install open_clip_torch in the active Python environment");
}

}  // namespace slipstream
