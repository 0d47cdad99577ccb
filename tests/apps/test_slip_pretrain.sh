#!/usr/bin/env bash
# slip_pretrain end to end on a small CSV corpus with a small SLIP model: a two-epoch run and its
# outputs, a config file under the command line, one-line errors, LiT and SigLIP flags, and
# SIGTERM (save, exit 0, then a second start resumes from the checkpoint).
#   test_slip_pretrain.sh SLIP_PRETRAIN SLIP_RUN PYTHON BPE
set -euo pipefail
pretrain="$1" launcher="$2" python="$3" bpe="$4"
port=$((10000 + $$ % 5000))  # below the ephemeral ports (32768-60999)
recipes="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/configs/recipes"
work="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$python" - "$work" <<'PY'
import csv, os, sys
from PIL import Image
root = sys.argv[1]
os.makedirs(os.path.join(root, "images"))
words = ["a red square", "a blue circle", "green stripes", "a yellow dot"]
with open(os.path.join(root, "train.csv"), "w", newline="") as f:
    writer = csv.writer(f)
    writer.writerow(["filepath", "title"])
    for i in range(12):
        colour = ((i * 40) % 256, (i * 90) % 256, (i * 150) % 256)
        Image.new("RGB", (48, 40), colour).save(os.path.join(root, "images", f"{i}.jpg"), quality=90)
        writer.writerow([f"images/{i}.jpg", f"{words[i % 4]} number {i}"])
PY
cat > "$work/small_slip.json" <<'JSON'
{"name": "SMALL_SLIP", "family": "slip", "embed_dim": 16,
 "vision": {"type": "vit", "image_size": 32, "patch_size": 8, "width": 32, "depth": 1, "heads": 2},
 "text": {"context_length": 16, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 1},
 "ssl": {"mlp_dim": 32, "emb_dim": 16}}
JSON
common=(--dataset csv --root "$work" --metadata "$work/train.csv" --model "$work/small_slip.json" --bpe "$bpe"
        --ssl-mlp-dim 32 --ssl-emb-dim 16 --batch-size 4 --workers 2 --device cpu --print-freq 1)

# Two epochs of 3 steps: progress lines, log.txt (one line per epoch), config.json, a checkpoint.
out=$("$pretrain" "${common[@]}" --epochs 2 --output-dir "$work/run")
grep -q "^Epoch: \[1\]\[3/3\] eta .* samples/s .* lr .* loss .* logit_scale .* bad_samples 0" <<< "$out" || fail "progress: $out"
[[ $(wc -l < "$work/run/log.txt") == 2 ]] || fail "log.txt: $(cat "$work/run/log.txt")"
grep -q '"train_ssl_loss"' "$work/run/log.txt" || fail "log.txt keys: $(cat "$work/run/log.txt")"
"$python" -c "import json,sys; c=json.load(open(sys.argv[1])); assert c['batch-size']==4 and c['epochs']==2, c" \
  "$work/run/config.json" || fail "config.json"
[[ -f "$work/run/checkpoint_last/model.safetensors" ]] || fail "no checkpoint"
"$python" -c "
import sys
from safetensors.numpy import load_file
w = load_file(sys.argv[1])
assert 'logit_scale' in w and any(k.startswith('image_mlp.') for k in w) and any(k.startswith('visual.') for k in w), list(w)
" "$work/run/checkpoint_last/model.safetensors" || fail "checkpoint not readable by safetensors"
# TensorBoard event files, read back by the tensorboard package: one loss per optimizer step.
"$python" - "$work/run/tensorboard" <<'PY' || fail "tensorboard events"
import math, sys
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
events = EventAccumulator(sys.argv[1])
events.Reload()
tags = events.Tags()["scalars"]
for tag in ["train/loss", "train/clip_loss", "train/ssl_loss", "train/clip_acc", "train/lr", "train/logit_scale",
            "train/samples_per_second"]:
    assert tag in tags, (tag, tags)
