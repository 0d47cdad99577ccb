#include "slipstream/losses/nearest_neighbour_queue.h"

#include <ATen/ATen.h>

#include "slipstream/core/error.h"

namespace slipstream {

NearestNeighbourQueue::NearestNeighbourQueue(int64_t capacity) : capacity_(capacity) {
  if (capacity < 1) throw ConfigError("nearest-neighbour queue size " + std::to_string(capacity) + ": expected at least 1");
}

at::Tensor NearestNeighbourQueue::nearest(const at::Tensor& queries) const {
  at::NoGradGuard no_grad;
  if (filled_ == 0) return queries.detach().clone();
  const at::Tensor stored = bank_.narrow(0, 0, filled_).to(queries.device(), queries.scalar_type());  // [N, E]
  const at::Tensor index = queries.matmul(stored.t()).argmax(-1);                    // [B]
  return stored.index_select(0, index);                                              // [B, E]
}

void NearestNeighbourQueue::push(const at::Tensor& entries) {
  at::NoGradGuard no_grad;
  if (!bank_.defined()) bank_ = at::zeros({capacity_, entries.size(1)}, entries.options().dtype(at::kFloat));
  if (bank_.device() != entries.device()) bank_ = bank_.to(entries.device());  // a checkpoint loads on the CPU
  if (entries.size(1) != bank_.size(1)) {
    throw ShapeError("nearest-neighbour queue holds width " + std::to_string(bank_.size(1)) + ", got " +
                     c10::str(entries.sizes()));
  }
  at::Tensor rows = entries.detach().to(at::kFloat);
  if (rows.size(0) > capacity_) rows = rows.narrow(0, rows.size(0) - capacity_, capacity_);
  for (int64_t done = 0; done < rows.size(0);) {
    const int64_t count = std::min(rows.size(0) - done, capacity_ - next_);
    bank_.narrow(0, next_, count).copy_(rows.narrow(0, done, count));
    done += count;
    next_ = (next_ + count) % capacity_;
    filled_ = std::min(capacity_, filled_ + count);
  }
}

std::map<std::string, at::Tensor> NearestNeighbourQueue::state() const {
  if (filled_ == 0) return {};
  // Oldest first: the ring from next_ when full, else the filled prefix.
  const at::Tensor ordered = filled_ < capacity_ ? bank_.narrow(0, 0, filled_)
                                                 : at::roll(bank_, {-next_}, {0});
  return {{"entries", ordered.cpu().contiguous()}};
}

void NearestNeighbourQueue::load_state(const std::map<std::string, at::Tensor>& state) {
  bank_ = at::Tensor();
  filled_ = next_ = 0;
  const auto found = state.find("entries");
  if (found == state.end()) return;
  if (found->second.dim() != 2) throw ShapeError("nearest-neighbour queue state: expected [N, E]");
  push(found->second);
}

}  // namespace slipstream
