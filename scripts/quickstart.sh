#!/usr/bin/env bash
# The main job in one command, on a CPU in minutes: builds what it needs (set-up included), renders
# the demo corpus (coloured shapes with captions; 8 shape-colour combinations held out), pre-trains
# a small CLIP and a small SLIP on it, classifies the held-out images zero-shot by shape and by
# colour, and prints both models' accuracies beside chance. Also writes loss curves (loss.png),
# TensorBoard logs and every run's checkpoints under the output folder.
#   scripts/quickstart.sh [--out DIR] [--device auto|cpu|cuda] [--epochs-clip N] [--epochs-slip N]
#                         [--train-samples N] [--seed N] [--data DIR] [--models clip,slip]
# --data: a corpus make-demo-data rendered before (default OUT/data, rendered when missing).
# --models: the models to pre-train (default both); the table also shows one trained before in OUT.
# Environment: SLIPSTREAM_BUILD_DIR (default build), SLIPSTREAM_VENV (the set-up's Python).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
out="runs/quickstart" device="auto" epochs_clip=10 epochs_slip=10 samples=20000 seed=0 data="" models="clip,slip"
while (($#)); do
  case "$1" in
    --out) out="$2"; shift 2 ;;
    --device) device="$2"; shift 2 ;;
    --epochs-clip) epochs_clip="$2"; shift 2 ;;
    --epochs-slip) epochs_slip="$2"; shift 2 ;;
    --train-samples) samples="$2"; shift 2 ;;
    --seed) seed="$2"; shift 2 ;;
    --data) data="$2"; shift 2 ;;
    --models) models="$2"; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "quickstart: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
IFS=, read -r -a families <<< "$models"
for family in "${families[@]}"; do
  [[ $family == clip || $family == slip ]] || { echo "quickstart: --models takes clip and/or slip, got '$family'" >&2; exit 2; }
done
build="${SLIPSTREAM_BUILD_DIR:-build}"
venv="${SLIPSTREAM_VENV:-$HOME/.cache/slipstream/venv}"
say() { echo "[quickstart] $*"; }
started=$(date +%s)

# 1. Build: set-up and the three executables, unless they are there already.
if [[ ! -x "$build/slip_pretrain" || ! -x "$build/eval_zeroshot" || ! -x "$build/slip_tools" ]]; then
  bash scripts/setup.sh
  export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/ccache}" CCACHE_BASEDIR="$root"
  export CCACHE_SLOPPINESS="pch_defines,time_macros,include_file_mtime,include_file_ctime"
  say "building slip_tools, slip_pretrain and eval_zeroshot in $build"
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSLIPSTREAM_PYTHON="$venv/bin/python" > /dev/null
  cmake --build "$build" -j "$(nproc)" --target slip_tools slip_pretrain eval_zeroshot
fi
python="$venv/bin/python"
[[ -x "$python" ]] || python=python3

# CLIP's BPE merges: assets/ (scripts/download_assets.sh), else the copy the pinned open_clip ships.
bpe="assets/bpe_simple_vocab_16e6.txt.gz"
if [[ ! -f "$bpe" ]]; then
  bpe=$("$python" -c "import open_clip.tokenizer as t; print(t.default_bpe())" 2>/dev/null || true)
fi
if [[ ! -f "$bpe" ]]; then
  bash scripts/download_assets.sh
  bpe="assets/bpe_simple_vocab_16e6.txt.gz"
fi

# 2. The corpus: train.csv, WebDataset shards and the held-out split with SLIP's catalog files.
data="${data:-$out/data}"
if [[ ! -f "$data/held_out.json" ]]; then
  say "rendering the demo corpus into $data"
  "$build/slip_tools" make-demo-data --output "$data" --train-samples "$samples"
fi
shards=$(ls "$data"/shards/train-*.tar | wc -l)
pattern="$data/shards/train-{00000..$(printf %05d $((shards - 1)))}.tar"

# 3. Pre-training: a small CLIP and a small SLIP (configs/demo/), zero-shot shape accuracy each epoch.
for family in "${families[@]}"; do
  epochs=$epochs_clip
  [[ $family == slip ]] && epochs=$epochs_slip
  say "pre-training DEMO_${family^^} for $epochs epochs (output: $out/$family)"
  recipe=()
  # SLIP's SimCLR term at half weight: at this size, 10 epochs, the full weight left too little margin
  # (docs/quickstart.md).
  [[ $family == slip ]] && recipe=(--ssl-scale 0.5)
  t0=$(date +%s)
  "$build/slip_pretrain" --dataset webdataset --root "$pattern" --model "configs/demo/demo_$family.json" \
    --bpe "$bpe" --batch-size 128 --epochs "$epochs" --warmup-epochs 1 --lr 5e-3 --workers "$(nproc)" --seed "$seed" \
    --device "$device" --print-freq 50 --output-dir "$out/$family" "${recipe[@]}" \
    --eval-catalog "$data/dataset_catalog.json" --eval-dataset demo_shapes
  echo "$(( $(date +%s) - t0 ))" > "$out/$family/train_seconds.txt"
done

# 4. Zero-shot transfer to the held-out combinations, by shape and by colour.
for family in "${families[@]}"; do
  "$build/eval_zeroshot" --resume "$out/$family/checkpoint_last" --bpe "$bpe" --catalog "$data/dataset_catalog.json" \
    --device "$device" --cache-dir "" --output "$out/$family/zeroshot.json" > /dev/null
done
curves=()
for family in clip slip; do
  [[ -f "$out/$family/steps.jsonl" ]] && curves+=("${family^^}=$out/$family/steps.jsonl")
done
"$build/slip_tools" plot-loss "${curves[@]}" --output "$out/loss.png" > /dev/null

# 5. The table.
"$python" - "$out" <<'PY'
import json, os, sys
out = sys.argv[1]
rows = {}
for family in ("clip", "slip"):  # those trained now or before in this folder
    if not os.path.exists(f"{out}/{family}/zeroshot.json"):
        continue
    r = json.load(open(f"{out}/{family}/zeroshot.json"))
    scores = {row["dataset"]: row["top1"] for row in r["results"] if "top1" in row}
    seconds = int(open(f"{out}/{family}/train_seconds.txt").read())
    rows[family] = (scores.get("demo_shapes", float("nan")), scores.get("demo_colours", float("nan")), seconds)
print()
print("zero-shot top-1 on held-out shape-colour combinations (400 images, 8 classes each)")
print(f"{'model':<12}{'shape':>10}{'colour':>10}{'pre-training':>16}")
for family, (shape, colour, seconds) in rows.items():
    print(f"{'DEMO_' + family.upper():<12}{shape:>9.1f}%{colour:>9.1f}%{seconds // 60:>10d} min {seconds % 60:02d} s")
print(f"{'chance':<12}{12.5:>9.1f}%{12.5:>9.1f}%")
print()
json.dump({f: {"shape_top1": s, "colour_top1": c, "train_seconds": t} for f, (s, c, t) in rows.items()},
          open(f"{out}/results.json", "w"), indent=2)
PY
say "loss curves: $out/loss.png; TensorBoard: tensorboard --logdir $out; results: $out/results.json"
say "done in $(( ($(date +%s) - started) / 60 )) min $(( ($(date +%s) - started) % 60 )) s; next: scripts/methods.sh trains SigLIP, DeCLIP and LiT on this corpus"
