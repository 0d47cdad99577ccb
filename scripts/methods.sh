#!/usr/bin/env bash
# Beyond SLIP on the quickstart corpus: pre-trains SigLIP, DeCLIP and LiT on the corpus that
# scripts/quickstart.sh rendered (runs/quickstart/data), evaluates each zero-shot on the held-out
# shape-colour combinations, and prints them beside the quickstart's CLIP and SLIP.
#   SigLIP: DEMO_CLIP's shapes with --loss siglip, 10 epochs (as DEMO_CLIP)
#   DeCLIP: configs/demo/demo_declip.json, 8 epochs (two image and two text views per step)
#   LiT:    DEMO_CLIP's text side from scratch on the quickstart CLIP's image tower, locked, 4 epochs
# A method whose run finished (train_seconds.txt present) is not trained again.
#   scripts/methods.sh [--quickstart DIR] [--out DIR] [--device cpu|cuda]
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
quickstart="runs/quickstart" out="runs/methods" device="auto"
while (($#)); do
  case "$1" in
    --quickstart) quickstart="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --device) device="$2"; shift 2 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "methods: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
build="${SLIPSTREAM_BUILD_DIR:-build}"
venv="${SLIPSTREAM_VENV:-$HOME/.cache/slipstream/venv}"
python="$venv/bin/python"
[[ -x "$python" ]] || python=python3
say() { echo "[methods] $*"; }
data="$quickstart/data"
if [[ ! -f "$data/held_out.json" || ! -f "$quickstart/clip/checkpoint_last/model.safetensors" ]]; then
  echo "methods: no quickstart corpus and CLIP run in $quickstart: run scripts/quickstart.sh first" >&2
  exit 1
fi
bpe="assets/bpe_simple_vocab_16e6.txt.gz"
[[ -f "$bpe" ]] || bpe=$("$python" -c "import open_clip.tokenizer as t; print(t.default_bpe())")
shards=$(ls "$data"/shards/train-*.tar | wc -l)
pattern="$data/shards/train-{00000..$(printf %05d $((shards - 1)))}.tar"

train() {  # name epochs slip_pretrain-flags...
  local name="$1" epochs="$2"
  shift 2
  if [[ -f "$out/$name/train_seconds.txt" ]]; then
    say "$name: already trained in $out/$name"
    return
  fi
  say "pre-training $name for $epochs epochs (output: $out/$name)"
  local t0=$(date +%s)
  "$build/slip_pretrain" --dataset webdataset --root "$pattern" --bpe "$bpe" --batch-size 128 --epochs "$epochs" \
    --warmup-epochs 1 --lr 5e-3 --workers "$(nproc)" --device "$device" --print-freq 50 --output-dir "$out/$name" \
    --eval-catalog "$data/dataset_catalog.json" --eval-dataset demo_shapes "$@"
  echo "$(( $(date +%s) - t0 ))" > "$out/$name/train_seconds.txt"
}

train siglip 10 --model configs/demo/demo_clip.json --loss siglip
train declip 8 --model configs/demo/demo_declip.json
train lit 4 --model configs/demo/demo_clip.json --lock-image \
  --pretrained-image "$quickstart/clip/checkpoint_last/model.safetensors"

for name in siglip declip lit; do
  "$build/eval_zeroshot" --resume "$out/$name/checkpoint_last" --bpe "$bpe" --catalog "$data/dataset_catalog.json" \
    --device "$device" --cache-dir "" --output "$out/$name/zeroshot.json" > /dev/null
done

"$python" - "$quickstart" "$out" <<'PY'
import json, sys
quickstart, out = sys.argv[1], sys.argv[2]
rows = []
for label, folder in [("CLIP", f"{quickstart}/clip"), ("SLIP", f"{quickstart}/slip"), ("SigLIP", f"{out}/siglip"),
                      ("DeCLIP", f"{out}/declip"), ("LiT", f"{out}/lit")]:
    try:
        result = json.load(open(f"{folder}/zeroshot.json"))
        seconds = int(open(f"{folder}/train_seconds.txt").read())
        epochs = json.load(open(f"{folder}/config.json"))["epochs"]
    except FileNotFoundError:
        continue
    top1 = {row["dataset"]: row["top1"] for row in result["results"] if "top1" in row}
    rows.append((label, top1.get("demo_shapes", float("nan")), top1.get("demo_colours", float("nan")), epochs, seconds))
print()
print("zero-shot top-1 on held-out shape-colour combinations (400 images, 8 classes each)")
print(f"{'method':<10}{'shape':>9}{'colour':>9}{'epochs':>8}{'pre-training':>16}")
for label, shape, colour, epochs, seconds in rows:
    print(f"{label:<10}{shape:>8.1f}%{colour:>8.1f}%{epochs:>8d}{seconds // 60:>10d} min {seconds % 60:02d} s")
print(f"{'chance':<10}{12.5:>8.1f}%{12.5:>8.1f}%")
json.dump({label: {"shape_top1": s, "colour_top1": c, "epochs": e, "train_seconds": t} for label, s, c, e, t in rows},
          open(f"{out}/results.json", "w"), indent=2)
PY
