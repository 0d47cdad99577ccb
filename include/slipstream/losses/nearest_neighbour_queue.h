// DeCLIP's nearest-neighbour memory (lightly's NNMemoryBankModule): a FIFO ring of the last
// `capacity` L2-normalised text embeddings of this rank, detached. nearest() returns, for each
// query, the stored embedding of highest cosine similarity; until anything is stored a query is
// its own neighbour.
#pragma once
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <map>
#include <string>

namespace slipstream {

class NearestNeighbourQueue {
 public:
  explicit NearestNeighbourQueue(int64_t capacity = 65536);
  at::Tensor nearest(const at::Tensor& queries) const;  // [B, E] normalised -> [B, E], no gradient
  void push(const at::Tensor& entries);                 // [B, E]: overwrites the oldest once full
  int64_t size() const { return filled_; }
  int64_t capacity() const { return capacity_; }

  // {"entries": [size, E] oldest first} for checkpoints, and back.
  std::map<std::string, at::Tensor> state() const;
  void load_state(const std::map<std::string, at::Tensor>& state);

 private:
  int64_t capacity_;
  at::Tensor bank_;  // [capacity, E], allocated at the first push
  int64_t filled_ = 0;
  int64_t next_ = 0;  // where the next entry goes
};

}  // namespace slipstream
