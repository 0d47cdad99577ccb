// SIGTERM and SIGUSR1 (Slurm's preemption notice and its usual --signal choice) as a flag a
// training run reads at every optimizer step: it then finishes the step, saves and returns.
#pragma once
#include <atomic>

namespace slipstream {

// Installs the handlers (once is enough; again is harmless) and returns the flag they set.
const std::atomic<bool>& install_stop_signals();

// Whether either signal has arrived since the handlers were installed.
bool stop_signal_received();

}  // namespace slipstream
