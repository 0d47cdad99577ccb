#!/usr/bin/env bash
# linear_probe and finetune end to end on a small CLIP model trained for one epoch by slip_pretrain,
# on an imagefolder catalog entry of separable classes (a colour each, with noise).
#   linear_probe with SGD: reaches high accuracy, writes the JSON a sweep reads, resumes from its
#   checkpoints; --fast: its accuracy equals scikit-learn's LogisticRegression on the cached
#   features within 1 point; bad flags fail with one line and exit 1.
#   finetune: lowers the loss and reaches high accuracy from the pre-trained tower, writes BEiT's
#   log.txt, resumes, runs the full recipe (RandAugment, random erasing, mixup/CutMix) from a
#   config file, evaluates only with --eval, and rejects bad flags with one line.
#   Both also run as two processes on Gloo through slip_run.
#   test_transfer.sh LINEAR_PROBE FINETUNE SLIP_PRETRAIN SLIP_RUN PYTHON BPE
set -euo pipefail
probe="$1" tune="$2" pretrain="$3" launcher="$4" python="$5" bpe="$6"
port=$((15000 + ($$ + 7919) % 4000))  # below the ephemeral ports (32768-60999)
source_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
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
grep -q "^=> resumed from .* (epoch 6, step 0)$" "$work/resumed.log" || fail "no resume: $(cat "$work/resumed.log")"
"$python" -c "import json,sys; r=json.load(open(sys.argv[1])); assert [e['epoch'] for e in r['history']]==[6], r" \
  "$work/resumed.json" || fail "resumed history: $(cat "$work/resumed.json")"
# Two processes: each reads half of every epoch, the head's gradients are averaged.
out=$("$launcher" --nproc-per-node 2 --master-port $port "$probe" "${common[@]}" --epochs 4 --batch-size 8 --lr 40 \
  --output "$work/ddp.json")
grep -q "^\[rank 0\] linear probe of .* 2 process(es), lr 2.5 (40 x 16 / 256)" <<< "$out" || fail "ddp probe: $out"
"$python" -c "import json,sys; r=json.load(open(sys.argv[1])); assert r['acc1']>=90 and len(r['history'])==4, r" \
  "$work/ddp.json" || fail "ddp probe result: $(cat "$work/ddp.json")"
# Two processes stopped by SIGTERM (Slurm's preemption) agree on the step, save and exit 0; the
# rerun resumes mid-epoch and ends with the head of an uninterrupted run, bit for bit.
probe_run=("${common[@]}" --epochs 12 --batch-size 2 --lr 40 --workers 1 --print-freq 1)
"$launcher" --nproc-per-node 2 --master-port $((port + 2)) "$probe" "${probe_run[@]}" --output-dir "$work/probe_whole" \
  > "$work/probe_whole.log" 2>&1 || fail "uninterrupted ddp probe: $(tail -3 "$work/probe_whole.log")"
"$launcher" --nproc-per-node 2 --master-port $((port + 3)) "$probe" "${probe_run[@]}" --output-dir "$work/probe_stop" \
  > "$work/probe_stop.log" 2>&1 &
pid=$!
for _ in $(seq 600); do grep -q "Epoch: \[1\]\[3/" "$work/probe_stop.log" && break; sleep 0.02; done
kill -TERM $pid
wait $pid || fail "ddp probe after SIGTERM: $(tail -3 "$work/probe_stop.log")"
grep -qE "^\[rank 0\] => stopped (at|after) epoch .*; saved .*checkpoints/epoch_" "$work/probe_stop.log" \
  || fail "no stop line: $(tail -3 "$work/probe_stop.log")"
! grep -q "^\[rank 0\] epoch 11/12" "$work/probe_stop.log" || fail "the probe finished before the stop: $(tail -3 "$work/probe_stop.log")"
"$launcher" --nproc-per-node 2 --master-port $((port + 4)) "$probe" "${probe_run[@]}" --output-dir "$work/probe_stop" \
  > "$work/probe_resumed.log" 2>&1 || fail "resumed ddp probe: $(tail -3 "$work/probe_resumed.log")"
grep -q "^\[rank 0\] => resumed from .*checkpoints/epoch_" "$work/probe_resumed.log" || fail "no resume: $(head -3 "$work/probe_resumed.log")"
"$python" - "$work/probe_whole/checkpoint_last/model.safetensors" "$work/probe_stop/checkpoint_last/model.safetensors" <<'PY' \
  || fail "the resumed probe's head differs from the uninterrupted one"
import sys
import numpy as np
from safetensors.numpy import load_file
whole, resumed = load_file(sys.argv[1]), load_file(sys.argv[2])
assert sorted(whole) == ["bias", "weight"] and sorted(resumed) == sorted(whole), (list(whole), list(resumed))
assert all(np.array_equal(whole[k], resumed[k]) for k in whole), "heads differ"
PY

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

# finetune without the regularisers: the loss falls and the classes are learnt.
plain=(--finetune "$ckpt" --model-prefix visual. --catalog "$work/dataset_catalog.json" --dataset colours
       --workers 2 --device cpu --batch-size 8 --lr 5e-3 --warmup-epochs 1 --layer-decay 0.65 --drop-path 0.1
       --mixup 0 --cutmix 0 --aa none --reprob 0 --smoothing 0 --print-freq 0)
