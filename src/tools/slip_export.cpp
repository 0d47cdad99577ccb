// slipstream -> a SLIP checkpoint (model_export.h): what SLIP's main.py saves and its
// eval_zeroshot.py / main_linear.py read: {"epoch", "state_dict" (DistributedDataParallel's
// `module.` prefix), "best_acc1", "args" (an argparse.Namespace; args.model picks the model in
// SLIP's models.py, args.ssl_mlp_dim / ssl_emb_dim size its SimCLR head)}. SLIP's names are
// slipstream's, so the tensors go over unchanged. The pickle is written by torch.save in Python.
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>

#include "export_common.h"
#include "slipstream/core/atomic_file.h"
#include "slipstream/core/safetensors.h"

namespace slipstream::export_detail {
namespace {

namespace fs = std::filesystem;

constexpr const char* kSaveScript = R"PY(import argparse, json, sys
from collections import OrderedDict
try:
    import torch
    from safetensors.torch import load_file
except ImportError as error:
    sys.exit(f"export --format slip: {sys.executable} cannot import torch and safetensors ({error})")
weights, meta, output = load_file(sys.argv[1]), json.load(open(sys.argv[2])), sys.argv[3]
state_dict = OrderedDict(("module." + name, tensor.clone()) for name, tensor in sorted(weights.items()))
torch.save({"epoch": meta["epoch"], "state_dict": state_dict, "best_acc1": meta["best_acc1"],
            "args": argparse.Namespace(**meta["args"])}, output + ".part")
import os
os.replace(output + ".part", output)
)PY";

std::string environment(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

// --python, else $SLIPSTREAM_PYTHON, else slipstream's own environment, else python3.
std::string resolve_python(const std::string& flag) {
  if (!flag.empty()) return flag;
  if (!environment("SLIPSTREAM_PYTHON").empty()) return environment("SLIPSTREAM_PYTHON");
  const fs::path venv = fs::path(environment("HOME")) / ".cache/slipstream/venv/bin/python";
  if (!environment("HOME").empty() && fs::exists(venv)) return venv.string();
  return "python3";
}

// Runs python -c SCRIPT ARGS... without a shell; the exit code (or -1 when it could not start).
int run_python(const std::string& python, const std::vector<std::string>& arguments) {
  const pid_t child = ::fork();
  if (child < 0) return -1;
  if (child == 0) {
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(python.c_str()));
    argv.push_back(const_cast<char*>("-c"));
    argv.push_back(const_cast<char*>(kSaveScript));
    for (const std::string& argument : arguments) argv.push_back(const_cast<char*>(argument.c_str()));
    argv.push_back(nullptr);
    ::execvp(argv[0], argv.data());
    ::_exit(127);
  }
  int status = 0;
  if (::waitpid(child, &status, 0) < 0) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

ExportResult export_slip(const ExportSource& source, const std::string& file, const std::string& python_flag) {
  const ModelConfig& c = source.config;
  require_representable(c.family != "declip", "slip", c, "DeCLIP is not one of SLIP's models");
  require_representable(c.contrastive_loss == "clip", "slip", c, "SLIP's models have no SigLIP logit_bias");
  nlohmann::json args = {{"model", c.name}};
  if (c.has_ssl_head()) args.update({{"ssl_mlp_dim", c.ssl.mlp_dim}, {"ssl_emb_dim", c.ssl.emb_dim}});
  // slipstream's full model config travels along, for models SLIP's models.py does not register
  args["slipstream_model_config"] = nlohmann::json::parse(to_json(c));
  const auto number = [&](const char* key, double fallback) {
    const auto found = source.metadata.find(key);
    return found == source.metadata.end() ? fallback : std::atof(found->second.c_str());
  };
  const nlohmann::json meta = {{"epoch", static_cast<int64_t>(number("epoch", 0))},
                               {"best_acc1", number("best_acc1", 0.0)}, {"args", args}};

  const std::string staging = file + ".staging";
  const std::string weights = staging + ".safetensors", meta_file = staging + ".json";
  struct Cleanup {
    std::vector<std::string> paths;
    ~Cleanup() {
      for (const std::string& path : paths) ::unlink(path.c_str());
    }
  } cleanup{{weights, meta_file, file + ".part"}};
  save_safetensors(weights, source.tensors);
  write_file_atomically(meta_file, meta.dump());
  const std::string python = resolve_python(python_flag);
  const int code = run_python(python, {weights, meta_file, file});
  if (code != 0) {
    throw ConfigError("export --format slip: " + python + " could not write " + file +
                      (code == 127 || code < 0 ? " (it did not start: pass --python PATH)" : " (exit code " + std::to_string(code) + "; its message is above)"));
  }
  ExportResult result;
  result.files.push_back(file);
  result.notes.push_back("pickled by " + python + "; args.model = " + c.name);
  return result;
}

}  // namespace slipstream::export_detail