loss = events.Scalars("train/loss")
assert [e.step for e in loss] == [1, 2, 3, 4, 5, 6], [e.step for e in loss]
assert all(math.isfinite(e.value) and e.value > 0 for e in loss), loss
lr = [e.value for e in events.Scalars("train/lr")]
assert abs(lr[0] - 1e-6) < 1e-9 and abs(lr[2] - 3e-3) < 1e-7, lr  # warmup from --lr-start to --lr
PY
# Zero-shot validation each epoch on a catalog entry (SLIP's dataset_catalog.json format):
# test_acc1/test_acc5 in log.txt, checkpoint_best.
"$python" - "$work" <<'PY'
import json, os, sys
from PIL import Image
root = sys.argv[1]
for name, colour in [("blue_circle", (20, 40, 220)), ("red_square", (220, 30, 30))]:
    os.makedirs(os.path.join(root, "tiny", "val", name))
    for i in range(3):
        Image.new("RGB", (40, 36), tuple(min(255, c + 10 * i) for c in colour)).save(os.path.join(root, "tiny", "val", name, f"{i}.jpg"))
json.dump({"tiny": {"path": os.path.join(root, "tiny"), "type": "imagefolder", "train": "train", "test": "val"}},
          open(os.path.join(root, "dataset_catalog.json"), "w"))
json.dump({"tiny": ["a photo of a {}.", "a {} shape."]}, open(os.path.join(root, "templates.json"), "w"))
json.dump({"tiny": ["blue circle", ["red square", "crimson square"]]}, open(os.path.join(root, "labels.json"), "w"))
PY
out=$("$pretrain" "${common[@]}" --epochs 2 --eval-catalog "$work/dataset_catalog.json" --eval-dataset tiny --output-dir "$work/zs")
grep -q "^=> epoch 1: zero-shot tiny top-1 .*% top-5 100.00% (6 images)" <<< "$out" || fail "zero-shot line: $out"
"$python" -c "
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
assert len(lines) == 2 and all(0 <= l['test_acc1'] <= 100 and l['test_acc5'] == 100 for l in lines), lines
assert list(lines[0])[-3:] == ['test_acc1', 'test_acc5', 'epoch'], list(lines[0])
" "$work/zs/log.txt" || fail "zero-shot log.txt: $(cat "$work/zs/log.txt")"
[[ -L "$work/zs/checkpoint_best" && -f "$work/zs/checkpoint_best/model.safetensors" ]] || fail "no checkpoint_best"
check_error_zs=$("$pretrain" "${common[@]}" --eval-catalog "$work/dataset_catalog.json" --eval-dataset nope --output-dir "$work/zs2" 2>&1 >/dev/null || true)
[[ "$check_error_zs" == *"templates.json: no list for dataset 'nope'"* ]] || fail "unknown eval dataset: $check_error_zs"

# A finished run started again has nothing left to do.
out=$("$pretrain" "${common[@]}" --epochs 2 --output-dir "$work/run")
grep -q "resumed from" <<< "$out" && ! grep -q "^Epoch:" <<< "$out" || fail "rerun of a finished run: $out"

# A config file sets any flag; the command line wins (JSON with SLIP's underscores, and TOML).
printf '{"epochs": 1, "batch_size": 8, "lr": 0.0005, "betas": [0.8, 0.9]}\n' > "$work/run.json"
"$pretrain" "${common[@]}" --config "$work/run.json" --batch-size 4 --output-dir "$work/json" > /dev/null
"$python" -c "import json,sys; c=json.load(open(sys.argv[1])); assert (c['epochs'], c['batch-size'], c['lr'], c['betas']) == (1, 4, 0.0005, [0.8, 0.9]), c" \
  "$work/json/config.json" || fail "JSON config: $(cat "$work/json/config.json")"
printf 'epochs = 1\nwarmup-epochs = 0\nlr = 0.002\n' > "$work/run.toml"
"$pretrain" "${common[@]}" --config "$work/run.toml" --output-dir "$work/toml" > /dev/null
"$python" -c "import json,sys; c=json.load(open(sys.argv[1])); assert (c['epochs'], c['warmup-epochs'], c['lr']) == (1, 0, 0.002), c" \
  "$work/toml/config.json" || fail "TOML config: $(cat "$work/toml/config.json")"

# SLIP's recipes (configs/recipes/) load as config files; flags after them still win.
for recipe in clip simclr slip; do
  "$python" -c "import json,sys; json.load(open(sys.argv[1]))" "$recipes/$recipe.json" || fail "recipe $recipe is not JSON"
done
"$pretrain" "${common[@]}" --config "$recipes/clip.json" --model "$work/small_slip.json" --batch-size 4 --epochs 1 \
  --ssl-mlp-dim 32 --ssl-emb-dim 16 --output-dir "$work/recipe" > /dev/null
"$python" -c "import json,sys; c=json.load(open(sys.argv[1])); assert (c['lr'], c['wd'], c['epochs']) == (5e-4, 0.5, 1), c" \
  "$work/recipe/config.json" || fail "clip recipe: $(cat "$work/recipe/config.json")"

