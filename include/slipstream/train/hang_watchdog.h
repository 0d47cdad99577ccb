// A watchdog in each training process: the loop marks each phase it enters (data, forward,
// backward, collective, checkpoint, evaluation); when no mark comes for --hang-timeout seconds (a
// stuck collective, a stuck read), the process ends with one line naming its rank, the phase and
// the position, and exit code kHangExitCode, so the launcher's restart takes over.
#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace slipstream {

enum class RunPhase { kSetup, kData, kForward, kBackward, kCollective, kCheckpoint, kEvaluation };
const char* phase_name(RunPhase phase);

constexpr int kHangExitCode = 124;  // timeout(1)'s

class HangWatchdog {
 public:
  // timeout_seconds <= 0 turns it off. `on_hang` receives the line; by default it is printed to
  // standard error and the process exits with kHangExitCode at once (no destructors: they may be
  // the ones stuck).
  HangWatchdog(double timeout_seconds, int64_t rank, std::function<void(const std::string&)> on_hang = {});
  ~HangWatchdog();
  HangWatchdog(const HangWatchdog&) = delete;
  HangWatchdog& operator=(const HangWatchdog&) = delete;

  // A mark of progress: the phase now entered and where the run is (epoch, loader step).
  void enter(RunPhase phase, int64_t epoch, int64_t step);

 private:
  void watch();

  double timeout_seconds_;
  int64_t rank_;
  std::function<void(const std::string&)> on_hang_;
  std::atomic<int> phase_{static_cast<int>(RunPhase::kSetup)};
  std::atomic<int64_t> epoch_{0}, step_{0};
  std::atomic<int64_t> last_mark_ns_{0};
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace slipstream
