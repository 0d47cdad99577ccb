#include "slipstream/train/stop_signals.h"

#include <csignal>

namespace slipstream {
namespace {

std::atomic<bool> g_stop_signal{false};

extern "C" void on_stop_signal(int) { g_stop_signal.store(true); }

}  // namespace

const std::atomic<bool>& install_stop_signals() {
  std::signal(SIGTERM, on_stop_signal);
  std::signal(SIGUSR1, on_stop_signal);
  return g_stop_signal;
}

bool stop_signal_received() { return g_stop_signal.load(); }

}  // namespace slipstream
