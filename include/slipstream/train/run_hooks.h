// What a caller (an app, a test) may hand a training run: where the lead rank's lines go, and
// ways to stop it as SIGTERM would (finish the step, save, return).
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

namespace slipstream {

struct RunHooks {
  std::function<void(const std::string&)> print;     // the lead rank's lines; default: standard output
  const std::atomic<bool>* stop_requested = nullptr;  // set: finish the step, save and stop
  int64_t stop_after_steps = 0;  // > 0: stop as if asked after this many optimizer steps of this run
  // Read every step's values on the host (one synchronisation per step), for hooks that watch each
  // step; otherwise they are read only at read points (TrainingRun::end_step).
  bool read_every_step = false;
};

}  // namespace slipstream
