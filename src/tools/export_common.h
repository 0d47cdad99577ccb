// What the export formats share (src/tools only): the checkpoint read once, tensors by name with
// a clear error for one that is missing, and the one-line refusal.
#pragma once
#include <ATen/core/Tensor.h>

#include <map>
#include <string>

#include "slipstream/core/error.h"
#include "slipstream/models/model_config.h"
#include "slipstream/tools/model_export.h"

namespace slipstream::export_detail {

struct ExportSource {
  ModelConfig config;
  std::string weights_path;
  std::map<std::string, at::Tensor> tensors;  // slipstream's names
  std::map<std::string, std::string> metadata;

  // The tensor `name`, or StateDictError naming the file.
  const at::Tensor& at(const std::string& name) const;
  bool has(const std::string& name) const { return tensors.count(name) > 0; }
};

// Throws ConfigError "export --format FORMAT: MODEL: REASON" unless `representable`.
void require_representable(bool representable, const std::string& format, const ModelConfig& config,
                           const std::string& reason);

// Writes `text` to `path` atomically; records it in `result`.
void write_text_file(const std::string& path, const std::string& text, ExportResult& result);

ExportResult export_open_clip(const ExportSource& source, const std::string& folder);
ExportResult export_hugging_face(const ExportSource& source, const std::string& folder, const std::string& bpe);
ExportResult export_slip(const ExportSource& source, const std::string& file, const std::string& python);

}  // namespace slipstream::export_detail