# Bad settings: exit 1 before any work, one line naming the flag or path.
check_error() {  # expected-text, args...
  local expected="$1"; shift
  set +e
  err=$("$pretrain" "$@" 2>&1 >/dev/null)
  status=$?
  set -e
  [[ $status == 1 && $(wc -l <<< "$err") == 1 && "$err" == *"$expected"* ]] || fail "expected '$expected': ($status) $err"
}
check_error "--batch-size 0" "${common[@]}" --batch-size 0 --output-dir "$work/bad"
check_error "--metadata $work/nope.csv" "${common[@]}" --metadata "$work/nope.csv" --output-dir "$work/bad"
check_error "larger than the 12 samples" "${common[@]}" --batch-size 16 --output-dir "$work/bad"
check_error "--precision fp8" "${common[@]}" --precision fp8 --output-dir "$work/bad"
check_error "--loss sigmoid" "${common[@]}" --loss sigmoid --output-dir "$work/bad"
check_error "--patch-dropout 1.0" "${common[@]}" --patch-dropout 1 --output-dir "$work/bad"
check_error "need --lock-image" "${common[@]}" --lock-image-unlocked-groups 2 --output-dir "$work/bad"
check_error "--pretrained-image: $work/train.csv" "${common[@]}" --pretrained-image "$work/train.csv" --output-dir "$work/bad"
[[ ! -e "$work/bad/checkpoint_last" ]] || fail "a refused run wrote a checkpoint"

# LiT and SigLIP from the command line: the first run's image side, locked, under SigLIP's loss
# with patch dropout; the checkpoint keeps that image side bit for bit and carries logit_bias.
out=$("$pretrain" "${common[@]}" --epochs 1 --output-dir "$work/lit" --loss siglip --patch-dropout 0.5 \
  --pretrained-image "$work/run/checkpoint_last/model.safetensors" --lock-image --lock-image-unlocked-groups 1)
grep -q "=> image tower locked: 3 of 4 groups" <<< "$out" || fail "lock: $out"
grep -q "siglip_loss" <<< "$out" || fail "siglip: $out"
"$python" -c "
import sys
import numpy as np
from safetensors.numpy import load_file
before, after = load_file(sys.argv[1]), load_file(sys.argv[2])
assert 'logit_bias' in after, 'no logit_bias'
for name in before:
    if name.startswith('visual.'):
        assert np.array_equal(before[name], after[name]), name + ' changed under --lock-image'
assert not np.array_equal(before['image_projection'], after['image_projection']), 'the unlocked group did not train'
" "$work/run/checkpoint_last/model.safetensors" "$work/lit/checkpoint_last/model.safetensors" || fail "LiT weights"

# LiT from a timm ViT: its state dict through scripts/convert_checkpoint.py, locked under a new
# text side; the checkpoint's tower is timm's, tensor for tensor.
"$python" - "$work/timm_vit.pth" <<'PY'
import sys, torch
from timm.models.vision_transformer import VisionTransformer
torch.manual_seed(0)
vit = VisionTransformer(img_size=32, patch_size=8, embed_dim=32, depth=1, num_heads=2, num_classes=0)
torch.save(vit.state_dict(), sys.argv[1])
PY
"$python" "$recipes/../../scripts/convert_checkpoint.py" timm "$work/timm_vit.pth" "$work/timm_vit.safetensors" > /dev/null
out=$("$pretrain" "${common[@]}" --epochs 1 --output-dir "$work/lit_timm" --lock-image \
  --pretrained-image "$work/timm_vit.safetensors")
grep -q "image_projection from the init" <<< "$out" || fail "timm tower: $out"
"$python" -c "
import sys
import numpy as np
from safetensors.numpy import load_file
tower, after = load_file(sys.argv[1]), load_file(sys.argv[2])
assert tower and all(np.array_equal(tower[name], after[name]) for name in tower), 'the timm tower changed'
" "$work/timm_vit.safetensors" "$work/lit_timm/checkpoint_last/model.safetensors" || fail "LiT from timm"

