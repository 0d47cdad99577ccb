// Where CLIP's BPE merges (bpe_simple_vocab_16e6.txt.gz) are, so no app needs --bpe. In order:
//   1. the flag (--bpe), when given: it must exist;
//   2. the path a checkpoint recorded (the run's --bpe), when it still exists;
//   3. assets/ as scripts/download_assets.sh fills it: $SLIPSTREAM_ASSETS, ./assets, the source
//      tree's assets/ (this build's), and assets/ beside or above the executable;
//   4. a Python environment's packaged copy (open_clip's, OpenAI's clip): $VIRTUAL_ENV,
//      $CONDA_PREFIX, ~/.cache/slipstream/venv, /usr/local, /usr (lib/python3.*/site-packages).
#pragma once
#include <string>

namespace slipstream {

struct BpeLocation {
  std::string path;
  std::string found_by;  // "--bpe", "the checkpoint's record", "assets/", "open_clip's package", ...
  std::string describe() const { return path + " (" + found_by + ")"; }
};

// ConfigError naming every place looked at when there is none.
BpeLocation find_clip_bpe(const std::string& flag_value, const std::string& recorded = "");

}  // namespace slipstream
