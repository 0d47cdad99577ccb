#!/usr/bin/env bash
# Peak memory and step time of activation checkpointing (--grad-checkpointing) on CLIP_VITB16:
# slip_pretrain on synthetic 224 px images at a fixed batch, without and with it, the process's
# peak resident memory measured by GNU time (the model, AdamW's state and the activations), the
# throughput from the last progress line. The same for open_clip's ViT-B-16 (set_grad_checkpointing) in the
# same run, for reference. Writes bench/results/grad_checkpointing.json.
#   bench/grad_checkpointing/run.sh [BUILD_DIR] [BATCH] [STEPS]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="${1:-$root/build}"
batch="${2:-32}"
steps="${3:-3}"
python="${SLIPSTREAM_VENV:-$HOME/.cache/slipstream/venv}/bin/python"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

run_slipstream() {  # $1: label, then extra flags; prints "label peak_kib seconds_per_step"
  local label="$1"; shift
  /usr/bin/time -f "%M" -o "$work/$label.time" "$build/slip_pretrain" --dataset synthetic \
    --synthetic-samples $((batch * steps)) --model CLIP_VITB16 --batch-size "$batch" --epochs 1 --warmup-epochs 0 \
    --device cpu --precision fp32 --workers 2 --print-freq 1 --output-dir "$work/$label" "$@" > "$work/$label.log"
  "$python" - "$label" "$(cat "$work/$label.time")" "$work/$label.log" "$batch" <<'PY'
import re, sys
rates = re.findall(r"samples/s ([0-9.]+)", open(sys.argv[3]).read())
print(sys.argv[1], sys.argv[2], int(sys.argv[4]) / float(rates[-1]))  # seconds per step at the epoch's rate
PY
}

plain=$(run_slipstream plain)
checkpointed=$(run_slipstream checkpointed --grad-checkpointing)
reference=$("$python" "$root/bench/grad_checkpointing/open_clip_grad_checkpointing.py" --batch "$batch" --steps "$steps")
"$python" - "$root/bench/results/grad_checkpointing.json" "$plain" "$checkpointed" "$reference" "$batch" \
  "bench/grad_checkpointing/run.sh BUILD $batch $steps" "$steps" <<'PY'
import datetime, json, os, platform, sys
def parse(text):
    label, peak, seconds = text.split()
    return {"peak_rss_mib": int(peak) / 1024, "seconds_per_step": float(seconds)}
plain, checkpointed = parse(sys.argv[2]), parse(sys.argv[3])
reference = json.loads(sys.argv[4])
out = {"benchmark": "CLIP_VITB16 (ViT-B/16 + CLIP text tower) training step, 224 px, fp32, AdamW, without and with activation checkpointing",
       "command": sys.argv[6], "machine": platform.processor() or platform.machine(),
       "cpus": os.cpu_count(), "batch": int(sys.argv[5]), "steps": int(sys.argv[7]),
       "date": datetime.date.today().isoformat(),
       "slipstream": {"plain": plain, "checkpointed": checkpointed,
                      "peak_saved_mib": plain["peak_rss_mib"] - checkpointed["peak_rss_mib"],
                      "step_time_ratio": checkpointed["seconds_per_step"] / plain["seconds_per_step"]},
       "open_clip": reference}
json.dump(out, open(sys.argv[1], "w"), indent=2)
s = out["slipstream"]
print(f"slipstream: peak {plain['peak_rss_mib']:.0f} MiB -> {checkpointed['peak_rss_mib']:.0f} MiB "
      f"({s['peak_saved_mib']:.0f} MiB saved), step {plain['seconds_per_step']:.2f} s -> {checkpointed['seconds_per_step']:.2f} s")
r = reference
print(f"open_clip:  peak {r['plain']['peak_rss_mib']:.0f} MiB -> {r['checkpointed']['peak_rss_mib']:.0f} MiB, "
      f"step {r['plain']['seconds_per_step']:.2f} s -> {r['checkpointed']['seconds_per_step']:.2f} s")
PY