# SIGTERM (Slurm's preemption): the step finishes, a checkpoint is saved, exit 0; a restart resumes.
"$pretrain" "${common[@]}" --epochs 1000 --output-dir "$work/preempt" > "$work/preempt.log" 2>&1 &
pid=$!
for _ in $(seq 600); do grep -q "^Epoch: \[0\]\[2/3\]" "$work/preempt.log" && break; sleep 0.1; done
kill -TERM $pid
set +e
wait $pid
status=$?
set -e
[[ $status == 0 ]] || fail "SIGTERM exit status $status: $(tail -3 "$work/preempt.log")"
grep -q "^=> stopped at epoch\|^=> stopped after epoch" "$work/preempt.log" || fail "no stop line: $(tail -3 "$work/preempt.log")"
"$pretrain" "${common[@]}" --epochs 1000 --output-dir "$work/preempt" > "$work/resume.log" 2>&1 &
pid=$!
for _ in $(seq 600); do grep -q "^Epoch:" "$work/resume.log" && break; sleep 0.1; done
kill -TERM $pid
wait $pid || fail "second SIGTERM: $(tail -3 "$work/resume.log")"
grep -q "^=> resumed from .*checkpoints/epoch_" "$work/resume.log" || fail "no resume: $(head -3 "$work/resume.log")"
# SIGKILL at arbitrary moments while a checkpoint is written every step: every restart still
# finds a complete checkpoint and resumes from it.
for attempt in 1 2 3 4; do
  "$pretrain" "${common[@]}" --epochs 1000 --save-every-steps 1 --keep-checkpoints 1 --output-dir "$work/kill" \
    > "$work/kill$attempt.log" 2>&1 &
  pid=$!
  for _ in $(seq 600); do grep -q "^Epoch: " "$work/kill$attempt.log" && break; sleep 0.05; done
  sleep "0.$((RANDOM % 9))$((RANDOM % 10))"
  kill -KILL $pid
  wait $pid 2>/dev/null || true
  if ((attempt > 1)); then
    grep -q "^=> resumed from .*checkpoints/epoch_" "$work/kill$attempt.log" || fail "restart $attempt: $(head -3 "$work/kill$attempt.log")"
  fi
done

# Two processes on Gloo through slip_run: rank-prefixed lines from rank 0 only, the same outputs.
out=$("$launcher" --nproc-per-node 2 --master-port $port "$pretrain" "${common[@]}" --epochs 1 --output-dir "$work/ddp")
grep -q "^\[rank 0\] => SMALL_SLIP .* x 2 processes (gloo, torchrun variables)" <<< "$out" || fail "ddp banner: $out"
grep -q "^\[rank 0\] Epoch: \[0\]\[1/1\]" <<< "$out" || fail "ddp progress (6 samples a rank: one step of 4): $out"
! grep -q "^\[rank 1\]" <<< "$out" || fail "rank 1 printed: $out"
[[ $(wc -l < "$work/ddp/log.txt") == 1 && -f "$work/ddp/checkpoint_last/model.safetensors" ]] || fail "ddp outputs"
# A rank that fails ends the run: slip_run stops the other rank and exits with the failure's code.
set +e
out=$("$launcher" --nproc-per-node 2 --master-port $((port + 1)) --stop-grace 5 sh -c \
      'if [ "$RANK" = 1 ]; then exec "$0" "$@" --lr -1; else exec "$0" "$@"; fi' \
      "$pretrain" "${common[@]}" --epochs 1 --dist-timeout 30 --output-dir "$work/fail" 2>&1)
status=$?
set -e
[[ $status == 1 ]] || fail "failing rank: status $status: $out"
grep -q "^\[rank 1\] slip_pretrain: --lr -1" <<< "$out" && grep -q "^slip_run: rank 1 exited with code 1" <<< "$out" \
  || fail "failing rank output: $out"

# SIGTERM to slip_run reaches both ranks; they agree on the step, rank 0 saves, all exit 0.
"$launcher" --nproc-per-node 2 --master-port $((port + 2)) "$pretrain" "${common[@]}" --epochs 1000 \
  --output-dir "$work/ddp_preempt" > "$work/ddp_preempt.log" 2>&1 &
pid=$!
for _ in $(seq 600); do grep -q "Epoch: \[2\]" "$work/ddp_preempt.log" && break; sleep 0.1; done
kill -TERM $pid
wait $pid || fail "slip_run after SIGTERM: $(tail -5 "$work/ddp_preempt.log")"
grep -q "^\[rank 0\] => stopped" "$work/ddp_preempt.log" && [[ -f "$work/ddp_preempt/checkpoint_last/training_state.safetensors" ]] \
  || fail "ddp preemption: $(tail -5 "$work/ddp_preempt.log")"

echo "slip_pretrain: all checks passed"
