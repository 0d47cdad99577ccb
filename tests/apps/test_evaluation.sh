#!/usr/bin/env bash
# The evaluation executables end to end on a small CLIP model trained for one epoch by slip_pretrain.
# eval_zeroshot on a catalog (SLIP's formats) with one readable dataset and one whose path is
# missing: the table, the JSON, the class-embedding cache on a second run, --strict, and bare
# weights. eval_retrieval on a Karpathy-format split.
#   test_evaluation.sh EVAL_ZEROSHOT EVAL_RETRIEVAL SLIP_PRETRAIN PYTHON BPE
set -euo pipefail
evaluate="$1" retrieve="$2" pretrain="$3" python="$4" bpe="$5"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$python" - "$work" <<'PY'
import json, os, sys
from PIL import Image
root = sys.argv[1]
colours = {"blue circle": (20, 40, 220), "red square": (220, 30, 30), "green dot": (30, 200, 40),
           "black line": (10, 10, 10), "white cloud": (240, 240, 240), "grey stone": (128, 128, 128)}
for c, (name, colour) in enumerate(colours.items()):
    folder = os.path.join(root, "shapes", "test", f"{c:02d}")
    os.makedirs(folder)
    for i in range(2):
        Image.new("RGB", (40, 36), colour).save(os.path.join(folder, f"{i}.jpg"))
json.dump({"shapes": {"path": os.path.join(root, "shapes"), "type": "imagefolder", "train": "train", "test": "test"},
           "pets": {"path": os.path.join(root, "missing"), "type": "imagefolder", "train": "train", "test": "test"}},
          open(os.path.join(root, "dataset_catalog.json"), "w"))
json.dump({"shapes": ["a photo of a {}.", "a {}."], "pets": ["a photo of a {}, a type of pet."]},
          open(os.path.join(root, "templates.json"), "w"))
json.dump({"shapes": list(colours), "pets": ["cat", "dog"]}, open(os.path.join(root, "labels.json"), "w"))
PY
cat > "$work/small_clip.json" <<'JSON'
{"name": "SMALL_CLIP", "family": "clip", "embed_dim": 16,
 "vision": {"type": "vit", "image_size": 32, "patch_size": 8, "width": 32, "depth": 1, "heads": 2},
 "text": {"context_length": 16, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 1}}
JSON
"$pretrain" --dataset synthetic --synthetic-samples 16 --model "$work/small_clip.json" --bpe "$bpe" --batch-size 8 \
  --epochs 1 --workers 2 --device cpu --output-dir "$work/run" > /dev/null

args=(--resume "$work/run/checkpoint_last" --bpe "$bpe" --catalog "$work/dataset_catalog.json" --workers 2 --device cpu
      --cache-dir "$work/cache")
out=$("$evaluate" "${args[@]}" --output "$work/results.json")
grep -q "^SMALL_CLIP from .*model.safetensors" <<< "$out" || fail "banner: $out"
grep -q "^shapes  *top1  *[0-9.]*  *[0-9.]*  *[0-9.]*  *12$" <<< "$out" || fail "shapes row: $out"
grep -q "^pets  *skipped: .*missing" <<< "$out" || fail "missing dataset not skipped: $out"
"$python" - "$work/results.json" <<'PY' || fail "results.json: $(cat "$work/results.json")"
import json, sys
r = json.load(open(sys.argv[1]))
shapes, pets = r["results"]
assert shapes["dataset"] == "shapes" and shapes["metric"] == "top1" and shapes["images"] == 12, shapes
assert 0 <= shapes["top1"] <= shapes["top5"] <= 100 and shapes["score"] == shapes["top1"], shapes
assert pets["dataset"] == "pets" and "skipped" in pets, pets
assert r["average"] == shapes["score"] and r["datasets_scored"] == 1 and r["model"] == "SMALL_CLIP", r
PY
# The second run reads the class embeddings from the cache, with the same scores.
again=$("$evaluate" "${args[@]}" --datasets shapes --output "$work/again.json")
grep -q "(class embeddings cached)" <<< "$again" || fail "cache not used: $again"
"$python" -c "import json,sys; a,b=[json.load(open(p))['results'][0] for p in sys.argv[1:]]; assert a==b, (a,b)" \
  "$work/results.json" "$work/again.json" || fail "cached scores differ"
# --strict: the missing dataset fails the run with one line.
set +e
err=$("$evaluate" "${args[@]}" --strict 2>&1 >/dev/null)
status=$?
set -e
[[ $status == 1 && $(wc -l <<< "$err") == 1 && "$err" == "eval_zeroshot: "*"pets"* ]] || fail "strict: ($status) $err"
# Weights alone (as scripts/convert_checkpoint.py writes them) need the model named when they do not record it.
"$python" - "$work/run/checkpoint_last/model.safetensors" "$work/bare.safetensors" <<'PY'
import sys
from safetensors.torch import load_file, save_file
save_file(load_file(sys.argv[1]), sys.argv[2])
PY
set +e
err=$("$evaluate" "${args[@]}" --resume "$work/bare.safetensors" 2>&1 >/dev/null)
set -e
[[ "$err" == *"do not record their model; pass --model"* ]] || fail "bare weights: $err"
"$evaluate" "${args[@]}" --resume "$work/bare.safetensors" --model "$work/small_clip.json" --datasets shapes > /dev/null \
  || fail "bare weights with --model"

# eval_retrieval: recall@1/5/10 both ways on a Karpathy split of 6 images, 2 captions each.
"$python" - "$work" <<'PY'
import json, os, sys
root = sys.argv[1]
images = []
for c, name in enumerate(sorted(os.listdir(os.path.join(root, "shapes", "test")))):
    images.append({"filepath": f"shapes/test/{name}", "filename": "0.jpg", "split": "test",
                   "sentences": [{"raw": f"shape number {c}"}, {"raw": f"a picture of shape {c}"}]})
images.append({"filepath": "elsewhere", "filename": "x.jpg", "split": "train", "sentences": [{"raw": "not used"}]})
json.dump({"dataset": "toy", "images": images}, open(os.path.join(root, "karpathy.json"), "w"))
PY
out=$("$retrieve" --resume "$work/run/checkpoint_last" --bpe "$bpe" --split-json "$work/karpathy.json" --images "$work" \
        --workers 2 --device cpu --output "$work/retrieval.json")
grep -q "^6 images, 12 captions (test split of" <<< "$out" || fail "retrieval banner: $out"
grep -q "^image_to_text  *[0-9.]*  *[0-9.]*  *[0-9.]*$" <<< "$out" || fail "retrieval table: $out"
grep -q "^text_to_image  *[0-9.]*  *[0-9.]*  *100.00$" <<< "$out" || fail "retrieval table: $out"  # k = 10 > 6 images
"$python" - "$work/retrieval.json" <<'PY' || fail "retrieval.json: $(cat "$work/retrieval.json")"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["images"] == 6 and r["captions"] == 12, r
for direction in ["image_to_text", "text_to_image"]:
    v = r[direction]
    assert 0 <= v["R@1"] <= v["R@5"] <= v["R@10"] <= 100.0, v
assert r["text_to_image"]["R@10"] == 100.0, r  # k = 10 is more than the 6 images
PY

echo "evaluation executables: all checks passed"