"$tune" "${plain[@]}" --epochs 5 --output-dir "$work/tune" > "$work/tune.log" || fail "finetune: $(cat "$work/tune.log")"
grep -q "^=> image tower of SMALL_CLIP loaded from " "$work/tune.log" || fail "tower not loaded: $(cat "$work/tune.log")"
"$python" - "$work/tune/log.txt" <<'PY' || fail "finetune log.txt: $(cat "$work/tune/log.txt")"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
assert [l["epoch"] for l in lines] == list(range(5)), lines
assert lines[-1]["train_loss"] < 0.6 * lines[0]["train_loss"], [l["train_loss"] for l in lines]
assert lines[-1]["test_loss"] < lines[0]["test_loss"], [l["test_loss"] for l in lines]
assert lines[-1]["test_acc1"] >= 90.0, lines[-1]
assert set(lines[0]) == {"train_lr", "train_loss", "test_loss", "test_acc1", "test_acc5", "epoch", "n_parameters"}
PY
# A rerun with more epochs resumes after epoch 4; --eval scores the last checkpoint as log.txt did.
"$tune" "${plain[@]}" --epochs 6 --output-dir "$work/tune" > "$work/tune2.log"
grep -q "^=> resumed from .*epoch_0005_step_0000000 (epoch 5, step 0)" "$work/tune2.log" || fail "no resume: $(cat "$work/tune2.log")"
[ "$(wc -l < "$work/tune/log.txt")" = 6 ] || fail "log.txt after resume: $(cat "$work/tune/log.txt")"
evaluated=$("$tune" "${plain[@]}" --epochs 6 --output-dir "$work/tune" --eval)
"$python" - "$work/tune/log.txt" "$evaluated" <<'PY' || fail "--eval: $evaluated"
import json, re, sys
last = json.loads(open(sys.argv[1]).read().splitlines()[-1])
acc1 = float(re.search(r"\* Acc@1 ([0-9.]+)", sys.argv[2]).group(1))
assert abs(acc1 - last["test_acc1"]) < 1e-3, (acc1, last)
PY
# The full recipe from a config file (RandAugment, random erasing, mixup/CutMix, label smoothing).
"$tune" --config "$source_dir/configs/finetune/vit_s16.json" --finetune "$ckpt" --catalog "$work/dataset_catalog.json" \
  --dataset colours --workers 2 --device cpu --batch-size 8 --epochs 2 --warmup-epochs 1 --print-freq 0 \
  --output-dir "$work/recipe" > "$work/recipe.log" || fail "recipe run: $(cat "$work/recipe.log")"
"$python" - "$work/recipe/config.json" "$work/recipe/log.txt" <<'PY' || fail "recipe: $(cat "$work/recipe/config.json")"
import json, math, sys
c = json.load(open(sys.argv[1]))
assert c["layer-decay"] == 0.65 and c["drop-path"] == 0.0 and c["aa"] == "rand-m9-mstd0.5-inc1" and c["reprob"] == 0.25
assert c["mixup"] == 0.8 and c["cutmix"] == 1.0 and c["smoothing"] == 0.1 and c["epochs"] == 2, c
lines = [json.loads(l) for l in open(sys.argv[2])]
assert len(lines) == 2 and all(math.isfinite(l["train_loss"]) for l in lines), lines
PY
# SIGTERM (Slurm's preemption notice): the step finishes, a checkpoint is saved, exit 0, and a rerun resumes.
"$tune" "${plain[@]}" --epochs 1000 --print-freq 1 --output-dir "$work/preempt" > "$work/preempt.log" 2>&1 &
pid=$!
for _ in $(seq 600); do grep -q "^Epoch: \[1\]" "$work/preempt.log" && break; sleep 0.05; done
kill -TERM $pid
wait $pid || fail "finetune after SIGTERM: $(tail -3 "$work/preempt.log")"
grep -qE "^=> stopped (at|after) epoch .*; saved .*checkpoints/epoch_" "$work/preempt.log" || fail "no stop line: $(tail -3 "$work/preempt.log")"
"$tune" "${plain[@]}" --epochs 2 --output-dir "$work/preempt" > "$work/preempt2.log"
grep -q "^=> resumed from " "$work/preempt2.log" || fail "no resume after SIGTERM: $(cat "$work/preempt2.log")"
# Two processes: gradients averaged during backward, one log.txt from rank 0.
out=$("$launcher" --nproc-per-node 2 --master-port $((port + 1)) "$tune" "${plain[@]}" --epochs 2 \
  --output-dir "$work/tune_ddp")
grep -q "^\[rank 0\] => finetuning .* cpu x 2, fp32, 3 optimizer steps per epoch of 16 x 1" <<< "$out" \
  || fail "ddp finetune: $out"
[ "$(wc -l < "$work/tune_ddp/log.txt")" = 2 ] || fail "ddp finetune log.txt: $(cat "$work/tune_ddp/log.txt")"
set +e
err=$("$tune" "${plain[@]}" --epochs 2 --layer-decay 1.5 --output-dir "$work/bad" 2>&1); code=$?
set -e
[ "$code" = 1 ] && [ "$(wc -l <<< "$err")" = 1 ] && grep -q -- "--layer-decay must be in (0, 1]" <<< "$err" \
  || fail "bad --layer-decay: $code $err"
set +e
err=$("$tune" "${plain[@]}" --epochs 2 --model-prefix encoder. --output-dir "$work/bad" 2>&1); code=$?
set -e
[ "$code" = 1 ] && grep -q "no tensor name starts with encoder." <<< "$err" || fail "bad --model-prefix: $code $err"
echo "transfer end to end: ok"
