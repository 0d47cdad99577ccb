// A batch as the training and evaluation loops receive it, and how one is put together from the
// pipeline's examples (shared by the random-access loader and the streaming one).
#pragma once
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>
#include <vector>

#include "slipstream/data/sample_pipeline.h"

namespace slipstream {

struct Batch {
  int64_t epoch = 0;
  int64_t step = 0;
  std::vector<at::Tensor> views;  // one float [B, 3, S, S] per pipeline view
  at::Tensor tokens;              // int64 [B, context_length], zero padded (undefined without a tokenizer)
  at::Tensor tokens_aug;          // int64 [B, context_length], the caption views (undefined without one)
  at::Tensor labels;              // int64 [B], -1 for unlabelled samples
  at::Tensor indices;             // int64 [B], the dataset index each row came from (streaming: the stream position)
  std::vector<std::string> captions;
  std::vector<std::string> sources;  // where each row came from ("shard.tar:key", a path)
  int64_t replaced = 0;           // bad samples replaced while building this batch
  int64_t size() const { return indices.size(0); }
};

// Stacks `examples` (all with the same views) into a batch, row i from indices[i]; `pin`:
// page-locked tensors.
Batch assemble_batch(std::vector<Example> examples, const std::vector<int64_t>& indices,
                     const PipelineOptions& pipeline, bool pin);

}  // namespace slipstream
