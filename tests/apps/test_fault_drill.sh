#!/usr/bin/env bash
# The fault drill with a fixed seed (scripts/fault_drill.sh): two Gloo workers under
# slip_run --max-restarts, SIGKILLed (once during a checkpoint write), one hung, the newest
# checkpoint truncated and bit-flipped, the disk filled; the run must finish by itself with the
# final weights of the run without faults, bit for bit, every fault having fired. Then the same
# run under torchrun's own elastic agent (--no-python, --max-restarts) with a worker SIGKILLed.
#   test_fault_drill.sh BUILD_DIR BPE PYTHON
set -euo pipefail
build="$1" bpe="$2" python="$3"
source_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
bash "$source_dir/scripts/fault_drill.sh" --seed 7 --build "$build" --bpe "$bpe" --work "$work/drill" \
  || { echo "FAIL: the fault drill"; exit 1; }
"$python" - "$work/drill/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print("fault drill:", json.dumps(r))
assert r["final_weights_equal"] is True and r["exit_code"] == 0, r
assert r["faults_fired"] == r["faults_planned"] == 6, r
assert 6 <= r["restarts"] <= 10, r                    # at least one restart per fault
assert r["hang_ended_by_watchdog"] >= 1, r            # the hung rank named itself and ended
assert r["checkpoints_skipped_on_resume"] >= 2, r     # the truncated and the bit-flipped one
assert r["steps_recomputed"] > 0, r
PY
# torchrun's elastic agent restarts the group; the workers rendezvous again through the agent's
# store (a key prefix per attempt) and resume from the last checkpoint.
torchrun="$(dirname "$python")/torchrun"
mapfile -t run < "$work/drill/run_args"
echo '[{"kind": "kill", "rank": 1, "step": 5}]' > "$work/kill_plan.json"
SLIPSTREAM_FAULT_PLAN="$work/kill_plan.json" "$torchrun" --standalone --nproc-per-node 2 --max-restarts 1 --no-python \
  "$build/slip_pretrain" "${run[@]}" --output-dir "$work/torchrun" > "$work/torchrun.log" 2>&1 \
  || { tail -20 "$work/torchrun.log"; echo "FAIL: torchrun --max-restarts"; exit 1; }
[[ -f "$work/kill_plan.json.fired.0" ]] || { echo "FAIL: the kill under torchrun did not fire"; exit 1; }
grep -q "^=> resumed from .*checkpoints/epoch_" "$work/torchrun/out.log" || { echo "FAIL: no resume under torchrun"; exit 1; }
cmp "$work/drill/reference/checkpoint_last/model.safetensors" "$work/torchrun/checkpoint_last/model.safetensors" \
  || { echo "FAIL: torchrun's restarted run ends with other weights"; exit 1; }
echo "torchrun --max-restarts 1 --no-python: a SIGKILLed worker restarted, resumed, final weights equal"
echo "fault drill: ok"
