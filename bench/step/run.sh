#!/usr/bin/env bash
# slip_bench beside open_clip's own step, back to back on one device, for the demo CLIP, CLIP_RN50
# and CLIP_VITB16 (open_clip: its RN50 and ViT-B-16, and the demo's shape as a config), at the same
# batch, precision and steps. Writes bench/results/step_DEVICE.json with both results and their ratio.
#   bench/step/run.sh [BUILD_DIR] [DEVICE] [PRECISION] [STEPS]     (defaults: build cpu fp32 5)
# Batches: 64 for the demo CLIP, 8 for CLIP_RN50 and CLIP_VITB16 (CPU-sized; pass BATCHES="a b c").
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="${1:-$root/build}"
device="${2:-cpu}"
precision="${3:-fp32}"
steps="${4:-5}"
read -r -a batches <<< "${BATCHES:-64 8 8}"
python="${SLIPSTREAM_VENV:-$HOME/.cache/slipstream/venv}/bin/python"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cat > "$work/demo_clip.open_clip.json" <<'JSON'
{"embed_dim": 128, "quick_gelu": true,
 "vision_cfg": {"image_size": 64, "layers": [1, 1, 1, 1], "width": 16, "head_width": 64},
 "text_cfg": {"context_length": 16, "vocab_size": 49408, "width": 128, "heads": 4, "layers": 3}}
JSON
models=("$root/configs/demo/demo_clip.json" CLIP_RN50 CLIP_VITB16)
references=("--open-clip-config $work/demo_clip.open_clip.json --name DEMO_CLIP" "--open-clip-model RN50-quickgelu"
            "--open-clip-model ViT-B-16-quickgelu")
results=()
for i in 0 1 2; do
  ours="$work/ours$i.json" theirs="$work/theirs$i.json"
  "$build/slip_bench" --model "${models[$i]}" --batch "${batches[$i]}" --precision "$precision" --device "$device" \
    --steps "$steps" --warmup 2 > "$ours"
  flops=$("$python" -c "import json,sys; print(json.load(open(sys.argv[1]))['flops_per_step'])" "$ours")
  # shellcheck disable=SC2086
  "$python" "$root/bench/step/open_clip_step.py" ${references[$i]} --batch "${batches[$i]}" --precision "$precision" \
    --device "$device" --steps "$steps" --warmup 2 --flops-per-step "$flops" > "$theirs"
  results+=("$ours" "$theirs")
done
"$python" - "$root/bench/results/step_$device.json" "$device $precision $steps" "${results[@]}" <<'PY'
import datetime, json, os, platform, sys
out_path, settings, files = sys.argv[1], sys.argv[2], sys.argv[3:]
rows = []
for ours_file, theirs_file in zip(files[::2], files[1::2]):
    ours, theirs = json.load(open(ours_file)), json.load(open(theirs_file))
    rows.append({"model": ours["model"], "batch": ours["batch"], "slipstream": ours, "open_clip": theirs,
                 "speed_ratio": ours["samples_per_second"] / theirs["samples_per_second"]})
json.dump({"benchmark": "pre-training step, slip_bench vs open_clip's model, loss and AdamW step, back to back",
           "command": "bench/step/run.sh BUILD " + settings, "machine": platform.processor() or platform.machine(),
           "cpus": os.cpu_count(), "date": datetime.date.today().isoformat(), "results": rows},
          open(out_path, "w"), indent=2)
print(f"{'model':<12} {'batch':>5} {'slipstream/s':>13} {'open_clip/s':>12} {'ratio':>6}   slipstream ms fwd/bwd/opt      open_clip ms fwd/bwd/opt")
for r in rows:
    a, b = r["slipstream"]["phases_ms"], r["open_clip"]["phases_ms"]
    print(f"{r['model']:<12} {r['batch']:>5} {r['slipstream']['samples_per_second']:>13.2f} {r['open_clip']['samples_per_second']:>12.2f} "
          f"{r['speed_ratio']:>6.2f}   {a['forward']:.0f}/{a['backward']:.0f}/{a['optimizer']:.0f}   {b['forward']:.0f}/{b['backward']:.0f}/{b['optimizer']:.0f}")
PY
