// The command-line side of RunOptions: every training app declares the shared run flags through
// this one function, so each flag has one name, one help text and the app's default shown.
#pragma once
#include "slipstream/train/run_options.h"

namespace CLI {
class App;
}

namespace slipstream {

// Adds --device, --seed, -j/--workers, --precision, --output-dir, -p/--print-freq,
// --save-every-steps, --keep-checkpoints, --dist-timeout, --hang-timeout, --skip-nonfinite and
// --log-all-ranks, bound to `options`.
void add_run_flags(CLI::App& app, RunOptions& options);

}  // namespace slipstream
