#!/usr/bin/env bash
# The quickstart's corpus and that pre-training learns from it (a run of about a minute):
#   slip_tools make-demo-data writes the CSV, the WebDataset shards and the held-out split with
#   SLIP's catalog files; no training caption names a held-out shape-colour combination; a small
#   CLIP pre-trained on the shards classifies the held-out combinations zero-shot far above chance
#   (12.5% for 8 classes): at least 50% top-1 by colour and 25% by shape; plot-loss draws its curve.
#   test_demo_learning.sh SLIP_TOOLS SLIP_PRETRAIN EVAL_ZEROSHOT PYTHON BPE SOURCE_DIR
set -euo pipefail
tools="$1" pretrain="$2" evaluate="$3" python="$4" bpe="$5" source_dir="$6"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

out=$("$tools" make-demo-data --output "$work/data" --train-samples 12000 --held-out-per-combination 25 \
  --shard-size 1000 --seed 3)
grep -q "12000 training pairs (train.csv and 12 WebDataset shards .*train-{00000..00011}.tar), 200 held-out" <<< "$out" \
  || fail "make-demo-data: $out"
"$python" - "$work/data" <<'PY' || fail "demo corpus contents"
import csv, json, os, sys, tarfile
root = sys.argv[1]
held = {(h["shape"], h["colour"]) for h in json.load(open(f"{root}/held_out.json"))}
labels = json.load(open(f"{root}/labels.json"))
shapes, colours = labels["demo_shapes"], labels["demo_colours"]
assert len(held) == 8 and {s for s, _ in held} == set(shapes) and {c for _, c in held} == set(colours), held
rows = list(csv.DictReader(open(f"{root}/train.csv")))
assert len(rows) == 12000 and all(os.path.getsize(f"{root}/{r['filepath']}") > 0 for r in rows[:50])
for r in rows:  # every caption names its shape and its colour, never a held-out pair
    words = r["title"].replace(",", " ").split()
    named = [(s, c) for s in shapes for c in colours if s in words and c in words]
    assert len(named) == 1 and named[0] not in held, r
with tarfile.open(f"{root}/shards/train-00003.tar") as t:
    names = t.getnames()
    assert names[:2] == ["003000.jpg", "003000.txt"] and len(names) == 2000, names[:4]
    assert t.extractfile("003000.txt").read().decode() == rows[3000]["title"]
for split, per in (("test", 25), ("train", 25)):
    for kind in ("shapes", "colours"):
        classes = sorted(os.listdir(f"{root}/held_out/{kind}/{split}"))
        assert [c.split("_", 1)[1] for c in classes] == (shapes if kind == "shapes" else colours), classes
        assert sum(len(os.listdir(f"{root}/held_out/{kind}/{split}/{c}")) for c in classes) == 8 * per
for c in os.listdir(f"{root}/held_out/shapes/test"):  # the test split holds only held-out pairs
    assert len(os.listdir(f"{root}/held_out/shapes/test/{c}")) == 25
PY

# About a minute of CLIP pre-training on the shards, then zero-shot on the held-out combinations.
"$pretrain" --dataset webdataset --root "$work/data/shards/train-{00000..00011}.tar" \
  --model "$source_dir/configs/demo/demo_clip.json" --bpe "$bpe" --batch-size 128 --epochs 2 --warmup-epochs 1 \
  --lr 5e-3 --workers 2 --device cpu --print-freq 1000 --output-dir "$work/clip" > "$work/train.log" \
  || fail "pre-training: $(tail -3 "$work/train.log")"
"$evaluate" --resume "$work/clip/checkpoint_last" --bpe "$bpe" --catalog "$work/data/dataset_catalog.json" \
  --device cpu --cache-dir "" --output "$work/zeroshot.json" > "$work/eval.log" || fail "eval: $(cat "$work/eval.log")"
cat "$work/eval.log"
"$python" - "$work/zeroshot.json" <<'PY' || fail "no learning: $(cat "$work/eval.log")"
import json, sys
scores = {r["dataset"]: r["top1"] for r in json.load(open(sys.argv[1]))["results"]}
print(f"held-out zero-shot top-1 after ~1 min: colour {scores['demo_colours']:.1f}%, shape {scores['demo_shapes']:.1f}% (chance 12.5%)")
assert scores["demo_colours"] >= 50.0 and scores["demo_shapes"] >= 25.0, scores
PY
"$tools" plot-loss "CLIP=$work/clip/steps.jsonl" --output "$work/loss.png" > /dev/null
"$python" -c "from PIL import Image; import sys; im = Image.open(sys.argv[1]); assert im.size == (960, 540), im.size" \
  "$work/loss.png" || fail "loss.png"
echo "demo learning: ok"
