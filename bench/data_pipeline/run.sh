#!/usr/bin/env bash
# Runs the data-pipeline benchmark: slipstream and the PIL/torchvision reference, one after the
# other in the same run, on the same real JPEG photographs (scikit-learn's china.jpg and
# flower.jpg, 640x427, and the same two re-encoded at 1920 px wide, as large web photos are),
# each on one thread. Writes bench/results/data_pipeline.json.
#   bench/data_pipeline/run.sh [BUILD_DIR] [SECONDS]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="${1:-$root/build}"
seconds="${2:-20}"
python="${SLIPSTREAM_VENV:-$HOME/.cache/slipstream/venv}/bin/python"
bpe="${SLIPSTREAM_BPE:-$root/../shared/data/bpe_simple_vocab_16e6.txt.gz}"
[[ -f "$bpe" ]] || bpe="$("$python" -c 'import open_clip.tokenizer as t; print(t.default_bpe())' 2>/dev/null)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

"$python" - "$work" <<'PY'
import os, sys, sklearn.datasets
from PIL import Image
folder = os.path.join(os.path.dirname(sklearn.datasets.__file__), "images")
for name in ["china", "flower"]:
    image = Image.open(os.path.join(folder, name + ".jpg")).convert("RGB")
    image.save(os.path.join(sys.argv[1], f"{name}_640.jpg"), quality=90)
    image.resize((1920, 1281), Image.BICUBIC).save(os.path.join(sys.argv[1], f"{name}_1920.jpg"), quality=90)
PY

results=()
for size in 640 1920; do
  files=("$work"/china_$size.jpg "$work"/flower_$size.jpg)
  ours=$("$build/bench/bench_data_pipeline" "${files[@]}" --bpe "$bpe" --seconds "$seconds")
  reference=$("$python" "$root/bench/data_pipeline/torchvision_pipeline.py" "${files[@]}" --bpe "$bpe" --seconds "$seconds" 2>/dev/null)
  echo "[$size px] slipstream: $ours"
  echo "[$size px] torchvision: $reference"
  results+=("{\"width_px\": $size, \"slipstream\": $ours, \"torchvision\": $reference}")
done
"$python" - "$root/bench/results/data_pipeline.json" "${results[@]}" <<'PY'
import json, platform, sys, datetime, os
rows = [json.loads(r) for r in sys.argv[2:]]
for row in rows:
    row["speedup"] = row["slipstream"]["images_per_second"] / row["torchvision"]["images_per_second"]
out = {"benchmark": "decode + CLIP view + 2 SimCLR views + tokenize, one thread",
       "machine": platform.processor() or platform.machine(), "cpus": os.cpu_count(),
       "date": datetime.date.today().isoformat(), "results": rows}
json.dump(out, open(sys.argv[1], "w"), indent=2)
for row in rows:
    print(f"{row['width_px']} px: slipstream {row['slipstream']['images_per_second']:.1f} img/s, "
          f"torchvision {row['torchvision']['images_per_second']:.1f} img/s, ratio {row['speedup']:.2f}x")
PY
