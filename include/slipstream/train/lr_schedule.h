// SLIP's learning-rate schedule (utils.cosine_scheduler): one value per optimizer step, a linear
// warmup from `start_warmup_value` to `base_value` over the warmup steps (np.linspace, both ends
// included), then a half cosine from `base_value` towards `final_value` over the remaining steps.
#pragma once
#include <cstdint>
#include <vector>

namespace slipstream {

// epochs * steps_per_epoch values; throws ConfigError when the warmup is longer than the run.
std::vector<double> cosine_schedule(double base_value, double final_value, int64_t epochs, int64_t steps_per_epoch,
                                    int64_t warmup_epochs = 0, double start_warmup_value = 0.0);

}  // namespace slipstream
