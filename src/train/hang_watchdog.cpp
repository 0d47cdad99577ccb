#include "slipstream/train/hang_watchdog.h"

#include <cstdio>
#include <cstdlib>

#include "slipstream/core/text_format.h"

namespace slipstream {
namespace {

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

const char* phase_name(RunPhase phase) {
  switch (phase) {
    case RunPhase::kSetup: return "setup";
    case RunPhase::kData: return "data";
    case RunPhase::kForward: return "forward";
    case RunPhase::kBackward: return "backward";
    case RunPhase::kCollective: return "collective";
    case RunPhase::kCheckpoint: return "checkpoint";
    case RunPhase::kEvaluation: return "evaluation";
  }
  return "unknown";
}

HangWatchdog::HangWatchdog(double timeout_seconds, int64_t rank, std::function<void(const std::string&)> on_hang)
    : timeout_seconds_(timeout_seconds), rank_(rank), on_hang_(std::move(on_hang)) {
  if (!on_hang_) {
    on_hang_ = [](const std::string& line) {
      std::fflush(stdout);
      std::fprintf(stderr, "%s\n", line.c_str());
      std::fflush(stderr);
      std::_Exit(kHangExitCode);
    };
  }
  last_mark_ns_.store(now_ns());
  if (timeout_seconds_ > 0) thread_ = std::thread([this] { watch(); });
}

HangWatchdog::~HangWatchdog() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void HangWatchdog::enter(RunPhase phase, int64_t epoch, int64_t step) {
  phase_.store(static_cast<int>(phase));
  epoch_.store(epoch);
  step_.store(step);
  last_mark_ns_.store(now_ns());
}

void HangWatchdog::watch() {
  const auto poll = std::chrono::milliseconds(static_cast<int64_t>(std::min(1000.0, timeout_seconds_ * 100.0)));
  std::unique_lock<std::mutex> lock(mutex_);
  while (!wake_.wait_for(lock, poll, [this] { return stopping_; })) {
    const RunPhase phase = static_cast<RunPhase>(phase_.load());
    if (phase == RunPhase::kSetup) continue;  // before the first step: building, reading, connecting
    const double idle = static_cast<double>(now_ns() - last_mark_ns_.load()) * 1e-9;
    if (idle < timeout_seconds_) continue;
    on_hang_(format_text("rank %lld made no progress for %.0f s in the %s phase at epoch %lld step %lld "
                         "(--hang-timeout %g): ending the process so that the launcher restarts the run",
                         static_cast<long long>(rank_), idle, phase_name(phase), static_cast<long long>(epoch_.load()),
                         static_cast<long long>(step_.load()), timeout_seconds_));
    return;
  }
}

}  // namespace slipstream
