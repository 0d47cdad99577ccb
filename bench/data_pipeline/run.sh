#!/usr/bin/env bash
# Runs the data-pipeline benchmark: slipstream and the two Python references, one after the other
# in the same run and on the same files, each on one thread:
#   torchvision-pil     SLIP's own path: PIL decode + torchvision.transforms on PIL images;
#   torchvision-tensor  torchvision.io.decode_image + transforms.v2 on uint8 tensors.
# Three rows: a varied set of 19 real photographs built by make_photo_set.py from the images in
# scikit-image's and scikit-learn's wheels (baseline, progressive and grey JPEGs, RGB and grey PNGs,
# sizes from 320 to 1920 px wide, square, portrait and panorama), then scikit-learn's china.jpg and
# flower.jpg (640x427) and the same two re-encoded at 1920 px wide, as large web photos are.
# Each row records both references and slipstream's ratio to the fastest of them (the target is
# at least 2x per core). Writes bench/results/data_pipeline.json.
#   bench/data_pipeline/run.sh [BUILD_DIR] [SECONDS]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="${1:-$root/build}"
seconds="${2:-20}"
python="${SLIPSTREAM_VENV:-$HOME/.cache/slipstream/venv}/bin/python"
bpe="${SLIPSTREAM_BPE:-$root/../shared/data/bpe_simple_vocab_16e6.txt.gz}"
[[ -f "$bpe" ]] || bpe="$("$python" -c 'import open_clip.tokenizer as t; print(t.default_bpe())' 2>/dev/null)"
reference="$root/bench/data_pipeline/torchvision_pipeline.py"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# scikit-image's wheel carries the photographs of the varied set; install it only if missing.
if ! "$python" -c 'import importlib.util, sys; sys.exit(importlib.util.find_spec("skimage") is None)'; then
  "$python" -m pip install -q --disable-pip-version-check scikit-image >&2
fi
mkdir -p "$work/set" "$work/pairs"
"$python" "$root/bench/data_pipeline/make_photo_set.py" "$work/set" >"$work/manifest.json"

"$python" - "$work/pairs" <<'PY'
import os, sys, sklearn.datasets
from PIL import Image
folder = os.path.join(os.path.dirname(sklearn.datasets.__file__), "images")
for name in ["china", "flower"]:
    image = Image.open(os.path.join(folder, name + ".jpg")).convert("RGB")
    image.save(os.path.join(sys.argv[1], f"{name}_640.jpg"), quality=90)
    image.resize((1920, 1281), Image.BICUBIC).save(os.path.join(sys.argv[1], f"{name}_1920.jpg"), quality=90)
PY

results=()
run_row() {  # run_row NAME WIDTH_PX|null FILE...
  local name="$1" width="$2" ours pil tensor
  shift 2
  ours=$("$build/bench/bench_data_pipeline" "$@" --bpe "$bpe" --seconds "$seconds")
  echo "[$name] slipstream: $ours"
  pil=$("$python" "$reference" "$@" --bpe "$bpe" --seconds "$seconds" --path pil 2>/dev/null)
  echo "[$name] torchvision-pil: $pil"
  tensor=$("$python" "$reference" "$@" --bpe "$bpe" --seconds "$seconds" --path tensor 2>/dev/null)
  echo "[$name] torchvision-tensor: $tensor"
  results+=("{\"photos\": \"$name\", \"width_px\": $width, \"files\": $#, \"slipstream\": $ours, \"torchvision_pil\": $pil, \"torchvision_tensor\": $tensor}")
}

set_files=("$work"/set/*)
run_row "varied set (${#set_files[@]} photos)" null "${set_files[@]}"
for size in 640 1920; do
  run_row "$size px" "$size" "$work/pairs/china_$size.jpg" "$work/pairs/flower_$size.jpg"
done

"$python" - "$root/bench/results/data_pipeline.json" "$work/manifest.json" \
  "bench/data_pipeline/run.sh $build $seconds" "${results[@]}" <<'PY'
import datetime, importlib.metadata, json, os, platform, sys
out_path, manifest, command = sys.argv[1], json.load(open(sys.argv[2])), sys.argv[3]
versions = {p: importlib.metadata.version(p) for p in ("torch", "torchvision", "pillow", "open_clip_torch")}
rows = [json.loads(r) for r in sys.argv[4:]]
for row in rows:
    ours = row["slipstream"]["images_per_second"]
    references = [row["torchvision_pil"], row["torchvision_tensor"]]
    row["speedup_vs_pil"] = ours / row["torchvision_pil"]["images_per_second"]
    row["speedup_vs_tensor"] = ours / row["torchvision_tensor"]["images_per_second"]
    fastest = max(references, key=lambda r: r["images_per_second"])
    row["fastest_reference"] = fastest["implementation"]
    row["speedup_vs_fastest"] = ours / fastest["images_per_second"]
    row["target_2x_met"] = row["speedup_vs_fastest"] >= 2.0
    row["reference_versions"] = versions
    if row["width_px"] is None:
        row["photo_set"] = manifest
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.machine())
out = {"benchmark": "decode + CLIP view + 2 SimCLR views + tokenize, one thread",
       "machine": cpu, "cpus": os.cpu_count(),
       "date": datetime.date.today().isoformat(), "command": command, "results": rows}
with open(out_path, "w") as f:
    json.dump(out, f, indent=2)
for row in rows:
    print(f"{row['photos']}: slipstream {row['slipstream']['images_per_second']:.1f} img/s, "
          f"torchvision-pil {row['torchvision_pil']['images_per_second']:.1f} img/s, "
          f"torchvision-tensor {row['torchvision_tensor']['images_per_second']:.1f} img/s, "
          f"{row['speedup_vs_fastest']:.2f}x the fastest ({row['fastest_reference']})"
          f"{'' if row['target_2x_met'] else ' -- below the 2x target'}")
PY
