#include "slipstream/train/lr_schedule.h"

#include <cmath>
#include <string>

#include "slipstream/core/error.h"

namespace slipstream {

std::vector<double> cosine_schedule(double base_value, double final_value, int64_t epochs, int64_t steps_per_epoch,
                                    int64_t warmup_epochs, double start_warmup_value) {
  if (epochs < 1 || steps_per_epoch < 1) {
    throw ConfigError("learning-rate schedule: expected at least one epoch of at least one step, got " +
                      std::to_string(epochs) + " epochs of " + std::to_string(steps_per_epoch) + " steps");
  }
  if (warmup_epochs < 0 || warmup_epochs > epochs) {
    throw ConfigError("--warmup-epochs " + std::to_string(warmup_epochs) + ": expected between 0 and --epochs (" +
                      std::to_string(epochs) + ")");
  }
  const int64_t total = epochs * steps_per_epoch;
  const int64_t warmup = warmup_epochs * steps_per_epoch;
  std::vector<double> schedule;
  schedule.reserve(static_cast<size_t>(total));
  // np.linspace(start, base, warmup): start + i * (base - start) / (warmup - 1), the last exactly base
  for (int64_t i = 0; i < warmup; ++i) {
    if (warmup == 1) {
      schedule.push_back(start_warmup_value);
    } else if (i == warmup - 1) {
      schedule.push_back(base_value);
    } else {
      schedule.push_back(start_warmup_value + static_cast<double>(i) * ((base_value - start_warmup_value) /
                                                                         static_cast<double>(warmup - 1)));
    }
  }
  const int64_t decay = total - warmup;
  for (int64_t i = 0; i < decay; ++i) {
    const double progress = M_PI * static_cast<double>(i) / static_cast<double>(decay);
    schedule.push_back(final_value + 0.5 * (base_value - final_value) * (1.0 + std::cos(progress)));
  }
  return schedule;
}

}  // namespace slipstream
