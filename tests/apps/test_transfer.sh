#!/usr/bin/env bash
# linear_probe (and finetune) end to end on a small CLIP model trained for one epoch by slip_pretrain,
# on an imagefolder catalog entry of separable classes (a colour each, with noise).
#   linear_probe with SGD: reaches high accuracy, writes the JSON a sweep reads, resumes from its
#   checkpoints; --fast: its accuracy equals scikit-learn's LogisticRegression on the cached
#   features within 1 point; bad flags fail with one line and exit 1.
#   test_transfer.sh LINEAR_PROBE SLIP_PRETRAIN PYTHON BPE
set -euo pipefail
probe="$1" pretrain="$2" python="$3" bpe="$4"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$python" - "$work" <<'PY'
import json, os, sys
import numpy as np
from PIL import Image
root = sys.argv[1]
colours = [(200, 30, 30), (30, 180, 40), (20, 40, 210), (220, 210, 40)]
rng = np.random.default_rng(0)
for split, count in (("train", 12), ("test", 5)):
    for c, colour in enumerate(colours):
        folder = os.path.join(root, "colours", split, f"class{c}")
        os.makedirs(folder)
        for i in range(count):
            pixels = np.clip(np.array(colour) + rng.normal(0, 25, (40, 48, 3)), 0, 255).astype(np.uint8)
            Image.fromarray(pixels).save(os.path.join(folder, f"{i}.png"))
json.dump({"colours": {"path": os.path.join(root, "colours"), "type": "imagefolder", "train": "train", "test": "test"}},
          open(os.path.join(root, "dataset_catalog.json"), "w"))
PY
cat > "$work/small_clip.json" <<'JSON'
{"name": "SMALL_CLIP", "family": "clip", "embed_dim": 16,
 "vision": {"type": "vit", "image_size": 32, "patch_size": 8, "width": 32, "depth": 1, "heads": 2},
 "text": {"context_length": 16, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 1}}
JSON
"$pretrain" --dataset synthetic --synthetic-samples 16 --model "$work/small_clip.json" --bpe "$bpe" --batch-size 8 \
  --epochs 1 --workers 2 --device cpu --output-dir "$work/run" > /dev/null
ckpt="$work/run/checkpoint_last"
common=(--pretrained "$ckpt" --catalog "$work/dataset_catalog.json" --dataset colours --workers 2 --device cpu)

# SGD (MoCo v3's recipe, a high lr for the tiny batch): high accuracy, JSON for a sweep.
"$probe" "${common[@]}" --epochs 6 --batch-size 16 --lr 40 --output "$work/sgd.json" --output-dir "$work/probe" \
  > "$work/sgd.log" || fail "sgd run: $(cat "$work/sgd.log")"
grep -q "^epoch 5/6 lr .* acc1 " "$work/sgd.log" || fail "epoch lines: $(cat "$work/sgd.log")"
"$python" - "$work/sgd.json" <<'PY' || fail "sgd.json: $(cat "$work/sgd.json")"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["mode"] == "sgd" and r["classes"] == 4 and r["train_samples"] == 48 and r["test_samples"] == 20, r
assert len(r["history"]) == 6 and [e["epoch"] for e in r["history"]] == list(range(6)), r["history"]
assert r["acc1"] >= 90.0 and r["best_acc1"] >= r["acc1"] and r["acc5"] == 100.0, r
assert r["history"][-1]["train_loss"] < r["history"][0]["train_loss"], r["history"]
lrs = [e["lr"] for e in r["history"]]
assert all(a > b for a, b in zip(lrs, lrs[1:])) and abs(lrs[0] - 40 * 16 / 256) < 1e-12, lrs  # cosine from lr x b / 256
assert r["config"]["lr"] == 40 and r["config"]["wd"] == 0, r["config"]
PY
# A rerun with more epochs resumes from the checkpoint after epoch 5 and runs only epoch 6.
"$probe" "${common[@]}" --epochs 7 --batch-size 16 --lr 40 --output "$work/resumed.json" --output-dir "$work/probe" \
  > "$work/resumed.log" || fail "resumed run: $(cat "$work/resumed.log")"
grep -q "^resuming from .* at epoch 6$" "$work/resumed.log" || fail "no resume: $(cat "$work/resumed.log")"
"$python" -c "import json,sys; r=json.load(open(sys.argv[1])); assert [e['epoch'] for e in r['history']]==[6], r" \
  "$work/resumed.json" || fail "resumed history: $(cat "$work/resumed.json")"

# --fast: logistic regression on cached features, equal to scikit-learn's within 1 point.
"$probe" "${common[@]}" --fast --cache-dir "$work/cache" --output "$work/fast.json" > "$work/fast.log" \
  || fail "fast run: $(cat "$work/fast.log")"
"$probe" "${common[@]}" --fast --cache-dir "$work/cache" --output "$work/fast2.json" > "$work/fast2.log"
grep -q "read from the cache" "$work/fast2.log" || fail "features not cached: $(cat "$work/fast2.log")"
"$python" - "$work/fast.json" "$work/fast2.json" "$work/cache" <<'PY' || fail "fast mode against scikit-learn"
import glob, json, sys
from safetensors.numpy import load_file
from sklearn.linear_model import LogisticRegression
r, again = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert r["mode"] == "logistic_regression" and len(r["sweep"]) == 13, r
assert again["acc1"] == r["acc1"] and again["c"] == r["c"] and again["features_from_cache"], (r, again)
split = {}
for path in glob.glob(sys.argv[3] + "/features_colours_*.safetensors"):
    t = load_file(path)
    split["train" if t["features"].shape[0] == 48 else "test"] = t
train, test = split["train"], split["test"]
sk = LogisticRegression(C=r["c"], max_iter=5000, tol=1e-10).fit(train["features"].astype("float64"), train["labels"])
sk_acc = 100.0 * (sk.predict(test["features"].astype("float64")) == test["labels"]).mean()
print(f"linear_probe --fast acc1 {r['acc1']:.2f} (C {r['c']:g}), scikit-learn {sk_acc:.2f}")
assert abs(sk_acc - r["acc1"]) <= 1.0, (sk_acc, r["acc1"])
assert r["acc1"] >= 90.0, r
PY

# Bad input: one line naming the flag, exit 1.
set +e
err=$("$probe" "${common[@]}" --lr -1 2>&1); code=$?
set -e
[ "$code" = 1 ] && [ "$(wc -l <<< "$err")" = 1 ] && grep -q -- "--lr must be positive" <<< "$err" || fail "bad --lr: $code $err"
set +e
err=$("$probe" "${common[@]}" --dataset pets 2>&1); code=$?
set -e
[ "$code" = 1 ] && grep -q "pets" <<< "$err" || fail "unknown dataset: $code $err"
echo "transfer end to end: ok"
